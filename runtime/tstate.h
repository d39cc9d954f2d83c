#ifndef RS_RUNTIME_INTERNAL
#error "runtime/tstate.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* tstate.h — thread states (model.md §8): create, bind, attach/detach, suspend, exit.
 *
 * A thread state is created by a parent (rs_tstate_new), then bound on its own OS thread
 * (rs_tstate_bind: thread id, BRC registration, heaps, and only then heap_initialized = 1 with
 * a release store), then attached to run (rs_tstate_attach) and detached around blocking.
 * Only ATTACHED threads touch objects.  The stop-the-world requester (stw.c) moves DETACHED
 * threads to SUSPENDED and asks ATTACHED ones to suspend themselves through PLEASE_STOP.
 *
 * Exit (rs_tstate_exit, on the thread itself) follows model.md §8.1 step by step.
 *
 * State word transitions:
 *     DETACHED → ATTACHED   the thread itself (CAS), or parks while SUSPENDED
 *     ATTACHED → DETACHED   the thread itself (seq_cst store)
 *     DETACHED → SUSPENDED  the STW requester (CAS) ; ATTACHED → SUSPENDED the thread at poll
 *     SUSPENDED → DETACHED  start_the_world (store + unpark)
 *     any → SHUTTING_DOWN   shutdown, under STW */
#ifndef RS_TSTATE_H
#define RS_TSTATE_H

#include "rs/api.h"
#include "rs/debug.h"
#include <stdbool.h>
#include <stdint.h>

#include "brc.h"
#include "delayed.h"
#include "frame.h"
#include "freelist.h"
#include "gc.h"
#include "heap.h"
#include "rs/object.h"
#include "trash.h"
#include "typeid.h"

enum {
    RS_TS_DETACHED = 0,
    RS_TS_ATTACHED = 1,
    RS_TS_SUSPENDED = 2,
    RS_TS_SHUTTING_DOWN = 3,
};

/* eval breaker bits: RS_EB_* in rs/debug.h; bits 8+ hold the version */
#define RS_EB_VERSION_SHIFT 8

struct rs_tstate {
    /* rt.threads list, guarded by rt.head_lock */
    rs_tstate *next, *prev;
    uint64_t id;                       /* assigned under HEAD_LOCK, never reused */

    RS_ATOMIC(int) state;              /* RS_TS_*; see transitions above */
    RS_ATOMIC(uintptr_t) thread_id;    /* 0 until bound; relaxed */
    RS_ATOMIC(uintptr_t) eval_breaker; /* events | version; set = OR, clear = AND */
    RS_ATOMIC(void *) async_exc;       /* pending async exception token (exchange) */
    RS_ATOMIC(uint64_t) async_exc_sent; /* rs_async_exc_set calls that targeted this state (E3) */
    RS_ATOMIC(int) heap_initialized;   /* release store at the end of bind; acquire load by walkers */

    rs_brc_state brc;
    rs_heap_tld heap;
    RS_ATOMIC(intptr_t) reftotal;      /* written only by this thread (relaxed load + store) */

    /* ---- QSBR and delayed free (model.md §11) ---- */
    size_t qsbr_idx;                   /* slot in rs_rt.qsbr.array (RS_QSBR_NO_SLOT: none); an
                                        * index, not a pointer: the array moves when it grows */
    rs_delayed_queue mem_free_queue;   /* owner-only: this thread's delayed frees */

    /* per-mechanism per-thread state (each owned by its module) */
    rs_gc_tstate gc;
    rs_freelists freelists;
    rs_typeid_tstate typeids;
    rs_frame_tstate frames;
    rs_trash_tstate trash;

    /* references to this struct: the runtime's list holds one, the OS thread one; freed at 0 */
    RS_ATOMIC(int) refs;

    /* owner-only bookkeeping */
    bool bound;                        /* HEAD_LOCK for writes; owner reads */
    bool binding;                      /* HEAD_LOCK: rs_tstate_bind in progress */
    bool is_main;
    bool cleared;
    bool objects_cleared;              /* Exit steps 1–4 done (shutdown runs them early) */
    uint64_t async_exc_seen;           /* polls that saw ASYNC_EXC, each paid by one send (E3) */
    uint64_t spurious_interrupts;      /* ASYNC_EXC bits no send to this state explains (E3);
                                        * a stale bit over an empty slot is not one (issue 17) */
    uint64_t merges;                   /* owner merges run (statistics) */
    uint64_t deallocs;                 /* owner-only: objects this thread destroyed (statistics;
                                        * folded into rs_rt.deallocs_folded at delete) */
};

/* On the new thread, before its first attach (DETACHED or SUSPENDED).  0, or -1 on failure. */
int rs_tstate_bind(rs_tstate *ts);
/* Exit steps 1–4 only (frames, freelists, BRC, type counts, delayed queue), on the
 * thread itself or for a thread proven gone; idempotent.  Shutdown clears the main state so
 * (model.md §4 step 6) and abandons its heaps when it deletes it (step 10). */
void rs_tstate_clear_objects(rs_tstate *ts);
/* Clear + delete a state whose thread is proven gone or shut out (shutdown), by the caller;
 * drops the list's reference only. */
void rs_tstate_delete_foreign(rs_tstate *ts);

/* The linked state bound to thread id tid, or NULL (HEAD_LOCK held). */
rs_tstate *rs_tstate_find_locked(uintptr_t tid);

/* eval breaker (breaker.c) */
void rs_eval_breaker_clear(rs_tstate *ts, uintptr_t bit);
uintptr_t rs_eval_breaker_load(rs_tstate *ts);
/* Write a new version into every breaker (under STW). */
void rs_bump_version(void);

/* stop-the-world (stw.c) */
/* called from rs_poll on PLEASE_STOP */
int rs_tstate_suspend_self(rs_tstate *ts);   /* -1: shut out */
bool rs_world_is_stopped(void);

/* internals shared by tstate.c and stw.c */
void rs__tstate_set_current(rs_tstate *ts);

#endif
