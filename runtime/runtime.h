#ifndef RS_RUNTIME_INTERNAL
#error "runtime/runtime.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* runtime.h — the runtime singleton: options, thread list, stop-the-world state, BRC table,
 * reference totals and statistics; init and shutdown (model.md §4).
 *
 * One runtime exists at a time per process; rs_runtime_init may be called again after
 * rs_runtime_fini (a driver may run many trials in one process). */
#ifndef RS_RUNTIME_H
#define RS_RUNTIME_H

#include "rs/api.h"
#include <stdbool.h>
#include <stdint.h>

#include "brc.h"
#include "delayed.h"
#include "gc.h"
#include "immortal.h"
#include "lock.h"
#include "qsbr.h"
#include "typeid.h"
#include "tstate.h"

/* rs_options, rs_options_default, rs_leaks, rs_runtime_init, rs_runtime_fini: rs/api.h */

typedef struct rs_stw {
    rs_mutex mutex;                  /* one stop-the-world at a time */
    int requested;                   /* HEAD_LOCK */
    RS_ATOMIC(int) world_stopped;    /* release store by the requester after the countdown; acquire readers */
    RS_ATOMIC(int) countdown;        /* decremented under HEAD_LOCK; read by the requester */
    rs_event stop_event;
    rs_tstate *requester;            /* HEAD_LOCK */
} rs_stw;

typedef struct rs_stats {
    RS_ATOMIC(uint64_t) deallocs;        /* objects destroyed by threads without a state (the
                                          * others count in their own state: rs_stats_deallocs) */
    RS_ATOMIC(uint64_t) queued;          /* BRC enqueues */
    RS_ATOMIC(uint64_t) merged_by_owner; /* entries merged by owners */
    RS_ATOMIC(uint64_t) merged_no_owner; /* enqueuer found the owner gone */
    RS_ATOMIC(uint64_t) stw_count;       /* stop-the-world pauses */
    RS_ATOMIC(uint64_t) callbacks_run;   /* weakref callbacks run (relaxed add) */
    RS_ATOMIC(uint64_t) finalizers_run;  /* finalizable tp_finalize runs (relaxed add) */
} rs_stats;

typedef struct rs_runtime {
    rs_options opts;
    RS_ATOMIC(int) initialized;
    rs_mutex head_lock;              /* HEAD_LOCK: threads list, ids, stw fields */
    rs_tstate *threads;              /* HEAD_LOCK */
    uint64_t next_id;                /* HEAD_LOCK */
    rs_tstate *main;
    rs_stw stw;
    rs_brc_bucket brc_buckets[RS_BRC_NUM_BUCKETS];
    RS_ATOMIC(intptr_t) reftotal;    /* folded totals of deleted thread states (HEAD_LOCK) */
    RS_ATOMIC(int) finalizing;
    RS_ATOMIC(uintptr_t) global_breaker; /* used only by the eval-breaker-global mutant */
    rs_stats stats;
    /* per-mechanism runtime state (each owned by its module) */
    rs_gc_runtime gc;
    rs_typeid_pool typeids;
    rs_immortal_state immortal;
    RS_ATOMIC(void *) roots[8];       /* module globals: strong references (§0.1) */
    RS_ATOMIC(void *) late_roots[8];  /* dropped after the final collection (§4 step 7) */
    uint64_t spurious_interrupts;    /* folded from deleted states (HEAD_LOCK); E3 */
    uint64_t deallocs_folded;        /* tstate.deallocs of deleted states (HEAD_LOCK) */
    /* every thread id ever bound since init (open addressing, HEAD_LOCK for writes; read by
     * validators under STW): a non-zero ob_tid outside a collection must be one of them (H5) */
    struct { uintptr_t *slots; size_t cap, len; } tids;
    rs_qsbr_shared qsbr;             /* QSBR shared state (model.md §11) */
    rs_delayed_runtime delayed;      /* runtime delayed-free queue (model.md §11) */
} rs_runtime;

extern rs_runtime rs_rt;


/* Σ folded + every linked state's total, read under HEAD_LOCK. */
intptr_t rs_get_reftotal(void);
intptr_t rs_get_reftotal_locked(void);   /* HEAD_LOCK held */
/* objects destroyed since init: stats.deallocs + deallocs_folded + every linked state's own
 * count, read under HEAD_LOCK; the states' counts are plain owner-only fields, so call it only
 * with no other thread running (tests, after shutdown's joins) */
uint64_t rs_stats_deallocs(void);
/* allocated blocks: folded + every linked state's counter (under HEAD_LOCK) */
int64_t rs_get_blocks(void);

/* HEAD_LOCK held */
void rs_tid_registry_add(uintptr_t tid);
bool rs_tid_registry_contains(uintptr_t tid);

static inline void rs_head_lock(void) { rs_mutex_lock(&rs_rt.head_lock); }
static inline void rs_head_unlock(void) { rs_mutex_unlock(&rs_rt.head_lock); }

#endif
