/* test_tstate.c — thread states: lifecycle, stop-the-world against attached, detached and
 * late-binding threads, eval breaker versions, shutdown with live threads. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

static void test_lifecycle_states(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    assert_non_null(me);
    assert_true(me->is_main);
    assert_int_equal(rs_atomic_load_relaxed_int(&me->state), RS_TS_ATTACHED);
    assert_int_equal(rs_atomic_load_relaxed_int(&me->heap_initialized), 1);
    assert_int_equal(rs_atomic_load_relaxed_uptr(&me->thread_id), rs_thread_id());
    rs_tstate *other = rs_tstate_new();
    assert_int_equal(rs_atomic_load_relaxed_int(&other->state), RS_TS_DETACHED);
    assert_int_equal(rs_atomic_load_relaxed_int(&other->heap_initialized), 0);
    assert_true(other->id > me->id);
    rs_tstate_detach(me);
    assert_int_equal(rs_atomic_load_relaxed_int(&me->state), RS_TS_DETACHED);
    assert_int_equal(rs_tstate_attach(me), 0);
    /* a state created but never run: shutdown deletes it, its thread releases it */
    rs_tstate_release(other);
    rt_down();
}

/* ---- stop-the-world against attached workers that poll ---- */
typedef struct stw_ctx {
    RS_ATOMIC(int) stop;
    RS_ATOMIC(int) running;
    RS_ATOMIC(uint64_t) ops;
} stw_ctx;

static void polling_worker(worker *w)
{
    stw_ctx *c = w->arg;
    rs_atomic_add_relaxed_int(&c->running, 1);
    rs_object *mine = rs_leaf_new();
    uint64_t i = 0;
    while (!rs_atomic_load_relaxed_int(&c->stop)) {
        rs_incref(mine);
        rs_decref(mine);
        if ((++i & 15) == 0)
            assert_int_equal(rs_poll(w->ts, NULL), 0);
        if ((i & 1023) == 0) { /* sometimes block (detached), as real threads do */
            rs_tstate_detach(w->ts);
            sched_yield();
            rs_tstate_attach(w->ts);
        }
    }
    rs_atomic_add_relaxed_u64(&c->ops, i);
    rs_decref(mine);
}

static int count_attached_others(rs_tstate *me)
{
    int n = 0;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (t != me && rs_atomic_load_relaxed_int(&t->state) == RS_TS_ATTACHED)
            n++;
    return n;
}

static void test_stop_the_world_stops_everyone(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    stw_ctx c = {0};
    enum { N = 6 };
    worker w[N];
    for (int i = 0; i < N; i++)
        worker_start(&w[i], polling_worker, &c, i);
    while (rs_atomic_load_relaxed_int(&c.running) < N)
        sched_yield();
    int pauses = 200, bad = 0;
    for (int k = 0; k < pauses; k++) {
        rs_stop_the_world(me);
        assert_true(rs_world_is_stopped());
        bad += count_attached_others(me); /* S1 */
        if (k % 20 == 0) {
            rs_violation v;
            bool ok = rs_check_world(&v);
            if (!ok)
                fprintf(stderr, "%s: %s\n", v.invariant, v.msg);
            assert_true(ok);
        }
        rs_start_the_world(me);
    }
    assert_int_equal(bad, 0);
    rs_atomic_store_relaxed_int(&c.stop, 1);
    for (int i = 0; i < N; i++)
        worker_join(&w[i]);
    assert_true(rs_atomic_load_relaxed_u64(&c.ops) > 0);
    assert_world_clean(me);
    rt_down();
}

/* ---- a thread that binds late while another stops the world repeatedly ---- */
typedef struct late_ctx {
    rs_tstate *ts;
    RS_ATOMIC(int) bound;
    RS_ATOMIC(int) go;
    RS_ATOMIC(int) done;
} late_ctx;

static void *late_binder(void *p)
{
    late_ctx *c = p;
    while (!rs_atomic_load_relaxed_int(&c->go))
        sched_yield();
    /* unbound work first (no objects), then bind late, then allocate and exit */
    for (int i = 0; i < 100; i++)
        sched_yield();
    rs_tstate_bind(c->ts);
    rs_atomic_store_relaxed_int(&c->bound, 1);
    if (rs_tstate_attach(c->ts) == 0) {
        rs_object *objs[64];
        for (int round = 0; round < 50; round++) {
            for (int i = 0; i < 64; i++)
                objs[i] = rs_leaf_new();
            rs_poll(c->ts, NULL);
            for (int i = 0; i < 64; i++)
                rs_decref(objs[i]);
        }
        rs_tstate_exit(c->ts);
    } else {
        rs_tstate_release(c->ts);
    }
    rs_atomic_store_relaxed_int(&c->done, 1);
    return NULL;
}

static void test_late_bind_against_repeated_stw(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    for (int round = 0; round < 20; round++) {
        late_ctx c = {.ts = rs_tstate_new()};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, late_binder, &c), 0);
        rs_atomic_store_relaxed_int(&c.go, 1);
        int pauses = 0;
        while (!rs_atomic_load_relaxed_int(&c.done)) {
            rs_stop_the_world(me);
            rs_violation v;
            bool ok = rs_check_world(&v); /* walks only published heaps (G6) */
            if (!ok)
                fprintf(stderr, "%s: %s\n", v.invariant, v.msg);
            assert_true(ok);
            rs_start_the_world(me);
            pauses++;
        }
        rs_tstate_detach(me);
        pthread_join(th, NULL);
        rs_tstate_attach(me);
        assert_true(pauses > 0);
    }
    assert_world_clean(me);
    rt_down();
}

/* ---- two threads stopping the world at the same time ---- */
static void stw_requester(worker *w)
{
    stw_ctx *c = w->arg;
    for (int i = 0; i < 100; i++) {
        rs_stop_the_world(w->ts);
        rs_atomic_add_relaxed_u64(&c->ops, 1);
        rs_start_the_world(w->ts);
        rs_poll(w->ts, NULL);
    }
}

static void test_concurrent_requesters(void **state)
{
    (void)state;
    rt_up();
    stw_ctx c = {0};
    worker w[3];
    for (int i = 0; i < 3; i++)
        worker_start(&w[i], stw_requester, &c, i);
    for (int i = 0; i < 3; i++)
        worker_join(&w[i]);
    assert_int_equal(rs_atomic_load_relaxed_u64(&c.ops), 300);
    rt_down();
}

static void test_eval_breaker_version(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_eval_breaker_set(me, RS_EB_GC_SCHEDULED);
    rs_stop_the_world(me);
    rs_bump_version();
    rs_start_the_world(me);
    uintptr_t eb = rs_eval_breaker_load(me);
    assert_int_equal(eb >> RS_EB_VERSION_SHIFT, 1);
    assert_true(eb & RS_EB_GC_SCHEDULED); /* events survive a bump */
    rs_tstate *t = rs_tstate_new();        /* new states copy the version */
    assert_int_equal(rs_eval_breaker_load(t) >> RS_EB_VERSION_SHIFT, 1);
    rs_poll(me, NULL);
    assert_int_equal(rs_eval_breaker_load(me) & RS_EB_EVENTS_MASK, 0);
    rs_tstate_release(t);
    rt_down();
}

/* ---- shutdown while threads still run ---- */
typedef struct sd_ctx {
    RS_ATOMIC(int) started;
    RS_ATOMIC(int) shut_out;
} sd_ctx;

static void *runs_until_shut_out(void *p)
{
    worker *w = p;
    sd_ctx *c = w->arg;
    rs_tstate_bind(w->ts);
    if (rs_tstate_attach(w->ts) == 0) {
        rs_object *keep = rs_leaf_new(); /* left behind: shutdown must reclaim the accounting */
        (void)keep;
        rs_atomic_add_relaxed_int(&c->started, 1);
        for (;;) {
            rs_object *o = rs_leaf_new();
            rs_decref(o);
            if (rs_poll(w->ts, NULL) < 0)
                break;
        }
        rs_atomic_add_relaxed_int(&c->shut_out, 1);
    }
    rs_tstate_release(w->ts);
    return NULL;
}

static void test_shutdown_with_live_threads(void **state)
{
    (void)state;
    rt_up();
    sd_ctx c = {0};
    enum { N = 4 };
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i].ts = rs_tstate_new();
        w[i].arg = &c;
        assert_int_equal(pthread_create(&w[i].th, NULL, runs_until_shut_out, &w[i]), 0);
    }
    while (rs_atomic_load_relaxed_int(&c.started) < N)
        sched_yield();
    rs_leaks l = rs_runtime_fini();
    for (int i = 0; i < N; i++)
        pthread_join(w[i].th, NULL);
    assert_int_equal(rs_atomic_load_relaxed_int(&c.shut_out), N);
    /* each thread left one live leaf behind: leak accounting must report exactly those */
    assert_int_equal(l.blocks, N);
    assert_int_equal(l.reftotal, N);
}

/* ---- shutdown racing threads that are still binding ---- */
static void *binds_then_tries(void *p)
{
    worker *w = p;
    for (int i = 0; i < w->idx * 50; i++)
        sched_yield();
    if (rs_tstate_bind(w->ts) == 0 && rs_tstate_attach(w->ts) == 0) {
        rs_object *o = rs_leaf_new();
        rs_decref(o);
        while (rs_poll(w->ts, NULL) == 0)
            sched_yield();
    }
    rs_tstate_release(w->ts);
    return NULL;
}

static void test_shutdown_races_binding_threads(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        rt_up();
        enum { N = 4 };
        worker w[N];
        for (int i = 0; i < N; i++) {
            w[i].ts = rs_tstate_new();
            w[i].idx = (round + i) % N;
            assert_int_equal(pthread_create(&w[i].th, NULL, binds_then_tries, &w[i]), 0);
        }
        rs_leaks l = rs_runtime_fini(); /* while some threads are still binding */
        for (int i = 0; i < N; i++)
            pthread_join(w[i].th, NULL);
        assert_int_equal(l.blocks, 0);
        assert_int_equal(l.reftotal, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle_states),
        cmocka_unit_test(test_stop_the_world_stops_everyone),
        cmocka_unit_test(test_late_bind_against_repeated_stw),
        cmocka_unit_test(test_concurrent_requesters),
        cmocka_unit_test(test_eval_breaker_version),
        cmocka_unit_test(test_shutdown_with_live_threads),
        cmocka_unit_test(test_shutdown_races_binding_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
