/* gc_phases.c — the collector's phases (model.md §7.1–7.4), one function each, in driver order.
 *
 * STW #1 finds the unreachable set without a pre-header: update_refs sets UNREACHABLE on every
 * tracked mortal object and keeps its signed gc_refs (count − bias − internal references) in
 * ob_tid; stack visiting adds tagged stack references; mark clears UNREACHABLE on everything
 * reachable from an object with gc_refs > 0; scan restores ob_tid (restore_tid) on survivors
 * and merges the rest onto the `unreachable` worklist with +1.  After the restart, worklists
 * are popped with a relaxed atomic store of ob_tid = 0, because other threads may be
 * checking ownership of a resurrected or published entry.  STW #2 (the resurrection check)
 * uses ob_ref_local of each entry as scratch.  Phase 4 clears and drops what is left.
 *
 * Other mechanisms are called directly: stacks (rs_frames_visit_thread), weakrefs
 * (rs_weakrefs_clear, rs_weakref_run_callback), per-thread type counts
 * (rs_typeid_merge_all_locked), freelists (rs_freelists_clear), de-deferral
 * (rs_deferred_disable, which also strengthens a generator's frame) and heap-type id release. */
#include "gc_internal.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "deferred.h"
#include "frame.h"
#include "freelist.h"
#include "typeid.h"
#include "typeobj.h"
#include "heap.h"
#include "objects.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

/* ---- worklists ---- */

void rs_gc_worklist_push(rs_object **head, rs_object *o)
{
    if (rs_atomic_load_relaxed_uptr(&o->ob_tid) != 0)
        rs_fatal("GC worklist push: ob_tid is not 0 (entry not merged)", o);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, (uintptr_t)*head);
    *head = o;
}

/* the restore-tid-outside-stw mutant: a popped entry gets restore_tid with plain stores.
 * noinline: a race report's first frame names it (tests/test_gc_races.c looks for it), whatever
 * the inliner decides with the automatic points' calls around it */
__attribute__((noinline)) static void mutant_restore_tid_plain(rs_object *o)
{
    intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    uintptr_t owner = rs_heap_page_owner(o);
    if ((shared & RS_REF_SHARED_FLAG_MASK) == RS_REF_MERGED) {
        rs_racy_store_uptr(&o->ob_tid, 0);
    } else if (owner == 0) {
        intptr_t n = rs_racy_load_u32(&o->ob_ref_local) + (shared >> RS_REF_SHARED_SHIFT);
        rs_racy_store_uptr(&o->ob_tid, 0);
        rs_racy_store_u32(&o->ob_ref_local, 0);
        rs_racy_store_iptr(&o->ob_ref_shared, RS_REF_SHARED(n, RS_REF_MERGED));
    } else {
        rs_racy_store_uptr(&o->ob_tid, owner);
    }
}

rs_object *rs_gc_worklist_pop(rs_object **head)
{
    rs_object *o = *head;
    if (o == NULL)
        return NULL;
    *head = rs_gc_worklist_next(o);
    RS_SCHED("gc.worklist.pop");
    if (rs_bug(RS_BUG_RESTORE_TID_OUTSIDE_STW))
        mutant_restore_tid_plain(o);
    else if (rs_bug(RS_BUG_WORKLIST_PLAIN_TID))
        rs_racy_store_uptr(&o->ob_tid, 0);
    else
        rs_atomic_store_relaxed_uptr(&o->ob_tid, 0); /* others may check ownership now */
    return o;
}

/* ---- header helpers (§7.1), STW only ---- */

intptr_t rs_gc_merge_refcount(rs_object *o, intptr_t extra)
{
    intptr_t n = (intptr_t)rs_atomic_load_relaxed_u32(&o->ob_ref_local) +
                 (rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) >> RS_REF_SHARED_SHIFT) + extra;
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(n, RS_REF_MERGED));
    rs_reftotal_add(extra);
    return n;
}

void rs_gc_restore_tid(rs_object *o)
{
    intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    if ((shared & RS_REF_SHARED_FLAG_MASK) == RS_REF_MERGED) {
        rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
        return;
    }
    uintptr_t owner = rs_heap_page_owner(o);
    if (owner == 0)
        rs_gc_merge_refcount(o, 0); /* abandoned page: no thread owns the local count */
    else
        rs_atomic_store_relaxed_uptr(&o->ob_tid, owner);
}

/* ---- heap walks ---- */

bool rs_gc_walk(rs_heap_visit_fn fn, void *arg)
{
    bool ok = true;
    rs_head_lock();
    for (rs_tstate *t = rs_rt.threads; ok && t; t = t->next) {
        /* acquire: pairs with the release store of heap_initialized in rs_tstate_bind (G6) */
        if (!rs_atomic_load_acquire_int(&t->heap_initialized))
            continue;
        if (rs_atomic_load_relaxed_int(&t->heap.debug_state) != RS_HEAP_READY)
            rs_fatal("G6: the GC walks a heap that is not READY", t);
        ok = rs_heap_visit_tld(&t->heap, RS_HEAP_MASK(RS_HEAP_GC), fn, arg);
    }
    if (ok)
        ok = rs_heap_visit_abandoned(RS_HEAP_MASK(RS_HEAP_GC), fn, arg);
    rs_head_unlock();
    return ok;
}

static bool is_candidate(const rs_object *o)
{
    uint8_t bits = rs_gc_bits(o);
    return (bits & RS_GC_TRACKED) && !(bits & RS_GC_ALIVE) && !rs_is_immortal(o);
}

static intptr_t gc_refs(const rs_object *o) { return (intptr_t)rs_atomic_load_relaxed_uptr(&o->ob_tid); }
static void gc_refs_add(rs_object *o, intptr_t d)
{
    rs_atomic_store_relaxed_uptr(&o->ob_tid, (uintptr_t)(gc_refs(o) + d));
}
static void gc_refs_init(rs_object *o)
{
    if (rs_gc_bits(o) & RS_GC_UNREACHABLE)
        return;
    rs_gc_bits_set(o, RS_GC_UNREACHABLE);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
}

/* ---- phase 1 (STW #1) ---- */

void rs_gc_phase_reset_counts(rs_gc_state *g)
{
    (void)g;
    rs_atomic_store_relaxed_i64(&rs_rt.gc.young_count, 0);
    rs_head_lock();
    rs_atomic_store_relaxed_i64(&rs_rt.gc.flushed_folded, 0);
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        rs_atomic_store_relaxed_i64(&t->gc.flushed_since_reset, 0);
    rs_head_unlock();
}

static void drained_to_zero(rs_object *o, void *arg)
{
    rs_gc_state *g = arg;
    if (rs_gc_bits(o) & RS_GC_TRACKED)
        return; /* stays as garbage for update_refs (§7.4) */
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared,
                                 rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) + RS_REF_SHARED(1, 0));
    rs_reftotal_add(1);
    rs_gc_worklist_push(&g->objs_to_decref, o);
}

void rs_gc_phase_drain_queues(rs_gc_state *g)
{
    rs_head_lock();
    rs_typeid_merge_all_locked(); /* per-thread type counts (§5) */
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        /* heap_initialized first — brc.tid of a thread still binding is unpublished */
        if (rs_atomic_load_acquire_int(&t->heap_initialized) && t->brc.tid != 0) /* pairs with bind */
            rs_brc_drain_stw(t, drained_to_zero, g);
    }
    rs_head_unlock();
}

void rs_gc_phase_delayed_frees(rs_gc_state *g)
{
    /* others are offline (stopped), so every goal up to the new one is reachable at once.
     * Hook: splicing other threads' queues into ours needs an export of the delayed module;
     * until then their queues are processed by their owners' polls (Q5 still holds). */
    rs_qsbr_advance();
    rs_qsbr_quiescent(g->ts);
    rs_delayed_process(g->ts);
}

static bool is_not_leaf(const rs_object *r)
{
    return r != NULL && !rs_is_immortal(r) && r->ob_type->tp_kind != RS_KIND_LEAF;
}

static void decref_candidate(rs_object *r, int tagged)
{
    if (tagged || r == NULL || !is_candidate(r))
        return; /* tagged references are never counted (§3.3) */
    gc_refs_init(r);
    gc_refs_add(r, -1);
}

/* One traversal serves both questions update_refs asks of a container: does it hold only null,
 * leaf or immortal references (then it is untracked and nothing else happens), and else, which
 * referents lose one gc_ref.  While `probing`, references before the first non-leaf one are
 * only counted (`prefix`), not decremented — they are null, leaves or immortal, so in practice
 * no candidate; should one be (`skipped`: a tracked leaf), a second traversal decrements the
 * first `prefix` references, so the result is always that of probing first, then decrementing. */
typedef struct update_ctx {
    bool probing;       /* a container that may be untracked, no non-leaf reference seen yet */
    bool skipped;       /* a candidate was among the references only counted */
    size_t prefix;      /* references visited while probing */
} update_ctx;

static int visit_decref(rs_object *r, int tagged, void *arg)
{
    update_ctx *u = arg;
    if (u->probing) {
        if (!is_not_leaf(r)) {
            u->prefix++;
            u->skipped |= !tagged && r != NULL && is_candidate(r);
            return 0;
        }
        u->probing = false; /* not leaf-only: it stays tracked, r and what follows count */
    }
    decref_candidate(r, tagged);
    return 0;
}

static int visit_decref_prefix(rs_object *r, int tagged, void *arg)
{
    size_t *left = arg;
    if (*left == 0)
        return 1;
    --*left;
    decref_candidate(r, tagged);
    return 0;
}

static bool update_refs_one(rs_object *o, void *arg)
{
    (void)arg;
    if (!is_candidate(o))
        return true;
    uint8_t bits = rs_gc_bits(o);
    intptr_t rc = rs_refcnt(o) - ((bits & RS_GC_DEFERRED) ? RS_REF_DEFERRED : 0);
    if (rc < 0)
        rs_fatal("GC update_refs: negative refcount", o);
    rs_type *tp = o->ob_type;
    bool may_untrack = (rc > 0 && !(bits & RS_GC_DEFERRED)) || rs_bug(RS_BUG_GC_UNTRACKS_ZERO_REFCOUNT);
    update_ctx u = {.probing = may_untrack && !(bits & RS_GC_UNREACHABLE) && tp->tp_kind == RS_KIND_CONTAINER};
    if (tp->tp_traverse)
        tp->tp_traverse(o, visit_decref, &u);
    if (u.probing) {
        rs_gc_bits_clear(o, RS_GC_TRACKED); /* leaf-only container: no cycle until a store of a
                                               * non-leaf tracks it again (rs_container_set) */
        return true;
    }
    if (u.skipped)
        tp->tp_traverse(o, visit_decref_prefix, &u.prefix);
    gc_refs_init(o);
    gc_refs_add(o, rc);
    return true;
}
RS_GC_WALKER(update_refs_one)

void rs_gc_phase_update_refs(rs_gc_state *g)
{
    (void)g;
    rs_gc_walk(update_refs_one_block, NULL);
}

static int visit_stack_ref(rs_object *r, int tagged, void *arg)
{
    (void)arg;
    if (!tagged || r == NULL)
        return 0;
    if ((rs_gc_bits(r) & (RS_GC_TRACKED | RS_GC_UNREACHABLE)) == (RS_GC_TRACKED | RS_GC_UNREACHABLE))
        gc_refs_add(r, 1);
    return 0;
}

/* the frames module reports tagged references only (frame.h) */
static int visit_tagged_stack_ref(rs_object *o, void *arg) { return visit_stack_ref(o, 1, arg); }

void rs_gc_phase_visit_stacks(rs_gc_state *g)
{
    rs_head_lock();
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with bind */
            rs_frames_visit_thread(t, visit_tagged_stack_ref, &g->skip_deferred_objects, NULL);
    rs_head_unlock();
}

static int visit_mark(rs_object *r, int tagged, void *arg)
{
    (void)tagged; /* marking follows tagged references too */
    rs_gc_state *g = arg;
    if (r == NULL || !(rs_gc_bits(r) & RS_GC_UNREACHABLE) || !(rs_gc_bits(r) & RS_GC_TRACKED))
        return 0;
    rs_gc_bits_clear(r, RS_GC_UNREACHABLE);
    if (rs_objstack_push(&g->mark, r) < 0) {
        g->failed = true;
        return 1;
    }
    return 0;
}

static bool mark_root(rs_object *o, void *arg)
{
    rs_gc_state *g = arg;
    uint8_t bits = rs_gc_bits(o);
    if ((bits & (RS_GC_TRACKED | RS_GC_UNREACHABLE)) != (RS_GC_TRACKED | RS_GC_UNREACHABLE))
        return true;
    if (!(gc_refs(o) > 0 || (g->skip_deferred_objects && (bits & RS_GC_DEFERRED))))
        return true;
    /* visit_mark(o), but a root is pushed only to be popped at once: probe instead (the same
     * fault point, the same bit accesses), then traverse it */
    if (!(rs_gc_bits(o) & RS_GC_UNREACHABLE) || !(rs_gc_bits(o) & RS_GC_TRACKED))
        return true;
    rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
    if (rs_objstack_probe(&g->mark) < 0) {
        g->failed = true;
        return false;
    }
    rs_object *p = o;
    do {
        if (p->ob_type->tp_traverse && p->ob_type->tp_traverse(p, visit_mark, g))
            return false;
    } while ((p = rs_objstack_pop(&g->mark)) != NULL);
    return true;
}
RS_GC_WALKER(mark_root)

int rs_gc_phase_mark(rs_gc_state *g)
{
    rs_gc_walk(mark_root_block, g);
    if (g->failed) {
        rs_objstack_clear(&g->mark);
        return -1;
    }
    return 0;
}

/* §3.4: clear DEFERRED and the bias (a generator's frame references become strong), merge,
 * and give a heap type's id back (its per-thread counts were merged in STW #1) */
static void disable_deferral(rs_object *o)
{
    rs_deferred_disable(o);
    rs_gc_merge_refcount(o, 0);
    if (o->ob_type == &rs_heaptype_type)
        rs_typeid_release((rs_type *)o);
}

static bool scan_one(rs_object *o, void *arg)
{
    rs_gc_state *g = arg;
    if (!is_candidate(o))
        return true;
    uint8_t bits = rs_gc_bits(o);
    if (bits & RS_GC_UNREACHABLE) {
        if (bits & RS_GC_DEFERRED)
            disable_deferral(o);
        rs_gc_merge_refcount(o, 1);
        rs_gc_worklist_push(&g->unreachable, o);
        if ((bits & RS_GC_HAD_WEAKREF) || o->ob_type == &rs_weakref_type)
            g->weakref_entries++; /* for rs_gc_phase_weakrefs */
        return true;
    }
    if (g->reason == RS_GC_SHUTDOWN && (bits & RS_GC_DEFERRED) &&
        !rs_bug(RS_BUG_SHUTDOWN_DEFERRED_LEAK)) /* lifecycle mutant: only unreachable ones */
        disable_deferral(o);
    rs_gc_restore_tid(o);
    g->long_lived_total++;
    return true;
}
RS_GC_WALKER(scan_one)

void rs_gc_phase_scan(rs_gc_state *g)
{
    rs_gc_walk(scan_one_block, g);
}

static void weakref_with_callback(rs_object *w, void *arg)
{
    rs_gc_state *g = arg;
    if (rs_gc_bits(w) & RS_GC_UNREACHABLE)
        return; /* an unreachable weakref's callback never runs */
    rs_gc_merge_refcount(w, 1);
    rs_gc_worklist_push(&g->wrcb_to_call, w);
}

void rs_gc_phase_weakrefs(rs_gc_state *g)
{
    if (g->weakref_entries == 0)
        return; /* no entry is a weakref or had one: nothing below would act */
    for (rs_object *u = g->unreachable; u; u = rs_gc_worklist_next(u)) {
        if (u->ob_type == &rs_weakref_type)
            rs_weakref_clear(u); /* an unreachable weakref is cleared itself */
        /* no weakref was ever made to u: none to clear (HAD_WEAKREF is set before the link) */
        if (rs_gc_bits(u) & RS_GC_HAD_WEAKREF)
            rs_weakrefs_clear(u, weakref_with_callback, g);
    }
}

static bool restore_one(rs_object *o, void *arg)
{
    (void)arg;
    uint8_t bits = rs_gc_bits(o);
    if (!(bits & RS_GC_TRACKED) || rs_is_immortal(o))
        return true;
    rs_gc_restore_tid(o);
    rs_gc_bits_clear(o, RS_GC_UNREACHABLE | RS_GC_ALIVE);
    return true;
}
RS_GC_WALKER(restore_one)

void rs_gc_restore_all_stw(void) { rs_gc_walk(restore_one_block, NULL); }

void rs_gc_phase_error_restore(rs_gc_state *g)
{
    (void)g;
    if (rs_bug(RS_BUG_OOM_DURING_GC_LEAVES_SCRATCH))
        return; /* mutant: gc_refs stay in ob_tid, UNREACHABLE stays set */
    rs_gc_restore_all_stw();
}

/* ---- phase 2 (world running) ---- */

void rs_gc_phase_decref_and_callbacks(rs_gc_state *g)
{
    rs_object *o;
    while ((o = rs_gc_worklist_pop(&g->objs_to_decref)) != NULL) {
        rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
        rs_decref(o);
    }
    while ((o = rs_gc_worklist_pop(&g->wrcb_to_call)) != NULL) {
        g->may_resurrect = true; /* a callback may store a reference to garbage anywhere */
        rs_weakref_run_callback(o);
        rs_decref(o);
    }
}

void rs_gc_phase_finalize(rs_gc_state *g)
{
    /* entries hold +1 and are linked through ob_tid; a finalizer may resurrect its object
     * (new references go through the shared path: a link is no thread's id) */
    for (rs_object *o = g->unreachable; o; o = rs_gc_worklist_next(o)) {
        if (rs_gc_bits(o) & RS_GC_FINALIZED)
            continue;
        rs_gc_bits_set(o, RS_GC_FINALIZED);
        if (o->ob_type->tp_finalize) {
            g->may_resurrect = true;
            o->ob_type->tp_finalize(o);
        }
    }
}

/* ---- phase 3 (STW #2): which entries did finalizers resurrect? ---- */

static int visit_scratch_decref(rs_object *r, int tagged, void *arg)
{
    (void)arg;
    if (tagged || r == NULL)
        return 0;
    if ((rs_gc_bits(r) & (RS_GC_TRACKED | RS_GC_UNREACHABLE)) == (RS_GC_TRACKED | RS_GC_UNREACHABLE))
        rs_atomic_store_relaxed_u32(&r->ob_ref_local, rs_atomic_load_relaxed_u32(&r->ob_ref_local) - 1);
    return 0;
}

static int visit_resurrect(rs_object *r, int tagged, void *arg)
{
    (void)tagged;
    rs_gc_state *g = arg;
    if (r == NULL || (rs_gc_bits(r) & (RS_GC_TRACKED | RS_GC_UNREACHABLE)) != (RS_GC_TRACKED | RS_GC_UNREACHABLE))
        return 0;
    rs_gc_bits_clear(r, RS_GC_UNREACHABLE);
    if (rs_objstack_push(&g->mark, r) < 0) {
        g->failed = true;
        return 1;
    }
    return 0;
}

int rs_gc_phase_resurrection_check(rs_gc_state *g)
{
    /* Without a finalizer or a callback nothing can have resurrected an entry or untracked
     * one: garbage is reachable from no other object, its weakrefs were cleared under STW #1,
     * and only a finalizer or callback run on it could hand it out.  The check would then
     * keep every entry, in the same order, with the scratch back at 0: skip it. */
    if (!g->may_resurrect)
        return 0;
    rs_object *cand = NULL, *o;
    /* (1) scratch = external references: count minus the list's +1 */
    while ((o = rs_gc_worklist_pop(&g->unreachable)) != NULL) {
        if (!(rs_gc_bits(o) & RS_GC_TRACKED)) {
            rs_gc_worklist_push(&g->objs_to_decref, o); /* untracked by its finalizer */
            continue;
        }
        intptr_t n = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) >> RS_REF_SHARED_SHIFT;
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, (uint32_t)(n - 1));
        rs_gc_worklist_push(&cand, o);
    }
    /* (2) minus references from other entries */
    for (o = cand; o; o = rs_gc_worklist_next(o))
        if (o->ob_type->tp_traverse)
            o->ob_type->tp_traverse(o, visit_scratch_decref, NULL);
    /* (3) gc_refs > 0: resurrected roots (UNREACHABLE cleared); scratch back to 0 */
    for (o = cand; o; o = rs_gc_worklist_next(o)) {
        int32_t refs = (int32_t)rs_atomic_load_relaxed_u32(&o->ob_ref_local);
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
        if (refs > 0)
            rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
    }
    /* ... and everything they reach */
    for (o = cand; o && !g->failed; o = rs_gc_worklist_next(o)) {
        if (rs_gc_bits(o) & RS_GC_UNREACHABLE)
            continue;
        rs_object *p = o;
        do {
            if (p->ob_type->tp_traverse && p->ob_type->tp_traverse(p, visit_resurrect, g))
                break;
        } while ((p = rs_objstack_pop(&g->mark)) != NULL);
    }
    rs_objstack_clear(&g->mark);
    /* (4) resurrected entries leave the list, dropping its +1 */
    while ((o = rs_gc_worklist_pop(&cand)) != NULL) {
        if (g->failed || (rs_gc_bits(o) & RS_GC_UNREACHABLE)) {
            rs_gc_worklist_push(&g->unreachable, o);
        } else if (rs_gc_merge_refcount(o, -1) <= 0) {
            rs_fatal("GC resurrection check: a resurrected object has no reference", o);
        }
    }
    return g->failed ? -1 : 0;
}

void rs_gc_phase_clear_freelists(rs_gc_state *g, bool all_threads)
{
    if (!all_threads) {
        rs_freelists_clear(g->ts, false);
        return;
    }
    rs_head_lock(); /* G5: others' freelists only under STW */
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with bind */
            rs_freelists_clear(t, false);
    rs_head_unlock();
}

/* ---- phase 4 (world running) ---- */

void rs_gc_phase_drain_failed(rs_gc_state *g)
{
    rs_object *o;
    while ((o = rs_gc_worklist_pop(&g->objs_to_decref)) != NULL) {
        rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
        rs_decref(o);
    }
    while ((o = rs_gc_worklist_pop(&g->unreachable)) != NULL) {
        rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
        rs_decref(o);
    }
}

void rs_gc_phase_clear_garbage(rs_gc_state *g)
{
    rs_object *o;
    while ((o = rs_gc_worklist_pop(&g->objs_to_decref)) != NULL) {
        rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
        rs_decref(o);
    }
    while ((o = rs_gc_worklist_pop(&g->unreachable)) != NULL) {
        rs_gc_bits_clear(o, RS_GC_UNREACHABLE);
        if (rs_gc_bits(o) & RS_GC_TRACKED) {
            g->collected++;
            if (o->ob_type->tp_clear)
                o->ob_type->tp_clear(o);
        }
        rs_decref(o);
    }
}
