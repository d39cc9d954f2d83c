/* test_gc.c — the garbage collector (model.md §7): cycles, deferred and zero-refcount objects,
 * finalizer resurrection, the marking error exit, scheduling, validators G1–G7, a stress run,
 * and the GC mutants caught by validators, block counts and counters.  The mutants caught by
 * ThreadSanitizer are in test_gc_races.c.  Test types: gc_test_types.h. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "gc_test_types.h"
#include "objects.h"

/* ---- cycles ---- */

static void test_cycles_collected(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_object *a = tc_new(), *b = tc_new(), *c = tc_new();
    rs_object *d = tc_new(), *e = tc_new(), *f = tc_new();
    rs_object *g = tc_new(), *h = tc_new(), *leaf = rs_leaf_new();
    tc_set(a, 0, b), tc_set(b, 0, a);                  /* 2-cycle */
    tc_set(c, 0, c), tc_set(c, 1, leaf);               /* self-cycle holding a leaf */
    tc_set(d, 0, e), tc_set(e, 0, f), tc_set(f, 0, d); /* 3-cycle */
    tc_set(g, 0, h), tc_set(h, 0, g);                  /* reachable cycle (we hold g) */
    rs_object *garbage[] = {a, b, c, d, e, f, h, leaf};
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++)
        rs_decref(garbage[i]);
    assert_int_equal(rs_get_blocks(), base + 9);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 6);
    assert_int_equal(rs_get_blocks(), base + 2);       /* g and h survive */
    assert_true(rs_is_owned(g) && rs_is_owned(h));     /* restore_tid gave them back */
    assert_int_equal(rs_refcnt(g), 2);
    assert_int_equal(rs_refcnt(h), 1);
    assert_int_equal(rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total), 2);
    assert_world_clean(ts);
    rs_decref(g);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 2);
    assert_int_equal(rs_get_blocks(), base);
    assert_world_clean(ts);
    rt_down();
}

static void test_leaf_only_container_untracked(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_object *c = tc_new(), *leaf = rs_leaf_new(), *inner = tc_new();
    tc_set(c, 0, leaf), tc_set(c, 1, &rs_none);
    tc_set(inner, 0, inner); /* a container referencing a container is not leaf-only */
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 0);
    assert_false(rs_gc_bits(c) & RS_GC_TRACKED);
    assert_true(rs_gc_bits(inner) & RS_GC_TRACKED);
    assert_int_equal(rs_refcnt(c), 1);
    assert_world_clean(ts);
    rs_decref(c);
    rs_decref(leaf);
    rs_decref(inner);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 1); /* inner's self-cycle */
    rt_down();
}

/* A container the GC untracked (empty, or leaves only) that later takes a container closes a
 * cycle: the store must track it again, or the cycle is never collected (the shutdown leak
 * "reftotal 2, blocks 2" of gc-cycles; corpus/scn/gc-untracked-store.scn). */
static void test_store_retracks_untracked_container(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_object *a = rs_container_new(2), *b = rs_container_new(2), *self = rs_container_new(1);
    rs_object *leaf = rs_leaf_new();
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 0);
    assert_false(rs_gc_bits(a) & RS_GC_TRACKED);
    assert_false(rs_gc_bits(b) & RS_GC_TRACKED);
    assert_false(rs_gc_bits(self) & RS_GC_TRACKED);
    rs_container_set(a, 1, leaf);      /* a leaf or an immortal: stays untracked */
    rs_container_set(a, 0, &rs_none);
    assert_false(rs_gc_bits(a) & RS_GC_TRACKED);
    rs_incref(b), rs_container_set(a, 0, b);
    rs_incref(a), rs_container_set(b, 0, a);
    rs_incref(self), rs_container_set(self, 0, self);
    assert_true(rs_gc_bits(a) & RS_GC_TRACKED);
    assert_true(rs_gc_bits(b) & RS_GC_TRACKED);
    assert_true(rs_gc_bits(self) & RS_GC_TRACKED);
    rs_decref(a), rs_decref(b), rs_decref(self);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 3);
    assert_int_equal(rs_get_blocks(), base);
    assert_world_clean(ts);
    rt_down();
}

/* ---- deferred objects (§3.4): only the GC frees them, after disabling deferral ---- */

static void make_deferred(rs_object *o) /* as rs_object_enable_deferred does (owner) */
{
    rs_gc_bits_set(o, RS_GC_DEFERRED);
    rs_atomic_add_seq_cst_iptr(&o->ob_ref_shared, RS_REF_SHARED(RS_REF_DEFERRED, 0));
}

static void test_deferred_cycle_collected(void **state)
{
    (void)state;
    rt_up();
    rs_rt.opts.validate = false; /* make_deferred sets DEFERRED by hand: the GC's entry checks are not this test's subject */
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_object *a = tc_new(), *b = tc_new(), *kept = tc_new();
    make_deferred(a), make_deferred(kept);
    tc_set(a, 0, b), tc_set(b, 0, a), tc_set(kept, 0, kept);
    rs_decref(a), rs_decref(b);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 2); /* a's bias ignored, deferral disabled */
    assert_int_equal(rs_get_blocks(), base + 1);
    assert_true(rs_gc_bits(kept) & RS_GC_DEFERRED); /* reachable: keeps its bias */
    assert_int_equal(rs_refcnt(kept) - RS_REF_DEFERRED, 2);
    rs_decref(kept); /* count 1 (self) + bias: only the GC can free it */
    assert_int_equal(rs_get_blocks(), base + 1);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 1);
    assert_int_equal(rs_get_blocks(), base);
    rs_rt.opts.validate = true;
    assert_world_clean(ts);
    rt_down();
}

/* ---- zero-refcount objects through the merge queue (§7.4) ---- */

static void decref_arg(worker *w)
{
    rs_object **objs = w->arg;
    for (int i = 0; objs[i]; i++)
        rs_decref(objs[i]); /* non-owner: queued to the owner (the main thread) */
}

/* main owns a leaf-only container and an untracked leaf; a worker drops their last
 * references, so both reach zero in the GC's queue drain.  Returns the leaked container
 * (NULL if none leaked). */
static rs_object *zero_through_queue(int64_t *blocks_after, int64_t *base_out)
{
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_object *objs[3] = {tc_new(), rs_leaf_new(), NULL};
    tc_set(objs[0], 0, &rs_none);
    worker w;
    worker_start(&w, decref_arg, objs, 0);
    worker_join(&w);
    assert_true(rs_eval_breaker_load(ts) & RS_EB_EXPLICIT_MERGE); /* queued, not merged yet */
    rs_gc_collect(ts, RS_GC_MANUAL);
    rs_gc_collect(ts, RS_GC_MANUAL); /* two idle collections */
    rs_poll(ts, NULL);
    *blocks_after = rs_get_blocks();
    *base_out = base;
    /* -1 for the exited worker's heap: it allocated nothing */
    return *blocks_after == base ? NULL : objs[0];
}

static void test_zero_refcount_through_queue(void **state)
{
    (void)state;
    rt_up();
    int64_t after, base;
    assert_null(zero_through_queue(&after, &base));
    assert_int_equal(after, base);
    assert_world_clean(rs_tstate_current());
    rt_down();
}

static void test_mutant_gc_untracks_zero_refcount(void **state)
{
    (void)state;
    rt_up();
    assert_int_equal(rs_bug_set("gc-untracks-zero-refcount", true), 0);
    int64_t after, base;
    rs_object *leaked = zero_through_queue(&after, &base);
    assert_non_null(leaked); /* detected: the baseline block count is not restored */
    assert_int_equal(after, base + 1);
    assert_false(rs_gc_bits(leaked) & RS_GC_TRACKED);
    assert_int_equal(rs_refcnt(leaked), 0);
    rs_bug_clear_all();
    rs_dealloc(leaked); /* repair so shutdown accounting stays exact */
    rt_down();
}

/* ---- finalizers ---- */

static void test_finalizer_resurrection(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_atomic_store_relaxed_int(&finalize_calls, 0);
    rs_object *f = tc_new_of(&tf_type), *x = tc_new(), *plain = tc_new_of(&tf_type);
    ((tcont *)f)->root_idx = 0;
    tc_set(f, 0, f), tc_set(f, 1, x), tc_set(x, 0, f); /* f ↔ x, f self-cycle */
    tc_set(plain, 0, plain);                          /* finalizer that does not resurrect */
    rs_decref(f), rs_decref(x), rs_decref(plain);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 1); /* only `plain` */
    assert_int_equal(rs_atomic_load_relaxed_int(&finalize_calls), 2);
    assert_ptr_equal(rs_atomic_load_relaxed_ptr(&rs_rt.roots[0]), f);
    assert_true(rs_gc_bits(f) & RS_GC_FINALIZED);
    assert_false(rs_gc_bits(x) & RS_GC_UNREACHABLE); /* reached from the resurrected f */
    assert_int_equal(rs_refcnt(f), 3);               /* root, self, x */
    assert_int_equal(rs_get_blocks(), base + 2);
    assert_world_clean(ts);
    /* dropped again: collected without a second finalizer run */
    root_set(0, NULL);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 2);
    assert_int_equal(rs_atomic_load_relaxed_int(&finalize_calls), 2);
    assert_int_equal(rs_get_blocks(), base);
    assert_world_clean(ts);
    rt_down();
}

/* ---- OOM in marking (§7.3) ---- */

static RS_ATOMIC(int) fail_chunks;
static bool fault_chunks(void *ctx, const char *site)
{
    (void)ctx;
    return rs_atomic_load_relaxed_int(&fail_chunks) && strcmp(site, "objstack.chunk") == 0;
}

static void oom_case(bool mutant)
{
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    int64_t base = rs_get_blocks();
    rs_object *live = tc_new(), *live2 = tc_new(), *a = tc_new(), *b = tc_new();
    tc_set(live, 0, live2), tc_set(live2, 0, live);
    tc_set(a, 0, b), tc_set(b, 0, a);
    rs_decref(a), rs_decref(b);
    rs_hooks h = {.fault = fault_chunks};
    rs_hooks_install(&h);
    rs_atomic_store_relaxed_int(&fail_chunks, 1);
    if (mutant)
        assert_int_equal(rs_bug_set("oom-during-gc-leaves-scratch", true), 0);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), -1);
    rs_atomic_store_relaxed_int(&fail_chunks, 0);
    rs_hooks_install(NULL);
    rs_violation v;
    if (mutant) {
        /* detected at the next validation: gc_refs left in ob_tid, UNREACHABLE left set */
        const char *inv = world_violation(ts, &v);
        assert_true(strcmp(inv, "G1") == 0 || strcmp(inv, "H5") == 0);
        rs_bug_clear_all();
        rs_stop_the_world(ts);
        rs_gc_restore_all_stw(); /* repair, then go on as the clean runtime would */
        rs_start_the_world(ts);
    }
    assert_world_clean(ts);
    assert_int_equal(rs_atomic_load_relaxed_int(&rs_rt.gc.collecting), 0);
    assert_true(rs_is_owned(live) && rs_is_owned(a));
    assert_int_equal(rs_refcnt(live), 2);
    assert_int_equal(rs_get_blocks(), base + 4); /* nothing freed, mark chunks gone */
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 2); /* a later collection works */
    assert_world_clean(ts);
    rs_decref(live), rs_decref(live2);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 2);
    assert_int_equal(rs_get_blocks(), base);
    rt_down();
}

static void test_oom_during_marking_rolls_back(void **state) { (void)state; oom_case(false); }
static void test_mutant_oom_leaves_scratch(void **state) { (void)state; oom_case(true); }

/* ---- validators fire on hand-broken states ---- */

static void test_validators_fire(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_violation v;
    rs_object *c = tc_new();
    /* G7 */
    rs_atomic_add_relaxed_i64(&rs_rt.gc.young_count, 5);
    assert_string_equal(world_violation(ts, &v), "G7");
    rs_atomic_add_relaxed_i64(&rs_rt.gc.young_count, -5);
    /* G4 */
    rs_atomic_store_relaxed_int(&rs_rt.gc.collecting, 2);
    assert_string_equal(world_violation(ts, &v), "G4");
    rs_atomic_store_relaxed_int(&rs_rt.gc.collecting, 0);
    /* G3 */
    rs_gc_bits_set(c, RS_GC_ALIVE);
    assert_string_equal(world_violation(ts, &v), "G3");
    rs_gc_bits_clear(c, RS_GC_ALIVE);
    /* G1 */
    rs_gc_bits_set(c, RS_GC_UNREACHABLE);
    assert_string_equal(world_violation(ts, &v), "G1");
    rs_gc_bits_clear(c, RS_GC_UNREACHABLE);
    /* G2: a one-entry list (ob_tid 0 ends it) whose entry is not merged */
    uintptr_t tid = rs_atomic_load_relaxed_uptr(&c->ob_tid);
    rs_atomic_store_relaxed_uptr(&c->ob_tid, 0);
    assert_false(rs_gc_check_worklist(c, false, &v));
    assert_string_equal(v.invariant, "G2");
    rs_atomic_store_relaxed_uptr(&c->ob_tid, tid);
    assert_world_clean(ts);
    rs_decref(c);
    rt_down();
}

/* ---- scheduling (§7.5) ---- */

static void test_schedule_flush_and_poll(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_gc_set_threshold(1000, 10, 10);
    enum { N = 1100 };
    static rs_object *objs[N];
    for (int i = 0; i < 511; i++)
        objs[i] = tc_new();
    assert_int_equal(rs_gc_get_count(), 0);
    objs[511] = tc_new();
    assert_int_equal(rs_gc_get_count(), 512);
    assert_int_equal(rs_atomic_load_relaxed_i64(&ts->gc.flushed_since_reset), 512);
    assert_false(rs_eval_breaker_load(ts) & RS_EB_GC_SCHEDULED);
    for (int i = 512; i < N; i++) {
        objs[i] = tc_new();
        tc_set(objs[i], 0, objs[i - 1]); /* a chain: not leaf-only, so it stays tracked */
    }
    assert_int_equal(rs_gc_get_count(), 1024); /* > t0, > long_lived_total / 4 = 0 */
    assert_true(rs_eval_breaker_load(ts) & RS_EB_GC_SCHEDULED);
    uint64_t before = heap_collections();
    rs_poll(ts, NULL);
    assert_int_equal(heap_collections(), before + 1);
    assert_false(rs_eval_breaker_load(ts) & RS_EB_GC_SCHEDULED);
    assert_int_equal(rs_gc_get_count(), 0);
    assert_int_equal(rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total), N - 512);
    for (int i = N - 1; i >= 0; i--) /* newest first: no deep destructor recursion */
        rs_decref(objs[i]);
    assert_int_equal(rs_gc_get_count(), -1024); /* frees flush at -512 without scheduling */
    assert_false(rs_eval_breaker_load(ts) & RS_EB_GC_SCHEDULED);
    assert_world_clean(ts);
    rt_down();
}

/* HEAP collections while `allocs` objects are kept on top of `live` live ones */
static uint64_t scaled_run(bool mutant, int live, int allocs)
{
    rt_up();
    rs_rt.opts.validate = false; /* a counting test: keep it quick under TSan */
    rs_tstate *ts = rs_tstate_current();
    rs_gc_set_threshold(2000, 10, 10);
    rs_gc_disable();
    rs_object **objs = calloc((size_t)(live + allocs), sizeof *objs);
    assert_non_null(objs);
    for (int i = 0; i < live; i++) {
        objs[i] = tc_new();
        if (i > 0)
            tc_set(objs[i], 0, objs[i - 1]); /* a chain stays tracked (not leaf-only) */
    }
    rs_gc_enable();
    rs_gc_collect(ts, RS_GC_MANUAL); /* long_lived_total = live */
    if (mutant)
        assert_int_equal(rs_bug_set("gc-schedule-unscaled", true), 0);
    uint64_t before = heap_collections();
    for (int i = live; i < live + allocs; i++) {
        objs[i] = tc_new();
        tc_set(objs[i], 0, objs[i - 1]);
        rs_poll(ts, NULL);
    }
    uint64_t n = heap_collections() - before;
    rs_bug_clear_all();
    for (int i = live + allocs - 1; i >= 0; i--)
        rs_decref(objs[i]);
    free(objs);
    rt_down();
    return n;
}

static void test_schedule_scales_with_live_heap(void **state)
{
    (void)state;
    enum { LIVE = 16000, ALLOCS = 40000, T0 = 2000 };
    uint64_t bound = ALLOCS / (LIVE / 4 > T0 ? LIVE / 4 : T0) + 1;
    uint64_t clean = scaled_run(false, LIVE, ALLOCS);
    print_message("HEAP collections: %lu (bound %lu)\n", (unsigned long)clean, (unsigned long)bound);
    assert_true(clean >= 1 && clean <= bound);
    uint64_t mutant = scaled_run(true, LIVE, ALLOCS);
    print_message("gc-schedule-unscaled: %lu HEAP collections (bound %lu)\n", (unsigned long)mutant,
                  (unsigned long)bound);
    assert_true(mutant > bound); /* detected by the counter */
}

static void ignores_enabled_case(bool mutant)
{
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_gc_set_threshold(100, 10, 10);
    if (mutant)
        assert_int_equal(rs_bug_set("gc-ignores-enabled", true), 0);
    rs_object *objs[512];
    for (int i = 0; i < 512; i++)
        objs[i] = tc_new();
    assert_true(rs_eval_breaker_load(ts) & RS_EB_GC_SCHEDULED); /* scheduled while enabled */
    rs_gc_disable();                                             /* happens before the poll */
    uint64_t before = heap_collections();
    rs_poll(ts, NULL);
    assert_int_equal(rs_gc_collect(ts, RS_GC_HEAP), mutant ? 0 : 0);
    uint64_t ran = heap_collections() - before;
    rs_bug_clear_all();
    if (mutant)
        assert_true(ran > 0); /* detected: a HEAP collection after the disable */
    else
        assert_int_equal(ran, 0);
    assert_int_equal(rs_gc_collect(ts, RS_GC_MANUAL), 0); /* MANUAL while disabled: nothing */
    rs_gc_enable();
    for (int i = 0; i < 512; i++)
        rs_decref(objs[i]);
    rt_down();
}

static void test_disable_wins_over_scheduled(void **state) { (void)state; ignores_enabled_case(false); }
static void test_mutant_gc_ignores_enabled(void **state) { (void)state; ignores_enabled_case(true); }

static void test_mutant_alloc_count_racy_g7(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_violation v;
    assert_int_equal(rs_bug_set("gc-alloc-count-racy", true), 0);
    rs_object *objs[100];
    for (int i = 0; i < 100; i++)
        objs[i] = tc_new();
    assert_string_equal(world_violation(ts, &v), "G7"); /* counted outside the flushes */
    rs_bug_clear_all();
    rs_atomic_store_relaxed_i64(&rs_rt.gc.young_count, 0); /* repair */
    for (int i = 0; i < 100; i++)
        rs_decref(objs[i]);
    assert_world_clean(ts);
    rt_down();
}

/* ---- stress: 8 threads make cyclic garbage, the main thread collects ---- */

enum { STRESS_THREADS = 8, STRESS_ROOTS = 8, STRESS_TARGET = GC_TSAN ? 10 : 50 };
static RS_ATOMIC(int) stress_running;
static RS_ATOMIC(int) stress_collections; /* by the main thread; workers go on until enough */

static void stress_worker(worker *w)
{
    uint64_t rng = 0x1234 + (uint64_t)w->idx;
    /* per * target iterations, paced by the collector (relaxed: no happens-before): at most
     * (c + 1) * per of them once it has done c collections */
    int per = GC_TSAN ? 20 : 40, target = STRESS_TARGET;
    for (int i = 0; i < per * target;) {
        int c = rs_atomic_load_relaxed_int(&stress_collections);
        if (i >= (c + 1) * per) {
            rs_poll(w->ts, NULL);
            sched_yield();
            continue;
        }
        i++;
        rs_object *a = tc_new(), *b = tc_new();
        tc_set(a, 0, b), tc_set(b, 0, a);
        rs_object *other = root_get((int)(test_rand(&rng) % STRESS_ROOTS));
        if (other) {
            tc_set(b, 1, other); /* a cross-thread reference: dropped later by someone else */
            rs_decref(other);
        }
        if (test_rand(&rng) % 4 == 0) {
            rs_incref(a);
            root_set(w->idx % STRESS_ROOTS, a); /* publish: others may hold it across GCs */
        }
        rs_decref(a), rs_decref(b);
        rs_poll(w->ts, NULL);
    }
    rs_atomic_add_relaxed_int(&stress_running, -1);
}

static void test_stress_collect_while_building(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *ts = rs_tstate_current();
    rs_gc_disable(); /* only the main thread collects (MANUAL ignores nothing here) */
    rs_gc_enable();
    rs_gc_set_threshold(0, 10, 10); /* t0 = 0: no HEAP collections, only ours */
    int64_t base = rs_get_blocks();
    worker w[STRESS_THREADS];
    rs_atomic_store_relaxed_int(&stress_running, STRESS_THREADS);
    rs_atomic_store_relaxed_int(&stress_collections, 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        worker_start(&w[i], stress_worker, NULL, i);
    int collections = 0, collected = 0;
    while (rs_atomic_load_relaxed_int(&stress_running) > 0) {
        int n = rs_gc_collect(ts, RS_GC_MANUAL);
        assert_true(n >= 0);
        collected += n;
        rs_atomic_store_relaxed_int(&stress_collections, ++collections);
        rs_poll(ts, NULL);
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        worker_join(&w[i]);
    for (int i = 0; i < STRESS_ROOTS; i++)
        root_set(i, NULL);
    collected += rs_gc_collect(ts, RS_GC_MANUAL);
    collected += rs_gc_collect(ts, RS_GC_MANUAL);
    rs_poll(ts, NULL);
    print_message("%d collections, %d objects collected\n", collections, collected);
    assert_true(collections >= STRESS_TARGET - 1);
    assert_true(collected >= STRESS_THREADS * STRESS_TARGET); /* most cycles are garbage */
    assert_int_equal(rs_get_blocks(), base);
    assert_world_clean(ts);
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycles_collected),
        cmocka_unit_test(test_leaf_only_container_untracked),
        cmocka_unit_test(test_store_retracks_untracked_container),
        cmocka_unit_test(test_deferred_cycle_collected),
        cmocka_unit_test(test_zero_refcount_through_queue),
        cmocka_unit_test(test_mutant_gc_untracks_zero_refcount),
        cmocka_unit_test(test_finalizer_resurrection),
        cmocka_unit_test(test_oom_during_marking_rolls_back),
        cmocka_unit_test(test_mutant_oom_leaves_scratch),
        cmocka_unit_test(test_validators_fire),
        cmocka_unit_test(test_schedule_flush_and_poll),
        cmocka_unit_test(test_schedule_scales_with_live_heap),
        cmocka_unit_test(test_disable_wins_over_scheduled),
        cmocka_unit_test(test_mutant_gc_ignores_enabled),
        cmocka_unit_test(test_mutant_alloc_count_racy_g7),
        cmocka_unit_test(test_stress_collect_while_building),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
