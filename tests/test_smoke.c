/* test_smoke.c — the mutant registry of runtime/bugs.h, end to end.
 *
 * The registry is the switchboard every mutant goes through (`--bug NAME`), so its contract is
 * checked here: the table is not empty, every name and description is present, a name switches
 * exactly its own bug on and off (which also proves names are unique), unknown names are
 * refused without side effects, and rs_bug_clear_all turns everything off.  It is also the first
 * real program the build and test pipeline runs in every variant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bugs.h"

/* Number of switches currently on. */
static size_t bugs_on(void)
{
    size_t n = 0;
    for (size_t i = 0; i < rs_bug_count(); i++)
        n += rs_bug((rs_bug_id)i) ? 1 : 0;
    return n;
}

static int clear_all(void **state)
{
    (void)state;
    rs_bug_clear_all();
    return 0;
}

static void test_registry_not_empty(void **state)
{
    (void)state;
    assert_true(rs_bug_count() > 0);
    assert_int_equal(rs_bug_count(), RS_BUG_COUNT);
    for (size_t i = 0; i < rs_bug_count(); i++) {
        assert_non_null(rs_bug_name(i));
        assert_true(strlen(rs_bug_name(i)) > 0);
        assert_non_null(rs_bug_desc(i));
        assert_true(strlen(rs_bug_desc(i)) > 0);
    }
    assert_null(rs_bug_name(rs_bug_count()));
    assert_null(rs_bug_desc(rs_bug_count()));
    assert_int_equal(bugs_on(), 0);
}

/* Each name switches exactly its own bug: on, then off, with every other switch untouched. */
static void test_every_name_round_trips(void **state)
{
    (void)state;
    for (size_t i = 0; i < rs_bug_count(); i++) {
        const char *name = rs_bug_name(i);
        assert_int_equal(rs_bug_set(name, true), 0);
        assert_true(rs_bug((rs_bug_id)i));
        assert_int_equal(bugs_on(), 1);
        assert_int_equal(rs_bug_set(name, false), 0);
        assert_false(rs_bug((rs_bug_id)i));
        assert_int_equal(bugs_on(), 0);
    }
}

static void test_unknown_names_refused(void **state)
{
    (void)state;
    assert_int_equal(rs_bug_set("no-such-bug", true), -1);
    assert_int_equal(rs_bug_set("", true), -1);
    /* A prefix or a different case of a real name is not that name. */
    const char *first = rs_bug_name(0);
    char prefix[64];
    size_t len = strlen(first);
    assert_true(len > 1 && len < sizeof prefix);
    memcpy(prefix, first, len - 1);
    prefix[len - 1] = '\0';
    assert_int_equal(rs_bug_set(prefix, true), -1);
    char upper[64];
    for (size_t i = 0; i <= len; i++)
        upper[i] = (first[i] >= 'a' && first[i] <= 'z') ? (char)(first[i] - 'a' + 'A') : first[i];
    assert_int_equal(rs_bug_set(upper, true), -1);
    assert_int_equal(bugs_on(), 0);
}

static void test_clear_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < rs_bug_count(); i++)
        assert_int_equal(rs_bug_set(rs_bug_name(i), true), 0);
    assert_int_equal(bugs_on(), rs_bug_count());
    rs_bug_clear_all();
    assert_int_equal(bugs_on(), 0);
}

static void test_named_identifier_matches_row(void **state)
{
    (void)state;
    /* The enum and the name table come from the same bugs.def row. */
    assert_string_equal(rs_bug_name(RS_BUG_TID_ZERO_UNMERGED), "tid-zero-unmerged");
    assert_int_equal(rs_bug_set("tid-zero-unmerged", true), 0);
    assert_true(rs_bug(RS_BUG_TID_ZERO_UNMERGED));
    assert_int_equal(bugs_on(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registry_not_empty, clear_all, clear_all),
        cmocka_unit_test_setup_teardown(test_every_name_round_trips, clear_all, clear_all),
        cmocka_unit_test_setup_teardown(test_unknown_names_refused, clear_all, clear_all),
        cmocka_unit_test_setup_teardown(test_clear_all, clear_all, clear_all),
        cmocka_unit_test_setup_teardown(test_named_identifier_matches_row, clear_all, clear_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
