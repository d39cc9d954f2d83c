/* test_integration_stacks.c — the real collector against stack-held deferred objects
 * (model.md §3.2–3.3; mutants gc-skips-stacks and gc-trusts-null-stackpointer, end to end).
 *
 * 1. Another thread's stack.  A function object (deferred, mortal: immortalisation is off) is
 *    held only by a tagged reference on a worker thread's frame; the main thread collects.  The
 *    clean collector counts the stack reference and frees nothing; with gc-skips-stacks the
 *    function is collected while the worker still holds it: the collection reports it, the
 *    validator reports D4 (a tagged reference names a freed block), and when the worker goes
 *    on to use it (makes the reference strong) the process dies of Vfree (validate mode) or an
 *    ASan report — in a fork+exec child.
 * 2. A pop-close whose destructor collects (§3.3's interleaving).  The frame's local slot holds
 *    the only (tagged) reference to a function; a value popped off the same frame has a
 *    destructor that runs a collection while the stackpointer is NULL.  The clean collector
 *    treats every deferred object as a root (skip_deferred_objects); with
 *    gc-trusts-null-stackpointer the function is freed under the frame: D4 afterwards, and
 *    Vfree/ASan when the frame uses it (child).
 * Both clean runs end with zero leaks. */
#include <sched.h>
#include <string.h>

#include "support.h"
#include "integration_child.h"

#include "code.h"
#include "frame.h"
#include "gc.h"
#include "objects.h"
#include "tstate.h"

typedef struct stack_result {
    int setup_ok;
    int gc_rc;          /* what the collection under test freed */
    bool world_ok;      /* validators after it */
    char inv[16];
    rs_leaks leaks;
} stack_result;

static void init_runtime(void)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = false; /* starting a thread would make the function immortal */
    if (rs_runtime_init(&o) != 0)
        abort();
}

static void record_world(rs_tstate *me, stack_result *r)
{
    rs_violation v;
    r->world_ok = rs_check_runtime(me, &v);
    if (!r->world_ok)
        snprintf(r->inv, sizeof r->inv, "%s", v.invariant);
}

/* make the frame's tagged reference in `slot` strong, use it, drop it: what an interpreter
 * does with a function it is about to call */
static void use_slot(rs_stackref *slot)
{
    rs_object *o = rs_sr_as_strong(*slot);
    (void)rs_refcnt(o);
    rs_decref(o);
}

/* ---- 1. another thread's stack ---- */

static RS_ATOMIC(int) phase;
static rs_object *held_code, *held_fn;
static bool held_use;

static void wait_phase(rs_tstate *ts, int p)
{
    while (rs_atomic_load_acquire_int(&phase) < p) { /* pairs with set_phase's release */
        rs_poll(ts, NULL);
        sched_yield();
    }
}
static void set_phase(int p) { rs_atomic_store_release_int(&phase, p); } /* pairs with wait_phase */

static void holder(worker *w)
{
    rs_frame_push(w->ts, held_code, NULL);
    rs_stack_push(w->ts, held_fn); /* tagged: the function is deferred */
    set_phase(1);
    wait_phase(w->ts, 2);
    if (held_use)
        use_slot(&rs_frame_current(w->ts)->stackpointer[-1]);
    rs_frame_pop(w->ts);
    set_phase(3);
}

static void other_stack(bool mutant, bool use, stack_result *r)
{
    memset(r, 0, sizeof *r);
    init_runtime();
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&phase, 0);
    held_use = use;
    held_code = rs_code_new(0, 1, 2);
    held_fn = rs_function_new(held_code, NULL);
    worker w = {0};
    w.ts = rs_tstate_new();
    w.fn = holder;
    if (!held_code || !held_fn || !w.ts || pthread_create(&w.th, NULL, worker_main, &w) != 0)
        return;
    wait_phase(me, 1);
    rs_decref(held_fn); /* alive now by the bias and the worker's tagged reference alone */
    r->setup_ok = rs_refcnt(held_fn) == RS_REF_DEFERRED;
    if (mutant)
        rs_bug_set("gc-skips-stacks", true);
    r->gc_rc = rs_gc_collect(me, RS_GC_MANUAL);
    rs_bug_clear_all();
    record_world(me, r);
    set_phase(2);
    wait_phase(me, 3);
    rs_tstate_detach(me);
    pthread_join(w.th, NULL);
    rs_tstate_attach(me);
    rs_decref(held_code);
    rs_gc_collect(me, RS_GC_MANUAL); /* the function and code, now unreferenced */
    r->leaks = rs_runtime_fini();
}

/* ---- 2. a pop-close that collects ---- */

static int popclose_gc_rc;
static void collecting_dealloc(rs_object *o)
{
    popclose_gc_rc = rs_gc_collect(rs_tstate_current(), RS_GC_MANUAL);
    rs_object_free(o);
}
static rs_type collecting_type = {
    .ob_base = {.ob_flags = RS_OBF_STATIC, .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_type = &rs_type_type},
    .tp_name = "collecting",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_LEAF,
    .tp_dealloc = collecting_dealloc,
};

static void popclose(bool mutant, bool use, stack_result *r)
{
    memset(r, 0, sizeof *r);
    init_runtime();
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 1, 2);
    rs_object *fn = rs_function_new(code, NULL);
    if (!code || !fn)
        return;
    rs_frame_push(me, code, NULL);
    rs_local_store(me, 0, rs_sr_new(fn)); /* tagged */
    rs_decref(fn);                        /* the frame's tagged reference is all that is left */
    rs_object *probe = rs_object_alloc(&collecting_type, 0);
    if (!probe || rs_stack_push(me, probe) != 0)
        return;
    rs_decref(probe); /* the value stack holds the probe's only reference */
    r->setup_ok = rs_refcnt(fn) == RS_REF_DEFERRED;
    popclose_gc_rc = -100;
    if (mutant)
        rs_bug_set("gc-trusts-null-stackpointer", true);
    rs_stack_pop_close(me); /* the probe dies; its destructor collects */
    rs_bug_clear_all();
    r->gc_rc = popclose_gc_rc;
    record_world(me, r);
    if (use)
        use_slot(&rs_frame_current(me)->localsplus[0]); /* the frame calls its function */
    rs_frame_pop(me);
    rs_decref(code);
    rs_gc_collect(me, RS_GC_MANUAL);
    r->leaks = rs_runtime_fini();
}

/* ---- children: the mutants' use of the freed function ---- */

static int child_main(const char *what)
{
    stack_result r;
    if (strcmp(what, "skips-use") == 0)
        other_stack(true, true, &r);
    else if (strcmp(what, "nullsp-use") == 0)
        popclose(true, true, &r);
    else
        return 2;
    fprintf(stderr, "use survived: gc_rc=%d\n", r.gc_rc);
    return 0;
}

static void expect_use_after_free_caught(const char *what)
{
    static child_result res;
    run_child(what, NULL, &res);
    bool vfree = res.status == 128 + SIGABRT && strstr(res.err, "Vfree");
    bool asan = res.status == ITEST_EXIT_ASAN && strstr(res.err, "AddressSanitizer");
    if (!vfree && !asan)
        print_error("child status %d, stderr:\n%s\n", res.status, res.err);
    assert_true(vfree || asan);
}

/* ---- tests ---- */

static void expect_clean(const stack_result *r)
{
    assert_true(r->setup_ok);
    assert_int_equal(r->gc_rc, 0); /* the stack-held function survived */
    assert_true(r->world_ok);
    assert_int_equal(r->leaks.reftotal, 0);
    assert_int_equal(r->leaks.blocks, 0);
}

static void expect_freed_in_use(const stack_result *r)
{
    assert_true(r->setup_ok);
    assert_true(r->gc_rc >= 1); /* the function was collected... */
    assert_false(r->world_ok);  /* ...while a frame still names it */
    assert_string_equal(r->inv, "D4");
}

static void test_other_stack_clean(void **state)
{
    (void)state;
    stack_result r;
    other_stack(false, true, &r);
    expect_clean(&r);
}

static void test_other_stack_gc_skips_stacks(void **state)
{
    (void)state;
    stack_result r;
    other_stack(true, false, &r);
    expect_freed_in_use(&r);
    assert_int_equal(r.leaks.reftotal, 0); /* the frame's reference was tagged: nothing else drifts */
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_other_stack_gc_skips_stacks_use(void **state)
{
    (void)state;
    expect_use_after_free_caught("skips-use");
}

static void test_popclose_clean(void **state)
{
    (void)state;
    stack_result r;
    popclose(false, true, &r);
    expect_clean(&r);
}

static void test_popclose_trusts_null_stackpointer(void **state)
{
    (void)state;
    stack_result r;
    popclose(true, false, &r);
    expect_freed_in_use(&r);
    assert_int_equal(r.leaks.reftotal, 0);
    assert_int_equal(r.leaks.blocks, 0);
}

static void test_popclose_trusts_null_stackpointer_use(void **state)
{
    (void)state;
    expect_use_after_free_caught("nullsp-use");
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_stack_clean),
        cmocka_unit_test(test_other_stack_gc_skips_stacks),
        cmocka_unit_test(test_other_stack_gc_skips_stacks_use),
        cmocka_unit_test(test_popclose_clean),
        cmocka_unit_test(test_popclose_trusts_null_stackpointer),
        cmocka_unit_test(test_popclose_trusts_null_stackpointer_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
