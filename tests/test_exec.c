/* test_exec.c — the executor end to end: corpus programs in every mode, pct determinism,
 * mutants caught by their effect (E2, RT/leak), shutdown with running threads, unsupported
 * ops refused, and a hang reported by the watchdog with a per-thread dump.
 *
 * The hang wedges the process (a thread stays in a stop-the-world forever), so it runs in a
 * child: this program executes itself (/proc/self/exe --hang MODE, posix_spawn: TSan does
 * not support fork without exec) and the test reads the child's stderr and exit status.
 * `--bench MODE N` runs N trials of a small program and prints trials per second (used by
 * hand with the release build; see the report). */
#include <glob.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bugs.h"
#include "exec_internal.h"
#include "executor.h"
#include "rs/hooks.h"
#include "scn.h"

extern char **environ;

static char *repo_path(const char *rel)
{
    const char *root = getenv("REFSTORM_ROOT");
    size_t n = strlen(root ? root : ".") + strlen(rel) + 2;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s/%s", root ? root : ".", rel);
    return s;
}

static void parse_text(const char *text, program *p)
{
    scn_error err;
    if (scn_parse_buffer(text, strlen(text), "inline", p, &err) < 0) {
        char m[512];
        scn_error_format(&err, m, sizeof m);
        print_error("%s\n", m);
        fail();
    }
}

static void parse_corpus(const char *name, program *p)
{
    char rel[256];
    snprintf(rel, sizeof rel, "corpus/scn/%s", name);
    char *path = repo_path(rel);
    scn_error err;
    if (scn_parse_file(path, p, &err) < 0) {
        char m[512];
        scn_error_format(&err, m, sizeof m);
        print_error("%s\n", m);
        fail();
    }
    free(path);
}

/* the tests name modes by their words; parsed here, once */
static run_mode mode_of(const char *word)
{
    run_mode m = MODE_FREE;
    assert_int_equal(mode_parse(word, &m), 0);
    return m;
}

static verdict run(const program *p, const char *mode, uint64_t seed, const char *const *bugs,
                        exec_result *res)
{
    exec_config c = {.mode = mode_of(mode), .seed = seed, .op_log = true, .bugs = bugs};
    assert_int_equal(exec_run(p, &c, res), 0);
    return res->verdict;
}

static void expect_pass(const program *p, const char *mode, uint64_t seed)
{
    exec_result r;
    run(p, mode, seed, NULL, &r);
    if (r.verdict != VERDICT_PASS)
        print_error("%s seed %lu: %s %s: %s\n", mode, (unsigned long)seed,
                    verdict_name(r.verdict), r.check, r.message);
    assert_int_equal(r.verdict, VERDICT_PASS);
    assert_int_equal(r.leaked_blocks, 0);
    assert_int_equal(r.leaked_reftotal, 0);
    assert_true(r.ops_run > 0);
    exec_result_free(&r);
}

static const char *const modes[] = {"free", "chaos", "pct"};

/* every op has a handler (none is refused as "not in this runtime yet") */
static void test_table_complete(void **state)
{
    (void)state;
    for (int op = 0; op < PROG_OP__COUNT; op++) {
        if (exec_op_table[op].fn == NULL)
            print_error("op %s has no handler\n", prog_op_info(op)->name);
        assert_non_null(exec_op_table[op].fn);
    }
}

static void expect_clean(const program *p, const char *what, const char *mode, uint64_t seed)
{
    exec_result r;
    run(p, mode, seed, NULL, &r);
    if (r.verdict != VERDICT_PASS)
        print_error("%s %s seed %lu: %s %s: %s\n", what, mode, (unsigned long)seed,
                    verdict_name(r.verdict), r.check, r.message);
    assert_int_equal(r.verdict, VERDICT_PASS);
    assert_int_equal(r.leaked_blocks, 0);
    assert_int_equal(r.leaked_reftotal, 0);
    exec_result_free(&r);
}

/* every corpus program without a mutant passes in every mode */
static void test_corpus_all_modes(void **state)
{
    (void)state;
    char *pat = repo_path("corpus/scn/*.scn");
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    int ran = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        program p;
        scn_error err;
        assert_int_equal(scn_parse_file(g.gl_pathv[i], &p, &err), 0);
        if (p.nbugs == 0) {
            for (int m = 0; m < 3; m++)
                for (uint64_t seed = 1; seed <= 3; seed++)
                    expect_clean(&p, g.gl_pathv[i], modes[m], seed);
            ran++;
        }
        program_free(&p);
    }
    globfree(&g);
    free(pat);
    assert_true(ran >= 10);
}

/* One program with nearly every op (kinds, slots, lists, roots, weakrefs, frames, stack and
 * C-stack references, scopes, GC, churn, chains), two threads, wrong-kind and null registers:
 * clean.  The deferred objects are dropped and collected before the end, so it passes even
 * without the full shutdown; t1 ends with a frame, a cref and a scope open (unwound). */
static const char every_op[] =
    "refstorm-scn 1\ncheck_rate 1\n"
    "thread t0 main\n"
    "  new_leaf r0\n  new_container r1 3\n  new_list r2\n  new_type r3\n"
    "  new_instance r4 r3 0\n  new_instance r5 r3 2\n  new_code r6 2\n  new_function r7 r6\n"
    "  new_generator r8 r6 resurrect\n  new_finalizable r9 2 none\n  new_weakref r10 r1 callback\n"
    "  new_weakref r11 r0 plain\n" /* a leaf takes no weakref: no-op */
    "  incref r0\n  decref r0\n  decref r0\n  dup r12 r1\n  dup r12 r12\n  defer r12\n"
    "  store r1 0 r0\n  store r1 2 r9\n  store r0 0 r1\n  store r1 7 r0\n" /* leaf, slot 7: no-ops */
    "  load r13 r1 0\n  load r13 r1 1\n  clear_slot r1 0\n  store r5 1 r1\n"
    "  list_append r2 r0\n  list_append r2 r1\n  list_get r13 r2 1\n  list_get r14 r2 9\n"
    "  list_set r2 0 r1\n  list_set r2 9 r1\n  list_set r0 0 r1\n" /* 9: out of range; r0: a leaf */
    "  list_resize r2 300\n  list_resize r2 1\n"
    "  root_set g0 r2\n  root_get r14 g0\n  root_clear g0\n  late_root_set l0 r0\n"
    "  late_root_clear l0\n  weakref_get r15 r10\n  weakref_get r15 r0\n"
    "  send m0 r14\n  recv r14 m0\n"
    "  frame_push_fn r6 r7\n  local_store 0 r1\n  stack_push r6\n  stack_push r0\n"
    "  cref_push r6\n  cref_push r15\n  gc_collect\n  stack_pop\n  cref_pop\n"
    "  frame_push r0\n  stack_push r1\n  stack_pop\n  frame_pop\n" /* a placeholder frame */
    "  cref_pop\n  frame_pop\n"
    "  suppress\n  new_code r13 0\n  unsuppress\n"
    "  gc_disable\n  gc_threshold 100 5 5\n  gc_enable\n  qsbr\n  reclaim\n"
    "  churn_freelist leaf 300\n  churn_freelist container 300\n  churn_freelist list 300\n"
    "  churn_type r3 300\n  churn_type r0 5\n  deep_chain r14 3000\n  drop r14\n"
    "  spawn t1\n  join t1\n  recv r15 m1\n  poll\n  stw\n"
    "  drop r3\n  drop r4\n  drop r5\n  drop r6\n  drop r7\n  drop r8\n  drop r12\n  drop r13\n"
    "  gc_collect\n"
    "thread t1 early spawn\n"
    "  new_code r0 1\n  new_container r1 1\n  frame_push r0\n  stack_push r1\n  cref_push r1\n"
    "  suppress\n  send m1 r1\n  drop r0\n  gc_collect\n";

static void test_every_op(void **state)
{
    (void)state;
    program p;
    parse_text(every_op, &p);
    bool seen[PROG_OP__COUNT] = {false};
    for (uint32_t t = 0; t < p.nthreads; t++)
        for (uint32_t i = 0; i < p.thread[t].nops; i++)
            seen[p.thread[t].ops[i].code] = true;
    int missing = 0;
    for (int op = 0; op < PROG_OP__COUNT; op++)
        missing += !seen[op];
    /* not here: thread-control ops the other tests cover (bind, attach, detach, exit,
     * async_exc, merge_request, fail_alloc[_at], shutdown, yield, spin) */
    assert_true(missing <= 11);
    for (int m = 0; m < 3; m++)
        for (uint64_t seed = 1; seed <= 2; seed++)
            expect_clean(&p, "every-op", modes[m], seed);
    program_free(&p);
}

/* list_resize growing a list whose shrink failed (a fault) must not write past the buffer:
 * the runtime once shrank the buffer for the old size first (ASan in the sanitizer builds,
 * the HEAP validator in release) */
static void test_list_resize_after_failed_shrink(void **state)
{
    (void)state;
    program p;
    parse_text("refstorm-scn 1\ncheck_rate 1\noption validate on\nthread t0 main\n"
               "  new_list r0\n  list_resize r0 64\n  fail_alloc 1\n  list_resize r0 2\n"
               "  list_resize r0 40\n  stw\n  list_resize r0 0\n", &p);
    for (uint64_t seed = 1; seed <= 2; seed++)
        expect_clean(&p, "list-resize", "free", seed);
    program_free(&p);
}

/* `shutdown` drains every other thread's registers and the mailboxes first (a joiner's
 * registers are released for it): exact leak figures, for any interleaving */
static void test_shutdown_drain(void **state)
{
    (void)state;
    program p;
    parse_text("refstorm-scn 1\n"
               "thread t0 main\n  new_list r0\n  send m0 r0\n  new_container r1 2\n  send m1 r1\n"
               "  spawn t2\n  yield\n  shutdown\n"
               "thread t1 early auto\n  recv r0 m0\n  new_container r1 2\n"
               "  list_append r0 r1\n  join t2\n  new_leaf r2\n"
               "thread t2 early spawn\n  recv r0 m1\n  new_leaf r1\n  store r0 1 r1\n"
               "  spin 5\n  detach\n  yield\n  attach\n  new_list r2\n", &p);
    for (int m = 0; m < 3; m++)
        for (uint64_t seed = 1; seed <= 6; seed++)
            expect_pass(&p, modes[m], seed);
    program_free(&p);
}

/* pct: same seed ⇒ byte-identical trace and op log; different seeds ⇒ different traces */
static void test_pct_determinism(void **state)
{
    (void)state;
    program p;
    parse_corpus("exec-mailbox-ping.scn", &p);
    exec_result a, b;
    run(&p, "pct", 11, NULL, &a);
    run(&p, "pct", 11, NULL, &b);
    assert_int_equal(a.verdict, VERDICT_PASS);
    assert_int_equal(b.verdict, VERDICT_PASS);
    assert_non_null(a.trace);
    assert_non_null(a.op_log);
    assert_string_equal(a.trace, b.trace);
    assert_string_equal(a.op_log, b.op_log);
    int differ = 0;
    for (uint64_t seed = 12; seed < 20; seed++) {
        exec_result c;
        run(&p, "pct", seed, NULL, &c);
        assert_int_equal(c.verdict, VERDICT_PASS);
        if (strcmp(c.trace, a.trace) != 0)
            differ++;
        exec_result_free(&c);
    }
    assert_true(differ >= 4);
    /* the op log names every op once */
    uint64_t total = 0;
    for (uint32_t t = 0; t < p.nthreads; t++)
        total += p.thread[t].nops;
    size_t tokens = 1;
    for (const char *c = a.op_log; *c; c++)
        tokens += *c == ' ';
    assert_int_equal(tokens, total);
    exec_result_free(&a);
    exec_result_free(&b);
    program_free(&p);
}

/* merge-request-lost: caught by E2 at the stw, in every mode; clean runtime passes */
static void test_mutant_merge_request_lost(void **state)
{
    (void)state;
    program p;
    parse_corpus("exec-merge-request.scn", &p);
    static const char *const bug[] = {"merge-request-lost", NULL};
    for (int m = 0; m < 3; m++) {
        expect_pass(&p, modes[m], 5);
        exec_result r;
        run(&p, modes[m], 5, bug, &r);
        if (r.verdict != VERDICT_INVARIANT)
            print_error("%s: %s %s\n", modes[m], verdict_name(r.verdict), r.message);
        assert_int_equal(r.verdict, VERDICT_INVARIANT);
        assert_string_equal(r.check, "E2");
        assert_int_equal(r.thread, 1);
        assert_int_equal(r.op_index, 2);
        exec_result_free(&r);
    }
    program_free(&p);
}

/* reftotal-queue-unaccounted: RT at the stw (check_rate 1) or a leak without checks */
static void test_mutant_reftotal_queue(void **state)
{
    (void)state;
    program p;
    parse_corpus("exec-merge-request.scn", &p);
    static const char *const bug[] = {"reftotal-queue-unaccounted", NULL};
    for (int m = 0; m < 3; m++) {
        exec_result r;
        run(&p, modes[m], 9, bug, &r);
        assert_int_equal(r.verdict, VERDICT_INVARIANT);
        assert_string_equal(r.check, "RT");
        exec_result_free(&r);
    }
    p.opt.check_rate = 0; /* no periodic checks: the end check still sees RT */
    exec_result r;
    run(&p, "free", 9, bug, &r);
    assert_true(r.verdict == VERDICT_INVARIANT || r.verdict == VERDICT_LEAK);
    if (r.verdict == VERDICT_INVARIANT)
        assert_string_equal(r.check, "RT");
    assert_int_not_equal(r.leaked_reftotal, 0);
    exec_result_free(&r);
    program_free(&p);
}

/* shutdown with a running thread: its registers are drained first, no leak is tolerated */
static void test_shutdown_orphans(void **state)
{
    (void)state;
    program p;
    parse_corpus("exec-shutdown-running.scn", &p);
    for (int m = 0; m < 3; m++)
        for (uint64_t seed = 1; seed <= 5; seed++)
            expect_pass(&p, modes[m], seed);
    /* a leak the runtime makes is still one: reftotal-not-merged-at-exit with exiting threads */
    program q;
    parse_text("refstorm-scn 1\nthread t0 main\n  spawn t1\n  join t1\n  recv r0 m0\n  drop r0\n"
               "thread t1 early spawn\n  new_leaf r0\n  send m0 r0\n", &q);
    static const char *const bug[] = {"reftotal-not-merged-at-exit", NULL};
    exec_result r;
    run(&q, "free", 1, bug, &r);
    assert_true(r.verdict == VERDICT_LEAK || r.verdict == VERDICT_INVARIANT);
    exec_result_free(&r);
    program_free(&q);
    program_free(&p);
}

/* fail_alloc: the failed allocation leaves the register null; the program still passes */
static void test_fail_alloc(void **state)
{
    (void)state;
    program p;
    parse_text("refstorm-scn 1\nthread t0 main\n  fail_alloc 1\n  new_leaf r0\n  send m0 r0\n"
               "  new_leaf r1\n  send m1 r1\n  recv r2 m0\n  recv r3 m1\n", &p);
    exec_result r;
    run(&p, "pct", 1, NULL, &r);
    assert_int_equal(r.verdict, VERDICT_PASS);
    exec_result_free(&r);
    program_free(&p);
}

/* ---- the hang, in a child ----
 * The program hangs for certain (t1 spins for ten minutes while t0 waits in a stop-the-world
 * for it), so status EXEC_HANG_EXIT_STATUS proves the watchdog fired.  The 2 s timeout is only
 * how long t1 has to reach its spin before the dump is taken: generous even on a machine
 * loaded many times over, and nothing is asserted about elapsed time. */

static const char hang_program[] =
    "refstorm-scn 1\nname \"hang\"\ntimeout_ms 2000\n"
    "thread t0 main\n  spawn t1\n  yield\n  stw\n  new_leaf r0\n"
    "thread t1 early spawn\n  spin 600000\n";

static int hang_child(const char *mode)
{
    program p;
    scn_error err;
    if (scn_parse_buffer(hang_program, strlen(hang_program), "hang", &p, &err) < 0)
        return 3;
    exec_config c = {.mode = mode_of(mode), .seed = 1};
    exec_result r;
    exec_run(&p, &c, &r);
    return 4; /* the watchdog should have ended the process */
}

static char *spawn_self(const char *const argv_extra[], int *status)
{
    char tmpl[] = "/tmp/test_exec_XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    char *argv[8] = {"/proc/self/exe"};
    int k = 1;
    for (; argv_extra[k - 1]; k++)
        argv[k] = (char *)argv_extra[k - 1];
    argv[k] = NULL;
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    assert_int_equal(waitpid(pid, status, 0), pid);
    off_t len = lseek(fd, 0, SEEK_END);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(pread(fd, buf, (size_t)len, 0), len);
    buf[len] = '\0';
    close(fd);
    unlink(tmpl);
    return buf;
}

static bool under_tsan(void)
{
#if defined(__SANITIZE_THREAD__)
    return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    return true;
#endif
#endif
    return false;
}

static void test_hang_dump(void **state)
{
    (void)state;
    for (int m = 0; m < 3; m += 2) { /* free and pct */
        const char *args[] = {"--hang", modes[m], NULL};
        int status;
        char *out = spawn_self(args, &status);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != EXEC_HANG_EXIT_STATUS)
            print_error("%s: status %d\n%s\n", modes[m], status, out);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), EXEC_HANG_EXIT_STATUS);
        const char *begin = strstr(out, EXEC_HANG_BEGIN "\nverdict hang\n");
        assert_non_null(begin);
        assert_non_null(strstr(begin, EXEC_HANG_END));
        assert_non_null(strstr(begin, "timeout_ms 2000 "));
        /* t1 is inside its spin, at the spin's schedule point, not blocked */
        assert_non_null(strstr(begin, "thread 1 op 0 \"spin 600000\" point exec.spin wait 0 done 0"));
        /* t0 is stuck either in the stw (waiting for t1 to poll) or in its end-of-program
         * wait for t1 (if the pause came before t1 attached) */
        assert_non_null(strstr(begin, "thread 0 op "));
        assert_non_null(strstr(begin, "backtrace 0"));
        assert_non_null(strstr(begin, "backtrace 1"));
        if (!under_tsan()) /* TSan defers signals to threads blocked in raw syscalls */
            assert_null(strstr(begin, "backtrace 1 unavailable"));
        free(out);
    }
}

/* ---- benchmark mode (by hand) ---- */

static int bench(const char *mode, int n)
{
    char *path = repo_path("corpus/scn/exec-mailbox-ping.scn");
    program p;
    scn_error err;
    if (scn_parse_file(path, &p, &err) < 0)
        return 3;
    free(path);
    exec_config c = {.mode = mode_of(mode)};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int fails = 0;
    for (int i = 0; i < n; i++) {
        c.seed = (uint64_t)i;
        exec_result r;
        exec_run(&p, &c, &r);
        fails += r.verdict != VERDICT_PASS;
        exec_result_free(&r);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("%s: %d trials in %.3f s = %.0f trials/s (%d not pass)\n", mode, n, s, n / s, fails);
    program_free(&p);
    return fails != 0;
}

/* Exp gc-disabled's toggle word, driven directly (no runtime calls: the oracle never reads
 * the collector's flag).  A disable that no toggle overlapped, then a scheduled HEAP
 * collection: flagged.  A disable whose word store an overlapping enable overtook (disable's
 * runtime call, then the enable's word store and runtime call, then the disable's word
 * store: the runtime ends enabled while the word says disabled) — the tsan false positive
 * of signals.sh — not flagged; neither is a collection after a later enable. */
static int oracle_flags(exec_trial *tr, exec_thread *t)
{
    exec_self_set(t);
    exec_oracles_event(tr, RS_EV_GC_HANDLE, 0);
    exec_oracles_event(tr, RS_EV_GC_BEGIN, RS_GC_HEAP);
    exec_self_set(NULL);
    int failed = (int)rs_atomic_load_relaxed_u32(&tr->failed);
    rs_atomic_store_relaxed_u32(&tr->failed, 0);
    return failed;
}

static void test_oracle_gc_disabled_overlap(void **state)
{
    (void)state;
    static program p; /* nthreads 0: no op changes the thresholds */
    p.opt.gc_enabled = true;
    static exec_trial tr;
    memset(&tr, 0, sizeof tr);
    tr.p = &p;
    exec_thread t = {.tr = &tr, .idx = 0};
    exec_oracles_reset(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 0); /* enabled from the start */

    uint64_t d = exec_oracles_gc_toggle_begin(&tr); /* alone */
    exec_oracles_gc_disabled(&tr, d);
    exec_oracles_gc_toggle_end(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 1);
    assert_string_equal(tr.check, "Exp");

    uint64_t e = exec_oracles_gc_toggle_begin(&tr); /* enable: no flag after it */
    exec_oracles_gc_enabling(&tr, e);
    exec_oracles_gc_toggle_end(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 0);

    d = exec_oracles_gc_toggle_begin(&tr);          /* disable's runtime call ... */
    e = exec_oracles_gc_toggle_begin(&tr);          /* ... an enable overtakes it */
    exec_oracles_gc_enabling(&tr, e);
    exec_oracles_gc_toggle_end(&tr);
    exec_oracles_gc_disabled(&tr, d);               /* word: disabled, runtime: enabled */
    exec_oracles_gc_toggle_end(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 0);

    e = exec_oracles_gc_toggle_begin(&tr);          /* the same with the enable begun first */
    d = exec_oracles_gc_toggle_begin(&tr);
    exec_oracles_gc_enabling(&tr, e);
    exec_oracles_gc_toggle_end(&tr);
    exec_oracles_gc_disabled(&tr, d);
    exec_oracles_gc_toggle_end(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 0);

    d = exec_oracles_gc_toggle_begin(&tr);          /* alone again: flagged again */
    exec_oracles_gc_disabled(&tr, d);
    exec_oracles_gc_toggle_end(&tr);
    assert_int_equal(oracle_flags(&tr, &t), 1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--hang") == 0)
        return hang_child(argv[2]);
    if (argc == 4 && strcmp(argv[1], "--bench") == 0)
        return bench(argv[2], atoi(argv[3]));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_corpus_all_modes),
        cmocka_unit_test(test_every_op),
        cmocka_unit_test(test_list_resize_after_failed_shrink),
        cmocka_unit_test(test_shutdown_drain),
        cmocka_unit_test(test_pct_determinism),
        cmocka_unit_test(test_mutant_merge_request_lost),
        cmocka_unit_test(test_mutant_reftotal_queue),
        cmocka_unit_test(test_shutdown_orphans),
        cmocka_unit_test(test_fail_alloc),
        cmocka_unit_test(test_hang_dump),
        cmocka_unit_test(test_oracle_gc_disabled_overlap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
