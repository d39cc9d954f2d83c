/* session.c — the part of `run` and `repro` that drives workers and writes what they find
 * (session.h). */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "files.h"
#include "rs/debug.h"
#include "clock.h"
#include "report.h"
#include "scheduler.h"
#include "scn.h"

int session_new_run(session *s, const char *report_dir)
{
    /* before the first trial: a finding must have somewhere to go */
    if (report_dir_writable(report_dir) < 0) {
        fprintf(stderr, "refstorm: --report-dir %s: findings cannot be written there: %s\n",
                report_dir, strerror(errno));
        return -1;
    }
    time_t now = time(NULL);
    /* debris of a run killed while it wrote a finding (a write takes milliseconds: a minute's
     * margin keeps a concurrent run's write in progress) */
    int swept = report_sweep_stale(report_dir, now - 60);
    if (swept > 0 && !s->o->quiet)
        fprintf(stderr, "refstorm: removed %d unfinished finding folder(s) (.tmp-*) that an "
                        "interrupted run left in %s\n", swept, report_dir);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(s->run_id, sizeof s->run_id, "%04d%02d%02d-%02d%02d%02d-%d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
    snprintf(s->run_dir, sizeof s->run_dir, "%s/%s", report_dir, s->run_id);
    return 0;
}

static void progress_clear(session *s)
{
    if (s->progress_shown && isatty(2))
        fprintf(stderr, "\r\033[K");
    s->progress_shown = false;
}

static void tick(void *ctx)
{
    session *s = ctx;
    double t = mono_now_s();
    if (s->o->quiet || s->repro || t - s->t0 < 1.0 || t - s->last_progress < 1.0)
        return;
    s->last_progress = t;
    double el = t - s->t0;
    fprintf(stderr, "%srefstorm: %" PRIu64 " trials, %" PRIu64 " findings, %.0f s, %.1f trials/s%s",
            isatty(2) ? "\r\033[K" : "", s->done, s->findings, el, el > 0 ? (double)s->done / el : 0,
            isatty(2) ? "" : "\n");
    fflush(stderr);
    s->progress_shown = true;
}

static json_t *trace_json(const char *text)
{
    if (!text)
        return json_null();
    json_t *a = json_array();
    sched_switch *sw = NULL;
    size_t n = 0;
    if (sched_trace_parse(text, &sw, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_integer(sw[i].thread));
        free(sw);
    }
    return a;
}

static void print_json(session *s, const trial_result *r, const char *dir)
{
    json_t *o = json_object();
    json_object_set_new(o, "trial", json_integer((json_int_t)r->trial));
    json_object_set_new(o, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(o, "mode", json_string(mode_name(s->mode)));
    json_object_set_new(o, "scenario", json_string(s->prog.name ? s->prog.name : ""));
    json_object_set_new(o, "source", json_string(s->source));
    json_object_set_new(o, "verdict", json_string(verdict_name(r->verdict)));
    json_object_set_new(o, "check", json_string(r->check));
    json_object_set_new(o, "message", json_string(r->message));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "ops", json_integer((json_int_t)r->ops_run));
    json_object_set_new(o, "thread", json_integer(r->thread));
    json_object_set_new(o, "op_index", json_integer(r->op_index));
    json_object_set_new(o, "trace", trace_json(r->trace));
    json_object_set_new(o, "finding", dir ? json_string(dir) : json_null());
    char *line = json_dumps(o, JSON_COMPACT | REPORT_JSON_REALS);
    json_decref(o);
    if (line) {
        progress_clear(s);
        printf("%s\n", line);
        fflush(stdout);
        free(line);
    }
}

static int write_finding(session *s, trial_result *r, char *dir, size_t n)
{
    char id[96];
    snprintf(id, sizeof id, "%03" PRIu64 "-%s-trial%" PRIu64, s->findings, verdict_name(r->verdict),
             r->trial);
    report_finding f = {
        .run_id = s->run_id, .finding_id = id, .verdict = r->verdict, .check = r->check,
        .message = r->message, .headline = r->headline[0] ? r->headline : NULL,
        .scenario = s->prog.name, .source = s->source, .prog = &s->prog, .mode = s->mode,
        .depth = s->depth, .seed = r->seed, .trial = r->trial, .exit_status = r->exit_status,
        .signal = r->signal, .thread = r->thread, .op_index = r->op_index,
        .leaked_blocks = r->leaked_blocks, .leaked_reftotal = r->leaked_reftotal,
        .ops_run = r->ops_run, .seconds = r->seconds, .trace_text = r->trace,
        .sanitizer_log = r->log, .sanitizer_log_len = r->log_len, .thread_dump = r->thread_dump,
        .op_log = r->op_log,
        .selftest_crash = s->selftest_crash == (int64_t)r->trial ? 0 : -1,
        .selftest_hang = s->selftest_hang == (int64_t)r->trial ? 0 : -1,
        .argv0 = s->argv0, .command = s->command,
    };
    return report_write_finding(s->run_dir, &f, dir, n);
}

static int on_trial(void *ctx, trial_result *r)
{
    session *s = ctx;
    s->done++;
    char dir[4096] = "";
    bool finding = trial_is_finding(r);
    if (finding) {
        s->findings++;
        if (!s->repro) {
            if (write_finding(s, r, dir, sizeof dir) < 0) {
                progress_clear(s);
                fprintf(stderr, "refstorm: cannot write the report under %s: %s\n", s->run_dir,
                        strerror(errno));
                s->io_error = 1;
                dir[0] = 0;
            } else if (!s->first_finding[0]) {
                snprintf(s->first_finding, sizeof s->first_finding, "%s", dir);
            }
        }
    } else if (r->verdict == VERDICT_ERROR) {
        s->errors++;
    } else {
        s->passed++;
    }
    if (s->repro) {
        s->last = *r;
        s->last.trace = s->last.thread_dump = s->last.op_log = s->last.log = NULL;
        s->have_last = true;
    }
    if (s->o->json)
        print_json(s, r, dir[0] ? dir : NULL);
    if (finding && !s->repro) {
        progress_clear(s);
        FILE *out = s->o->json ? stderr : stdout;
        fprintf(out, "FINDING %s (%s) at trial %" PRIu64 " seed %" PRIu64 ": %s\n",
                verdict_name(r->verdict),
                r->check, r->trial, r->seed, r->message);
        if (dir[0])
            fprintf(out, "  report: %s\n  replay: %s repro %s\n", dir, s->argv0, dir);
        fflush(out);
    } else if (r->verdict == VERDICT_ERROR && s->errors == 1 && !s->o->json) {
        progress_clear(s);
        fprintf(stderr, "refstorm: trial %" PRIu64 " cannot run: %s%s%s\n", r->trial, r->check,
                r->check[0] ? ": " : "", r->message);
    }
    return s->io_error ? -1 : 0;
}

int session_add_bugs(program *p, const char *const *bugs)
{
    for (int i = 0; bugs[i]; i++) {
        bool known = false;
        for (size_t k = 0; k < rs_bug_count(); k++)
            known |= strcmp(rs_bug_name(k), bugs[i]) == 0;
        if (!known) {
            fprintf(stderr, "refstorm: --bug: unknown mutant '%s' (see refstorm list)\n", bugs[i]);
            return -1;
        }
        bool dup = false;
        for (uint32_t k = 0; k < p->nbugs; k++)
            dup |= strcmp(p->bugs[k], bugs[i]) == 0;
        if (!dup && program_add_bug(p, bugs[i]) < 0) {
            fprintf(stderr, "refstorm: --bug %s: cannot add it to the program\n", bugs[i]);
            return -1;
        }
    }
    return 0;
}

int session_load_program(const char *path, program *p)
{
    scn_error e;
    if (scn_parse_file(path, p, &e) < 0) {
        char msg[512];
        scn_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    return 0;
}

int session_drive(session *s, uint64_t trials, double time_s, double watchdog_s,
                  const char *trace_file, const char *const *bugs)
{
    worker_spec ws = {
        .file = s->source, .mode = s->mode, .depth = s->depth, .seed = s->seed, .bugs = bugs,
        .trace_file = trace_file, .selftest_crash = s->selftest_crash,
        .selftest_hang = s->selftest_hang, .watchdog_s = watchdog_s,
    };
    char err[1024];
    s->t0 = s->last_progress = mono_now_s();
    int64_t got = worker_run(&ws, trials, time_s, on_trial, tick, s, err, sizeof err);
    progress_clear(s);
    if (got < 0) {
        fprintf(stderr, "refstorm: internal error: %s\n", err);
        return EXIT_INTERNAL;
    }
    if (s->io_error)
        return EXIT_INTERNAL;
    if (s->findings)
        return EXIT_FINDING;
    return s->errors ? EXIT_USAGE : EXIT_PASS;
}

double session_watchdog(const cli_opts *o, const program *p)
{
    if (cli_given(o, "watchdog"))
        return o->watchdog_s;
    return (p->opt.timeout_ms ? p->opt.timeout_ms : WORKER_DEFAULT_TIMEOUT_MS) / 1000.0 + 10.0;
}

/* Write text to a new temporary file named refstorm-<what>-XXXXXX<suffix>; path gets its
 * name ("" on failure, message printed). */
int session_write_temp(const char *what, const char *suffix, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/refstorm-%s-XXXXXX%s", file_tmpdir(), what, suffix);
    int fd = mkstemps(path, (int)strlen(suffix));
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) != 0) {
        fprintf(stderr, "refstorm: cannot write a temporary file %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            unlink(path);
        path[0] = '\0';
        return -1;
    }
    return 0;
}
