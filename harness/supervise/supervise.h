/* supervise.h — the supervisor: runs trials in worker processes and turns how each trial
 * ended into a trial result.
 *
 * A crash, an abort or a sanitizer report kills the process it happens in, so trials never
 * run in the process that keeps the books.  The supervisor starts a worker with fork+exec of
 * /proc/self/exe (`refstorm worker ...`, worker.h; ThreadSanitizer does not support fork
 * without exec) with its stderr sent to a log file and a pipe for results.  The worker runs
 * trials one after another through exec_run and writes one JSON line per trial to the pipe;
 * it exits after the first failing trial.  The supervisor turns what it sees into trial
 * results: the worker's own lines, or, when the worker dies or stalls before reporting a
 * trial, a verdict made from its exit status, signal and stderr (sanitizer headline, the
 * runtime's fatal line; classify.c) or from the watchdog. */
#ifndef RS_SUPERVISE_H
#define RS_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vocab.h"

/* The executor's watchdog for a program that sets no timeout_ms; the supervisor's own
 * watchdog (--watchdog) defaults to the program's timeout (or this) + 10 s, a backstop for a
 * worker so stuck that the executor cannot report. */
#define WORKER_DEFAULT_TIMEOUT_MS 10000u

/* One trial as the supervisor sees it. */
typedef struct trial_result {
    uint64_t trial, seed;
    verdict verdict;
    char check[32];          /* "H1", "leak", "asan", "SIGSEGV", "watchdog", ... */
    char message[512];
    char headline[256];      /* sanitizer headline or rs_fatal line; "" if none */
    int thread;
    int64_t op_index;
    int64_t leaked_blocks, leaked_reftotal;
    uint64_t ops_run;
    double seconds;
    char *trace;             /* pct trace text, malloc'd, or NULL */
    char *thread_dump;       /* malloc'd or NULL */
    char *op_log;            /* malloc'd or NULL */
    bool from_worker;        /* the worker reported it (false: inferred by the supervisor) */
    int exit_status;         /* the worker's exit status if this trial ended it, else -1 */
    int signal;              /* the signal that killed the worker, else 0 */
    char *log;               /* findings only: the worker's stderr (malloc'd) */
    size_t log_len;
} trial_result;

void trial_result_free(trial_result *r);
/* true for the verdicts that are findings (not pass, not error) */
static inline bool trial_is_finding(const trial_result *r) { return verdict_is_finding(r->verdict); }

typedef struct worker_spec {
    const char *file;         /* the .scn the worker runs */
    run_mode mode;
    int depth;
    uint64_t seed;            /* trial i uses seed + i */
    const char *const *bugs;  /* extra mutants, NULL-terminated (may be NULL) */
    const char *trace_file;   /* pct replay, or NULL */
    int64_t selftest_crash;   /* absolute trial index or -1 */
    int64_t selftest_hang;
    double watchdog_s;        /* per trial */
    double time_left_s;       /* worker_batch: 0, or the worker starts no trial after this */
    const char *log_path;     /* worker_batch: where the worker's output goes (truncated) */
} worker_spec;

/* Interruption.  supervise_signals_install() makes SIGINT, SIGTERM and SIGPIPE set a flag
 * instead of ending the process.  worker_batch and worker_run then kill their worker, leave
 * the trial in progress out (it did not finish: neither a pass nor a finding; a finding the
 * worker had already reported is still delivered), remove their temporary files, start no
 * other worker and return what finished.  supervise_interrupted() is that signal, 0 if none:
 * the command ends with its summary so far and exit status 128 + signal. */
void supervise_signals_install(void);
int supervise_interrupted(void);

/* Called for each trial, in order; a finding is delivered after the worker has exited (so
 * its log is complete).  The callback may keep nothing it does not copy.  A non-zero return
 * stops worker_run before it starts another worker. */
typedef int (*trial_fn)(void *ctx, trial_result *r);
/* Called about once a second while the worker runs (progress lines). */
typedef void (*tick_fn)(void *ctx);

/* Run trials [first, first + count) in one worker.  Returns the number of trials delivered
 * (the worker stops after a finding, or when time_left_s runs out), or -1 on an internal
 * error (message in err: the worker could not start, or exited 2/3 with its stderr tail). */
int64_t worker_batch(const worker_spec *ws, uint64_t first, uint64_t count, trial_fn fn,
                     tick_fn tick, void *ctx, char *err, size_t n);

/* Run trials [0, trials): one worker after another, a new one after each finding, until
 * every trial ran, time_s (if > 0) ran out, or fn asked to stop.  ws->time_left_s and
 * ws->log_path are filled in here (the log lives in a temporary directory).  Returns the
 * number of trials delivered, or -1 on an internal error (message in err). */
int64_t worker_run(const worker_spec *ws, uint64_t trials, double time_s, trial_fn fn,
                   tick_fn tick, void *ctx, char *err, size_t n);

/* ---- classify.c: how a worker ended ---- */

/* The verdict of a trial the worker never reported, from how the worker ended: `status` as
 * waitpid gives it, `hung` if the supervisor's watchdog killed it, its log (the executor's
 * own watchdog ends the worker with a hang block, see executor.h).  Fills verdict, check,
 * message, headline, exit_status, signal, thread/op_index and thread_dump (malloc'd); returns
 * -1 if the end is an internal error of refstorm (the worker exited 2 or 3 by itself) rather
 * than a finding. */
int worker_classify_end(int status, bool hung, const char *log, size_t log_len,
                        trial_result *r);

/* The first sanitizer headline of a log. */
typedef struct sanitizer_headline {
    char kind[8];        /* "asan", "tsan", "ubsan", "lsan", "msan" ("" when none) */
    char text[256];      /* e.g. "AddressSanitizer: heap-use-after-free on address 0x6020..." */
    bool deadly_signal;  /* the sanitizer reports a signal ("SEGV on unknown address") */
    char signal[12];     /* then its name, e.g. "SIGSEGV" */
} sanitizer_headline;

/* Find the first headline in log[0..len).  Returns true and fills *h if one was found. */
bool log_sanitizer_headline(const char *log, size_t len, sanitizer_headline *h);
/* Copy the runtime's "refstorm runtime fatal error: ..." or "... assertion failed: ..." line
 * (without the newline) into out; false if the log has none. */
bool log_fatal_line(const char *log, size_t len, char *out, size_t n);

#endif
