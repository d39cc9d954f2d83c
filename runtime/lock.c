/* lock.c — parking lot, mutex and one-shot event (model.md §8.2).
 *
 * The parking lot maps an address to one of RS_LOT_BUCKETS buckets.  A bucket is a raw spin
 * lock (an atomic byte: bounded busy loop, then sched_yield) guarding a FIFO of waiters that
 * live on the parked threads' stacks.  The bucket lock is held only for queue surgery and the
 * unparker's callback — never across a wait, a wake, a detach or a schedule point — so a
 * controlling scheduler that switches threads only at those points never sees a thread spin
 * on a lock held by a thread it has stopped.
 *
 * Each waiter sleeps on its own 32-bit word (0 parked, 1 unparked) through rs_hook_wait and
 * is woken through rs_hook_wake.  An unparker dequeues the waiter and runs its callback under
 * the bucket lock, releases the lock, then stores 1 into the word (release; the waiter's
 * acquire load of the word is its partner) and wakes it.  The waiter loops on its word, so
 * spurious wakeups are harmless.  On timeout the waiter takes the bucket lock: still queued
 * ⇒ it unlinks itself and reports a timeout; already dequeued ⇒ an unparker owns it and will
 * store its word, so it waits (without timeout) for that store and reports being unparked.
 * After storing the word the unparker touches nothing of the waiter except the word's address
 * passed to the wake hook; by then the waiter may have returned, so a wake may land on a dead
 * stack word — harmless under futex semantics (a wake with no sleeper is a no-op, a stray
 * wake of a later sleeper on that word is a spurious wakeup it tolerates).
 *
 * Mutex and event follow lock.h.  The mutex's hand-off clock starts when a lock call first
 * parks and survives re-parks after lost races, so a waiter that keeps losing to a relocking
 * thread is handed the lock once it has waited 1 ms in all.  A DETACH wait calls the installed detach function after the
 * waiter is queued and the bucket lock released, and reattach(token) once the wait is over
 * (only when detach returned a non-NULL token: NULL means nothing was detached). */
/* never preempted inside: its spin locks and the hook table itself (rs/atomic.h) */
#define RS_NO_AUTO_POINTS
#include "lock.h"
#include "witness.h"

#include <sched.h>
#include <stddef.h>

#include "rs/fatal.h"
#include "rs/hooks.h"

#define RS_LOT_BUCKETS 256          /* power of two */
#define RS_LOT_SPIN 100             /* busy probes of a bucket lock before sched_yield */
#define RS_MUTEX_MAX_SPIN 40        /* yields before a contended locker parks */
#define RS_MUTEX_FAIR_NS 1000000    /* a waiter parked longer than 1 ms is handed the lock */

/* A parked thread, on its own stack.  Queue fields are guarded by the bucket lock. */
typedef struct rs_waiter {
    struct rs_waiter *next, *prev;  /* bucket FIFO; bucket lock */
    const void *addr;               /* the address parked on; immutable while queued */
    int64_t park_start_ns;          /* immutable while queued */
    void *arg;                      /* set by the unparker's callback under the bucket lock */
    bool queued;                    /* bucket lock; false once an unparker dequeued it */
    RS_ATOMIC(uint32_t) word;       /* 0 parked, 1 unparked: what the waiter sleeps on */
} rs_waiter;

typedef struct rs_bucket {
    _Alignas(64) RS_ATOMIC(uint8_t) lock;  /* 0 free, 1 held */
    rs_waiter *head, *tail;                /* FIFO of waiters; bucket lock */
} rs_bucket;

static rs_bucket lot[RS_LOT_BUCKETS];
/* RS_LOT_BUCKETS - 1, or 0 under torture (every address in bucket 0); set once before the
 * threads that wait start, like detach_fns */
static uint64_t lot_mask = RS_LOT_BUCKETS - 1;

/* Set once before the threads that wait start (like rs_hooks_install). */
static rs_lock_detach_fns detach_fns;

/* ---- buckets ---------------------------------------------------------------------------- */

static rs_bucket *bucket_of(const void *addr)
{
    uint64_t h = (uint64_t)(uintptr_t)addr;
    h ^= h >> 17;
    h *= UINT64_C(0x9E3779B97F4A7C15);
    return &lot[(h >> 56) & lot_mask];
}

static void bucket_lock(rs_bucket *b)
{
    for (;;) {
        /* acquire: pairs with the release store in bucket_unlock */
        if (rs_atomic_exchange_acquire_u8(&b->lock, 1) == 0)
            return;
        for (int i = 0; i < RS_LOT_SPIN && rs_atomic_load_relaxed_u8(&b->lock) != 0; i++)
            ;
        if (rs_atomic_load_relaxed_u8(&b->lock) != 0)
            sched_yield();
    }
}

static void bucket_unlock(rs_bucket *b)
{
    /* release: pairs with the acquire exchange in bucket_lock */
    rs_atomic_store_release_u8(&b->lock, 0);
}

static void enqueue(rs_bucket *b, rs_waiter *w)
{
    w->next = NULL;
    w->prev = b->tail;
    if (b->tail)
        b->tail->next = w;
    else
        b->head = w;
    b->tail = w;
    w->queued = true;
}

static void dequeue(rs_bucket *b, rs_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b->tail = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

static rs_waiter *first_waiter(rs_waiter *from, const void *addr)
{
    while (from && from->addr != addr)
        from = from->next;
    return from;
}

/* Reads *addr (an atomic of `size` bytes) and compares it with *expected. */
static bool value_equals(const void *addr, const void *expected, int size)
{
    switch (size) {
    case 1:
        return rs_atomic_load_relaxed_u8((const RS_ATOMIC(uint8_t) *)addr) ==
               *(const uint8_t *)expected;
    case 2:
        return rs_atomic_load_relaxed_u16((const RS_ATOMIC(uint16_t) *)addr) ==
               *(const uint16_t *)expected;
    case 4:
        return rs_atomic_load_relaxed_u32((const RS_ATOMIC(uint32_t) *)addr) ==
               *(const uint32_t *)expected;
    default:
        rs_fatal("rs_park: size must be 1, 2 or 4", addr);
    }
}

/* The waker's half: after the bucket lock is released. */
static void wake_waiter(rs_waiter *w)
{
    RS_ATOMIC(uint32_t) *word = &w->word;
    /* release: pairs with the acquire loads of the word in wait_unparked; publishes arg */
    rs_atomic_store_release_u32(word, 1);
    /* w may be gone from here on: only the word's address is used */
    rs_hook_wake((uint32_t *)word, 1);
}

/* ---- parking ---------------------------------------------------------------------------- */

static bool unparked(rs_waiter *w)
{
    /* acquire: pairs with the release store in wake_waiter */
    return rs_atomic_load_acquire_u32(&w->word) != 0;
}

/* Sleeps until unparked or until `deadline` (< 0: none).  Returns RS_PARK_OK or
 * RS_PARK_TIMEOUT; in the latter case the waiter is no longer queued. */
static int wait_unparked(rs_bucket *b, rs_waiter *w, int64_t deadline)
{
    while (!unparked(w)) {
        int64_t left = -1;
        if (deadline >= 0) {
            left = deadline - rs_hook_now();
            if (left <= 0)
                break;
        }
        rs_hook_wait((uint32_t *)&w->word, 0, left);
    }
    if (unparked(w))
        return RS_PARK_OK;

    /* Timed out: leave the queue, unless an unparker has already taken us out of it. */
    bucket_lock(b);
    bool still_queued = w->queued;
    if (still_queued)
        dequeue(b, w);
    bucket_unlock(b);
    if (still_queued)
        return RS_PARK_TIMEOUT;
    /* An unparker owns us and will store the word; its callback may have given us an arg. */
    while (!unparked(w))
        rs_hook_wait((uint32_t *)&w->word, 0, -1);
    return RS_PARK_OK;
}

/* rs_park with the start time the unparker's callback sees: the mutex passes the time its
 * lock call first parked, so re-parking after a lost race does not reset its claim to a
 * hand-off. */
static int park_since(const void *addr, const void *expected, int size, int64_t timeout_ns,
                      void **arg_out, bool detach, int64_t start_ns)
{
    rs_waiter w = {.addr = addr, .park_start_ns = start_ns};
    rs_atomic_store_relaxed_u32(&w.word, 0);
    int64_t deadline = timeout_ns < 0 ? -1 : rs_hook_now() + timeout_ns;
    rs_bucket *b = bucket_of(addr);

    bucket_lock(b);
    if (!value_equals(addr, expected, size)) {
        bucket_unlock(b);
        return RS_PARK_AGAIN;
    }
    enqueue(b, &w);
    bucket_unlock(b);

    void *token = NULL;
    if (detach && detach_fns.detach)
        token = detach_fns.detach();
    int r = wait_unparked(b, &w, deadline);
    if (token)
        detach_fns.reattach(token);

    if (r == RS_PARK_OK && arg_out)
        *arg_out = w.arg;
    return r;
}

int rs_park(const void *addr, const void *expected, int size, int64_t timeout_ns,
            void **arg_out, bool detach)
{
    return park_since(addr, expected, size, timeout_ns, arg_out, detach, rs_hook_now());
}

void rs_unpark_one(const void *addr, rs_unpark_fn fn, void *fn_arg)
{
    rs_bucket *b = bucket_of(addr);
    bucket_lock(b);
    rs_waiter *w = first_waiter(b->head, addr);
    if (w)
        dequeue(b, w);
    bool has_more = w && first_waiter(b->head, addr) != NULL;
    if (fn)
        fn(fn_arg, w ? &w->arg : NULL, w ? w->park_start_ns : 0, has_more);
    bucket_unlock(b);
    if (w)
        wake_waiter(w);
}

void rs_unpark_all(const void *addr)
{
    rs_bucket *b = bucket_of(addr);
    rs_waiter *list = NULL, **tail = &list;
    bucket_lock(b);
    for (rs_waiter *w = b->head, *next; w; w = next) {
        next = w->next;
        if (w->addr == addr) {
            dequeue(b, w);
            *tail = w;
            tail = &w->next;
        }
    }
    bucket_unlock(b);
    for (rs_waiter *w = list, *next; w; w = next) {
        next = w->next;             /* read before the wake: w may vanish after it */
        wake_waiter(w);
    }
}

void rs_lock_set_torture(bool on)
{
    lot_mask = on ? 0 : RS_LOT_BUCKETS - 1;
}

void rs_lock_set_detach_fns(const rs_lock_detach_fns *fns)
{
    if (fns)
        detach_fns = *fns;
    else
        detach_fns = (rs_lock_detach_fns){0};
}

/* ---- mutex ------------------------------------------------------------------------------ */

#define RS_MUTEX_HANDOFF ((void *)1)   /* arg a waiter receives when handed the lock */

#ifdef RS_LOCK_WITNESS
#define WITNESS_ACQUIRED(m, try) rs_witness_acquired((m), (try))
#define WITNESS_RELEASED(m) rs_witness_released(m)
#else
#define WITNESS_ACQUIRED(m, try) ((void)0)
#define WITNESS_RELEASED(m) ((void)0)
#endif

bool rs_mutex_trylock(rs_mutex *m)
{
    uint8_t v = rs_atomic_load_relaxed_u8(&m->v);
    while (!(v & RS_MUTEX_LOCKED)) {
        /* acquire: pairs with the release store/CAS of the previous unlock */
        if (rs_atomic_cas_acquire_u8(&m->v, &v, (uint8_t)(v | RS_MUTEX_LOCKED))) {
            WITNESS_ACQUIRED(m, true);
            return true;
        }
    }
    return false;
}

static void mutex_lock_slow(rs_mutex *m, rs_lock_flags f)
{
    int spins = 0;
    int64_t first_park_ns = -1;
    uint8_t v = rs_atomic_load_relaxed_u8(&m->v);
    for (;;) {
        if (!(v & RS_MUTEX_LOCKED)) {
            /* acquire: pairs with the release store/CAS of the previous unlock */
            if (rs_atomic_cas_acquire_u8(&m->v, &v, (uint8_t)(v | RS_MUTEX_LOCKED)))
                return;
            continue;
        }
        if (!(v & RS_MUTEX_HAS_PARKED)) {
            /* a DETACH locker does not spin: it would spin attached, and the holder may be
             * waiting for it to stop (the stop-the-world mutex) */
            if (f != RS_LOCK_DETACH && spins < RS_MUTEX_MAX_SPIN) {
                spins++;
                sched_yield();
                v = rs_atomic_load_relaxed_u8(&m->v);
                continue;
            }
            uint8_t parked = (uint8_t)(v | RS_MUTEX_HAS_PARKED);
            if (!rs_atomic_cas_relaxed_u8(&m->v, &v, parked))
                continue;
            v = parked;
        }
        RS_SCHED("lock.mutex.contended");
        void *arg = NULL;
        uint8_t expected = RS_MUTEX_LOCKED | RS_MUTEX_HAS_PARKED;
        if (first_park_ns < 0)
            first_park_ns = rs_hook_now();
        int r = park_since(&m->v, &expected, 1, -1, &arg, f == RS_LOCK_DETACH, first_park_ns);
        /* handed off: the unlocker left the byte LOCKED for us; the waiter word's
         * release/acquire pair orders its critical section before ours */
        if (r == RS_PARK_OK && arg == RS_MUTEX_HANDOFF)
            return;
        v = rs_atomic_load_relaxed_u8(&m->v);
    }
}

void rs_mutex_lock_flags(rs_mutex *m, rs_lock_flags f)
{
    uint8_t v = 0;
    /* acquire: pairs with the release store/CAS of the previous unlock */
    if (!rs_atomic_cas_acquire_u8(&m->v, &v, RS_MUTEX_LOCKED))
        mutex_lock_slow(m, f);
    WITNESS_ACQUIRED(m, false);
}

void rs_mutex_lock(rs_mutex *m) { rs_mutex_lock_flags(m, RS_LOCK_DONT_DETACH); }

/* Under the bucket lock of &m->v: decide between hand-off and release.  park_start_ns is
 * when the waiter's lock call first parked. */
static void mutex_unpark_cb(void *fn_arg, void **waiter_arg_slot, int64_t park_start_ns,
                            bool has_more)
{
    rs_mutex *m = fn_arg;
    uint8_t v = 0;
    if (waiter_arg_slot) {
        if (rs_hook_now() - park_start_ns > RS_MUTEX_FAIR_NS) {
            *waiter_arg_slot = RS_MUTEX_HANDOFF;
            v |= RS_MUTEX_LOCKED;
        }
        if (has_more)
            v |= RS_MUTEX_HAS_PARKED;
    }
    /* release: pairs with the acquire CAS of the next locker (no hand-off); with a hand-off
     * the byte stays LOCKED and the waiter's word carries the ordering */
    rs_atomic_store_release_u8(&m->v, v);
}

void rs_mutex_unlock(rs_mutex *m)
{
    WITNESS_RELEASED(m);
    uint8_t v = RS_MUTEX_LOCKED;
    /* release: pairs with the acquire CAS of the next locker */
    if (rs_atomic_cas_release_u8(&m->v, &v, 0))
        return;
    if (!(v & RS_MUTEX_LOCKED))
        rs_fatal("unlocking an unlocked mutex", m);
    rs_unpark_one(&m->v, mutex_unpark_cb, m);
}

bool rs_mutex_is_locked(rs_mutex *m)
{
    return (rs_atomic_load_relaxed_u8(&m->v) & RS_MUTEX_LOCKED) != 0;
}

/* ---- event ------------------------------------------------------------------------------ */

enum { RS_EVENT_UNSET = 0, RS_EVENT_SET = 1, RS_EVENT_WAITERS = 2 };

void rs_event_set(rs_event *e)
{
    /* release: pairs with the acquire loads in rs_event_wait / rs_event_is_set */
    uint8_t old = rs_atomic_exchange_release_u8(&e->v, RS_EVENT_SET);
    if (old == RS_EVENT_WAITERS)
        rs_unpark_all(&e->v);
}

void rs_event_reset(rs_event *e)
{
    /* acquire: pairs with the release exchange in rs_event_set — what the setter did before
     * setting is visible to the resetter afterwards (stw.c relies on it) */
    (void)rs_atomic_exchange_acquire_u8(&e->v, RS_EVENT_UNSET);
}

bool rs_event_is_set(rs_event *e)
{
    /* acquire: pairs with the release exchange in rs_event_set */
    return rs_atomic_load_acquire_u8(&e->v) == RS_EVENT_SET;
}

bool rs_event_wait(rs_event *e, int64_t timeout_ns, rs_lock_flags f)
{
    for (;;) {
        /* acquire: pairs with the release exchange in rs_event_set */
        uint8_t v = rs_atomic_load_acquire_u8(&e->v);
        if (v == RS_EVENT_SET)
            return true;
        if (v == RS_EVENT_UNSET &&
            !rs_atomic_cas_relaxed_u8(&e->v, &v, RS_EVENT_WAITERS))
            continue;
        RS_SCHED("lock.event.wait");
        uint8_t expected = RS_EVENT_WAITERS;
        rs_park(&e->v, &expected, 1, timeout_ns, NULL, f == RS_LOCK_DETACH);
        return rs_event_is_set(e);
    }
}
