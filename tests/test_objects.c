/* test_objects.c — containers, lists, finalizables, weakrefs and roots (model.md §0.1, §2.1, §2.3,
 * §11): each kind's semantics on one thread; lock-free container and list reads racing
 * writers from 4 threads; a list resized by its owner while others read (replaced buffers go
 * through delayed free); weakref get racing the referent's death; finalizer and destructor
 * resurrection with clean validators; roots.  Every test ends with zero leaks (rt_down) and
 * counts destructor runs exactly.  No test builds a reference cycle (there is no GC yet). */
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "support.h"

static uint64_t ctr(RS_ATOMIC(uint64_t) *c) { return rs_atomic_load_relaxed_u64(c); }
static uint64_t deallocs(rs_type *t) { return ctr(&t->tp_deallocs); }

/* a leaf type of our own, so its destructor runs can be counted exactly */
static void item_dealloc(rs_object *o) { rs_object_free(o); }
static rs_type item_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "test.item",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_LEAF,
    .tp_dealloc = item_dealloc,
};
static rs_object *item_new(void)
{
    rs_object *o = rs_object_alloc(&item_type, 0);
    assert_non_null(o);
    return o;
}

static int count_visit(rs_object *o, int tagged, void *arg)
{
    (void)o;
    assert_int_equal(tagged, 0);
    (*(int *)arg)++;
    return 0;
}

/* ---- containers ---- */
static void test_container_semantics(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t d0 = deallocs(&item_type), c0 = deallocs(&rs_container_type);
    uint64_t all0 = rs_stats_deallocs(); /* the runtime-wide count: per-thread counters summed */
    rs_object *c = rs_container_new(3);
    assert_non_null(c);
    assert_true(rs_gc_bits(c) & RS_GC_TRACKED);
    assert_null(rs_container_get(c, 0));
    rs_object *a = item_new(), *b = item_new();
    rs_incref(a);
    rs_container_set(c, 0, a); /* steals one of a's two references */
    rs_container_set(c, 2, b);
    assert_int_equal(rs_refcnt(a), 2);
    rs_object *g = rs_container_get(c, 0);
    assert_ptr_equal(g, a);
    assert_int_equal(rs_refcnt(a), 3);
    rs_decref(g);
    int n = 0;
    assert_int_equal(rs_container_traverse(c, count_visit, &n), 0);
    assert_int_equal(n, 2);
    assert_world_clean(me);
    rs_container_set(c, 2, NULL); /* old value dropped outside the lock */
    assert_int_equal(deallocs(&item_type), d0 + 1);
    rs_container_set(c, 1, item_new());
    rs_container_clear(c);
    assert_int_equal(deallocs(&item_type), d0 + 2);
    assert_int_equal(rs_refcnt(a), 1);
    rs_container_set(c, 1, item_new());
    rs_decref(c); /* destructor drops the slot */
    assert_int_equal(deallocs(&rs_container_type), c0 + 1);
    assert_int_equal(deallocs(&item_type), d0 + 3);
    rs_decref(a);
    assert_int_equal(deallocs(&item_type), d0 + 4);
    assert_int_equal(rs_stats_deallocs(), all0 + 5);
    rt_down();
}

/* a heap type: a GC object whose instances hold a reference to it */
static void metatype_dealloc(rs_object *o) { rs_object_free(o); }
static rs_type metatype = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "test.metatype",
    .tp_basicsize = sizeof(rs_type),
    .tp_kind = RS_KIND_TYPE,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = metatype_dealloc,
};

static rs_type *heap_container_type_new(void)
{
    rs_object *o = rs_object_alloc(&metatype, 1);
    assert_non_null(o);
    rs_type *t = (rs_type *)o;
    memset((char *)t + sizeof(rs_object), 0, sizeof(rs_type) - sizeof(rs_object));
    t->tp_name = "test.heap_container";
    t->tp_basicsize = sizeof(rs_container);
    t->tp_kind = RS_KIND_CONTAINER;
    t->tp_flags = RS_TPFLAGS_GC | RS_TPFLAGS_HEAPTYPE;
    t->tp_dealloc = rs_container_dealloc;
    t->tp_traverse = rs_container_traverse;
    t->tp_clear = rs_container_clear;
    return t;
}

static void test_heap_type_instances(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t m0 = deallocs(&metatype);
    rs_type *t = heap_container_type_new();
    rs_object *x = rs_container_new_typed(t, 2), *y = rs_container_new_typed(t, 8);
    assert_int_equal(rs_refcnt(&t->ob_base), 3);
    rs_container_set(x, 1, y);
    rs_object *wy = rs_weakref_new(y, false);
    assert_world_clean(me);
    rs_decref(&t->ob_base); /* the instances keep it alive */
    assert_int_equal(deallocs(&metatype), m0);
    rs_decref(x); /* x, then y, then the type (t is freed: not read again) */
    assert_null(rs_weakref_get(wy));
    assert_int_equal(deallocs(&metatype), m0 + 1);
    rs_decref(wy);
    rt_down();
}

/* ---- lists ---- */
static void test_list_semantics(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t d0 = deallocs(&item_type), l0 = deallocs(&rs_list_type);
    rs_object *l = rs_list_new();
    assert_non_null(l);
    assert_true(rs_gc_bits(l) & RS_GC_TRACKED);
    assert_null(rs_list_get(l, 0));
    rs_object *keep[20];
    for (int i = 0; i < 20; i++) {
        keep[i] = item_new();
        rs_incref(keep[i]);
        assert_int_equal(rs_list_append(l, keep[i]), 0);
    }
    assert_int_equal(rs_list_size(l), 20);
    for (int i = 0; i < 20; i++) {
        rs_object *g = rs_list_get(l, (size_t)i);
        assert_ptr_equal(g, keep[i]);
        rs_decref(g);
    }
    assert_null(rs_list_get(l, 20));
    assert_null(rs_list_get(l, 1000));
    int n = 0;
    assert_int_equal(rs_list_traverse(l, count_visit, &n), 0);
    assert_int_equal(n, 20);
    /* set replaces, out of range fails (and drops the reference given) */
    assert_int_equal(rs_list_set(l, 3, item_new()), 0);
    assert_int_equal(rs_refcnt(keep[3]), 1);
    assert_int_equal(rs_list_set(l, 20, item_new()), -1);
    assert_int_equal(deallocs(&item_type), d0 + 1);
    /* growth fills with None; truncation drops items and shrinks the buffer */
    assert_int_equal(rs_list_resize(l, 40), 0);
    assert_int_equal(rs_list_size(l), 40);
    rs_object *g = rs_list_get(l, 39);
    assert_ptr_equal(g, &rs_none);
    rs_decref(g);
    assert_int_equal(rs_list_resize(l, 2), 0);
    assert_int_equal(rs_list_size(l), 2);
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&((rs_list *)l)->items);
    assert_true(it->capacity <= 8);
    assert_int_equal(deallocs(&item_type), d0 + 2); /* the replacement at 3 */
    assert_int_equal(rs_refcnt(keep[5]), 1);
    assert_world_clean(me);
    /* owner-only list: replaced buffers freed at once, nothing delayed */
    assert_false(rs_gc_bits(l) & RS_GC_SHARED);
    assert_int_equal(ctr(&rs_rt.delayed.queued), 0);
    rs_list_clear(l);
    assert_int_equal(rs_list_size(l), 0);
    assert_int_equal(rs_list_append(l, item_new()), 0);
    rs_decref(l);
    assert_int_equal(deallocs(&rs_list_type), l0 + 1);
    assert_int_equal(deallocs(&item_type), d0 + 3);
    for (int i = 0; i < 20; i++)
        rs_decref(keep[i]);
    assert_int_equal(deallocs(&item_type), d0 + 23);
    rt_down();
}

/* a non-owner's first read marks the list SHARED; then replaced buffers are delayed */
static void read_once(worker *w)
{
    rs_object *g = rs_list_get(w->arg, 0);
    if (g)
        rs_decref(g);
}

static void test_list_shared_read_delays_buffers(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *l = rs_list_new();
    assert_int_equal(rs_list_append(l, item_new()), 0);
    worker w;
    worker_start(&w, read_once, l, 0);
    worker_join(&w);
    assert_true(rs_gc_bits(l) & RS_GC_SHARED);
    uint64_t q0 = ctr(&rs_rt.delayed.queued);
    for (int i = 0; i < 10; i++) /* 4 → 8 → 16: two replacements */
        assert_int_equal(rs_list_append(l, item_new()), 0);
    assert_int_equal(ctr(&rs_rt.delayed.queued) - q0, 2);
    rs_decref(l); /* the last buffer too */
    assert_int_equal(ctr(&rs_rt.delayed.queued) - q0, 3);
    assert_world_clean(me);
    rt_down();
}

/* a non-owner that replaces the buffer marks the list SHARED itself (the owner may be reading) */
static void append_five(worker *w)
{
    for (int i = 0; i < 5; i++) /* 4 → 8: one replacement */
        assert_int_equal(rs_list_append(w->arg, rs_leaf_new()), 0);
}

static void test_list_non_owner_resize_shares(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *l = rs_list_new();
    uint64_t q0 = ctr(&rs_rt.delayed.queued);
    worker w;
    worker_start(&w, append_five, l, 0);
    worker_join(&w);
    assert_true(rs_gc_bits(l) & RS_GC_SHARED);
    assert_int_equal(ctr(&rs_rt.delayed.queued) - q0, 1); /* the replaced 4-slot buffer */
    assert_int_equal(rs_list_size(l), 5);
    assert_world_clean(me);
    rs_decref(l);
    assert_int_equal(ctr(&rs_rt.delayed.queued) - q0, 2); /* the last buffer: delayed too */
    rt_down();
}

/* ---- finalizables ---- */
static void test_fin_none(void **state)
{
    (void)state;
    rt_up();
    uint64_t f0 = ctr(&rs_rt.stats.finalizers_run), d0 = deallocs(&item_type);
    uint64_t t0 = deallocs(&rs_fin_none_type);
    rs_object *f = rs_finalizable_new(RS_FIN_NONE, 2, 0);
    rs_container_set(f, 1, item_new());
    rs_decref(f);
    assert_int_equal(ctr(&rs_rt.stats.finalizers_run), f0 + 1);
    assert_int_equal(deallocs(&rs_fin_none_type), t0 + 1);
    assert_int_equal(deallocs(&item_type), d0 + 1);
    assert_null(rs_root_get(0));
    rt_down();
}

static void test_finalizer_resurrection(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t f0 = ctr(&rs_rt.stats.finalizers_run), d0 = deallocs(&item_type);
    uint64_t t0 = deallocs(&rs_fin_resurrect_type);
    rs_object *f = rs_finalizable_new(RS_FIN_RESURRECT, 1, 3);
    rs_container_set(f, 0, item_new());
    rs_decref(f); /* finalizer stores it in roots[3]: alive, merged, count 1 */
    assert_int_equal(ctr(&rs_rt.stats.finalizers_run), f0 + 1);
    assert_true(rs_gc_bits(f) & RS_GC_FINALIZED);
    rs_object *r = rs_root_get(3);
    assert_ptr_equal(r, f);
    assert_int_equal(rs_refcnt(f), 2);
    rs_decref(r);
    assert_int_equal(deallocs(&item_type), d0); /* its slot survived */
    assert_world_clean(me);
    rs_root_set(3, NULL); /* second death: no finalizer, destroyed */
    assert_int_equal(ctr(&rs_rt.stats.finalizers_run), f0 + 1);
    assert_int_equal(deallocs(&rs_fin_resurrect_type), t0 + 2);
    assert_int_equal(deallocs(&item_type), d0 + 1);
    rt_down();
}

static void test_destructor_resurrection(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t f0 = ctr(&rs_rt.stats.finalizers_run), d0 = deallocs(&item_type);
    uint64_t t0 = deallocs(&rs_dealloc_resurrect_type);
    rs_object *f = rs_finalizable_new(RS_DEALLOC_RESURRECT, 1, 5);
    rs_container_set(f, 0, item_new());
    rs_decref(f); /* fast-path death (shared 0): destructor increfs it back, roots[5] */
    assert_int_equal(deallocs(&rs_dealloc_resurrect_type), t0 + 1);
    assert_int_equal(rs_refcnt(f), 1);
    assert_world_clean(me);
    /* the root made it MAYBE_WEAKREF: the next death merges first (no fast path) */
    rs_object *r = rs_root_get(5);
    assert_ptr_equal(r, f);
    rs_decref(r);
    rs_root_set(5, NULL);
    assert_int_equal(deallocs(&rs_dealloc_resurrect_type), t0 + 2);
    assert_int_equal(deallocs(&item_type), d0 + 1);
    assert_int_equal(ctr(&rs_rt.stats.finalizers_run), f0); /* no finalizer */
    rt_down();
}

/* ---- weakrefs ---- */
typedef struct found_ctx { int n; rs_object *last; } found_ctx;
static void found_cb(rs_object *wr, void *arg)
{
    found_ctx *c = arg;
    c->n++;
    c->last = wr;
}

static void test_weakref_semantics(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t cb0 = ctr(&rs_rt.stats.callbacks_run);
    rs_object *c = rs_container_new(1);
    rs_object *w1 = rs_weakref_new(c, true), *w2 = rs_weakref_new(c, false);
    rs_object *w3 = rs_weakref_new(c, true);
    assert_int_equal(rs_atomic_load_relaxed_iptr(&c->ob_ref_shared), RS_REF_MAYBE_WEAKREF);
    assert_int_equal(rs_weakref_count(c), 3);
    rs_object *g = rs_weakref_get(w1);
    assert_ptr_equal(g, c);
    rs_decref(g);
    assert_world_clean(me);
    rs_decref(w3); /* a weakref dying first unlinks itself */
    assert_int_equal(rs_weakref_count(c), 2);
    rs_decref(c); /* MAYBE_WEAKREF: merged, then destroyed; w1's callback runs */
    assert_int_equal(ctr(&rs_rt.stats.callbacks_run), cb0 + 1);
    assert_null(rs_weakref_get(w1));
    assert_null(rs_weakref_get(w2));
    assert_int_equal(rs_weakref_count(c), 0);
    rs_decref(w1);
    rs_decref(w2);

    /* lists and finalizables; the GC's clearing entry point */
    rs_object *l = rs_list_new(), *f = rs_finalizable_new(RS_FIN_NONE, 0, 0);
    rs_object *wl = rs_weakref_new(l, true), *wf = rs_weakref_new(f, false);
    found_ctx fc = {0, NULL};
    assert_int_equal(rs_weakrefs_clear(l, found_cb, &fc), 1);
    assert_int_equal(fc.n, 1);
    assert_ptr_equal(fc.last, wl);
    assert_null(rs_weakref_get(wl));
    rs_weakref_run_callback(wl);
    assert_int_equal(ctr(&rs_rt.stats.callbacks_run), cb0 + 2);
    rs_weakref_clear(wf);
    assert_null(rs_weakref_get(wf));
    assert_int_equal(rs_weakref_count(f), 0);
    rs_decref(l);
    rs_decref(f);
    assert_int_equal(ctr(&rs_rt.stats.callbacks_run), cb0 + 2);
    rs_decref(wl);
    rs_decref(wf);
    rt_down();
}

/* W1 fires when a referent's block is freed while a weakref still points to it (a destructor
 * that forgot to clear its weakrefs, made by hand) */
static void test_w1_fires_on_uncleared_weakref(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    rs_object *c = rs_container_new(0);
    rs_object *w = rs_weakref_new(c, true);
    assert_world_clean(me);
    rs_reftotal_add(-1); /* c's one reference, as a destructor would have dropped it */
    rs_object_free(c);   /* skipping rs_weakrefs_clear_dealloc */
    rs_violation v;
    assert_string_equal(world_violation(me, &v), "W1");
    assert_ptr_equal(v.obj, w);
    rs_weakref_clear(w); /* repair */
    assert_world_clean(me);
    rs_decref(w);
    rt_down();
}

/* ---- roots ---- */
static void test_roots(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t d0 = deallocs(&item_type);
    rs_object *a = item_new(), *b = item_new();
    assert_null(rs_root_get(0));
    rs_incref(a);
    rs_root_set(0, a);
    assert_int_equal(rs_atomic_load_relaxed_iptr(&a->ob_ref_shared), RS_REF_MAYBE_WEAKREF);
    rs_object *g = rs_root_get(0);
    assert_ptr_equal(g, a);
    rs_decref(g);
    rs_root_set(0, b); /* drops the root's reference to a */
    assert_int_equal(rs_refcnt(a), 1);
    rs_incref(b);
    rs_late_root_set(7, b);
    g = rs_late_root_get(7);
    assert_ptr_equal(g, b);
    rs_decref(g);
    assert_int_equal(rs_refcnt(b), 2);
    assert_world_clean(me);
    rs_roots_clear();
    assert_null(rs_root_get(0));
    assert_int_equal(deallocs(&item_type), d0);
    rs_late_roots_clear();
    assert_null(rs_late_root_get(7));
    assert_int_equal(deallocs(&item_type), d0 + 1);
    rs_decref(a);
    assert_int_equal(deallocs(&item_type), d0 + 2);
    rt_down();
}

/* ---- 4 threads: lock-free container reads racing writers ---- */
#define RACE_THREADS 4
#define RACE_OPS 50000

typedef struct race_ctx {
    rs_object *target;
    RS_ATOMIC(uint64_t) created;
    RS_ATOMIC(uint64_t) bad;    /* a read returned something that is not a live item */
    RS_ATOMIC(int) stop;
    RS_ATOMIC(int) arrived;     /* relaxed start line: overlap without happens-before */
} race_ctx;

/* Each racer waits (relaxed, polling) until `n` have arrived, so that they really overlap;
 * relaxed accesses create no happens-before edge that could hide a race from TSan. */
static void arrive_and_wait(race_ctx *c, rs_tstate *ts, int n)
{
    rs_atomic_add_relaxed_int(&c->arrived, 1);
    while (rs_atomic_load_relaxed_int(&c->arrived) < n)
        rs_poll(ts, NULL);
}

static void container_racer(worker *w)
{
    race_ctx *c = w->arg;
    uint64_t seed = 0xC0FFEEu + (uint64_t)w->idx, made = 0;
    arrive_and_wait(c, w->ts, RACE_THREADS);
    for (int op = 0; op < RACE_OPS; op++) {
        uint64_t r = test_rand(&seed);
        uint32_t slot = (uint32_t)(r % RS_CONTAINER_MAX);
        if ((r >> 8) % 4 == 0) {
            rs_object *it = rs_object_alloc(&item_type, 0);
            if ((r >> 16) & 1)
                rs_object_set_maybe_weakref(it); /* readers' try_incref can succeed */
            made++;
            if ((r >> 20) % 8 == 0) { /* sometimes empty the slot instead */
                rs_decref(it);
                it = NULL;
            }
            rs_container_set(c->target, slot, it);
        } else {
            rs_object *g = rs_container_get(c->target, slot);
            if (g) {
                if (g->ob_type != &item_type || rs_refcnt(g) < 1)
                    rs_atomic_add_relaxed_u64(&c->bad, 1);
                rs_decref(g);
            }
        }
        if (op % 64 == 0)
            rs_poll(w->ts, NULL);
    }
    rs_atomic_add_relaxed_u64(&c->created, made);
}

static void test_container_reads_race_writers(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t d0 = deallocs(&item_type);
    race_ctx c = {.target = rs_container_new(RS_CONTAINER_MAX)};
    worker w[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        worker_start(&w[i], container_racer, &c, i);
    for (int i = 0; i < RACE_THREADS; i++)
        worker_join(&w[i]);
    assert_int_equal(ctr(&c.bad), 0);
    assert_world_clean(me);
    rs_decref(c.target);
    rs_poll(me, NULL);
    assert_int_equal(deallocs(&item_type) - d0, ctr(&c.created));
    assert_true(ctr(&c.created) > RACE_THREADS * RACE_OPS / 8);
    rt_down();
}

/* ---- a list resized by its owner while 3 others read (and one also writes) ---- */
static void list_reader(worker *w)
{
    race_ctx *c = w->arg;
    uint64_t seed = 0x5EEDu + (uint64_t)w->idx;
    arrive_and_wait(c, w->ts, 4);
    for (uint64_t op = 0; !rs_atomic_load_acquire_int(&c->stop); op++) { /* pairs with the stop store */
        uint64_t r = test_rand(&seed);
        rs_object *g = rs_list_get(c->target, (size_t)(r % 80));
        if (g) {
            if ((g->ob_type != &item_type && g != &rs_none) || rs_refcnt(g) < 1)
                rs_atomic_add_relaxed_u64(&c->bad, 1);
            rs_decref(g);
        }
        if (w->idx == 0 && r % 16 == 0) { /* a non-owner writer: set under the lock */
            rs_object *it = rs_object_alloc(&item_type, 0);
            rs_atomic_add_relaxed_u64(&c->created, 1);
            rs_list_set(c->target, (size_t)((r >> 8) % 8), it);
        }
        if (op % 32 == 0)
            rs_poll(w->ts, NULL); /* quiescent point: delayed buffers may go */
    }
}

#define LIST_ROUNDS 600
static void test_list_resized_while_read(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t d0 = deallocs(&item_type), q0 = ctr(&rs_rt.delayed.queued);
    race_ctx c = {.target = rs_list_new()};
    for (int i = 0; i < 8; i++)
        assert_int_equal(rs_list_append(c.target, item_new()), 0);
    rs_atomic_store_relaxed_u64(&c.created, 8);
    worker w[3];
    for (int i = 0; i < 3; i++)
        worker_start(&w[i], list_reader, &c, i);
    arrive_and_wait(&c, me, 4);
    while (!(rs_gc_bits(c.target) & RS_GC_SHARED)) /* a reader's first read marks it */
        rs_poll(me, NULL);
    uint64_t made = 0;
    for (int round = 0; round < LIST_ROUNDS; round++) {
        for (int i = 0; i < 64; i++) {
            rs_object *it = item_new();
            if (i & 1)
                rs_object_set_maybe_weakref(it);
            made++;
            assert_int_equal(rs_list_append(c.target, it), 0);
        }
        assert_int_equal(rs_list_resize(c.target, round % 3 == 0 ? 80 : 8), 0);
        rs_poll(me, NULL);
    }
    rs_atomic_store_release_int(&c.stop, 1); /* pairs with the readers' acquire load */
    for (int i = 0; i < 3; i++)
        worker_join(&w[i]);
    assert_int_equal(ctr(&c.bad), 0);
    assert_true(ctr(&rs_rt.delayed.queued) - q0 >= LIST_ROUNDS); /* ≥ 1 buffer per round */
    assert_world_clean(me);
    rs_decref(c.target);
    rs_poll(me, NULL); /* merge what readers' decrefs queued to us */
    assert_int_equal(deallocs(&item_type) - d0, ctr(&c.created) + made);
    rt_down();
}

/* ---- weakref get racing the referent's death ---- */
#define WR_ROUNDS 1000

static void weakref_reader(worker *w)
{
    race_ctx *c = w->arg;
    arrive_and_wait(c, w->ts, 4);
    for (uint64_t op = 0; !rs_atomic_load_acquire_int(&c->stop); op++) { /* pairs with stop store */
        rs_object *wr = rs_root_get(0);
        if (wr) {
            rs_object *r = rs_weakref_get(wr);
            if (r) {
                rs_object *inner = rs_container_get(r, 0); /* reads the referent's memory */
                if (r->ob_type != &rs_container_type || inner == NULL || inner->ob_type != &item_type)
                    rs_atomic_add_relaxed_u64(&c->bad, 1);
                if (inner)
                    rs_decref(inner);
                rs_decref(r);
            }
            rs_decref(wr);
        }
        if (op % 16 == 0)
            rs_poll(w->ts, NULL);
    }
}

static void test_weakref_get_races_death(void **state)
{
    (void)state;
    rt_up();
    rs_tstate *me = rs_tstate_current();
    uint64_t cb0 = ctr(&rs_rt.stats.callbacks_run), k0 = deallocs(&rs_container_type);
    uint64_t d0 = deallocs(&item_type);
    race_ctx c = {0};
    rs_object **wrs = calloc(WR_ROUNDS, sizeof *wrs);
    worker w[3];
    for (int i = 0; i < 3; i++)
        worker_start(&w[i], weakref_reader, &c, i);
    arrive_and_wait(&c, me, 4);
    for (int round = 0; round < WR_ROUNDS; round++) {
        rs_object *o = rs_container_new(1);
        rs_container_set(o, 0, item_new());
        wrs[round] = rs_weakref_new(o, true);
        rs_incref(wrs[round]);
        rs_root_set(0, wrs[round]);
        for (int spin = 0; spin < 20; spin++)
            rs_poll(me, NULL);
        rs_decref(o); /* dies here or in a reader's last decref */
    }
    rs_atomic_store_release_int(&c.stop, 1); /* pairs with the readers' acquire load */
    for (int i = 0; i < 3; i++)
        worker_join(&w[i]);
    rs_poll(me, NULL);
    assert_int_equal(ctr(&c.bad), 0);
    assert_int_equal(deallocs(&rs_container_type) - k0, WR_ROUNDS);
    assert_int_equal(deallocs(&item_type) - d0, WR_ROUNDS);
    assert_int_equal(ctr(&rs_rt.stats.callbacks_run) - cb0, WR_ROUNDS); /* each weakref alive */
    for (int round = 0; round < WR_ROUNDS; round++) {
        assert_null(rs_weakref_get(wrs[round]));
        rs_decref(wrs[round]);
    }
    free(wrs);
    assert_world_clean(me);
    rs_roots_clear();
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_container_semantics),
        cmocka_unit_test(test_heap_type_instances),
        cmocka_unit_test(test_list_semantics),
        cmocka_unit_test(test_list_shared_read_delays_buffers),
        cmocka_unit_test(test_list_non_owner_resize_shares),
        cmocka_unit_test(test_fin_none),
        cmocka_unit_test(test_finalizer_resurrection),
        cmocka_unit_test(test_destructor_resurrection),
        cmocka_unit_test(test_weakref_semantics),
        cmocka_unit_test(test_w1_fires_on_uncleared_weakref),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_container_reads_race_writers),
        cmocka_unit_test(test_list_resized_while_read),
        cmocka_unit_test(test_weakref_get_races_death),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
