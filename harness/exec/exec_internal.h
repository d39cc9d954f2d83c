/* exec_internal.h — what the executor's files share (trial.c, thread.c, pool.c, hookwrap.c,
 * exec_ops*.c, checks.c, oracles.c, watchdog.c); nothing outside the executor includes it.
 *
 * One trial at a time per process: the trial record is a process-wide object (exec_cur) that
 * outlives every trial, so the watchdog may read it at any moment without a lifetime race.
 *
 * Ownership: fields marked "owner" belong to the program thread that runs the exec_thread
 * (and to the executor's thread before the trial starts and after every thread is joined);
 * fields marked "watch" are relaxed atomics written by the owner and read by the watchdog
 * only (diagnostics, never used to order anything). */
#ifndef RS_EXEC_INTERNAL_H
#define RS_EXEC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "rs/api.h"
#include "rs/debug.h"
#include "rs/object.h"
#include "executor.h"
#include "program.h"
#include "scheduler.h"

/* op handler results */
enum { EXEC_OP_NEXT = 0, EXEC_OP_STOP = 1 };

typedef struct exec_reg {
    rs_object *obj;  /* a strong reference, or NULL */
    uint32_t extra;  /* further references taken by `incref` and owed by the register */
} exec_reg;

typedef struct exec_trial exec_trial;

/* A frame pushed by frame_push/frame_push_fn: real (a runtime frame on the thread's data
 * stack) or a placeholder (its register held no code object, or the push failed), so that
 * frames and stack references stay balanced as the program's static structure says. */
typedef struct exec_frame {
    bool real;
    uint8_t nstack;     /* stack_push ops run on it since the push (≤ PROG_FRAME_STACK) */
    uint8_t pushed;     /* bit i: the i-th of them pushed a real stack reference */
} exec_frame;

typedef struct exec_thread {
    exec_trial *tr;
    int idx;
    const prog_thread *pt;
    /* owner */
    rs_tstate *ts;         /* NULL until created (spawn threads: by the spawner) */
    bool attached;         /* this thread's own view of its state */
    bool shut_out;         /* the runtime shut it out: it touches no object any more */
    exec_reg reg[PROG_NREGS];
    uint32_t fail_count;   /* fail_alloc / fail_alloc_at: fallible steps left to fail */
    char fail_site[PROG_WORD_MAX + 1]; /* "" = any site; "x.*" = prefix */
    exec_frame frame[PROG_MAX_FRAMES]; /* frame_push .. frame_pop */
    int nframes;
    uint32_t crefs;        /* bit i: the i-th held cref_push pushed a real C-stack reference */
    int ncrefs;
    int suppress_depth;    /* open suppress scopes */
    /* spawn handshake: the spawner stores ts then `spawned` (release; pairs with the acquire
     * load of the spawned thread — the happens-before edge of a real thread creation) */
    rs_tstate *spawn_ts;
    RS_ATOMIC(uint32_t) spawned;  /* 0 waiting, 1 started, 2 the spawn failed */
    /* the runtime thread id while bound (target of async_exc / merge_request), relaxed */
    RS_ATOMIC(uintptr_t) tid;
    /* watch */
    RS_ATOMIC(int64_t) cur_op;    /* op index being run, -1 before the first, nops after */
    uintptr_t touched;            /* folds the types exec_reg_set read (keeps the reads) */
    RS_ATOMIC(void *) cur_point;  /* last schedule point name (a string literal) */
    RS_ATOMIC(uint32_t) in_wait;  /* inside a blocking hook wait */
    RS_ATOMIC(uintptr_t) os_thread; /* pthread_t, for the watchdog's backtrace signal */
    RS_ATOMIC(uint32_t) finished;
    /* the `shutdown` drain (exec_ops_shutdown.c): EXEC_SETTLE_*, written by the owner (and
     * by t0's JOINING → STOLEN CAS), each change woken on the word */
    RS_ATOMIC(uint32_t) settle;
    /* owner: the oracles' snapshot of the trial's gc_toggle when this thread last handled
     * its GC_SCHEDULED bit (oracles.c) */
    uint64_t gc_seen;
    bool gc_seen_valid;
} exec_thread;

enum {
    EXEC_SETTLE_RUNNING = 0, /* may still run ops and change its registers */
    EXEC_SETTLE_JOINING = 1, /* blocked in a join, registers untouched until it returns */
    EXEC_SETTLE_STOLEN = 2,  /* was JOINING; t0 released its registers (it runs no more ops) */
    EXEC_SETTLE_DRAINED = 3, /* released its registers, waits for the shutdown to end */
    EXEC_SETTLE_DONE = 4,    /* ended */
};

struct exec_trial {
    const program *p;
    const exec_config *cfg;
    sched *s;
    int nthreads;
    exec_thread th[PROG_MAX_THREADS];
    RS_ATOMIC(void *) mbox[PROG_NMAILBOXES];
    uint32_t check_rate;
    RS_ATOMIC(uint64_t) stw_points;
    RS_ATOMIC(uint64_t) ops_run;
    /* the first failure wins the CAS on `failed`; its fields are read after the joins */
    RS_ATOMIC(uint32_t) failed;
    verdict verdict;
    char check[16];
    char message[512];
    int fthread;
    int64_t fop;
    /* op log: (thread << 32 | op index), slot taken by a relaxed fetch-add */
    uint64_t *log;
    uint64_t log_cap;
    RS_ATOMIC(uint64_t) log_len;
    /* shutdown (t0 owns these) */
    RS_ATOMIC(uint32_t) shutdown_pending; /* t0's `shutdown` began: threads drain (release) */
    RS_ATOMIC(uint32_t) shutdown_over;    /* rs_runtime_fini returned (release, woken) */
    bool shutdown_done;
    rs_leaks leaks;
    /* scenario oracles (oracles.c) */
    RS_ATOMIC(uint64_t) gc_toggle;       /* generation << 2 | tainted << 1 | disabled (seq_cst) */
    RS_ATOMIC(uint32_t) gc_toggling;     /* gc_enable/gc_disable ops in progress (seq_cst) */
    RS_ATOMIC(uint64_t) gc_toggles;      /* gc_enable/gc_disable ops begun (seq_cst) */
    RS_ATOMIC(int64_t) ctr_sum;          /* Σ long_lived_total / 4 + 1 over HEAP collections */
    RS_ATOMIC(uint64_t) ctr_collections; /* HEAP collections begun */
    RS_ATOMIC(uint32_t) oracles_off;     /* set at the end check, before shutdown */
    bool ctr_applies;                    /* t1 is never 0 in this program */
    /* retention oracle (retain.c) */
    bool retain_on;                      /* the program has a `reclaim` op */
    RS_ATOMIC(int64_t) retain_epoch;     /* E of the last stw point (retain.c), 0 before the first */
    /* watchdog */
    int64_t start_ns;
    uint32_t timeout_ms;
};

extern exec_trial exec_cur;

/* ---- trial.c ---- */
/* Record the trial's failure; the first one wins (later calls do nothing). */
void exec_fail(exec_trial *tr, verdict v, const char *check, int thread, int64_t op,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* ---- thread.c: a program thread's life ---- */
exec_thread *exec_self(void);         /* the calling OS thread's program thread, or NULL */
void exec_self_set(exec_thread *t);   /* NULL when the OS thread leaves the program */
void exec_reg_release(exec_thread *t, int r);          /* attached */
void exec_reg_set(exec_thread *t, int r, rs_object *o); /* takes o's reference; attached */
void exec_release_all(exec_thread *t);                  /* every register; attached */
int exec_ts_attach(exec_thread *t);   /* bind if needed; -1 ⇒ shut out (t->shut_out set) */
void exec_ts_detach(exec_thread *t);
int exec_thread_finish(exec_thread *t); /* end: release, exit the state (not t0) */
int exec_spawn(exec_thread *t, int target);
int exec_join(exec_thread *t, int target);
int exec_shutdown(exec_thread *t);
void exec_run_ops(exec_thread *t);    /* the op loop, until the end or an op stops it */
void exec_thread_main(void *arg);     /* a pooled OS thread's job: program thread arg (≠ t0) */
void exec_main_finish(exec_thread *t0); /* t0's end: release, validate, shut down */

/* ---- pool.c: OS threads ---- */
int exec_os_thread_create(void *(*fn)(void *), void *arg); /* detached; 0 or -1 */
int exec_pool_reserve(int n);         /* at least n pooled threads exist; -1 if not */
void exec_pool_run(int i, void (*fn)(void *), void *arg); /* hand a job to pooled thread i */
void exec_pool_join(int i);           /* wait until pooled thread i is idle again */

/* ---- hookwrap.c ---- */
void exec_hooks_wrap(void);           /* after sched_install: wrap the scheduler's table */
void exec_hooks_unwrap(void);         /* restore the runtime's defaults */
/* the fault injector the scheduler forwards to: the calling thread's fail_alloc budget */
bool exec_fault(void *ctx, const char *site);

/* ---- exec_ops.c (the table) and exec_ops_*.c (the handlers) ---- */
typedef int (*exec_op_fn)(exec_thread *t, const prog_op *op, int64_t index);
#define EXEC_OP_ARGS exec_thread *t, const prog_op *op, int64_t index
/* exec_ops_objects.c: creation, containers, lists, roots, weakrefs, deferral */
int exec_op_new_container(EXEC_OP_ARGS);
int exec_op_new_list(EXEC_OP_ARGS);
int exec_op_new_type(EXEC_OP_ARGS);
int exec_op_new_instance(EXEC_OP_ARGS);
int exec_op_new_code(EXEC_OP_ARGS);
int exec_op_new_function(EXEC_OP_ARGS);
int exec_op_new_generator(EXEC_OP_ARGS);
int exec_op_new_finalizable(EXEC_OP_ARGS);
int exec_op_new_weakref(EXEC_OP_ARGS);
int exec_op_defer(EXEC_OP_ARGS);
int exec_op_store(EXEC_OP_ARGS);
int exec_op_clear_slot(EXEC_OP_ARGS);
int exec_op_load(EXEC_OP_ARGS);
int exec_op_list_append(EXEC_OP_ARGS);
int exec_op_list_get(EXEC_OP_ARGS);
int exec_op_list_set(EXEC_OP_ARGS);
int exec_op_list_resize(EXEC_OP_ARGS);
int exec_op_root_set(EXEC_OP_ARGS);
int exec_op_root_get(EXEC_OP_ARGS);
int exec_op_root_clear(EXEC_OP_ARGS);
int exec_op_late_root_set(EXEC_OP_ARGS);
int exec_op_late_root_clear(EXEC_OP_ARGS);
int exec_op_weakref_get(EXEC_OP_ARGS);
/* exec_ops_frames.c: frames, stack references, C-stack references, suppression scopes */
int exec_op_frame_push(EXEC_OP_ARGS);
int exec_op_frame_push_fn(EXEC_OP_ARGS);
int exec_op_frame_pop(EXEC_OP_ARGS);
int exec_op_local_store(EXEC_OP_ARGS);
int exec_op_stack_push(EXEC_OP_ARGS);
int exec_op_stack_pop(EXEC_OP_ARGS);
int exec_op_cref_push(EXEC_OP_ARGS);
int exec_op_cref_pop(EXEC_OP_ARGS);
int exec_op_suppress(EXEC_OP_ARGS);
int exec_op_unsuppress(EXEC_OP_ARGS);
/* A thread's end (attached): pop the C-stack references and frames it left, innermost
 * first, and leave the suppression scopes it left open.  Idempotent. */
void exec_thread_unwind(exec_thread *t);
/* exec_ops_gc.c: the collector, churn loops, deep chains */
int exec_op_gc_collect(EXEC_OP_ARGS);
int exec_op_gc_enable(EXEC_OP_ARGS);
int exec_op_gc_disable(EXEC_OP_ARGS);
int exec_op_gc_threshold(EXEC_OP_ARGS);
int exec_op_churn_freelist(EXEC_OP_ARGS);
int exec_op_churn_type(EXEC_OP_ARGS);
int exec_op_deep_chain(EXEC_OP_ARGS);
#define EXEC_DEEP_CHAIN_MAX 100000 /* deep_chain depths are capped here (time and memory) */
typedef struct exec_op_entry {
    exec_op_fn fn;       /* NULL: not supported */
    const char *needs;   /* the mechanism it needs when fn is NULL */
} exec_op_entry;
extern const exec_op_entry exec_op_table[PROG_OP__COUNT];

/* ---- exec_ops_shutdown.c: the `shutdown` drain ---- */
/* A thread other than t0 at an op boundary (index = its next op) once shutdown is pending:
 * release its registers, fail its pending spawns, settle DRAINED and wait (detached) until
 * the shutdown is over.  The caller then ends the thread (it is shut out). */
void exec_drain(exec_thread *t, uint32_t index);
/* exec_join around its blocking wait: settle JOINING before, back to RUNNING after; false if
 * t0 stole the registers meanwhile (the thread must stop: it waited for the shutdown). */
void exec_join_begin(exec_thread *t);
bool exec_join_end(exec_thread *t);
/* t0's `shutdown` (attached on entry and exit): wait until every other thread has drained,
 * ended or blocked in a join (stealing the registers of the joiners), drain the mailboxes. */
void exec_shutdown_settle(exec_thread *t0);
/* after rs_runtime_fini: let the drained threads go */
void exec_shutdown_over(exec_trial *tr);

/* ---- retain.c: the retention oracle GR ---- */
void exec_retain_reset(exec_trial *tr);          /* at trial start */
void exec_retain_epoch(exec_thread *t);          /* at an stw point, world stopped by t */
int64_t exec_retain_goal(exec_thread *t);        /* before a reclaim: the epoch to hold it to */
void exec_retain_check(exec_thread *t, int64_t index, int64_t goal); /* after the reclaim */

/* ---- oracles.c: the scenario oracles Exp gc-disabled and Ctr gc-schedule ---- */
void exec_oracles_reset(exec_trial *tr);                 /* at trial start */
void exec_oracles_event(exec_trial *tr, int event, int64_t arg); /* the runtime's event hook */
uint64_t exec_oracles_gc_toggle_begin(exec_trial *tr);   /* before gc_enable/gc_disable */
void exec_oracles_gc_disabled(exec_trial *tr, uint64_t begun); /* after the runtime's disable */
void exec_oracles_gc_enabling(exec_trial *tr, uint64_t begun); /* before the runtime's enable */
void exec_oracles_gc_toggle_end(exec_trial *tr);         /* after both */
/* at the end check, before shutdown: evaluate Ctr and stop both; failure recorded */
void exec_oracles_final(exec_thread *t, int64_t index);

/* ---- checks.c ---- */
/* A stop-the-world point by t (attached): stop, validate every check_rate-th time, restart. */
void exec_stw_point(exec_thread *t, int64_t index);
/* Validators with the world stopped by t (called at the end); false ⇒ failure recorded. */
bool exec_check_now(exec_thread *t, int64_t index);
/* Leak accounting after rs_runtime_fini: expected orphans (registers of shut-out threads and
 * mailboxes) against the figures; records VERDICT_LEAK if they differ. */
void exec_check_leaks(exec_trial *tr, exec_result *res);
/* LO: the runtime's lock-order witness saw a cycle during the trial (a potential deadlock) */
void exec_check_lock_order(exec_trial *tr);

/* ---- watchdog.c ---- */
#define EXEC_T0_STW_EVERY 8  /* with check_rate > 0, t0 makes a STW point after every 8th op */
void exec_watchdog_arm(exec_trial *tr, uint32_t timeout_ms);
void exec_watchdog_disarm(void);
void exec_watchdog_signal_setup(void);
/* the blame block on a death (watchdog.c); once per process, before the first trial */
void exec_blame_install(void);
/* the pct-deadlock (in-process) dump: malloc'd text, no backtraces */
char *exec_thread_dump_text(exec_trial *tr);

#endif
