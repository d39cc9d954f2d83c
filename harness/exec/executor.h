/* executor.h — runs one program against the runtime under one scheduler, in this process,
 * and returns a verdict.  The executor is the only code in refstorm that creates threads.
 *
 * One trial: rs_runtime_init with the program's options and bugs; start the program's threads
 * (a pool of OS threads may be reused across trials); each thread binds/attaches as its start
 * mode says and runs its ops; validators run at stop-the-world points every `check_rate`-th
 * time and at the end; the runtime is shut down and its leak figures checked.  Crashes and
 * sanitizer reports kill the process: the supervisor (worker.c / the CLI) turns those into
 * verdicts from the child's exit status and stderr.  Hangs are declared by the watchdog. */
#ifndef RS_EXECUTOR_H
#define RS_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "vocab.h"

typedef struct exec_config {
    run_mode mode;             /* MODE_FREE (0) unless set */
    uint64_t seed;             /* scheduler seed (the program's own seed fixes its content) */
    int depth;                 /* pct depth d */
    uint32_t timeout_ms;       /* watchdog; 0: the program's timeout_ms, else a default */
    const char *replay_trace;  /* pct trace text to replay, or NULL */
    const char *const *bugs;   /* extra mutants to switch on (besides the program's), NULL-ended */
    bool op_log;               /* record "thread:op_index" of every op in order (pct: exact) */
    bool hang_abort;           /* the watchdog ends the process with abort() (SIGABRT, which a
                                * fuzzer keeps as a crash) instead of EXEC_HANG_EXIT_STATUS */
} exec_config;

typedef struct exec_result {
    verdict verdict;
    char check[16];            /* the invariant or check that failed ("H1", "RT", "leak", ...) */
    char message[512];         /* one line a person can read */
    int thread;                /* thread index involved, -1 if none */
    int64_t op_index;          /* op index in that thread, -1 if none */
    int64_t leaked_blocks;
    int64_t leaked_reftotal;
    uint64_t ops_run;
    double seconds;
    char *trace;               /* pct trace text (malloc'd) or NULL */
    char *op_log;              /* malloc'd text or NULL */
    char *thread_dump;         /* hang: per-thread current op, schedule point, backtrace */
} exec_result;

/* Hang: the watchdog writes a block to stderr and ends the process with this status (the
 * process may be wedged: threads stuck inside the runtime).  The block, line by line:
 *     ==refstorm-hang-begin==
 *     verdict hang
 *     timeout_ms <ms> elapsed_ms <ms> program "<name>" mode <mode> seed <seed>
 *     thread <i> op <index|-1|end> "<op text>" point <last schedule point|-> wait <0|1> done <0|1>
 *     ...                                  (one line per program thread)
 *     backtrace <i>                        (then the frames of thread i, one per line,
 *     ...                                   as backtrace_symbols_fd prints them, or
 *     backtrace <i> unavailable             when the thread did not answer the signal)
 *     ==refstorm-hang-end==
 * Backtraces are taken by the thread itself in a SIGURG handler (backtrace(3) from
 * <execinfo.h>); the watchdog signals one thread at a time and waits 200 ms for each. */
/* When a trial dies instead (a fatal signal, or a sanitizer ending the process after its
 * report), the dying thread first writes the blame block to stderr:
 *     ==refstorm-blame-begin==
 *     blame thread <i> op <k>              (the thread that died and its op; absent if the
 *                                           death was not on a program thread)
 *     ops_run <n> elapsed_ms <ms>
 *     thread <i> op ...                    (one line per thread, as in the hang block)
 *     ==refstorm-blame-end==                                                                */
#define EXEC_BLAME_BEGIN "==refstorm-blame-begin=="
#define EXEC_BLAME_END "==refstorm-blame-end=="
#define EXEC_HANG_EXIT_STATUS 86
#define EXEC_HANG_BEGIN "==refstorm-hang-begin=="
#define EXEC_HANG_END "==refstorm-hang-end=="

/* Run one trial (one at a time per process: not reentrant).  Returns 0 when a verdict was produced (see res->verdict), -1 on an internal
 * error (message in res->message). */
int exec_run(const program *p, const exec_config *cfg, exec_result *res);
void exec_result_free(exec_result *res);

#endif
