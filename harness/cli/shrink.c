/* shrink.c — `refstorm shrink` (see shrink.h): delta debugging of a failing program.
 *
 * The driver reads top to bottom: load the input (finding folder or .scn) and what it must keep
 * failing with; check that the original reproduces without its trace; then rounds of three
 * greedy passes (threads, op chunks, integer arguments) until a round changes nothing or the
 * time budget is spent; write the result.  Every candidate goes through try_candidate(): it is
 * validated (program_validate; rejected candidates are skipped, not repaired), skipped if the
 * same text was tried before, printed to a temporary .scn and run by worker_run() for --tries
 * trials with the run's mode, depth, base seed and mutants.  A worker crash or sanitizer report
 * is a trial result there like any other, so it can only make a candidate reproduce or not.
 *
 * Mutants: the ones named by the finding (report.json "bugs") or by --bug are removed from the
 * program and passed to the workers as --bug, so the output replays with --bug NAME and passes
 * without it; `bug` lines a .scn input carries itself stay in it. */
#include "shrink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "rs/debug.h"
#include "report.h"
#include "scn.h"
#include "clock.h"
#include "files.h"
#include "supervise.h"

#define SHRINK_DEFAULT_TIME_S 120.0
#define SHRINK_TRIES_PCT 1
#define SHRINK_TRIES_OTHER 5


/* ---- program edits ---- */

uint64_t shrink_op_count(const program *p)
{
    uint64_t n = 0;
    for (uint32_t t = 0; t < p->nthreads; t++)
        n += p->thread[t].nops;
    return n;
}

void shrink_drop_ops(program *p, uint32_t t, uint32_t start, uint32_t count)
{
    if (t >= p->nthreads)
        return;
    prog_thread *th = &p->thread[t];
    if (start >= th->nops)
        return;
    if (count > th->nops - start)
        count = th->nops - start;
    for (uint32_t k = start; k < start + count; k++)
        free(th->ops[k].str);
    memmove(&th->ops[start], &th->ops[start + count],
            (th->nops - start - count) * sizeof th->ops[0]);
    th->nops -= count;
}

/* The index of op's thread argument, or -1 if it has none. */
static int thread_arg(const prog_op *op)
{
    const prog_opinfo *info = prog_op_info(op->code);
    for (int i = 0; info && i < info->nargs; i++)
        if (info->arg[i].kind == PROG_ARG_THR)
            return i;
    return -1;
}

int shrink_drop_thread(program *p, uint32_t k)
{
    if (k == 0 || k >= p->nthreads)
        return -1;
    for (uint32_t t = 0; t < p->nthreads; t++) {
        prog_thread *th = &p->thread[t];
        for (uint32_t i = 0; i < th->nops;) {
            int a = thread_arg(&th->ops[i]);
            if (a >= 0 && th->ops[i].arg[a] == (int32_t)k) {
                shrink_drop_ops(p, t, i, 1);
                continue;
            }
            if (a >= 0 && th->ops[i].arg[a] > (int32_t)k)
                th->ops[i].arg[a]--;
            i++;
        }
    }
    prog_thread *gone = &p->thread[k];
    for (uint32_t i = 0; i < gone->nops; i++)
        free(gone->ops[i].str);
    free(gone->ops);
    memmove(&p->thread[k], &p->thread[k + 1], (p->nthreads - k - 1) * sizeof p->thread[0]);
    p->nthreads--;
    memset(&p->thread[p->nthreads], 0, sizeof p->thread[0]);
    return 0;
}

/* Remove mutant `name` from the program's own list (no-op if absent). */
static void drop_bug(program *p, const char *name)
{
    for (uint32_t i = 0; i < p->nbugs; i++) {
        if (strcmp(p->bugs[i], name) != 0)
            continue;
        free(p->bugs[i]);
        memmove(&p->bugs[i], &p->bugs[i + 1], (p->nbugs - i - 1) * sizeof p->bugs[0]);
        p->nbugs--;
        return;
    }
}

/* Integer arguments worth shrinking: amounts of work, not indexes or thresholds. */
static bool shrinkable_int(const prog_argspec *a)
{
    static const char *const names[] = {"count", "depth", "ms", "size"};
    if (a->kind != PROG_ARG_INT)
        return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(a->name, names[i]) == 0)
            return true;
    return false;
}

/* ---- the shrinker ---- */

typedef struct shrinker {
    const cli_opts *o;
    const char *argv0;                  /* for the printed replay command */
    run_mode mode;
    int depth;
    uint64_t seed;                      /* base scheduler seed: a candidate's trial i uses seed+i */
    const char *bugs[PROG_MAX_BUGS + 1]; /* passed to the workers, not in the program */
    int nbugs;
    int tries;
    double watchdog_s, time_s;
    bool have_want;                     /* false until known (a .scn input's first failure) */
    verdict want_verdict;
    char want_check[32];
    char tmpdir[4096], cand_path[4096 + 16];
    program cur;                        /* the smallest program that reproduced so far */
    uint64_t cur_seed;                  /* the seed it reproduced with */
    uint64_t orig_ops;
    uint32_t orig_threads;
    uint64_t tried, invalid;
    uint64_t *seen;                     /* FNV-1a hashes of the candidate texts tried */
    size_t nseen, capseen;
    double t0, last_progress;
    bool progress_shown, timed_out;
    char err[1024];                     /* internal error */
} shrinker;

/* What the trials of one candidate gave. */
typedef struct probe {
    shrinker *s;
    bool match;                         /* a trial failed with the wanted verdict + check */
    uint64_t seed;                      /* that trial's seed */
    uint64_t errors, trials;
    bool got_finding, got_any;
    verdict got_verdict;                /* the first finding (or the last verdict) seen */
    char got_check[32];
} probe;

/* out of time, or interrupted (the candidate in progress came back empty): keep the best so far */
static bool time_up(shrinker *s)
{
    if (mono_now_s() - s->t0 >= s->time_s || supervise_interrupted())
        s->timed_out = true;
    return s->timed_out;
}

static void progress_clear(shrinker *s)
{
    if (s->progress_shown && isatty(2))
        fprintf(stderr, "\r\033[K");
    s->progress_shown = false;
}

/* At most once a second, once the shrink has taken a second. */
static void progress(shrinker *s)
{
    double t = mono_now_s();
    if (s->o->quiet || t - s->t0 < 1.0 || t - s->last_progress < 1.0)
        return;
    s->last_progress = t;
    fprintf(stderr, "%srefstorm: shrink: %" PRIu64 " ops (from %" PRIu64 "), %u threads, %" PRIu64
                    " candidates, %.0f s%s",
            isatty(2) ? "\r\033[K" : "", shrink_op_count(&s->cur), s->orig_ops, s->cur.nthreads,
            s->tried, t - s->t0, isatty(2) ? "" : "\n");
    fflush(stderr);
    s->progress_shown = true;
}

static void tick(void *ctx)
{
    probe *pr = ctx;
    progress(pr->s);
}

static int on_trial(void *ctx, trial_result *r)
{
    probe *pr = ctx;
    shrinker *s = pr->s;
    pr->trials++;
    if (r->verdict == VERDICT_ERROR)
        pr->errors++;
    if (!pr->got_finding) { /* "got": the first finding, or else the last verdict */
        pr->got_any = true;
        pr->got_verdict = r->verdict;
        snprintf(pr->got_check, sizeof pr->got_check, "%s", r->check);
        pr->got_finding = trial_is_finding(r);
    }
    if (!trial_is_finding(r))
        return 0;
    if (!s->have_want) { /* a .scn input: the first failure sets the target */
        s->have_want = true;
        s->want_verdict = r->verdict;
        snprintf(s->want_check, sizeof s->want_check, "%s", r->check);
    }
    if (r->verdict == s->want_verdict && strcmp(r->check, s->want_check) == 0) {
        pr->match = true;
        pr->seed = r->seed;
        return 1; /* enough: stop this candidate */
    }
    return 0;
}

/* Run p for s->tries trials.  1 reproduces, 0 does not, -1 internal error (s->err). */
static int run_program(shrinker *s, const program *p, probe *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->s = s;
    FILE *f = fopen(s->cand_path, "w");
    if (!f) {
        snprintf(s->err, sizeof s->err, "%s: %s", s->cand_path, strerror(errno));
        return -1;
    }
    int bad = scn_print(p, f) < 0;
    if (fclose(f) != 0 || bad) {
        snprintf(s->err, sizeof s->err, "cannot write %s: %s", s->cand_path, strerror(errno));
        return -1;
    }
    worker_spec ws = {
        .file = s->cand_path, .mode = s->mode, .depth = s->depth, .seed = s->seed,
        .bugs = s->bugs, .trace_file = NULL, .selftest_crash = -1, .selftest_hang = -1,
        .watchdog_s = s->watchdog_s,
    };
    s->tried++;
    if (worker_run(&ws, (uint64_t)s->tries, 0, on_trial, tick, pr, s->err, sizeof s->err) < 0)
        return -1;
    return pr->match ? 1 : 0;
}

static uint64_t fnv1a(const char *text, size_t len)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    return h;
}

/* true if this text was tried before; otherwise remember it */
static bool seen_before(shrinker *s, const program *c)
{
    size_t len = 0;
    char *text = scn_print_to_buffer(c, &len);
    if (!text)
        return false;
    uint64_t h = fnv1a(text, len);
    free(text);
    for (size_t i = 0; i < s->nseen; i++)
        if (s->seen[i] == h)
            return true;
    if (s->nseen == s->capseen) {
        size_t cap = s->capseen ? 2 * s->capseen : 256;
        uint64_t *n = realloc(s->seen, cap * sizeof *n);
        if (!n)
            return false;
        s->seen = n;
        s->capseen = cap;
    }
    s->seen[s->nseen++] = h;
    return false;
}

/* Try candidate c (owned: consumed).  1 it reproduced and is now s->cur, 0 it did not (or was
 * invalid, or a repeat), -1 internal error. */
static int try_candidate(shrinker *s, program *c)
{
    prog_error pe;
    int rc = 0;
    if (program_validate(c, &pe) < 0) {
        s->invalid++;
    } else if (!seen_before(s, c)) {
        probe pr;
        rc = run_program(s, c, &pr);
        if (rc == 1) {
            program_free(&s->cur);
            s->cur = *c; /* moved */
            s->cur_seed = pr.seed;
            progress(s);
            return 1;
        }
    }
    program_free(c);
    return rc;
}

/* Copy of s->cur into c; -1 (s->err) on allocation failure. */
static int copy_cur(shrinker *s, program *c)
{
    if (program_copy(c, &s->cur) < 0) {
        snprintf(s->err, sizeof s->err, "out of memory copying the program");
        return -1;
    }
    return 0;
}

/* Pass 1: drop whole threads other than t0, from the last one down (renumbering then leaves
 * the ones still to try in place).  Returns 1 if something changed, 0 if not, -1 on error. */
static int pass_threads(shrinker *s)
{
    int changed = 0;
    for (int k = (int)s->cur.nthreads - 1; k >= 1 && !time_up(s); k--) {
        if ((uint32_t)k >= s->cur.nthreads)
            continue;
        program c;
        if (copy_cur(s, &c) < 0)
            return -1;
        shrink_drop_thread(&c, (uint32_t)k);
        int rc = try_candidate(s, &c);
        if (rc < 0)
            return -1;
        changed |= rc;
    }
    return changed;
}

/* Pass 2: per thread, remove chunks of ops, chunk size halving from half the thread down to
 * one op (ddmin's complement step, applied greedily). */
static int pass_ops(shrinker *s)
{
    int changed = 0;
    for (uint32_t t = 0; t < s->cur.nthreads; t++) {
        uint32_t n = s->cur.thread[t].nops;
        for (uint32_t chunk = n > 1 ? n / 2 : 1; chunk >= 1 && n > 0; chunk /= 2) {
            for (uint32_t i = 0; i < s->cur.thread[t].nops;) {
                if (time_up(s))
                    return changed;
                program c;
                if (copy_cur(s, &c) < 0)
                    return -1;
                shrink_drop_ops(&c, t, i, chunk);
                int rc = try_candidate(s, &c);
                if (rc < 0)
                    return -1;
                if (rc == 0)
                    i += chunk; /* keep this chunk; on success the next ops moved into place */
                changed |= rc;
            }
        }
    }
    return changed;
}

/* Pass 3: every shrinkable integer argument, first straight to its minimum, then halving the
 * distance to it while the candidate still reproduces. */
static int pass_ints(shrinker *s)
{
    int changed = 0;
    for (uint32_t t = 0; t < s->cur.nthreads; t++) {
        for (uint32_t k = 0; k < s->cur.thread[t].nops; k++) {
            const prog_opinfo *info = prog_op_info(s->cur.thread[t].ops[k].code);
            for (int a = 0; info && a < info->nargs; a++) {
                if (!shrinkable_int(&info->arg[a]))
                    continue;
                int32_t lo = info->arg[a].lo;
                /* first straight to the minimum, then half the distance while that works */
                for (bool first = true; s->cur.thread[t].ops[k].arg[a] > lo && !time_up(s);
                     first = false) {
                    int32_t v = s->cur.thread[t].ops[k].arg[a];
                    int32_t next = first ? lo : lo + (v - lo) / 2;
                    if (!first && (next == lo || next == v))
                        break; /* the minimum was tried already */
                    program c;
                    if (copy_cur(s, &c) < 0)
                        return -1;
                    c.thread[t].ops[k].arg[a] = next;
                    int rc = try_candidate(s, &c);
                    if (rc < 0)
                        return -1;
                    changed |= rc;
                    if (rc == 0 && !first)
                        break;
                }
            }
        }
    }
    return changed;
}

/* ---- input and output ---- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool bug_known(const char *name)
{
    for (size_t k = 0; k < rs_bug_count(); k++)
        if (strcmp(rs_bug_name(k), name) == 0)
            return true;
    return false;
}

/* Add a mutant to the workers' list (no duplicates); -1 (message printed) if unknown or too
 * many.  `name` must outlive the shrinker. */
static int add_bug(shrinker *s, const char *name)
{
    if (!bug_known(name)) {
        fprintf(stderr, "refstorm: shrink: --bug: unknown mutant '%s' (see refstorm list)\n", name);
        return -1;
    }
    for (int i = 0; i < s->nbugs; i++)
        if (strcmp(s->bugs[i], name) == 0)
            return 0;
    if (s->nbugs >= CLI_MAX_BUGS) {
        fprintf(stderr, "refstorm: shrink: at most %d mutants\n", CLI_MAX_BUGS);
        return -1;
    }
    s->bugs[s->nbugs++] = name;
    s->bugs[s->nbugs] = NULL;
    return 0;
}

/* Read the finding's report.json into s (mode, depth, seed, mutants, wanted verdict + check;
 * flags given on the command line win).  `j` keeps the strings alive; the caller frees it.
 * -1 (message printed) on a bad report. */
static int load_report(shrinker *s, const char *dir, json_t **jp, bool *have_seed)
{
    const cli_opts *o = s->o;
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s/report.json", dir);
    json_error_t je;
    json_t *j = json_load_file(jpath, 0, &je);
    *jp = j;
    if (!json_is_object(j)) {
        fprintf(stderr, "%s:%d:%d: %s\n", jpath, je.line, je.column,
                j ? "not a JSON object" : je.text);
        return -1;
    }
    const char *word = json_string_value(json_object_get(j, "verdict"));
    const char *check = json_string_value(json_object_get(j, "check"));
    verdict want;
    if (word && verdict_parse(word, &want) < 0) {
        fprintf(stderr, "%s: verdict: unknown verdict '%s'\n", jpath, word);
        return -1;
    }
    if (!word || !check || !verdict_is_finding(want)) {
        fprintf(stderr, "%s: no failing verdict and check to shrink towards\n", jpath);
        return -1;
    }
    if (json_is_true(json_object_get(j, "selftest_crash")) ||
        json_is_true(json_object_get(j, "selftest_hang"))) {
        fprintf(stderr, "refstorm: shrink: %s was forced by a debugging flag (--selftest-*); "
                        "there is nothing to shrink\n", dir);
        return -1;
    }
    s->have_want = true;
    s->want_verdict = want;
    snprintf(s->want_check, sizeof s->want_check, "%s", check);
    const char *m = json_string_value(json_object_get(j, "mode"));
    if (!cli_given(o, "mode") && m && mode_parse(m, &s->mode) < 0) {
        fprintf(stderr, "%s: mode: unknown mode '%s' (%s)\n", jpath, m, mode_list());
        return -1;
    }
    if (!cli_given(o, "depth") && json_is_integer(json_object_get(j, "depth")))
        s->depth = (int)json_integer_value(json_object_get(j, "depth"));
    if (!cli_given(o, "seed") && json_is_integer(json_object_get(j, "seed"))) {
        s->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
        *have_seed = true;
    }
    json_t *bugs = json_object_get(j, "bugs");
    size_t i;
    json_t *b;
    json_array_foreach(bugs, i, b) {
        if (json_is_string(b) && add_bug(s, json_string_value(b)) < 0)
            return -1;
    }
    return 0;
}

/* The default output path: DIR/min.scn or FILE.min.scn (FILE without its .scn). */
static void default_out(const char *target, bool dir, char *out, size_t n)
{
    if (dir) {
        snprintf(out, n, "%s/min.scn", target);
        return;
    }
    size_t len = strlen(target);
    if (len > 4 && strcmp(target + len - 4, ".scn") == 0)
        len -= 4;
    snprintf(out, n, "%.*s.min.scn", (int)len, target);
}

/* Copy s into a comment-safe form: printable ASCII only. */
static void comment_safe(char *dst, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 1 < n; s++)
        dst[k++] = (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ? '?' : *s;
    dst[k] = 0;
}

/* The replay command's flags after --seed: --depth (pct only) and one --bug per mutant. */
static void bug_flags(const shrinker *s, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    if (s->mode == MODE_PCT)
        len = (size_t)snprintf(buf, n, " --depth %d", s->depth);
    for (int i = 0; i < s->nbugs && len < n; i++) {
        int w = snprintf(buf + len, n - len, " --bug %s", s->bugs[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Write the result with its header comments to `path`, atomically. -1 with errno. */
static int write_result(shrinker *s, const char *path, const char *source, double secs)
{
    size_t len = 0;
    char *body = scn_print_to_buffer(&s->cur, &len);
    if (!body) {
        errno = ENOMEM;
        return -1;
    }
    char src[1024], flags[2048], bugs[2048] = "";
    comment_safe(src, sizeof src, source);
    bug_flags(s, flags, sizeof flags);
    for (int i = 0; i < s->nbugs; i++)
        snprintf(bugs + strlen(bugs), sizeof bugs - strlen(bugs), "%s%s", i ? ", " : "",
                 s->bugs[i]);
    char *text = NULL;
    int tn = asprintf(&text,
                      "# refstorm shrink: reproduces %s (%s), mode %s, depth %d, seed %" PRIu64
                      ", %d %s per check\n"
                      "# mutants (not in this file, pass --bug): %s\n"
                      "# ops: %" PRIu64 " -> %" PRIu64 ", threads: %u -> %u; %" PRIu64
                      " candidates in %.1f s%s\n"
                      "# from: %s\n"
                      "# replay: refstorm repro FILE --mode %s --seed %" PRIu64 "%s\n"
                      "%s",
                      verdict_name(s->want_verdict), s->want_check, mode_name(s->mode), s->depth,
                      s->cur_seed, s->tries,
                      s->tries == 1 ? "trial" : "trials", s->nbugs ? bugs : "none", s->orig_ops,
                      shrink_op_count(&s->cur), s->orig_threads, s->cur.nthreads, s->tried,
                      secs, s->timed_out ? (supervise_interrupted() ? " (interrupted)" : " (time budget ran out)") : "", src, mode_name(s->mode),
                      s->cur_seed, flags, body);
    free(body);
    if (tn < 0) {
        errno = ENOMEM;
        return -1;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    int rc = file_write_atomic(dir, slash ? slash + 1 : path, text, (size_t)tn);
    free(text);
    return rc;
}

static void print_json(const shrinker *s, const char *out, double secs)
{
    json_t *j = json_object();
    json_object_set_new(j, "original_ops", json_integer((json_int_t)s->orig_ops));
    json_object_set_new(j, "final_ops", json_integer((json_int_t)shrink_op_count(&s->cur)));
    json_object_set_new(j, "original_threads", json_integer(s->orig_threads));
    json_object_set_new(j, "threads", json_integer(s->cur.nthreads));
    json_object_set_new(j, "verdict", json_string(verdict_name(s->want_verdict)));
    json_object_set_new(j, "check", json_string(s->want_check));
    json_object_set_new(j, "mode", json_string(mode_name(s->mode)));
    json_object_set_new(j, "depth", json_integer(s->depth));
    json_object_set_new(j, "seed", json_integer((json_int_t)s->cur_seed));
    json_t *bugs = json_array();
    for (int i = 0; i < s->nbugs; i++)
        json_array_append_new(bugs, json_string(s->bugs[i]));
    json_object_set_new(j, "bugs", bugs);
    json_object_set_new(j, "tries", json_integer(s->tries));
    json_object_set_new(j, "candidates_tried", json_integer((json_int_t)s->tried));
    json_object_set_new(j, "candidates_invalid", json_integer((json_int_t)s->invalid));
    json_object_set_new(j, "timed_out", json_boolean(s->timed_out));
    json_object_set_new(j, "seconds", json_real(secs));
    json_object_set_new(j, "out", json_string(out));
    char *line = json_dumps(j, JSON_COMPACT | REPORT_JSON_REALS);
    json_decref(j);
    if (line) {
        printf("%s\n", line);
        fflush(stdout);
        free(line);
    }
}

/* ---- the command ---- */

static int shrink_main(shrinker *s, const char *source, const char *out)
{
    /* 1. the original must reproduce by mode + seed alone */
    program orig;
    if (copy_cur(s, &orig) < 0)
        return EXIT_INTERNAL;
    probe pr;
    int rc = run_program(s, &orig, &pr);
    program_free(&orig);
    if (rc < 0)
        return EXIT_INTERNAL;
    if (rc == 0) {
        progress_clear(s);
        if (pr.errors == pr.trials && pr.trials > 0) {
            fprintf(stderr, "refstorm: shrink: %s cannot run: %s\n", source, pr.got_check);
            return EXIT_USAGE;
        }
        if (s->have_want)
            fprintf(stderr, "refstorm: shrink: %s does not reproduce %s (%s) without its trace "
                            "in %d %s (mode %s, seed %" PRIu64 "..): got %s%s%s%s\n",
                    source, verdict_name(s->want_verdict), s->want_check, s->tries,
                    s->tries == 1 ? "trial" : "trials", mode_name(s->mode), s->seed,
                    pr.got_any ? verdict_name(pr.got_verdict) : "nothing",
                    pr.got_check[0] ? " (" : "",
                    pr.got_check, pr.got_check[0] ? ")" : "");
        else
            fprintf(stderr, "refstorm: shrink: %s passes in %d %s (mode %s, seed %" PRIu64
                            "..): nothing to shrink\n",
                    source, s->tries, s->tries == 1 ? "trial" : "trials", mode_name(s->mode),
                    s->seed);
        return EXIT_FINDING;
    }
    s->cur_seed = pr.seed;
    seen_before(s, &s->cur);

    /* 2. greedy rounds to a fixpoint */
    for (int changed = 1; changed && !time_up(s);) {
        int a = pass_threads(s);
        int b = a < 0 ? -1 : pass_ops(s);
        int c = b < 0 ? -1 : pass_ints(s);
        if (a < 0 || b < 0 || c < 0)
            return EXIT_INTERNAL;
        changed = a | b | c;
    }

    /* 3. the result */
    double secs = mono_now_s() - s->t0;
    progress_clear(s);
    s->cur.opt.seed = s->cur_seed; /* `repro OUT` without --seed replays the right trial */
    if (write_result(s, out, source, secs) < 0) {
        fprintf(stderr, "refstorm: shrink: cannot write %s: %s\n", out, strerror(errno));
        return EXIT_INTERNAL;
    }
    if (s->o->json)
        print_json(s, out, secs);
    if (!s->o->quiet) {
        char flags[2048];
        bug_flags(s, flags, sizeof flags);
        FILE *f = s->o->json ? stderr : stdout;
        fprintf(f, "refstorm: shrink: %s (%s) reproduces with %" PRIu64 " ops (from %" PRIu64
                   "), %u threads (from %u); %" PRIu64 " candidates, %.1f s%s -> %s\n"
                   "  replay: %s repro %s --mode %s --seed %" PRIu64 "%s\n",
                verdict_name(s->want_verdict), s->want_check, shrink_op_count(&s->cur),
                s->orig_ops,
                s->cur.nthreads, s->orig_threads, s->tried, secs,
                s->timed_out ? (supervise_interrupted() ? " (interrupted)" : " (time budget ran out)") : "", out, s->argv0, out,
                mode_name(s->mode),
                s->cur_seed, flags);
    }
    return EXIT_PASS;
}

int cmd_shrink(const cli_opts *o, const char *argv0)
{
    shrinker s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.argv0 = argv0;
    s.mode = o->mode;
    s.depth = (int)o->depth;
    s.seed = o->seed;
    s.time_s = cli_given(o, "time") ? o->time_s : SHRINK_DEFAULT_TIME_S;
    program_init(&s.cur);
    bool dir = is_dir(o->target), have_seed = cli_given(o, "seed");
    json_t *report = NULL;
    char scn_path[4096], out[4096];
    int rc = EXIT_USAGE;
    if (dir) {
        if (load_report(&s, o->target, &report, &have_seed) < 0)
            goto done;
        snprintf(scn_path, sizeof scn_path, "%s/repro.scn", o->target);
    } else {
        snprintf(scn_path, sizeof scn_path, "%s", o->target);
    }
    for (int i = 0; o->bugs[i]; i++)
        if (add_bug(&s, o->bugs[i]) < 0)
            goto done;
    scn_error e;
    if (scn_parse_file(scn_path, &s.cur, &e) < 0) {
        char msg[512];
        scn_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        goto done;
    }
    for (int i = 0; i < s.nbugs; i++)
        drop_bug(&s.cur, s.bugs[i]);
    if (!have_seed)
        s.seed = s.cur.opt.seed;
    s.tries = cli_given(o, "tries") ? (int)o->tries
              : s.mode == MODE_PCT ? SHRINK_TRIES_PCT : SHRINK_TRIES_OTHER;
    s.watchdog_s = cli_given(o, "watchdog")
                       ? o->watchdog_s
                       : (s.cur.opt.timeout_ms ? s.cur.opt.timeout_ms : WORKER_DEFAULT_TIMEOUT_MS) /
                                 1000.0 + 10.0;
    s.orig_ops = shrink_op_count(&s.cur);
    s.orig_threads = s.cur.nthreads;
    if (o->out)
        snprintf(out, sizeof out, "%s", o->out);
    else
        default_out(o->target, dir, out, sizeof out);
    snprintf(s.tmpdir, sizeof s.tmpdir, "%s/refstorm-shrink-XXXXXX", file_tmpdir());
    if (!mkdtemp(s.tmpdir)) {
        fprintf(stderr, "refstorm: shrink: cannot create a temporary directory: %s\n",
                strerror(errno));
        s.tmpdir[0] = 0;
        rc = EXIT_INTERNAL;
        goto done;
    }
    snprintf(s.cand_path, sizeof s.cand_path, "%s/candidate.scn", s.tmpdir);
    s.t0 = s.last_progress = mono_now_s();
    rc = shrink_main(&s, dir ? o->target : scn_path, out);
    if (rc == EXIT_INTERNAL && s.err[0]) {
        progress_clear(&s);
        fprintf(stderr, "refstorm: shrink: internal error: %s\n", s.err);
    }
done:
    if (s.cand_path[0])
        unlink(s.cand_path);
    if (s.tmpdir[0])
        rmdir(s.tmpdir);
    program_free(&s.cur);
    free(s.seen);
    json_decref(report);
    return rc;
}
