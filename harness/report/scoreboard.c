/* scoreboard.c — what the scoreboard (scoreboard.h) looks like to a person and to CI: the
 * verdict (every mutant detected in at least one seed, and no finding in the clean row), the
 * text table `refstorm mutants` prints, and the gate's summary.md, summary.json and junit.xml,
 * each written atomically (file_write_atomic).  Everything here reads the board's JSON, so a
 * merged board (asan+tsan) and a single variant's print the same way. */
#include "scoreboard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "junit.h"
#include "files.h"
#include "report.h"
#include "vocab.h"

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static const char *gets_(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void mutants_judge(json_t *board)
{
    json_t *failing = json_array(), *rows = json_object_get(board, "mutants");
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        if (geti(r, "detected") < 1)
            json_array_append_new(failing, json_string(gets_(r, "name")));
    }
    json_t *clean = json_object_get(board, "clean");
    if (!clean || geti(clean, "findings") > 0)
        json_array_append_new(failing, json_string("clean"));
    json_object_set_new(board, "ok", json_boolean(json_array_size(failing) == 0));
    json_object_set_new(board, "failing", failing);
}

static void seconds_cell(char *buf, size_t n, json_t *v)
{
    if (json_is_number(v))
        snprintf(buf, n, "%.2f s", json_number_value(v));
    else
        snprintf(buf, n, "-");
}

/* Trials to detection: a whole number for one seed, a median may end in .5. */
static void trials_cell(char *buf, size_t n, json_t *v)
{
    if (json_is_number(v))
        snprintf(buf, n, "%g", json_number_value(v));
    else
        snprintf(buf, n, "-");
}

/* One line for why a mutant failed; "" when it did not. */
static void why(char *buf, size_t n, json_t *r)
{
    buf[0] = 0;
    if (geti(r, "detected") > 0)
        return;
    if (!*gets_(r, "scenarios"))
        snprintf(buf, n, "no scenario targets it");
    else if (geti(r, "undetected") == 0)
        snprintf(buf, n, "not runnable: the executor refused every targeted scenario (%s)",
                 gets_(r, "not_runnable_reason"));
    else
        snprintf(buf, n, "not detected in %lld runnable seed(s) (%lld not runnable)",
                 (long long)geti(r, "undetected"), (long long)geti(r, "not_runnable"));
}

static void verdict_line(FILE *f, json_t *board, bool md)
{
    json_t *failing = json_object_get(board, "failing");
    if (json_is_true(json_object_get(board, "ok"))) {
        fprintf(f, "%sPASS%s: every mutant detected, clean runtime without findings\n",
                md ? "**" : "", md ? "**" : "");
        return;
    }
    fprintf(f, "%sFAIL%s:", md ? "**" : "", md ? "**" : "");
    size_t n = json_array_size(failing);
    bool clean = false;
    int listed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(failing, i));
        if (strcmp(s, "clean") == 0) {
            clean = true;
            continue;
        }
        fprintf(f, "%s %s", listed++ ? "," : " not detected:", s);
    }
    if (clean)
        fprintf(f, "%s the clean runtime had %lld finding(s)", listed ? ";" : "",
                (long long)geti(json_object_get(board, "clean"), "findings"));
    json_t *fb = json_object_get(board, "force_bug");
    if (json_is_string(fb))
        fprintf(f, " (with --force-bug %s on in every run)", json_string_value(fb));
    fputc('\n', f);
}

static void clean_lines(FILE *f, json_t *board, bool md)
{
    json_t *c = json_object_get(board, "clean");
    fprintf(f, "%sclean (no mutant%s%s): %lld finding(s) in %lld trials over %lld seed(s), "
               "%lld passed, %lld not runnable%s\n",
            md ? "- " : "", json_is_string(json_object_get(board, "force_bug")) ? "; forced: " : "",
            json_is_string(json_object_get(board, "force_bug"))
                ? json_string_value(json_object_get(board, "force_bug")) : "",
            (long long)geti(c, "findings"), (long long)geti(c, "trials"),
            (long long)geti(c, "seeds"), (long long)geti(c, "passed"),
            (long long)geti(c, "not_runnable"), md ? "" : "");
    json_t *list = json_object_get(c, "list");
    for (size_t i = 0; i < json_array_size(list) && i < 20; i++) {
        json_t *h = json_array_get(list, i);
        fprintf(f, "%s  finding: %s (%s) in %s, %s, %s, program seed %lld, sched seed %lld: %s%s%s\n",
                md ? "  -" : "", gets_(h, "verdict"), gets_(h, "check"), gets_(h, "scenario"),
                gets_(h, "variant"), gets_(h, "mode"), (long long)geti(h, "program_seed"),
                (long long)geti(h, "sched_seed"), gets_(h, "message"),
                json_is_string(json_object_get(h, "report")) ? "; report " : "",
                gets_(h, "report"));
    }
}

void mutants_print_table(FILE *f, json_t *board)
{
    json_t *rows = json_object_get(board, "mutants");
    fprintf(f, "%-30s %-7s %-8s %-8s %-9s %-14s %-22s %-8s %-8s %-9s %s\n", "mutant",
            "variant", "detected", "undet.", "not-run", "detector", "expected", "trials",
            "max", "median", "max");
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        char det[32], med[16], max[16], tmed[24], tmax[24];
        snprintf(det, sizeof det, "%lld/%lld", (long long)geti(r, "detected"),
                 (long long)geti(r, "seeds"));
        seconds_cell(med, sizeof med, json_object_get(r, "median_s"));
        seconds_cell(max, sizeof max, json_object_get(r, "max_s"));
        trials_cell(tmed, sizeof tmed, json_object_get(r, "median_trials"));
        trials_cell(tmax, sizeof tmax, json_object_get(r, "max_trials"));
        fprintf(f, "%-30s %-7s %-8s %-8lld %-9lld %-14s %-22s %-8s %-8s %-9s %s\n",
                gets_(r, "name"), gets_(r, "variant"), det, (long long)geti(r, "undetected"),
                (long long)geti(r, "not_runnable"),
                json_is_string(json_object_get(r, "detector")) ? gets_(r, "detector") : "-",
                *gets_(r, "expected") ? gets_(r, "expected") : "(no scenario)", tmed, tmax, med,
                max);
    }
    clean_lines(f, board, false);
    json_t *un = json_object_get(board, "unregistered");
    if (json_array_size(un)) {
        fprintf(f, "targeted by scenarios but not in runtime/include/rs/bugs.def (not counted):");
        for (size_t i = 0; i < json_array_size(un); i++)
            fprintf(f, " %s", json_string_value(json_array_get(un, i)));
        fputc('\n', f);
    }
    fprintf(f, "%lld seed(s), %lld trials budget per seed (trials: median and max to the first "
               "finding; then its wall time), %s, %.1f s\n",
            (long long)geti(board, "seeds"), (long long)geti(board, "trial_budget"),
            gets_(board, "variant"), json_number_value(json_object_get(board, "seconds")));
    verdict_line(f, board, false);
}

static char *markdown(json_t *board)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "# refstorm mutant scoreboard\n\n");
    verdict_line(f, board, true);
    fprintf(f, "\n%lld seed(s) per mutant, a budget of %lld trials per seed, variants %s, "
               "%.1f s, refstorm built as %s.  Trials and seconds: median and maximum to the "
               "first finding over the detected seeds; the verdict depends on trials only.\n\n",
            (long long)geti(board, "seeds"), (long long)geti(board, "trial_budget"),
            gets_(board, "variant"), json_number_value(json_object_get(board, "seconds")),
            build_variant());
    fprintf(f, "| mutant | variant | detected | not detected | not runnable | detector | "
               "expected | trials (median) | trials (max) | median | max | first detection |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    json_t *rows = json_object_get(board, "mutants");
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i), *h = json_object_get(r, "first");
        char med[16], max[16], tmed[24], tmax[24], first[512] = "-";
        seconds_cell(med, sizeof med, json_object_get(r, "median_s"));
        seconds_cell(max, sizeof max, json_object_get(r, "max_s"));
        trials_cell(tmed, sizeof tmed, json_object_get(r, "median_trials"));
        trials_cell(tmax, sizeof tmax, json_object_get(r, "max_trials"));
        if (json_is_object(h))
            snprintf(first, sizeof first, "%s, %s, program seed %lld, sched seed %lld", gets_(h,
                     "scenario"), gets_(h, "mode"), (long long)geti(h, "program_seed"),
                     (long long)geti(h, "sched_seed"));
        fprintf(f, "| `%s` | %s | %lld/%lld | %lld | %lld | %s | %s | %s | %s | %s | %s | %s |\n",
                gets_(r, "name"), gets_(r, "variant"), (long long)geti(r, "detected"),
                (long long)geti(r, "seeds"), (long long)geti(r, "undetected"),
                (long long)geti(r, "not_runnable"),
                json_is_string(json_object_get(r, "detector")) ? gets_(r, "detector") : "-",
                *gets_(r, "expected") ? gets_(r, "expected") : "(no scenario)", tmed, tmax, med, max,
                first);
    }
    fprintf(f, "\n");
    clean_lines(f, board, true);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static char *junit(json_t *board)
{
    json_t *rows = json_object_get(board, "mutants");
    size_t n = json_array_size(rows);
    junit_case *cases = calloc(n + 1, sizeof *cases);
    char (*msg)[640] = calloc(n + 1, sizeof *msg);
    char *out = NULL;
    if (cases && msg) {
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(rows, i);
            cases[i].classname = "refstorm.mutants";
            cases[i].name = gets_(r, "name");
            cases[i].seconds = json_is_number(json_object_get(r, "max_s"))
                                   ? json_number_value(json_object_get(r, "max_s")) : 0;
            why(msg[i], sizeof msg[i], r);
            if (msg[i][0])
                cases[i].failure = msg[i];
        }
        json_t *c = json_object_get(board, "clean");
        cases[n].classname = "refstorm.clean";
        cases[n].name = "clean-runtime";
        if (geti(c, "findings") > 0) {
            json_t *h = json_array_get(json_object_get(c, "list"), 0);
            snprintf(msg[n], sizeof msg[n], "%lld finding(s); first: %s (%s) in %s %s: %s",
                     (long long)geti(c, "findings"), gets_(h, "verdict"), gets_(h, "check"),
                     gets_(h, "scenario"), gets_(h, "mode"), gets_(h, "message"));
            cases[n].failure = msg[n];
        }
        out = junit_render("refstorm-gate", cases, n + 1,
                           json_number_value(json_object_get(board, "seconds")));
    }
    free(cases);
    free(msg);
    return out;
}

int mutants_write_summary(const char *dir, json_t *board)
{
    if (file_mkdir_p(dir) < 0)
        return -1;
    char *js = json_dumps(board, JSON_INDENT(2) | REPORT_JSON_REALS);
    char *md = markdown(board);
    char *xml = junit(board);
    int rc = -1;
    if (js && md && xml) {
        size_t jl = strlen(js);
        char *jsn = realloc(js, jl + 2);
        if (jsn) {
            js = jsn;
            js[jl] = '\n';
            js[jl + 1] = 0;
            rc = file_write_atomic(dir, "summary.json", js, jl + 1) < 0 ||
                 file_write_atomic(dir, "summary.md", md, strlen(md)) < 0 ||
                 file_write_atomic(dir, "junit.xml", xml, strlen(xml)) < 0 ? -1 : 0;
        }
    } else {
        errno = ENOMEM;
    }
    free(js);
    free(md);
    free(xml);
    return rc;
}
