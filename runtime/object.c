/* object.c — object allocation, new references, destruction, static objects, leaves.
 *
 * Objects live in the calling thread's OBJECT heap (untracked) or GC heap (tracked).  A block
 * is initialised by rs_new_reference with relaxed atomic stores, because lock-free readers
 * (rs_try_incref on a stale pointer) may still probe a recycled block; the creator publishes
 * the object afterwards with a release store, a lock or an RMW. */
#include "rs/object.h"

#include "rs/fatal.h"
#include "freelist.h" /* freelist: the alloc/free seam */
#include "heap.h"
#include "runtime.h"
#include "tstate.h"

#define RS_STATIC_HEADER(type)                                                          \
    {                                                                                   \
        .ob_tid = 0, .ob_flags = RS_OBF_STATIC, .ob_mutex = 0, .ob_gc_bits = 0,          \
        .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_ref_shared = 0, .ob_type = (type) \
    }

rs_type rs_type_type = {
    .ob_base = RS_STATIC_HEADER(&rs_type_type),
    .tp_name = "type",
    .tp_basicsize = sizeof(rs_type),
    .tp_kind = RS_KIND_STATIC,
};

static void leaf_dealloc(rs_object *o) { rs_object_free(o); }

rs_type rs_leaf_type = {
    .ob_base = RS_STATIC_HEADER(&rs_type_type),
    .tp_name = "leaf",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_LEAF,
    .tp_dealloc = leaf_dealloc,
};

static rs_type none_type = {
    .ob_base = RS_STATIC_HEADER(&rs_type_type),
    .tp_name = "NoneType",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_STATIC,
};

rs_object rs_none = RS_STATIC_HEADER(&none_type);

void rs_new_reference(rs_object *o, rs_type *type)
{
    rs_atomic_store_relaxed_u16(&o->ob_flags, 0);
    rs_atomic_store_relaxed_u8(&o->ob_mutex, 0);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, rs_thread_id());
    rs_atomic_store_relaxed_u8(&o->ob_gc_bits, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 1);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
    o->ob_type = type;
    rs_reftotal_inc();
}

rs_object *rs_object_alloc(rs_type *type, int gc)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("object allocation by a thread without a thread state", NULL);
    rs_object *o = rs_freelist_alloc(ts, type, gc); /* freelist: recycled block, already new_reference'd */
    if (o == NULL) {
        o = rs_heap_alloc(&ts->heap, gc ? RS_HEAP_GC : RS_HEAP_OBJECT, type->tp_basicsize);
        if (o == NULL)
            return NULL;
        rs_new_reference(o, type);
    }
    if (gc)
        rs_gc_bits_set(o, RS_GC_TRACKED);
    if (gc)
        rs_gc_on_alloc(ts); /* gc: scheduling counts GC-heap allocations (model.md §7.5) */
    return o;
}

void rs_object_free(rs_object *o)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("object free by a thread without a thread state", o);
    if (rs_heap_block_kind(o) == RS_HEAP_GC)
        rs_gc_on_free(ts); /* gc: scheduling counts GC-heap frees (model.md §7.5) */
    if (rs_freelist_free(ts, o)) /* freelist: cached on the caller's list */
        return;
    rs_heap_free(&ts->heap, o);
}

void rs_dealloc(rs_object *o)
{
    if (rs_rt.opts.validate && !rs_heap_block_allocated(o))
        rs_fatal("Vfree: destroying a block that is not allocated", o);
    rs_type *t = o->ob_type;
    rs_atomic_add_relaxed_u64(&t->tp_deallocs, 1);
    rs_tstate *ts = rs_tstate_current();
    if (ts != NULL)
        ts->deallocs++; /* owner-only: no shared cache line, no RMW */
    else
        rs_atomic_add_relaxed_u64(&rs_rt.stats.deallocs, 1);
    t->tp_dealloc(o);
}

rs_object *rs_leaf_new(void) { return rs_object_alloc(&rs_leaf_type, 0); }
