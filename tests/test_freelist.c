/* test_freelist.c — per-thread freelists (model.md §6): push/pop through rs_object_alloc/free,
 * the maximum, clear and final clear, the option off, clearing at thread exit, cross-thread
 * frees on 8 threads, F2/F3 firing on hand-broken states, and the mutants
 * freelist-disabled-caches and freelist-not-cleared-at-exit caught by F2 and by the shutdown
 * leak figures. */
#include <sched.h>
#include <stdlib.h>

#include "support.h"

static rs_freelist *leaves(rs_tstate *ts) { return &ts->freelists.leaves; }

static void rt_up_opts(bool freelists)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.freelists = freelists;
    assert_int_equal(rs_runtime_init(&o), 0);
}

/* ---- push and pop through the object.c seam ---- */
static void test_push_pop_recycles(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    int64_t b0 = rs_get_blocks();
    intptr_t r0 = rs_get_reftotal();
    rs_object *a = rs_leaf_new();
    rs_decref(a);
    /* cached, not freed: still allocated and counted (F3) */
    assert_int_equal(leaves(me)->size, 1);
    assert_ptr_equal(leaves(me)->head, a);
    assert_int_equal(rs_get_blocks() - b0, 1);
    assert_int_equal(rs_get_reftotal(), r0);
    /* dead: a lock-free reader fails on it */
    assert_false(rs_try_incref(a));
    assert_world_clean(me);
    rs_object *b = rs_leaf_new();
    assert_ptr_equal(b, a); /* the same block back, as a new object */
    assert_int_equal(leaves(me)->size, 0);
    assert_true(rs_is_owned(b));
    assert_int_equal(rs_refcnt(b), 1);
    assert_int_equal(rs_get_reftotal() - r0, 1);
    assert_world_clean(me);
    rs_decref(b);
    rt_down(); /* the main thread's exit clears its lists: zero leaks */
}

/* ---- the maximum, clear, final clear ---- */
static void test_max_clear_and_final(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    int64_t b0 = rs_get_blocks();
    enum { N = 150 };
    rs_object *objs[N];
    for (int i = 0; i < N; i++)
        objs[i] = rs_leaf_new();
    for (int i = 0; i < N; i++)
        rs_decref(objs[i]);
    assert_int_equal(leaves(me)->size, RS_FREELIST_MAX_LEAVES);
    assert_int_equal(rs_freelists_count(me), RS_FREELIST_MAX_LEAVES);
    assert_int_equal(rs_get_blocks() - b0, RS_FREELIST_MAX_LEAVES);
    assert_world_clean(me);

    rs_freelists_clear(me, false);
    assert_int_equal(leaves(me)->size, 0);
    assert_null(leaves(me)->head);
    assert_int_equal(rs_get_blocks(), b0);
    /* still enabled */
    rs_decref(rs_leaf_new());
    assert_int_equal(leaves(me)->size, 1);

    rs_freelists_clear(me, true);
    assert_int_equal(leaves(me)->size, -1);
    assert_int_equal(me->freelists.containers[2].size, -1);
    assert_int_equal(me->freelists.object_stack_chunks.size, -1);
    assert_int_equal(rs_get_blocks(), b0);
    /* disabled: push refuses, the block is freed at once */
    rs_decref(rs_leaf_new());
    assert_int_equal(leaves(me)->size, -1);
    assert_null(leaves(me)->head);
    assert_int_equal(rs_get_blocks(), b0);
    assert_world_clean(me);
    rt_down();
}

/* ---- direct push/pop of raw blocks, the option-off maxima ---- */
static void test_raw_lists_and_option_off(void **state)
{
    (void)state;
    rt_up_opts(false);
    rs_tstate *me = rs_tstate_current();
    int64_t b0 = rs_get_blocks();
    for (int i = 0; i < 10; i++)
        rs_decref(rs_leaf_new());
    assert_int_equal(leaves(me)->size, 0);
    assert_int_equal(rs_get_blocks(), b0);
    void *chunk = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 64);
    assert_non_null(chunk);
    assert_int_equal(rs_freelist_push(&me->freelists.object_stack_chunks, chunk,
                                      RS_FREELIST_MAX_OBJECT_STACK_CHUNKS), 0);
    assert_null(rs_freelist_pop(&me->freelists.object_stack_chunks));
    rs_heap_free(&me->heap, chunk);
    assert_world_clean(me); /* F2: option off ⇒ every size 0 */
    rt_down();

    rt_up();
    me = rs_tstate_current();
    rs_freelist *fl = &me->freelists.object_stack_chunks;
    void *c[6];
    for (int i = 0; i < 6; i++)
        c[i] = rs_heap_alloc(&me->heap, RS_HEAP_MEM, 64);
    int pushed = 0;
    for (int i = 0; i < 6; i++)
        pushed += rs_freelist_push(fl, c[i], RS_FREELIST_MAX_OBJECT_STACK_CHUNKS);
    assert_int_equal(pushed, RS_FREELIST_MAX_OBJECT_STACK_CHUNKS);
    assert_world_clean(me);
    assert_ptr_equal(rs_freelist_pop(fl), c[3]); /* LIFO */
    assert_int_equal(fl->size, 3);
    rs_heap_free(&me->heap, c[3]);
    rs_heap_free(&me->heap, c[4]);
    rs_heap_free(&me->heap, c[5]);
    /* c[0..2] stay cached: the exit clear frees them */
    assert_ptr_equal(rs_freelist_for(me, &rs_leaf_type, 0), leaves(me));
    rt_down();
}

/* ---- thread exit clears the thread's lists ---- */
enum { EXIT_OBJS = 50 };

typedef struct exit_ctx {
    intptr_t cached_before_exit;
} exit_ctx;

static void cache_and_exit(worker *w)
{
    exit_ctx *c = w->arg;
    rs_object *objs[EXIT_OBJS];
    for (int i = 0; i < EXIT_OBJS; i++)
        objs[i] = rs_leaf_new();
    for (int i = 0; i < EXIT_OBJS; i++)
        rs_decref(objs[i]);
    c->cached_before_exit = rs_freelists_count(w->ts);
}

static rs_leaks run_exit_clearing(int64_t *blocks_after_join)
{
    rt_up();
    exit_ctx c = {0};
    worker w;
    int64_t b0 = rs_get_blocks();
    worker_start(&w, cache_and_exit, &c, 0);
    worker_join(&w);
    assert_int_equal(c.cached_before_exit, EXIT_OBJS);
    *blocks_after_join = rs_get_blocks() - b0;
    /* The mutant's lost freelisted blocks look like live objects breaking H1 to the
     * validation of shutdown's collections (model.md §4 steps 3, 5); this reads the leak figures */
    if (rs_bug(RS_BUG_FREELIST_NOT_CLEARED_AT_EXIT))
        rs_rt.opts.validate = false;
    return rs_runtime_fini();
}

static void test_exit_clears(void **state)
{
    (void)state;
    int64_t left;
    rs_leaks l = run_exit_clearing(&left);
    assert_int_equal(left, 0);
    assert_int_equal(l.blocks, 0);
    assert_int_equal(l.reftotal, 0);
}

static void test_mutant_not_cleared_at_exit(void **state)
{
    (void)state;
    assert_int_equal(rs_bug_set("freelist-not-cleared-at-exit", true), 0);
    int64_t left;
    rs_leaks l = run_exit_clearing(&left);
    rs_bug_clear_all();
    /* the cached blocks vanished with the thread state: the leak figures show every one */
    assert_int_equal(left, EXIT_OBJS);
    assert_int_equal(l.blocks, EXIT_OBJS);
    assert_int_equal(l.reftotal, 0);
}

/* ---- freelist-disabled-caches: (a) the option off still caches: F2 ---- */
static void test_mutant_disabled_caches_option_off(void **state)
{
    (void)state;
    rt_up_opts(false);
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    assert_int_equal(rs_bug_set("freelist-disabled-caches", true), 0);
    rs_decref(rs_leaf_new());
    rs_bug_clear_all();
    assert_string_equal(world_violation(me, &v), "F2");
    rs_freelists_clear(me, false);
    assert_world_clean(me);
    rt_down();
}

/* ---- (b) a destructor after the final clear: the thread's BRC drain at exit frees an object
 * another thread queued to it; the block is cached on a disabled list nobody clears ---- */
typedef struct late_ctx {
    RS_ATOMIC(void *) obj;
    RS_ATOMIC(int) go;
} late_ctx;

static void make_then_exit_late(worker *w)
{
    late_ctx *c = w->arg;
    rs_object *o = rs_leaf_new();
    /* release: pairs with the main thread's acquire load; the reference moves to it */
    rs_atomic_store_release_ptr(&c->obj, o);
    rs_tstate_detach(w->ts); /* no poll: the queued merge must wait for the exit drain */
    while (!rs_atomic_load_acquire_int(&c->go)) /* pairs with the main thread's release store */
        sched_yield();
    assert_int_equal(rs_tstate_attach(w->ts), 0);
}

static rs_leaks run_late_destructor(uint64_t *queued)
{
    rt_up();
    late_ctx c;
    rs_atomic_store_relaxed_ptr(&c.obj, NULL);
    rs_atomic_store_relaxed_int(&c.go, 0);
    worker w;
    uint64_t q0 = rs_atomic_load_relaxed_u64(&rs_rt.stats.queued);
    worker_start(&w, make_then_exit_late, &c, 0);
    rs_object *o;
    while ((o = rs_atomic_load_acquire_ptr(&c.obj)) == NULL) /* pairs with the worker's release */
        sched_yield();
    rs_decref(o); /* not the owner, shared 0: queued to the worker */
    *queued = rs_atomic_load_relaxed_u64(&rs_rt.stats.queued) - q0;
    rs_atomic_store_release_int(&c.go, 1); /* pairs with the worker's acquire loop */
    worker_join(&w);
    return rs_runtime_fini();
}

static void test_mutant_disabled_caches_after_final_clear(void **state)
{
    (void)state;
    uint64_t queued;
    rs_leaks clean = run_late_destructor(&queued);
    assert_int_equal(queued, 1);
    assert_int_equal(clean.blocks, 0);
    assert_int_equal(clean.reftotal, 0);
    assert_int_equal(rs_bug_set("freelist-disabled-caches", true), 0);
    rs_leaks bad = run_late_destructor(&queued);
    rs_bug_clear_all();
    assert_int_equal(queued, 1);
    assert_int_equal(bad.blocks, 1); /* cached after the final clear, lost with the state */
    assert_int_equal(bad.reftotal, 0);
}

/* ---- 8 threads: objects freed by other threads land on the freeing thread's list ---- */
enum { XTHREADS = 8, XOBJS = 300 };

typedef struct xfree {
    RS_ATOMIC(void *) slots[XTHREADS];
    RS_ATOMIC(int) failures;
} xfree;

static void cross_worker(worker *w)
{
    xfree *x = w->arg;
    uint64_t rnd = 0xf1ee0000u + (uint64_t)w->idx;
    for (int i = 0; i < XOBJS; i++) {
        rs_object *o = rs_leaf_new(); /* may come from our list: blocks of any thread */
        if (o == NULL) {
            rs_atomic_add_relaxed_int(&x->failures, 1);
            return;
        }
        int k = (int)(test_rand(&rnd) % XTHREADS);
        /* acq_rel: publishes o (release) and takes the previous one (acquire), pairing with
         * the other workers' exchanges on the same slot */
        rs_object *prev = rs_atomic_exchange_acq_rel_ptr(&x->slots[k], o);
        if (prev)
            rs_decref(prev); /* usually not ours: queued to its owner, or freed here if merged */
        if ((i & 7) == 0 && rs_poll(w->ts, NULL) != 0)
            rs_atomic_add_relaxed_int(&x->failures, 1);
        if (w->idx == 1 && i == XOBJS / 2) {
            rs_violation v;
            if (!rs_check_runtime(w->ts, &v)) {
                fprintf(stderr, "xfree violation %s: %s\n", v.invariant, v.msg);
                rs_atomic_add_relaxed_int(&x->failures, 1);
            }
        }
    }
}

static void test_cross_thread_frees(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    xfree *x = calloc(1, sizeof *x);
    assert_non_null(x);
    uint64_t d0 = rs_atomic_load_relaxed_u64(&rs_leaf_type.tp_deallocs);
    worker w[XTHREADS];
    for (int i = 0; i < XTHREADS; i++)
        worker_start(&w[i], cross_worker, x, i);
    for (int i = 0; i < XTHREADS; i++)
        worker_join(&w[i]);
    assert_int_equal(rs_atomic_load_relaxed_int(&x->failures), 0);
    assert_world_clean(me);
    for (int i = 0; i < XTHREADS; i++) {
        rs_object *o = rs_atomic_exchange_acq_rel_ptr(&x->slots[i], NULL); /* after the joins */
        if (o)
            rs_decref(o);
    }
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_leaf_type.tp_deallocs) - d0, XTHREADS * XOBJS);
    assert_world_clean(me);
    free(x);
    rt_down();
}

/* ---- F2 and F3 fire ---- */
static void test_validators_fire(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    rs_object *a = rs_leaf_new(), *b = rs_leaf_new();
    rs_decref(a);
    rs_decref(b); /* chain: b → a → 0 */
    rs_freelist *fl = leaves(me);
    assert_int_equal(fl->size, 2);
    assert_world_clean(me);

    /* F2: size is not the chain length */
    fl->size = 3;
    assert_string_equal(world_violation(me, &v), "F2");
    fl->size = 1;
    assert_string_equal(world_violation(me, &v), "F2");
    fl->size = 2;
    /* F2: a disabled list holding blocks */
    fl->size = -1;
    assert_string_equal(world_violation(me, &v), "F2");
    fl->size = 2;
    /* F2: the option off with a block cached */
    rs_rt.opts.freelists = false;
    assert_string_equal(world_violation(me, &v), "F2");
    rs_rt.opts.freelists = true;
    assert_world_clean(me);

    /* F3: a freelisted object that is alive (try_incref would succeed) */
    rs_atomic_store_relaxed_iptr(&a->ob_ref_shared, RS_REF_SHARED(1, 0));
    assert_string_equal(world_violation(me, &v), "F3");
    rs_atomic_store_relaxed_iptr(&a->ob_ref_shared, 0);
    /* F3: a thread id in the link word */
    rs_atomic_store_relaxed_uptr(&a->ob_tid, rs_thread_id());
    assert_string_equal(world_violation(me, &v), "F3");
    rs_atomic_store_relaxed_uptr(&a->ob_tid, 0);
    assert_world_clean(me);
    /* F3: a block that is no longer allocated on the list */
    rs_object *c = rs_leaf_new(); /* pops b */
    assert_ptr_equal(c, b);
    rs_heap_free(&me->heap, c);   /* freed behind the list's back... */
    void *saved = fl->head;
    fl->head = c;                 /* ...and put back on it without touching the block */
    fl->size = 2;
    assert_string_equal(world_violation(me, &v), "F3");
    fl->head = saved;
    fl->size = 1;
    rs_reftotal_add(-1);          /* c's count left with the block */
    assert_world_clean(me);
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_recycles),
        cmocka_unit_test(test_max_clear_and_final),
        cmocka_unit_test(test_raw_lists_and_option_off),
        cmocka_unit_test(test_exit_clears),
        cmocka_unit_test(test_mutant_not_cleared_at_exit),
        cmocka_unit_test(test_mutant_disabled_caches_option_off),
        cmocka_unit_test(test_mutant_disabled_caches_after_final_clear),
        cmocka_unit_test(test_cross_thread_frees),
        cmocka_unit_test(test_validators_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
