/* check.c — validators for the header, heaps, BRC queues, eval breakers and reference totals.
 *
 * Every check states the equation of docs/model.md it verifies and reports the first object or
 * thread that breaks it.  Whole-world checks run under stop-the-world: no thread is inside a
 * refcount operation then (threads stop only at polls, detach points, or inside runtime
 * waits that hold no object half-updated). */
#include "check.h"

#include <stdlib.h>

#include "deferred.h"
#include "heap.h"
#include "objects.h" /* TR1, W1 */
#include "runtime.h"

bool rs_check_object(const rs_object *o, rs_violation *v)
{
    uint32_t local = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    if (local == RS_IMMORTAL_REFCNT_LOCAL)
        return true; /* immortals are exempt */
    if (rs_rt.opts.validate && !rs_heap_block_allocated(o))
        return rs_violate(v, "Vfree", o, "live object in a block that is not allocated");
    uintptr_t tid = rs_atomic_load_relaxed_uptr(&o->ob_tid);
    intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    intptr_t flags = shared & RS_REF_SHARED_FLAG_MASK;
    intptr_t count = shared >> RS_REF_SHARED_SHIFT;
    uint8_t bits = rs_gc_bits(o);
    const char *tn = o->ob_type ? o->ob_type->tp_name : "?";

    /* between a collection's phases (world running, collecting == 1) a third
     * thread's stop-the-world sees the GC's own UNREACHABLE entries, whose ob_tid is a
     * worklist link (gc.h): G1 and the header equations apply only with no collection */
    if ((bits & RS_GC_UNREACHABLE) && rs_atomic_load_relaxed_int(&rs_rt.gc.collecting))
        return true;
    if (bits & RS_GC_UNREACHABLE)
        return rs_violate(v, "G1", o, "%s object is UNREACHABLE outside a collection (tid=%#lx)",
                          tn, (unsigned long)tid);
    if ((tid == 0) != (flags == RS_REF_MERGED))
        return rs_violate(v, "H1", o,
                          "%s object: ob_tid=%#lx but shared flags=%ld (local=%u shared count=%ld): "
                          "ob_tid == 0 must hold exactly when merged",
                          tn, (unsigned long)tid, (long)flags, local, (long)count);
    if ((intptr_t)local + count < 0)
        return rs_violate(v, "H3", o, "%s object: negative refcount local=%u shared=%ld", tn, local,
                          (long)count);
    if (count < 0 && flags != RS_REF_QUEUED && flags != RS_REF_MERGED)
        return rs_violate(v, "H3", o, "%s object: negative shared count %ld with flags %ld", tn,
                          (long)count, (long)flags);
    if (flags == RS_REF_MERGED && local != 0)
        return rs_violate(v, "H4", o, "%s object: merged but ob_ref_local=%u", tn, local);
    if (tid != 0 && !rs_tid_registry_contains(tid))
        return rs_violate(v, "H5", o, "%s object: ob_tid=%#lx is no thread's id", tn,
                          (unsigned long)tid);
    return true;
}

/* ---- the world ---- */

typedef struct queue_entry {
    const rs_object *o;
    const rs_tstate *owner;
} queue_entry;

typedef struct world_ctx {
    rs_violation *v;
    bool ok;
    intptr_t refsum;          /* Σ refcnt of mortal objects */
    queue_entry *entries;     /* every BRC queue entry, sorted by object */
    size_t nentries;
    rs_freelist_set freelisted; /* freelist: dead blocks on freelists, skipped by the walk */
} world_ctx;

static int cmp_entry(const void *a, const void *b)
{
    const rs_object *x = ((const queue_entry *)a)->o, *y = ((const queue_entry *)b)->o;
    return x < y ? -1 : x > y;
}

static const queue_entry *find_entry(const world_ctx *c, const rs_object *o)
{
    queue_entry key = {o, NULL};
    if (c->nentries == 0)
        return NULL;
    return bsearch(&key, c->entries, c->nentries, sizeof key, cmp_entry);
}

/* B1's window: an enqueuer that could not push waits for a pause to merge the object
 * (brc.c); HEAD_LOCK held by rs_check_world */
static bool in_enqueue_window(const rs_object *o)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_relaxed_ptr(&t->brc.unqueued) == o)
            return true;
    return false;
}

static bool visit_object(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size;
    (void)kind;
    world_ctx *c = arg;
    rs_object *o = block;
    if (rs_freelist_set_contains(&c->freelisted, o)) /* freelist: dead, checked by F3 */
        return true;
    if (!rs_check_object(o, c->v))
        return c->ok = false;
    if (rs_is_immortal(o))
        return true;
    c->refsum += rs_refcnt(o);
    if (rs_gc_bits(o) & RS_GC_DEFERRED) c->refsum -= RS_REF_DEFERRED; /* bias never in reftotal (§10) */
    intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    if ((shared & RS_REF_SHARED_FLAG_MASK) == RS_REF_QUEUED) {
        /* B1: on the queue of the thread named by ob_tid */
        const queue_entry *e = find_entry(c, o);
        uintptr_t tid = rs_atomic_load_relaxed_uptr(&o->ob_tid);
        if (e == NULL && !in_enqueue_window(o))
            return c->ok = rs_violate(c->v, "B1", o, "QUEUED object is on no merge queue");
        if (e == NULL)
            return true;
        if (e->owner->brc.tid != tid)
            return c->ok = rs_violate(c->v, "B1", o,
                                      "QUEUED object is queued to thread %lu, not to its owner %#lx",
                                      (unsigned long)e->owner->id, (unsigned long)tid);
    }
    return true;
}

static bool gather_queue(world_ctx *c, const rs_tstate *t, const rs_objstack *s)
{
    for (const rs_objstack_chunk *ch = s->head; ch; ch = ch->prev)
        for (size_t i = 0; i < ch->n; i++) {
            queue_entry *ne = realloc(c->entries, (c->nentries + 1) * sizeof *ne);
            if (ne == NULL)
                return rs_violate(c->v, "OOM", NULL, "validator out of memory");
            c->entries = ne;
            c->entries[c->nentries++] = (queue_entry){ch->items[i], t};
        }
    return true;
}

static bool check_threads(world_ctx *c)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        /* acquire: pairs with the release store at the end of rs_tstate_bind; a thread still
         * binding (allowed to run during a pause) has published none of its BRC or heap data */
        bool published = rs_atomic_load_acquire_int(&t->heap_initialized) != 0;
        if (!published && !(rs_objstack_empty(&t->brc.objects_to_merge) &&
                                 rs_objstack_empty(&t->brc.local_objects_to_merge)))
            return rs_violate(c->v, "B3", NULL, "thread %lu is not in the BRC table but has queued objects",
                              (unsigned long)t->id);
        /* E2: read the thread's own word (not through any accessor): a merge request must be
         * visible to the owner itself */
        uintptr_t eb = rs_atomic_load_relaxed_uptr(&t->eval_breaker);
        if (!rs_objstack_empty(&t->brc.objects_to_merge) && !(eb & RS_EB_EXPLICIT_MERGE) &&
            !rs_atomic_load_relaxed_int(&t->brc.merging))
            return rs_violate(c->v, "E2", NULL,
                              "thread %lu has %zu objects queued for merging but no EXPLICIT_MERGE request",
                              (unsigned long)t->id, rs_objstack_len(&t->brc.objects_to_merge));
        /* E3: every ASYNC_EXC bit the thread saw was set by a send to it (rs_poll keeps the
         * ledger).  A stale bit over an empty slot, left by a send whose exception an earlier
         * poll took, is such a bit: it raises nothing and is not counted (issue 17) */
        if (t->spurious_interrupts != 0)
            return rs_violate(c->v, "E3", NULL,
                              "thread %lu was interrupted %lu time(s) by an ASYNC_EXC not sent to it",
                              (unsigned long)t->id, (unsigned long)t->spurious_interrupts);
        if (!gather_queue(c, t, &t->brc.objects_to_merge) ||
            !gather_queue(c, t, &t->brc.local_objects_to_merge))
            return false;
        if (published && rs_atomic_load_relaxed_int(&t->heap.debug_state) != RS_HEAP_READY)
            return rs_violate(c->v, "S1", NULL, "thread %lu: heap_initialized but heap not READY",
                              (unsigned long)t->id);
    }
    if (rs_rt.spurious_interrupts != 0)
        return rs_violate(c->v, "E3", NULL,
                          "exited threads were interrupted %lu time(s) by an ASYNC_EXC not sent to them",
                          (unsigned long)rs_rt.spurious_interrupts);
    if (c->nentries > 1)
        qsort(c->entries, c->nentries, sizeof *c->entries, cmp_entry);
    for (size_t i = 0; i < c->nentries; i++) {
        const rs_object *o = c->entries[i].o;
        if (i > 0 && c->entries[i - 1].o == o)
            return rs_violate(c->v, "B1", o, "object queued twice");
        intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
        intptr_t fl = shared & RS_REF_SHARED_FLAG_MASK;
        if (!rs_is_immortal(o) && fl != RS_REF_QUEUED && fl != RS_REF_MERGED)
            return rs_violate(c->v, "B2", o, "queued object has shared flags %ld (neither QUEUED nor MERGED)",
                              (long)fl);
    }
    return true;
}

bool rs_check_world(rs_violation *v)
{
    world_ctx c = {.v = v, .ok = true};
    /* HEAD_LOCK: threads that are stopped may still link, unlink or bind (S1 allows code that
     * touches no objects); the lock keeps the list and the totals steady while we walk */
    rs_head_lock();
    bool ok = check_threads(&c);
    ok = ok && rs_freelist_check_locked(v, &c.freelisted); /* freelist: F2, F3 */
    ok = ok && rs_typeid_check_locked(v);                  /* typeid: T1–T4 */
    for (rs_tstate *t = rs_rt.threads; ok && t; t = t->next) {
        /* G6: only heaps that are published as initialised are walked */
        if (!rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with rs_tstate_bind */
            continue;
        ok = rs_heap_check(&t->heap, v) &&
             (rs_heap_visit_tld(&t->heap, RS_HEAP_ALL_OBJECTS, visit_object, &c) || c.ok);
        ok = ok && c.ok;
    }
    if (ok)
        ok = rs_heap_check(NULL, v) &&
             (rs_heap_visit_abandoned(RS_HEAP_ALL_OBJECTS, visit_object, &c) || c.ok) && c.ok;
    ok = ok && rs_check_stacks(v, &c.freelisted) && rs_check_immortalize(v); /* D2, D4, D5 */
#ifndef RS_NO_REFTOTAL /* the release-nort flavour keeps no totals (reftotal.h) */
    if (ok) {
        intptr_t total = rs_get_reftotal_locked();
        c.refsum += rs_typeid_refsum(); /* typeid: per-thread type terms (T1) */
        if (total != c.refsum)
            ok = rs_violate(v, "RT", NULL,
                            "reference total %ld != sum of live objects' counts %ld (drift %+ld)",
                            (long)total, (long)c.refsum, (long)(total - c.refsum));
    }
#endif
    ok = ok && rs_gc_check_locked(v); /* gc: G1, G3, G4, G7 */
    ok = ok && rs_qsbr_check_locked(v) && rs_delayed_check_locked(v); /* Q1–Q5 */
    ok = ok && rs_trash_check_locked(v) && rs_weakref_check(v); /* TR1, W1 */
    rs_head_unlock();
    free(c.entries);
    rs_freelist_set_free(&c.freelisted); /* freelist */
    return ok;
}

bool rs_check_runtime(rs_tstate *ts, rs_violation *v)
{
    rs_stop_the_world(ts);
    bool ok = rs_check_world(v);
    rs_start_the_world(ts);
    return ok;
}
