/* mutants.c — runs the mutant scoreboard (`refstorm mutants`, mutants.h).
 *
 * For each mutant of runtime/include/rs/bugs.def, and each of --seeds seeds: generate every scenario
 * that targets it (scenario_for_mutant) with that seed, and run it with the mutant on, in a
 * supervised worker (worker.h), trying the modes pct, chaos and free in turn (the tsan subset:
 * chaos and free), round after round, until the first finding or until --trial-budget trials
 * have run for this seed.  The budget is counted in trials, never in seconds, so that the
 * verdict of a seed does not depend on how busy the machine is; wall time is reported only.
 * Detection = any finding (invariant, leak, crash, sanitizer report, hang) while the mutant is
 * on; its cost is the number of trials from the start of the seed up to and including the
 * finding (and, for information, the wall time).  A trial the
 * executor refuses (VERDICT_ERROR: "op X needs ...") is neither a pass nor a detection: a seed
 * whose every scenario and mode is refused counts as "not runnable", a distinct column.
 * The clean row runs every scenario with no mutant, one trial per seed and mode (pct only in
 * asan: a one-thread-at-a-time schedule gives TSan nothing to see); it must have no finding.
 *
 * Variants: a mutant whose expected detectors include TSan runs in the tsan binary (the
 * runtime's validators, RT and leak accounting work there too); every other mutant runs in
 * asan.  With --variant V this process runs V's subset and must be V's binary; without it,
 * the process starts build/asan/refstorm and build/tsan/refstorm (siblings of its own
 * executable) with `mutants --variant V --json`, in parallel, and merges their boards. */
#include "mutants.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rs/debug.h"
#include "clock.h"
#include "files.h"
#include "report.h"
#include "scenario.h"
#include "scn.h"
#include "supervise.h"

extern char **environ;

#define MUT_QUANTUM_FIRST 8u
#define MUT_QUANTUM_MAX 256u
#define MUT_TIMEOUT_MS 20000u    /* the executor's hang watchdog for generated programs */
#define MUT_MAX_SCEN 32
#define MUT_NMODES 3

static const run_mode mut_modes[MUT_NMODES] = {MODE_PCT, MODE_CHAOS, MODE_FREE};

/* pct runs one thread at a time and switches only at its few change points, so TSan sees
 * few unsynchronised interleavings there: the tsan subset (clean row included) uses chaos and
 * free only. */
static bool mode_used(const cli_opts *o, const char *variant, int m)
{
    if (cli_given(o, "mode")) /* --mode M: M only (the plain-scheduling baseline: free) */
        return mut_modes[m] == o->mode;
    return !(mut_modes[m] == MODE_PCT && strcmp(variant, "tsan") == 0);
}

/* ---- one supervised run of a program ---- */

typedef struct probe {
    uint64_t trials, passed, errors;
    bool found;
    trial_result hit;         /* the finding's scalar fields (no malloc'd pointers kept) */
    char error[256];          /* the first VERDICT_ERROR message */
    const char *report_root;  /* clean row: where the finding's folder goes, or NULL */
    const char *scn_path;
    run_mode mode;
    char finding_dir[4096];
} probe;

static void write_clean_finding(probe *p, trial_result *r)
{
    program prog;
    scn_error e;
    if (scn_parse_file(p->scn_path, &prog, &e) < 0)
        return;
    char id[128];
    snprintf(id, sizeof id, "%s-%s-%s-seed%" PRIu64, prog.name ? prog.name : "program",
             mode_name(p->mode), verdict_name(r->verdict), r->seed);
    report_finding f = {
        .run_id = "mutants-clean", .finding_id = id, .verdict = r->verdict, .check = r->check,
        .message = r->message, .headline = r->headline[0] ? r->headline : NULL,
        .scenario = prog.name, .source = p->scn_path, .prog = &prog, .mode = p->mode, .depth = 3,
        .seed = r->seed, .trial = 0, .exit_status = r->exit_status, .signal = r->signal,
        .thread = r->thread, .op_index = r->op_index, .leaked_blocks = r->leaked_blocks,
        .leaked_reftotal = r->leaked_reftotal, .ops_run = r->ops_run, .seconds = r->seconds,
        .trace_text = r->trace, .sanitizer_log = r->log, .sanitizer_log_len = r->log_len,
        .thread_dump = r->thread_dump, .op_log = r->op_log, .selftest_crash = -1,
        .selftest_hang = -1, .argv0 = "refstorm", .command = NULL,
    };
    if (report_write_finding(p->report_root, &f, p->finding_dir, sizeof p->finding_dir) < 0)
        p->finding_dir[0] = 0;
    program_free(&prog);
}

static int on_trial(void *ctx, trial_result *r)
{
    probe *p = ctx;
    p->trials++;
    if (trial_is_finding(r)) {
        if (!p->found) {
            p->found = true;
            p->hit = *r;
            p->hit.trace = p->hit.thread_dump = p->hit.op_log = p->hit.log = NULL;
            if (p->report_root)
                write_clean_finding(p, r);
        }
        return 1;
    }
    if (r->verdict == VERDICT_ERROR) {
        if (!p->errors++)
            snprintf(p->error, sizeof p->error, "%s%s%s", r->check, r->check[0] ? ": " : "",
                     r->message);
        return 1;
    }
    p->passed++;
    return 0;
}

/* Run `trials` trials of the .scn at path (fewer if one is a finding or an error); -1 on an
 * internal error. */
static int run_program(const char *path, run_mode mode, uint64_t seed, const char *const *bugs,
                       uint64_t trials, probe *p)
{
    worker_spec ws = {
        .file = path, .mode = mode, .depth = 3, .seed = seed, .bugs = bugs, .trace_file = NULL,
        .selftest_crash = -1, .selftest_hang = -1, .watchdog_s = MUT_TIMEOUT_MS / 1000.0 + 10.0,
    };
    p->mode = mode;
    p->scn_path = path;
    char err[1024];
    if (supervise_interrupted())
        return -1; /* the board stops here (main reports the signal) */
    if (worker_run(&ws, trials, 0, on_trial, NULL, p, err, sizeof err) < 0 || supervise_interrupted()) {
        if (supervise_interrupted())
            return -1;
        fprintf(stderr, "refstorm: mutants: internal error running %s (%s): %s\n", path,
                mode_name(mode),
                err);
        return -1;
    }
    return 0;
}

/* ---- the process's state ---- */

typedef struct board_run {
    const cli_opts *o;
    const char *variant;      /* the subset this process runs */
    char tmpdir[4096];          /* generated .scn files */
    const char *bugs_force;   /* --force-bug or NULL */
    const char *extra;        /* --extra-scn or NULL: unit nsc of every row */
    double t0;
} board_run;

/* The .scn of (scenario, seed), generated on first use; NULL on failure (message printed). */
static const char *scn_for(board_run *b, const scenario *sc, int seed, char *path, size_t n)
{
    snprintf(path, n, "%s/%s-%d.scn", b->tmpdir, sc->name, seed);
    if (access(path, R_OK) == 0)
        return path;
    program *p = scenario_generate(sc, (uint64_t)seed, NULL);
    if (!p) {
        fprintf(stderr, "refstorm: mutants: scenario %s seed %d: generation failed\n", sc->name,
                seed);
        return NULL;
    }
    p->opt.timeout_ms = MUT_TIMEOUT_MS;
    cli_program_overrides(b->o, p);
    size_t len = 0;
    char *text = scn_print_to_buffer(p, &len);
    scenario_program_free(p);
    char name[128];
    snprintf(name, sizeof name, "%s-%d.scn", sc->name, seed);
    int rc = text ? file_write_atomic(b->tmpdir, name, text, len) : -1;
    free(text);
    if (rc < 0) {
        fprintf(stderr, "refstorm: mutants: cannot write %s: %s\n", path, strerror(errno));
        return NULL;
    }
    return path;
}

/* The subset a mutant belongs to: tsan if any targeting scenario expects TSan. */
static const char *variant_of(unsigned detectors)
{
    return detectors & SCN_TSAN ? "tsan" : "asan";
}

static unsigned mutant_detectors(const char *name, const scenario **sc, size_t nsc)
{
    unsigned mask = 0;
    for (size_t i = 0; i < nsc; i++)
        for (size_t t = 0; t < sc[i]->ntargets; t++)
            if (strcmp(sc[i]->targets[t].mutant, name) == 0)
                mask |= sc[i]->targets[t].detectors;
    return mask;
}

/* Trials per (scenario, mode) in a round: 1 in round 0 (what can the executor run?), then 8,
 * 16, 32 ... up to 256.  Growing quanta keep the worker starts few when a mutant is slow to
 * catch, and the rotation fast when it is not; a function of the round only, so a seed's trial
 * sequence is the same on every machine. */
static uint64_t round_quantum(int round)
{
    if (round == 0)
        return 1;
    uint64_t q = MUT_QUANTUM_FIRST;
    for (int r = 1; r < round && q < MUT_QUANTUM_MAX; r++)
        q *= 2;
    return q;
}

/* The median of n > 0 sorted values. */
static double median(const double *v, int n)
{
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static json_t *hit_json(const probe *p, const char *scenario, int seed, double t,
                        uint64_t trials)
{
    json_t *h = json_object();
    json_object_set_new(h, "scenario", json_string(scenario));
    json_object_set_new(h, "mode", json_string(mode_name(p->mode)));
    json_object_set_new(h, "program_seed", json_integer(seed));
    json_object_set_new(h, "sched_seed", json_integer((json_int_t)p->hit.seed));
    json_object_set_new(h, "verdict", json_string(verdict_name(p->hit.verdict)));
    json_object_set_new(h, "check", json_string(p->hit.check));
    json_object_set_new(h, "message", json_string(p->hit.message));
    json_object_set_new(h, "seconds", json_real(t));
    json_object_set_new(h, "trials", json_integer((json_int_t)trials));
    return h;
}

/* One seed of one mutant.  *outcome: 'd' detected (hit filled), 'u' undetected, 'n' not
 * runnable.  Returns -1 on an internal error. */
static int mutant_seed(board_run *b, const char *name, const scenario **sc, size_t nsc,
                       int seed, char *outcome, json_t **hit, double *t_hit, uint64_t *n_hit,
                       uint64_t *trials, char *reason, size_t nreason)
{
    const char *bugs[3] = {name, NULL, NULL};
    if (b->bugs_force && strcmp(b->bugs_force, name) != 0)
        bugs[1] = b->bugs_force;
    bool runnable[MUT_MAX_SCEN + 1][MUT_NMODES];
    bool any = false;
    double t0 = mono_now_s();
    uint64_t used = 0, budget = b->o->trial_budget;
    uint64_t sched = (uint64_t)seed << 32; /* distinct scheduler seeds for every trial */
    /* unit u: --extra-scn first (when given), then the targeted scenarios */
    size_t nextra = b->extra != NULL, nunits = nsc + nextra;
    *outcome = 'n';
    for (int round = 0;; round++) {
        uint64_t quantum = round_quantum(round);
        for (size_t i = 0; i < nunits; i++) {
            char buf[4096 + 128];
            bool gen = i >= nextra;
            const scenario *sci = gen ? sc[i - nextra] : NULL;
            const char *path = gen ? buf : b->extra;
            const char *unit = gen ? sci->name : b->extra;
            for (int m = 0; m < MUT_NMODES; m++) {
                if (!mode_used(b->o, b->variant, m) || (round > 0 && !runnable[i][m]))
                    continue;
                if (used >= budget)
                    goto out;
                uint64_t n = budget - used < quantum ? budget - used : quantum;
                if (gen && !scn_for(b, sci, seed, buf, sizeof buf))
                    return -1;
                probe p;
                memset(&p, 0, sizeof p);
                /* round 0: one trial per (scenario, mode) finds what the executor can run */
                if (run_program(path, mut_modes[m], sched, bugs, n, &p) < 0)
                    return -1;
                sched += p.trials;
                used += p.trials;
                *trials += p.trials;
                if (round == 0)
                    runnable[i][m] = p.errors == 0;
                any |= p.errors == 0;
                if (p.errors && !reason[0])
                    snprintf(reason, nreason, "%s: %s", unit, p.error);
                if (p.found) {
                    *t_hit = mono_now_s() - t0;
                    *n_hit = used;
                    *hit = hit_json(&p, unit, seed, *t_hit, used);
                    *outcome = 'd';
                    return 0;
                }
            }
        }
        if (!any)
            break;
    }
out:
    *outcome = any ? 'u' : 'n';
    return 0;
}

static json_t *mutant_row(board_run *b, const char *name, bool *failed)
{
    const scenario *sc[MUT_MAX_SCEN];
    size_t nsc = scenario_for_mutant(name, sc, MUT_MAX_SCEN);
    if (nsc > MUT_MAX_SCEN)
        nsc = MUT_MAX_SCEN;
    unsigned det = mutant_detectors(name, sc, nsc);
    json_t *row = json_object();
    char expected[128] = "", scen[512] = "";
    scenario_detectors_format(det, expected, sizeof expected);
    for (size_t i = 0; i < nsc; i++)
        snprintf(scen + strlen(scen), sizeof scen - strlen(scen), "%s%s", i ? ", " : "",
                 sc[i]->name);
    json_object_set_new(row, "name", json_string(name));
    json_object_set_new(row, "variant", json_string(variant_of(det)));
    json_object_set_new(row, "expected", json_string(expected));
    json_object_set_new(row, "scenarios", json_string(scen));
    int seeds = (int)b->o->seeds, detected = 0, undetected = 0, not_runnable = 0;
    double times[64], counts[64]; /* per detected seed: seconds and trials to the finding */
    uint64_t trials = 0;
    json_t *first = json_null();
    char detector[64] = "", reason[320] = "";
    bool has_units = nsc > 0 || b->extra;
    for (int s = 0; s < seeds && has_units; s++) {
        char outcome;
        json_t *hit = NULL;
        double t = 0, ts = mono_now_s();
        uint64_t n = 0;
        if (mutant_seed(b, name, sc, nsc, s, &outcome, &hit, &t, &n, &trials, reason,
                        sizeof reason) < 0) {
            *failed = true;
            break;
        }
        if (outcome == 'd') {
            counts[detected] = (double)n;
            times[detected++] = t;
            const char *check = json_string_value(json_object_get(hit, "check"));
            if (!detector[0])
                snprintf(detector, sizeof detector, "%s", check && *check ? check
                         : json_string_value(json_object_get(hit, "verdict")));
            if (json_is_null(first)) {
                json_decref(first);
                first = hit;
            } else {
                json_decref(hit);
            }
        } else {
            outcome == 'u' ? undetected++ : not_runnable++;
        }
        if (!b->o->quiet)
            fprintf(stderr, "[%s] %s seed %d: %s%s (%.2f s)\n", b->variant, name, s,
                    outcome == 'd' ? "detected by " : outcome == 'u' ? "not detected"
                                                                    : "not runnable",
                    outcome == 'd' ? detector : "", mono_now_s() - ts);
    }
    qsort(times, (size_t)detected, sizeof times[0], cmp_double);
    qsort(counts, (size_t)detected, sizeof counts[0], cmp_double);
    json_object_set_new(row, "seeds", json_integer(seeds));
    json_object_set_new(row, "detected", json_integer(detected));
    json_object_set_new(row, "undetected", json_integer(has_units ? undetected : seeds));
    json_object_set_new(row, "not_runnable", json_integer(not_runnable));
    json_object_set_new(row, "not_runnable_reason", reason[0] ? json_string(reason) : json_null());
    json_object_set_new(row, "detector", detected ? json_string(detector) : json_null());
    json_object_set_new(row, "median_trials", detected ? json_real(median(counts, detected))
                                                       : json_null());
    json_object_set_new(row, "max_trials", detected ? json_integer((json_int_t)counts[detected - 1])
                                                    : json_null());
    json_object_set_new(row, "median_s", detected ? json_real(median(times, detected))
                                                  : json_null());
    json_object_set_new(row, "max_s", detected ? json_real(times[detected - 1]) : json_null());
    json_object_set_new(row, "trials", json_integer((json_int_t)trials));
    json_object_set_new(row, "first", first);
    return row;
}

/* The clean row of this variant: every scenario, every seed, one trial per mode. */
static json_t *clean_row(board_run *b, bool *failed)
{
    const char *bugs[2] = {b->bugs_force, NULL};
    uint64_t trials = 0, passed = 0, findings = 0, not_runnable = 0;
    json_t *list = json_array();
    char root[4096] = "";
    if (b->o->report_dir)
        snprintf(root, sizeof root, "%s/clean-%s", b->o->report_dir, b->variant);
    int seeds = (int)b->o->seeds;
    for (int s = 0; s < seeds && !*failed; s++) {
        size_t nunits = scenario_count() + (b->extra != NULL);
        for (size_t i = 0; i < nunits && !*failed; i++) {
            const scenario *sc = scenario_at(i);
            char buf[4096 + 128];
            const char *path = sc ? buf : b->extra, *unit = sc ? sc->name : b->extra;
            if (sc && !scn_for(b, sc, s, buf, sizeof buf)) {
                *failed = true;
                break;
            }
            for (int m = 0; m < MUT_NMODES; m++) {
                if (!mode_used(b->o, b->variant, m))
                    continue;
                probe p;
                memset(&p, 0, sizeof p);
                p.report_root = root[0] ? root : NULL;
                if (run_program(path, mut_modes[m], (uint64_t)s << 32, bugs, 1, &p) < 0) {
                    *failed = true;
                    break;
                }
                trials += p.trials;
                passed += p.passed;
                not_runnable += p.errors;
                if (p.found) {
                    findings++;
                    json_t *h = hit_json(&p, unit, s, p.hit.seconds, 1);
                    json_object_set_new(h, "variant", json_string(b->variant));
                    json_object_set_new(h, "report",
                                        p.finding_dir[0] ? json_string(p.finding_dir)
                                                         : json_null());
                    json_array_append_new(list, h);
                    if (!b->o->quiet)
                        fprintf(stderr, "[%s] clean: FINDING %s (%s) in %s %s seed %d: %s\n",
                                b->variant, verdict_name(p.hit.verdict), p.hit.check, unit,
                                mode_name(mut_modes[m]),
                                s, p.hit.message);
                }
            }
        }
        if (!b->o->quiet)
            fprintf(stderr, "[%s] clean seed %d: %" PRIu64 " trials, %" PRIu64 " findings, %"
                            PRIu64 " not runnable\n", b->variant, s, trials, findings,
                    not_runnable);
    }
    json_t *c = json_object();
    json_object_set_new(c, "seeds", json_integer(seeds));
    json_object_set_new(c, "findings", json_integer((json_int_t)findings));
    json_object_set_new(c, "trials", json_integer((json_int_t)trials));
    json_object_set_new(c, "passed", json_integer((json_int_t)passed));
    json_object_set_new(c, "not_runnable", json_integer((json_int_t)not_runnable));
    json_object_set_new(c, "list", list);
    return c;
}

static bool in_bugs_def(const char *name)
{
    for (size_t k = 0; k < rs_bug_count(); k++)
        if (strcmp(rs_bug_name(k), name) == 0)
            return true;
    return false;
}

static json_t *unregistered(void)
{
    json_t *a = json_array();
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *sc = scenario_at(i);
        for (size_t t = 0; t < sc->ntargets; t++) {
            const char *m = sc->targets[t].mutant;
            bool seen = false;
            for (size_t k = 0; k < json_array_size(a); k++)
                seen |= strcmp(json_string_value(json_array_get(a, k)), m) == 0;
            if (!seen && !in_bugs_def(m))
                json_array_append_new(a, json_string(m));
        }
    }
    return a;
}

static json_t *board_new(const cli_opts *o, const char *variant)
{
    json_t *j = json_object();
    json_object_set_new(j, "format", json_integer(1));
    json_object_set_new(j, "variant", json_string(variant));
    json_object_set_new(j, "seeds", json_integer(o->seeds));
    json_object_set_new(j, "trial_budget", json_integer((json_int_t)o->trial_budget));
    json_object_set_new(j, "force_bug", o->force_bug ? json_string(o->force_bug) : json_null());
    json_object_set_new(j, "only", o->only ? json_string(o->only) : json_null());
    json_object_set_new(j, "torture", cli_given(o, "torture")
                                          ? json_string(prog_torture_name(o->torture))
                                          : json_null());
    json_object_set_new(j, "points", cli_given(o, "points")
                                         ? json_string(prog_points_name(o->auto_points))
                                         : json_null());
    json_object_set_new(j, "extra_scn", o->extra_scn ? json_string(o->extra_scn) : json_null());
    json_object_set_new(j, "unregistered", unregistered());
    return j;
}

/* This process's subset: the rows of b->variant and its clean row.  NULL on internal error. */
static json_t *run_subset(const cli_opts *o, const char *variant)
{
    board_run b = {.o = o, .variant = variant, .bugs_force = o->force_bug, .extra = o->extra_scn,
                   .t0 = mono_now_s()};
    snprintf(b.tmpdir, sizeof b.tmpdir, "%s/refstorm-mutants-XXXXXX", file_tmpdir());
    if (!mkdtemp(b.tmpdir)) {
        fprintf(stderr, "refstorm: mutants: cannot create a temporary directory: %s\n",
                strerror(errno));
        return NULL;
    }
    json_t *board = board_new(o, variant), *rows = json_array();
    bool failed = false;
    for (size_t k = 0; k < rs_bug_count() && !failed; k++) {
        const char *name = rs_bug_name(k);
        if (o->only && strcmp(o->only, name) != 0)
            continue;
        const scenario *sc[MUT_MAX_SCEN];
        size_t nsc = scenario_for_mutant(name, sc, MUT_MAX_SCEN);
        if (nsc > MUT_MAX_SCEN)
            nsc = MUT_MAX_SCEN;
        if (strcmp(variant_of(mutant_detectors(name, sc, nsc)), variant) != 0)
            continue;
        json_array_append_new(rows, mutant_row(&b, name, &failed));
    }
    json_object_set_new(board, "mutants", rows);
    if (!failed)
        json_object_set_new(board, "clean", clean_row(&b, &failed));
    json_object_set_new(board, "seconds", json_real(mono_now_s() - b.t0));
    /* remove the generated programs */
    for (size_t i = 0; i < scenario_count(); i++)
        for (int s = 0; s < o->seeds; s++) {
            char path[4096 + 128];
            snprintf(path, sizeof path, "%s/%s-%d.scn", b.tmpdir, scenario_at(i)->name, s);
            unlink(path);
        }
    rmdir(b.tmpdir);
    if (failed) {
        json_decref(board);
        return NULL;
    }
    return board;
}

/* ---- both subsets, each in its variant's binary ---- */

typedef struct child {
    const char *variant;
    char exe[PATH_MAX + 32];
    char out[4096];
    pid_t pid;
} child;

static int start_child(const cli_opts *o, child *c)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "refstorm: mutants: /proc/self/exe: %s\n", strerror(errno));
        return -1;
    }
    self[n] = 0;
    /* .../build/<variant>/refstorm -> .../build/<c->variant>/refstorm */
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(c->exe, sizeof c->exe, "%s/%s/refstorm", self, c->variant);
    if (access(c->exe, X_OK) != 0) {
        fprintf(stderr, "refstorm: mutants: %s is missing (build it: ninja %s; or use "
                        "scripts/refstorm mutants)\n", c->exe, c->variant);
        return -1;
    }
    snprintf(c->out, sizeof c->out, "%s/refstorm-mutants-%s-XXXXXX", file_tmpdir(), c->variant);
    int fd = mkstemp(c->out);
    if (fd < 0)
        return -1;
    char seeds[32], budget[32];
    snprintf(seeds, sizeof seeds, "%" PRId64, o->seeds);
    snprintf(budget, sizeof budget, "%" PRIu64, o->trial_budget);
    const char *argv[32] = {c->exe, "mutants", "--variant", c->variant, "--json", "--seeds",
                            seeds, "--trial-budget", budget};
    int k = 9;
    /* the flags passed on as given (a NULL value: not given) */
    const struct { const char *flag, *value; } pass[] = {
        {"--force-bug", o->force_bug},
        {"--only", o->only},
        {"--extra-scn", o->extra_scn},
        {"--report-dir", o->report_dir},
        {"--torture", cli_given(o, "torture") ? prog_torture_name(o->torture) : NULL},
        {"--points", cli_given(o, "points") ? prog_points_name(o->auto_points) : NULL},
        {"--mode", cli_given(o, "mode") ? mode_name(o->mode) : NULL},
    };
    for (size_t i = 0; i < sizeof pass / sizeof pass[0]; i++)
        if (pass[i].value) {
            argv[k++] = pass[i].flag;
            argv[k++] = pass[i].value;
        }
    if (o->quiet)
        argv[k++] = "--quiet";
    argv[k] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    /* the child's summary files would be overwritten by ours: it writes none */
    setenv("RS_MUTANTS_NO_SUMMARY", "1", 1);
    int rc = posix_spawn(&c->pid, c->exe, &fa, NULL, (char *const *)argv, environ);
    unsetenv("RS_MUTANTS_NO_SUMMARY");
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "refstorm: mutants: cannot start %s: %s\n", c->exe, strerror(rc));
        unlink(c->out);
        return -1;
    }
    return 0;
}

/* Wait for a child and load its board; NULL on failure (message printed). */
static json_t *finish_child(child *c)
{
    int st = 0;
    bool passed_on = false;
    /* polled, so that an interruption that lands between two checks is still passed on: the
     * child stops as we do */
    for (;;) {
        if (supervise_interrupted() && !passed_on) {
            kill(c->pid, supervise_interrupted() == SIGPIPE ? SIGTERM : supervise_interrupted());
            passed_on = true;
        }
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid || (r < 0 && errno != EINTR))
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    json_error_t je;
    json_t *j = json_load_file(c->out, 0, &je);
    unlink(c->out);
    if (supervise_interrupted()) { /* no board from an interrupted child */
        json_decref(j);
        return NULL;
    }
    bool ok_exit = WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 1);
    if (!ok_exit || !json_is_object(j)) {
        fprintf(stderr, "refstorm: mutants: %s %s (%s)\n", c->exe,
                WIFEXITED(st) ? "failed" : "was killed",
                json_is_object(j) ? "no scoreboard" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* Merge the tsan board into the asan board (rows in bugs.def order). */
static json_t *merge(const cli_opts *o, json_t *a, json_t *t, double seconds)
{
    json_t *m = board_new(o, "asan+tsan"), *rows = json_array();
    for (size_t k = 0; k < rs_bug_count(); k++) {
        json_t *src[2] = {json_object_get(a, "mutants"), json_object_get(t, "mutants")};
        for (int s = 0; s < 2; s++)
            for (size_t i = 0; i < json_array_size(src[s]); i++) {
                json_t *r = json_array_get(src[s], i);
                if (strcmp(json_string_value(json_object_get(r, "name")), rs_bug_name(k)) == 0)
                    json_array_append(rows, r);
            }
    }
    json_object_set_new(m, "mutants", rows);
    json_t *ca = json_object_get(a, "clean"), *ct = json_object_get(t, "clean");
    json_t *c = json_object();
    json_object_set_new(c, "seeds", json_integer(o->seeds));
    static const char *const sum[] = {"findings", "trials", "passed", "not_runnable"};
    for (size_t i = 0; i < sizeof sum / sizeof sum[0]; i++)
        json_object_set_new(c, sum[i], json_integer(geti(ca, sum[i]) + geti(ct, sum[i])));
    json_t *list = json_array();
    json_array_extend(list, json_object_get(ca, "list"));
    json_array_extend(list, json_object_get(ct, "list"));
    json_object_set_new(c, "list", list);
    json_t *by = json_object();
    json_object_set(by, "asan", ca);
    json_object_set(by, "tsan", ct);
    json_object_set_new(c, "by_variant", by);
    json_object_set_new(m, "clean", c);
    json_object_set_new(m, "seconds", json_real(seconds));
    return m;
}

int cmd_mutants(const cli_opts *o, const char *argv0)
{
    (void)argv0;
    const char *names[2] = {o->force_bug, o->only};
    for (int i = 0; i < 2; i++)
        if (names[i] && !in_bugs_def(names[i])) {
            fprintf(stderr, "refstorm: --%s: unknown mutant '%s' (see refstorm list)\n",
                    i ? "only" : "force-bug", names[i]);
            return EXIT_USAGE;
        }
    if (o->extra_scn && access(o->extra_scn, R_OK) != 0) {
        fprintf(stderr, "refstorm: --extra-scn %s: %s\n", o->extra_scn, strerror(errno));
        return EXIT_USAGE;
    }
    /* before the board runs: its summary and the clean row's findings go there */
    if (o->report_dir && report_dir_writable(o->report_dir) < 0) {
        fprintf(stderr, "refstorm: --report-dir %s: the summary and findings cannot be written "
                        "there: %s\n", o->report_dir, strerror(errno));
        return EXIT_USAGE;
    }
    json_t *board;
    if (o->variant) {
        if (strcmp(o->variant, build_variant()) != 0) {
            fprintf(stderr, "refstorm: mutants --variant %s must run in the %s binary "
                            "(build/%s/refstorm); this one is %s\n", o->variant, o->variant,
                    o->variant, build_variant());
            return EXIT_USAGE;
        }
        board = run_subset(o, o->variant);
        if (!board)
            return EXIT_INTERNAL;
    } else {
        double t0 = mono_now_s();
        child c[2] = {{.variant = "asan"}, {.variant = "tsan"}};
        if (start_child(o, &c[0]) < 0)
            return EXIT_INTERNAL;
        if (start_child(o, &c[1]) < 0) {
            kill(c[0].pid, SIGTERM);
            json_decref(finish_child(&c[0]));
            return EXIT_INTERNAL;
        }
        json_t *a = finish_child(&c[0]), *t = finish_child(&c[1]);
        board = a && t ? merge(o, a, t, mono_now_s() - t0) : NULL;
        json_decref(a);
        json_decref(t);
        if (!board)
            return EXIT_INTERNAL;
    }
    mutants_judge(board);
    int rc = json_is_true(json_object_get(board, "ok")) ? EXIT_PASS : EXIT_FINDING;
    const char *nosum = getenv("RS_MUTANTS_NO_SUMMARY");
    if (o->report_dir && !(nosum && strcmp(nosum, "1") == 0) &&
        mutants_write_summary(o->report_dir, board) < 0) {
        fprintf(stderr, "refstorm: mutants: cannot write the summary under %s: %s\n",
                o->report_dir, strerror(errno));
        rc = EXIT_INTERNAL;
    }
    if (o->json) {
        char *s = json_dumps(board, JSON_COMPACT | REPORT_JSON_REALS);
        if (s)
            printf("%s\n", s);
        free(s);
    } else {
        mutants_print_table(stdout, board);
    }
    fflush(stdout);
    json_decref(board);
    return rc;
}
