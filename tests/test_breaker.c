/* test_breaker.c — asynchronous exceptions through the eval breaker (model.md §9, E3; issue 17).
 *
 * Issue 17, deterministically.  rs_async_exc_set stores its token, then sets the target's
 * ASYNC_EXC bit.  A sender stalled between the two (schedule point "breaker.async_exc.stored")
 * while its target polls lets the poll take that token; the bit it sets afterwards finds the
 * slot already empty.  The next poll sees the bit with nothing to raise.  That is a legal
 * state (CPython's handler does nothing in it), so the poll must raise nothing and E3 must
 * stay silent.  The runtime before the fix counted it as a spurious interrupt: E3 fired.
 *
 * The interleaving is forced with release/acquire handoffs between the two threads (no
 * timing); the test thread is the target.  Every handoff is real synchronisation, so TSan
 * sees no race in the test itself.
 *
 * The same accounting must still catch the eval-breaker-global mutant: a thread that sees
 * more ASYNC_EXC bits than were ever sent to it was interrupted by someone else's exception,
 * including a thread that did receive one of its own earlier. */
#include <sched.h>
#include <string.h>

#include "support.h"

#include "rs/hooks.h"
#include "tstate.h"

static RS_ATOMIC(int) sender_in_window, target_polled;
static _Thread_local bool stall_here; /* set on the stalled sender only */

static void wait_flag(RS_ATOMIC(int) *f)
{
    while (rs_atomic_load_acquire_int(f) == 0) /* pairs with raise_flag's release */
        sched_yield();
}
static void raise_flag(RS_ATOMIC(int) *f) { rs_atomic_store_release_int(f, 1); } /* pairs with wait_flag */

/* the sender, with its token stored and the bit not yet set: let the target poll first */
static void stall_after_store(void *ctx, const char *name)
{
    (void)ctx;
    if (!stall_here || strcmp(name, "breaker.async_exc.stored") != 0)
        return;
    stall_here = false;
    raise_flag(&sender_in_window);
    wait_flag(&target_polled);
}

static int token_a, token_b, token_c;

typedef struct send_ctx {
    uintptr_t target_tid;
    void *token;
    bool stall;
    int rc;
    bool stalled; /* the schedule point was reached (else the window does not exist) */
} send_ctx;

static void sender(worker *w)
{
    send_ctx *c = w->arg;
    stall_here = c->stall;
    c->rc = rs_async_exc_set(c->target_tid, c->token);
    c->stalled = c->stall && !stall_here;
    stall_here = false;
}

static void *slot(rs_tstate *ts) { return rs_atomic_load_relaxed_ptr(&ts->async_exc); }

/* issue 17: sender B's token lands before the target's take, B's bit after it */
static void test_stale_bit_after_take_is_not_an_interrupt(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&sender_in_window, 0);
    rs_atomic_store_relaxed_int(&target_polled, 0);
    rs_hooks h = {.sched_point = stall_after_store};
    rs_hooks_install(&h); /* before the worker starts (hooks.h) */

    /* sender A, complete: token A stored, bit set */
    send_ctx a = {.target_tid = rs_thread_id(), .token = &token_a};
    worker wa;
    worker_start(&wa, sender, &a, 1);
    worker_join(&wa);
    assert_int_equal(a.rc, 0);
    assert_true(rs_eval_breaker_load(me) & RS_EB_ASYNC_EXC);

    /* sender B stores token B (replacing A's) and stalls before its bit, holding HEAD_LOCK */
    send_ctx b = {.target_tid = rs_thread_id(), .token = &token_b, .stall = true};
    worker wb;
    worker_start(&wb, sender, &b, 2);
    wait_flag(&sender_in_window);
    /* the target polls inside B's window: sees A's bit, takes B's token, clears the bit */
    void *exc = NULL;
    assert_int_equal(rs_poll(me, &exc), 0);
    assert_ptr_equal(exc, &token_b);
    assert_null(slot(me));
    raise_flag(&target_polled);
    worker_join(&wb); /* B sets the bit now */
    assert_int_equal(b.rc, 0);
    assert_true(b.stalled);
    rs_hooks_install(NULL);

    /* the state of the issue: bit set, slot empty */
    assert_true(rs_eval_breaker_load(me) & RS_EB_ASYNC_EXC);
    assert_null(slot(me));
    exc = &token_c; /* overwritten by rs_poll */
    assert_int_equal(rs_poll(me, &exc), 0);
    assert_null(exc);                                      /* nothing raised */
    assert_false(rs_eval_breaker_load(me) & RS_EB_ASYNC_EXC); /* the stale bit is gone */
    assert_world_clean(me); /* E3: the old runtime reports a spurious interrupt here */
    assert_int_equal(me->spurious_interrupts, 0);

    /* nothing was lost: the next exception is delivered at the next poll */
    assert_int_equal(rs_async_exc_set(rs_thread_id(), &token_c), 0);
    assert_int_equal(rs_poll(me, &exc), 0);
    assert_ptr_equal(exc, &token_c);
    assert_world_clean(me);
    rt_down();
}

/* the same window without a bit set before it: the poll in the window sees nothing, B's
 * exception is delivered at the poll after B's bit */
static void test_poll_before_bit_delivers_next_time(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&sender_in_window, 0);
    rs_atomic_store_relaxed_int(&target_polled, 0);
    rs_hooks h = {.sched_point = stall_after_store};
    rs_hooks_install(&h);
    send_ctx b = {.target_tid = rs_thread_id(), .token = &token_b, .stall = true};
    worker wb;
    worker_start(&wb, sender, &b, 1);
    wait_flag(&sender_in_window);
    void *exc = &token_c;
    assert_int_equal(rs_poll(me, &exc), 0);
    assert_null(exc); /* no bit yet: the poll does not look at the slot */
    assert_ptr_equal(slot(me), &token_b);
    raise_flag(&target_polled);
    worker_join(&wb);
    assert_true(b.stalled);
    rs_hooks_install(NULL);
    assert_int_equal(rs_poll(me, &exc), 0);
    assert_ptr_equal(exc, &token_b);
    assert_null(slot(me));
    assert_int_equal(me->spurious_interrupts, 0);
    assert_world_clean(me);
    rt_down();
}

static void poll_once(worker *w)
{
    void *exc = NULL;
    rs_poll(w->ts, &exc);
    *(void **)w->arg = exc;
}

/* the mutant still breaks E3 for a bystander that did receive an exception of its own
 * earlier: it sees one more ASYNC_EXC bit than was sent to it */
typedef struct bystander_ctx {
    uintptr_t main_tid;
    void *own_exc;
    uint64_t spurious;
    RS_ATOMIC(int) own_taken, main_sent;
} bystander_ctx;

static void bystander(worker *w)
{
    bystander_ctx *c = w->arg;
    /* its own exception, from itself, taken at once */
    rs_async_exc_set(rs_thread_id(), &token_a);
    rs_poll(w->ts, &c->own_exc);
    raise_flag(&c->own_taken);
    wait_flag(&c->main_sent); /* the main thread sends one to itself */
    void *exc = NULL;
    rs_poll(w->ts, &exc); /* under the mutant: sees the main thread's bit */
    c->spurious = w->ts->spurious_interrupts;
}

static void test_mutant_eval_breaker_global_breaks_e3_after_own_exc(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    assert_int_equal(rs_bug_set("eval-breaker-global", true), 0);
    bystander_ctx c = {.main_tid = rs_thread_id()};
    worker w;
    worker_start(&w, bystander, &c, 1);
    wait_flag(&c.own_taken);
    assert_int_equal(rs_async_exc_set(rs_thread_id(), &token_b), 0);
    raise_flag(&c.main_sent);
    /* the bystander's exit folds its count into the runtime's (E3 for exited threads) */
    worker_join(&w);
    assert_ptr_equal(c.own_exc, &token_a);
    assert_int_equal(c.spurious, 1);
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "E3");
    /* Shutdown's first collection validates at entry and would report the same E3 */
    rs_rt.opts.validate = false;
    rt_down();
}

/* and for a bystander that was never sent anything (the corpus entry's shape) */
static void test_mutant_eval_breaker_global_breaks_e3_bystander(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    assert_int_equal(rs_bug_set("eval-breaker-global", true), 0);
    assert_int_equal(rs_async_exc_set(rs_thread_id(), &token_a), 0);
    void *exc = &token_c;
    worker w;
    worker_start(&w, poll_once, &exc, 1);
    worker_join(&w);
    assert_null(exc);
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "E3");
    rs_rt.opts.validate = false;
    rt_down();
}

/* after a failed assertion (cmocka jumps out of the test): leave no runtime behind for the
 * next test; a failing run may leak, the failure is already reported */
static int teardown(void **state)
{
    (void)state;
    rs_hooks_install(NULL);
    if (rs_atomic_load_relaxed_int(&rs_rt.initialized)) {
        rs_rt.opts.validate = false;
        rs_runtime_fini();
    }
    rs_bug_clear_all();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stale_bit_after_take_is_not_an_interrupt, teardown),
        cmocka_unit_test_teardown(test_poll_before_bit_delivers_next_time, teardown),
        cmocka_unit_test_teardown(test_mutant_eval_breaker_global_breaks_e3_after_own_exc, teardown),
        cmocka_unit_test_teardown(test_mutant_eval_breaker_global_breaks_e3_bystander, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
