/* program.h — the program: the one intermediate form every source of work (scenario
 * generators, libFuzzer bytes, .scn text) produces and the executor runs.
 *
 * A program is a format version, a name, options (runtime options and harness options), a
 * list of mutant names to switch on, and 1..64 threads.  Thread t0 is the main thread (bound
 * and attached when the program starts); every other thread has a start mode (early, late,
 * attach) and is started either at program start (auto) or by a `spawn` op of another thread.
 * A thread is a straight list of ops from harness/ops.def.  Registers r0..r15 are per thread
 * and hold strong references (or null); mailboxes m0..m7 are global and hand references
 * between threads; roots g0..g7 and late roots l0..l7 are the runtime's root slots.
 *
 * This module is pure data: it knows the op table, builds programs in code, compares and
 * copies them, and validates them (ranges, thread references, each thread's state machine,
 * spawn/join reachability).  Of the runtime it knows only the table of fault sites (rs/debug.h),
 * which `fail_alloc_at` must name.  .scn text lives in scn.h.
 *
 * Memory: a program owns everything it points to; program_free() releases it.  Every
 * function that fails returns -1 (or false/NULL) and leaves the program unchanged. */
#ifndef RS_PROGRAM_H
#define RS_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ops.def" /* the PROG_ENUMSET_* lists only (PROG_OP is not defined here) */

#define PROG_FORMAT_VERSION 1
#define PROG_MAX_THREADS 64
#define PROG_NREGS 16
#define PROG_NSLOTS 8      /* container slot indexes 0..7 */
#define PROG_NMAILBOXES 8
#define PROG_NROOTS 8
#define PROG_NLATE_ROOTS 8
#define PROG_MAX_ARGS 4
#define PROG_MAX_OPS 1000000  /* per thread */
#define PROG_MAX_BUGS 64
#define PROG_NAME_MAX 256     /* bytes of a program name (UTF-8, no control chars but \n \t) */
#define PROG_WORD_MAX 64      /* bytes of a bug name or a site name */
#define PROG_MAX_FRAMES 64    /* frames a thread may have pushed at once */
#define PROG_FRAME_LOCALS 8   /* local_store indexes 0..7 */
#define PROG_FRAME_STACK 8    /* stack references per frame */
#define PROG_MAX_CREFS 16     /* C-stack references a thread may hold at once */

typedef enum prog_opcode {
#define PROG_OP(id, ...) PROG_OP_##id,
#include "ops.def"
    PROG_OP__COUNT
} prog_opcode;

#define PROG_X_(set, id) PROG_##set##_##id,
#define PROG_X_FIN_(id, word) PROG_X_(FIN, id)
#define PROG_X_FLKIND_(id, word) PROG_X_(FLKIND, id)
#define PROG_X_WRCB_(id, word) PROG_X_(WRCB, id)
typedef enum prog_fin { PROG_ENUMSET_FIN(PROG_X_FIN_) } prog_fin;
typedef enum prog_flkind { PROG_ENUMSET_FLKIND(PROG_X_FLKIND_) } prog_flkind;
typedef enum prog_wrcb { PROG_ENUMSET_WRCB(PROG_X_WRCB_) } prog_wrcb;
#undef PROG_X_FIN_
#undef PROG_X_FLKIND_
#undef PROG_X_WRCB_
#undef PROG_X_

typedef enum prog_enumset { PROG_ESET_NONE, PROG_ESET_FIN, PROG_ESET_FLKIND, PROG_ESET_WRCB } prog_enumset;

typedef enum prog_argkind {
    PROG_ARG_NONE, PROG_ARG_REG, PROG_ARG_SLOT, PROG_ARG_INT, PROG_ARG_THR, PROG_ARG_MBOX,
    PROG_ARG_ROOT, PROG_ARG_LROOT, PROG_ARG_ENUM, PROG_ARG_SITE
} prog_argkind;

/* what state an op needs (the NEED column of ops.def) */
typedef enum prog_need { PROG_NEED_ANY, PROG_NEED_ATT, PROG_NEED_CTL } prog_need;

typedef struct prog_argspec {
    prog_argkind kind;
    const char *name;   /* for synopses and messages */
    int32_t lo, hi;     /* accepted values (ENUM: 0..words-1; SITE: unused) */
    prog_enumset set;   /* ENUM only */
} prog_argspec;

typedef struct prog_opinfo {
    const char *name;
    prog_need need;
    int nargs;
    prog_argspec arg[PROG_MAX_ARGS];
    const char *doc;
} prog_opinfo;

/* The letter that starts an argument of this kind in text ('r', 't', 'm', 'g', 'l'), or 0
 * for kinds written without one (slots, integers, enum words, sites). */
char prog_arg_prefix(prog_argkind kind);
/* The table row of an op, or NULL if op is not a valid opcode. */
const prog_opinfo *prog_op_info(int op);
/* The opcode named `word` (len bytes, not NUL-terminated), or -1. */
int prog_op_lookup(const char *word, size_t len);
/* The words of an enum set and their count; prog_enum_lookup returns the value or -1. */
const char *const *prog_enum_words(prog_enumset set, int *count);
int prog_enum_lookup(prog_enumset set, const char *word, size_t len);
/* Writes the op's synopsis, e.g. "new_container r<dst> <slots 1..8>" (truncated to n). */
void prog_op_synopsis(int op, char *buf, size_t n);

/* Offset of the first byte of s[0..len) that is not valid UTF-8 or is a control character
 * (bytes < 0x20 except \t — and \n if allow_newline —, DEL, U+0080..U+009F), or -1 if none;
 * *why gets a short reason. */
long prog_text_check(const char *s, size_t len, bool allow_newline, const char **why);
/* Word syntax: bug names [a-z0-9][a-z0-9_-]*; site names [a-z_][a-z0-9_]* segments joined
 * by '.', the last one may be '*'.  Both at most PROG_WORD_MAX bytes. */
bool prog_bug_name_ok(const char *s, size_t len);
bool prog_site_name_ok(const char *s, size_t len);

typedef enum prog_mode { PROG_MODE_MAIN, PROG_MODE_EARLY, PROG_MODE_LATE, PROG_MODE_ATTACH } prog_mode;
typedef enum prog_start { PROG_START_AUTO, PROG_START_SPAWN } prog_start;
const char *prog_mode_name(prog_mode m);   /* "main", "early", "late", "attach" */
const char *prog_start_name(prog_start s); /* "auto", "spawn" */

typedef struct prog_op {
    uint16_t code;                   /* prog_opcode */
    int32_t arg[PROG_MAX_ARGS];      /* arguments in table order; a SITE slot holds 0 */
    char *str;                       /* the SITE argument (owned), NULL if the op has none */
    uint32_t line;                   /* source position of the op, 0 if built in code */
    uint16_t col[1 + PROG_MAX_ARGS]; /* col[0]: op word, col[1 + i]: argument i */
} prog_op;

/* The op as one line of .scn text without indentation or newline, e.g. "store r1 3 r2"
 * (truncated to n; "?" for an invalid opcode).  The only op printer: .scn output, reports and
 * the watchdog's dump all use it.  PROG_OP_TEXT_MAX bytes always suffice. */
#define PROG_OP_TEXT_MAX 256
void prog_op_format(const prog_op *op, char *buf, size_t n);

typedef struct prog_thread {
    prog_mode mode;
    prog_start start; /* t0: always AUTO */
    prog_op *ops;
    uint32_t nops, cap;
    uint32_t line;    /* source position of the thread header, 0 if built in code */
    uint16_t col;
} prog_thread;

/* Torture (rs_options.torture): off, on, or on in the trials whose scheduler seed is odd. */
typedef enum prog_torture { PROG_TORTURE_OFF, PROG_TORTURE_ON, PROG_TORTURE_MIXED } prog_torture;
const char *prog_torture_name(prog_torture t);
/* "off", "on" or "mixed" (len bytes of s) -> *out; -1 if none */
int prog_torture_parse(const char *s, size_t len, prog_torture *out);
/* Schedule points: "named" (auto_points off) or "all" (on); parse -1 if neither */
const char *prog_points_name(bool auto_points);
int prog_points_parse(const char *s, bool *auto_points);
/* The torture setting of one trial run with scheduler seed `seed`. */
bool prog_torture_for(prog_torture t, uint64_t seed);

typedef struct prog_options {
    /* runtime options (model.md §0.3) */
    bool immortalize_deferred, freelists, gc_enabled, validate;
    prog_torture torture; /* `option torture off|on|mixed`, default off */
    /* `option auto_points on|off`, default off: the schedulers also act at every automatic
     * schedule point (each synchronising operation of the runtime; asan/tsan/debug builds) */
    bool auto_points;
    uint32_t gc_threshold[3];
    uint32_t trash_depth;
    /* harness options */
    uint64_t seed;
    uint32_t check_rate; /* run validators at every check_rate-th stop-the-world point; 0 = off */
    uint32_t timeout_ms; /* hang watchdog for the whole program */
} prog_options;

/* Ranges of the options that take integers (checked by the parser and program_validate). */
#define PROG_GC_THRESHOLD_MAX 1000000000u
#define PROG_TRASH_DEPTH_MIN 1u
#define PROG_TRASH_DEPTH_MAX 1000000u
#define PROG_CHECK_RATE_MAX 1000000u
#define PROG_TIMEOUT_MS_MAX 86400000u
#define PROG_SEED_MAX INT64_MAX /* a seed is a JSON integer in reports: signed 64-bit */

typedef struct program {
    uint32_t version;   /* PROG_FORMAT_VERSION */
    char *name;         /* owned; NULL means "" */
    prog_options opt;
    char **bugs;        /* owned mutant names, in order, no duplicates */
    uint32_t nbugs;
    prog_thread thread[PROG_MAX_THREADS];
    uint32_t nthreads;
} program;

/* An error with a source position (line 0: no position, e.g. a program built in code; the
 * message then names the thread and op index).  `file` is borrowed from the caller. */
typedef struct prog_error {
    const char *file;
    uint32_t line, col; /* 1-based; col counts bytes */
    char message[224];
} prog_error;

/* Empty program with default options: no name, no bugs, no threads. */
void program_init(program *p);
/* Release everything; leaves p as after program_init. */
void program_free(program *p);
/* Deep copy into dst (initialised here); -1 on allocation failure (dst then empty). */
int program_copy(program *dst, const program *src);
/* Structural equality (source positions are ignored; a NULL name equals ""). */
bool program_equal(const program *a, const program *b);

/* Set the name: -1 if it is longer than PROG_NAME_MAX bytes, not valid UTF-8, or has control
 * characters other than \n and \t. */
int program_set_name(program *p, const char *name);
/* Append a mutant name ([a-z0-9][a-z0-9_-]*, ≤ PROG_WORD_MAX): -1 if malformed, duplicate
 * or PROG_MAX_BUGS reached.  Names are not checked against the runtime's registry here. */
int program_add_bug(program *p, const char *bug);
/* Append a thread; returns its index.  The first thread must be PROG_MODE_MAIN (start
 * ignored), later ones must not be.  -1 if full or the mode is wrong. */
int program_add_thread(program *p, prog_mode mode, prog_start start);
/* Append an op to a thread; returns its index.  Arguments follow the table's order: one `int`
 * per argument, except a SITE argument, which is a `const char *`.  Argument ranges are
 * checked (-1 if out of range, bad site name, unknown op or thread, or PROG_MAX_OPS).
 * Cross-thread rules and state rules are program_validate's job. */
int program_add_op(program *p, int thread, int op, ...);
/* The same with the arguments in an array (str: the SITE argument or NULL). */
int program_add_op_a(program *p, int thread, int op, const int32_t *args, const char *str);
/* -1 with a description if argument i of op has a bad value (kind and range). */
int prog_arg_check(int op, int i, int32_t value, const char *str, char *msg, size_t n);

/* A thread's statically tracked state as the validator walks its ops.  Generators may use
 * it to emit only valid ops: init, then prog_tstate_step() on each candidate op. */
typedef enum prog_ts { PROG_TS_UNBOUND, PROG_TS_ATTACHED, PROG_TS_DETACHED, PROG_TS_ENDED } prog_ts;
typedef struct prog_tstate {
    prog_ts state;
    int index;      /* thread index */
    prog_mode mode;
    uint32_t nframes;
    uint8_t stack[PROG_MAX_FRAMES]; /* stack references pushed in each frame */
    uint32_t ncrefs;
    uint32_t suppress;              /* suppression scope depth */
} prog_tstate;
void prog_tstate_init(prog_tstate *s, int index, prog_mode mode);
/* Apply op to s; -1 (s unchanged, msg written) if the op is not allowed in this state.
 * Checks the thread-local rules only (not whether a referenced thread exists). */
int prog_tstate_step(prog_tstate *s, const prog_op *op, char *msg, size_t n);

/* Check everything: option ranges, bugs, thread modes, argument ranges, thread references
 * (exist; spawn/join only of 'spawn' threads, each spawned exactly once, joined at most
 * once), per-thread state rules, and that every thread is started and every join returns.
 * 0 if valid; else -1 and *err describes the first problem, at its source position
 * (err->file is left as it was). */
int program_validate(const program *p, prog_error *err);

#endif
