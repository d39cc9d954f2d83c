#ifndef RS_RUNTIME_INTERNAL
#error "runtime/lock.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* lock.h — parking lot, mutex and one-shot event (model.md §8.2).
 *
 * Parking lot: address-hashed buckets, each a raw spin lock (never held across a wait or a
 * schedule point) and a FIFO of stack-allocated waiters.  Every wait goes through
 * rs_hook_wait/rs_hook_wake (hooks.h), so a controlling scheduler always knows who blocks.
 *
 * Mutex: one byte, LOCKED 1 | HAS_PARKED 2.  Lock: CAS 0 -> 1; else spin up to 40 times, set
 * HAS_PARKED, park expecting 3, retry unless the unlocker handed the lock off directly.
 * Unlock: CAS 1 -> 0, else unpark one waiter: one parked for more than 1 ms is handed the lock
 * (the byte stays LOCKED), else the byte is cleared (HAS_PARKED kept while waiters remain).
 *
 * Detaching: a thread that must wait for a RS_LOCK_DETACH mutex while ATTACHED detaches for
 * the wait and re-attaches after (so a stop-the-world does not wait for it).  The thread-state
 * module supplies that behaviour through rs_lock_set_detach_fns(); the lock module itself
 * knows nothing of thread states.
 *
 * Event: 0 unset, 1 set, 2 unset with waiters.  set = exchange 1, unpark all if it was 2;
 * wait = CAS 0 -> 2, park expecting 2, return whether it is 1. */
#ifndef RS_LOCK_H
#define RS_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "rs/hooks.h" /* rs_monotonic_ns, rs_hook_now */

typedef struct rs_mutex { RS_ATOMIC(uint8_t) v; } rs_mutex;
#define RS_MUTEX_INIT {0}
enum { RS_MUTEX_LOCKED = 1, RS_MUTEX_HAS_PARKED = 2 };

typedef enum rs_lock_flags {
    RS_LOCK_DONT_DETACH = 0, /* waiting keeps the thread ATTACHED (runtime-internal locks) */
    RS_LOCK_DETACH = 1,      /* an attached waiter detaches while it waits */
} rs_lock_flags;

void rs_mutex_lock(rs_mutex *m);                      /* RS_LOCK_DONT_DETACH */
void rs_mutex_lock_flags(rs_mutex *m, rs_lock_flags f);
bool rs_mutex_trylock(rs_mutex *m);                   /* true if acquired */
void rs_mutex_unlock(rs_mutex *m);
bool rs_mutex_is_locked(rs_mutex *m);                 /* relaxed, for assertions */

typedef struct rs_event { RS_ATOMIC(uint8_t) v; } rs_event;
void rs_event_set(rs_event *e);
void rs_event_reset(rs_event *e);                     /* only when no one waits */
bool rs_event_is_set(rs_event *e);
/* wait until set or timeout_ns elapses (< 0: forever); returns whether the event is set */
bool rs_event_wait(rs_event *e, int64_t timeout_ns, rs_lock_flags f);

/* Parking lot primitives (for the modules above and stop-the-world).
 * park: if *addr (size bytes: 1, 2 or 4) != expected under the bucket lock, return
 * RS_PARK_AGAIN at once; else enqueue and wait.  Returns RS_PARK_OK when unparked (and stores
 * the unparker's `arg` in *arg_out if non-NULL), RS_PARK_TIMEOUT on timeout. */
enum { RS_PARK_OK = 0, RS_PARK_AGAIN = -1, RS_PARK_TIMEOUT = -2 };
int rs_park(const void *addr, const void *expected, int size, int64_t timeout_ns,
            void **arg_out, bool detach);
/* Wake one waiter of addr.  fn(fn_arg, waiter_arg_slot, park_start_ns, has_more) runs under
 * the bucket lock before the wake, whether or not a waiter exists (waiter_arg_slot NULL when
 * none); it may store the value the waiter receives into *waiter_arg_slot. */
typedef void (*rs_unpark_fn)(void *fn_arg, void **waiter_arg_slot, int64_t park_start_ns,
                             bool has_more);
void rs_unpark_one(const void *addr, rs_unpark_fn fn, void *fn_arg);
void rs_unpark_all(const void *addr);

/* Provided by the thread-state module: detach before a DETACH wait, attach after. */
typedef struct rs_lock_detach_fns {
    void *(*detach)(void);   /* returns a token (NULL: nothing was detached) */
    void (*reattach)(void *token);
} rs_lock_detach_fns;
void rs_lock_set_detach_fns(const rs_lock_detach_fns *fns);
/* Torture: one parking-lot bucket for every address (rs_options.torture).  Called by runtime
 * init, before any thread waits. */
void rs_lock_set_torture(bool on);


/* Automatic schedule points at every lock operation, at the caller's site (see rs/atomic.h);
 * lock.c itself defines RS_NO_AUTO_POINTS, so its spin loops are never preempted. */
#if defined(RS_AUTO_POINTS) && defined(RS_RUNTIME_INTERNAL) && !defined(RS_NO_AUTO_POINTS)
#define rs_mutex_lock(m) (rs_auto_point(RS__SITE("mutex lock")), (rs_mutex_lock)(m))
#define rs_mutex_lock_flags(m, f)                                                        \
    (rs_auto_point(RS__SITE("mutex lock")), (rs_mutex_lock_flags)((m), (f)))
#define rs_mutex_trylock(m) (rs_auto_point(RS__SITE("mutex trylock")), (rs_mutex_trylock)(m))
#define rs_mutex_unlock(m) ((rs_mutex_unlock)(m), rs_auto_point(RS__SITE("mutex unlock")))
#define rs_event_set(e) ((rs_event_set)(e), rs_auto_point(RS__SITE("event set")))
#define rs_event_wait(e, t, f)                                                           \
    (rs_auto_point(RS__SITE("event wait")), (rs_event_wait)((e), (t), (f)))
#endif

#endif
