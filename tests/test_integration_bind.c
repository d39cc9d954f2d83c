/* test_integration_bind.c — a late thread's bind racing a heap walk (model.md §8.1, gh-117657;
 * mutant bind-heap-visible-early).
 *
 * A thread state is created by the main thread and bound by its own thread.  An installed hook
 * table stalls that thread at the schedule point "tstate.bind.heap" (inside rs_heap_bind, heap
 * state BUILDING); the binding thread is DETACHED, so a stop-the-world treats it as stopped.
 * While it is stalled the main thread stops the world and walks every heap, either through the
 * validator (rs_check_runtime: S1 "heap_initialized ⇒ heap READY") or through a real collection
 * (whose walk asserts G6 and aborts).  On the clean runtime the half-built heap is skipped and
 * nothing is reported; with the mutant (bind publishes heap_initialized first) the validator
 * reports S1 and the collector aborts with G6 (in a fork+exec child).
 *
 * TSan: in a child the stalled thread and the walker signal each other with relaxed atomics
 * only (no happens-before), so what bind writes after publishing (its BRC registration) is
 * read by the collector without synchronisation: the tsan variant must report a data race with
 * the mutant, and nothing on the clean runtime. */
#include <sched.h>
#include <string.h>

#include "support.h"
#include "integration_child.h"

#include "gc.h"
#include "rs/hooks.h"
#include "objects.h"
#include "tstate.h"

static bool sync_relaxed;             /* set before the binder starts */
static RS_ATOMIC(int) binder_stalled; /* binder → walker */
static RS_ATOMIC(int) binder_go;      /* walker → binder */
static _Thread_local bool stall_here;

static void stall_hook(void *ctx, const char *name)
{
    (void)ctx;
    if (!stall_here || strcmp(name, "tstate.bind.heap") != 0)
        return;
    stall_here = false;
    if (sync_relaxed)
        rs_atomic_store_relaxed_int(&binder_stalled, 1); /* no happens-before on purpose */
    else
        rs_atomic_store_release_int(&binder_stalled, 1); /* pairs with wait_stalled's acquire */
    while ((sync_relaxed ? rs_atomic_load_relaxed_int(&binder_go)
                         : rs_atomic_load_acquire_int(&binder_go)) == 0) /* pairs with let_go */
        sched_yield();
}

static void wait_stalled(void)
{
    while ((sync_relaxed ? rs_atomic_load_relaxed_int(&binder_stalled)
                         : rs_atomic_load_acquire_int(&binder_stalled)) == 0) /* pairs with stall_hook */
        sched_yield();
}

static void let_go(void)
{
    if (sync_relaxed)
        rs_atomic_store_relaxed_int(&binder_go, 1);
    else
        rs_atomic_store_release_int(&binder_go, 1); /* pairs with stall_hook's acquire */
}

static void *binder_main(void *p)
{
    rs_tstate *ts = p;
    stall_here = true;
    if (rs_tstate_bind(ts) == 0 && rs_tstate_attach(ts) == 0) {
        rs_object *o = rs_container_new(1); /* the heap works once bound */
        if (o)
            rs_decref(o);
        rs_tstate_exit(ts);
    } else {
        rs_tstate_release(ts);
    }
    return NULL;
}

enum walker { WALK_CHECK, WALK_GC };

typedef struct bind_result {
    bool started;
    bool world_ok;   /* rs_check_runtime's verdict during the stall (WALK_CHECK) */
    char inv[16];    /* the violated invariant, if any */
    int gc_rc;       /* rs_gc_collect's return (WALK_GC) */
    rs_leaks leaks;
} bind_result;

/* The scenario, without cmocka (it also runs in children) */
static void bind_scenario(bool bug, bool relaxed, enum walker walker, bool validate, bind_result *r)
{
    memset(r, 0, sizeof *r);
    rs_options o;
    rs_options_default(&o);
    o.validate = validate; /* off: the collector's own walk (G6) meets the heap, not its entry validator */
    if (rs_runtime_init(&o) != 0)
        return;
    if (bug)
        rs_bug_set("bind-heap-visible-early", true);
    sync_relaxed = relaxed;
    rs_atomic_store_relaxed_int(&binder_stalled, 0);
    rs_atomic_store_relaxed_int(&binder_go, 0);
    rs_hooks hooks = {.sched_point = stall_hook};
    rs_hooks_install(&hooks);

    rs_tstate *me = rs_tstate_current();
    rs_tstate *ts = rs_tstate_new();
    pthread_t th;
    if (ts == NULL || pthread_create(&th, NULL, binder_main, ts) != 0)
        return;
    r->started = true;
    wait_stalled();
    if (walker == WALK_CHECK) {
        rs_violation v;
        r->world_ok = rs_check_runtime(me, &v);
        if (!r->world_ok)
            snprintf(r->inv, sizeof r->inv, "%s", v.invariant);
    } else {
        r->gc_rc = rs_gc_collect(me, RS_GC_MANUAL);
    }
    let_go();
    rs_tstate_detach(me);
    pthread_join(th, NULL);
    rs_tstate_attach(me);
    rs_hooks_install(NULL);
    rs_bug_clear_all();
    r->leaks = rs_runtime_fini();
}

/* ---- children ---- */

/* exit 0: the walk completed (then the runtime shut down without leaks); 3: setup failed or
 * leaked; an abort (G6) or a sanitizer exit otherwise */
static int child_main(const char *what)
{
    bind_result r;
    if (strcmp(what, "gc-bug") == 0)
        bind_scenario(true, false, WALK_GC, false, &r);
    else if (strcmp(what, "tsan-bug") == 0)
        bind_scenario(true, true, WALK_GC, false, &r);
    else if (strcmp(what, "tsan-clean") == 0)
        bind_scenario(false, true, WALK_GC, false, &r);
    else
        return 2;
    fprintf(stderr, "walk done: gc_rc=%d leaks reftotal=%ld blocks=%ld\n", r.gc_rc,
            (long)r.leaks.reftotal, (long)r.leaks.blocks);
    return (r.started && r.gc_rc >= 0 && r.leaks.reftotal == 0 && r.leaks.blocks == 0) ? 0 : 3;
}

/* ---- tests ---- */

static void test_clean_check_skips_binding_heap(void **state)
{
    (void)state;
    bind_result r;
    bind_scenario(false, false, WALK_CHECK, true, &r);
    assert_true(r.started);
    assert_true(r.world_ok);
    assert_int_equal(r.leaks.reftotal, 0);
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_mutant_check_reports_s1(void **state)
{
    (void)state;
    bind_result r;
    bind_scenario(true, false, WALK_CHECK, true, &r);
    assert_true(r.started);
    assert_false(r.world_ok);
    assert_string_equal(r.inv, "S1");
    assert_int_equal(r.leaks.reftotal, 0); /* the mutant breaks the walk, nothing else */
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_clean_gc_skips_binding_heap(void **state)
{
    (void)state;
    bind_result r;
    bind_scenario(false, false, WALK_GC, true, &r);
    assert_true(r.started);
    assert_true(r.gc_rc >= 0);
    assert_int_equal(r.leaks.reftotal, 0);
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_mutant_gc_g6_fatal(void **state)
{
    (void)state;
    static child_result res;
    run_child("gc-bug", NULL, &res);
    if (res.status != 128 + SIGABRT || !strstr(res.err, "G6"))
        print_error("child status %d, stderr:\n%s\n", res.status, res.err);
    assert_int_equal(res.status, 128 + SIGABRT);
    assert_non_null(strstr(res.err, "G6"));
}

static void test_mutant_tsan_race(void **state)
{
    (void)state;
    static child_result res;
    run_child("tsan-bug", NULL, &res);
    if (ITEST_TSAN) {
        if (res.status != ITEST_EXIT_TSAN || !strstr(res.err, ITEST_RACE_TEXT))
            print_error("child status %d, stderr:\n%s\n", res.status, res.err);
        assert_int_equal(res.status, ITEST_EXIT_TSAN);
        assert_non_null(strstr(res.err, ITEST_RACE_TEXT));
        assert_non_null(strstr(res.err, "rs_tstate_bind")); /* one side is the bind */
    } else {
        /* without TSan the same run is still caught, by G6 */
        assert_int_equal(res.status, 128 + SIGABRT);
        assert_non_null(strstr(res.err, "G6"));
    }
}

static void test_clean_tsan_quiet(void **state)
{
    (void)state;
    static child_result res;
    run_child("tsan-clean", NULL, &res);
    if (res.status != 0)
        print_error("child status %d, stderr:\n%s\n", res.status, res.err);
    assert_int_equal(res.status, 0);
    assert_null(strstr(res.err, "ThreadSanitizer"));
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_check_skips_binding_heap),
        cmocka_unit_test(test_mutant_check_reports_s1),
        cmocka_unit_test(test_clean_gc_skips_binding_heap),
        cmocka_unit_test(test_mutant_gc_g6_fatal),
        cmocka_unit_test(test_mutant_tsan_race),
        cmocka_unit_test(test_clean_tsan_quiet),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
