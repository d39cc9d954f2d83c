/* cmd_repro.c — `refstorm repro`: replay one trial, either of a finding folder (its
 * report.json gives the mode, seed, depth and the verdict to expect; repro.scn the program;
 * trace.txt the pct trace) or of a .scn file, and say whether the finding came back. */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "session.h"

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What a finding folder says about its trial. */
typedef struct finding_info {
    bool have;             /* a finding folder was read */
    verdict want;          /* the verdict it recorded */
    char want_check[32];
    bool have_seed;
    uint64_t seed;
    char scn_path[4096], trace_path[4096];
    char variant[16];      /* the build that recorded it */
} finding_info;

/* report.json's field `name` if present, else NULL; a present field of another JSON type than
 * `type` is an input error naming it (*bad set).  required: absence is an error too. */
static json_t *field(json_t *j, const char *path, const char *name, json_type type, bool required,
                     bool *bad)
{
    static const char *const type_names[] = {
        [JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array", [JSON_STRING] = "a string",
        [JSON_INTEGER] = "an integer", [JSON_REAL] = "a number", [JSON_TRUE] = "a boolean",
        [JSON_FALSE] = "a boolean", [JSON_NULL] = "null"};
    json_t *v = json_object_get(j, name);
    if (v == NULL || json_is_null(v)) {
        if (required) {
            fprintf(stderr, "%s: missing field \"%s\" (%s)\n", path, name, type_names[type]);
            *bad = true;
        }
        return NULL;
    }
    bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;
    if (!ok) {
        fprintf(stderr, "%s: field \"%s\" must be %s\n", path, name, type_names[type]);
        *bad = true;
        return NULL;
    }
    return v;
}

/* Read dir/report.json into s (mode, depth, self-tests unless given) and fi; an exit code. */
static int read_finding(session *s, const cli_opts *o, const char *dir, finding_info *fi)
{
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s/report.json", dir);
    json_error_t je;
    json_t *j = json_load_file(jpath, 0, &je);
    if (!json_is_object(j)) {
        fprintf(stderr, "%s:%d:%d: %s\n", jpath, je.line, je.column,
                j ? "not a JSON object" : je.text);
        json_decref(j);
        return EXIT_USAGE;
    }
    int rc = EXIT_PASS;
    bool bad = false;
    json_t *jm = field(j, jpath, "mode", JSON_STRING, true, &bad);
    json_t *jv = field(j, jpath, "verdict", JSON_STRING, true, &bad);
    json_t *jc = field(j, jpath, "check", JSON_STRING, true, &bad);
    json_t *js = field(j, jpath, "seed", JSON_INTEGER, true, &bad);
    json_t *jd = field(j, jpath, "depth", JSON_INTEGER, false, &bad);
    json_t *jsc = field(j, jpath, "selftest_crash", JSON_TRUE, false, &bad);
    json_t *jsh = field(j, jpath, "selftest_hang", JSON_TRUE, false, &bad);
    json_t *jva = field(j, jpath, "variant", JSON_STRING, false, &bad);
    if (bad) {
        json_decref(j);
        return EXIT_USAGE;
    }
    const char *m = json_string_value(jm);
    if (!cli_given(o, "mode") && m && mode_parse(m, &s->mode) < 0) {
        fprintf(stderr, "%s: mode: unknown mode '%s' (%s)\n", jpath, m, mode_list());
        rc = EXIT_USAGE;
    }
    const char *v = json_string_value(jv);
    if (v && verdict_parse(v, &fi->want) < 0) {
        fprintf(stderr, "%s: verdict: unknown verdict '%s'\n", jpath, v);
        rc = EXIT_USAGE;
    }
    fi->have = v != NULL;
    if (!cli_given(o, "depth") && jd)
        s->depth = (int)json_integer_value(jd);
    if (json_integer_value(js) < 0) {
        fprintf(stderr, "%s: field \"seed\" must not be negative\n", jpath);
        rc = EXIT_USAGE;
    }
    fi->seed = (uint64_t)json_integer_value(js);
    fi->have_seed = true;
    if (!cli_given(o, "selftest-crash") && json_is_true(jsc))
        s->selftest_crash = 0;
    if (!cli_given(o, "selftest-hang") && json_is_true(jsh))
        s->selftest_hang = 0;
    snprintf(fi->want_check, sizeof fi->want_check, "%s", json_string_value(jc));
    snprintf(fi->variant, sizeof fi->variant, "%s", jva ? json_string_value(jva) : "");
    json_decref(j);
    snprintf(fi->scn_path, sizeof fi->scn_path, "%s/repro.scn", dir);
    snprintf(fi->trace_path, sizeof fi->trace_path, "%s/trace.txt", dir);
    return rc;
}

static void verdict_lines(const session *s, const cli_opts *o, const finding_info *fi)
{
    const trial_result *r = &s->last;
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "repro: %s%s%s%s (mode %s, seed %" PRIu64 ")\n", verdict_name(r->verdict),
            r->check[0] ? " (" : "", r->check, r->check[0] ? ")" : "", mode_name(s->mode),
            r->seed);
    if (r->message[0])
        fprintf(out, "  %s\n", r->message);
    if (fi->have) {
        bool same = fi->want == r->verdict && strcmp(fi->want_check, r->check) == 0;
        fprintf(out, "%s: the finding was %s (%s)\n",
                same ? "REPRODUCED" : trial_is_finding(r) ? "DIFFERENT FINDING" : "NOT REPRODUCED",
                verdict_name(fi->want), fi->want_check);
    }
}

/* the last replay came back: the finding's verdict and check, or (a .scn file) any finding */
static bool reproduced(const session *s, const finding_info *fi)
{
    if (!s->have_last)
        return false;
    if (!fi->have)
        return trial_is_finding(&s->last);
    return fi->want == s->last.verdict && strcmp(fi->want_check, s->last.check) == 0;
}

int cmd_repro(const cli_opts *o, const char *argv0)
{
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.repro = true;
    s.argv0 = argv0;
    s.mode = o->mode;
    s.depth = (int)o->depth;
    s.selftest_crash = o->selftest_crash;
    s.selftest_hang = o->selftest_hang;
    s.source = o->target;
    finding_info fi = {0};
    const char *trace = o->trace;
    int rc = EXIT_PASS;
    if (is_dir(o->target)) {
        rc = read_finding(&s, o, o->target, &fi);
        s.source = fi.scn_path;
        if (!trace && access(fi.trace_path, R_OK) == 0 && s.mode == MODE_PCT)
            trace = fi.trace_path;
    }
    if (rc == EXIT_PASS && (session_load_program(s.source, &s.prog) < 0 ||
                            session_add_bugs(&s.prog, o->bugs) < 0))
        rc = EXIT_USAGE;
    if (rc == EXIT_PASS && trace && access(trace, R_OK) != 0) {
        fprintf(stderr, "refstorm: --trace %s: %s\n", trace, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_PASS && fi.variant[0] && strcmp(fi.variant, build_variant()) != 0 && !o->quiet)
        fprintf(stderr, "refstorm: repro: warning: this finding was recorded by the %s build and "
                        "is replayed by the %s one (build/%s/refstorm); its detector may not "
                        "exist here\n", fi.variant, build_variant(), fi.variant);
    if (rc == EXIT_PASS) {
        /* trial 0 of a one-trial run with base seed = the finding's seed, --tries times */
        s.seed = cli_given(o, "seed") ? o->seed : fi.have_seed ? fi.seed : s.prog.opt.seed;
        int64_t tries = cli_given(o, "tries") ? o->tries : 1, got = 0, done = 0;
        for (int64_t i = 0; i < tries && !supervise_interrupted(); i++) {
            s.have_last = false;
            rc = session_drive(&s, 1, 0, session_watchdog(o, &s.prog), trace, o->bugs);
            if (rc == EXIT_INTERNAL)
                break;
            done += s.have_last;
            got += reproduced(&s, &fi);
            if (s.have_last && !o->quiet && (tries == 1 || !reproduced(&s, &fi)))
                verdict_lines(&s, o, &fi);
        }
        if (tries > 1 && rc != EXIT_INTERNAL) {
            fprintf(o->json ? stderr : stdout,
                    "repro: %s in %" PRId64 " of %" PRId64 " replays (%s, seed %" PRIu64 ")\n",
                    fi.have ? "reproduced" : "failed", got, done, mode_name(s.mode), s.seed);
            rc = got > 0 ? EXIT_FINDING : EXIT_PASS;
        }
    }
    program_free(&s.prog);
    return rc;
}
