/* tstate.c — thread state lifecycle (model.md §8.1): create, bind, attach, detach, exit.
 *
 * Creation links the state into rt.threads under HEAD_LOCK; binding runs on the new thread and
 * builds its per-thread data, publishing heap_initialized = 1 with a release store only when
 * the heaps are complete (the GC's heap walk acquires it, G6).  Exit runs on the thread itself
 * in the order of model.md §8.1 step 4; steps owned by later mechanisms (freelists, type-id
 * counts, delayed frees) are marked where they belong. */
#include "tstate.h"
#include "witness.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "immortal.h"
#include "runtime.h"

static _Thread_local rs_tstate *tls_current;

rs_tstate *rs_tstate_current(void) { return tls_current; }

bool rs_tstate_is_bound(const rs_tstate *ts) { return ts->bound; }

bool rs_tstate_is_shutting_down(const rs_tstate *ts)
{
    return rs_atomic_load_relaxed_int(&ts->state) == RS_TS_SHUTTING_DOWN;
}

rs_tstate *rs_tstate_find_locked(uintptr_t tid)
{
    if (tid == 0)
        return NULL;
    rs_tstate *t = rs_rt.threads;
    while (t && rs_atomic_load_relaxed_uptr(&t->thread_id) != tid)
        t = t->next;
    return t;
}

bool rs_debug_with_tstate(uintptr_t tid, void (*fn)(rs_tstate *ts, void *arg), void *arg)
{
    rs_head_lock();
    rs_tstate *t = rs_tstate_find_locked(tid);
    if (t)
        fn(t, arg);
    rs_head_unlock();
    return t != NULL;
}

void rs__tstate_set_current(rs_tstate *ts)
{
    tls_current = ts;
    /* the reftotal-racy mutant sends every update to the slow path (plain += on the runtime) */
    rs__reftotal_slot = (ts && !rs_bug(RS_BUG_REFTOTAL_RACY)) ? &ts->reftotal : NULL;
    /* the inline owner paths use the slot without a test only when this key matches */
    rs__owner_key = rs__reftotal_slot ? rs_thread_id() : RS_NO_OWNER_KEY;
}

rs_tstate *rs_tstate_new(void)
{
    if (rs_fault(RS_FAULT_ALLOC_TSTATE))
        return NULL;
    rs_tstate *ts = calloc(1, sizeof *ts);
    if (ts == NULL)
        return NULL;
    /* reserve a QSBR slot first (may stop the world to grow the array) */
    ts->qsbr_idx = RS_QSBR_NO_SLOT;
    size_t qsbr_idx = rs_qsbr_reserve();
    if (qsbr_idx == RS_QSBR_NO_SLOT) {
        free(ts);
        return NULL;
    }
    rs_atomic_store_relaxed_int(&ts->refs, 2); /* the list's and the OS thread's */
    rs_head_lock();
    ts->id = ++rs_rt.next_id;
    /* copy the breaker version so a later bump is seen consistently */
    uintptr_t version = rs_rt.main ? (rs_eval_breaker_load(rs_rt.main) & ~(uintptr_t)RS_EB_EVENTS_MASK) : 0;
    rs_atomic_store_relaxed_uptr(&ts->eval_breaker, version);
    /* a new state joins a pending stop-the-world as already stopped; the requester's
     * countdown does not include it */
    rs_atomic_store_relaxed_int(&ts->state, rs_rt.stw.requested ? RS_TS_SUSPENDED : RS_TS_DETACHED);
    ts->next = rs_rt.threads;
    if (rs_rt.threads)
        rs_rt.threads->prev = ts;
    rs_rt.threads = ts;
    rs_head_unlock();
    rs_qsbr_register(ts, qsbr_idx); /* after HEAD_UNLOCK */
    RS_SCHED("tstate.new.linked");
    rs_immortalize_on_new_thread(ts); /* §3.6 trigger (non-main states only) */
    return ts;
}

int rs_tstate_bind(rs_tstate *ts)
{
    RS_ASSERT(!ts->bound);
    int st = rs_atomic_load_relaxed_int(&ts->state);
    RS_ASSERT(st == RS_TS_DETACHED || st == RS_TS_SUSPENDED || st == RS_TS_SHUTTING_DOWN);
    /* a thread binds holding no runtime lock: forget whatever an OS thread reused across
     * runtimes (a driver's pool) carried from a thread that was shut out mid-operation */
    rs_witness_thread_start();
    /* Under HEAD_LOCK: a state shut out by shutdown is not bound any more; otherwise mark the
     * bind in progress, so that shutdown, which may clear this state on our behalf, waits for
     * it (a binding thread is DETACHED and counts as stopped) */
    rs_head_lock();
    if (rs_atomic_load_relaxed_int(&ts->state) == RS_TS_SHUTTING_DOWN) {
        rs_head_unlock();
        return -1;
    }
    ts->binding = true;
    rs_tid_registry_add(rs_thread_id());
    rs_head_unlock();
    if (rs_bug(RS_BUG_BIND_HEAP_VISIBLE_EARLY)) /* mutant bind-heap-visible-early (publish first) */
        rs_atomic_store_release_int(&ts->heap_initialized, 1); /* pairs with walkers' acquire */
    rs_atomic_store_relaxed_uptr(&ts->thread_id, rs_thread_id());
    rs__tstate_set_current(ts);
    rs_brc_register(ts);
    rs_heap_bind(&ts->heap, rs_thread_id());
    /* release: pairs with the acquire load of heap walkers (rs_heap_walk_all) — the heap is
     * complete before anyone may walk it */
    rs_atomic_store_release_int(&ts->heap_initialized, 1);
    rs_head_lock();
    ts->bound = true;
    ts->binding = false; /* HEAD_LOCK: shutdown's wait in rs_tstate_delete_foreign sees both */
    rs_head_unlock();
    return 0;
}

int rs_tstate_attach(rs_tstate *ts)
{
    if (!ts->bound && rs_tstate_bind(ts) < 0)
        return -1;
    for (;;) {
        int expected = RS_TS_DETACHED;
        /* acquire (seq_cst): pairs with start_the_world's store of DETACHED and with the
         * requester's CAS DETACHED → SUSPENDED; whoever wins owns the transition */
        if (rs_atomic_cas_seq_cst_int(&ts->state, &expected, RS_TS_ATTACHED))
            break;
        if (expected == RS_TS_SHUTTING_DOWN)
            return -1;
        if (expected == RS_TS_SUSPENDED) {
            /* wait for start_the_world (which stores DETACHED then unparks &state) */
            int susp = RS_TS_SUSPENDED;
            rs_park(&ts->state, &susp, sizeof(int), -1, NULL, false);
            continue;
        }
        rs_fatal("attach: thread state is already attached", NULL);
    }
    rs_qsbr_attach(ts); /* online (seq_cst store of wr_seq) */
    rs__tstate_set_current(ts);
    RS_SCHED("tstate.attach.done");
    /* a stop request that arrived while we were detached was resolved by the requester's CAS;
     * one that raced with our CAS is seen through PLEASE_STOP at the next poll */
    return 0;
}

void rs_tstate_detach(rs_tstate *ts)
{
    RS_ASSERT(rs_atomic_load_relaxed_int(&ts->state) == RS_TS_ATTACHED);
    RS_SCHED("tstate.detach");
    rs_qsbr_detach(ts); /* offline (release store 0) before DETACHED */
    /* seq_cst: pairs with the STW requester's CAS DETACHED → SUSPENDED (it may then treat us
     * as stopped: everything we did while attached happens before its pause) */
    rs_atomic_store_seq_cst_int(&ts->state, RS_TS_DETACHED);
    /* seq_cst: the other half of the Dekker pair with the requester (stw.c: its seq_cst
     * store of the countdown, then its seq_cst loads of the states).  A requester waiting for
     * us would otherwise notice our detach only when its wait times out */
    if (rs_atomic_load_seq_cst_int(&rs_rt.stw.countdown) > 0)
        rs_event_set(&rs_rt.stw.stop_event);
}

/* HEAD_LOCK held: unlink ts; if a stop-the-world is pending and ts is not SUSPENDED it was
 * counted in the countdown: decrement it and signal at 0. */
static void unlink_locked(rs_tstate *ts)
{
    if (ts->prev)
        ts->prev->next = ts->next;
    else
        rs_rt.threads = ts->next;
    if (ts->next)
        ts->next->prev = ts->prev;
    ts->next = ts->prev = NULL;
    if (rs_rt.stw.requested && rs_rt.stw.requester != ts &&
        rs_atomic_load_relaxed_int(&ts->state) != RS_TS_SUSPENDED) {
        /* release: pairs with the requester's acquire load of the countdown */
        if (rs_atomic_add_release_int(&rs_rt.stw.countdown, -1) == 1)
            rs_event_set(&rs_rt.stw.stop_event);
    }
}

/* model.md §8.1 exit steps 1–5; on the thread itself (or, at shutdown, on behalf of a thread
 * proven gone). */
void rs_tstate_clear_objects(rs_tstate *ts) /* Exit steps 1–4, also run early by shutdown */
{
    if (ts->objects_cleared) /* lifecycle */
        return;
    rs_frames_clear_thread(ts); /* pop/close frames and C-stack refs, free the data stack */
    /* (1) freelists: the final clear of this thread's lists */
    rs_freelists_exit(ts); /* freelist */
    /* (2) drain BRC queues and leave the table */
    rs_brc_remove(ts);
    /* (3) per-thread type counts: merge and finalise */
    rs_typeid_tstate_fini(ts); /* typeid */
    /* (4) abandon the delayed-free queue onto the runtime queue  */
    rs_delayed_abandon(ts);
    ts->objects_cleared = true; /* lifecycle */
}

static void tstate_clear(rs_tstate *ts)
{
    RS_ASSERT(!ts->cleared);
    rs_tstate_clear_objects(ts); /* Steps 1–4 */
    /* (5) abandon heap pages */
    if (ts->bound) {
        /* unpublish first: from here on walkers find these pages in the pool (the thread is
         * still attached, so no walk runs concurrently) */
        rs_atomic_store_release_int(&ts->heap_initialized, 0); /* pairs with walkers' acquire */
        rs_heap_abandon(&ts->heap);
    }
    ts->cleared = true;
}

/* model.md §8.1 exit steps 6–7 */
static void tstate_delete(rs_tstate *ts, bool own_thread)
{
    rs_head_lock();
    unlink_locked(ts);
    if (!rs_bug(RS_BUG_REFTOTAL_NOT_MERGED_AT_EXIT)) {
        rs_atomic_store_relaxed_iptr(&rs_rt.reftotal, rs_atomic_load_relaxed_iptr(&rs_rt.reftotal) +
                                                          rs_atomic_load_relaxed_iptr(&ts->reftotal));
        rs_atomic_store_relaxed_iptr(&ts->reftotal, 0);
    }
    rs_heap_fold_blocks(&ts->heap);
    rs_gc_tstate_fold(ts); /* gc: G7 keeps exited threads' flushes */
    rs_rt.spurious_interrupts += ts->spurious_interrupts;
    rs_rt.deallocs_folded += ts->deallocs;
    rs_head_unlock();
    if (own_thread) {
        /* (7) detach; no refcount operation by this thread may follow: the slot is gone.
         * Unlinked, no pause stops us, so the record is reached under the QSBR mutex. */
        rs_qsbr_detach_unlinked(ts); /* offline before DETACHED */
        rs_atomic_store_seq_cst_int(&ts->state, RS_TS_DETACHED);
        rs__tstate_set_current(NULL);
        rs_tstate_release(ts);
    }
    rs_qsbr_unregister(ts); /* (7) holding no other runtime lock */
    rs_tstate_release(ts);
}

void rs_tstate_release(rs_tstate *ts)
{
    if (tls_current == ts)
        rs__tstate_set_current(NULL);
    /* acq_rel: the last releaser sees every write of the other holder before freeing */
    if (rs_atomic_add_acq_rel_int(&ts->refs, -1) == 1)
        free(ts);
}

void rs_tstate_exit(rs_tstate *ts)
{
    RS_ASSERT(ts == tls_current);
    RS_ASSERT(rs_atomic_load_relaxed_int(&ts->state) == RS_TS_ATTACHED);
    RS_SCHED("tstate.exit.begin");
    tstate_clear(ts);
    /* (6) unlink while still attached: a pending stop-the-world that counted us gets its
     * countdown decremented by the unlink; (7) then detach, unseen by anyone */
    tstate_delete(ts, true);
}

void rs_tstate_delete_foreign(rs_tstate *ts)
{
    /* the owner may still be inside rs_tstate_bind: let it finish (it publishes under
     * HEAD_LOCK, which also orders its writes before our clear) */
    rs_head_lock();
    while (ts->binding) {
        rs_head_unlock();
        RS_SCHED("tstate.delete_foreign.wait_bind");
        sched_yield();
        rs_head_lock();
    }
    rs_head_unlock();
    if (!ts->cleared)
        tstate_clear(ts);
    tstate_delete(ts, false);
}
