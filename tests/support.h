/* support.h — helpers shared by the runtime's unit tests: runtime setup/teardown with leak
 * assertions, worker threads with their own thread states, and a validator assertion that
 * prints what broke.  cmocka is not thread-safe: worker threads record failures in atomics
 * and the main thread asserts them. */
#ifndef RS_TEST_SUPPORT_H
#define RS_TEST_SUPPORT_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "bugs.h"
#include "check.h"
#include "runtime.h"

static inline void rt_up(void)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    assert_int_equal(rs_runtime_init(&o), 0);
}

/* as rt_up, with temporary immortalisation off: for tests of mortal deferred objects (heap
 * types) that start threads, which would otherwise make those objects immortal (model.md §3.6) */
static inline void rt_up_mortal(void)
{
    rs_options o;
    rs_options_default(&o);
    o.validate = true;
    o.immortalize_deferred = false;
    assert_int_equal(rs_runtime_init(&o), 0);
}

/* shut down and require zero leaks */
static inline void rt_down(void)
{
    rs_leaks l = rs_runtime_fini();
    if (l.reftotal != 0 || l.blocks != 0)
        fprintf(stderr, "leaks: reftotal=%ld blocks=%ld\n", (long)l.reftotal, (long)l.blocks);
    assert_int_equal(l.reftotal, 0);
    assert_int_equal(l.blocks, 0);
    rs_bug_clear_all();
}

#define assert_world_clean(ts)                                                          \
    do {                                                                                \
        rs_violation v_;                                                                \
        bool ok_ = rs_check_runtime((ts), &v_);                                         \
        if (!ok_)                                                                       \
            fprintf(stderr, "violation %s at %p: %s\n", v_.invariant, v_.obj, v_.msg);  \
        assert_true(ok_);                                                               \
    } while (0)

/* run the validators and return the invariant name that broke ("" if clean) */
static inline const char *world_violation(rs_tstate *ts, rs_violation *v)
{
    if (rs_check_runtime(ts, v))
        return "";
    fprintf(stderr, "(expected) violation %s: %s\n", v->invariant, v->msg);
    return v->invariant;
}

/* a worker: a pthread with a thread state created by the parent (bound by itself) */
typedef struct worker {
    pthread_t th;
    rs_tstate *ts;
    void (*fn)(struct worker *w);
    void *arg;
    int idx;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    rs_tstate_bind(w->ts);
    if (rs_tstate_attach(w->ts) == 0) {
        w->fn(w);
        rs_tstate_exit(w->ts);
    } else {
        rs_tstate_release(w->ts);
    }
    return NULL;
}

static inline void worker_start(worker *w, void (*fn)(worker *), void *arg, int idx)
{
    w->ts = rs_tstate_new();
    assert_non_null(w->ts);
    w->fn = fn;
    w->arg = arg;
    w->idx = idx;
    assert_int_equal(pthread_create(&w->th, NULL, worker_main, w), 0);
}

/* join while staying stoppable: the joiner detaches (as a blocking call would) */
static inline void worker_join(worker *w)
{
    rs_tstate *me = rs_tstate_current();
    if (me)
        rs_tstate_detach(me);
    pthread_join(w->th, NULL);
    if (me)
        assert_int_equal(rs_tstate_attach(me), 0);
}

/* deterministic per-thread random stream */
static inline uint64_t test_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#endif
