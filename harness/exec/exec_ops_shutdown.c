/* exec_ops_shutdown.c — the drain that makes a `shutdown` op's leak figures exact.
 *
 * `shutdown` finalises the runtime while other program threads may still exist.  What those
 * threads hold in the runtime (frames, C-stack references, per-thread type counts, freelists,
 * queues) is the runtime's to release: rs_runtime_fini shuts them out and clears their states.
 * What they hold in registers is the harness's: a shut-out thread may never touch an object
 * again, so register references would be orphans — and an orphan container, list or type
 * keeps a whole graph alive, which no count taken after the runtime's pages are gone can
 * subtract.  So the registers are emptied first:
 *
 *   1. t0 sets shutdown_pending (release) and detaches;
 *   2. every other thread, at its next op boundary, releases its registers (attaching for it if
 *      it was detached), fails the spawns it will never run, settles DRAINED and waits detached
 *      for the shutdown to be over; a thread blocked in a join settles JOINING instead, and t0
 *      releases its registers for it (CAS JOINING → STOLEN: the joiner, when its join returns,
 *      sees STOLEN and stops without touching a register);
 *   3. t0, once every thread is DRAINED, STOLEN or DONE, drains the mailboxes, releases its own
 *      registers and calls rs_runtime_fini, which shuts the waiting threads out; then it lets
 *      them go (shutdown_over), and each ends as a shut-out thread.
 *
 * So shutdown races threads whose states are alive (detached, with frames and queues), not
 * threads mid-op; every reference the program held is released before rs_runtime_fini, and a
 * clean runtime must report zero leaks.  Waits go through the hook table (rs_hook_wait), so pct
 * sees them as blocking. */
#include "exec_internal.h"

#include "rs/hooks.h"

static void settle(exec_thread *t, uint32_t v)
{
    /* release: pairs with t0's acquire loads in exec_shutdown_settle (registers released) */
    rs_atomic_store_release_u32(&t->settle, v);
    rs_hook_wake((uint32_t *)&t->settle, INT32_MAX);
}

/* the spawns left in t's ops from `index` on will never run: their targets end at once */
static void fail_pending_spawns(exec_thread *t, uint32_t index)
{
    for (uint32_t i = index; i < t->pt->nops; i++) {
        const prog_op *op = &t->pt->ops[i];
        if (op->code != PROG_OP_SPAWN)
            continue;
        exec_thread *c = &t->tr->th[op->arg[0]];
        /* acquire: pairs with exec_spawn's release store (only t spawns c: no race) */
        if (rs_atomic_load_acquire_u32(&c->spawned) != 0)
            continue;
        c->spawn_ts = NULL;
        rs_atomic_store_release_u32(&c->spawned, 2); /* pairs with the child's acquire load */
        rs_hook_wake((uint32_t *)&c->spawned, INT32_MAX);
    }
}

static void wait_over(exec_trial *tr)
{
    /* acquire: pairs with the release store in exec_shutdown_over */
    while (rs_atomic_load_acquire_u32(&tr->shutdown_over) == 0)
        rs_hook_wait((uint32_t *)&tr->shutdown_over, 0, -1);
}

void exec_drain(exec_thread *t, uint32_t index)
{
    bool holds = false;
    for (int r = 0; r < PROG_NREGS; r++)
        holds |= t->reg[r].obj != NULL;
    if (holds && !t->attached && rs_tstate_is_bound(t->ts))
        exec_ts_attach(t); /* cannot fail: the runtime is not finalised before we settle */
    if (t->attached) {
        exec_release_all(t);
        exec_ts_detach(t);
    }
    fail_pending_spawns(t, index);
    settle(t, EXEC_SETTLE_DRAINED);
    wait_over(t->tr);
}

void exec_join_begin(exec_thread *t) { settle(t, EXEC_SETTLE_JOINING); }

bool exec_join_end(exec_thread *t)
{
    uint32_t want = EXEC_SETTLE_JOINING;
    /* acq_rel: acquire pairs with t0's CAS (its register writes), release with t0's loads */
    if (rs_atomic_cas_acq_rel_u32(&t->settle, &want, EXEC_SETTLE_RUNNING)) {
        rs_hook_wake((uint32_t *)&t->settle, INT32_MAX);
        return true;
    }
    /* STOLEN: t0 emptied the registers and failed the pending spawns; no more ops run */
    wait_over(t->tr);
    return false;
}

/* one pass with t0 detached: true once no thread is RUNNING */
static bool all_settled(exec_trial *tr)
{
    for (int i = 1; i < tr->nthreads; i++) {
        exec_thread *t = &tr->th[i];
        /* acquire: pairs with settle()'s release store */
        uint32_t s = rs_atomic_load_acquire_u32(&t->settle);
        /* a spawn thread not spawned yet holds nothing; if its spawner spawns it, t0 waits for
         * the spawner meanwhile and rescans */
        if (s == EXEC_SETTLE_RUNNING && t->pt->start == PROG_START_SPAWN &&
            rs_atomic_load_acquire_u32(&t->spawned) == 0) /* pairs with exec_spawn's release */
            continue;
        if (s == EXEC_SETTLE_RUNNING) {
            rs_hook_wait((uint32_t *)&t->settle, s, -1);
            return false;
        }
    }
    return true;
}

void exec_shutdown_settle(exec_thread *t0)
{
    exec_trial *tr = t0->tr;
    /* release: pairs with the acquire load of every thread at its op boundary */
    rs_atomic_store_release_u32(&tr->shutdown_pending, 1);
    for (;;) {
        exec_ts_detach(t0); /* others may stop the world while they drain */
        while (!all_settled(tr))
            ;
        exec_ts_attach(t0);
        bool again = false;
        for (int i = 1; i < tr->nthreads; i++) {
            exec_thread *t = &tr->th[i];
            uint32_t want = EXEC_SETTLE_JOINING;
            /* acq_rel: acquire pairs with the joiner's release (its registers), release with
             * its CAS in exec_join_end */
            if (rs_atomic_cas_acq_rel_u32(&t->settle, &want, EXEC_SETTLE_STOLEN)) {
                exec_release_all(t); /* the joiner is blocked and will not touch them */
                fail_pending_spawns(t, (uint32_t)rs_atomic_load_relaxed_i64(&t->cur_op) + 1);
            } else if (want == EXEC_SETTLE_RUNNING)
                again = true; /* its join returned: it drains at its next boundary */
        }
        if (!again)
            break;
    }
    for (int m = 0; m < PROG_NMAILBOXES; m++) {
        /* acq_rel: pairs with the exchanges of send/recv (nobody sends any more) */
        rs_object *o = rs_atomic_exchange_acq_rel_ptr(&tr->mbox[m], NULL);
        if (o)
            rs_decref(o);
    }
}

void exec_shutdown_over(exec_trial *tr)
{
    /* release: pairs with wait_over's acquire load */
    rs_atomic_store_release_u32(&tr->shutdown_over, 1);
    rs_hook_wake((uint32_t *)&tr->shutdown_over, INT32_MAX);
}
