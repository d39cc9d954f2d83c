/* vocab.h — the words every stage of the harness shares, each kept once: the scheduling mode,
 * the verdict of a trial, the exit statuses, and the build variant of this binary.  Each is an enum inside the
 * harness; its word appears only where a person or a file reads it, through the functions
 * below (parsed once on input, printed once on output). */
#ifndef RS_BASE_VOCAB_H
#define RS_BASE_VOCAB_H

#include <stdbool.h>

/* ---- scheduling modes (modes.def) ---- */
typedef enum run_mode {
#define MODE(id, word, help) MODE_##id,
#include "modes.def"
#undef MODE
    MODE__COUNT
} run_mode;
#define MODE_DEFAULT MODE_FREE

const char *mode_name(run_mode m);  /* "free", "chaos", "pct"; "?" out of range */
const char *mode_help(run_mode m);
/* 0 and *out set if word names a mode, else -1 */
int mode_parse(const char *word, run_mode *out);
/* "free, chaos, pct" (for messages) */
const char *mode_list(void);

/* ---- verdicts ----
 * What one trial came to.  pass and error are not findings: error means the program could not
 * run here (an op this runtime lacks, an unknown mutant), never that the runtime misbehaved. */
#define VERDICTS(X)                                                                            \
    X(PASS, "pass")           /* every check held */                                           \
    X(INVARIANT, "invariant") /* a runtime validator or a scenario oracle failed */            \
    X(CRASH, "crash")         /* a signal killed the worker */                                 \
    X(SANITIZER, "sanitizer") /* an ASan/UBSan/TSan/LSan report */                             \
    X(HANG, "hang")           /* the watchdog fired, or every pct thread was blocked */        \
    X(LEAK, "leak")           /* blocks or the reference total not zero at shutdown */         \
    X(ERROR, "error")         /* the program cannot run here */

typedef enum verdict {
#define VERDICT_ENUM_(id, word) VERDICT_##id,
    VERDICTS(VERDICT_ENUM_)
#undef VERDICT_ENUM_
    VERDICT__COUNT
} verdict;

const char *verdict_name(verdict v);  /* "pass", "invariant", ...; "?" out of range */
int verdict_parse(const char *word, verdict *out); /* 0, or -1 if unknown */
static inline bool verdict_is_finding(verdict v)
{
    return v != VERDICT_PASS && v != VERDICT_ERROR;
}

/* ---- exit statuses of refstorm and of its workers (the CLI's table describes them) ---- */
enum {
    EXIT_PASS = 0,     /* every trial passed / the replay passed */
    EXIT_FINDING = 1,  /* at least one finding / the replay reproduced a failure */
    EXIT_USAGE = 2,    /* bad command line, malformed .scn, unknown name, unrunnable program */
    EXIT_INTERNAL = 3, /* refstorm itself failed (worker could not start, I/O error, ...) */
};

/* ---- the build variant ---- */
/* What this binary was compiled as: "asan", "tsan", "release", "debug" (or "unknown"). */
const char *build_variant(void);

#endif
