/* test_qsbr.c — QSBR and delayed free (model.md §11): sequence arithmetic, a reader holding a
 * block back until its quiescent point, detached threads not holding goals back, a storm of
 * short-lived threads freeing delayed (every block freed, nothing leaked), growth of the
 * record array, the `delayed.chunk` and `qsbr.grow` fault points, and each Q validator
 * firing on a hand-broken state. */
#include <stdlib.h>
#include <string.h>

#include "rs/hooks.h"
#include "support.h"

static uint64_t ctr(RS_ATOMIC(uint64_t) *c) { return rs_atomic_load_relaxed_u64(c); }

/* ---- fault hook: fail exactly the named site ---- */
static const char *fail_site;
static RS_ATOMIC(int) fault_hits;
static bool fail_named(void *ctx, const char *site)
{
    (void)ctx;
    if (fail_site && strcmp(site, fail_site) == 0) {
        rs_atomic_add_relaxed_int(&fault_hits, 1);
        return true;
    }
    return false;
}
static void fail_only(const char *site)
{
    fail_site = site;
    rs_atomic_store_relaxed_int(&fault_hits, 0);
    rs_hooks h = {.fault = fail_named};
    rs_hooks_install(&h);
}
static void fail_none(void)
{
    rs_hooks_install(NULL);
    fail_site = NULL;
}

/* ---- sequence arithmetic ---- */
static void test_sequences(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    assert_true(rs_qsbr_leq(1, 1));
    assert_true(rs_qsbr_leq(1, 3));
    assert_false(rs_qsbr_leq(5, 3));
    assert_true(rs_qsbr_lt(INT64_MAX, INT64_MIN)); /* wrap-around: MIN is "after" MAX */
    assert_true(rs_qsbr_leq(INT64_MAX - 1, INT64_MIN + 1)); /* 4 apart across the wrap */
    assert_int_equal(rs_qsbr_wr_seq(), RS_QSBR_INITIAL);
    assert_int_equal(rs_qsbr_rd_seq(), RS_QSBR_INITIAL);
    assert_int_equal(rs_qsbr_seq_of(me), RS_QSBR_INITIAL); /* attached at init */
    assert_int_equal(rs_qsbr_advance(), 3);
    assert_int_equal(rs_qsbr_advance(), 5);
    /* deferred: nine times the next sequence without advancing, the tenth advances */
    for (int i = 1; i < RS_QSBR_DEFERRED_LIMIT; i++)
        assert_int_equal(rs_qsbr_deferred_advance(me), 7);
    assert_int_equal(rs_qsbr_wr_seq(), 5);
    assert_int_equal(rs_qsbr_deferred_advance(me), 7);
    assert_int_equal(rs_qsbr_wr_seq(), 7);
    /* poll: our own record still says 1, so 7 is not reached until we pass a quiescent point */
    assert_false(rs_qsbr_poll(me, 7));
    assert_int_equal(rs_qsbr_rd_seq(), 1);
    rs_qsbr_quiescent(me);
    assert_int_equal(rs_qsbr_seq_of(me), 7);
    assert_true(rs_qsbr_poll(me, 7));
    assert_int_equal(rs_qsbr_rd_seq(), 7);
    assert_false(rs_qsbr_poll(me, 9));
    /* detach is offline (0), attach re-reads wr_seq */
    rs_tstate_detach(me);
    assert_int_equal(rs_qsbr_seq_of(me), RS_QSBR_OFFLINE);
    rs_qsbr_advance();
    assert_int_equal(rs_tstate_attach(me), 0);
    assert_int_equal(rs_qsbr_seq_of(me), 9);
    assert_world_clean(me);
    rt_down();
}

/* ---- a reader holds a MEM block back until its quiescent point ---- */
typedef struct reader_ctx {
    RS_ATOMIC(void *) shared;  /* the published block */
    RS_ATOMIC(int) have;       /* reader loaded the pointer */
    RS_ATOMIC(int) go;         /* reader may read the block and pass a quiescent point */
    RS_ATOMIC(int) passed;     /* reader polled */
    RS_ATOMIC(int) done;       /* reader may exit */
    RS_ATOMIC(uint64_t) seen;  /* what the reader read */
} reader_ctx;

static void reader(worker *w)
{
    reader_ctx *c = w->arg;
    /* acquire: pairs with the main thread's release store of shared */
    uint64_t *p = rs_atomic_load_acquire_ptr(&c->shared);
    rs_atomic_store_release_int(&c->have, 1);       /* pairs with main's acquire wait */
    while (!rs_atomic_load_acquire_int(&c->go))    /* pairs with main's release store */
        sched_yield();                              /* attached, no quiescent point */
    rs_atomic_store_relaxed_u64(&c->seen, p[0] + p[7]);
    rs_poll(w->ts, NULL);                           /* quiescent point */
    rs_atomic_store_release_int(&c->passed, 1);
    while (!rs_atomic_load_acquire_int(&c->done))
        sched_yield();
}

static void test_reader_holds_block(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    reader_ctx c;
    memset(&c, 0, sizeof c);
    uint64_t *p = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 64);
    assert_non_null(p);
    for (int i = 0; i < 8; i++)
        p[i] = 100 + i;
    rs_atomic_store_release_ptr(&c.shared, p); /* pairs with the reader's acquire load */
    worker w;
    worker_start(&w, reader, &c, 0);
    while (!rs_atomic_load_acquire_int(&c.have))
        sched_yield();
    /* the writer unpublishes and frees delayed */
    rs_atomic_store_relaxed_ptr(&c.shared, NULL);
    uint64_t freed0 = ctr(&rs_rt.delayed.freed_delayed);
    rs_free_delayed(me, p);
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 1);
    int64_t goal = me->mem_free_queue.head->items[0].goal;
    while (rs_qsbr_lt(rs_qsbr_wr_seq(), goal))
        rs_qsbr_advance();
    rs_poll(me, NULL);              /* our own quiescent point */
    rs_delayed_process(me);
    /* the reader is still at its attach-time sequence: the block must survive */
    assert_true(rs_heap_block_allocated(p));
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 1);
    assert_int_equal(ctr(&rs_rt.delayed.freed_delayed), freed0);
    assert_true(rs_qsbr_lt(rs_qsbr_rd_seq(), goal));
    rs_atomic_store_release_int(&c.go, 1);
    while (!rs_atomic_load_acquire_int(&c.passed))
        sched_yield();
    rs_delayed_process(me);
    assert_false(rs_heap_block_allocated(p));
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 0);
    assert_int_equal(ctr(&rs_rt.delayed.freed_delayed), freed0 + 1);
    assert_true(rs_qsbr_leq(goal, rs_qsbr_rd_seq()));
    assert_int_equal(rs_atomic_load_relaxed_u64(&c.seen), 100 + 107);
    rs_atomic_store_release_int(&c.done, 1);
    worker_join(&w);
    assert_world_clean(me);
    rt_down();
}

/* ---- detached threads do not hold goals back ---- */
static void detached_sleeper(worker *w)
{
    reader_ctx *c = w->arg;
    rs_tstate_detach(w->ts);
    rs_atomic_store_release_int(&c->have, 1);
    while (!rs_atomic_load_acquire_int(&c->done))
        sched_yield();
    assert_int_equal(rs_tstate_attach(w->ts), 0);
}

static void test_detached_do_not_hold_back(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    reader_ctx c;
    memset(&c, 0, sizeof c);
    worker w;
    worker_start(&w, detached_sleeper, &c, 0);
    while (!rs_atomic_load_acquire_int(&c.have))
        sched_yield();
    assert_int_equal(rs_qsbr_seq_of(w.ts), RS_QSBR_OFFLINE);
    void *p = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 128);
    rs_free_delayed(me, p);
    rs_qsbr_advance();
    rs_poll(me, NULL);
    rs_delayed_process(me);
    assert_false(rs_heap_block_allocated(p));
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 0);
    rs_atomic_store_release_int(&c.done, 1);
    worker_join(&w);
    assert_world_clean(me);
    rt_down();
}

/* ---- a storm of short-lived threads freeing delayed ---- */
enum { STORM_THREADS = 200, STORM_BATCH = 10, STORM_BLOCKS = 300 };

static void storm_worker(worker *w)
{
    uint64_t seed = (uint64_t)w->idx * 7919 + 1;
    for (int i = 0; i < STORM_BLOCKS; i++) {
        size_t sz = 16 + (test_rand(&seed) % 8) * 48;
        unsigned char *b = rs_heap_alloc(&w->ts->heap, RS_HEAP_MEM, sz);
        assert_non_null(b);
        memset(b, i & 0xff, sz);
        rs_free_delayed(w->ts, b);
        if (test_rand(&seed) % 16 == 0)
            rs_poll(w->ts, NULL);
    }
}

static void test_thread_storm(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t q0 = ctr(&rs_rt.delayed.queued), f0 = ctr(&rs_rt.delayed.freed_delayed);
    static worker w[STORM_THREADS];
    for (int b = 0; b < STORM_THREADS; b += STORM_BATCH) {
        for (int i = b; i < b + STORM_BATCH; i++)
            worker_start(&w[i], storm_worker, NULL, i);
        for (int i = b; i < b + STORM_BATCH; i++)
            worker_join(&w[i]);
        rs_poll(me, NULL); /* drains what is ready in the runtime queue */
    }
    assert_int_equal(ctr(&rs_rt.delayed.queued) - q0, STORM_THREADS * STORM_BLOCKS);
    /* every thread has gone: one advance makes every goal reachable; one poll drains (Q5) */
    rs_qsbr_advance();
    rs_poll(me, NULL);
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 0);
    assert_null(rs_rt.delayed.queue.head);
    assert_int_equal(rs_atomic_load_relaxed_int(&rs_rt.delayed.has_work), 0);
    assert_int_equal(ctr(&rs_rt.delayed.freed_delayed) - f0, STORM_THREADS * STORM_BLOCKS);
    assert_int_equal(ctr(&rs_rt.delayed.freed_at_fini), 0);
    assert_int_equal(ctr(&rs_rt.delayed.q1_violations), 0);
    assert_int_equal(rs_get_blocks(), 0);
    assert_world_clean(me);
    rt_down(); /* reftotal 0, blocks 0 */
}

/* leftovers in the runtime queue are freed at shutdown (step 9) */
static void leave_unready(worker *w)
{
    void *p = rs_heap_alloc(&w->ts->heap, RS_HEAP_MEM, 256);
    rs_free_delayed(w->ts, p);   /* goal wr+2: nobody advances, so it is not ready at exit */
}

static void test_shutdown_frees_runtime_queue(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    worker w;
    worker_start(&w, leave_unready, NULL, 0);
    worker_join(&w);
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 1);
    assert_int_equal(rs_atomic_load_relaxed_int(&rs_rt.delayed.has_work), 1);
    rs_poll(me, NULL); /* not ready: stays */
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 1);
    assert_world_clean(me);
    rt_down(); /* blocks 0: shutdown freed it ignoring its goal */
}

/* ---- growth of the record array, and the qsbr.grow fault ---- */
static void test_array_growth_and_fault(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_tstate *ts[24];
    int n = 0;
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.qsbr.size), RS_QSBR_MIN_ARRAY);
    for (; n < RS_QSBR_MIN_ARRAY - 1; n++)
        assert_non_null(ts[n] = rs_tstate_new());
    assert_int_equal(rs_rt.qsbr.nallocated, RS_QSBR_MIN_ARRAY);
    fail_only("qsbr.grow");
    assert_null(rs_tstate_new());
    assert_int_equal(rs_atomic_load_relaxed_int(&fault_hits), 1);
    fail_none();
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.qsbr.size), RS_QSBR_MIN_ARRAY);
    assert_int_equal(rs_rt.qsbr.nallocated, RS_QSBR_MIN_ARRAY);
    uint64_t stw0 = ctr(&rs_rt.stats.stw_count);
    for (; n < 24; n++)
        assert_non_null(ts[n] = rs_tstate_new());
    assert_int_equal(rs_atomic_load_relaxed_uptr(&rs_rt.qsbr.size), 32);
    assert_int_equal(ctr(&rs_rt.qsbr.grows), 2);
    assert_int_equal(ctr(&rs_rt.stats.stw_count) - stw0, 2); /* each growth stopped the world */
    assert_int_equal(rs_rt.qsbr.nallocated, 25);
    /* the main state's record moved with the array and is still online */
    assert_true(rs_qsbr_seq_of(me) != RS_QSBR_OFFLINE);
    assert_world_clean(me);
    for (int i = 0; i < n; i++)
        rs_tstate_release(ts[i]); /* never ran: shutdown deletes them */
    rt_down();
}

/* growth while other threads are attached and polling */
static void poll_until_done(worker *w)
{
    reader_ctx *c = w->arg;
    rs_atomic_add_relaxed_int(&c->have, 1);
    while (!rs_atomic_load_acquire_int(&c->done)) {
        void *p = rs_heap_alloc(&w->ts->heap, RS_HEAP_MEM, 32);
        rs_free_delayed(w->ts, p);
        rs_poll(w->ts, NULL);
    }
}

static void test_growth_with_live_threads(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    reader_ctx c;
    memset(&c, 0, sizeof c);
    enum { N = 12 };
    worker w[N];
    for (int i = 0; i < N; i++)
        worker_start(&w[i], poll_until_done, &c, i);
    while (rs_atomic_load_relaxed_int(&c.have) < N)
        rs_poll(me, NULL);
    assert_true(rs_atomic_load_relaxed_uptr(&rs_rt.qsbr.size) >= 16);
    assert_world_clean(me);
    rs_atomic_store_release_int(&c.done, 1);
    for (int i = 0; i < N; i++)
        worker_join(&w[i]);
    rs_qsbr_advance();
    rs_poll(me, NULL);
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 0);
    assert_int_equal(ctr(&rs_rt.delayed.q1_violations), 0);
    rt_down();
}

/* ---- fault at delayed.chunk: the block is freed under a stop-the-world ---- */
static void test_chunk_fault_frees_under_stw(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    void *p = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 64);
    uint64_t stw0 = ctr(&rs_rt.stats.stw_count), s0 = ctr(&rs_rt.delayed.freed_stw);
    fail_only("delayed.chunk");
    rs_free_delayed(me, p);
    fail_none();
    assert_int_equal(rs_atomic_load_relaxed_int(&fault_hits), 1);
    assert_false(rs_heap_block_allocated(p));
    assert_int_equal(ctr(&rs_rt.delayed.freed_stw) - s0, 1);
    assert_int_equal(ctr(&rs_rt.stats.stw_count) - stw0, 1);
    assert_null(me->mem_free_queue.head);
    /* NULL is nothing; with the world stopped the requester frees at once */
    rs_free_delayed(me, NULL);
    void *q = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 64);
    rs_stop_the_world(me);
    rs_free_delayed(me, q);
    rs_start_the_world(me);
    assert_false(rs_heap_block_allocated(q));
    assert_int_equal(ctr(&rs_rt.delayed.freed_now), 1);
    /* a full chunk is processed: every item but the last (whose goal is always ahead of our
     * own sequence when it is appended) is freed; the next append opens a second chunk */
    uint64_t f0 = ctr(&rs_rt.delayed.freed_delayed);
    for (int i = 0; i < RS_DELAYED_CHUNK_ITEMS; i++) {
        rs_free_delayed(me, rs_heap_alloc(&me->heap, RS_HEAP_MEM, 48));
        rs_qsbr_advance();
        if (i < RS_DELAYED_CHUNK_ITEMS - 1)
            rs_qsbr_quiescent(me);
    }
    assert_int_equal(ctr(&rs_rt.delayed.freed_delayed) - f0, RS_DELAYED_CHUNK_ITEMS - 1);
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 1);
    rs_free_delayed(me, rs_heap_alloc(&me->heap, RS_HEAP_MEM, 48));
    assert_true(me->mem_free_queue.head != me->mem_free_queue.tail);
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 2);
    rs_qsbr_advance();
    rs_qsbr_quiescent(me);
    rs_delayed_process(me);
    assert_int_equal(ctr(&rs_rt.delayed.freed_delayed) - f0, RS_DELAYED_CHUNK_ITEMS + 1);
    /* one empty chunk is kept for reuse */
    assert_non_null(me->mem_free_queue.head);
    assert_true(me->mem_free_queue.head == me->mem_free_queue.tail);
    assert_int_equal(rs_delayed_queue_len(&me->mem_free_queue), 0);
    assert_world_clean(me);
    rt_down();
}

/* ---- each validator fires on a hand-broken state ---- */
static void test_validators_fire(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "");

    /* Q2: wr_seq even; rd_seq ahead of wr_seq */
    int64_t wr = rs_qsbr_wr_seq();
    rs_atomic_store_relaxed_i64(&rs_rt.qsbr.wr_seq, wr + 1);
    assert_string_equal(world_violation(me, &v), "Q2");
    rs_atomic_store_relaxed_i64(&rs_rt.qsbr.wr_seq, wr);
    int64_t rd = rs_qsbr_rd_seq();
    rs_atomic_store_relaxed_i64(&rs_rt.qsbr.rd_seq, wr + 2);
    assert_string_equal(world_violation(me, &v), "Q2");
    rs_atomic_store_relaxed_i64(&rs_rt.qsbr.rd_seq, rd);
    assert_string_equal(world_violation(me, &v), "");

    /* Q3: attached but offline */
    rs_qsbr_rec *recs = rs_atomic_load_relaxed_ptr(&rs_rt.qsbr.array);
    rs_atomic_store_relaxed_i64(&recs[me->qsbr_idx].seq, RS_QSBR_OFFLINE);
    assert_string_equal(world_violation(me, &v), "Q3");
    rs_qsbr_quiescent(me);
    assert_string_equal(world_violation(me, &v), "");

    /* Q4: goals out of order in a thread's queue */
    void *a = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 32), *b = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 32);
    rs_free_delayed(me, a);
    rs_free_delayed(me, b);
    rs_delayed_item *it = me->mem_free_queue.head->items;
    int64_t g = it[0].goal;
    it[0].goal = g + 20;
    assert_string_equal(world_violation(me, &v), "Q4");
    it[0].goal = g;
    assert_string_equal(world_violation(me, &v), "");

    /* Q5: the runtime queue holds items but nobody is told to drain it */
    rs_delayed_abandon(me);
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 2);
    rs_atomic_store_relaxed_int(&rs_rt.delayed.has_work, 0);
    assert_string_equal(world_violation(me, &v), "Q5");
    rs_atomic_store_relaxed_int(&rs_rt.delayed.has_work, 1);
    assert_string_equal(world_violation(me, &v), "");
    rs_qsbr_advance();
    rs_poll(me, NULL);
    assert_int_equal(rs_delayed_queue_len(&rs_rt.delayed.queue), 0);
    assert_false(rs_heap_block_allocated(a));

    /* Q1: a free that skipped the poll (as a mutant would) */
    void *c = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 32);
    rs__delayed_free_item(me, (rs_delayed_item){c, rs_qsbr_wr_seq() + 100});
    assert_string_equal(world_violation(me, &v), "Q1");
    assert_ptr_equal(v.obj, c);
    rs_atomic_store_relaxed_u64(&rs_rt.delayed.q1_violations, 0);
    assert_string_equal(world_violation(me, &v), "");
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_reader_holds_block),
        cmocka_unit_test(test_detached_do_not_hold_back),
        cmocka_unit_test(test_thread_storm),
        cmocka_unit_test(test_shutdown_frees_runtime_queue),
        cmocka_unit_test(test_array_growth_and_fault),
        cmocka_unit_test(test_growth_with_live_threads),
        cmocka_unit_test(test_chunk_fault_frees_under_stw),
        cmocka_unit_test(test_validators_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
