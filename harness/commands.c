/* commands.c — the `list`, `run` and `repro` subcommands: load the program (a .scn file, or a
 * scenario of the registry generated into a temporary .scn file), drive workers
 * through worker_batch (worker.h), and turn each trial into output: a JSON line (--json), a
 * progress line on stderr at most once a second, a finding folder (report.h) with the exact
 * replay command, and a final summary line.  Exit codes are cli.h's.
 *
 * Seeds: trial i of a run uses scheduler seed SEED+i, where SEED is --seed or the program's
 * own `seed`.  A generated scenario is built once per run, from --seed (default
 * CMD_SCENARIO_SEED) and --threads, and carries that seed.  A finding records its seed and its
 * program (repro.scn), so `repro` replays that one trial alone. */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../runtime/bugs.h"
#include "report.h"
#include "scenario.h"
#include "scheduler.h"
#include "scn.h"
#include "worker.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- list ---- */

#define CMD_SCENARIO_SEED 1 /* a generated scenario's seed when --seed is not given */

int cmd_list(const cli_opts *o)
{
    (void)o;
    printf("scenarios (%zu; refstorm run NAME [--seed N] [--threads N]):\n", scenario_count());
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *sc = scenario_at(i);
        printf("  %-20s %s (%d threads)\n", sc->name, sc->property, sc->default_threads);
    }
    printf("\n");
    printf("mutants (%zu; switch on with --bug NAME):\n", rs_bug_count());
    for (size_t i = 0; i < rs_bug_count(); i++)
        printf("  %-28s %s\n", rs_bug_name(i), rs_bug_desc(i));
    printf("\nmodes (--mode MODE):\n");
    for (size_t i = 0; i < sched_mode_count(); i++)
        printf("  %-6s %s\n", sched_mode_name(i), sched_mode_help(i));
    return CLI_EXIT_PASS;
}

/* ---- shared state of run and repro ---- */

typedef struct session {
    const cli_opts *o;
    bool repro;
    const char *argv0;
    char *command;             /* the command line, for reports */
    const char *source;        /* the .scn file */
    program prog;              /* with the command line's mutants folded in (for repro.scn) */
    const char *mode;
    int depth;
    uint64_t seed;
    char run_id[64];
    char run_dir[4096];
    uint64_t done, passed, findings, errors;
    char first_finding[4096];
    trial_result last;         /* repro: the one trial's verdict (no malloc'd fields kept) */
    bool have_last;
    double t0, last_progress;
    bool progress_shown;
    int64_t selftest_crash, selftest_hang;
    int io_error;
} session;

static void progress_clear(session *s)
{
    if (s->progress_shown && isatty(2))
        fprintf(stderr, "\r\033[K");
    s->progress_shown = false;
}

static void tick(void *ctx)
{
    session *s = ctx;
    double t = now_s();
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
    json_object_set_new(o, "mode", json_string(s->mode));
    json_object_set_new(o, "scenario", json_string(s->prog.name ? s->prog.name : ""));
    json_object_set_new(o, "source", json_string(s->source));
    json_object_set_new(o, "verdict", json_string(r->verdict));
    json_object_set_new(o, "check", json_string(r->check));
    json_object_set_new(o, "message", json_string(r->message));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "thread", json_integer(r->thread));
    json_object_set_new(o, "op_index", json_integer(r->op_index));
    json_object_set_new(o, "trace", trace_json(r->trace));
    json_object_set_new(o, "finding", dir ? json_string(dir) : json_null());
    char *line = json_dumps(o, JSON_COMPACT);
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
    snprintf(id, sizeof id, "%03" PRIu64 "-%s-trial%" PRIu64, s->findings, r->verdict, r->trial);
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
    } else if (strcmp(r->verdict, "error") == 0) {
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
        fprintf(out, "FINDING %s (%s) at trial %" PRIu64 " seed %" PRIu64 ": %s\n", r->verdict,
                r->check, r->trial, r->seed, r->message);
        if (dir[0])
            fprintf(out, "  report: %s\n  replay: %s repro %s\n", dir, s->argv0, dir);
        fflush(out);
    } else if (strcmp(r->verdict, "error") == 0 && s->errors == 1 && !s->o->json) {
        progress_clear(s);
        fprintf(stderr, "refstorm: trial %" PRIu64 " cannot run: %s%s%s\n", r->trial, r->check,
                r->check[0] ? ": " : "", r->message);
    }
    return s->io_error ? -1 : 0;
}

/* Fold the command line's --bug names into the program; -1 (message printed) on a bad name. */
static int add_bugs(program *p, const char *const *bugs)
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

static int load_program(const char *path, program *p)
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

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Run trials [0, trials) with as many workers as findings need.  Returns an exit code. */
static int drive(session *s, uint64_t trials, double time_s, double watchdog_s,
                 const char *trace_file, const char *const *bugs)
{
    worker_spec ws = {
        .file = s->source, .mode = s->mode, .depth = s->depth, .seed = s->seed, .bugs = bugs,
        .trace_file = trace_file, .selftest_crash = s->selftest_crash,
        .selftest_hang = s->selftest_hang, .watchdog_s = watchdog_s,
    };
    char err[1024];
    s->t0 = s->last_progress = now_s();
    int64_t got = worker_run(&ws, trials, time_s, on_trial, tick, s, err, sizeof err);
    progress_clear(s);
    if (got < 0) {
        fprintf(stderr, "refstorm: internal error: %s\n", err);
        return CLI_EXIT_INTERNAL;
    }
    if (s->io_error)
        return CLI_EXIT_INTERNAL;
    if (s->findings)
        return CLI_EXIT_FINDING;
    return s->errors ? CLI_EXIT_USAGE : CLI_EXIT_PASS;
}

static double default_watchdog(const cli_opts *o, const program *p)
{
    if (cli_given(o, "watchdog"))
        return o->watchdog_s;
    return (p->opt.timeout_ms ? p->opt.timeout_ms : WORKER_DEFAULT_TIMEOUT_MS) / 1000.0 + 10.0;
}

/* ---- run ---- */

/* `run NAME`: generate the scenario into p and write it to a temporary .scn file (the workers
 * read their program from a file); path receives its name.  -1 (message printed) if the name
 * is unknown, the parameters are out of the scenario's range, or the file cannot be written. */
static int generate_scenario(const cli_opts *o, program *p, char *path, size_t n)
{
    const scenario *sc = scenario_find(o->target);
    if (sc == NULL) {
        fprintf(stderr, "refstorm: run: unknown scenario '%s' (see `refstorm list`, or give a "
                        "FILE.scn)\n", o->target);
        return -1;
    }
    scenario_params sp = {.nthreads = cli_given(o, "threads") ? (int)o->threads : 0};
    uint64_t seed = cli_given(o, "seed") ? o->seed : CMD_SCENARIO_SEED;
    program *g = scenario_generate(sc, seed, &sp);
    if (g == NULL) {
        fprintf(stderr, "refstorm: run: scenario %s cannot be generated with %d threads "
                        "(at least %d, at most %d)\n", sc->name, sp.nthreads, SCENARIO_MIN_THREADS,
                PROG_MAX_THREADS);
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(path, n, "%s/refstorm-%s-XXXXXX.scn", tmp && *tmp ? tmp : "/tmp", sc->name);
    int fd = mkstemps(path, 4);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int bad = f == NULL || scn_print(g, f) < 0;
    if (f && fclose(f) != 0)
        bad = 1;
    else if (f == NULL && fd >= 0)
        close(fd);
    if (bad) {
        fprintf(stderr, "refstorm: run: cannot write the generated program %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            unlink(path);
        path[0] = '\0';
        scenario_program_free(g);
        return -1;
    }
    /* the session's program is a copy: reports print it as repro.scn */
    scn_error e;
    int rc = scn_parse_file(path, p, &e);
    scenario_program_free(g);
    if (rc < 0) {
        fprintf(stderr, "refstorm: run: the generated program does not parse back\n");
        unlink(path);
        path[0] = '\0';
        return -1;
    }
    return 0;
}

int cmd_run(const cli_opts *o, const char *argv0)
{
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.argv0 = argv0;
    s.command = report_shell_join(o->argc, o->argv);
    s.source = o->target;
    s.mode = o->mode;
    s.depth = (int)o->depth;
    s.selftest_crash = o->selftest_crash;
    s.selftest_hang = o->selftest_hang;
    bool file = strstr(o->target, ".scn") || strchr(o->target, '/') || access(o->target, F_OK) == 0;
    char gen_path[4096] = "";
    if (file) {
        if (cli_given(o, "threads")) {
            fprintf(stderr, "refstorm: run: --threads applies to generated scenarios; %s fixes "
                            "its own threads\n", o->target);
            free(s.command);
            return CLI_EXIT_USAGE;
        }
        if (load_program(o->target, &s.prog) < 0) {
            free(s.command);
            return CLI_EXIT_USAGE;
        }
    } else if (generate_scenario(o, &s.prog, gen_path, sizeof gen_path) < 0) {
        free(s.command);
        return CLI_EXIT_USAGE;
    } else {
        s.source = gen_path;
    }
    if (add_bugs(&s.prog, o->bugs) < 0) {
        program_free(&s.prog);
        free(s.command);
        if (gen_path[0])
            unlink(gen_path);
        return CLI_EXIT_USAGE;
    }
    s.seed = cli_given(o, "seed") ? o->seed : s.prog.opt.seed;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(s.run_id, sizeof s.run_id, "%04d%02d%02d-%02d%02d%02d-%d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
    snprintf(s.run_dir, sizeof s.run_dir, "%s/%s", o->report_dir, s.run_id);
    int rc = drive(&s, o->trials, o->time_s, default_watchdog(o, &s.prog), NULL, o->bugs);
    if (!o->quiet && rc != CLI_EXIT_INTERNAL) {
        double el = now_s() - s.t0;
        FILE *out = o->json ? stderr : stdout;
        fprintf(out, "refstorm: %s: %" PRIu64 " trials (%s, seeds %" PRIu64 "..), %" PRIu64
                     " passed, %" PRIu64 " findings, %" PRIu64 " could not run, %.2f s, %.1f "
                     "trials/s%s%s\n",
                rc == CLI_EXIT_PASS ? "PASS" : rc == CLI_EXIT_FINDING ? "FINDINGS" : "ERROR",
                s.done, s.mode, s.seed, s.passed, s.findings, s.errors, el,
                el > 0 ? (double)s.done / el : 0, s.findings ? "; reports in " : "",
                s.findings ? s.run_dir : "");
    }
    program_free(&s.prog);
    free(s.command);
    if (gen_path[0])
        unlink(gen_path);
    return rc;
}

/* ---- repro ---- */

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
    char scn_path[4096], trace_path[4096];
    const char *trace = o->trace;
    char want_verdict[16] = "", want_check[32] = "";
    bool have_seed = cli_given(o, "seed");
    uint64_t seed = o->seed;
    if (is_dir(o->target)) {
        char jpath[4096];
        snprintf(jpath, sizeof jpath, "%s/report.json", o->target);
        json_error_t je;
        json_t *j = json_load_file(jpath, 0, &je);
        if (!json_is_object(j)) {
            fprintf(stderr, "%s:%d:%d: %s\n", jpath, je.line, je.column,
                    j ? "not a JSON object" : je.text);
            json_decref(j);
            return CLI_EXIT_USAGE;
        }
        static char mode_buf[16];
        const char *m = json_string_value(json_object_get(j, "mode"));
        if (!cli_given(o, "mode") && m) {
            snprintf(mode_buf, sizeof mode_buf, "%s", m);
            s.mode = mode_buf;
        }
        if (!cli_given(o, "depth") && json_is_integer(json_object_get(j, "depth")))
            s.depth = (int)json_integer_value(json_object_get(j, "depth"));
        if (!have_seed && json_is_integer(json_object_get(j, "seed"))) {
            seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
            have_seed = true;
        }
        if (!cli_given(o, "selftest-crash") && json_is_true(json_object_get(j, "selftest_crash")))
            s.selftest_crash = 0;
        if (!cli_given(o, "selftest-hang") && json_is_true(json_object_get(j, "selftest_hang")))
            s.selftest_hang = 0;
        snprintf(want_verdict, sizeof want_verdict, "%s",
                 json_string_value(json_object_get(j, "verdict")) ?: "");
        snprintf(want_check, sizeof want_check, "%s",
                 json_string_value(json_object_get(j, "check")) ?: "");
        json_decref(j);
        snprintf(scn_path, sizeof scn_path, "%s/repro.scn", o->target);
        snprintf(trace_path, sizeof trace_path, "%s/trace.txt", o->target);
        if (!trace && access(trace_path, R_OK) == 0 && strcmp(s.mode, "pct") == 0)
            trace = trace_path;
        s.source = scn_path;
    } else {
        s.source = o->target;
    }
    if (load_program(s.source, &s.prog) < 0)
        return CLI_EXIT_USAGE;
    if (add_bugs(&s.prog, o->bugs) < 0) {
        program_free(&s.prog);
        return CLI_EXIT_USAGE;
    }
    if (trace && access(trace, R_OK) != 0) {
        fprintf(stderr, "refstorm: --trace %s: %s\n", trace, strerror(errno));
        program_free(&s.prog);
        return CLI_EXIT_USAGE;
    }
    /* trial 0 of a one-trial run with base seed = the finding's seed */
    s.seed = have_seed ? seed : s.prog.opt.seed;
    int rc = drive(&s, 1, 0, default_watchdog(o, &s.prog), trace, o->bugs);
    if (rc != CLI_EXIT_INTERNAL && s.have_last && !o->quiet) {
        trial_result *r = &s.last;
        FILE *out = o->json ? stderr : stdout;
        fprintf(out, "repro: %s%s%s%s (mode %s, seed %" PRIu64 ")\n", r->verdict,
                r->check[0] ? " (" : "", r->check, r->check[0] ? ")" : "", s.mode, r->seed);
        if (r->message[0])
            fprintf(out, "  %s\n", r->message);
        if (want_verdict[0]) {
            bool same = strcmp(want_verdict, r->verdict) == 0 && strcmp(want_check, r->check) == 0;
            fprintf(out, "%s: the finding was %s (%s)\n",
                    same ? "REPRODUCED" : trial_is_finding(r) ? "DIFFERENT FINDING" : "NOT REPRODUCED",
                    want_verdict, want_check);
        }
    }
    program_free(&s.prog);
    return rc;
}
