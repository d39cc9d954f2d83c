/* lifecycle.c — runtime shutdown (model.md §4): the eleven steps that take a running runtime with
 * live threads' leftovers of every kind down to zero objects, zero blocks and a zero reference
 * total, and the figures that say whether it got there.
 *
 * rs_runtime_fini is the driver: one call and one comment per step of docs/model.md §4, top to bottom.  The
 * steps are the functions above it.  The one step of substance that lives here is
 * de-immortalisation (step 4, a model decision: CPython leaves temporarily immortal objects
 * immortal and exempt from leak accounting).  Under stop-the-world every immortal DEFERRED heap
 * object gets back a true count — the number of strong references that live objects and the
 * root slots hold to it — counted in its ob_tid (free scratch: immortals have tid 0):
 *     counted by visit: tp_traverse with tagged == 0 (container slots, list items, code
 *                       constants, function code/globals, a type's dict, untagged generator
 *                       frame references) + an instance's heap type + roots[] and late_roots[]
 *     not counted:      tagged references (generator frames), weakrefs (uncounted referents)
 * then tid 0, local 0, shared = ((n + RS_REF_DEFERRED) << 2) | MERGED and reftotal += n, and
 * immortalisation is suppressed for good.  Generators' frame references are made strong first
 * (strong references to immortals are added to n by the count): a SHUTDOWN collection removes
 * every bias, and a tagged reference would then be the only thing naming an object whose count
 * has reached 0 and that nothing will ever free.  For the same reason the main thread's own
 * frames and C-stack references are closed before the first collection (step 1).
 *
 * Two readings of model.md §4 made explicit here: step 3 enables the GC first (a MANUAL collection
 * of a disabled GC does nothing, and a program that disabled it still gets its heap back);
 * step 5 clears roots[] before every SHUTDOWN collection, not once, since a finalizer may store
 * its object back into a root (it runs once: the next round frees it).  Step 6 runs exit steps
 * 1–4 of the main state; its heaps are abandoned when it is deleted (step 10), so blocks freed
 * or allocated by steps 7–9 stay in pages the runtime still returns. */
#include "runtime.h"

#include <stdlib.h>

#include "code.h"
#include "rs/fatal.h"
#include "freelist.h"
#include "heap.h"
#include "rs/hooks.h"
#include "objects.h"

/* ---- step 1 ---- */

/* Stop the world, set finalizing, mark every other state SHUTTING_DOWN (their attach now
 * fails), restart, and wake those parked in attach so they see it. */
static void shut_out_other_threads(rs_tstate *me)
{
    rs_stop_the_world(me);
    /* relaxed: read by rs_free_delayed and the immortalisation trigger of this thread, and by
     * others only after the STW handshake below orders it */
    rs_atomic_store_relaxed_int(&rs_rt.finalizing, 1);
    rs_head_lock();
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (t != me) /* seq_cst: pairs with the attach CAS, which then fails */
            rs_atomic_store_seq_cst_int(&t->state, RS_TS_SHUTTING_DOWN);
    rs_head_unlock();
    rs_start_the_world(me);
    rs_head_lock();
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (t != me)
            rs_unpark_all(&t->state);
    rs_head_unlock();
}

/* ---- step 2 ---- */

/* Clear and delete the shut-out states here: their owners can no longer touch objects. */
static void delete_other_threads(rs_tstate *me)
{
    for (;;) {
        rs_head_lock();
        rs_tstate *t = rs_rt.threads;
        while (t && t == me)
            t = t->next;
        rs_head_unlock();
        if (t == NULL)
            break;
        rs_tstate_delete_foreign(t);
    }
}

/* ---- step 4: de-immortalisation ---- */

static bool is_deimmortalize_target(const rs_object *o)
{
    return rs_is_immortal(o) && (rs_gc_bits(o) & RS_GC_DEFERRED) &&
           !(rs_atomic_load_relaxed_u16(&o->ob_flags) & RS_OBF_STATIC);
}

static bool count_ref(rs_object *r)
{
    if (r == NULL || !is_deimmortalize_target(r))
        return false;
    rs_atomic_store_relaxed_uptr(&r->ob_tid, rs_atomic_load_relaxed_uptr(&r->ob_tid) + 1);
    return true;
}

static int count_visit(rs_object *r, int tagged, void *arg)
{
    bool *holds_target = arg;
    if (!tagged && count_ref(r)) /* tagged references are not counted (model.md §3.2 D1) */
        *holds_target = true;
    return 0;
}

/* a tagged generator-frame reference becomes strong; a mortal referent is counted now, an
 * immortal one by the count that follows */
static rs_stackref strengthen(rs_stackref r)
{
    rs_object *o = rs_sr_obj(r);
    if (o == NULL || !rs_sr_is_tagged(r))
        return r;
    if (!rs_is_immortal(o)) {
        rs_atomic_add_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(1, 0)); /* STW: no order needed */
        rs_reftotal_add(1);
    }
    return (rs_stackref){(uintptr_t)o};
}

static bool strengthen_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size, (void)kind, (void)arg;
    rs_object *o = block;
    if (o->ob_type != &rs_gen_type || rs_gen_frame(o) == NULL)
        return true;
    rs_frame *f = rs_gen_frame(o);
    f->f_executable = strengthen(f->f_executable);
    f->f_funcobj = strengthen(f->f_funcobj);
    for (rs_stackref *p = f->localsplus; p < f->stackpointer; p++)
        *p = strengthen(*p);
    return true;
}

static bool count_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size, (void)kind, (void)arg;
    rs_object *o = block;
    rs_type *t = o->ob_type;
    bool holds_target = false;
    if (t->tp_traverse != NULL)
        t->tp_traverse(o, count_visit, &holds_target);
    if (t->tp_flags & RS_TPFLAGS_HEAPTYPE)
        (void)count_ref(&t->ob_base); /* an instance holds its heap type */
    /* A live container the collector untracked because it held only null, leaves or
     * immortals (model.md §7.2 5b) now holds a mortal: track it again, as a store of one
     * would (rs_container_set), or a cycle through it stays invisible to the shutdown
     * collections and leaks.  STW: the GC bits' writer rule (model.md §1.2). */
    if (holds_target && t->tp_kind == RS_KIND_CONTAINER && !(rs_gc_bits(o) & RS_GC_TRACKED) &&
        rs_refcnt(o) > 0)
        rs_gc_bits_set(o, RS_GC_TRACKED);
    return true;
}

static bool restore_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size, (void)kind;
    intptr_t *added = arg;
    rs_object *o = block;
    if (!is_deimmortalize_target(o))
        return true;
    intptr_t n = (intptr_t)rs_atomic_load_relaxed_uptr(&o->ob_tid);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(n + RS_REF_DEFERRED, RS_REF_MERGED));
    *added += n;
    return true;
}

/* every object block of every published heap, then the abandoned pool (STW, HEAD_LOCK) */
static void walk_objects_locked(rs_heap_visit_fn fn, void *arg)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with rs_tstate_bind */
            rs_heap_visit_tld(&t->heap, RS_HEAP_ALL_OBJECTS, fn, arg);
    rs_heap_visit_abandoned(RS_HEAP_ALL_OBJECTS, fn, arg);
}

static void deimmortalize(rs_tstate *me)
{
    rs_stop_the_world(me);
    rs_immortalize_suppress(); /* for good: no unsuppress follows */
    /* freelisted blocks are dead: nothing may count what they once held (the other states'
     * lists went with them in step 2) */
    rs_freelists_clear(me, false);
    intptr_t added = 0;
    rs_head_lock();
    walk_objects_locked(strengthen_block, NULL);
    walk_objects_locked(count_block, NULL);
    for (int i = 0; i < RS_ROOTS; i++) {
        (void)count_ref(rs_atomic_load_relaxed_ptr(&rs_rt.roots[i]));
        (void)count_ref(rs_atomic_load_relaxed_ptr(&rs_rt.late_roots[i]));
    }
    walk_objects_locked(restore_block, &added);
    rs_head_unlock();
    rs_reftotal_add(added); /* de-immortalisation adds the counts back (model.md §10) */
    rs_start_the_world(me);
}

/* ---- step 5 ---- */

#define RS_SHUTDOWN_COLLECTIONS 4

static bool roots_empty(void)
{
    for (int i = 0; i < RS_ROOTS; i++) /* acquire: pairs with the roots' exchanges */
        if (rs_atomic_load_acquire_ptr(&rs_rt.roots[i]) != NULL)
            return false;
    return true;
}

/* Clear roots[], collect; again while something was freed or a finalizer resurrected its
 * object into a root (finalizers run once: the next round frees it), at most 4 times. */
static void final_collections(rs_tstate *me)
{
    for (int i = 0; i < RS_SHUTDOWN_COLLECTIONS; i++) {
        rs_roots_clear();
        if (rs_gc_collect(me, RS_GC_SHUTDOWN) <= 0 && roots_empty())
            break;
    }
}

/* ---- step 10 and 11 ---- */

static void delete_main_thread(rs_tstate *me)
{
    rs_tstate_exit(me); /* exit step 5 (abandon heaps), unlink, fold totals, detach */
    rs_rt.main = NULL;
    rs_qsbr_fini();
}

static rs_leaks leak_figures_and_release(int64_t late_cycle_objects)
{
    int refilled = 0;
    for (int i = 0; i < RS_ROOTS; i++) /* single-threaded now */
        refilled += (rs_atomic_load_relaxed_ptr(&rs_rt.roots[i]) != NULL) +
                    (rs_atomic_load_relaxed_ptr(&rs_rt.late_roots[i]) != NULL);
    rs_leaks leaks = {
        .reftotal = rs_atomic_load_relaxed_iptr(&rs_rt.reftotal),
        .blocks = rs_heap_folded_blocks(),
        .late_cycle_objects = late_cycle_objects,
        .late_resurrections = refilled,
    };
    rs_heap_runtime_fini(); /* the abandoned pages */
    free(rs_rt.tids.slots);
    rs_rt.tids.slots = NULL;
    rs_rt.tids.cap = rs_rt.tids.len = 0;
    rs_lock_set_detach_fns(NULL);
    rs_atomic_store_relaxed_int(&rs_rt.initialized, 0);
    return leaks;
}

/* ---- the driver ---- */

rs_leaks rs_runtime_fini(void)
{
    rs_tstate *me = rs_tstate_current();
    RS_ASSERT(me != NULL && me == rs_rt.main);
    /* (1) stop the world, set finalizing, shut out every other state, restart; the main
     *     thread's own frames and C-stack references are closed (model.md §4: "no frames") */
    shut_out_other_threads(me);
    rs_frames_clear_thread(me);
    /* (2) clear and delete the other states here */
    delete_other_threads(me);
    /* (3) collect — with the GC enabled: a program that disabled it still gets its heap back,
     *     and this collection's drain empties the main state's BRC queue of immortals queued
     *     before the pass (step 4 would otherwise make them mortal while still queued) */
    rs_gc_enable();
    rs_gc_collect(me, RS_GC_MANUAL);
    /* (4) de-immortalise every temporarily immortal deferred object; suppress for good */
    deimmortalize(me);
    /* (5) clear roots[]; collect (SHUTDOWN: no bias survives) while something is freed or a
     *     finalizer refilled a root, at most 4 times */
    final_collections(me);
    /* (6) clear the main state: exit steps 1–4 (its heaps go in step 10) */
    rs_tstate_clear_objects(me);
    /* (7) clear late_roots[]: refcounting frees what they alone held — unless they reach a
     *     cycle, which a clean program does not leave there (counted first, latecycle.c) */
    int64_t late_cycle_objects = rs_late_root_cycle_objects();
    rs_late_roots_clear();
    /* (8) finalise the type-id pool */
    rs_typeid_pool_fini(me);
    /* (9) free everything in the runtime delayed queue, ignoring goals */
    rs_delayed_fini(me);
    /* (10) delete the main state (abandoning its heaps, folding its totals); free QSBR */
    delete_main_thread(me);
    /* (11) the figures: both 0 for any clean program */
    return leak_figures_and_release(late_cycle_objects);
}
