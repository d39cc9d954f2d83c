/* test_gc_races.c — the GC mutants that ThreadSanitizer catches (model.md §13):
 * worklist-plain-tid and restore-tid-outside-stw (a worklist pop racing a lock-free reader's
 * ownership check), gc-alloc-count-racy (plain ++ on young.count from two threads) and
 * gc-enabled-racy (a plain read of `enabled` racing enable/disable), gc-threshold-racy (plain
 * threshold stores racing the trigger's loads, gh-148613), each next to the same
 * scenario on the clean runtime, which must run without a report.
 *
 * A TSan report stops the process, so each scenario runs as a child: this program executes
 * itself (/proc/self/exe --gc-child NAME, posix_spawn: TSan does not support fork without
 * exec), as test_tsan_canary.c does.  In builds without TSan the children must simply run
 * to completion. */
#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test_types.h"
#include "integration_child.h"

/* ---- TSan children ---- */

#define CHILD_EXIT_TSAN 66
#define RACE_TEXT "WARNING: ThreadSanitizer: data race"

static RS_ATOMIC(int) child_phase;
static RS_ATOMIC(uint64_t) probes; /* relaxed: no happens-before between prober and collector */

/* B drops the last reference to X (queued to main), then probes X like a lock-free reader
 * (try_incref) until main's collection is over */
static void prober(worker *w)
{
    rs_object *x = w->arg;
    rs_decref(x);
    rs_atomic_store_release_int(&child_phase, 1); /* pairs with main's acquire wait */
    while (rs_atomic_load_acquire_int(&child_phase) != 2) { /* pairs with main's release */
        if (rs_try_incref(x))
            rs_decref(x);
        rs_atomic_add_relaxed_u64(&probes, 1);
        rs_poll(w->ts, NULL);
    }
}

/* At the worklist pop (after the restart), wait until the prober has run two more probes: its
 * ownership checks are then concurrent with the pop's store of ob_tid, deterministically.
 * Relaxed loads only, so the wait itself orders nothing for TSan. */
static void pop_waits_for_probes(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "gc.worklist.pop") != 0)
        return;
    uint64_t start = rs_atomic_load_relaxed_u64(&probes);
    for (long spins = 0; spins < 200000000L && rs_atomic_load_relaxed_u64(&probes) < start + 2; spins++)
        sched_yield();
}

static int child_worklist_once(const char *bug)
{
    rs_atomic_store_relaxed_int(&child_phase, 0);
    rt_up();
    if (bug)
        rs_bug_set(bug, true);
    rs_tstate *ts = rs_tstate_current();
    rs_object *x = rs_leaf_new();
    rs_hooks h = {.sched_point = pop_waits_for_probes};
    rs_hooks_install(&h); /* before the worker starts (hooks.h) */
    worker w;
    worker_start(&w, prober, x, 0);
    while (rs_atomic_load_acquire_int(&child_phase) != 1) /* pairs with prober */
        ;
    rs_gc_collect(ts, RS_GC_MANUAL); /* x: zero in the drain ⇒ objs_to_decref ⇒ popped */
    rs_atomic_store_release_int(&child_phase, 2);
    worker_join(&w);
    rs_hooks_install(NULL);
    rs_bug_clear_all();
    if (bug) /* Shutdown collects; its entry validation would abort on the mutant's
              * effects (e.g. lost young.count updates break G7): this child is for TSan */
        rs_rt.opts.validate = false;
    rs_leaks l = rs_runtime_fini();
    return l.reftotal == 0 && l.blocks == 0 ? 0 : 3;
}

static RS_ATOMIC(int) allocators_done; /* relaxed: the toggler must not synchronise */
static RS_ATOMIC(int) toggles;         /* relaxed, likewise */
static bool wait_for_toggler;
static RS_ATOMIC(int) allocators_ready; /* relaxed, likewise */

static void kept_allocator(worker *w)
{
    static rs_object *kept[2][1100];
    /* the toggler is running before the first flush reads `enabled` (relaxed: no ordering) */
    while (wait_for_toggler && rs_atomic_load_relaxed_int(&toggles) < 2) {
        rs_poll(w->ts, NULL);
        sched_yield();
    }
    /* two allocators: both running before either counts (else the first may finish, exit,
     * and be ordered before the second by the thread-list lock) */
    rs_atomic_add_relaxed_int(&allocators_ready, 1);
    while (!wait_for_toggler && rs_atomic_load_relaxed_int(&allocators_ready) < 2) {
        rs_poll(w->ts, NULL);
        sched_yield();
    }
    for (int i = 0; i < 1100; i++) {
        kept[w->idx][i] = tc_new();
        rs_poll(w->ts, NULL);
    }
    for (int i = 0; i < 1100; i++)
        rs_decref(kept[w->idx][i]);
    if (w->idx == 1)
        rs_atomic_store_relaxed_int(&allocators_done, 1);
}

static void *toggler(void *arg)
{
    (void)arg;
    while (rs_atomic_load_relaxed_int(&allocators_done) == 0) {
        rs_gc_disable();
        rs_gc_enable();
        rs_atomic_add_relaxed_int(&toggles, 1);
        sched_yield();
    }
    return NULL;
}

/* gc-threshold-racy's other side: thresholds changed from a plain thread (set_threshold needs
 * no thread state), t0 alternating 1 and 2 so that every flush still consults them */
static void *threshold_setter(void *arg)
{
    (void)arg;
    for (int i = 0; rs_atomic_load_relaxed_int(&allocators_done) == 0; i++) {
        rs_gc_set_threshold(1 + (i & 1), 0, 0);
        rs_atomic_add_relaxed_int(&toggles, 1);
        sched_yield();
    }
    return NULL;
}

static void *(*toggle_fn)(void *) = toggler; /* what the `toggle` thread of child_sched runs */

static int child_sched(const char *bug, bool toggle)
{
    rt_up();
    if (bug)
        rs_bug_set(bug, true);
    rs_gc_set_threshold(toggle ? 1 : 0, 0, 0); /* toggle: every flush consults `enabled` */
    worker w[2];
    wait_for_toggler = toggle;
    pthread_t tog;
    if (toggle) /* enable/disable need no thread state: a plain thread, which never polls */
        assert_int_equal(pthread_create(&tog, NULL, toggle_fn, NULL), 0);
    else
        worker_start(&w[0], kept_allocator, NULL, 0);
    worker_start(&w[1], kept_allocator, NULL, 1);
    if (!toggle)
        worker_join(&w[0]);
    worker_join(&w[1]);
    if (toggle)
        pthread_join(tog, NULL);
    rs_bug_clear_all();
    if (bug) /* Shutdown collects; its entry validation would abort on the mutant's
              * effects (e.g. lost young.count updates break G7): this child is for TSan */
        rs_rt.opts.validate = false;
    rs_leaks l = rs_runtime_fini();
    return l.reftotal == 0 && l.blocks == 0 ? 0 : 3;
}

/* Two rounds per child.  The pop hook forces the prober's ownership checks into the window;
 * the parent still allows up to CHILD_ATTEMPTS children (see run_gc_child on history_size). */
static int child_worklist(const char *bug)
{
    for (int round = 0; round < 2; round++) {
        int rc = child_worklist_once(bug);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int child_main(const char *name)
{
    if (strcmp(name, "worklist-clean") == 0)
        return child_worklist(NULL);
    if (strcmp(name, "worklist-plain-tid") == 0 || strcmp(name, "restore-tid-outside-stw") == 0)
        return child_worklist(name);
    if (strcmp(name, "sched-clean") == 0)
        return child_sched(NULL, false);
    if (strcmp(name, "toggle-clean") == 0)
        return child_sched(NULL, true);
    if (strcmp(name, "gc-alloc-count-racy") == 0)
        return child_sched(name, false);
    if (strcmp(name, "gc-enabled-racy") == 0)
        return child_sched(name, true);
    toggle_fn = threshold_setter;
    if (strcmp(name, "threshold-clean") == 0)
        return child_sched(NULL, true);
    if (strcmp(name, "gc-threshold-racy") == 0)
        return child_sched(name, true);
    return 2;
}

static void run_gc_child(const char *name, child_result *res)
{
    const char *args[] = {"--gc-child", name, NULL};
    /* history_size=7: the children's probing threads make many accesses between the two
     * racing ones; with the default history TSan cannot restore the older stack and drops
     * the report (measured: about one child in four) */
    run_self(args, "halt_on_error=1:exitcode=66:history_size=7", NULL, res);
}

static void expect_clean_child(const char *name)
{
    static child_result res;
    run_gc_child(name, &res);
    if (res.status != 0)
        print_error("child %s stderr:\n%s\n", name, res.err);
    assert_int_equal(res.status, 0);
}

#define CHILD_ATTEMPTS 3

/* under TSan: a race report naming `where` (in one of CHILD_ATTEMPTS children, see
 * child_worklist); otherwise the child just runs */
static void expect_race_child(const char *name, const char *where)
{
    static child_result res;
    for (int attempt = 0; attempt < (GC_TSAN ? CHILD_ATTEMPTS : 1); attempt++) {
        run_gc_child(name, &res);
        if (res.status != 0)
            break;
    }
    if (!GC_TSAN) {
        print_message("note: not a TSan build: mutant %s ran without a detector\n", name);
        assert_int_equal(res.status, 0);
        return;
    }
    if (res.status != CHILD_EXIT_TSAN || !strstr(res.err, RACE_TEXT) || !strstr(res.err, where))
        print_error("child %s (status %d) stderr:\n%s\n", name, res.status, res.err);
    assert_int_equal(res.status, CHILD_EXIT_TSAN);
    assert_non_null(strstr(res.err, RACE_TEXT));
    assert_non_null(strstr(res.err, where));
}

static void test_worklist_pop_clean(void **state) { (void)state; expect_clean_child("worklist-clean"); }
static void test_mutant_worklist_plain_tid(void **state)
{
    (void)state;
    expect_race_child("worklist-plain-tid", "rs_gc_worklist_pop");
}
static void test_mutant_restore_tid_outside_stw(void **state)
{
    (void)state;
    expect_race_child("restore-tid-outside-stw", "mutant_restore_tid_plain");
}
static void test_sched_counts_clean(void **state)
{
    (void)state;
    expect_clean_child("sched-clean");
    expect_clean_child("toggle-clean");
}
static void test_mutant_alloc_count_racy_tsan(void **state)
{
    (void)state;
    expect_race_child("gc-alloc-count-racy", "rs_gc_on_alloc");
}
static void test_mutant_enabled_racy(void **state)
{
    (void)state;
    expect_race_child("gc-enabled-racy", "rs_gc_should_collect");
}

static void test_thresholds_clean(void **state)
{
    (void)state;
    expect_clean_child("threshold-clean");
}
static void test_mutant_threshold_racy(void **state)
{
    (void)state;
    expect_race_child("gc-threshold-racy", "rs_gc_set_threshold");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--gc-child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worklist_pop_clean),
        cmocka_unit_test(test_mutant_worklist_plain_tid),
        cmocka_unit_test(test_mutant_restore_tid_outside_stw),
        cmocka_unit_test(test_sched_counts_clean),
        cmocka_unit_test(test_mutant_alloc_count_racy_tsan),
        cmocka_unit_test(test_mutant_enabled_racy),
        cmocka_unit_test(test_thresholds_clean),
        cmocka_unit_test(test_mutant_threshold_racy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
