/* test_integration_gc.c — the collector running against many threads using the real object
 * kinds (runtime/objects.h, code.h, typeobj.h): cross-mechanism tests, clean runtime only.
 *
 *   cycles        8 threads build and drop cyclic garbage (containers, lists, finalizables —
 *                 some resurrecting into roots — and weakrefs, half with callbacks) while the
 *                 main thread collects in a loop; validators run at every GC entry (validate
 *                 mode, fatal on a violation), the world is clean after, nothing leaks, and the
 *                 collector freed at least the self-cycles the threads left behind.
 *   merge queue   a producer hands containers (half in self-cycles) to a consumer, whose
 *                 decrefs drive them to zero through the owner's merge queue, while the main
 *                 thread collects: every object is freed exactly once (zero blocks at the end).
 *   immortal      temporary immortalisation active (a thread was started): functions created
 *                 before and after are immortal and survive every collection unchanged, while
 *                 cycles of deferred-enabled containers holding them are still collected.
 *   heap types    generations of short-lived threads create instances of one heap type in
 *                 cycles, park some in roots, and exit while the main thread collects; the
 *                 type dies last, with zero leaks.
 * Deferred objects held only by another thread's stack are in test_integration_stacks.c.
 * Sizes are small under TSan (2 cores, 9 threads). */
#include <sched.h>
#include <string.h>

#include "support.h"
#include "integration_child.h"

#include "code.h"
#include "deferred.h"
#include "gc.h"
#include "objects.h"
#include "tstate.h"
#include "typeobj.h"

#define NWORKERS 8
#define ROUNDS (ITEST_TSAN ? 25 : 150)

#define MIN_COLLECTIONS (ITEST_TSAN ? 4 : 10)
static RS_ATOMIC(int) workers_done;
static RS_ATOMIC(int) collections; /* by the main thread while workers run */
static RS_ATOMIC(int) worker_failed; /* cmocka is not thread-safe: workers record, main asserts */

static void fail_if(bool bad)
{
    if (bad)
        rs_atomic_store_relaxed_int(&worker_failed, 1);
}

/* collect until every worker has finished; returns the sum of what the collections freed */
static long collect_while_running(rs_tstate *me, int nworkers, int *ncollections)
{
    long freed = 0;
    int n = 0;
    while (rs_atomic_load_acquire_int(&workers_done) < nworkers) { /* pairs with worker_finished */
        int rc = rs_gc_collect(me, RS_GC_MANUAL);
        assert_true(rc >= 0);
        freed += rc;
        n++;
        rs_atomic_add_relaxed_int(&collections, 1);
        rs_poll(me, NULL); /* stop for the workers' own (scheduled) collections */
        sched_yield();
    }
    if (ncollections)
        *ncollections = n;
    return freed;
}

static long collect_until_quiet(rs_tstate *me)
{
    long freed = 0;
    for (int i = 0; i < 10; i++) {
        int rc = rs_gc_collect(me, RS_GC_MANUAL);
        assert_true(rc >= 0);
        freed += rc;
        if (rc == 0)
            break;
    }
    return freed;
}

/* objects cleared by every collection so far, whichever thread ran it (the workers' own
 * scheduled collections included) */
static long gc_collected(void) { return (long)rs_atomic_load_relaxed_u64(&rs_rt.gc.collected); }

static void worker_finished(void) { rs_atomic_add_release_int(&workers_done, 1); } /* pairs with the loops' acquire */

static void reset_counters(void)
{
    rs_atomic_store_relaxed_int(&workers_done, 0);
    rs_atomic_store_relaxed_int(&worker_failed, 0);
    rs_atomic_store_relaxed_int(&collections, 0);
}

/* the runtime's shutdown does not yet run model.md §4 steps 3-5 (final collections, roots cleared,
 * de-immortalisation): the tests drop their roots and collect before rt_down themselves */
static long clear_roots_and_collect(rs_tstate *me)
{
    /* a collection that runs a resurrecting finalizer refills a root: collect first, so every
     * finalizer has run, then clear the roots (twice: a clear can free what the first pass
     * finalised into one) */
    long freed = collect_until_quiet(me);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < RS_ROOTS; i++)
            rs_root_set(i, NULL);
        freed += collect_until_quiet(me);
    }
    return freed;
}

/* ---- cycles ---- */

static void make_garbage(worker *w, int round)
{
    rs_fin_behaviour b = round % 4 == 0 ? RS_FIN_RESURRECT : RS_FIN_NONE;
    rs_object *c1 = rs_container_new(3), *c2 = rs_container_new(2);
    rs_object *l = rs_list_new();
    rs_object *f = rs_finalizable_new(b, 1, w->idx % RS_ROOTS); /* one root slot per thread */
    if (!c1 || !c2 || !l || !f) {
        fail_if(true);
        return;
    }
    rs_incref(c2);
    rs_container_set(c1, 0, c2); /* c1 → c2 */
    rs_incref(c1);
    rs_container_set(c2, 0, c1); /* c2 → c1 */
    rs_incref(f);
    rs_container_set(c1, 1, f);  /* c1 → f */
    rs_incref(c2);
    rs_container_set(f, 0, c2);  /* f → c2 */
    rs_incref(l);
    fail_if(rs_list_append(l, l) != 0); /* l → l */
    rs_incref(c1);
    fail_if(rs_list_append(l, c1) != 0); /* l → c1 */
    rs_object *wr = rs_weakref_new(c2, (round & 1) != 0);
    fail_if(wr == NULL);
    rs_decref(c1);
    rs_decref(c2);
    rs_decref(f);
    rs_decref(l); /* all garbage now: only the collector can free it */
    rs_poll(w->ts, NULL);
    if (wr) {
        rs_object *g = rs_weakref_get(wr); /* alive until a collection clears it */
        if (g)
            rs_decref(g);
        rs_decref(wr);
    }
}

static void cycles_worker(worker *w)
{
    /* at least ROUNDS, and on until the collector has run a few times during the churn */
    for (int r = 0; r < ROUNDS || (rs_atomic_load_relaxed_int(&collections) < MIN_COLLECTIONS &&
                                   r < 40 * ROUNDS); r++)
        make_garbage(w, r);
    worker_finished();
}

static void test_cycles_many_threads(void **state)
{
    (void)state;
    rt_up();
    reset_counters();
    rs_tstate *me = rs_tstate_current();
    long c0 = gc_collected();
    worker w[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        worker_start(&w[i], cycles_worker, NULL, i);
    int ncoll = 0;
    long freed = collect_while_running(me, NWORKERS, &ncoll);
    for (int i = 0; i < NWORKERS; i++)
        worker_join(&w[i]);
    clear_roots_and_collect(me); /* the resurrected finalizables' cycles too */
    freed = gc_collected() - c0;
    assert_int_equal(rs_atomic_load_relaxed_int(&worker_failed), 0);
    assert_true(ncoll >= 1);
    /* every round left at least its self-referencing list, which only the collector frees */
    assert_true(freed >= (long)NWORKERS * ROUNDS);
    assert_world_clean(me);
    print_message("cycles: %d collections while running, %ld objects freed\n", ncoll, freed);
    rt_down();
}

/* ---- objects reaching zero through the merge queue while the GC runs ---- */

#define MAILBOX 16
#define HANDOFFS (ITEST_TSAN ? 300 : 3000)
static RS_ATOMIC(void *) mailbox[MAILBOX];

static void producer(worker *w)
{
    for (int i = 0; i < HANDOFFS; i++) {
        rs_object *c = rs_container_new(2);
        if (c == NULL) {
            fail_if(true);
            break;
        }
        rs_container_set(c, 1, rs_leaf_new());
        if (i & 1) {
            rs_incref(c);
            rs_container_set(c, 0, c); /* a self-cycle: reaches 1, not 0, through the queue */
        }
        RS_ATOMIC(void *) *slot = &mailbox[i % MAILBOX];
        while (rs_atomic_load_acquire_ptr(slot) != NULL) { /* pairs with the consumer's exchange */
            rs_poll(w->ts, NULL); /* merge what the consumer queued; stop for collections */
            sched_yield();
        }
        rs_atomic_store_release_ptr(slot, c); /* our reference moves to the consumer */
        rs_poll(w->ts, NULL);
    }
    worker_finished(); /* exit drains whatever is still queued to us */
}

static void consumer(worker *w)
{
    for (int i = 0; i < HANDOFFS; i++) {
        RS_ATOMIC(void *) *slot = &mailbox[i % MAILBOX];
        rs_object *c;
        /* acq_rel: acquires the producer's release store, releases the slot back to it */
        while ((c = rs_atomic_exchange_acq_rel_ptr(slot, NULL)) == NULL) {
            rs_poll(w->ts, NULL);
            sched_yield();
        }
        fail_if(rs_atomic_load_relaxed_uptr(&c->ob_tid) == rs_thread_id()); /* not ours */
        rs_decref(c); /* shared count goes negative: queued to the producer */
        rs_poll(w->ts, NULL);
    }
    worker_finished();
}

static void test_merge_queue_while_collecting(void **state)
{
    (void)state;
    rt_up();
    reset_counters();
    for (int i = 0; i < MAILBOX; i++)
        rs_atomic_store_relaxed_ptr(&mailbox[i], NULL);
    rs_tstate *me = rs_tstate_current();
    long c0 = gc_collected();
    worker p, c;
    worker_start(&p, producer, NULL, 0);
    worker_start(&c, consumer, NULL, 1);
    int ncoll = 0;
    long freed = collect_while_running(me, 2, &ncoll);
    worker_join(&p);
    worker_join(&c);
    collect_until_quiet(me);
    freed = gc_collected() - c0;
    assert_int_equal(rs_atomic_load_relaxed_int(&worker_failed), 0);
    assert_true(freed >= HANDOFFS / 2); /* the self-cycles */
    assert_world_clean(me);
    print_message("merge queue: %d collections, %ld cycles freed\n", ncoll, freed);
    rt_down(); /* the other half died through the producer's merges: zero blocks left */
}

/* ---- a collection with immortalisation active ---- */

static rs_object *early_fn;
static rs_object *made_fns[2][ROUNDS]; /* immortal: released by hand after the collections */

static void immortal_worker(worker *w)
{
    rs_object *code = rs_code_new(1, 1, 2); /* compiled in a suppression scope: mortal */
    fail_if(code == NULL || rs_is_immortal(code));
    for (int r = 0; r < ROUNDS; r++) {
        /* immortal if created while active; mortal if another thread is inside a compile
         * (suppression) scope at that moment — both are released by hand at the end */
        rs_object *fn = rs_function_new(code, NULL);
        fail_if(fn == NULL);
        made_fns[w->idx][r] = fn;
        rs_object *c = rs_container_new(3);
        fail_if(c == NULL || rs_object_enable_deferred(c) != 0); /* never immortalised */
        rs_incref(fn);
        rs_container_set(c, 0, fn);
        rs_incref(early_fn);
        rs_container_set(c, 1, early_fn);
        rs_incref(c);
        rs_container_set(c, 2, c); /* a deferred self-cycle: collectable only by the GC */
        rs_decref(c);
        rs_poll(w->ts, NULL);
    }
    rs_decref(code); /* the functions keep it */
    worker_finished();
}

static void test_gc_with_immortalization_active(void **state)
{
    (void)state;
    rt_up(); /* immortalize_deferred on */
    reset_counters();
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 0, 1);
    early_fn = rs_function_new(code, NULL);
    assert_non_null(early_fn);
    assert_false(rs_is_immortal(early_fn)); /* armed, not active: no thread started yet */
    long c0 = gc_collected();
    worker w[2];
    for (int i = 0; i < 2; i++)
        worker_start(&w[i], immortal_worker, NULL, i); /* the first start runs the pass */
    assert_true(rs_is_immortal(early_fn));
    int ncoll = 0;
    long freed = collect_while_running(me, 2, &ncoll);
    for (int i = 0; i < 2; i++)
        worker_join(&w[i]);
    collect_until_quiet(me);
    freed = gc_collected() - c0;
    assert_int_equal(rs_atomic_load_relaxed_int(&worker_failed), 0);
    assert_true(rs_is_immortal(early_fn)); /* survived every collection, still immortal */
    assert_int_equal(rs_refcnt(early_fn), RS_IMMORTAL_INITIAL_REFCNT);
    assert_true(freed >= 2L * ROUNDS); /* the deferred self-cycles */
    assert_world_clean(me);
    /* shutdown does not de-immortalise yet (model.md §4 step 4): end the functions here (immortal
     * or not), each with the one reference its creator still holds */
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < ROUNDS; r++)
            rs_deferred_test_release(made_fns[i][r], 1);
    rs_deferred_test_release(early_fn, 1);
    rs_deferred_test_release(code, 1);
    collect_until_quiet(me); /* the workers' code objects: mortal, deferred, unreferenced now */
    assert_world_clean(me);
    rt_down();
}

/* ---- D2 under biased counting: a non-owner's decref of a deferred object ---- */

static rs_object *d2_fn;
static void d2_decref_elsewhere(worker *w)
{
    rs_decref(d2_fn); /* not the owner: the shared field goes below the bias */
    (void)w;
}

static void test_deferred_decref_by_non_owner(void **state)
{
    (void)state;
    rt_up_mortal();
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 0, 1);
    d2_fn = rs_function_new(code, NULL);
    rs_incref(d2_fn); /* local 2: one reference handed to the worker */
    worker w;
    worker_start(&w, d2_decref_elsewhere, NULL, 0);
    worker_join(&w);
    assert_true((rs_atomic_load_relaxed_iptr(&d2_fn->ob_ref_shared) >> RS_REF_SHARED_SHIFT) <
                RS_REF_DEFERRED);
    assert_int_equal(rs_refcnt(d2_fn), RS_REF_DEFERRED + 1);
    assert_world_clean(me); /* sound: the whole count keeps the bias */
    /* hand-broken: the count itself below the bias ⇒ D2 fires */
    intptr_t saved = rs_atomic_load_relaxed_iptr(&d2_fn->ob_ref_shared);
    rs_atomic_store_relaxed_iptr(&d2_fn->ob_ref_shared, saved - ((intptr_t)2 << RS_REF_SHARED_SHIFT));
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "D2");
    rs_atomic_store_relaxed_iptr(&d2_fn->ob_ref_shared, saved);
    assert_world_clean(me);
    rs_decref(d2_fn);
    rs_decref(code);
    collect_until_quiet(me);
    rt_down();
}

/* ---- heap-type instances dying across thread exits ---- */

#define GENERATIONS 4
#define PER_GEN 3
static rs_type *node_type;

static void heap_type_worker(worker *w)
{
    for (int r = 0; r < ROUNDS / 2; r++) {
        rs_object *a = rs_container_new_typed(node_type, 2);
        rs_object *b = rs_container_new_typed(node_type, 2);
        if (!a || !b) {
            fail_if(true);
            return;
        }
        rs_incref(b);
        rs_container_set(a, 0, b);
        rs_incref(a);
        rs_container_set(b, 0, a); /* a ⇄ b */
        if (r % 8 == 0) {
            rs_incref(a);
            rs_root_set(w->idx, a); /* outlives this thread; replaces (and drops) the last one */
        }
        rs_decref(a);
        rs_decref(b);
        rs_poll(w->ts, NULL);
    }
    worker_finished();
}

static void test_heap_type_instances_across_exits(void **state)
{
    (void)state;
    rt_up_mortal(); /* the heap type stays mortal: it must die at the end */
    reset_counters();
    rs_tstate *me = rs_tstate_current();
    node_type = rs_type_new_heap_from(me, "itest.node", &rs_container_type);
    assert_non_null(node_type);
    long c0 = gc_collected();
    for (int g = 0; g < GENERATIONS; g++) {
        rs_atomic_store_relaxed_int(&workers_done, 0);
        worker w[PER_GEN];
        for (int i = 0; i < PER_GEN; i++)
            worker_start(&w[i], heap_type_worker, NULL, i);
        collect_while_running(me, PER_GEN, NULL);
        for (int i = 0; i < PER_GEN; i++)
            worker_join(&w[i]); /* instances now owned by exited threads */
        collect_until_quiet(me);
        assert_world_clean(me);
    }
    assert_int_equal(rs_atomic_load_relaxed_int(&worker_failed), 0);
    rs_decref(&node_type->ob_base); /* the instances and the collector decide when it dies */
    clear_roots_and_collect(me); /* the last generation's survivors become garbage */
    assert_true(gc_collected() - c0 >= 2L * GENERATIONS * PER_GEN * (ROUNDS / 2));
    assert_world_clean(me);
    rt_down(); /* zero blocks: the type was freed too */
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycles_many_threads),
        cmocka_unit_test(test_merge_queue_while_collecting),
        cmocka_unit_test(test_gc_with_immortalization_active),
        cmocka_unit_test(test_heap_type_instances_across_exits),
        cmocka_unit_test(test_deferred_decref_by_non_owner),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
