/* immortal.c — temporary immortalisation of deferred objects (model.md §3.6): suppression
 * scopes, the trigger at the first non-main thread creation, the pass under stop-the-world,
 * and the D5 validator.
 *
 * The state is one atomic int changed only by RMWs: suppressors add −2 / +2 (so scopes nest
 * and commute across threads, and the armed/active bit survives them), the pass CASes 0 → 1
 * under stop-the-world after re-reading 0 there.  Every deferred object that is mortal when
 * the pass runs becomes immortal: its count (bias excluded) leaves the reference total, its
 * header becomes {tid 0, local UINT32_MAX, shared 0} and it keeps DEFERRED (it may still sit
 * on a BRC queue: merges skip immortals).
 *
 * The mutant immortalize-suppress-race restores the historical scheme: each suppressor saves
 * the value with a plain load, stores "suppressed" with a plain store and restores what it
 * saved on exit (nesting across threads then loses or resurrects the state), and the trigger
 * checks the value with a plain load and acts outside the pause without re-checking. */
#include "immortal.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "runtime.h"

/* mutant only: per-thread saved values of the historical save/clear/restore scheme */
#define RS_IMMORTAL_MAX_NESTING 64
static _Thread_local int racy_saved[RS_IMMORTAL_MAX_NESTING];
static _Thread_local int racy_depth;

void rs_immortalize_suppress(void)
{
    rs_immortal_state *st = &rs_rt.immortal;
    rs_atomic_add_relaxed_int(&st->debug_suppressors, 1);
    if (rs_bug(RS_BUG_IMMORTALIZE_SUPPRESS_RACE)) {
        RS_ASSERT(racy_depth < RS_IMMORTAL_MAX_NESTING);
        racy_saved[racy_depth++] = rs_racy_load_int(&st->immortalize);
        RS_SCHED("immortalize.suppress");
        rs_racy_store_int(&st->immortalize, -2);
        return;
    }
    /* seq_cst: pairs with the pass's seq_cst re-check and CAS, and with set_deferred's load */
    rs_atomic_add_seq_cst_int(&st->immortalize, -2);
}

void rs_immortalize_unsuppress(void)
{
    rs_immortal_state *st = &rs_rt.immortal;
    if (rs_bug(RS_BUG_IMMORTALIZE_SUPPRESS_RACE)) {
        RS_ASSERT(racy_depth > 0);
        rs_racy_store_int(&st->immortalize, racy_saved[--racy_depth]);
    } else {
        /* seq_cst: pairs with the pass's re-check and CAS (as in suppress) */
        int old = rs_atomic_add_seq_cst_int(&st->immortalize, 2);
        if (old > -1)
            rs_fatal("immortalize: unsuppress without a matching suppress", NULL);
    }
    rs_atomic_add_relaxed_int(&st->debug_suppressors, -1);
}

void rs_isolated_scope_enter(void) { rs_immortalize_suppress(); }
void rs_isolated_scope_exit(void) { rs_immortalize_unsuppress(); }

bool rs_immortalize_active(void)
{
    if (!rs_rt.opts.immortalize_deferred)
        return false;
    /* seq_cst: pairs with the pass's CAS 0 → 1 and the suppressors' adds; our own suppressor's
     * add precedes this load in program order, so inside a scope we read < 1 */
    return rs_atomic_load_seq_cst_int(&rs_rt.immortal.immortalize) == 1;
}

/* ---- the pass ---- */

static bool immortalize_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size;
    (void)kind;
    intptr_t *dropped = arg;
    rs_object *o = block;
    if (!(rs_gc_bits(o) & RS_GC_DEFERRED) || rs_is_immortal(o))
        return true;
    *dropped += rs_refcnt(o) - RS_REF_DEFERRED;
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, RS_IMMORTAL_REFCNT_LOCAL);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
    return true;
}

/* under STW: immortalise every mortal deferred object; returns how many counts were dropped */
static void immortalize_all_stw(void)
{
    /* types mechanism: merge every thread's per-thread type refcounts here (model.md §5 "Merge"),
     * before reading heap types' counts — call site reserved for rs_typeid_merge_all_stw() */
    intptr_t dropped = 0;
    rs_head_lock();
    rs_typeid_merge_all_locked(); /* lifecycle fix: model.md §3.6 "merge per-thread type counts" */
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with rs_tstate_bind */
            rs_heap_visit_tld(&t->heap, RS_HEAP_MASK(RS_HEAP_GC), immortalize_block, &dropped);
    rs_heap_visit_abandoned(RS_HEAP_MASK(RS_HEAP_GC), immortalize_block, &dropped);
    /* the counts leave the total: charged to the runtime's folded total (HEAD_LOCK) */
    rs_atomic_store_relaxed_iptr(&rs_rt.reftotal, rs_atomic_load_relaxed_iptr(&rs_rt.reftotal) - dropped);
    rs_head_unlock();
    rs_atomic_add_relaxed_int(&rs_rt.immortal.passes, 1);
}

void rs_immortalize_on_new_thread(rs_tstate *created)
{
    (void)created;
    rs_immortal_state *st = &rs_rt.immortal;
    if (!rs_rt.opts.immortalize_deferred || rs_rt.main == NULL ||
        rs_atomic_load_relaxed_int(&rs_rt.finalizing))
        return;
    rs_tstate *me = rs_tstate_current();
    if (rs_bug(RS_BUG_IMMORTALIZE_SUPPRESS_RACE)) {
        /* historical: check, then act, with nothing holding the answer steady */
        if (rs_racy_load_int(&st->immortalize) != 0)
            return;
        RS_SCHED("immortalize.check");
        rs_stop_the_world(me);
        immortalize_all_stw();
        rs_racy_store_int(&st->immortalize, 1);
        rs_start_the_world(me);
        return;
    }
    /* seq_cst: pairs with the suppressors' adds and the CAS below (a cheap first look) */
    if (rs_atomic_load_seq_cst_int(&st->immortalize) != 0)
        return;
    RS_SCHED("immortalize.check");
    rs_stop_the_world(me);
    /* re-check under STW: a suppressor or another creator may have come first */
    int expected = 0;
    if (rs_atomic_load_seq_cst_int(&st->immortalize) == 0) { /* pairs with suppressors' adds */
        immortalize_all_stw();
        /* seq_cst: pairs with set_deferred's load and the suppressors' adds; nobody else runs
         * attached now, so the CAS cannot fail unless the state is corrupt */
        if (!rs_atomic_cas_seq_cst_int(&st->immortalize, &expected, 1))
            rs_fatal("immortalize: state changed during the pause", NULL);
    }
    rs_start_the_world(me);
}

bool rs_check_immortalize(rs_violation *v)
{
    int a = rs_atomic_load_relaxed_int(&rs_rt.immortal.debug_suppressors);
    int x = rs_atomic_load_seq_cst_int(&rs_rt.immortal.immortalize); /* pairs with the RMWs above */
    if (a < 0)
        return rs_violate(v, "D5", NULL, "negative suppressor count %d", a);
    if (x != -2 * a && x != 1 - 2 * a)
        return rs_violate(v, "D5", NULL,
                          "immortalize = %d with %d active suppressor(s): expected %d or %d",
                          x, a, -2 * a, 1 - 2 * a);
    if (!rs_rt.opts.immortalize_deferred && x == 1 - 2 * a)
        return rs_violate(v, "D5", NULL, "immortalisation active although the option is off");
    return true;
}
