/* session.h — what `run` and `repro` share: one session drives supervised workers over a
 * range of trials (supervise.h) and turns each trial into output: a JSON line (--json), a
 * progress line on stderr at most once a second, a finding folder (report.h) with the exact
 * replay command. */
#ifndef RS_SESSION_H
#define RS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "program.h"
#include "supervise.h"

typedef struct session {
    const cli_opts *o;
    bool repro;
    const char *argv0;
    char *command;             /* the command line, for reports */
    const char *source;        /* the .scn file */
    program prog;              /* with the command line's mutants folded in (for repro.scn) */
    run_mode mode;
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

/* A new run id (UTC time and pid) and its folder name under report_dir, into s. */
/* A new run id and folder name under report_dir; -1 (message printed) if findings could not be
 * written there. */
int session_new_run(session *s, const char *report_dir);

/* Write text to a new temporary file $TMPDIR/refstorm-<what>-XXXXXX<suffix>; path gets its
 * name ("" on failure, message printed).  0 or -1. */
int session_write_temp(const char *what, const char *suffix, const char *text, char *path,
                       size_t n);
/* Fold the command line's --bug names into the program; -1 (message printed) on a bad name. */
int session_add_bugs(program *p, const char *const *bugs);
/* Parse a .scn file into p; -1 with the file:line:col message printed. */
int session_load_program(const char *path, program *p);
/* The supervisor's watchdog for one trial: --watchdog, or the program's timeout + 10 s. */
double session_watchdog(const cli_opts *o, const program *p);
/* Run trials [0, trials) with as many workers as findings need.  Returns an exit code. */
int session_drive(session *s, uint64_t trials, double time_s, double watchdog_s,
                  const char *trace_file, const char *const *bugs);

#endif
