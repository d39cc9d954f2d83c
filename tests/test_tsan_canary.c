/* test_tsan_canary.c — proves ThreadSanitizer is awake and the schedulers hide nothing.
 *
 * The canary: two program threads each do a plain `counter++` on a shared int, followed by a
 * schedule point.  Under pct a hand-written replay trace makes them strictly alternate, so
 * every increment is ordered after the other thread's previous one by the scheduler alone;
 * under free they run in parallel behind the relaxed start gate.  In the tsan variant TSan
 * must report the race in both modes: if it did not, the scheduler's handoff (or the gate)
 * would be creating happens-before edges and would hide the runtime's own missing
 * synchronisation.  The converse: the same canary with a relaxed atomic add must not be
 * reported (no false positive from the scheduler's internals).
 *
 * A TSan report stops the process, so each canary runs as a child: this program executes
 * itself (/proc/self/exe --canary MODE KIND, fork+exec via posix_spawn: TSan does not
 * support fork without exec) with TSAN_OPTIONS=halt_on_error=1:exitcode=66 and the test
 * checks the exit status and the child's stderr.  In builds without TSan the racy canary
 * must simply run to completion (exit 0); the test says so. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "integration_child.h"
#include "scheduler.h"
#include "rs/atomic.h"
#include "rs/hooks.h"

#if defined(__SANITIZE_THREAD__)
#define CANARY_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CANARY_TSAN 1
#endif
#endif
#ifndef CANARY_TSAN
#define CANARY_TSAN 0
#endif

#define CANARY_ITERS 50
#define CANARY_EXIT_TSAN 66
#define CANARY_RACE_TEXT "WARNING: ThreadSanitizer: data race"

/* ---- the child ---- */

static int canary_plain;                 /* racy on purpose */
static RS_ATOMIC(int) canary_atomic;
static bool canary_racy;
static sched *canary_sched;

static void *canary_thread(void *arg)
{
    int idx = (int)(intptr_t)arg;
    sched_thread_begin(canary_sched, idx);
    for (int i = 0; i < CANARY_ITERS; i++) {
        if (canary_racy)
            canary_plain++;
        else
            rs_atomic_add_relaxed_int(&canary_atomic, 1);
        RS_SCHED("canary.after_increment");
    }
    sched_thread_end(canary_sched, idx);
    return NULL;
}

/* exit 0: ran, counted 2 * CANARY_ITERS (pct) and alternated as forced; 2: usage; 3: wrong */
static int canary_main(const char *mode, const char *kind)
{
    bool pct = strcmp(mode, "pct") == 0;
    if ((!pct && strcmp(mode, "free") != 0) ||
        (strcmp(kind, "racy") != 0 && strcmp(kind, "atomic") != 0))
        return 2;
    canary_racy = strcmp(kind, "racy") == 0;
    /* strict alternation: step 0 (start) thread 0, then at each schedule point the other
     * thread; at step 2N+1 thread 0 ends and thread 1 finishes */
    enum { STEPS = 2 * CANARY_ITERS + 1 };
    static sched_switch alt[STEPS + 1];
    for (uint32_t i = 0; i < STEPS; i++)
        alt[i] = (sched_switch){.step = i, .thread = (int32_t)(i & 1)};
    alt[STEPS] = (sched_switch){.step = STEPS, .thread = 1};
    sched_params p = {.seed = 1, .nthreads = 2};
    if (pct) {
        p.replay_trace = alt;
        p.replay_len = STEPS + 1;
    }
    run_mode m = MODE_FREE;
    if (mode_parse(mode, &m) < 0)
        return 2;
    canary_sched = sched_create(m, &p);
    if (!canary_sched)
        return 3;
    sched_install(canary_sched);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, canary_thread, (void *)(intptr_t)i) != 0)
            return 3;
    sched_start(canary_sched);
    for (int i = 0; i < 2; i++) {
        sched_join_wait(canary_sched, i);
        pthread_join(th[i], NULL);
    }
    sched_uninstall(canary_sched);
    int total = canary_racy ? canary_plain : rs_atomic_load_relaxed_int(&canary_atomic);
    int rc = 0;
    if (pct) {
        size_t n;
        uint64_t at;
        sched_trace(canary_sched, &n);
        if (total != 2 * CANARY_ITERS || sched_replay_diverged(canary_sched, &at) ||
            n != STEPS + 1)
            rc = 3;
    } else if (total < 1 || total > 2 * CANARY_ITERS) {
        rc = 3;
    }
    printf("canary mode=%s kind=%s counter=%d\n", mode, kind, total);
    sched_destroy(canary_sched);
    return rc;
}

/* ---- the parent ---- */

static void run_canary(const char *mode, const char *kind, child_result *res)
{
    const char *args[] = {"--canary", mode, kind, NULL};
    run_self(args, "halt_on_error=1:exitcode=66", NULL, res);
}

static void expect_racy_reported(const char *mode)
{
    static child_result res;
    run_canary(mode, "racy", &res);
    if (CANARY_TSAN) {
        if (res.status != CANARY_EXIT_TSAN || !strstr(res.err, CANARY_RACE_TEXT))
            print_error("child stderr:\n%s\n", res.err);
        assert_int_equal(res.status, CANARY_EXIT_TSAN);
        assert_non_null(strstr(res.err, CANARY_RACE_TEXT));
        /* and the race is the canary's, not something in the scheduler */
        assert_true(strstr(res.err, "canary_thread") || strstr(res.err, "canary_plain"));
    } else {
        print_message("note: not a TSan build: the racy %s canary ran without a detector\n",
                      mode);
        assert_int_equal(res.status, 0);
    }
}

static void expect_atomic_clean(const char *mode)
{
    static child_result res;
    run_canary(mode, "atomic", &res);
    if (res.status != 0)
        print_error("child stderr:\n%s\n", res.err);
    assert_int_equal(res.status, 0);
    assert_null(strstr(res.err, "ThreadSanitizer"));
}

static void test_pct_racy_canary_reported(void **state)
{
    (void)state;
    expect_racy_reported("pct");
}

static void test_free_racy_canary_reported(void **state)
{
    (void)state;
    expect_racy_reported("free");
}

static void test_pct_atomic_canary_clean(void **state)
{
    (void)state;
    expect_atomic_clean("pct");
}

static void test_free_atomic_canary_clean(void **state)
{
    (void)state;
    expect_atomic_clean("free");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--canary") == 0)
        return canary_main(argv[2], argv[3]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pct_racy_canary_reported),
        cmocka_unit_test(test_free_racy_canary_reported),
        cmocka_unit_test(test_pct_atomic_canary_clean),
        cmocka_unit_test(test_free_atomic_canary_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
