/* finalizable.c — finalizable(N): a container with a behaviour (model.md §0.1, §2.3).
 *
 * Three static types, one per behaviour; the behaviour is the type's tp_extra (a const
 * rs_fin_behaviour *), so a heap type gets one by pointing its tp_extra at one of them and
 * using rs_finalizable_dealloc / rs_finalizable_finalize.  The root slot a resurrecting object
 * stores itself into is the object's immutable `root_slot` field (an index into
 * rs_rt.roots[]).
 *
 * Destructor (inside the trashcan):
 *   1. a finalizer not yet run (type has tp_finalize, FINALIZED clear): resurrect_start, set
 *      FINALIZED, run it, and return if resurrect_end says the object is alive again;
 *   2. DEALLOC_RESURRECT, first time: rs_incref, store in roots[root_slot], return;
 *   3. otherwise destroy as a container (weakrefs, slots, heap type, free).
 * FINALIZED makes finalizers run at most once (also when the GC runs them); `resurrected`
 * makes the destructor resurrect at most once. */
#include "objects.h"

#include "rs/fatal.h"
#include "gc.h"
#include "runtime.h"
#include "tstate.h"

static const rs_fin_behaviour behaviour_none = RS_FIN_NONE;
static const rs_fin_behaviour behaviour_fin_resurrect = RS_FIN_RESURRECT;
static const rs_fin_behaviour behaviour_dealloc_resurrect = RS_DEALLOC_RESURRECT;
static const rs_fin_behaviour behaviour_fin_collect = RS_FIN_COLLECT;

#define FINALIZABLE_TYPE(name_, finalize_, behaviour_)                                    \
    {                                                                                     \
        .ob_base = RS_STATIC_TYPE_HEADER, .tp_name = (name_),                             \
        .tp_basicsize = sizeof(rs_finalizable), .tp_kind = RS_KIND_FINALIZABLE,           \
        .tp_flags = RS_TPFLAGS_GC, .tp_dealloc = rs_finalizable_dealloc,                  \
        .tp_traverse = rs_container_traverse, .tp_clear = rs_container_clear,             \
        .tp_finalize = (finalize_), .tp_extra = (behaviour_),                             \
    }

rs_type rs_fin_none_type =
    FINALIZABLE_TYPE("finalizable(FIN_NONE)", rs_finalizable_finalize, &behaviour_none);
rs_type rs_fin_resurrect_type = FINALIZABLE_TYPE("finalizable(FIN_RESURRECT)",
                                                 rs_finalizable_finalize, &behaviour_fin_resurrect);
rs_type rs_dealloc_resurrect_type =
    FINALIZABLE_TYPE("finalizable(DEALLOC_RESURRECT)", NULL, &behaviour_dealloc_resurrect);
rs_type rs_fin_collect_type =
    FINALIZABLE_TYPE("finalizable(FIN_COLLECT)", rs_finalizable_finalize, &behaviour_fin_collect);

rs_type *rs_finalizable_type(rs_fin_behaviour b)
{
    switch (b) {
    case RS_FIN_NONE: return &rs_fin_none_type;
    case RS_FIN_RESURRECT: return &rs_fin_resurrect_type;
    case RS_DEALLOC_RESURRECT: return &rs_dealloc_resurrect_type;
    case RS_FIN_COLLECT: return &rs_fin_collect_type;
    }
    rs_fatal("unknown finalizable behaviour", NULL);
}

rs_object *rs_finalizable_new(rs_fin_behaviour b, uint32_t n, int root_slot)
{
    return rs_finalizable_new_typed(rs_finalizable_type(b), n, root_slot);
}

rs_fin_behaviour rs_finalizable_behaviour(const rs_object *o)
{
    const rs_type *t = o->ob_type;
    if (t->tp_kind != RS_KIND_FINALIZABLE || t->tp_extra == NULL)
        rs_fatal("not a finalizable", o);
    return *(const rs_fin_behaviour *)t->tp_extra;
}

rs_object *rs_finalizable_new_typed(rs_type *t, uint32_t n, int root_slot)
{
    if (root_slot < 0 || root_slot >= RS_ROOTS)
        rs_fatal("finalizable root slot out of range", NULL);
    if (t->tp_kind != RS_KIND_FINALIZABLE || t->tp_extra == NULL ||
        t->tp_basicsize < sizeof(rs_finalizable))
        rs_fatal("not a finalizable type", &t->ob_base);
    rs_object *o = rs_container_new_typed(t, n);
    if (o == NULL)
        return NULL;
    rs_finalizable *f = (rs_finalizable *)o;
    f->root_slot = root_slot;
    f->resurrected = false;
    return o;
}

void rs_finalizable_finalize(rs_object *o)
{
    rs_atomic_add_relaxed_u64(&rs_rt.stats.finalizers_run, 1);
    switch (rs_finalizable_behaviour(o)) {
    case RS_FIN_RESURRECT:
        rs_incref(o); /* the new reference the root will hold */
        rs_root_set(((rs_finalizable *)o)->root_slot, o);
        break;
    case RS_FIN_COLLECT:
        /* relaxed: set by the finalizing thread itself, or ordered for others by the STW of
         * shutdown step 1; inside a collection's own finalizer phase begin() finds the
         * collector busy and this does nothing */
        if (rs_atomic_load_relaxed_int(&rs_rt.finalizing) == 0)
            rs_gc_collect(rs_tstate_current(), RS_GC_MANUAL);
        break;
    default:
        break;
    }
}

void rs_finalizable_dealloc(rs_object *o)
{
    if (rs_trash_begin(o))
        return;
    rs_finalizable *f = (rs_finalizable *)o;
    rs_type *t = o->ob_type;
    if (t->tp_finalize != NULL && !(rs_gc_bits(o) & RS_GC_FINALIZED)) {
        rs_resurrect_start(o);
        rs_gc_bits_set(o, RS_GC_FINALIZED); /* sole access: we hold the only reference */
        t->tp_finalize(o);
        if (rs_resurrect_end(o)) {
            rs_trash_end(); /* alive again: someone else holds it now, hands off */
            return;
        }
    }
    if (rs_finalizable_behaviour(o) == RS_DEALLOC_RESURRECT && !f->resurrected) {
        f->resurrected = true;
        rs_incref(o);
        rs_root_set(f->root_slot, o);
        rs_trash_end();
        return;
    }
    rs__container_destroy(o);
    rs_trash_end();
}
