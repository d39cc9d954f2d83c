/* test_check.c — every validator fires on a hand-corrupted state, names the right invariant,
 * and is silent again once the state is repaired (so the checks can fail, and do not fail
 * spuriously). */
#include <string.h>

#include "support.h"

typedef struct saved_header {
    uintptr_t tid;
    uint32_t local;
    intptr_t shared;
    uint8_t bits;
} saved_header;

static saved_header save(rs_object *o)
{
    return (saved_header){rs_atomic_load_relaxed_uptr(&o->ob_tid), rs_atomic_load_relaxed_u32(&o->ob_ref_local),
                          rs_atomic_load_relaxed_iptr(&o->ob_ref_shared), rs_gc_bits(o)};
}

static void restore(rs_object *o, saved_header h)
{
    rs_atomic_store_relaxed_uptr(&o->ob_tid, h.tid);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, h.local);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, h.shared);
    rs_atomic_store_relaxed_u8(&o->ob_gc_bits, h.bits);
}

/* corrupt, check object + world, restore, check clean */
static void expect_object_violation(rs_object *o, const char *inv, uintptr_t tid, uint32_t local,
                                    intptr_t shared, uint8_t bits)
{
    rs_tstate *me = rs_tstate_current();
    saved_header h = save(o);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, tid);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, local);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, shared);
    rs_atomic_store_relaxed_u8(&o->ob_gc_bits, bits);
    rs_violation v;
    memset(&v, 0, sizeof v);
    assert_false(rs_check_object(o, &v));
    assert_string_equal(v.invariant, inv);
    assert_ptr_equal(v.obj, o);
    assert_true(strlen(v.msg) > 0);
    assert_string_equal(world_violation(me, &v), inv);
    restore(o, h);
    assert_true(rs_check_object(o, NULL));
    assert_world_clean(me);
}

static void test_header_validators_fire(void **state)
{
    (void)state;
    rt_up();
    rs_object *o = rs_leaf_new();
    uintptr_t me = rs_thread_id();
    assert_true(rs_check_object(o, NULL));
    /* H1: tid 0 but not merged; and merged but owned */
    expect_object_violation(o, "H1", 0, 1, 0, 0);
    expect_object_violation(o, "H1", me, 0, RS_REF_SHARED(1, RS_REF_MERGED), 0);
    /* H3: negative total; negative shared count with INIT flags */
    expect_object_violation(o, "H3", 0, 0, RS_REF_SHARED(-1, RS_REF_MERGED), 0);
    expect_object_violation(o, "H3", me, 2, RS_REF_SHARED(-1, RS_REF_SHARED_INIT), 0);
    /* H4: merged with a local count */
    expect_object_violation(o, "H4", 0, 1, RS_REF_SHARED(0, RS_REF_MERGED), 0);
    /* H5: a tid that is no thread's id (e.g. gc_refs left behind) */
    expect_object_violation(o, "H5", 3, 1, 0, 0);
    /* G1: UNREACHABLE outside a collection */
    expect_object_violation(o, "G1", me, 1, 0, RS_GC_UNREACHABLE);
    rs_decref(o);
    rt_down();
}

static void test_queue_and_breaker_validators_fire(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *o = rs_leaf_new();
    rs_violation v;
    /* B1: QUEUED flags but on no queue */
    saved_header h = save(o);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_QUEUED);
    assert_string_equal(world_violation(me, &v), "B1");
    /* E2: on the queue, but no merge request raised */
    assert_int_equal(rs_objstack_push(&me->brc.objects_to_merge, o), 0);
    assert_string_equal(world_violation(me, &v), "E2");
    /* B1: queued twice */
    rs_eval_breaker_set(me, RS_EB_EXPLICIT_MERGE);
    assert_int_equal(rs_objstack_push(&me->brc.objects_to_merge, o), 0);
    assert_string_equal(world_violation(me, &v), "B1");
    assert_ptr_equal(rs_objstack_pop(&me->brc.objects_to_merge), o);
    /* B2: a queue entry whose flags are neither QUEUED nor MERGED */
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
    assert_string_equal(world_violation(me, &v), "B2");
    assert_ptr_equal(rs_objstack_pop(&me->brc.objects_to_merge), o);
    rs_eval_breaker_clear(me, RS_EB_EXPLICIT_MERGE);
    restore(o, h);
    assert_world_clean(me);
    /* E3: a spurious interrupt */
    me->spurious_interrupts = 1;
    assert_string_equal(world_violation(me, &v), "E3");
    me->spurious_interrupts = 0;
    /* B3: an unregistered state with queued objects */
    rs_tstate *t = rs_tstate_new();
    assert_int_equal(rs_objstack_push(&t->brc.objects_to_merge, o), 0);
    assert_string_equal(world_violation(me, &v), "B3");
    rs_objstack_clear(&t->brc.objects_to_merge);
    rs_tstate_release(t);
    /* S1: a heap published as initialised that is not READY */
    rs_atomic_store_relaxed_int(&me->heap.debug_state, RS_HEAP_BUILDING);
    assert_string_equal(world_violation(me, &v), "S1");
    rs_atomic_store_relaxed_int(&me->heap.debug_state, RS_HEAP_READY);
    /* RT: a reference total that drifted */
    rs_reftotal_add(1);
    assert_string_equal(world_violation(me, &v), "RT");
    rs_reftotal_add(-1);
    assert_world_clean(me);
    rs_decref(o);
    rt_down();
}

static void test_vfree_fires_on_freed_block(void **state)
{
    (void)state;
    rt_up();
    rs_object *o = rs_leaf_new();
    rs_object *keep = rs_leaf_new();
    rs_decref(o); /* freed; the first 24 bytes stay readable */
    rs_freelists_clear(rs_tstate_current(), false); /* freelist: the block was cached; free it */
    rs_violation v;
    /* a stale pointer that looks alive: the validator must see its block is free */
    saved_header h = save(o);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, rs_thread_id());
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 1);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
    assert_false(rs_check_object(o, &v));
    assert_string_equal(v.invariant, "Vfree");
    restore(o, h);
    rs_decref(keep);
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_validators_fire),
        cmocka_unit_test(test_queue_and_breaker_validators_fire),
        cmocka_unit_test(test_vfree_fires_on_freed_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
