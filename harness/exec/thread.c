/* thread.c — a program thread's life: its registers, its runtime thread state (bind, attach,
 * detach, exit), spawn/join/shutdown, and the loop that runs its ops.
 *
 * A program thread between ops: schedule point "exec.op", the shutdown drain check, an
 * eval-breaker poll (attached only; a thread the runtime shut out stops there and never touches
 * an object again), then the op.  t0 is the executor's own thread (the runtime's main thread);
 * its end releases what the program left, validates and shuts the runtime down. */
#include "exec_internal.h"

#include <pthread.h>
#include <stdint.h>

static _Thread_local exec_thread *exec_tls;
exec_thread *exec_self(void) { return exec_tls; }
void exec_self_set(exec_thread *t) { exec_tls = t; }

/* ---- registers ---- */

void exec_reg_release(exec_thread *t, int r)
{
    exec_reg *g = &t->reg[r];
    rs_object *o = g->obj;
    if (o == NULL)
        return;
    uint32_t n = g->extra + 1;
    g->obj = NULL;
    g->extra = 0;
    while (n--)
        rs_decref(o);
}

void exec_reg_set(exec_thread *t, int r, rs_object *o)
{
    exec_reg_release(t, r);
    t->reg[r].obj = o;
    /* Use the object as a program would: read its type, a plain field the allocating thread
     * wrote before publishing it (model.md §0.1).  Whatever path brought o here (a container or
     * list slot, a weakref, a mailbox, a take) must have ordered that write before this read;
     * if a release or an acquire on the way is missing, TSan sees the two plain accesses race. */
    if (o)
        t->touched ^= (uintptr_t)o->ob_type;
}

void exec_release_all(exec_thread *t)
{
    for (int r = 0; r < PROG_NREGS; r++)
        exec_reg_release(t, r);
}

/* ---- thread states ---- */

int exec_ts_attach(exec_thread *t)
{
    rs_tstate *ts = t->ts;
    /* a state shut out before it was bound must not bind (binding touches the runtime) */
    if (!rs_tstate_is_bound(ts) && rs_tstate_is_shutting_down(ts)) {
        t->shut_out = true;
        return -1;
    }
    bool was_bound = rs_tstate_is_bound(ts);
    if (rs_tstate_attach(ts) < 0) {
        t->shut_out = true;
        return -1;
    }
    if (!was_bound)
        rs_atomic_store_relaxed_uptr(&t->tid, rs_thread_id());
    t->attached = true;
    return 0;
}

void exec_ts_detach(exec_thread *t)
{
    rs_tstate_detach(t->ts);
    t->attached = false;
}

/* End a thread other than t0: registers released, state cleared and deleted. */
int exec_thread_finish(exec_thread *t)
{
    t->fail_count = 0; /* injected faults are for ops, not for the thread's exit */
    if (t->ts == NULL)
        return EXEC_OP_STOP; /* never started (its spawn failed) */
    if (!t->shut_out && !t->attached)
        exec_ts_attach(t);
    if (t->shut_out) {
        /* registers stay as they are: orphans, counted by the leak accounting */
        rs_atomic_store_relaxed_uptr(&t->tid, 0);
        rs_tstate_release(t->ts);
    } else {
        exec_thread_unwind(t);
        exec_release_all(t);
        rs_atomic_store_relaxed_uptr(&t->tid, 0);
        rs_tstate_exit(t->ts);
    }
    t->ts = NULL;
    t->attached = false;
    return EXEC_OP_STOP;
}

int exec_spawn(exec_thread *t, int target)
{
    exec_thread *c = &t->tr->th[target];
    rs_tstate *ts = rs_tstate_new(); /* the parent creates the child's state */
    c->spawn_ts = ts;
    /* release: pairs with the child's acquire load in exec_thread_main (thread creation) */
    rs_atomic_store_release_u32(&c->spawned, ts ? 1 : 2);
    rs_hook_wake((uint32_t *)&c->spawned, INT32_MAX);
    return EXEC_OP_NEXT;
}

int exec_join(exec_thread *t, int target)
{
    bool was = t->attached;
    if (was)
        exec_ts_detach(t); /* a blocking call detaches */
    if (t->idx != 0)
        exec_join_begin(t); /* a `shutdown` meanwhile releases our registers for us */
    if (sched_join_wait(t->tr->s, target) < 0)
        exec_fail(t->tr, VERDICT_HANG, "deadlock", t->idx, rs_atomic_load_relaxed_i64(&t->cur_op),
                  "pct: every thread blocked while t%d joined t%d", t->idx, target);
    if (t->idx != 0 && !exec_join_end(t))
        return EXEC_OP_STOP;
    if (was && exec_ts_attach(t) < 0)
        return EXEC_OP_STOP;
    return EXEC_OP_NEXT;
}

/* t0: the `shutdown` op — finalise the runtime while other threads may still run */
int exec_shutdown(exec_thread *t)
{
    exec_trial *tr = t->tr;
    t->fail_count = 0; /* injected faults are for ops, not for the runtime's shutdown */
    exec_shutdown_settle(t); /* the others' registers and the mailboxes are released */
    exec_thread_unwind(t);
    exec_release_all(t);
    if (!exec_check_now(t, rs_atomic_load_relaxed_i64(&t->cur_op)))
        rs_debug_set_validate(false); /* recorded; shutdown's collections would abort on it */
    rs_atomic_store_relaxed_uptr(&t->tid, 0);
    tr->leaks = rs_runtime_fini();
    tr->shutdown_done = true;
    exec_shutdown_over(tr);
    t->ts = NULL;
    t->attached = false;
    return EXEC_OP_STOP;
}


/* ---- running a thread's ops ---- */

static void exec_log(exec_trial *tr, int thread, int64_t index)
{
    if (tr->log == NULL)
        return;
    /* relaxed: a slot per op; in pct the order of the adds is the order of the ops */
    uint64_t at = rs_atomic_add_relaxed_u64(&tr->log_len, 1);
    if (at < tr->log_cap)
        tr->log[at] = ((uint64_t)(uint32_t)thread << 32) | (uint32_t)index;
}

/* 0: ran to the end of its ops or stopped by an op; the caller ends the thread */
void exec_run_ops(exec_thread *t)
{
    exec_trial *tr = t->tr;
    const prog_thread *pt = t->pt;
    for (uint32_t i = 0; i < pt->nops; i++) {
        RS_SCHED("exec.op");
        /* acquire: pairs with t0's release store in exec_shutdown_settle */
        if (t->idx != 0 && rs_atomic_load_acquire_u32(&tr->shutdown_pending)) {
            exec_drain(t, i);
            break;
        }
        if (t->attached && rs_poll(t->ts, NULL) < 0) {
            t->shut_out = true;
            t->attached = false;
            break;
        }
        const prog_op *op = &pt->ops[i];
        rs_atomic_store_relaxed_i64(&t->cur_op, i);
        exec_log(tr, t->idx, i);
        rs_atomic_add_relaxed_u64(&tr->ops_run, 1);
        const exec_op_entry *e = &exec_op_table[op->code];
        int r = e->fn(t, op, i);
        if (r == EXEC_OP_STOP)
            break;
        if (t->idx == 0 && tr->check_rate > 0 && t->attached && (i + 1) % EXEC_T0_STW_EVERY == 0)
            exec_stw_point(t, i);
    }
    rs_atomic_store_relaxed_i64(&t->cur_op, pt->nops);
    t->fail_count = 0; /* fail_alloc counts fallible steps of ops: not of the thread's end */
}

void exec_thread_main(void *arg)
{
    exec_thread *t = arg;
    exec_trial *tr = t->tr;
    exec_tls = t;
    rs_atomic_store_relaxed_uptr(&t->os_thread, (uintptr_t)pthread_self());
    sched_thread_begin(tr->s, t->idx);
    if (t->pt->start == PROG_START_SPAWN) {
        /* acquire: pairs with the spawner's release store (thread creation) */
        while (rs_atomic_load_acquire_u32(&t->spawned) == 0)
            rs_hook_wait((uint32_t *)&t->spawned, 0, -1);
        t->ts = t->spawn_ts;
    }
    if (t->ts) {
        if (t->pt->mode == PROG_MODE_EARLY)
            exec_ts_attach(t);
        if (!t->shut_out)
            exec_run_ops(t);
        if (t->ts)
            exec_thread_finish(t);
    }
    rs_atomic_store_relaxed_u32(&t->finished, 1);
    /* release: pairs with t0's acquire load in exec_shutdown_settle */
    rs_atomic_store_release_u32(&t->settle, EXEC_SETTLE_DONE);
    rs_hook_wake((uint32_t *)&t->settle, INT32_MAX);
    sched_thread_end(tr->s, t->idx);
    exec_tls = NULL;
}

/* t0's end: everything the program left behind is released, validated and shut down */
void exec_main_finish(exec_thread *t)
{
    exec_trial *tr = t->tr;
    if (tr->shutdown_done) {
        for (int i = 1; i < tr->nthreads; i++)
            sched_join_wait(tr->s, i);
        return;
    }
    if (t->attached)
        exec_ts_detach(t);
    for (int i = 1; i < tr->nthreads; i++)
        if (sched_join_wait(tr->s, i) < 0)
            exec_fail(tr, VERDICT_HANG, "deadlock", i, -1,
                      "pct: every thread blocked while t0 waited for t%d to end", i);
    exec_ts_attach(t); /* no one else can shut the runtime down */
    exec_thread_unwind(t);
    exec_release_all(t);
    for (int m = 0; m < PROG_NMAILBOXES; m++) {
        /* acq_rel: pairs with the exchanges of send/recv */
        rs_object *o = rs_atomic_exchange_acq_rel_ptr(&tr->mbox[m], NULL);
        if (o)
            rs_decref(o);
    }
    if (!exec_check_now(t, -1))
        rs_debug_set_validate(false); /* recorded; shutdown's collections would abort on it */
    tr->leaks = rs_runtime_fini();
    t->ts = NULL;
    t->attached = false;
}

