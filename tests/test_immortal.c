/* test_immortal.c — temporary immortalisation of deferred objects (model.md §3.6) and D5.
 *
 * Properties checked: the first non-main thread state triggers one pass that immortalises
 * every mortal deferred object (reference total conserved: RT), later creations do not run
 * it again, the option off never triggers it; suppression scopes nest and commute (D5) and
 * nothing created inside a scope is immortal, also with suppressors on several threads racing
 * thread creation.  The mutant immortalize-suppress-race is caught by D5 and by the scenario
 * "objects created inside a scope are mortal" (deterministically sequenced), and, in the tsan
 * variant, by ThreadSanitizer in a fork+exec child.
 *
 * Deferred objects are released with rs_deferred_test_release (no collector yet). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#include "code.h"
#include "deferred.h"
#include "immortal.h"

#if defined(__SANITIZE_THREAD__)
#define IM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define IM_TSAN 1
#endif
#endif
#ifndef IM_TSAN
#define IM_TSAN 0
#endif

static void rt_up_opts(bool immortalize)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = immortalize;
    assert_int_equal(rs_runtime_init(&o), 0);
}

static int imm(void) { return rs_atomic_load_seq_cst_int(&rs_rt.immortal.immortalize); }
static int passes(void) { return rs_atomic_load_relaxed_int(&rs_rt.immortal.passes); }

static void noop(worker *w) { (void)w; }

static void spawn_and_join(void)
{
    worker w;
    worker_start(&w, noop, NULL, 0);
    worker_join(&w);
}

static void test_first_thread_triggers_once(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(3, 2, 2);
    rs_object *fn = rs_function_new(code, NULL);
    rs_object *leaf = rs_leaf_new();
    rs_frame_push(me, code, fn);                 /* tagged and strong refs during the pass */
    rs_stack_push(me, fn);
    assert_int_equal(imm(), 0);
    assert_false(rs_is_immortal(code) || rs_is_immortal(fn));
    assert_world_clean(me);

    spawn_and_join();                            /* the trigger */
    assert_int_equal(imm(), 1);
    assert_int_equal(passes(), 1);
    assert_true(rs_is_immortal(code) && rs_is_immortal(fn));
    assert_true(rs_gc_bits(code) & RS_GC_DEFERRED);   /* kept */
    assert_int_equal(rs_atomic_load_relaxed_uptr(&code->ob_tid), 0);
    assert_false(rs_is_immortal(leaf));          /* only deferred objects */
    assert_world_clean(me);                      /* RT: the counts left the total */

    rs_object *fn2 = rs_function_new(code, NULL);   /* created while active: immortal */
    assert_true(rs_is_immortal(fn2));
    rs_object *code2 = rs_code_new(1, 0, 0);        /* compiled in a scope: mortal */
    assert_false(rs_is_immortal(code2));
    spawn_and_join();
    assert_int_equal(passes(), 1);               /* never again */
    assert_false(rs_is_immortal(code2));
    assert_world_clean(me);

    rs_frame_pop(me);
    rs_deferred_test_release(fn2, 1);
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rs_deferred_test_release(code2, 1);
    rs_decref(leaf);
    rt_down();
}

/* A container the collector untracked while it held only a temporarily immortal function
 * (model.md §7.2 5b) closes a cycle with it: the function's globals is the container.  At
 * shutdown the function is de-immortalised (§4 step 4) and the cycle is garbage; the final
 * collections must free both (issue 16's model gap: does the untracked container leak?). */
static void test_untracked_container_of_immortals_freed_at_shutdown(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *c = rs_container_new(1);
    rs_object *code = rs_code_new(1, 0, 0);
    rs_object *fn = rs_function_new(code, c);    /* fn -> c (globals), fn -> code */
    spawn_and_join();                            /* fn and code become immortal */
    assert_true(rs_is_immortal(fn) && rs_is_immortal(code));
    rs_container_set(c, 0, fn);                  /* c -> fn: only an immortal, c stays as is */
    assert_true(rs_gc_bits(c) & RS_GC_TRACKED);
    assert_true(rs_gc_collect(me, RS_GC_MANUAL) >= 0);
    assert_false(rs_gc_bits(c) & RS_GC_TRACKED); /* leaf/immortal-only: untracked */
    assert_world_clean(me);
    rs_decref(c);                                /* only the cycle holds c now */
    rt_down();                                   /* leaks: reftotal 0, blocks 0 */
}

static void test_option_off_never_triggers(void **state)
{
    (void)state;
    rt_up_opts(false);
    rs_object *code = rs_code_new(0, 0, 0);
    spawn_and_join();
    spawn_and_join();
    assert_int_equal(imm(), 0);
    assert_int_equal(passes(), 0);
    rs_object *fn = rs_function_new(code, NULL);
    assert_false(rs_is_immortal(code) || rs_is_immortal(fn));
    assert_world_clean(rs_tstate_current());
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void test_scopes_nest_and_block_the_pass(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 0, 0);
    rs_immortalize_suppress();
    rs_isolated_scope_enter();
    rs_immortalize_suppress();
    assert_int_equal(imm(), -6);
    assert_world_clean(me);                      /* D5 with A = 3 */
    spawn_and_join();                            /* suppressed: no pass */
    assert_int_equal(passes(), 0);
    rs_object *fn = rs_function_new(code, NULL);
    assert_false(rs_is_immortal(fn));
    rs_immortalize_unsuppress();
    rs_isolated_scope_exit();
    assert_world_clean(me);
    rs_immortalize_unsuppress();
    assert_int_equal(imm(), 0);                  /* still armed */
    spawn_and_join();
    assert_int_equal(imm(), 1);
    assert_true(rs_is_immortal(fn));             /* outside any scope now: fair game */
    rs_immortalize_suppress();                   /* active and suppressed: 1 - 2 */
    assert_int_equal(imm(), -1);
    rs_object *fn2 = rs_function_new(code, NULL);
    assert_false(rs_is_immortal(fn2));
    assert_world_clean(me);
    rs_immortalize_unsuppress();
    rs_deferred_test_release(fn2, 1);
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void test_d5_fires(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    rs_immortalize_suppress();
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, 0);   /* a lost suppression */
    assert_string_equal(world_violation(me, &v), "D5");
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, -2);
    assert_world_clean(me);
    rs_immortalize_unsuppress();
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, -2);  /* suppressed by no one */
    assert_string_equal(world_violation(me, &v), "D5");
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, 0);
    assert_world_clean(me);
    rt_down();
}

/* ---- the historical interleaving, sequenced by hand ----
 * main: suppress; B: suppress; main: unsuppress; main: create a thread (trigger); B compiles
 * and makes a function inside its scope and checks it is mortal; B: unsuppress. */
static RS_ATOMIC(int) phase;
static RS_ATOMIC(int) b_saw_immortal;

static void wait_phase(rs_tstate *ts, int p)
{
    while (rs_atomic_load_acquire_int(&phase) < p) { /* pairs with set_phase's release */
        rs_poll(ts, NULL);
        sched_yield();
    }
}
static void set_phase(int p) { rs_atomic_store_release_int(&phase, p); } /* pairs with wait_phase */

static void scope_thread(worker *w)
{
    rs_immortalize_suppress();
    set_phase(1);
    wait_phase(w->ts, 2);
    rs_object *code = rs_code_new(1, 1, 1);
    rs_object *fn = rs_function_new(code, NULL);
    rs_atomic_store_relaxed_int(&b_saw_immortal, rs_is_immortal(fn) || rs_is_immortal(code));
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rs_immortalize_unsuppress();
}

static void sequenced_interleaving(bool mutant)
{
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    if (mutant)
        rs_bug_set("immortalize-suppress-race", true);
    rs_atomic_store_relaxed_int(&phase, 0);
    rs_atomic_store_relaxed_int(&b_saw_immortal, -1);
    rs_immortalize_suppress();
    worker b;
    worker_start(&b, scope_thread, NULL, 0);       /* suppressed: no pass */
    wait_phase(me, 1);
    rs_immortalize_unsuppress();                   /* B is still inside its scope */
    const char *inv = world_violation(me, &v);     /* D5 */
    spawn_and_join();                              /* may trigger */
    set_phase(2);
    worker_join(&b);
    if (mutant) {
        assert_string_equal(inv, "D5");
        assert_int_equal(passes(), 1);                       /* ran while B was suppressing */
        assert_int_equal(rs_atomic_load_relaxed_int(&b_saw_immortal), 1);
    } else {
        assert_string_equal(inv, "");
        assert_int_equal(passes(), 0);
        assert_int_equal(rs_atomic_load_relaxed_int(&b_saw_immortal), 0);
        assert_int_equal(imm(), 0);
    }
    rs_bug_clear_all();
    rs_atomic_store_relaxed_int(&rs_rt.immortal.immortalize, imm() > 0 ? 1 : 0);
    assert_world_clean(me);
    rt_down();
}

static void test_scope_objects_mortal(void **state) { (void)state; sequenced_interleaving(false); }
static void test_mutant_suppress_race_caught(void **state) { (void)state; sequenced_interleaving(true); }

static void test_mutant_nesting_breaks_d5(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    rs_bug_set("immortalize-suppress-race", true);
    rs_immortalize_suppress();
    rs_immortalize_suppress();                     /* saves -2, writes -2: A = 2 needs -4 */
    assert_string_equal(world_violation(me, &v), "D5");
    rs_immortalize_unsuppress();
    rs_immortalize_unsuppress();
    rs_bug_clear_all();
    assert_world_clean(me);
    rt_down();
}

/* ---- suppressors on several threads racing thread creation (free-running) ---- */
#define RACE_ITERS 150

static RS_ATOMIC(int) race_bad;

static void suppressor(worker *w)
{
    for (int i = 0; i < RACE_ITERS; i++) {
        rs_immortalize_suppress();
        if (i % 3 == 0) {
            rs_object *code = rs_code_new(1, 0, 1);
            rs_object *fn = code ? rs_function_new(code, NULL) : NULL;
            rs_poll(w->ts, NULL);                  /* a pass may try to run here */
            if (code && fn) {
                if (rs_is_immortal(code) || rs_is_immortal(fn))
                    rs_atomic_add_relaxed_int(&race_bad, 1);
                rs_deferred_test_release(fn, 1);
                rs_deferred_test_release(code, 1);
            }
        }
        rs_poll(w->ts, NULL);
        rs_immortalize_unsuppress();
        rs_poll(w->ts, NULL);
    }
}

static void test_suppressors_race_thread_creation(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&race_bad, 0);
    worker w[2];
    for (int i = 0; i < 2; i++)
        worker_start(&w[i], suppressor, NULL, i);  /* the first creation may trigger, too */
    for (int i = 0; i < 6; i++) {
        spawn_and_join();
        rs_poll(me, NULL);
    }
    for (int i = 0; i < 2; i++)
        worker_join(&w[i]);
    assert_int_equal(rs_atomic_load_relaxed_int(&race_bad), 0);
    assert_true(passes() <= 1);
    assert_true(imm() == 0 || imm() == 1);
    assert_int_equal(imm(), passes());
    assert_world_clean(me);                        /* D5 with A = 0, RT */
    rt_down();
}

/* ---- TSan sees the mutant's plain accesses (fork+exec child) ---- */
#define IM_EXIT_TSAN 66

/* The child orders its two suppressors with a relaxed flag only (no happens-before), as two
 * unrelated threads entering scopes would be: the mutant's plain save/store then races. */
static RS_ATOMIC(int) child_flag;

static void child_suppressor(worker *w)
{
    (void)w;
    rs_immortalize_suppress();
    rs_atomic_store_relaxed_int(&child_flag, 1);           /* relaxed: creates no order */
    while (rs_atomic_load_relaxed_int(&child_flag) != 2)
        sched_yield();
    rs_immortalize_unsuppress();
}

static int child_main(bool mutant)
{
    rt_up_opts(true);
    if (mutant)
        rs_bug_set("immortalize-suppress-race", true);
    worker w;
    worker_start(&w, child_suppressor, NULL, 0);
    while (rs_atomic_load_relaxed_int(&child_flag) != 1)
        sched_yield();
    rs_immortalize_suppress();                              /* plain load + store: a race */
    rs_immortalize_unsuppress();
    rs_atomic_store_relaxed_int(&child_flag, 2);
    worker_join(&w);
    rs_bug_clear_all();
    if (!mutant)
        rt_down();
    return 0;
}

static int run_child(const char *kind)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = 0;
    char *argv[] = {exe, "--tsan-child", (char *)kind, NULL};
    char env_tsan[] = "TSAN_OPTIONS=halt_on_error=1:exitcode=66";
    char *envp[] = {env_tsan, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, exe, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* the mutant is reported; the same sequence on the clean runtime is not */
static void test_mutant_suppress_race_tsan(void **state)
{
    (void)state;
    if (!IM_TSAN)
        skip();
    assert_int_equal(run_child("mutant"), IM_EXIT_TSAN);
    assert_int_equal(run_child("clean"), 0);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--tsan-child") == 0)
        return child_main(strcmp(argv[2], "mutant") == 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_thread_triggers_once),
        cmocka_unit_test(test_option_off_never_triggers),
        cmocka_unit_test(test_untracked_container_of_immortals_freed_at_shutdown),
        cmocka_unit_test(test_scopes_nest_and_block_the_pass),
        cmocka_unit_test(test_d5_fires),
        cmocka_unit_test(test_scope_objects_mortal),
        cmocka_unit_test(test_mutant_suppress_race_caught),
        cmocka_unit_test(test_mutant_nesting_breaks_d5),
        cmocka_unit_test(test_suppressors_race_thread_creation),
        cmocka_unit_test(test_mutant_suppress_race_tsan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
