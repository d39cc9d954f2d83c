/* trash.c — the trashcan: destruction of deep reference chains without deep C recursion
 * (model.md §1.3; CPython: _PyTrash_thread_deposit_object / _PyTrash_thread_destroy_chain).
 *
 * Each thread counts its nested destructors (ts->trash.dealloc_depth).  A destructor that
 * would start at depth ≥ rs_rt.opts.trash_depth (or at any nested depth when the fault hook
 * says yes to the torture site "trash.deposit") does not run: the dead object (count 0) is
 * deposited on the thread's delete_later chain, linked through ob_tid (bit 0 records that it
 * was tracked; it is untracked while it waits).  A block address is never a thread id, so a
 * lock-free reader that still probes the object sees no owner and fails rs_try_incref.  When
 * the outermost destructor returns (depth back to 0) the chain is drained: pop, ob_tid = 0
 * and ob_ref_shared = MERGED (a merged object with count 0: H1 holds again, and a destructor
 * that resurrects with rs_incref takes the shared path consistently), re-track, destroy —
 * with `draining` set, so destructors run by the drain may deposit more but never start a
 * nested drain.  The limit is at least 1, so a drained destructor always runs. */
#include "objects.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static rs_trash_tstate *trash_state(void)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("destructor run by a thread without a thread state", NULL);
    return &ts->trash;
}

static void deposit(rs_trash_tstate *tr, rs_object *o)
{
    if (rs_refcnt(o) != 0)
        rs_fatal("trashcan: deposited object has a non-zero reference count", o);
    uintptr_t was_tracked = 0;
    if (rs_gc_bits(o) & RS_GC_TRACKED) { /* sole access: the object is dead */
        rs_gc_bits_clear(o, RS_GC_TRACKED);
        was_tracked = 1;
    }
    rs_atomic_store_relaxed_uptr(&o->ob_tid, (uintptr_t)tr->delete_later | was_tracked);
    tr->delete_later = o;
}

bool rs_trash_begin(rs_object *o)
{
    rs_trash_tstate *tr = trash_state();
    int limit = rs_rt.opts.trash_depth > 1 ? rs_rt.opts.trash_depth : 1;
    /* torture: the fault hook may ask for a deposit at any nested level (never the outermost,
     * which must run to drain) */
    if (tr->dealloc_depth >= limit || (tr->dealloc_depth > 0 && rs_fault(RS_FAULT_TRASH_DEPOSIT))) {
        deposit(tr, o);
        return true;
    }
    tr->dealloc_depth++;
    return false;
}

static void drain(rs_trash_tstate *tr)
{
    tr->draining = true; /* rs_trash_end calls of the destructors below must not drain */
    while (tr->delete_later != NULL) {
        rs_object *o = tr->delete_later;
        uintptr_t link = rs_atomic_load_relaxed_uptr(&o->ob_tid);
        tr->delete_later = (rs_object *)(link & ~(uintptr_t)1);
        rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
        RS_SCHED("trash.drain.after_tid"); /* a prober sees tid 0, shared 0 or MERGED: fails */
        /* mutant tid-zero-unmerged, second half: the historical drain left the shared field
         * as it was (0 after an owner's fast-path death), so tid 0 with flags 0 broke H1 */
        if (!rs_bug(RS_BUG_TID_ZERO_UNMERGED))
            rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_MERGED);
        if (link & 1)
            rs_gc_bits_set(o, RS_GC_TRACKED);
        o->ob_type->tp_dealloc(o);
    }
    tr->draining = false;
}

void rs_trash_end(void)
{
    rs_trash_tstate *tr = trash_state();
    RS_ASSERT(tr->dealloc_depth > 0);
    if (--tr->dealloc_depth == 0 && !tr->draining && tr->delete_later != NULL)
        drain(tr);
}

bool rs_trash_check_locked(rs_violation *v)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        rs_trash_tstate *tr = &t->trash;
        if (tr->delete_later != NULL && tr->dealloc_depth == 0 && !tr->draining)
            return rs_violate(v, "TR1", tr->delete_later,
                              "thread %lu has deposited objects waiting outside any destructor",
                              (unsigned long)t->id);
        for (rs_object *o = tr->delete_later; o;
             o = (rs_object *)(rs_atomic_load_relaxed_uptr(&o->ob_tid) & ~(uintptr_t)1)) {
            if (!rs_heap_block_allocated(o))
                return rs_violate(v, "TR1", o, "deposited object is a freed block");
            if (rs_refcnt(o) != 0 || (rs_gc_bits(o) & RS_GC_TRACKED))
                return rs_violate(v, "TR1", o, "deposited object has count %ld, tracked %d",
                                  (long)rs_refcnt(o), (rs_gc_bits(o) & RS_GC_TRACKED) != 0);
        }
    }
    return true;
}
