/* cli.c — the flag, subcommand and exit-code tables, and everything produced from them: the
 * argument parser, `--help` and the README's CLI section (`refstorm help --markdown`).
 *
 * To add a flag: add a field to cli_opts, a row to cli_flags (name, value placeholder, kind,
 * subcommands, range, help) and, if it needs a default, a line in cli_opts_init.  The parser,
 * the help and the README pick it up; tests/e2e/cli.sh checks that the README section is
 * exactly what `help --markdown` prints. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vocab.h"

#define C(cmd) (1u << (cmd))
#define RUNLIKE (C(CLI_CMD_RUN) | C(CLI_CMD_REPRO) | C(CLI_CMD_WORKER))
#define MUT C(CLI_CMD_MUTANTS)
#define SHR C(CLI_CMD_SHRINK)
#define IMP C(CLI_CMD_IMPORT)
#define ENC C(CLI_CMD_ENCODE)
#define CLI_COMMAND_WORDS "list, run, repro, shrink, mutants, import, encode, help"
#define ALLCMDS (C(CLI_CMD_NONE) | C(CLI_CMD_HELP) | C(CLI_CMD_LIST) | RUNLIKE | MUT | SHR | IMP | ENC)
#define F(field) offsetof(cli_opts, field)

const cli_command cli_commands[] = {
    {CLI_CMD_LIST, "list", "", false,
     "List the scenarios, the mutants (name and description) and the scheduling modes."},
    {CLI_CMD_RUN, "run", "FILE.scn|SCENARIO", false,
     "Run trials of a program in a supervised worker process; each failing trial becomes a "
     "finding with a report folder.  A crash, sanitizer report or hang of the worker is a "
     "finding too, and the run carries on with the next trial."},
    {CLI_CMD_REPRO, "repro", "FINDING_DIR|FILE.scn", false,
     "Replay one trial (a finding's program, mode, seed, mutants and pct trace, or a .scn file) "
     "and print its verdict: exit 1 if it fails, 0 if it passes."},
    {CLI_CMD_SHRINK, "shrink", "FINDING_DIR|FILE.scn", false,
     "Minimize a failing program (delta debugging): drop threads, chunks of ops and halve "
     "integer arguments while the program still fails with the same verdict and check, "
     "replayed by mode and seed (never by trace) in supervised workers; write the smallest "
     "program found as .scn (default FINDING_DIR/min.scn or FILE.min.scn).  Exit 0 if the "
     "output reproduces, 1 if the input does not reproduce."},
    {CLI_CMD_MUTANTS, "mutants", "", false,
     "The mutant scoreboard: for each mutant, run the scenarios that target it over --seeds "
     "seeds (pct, chaos, free until the first finding, within --trial-budget trials per seed) "
     "in the variant where its detector lives (TSan-detected: tsan, the others: asan), and "
     "every scenario with no mutant (the clean row); print detected seeds, detector and trials "
     "to first detection.  Exit 0 only if every mutant was detected and the clean row has no finding."},
    {CLI_CMD_IMPORT, "import", "CRASH_FILE", false,
     "Turn an input of the fuzz_program fuzzer (a crash file) into a finding: decode it into "
     "its program and schedule tape, run that trial under pct with the tape as its trace, and "
     "write the finding folder that repro replays and shrink minimizes.  Give the mutants the "
     "fuzzer ran with (RS_FUZZ_BUGS) with --bug.  Exit 1 if it is a finding, 0 if it passes."},
    {CLI_CMD_ENCODE, "encode", "FILE.scn|SCENARIO", false,
     "Encode a program (a .scn file, or a scenario generated with --seed and --threads) into "
     "fuzz_program input bytes at --out, each thread cut to its first 24 ops (seed corpora)."},
    {CLI_CMD_HELP, "help", "[COMMAND]", false,
     "Print this help, or one command's help (--markdown: the README's CLI section)."},
    {CLI_CMD_WORKER, "worker", "FILE.scn", true,
     "Internal: run trials in this process and write one JSON line per trial to --result-fd; "
     "started by run and repro (fork+exec of /proc/self/exe)."},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const cli_flag cli_flags[] = {
    {"mode", "MODE", CLI_MODE, RUNLIKE | SHR | MUT, false, F(mode), 0, 0,
     "scheduling mode: free, chaos or pct (default free; see `refstorm list`); mutants: use only "
     "this mode (default: pct, chaos and free; chaos and free for the tsan subset)"},
    {"depth", "D", CLI_INT, RUNLIKE | SHR | ENC, false, F(depth), 1, 64,
     "pct depth d: d-1 priority change points (default 3)"},
    {"seed", "N", CLI_U64, RUNLIKE | SHR | ENC, false, F(seed), 0, PROG_SEED_MAX,
     "first scheduler seed; trial i uses N+i (default: the program's seed)"},
    {"threads", "N", CLI_INT, C(CLI_CMD_RUN) | ENC, false, F(threads), 1, PROG_MAX_THREADS,
     "threads of a generated scenario (a .scn file fixes its own)"},
    {"trials", "N", CLI_U64, C(CLI_CMD_RUN) | C(CLI_CMD_WORKER), false, F(trials), 1, INT64_MAX,
     "number of trials (default 100, or unbounded when --time is given)"},
    {"time", "SECONDS", CLI_SECONDS, C(CLI_CMD_RUN) | C(CLI_CMD_WORKER) | SHR, false, F(time_s), 0,
     31 * 86400,
     "time budget: start no trial after this many seconds (shrink: try no candidate after this "
     "many seconds, default 120)"},
    {"watchdog", "SECONDS", CLI_SECONDS, C(CLI_CMD_RUN) | C(CLI_CMD_REPRO) | SHR | IMP, false,
     F(watchdog_s), 0, 86400,
     "the supervisor declares a hang when a worker reports nothing for this long (default: the "
     "program's timeout_ms, or 10 s, + 10 s; the executor's own watchdog uses the timeout)"},
    {"bug", "NAME", CLI_STRLIST, RUNLIKE | SHR | IMP, false, F(bugs), 0, 0,
     "switch a mutant on (repeatable; names from `refstorm list`)"},
    {"seeds", "N", CLI_INT, MUT, false, F(seeds), 1, 64,
     "mutants: seeds per mutant and for the clean row (default 3)"},
    {"trial-budget", "N", CLI_U64, MUT, false, F(trial_budget), 1, 100000000,
     "mutants: trials allowed per mutant and seed, over all its scenarios and modes, to reach "
     "a first finding (default " CLI_STRINGIFY(MUT_TRIAL_BUDGET) "); counted in trials, never in "
     "seconds, so a busy machine gives the same verdict"},
    {"variant", "V", CLI_STR, MUT, false, F(variant), 0, 0,
     "mutants: run only the asan or the tsan subset, in this binary (default: both, each in "
     "its variant's binary, build/<V>/refstorm, merged)"},
    {"force-bug", "NAME", CLI_STR, MUT, false, F(force_bug), 0, 0,
     "mutants: leave this mutant on in every run, the clean row included (proves a gate fails)"},
    {"only", "NAME", CLI_STR, MUT, false, F(only), 0, 0,
     "mutants: score only this mutant (the clean row still runs every scenario)"},
    {"torture", "T", CLI_TORTURE, MUT | C(CLI_CMD_RUN), false, F(torture), 0, 0,
     "run a generated scenario (mutants: every generated program) with torture T (off, on or "
     "mixed) instead of its own (mixed: odd scheduler seeds; `option torture` in docs/scn.md)"},
    {"points", "P", CLI_POINTS, MUT | C(CLI_CMD_RUN), false, F(auto_points), 0, 0,
     "schedule points of a generated scenario (mutants: of every generated program): named "
     "(only the RS_SCHED points) or all (every synchronising operation of the runtime too: "
     "`option auto_points on`)"},
    {"report-dir", "DIR", CLI_STR, C(CLI_CMD_RUN) | MUT | IMP, false, F(report_dir), 0, 0,
     "where findings go: DIR/<run-id>/<finding-id>/ (default reports); mutants: where "
     "summary.md, summary.json and junit.xml go (none unless given)"},
    {"json", NULL, CLI_BOOL, C(CLI_CMD_RUN) | C(CLI_CMD_REPRO) | MUT | SHR | IMP, false, F(json), 0, 0,
     "print one JSON object per trial on stdout, one per line (mutants: one object, the "
     "scoreboard; shrink: one object, the result)"},
    {"quiet", NULL, CLI_BOOL, C(CLI_CMD_RUN) | C(CLI_CMD_REPRO) | MUT | SHR | IMP, false, F(quiet), 0, 0,
     "no progress line, no summary (findings are still reported)"},
    {"tries", "N", CLI_INT, SHR | C(CLI_CMD_REPRO), false, F(tries), 1, 1000,
     "shrink: trials per candidate; a candidate reproduces if one of them fails with the "
     "original verdict and check (default 1 in pct, 5 in free and chaos); repro: replay the "
     "trial N times (same seed) and print how many reproduced (default 1)"},
    {"out", "FILE", CLI_STR, SHR | ENC, false, F(out), 0, 0,
     "shrink: where the minimized .scn goes, written atomically (default FINDING_DIR/min.scn, "
     "or FILE.min.scn); encode: where the bytes go (required)"},
    {"trace", "FILE", CLI_STR, C(CLI_CMD_REPRO) | C(CLI_CMD_WORKER), false, F(trace), 0, 0,
     "pct trace to replay (default: the finding's trace.txt)"},
    {"help", NULL, CLI_BOOL, ALLCMDS, false, F(help), 0, 0, "print help and exit 0 (also -h)"},
    {"markdown", NULL, CLI_BOOL, C(CLI_CMD_HELP), true, F(markdown), 0, 0,
     "help: print the README's CLI section"},
    {"selftest-crash", "TRIAL", CLI_INT, RUNLIKE, true, F(selftest_crash), 0, INT64_MAX,
     "the worker raises SIGSEGV instead of running trial TRIAL (0-based; repro: 0)"},
    {"selftest-hang", "TRIAL", CLI_INT, RUNLIKE, true, F(selftest_hang), 0, INT64_MAX,
     "the worker sleeps forever instead of running trial TRIAL"},
    {"extra-scn", "FILE", CLI_STR, MUT, true, F(extra_scn), 0, 0,
     "mutants: run FILE.scn as one more scenario of every mutant and of the clean row (a "
     "program the executor runs today, to exercise the scoreboard itself)"},
    {"result-fd", "FD", CLI_INT, C(CLI_CMD_WORKER), true, F(result_fd), 3, 1023,
     "worker: file descriptor for the JSON result lines"},
    {"first-trial", "N", CLI_U64, C(CLI_CMD_WORKER), true, F(first_trial), 0, INT64_MAX,
     "worker: index of the first trial (its seed is --seed + N)"},
};
const size_t cli_nflags = sizeof cli_flags / sizeof cli_flags[0];

const cli_exit_code cli_exit_codes[] = {
    {EXIT_PASS, "pass: every trial passed (repro: the replay passed; shrink: the minimized "
                    "program was written and reproduces)"},
    {EXIT_FINDING, "finding: a trial failed (repro: the replay failed, i.e. reproduced; "
                       "shrink: the input does not reproduce)"},
    {EXIT_USAGE, "usage or input error: bad flag, malformed .scn (FILE:LINE:COL: message), "
                     "unknown scenario or mutant, a program the executor cannot run"},
    {EXIT_INTERNAL, "internal error: refstorm itself failed (worker could not start, I/O)"},
    {128 + 2, "interrupted by SIGINT: workers ended, finished findings kept, temporary files "
              "removed, the summary so far printed (143: SIGTERM; 141: stdout closed)"},
};
const size_t cli_nexit_codes = sizeof cli_exit_codes / sizeof cli_exit_codes[0];

_Static_assert(sizeof cli_flags / sizeof cli_flags[0] <= 64, "cli_opts.set has 64 entries");

void cli_opts_init(cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = MODE_DEFAULT;
    o->depth = 3;
    o->trials = 100;
    o->report_dir = "reports";
    o->selftest_crash = -1;
    o->selftest_hang = -1;
    o->result_fd = -1;
    o->seeds = 3;
    o->trial_budget = MUT_TRIAL_BUDGET;
}

const cli_flag *cli_flag_find(const char *name)
{
    for (size_t i = 0; i < cli_nflags; i++)
        if (strcmp(cli_flags[i].name, name) == 0)
            return &cli_flags[i];
    return NULL;
}

const cli_command *cli_command_find(const char *name)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}

bool cli_given(const cli_opts *o, const char *name)
{
    const cli_flag *f = cli_flag_find(name);
    return f && o->set[f - cli_flags];
}

static const char *cmd_name(cli_cmd c)
{
    for (size_t i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].cmd == c)
            return cli_commands[i].name;
    return "refstorm";
}

/* Store `val` (NULL for booleans) into the flag's field; -1 with a message. */
static int set_value(cli_opts *o, const cli_flag *f, const char *val, char *err, size_t n)
{
    char *field = (char *)o + f->offset;
    char *end;
    switch (f->kind) {
    case CLI_BOOL:
        *(bool *)field = true;
        return 0;
    case CLI_INT: {
        errno = 0;
        long long v = strtoll(val, &end, 10);
        if (!*val || *end || errno || v < f->lo || v > f->hi) {
            snprintf(err, n, "--%s: expected an integer %" PRId64 "..%" PRId64 ", got '%s'",
                     f->name, f->lo, f->hi, val);
            return -1;
        }
        *(int64_t *)field = v;
        return 0;
    }
    case CLI_U64: {
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        if (!*val || *end || errno || val[0] == '-' || val[0] == '+' || v < (uint64_t)f->lo ||
            v > (uint64_t)f->hi) {
            snprintf(err, n, "--%s: expected an integer %" PRId64 "..%" PRId64 ", got '%s'",
                     f->name, f->lo, f->hi, val);
            return -1;
        }
        *(uint64_t *)field = v;
        return 0;
    }
    case CLI_SECONDS: {
        errno = 0;
        double v = strtod(val, &end);
        if (!*val || *end || errno || !isfinite(v) || v <= 0 || v > (double)f->hi) {
            snprintf(err, n, "--%s: expected seconds > 0 and <= %" PRId64 ", got '%s'", f->name,
                     f->hi, val);
            return -1;
        }
        *(double *)field = v;
        return 0;
    }
    case CLI_STR:
        if (!*val) {
            snprintf(err, n, "--%s: empty value", f->name);
            return -1;
        }
        *(const char **)field = val;
        return 0;
    case CLI_MODE:
        if (mode_parse(val, (run_mode *)field) < 0) {
            snprintf(err, n, "--%s: unknown mode '%s' (%s)", f->name, val, mode_list());
            return -1;
        }
        return 0;
    case CLI_TORTURE:
        if (prog_torture_parse(val, strlen(val), (prog_torture *)field) < 0) {
            snprintf(err, n, "--%s: expected off, on or mixed, got '%s'", f->name, val);
            return -1;
        }
        return 0;
    case CLI_POINTS:
        if (prog_points_parse(val, (bool *)field) < 0) {
            snprintf(err, n, "--%s: expected named or all, got '%s'", f->name, val);
            return -1;
        }
        return 0;
    case CLI_STRLIST:
        if (!*val) {
            snprintf(err, n, "--%s: empty value", f->name);
            return -1;
        }
        if (o->nbugs >= CLI_MAX_BUGS) {
            snprintf(err, n, "--%s: at most %d", f->name, CLI_MAX_BUGS);
            return -1;
        }
        o->bugs[o->nbugs++] = val;
        o->bugs[o->nbugs] = NULL;
        return 0;
    }
    snprintf(err, n, "--%s: bad flag kind", f->name);
    return -1;
}

int cli_parse(int argc, char *const *argv, cli_opts *o, char *err, size_t n)
{
    cli_opts_init(o);
    o->argc = argc;
    o->argv = argv;
    err[0] = 0;
    int i = 1;
    if (i < argc && argv[i][0] != '-') {
        const cli_command *c = cli_command_find(argv[i]);
        if (!c) {
            snprintf(err, n, "unknown command '%s' (commands: " CLI_COMMAND_WORDS ")", argv[i]);
            return -1;
        }
        o->cmd = c->cmd;
        i++;
    }
    bool flags_done = false;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!flags_done && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (!flags_done && strcmp(a, "-h") == 0)
            a = "--help";
        if (!flags_done && a[0] == '-' && a[1] != 0) {
            if (a[1] != '-') {
                snprintf(err, n, "unknown option '%s' (flags are --name; see --help)", a);
                return -1;
            }
            const char *name = a + 2, *eq = strchr(name, '=');
            char key[64];
            size_t klen = eq ? (size_t)(eq - name) : strlen(name);
            if (klen >= sizeof key)
                klen = sizeof key - 1;
            memcpy(key, name, klen);
            key[klen] = 0;
            const cli_flag *f = cli_flag_find(key);
            if (!f) {
                if (o->cmd == CLI_CMD_NONE || o->cmd == CLI_CMD_HELP)
                    snprintf(err, n, "unknown option '--%s' (see refstorm --help)", key);
                else
                    snprintf(err, n, "unknown option '--%s' (see refstorm %s --help)", key,
                             cmd_name(o->cmd));
                return -1;
            }
            if (!(f->cmds & C(o->cmd))) {
                snprintf(err, n, "option '--%s' does not apply to '%s'", key,
                         o->cmd == CLI_CMD_NONE ? "refstorm without a command" : cmd_name(o->cmd));
                return -1;
            }
            const char *val = NULL;
            if (f->kind == CLI_BOOL) {
                if (eq) {
                    snprintf(err, n, "option '--%s' takes no value", key);
                    return -1;
                }
            } else if (eq) {
                val = eq + 1;
            } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) == 0) {
                /* no value of any flag starts with "--": the value was left out */
                snprintf(err, n, "option '--%s' needs a value %s (got the option '%s')", key,
                         f->meta, argv[i + 1]);
                return -1;
            } else if (i + 1 < argc) {
                val = argv[++i];
            } else {
                snprintf(err, n, "option '--%s' needs a value %s", key, f->meta);
                return -1;
            }
            size_t idx = (size_t)(f - cli_flags);
            if (o->set[idx] && f->kind != CLI_STRLIST) {
                snprintf(err, n, "option '--%s' given twice", key);
                return -1;
            }
            if (set_value(o, f, val, err, n) < 0)
                return -1;
            o->set[idx] = true;
            continue;
        }
        /* a positional argument */
        if (o->cmd == CLI_CMD_NONE) {
            snprintf(err, n, "unknown command '%s' (commands: " CLI_COMMAND_WORDS ")", a);
            return -1;
        }
        if (o->cmd == CLI_CMD_LIST || o->cmd == CLI_CMD_MUTANTS || o->target) {
            snprintf(err, n, "'%s': unexpected argument to %s", a, cmd_name(o->cmd));
            return -1;
        }
        o->target = a;
    }
    if (o->help)
        return 0;
    if (o->cmd == CLI_CMD_NONE) {
        snprintf(err, n, "no command given (commands: " CLI_COMMAND_WORDS ")");
        return -1;
    }
    if ((o->cmd == CLI_CMD_RUN || o->cmd == CLI_CMD_REPRO || o->cmd == CLI_CMD_WORKER ||
         o->cmd == CLI_CMD_SHRINK || o->cmd == CLI_CMD_IMPORT || o->cmd == CLI_CMD_ENCODE)
        && !o->target) {
        snprintf(err, n, "%s: missing %s", cmd_name(o->cmd),
                 cli_command_find(cmd_name(o->cmd))->args);
        return -1;
    }
    if (o->cmd == CLI_CMD_HELP && o->target && !cli_command_find(o->target)) {
        snprintf(err, n, "help: unknown command '%s'", o->target);
        return -1;
    }
    if (o->cmd == CLI_CMD_MUTANTS && o->variant && strcmp(o->variant, "asan") != 0 &&
        strcmp(o->variant, "tsan") != 0) {
        snprintf(err, n, "--variant: '%s' has no mutant subset (asan or tsan)", o->variant);
        return -1;
    }
    if (o->cmd == CLI_CMD_RUN && cli_given(o, "time") && !cli_given(o, "trials"))
        o->trials = INT64_MAX; /* unbounded: the time budget ends the run */
    if (o->cmd == CLI_CMD_WORKER && o->result_fd < 0) {
        snprintf(err, n, "worker: --result-fd is required");
        return -1;
    }
    return 0;
}

/* ---- help ---- */

static void flag_usage(char *buf, size_t n, const cli_flag *f)
{
    if (f->meta)
        snprintf(buf, n, "--%s %s", f->name, f->meta);
    else
        snprintf(buf, n, "--%s", f->name);
}

static void flag_cmds(char *buf, size_t n, const cli_flag *f)
{
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!(f->cmds & C(cli_commands[i].cmd)))
            continue;
        int w = snprintf(buf + len, n - len, "%s%s", len ? "," : "", cli_commands[i].name);
        if (w < 0 || (size_t)w >= n - len)
            break;
        len += (size_t)w;
    }
}

/* Print `text` wrapped at 100 columns; continuation lines are indented by `indent` spaces
 * (the first line is assumed to start at column `indent` already). */
static void wrap(FILE *f, const char *text, int indent)
{
    int col = indent;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        int w = (int)strcspn(p, " ");
        if (w == 0)
            break;
        if (col > indent && col + 1 + w > 100) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        }
        fprintf(f, "%s%.*s", col > indent ? " " : "", w, p);
        col += (col > indent ? 1 : 0) + w;
        p += w;
    }
    fputc('\n', f);
}

static void print_flags(FILE *f, cli_cmd only, bool debug)
{
    for (size_t i = 0; i < cli_nflags; i++) {
        const cli_flag *fl = &cli_flags[i];
        if (fl->debug != debug || (only != CLI_CMD_NONE && !(fl->cmds & C(only))))
            continue;
        if (!debug && strcmp(fl->name, "help") == 0)
            continue;
        char u[48], cmds[64];
        flag_usage(u, sizeof u, fl);
        flag_cmds(cmds, sizeof cmds, fl);
        if (only == CLI_CMD_NONE) {
            fprintf(f, "  %-22s %-18s ", u, cmds);
            wrap(f, fl->help, 2 + 22 + 1 + 18 + 1);
        } else {
            fprintf(f, "  %-22s ", u);
            wrap(f, fl->help, 2 + 22 + 1);
        }
    }
}

void cli_help(FILE *f, cli_cmd cmd)
{
    if (cmd != CLI_CMD_NONE) {
        const cli_command *c = cli_command_find(cmd_name(cmd));
        fprintf(f, "usage: refstorm %s %s%s[options]\n\n", c->name, c->args, *c->args ? " " : "");
        wrap(f, c->help, 0);
        fprintf(f, "\noptions:\n");
        print_flags(f, cmd, false);
        print_flags(f, cmd, true);
        fprintf(f, "  %-22s %s\n", "--help, -h", "print this help");
        return;
    }
    fprintf(f, "refstorm — concurrency stress tester for a free-threaded refcounting + GC "
               "runtime\n\nusage:\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        if (!c->internal)
            fprintf(f, "  refstorm %s%s%s%s\n", c->name, *c->args ? " " : "", c->args,
                    c->cmd == CLI_CMD_RUN || c->cmd == CLI_CMD_REPRO || c->cmd == CLI_CMD_SHRINK ||
                            c->cmd == CLI_CMD_MUTANTS
                        ? " [options]" : "");
    }
    fprintf(f, "\ncommands:\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (cli_commands[i].internal)
            continue;
        fprintf(f, "  %-7s ", cli_commands[i].name);
        wrap(f, cli_commands[i].help, 10);
    }
    fprintf(f, "\noptions (and the commands that take them):\n");
    print_flags(f, CLI_CMD_NONE, false);
    fprintf(f, "  %-22s %-18s %s\n", "--help, -h", "all", "print help and exit 0");
    fprintf(f, "\n");
    wrap(f, "seeds: trial i of a run uses scheduler seed SEED+i, so `repro` (or `run --seed "
            "SEED+i --trials 1`) replays trial i alone.", 0);
    fprintf(f, "\nexit codes:\n");
    for (size_t i = 0; i < cli_nexit_codes; i++) {
        fprintf(f, "  %d  ", cli_exit_codes[i].code);
        wrap(f, cli_exit_codes[i].meaning, 5);
    }
    fprintf(f, "\ndebugging (for refstorm's own tests):\n");
    print_flags(f, CLI_CMD_NONE, true);
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!cli_commands[i].internal)
            continue;
        fprintf(f, "  %-22s %-18s ", cli_commands[i].name, "(command)");
        wrap(f, cli_commands[i].help, 2 + 22 + 1 + 18 + 1);
    }
}

/* text inside a Markdown table cell: a '|' would end the cell */
static void md_cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', f);
        fputc(*s, f);
    }
}

static void md_flag_rows(FILE *f, bool debug)
{
    fprintf(f, "| flag | commands | meaning |\n|---|---|---|\n");
    for (size_t i = 0; i < cli_nflags; i++) {
        const cli_flag *fl = &cli_flags[i];
        if (fl->debug != debug)
            continue;
        char u[48], cmds[64];
        flag_usage(u, sizeof u, fl);
        flag_cmds(cmds, sizeof cmds, fl);
        if (fl->cmds == ALLCMDS)
            snprintf(cmds, sizeof cmds, "all");
        fprintf(f, "| `%s` | %s | ", u, cmds);
        md_cell(f, fl->help);
        fprintf(f, " |\n");
    }
}

void cli_markdown(FILE *f)
{
    fprintf(f, "| command | what it does |\n|---|---|\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        fprintf(f, "| `refstorm %s%s", c->name, *c->args ? " " : "");
        md_cell(f, c->args);
        fprintf(f, "` | ");
        md_cell(f, c->help);
        fprintf(f, " |\n");
    }
    fprintf(f, "\n");
    md_flag_rows(f, false);
    fprintf(f, "\nSeeds: trial i of a run uses scheduler seed SEED+i, so `repro` (or `run --seed "
               "SEED+i --trials 1`) replays trial i alone.\n\nDebugging flags (used by "
               "`tests/e2e/cli.sh` to make the supervisor's failure paths happen on "
               "purpose):\n\n");
    md_flag_rows(f, true);
    fprintf(f, "\nExit codes:\n\n| code | meaning |\n|---|---|\n");
    for (size_t i = 0; i < cli_nexit_codes; i++)
        fprintf(f, "| %d | %s |\n", cli_exit_codes[i].code, cli_exit_codes[i].meaning);
}

void cli_program_overrides(const cli_opts *o, program *p)
{
    if (cli_given(o, "points"))
        p->opt.auto_points = o->auto_points;
    if (cli_given(o, "torture"))
        p->opt.torture = o->torture;
}
