/* test_lock.c — unit tests of the parking lot, mutex and event (runtime/lock.c).
 *
 * Mutual exclusion under contention (exact sum, TSan-clean), trylock, hand-off to a waiter
 * parked over 1 ms (checked deterministically: the unlocker cannot re-take the lock), a
 * fairness smoke test against a relocking thread, events (set before wait, several waiters,
 * timeout), park/unpark edge cases, the timeout-versus-unpark race (every unpark that found
 * a waiter is seen by exactly one OK park, with its argument), a counting hook table that
 * sees every wait and wake, and the detach functions around DETACH waits only.
 * Waiting for another thread to reach a state is a bounded poll (10 s cap ⇒ failure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "rs/atomic.h"
#include "rs/hooks.h"
#include "lock.h"

#define POLL_CAP_NS (10 * 1000000000LL)

static void sleep_ns(int64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Polls pred(arg) until true; fails the test after POLL_CAP_NS. */
static void poll_until(bool (*pred)(void *), void *arg)
{
    int64_t end = rs_monotonic_ns() + POLL_CAP_NS;
    while (!pred(arg)) {
        assert_true(rs_monotonic_ns() < end);
        sched_yield();
    }
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    return t;
}

/* ---- counting hook table -------------------------------------------------------------- */

typedef struct counting_hooks {
    RS_ATOMIC(int) waits, wakes, timeouts, timed_waits;
    RS_ATOMIC(int) sched_contended, sched_event;
} counting_hooks;

static counting_hooks counts;

static void count_sched(void *ctx, const char *name)
{
    counting_hooks *c = ctx;
    if (strcmp(name, "lock.mutex.contended") == 0)
        rs_atomic_add_relaxed_int(&c->sched_contended, 1);
    else if (strcmp(name, "lock.event.wait") == 0)
        rs_atomic_add_relaxed_int(&c->sched_event, 1);
}

static int count_wait(void *ctx, uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    counting_hooks *c = ctx;
    rs_atomic_add_relaxed_int(&c->waits, 1);
    if (timeout_ns >= 0)
        rs_atomic_add_relaxed_int(&c->timed_waits, 1);
    int r = rs_futex_wait(addr, expected, timeout_ns);
    if (r < 0)
        rs_atomic_add_relaxed_int(&c->timeouts, 1);
    return r;
}

static void count_wake(void *ctx, uint32_t *addr, int n)
{
    counting_hooks *c = ctx;
    rs_atomic_add_relaxed_int(&c->wakes, 1);
    rs_futex_wake(addr, n);
}

static void install_counting_hooks(void)
{
    memset(&counts, 0, sizeof counts);
    rs_hooks h = {.ctx = &counts, .sched_point = count_sched, .wait = count_wait,
                  .wake = count_wake};
    rs_hooks_install(&h);
}

static int counted(RS_ATOMIC(int) *c) { return rs_atomic_load_relaxed_int(c); }
static bool some_wait_started(void *arg) { (void)arg; return counted(&counts.waits) >= 1; }

/* ---- mutual exclusion ----------------------------------------------------------------- */

#define EXCL_THREADS 8
#define EXCL_ITERS 100000

static rs_mutex excl_mutex = RS_MUTEX_INIT;
static long excl_counter;   /* plain: guarded by excl_mutex only */
static RS_ATOMIC(int) excl_go;  /* relaxed start flag: no happens-before between workers */

static void *excl_worker(void *arg)
{
    (void)arg;
    while (!rs_atomic_load_relaxed_int(&excl_go))
        sched_yield();
    for (int i = 0; i < EXCL_ITERS; i++) {
        rs_mutex_lock(&excl_mutex);
        excl_counter++;
        if (i % 4096 == 0)
            sleep_ns(200000);   /* a long critical section now and then makes waiters park */
        rs_mutex_unlock(&excl_mutex);
    }
    return NULL;
}

static void test_mutex_exclusion(void **state)
{
    (void)state;
    pthread_t t[EXCL_THREADS];
    install_counting_hooks();
    for (int i = 0; i < EXCL_THREADS; i++)
        t[i] = spawn(excl_worker, NULL);
    rs_atomic_store_relaxed_int(&excl_go, 1);
    for (int i = 0; i < EXCL_THREADS; i++)
        pthread_join(t[i], NULL);
    print_message("exclusion: %d parks, %d wakes\n", counted(&counts.waits), counted(&counts.wakes));
    rs_hooks_install(NULL);
    assert_int_equal(excl_counter, (long)EXCL_THREADS * EXCL_ITERS);
    assert_false(rs_mutex_is_locked(&excl_mutex));
}

/* ---- trylock -------------------------------------------------------------------------- */

static void *trylock_other(void *arg) { return rs_mutex_trylock(arg) ? (void *)1 : NULL; }

static void test_trylock(void **state)
{
    (void)state;
    rs_mutex m = RS_MUTEX_INIT;
    assert_false(rs_mutex_is_locked(&m));
    assert_true(rs_mutex_trylock(&m));
    assert_true(rs_mutex_is_locked(&m));
    assert_false(rs_mutex_trylock(&m));
    void *got;
    pthread_join(spawn(trylock_other, &m), &got);
    assert_null(got);
    rs_mutex_unlock(&m);
    assert_false(rs_mutex_is_locked(&m));
    pthread_join(spawn(trylock_other, &m), &got);
    assert_non_null(got);
    assert_true(rs_mutex_is_locked(&m));
    rs_mutex_unlock(&m);
    rs_mutex_lock(&m);
    assert_false(rs_mutex_trylock(&m));
    rs_mutex_unlock(&m);
}

/* ---- hand-off ------------------------------------------------------------------------- */

typedef struct handoff_ctx {
    rs_mutex m;
    rs_event release;
    RS_ATOMIC(int) got;
} handoff_ctx;

static void *handoff_waiter(void *arg)
{
    handoff_ctx *c = arg;
    rs_mutex_lock(&c->m);
    rs_atomic_store_relaxed_int(&c->got, 1);
    rs_event_wait(&c->release, -1, RS_LOCK_DONT_DETACH);
    rs_mutex_unlock(&c->m);
    return NULL;
}

/* A waiter parked for more than 1 ms receives the lock directly: right after the unlock the
 * byte is still LOCKED and the unlocker's trylock fails, however the threads are scheduled. */
static void test_mutex_handoff(void **state)
{
    (void)state;
    handoff_ctx c = {.m = RS_MUTEX_INIT};
    install_counting_hooks();
    rs_mutex_lock(&c.m);
    pthread_t t = spawn(handoff_waiter, &c);
    poll_until(some_wait_started, NULL);          /* the waiter is queued */
    sleep_ns(3 * 1000000);
    rs_mutex_unlock(&c.m);
    assert_true(rs_mutex_is_locked(&c.m));
    assert_false(rs_mutex_trylock(&c.m));
    rs_event_set(&c.release);
    pthread_join(t, NULL);
    assert_int_equal(rs_atomic_load_relaxed_int(&c.got), 1);
    assert_true(counted(&counts.sched_contended) >= 1);
    rs_hooks_install(NULL);
    assert_false(rs_mutex_is_locked(&c.m));
    assert_true(rs_mutex_trylock(&c.m));
    rs_mutex_unlock(&c.m);
}

typedef struct fair_ctx {
    rs_mutex m;
    RS_ATOMIC(int) waiter_started, waiter_done;
    long relocks;
} fair_ctx;

static void *fair_relocker(void *arg)
{
    fair_ctx *c = arg;
    int64_t end = rs_monotonic_ns() + POLL_CAP_NS;
    while (!rs_atomic_load_relaxed_int(&c->waiter_done) && rs_monotonic_ns() < end) {
        rs_mutex_lock(&c->m);
        c->relocks++;
        rs_mutex_unlock(&c->m);
    }
    return NULL;
}

static void *fair_waiter(void *arg)
{
    fair_ctx *c = arg;
    rs_atomic_store_relaxed_int(&c->waiter_started, 1);
    rs_mutex_lock(&c->m);
    rs_mutex_unlock(&c->m);
    rs_atomic_store_relaxed_int(&c->waiter_done, 1);
    return NULL;
}

/* Smoke: a waiter gets the lock while another thread relocks it in a tight loop. */
static void test_mutex_fairness_smoke(void **state)
{
    (void)state;
    fair_ctx c = {.m = RS_MUTEX_INIT};
    pthread_t r = spawn(fair_relocker, &c);
    pthread_t w = spawn(fair_waiter, &c);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    assert_int_equal(rs_atomic_load_relaxed_int(&c.waiter_done), 1);
    assert_false(rs_mutex_is_locked(&c.m));
}

/* ---- events --------------------------------------------------------------------------- */

static void test_event_set_before_wait(void **state)
{
    (void)state;
    rs_event e = {0};
    assert_false(rs_event_is_set(&e));
    rs_event_set(&e);
    assert_true(rs_event_is_set(&e));
    assert_true(rs_event_wait(&e, -1, RS_LOCK_DONT_DETACH));
    assert_true(rs_event_wait(&e, 0, RS_LOCK_DONT_DETACH));
    rs_event_reset(&e);
    assert_false(rs_event_is_set(&e));
}

#define EVENT_WAITERS 4

typedef struct event_ctx {
    rs_event e;
    RS_ATOMIC(int) woke_set;
} event_ctx;

static void *event_waiter(void *arg)
{
    event_ctx *c = arg;
    if (rs_event_wait(&c->e, -1, RS_LOCK_DONT_DETACH))
        rs_atomic_add_relaxed_int(&c->woke_set, 1);
    return NULL;
}

static bool all_event_waiters_parked(void *arg)
{
    (void)arg;
    return counted(&counts.waits) >= EVENT_WAITERS;
}

/* Several waiters park, another thread sets: all return true.  The counting hooks see at
 * least one wait per waiter and exactly one wake per parked waiter. */
static void test_event_wait_then_set(void **state)
{
    (void)state;
    event_ctx c = {.e = {0}};
    install_counting_hooks();
    pthread_t t[EVENT_WAITERS];
    for (int i = 0; i < EVENT_WAITERS; i++)
        t[i] = spawn(event_waiter, &c);
    poll_until(all_event_waiters_parked, NULL);
    rs_event_set(&c.e);
    for (int i = 0; i < EVENT_WAITERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(rs_atomic_load_relaxed_int(&c.woke_set), EVENT_WAITERS);
    assert_int_equal(counted(&counts.wakes), EVENT_WAITERS);
    assert_true(counted(&counts.waits) >= EVENT_WAITERS);
    assert_int_equal(counted(&counts.sched_event), EVENT_WAITERS);
    rs_hooks_install(NULL);
}

static void test_event_timeout(void **state)
{
    (void)state;
    rs_event e = {0};
    install_counting_hooks();
    int64_t t0 = rs_monotonic_ns();
    assert_false(rs_event_wait(&e, 5 * 1000000, RS_LOCK_DONT_DETACH));
    assert_true(rs_monotonic_ns() - t0 >= 5 * 1000000);
    assert_true(counted(&counts.timed_waits) >= 1);
    assert_true(counted(&counts.timeouts) >= 1);
    assert_int_equal(counted(&counts.wakes), 0);
    rs_hooks_install(NULL);
    assert_false(rs_event_is_set(&e));
    /* the event is still usable after a timed-out wait */
    rs_event_set(&e);
    assert_true(rs_event_wait(&e, 5 * 1000000, RS_LOCK_DONT_DETACH));
}

/* ---- parking-lot primitives ----------------------------------------------------------- */

static void test_park_again(void **state)
{
    (void)state;
    RS_ATOMIC(uint32_t) w32;
    RS_ATOMIC(uint16_t) w16;
    RS_ATOMIC(uint8_t) w8;
    rs_atomic_store_relaxed_u32(&w32, 7);
    rs_atomic_store_relaxed_u16(&w16, 7);
    rs_atomic_store_relaxed_u8(&w8, 7);
    uint32_t e32 = 8;
    uint16_t e16 = 8;
    uint8_t e8 = 8;
    void *arg = (void *)0x1234;
    assert_int_equal(rs_park(&w32, &e32, 4, -1, &arg, false), RS_PARK_AGAIN);
    assert_int_equal(rs_park(&w16, &e16, 2, -1, &arg, false), RS_PARK_AGAIN);
    assert_int_equal(rs_park(&w8, &e8, 1, -1, &arg, false), RS_PARK_AGAIN);
    assert_ptr_equal(arg, (void *)0x1234);
    e32 = 7;
    assert_int_equal(rs_park(&w32, &e32, 4, 1000000, &arg, false), RS_PARK_TIMEOUT);
    assert_ptr_equal(arg, (void *)0x1234);
}

typedef struct unpark_seen {
    int calls;
    void **slot;
    bool has_more;
    int64_t start;
} unpark_seen;

static void record_unpark(void *fn_arg, void **slot, int64_t start, bool has_more)
{
    unpark_seen *s = fn_arg;
    s->calls++;
    s->slot = slot;
    s->has_more = has_more;
    s->start = start;
}

static void test_unpark_no_waiter(void **state)
{
    (void)state;
    RS_ATOMIC(uint32_t) word;
    rs_atomic_store_relaxed_u32(&word, 0);
    unpark_seen s = {.slot = (void **)&s, .has_more = true};
    rs_unpark_one(&word, record_unpark, &s);
    assert_int_equal(s.calls, 1);
    assert_null(s.slot);
    assert_false(s.has_more);
    rs_unpark_all(&word);    /* nothing to wake, must simply return */
}

/* Timeout versus unpark: a waiter parks with short timeouts while another thread unparks
 * with a fresh token each time.  Every unpark that found a waiter is matched by exactly one
 * OK park that received its token; a timed-out waiter never receives one. */
#define RACE_ROUNDS 3000

typedef struct race_ctx {
    RS_ATOMIC(uint32_t) word;
    RS_ATOMIC(int) done;
    long delivered;     /* unparker-only */
} race_ctx;

static void race_deliver(void *fn_arg, void **slot, int64_t start, bool has_more)
{
    (void)start;
    (void)has_more;
    race_ctx *c = fn_arg;
    if (slot) {
        c->delivered++;
        *slot = (void *)(uintptr_t)c->delivered;
    }
}

static void *race_unparker(void *arg)
{
    race_ctx *c = arg;
    while (!rs_atomic_load_relaxed_int(&c->done))
        rs_unpark_one(&c->word, race_deliver, c);
    return NULL;
}

static void test_park_timeout_race(void **state)
{
    (void)state;
    race_ctx c = {.delivered = 0};
    rs_atomic_store_relaxed_u32(&c.word, 5);
    pthread_t u = spawn(race_unparker, &c);
    long ok = 0, timeouts = 0;
    uintptr_t last = 0;
    uint32_t expected = 5;
    for (int i = 0; i < RACE_ROUNDS; i++) {
        void *arg = NULL;
        int r = rs_park(&c.word, &expected, 4, (i % 7) * 3000, &arg, false);
        if (r == RS_PARK_OK) {
            ok++;
            assert_true((uintptr_t)arg > last);   /* tokens arrive in order, none twice */
            last = (uintptr_t)arg;
        } else {
            assert_int_equal(r, RS_PARK_TIMEOUT);
            assert_null(arg);
            timeouts++;
        }
    }
    rs_atomic_store_relaxed_int(&c.done, 1);
    pthread_join(u, NULL);
    print_message("timeout race: %ld unparked, %ld timed out\n", ok, timeouts);
    assert_int_equal(ok + timeouts, RACE_ROUNDS);
    assert_int_equal(ok, c.delivered);
    assert_int_equal(last, (uintptr_t)c.delivered);
}

/* ---- detach functions ----------------------------------------------------------------- */

static RS_ATOMIC(int) detach_calls, reattach_calls, reattach_bad_token;
static int detach_token_obj;

static void *fake_detach(void)
{
    rs_atomic_add_relaxed_int(&detach_calls, 1);
    return &detach_token_obj;
}

static void fake_reattach(void *token)
{
    if (token != &detach_token_obj)
        rs_atomic_add_relaxed_int(&reattach_bad_token, 1);
    rs_atomic_add_relaxed_int(&reattach_calls, 1);
}

typedef struct detach_ctx {
    rs_mutex m;
    rs_lock_flags flags;
} detach_ctx;

static void *detach_locker(void *arg)
{
    detach_ctx *c = arg;
    rs_mutex_lock_flags(&c->m, c->flags);
    rs_mutex_unlock(&c->m);
    return NULL;
}

/* A contended lock with `flags`: the locker parks (the counting hooks see its wait). */
static void contended_lock(rs_lock_flags flags)
{
    detach_ctx c = {.m = RS_MUTEX_INIT, .flags = flags};
    install_counting_hooks();
    rs_mutex_lock(&c.m);
    pthread_t t = spawn(detach_locker, &c);
    poll_until(some_wait_started, NULL);
    rs_mutex_unlock(&c.m);
    pthread_join(t, NULL);
    rs_hooks_install(NULL);
}

static void test_detach_fns(void **state)
{
    (void)state;
    rs_lock_detach_fns fns = {.detach = fake_detach, .reattach = fake_reattach};
    rs_lock_set_detach_fns(&fns);

    rs_event e = {0};
    assert_false(rs_event_wait(&e, 1000000, RS_LOCK_DONT_DETACH));
    assert_int_equal(counted(&detach_calls), 0);
    assert_false(rs_event_wait(&e, 1000000, RS_LOCK_DETACH));
    assert_int_equal(counted(&detach_calls), 1);
    assert_int_equal(counted(&reattach_calls), 1);

    contended_lock(RS_LOCK_DONT_DETACH);
    assert_int_equal(counted(&detach_calls), 1);
    assert_int_equal(counted(&reattach_calls), 1);
    contended_lock(RS_LOCK_DETACH);
    assert_true(counted(&detach_calls) >= 2);
    assert_int_equal(counted(&reattach_calls), counted(&detach_calls));
    assert_int_equal(counted(&reattach_bad_token), 0);

    /* none installed: a DETACH wait is just a wait */
    rs_lock_set_detach_fns(NULL);
    int before = counted(&detach_calls);
    assert_false(rs_event_wait(&e, 1000000, RS_LOCK_DETACH));
    contended_lock(RS_LOCK_DETACH);
    assert_int_equal(counted(&detach_calls), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutex_exclusion),
        cmocka_unit_test(test_trylock),
        cmocka_unit_test(test_mutex_handoff),
        cmocka_unit_test(test_mutex_fairness_smoke),
        cmocka_unit_test(test_event_set_before_wait),
        cmocka_unit_test(test_event_wait_then_set),
        cmocka_unit_test(test_event_timeout),
        cmocka_unit_test(test_park_again),
        cmocka_unit_test(test_unpark_no_waiter),
        cmocka_unit_test(test_park_timeout_race),
        cmocka_unit_test(test_detach_fns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
