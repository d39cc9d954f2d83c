/* test_points.c — automatic schedule points (rs/atomic.h, model.md §13).
 *
 * In the variants built with RS_AUTO_POINTS (asan, tsan, debug) every synchronising operation
 * of the runtime passes the site_point hook with its call site; in release there are none.
 * Checked: a runtime operation reaches the hook at sites inside runtime/ that name their
 * operation; an atomic written in this file reaches it with this file's line; a mutex lock
 * and unlock are points at the caller; with no site_point hook nothing is called; release
 * has no points at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lock.h"
#include "rs/atomic.h"
#include "rs/hooks.h"
#include "support.h"

#define MAX_SEEN 512

static struct {
    int calls;
    int nsites;
    const rs_site *site[MAX_SEEN];
} seen;

static void record(void *ctx, const rs_site *s)
{
    (void)ctx;
    seen.calls++;
    for (int i = 0; i < seen.nsites; i++)
        if (seen.site[i] == s)
            return;
    if (seen.nsites < MAX_SEEN)
        seen.site[seen.nsites++] = s;
}

static bool any_site(const char *prefix, const char *op)
{
    for (int i = 0; i < seen.nsites; i++)
        if (strncmp(seen.site[i]->where, prefix, strlen(prefix)) == 0
            && strstr(seen.site[i]->where, op) != NULL && seen.site[i]->func != NULL)
            return true;
    return false;
}

#ifdef RS_AUTO_POINTS
static const bool compiled_in = true;
#else
static const bool compiled_in = false;
#endif

static void test_runtime_operations_are_points(void **state)
{
    (void)state;
    rt_up();
    memset(&seen, 0, sizeof seen);
    rs_hooks h = {.site_point = record};
    rs_hooks_install(&h);
    rs_object *o = rs_container_new(2);
    assert_non_null(o);
    rs_incref(o);
    rs_decref(o);
    rs_decref(o);
    rs_gc_collect(rs_tstate_current(), RS_GC_MANUAL);
    rs_hooks_install(NULL);
    if (compiled_in) {
        assert_true(seen.calls > 10);
        assert_true(any_site("runtime/", " load "));
        assert_true(any_site("runtime/", " store ") || any_site("runtime/", " cas "));
        assert_true(any_site("runtime/", "mutex lock"));
        assert_true(any_site("runtime/", "mutex unlock"));
        /* the parking lot and the hook table are never preempted inside */
        assert_false(any_site("runtime/lock.c", ""));
        assert_false(any_site("runtime/hooks.c", ""));
    } else {
        assert_int_equal(seen.calls, 0);
    }
    rt_down();
}

static void test_site_names_the_caller(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    rs_hooks h = {.site_point = record};
    rs_hooks_install(&h);
    RS_ATOMIC(uint32_t) x = 0;
    rs_atomic_store_release_u32(&x, 7); /* pairs with the acquire load below (same thread) */
    uint32_t v = rs_atomic_load_acquire_u32(&x);
    rs_mutex m = {0};
    rs_mutex_lock(&m);
    rs_mutex_unlock(&m);
    rs_hooks_install(NULL);
    assert_int_equal(v, 7);
    if (compiled_in) {
        assert_int_equal(seen.calls, 4);
        assert_true(any_site("tests/test_points.c:", " store release"));
        assert_true(any_site("tests/test_points.c:", " load acquire"));
        assert_true(any_site("tests/test_points.c:", " mutex lock"));
        assert_true(any_site("tests/test_points.c:", " mutex unlock"));
        assert_string_equal(seen.site[0]->func, "test_site_names_the_caller");
    } else {
        assert_int_equal(seen.calls, 0);
    }
}

/* the asan, tsan and debug variants must have them (scripts/gen-build); release must not */
static void test_variants_that_have_points(void **state)
{
    (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(RS_DEBUG)
    assert_true(compiled_in);
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
    assert_true(compiled_in);
#else
    assert_false(compiled_in); /* release */
#endif
#endif
}

static void test_no_hook_no_call(void **state)
{
    (void)state;
    memset(&seen, 0, sizeof seen);
    rs_hooks h = {.site_point = NULL};
    rs_hooks_install(&h);
    RS_ATOMIC(uint64_t) x = 0;
    rs_atomic_add_relaxed_u64(&x, 1);
    rs_hooks_install(NULL);
    assert_int_equal(seen.calls, 0);
    assert_int_equal(rs_atomic_load_relaxed_u64(&x), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_operations_are_points),
        cmocka_unit_test(test_site_names_the_caller),
        cmocka_unit_test(test_variants_that_have_points),
        cmocka_unit_test(test_no_hook_no_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
