/* debug.h — the runtime's small test and debug interface: what an executor needs from the
 * inside to check the runtime rather than merely drive it.
 *
 *   validators       the invariants of docs/model.md §12, each returning what broke
 *   mutants          the bug-injection registry (rs/bugs.def), switched by name
 *   thread lookup    run a function on the state bound to a thread id, under HEAD_LOCK
 *   eval breaker     raise an event bit on a thread directly (a merge request by hand)
 *   statistics       what the executor's oracles compare with the runtime's own decisions
 *   fault sites      the table of fallible steps (rs/faults.def), for validating a program's
 *                    `fail_alloc_at` sites
 *
 * Nothing here changes what the runtime does on its own, except rs_bug_set (which is the point
 * of a mutant) and rs_debug_set_validate. */
#ifndef RS_DEBUG_H
#define RS_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/api.h"
#include "rs/violation.h"

/* ---- validators (check.c; docs/checks.md) ---- */
/* Under stop-the-world, the caller being the requester: every heap, every object, the BRC
 * queues, the eval breakers, reference conservation.  true when everything holds, else false
 * with *v naming the first invariant that broke.  Never aborts. */
bool rs_check_world(rs_violation *v);
/* The same, stopping and restarting the world itself (ts: the caller, attached). */
bool rs_check_runtime(rs_tstate *ts, rs_violation *v);
/* Switch the collector's own validation (at its entry and between phases) off or on: a
 * driver that has recorded a violation turns it off, so that shutdown's collections do not
 * abort on the same breakage. */
void rs_debug_set_validate(bool on);

/* ---- the mutant registry (bugs.c, rs/bugs.def) ---- */
size_t rs_bug_count(void);
const char *rs_bug_name(size_t i);
const char *rs_bug_desc(size_t i);
/* Switch a bug by name; returns 0, or -1 if no bug has that name.  Switch bugs only between
 * trials (no program thread running). */
int rs_bug_set(const char *name, bool on);
void rs_bug_clear_all(void);
/* The index of the bug named `name`, or -1. */
int rs_bug_find(const char *name);

/* ---- thread lookup ---- */
/* Find the bound state whose thread id is tid and run fn on it under HEAD_LOCK (fn must not
 * block or take HEAD_LOCK).  false if no bound state has that id. */
bool rs_debug_with_tstate(uintptr_t tid, void (*fn)(rs_tstate *ts, void *arg), void *arg);

/* ---- the eval breaker (breaker.c) ---- */
enum {
    RS_EB_ASYNC_EXC = 1u << 3,
    RS_EB_GC_SCHEDULED = 1u << 4,
    RS_EB_PLEASE_STOP = 1u << 5,
    RS_EB_EXPLICIT_MERGE = 1u << 6,
    RS_EB_EVENTS_MASK = 0xff,
};
/* OR an event bit into ts's breaker word (any thread). */
void rs_eval_breaker_set(rs_tstate *ts, uintptr_t bit);

/* ---- collector statistics (gc_sched.c) ---- */
/* Σ of the positive flushes into young.count since init: every young.count a HEAP collection
 * saw came out of it, so Σ over HEAP collections of the threshold they exceeded is below it */
int64_t rs_gc_flushed_positive(void);
int64_t rs_gc_long_lived_total(void);        /* as of the last completed collection */

/* ---- retained memory (qsbr.c, delayed.c; the executor's retention oracle, check GR) ---- */
/* The least sequence of an online QSBR record, or the write sequence if that is less (under
 * stop-the-world: exact — nobody can advance or publish one meanwhile). */
int64_t rs_debug_qsbr_min_online(void);
/* How many blocks ts's own delayed-free queue holds whose goal is <= `goal` (owner only). */
int64_t rs_debug_delayed_held(const rs_tstate *ts, int64_t goal);

/* ---- fault sites (rs/faults.def) ---- */
size_t rs_fault_site_count(void);
const char *rs_fault_site_name(size_t i);   /* "alloc.gc", ...; NULL out of range */
const char *rs_fault_site_desc(size_t i);
int rs_fault_site_find(const char *name);   /* its index, or -1 */

/* ---- the lock-order witness (asan, tsan and debug builds; model.md §12, check LO) ---- */
/* true, and a description in buf, if some thread acquired runtime locks in an order that
 * closes a cycle since rs_runtime_init: a potential deadlock, even if none happened.  Always
 * false in builds without the witness (release). */
bool rs_debug_lock_order(char *buf, size_t n);
/* The order graph recorded so far ("stw -> HEAD_LOCK, ..."), for reports; returns the number
 * of edges. */
size_t rs_debug_lock_order_edges(char *buf, size_t n);

#endif
