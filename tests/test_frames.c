/* test_frames.c — stack references, frames, the data stack, C-stack references, deferred
 * objects, the GC's stack visitor and the D2/D4 validators (model.md §3.1–§3.5).
 *
 * No collector exists yet, so deferred objects are freed with rs_deferred_test_release
 * (deferred.h: ends deferral and drops the caller's last references) — the GC's job later.
 * The mutants gc-skips-stacks and gc-trusts-null-stackpointer change what the visitor
 * reports; here we show exactly that change.  Their end-to-end effect (a deferred object in
 * use is freed) needs gc.c and is left to its tests.  frames-not-zeroed is caught by D4. */
#include <sched.h>
#include <string.h>

#include "support.h"

#include "code.h"
#include "deferred.h"

static void rt_up_opts(bool immortalize)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = immortalize;
    assert_int_equal(rs_runtime_init(&o), 0);
}

static intptr_t count_of(rs_object *o)   /* refcnt without the deferred bias */
{
    return rs_refcnt(o) - ((rs_gc_bits(o) & RS_GC_DEFERRED) ? RS_REF_DEFERRED : 0);
}

/* ---- a visitor that records what it sees ---- */
typedef struct seen {
    rs_object *objs[64];
    int n;
} seen;

static int record(rs_object *o, void *arg)
{
    seen *s = arg;
    if (s->n < 64)
        s->objs[s->n] = o;
    s->n++;
    return 0;
}

static int times_seen(const seen *s, rs_object *o)
{
    int k = 0;
    for (int i = 0; i < s->n && i < 64; i++)
        k += s->objs[i] == o;
    return k;
}

static void visit_stw(rs_tstate *target, seen *s, int *skip)
{
    rs_tstate *me = rs_tstate_current();
    memset(s, 0, sizeof *s);
    *skip = 0;
    rs_stop_the_world(me);
    assert_int_equal(rs_frames_visit_thread(target, record, skip, s), 0);
    rs_start_the_world(me);
}

static void test_stackrefs_counted(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *leaf = rs_leaf_new();
    rs_object *code = rs_code_new(2, 1, 1);
    assert_non_null(code);
    assert_true(rs_gc_bits(code) & RS_GC_DEFERRED);
    assert_false(rs_is_immortal(code));
    assert_int_equal(count_of(code), 1);

    rs_stackref a = rs_sr_new(leaf);         /* mortal: counted, untagged */
    assert_false(rs_sr_is_tagged(a));
    assert_int_equal(rs_refcnt(leaf), 2);
    rs_stackref b = rs_sr_dup(a);
    assert_int_equal(rs_refcnt(leaf), 3);
    rs_stackref c = rs_sr_new(code);         /* deferred: tagged, not counted */
    assert_true(rs_sr_is_tagged(c));
    assert_int_equal(count_of(code), 1);
    rs_stackref d = rs_sr_dup(c);
    assert_int_equal(count_of(code), 1);
    rs_stackref n = rs_sr_new(&rs_none);     /* immortal: tagged */
    assert_true(rs_sr_is_tagged(n));
    assert_true(rs_sr_is_null(RS_SR_NULL) && rs_sr_is_null((rs_stackref){0}));
    assert_world_clean(me);

    rs_object *strong = rs_sr_as_strong(c);  /* tagged → a counted reference */
    assert_ptr_equal(strong, code);
    assert_int_equal(count_of(code), 2);
    rs_decref(strong);
    rs_sr_close(c);
    rs_sr_close(d);
    rs_sr_close(n);
    rs_sr_close(RS_SR_NULL);
    rs_sr_close(b);
    rs_sr_close(a);
    assert_int_equal(rs_refcnt(leaf), 1);
    rs_stackref s = rs_sr_steal(leaf);       /* takes over our reference */
    assert_false(rs_sr_is_tagged(s));
    assert_int_equal(rs_refcnt(leaf), 1);
    assert_world_clean(me);
    rs_sr_close(s);                          /* frees the leaf */
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void test_frame_push_pop(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    int64_t blocks0 = rs_get_blocks();
    rs_object *code = rs_code_new(0, 4, 3);
    rs_object *fn = rs_function_new(code, NULL);
    rs_object *leaf = rs_leaf_new();
    assert_int_equal(count_of(code), 2);

    rs_frame *f = rs_frame_push(me, code, fn);
    assert_non_null(f);
    assert_ptr_equal(rs_frame_current(me), f);
    assert_null(f->previous);
    assert_int_equal(f->owner, RS_FRAME_OWNED_BY_THREAD);
    assert_ptr_equal(f->stackpointer, f->localsplus + 4);
    for (int i = 0; i < 4 + 3; i++)
        assert_int_equal(f->localsplus[i].bits, 0);      /* zero-filled */
    assert_true(rs_sr_is_tagged(f->f_executable));
    assert_false(rs_sr_is_tagged(f->f_funcobj));         /* f_funcobj is strong */
    assert_int_equal(count_of(fn), 2);
    assert_int_equal(count_of(code), 2);

    rs_local_store(me, 0, rs_sr_new(leaf));
    assert_int_equal(rs_refcnt(leaf), 2);
    rs_local_store(me, 0, rs_sr_new(leaf));              /* closes the old value */
    assert_int_equal(rs_refcnt(leaf), 2);
    rs_local_store(me, 1, rs_sr_new(code));
    assert_int_equal(rs_stack_push(me, leaf), 0);
    assert_int_equal(rs_stack_push(me, fn), 0);
    assert_int_equal(rs_stack_push(me, &rs_none), 0);
    assert_int_equal(rs_stack_push(me, leaf), -1);       /* stacksize 3: full */
    assert_int_equal(rs_stack_depth(me), 3);
    assert_int_equal(rs_refcnt(leaf), 3);
    assert_int_equal(count_of(fn), 2);                   /* tagged */
    assert_world_clean(me);
    rs_stack_pop_close(me);
    assert_int_equal(rs_stack_depth(me), 2);

    /* nested frames across several data chunks */
    for (int i = 0; i < 200; i++) {
        rs_frame *g = rs_frame_push(me, code, NULL);
        assert_non_null(g);
        assert_ptr_equal(g->previous, i == 0 ? f : rs_frame_current(me)->previous);
        rs_local_store(me, 2, rs_sr_new(leaf));
        assert_int_equal(rs_stack_push(me, leaf), 0);
    }
    assert_int_equal(rs_refcnt(leaf), 3 + 400);
    assert_true(rs_get_blocks() > blocks0 + 5);
    assert_world_clean(me);
    for (int i = 0; i < 200; i++)
        rs_frame_pop(me);
    assert_ptr_equal(rs_frame_current(me), f);
    assert_int_equal(rs_refcnt(leaf), 3);
    rs_stack_pop_close(me);
    rs_stack_pop_close(me);
    assert_int_equal(rs_refcnt(leaf), 2);
    rs_frame_pop(me);
    assert_null(rs_frame_current(me));
    assert_int_equal(rs_refcnt(leaf), 1);
    assert_int_equal(count_of(fn), 1);
    assert_int_equal(count_of(code), 2);
    assert_world_clean(me);
    rs_decref(leaf);
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

/* the same frame memory is reused; the new frame must not show the old frame's references */
static void reuse_after_free(bool mutant)
{
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 3, 2);
    rs_object *victim = rs_function_new(code, NULL);     /* deferred, referenced tagged */
    rs_object *keep = rs_function_new(code, NULL);       /* keeps the GC page live */
    rs_frame *f1 = rs_frame_push(me, code, NULL);
    rs_local_store(me, 2, rs_sr_new(victim));
    assert_true(rs_sr_is_tagged(f1->localsplus[2]));
    rs_frame_pop(me);
    rs_deferred_test_release(victim, 1);                 /* its block is free now */
    if (mutant)
        rs_bug_set("frames-not-zeroed", true);
    rs_frame *f2 = rs_frame_push(me, code, NULL);
    assert_ptr_equal(f1, f2);
    rs_violation v;
    if (mutant) {
        assert_string_equal(world_violation(me, &v), "D4");
        assert_ptr_equal(v.obj, victim);
        f2->localsplus[2] = RS_SR_NULL;                  /* repair without closing */
    } else {
        assert_true(rs_sr_is_null(f2->localsplus[2]));
    }
    assert_world_clean(me);
    rs_frame_pop(me);
    rs_bug_clear_all();
    rs_deferred_test_release(keep, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void test_frames_zeroed(void **state) { (void)state; reuse_after_free(false); }
static void test_mutant_frames_not_zeroed_caught_by_d4(void **state) { (void)state; reuse_after_free(true); }

static void test_visitor(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(1, 2, 4);
    rs_object *code2 = rs_code_new(0, 0, 1);
    rs_object *fn = rs_function_new(code, NULL);
    rs_object *leaf = rs_leaf_new();
    assert_int_equal(rs_cref_push(me, code2), 0);
    assert_int_equal(rs_cref_push(me, leaf), 0);         /* strong: not reported */
    rs_frame_push(me, code, fn);                         /* f_funcobj strong: not reported */
    rs_local_store(me, 0, rs_sr_new(fn));
    rs_stack_push(me, leaf);
    rs_frame_push(me, code2, NULL);
    rs_stack_push(me, fn);

    seen s;
    int skip;
    visit_stw(me, &s, &skip);
    assert_int_equal(skip, 0);
    assert_int_equal(times_seen(&s, code2), 2);          /* cref + inner f_executable */
    assert_int_equal(times_seen(&s, code), 1);
    assert_int_equal(times_seen(&s, fn), 2);             /* outer local + inner stack */
    assert_int_equal(times_seen(&s, leaf), 0);
    assert_int_equal(s.n, 5);

    rs_bug_set("gc-skips-stacks", true);                 /* the mutant: nothing is seen */
    visit_stw(me, &s, &skip);
    assert_int_equal(s.n, 0);
    assert_int_equal(skip, 0);
    rs_bug_clear_all();

    rs_frame_pop(me);
    rs_frame_pop(me);
    rs_cref_pop(me);
    rs_cref_pop(me);
    assert_int_equal(rs_cref_depth(me), 0);
    assert_int_equal(rs_refcnt(leaf), 1);
    rs_decref(leaf);
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code2, 1);
    rs_deferred_test_release(code, 2 - 1);               /* fn released its reference */
    rt_down();
}

/* a destructor that scans its thread's stacks while a pop-close is running */
static seen probe_seen;
static int probe_skip;
static void probe_dealloc(rs_object *o)
{
    rs_tstate *me = rs_tstate_current();
    memset(&probe_seen, 0, sizeof probe_seen);
    probe_skip = 0;
    rs_frames_visit_thread(me, record, &probe_skip, &probe_seen); /* sole thread: no STW needed */
    rs_object_free(o);
}
static rs_type probe_type = {
    .ob_base = {.ob_flags = RS_OBF_STATIC, .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_type = &rs_type_type},
    .tp_name = "probe",
    .tp_basicsize = sizeof(rs_object),
    .tp_kind = RS_KIND_LEAF,
    .tp_dealloc = probe_dealloc,
};

static void null_stackpointer(bool mutant)
{
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 1, 2);
    rs_object *fn = rs_function_new(code, NULL);
    rs_frame_push(me, code, NULL);
    rs_local_store(me, 0, rs_sr_new(fn));                /* the frame's only hold on fn... */
    rs_object *probe = rs_object_alloc(&probe_type, 0);
    assert_int_equal(rs_stack_push(me, probe), 0);
    rs_decref(probe);                                    /* ...and on the probe */
    if (mutant)
        rs_bug_set("gc-trusts-null-stackpointer", true);
    rs_stack_pop_close(me);                              /* runs probe_dealloc */
    assert_int_equal(times_seen(&probe_seen, code), 1); /* f_executable still reported */
    assert_int_equal(times_seen(&probe_seen, fn), 0);   /* slots are not scanned */
    assert_int_equal(probe_skip, mutant ? 0 : 1);
    rs_bug_clear_all();
    assert_world_clean(me);
    rs_frame_pop(me);
    rs_deferred_test_release(fn, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void test_null_stackpointer_sets_skip(void **state) { (void)state; null_stackpointer(false); }
static void test_mutant_null_stackpointer_trusted(void **state) { (void)state; null_stackpointer(true); }

/* ---- a deferred object held only by another thread's stack ---- */
static RS_ATOMIC(int) phase;
static rs_object *shared_code;

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
    rs_frame_push(w->ts, shared_code, NULL);
    rs_stack_push(w->ts, shared_code);
    rs_cref_push(w->ts, shared_code);
    set_phase(1);
    wait_phase(w->ts, 2);
    rs_cref_pop(w->ts);
    rs_frame_pop(w->ts);
    set_phase(3);
}

static void test_deferred_held_by_other_thread(void **state)
{
    (void)state;
    rt_up_opts(false);                                   /* keep the code object mortal */
    rs_tstate *me = rs_tstate_current();
    rs_atomic_store_relaxed_int(&phase, 0);
    shared_code = rs_code_new(1, 0, 2);
    worker w;
    worker_start(&w, holder, NULL, 0);
    wait_phase(me, 1);
    rs_decref(shared_code);                              /* our only counted reference */
    assert_false(rs_is_immortal(shared_code));
    assert_int_equal(count_of(shared_code), 0);          /* alive by the bias alone */
    assert_true(rs_gc_bits(shared_code) & RS_GC_DEFERRED);
    assert_world_clean(me);                              /* D2, D4 and RT hold */
    seen s;
    int skip;
    visit_stw(w.ts, &s, &skip);
    assert_int_equal(times_seen(&s, shared_code), 3);    /* cref, f_executable, stack slot */
    set_phase(2);
    wait_phase(me, 3);
    worker_join(&w);
    assert_world_clean(me);
    rs_deferred_test_release(shared_code, 0);            /* what the GC would do */
    rt_down();
}

/* ---- thread exit closes what is left on the stacks ---- */
static void leave_things(worker *w)
{
    rs_object *code = rs_code_new(2, 3, 3);
    rs_object *leaf = rs_leaf_new();
    for (int i = 0; i < 100; i++) {
        rs_frame_push(w->ts, code, NULL);
        rs_local_store(w->ts, 0, rs_sr_new(leaf));
        rs_stack_push(w->ts, leaf);
        rs_cref_push(w->ts, leaf);
        rs_cref_push(w->ts, code);
    }
    rs_decref(leaf);                                     /* now held by the stacks alone */
    /* the code object is our count 1; hand it to the main thread to release */
    w->arg = code;
}

static void test_exit_closes_stacks(void **state)
{
    (void)state;
    rt_up_opts(false);
    worker w;
    worker_start(&w, leave_things, NULL, 0);
    worker_join(&w);
    rs_object *code = w.arg;
    assert_int_equal(count_of(code), 1);
    assert_world_clean(rs_tstate_current());
    rs_deferred_test_release(code, 1);
    rt_down();                                           /* leaf, frames, chunks, crefs: 0 leaks */
}

/* ---- generators and §3.4 ---- */
typedef struct trav { rs_object *o[8]; int tagged[8]; int n; } trav;
static int trav_rec(rs_object *o, int tagged, void *arg)
{
    trav *t = arg;
    t->o[t->n] = o;
    t->tagged[t->n++] = tagged;
    return 0;
}

static void test_generator_traverse_and_disable(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 2, 2);
    rs_object *fn = rs_function_new(code, NULL);
    rs_object *leaf = rs_leaf_new();
    rs_object *gen = rs_gen_new(code, RS_GEN_FIN_NONE);
    assert_non_null(gen);
    assert_false(rs_gc_bits(gen) & RS_GC_DEFERRED);      /* generators are not deferred */
    rs_frame *f = rs_gen_frame(gen);
    assert_int_equal(f->owner, RS_FRAME_OWNED_BY_GENERATOR);
    rs_frame_local_store(f, 0, rs_sr_new(fn));
    rs_frame_local_store(f, 1, rs_sr_new(leaf));
    assert_int_equal(rs_frame_stack_push(f, rs_sr_new(fn)), 0);
    trav t = {0};
    gen->ob_type->tp_traverse(gen, trav_rec, &t);
    assert_int_equal(t.n, 4);
    assert_ptr_equal(t.o[0], code);
    assert_int_equal(t.tagged[0], 1);
    assert_ptr_equal(t.o[1], fn);
    assert_int_equal(t.tagged[1], 1);
    assert_ptr_equal(t.o[2], leaf);
    assert_int_equal(t.tagged[2], 0);
    assert_int_equal(t.tagged[3], 1);
    assert_world_clean(me);

    /* §3.4 on the generator: its tagged references become counted ones */
    intptr_t fn0 = count_of(fn), code0 = count_of(code);
    rs_stop_the_world(me);
    rs_deferred_disable(gen);
    rs_start_the_world(me);
    assert_int_equal(count_of(fn), fn0 + 2);
    assert_int_equal(count_of(code), code0 + 1);
    memset(&t, 0, sizeof t);
    gen->ob_type->tp_traverse(gen, trav_rec, &t);
    for (int i = 0; i < t.n; i++)
        assert_int_equal(t.tagged[i], 0);
    assert_world_clean(me);
    rs_decref(gen);                                      /* closes the now-strong refs */
    assert_int_equal(count_of(fn), fn0);
    assert_int_equal(count_of(code), code0);
    assert_int_equal(rs_refcnt(leaf), 1);

    /* §3.4 on a deferred object: the bias goes, the count stays */
    intptr_t before = rs_refcnt(fn);
    rs_stop_the_world(me);
    rs_deferred_disable(fn);
    rs_start_the_world(me);
    assert_false(rs_gc_bits(fn) & RS_GC_DEFERRED);
    assert_int_equal(rs_refcnt(fn), before - RS_REF_DEFERRED);
    assert_world_clean(me);
    rs_decref(fn);                                       /* ordinary refcounting frees it now */
    rs_decref(leaf);
    rs_deferred_test_release(code, 1);
    rt_down();
}

static void other_thread_enable(worker *w)
{
    w->arg = (void *)(intptr_t)rs_object_enable_deferred((rs_object *)w->arg);
}

static void test_enable_deferred(void **state)
{
    (void)state;
    rt_up_opts(false);
    rs_tstate *me = rs_tstate_current();
    rs_object *code = rs_code_new(0, 1, 1);
    rs_object *gen = rs_gen_new(code, RS_GEN_FIN_NONE);
    rs_object *leaf = rs_leaf_new();
    worker w;
    worker_start(&w, other_thread_enable, gen, 0);       /* not the owner */
    worker_join(&w);
    assert_int_equal((intptr_t)w.arg, -1);
    assert_int_equal(rs_object_enable_deferred(leaf), -1); /* untracked */
    assert_int_equal(rs_object_enable_deferred(code), -1); /* already deferred */
    assert_int_equal(rs_object_enable_deferred(gen), 0);
    assert_true(rs_gc_bits(gen) & RS_GC_DEFERRED);
    assert_false(rs_is_immortal(gen));
    assert_int_equal(count_of(gen), 1);
    assert_int_equal(rs_object_enable_deferred(gen), -1);
    assert_world_clean(me);
    rs_decref(leaf);
    rs_deferred_test_release(gen, 1);
    rs_deferred_test_release(code, 1);
    rt_down();
}

/* ---- the validators fire on hand-broken states ---- */
static void test_d2_d4_fire(void **state)
{
    (void)state;
    rt_up_opts(true);
    rs_tstate *me = rs_tstate_current();
    rs_violation v;
    rs_object *code = rs_code_new(0, 2, 1);
    rs_object *gen = rs_gen_new(code, RS_GEN_FIN_NONE);

    /* D2: DEFERRED without the bias; DEFERRED but untracked */
    rs_gc_bits_set(gen, RS_GC_DEFERRED);
    assert_string_equal(world_violation(me, &v), "D2");
    assert_ptr_equal(v.obj, gen);
    rs_gc_bits_clear(gen, RS_GC_DEFERRED);
    rs_gc_bits_clear(code, RS_GC_TRACKED);
    assert_string_equal(world_violation(me, &v), "D2");
    assert_ptr_equal(v.obj, code);
    rs_gc_bits_set(code, RS_GC_TRACKED);
    assert_world_clean(me);

    /* D4: a tagged (uncounted) reference to an ordinary object */
    rs_object *leaf = rs_leaf_new();
    rs_object *keep = rs_leaf_new();                     /* keeps the leaf's page live */
    assert_int_equal(rs_cref_push(me, &rs_none), 0);
    me->frames.c_stack_refs[0] = (rs_stackref){(uintptr_t)leaf | RS_TAG_DEFERRED};
    assert_string_equal(world_violation(me, &v), "D4");
    assert_ptr_equal(v.obj, leaf);
    /* D4: a reference to a freed block */
    rs_frame *f = rs_frame_push(me, code, NULL);
    me->frames.c_stack_refs[0] = RS_SR_NULL;
    f->localsplus[1] = (rs_stackref){(uintptr_t)leaf};
    rs_decref(leaf);
    assert_string_equal(world_violation(me, &v), "D4");
    assert_ptr_equal(v.obj, leaf);
    /* D4: bits that name no object at all (unfilled memory); never dereferenced */
    f->localsplus[1] = (rs_stackref){(uintptr_t)0x5000 | RS_TAG_DEFERRED};
    assert_string_equal(world_violation(me, &v), "D4");
    f->localsplus[1] = RS_SR_NULL;
    assert_world_clean(me);
    rs_frame_pop(me);
    rs_cref_pop(me);
    rs_decref(keep);
    rs_decref(gen);
    rs_deferred_test_release(code, 1);
    rt_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stackrefs_counted),
        cmocka_unit_test(test_frame_push_pop),
        cmocka_unit_test(test_frames_zeroed),
        cmocka_unit_test(test_mutant_frames_not_zeroed_caught_by_d4),
        cmocka_unit_test(test_visitor),
        cmocka_unit_test(test_null_stackpointer_sets_skip),
        cmocka_unit_test(test_mutant_null_stackpointer_trusted),
        cmocka_unit_test(test_deferred_held_by_other_thread),
        cmocka_unit_test(test_exit_closes_stacks),
        cmocka_unit_test(test_generator_traverse_and_disable),
        cmocka_unit_test(test_enable_deferred),
        cmocka_unit_test(test_d2_d4_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
