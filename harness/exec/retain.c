/* retain.c — the executor's retention oracle (check GR): memory a runtime structure holds for
 * later is given back once it can be, so that a run in a steady state does not grow.
 *
 * Why an oracle: a block queued for a delayed free (model.md §11) that is never freed while the
 * run lasts is not a leak to shutdown accounting — shutdown frees every queue ignoring goals —
 * and no validator sees it either: the queue only grows.  Unbounded growth during a run is
 * invisible until the machine runs out of memory, so it needs a bound of its own.
 *
 * The bound: after a thread's `reclaim` op (rs_mem_process_delayed), its own delayed-free queue
 * holds no block whose QSBR goal is at most E, the epoch of the last `stw` point.  At an `stw`
 * point the requester, with the world stopped, reports a quiescent state and records
 * E = the least sequence of an online record, or wr_seq if less (rs_debug_qsbr_min_online:
 * computed apart from the runtime's poll, whose result is what is being judged).  Why a clean
 * run cannot fail it: no record can go below E after the pause — a record online at the pause
 * holds ≥ E and only grows (an exiting thread, unlinked but not yet offline, is one: the pause
 * does not stop it, which is why E is a minimum and not simply wr_seq); a thread that was
 * suspended, detached or new goes online later with the write sequence of then, ≥ E.  So a
 * poll made after the pause computes a minimum ≥ E and raises rd_seq to it.  A thread that
 * reads E is attached and running, hence after the pause (suspended during it, or attached
 * after it).  Its reclaim frees its queue's ready prefix, and goals never decrease along a
 * queue (Q4), so every block with goal ≤ E is freed; blocks queued after the pause have goals
 * above wr_seq of then, > E, and are not counted.  The runtime queue (abandoned by exited
 * threads) is drained under a try-lock and is not counted.  Catches
 * `qsbr-poll-counts-offline`.
 *
 * Cost: only programs with a `reclaim` op pay anything (the extra quiescent report and the
 * epoch store at each `stw` point); the others run exactly as before. */
#include "exec_internal.h"

#include <inttypes.h>

void exec_retain_reset(exec_trial *tr)
{
    const program *p = tr->p;
    bool on = false;
    for (uint32_t t = 0; t < p->nthreads && !on; t++)
        for (uint32_t i = 0; i < p->thread[t].nops && !on; i++)
            on = p->thread[t].ops[i].code == PROG_OP_RECLAIM;
    tr->retain_on = on;
    rs_atomic_store_relaxed_i64(&tr->retain_epoch, 0);
}

void exec_retain_epoch(exec_thread *t)
{
    exec_trial *tr = t->tr;
    if (!tr->retain_on)
        return;
    rs_qsbr_quiescent(t->ts);
    /* release: pairs with the acquire load in exec_retain_check (a reader of E runs after the
     * pause; the store itself is ordered before the restart) */
    rs_atomic_store_release_i64(&tr->retain_epoch, rs_debug_qsbr_min_online());
}

int64_t exec_retain_goal(exec_thread *t)
{
    /* acquire: pairs with the release store in exec_retain_epoch */
    return rs_atomic_load_acquire_i64(&t->tr->retain_epoch);
}

void exec_retain_check(exec_thread *t, int64_t index, int64_t goal)
{
    if (goal <= 0)
        return; /* no stw point yet */
    int64_t held = rs_debug_delayed_held(t->ts, goal);
    if (held > 0)
        exec_fail(t->tr, VERDICT_INVARIANT, "GR", t->idx, index,
                  "GR: after reclaim, t%d's delayed-free queue still holds %" PRId64
                  " block(s) whose QSBR goal (<= %" PRId64
                  ") every thread has passed since the last stw point",
                  t->idx, held, goal);
}
