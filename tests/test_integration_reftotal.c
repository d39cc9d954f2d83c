/* test_integration_reftotal.c — the reference total under concurrency (model.md §10; mutant
 * reftotal-racy, gh-117439).
 *
 * RT, deterministically: two threads A and B update the total through the mutant's plain
 * load-then-store.  A hook stalls A inside its window (schedule point
 * "reftotal.racy.between", after the load) until B has created an object (B's +1); A's store
 * then overwrites B's update.  Every step is ordered by release/acquire handoffs, so the lost
 * update is certain and the run has no data race TSan could report in process.  Effect: the
 * validator reports RT (total = live counts − 1) and shutdown reports a reference total of −1.
 * The clean runtime runs the same schedule (A waits at the same place by hand) and ends
 * clean with zero leaks.
 *
 * TSan: in a fork+exec child two threads take turns (a relaxed counter, no happens-before) to
 * incref and decref their own objects; with the mutant the tsan variant reports a data race
 * on the runtime total, and nothing on the clean runtime. */
#include <sched.h>
#include <string.h>

#include "support.h"
#include "integration_child.h"

#include "rs/hooks.h"
#include "rs/object.h"
#include "tstate.h"

/* ---- RT: a forced lost update ---- */

static RS_ATOMIC(int) a_in_window, b_done, a_gone;
static _Thread_local bool stall_in_window; /* set on thread A only */

static void wait_flag(RS_ATOMIC(int) *f)
{
    while (rs_atomic_load_acquire_int(f) == 0) /* pairs with raise_flag's release */
        sched_yield();
}
static void raise_flag(RS_ATOMIC(int) *f) { rs_atomic_store_release_int(f, 1); } /* pairs with wait_flag */

/* A, at the window between its load and its store: let B update, then store the stale sum */
static void window_hook(void *ctx, const char *name)
{
    (void)ctx;
    if (!stall_in_window || strcmp(name, "reftotal.racy.between") != 0)
        return;
    stall_in_window = false;
    raise_flag(&a_in_window);
    wait_flag(&b_done);
}

static void *thread_a(void *p)
{
    rs_tstate *ts = p;
    if (rs_tstate_attach(ts) != 0) {
        rs_tstate_release(ts);
        return NULL;
    }
    rs_object *o = rs_leaf_new();
    stall_in_window = true;
    rs_incref(o); /* the mutant stalls here (window_hook) */
    if (stall_in_window) {
        /* clean runtime: no window was reached; keep the same order by hand */
        stall_in_window = false;
        raise_flag(&a_in_window);
        wait_flag(&b_done);
    }
    rs_decref(o);
    rs_decref(o);
    rs_tstate_exit(ts);
    raise_flag(&a_gone);
    return NULL;
}

static void *thread_b(void *p)
{
    rs_tstate *ts = p;
    if (rs_tstate_attach(ts) != 0) {
        rs_tstate_release(ts);
        return NULL;
    }
    wait_flag(&a_in_window);
    rs_object *o = rs_leaf_new(); /* +1: lost to A's store under the mutant */
    raise_flag(&b_done);
    wait_flag(&a_gone);
    rs_decref(o); /* −1: recorded */
    rs_tstate_exit(ts);
    return NULL;
}

typedef struct rt_result {
    bool world_ok;
    char inv[16];
    rs_leaks leaks;
} rt_result;

static void lost_update(bool mutant, rt_result *r)
{
    memset(r, 0, sizeof *r);
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = false; /* no immortalisation pass: nothing else touches the total */
    assert_int_equal(rs_runtime_init(&o), 0);
    if (mutant)
        rs_bug_set("reftotal-racy", true); /* before the threads bind: they take the racy path */
    rs_atomic_store_relaxed_int(&a_in_window, 0);
    rs_atomic_store_relaxed_int(&b_done, 0);
    rs_atomic_store_relaxed_int(&a_gone, 0);
    rs_hooks hooks = {.sched_point = window_hook};
    rs_hooks_install(&hooks);
    rs_tstate *me = rs_tstate_current();
    rs_tstate *ta = rs_tstate_new(), *tb = rs_tstate_new();
    assert_non_null(ta);
    assert_non_null(tb);
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, thread_a, ta), 0);
    assert_int_equal(pthread_create(&b, NULL, thread_b, tb), 0);
    rs_tstate_detach(me);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    assert_int_equal(rs_tstate_attach(me), 0);
    rs_hooks_install(NULL);
    rs_violation v;
    r->world_ok = rs_check_runtime(me, &v);
    if (!r->world_ok)
        snprintf(r->inv, sizeof r->inv, "%s", v.invariant);
    rs_bug_clear_all();
    /* the violation is recorded: shutdown's collections must not abort on it (lifecycle) */
    if (!r->world_ok)
        rs_rt.opts.validate = false;
    r->leaks = rs_runtime_fini();
}

static void test_lost_update_clean(void **state)
{
    (void)state;
    rt_result r;
    lost_update(false, &r);
    assert_true(r.world_ok);
    assert_int_equal(r.leaks.reftotal, 0);
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_lost_update_reftotal_racy(void **state)
{
    (void)state;
    rt_result r;
    lost_update(true, &r);
    assert_false(r.world_ok);
    assert_string_equal(r.inv, "RT");
    assert_int_equal(r.leaks.reftotal, -1); /* B's +1 was overwritten */
    assert_int_equal(r.leaks.blocks, 0);    /* no object leaked: only the count drifted */
}

/* ---- TSan: free-running updates, in a child ---- */

static RS_ATOMIC(int) churn_turn;

/* Thread i (0 or 1) waits for turn i, updates the total, and passes the turn on.  The turn is
 * a relaxed counter, so it orders the updates in time without creating a happens-before
 * edge: under the mutant every pair of consecutive updates is two unsynchronised plain
 * accesses to one word, and TSan reports the race however the machine schedules the threads
 * (a free-running version relied on the two threads overlapping, which a loaded machine does
 * not promise).  Each thread allocates its object before its first turn, so no lock taken
 * by the allocator separates one thread's update from the other's. */
static void churn(worker *w)
{
    int me = w->idx;
    rs_object *o = rs_leaf_new();
    for (int round = 0; round < 4; round++) {
        while (rs_atomic_load_relaxed_int(&churn_turn) != 2 * round + me)
            sched_yield();
        rs_incref(o); /* the owner's fast path: only the total is shared */
        rs_decref(o);
        rs_atomic_add_relaxed_int(&churn_turn, 1); /* no release: see above */
    }
    rs_decref(o);
}

/* exit 0: ran; 3: leaked */
static int child_main(const char *what)
{
    bool mutant = strcmp(what, "racy") == 0;
    rs_options o;
    rs_options_default(&o);
    o.immortalize_deferred = false;
    if (rs_runtime_init(&o) != 0)
        return 3;
    if (mutant)
        rs_bug_set("reftotal-racy", true);
    worker w[2];
    for (int i = 0; i < 2; i++) {
        w[i].ts = rs_tstate_new();
        w[i].fn = churn;
        w[i].idx = i;
        if (!w[i].ts || pthread_create(&w[i].th, NULL, worker_main, &w[i]) != 0)
            return 3;
    }
    rs_tstate *me = rs_tstate_current();
    rs_tstate_detach(me);
    for (int i = 0; i < 2; i++)
        pthread_join(w[i].th, NULL);
    rs_tstate_attach(me);
    rs_bug_clear_all();
    if (mutant) /* lost updates may have broken RT: shutdown must still account leaks */
        rs_rt.opts.validate = false;
    rs_leaks l = rs_runtime_fini();
    fprintf(stderr, "churn done: reftotal=%ld blocks=%ld\n", (long)l.reftotal, (long)l.blocks);
    return (!mutant && (l.reftotal != 0 || l.blocks != 0)) ? 3 : 0;
}

static void test_tsan_reftotal_racy(void **state)
{
    (void)state;
    static child_result res;
    run_child("racy", NULL, &res);
    if (ITEST_TSAN) {
        if (res.status != ITEST_EXIT_TSAN || !strstr(res.err, ITEST_RACE_TEXT))
            print_error("child status %d, stderr:\n%s\n", res.status, res.err);
        assert_int_equal(res.status, ITEST_EXIT_TSAN);
        assert_non_null(strstr(res.err, ITEST_RACE_TEXT));
        assert_non_null(strstr(res.err, "rs_reftotal_slow"));
    } else {
        print_message("note: not a TSan build: the racy child ran without a detector\n");
        assert_int_equal(res.status, 0);
    }
}

static void test_tsan_reftotal_clean(void **state)
{
    (void)state;
    static child_result res;
    run_child("clean", NULL, &res);
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
        cmocka_unit_test(test_lost_update_clean),
        cmocka_unit_test(test_lost_update_reftotal_racy),
        cmocka_unit_test(test_tsan_reftotal_racy),
        cmocka_unit_test(test_tsan_reftotal_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
