/* test_trash.c — the trashcan (model.md §1.3): a chain of 1,000,000 containers is destroyed with
 * a bounded destructor depth (no C stack overflow, also under ASan); chains through lists and
 * finalizables; a deposited object resurrected by its destructor after the drain keeps H1;
 * the torture site "trash.deposit"; the drain half of mutant tid-zero-unmerged (drain stores
 * ob_tid = 0 without MERGED) caught by H1; TR1 firing on a hand-broken chain. */
#include <string.h>
#include <time.h>

#include "rs/hooks.h"
#include "objects.h"
#include "support.h"

static uint64_t deallocs(rs_type *t) { return rs_atomic_load_relaxed_u64(&t->tp_deallocs); }

/* a container type whose destructor records the deepest nesting it ran at */
static int max_depth;
static void probe_dealloc(rs_object *o)
{
    int d = rs_tstate_current()->trash.dealloc_depth;
    if (d > max_depth)
        max_depth = d;
    rs_container_dealloc(o);
}
static rs_type probe_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "test.probe_container",
    .tp_basicsize = sizeof(rs_container),
    .tp_kind = RS_KIND_CONTAINER,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = probe_dealloc,
    .tp_traverse = rs_container_traverse,
    .tp_clear = rs_container_clear,
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define CHAIN 1000000

static void test_million_container_chain(void **state)
{
    (void)state;
    rt_up();
    uint64_t d0 = deallocs(&probe_type);
    double t0 = now_s();
    rs_object *head = NULL;
    for (int i = 0; i < CHAIN; i++) {
        rs_object *c = rs_container_new_typed(&probe_type, 1);
        assert_non_null(c);
        /* c → previous head; c is not published yet, so a plain initialising store will do
         * (rs_container_set's lock costs most of the build time under TSan) */
        rs_atomic_store_relaxed_ptr(&((rs_container *)c)->slots[0], head);
        head = c;
    }
    double t1 = now_s();
    max_depth = 0;
    rs_decref(head); /* recursion would need ~1M frames */
    double t2 = now_s();
    assert_int_equal(deallocs(&probe_type) - d0, CHAIN);
    /* the depth seen by a destructor never exceeds the limit (drained ones start at 0) */
    assert_true(max_depth <= rs_rt.opts.trash_depth);
    assert_true(max_depth >= rs_rt.opts.trash_depth - 1);
    assert_null(rs_tstate_current()->trash.delete_later);
    assert_int_equal(rs_tstate_current()->trash.dealloc_depth, 0);
    fprintf(stderr, "# chain of %d: build %.3f s, destroy %.3f s, max depth %d\n", CHAIN, t1 - t0,
            t2 - t1, max_depth);
    rt_down();
}

/* lists and finalizables in one chain, with a small limit */
static void test_mixed_chain(void **state)
{
    (void)state;
    rt_up();
    rs_rt.opts.trash_depth = 3;
    uint64_t l0 = deallocs(&rs_list_type), f0 = deallocs(&rs_fin_none_type);
    uint64_t r0 = rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run);
    rs_object *head = NULL;
    for (int i = 0; i < 30000; i++) {
        rs_object *o;
        if (i % 2) {
            o = rs_list_new();
            if (head)
                assert_int_equal(rs_list_append(o, head), 0);
        } else {
            o = rs_finalizable_new(RS_FIN_NONE, 1, 0);
            rs_container_set(o, 0, head);
        }
        head = o;
    }
    rs_object *wr = rs_weakref_new(head, true);
    rs_decref(head);
    assert_null(rs_weakref_get(wr));
    assert_int_equal(deallocs(&rs_list_type) - l0, 15000);
    assert_int_equal(deallocs(&rs_fin_none_type) - f0, 15000);
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run) - r0, 15000);
    rs_decref(wr);
    rt_down();
}

/* torture: the fault hook asks for a deposit at every nested level */
static bool deposit_always(void *ctx, const char *site)
{
    (void)ctx;
    return strcmp(site, "trash.deposit") == 0;
}

static void test_torture_deposits_everything(void **state)
{
    (void)state;
    rt_up();
    rs_hooks h = {.fault = deposit_always};
    rs_hooks_install(&h);
    uint64_t d0 = deallocs(&probe_type);
    rs_object *head = NULL;
    for (int i = 0; i < 1000; i++) {
        rs_object *c = rs_container_new_typed(&probe_type, 2);
        rs_container_set(c, 0, head);
        rs_container_set(c, 1, rs_list_new());
        head = c;
    }
    max_depth = 0;
    rs_decref(head);
    rs_hooks_install(NULL);
    assert_int_equal(deallocs(&probe_type) - d0, 1000);
    /* a destructor called at depth 1 is deposited at once; every body ran from the drain */
    assert_int_equal(max_depth, 1);
    rt_down();
}

/* ---- a destructor-resurrected object that went through the trashcan ---- */

/* a leaf whose destructor switches the mutant on: destroyed after the deposit, before the drain */
static void bug_switch_dealloc(rs_object *o)
{
    rs_bug_set("tid-zero-unmerged", true);
    rs_object_free(o);
}
static rs_type bug_switch_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "test.bug_switch",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_LEAF,
    .tp_dealloc = bug_switch_dealloc,
};

/* top(2): slot 0 → chain of trash_depth − 1 containers → F (DEALLOC_RESURRECT, root 2);
 * slot 1 → S.  top's destructor drops slot 0 first: F's destructor is the first to be called
 * at depth trash_depth (top runs at 1, the chain at 2..trash_depth), F dies on the owner's fast path
 * (tid = us, shared 0), and is deposited; then slot 1 (S); then the outermost drain destroys
 * F, whose destructor resurrects it with rs_incref into roots[2]. */
static rs_object *build(rs_object *last_slot1)
{
    rs_object *f = rs_finalizable_new(RS_DEALLOC_RESURRECT, 0, 2);
    rs_object *head = f;
    for (int i = 0; i < rs_rt.opts.trash_depth - 1; i++) {
        rs_object *c = rs_container_new(1);
        rs_container_set(c, 0, head);
        head = c;
    }
    rs_object *top = rs_container_new(2);
    rs_container_set(top, 0, head);
    rs_container_set(top, 1, last_slot1);
    return top;
}

static void test_deposited_resurrection_keeps_h1(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t f0 = deallocs(&rs_dealloc_resurrect_type);
    rs_decref(build(rs_leaf_new()));
    assert_int_equal(deallocs(&rs_dealloc_resurrect_type) - f0, 1);
    rs_object *f = rs_root_get(2);
    assert_non_null(f);
    /* the drain made it merged (tid 0, MERGED); the resurrection counted through shared */
    assert_int_equal(rs_atomic_load_relaxed_uptr(&f->ob_tid), 0);
    assert_int_equal(rs_atomic_load_relaxed_iptr(&f->ob_ref_shared) & RS_REF_SHARED_FLAG_MASK,
                     RS_REF_MERGED);
    assert_true(rs_gc_bits(f) & RS_GC_TRACKED); /* re-tracked by the drain */
    rs_decref(f);
    assert_world_clean(me);
    rs_roots_clear();
    assert_int_equal(deallocs(&rs_dealloc_resurrect_type) - f0, 2);
    rt_down();
}

static void test_mutant_drain_omits_merged_caught_by_h1(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *s = rs_object_alloc(&bug_switch_type, 0);
    assert_non_null(s);
    rs_decref(build(s)); /* the mutant is on from S's death onwards: only the drain sees it */
    assert_true(rs_bug(RS_BUG_TID_ZERO_UNMERGED));
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "H1");
    rs_object *f = rs_atomic_load_relaxed_ptr(&rs_rt.roots[2]);
    assert_ptr_equal(v.obj, f);
    /* tid 0, not merged: the resurrection's incref took the shared path (count 1), and the
     * root store then added MAYBE_WEAKREF */
    assert_int_equal(rs_atomic_load_relaxed_uptr(&f->ob_tid), 0);
    assert_int_equal(rs_atomic_load_relaxed_iptr(&f->ob_ref_shared),
                     RS_REF_SHARED(1, RS_REF_MAYBE_WEAKREF));
    /* repair by hand (what the clean drain does: merged), then clean up */
    rs_bug_clear_all();
    rs_atomic_store_relaxed_iptr(&f->ob_ref_shared, RS_REF_SHARED(1, RS_REF_MERGED));
    assert_world_clean(me);
    rs_roots_clear();
    rt_down();
}

/* TR1 fires on a deposited object left waiting outside any destructor (made by hand) */
static void test_tr1_fires(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *x = rs_leaf_new();
    me->trash.delete_later = x;
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "TR1");
    assert_ptr_equal(v.obj, x);
    me->trash.delete_later = NULL;
    assert_world_clean(me);
    rs_decref(x);
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_million_container_chain),
        cmocka_unit_test(test_mixed_chain),
        cmocka_unit_test(test_torture_deposits_everything),
        cmocka_unit_test(test_deposited_resurrection_keeps_h1),
        cmocka_unit_test(test_mutant_drain_omits_merged_caught_by_h1),
        cmocka_unit_test(test_tr1_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
