/* scheduler.h — pluggable schedulers: one interface for the free, chaos and pct modes.
 *
 * The executor creates a scheduler by mode name, installs its hook table (runtime/include/rs/hooks.h),
 * and brackets every program thread with begin/end:
 *
 *     sched *s = sched_create(MODE_PCT, &(sched_params){.seed = 42, .nthreads = 3});
 *     sched_install(s);
 *     for each i: pthread_create(... { sched_thread_begin(s, i); ops...; sched_thread_end(s, i); })
 *     sched_start(s);                        // opens the start gate
 *     for each i: sched_join_wait(s, i); pthread_join(...);
 *     sched_uninstall(s);  trace = sched_trace(s, &n);  sched_destroy(s);
 *
 * Modes:
 *   free   truly parallel; schedule points do nothing; blocking is the default futex; the start
 *          gate is a relaxed flag, so the harness adds no happens-before edge for TSan to see.
 *   chaos  free, plus seeded per-thread random yields, busy delays and short sleeps at schedule
 *          points (bounded by chaos_max_delay_ns).
 *   pct    one program thread runs at a time; a run token passes at schedule points, blocking
 *          waits and thread begin/end, by the PCT algorithm (Burckhardt et al., ASPLOS 2010).
 *          The handoff is invisible to ThreadSanitizer.  All program threads are pinned to one
 *          CPU.  The run is recorded as a trace of switches and can be replayed exactly.
 *
 * Threads: every program thread index 0 .. nthreads-1 must call sched_thread_begin once (on
 * the thread, before its first op) and sched_thread_end once (after its last op).  In pct the
 * first thread runs only when the gate is open AND all nthreads threads have begun, so the
 * schedule does not depend on how fast the OS started them.  A thread that is not a program
 * thread (the executor's main thread) may call runtime code, and so the hooks, only while no
 * program thread runs: before sched_start or after every program thread has been joined.
 * The executor's main thread may itself be a program thread: sched_start, then
 * sched_thread_begin(s, 0) on it, ops, sched_thread_end, then the joins of the others.
 *
 * pct assumes that a thread waiting for another one blocks (through the hook wait) rather
 * than spins: PCT runs the highest priority until it blocks.  A thread that takes 100000
 * decisions in a row while another could run is demoted (sched_stats.starved counts it).
 *
 * Join: sched_join_wait(s, i) returns once thread i has called sched_thread_end.  From a
 * program thread under pct it is a blocking wait the scheduler sees (the joiner is disabled
 * until i ends).  It behaves like pthread_join for TSan: thread_end's release store of the
 * done word pairs with the joiner's acquire load, nothing else.
 *
 * Results are read after every program thread has been joined, except sched_deadlocked(),
 * which any thread may poll. */
#ifndef HARNESS_SCHED_H
#define HARNESS_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "rs/hooks.h"
#include "vocab.h"

typedef struct sched sched;

#define SCHED_MAX_THREADS 256
#define SCHED_PCT_DEFAULT_DEPTH 3
#define SCHED_PCT_DEFAULT_STEPS 2000
#define SCHED_CHAOS_DEFAULT_PERMILLE 100
#define SCHED_CHAOS_DEFAULT_SITE_PERMILLE 1
#define SCHED_CHAOS_SITE_MAX_NS 5000u /* bound on one delay at an automatic point */
#define SCHED_CHAOS_DEFAULT_MAX_NS 50000u
#define SCHED_CHAOS_LIMIT_NS 1000000u /* chaos_max_delay_ns is clamped to this */

/* pin_cpu values other than a CPU number */
#define SCHED_CPU_BY_SEED (-1) /* pct: one of the allowed CPUs, chosen by the seed */
#define SCHED_CPU_NONE (-2)    /* pct: do not pin (handoffs then cost 10x more) */

/* One switch of the run token: at decision `step` (0 = the start, then one per schedule
 * point, blocking wait and thread end, counted over the whole run) thread `thread` was
 * chosen and it differs from the thread that ran before.  `point` names the decision: the
 * schedule point's name, or "(start)", "(wait)", "(end)"; NULL in parsed traces. */
typedef struct sched_switch {
    uint32_t step;
    int32_t thread;
    const char *point;
} sched_switch;

typedef struct sched_params {
    uint64_t seed;
    int nthreads;              /* program threads, 1 .. SCHED_MAX_THREADS */
    /* pct */
    int depth;                 /* d: d-1 priority change points; 0 ⇒ 3 */
    int max_steps_hint;        /* k: change points are drawn in [1, k]; 0 ⇒ 2000 */
    int pin_cpu;               /* CPU for all program threads (0 by default), or SCHED_CPU_* */
    const sched_switch *replay_trace; /* force these switches (NULL: pure PCT) */
    size_t replay_len;
    /* automatic points (rs/atomic.h, asan/tsan/debug builds): true ⇒ pct takes a decision and
     * chaos may perturb at every synchronising operation of the runtime, not only at the
     * named points */
    bool auto_points;
    /* chaos */
    unsigned chaos_permille;   /* chance of a perturbation at a schedule point; 0 ⇒ 100 */
    unsigned chaos_site_permille; /* the same at an automatic point; 0 ⇒ 1 (there are many) */
    unsigned chaos_max_delay_ns; /* bound on one busy delay or sleep; 0 ⇒ 50 µs */
    /* forwarded as the hook table's fault hook (the table has one ctx, so the scheduler owns
     * the table and calls the fault injector through this) */
    bool (*fault)(void *fault_ctx, const char *site);
    void *fault_ctx;
} sched_params;

/* Create a scheduler of the named mode; NULL if the mode is unknown or the parameters are
 * invalid (nthreads out of range, replay trace naming a thread out of range is accepted and
 * diverges).  The parameters are copied (the replay trace is not: it must outlive the run). */
sched *sched_create(run_mode mode, const sched_params *p);
void sched_destroy(sched *s);
run_mode sched_mode(const sched *s);
const sched_params *sched_params_of(const sched *s); /* with defaults applied */

/* Install the scheduler's hook table (rs_hooks_install); uninstall restores the defaults. */
void sched_install(sched *s);
void sched_uninstall(sched *s);

void sched_thread_begin(sched *s, int idx);
void sched_thread_end(sched *s, int idx);
void sched_start(sched *s);
/* 0 once thread idx has ended; -1 if idx is out of range or (pct, program thread joining)
 * the run deadlocked before idx ended */
int sched_join_wait(sched *s, int idx);

/* pct found every live thread blocked with no timeout pending (relaxed, any thread).  Every
 * blocked thread was then released (its wait returned 0); a caller that loops on a condition
 * should poll this and give up.  Always false in free and chaos. */
bool sched_deadlocked(const sched *s);

/* pct: the switches of the run (NULL/0 in other modes).  Valid until sched_destroy. */
const sched_switch *sched_trace(sched *s, size_t *len);
/* pct: counters of the run (all zero in other modes) */
typedef struct sched_stats {
    uint64_t steps;      /* decisions taken (the trace's step domain) */
    uint64_t switches;   /* = trace length */
    int64_t vtime_ns;    /* virtual time at the end: 1 µs per step, jumps at timeouts */
    uint64_t timeouts;   /* waits that timed out because every live thread was blocked */
    uint64_t deadlock_releases; /* times every blocked thread was released (0: no deadlock) */
    uint64_t starved;    /* demotions of a thread spinning at schedule points (sched_pct.c) */
} sched_stats;
void sched_get_stats(sched *s, sched_stats *out);
/* pct replay: true if the run could not follow replay_trace; *step = first decision that
 * differed (a recorded thread not enabled, or a switch the run did not make) */
bool sched_replay_diverged(sched *s, uint64_t *step);

/* chaos: a digest of thread idx's random decisions (same seed ⇒ same digest), and how many
 * perturbations it made */
uint64_t sched_chaos_fingerprint(sched *s, int idx, uint64_t *perturbations);

/* the mode registry, for --help and validation */

/* Trace text: "step:thread@point" tokens separated by spaces ("@point" omitted when NULL;
 * a space inside a point's name is written '_').
 * format returns the length the full text needs (excluding the NUL), writing at most cap
 * bytes, always NUL-terminated if cap > 0.  parse accepts the same text (point names are
 * ignored, points of the result are NULL); returns -1 on a syntax error, else 0 with a
 * malloc'd array in *out (free() it). */
size_t sched_trace_format(const sched_switch *t, size_t len, char *buf, size_t cap);
/* The same text, malloc'd (free() it); NULL on allocation failure. */
char *sched_trace_text(const sched_switch *t, size_t len);
int sched_trace_parse(const char *text, sched_switch **out, size_t *len);

/* ---- chaos decision stream (pure; exposed so tests check decisions, not timing) ---- */
struct rng;
typedef enum sched_chaos_action {
    SCHED_CHAOS_NONE, SCHED_CHAOS_YIELD, SCHED_CHAOS_SPIN, SCHED_CHAOS_SLEEP,
} sched_chaos_action;
typedef struct sched_chaos_decision { sched_chaos_action action; uint32_t ns; } sched_chaos_decision;
sched_chaos_decision sched_chaos_decide(struct rng *r, unsigned permille, unsigned max_ns);

/* ====================================================================================
 * Mode implementation interface: used by sched.c and sched_<mode>.c only.
 * ==================================================================================== */
typedef struct sched_ops {
    run_mode mode;                             /* the row of base/modes.def it implements */
    sched *(*create)(const sched_params *p);   /* p has defaults applied and is valid */
    void (*destroy)(sched *s);
    void (*fill_hooks)(sched *s, rs_hooks *h); /* sched_point, wait, wake (NULL = default) */
    void (*thread_begin)(sched *s, int idx);
    void (*thread_end)(sched *s, int idx);
    void (*start)(sched *s);
    /* join from a program thread of this scheduler; NULL ⇒ the common futex join */
    int (*join_wait_program)(sched *s, int idx);
    /* fill the base's result fields (called after the run, idempotent); may be NULL */
    void (*collect)(sched *s);
} sched_ops;

/* The common part, first member of every mode's own struct. */
struct sched {
    const sched_ops *ops;
    sched_params p;
    RS_ATOMIC(uint32_t) *done;     /* per thread: 1 once it ended (the join word) */
    RS_ATOMIC(uint32_t) deadlocked;
    RS_ATOMIC(uint32_t) gate;      /* free/chaos start gate (relaxed: no happens-before) */
    /* results, filled by ops->collect (owner: the thread reading results after the run) */
    sched_switch *trace;
    size_t trace_len;
    sched_stats stats;
    bool replay_diverged;
    uint64_t diverge_step;
};

extern const sched_ops sched_free_ops;
extern const sched_ops sched_chaos_ops;
extern const sched_ops sched_pct_ops;

/* common helpers (sched.c) */
int sched_base_init(sched *s, const sched_ops *ops, const sched_params *p); /* -1: no memory */
void sched_base_fini(sched *s);
void sched_self_set(sched *s, int idx);  /* this thread is program thread idx of s */
void sched_self_clear(void);
/* idx if this thread is a program thread of s, else -1.  Inline: pct asks at every automatic
 * point, once per runtime atomic. */
typedef struct sched_self_slot { struct sched *s; int idx; } sched_self_slot;
extern _Thread_local sched_self_slot sched_self; /* set by sched_thread_begin, sched.c only */
__attribute__((no_sanitize("address", "undefined")))
static inline int sched_self_index(const struct sched *s)
{
    return sched_self.s == s ? sched_self.idx : -1;
}
void sched_done_mark(sched *s, int idx); /* release store 1 + futex wake of every joiner */
bool sched_done_is_set(const sched *s, int idx); /* acquire load */
void sched_gate_open(sched *s);          /* relaxed store + wake */
void sched_gate_wait(sched *s);          /* spin/yield until open (relaxed loads) */
/* free/chaos shared behaviour (sched_free.c) */
void sched_free_thread_begin(sched *s, int idx);
void sched_free_thread_end(sched *s, int idx);
void sched_free_start(sched *s);

#endif /* HARNESS_SCHED_H */
