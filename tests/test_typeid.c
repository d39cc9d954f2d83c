/* test_typeid.c — per-thread heap-type reference counts and the type-id pool (model.md §5), heap
 * types and their instances (typeobj.c).
 *
 * Heap types are deferred, so only the GC may free them; these tests run no collection, so each frees its
 * types with rs_type_heap_drop_testonly (model.md §3.4 done by hand: STW, merge every thread's
 * counts, drop the bias, release the id, then drop the creator's reference), which is what lets
 * rt_down demand zero leaks.  Covered: counts on one thread, 8 threads creating and destroying
 * instances (per-thread counts, merges at exit, RT clean), id reuse after release, pool growth,
 * the typeid.grow / typeid.array faults, T1–T4 firing on hand-broken states, and the
 * typeid-pool-not-finalized mutant caught by the shutdown leak figures. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "rs/hooks.h"
#include "support.h"
#include "typeobj.h"

static intptr_t bias(void) { return RS_REF_DEFERRED; }

static uintptr_t id_of(rs_type *t) { return rs_atomic_load_relaxed_uptr(&t->unique_id); }

static intptr_t my_count(rs_tstate *ts, rs_type *t)
{
    size_t idx = (size_t)(id_of(t) - 1);
    return idx < ts->typeids.size ? ts->typeids.values[idx] : 0;
}

static uint64_t heaptype_deallocs(void) { return rs_atomic_load_relaxed_u64(&rs_heaptype_type.tp_deallocs); }

/* ---- one thread ---- */
static void test_counts_on_one_thread(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    intptr_t r0 = rs_get_reftotal();
    rs_type *t = rs_type_new_heap(me, "T", RS_KIND_LEAF);
    assert_non_null(t);
    assert_int_equal(id_of(t), 1);
    assert_true(rs_type_is_heap(&t->ob_base));
    assert_true(t->tp_flags & RS_TPFLAGS_HEAPTYPE);
    assert_true(rs_gc_bits(&t->ob_base) & RS_GC_DEFERRED);
    assert_true(rs_gc_bits(&t->ob_base) & RS_GC_TRACKED);
    assert_int_equal(rs_refcnt(&t->ob_base), 1 + bias());
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.typeids.size), RS_TYPEID_POOL_MIN);
    assert_int_equal(rs_get_reftotal() - r0, 1); /* the bias is never in reftotal */

    enum { N = 10 };
    rs_object *inst[N];
    for (int i = 0; i < N; i++) {
        inst[i] = rs_instance_new(me, t);
        assert_non_null(inst[i]);
        assert_ptr_equal(inst[i]->ob_type, t);
    }
    /* the type's own fields are untouched: the references sit in this thread's array */
    assert_int_equal(my_count(me, t), N);
    assert_int_equal(me->typeids.size, RS_TYPEID_POOL_MIN);
    assert_int_equal(rs_refcnt(&t->ob_base), 1 + bias());
    assert_int_equal(rs_get_reftotal() - r0, 1 + 2 * N); /* instances + their type references */
    assert_world_clean(me);

    for (int i = 0; i < N; i++)
        rs_decref(inst[i]);
    assert_int_equal(my_count(me, t), 0);
    assert_int_equal(rs_get_reftotal() - r0, 1);
    assert_world_clean(me);

    uint64_t d0 = heaptype_deallocs();
    rs_type_heap_drop_testonly(me, t);
    assert_int_equal(heaptype_deallocs() - d0, 1);
    assert_int_equal(rs_get_reftotal(), r0);
    assert_world_clean(me);
    rt_down();
}

/* ---- 8 threads: create, hand over, destroy ---- */
enum { THREADS = 8, PER_THREAD = 2000, HANDED = 25, SLOTS = 8 };

typedef struct storm {
    rs_type *type;
    rs_object *handed[THREADS][HANDED];
    intptr_t count_at_exit[THREADS];   /* each worker's values[id-1] just before it exits */
    RS_ATOMIC(void *) slots[SLOTS];    /* instances swapped between threads */
    RS_ATOMIC(int) failures;
} storm;

static void storm_worker(worker *w)
{
    storm *s = w->arg;
    rs_tstate *ts = w->ts;
    uint64_t rnd = 0x5eed0000u + (uint64_t)w->idx;
    rs_object *live[PER_THREAD];
    int nlive = 0, nhanded = 0;
    for (int i = 0; i < PER_THREAD; i++) {
        rs_object *o = rs_instance_new(ts, s->type);
        if (o == NULL) {
            rs_atomic_add_relaxed_int(&s->failures, 1);
            return;
        }
        if ((i & 3) == 0) {
            /* swap it for another thread's instance: destroying that one runs decref_type on
             * whichever thread frees it (owner at its merge, or us if its owner has exited), so
             * per-thread counts go negative in some threads and positive in others.
             * acq_rel: publishes o, takes the previous one; pairs with the other exchanges */
            rs_object *prev = rs_atomic_exchange_acq_rel_ptr(&s->slots[test_rand(&rnd) % SLOTS], o);
            if (prev)
                rs_decref(prev);
            continue;
        }
        live[nlive++] = o;
        /* destroy a random live instance now and then (frees run decref_type here) */
        if (nlive > 1 && (test_rand(&rnd) & 1)) {
            int k = (int)(test_rand(&rnd) % (uint64_t)nlive);
            rs_decref(live[k]);
            live[k] = live[--nlive];
        }
        if ((i & 15) == 0 && rs_poll(ts, NULL) != 0)
            rs_atomic_add_relaxed_int(&s->failures, 1);
        if (w->idx == 0 && i == PER_THREAD / 2) {
            /* mid-storm check: per-thread counts in every thread, RT must balance */
            rs_violation v;
            if (!rs_check_runtime(ts, &v)) {
                fprintf(stderr, "storm violation %s: %s\n", v.invariant, v.msg);
                rs_atomic_add_relaxed_int(&s->failures, 1);
            }
        }
    }
    /* hand HANDED instances to the main thread (published by the join), destroy the rest */
    while (nlive > 0) {
        rs_object *o = live[--nlive];
        if (nhanded < HANDED)
            s->handed[w->idx][nhanded++] = o;
        else
            rs_decref(o);
    }
    s->count_at_exit[w->idx] = my_count(ts, s->type);
}

static void test_eight_threads(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    storm *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->type = rs_type_new_heap(me, "Storm", RS_KIND_LEAF);
    assert_non_null(s->type);
    rs_object *t = &s->type->ob_base;
    uint64_t inst_deallocs0 = rs_atomic_load_relaxed_u64(&s->type->tp_deallocs);
    /* one instance of our own first: it sizes the main thread's array, so the main thread's
     * decrefs below are per-thread too (without an array they would go to rs_decref) */
    rs_object *own = rs_instance_new(me, s->type);
    assert_int_equal(my_count(me, s->type), 1);

    worker w[THREADS];
    for (int i = 0; i < THREADS; i++)
        worker_start(&w[i], storm_worker, s, i);
    for (int i = 0; i < THREADS; i++)
        worker_join(&w[i]);
    assert_int_equal(rs_atomic_load_relaxed_int(&s->failures), 0);

    /* each worker's count was exactly what it still held, and its exit merged it */
    /* the workers' exits merged their counts: the type now holds exactly the live instances
     * they made (T1).  (The counts printed were read before each exit's BRC drain, which may
     * still free queued instances and decrement them.) */
    intptr_t live = THREADS * HANDED, sum = 0;
    for (int i = 0; i < SLOTS; i++)
        live += rs_atomic_load_relaxed_ptr(&s->slots[i]) != NULL;
    for (int i = 0; i < THREADS; i++)
        sum += s->count_at_exit[i];
    fprintf(stderr, "storm: worker counts at exit:");
    for (int i = 0; i < THREADS; i++)
        fprintf(stderr, " %ld", (long)s->count_at_exit[i]);
    fprintf(stderr, " (sum %ld, live %ld)\n", (long)sum, (long)live);
    assert_int_equal(rs_refcnt(t), 1 + bias() + live);
    assert_int_equal(my_count(me, s->type), 1);
    assert_world_clean(me);

    /* the main thread destroys them: its own count goes negative, the total stays right */
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < HANDED; k++)
            rs_decref(s->handed[i][k]);
    for (int i = 0; i < SLOTS; i++) {
        rs_object *o = rs_atomic_exchange_acq_rel_ptr(&s->slots[i], NULL); /* after the joins */
        if (o)
            rs_decref(o);
    }
    assert_int_equal(my_count(me, s->type), 1 - live);
    assert_int_equal(rs_refcnt(t) + my_count(me, s->type), 2 + bias()); /* T1 */
    assert_world_clean(me);
    rs_decref(own);
    assert_int_equal(rs_refcnt(t) + my_count(me, s->type), 1 + bias());
    assert_int_equal(rs_atomic_load_relaxed_u64(&s->type->tp_deallocs) - inst_deallocs0,
                     THREADS * PER_THREAD + 1);

    uint64_t d0 = heaptype_deallocs();
    rs_type_heap_drop_testonly(me, s->type); /* merges the main thread's -200: the type goes */
    assert_int_equal(heaptype_deallocs() - d0, 1);
    assert_int_equal(me->typeids.values[0], 0);
    assert_world_clean(me);
    free(s);
    rt_down();
}

/* ---- id reuse after release; pool growth ---- */
static void test_id_reuse_and_growth(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_type *a = rs_type_new_heap(me, "A", RS_KIND_LEAF);
    rs_type *b = rs_type_new_heap(me, "B", RS_KIND_LEAF);
    assert_int_equal(id_of(a), 1);
    assert_int_equal(id_of(b), 2);
    rs_object *ia = rs_instance_new(me, a);
    rs_object *ib = rs_instance_new(me, b);
    /* a is released while one instance lives: its count moved into the type, the instance
     * later drops it through the ordinary path (id 0) */
    rs_type_heap_drop_testonly(me, a);
    assert_int_equal(id_of(a), 0);
    /* the drop merged every count of every thread: b's +1 now sits in b's shared field */
    assert_int_equal(my_count(me, b), 0);
    assert_int_equal(rs_refcnt(&b->ob_base), 2 + bias());
    assert_int_equal(me->typeids.values[0], 0); /* T2: the released entry's count is 0 */
    assert_world_clean(me);
    uint64_t d0 = heaptype_deallocs();
    rs_decref(ia); /* last reference to a: the type goes too */
    assert_int_equal(heaptype_deallocs() - d0, 1);

    rs_type *c = rs_type_new_heap(me, "C", RS_KIND_LEAF);
    assert_int_equal(id_of(c), 1); /* the released id is reused */
    rs_object *ic = rs_instance_new(me, c);
    assert_int_equal(my_count(me, c), 1);
    assert_world_clean(me);

    /* growth: 8 → 16 → 32, every id distinct */
    enum { MANY = 20 };
    rs_type *many[MANY];
    bool seen[64] = {false};
    seen[id_of(b)] = seen[id_of(c)] = true;
    for (int i = 0; i < MANY; i++) {
        many[i] = rs_type_new_heap(me, "M", RS_KIND_LEAF);
        assert_non_null(many[i]);
        uintptr_t id = id_of(many[i]);
        assert_true(id > 0 && id < 64);
        assert_false(seen[id]);
        seen[id] = true;
    }
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.typeids.size), 32);
    /* the thread's array grows to the pool's size on the first use of a large id */
    rs_object *im = rs_instance_new(me, many[MANY - 1]);
    assert_int_equal(me->typeids.size, 32);
    assert_int_equal(my_count(me, many[MANY - 1]), 1);
    assert_int_equal(my_count(me, c), 1); /* copied over */
    assert_world_clean(me);

    rs_decref(im);
    rs_decref(ib);
    rs_decref(ic);
    for (int i = 0; i < MANY; i++)
        rs_type_heap_drop_testonly(me, many[i]);
    rs_type_heap_drop_testonly(me, b);
    rs_type_heap_drop_testonly(me, c);
    assert_world_clean(me);
    rt_down();
}

/* ---- faults ---- */
static const char *fail_site;
static RS_ATOMIC(int) fault_hits;
static bool fail_named(void *ctx, const char *site)
{
    (void)ctx;
    if (fail_site && strcmp(site, fail_site) == 0) {
        rs_atomic_add_relaxed_int(&fault_hits, 1);
        return true;
    }
    return false;
}
static void fail_only(const char *site)
{
    fail_site = site;
    rs_atomic_store_relaxed_int(&fault_hits, 0);
    rs_hooks h = {.fault = fail_named};
    rs_hooks_install(&h);
}
static void fail_none(void)
{
    rs_hooks_install(NULL);
    fail_site = NULL;
}

static void test_grow_fault_gives_id_zero(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    fail_only("typeid.grow");
    rs_type *t = rs_type_new_heap(me, "NoId", RS_KIND_LEAF);
    fail_none();
    assert_non_null(t);
    assert_int_equal(rs_atomic_load_relaxed_int(&fault_hits), 1);
    assert_int_equal(id_of(t), 0);
    assert_null(rs_rt.typeids.table);
    /* ordinary refcounting: the instance's reference is on the type itself */
    rs_object *i = rs_instance_new(me, t);
    assert_int_equal(rs_refcnt(&t->ob_base), 2 + bias());
    assert_int_equal(me->typeids.size, 0);
    assert_world_clean(me);
    rs_decref(i);
    assert_int_equal(rs_refcnt(&t->ob_base), 1 + bias());
    rs_type_heap_drop_testonly(me, t);

    /* a full pool whose doubling fails: the next type goes without an id, the others keep theirs */
    rs_type *full[RS_TYPEID_POOL_MIN];
    for (int i = 0; i < RS_TYPEID_POOL_MIN; i++) {
        full[i] = rs_type_new_heap(me, "F", RS_KIND_LEAF);
        assert_int_equal(id_of(full[i]), (uintptr_t)i + 1);
    }
    fail_only("typeid.grow");
    rs_type *extra = rs_type_new_heap(me, "X", RS_KIND_LEAF);
    fail_none();
    assert_int_equal(rs_atomic_load_relaxed_int(&fault_hits), 1);
    assert_int_equal(id_of(extra), 0);
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.typeids.size), RS_TYPEID_POOL_MIN);
    assert_world_clean(me);
    rs_type_heap_drop_testonly(me, extra);
    for (int i = 0; i < RS_TYPEID_POOL_MIN; i++)
        rs_type_heap_drop_testonly(me, full[i]);
    rt_down();
}

static void test_array_fault_falls_back(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_type *t = rs_type_new_heap(me, "T", RS_KIND_LEAF);
    assert_int_equal(id_of(t), 1);
    fail_only("typeid.array");
    rs_object *i1 = rs_instance_new(me, t);
    fail_none();
    assert_int_equal(rs_atomic_load_relaxed_int(&fault_hits), 1);
    assert_int_equal(me->typeids.size, 0);
    assert_int_equal(rs_refcnt(&t->ob_base), 2 + bias()); /* fell back to rs_incref */
    rs_object *i2 = rs_instance_new(me, t); /* no fault: the array grows */
    assert_int_equal(me->typeids.size, RS_TYPEID_POOL_MIN);
    assert_int_equal(my_count(me, t), 1);
    assert_world_clean(me);
    rs_decref(i1); /* decref_type in range: values goes to 0, the type keeps its +1 ... */
    assert_int_equal(my_count(me, t), 0);
    rs_decref(i2); /* ... and -1 now: per-thread terms may be negative (T1 still balances) */
    assert_int_equal(my_count(me, t), -1);
    assert_int_equal(rs_refcnt(&t->ob_base) + my_count(me, t), 1 + bias());
    assert_world_clean(me);
    rs_type_heap_drop_testonly(me, t);
    rt_down();
}

/* ---- T1–T4 fire on hand-broken states ---- */
static void test_validators_fire(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    rs_type *a = rs_type_new_heap(me, "A", RS_KIND_LEAF);
    rs_type *b = rs_type_new_heap(me, "B", RS_KIND_LEAF);
    rs_object *ib = rs_instance_new(me, b);
    assert_world_clean(me);

    /* T1: per-thread terms that would make the true count negative (reftotal kept in step so
     * RT balances) */
    me->typeids.values[1] -= 3;
    rs_reftotal_add(-3);
    assert_string_equal(world_violation(me, &v), "T1");
    me->typeids.values[1] += 3;
    rs_reftotal_add(3);
    assert_world_clean(me);

    /* T2: a released id with a thread's count still on it */
    uintptr_t ida = id_of(a);
    rs_type_heap_drop_testonly(me, a); /* released, freed */
    me->typeids.values[ida - 1] = 1;
    rs_reftotal_add(1);
    assert_string_equal(world_violation(me, &v), "T2");
    me->typeids.values[ida - 1] = 0;
    rs_reftotal_add(-1);
    assert_world_clean(me);

    /* T3: the entry names a type that no longer knows its id */
    uintptr_t idb = id_of(b);
    rs_atomic_store_relaxed_uptr(&b->unique_id, 0);
    assert_string_equal(world_violation(me, &v), "T3");
    rs_atomic_store_relaxed_uptr(&b->unique_id, idb);
    assert_world_clean(me);

    /* T4: a finalised thread that still has an array */
    me->typeids.is_finalized = true;
    assert_string_equal(world_violation(me, &v), "T4");
    me->typeids.is_finalized = false;
    assert_world_clean(me);

    rs_decref(ib);
    rs_type_heap_drop_testonly(me, b);
    rt_down();
}

/* ---- a type made while immortalisation is active is immortal: no counting at all ---- */
static void test_immortal_type_is_not_counted(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, 1); /* as after the pass */
    intptr_t r0 = rs_get_reftotal();
    rs_type *t = rs_type_new_heap(me, "Imm", RS_KIND_LEAF);
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, 0);
    assert_true(rs_is_immortal(&t->ob_base));
    assert_int_equal(rs_get_reftotal(), r0);
    rs_object *i = rs_instance_new(me, t);
    assert_int_equal(my_count(me, t), 0);
    assert_int_equal(rs_get_reftotal() - r0, 1); /* the instance only */
    assert_world_clean(me);
    rs_decref(i);
    /* undo the immortalisation by hand (shutdown's de-immortalisation is another mechanism's),
     * then free the type the test-only way */
    rs_atomic_store_relaxed_uptr(&t->ob_base.ob_tid, rs_thread_id());
    rs_atomic_store_relaxed_u32(&t->ob_base.ob_ref_local, 1);
    rs_atomic_store_relaxed_iptr(&t->ob_base.ob_ref_shared, RS_REF_SHARED(RS_REF_DEFERRED, 0));
    rs_reftotal_add(1);
    assert_world_clean(me);
    rs_type_heap_drop_testonly(me, t);
    rt_down();
}

/* ---- the dict slot: traversed, dropped by the type's destructor ---- */
static int count_visit(rs_object *o, int tagged, void *arg)
{
    rs_object **seen = arg;
    assert_int_equal(tagged, 0);
    *seen = o;
    return 0;
}

static void test_dict_slot(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_type *t = rs_type_new_heap(me, "WithDict", RS_KIND_LEAF);
    rs_object *d = rs_leaf_new();
    rs_atomic_store_release_ptr(&t->tp_dict, d); /* the type now holds d's reference */
    rs_object *seen = NULL;
    assert_int_equal(rs_heaptype_type.tp_traverse(&t->ob_base, count_visit, &seen), 0);
    assert_ptr_equal(seen, d);
    assert_world_clean(me);
    uint64_t leaves0 = rs_atomic_load_relaxed_u64(&rs_leaf_type.tp_deallocs);
    rs_type_heap_drop_testonly(me, t);
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_leaf_type.tp_deallocs) - leaves0, 1);
    assert_world_clean(me);
    rt_down();
}

/* ---- mutant typeid-pool-not-finalized: the table is left allocated at shutdown ---- */
static rs_leaks run_one_type_then_fini(void)
{
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_type *t = rs_type_new_heap(me, "T", RS_KIND_LEAF);
    rs_object *i = rs_instance_new(me, t);
    rs_decref(i);
    rs_type_heap_drop_testonly(me, t);
    return rs_runtime_fini();
}

static void test_mutant_pool_not_finalized(void **state)
{
    (void)state;
    rs_leaks clean = run_one_type_then_fini();
    assert_int_equal(clean.reftotal, 0);
    assert_int_equal(clean.blocks, 0);
    assert_int_equal(rs_bug_set("typeid-pool-not-finalized", true), 0);
    rs_leaks bad = run_one_type_then_fini();
    rs_bug_clear_all();
    assert_int_equal(bad.reftotal, 0);
    assert_int_equal(bad.blocks, 1); /* the table */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_on_one_thread),
        cmocka_unit_test(test_eight_threads),
        cmocka_unit_test(test_id_reuse_and_growth),
        cmocka_unit_test(test_grow_fault_gives_id_zero),
        cmocka_unit_test(test_array_fault_falls_back),
        cmocka_unit_test(test_validators_fire),
        cmocka_unit_test(test_immortal_type_is_not_counted),
        cmocka_unit_test(test_dict_slot),
        cmocka_unit_test(test_mutant_pool_not_finalized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
