/* refcount.c — biased reference counting, the slow paths (model.md §2.1, §2.3).
 *
 * The owner's increments and decrements touch only ob_ref_local (object.h, inline).  Other
 * threads use ob_ref_shared with seq_cst read-modify-writes (in release builds their common
 * cases are inline in object.h too; this file has the queueing decref, the CAS retries and,
 * for release, the owner's rare cases).  When the owner's local count drops to zero it
 * merges: it gives up ownership (ob_tid = 0) and folds its count into the shared field with
 * the MERGED flag; from then on everybody uses the shared field.  A
 * non-owner whose decrement would take an unmerged shared count below zero hands its
 * reference to the owner (QUEUED, brc.c) instead of subtracting.
 *
 * Whoever moves the total count to zero at a linearisation point — the CAS that stores
 * MERGED with count 0, or an explicit merge / resurrect_end returning 0 — frees the object
 * (B4: exactly once). */
#include "bugs.h"
#include "brc.h"
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "rs/object.h"
#include "runtime.h"

_Thread_local char rs__tid_anchor;
_Thread_local RS_ATOMIC(intptr_t) *rs__reftotal_slot;
_Thread_local uintptr_t rs__owner_key = RS_NO_OWNER_KEY;

void rs_reftotal_slow(intptr_t n)
{
    if (rs_bug(RS_BUG_REFTOTAL_RACY) && rs_tstate_current() != NULL) {
        /* mutant reftotal-racy: the historical plain += on one runtime-wide total */
        intptr_t old = rs_racy_load_iptr(&rs_rt.reftotal);
        RS_SCHED("reftotal.racy.between"); /* the lost-update window of the mutant */
        rs_racy_store_iptr(&rs_rt.reftotal, old + n);
        return;
    }
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("reference count operation by a thread without a thread state", NULL);
    /* the mutant was switched off after this thread attached: back to its own total */
    rs__tstate_set_current(ts);
    rs_reftotal_add_inline(n);
}

void rs_reftotal_add(intptr_t n) { rs_reftotal_add_inline(n); }

_Noreturn void rs_fatal_negative_refcount(rs_object *o)
{
    rs_fatal("negative (or overflowing) reference count", o);
}

void rs_incref_shared(rs_object *o) { rs_incref_shared_inline(o); }

void rs_decref_owned_last(rs_object *o, uint32_t l) { rs__decref_owned_last_inline(o, l); }
void rs_incref_owned_noslot(rs_object *o, uint32_t l) { rs__incref_owned_noslot_inline(o, l); }
void rs_decref_owned_noslot(rs_object *o, uint32_t l) { rs__decref_owned_noslot_inline(o, l); }

/* Give up one reference through the shared field, starting from the observed value s, after
 * the caller's reftotal -= 1.  Returns the new shared value; *queued tells whether the
 * reference was handed to the owner instead (an unmerged count that would have gone
 * negative).  The caller frees on MERGED|0. */
static intptr_t release_shared_from(rs_object *o, intptr_t s, int *queued)
{
    intptr_t n;
    int queue;
    do {
        queue = (s == RS_REF_SHARED_INIT || s == RS_REF_MAYBE_WEAKREF);
        n = queue ? RS_REF_QUEUED : s - RS_REF_SHARED(1, 0);
        /* seq_cst CAS: pairs with the owner's acquire load in rs_merge_zero_local and with
         * its merge CAS; the last CAS to reach MERGED|0 owns the destruction */
    } while (!rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s, n));
    *queued = queue;
    if (!queue && (n & RS_REF_SHARED_FLAG_MASK) == RS_REF_MERGED && n < 0)
        rs_fatal_negative_refcount(o);
    if (queue) {
        /* the reference moves into the queue: it is counted again until the merge drops it */
        if (!rs_bug(RS_BUG_REFTOTAL_QUEUE_UNACCOUNTED))
            rs_reftotal_inc();
        RS_SCHED("brc.decref.queued");
        rs_brc_queue(o);
    }
    return n;
}

static intptr_t release_shared(rs_object *o, intptr_t s, int *queued)
{
    rs_reftotal_dec();
    return release_shared_from(o, s, queued);
}

/* the inline decref (object.h) has loaded s and done reftotal -= 1; its one CAS did not
 * apply (s could queue or is negative) or failed (s is the value the CAS saw) */
void rs_decref_shared_retry(rs_object *o, intptr_t s)
{
    int queued;
    intptr_t n = release_shared_from(o, s, &queued);
    if (!queued && n == RS_REF_MERGED)
        rs_dealloc(o);
}

void rs_decref_shared(rs_object *o) { rs_decref_shared_inline(o); }

void rs_merge_zero_local(rs_object *o)
{
    if (rs_bug(RS_BUG_TID_ZERO_UNMERGED)) {
        /* mutant tid-zero-unmerged: ownership dropped before the fast-path test */
        rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    }
    /* acquire: pairs with the seq_cst RMWs of other threads on ob_ref_shared, so that their
     * prior writes to the object happen before its destruction here */
    intptr_t s = rs_atomic_load_acquire_iptr(&o->ob_ref_shared);
    if (s == RS_REF_SHARED_INIT) {
        /* fast path: nobody else holds or held a reference; ob_tid untouched */
        rs_dealloc(o);
        return;
    }
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0); /* after the fast-path test, before the CAS */
    RS_SCHED("brc.merge_zero.after_tid");
    intptr_t n;
    do {
        n = (s & ~RS_REF_SHARED_FLAG_MASK) | RS_REF_MERGED;
        /* seq_cst: pairs with the non-owners' CASes in rs_decref_shared / rs_try_incref */
    } while (!rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s, n));
    if (n == RS_REF_MERGED)
        rs_dealloc(o);
    /* if QUEUED, the queue's reference keeps n > MERGED; the owner's merge frees it */
}

intptr_t rs_explicit_merge(rs_object *o, intptr_t extra)
{
    RS_ASSERT(!rs_is_immortal(o));
    rs_reftotal_add_inline(extra);
    uint32_t local = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0); /* both before the CAS */
    intptr_t s = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    intptr_t n;
    do {
        n = (s >> RS_REF_SHARED_SHIFT) + (intptr_t)local + extra;
        /* seq_cst: pairs with every other thread's RMW on ob_ref_shared */
    } while (!rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s,
                                         RS_REF_SHARED(n, RS_REF_MERGED)));
    if (n < 0)
        rs_fatal_negative_refcount(o);
    return n; /* after the CAS o may already be freed by someone else only if n == 0 here */
}

int rs_try_incref(rs_object *o)
{
    uint32_t l = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    if (l == RS_IMMORTAL_REFCNT_LOCAL)
        return 1;
    if (rs_is_owned(o)) {
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, l + 1);
        rs_reftotal_inc();
        return 1;
    }
    intptr_t s = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    do {
        if (s == RS_REF_SHARED_INIT || s == RS_REF_MERGED)
            return 0; /* dead, dying, or owned elsewhere with nothing shared: use the lock */
        /* seq_cst: pairs with the merge and decref CASes; a MERGED|0 seen here means freed */
    } while (!rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s, s + RS_REF_SHARED(1, 0)));
    rs_reftotal_inc();
    return 1;
}

int rs_try_incref_compare(RS_ATOMIC(void *) *slot, rs_object *o)
{
    if (!rs_try_incref(o))
        return 0;
    /* acquire: pairs with the release store / exchange that published o in the slot */
    if (rs_atomic_load_acquire_ptr(slot) != o) {
        rs_decref(o);
        return 0;
    }
    return 1;
}

void rs_resurrect_start(rs_object *o)
{
    rs_atomic_store_relaxed_uptr(&o->ob_tid, rs_thread_id());
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 1);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
    rs_reftotal_inc();
}

int rs_resurrect_end(rs_object *o)
{
    uint32_t l = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    /* acquire: pairs with the seq_cst RMWs of threads that took references meanwhile */
    intptr_t s = rs_atomic_load_acquire_iptr(&o->ob_ref_shared);
    if (rs_is_owned(o) && l == 1 && s == 0) {
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
        rs_reftotal_dec();
        return 0;
    }
    if (l == RS_IMMORTAL_REFCNT_LOCAL)
        return 1;
    if (rs_is_owned(o))
        return rs_explicit_merge(o, -1) != 0;
    /* another thread owns it now: give up our reference the shared way, reporting death
     * instead of freeing (a queued reference keeps it alive) */
    int queued;
    intptr_t n = release_shared(o, s, &queued);
    if (queued)
        return 1;
    return n != RS_REF_MERGED;
}
