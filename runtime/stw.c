/* stw.c — stop-the-world and start-the-world (model.md §8.3).
 *
 * The requester holds stw.mutex for the whole pause.  Under HEAD_LOCK it counts the other
 * threads, suspends the DETACHED ones itself (CAS DETACHED → SUSPENDED) and asks the ATTACHED
 * ones to stop (PLEASE_STOP on their own eval breaker); they suspend themselves at their next
 * poll and count down.  It waits on stop_event, which the last thread to count down sets, and
 * so does a thread that detaches without polling while the countdown is above zero: the
 * requester then scans again and suspends it.  The wait is bounded by 1 ms as a backstop, as
 * CPython's is; with the wake-ups it rarely runs out.  S1: while world_stopped, no other
 * thread is ATTACHED.
 *
 * A thread is stopped only once the requester's CAS succeeded or it suspended itself; a state
 * created during the pause starts SUSPENDED and is not counted. */
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

bool rs_world_is_stopped(void)
{
    /* acquire: pairs with the release store of world_stopped in rs_stop_the_world */
    return rs_atomic_load_acquire_int(&rs_rt.stw.world_stopped) != 0;
}

/* HEAD_LOCK held: one pass over the others; returns whether the countdown reached zero */
static bool stw_scan_locked(rs_tstate *me)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        if (t == me)
            continue;
        /* seq_cst: with the seq_cst store of the countdown before the first scan, the
         * requester's half of a Dekker pair with rs_tstate_detach (its store of DETACHED, then
         * its load of the countdown): either we see DETACHED here or it sees the countdown
         * and wakes us to scan again */
        int st = rs_atomic_load_seq_cst_int(&t->state);
        if (st == RS_TS_DETACHED) {
            /* seq_cst: pairs with the thread's attach CAS and detach store; if we win, the
             * thread cannot attach until start_the_world */
            if (rs_atomic_cas_seq_cst_int(&t->state, &st, RS_TS_SUSPENDED))
                rs_atomic_add_relaxed_int(&rs_rt.stw.countdown, -1);
            else if (st == RS_TS_ATTACHED)
                rs_eval_breaker_set(t, RS_EB_PLEASE_STOP);
        } else if (st == RS_TS_ATTACHED) {
            rs_eval_breaker_set(t, RS_EB_PLEASE_STOP);
        }
    }
    /* acquire: pairs with the release decrements by self-suspending threads */
    return rs_atomic_load_acquire_int(&rs_rt.stw.countdown) == 0;
}

void rs_stop_the_world(rs_tstate *me)
{
    /* DETACH: a thread waiting for another requester's pause must let itself be stopped */
    rs_mutex_lock_flags(&rs_rt.stw.mutex, RS_LOCK_DETACH);
    rs_head_lock();
    int others = 0;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (t != me)
            others++;
    rs_rt.stw.requested = 1;
    rs_rt.stw.requester = me;
    /* seq_cst: before the scans' loads of the states (see stw_scan_locked) */
    rs_atomic_store_seq_cst_int(&rs_rt.stw.countdown, others);
    rs_event_reset(&rs_rt.stw.stop_event);
    RS_SCHED("stw.requested");
    for (;;) {
        bool done = stw_scan_locked(me);
        rs_head_unlock();
        if (done)
            break;
        /* the waits go through the parking lot, hence through the hook table.  The event is
         * set by the thread that brings the countdown to zero and by every thread that
         * detaches while it is above zero (rs_tstate_detach); the 1 ms bound is a backstop */
        if (rs_event_wait(&rs_rt.stw.stop_event, 1000000, RS_LOCK_DONT_DETACH)) {
            if (rs_atomic_load_acquire_int(&rs_rt.stw.countdown) == 0)
                break;
            /* woken by a detach: clear the event (an acquire exchange, so the detacher's
             * store of DETACHED is visible to the scan), then scan again */
            rs_event_reset(&rs_rt.stw.stop_event);
        }
        rs_head_lock();
    }
    rs_atomic_add_relaxed_u64(&rs_rt.stats.stw_count, 1);
    /* release: pairs with the acquire load in rs_world_is_stopped */
    rs_atomic_store_release_int(&rs_rt.stw.world_stopped, 1);
    RS_SCHED("stw.stopped");
}

void rs_start_the_world(rs_tstate *me)
{
    rs_head_lock();
    RS_ASSERT(rs_rt.stw.requester == me);
    rs_rt.stw.requested = 0;
    rs_atomic_store_release_int(&rs_rt.stw.world_stopped, 0); /* pairs with rs_world_is_stopped */
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        if (t == me)
            continue;
        int st = rs_atomic_load_relaxed_int(&t->state);
        if (st == RS_TS_SHUTTING_DOWN)
            continue;
        RS_ASSERT(st == RS_TS_SUSPENDED);
        /* seq_cst: pairs with the parked thread's attach CAS (it re-reads after unpark) */
        rs_atomic_store_seq_cst_int(&t->state, RS_TS_DETACHED);
        rs_unpark_all(&t->state);
    }
    rs_rt.stw.requester = NULL;
    rs_head_unlock();
    rs_mutex_unlock(&rs_rt.stw.mutex);
    RS_SCHED("stw.restarted");
}

int rs_tstate_suspend_self(rs_tstate *ts)
{
    rs_qsbr_detach(ts); /* offline before SUSPENDED/DETACHED (Q3) */
    rs_head_lock();
    if (rs_rt.stw.requested && rs_rt.stw.requester != ts) {
        /* seq_cst store: the requester reads our state under HEAD_LOCK too */
        rs_atomic_store_seq_cst_int(&ts->state, RS_TS_SUSPENDED);
        /* release: pairs with the requester's acquire load of the countdown — everything we
         * did while attached happens before the pause */
        if (rs_atomic_add_release_int(&rs_rt.stw.countdown, -1) == 1)
            rs_event_set(&rs_rt.stw.stop_event);
    } else {
        rs_atomic_store_seq_cst_int(&ts->state, RS_TS_DETACHED);
    }
    rs_head_unlock();
    RS_SCHED("stw.suspended");
    /* re-attach: parks while SUSPENDED */
    return rs_tstate_attach(ts);
}
