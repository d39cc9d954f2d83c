/* test_shutdown.c — runtime shutdown (model.md §4): a runtime left with leftovers of every kind,
 * by a thread still alive at shutdown (shut out, cleared and deleted by the main thread), by a
 * thread that exited before it and by the main thread itself, ends with zero blocks and a zero
 * reference total — with temporary immortalisation on (a second thread started) and off.
 * Leftovers: containers in garbage and live cycles, lists, code and functions held only by late
 * roots, generators with tagged frame references, heap types with instances and a dict,
 * weakrefs (with and without callbacks), finalizers (plain and resurrecting), THREAD frames and
 * C-stack references, QSBR-delayed list buffers, freelisted blocks, and objects queued to owners
 * that were shut out or had exited.  The two shutdown mutants each give a non-zero leak figure
 * in a test built for their interleaving (late root holding the only reference to a function;
 * a SHARED list's buffer freed in step 7). */
#include <sched.h>

#include "support.h"

#include "code.h"
#include "frame.h"
#include "freelist.h"
#include "objects.h"
#include "typeobj.h"

/* ---- leftovers ---- */

/* cmocka is not thread-safe: builders count failed checks, the main thread asserts 0 */
static RS_ATOMIC(int) check_failures;
#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            rs_atomic_add_relaxed_int(&check_failures, 1);                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);          \
        }                                                                                   \
    } while (0)
#define CHECK_EQ(a, b) CHECK((a) == (b))

/* Each builder takes a disjoint pair of roots[] slots and a pair of late_roots[] slots. */
typedef struct left_ctx {
    int root;                  /* first of two roots[] slots this builder may use */
    int late;                  /* first of its two late_roots[] slots */
    RS_ATOMIC(void *) for_main; /* an object this builder owns, handed to the main thread */
    RS_ATOMIC(void *) for_main_late; /* another, decref'd by the main thread after we exit */
    RS_ATOMIC(void *) shared_list; /* a list the main thread reads (making it SHARED) */
    RS_ATOMIC(int) built;
    RS_ATOMIC(int) main_done;  /* the main thread has queued its decref and read the list */
    RS_ATOMIC(int) attach_result;
} left_ctx;

static rs_object *leaf_chain(int n)
{
    rs_object *l = rs_list_new();
    for (int i = 0; i < n; i++)
        CHECK_EQ(rs_list_append(l, rs_leaf_new()), 0);
    return l;
}

/* builds every kind of leftover on the calling thread (attached) */
static void build_leftovers(rs_tstate *ts, left_ctx *c)
{
    /* containers: a garbage cycle, and a live cycle reachable from roots[root] */
    rs_object *a = rs_container_new(2), *b = rs_container_new(2);
    rs_incref(b);
    rs_container_set(a, 0, b);
    rs_incref(a);
    rs_container_set(b, 0, a);
    rs_container_set(b, 1, rs_leaf_new());
    rs_decref(a);
    rs_decref(b);
    rs_object *x = rs_container_new(4), *y = rs_container_new(2);
    rs_incref(x);
    rs_container_set(y, 0, x);
    rs_container_set(x, 0, y);
    rs_container_set(x, 1, leaf_chain(5));

    /* code and a function (deferred; the function immortal while immortalisation is active),
     * held only by a late root; a second function in the live cycle */
    rs_object *code = rs_code_new(2, 2, 2);
    rs_object *fn = rs_function_new(code, NULL);
    rs_late_root_set(c->late, fn);
    rs_object *globals = rs_container_new(1);
    rs_container_set(x, 2, rs_function_new(code, globals));
    rs_decref(globals);

    /* a generator whose frame holds tagged references to the code and the function, held only
     * by a list in the live cycle */
    rs_object *gen = rs_gen_new(code, RS_GEN_FIN_NONE);
    CHECK(gen != NULL);
    rs_frame_local_store(rs_gen_frame(gen), 0, rs_sr_new(fn));
    CHECK_EQ(rs_frame_stack_push(rs_gen_frame(gen), rs_sr_new(code)), 0);
    rs_object *gl = rs_list_new();
    CHECK_EQ(rs_list_append(gl, gen), 0);
    rs_container_set(x, 3, gl);

    /* a heap type with instances and a dict; the creator's reference is dropped */
    rs_type *t = rs_type_new_heap(ts, "Left", RS_KIND_LEAF);
    CHECK(t != NULL);
    rs_object *d = rs_container_new(1);
    rs_container_set(d, 0, rs_leaf_new()); /* not an instance: leaf instances are untracked, so
                                            * type -> dict -> instance -> type is a cycle no
                                            * collection can see */
    rs_atomic_exchange_acq_rel_ptr(&t->tp_dict, d); /* pairs with heaptype_clear's exchange */
    rs_object *i1 = rs_instance_new(ts, t);
    rs_container_set(d, 0, NULL);
    rs_container_set(d, 0, rs_instance_new(ts, t)); /* dropped below: only the dict's slot */
    rs_container_set(d, 0, rs_leaf_new());
    rs_decref(&t->ob_base);

    /* weakrefs: to the live cycle (callback), to garbage, to a finalizer */
    rs_object *w1 = rs_weakref_new(x, true);
    rs_object *g = rs_container_new(1);
    rs_object *w2 = rs_weakref_new(g, true);
    rs_decref(g);

    /* finalizers: a plain one in a garbage cycle, a resurrecting one (stores itself in
     * roots[root + 1]) as garbage */
    rs_object *f1 = rs_finalizable_new(RS_FIN_NONE, 1, c->root + 1);
    rs_incref(f1);
    rs_container_set(f1, 0, f1);
    rs_decref(f1);
    rs_object *f2 = rs_finalizable_new(RS_FIN_RESURRECT, 1, c->root + 1);
    rs_object *w3 = rs_weakref_new(f2, false);
    rs_incref(f2);
    rs_container_set(f2, 0, f2); /* a self-cycle: only the GC finds it */
    rs_decref(f2);

    /* the live set hangs off roots[root] */
    rs_object *r = rs_list_new();
    CHECK_EQ(rs_list_append(r, x), 0);
    CHECK_EQ(rs_list_append(r, i1), 0);
    CHECK_EQ(rs_list_append(r, w1), 0);
    CHECK_EQ(rs_list_append(r, w2), 0);
    CHECK_EQ(rs_list_append(r, w3), 0);
    rs_root_set(c->root, r);

    /* freelisted blocks: leaves and containers destroyed here are cached by this thread */
    for (int i = 0; i < 20; i++) {
        rs_decref(rs_leaf_new());
        rs_decref(rs_container_new(2));
        rs_decref(rs_list_new());
    }

    /* a THREAD frame with tagged and strong stack references, and C-stack references */
    rs_frame *fr = rs_frame_push(ts, code, fn);
    CHECK(fr != NULL);
    rs_local_store(ts, 0, rs_sr_new(code));
    rs_local_store(ts, 1, rs_sr_new(rs_late_root_get(c->late))); /* tagged: fn is deferred */
    rs_decref(fn);                                                /* the get's reference */
    CHECK_EQ(rs_stack_push(ts, fn), 0);
    rs_object *held = rs_container_new(1);
    CHECK_EQ(rs_cref_push(ts, held), 0);
    CHECK_EQ(rs_cref_push(ts, code), 0);
    rs_decref(held);
    rs_decref(code);

    /* for the main thread: an owned object it will decref (queued to us), and a list it
     * will read (SHARED); then our replacing its buffer goes through QSBR */
    rs_atomic_store_release_ptr(&c->for_main, rs_leaf_new()); /* pairs with main's acquire */
    rs_atomic_store_release_ptr(&c->for_main_late, rs_container_new(1)); /* likewise */
    rs_object *sl = leaf_chain(40);
    rs_incref(sl);
    rs_late_root_set(c->late + 1, sl);
    rs_atomic_store_release_ptr(&c->shared_list, sl); /* pairs with main's acquire */
}

/* after the main thread has read the list: shrink it (the replaced buffer is QSBR-delayed) */
static void replace_shared_buffer(left_ctx *c)
{
    rs_object *sl = rs_atomic_load_acquire_ptr(&c->shared_list); /* pairs with our own store */
    CHECK(rs_gc_bits(sl) & RS_GC_SHARED);
    CHECK_EQ(rs_list_resize(sl, 2), 0);
    rs_decref(sl);
}

/* the main thread's part: decref the object owned by the builder, read its list */
static void main_touches(left_ctx *c)
{
    rs_object *o;
    while ((o = rs_atomic_load_acquire_ptr(&c->for_main)) == NULL) /* pairs with the release */
        sched_yield();
    rs_decref(o); /* not the owner: queued to it */
    rs_object *sl;
    while ((sl = rs_atomic_load_acquire_ptr(&c->shared_list)) == NULL) /* pairs with the release */
        sched_yield();
    rs_object *it = rs_list_get(sl, 0);                           /* sets SHARED */
    CHECK(it != NULL);
    rs_decref(it);
    rs_atomic_store_release_int(&c->main_done, 1); /* pairs with the builder's acquire */
}

static void wait_main(left_ctx *c)
{
    rs_tstate *ts = rs_tstate_current();
    rs_tstate_detach(ts); /* stoppable while waiting */
    while (!rs_atomic_load_acquire_int(&c->main_done)) /* pairs with main_touches */
        sched_yield();
    CHECK_EQ(rs_tstate_attach(ts), 0);
}

/* the live thread: builds, lets the main thread touch its objects, then waits (detached) until
 * after shutdown and finds itself shut out */
static void *live_thread(void *p)
{
    worker *w = p;
    left_ctx *c = w->arg;
    rs_tstate_bind(w->ts);
    CHECK_EQ(rs_tstate_attach(w->ts), 0);
    build_leftovers(w->ts, c);
    wait_main(c);
    replace_shared_buffer(c);
    rs_tstate_detach(w->ts);
    rs_atomic_store_release_int(&c->built, 1); /* pairs with the main thread's acquire */
    while (rs_atomic_load_acquire_int(&c->built) != 2) /* pairs with the store after fini */
        sched_yield();
    rs_atomic_store_relaxed_int(&c->attach_result, rs_tstate_attach(w->ts));
    rs_tstate_release(w->ts);
    return NULL;
}

/* the exited thread: builds, and exits with its frames and references in place */
static void exiting_thread(worker *w)
{
    left_ctx *c = w->arg;
    build_leftovers(w->ts, c);
    wait_main(c);
    replace_shared_buffer(c);
}

static void run_everything(bool immortalize, bool gc_enabled)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = immortalize;
    o.gc_enabled = gc_enabled;
    assert_int_equal(rs_runtime_init(&o), 0);
    rs_tstate *me = rs_tstate_current();

    /* the main thread's own leftovers first (deferred ones become immortal when the first
     * worker starts, if the option is on) */
    left_ctx cm = {.root = 0, .late = 0};
    build_leftovers(me, &cm);
    rs_decref(rs_atomic_load_relaxed_ptr(&cm.for_main));      /* our own: the local path */
    rs_decref(rs_atomic_load_relaxed_ptr(&cm.for_main_late));
    rs_decref(rs_atomic_load_relaxed_ptr(&cm.shared_list));   /* the late root keeps it */

    left_ctx cx = {.root = 2, .late = 2};
    worker wx;
    worker_start(&wx, exiting_thread, &cx, 1);
    main_touches(&cx);
    worker_join(&wx);
    rs_decref(rs_atomic_load_relaxed_ptr(&cx.for_main_late)); /* its owner has exited */

    left_ctx cl = {.root = 4, .late = 4};
    worker wl;
    wl.ts = rs_tstate_new();
    wl.arg = &cl;
    assert_non_null(wl.ts);
    assert_int_equal(pthread_create(&wl.th, NULL, live_thread, &wl), 0);
    main_touches(&cl);
    while (rs_atomic_load_acquire_int(&cl.built) != 1) /* pairs with live_thread's release */
        sched_yield();
    rs_decref(rs_atomic_load_relaxed_ptr(&cl.for_main_late)); /* queued to a detached owner */
    if (immortalize)
        assert_int_equal(rs_atomic_load_relaxed_int(&rs_rt.immortal.immortalize), 1);
    assert_true(rs_freelists_count(me) > 0);
    /* the leftovers are what they claim: a deferred function immortal iff the option is on,
     * decrefs queued to live owners and merged for a gone one, QSBR-delayed buffers */
    rs_object *mf = rs_atomic_load_relaxed_ptr(&rs_rt.late_roots[0]);
    assert_int_equal(rs_is_immortal(mf), immortalize);
    assert_true(rs_atomic_load_relaxed_u64(&rs_rt.stats.queued) >= 3);
    assert_true(rs_atomic_load_relaxed_u64(&rs_rt.stats.merged_no_owner) >= 1);
    assert_true(rs_atomic_load_relaxed_u64(&rs_rt.delayed.queued) >= 2);
    assert_world_clean(me);

    uint64_t types0 = rs_atomic_load_relaxed_u64(&rs_heaptype_type.tp_deallocs);
    uint64_t fins0 = rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run);
    rs_leaks l = rs_runtime_fini();
    /* shutdown did the work: every heap type destroyed, every finalizer run, and at least one
     * SHUTDOWN collection */
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_heaptype_type.tp_deallocs), types0 + 3);
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run), fins0 + 6);
    assert_true(rs_atomic_load_relaxed_u64(&rs_rt.gc.collections[RS_GC_SHUTDOWN]) >= 1);
    rs_atomic_store_release_int(&cl.built, 2); /* pairs with live_thread's acquire */
    pthread_join(wl.th, NULL);
    assert_int_equal(rs_atomic_load_relaxed_int(&cl.attach_result), -1); /* shut out */
    assert_int_equal(rs_atomic_load_relaxed_int(&check_failures), 0);
    if (l.reftotal != 0 || l.blocks != 0)
        fprintf(stderr, "leaks: reftotal=%ld blocks=%ld\n", (long)l.reftotal, (long)l.blocks);
    assert_int_equal(l.reftotal, 0);
    assert_int_equal(l.blocks, 0);
}

static void test_leftovers_immortalize_on(void **state)
{
    (void)state;
    run_everything(true, true);
}

static void test_leftovers_immortalize_off(void **state)
{
    (void)state;
    run_everything(false, true);
}

/* ---- mutant shutdown-deferred-leak: a late root holds the only reference to a function ----
 * It survives the SHUTDOWN collections (reachable); step 7 drops its last reference, and only
 * if those collections removed its bias does refcounting free it (and its code). */
static void idle(worker *w) { (void)w; }

static rs_leaks late_root_function(bool mutant)
{
    rt_up();
    rs_object *code = rs_code_new(1, 1, 1);
    rs_object *fn = rs_function_new(code, NULL);
    rs_decref(code);
    rs_late_root_set(0, fn);
    worker w; /* a second thread: the function becomes immortal, step 4 gives it back a count */
    worker_start(&w, idle, NULL, 1);
    worker_join(&w);
    assert_true(rs_is_immortal(fn));
    if (mutant)
        assert_int_equal(rs_bug_set("shutdown-deferred-leak", true), 0);
    rs_leaks l = rs_runtime_fini();
    rs_bug_clear_all();
    return l;
}

static void test_mutant_shutdown_deferred_leak(void **state)
{
    (void)state;
    rs_leaks clean = late_root_function(false);
    assert_int_equal(clean.blocks, 0);
    assert_int_equal(clean.reftotal, 0);
    rs_leaks l = late_root_function(true);
    fprintf(stderr, "(expected) leaks: reftotal=%ld blocks=%ld\n", (long)l.reftotal, (long)l.blocks);
    /* the function, its code and the code's constant stay allocated, with the function's
     * reference to the code and the code's to its constant */
    assert_int_equal(l.blocks, 3);
    assert_int_equal(l.reftotal, 2);
}

/* ---- a generator held by a late root whose frame holds the only references (tagged) to a
 * function and a code object: shutdown makes them strong before the SHUTDOWN collections take
 * the biases away, or step 7 would leave both at count 0 with nothing to free them ---- */
static void late_root_generator(bool immortalize)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = immortalize;
    assert_int_equal(rs_runtime_init(&o), 0);
    worker w; /* immortalisation, if on, is active from here */
    worker_start(&w, idle, NULL, 1);
    worker_join(&w);
    rs_object *code = rs_code_new(1, 2, 2);
    rs_object *gen = rs_gen_new(code, RS_GEN_FIN_NONE);
    rs_object *fn = rs_function_new(code, NULL);
    rs_decref(code);
    rs_frame_local_store(rs_gen_frame(gen), 0, rs_sr_new(fn));
    assert_true(rs_sr_is_tagged(rs_gen_frame(gen)->localsplus[0]));
    rs_decref(fn); /* the generator's frame holds the only (tagged) reference */
    rs_late_root_set(0, gen);
    rt_down();
}

static void test_late_root_generator_immortalize_on(void **state)
{
    (void)state;
    late_root_generator(true);
}

static void test_late_root_generator_immortalize_off(void **state)
{
    (void)state;
    late_root_generator(false);
}

/* ---- mutant free-delayed-ignores-shutdown: a SHARED list held by a late root ----
 * Step 7 frees the list; its buffer goes through rs_free_delayed.  Finalizing must free it at
 * once: queued, it would sit in the main state's queue, abandoned in step 6. */
static void read_list(worker *w)
{
    rs_object *it = rs_list_get(w->arg, 0); /* a non-owner's read: SHARED */
    rs_decref(it);
}

static rs_leaks late_root_shared_list(bool mutant)
{
    rt_up();
    rs_object *l = leaf_chain(10);
    worker w;
    worker_start(&w, read_list, l, 1);
    worker_join(&w);
    assert_true(rs_gc_bits(l) & RS_GC_SHARED);
    rs_late_root_set(0, l);
    if (mutant)
        assert_int_equal(rs_bug_set("free-delayed-ignores-shutdown", true), 0);
    rs_leaks r = rs_runtime_fini();
    rs_bug_clear_all();
    return r;
}

static void test_mutant_free_delayed_ignores_shutdown(void **state)
{
    (void)state;
    rs_leaks clean = late_root_shared_list(false);
    assert_int_equal(clean.blocks, 0);
    assert_int_equal(clean.reftotal, 0);
    rs_leaks l = late_root_shared_list(true);
    fprintf(stderr, "(expected) leaks: reftotal=%ld blocks=%ld\n", (long)l.reftotal, (long)l.blocks);
    /* the items buffer and the delayed-free chunk it sits in */
    assert_int_equal(l.blocks, 2);
    assert_int_equal(l.reftotal, 0);
}

/* ---- a resurrecting finalizer held only by a root: garbage once step 5 clears the roots, its
 * finalizer stores it back into a root; the next round clears that and frees it ---- */
static void test_root_resurrector(void **state)
{
    (void)state;
    rt_up();
    rs_object *f = rs_finalizable_new(RS_FIN_RESURRECT, 1, 1);
    rs_incref(f);
    rs_container_set(f, 0, f);
    rs_root_set(0, f);
    uint64_t fins0 = rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run);
    rt_down();
    assert_int_equal(rs_atomic_load_relaxed_u64(&rs_rt.stats.finalizers_run), fins0 + 1);
}

/* the program disabled the GC: shutdown still collects */
static void test_leftovers_gc_disabled(void **state)
{
    (void)state;
    run_everything(true, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leftovers_immortalize_on),
        cmocka_unit_test(test_leftovers_immortalize_off),
        cmocka_unit_test(test_leftovers_gc_disabled),
        cmocka_unit_test(test_root_resurrector),
        cmocka_unit_test(test_late_root_generator_immortalize_on),
        cmocka_unit_test(test_late_root_generator_immortalize_off),
        cmocka_unit_test(test_mutant_shutdown_deferred_leak),
        cmocka_unit_test(test_mutant_free_delayed_ignores_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
