/* worker.h — `refstorm worker`, the child side of the supervisor (supervise.h).
 *
 * Protocol: the supervisor spawns `/proc/self/exe worker FILE --result-fd FD --first-trial F
 * --trials N --seed S --mode M ...` with stdout and stderr redirected to a log file and FD the
 * write end of a pipe.  The worker writes one compact JSON object per trial, one per line
 * (fields of trial_result), and exits 0 when its trials are done, 1 right after a failing
 * trial, 2 on bad input, 3 on an internal error.  The trial in progress is always
 * first + (lines received): when the worker dies without reporting it (signal, sanitizer
 * exit, or killed by the watchdog), that trial is the finding.
 *
 * The sanitizers are told to stop at their first report (halt_on_error=1 appended to the
 * caller's options), so a report always ends the trial that caused it; TSan does not sleep a
 * second at exit (atexit_sleep_ms=0 put before the caller's options, which may override it). */
#ifndef RS_WORKER_H
#define RS_WORKER_H

#include <stdint.h>

#include "vocab.h"

/* What the command line of `refstorm worker` says (the CLI fills it in). */
typedef struct worker_args {
    const char *file;          /* the .scn to run */
    int result_fd;             /* where trial results go */
    uint64_t first_trial;      /* index of its first trial */
    uint64_t trials;
    uint64_t seed;             /* trial i runs with seed + i */
    run_mode mode;
    int depth;
    const char *const *bugs;   /* extra mutants, NULL-terminated (may be NULL) */
    const char *trace;         /* pct trace file to replay, or NULL */
    double time_s;             /* 0, or start no trial after this many seconds */
    int64_t selftest_crash;    /* -1, or the trial index that raises SIGSEGV */
    int64_t selftest_hang;     /* -1, or the trial index that sleeps forever */
} worker_args;

/* The worker's main.  Returns the process exit status: EXIT_PASS every trial passed,
 * EXIT_FINDING a trial failed, EXIT_USAGE bad input, EXIT_INTERNAL an internal error. */
int worker_main(const worker_args *a);

#endif
