#ifndef RS_RUNTIME_INTERNAL
#error "runtime/gc.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* gc.h — the garbage collector (model.md §7): state, API, scheduling and validators.
 *
 * A non-generational stop-the-world mark-and-sweep collector over every GC heap (gc.c drives
 * the phases of gc_phases.c; gc_sched.c decides when; gc_check.c validates).  It owns no
 * pre-header: during STW #1 an UNREACHABLE object's ob_tid holds its signed gc_refs, and its
 * worklists link through ob_tid.
 *
 * State equations (checked by rs_gc_check_locked, under STW):
 *   G1  collecting == 0 ⇒ no object is UNREACHABLE and no ob_tid holds gc_refs
 *   G3  collecting == 0 ⇒ no object is ALIVE (error exits restore everything)
 *   G4  collecting ∈ {0, 1}: one collection at a time (CAS 0 → 1 at entry)
 *   G7  young.count == Σ flushed_since_reset + flushed_folded (per-thread flushes of live
 *       and deleted thread states since the last reset)
 *   G2  (between phases, rs_gc_check_worklist) worklist entries are MERGED and hold ≥ 1
 *
 * The collector calls the other mechanisms directly: stacks (frame.h, §3.3), weakrefs
 * (objects.h, step 7, phase 2 callbacks), type counts and type de-deferral (typeid.h),
 * freelists (freelist.h, phases 3/4), generator de-deferral (code.h, §3.4). */
#ifndef RS_GC_H
#define RS_GC_H

#include "rs/api.h"
#include "rs/debug.h"
#include <stdbool.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "rs/violation.h"

typedef struct rs_tstate rs_tstate;
typedef struct rs_object rs_object;


#define RS_LOCAL_ALLOC_COUNT_THRESHOLD 512

/* per thread (owner-only unless noted) */
typedef struct rs_gc_tstate {
    int64_t alloc_count;                  /* owner-only; flushed at ±512 */
    RS_ATOMIC(int64_t) flushed_since_reset; /* debug (G7): owner adds, STW #1 resets */
} rs_gc_tstate;

/* runtime-wide */
typedef struct rs_gc_runtime {
    RS_ATOMIC(int) collecting;
    RS_ATOMIC(int) enabled;
    RS_ATOMIC(int64_t) young_count;
    RS_ATOMIC(int64_t) t0, t1, t2;
    RS_ATOMIC(int64_t) long_lived_total;
    RS_ATOMIC(uint64_t) collections[3];   /* per reason, completed (relaxed add) */
    RS_ATOMIC(int64_t) flushed_positive;  /* Σ positive flushes into young_count, never reset (relaxed add) */
    RS_ATOMIC(int64_t) flushed_folded;    /* G7: flushed_since_reset of deleted states (HEAD_LOCK) */
    RS_ATOMIC(uint64_t) collected;        /* objects cleared by phase 4 (statistics) */
    RS_ATOMIC(uint64_t) failed;           /* collections that took an error exit */
    rs_tstate *collector;                 /* the collecting thread (written by it while collecting) */
} rs_gc_runtime;

/* rs_gc_collect, rs_gc_enable, rs_gc_disable, rs_gc_set_threshold (and rs_gc_reason):
 * rs/api.h; rs_gc_flushed_positive, rs_gc_long_lived_total: rs/debug.h */

/* ---- scheduling (gc_sched.c, model.md §7.5) ---- */
void rs_gc_init(void);                       /* at runtime init: options → state */
void rs_gc_on_alloc(rs_tstate *ts);          /* a GC-heap object was allocated (owner) */
void rs_gc_on_free(rs_tstate *ts);           /* a GC-heap object was freed by ts */
bool rs_gc_should_collect(void);
void rs_gc_handle_scheduled(rs_tstate *ts);  /* rs_poll's GC_SCHEDULED handler */
bool rs_gc_is_enabled(void);
int64_t rs_gc_get_count(void);              /* young.count; resets nothing */
void rs_gc_tstate_fold(rs_tstate *ts);       /* at thread delete, HEAD_LOCK held (G7) */

/* ---- validators (gc_check.c) ---- */
/* Under STW with HEAD_LOCK held (called from rs_check_world): G4, G7; with no collection
 * running, G1 and G3 over every GC heap. */
bool rs_gc_check_locked(rs_violation *v);
/* G2: every entry of a worklist (linked through ob_tid from head) is MERGED with count ≥ 1;
 * `unreachable` lists also require UNREACHABLE. */
bool rs_gc_check_worklist(rs_object *head, bool unreachable, rs_violation *v);

/* Test/repair helper, under STW: restore_tid + clear UNREACHABLE/ALIVE on every tracked mortal
 * object (the error exit's restore, §7.3). */
void rs_gc_restore_all_stw(void);

#endif
