/* typeobj.c — heap type objects and their instances (model.md §0.1, §3.1, §5).
 *
 * rs_type_new_heap allocates a type object in the creator's GC heap (tracked), makes it
 * deferred and gives it a unique id; its instances take a type reference with rs_incref_type
 * (a plain per-thread increment, typeid.c) and their destructor drops it with rs_decref_type.
 * A deferred type is freed only after its deferral is disabled and its id released (the GC's
 * job, model.md §3.4); its destructor then drops the dict slot and frees the block.  Unit tests
 * that run no collection free heap types with rs_type_heap_drop_testonly, which does §3.4 by
 * hand. */
#include "typeobj.h"
#include "deferred.h"

#include "rs/fatal.h"
#include "runtime.h"
#include "tstate.h"
#include "typeid.h"

/* ---- the metatype ---- */

static void heaptype_clear(rs_object *o)
{
    rs_type *t = (rs_type *)o;
    rs_object *d = rs_atomic_exchange_acq_rel_ptr(&t->tp_dict, NULL); /* pairs with setters' exchange */
    if (d != NULL)
        rs_decref(d);
}

static int heaptype_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_type *t = (rs_type *)o;
    rs_object *d = rs_atomic_load_acquire_ptr(&t->tp_dict); /* pairs with setters' exchange */
    return d != NULL ? visit(d, 0, arg) : 0;
}

static void heaptype_dealloc(rs_object *o)
{
    rs_type *t = (rs_type *)o;
    /* T3: per-thread counts may still name this type until its id is released */
    if (rs_atomic_load_relaxed_uptr(&t->unique_id) != RS_INVALID_UNIQUE_ID)
        rs_fatal("T3: heap type destroyed while it still holds a unique id", o);
    rs_gc_untrack_dying(o);
    heaptype_clear(o);
    rs_object_free(o);
}

rs_type rs_heaptype_type = {
    .ob_base = {.ob_tid = 0, .ob_flags = RS_OBF_STATIC, .ob_mutex = 0, .ob_gc_bits = 0,
                .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_ref_shared = 0, .ob_type = &rs_type_type},
    .tp_name = "heaptype",
    .tp_basicsize = sizeof(rs_heaptype),
    .tp_kind = RS_KIND_TYPE,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = heaptype_dealloc,
    .tp_traverse = heaptype_traverse,
    .tp_clear = heaptype_clear,
};

/* ---- instances ---- */

static void instance_dealloc(rs_object *o)
{
    rs_type *t = o->ob_type;
    const rs_type *base = ((rs_heaptype *)t)->base;
    base->tp_dealloc(o); /* frees the block: o is gone, t is not (we still hold its reference) */
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("heap-type instance destroyed by a thread without a thread state", o);
    rs_decref_type(ts, t);
}

rs_object *rs_instance_new(rs_tstate *ts, rs_type *type)
{
    RS_ASSERT(type->tp_flags & RS_TPFLAGS_HEAPTYPE);
    RS_ASSERT(!(type->tp_flags & RS_TPFLAGS_GC)); /* tracked kinds initialise their slots */
    RS_ASSERT(ts == rs_tstate_current());
    rs_object *o = rs_object_alloc(type, 0);
    if (o == NULL)
        return NULL;
    rs_incref_type(ts, type);
    return o;
}

/* ---- creation ---- */

rs_type *rs_type_new_heap_from(rs_tstate *ts, const char *name, const rs_type *base)
{
    RS_ASSERT(ts == rs_tstate_current());
    RS_ASSERT(!(base->tp_flags & RS_TPFLAGS_HEAPTYPE) && base->tp_dealloc != NULL);
    rs_heaptype *h = (rs_heaptype *)rs_object_alloc(&rs_heaptype_type, 1);
    if (h == NULL)
        return NULL;
    rs_type *t = &h->type;
    t->tp_name = name;
    t->tp_basicsize = base->tp_basicsize;
    t->tp_kind = base->tp_kind;
    t->tp_flags = (base->tp_flags & RS_TPFLAGS_GC) | RS_TPFLAGS_HEAPTYPE;
    /* leaves know nothing of types: the wrapper drops the type reference; container-layout
     * kinds (containers, finalizables) drop it themselves */
    t->tp_dealloc = base->tp_kind == RS_KIND_LEAF ? instance_dealloc : base->tp_dealloc;
    t->tp_traverse = base->tp_traverse;
    t->tp_clear = base->tp_clear;
    t->tp_finalize = base->tp_finalize;
    rs_atomic_store_relaxed_uptr(&t->unique_id, RS_INVALID_UNIQUE_ID);
    rs_atomic_store_relaxed_ptr(&t->tp_dict, NULL);
    t->tp_extra = base->tp_extra;
    rs_atomic_store_relaxed_u64(&t->tp_deallocs, 0);
    h->base = base;
    rs_set_deferred(&t->ob_base); /* deferred.c (model.md §3.1) */
    rs_typeid_assign(ts, t); /* id 0 on failure: ordinary refcounting */
    return t;
}

rs_type *rs_type_new_heap(rs_tstate *ts, const char *name, rs_kind base_kind)
{
    switch (base_kind) {
    case RS_KIND_LEAF:
        return rs_type_new_heap_from(ts, name, &rs_leaf_type);
    default:
        rs_fatal("rs_type_new_heap: base kind has no static base type yet", NULL);
    }
}

/* ---- test-only destruction ---- */

void rs_type_heap_drop_testonly(rs_tstate *ts, rs_type *type)
{
    rs_object *o = &type->ob_base;
    RS_ASSERT(!rs_is_immortal(o) && (rs_gc_bits(o) & RS_GC_DEFERRED));
    rs_stop_the_world(ts);
    /* model.md §3.4 by hand: merge every thread's counts, drop the bias, release the id */
    rs_head_lock();
    rs_typeid_merge_all_locked();
    rs_head_unlock();
    rs_gc_bits_clear(o, RS_GC_DEFERRED); /* STW writer */
    /* the bias goes, then merge_refcount(o, 0) (model.md §7.1; the GC's helper, written out here):
     * with the bias gone the shared count may be negative against a positive local count */
    intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) - RS_REF_SHARED(RS_REF_DEFERRED, 0);
    intptr_t n = (intptr_t)rs_atomic_load_relaxed_u32(&o->ob_ref_local) + (shared >> RS_REF_SHARED_SHIFT);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(n, RS_REF_MERGED));
    rs_typeid_release(type);
    rs_start_the_world(ts);
    rs_decref(o); /* the creator's reference */
}

bool rs_type_is_heap(const rs_object *o) { return o->ob_type == &rs_heaptype_type; }
