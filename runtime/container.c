/* container.c — container(N), N ≤ 8: a tracked object with N atomic slots of strong
 * references (model.md §0.1, §2.1).
 *
 * Writers hold the container's ob_mutex and publish with a release store; the replaced value
 * is decref'd after the unlock.  A store of a mortal non-leaf into a container the collector
 * untracked (only null/leaf/immortal slots) tracks it again, or the cycle the store may close
 * would be invisible to the collector.  Readers are lock-free: acquire load of the slot, then
 * rs_try_incref_compare (which fails if the value died, is owned elsewhere with nothing
 * shared, or left the slot meanwhile); a value that left the slot is retried, anything else
 * falls back to reading under the lock, where the slot's own reference keeps the value alive.
 *
 * The destructor runs inside the trashcan (trash.c): clear weakrefs, drop the slots, decref a
 * heap type, free.  Finalizables (finalizable.c) share the layout and this destructor body. */
#include "objects.h"
#include "typeid.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "tstate.h"

rs_type rs_container_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "container",
    .tp_basicsize = sizeof(rs_container),
    .tp_kind = RS_KIND_CONTAINER,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = rs_container_dealloc,
    .tp_traverse = rs_container_traverse,
    .tp_clear = rs_container_clear,
};

static rs_container *as_container(rs_object *o)
{
    rs_kind k = o->ob_type->tp_kind;
    if (k != RS_KIND_CONTAINER && k != RS_KIND_FINALIZABLE)
        rs_fatal("not a container or finalizable", o);
    return (rs_container *)o;
}

static RS_ATOMIC(void *) *slot_of(rs_object *o, uint32_t i)
{
    rs_container *c = as_container(o);
    if (i >= c->n)
        rs_fatal("container slot index out of range", o);
    return &c->slots[i];
}

rs_object *rs_container_new_typed(rs_type *type, uint32_t n)
{
    if (n > RS_CONTAINER_MAX || type->tp_basicsize < sizeof(rs_container))
        rs_fatal("container type or size out of range", &type->ob_base);
    rs_object *o = rs_object_alloc(type, 1);
    if (o == NULL)
        return NULL;
    rs_container *c = (rs_container *)o;
    c->n = n;
    for (uint32_t i = 0; i < RS_CONTAINER_MAX; i++)
        rs_atomic_store_relaxed_ptr(&c->slots[i], NULL);
    if (type->tp_flags & RS_TPFLAGS_HEAPTYPE)
        rs_incref_type(rs_tstate_current(), type); /* per-thread type count (§5) */
    return o;
}

rs_object *rs_container_new(uint32_t n) { return rs_container_new_typed(&rs_container_type, n); }

/* The collector untracks a container whose slots hold only null, leaves or immortals
 * (update_refs, model.md §7.2 5b).  Unlike an immutable tuple it can still take a reference that
 * closes a cycle, which the collector would never see: storing a mortal non-leaf therefore
 * tracks it again (the GC bits' writer rule, model.md §1.2: we hold ob_mutex, and the collector,
 * the only one that untracks a live container, runs under stop-the-world, never inside our
 * attached critical section). */
static void track_for(rs_object *c, const rs_object *o)
{
    if (o == NULL || rs_is_immortal(o) || o->ob_type->tp_kind == RS_KIND_LEAF)
        return;
    if (!(rs_gc_bits(c) & RS_GC_TRACKED))
        rs_gc_bits_set(c, RS_GC_TRACKED);
}

void rs_container_set(rs_object *c, uint32_t i, rs_object *o)
{
    RS_ATOMIC(void *) *slot = slot_of(c, i);
    rs_object_lock(c);
    track_for(c, o); /* before the store: o is never in an untracked container's slot */
    rs_object *old = rs_atomic_load_relaxed_ptr(slot); /* writers are serialised by the lock */
    /* release: pairs with the readers' acquire load in rs_container_get (and the acquire
     * re-load in rs_try_incref_compare), so o's initialisation is visible to them */
    if (rs_bug(RS_BUG_CONTAINER_PUBLISH_RELAXED))
        rs_atomic_store_relaxed_ptr(slot, o); /* mutant: o's initialisation not published */
    else
        rs_atomic_store_release_ptr(slot, o);
    rs_object_unlock(c);
    if (old != NULL)
        rs_decref(old);
}

rs_object *rs_container_get(rs_object *c, uint32_t i)
{
    RS_ATOMIC(void *) *slot = slot_of(c, i);
    for (int attempt = 0; attempt < 4; attempt++) {
        /* acquire: pairs with the release store in rs_container_set */
        rs_object *o = rs_atomic_load_acquire_ptr(slot);
        if (o == NULL)
            return NULL;
        if (rs_try_incref_compare(slot, o))
            return o;
        if (rs_atomic_load_relaxed_ptr(slot) == o)
            break; /* o is still there but its count cannot be taken lock-free */
    }
    rs_object_lock(c);
    rs_object *o = rs_atomic_load_relaxed_ptr(slot); /* the lock orders us after the writer */
    if (o != NULL)
        rs_incref(o); /* alive: the slot's reference cannot be dropped while we hold the lock */
    rs_object_unlock(c);
    return o;
}

int rs_container_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_container *c = as_container(o);
    for (uint32_t i = 0; i < c->n; i++) {
        rs_object *v = rs_atomic_load_relaxed_ptr(&c->slots[i]);
        if (v != NULL) {
            int r = visit(v, 0, arg);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

void rs_container_clear(rs_object *o)
{
    rs_container *c = as_container(o);
    rs_object *old[RS_CONTAINER_MAX];
    rs_object_lock(o);
    for (uint32_t i = 0; i < c->n; i++) {
        old[i] = rs_atomic_load_relaxed_ptr(&c->slots[i]);
        rs_atomic_store_release_ptr(&c->slots[i], NULL); /* pairs with the readers' acquire load */
    }
    rs_object_unlock(o);
    for (uint32_t i = 0; i < c->n; i++)
        if (old[i] != NULL)
            rs_decref(old[i]);
}

void rs__container_destroy(rs_object *o)
{
    rs_container *c = as_container(o);
    rs_gc_untrack_dying(o);
    rs_weakrefs_clear_dealloc(o);
    /* sole access: the object is dead, no reader can take a reference to it any more */
    for (uint32_t i = 0; i < c->n; i++) {
        rs_object *v = rs_atomic_load_relaxed_ptr(&c->slots[i]);
        if (v != NULL)
            rs_decref(v);
    }
    /* free the block first, then drop the type: freeing may still read ob_type */
    rs_type *t = o->ob_type;
    rs_object_free(o);
    if (t->tp_flags & RS_TPFLAGS_HEAPTYPE)
        rs_decref_type(rs_tstate_current(), t); /* per-thread type count (§5) */
}

void rs_container_dealloc(rs_object *o)
{
    if (rs_trash_begin(o))
        return; /* deposited: the outermost destructor's drain destroys it */
    rs__container_destroy(o);
    rs_trash_end();
}

uint32_t rs_container_nslots(const rs_object *c) { return ((const rs_container *)c)->n; }
