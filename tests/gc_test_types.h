/* gc_test_types.h — test-only object types for the GC's tests (test_gc.c, test_gc_races.c),
 * written against the type interface of object.h while the runtime's own kinds are built
 * elsewhere: a container with TC_SLOTS slots (traverse, clear, dealloc dropping its slots) and
 * a finalizable whose finalizer may resurrect its object into a root slot; root slot helpers. */
#ifndef RS_GC_TEST_TYPES_H
#define RS_GC_TEST_TYPES_H

#include "support.h"

#include "gc.h"
#include "rs/hooks.h"

#if defined(__SANITIZE_THREAD__)
#define GC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GC_TSAN 1
#endif
#endif
#ifndef GC_TSAN
#define GC_TSAN 0
#endif

/* ---- test types ---- */

#define TC_SLOTS 4

typedef struct tcont {
    rs_object ob;
    RS_ATOMIC(void *) slot[TC_SLOTS];
    int root_idx;     /* finalizable: root slot to resurrect into, -1: none */
} tcont;

static RS_ATOMIC(int) finalize_calls;

static int tc_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    tcont *c = (tcont *)o;
    for (int i = 0; i < TC_SLOTS; i++) {
        rs_object *r = rs_atomic_load_relaxed_ptr(&c->slot[i]);
        if (r) {
            int rc = visit(r, 0, arg);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void tc_clear(rs_object *o)
{
    tcont *c = (tcont *)o;
    for (int i = 0; i < TC_SLOTS; i++) {
        rs_object *r = rs_atomic_exchange_acq_rel_ptr(&c->slot[i], NULL); /* pairs with tc_set */
        if (r)
            rs_decref(r);
    }
}

static void tc_dealloc(rs_object *o)
{
    rs_gc_bits_clear(o, RS_GC_TRACKED);
    tc_clear(o);
    rs_object_free(o);
}

static inline void root_set(int i, rs_object *o)
{
    /* acq_rel: pairs with the acquire load in root_get */
    rs_object *old = rs_atomic_exchange_acq_rel_ptr(&rs_rt.roots[i], o);
    if (old)
        rs_decref(old);
}

/* new reference, or NULL */
static inline rs_object *root_get(int i)
{
    for (;;) {
        rs_object *o = rs_atomic_load_acquire_ptr(&rs_rt.roots[i]); /* pairs with root_set */
        if (o == NULL)
            return NULL;
        if (rs_try_incref_compare(&rs_rt.roots[i], o))
            return o;
        if (rs_atomic_load_acquire_ptr(&rs_rt.roots[i]) == o)
            return NULL; /* dying: the slot's owner is replacing it */
    }
}

static void tf_finalize(rs_object *o)
{
    tcont *c = (tcont *)o;
    rs_atomic_add_relaxed_int(&finalize_calls, 1);
    if (c->root_idx >= 0) {
        rs_incref(o);
        root_set(c->root_idx, o);
    }
}

static rs_type tc_type = {
    .ob_base = {.ob_flags = RS_OBF_STATIC, .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_type = &rs_type_type},
    .tp_name = "test-container",
    .tp_basicsize = sizeof(tcont),
    .tp_kind = RS_KIND_CONTAINER,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = tc_dealloc,
    .tp_traverse = tc_traverse,
    .tp_clear = tc_clear,
};

static rs_type tf_type = {
    .ob_base = {.ob_flags = RS_OBF_STATIC, .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_type = &rs_type_type},
    .tp_name = "test-finalizable",
    .tp_basicsize = sizeof(tcont),
    .tp_kind = RS_KIND_FINALIZABLE,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = tc_dealloc,
    .tp_traverse = tc_traverse,
    .tp_clear = tc_clear,
    .tp_finalize = tf_finalize,
};

static inline rs_object *tc_new_of(rs_type *t)
{
    tcont *c = (tcont *)rs_object_alloc(t, 1);
    assert_non_null(c);
    for (int i = 0; i < TC_SLOTS; i++)
        rs_atomic_store_relaxed_ptr(&c->slot[i], NULL);
    c->root_idx = -1;
    return &c->ob;
}
static inline rs_object *tc_new(void) { return tc_new_of(&tc_type); }

/* slot i of c takes a new reference to r (c not yet shared, or owned by the caller) */
static inline void tc_set(rs_object *c, int i, rs_object *r)
{
    if (r)
        rs_incref(r);
    rs_object *old = rs_atomic_exchange_acq_rel_ptr(&((tcont *)c)->slot[i], r); /* pairs with tc_clear */
    if (old)
        rs_decref(old);
}

static inline uint64_t heap_collections(void) { return rs_atomic_load_relaxed_u64(&rs_rt.gc.collections[RS_GC_HEAP]); }

#endif
