/* report.h — finding folders and what goes into them.
 *
 * A finding is written to <root>/<finding-id>/ with report.json (machine readable, via
 * jansson), report.md (for a person: verdict, check or sanitizer headline, the threads and
 * ops involved, the exact replay command), repro.scn (the program, with the run's mutants
 * folded in), trace.txt (pct only), sanitizer.log (the worker's raw stderr) and, for hangs,
 * thread_dump.txt.  Every file is written atomically (temp file, fsync, rename, fsync of the
 * directory) and the folder itself is built under a temporary name and renamed into place,
 * so a reader never sees a half-written finding, even if refstorm is killed mid-write.
 */
#ifndef RS_REPORT_H
#define RS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "program.h"
#include "vocab.h"

#define REPORT_FORMAT_VERSION 1

typedef struct report_finding {
    const char *run_id, *finding_id;
    verdict verdict;             /* a finding: crash, sanitizer, invariant, hang, leak */
    const char *check;           /* "SIGSEGV", "asan", "H1", "leak", "watchdog", ... */
    const char *message;         /* one line */
    const char *headline;        /* sanitizer headline or rs_fatal line, NULL if none */
    const char *scenario;        /* the program's name */
    const char *source;          /* the file the run read */
    const program *prog;         /* the program as run (mutants already folded in) */
    run_mode mode;
    int depth;
    uint64_t seed, trial;
    int exit_status;             /* worker exit status, -1 if killed by a signal or alive */
    int signal;                  /* signal that killed the worker, 0 if none */
    int thread;                  /* thread index involved, -1 if unknown */
    int64_t op_index;            /* op index in that thread, -1 if unknown */
    int64_t leaked_blocks, leaked_reftotal;
    uint64_t ops_run;
    double seconds;
    const char *trace_text;      /* pct trace ("step:thread ..."), NULL otherwise */
    const char *sanitizer_log;   /* the worker's stderr */
    size_t sanitizer_log_len;
    const char *thread_dump;     /* hang: per-thread state, NULL otherwise */
    const char *op_log;          /* NULL unless recorded */
    int64_t selftest_crash;      /* -1, or 0: the trial was crashed on purpose (repro redoes it) */
    int64_t selftest_hang;       /* likewise for a forced hang */
    const char *argv0;           /* how to call refstorm in the replay command */
    const char *command;         /* the run's whole command line (shell-quoted), or NULL */
} report_finding;

/* jansson flag for every JSON a person or a tool reads (report.json, --json lines, the
 * scoreboard): reals with 6 significant digits ("0.00517702", not 0.0051770219999999999) */
#define REPORT_JSON_REALS JSON_REAL_PRECISION(6)

/* report.json's content (caller json_decref's it); NULL on allocation failure. */
json_t *report_finding_json(const report_finding *f, const char *dir);
/* Render op k of thread t as .scn text ("drop r0"); "?" if out of range. */
void report_op_text(const program *p, int t, int64_t k, char *buf, size_t n);
/* argv[0..argc) joined with spaces, each word single-quoted when it needs it (malloc'd). */
char *report_shell_join(int argc, char *const *argv);
/* Write the folder root/<finding_id>/ (root is created if missing).  The final path goes to
 * out.  -1 on failure (nothing is left behind under the final name; errno set). */
int report_write_finding(const char *root, const report_finding *f, char *out, size_t n);

/* Can findings be written under dir?  Creates and removes one probe file in dir, or — when
 * dir does not exist yet — in the nearest folder above it that does (nothing is created that
 * stays).  0, or -1 with errno set (ENOTDIR when a path component is a file). */
int report_dir_writable(const char *dir);

/* Remove the `.tmp-<finding>-XXXXXX` folders that a write interrupted by kill -9 left in the run
 * folders of report_dir, those last changed before `before` (a live process's write is newer),
 * and a run folder left empty by that.  Returns how many were removed. */
int report_sweep_stale(const char *report_dir, time_t before);

#endif
