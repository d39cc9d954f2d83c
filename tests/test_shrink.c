/* test_shrink.c — the program edits behind `refstorm shrink` (shrink.h): dropping a thread
 * removes the ops naming it and renumbers the threads above it (and the ops naming those);
 * dropping a chunk of ops clamps to the thread and frees what it removes (ASan sees leaks);
 * op counts; a removal can leave an invalid program (the shrinker then skips it).  The search
 * itself (workers, verdicts) is covered by tests/e2e/shrink.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "program.h"
#include "scn.h"
#include "shrink.h"

static const char three_threads[] =
    "refstorm-scn 1\n"
    "thread t0 main\n"
    "  new_leaf r0\n"
    "  spawn t1\n"
    "  spawn t2\n"
    "  async_exc t2\n"
    "  join t1\n"
    "  join t2\n"
    "  fail_alloc_at 2 alloc.gc\n"
    "thread t1 early spawn\n"
    "  merge_request t2\n"
    "  poll\n"
    "thread t2 early spawn\n"
    "  async_exc t1\n"
    "  poll\n";

static void parse(const char *text, program *p)
{
    scn_error e;
    assert_int_equal(scn_parse_buffer(text, strlen(text), "test", p, &e), 0);
}

/* the thread blocks of p's canonical text (everything from the first "thread" line on) */
static char *threads_text(const program *p)
{
    char *text = scn_print_to_buffer(p, NULL);
    assert_non_null(text);
    char *t = strstr(text, "thread t0");
    assert_non_null(t);
    char *copy = strdup(t);
    free(text);
    return copy;
}

static void test_drop_thread_renumbers(void **state)
{
    (void)state;
    program p;
    parse(three_threads, &p);
    assert_int_equal(shrink_op_count(&p), 11);
    assert_int_equal(shrink_drop_thread(&p, 1), 0);
    assert_int_equal(p.nthreads, 2);
    char *t = threads_text(&p);
    assert_string_equal(t, "thread t0 main\n"
                           "  new_leaf r0\n"
                           "  spawn t1\n"
                           "  async_exc t1\n"
                           "  join t1\n"
                           "  fail_alloc_at 2 alloc.gc\n"
                           "\n"
                           "thread t1 early spawn\n"
                           "  poll\n");
    free(t);
    prog_error pe;
    assert_int_equal(program_validate(&p, &pe), 0);
    assert_int_equal(shrink_op_count(&p), 6);
    program_free(&p);
}

static void test_drop_thread_refuses_t0_and_out_of_range(void **state)
{
    (void)state;
    program p, q;
    parse(three_threads, &p);
    assert_int_equal(program_copy(&q, &p), 0);
    assert_int_equal(shrink_drop_thread(&p, 0), -1);
    assert_int_equal(shrink_drop_thread(&p, 3), -1);
    assert_true(program_equal(&p, &q));
    program_free(&p);
    program_free(&q);
}

static void test_drop_ops_clamps_and_frees(void **state)
{
    (void)state;
    program p;
    parse(three_threads, &p);
    shrink_drop_ops(&p, 0, 5, 100); /* join t2 and fail_alloc_at (which owns a string) */
    assert_int_equal(p.thread[0].nops, 5);
    assert_int_equal(p.thread[0].ops[4].code, PROG_OP_JOIN);
    shrink_drop_ops(&p, 0, 0, 1);
    assert_int_equal(p.thread[0].ops[0].code, PROG_OP_SPAWN);
    shrink_drop_ops(&p, 0, 9, 1);  /* past the end: nothing */
    shrink_drop_ops(&p, 7, 0, 1);  /* no such thread: nothing */
    assert_int_equal(shrink_op_count(&p), 8);
    prog_error pe;
    assert_int_equal(program_validate(&p, &pe), 0); /* a thread need not be joined */
    shrink_drop_ops(&p, 0, 1, 1);                    /* spawn t2: t2 is never started */
    assert_int_equal(program_validate(&p, &pe), -1); /* what the shrinker skips */
    program_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_thread_renumbers),
        cmocka_unit_test(test_drop_thread_refuses_t0_and_out_of_range),
        cmocka_unit_test(test_drop_ops_clamps_and_frees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
