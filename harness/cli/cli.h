/* cli.h — the command line of refstorm as data: one table of subcommands, one table of flags
 * and one table of exit codes.  The parser, the `--help` text and the README's CLI section
 * (`refstorm help --markdown`) are all produced from these tables, so they cannot disagree.
 *
 * A flag belongs to a set of subcommands; it is written `--name VALUE` or `--name=VALUE`
 * (booleans take no value) and parsed into one field of cli_opts, found through the table's
 * offset.  Debugging flags (used by the tests to make the supervisor's failure paths happen
 * on purpose) are listed in their own section of the help.  Parsing never exits: it returns
 * -1 with a message, and the caller exits with EXIT_USAGE. */
#ifndef RS_CLI_H
#define RS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "program.h"
#include "vocab.h"

typedef enum cli_cmd {
    CLI_CMD_NONE = 0, CLI_CMD_HELP, CLI_CMD_LIST, CLI_CMD_RUN, CLI_CMD_REPRO, CLI_CMD_WORKER,
    CLI_CMD_MUTANTS, /* scoreboard: mutants.c */
    CLI_CMD_SHRINK,  /* minimal reproducer: shrink.c */
    CLI_CMD_IMPORT, CLI_CMD_ENCODE, /* the fuzzer's inputs: cmd_fuzz.c */
    CLI_CMD__COUNT
} cli_cmd;

typedef enum cli_kind {
    CLI_BOOL, CLI_INT, CLI_U64, CLI_SECONDS, CLI_STR, CLI_STRLIST,
    CLI_MODE,    /* a word of base/modes.def, into a run_mode */
    CLI_TORTURE, /* off|on|mixed, into a prog_torture */
    CLI_POINTS,  /* named|all, into a bool (auto_points) */
} cli_kind;

#define CLI_MAX_BUGS PROG_MAX_BUGS
/* mutants: the default trials per mutant and seed; the most any mutant needed over 20 seeds
 * was 31 (docs/scoreboard.md has the current figures) */
#define MUT_TRIAL_BUDGET 2000
#define CLI_STRINGIFY_(x) #x
#define CLI_STRINGIFY(x) CLI_STRINGIFY_(x)

/* Every parsed value.  Defaults come from cli_opts_init; `set` tells which flags were given. */
typedef struct cli_opts {
    cli_cmd cmd;
    const char *target;       /* run/repro/worker/shrink: FILE.scn, SCENARIO or FINDING_DIR;
                                 help: CMD */
    run_mode mode;            /* MODE_DEFAULT */
    int64_t depth;            /* pct depth, 3 */
    uint64_t seed;            /* 0 unless set (run: defaults to the program's seed) */
    int64_t threads;          /* scenarios only */
    uint64_t trials;          /* 100 unless --time is given (then unbounded) */
    double time_s;            /* 0: no time budget */
    double watchdog_s;        /* 0: the program's timeout + 10 s */
    const char *bugs[CLI_MAX_BUGS + 1]; /* NULL-terminated */
    int64_t nbugs;
    const char *report_dir;   /* "reports" */
    bool json, quiet, markdown, help;
    const char *trace;        /* repro/worker: pct trace file */
    int64_t selftest_crash;   /* -1: off; else the trial index that raises SIGSEGV */
    int64_t selftest_hang;    /* -1: off; else the trial index that sleeps forever */
    int64_t result_fd;        /* worker: where trial results go */
    uint64_t first_trial;     /* worker: index of its first trial */
    int64_t seeds;            /* mutants: seeds per mutant (3) */
    uint64_t trial_budget;    /* mutants: trials per mutant and seed (MUT_TRIAL_BUDGET) */
    const char *variant;      /* mutants: "asan" or "tsan" subset; NULL: both, merged */
    const char *force_bug;    /* mutants: a mutant left on in every run, the clean row too */
    const char *extra_scn;    /* mutants: a .scn run as one more scenario of every row */
    const char *only;         /* mutants: the one mutant to run (NULL: all) */
    prog_torture torture;     /* run, mutants: for generated programs, when given */
    bool auto_points;         /* run, mutants: --points all|named, when given */
    int64_t tries;            /* shrink: trials per candidate (0: 1 in pct, 5 otherwise) */
    const char *out;          /* shrink: where the minimized .scn goes (NULL: the default) */
    bool set[64];             /* set[i]: flag i of cli_flags was given */
    int argc;                 /* the command line as given (borrowed), for reports */
    char *const *argv;
} cli_opts;

typedef struct cli_flag {
    const char *name;         /* without the leading "--" */
    const char *meta;         /* value placeholder, NULL for booleans */
    cli_kind kind;
    unsigned cmds;            /* bit (1u << cli_cmd) for every subcommand that takes it */
    bool debug;               /* listed under "Debugging" */
    size_t offset;            /* field in cli_opts */
    int64_t lo, hi;           /* accepted range (INT, U64 and SECONDS) */
    const char *help;
} cli_flag;

typedef struct cli_command {
    cli_cmd cmd;
    const char *name;
    const char *args;         /* positional synopsis */
    bool internal;            /* started by refstorm itself */
    const char *help;
} cli_command;

typedef struct cli_exit_code { int code; const char *meaning; } cli_exit_code;

extern const cli_flag cli_flags[];
extern const size_t cli_nflags;
extern const cli_command cli_commands[];
extern const size_t cli_ncommands;
extern const cli_exit_code cli_exit_codes[];
extern const size_t cli_nexit_codes;

void cli_opts_init(cli_opts *o);
/* Parse argv[1..argc).  0 on success; -1 with a one-line message in err on a usage error. */
int cli_parse(int argc, char *const *argv, cli_opts *o, char *err, size_t n);
/* true if the flag named `name` was given on the command line */
bool cli_given(const cli_opts *o, const char *name);
/* The row of a flag or a subcommand by name, or NULL. */
const cli_flag *cli_flag_find(const char *name);
const cli_command *cli_command_find(const char *name);

/* `refstorm --help` (cmd == CLI_CMD_NONE) or `refstorm CMD --help`. */
void cli_help(FILE *f, cli_cmd cmd);
/* The README's CLI section (Markdown). */
void cli_markdown(FILE *f);

/* --points and --torture, when given, applied to a generated program */
void cli_program_overrides(const cli_opts *o, program *p);

#endif
