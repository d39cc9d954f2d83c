/* exec_ops.c — one handler per program op, in a table indexed by opcode (exec_op_table).
 *
 * A handler runs on its program thread, in the state the validator promised (ATT ops: the
 * thread is attached).  It returns EXEC_OP_NEXT, or EXEC_OP_STOP when the thread ends (exit,
 * shutdown, or the runtime shut it out).  Registers that are null at run time make an op a
 * no-op (docs/scn.md: a register's content depends on timing).
 *
 * Register model: a register holds one strong reference plus `extra` ones taken by incref;
 * a mailbox holds exactly one (send releases the extras first, then moves the reference).
 *
 * This file holds the table and the handlers of references, mailboxes, threads and the small
 * runtime mechanisms; the others live by subject in exec_ops_objects.c (creation, slots,
 * lists, roots, weakrefs), exec_ops_frames.c (frames, stack and C-stack references,
 * suppression scopes) and exec_ops_gc.c (collector, churn loops, deep chains).  Every op has
 * a handler; a row with a NULL handler would name the mechanism it needs, and exec_run would
 * refuse the program with "op X needs Y, not in this runtime yet" before anything runs. */
#include "exec_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rs/hooks.h"

#define OP_ARGS exec_thread *t, const prog_op *op, int64_t index
#define UNUSED_OP_ARGS ((void)t, (void)op, (void)index)

static rs_object *reg_obj(exec_thread *t, int r) { return t->reg[r].obj; }

/* ---- objects and references ---- */

static int op_new_leaf(OP_ARGS)
{
    (void)index;
    exec_reg_release(t, op->arg[0]);
    t->reg[op->arg[0]].obj = rs_leaf_new(); /* NULL when an allocation fault is injected */
    return EXEC_OP_NEXT;
}

static int op_incref(OP_ARGS)
{
    (void)index;
    rs_object *o = reg_obj(t, op->arg[0]);
    if (o) {
        rs_incref(o);
        t->reg[op->arg[0]].extra++;
    }
    return EXEC_OP_NEXT;
}

static int op_decref(OP_ARGS)
{
    (void)index;
    exec_reg *g = &t->reg[op->arg[0]];
    if (g->obj && g->extra > 0) {
        g->extra--;
        rs_decref(g->obj);
    }
    return EXEC_OP_NEXT;
}

static int op_dup(OP_ARGS)
{
    (void)index;
    rs_object *o = reg_obj(t, op->arg[1]);
    if (o == NULL)
        return EXEC_OP_NEXT;
    rs_incref(o);
    if (op->arg[0] == op->arg[1])
        t->reg[op->arg[0]].extra++; /* dup r1 r1: one more reference, owed by r1 */
    else
        exec_reg_set(t, op->arg[0], o);
    return EXEC_OP_NEXT;
}

static int op_drop(OP_ARGS)
{
    (void)index;
    exec_reg_release(t, op->arg[0]);
    return EXEC_OP_NEXT;
}

/* ---- mailboxes ---- */

static int op_send(OP_ARGS)
{
    (void)index;
    exec_reg *g = &t->reg[op->arg[1]];
    rs_object *o = g->obj;
    if (o == NULL)
        return EXEC_OP_NEXT;
    for (; g->extra > 0; g->extra--)
        rs_decref(o);
    g->obj = NULL;
    /* acq_rel: release publishes o to the receiver's exchange; acquire takes a displaced one */
    rs_object *old = rs_atomic_exchange_acq_rel_ptr(&t->tr->mbox[op->arg[0]], o);
    if (old)
        rs_decref(old);
    return EXEC_OP_NEXT;
}

static int op_recv(OP_ARGS)
{
    (void)index;
    /* acq_rel: pairs with the sender's exchange */
    rs_object *o = rs_atomic_exchange_acq_rel_ptr(&t->tr->mbox[op->arg[1]], NULL);
    if (o)
        exec_reg_set(t, op->arg[0], o);
    return EXEC_OP_NEXT;
}

/* ---- threads ---- */

static int op_spawn(OP_ARGS)
{
    (void)index;
    return exec_spawn(t, op->arg[0]);
}

static int op_join(OP_ARGS)
{
    (void)index;
    return exec_join(t, op->arg[0]);
}

static int op_bind(OP_ARGS)
{
    UNUSED_OP_ARGS;
    return exec_ts_attach(t) < 0 ? EXEC_OP_STOP : EXEC_OP_NEXT;
}

static int op_attach(OP_ARGS)
{
    UNUSED_OP_ARGS;
    return exec_ts_attach(t) < 0 ? EXEC_OP_STOP : EXEC_OP_NEXT;
}

static int op_detach(OP_ARGS)
{
    UNUSED_OP_ARGS;
    exec_ts_detach(t);
    return EXEC_OP_NEXT;
}

static int op_exit(OP_ARGS)
{
    UNUSED_OP_ARGS;
    return exec_thread_finish(t);
}

static char exec_async_token; /* the exception object: any non-NULL pointer */

static int op_async_exc(OP_ARGS)
{
    (void)index;
    uintptr_t tid = rs_atomic_load_relaxed_uptr(&t->tr->th[op->arg[0]].tid);
    if (tid)
        rs_async_exc_set(tid, &exec_async_token); /* -1: the target is gone, nothing to do */
    return EXEC_OP_NEXT;
}

static void merge_request_fn(rs_tstate *ts, void *arg)
{
    (void)arg;
    rs_eval_breaker_set(ts, RS_EB_EXPLICIT_MERGE);
}

static int op_merge_request(OP_ARGS)
{
    (void)index;
    uintptr_t tid = rs_atomic_load_relaxed_uptr(&t->tr->th[op->arg[0]].tid);
    rs_debug_with_tstate(tid, merge_request_fn, NULL);
    return EXEC_OP_NEXT;
}

static int op_poll(OP_ARGS)
{
    UNUSED_OP_ARGS;
    if (rs_poll(t->ts, NULL) < 0) {
        t->shut_out = true;
        t->attached = false;
        return EXEC_OP_STOP;
    }
    return EXEC_OP_NEXT;
}

/* ---- runtime mechanisms ---- */

static int op_qsbr(OP_ARGS)
{
    UNUSED_OP_ARGS;
    rs_qsbr_quiescent(t->ts);
    return EXEC_OP_NEXT;
}

static int op_reclaim(OP_ARGS)
{
    (void)op;
    int64_t goal = exec_retain_goal(t); /* before the reclaim: see retain.c */
    rs_mem_process_delayed(t->ts);
    exec_retain_check(t, index, goal);
    return EXEC_OP_NEXT;
}

static int op_fail_alloc(OP_ARGS)
{
    (void)index;
    t->fail_count = (uint32_t)op->arg[0];
    t->fail_site[0] = '\0';
    return EXEC_OP_NEXT;
}

static int op_fail_alloc_at(OP_ARGS)
{
    (void)index;
    t->fail_count = (uint32_t)op->arg[0];
    snprintf(t->fail_site, sizeof t->fail_site, "%s", op->str ? op->str : "");
    return EXEC_OP_NEXT;
}

static int op_shutdown(OP_ARGS)
{
    UNUSED_OP_ARGS;
    return exec_shutdown(t);
}

static int op_yield(OP_ARGS)
{
    UNUSED_OP_ARGS;
    RS_SCHED("exec.yield");
    return EXEC_OP_NEXT;
}

static int op_stw(OP_ARGS)
{
    (void)op;
    exec_stw_point(t, index);
    return EXEC_OP_NEXT;
}

static int op_spin(OP_ARGS)
{
    (void)t, (void)index;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int64_t until = (int64_t)op->arg[0] * 1000000;
    for (;;) {
        RS_SCHED("exec.spin");
        clock_gettime(CLOCK_MONOTONIC, &b);
        if ((int64_t)(b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec) >= until)
            break;
    }
    return EXEC_OP_NEXT;
}

/* ---- the table ---- */

#define H(id, fn) [PROG_OP_##id] = {fn, NULL}
#define N(id, mech) [PROG_OP_##id] = {NULL, mech}

const exec_op_entry exec_op_table[PROG_OP__COUNT] = {
    H(NEW_LEAF, op_new_leaf),
    H(NEW_CONTAINER, exec_op_new_container),
    H(NEW_LIST, exec_op_new_list),
    H(NEW_TYPE, exec_op_new_type),
    H(NEW_INSTANCE, exec_op_new_instance),
    H(NEW_CODE, exec_op_new_code),
    H(NEW_FUNCTION, exec_op_new_function),
    H(NEW_GENERATOR, exec_op_new_generator),
    H(NEW_FINALIZABLE, exec_op_new_finalizable),
    H(NEW_WEAKREF, exec_op_new_weakref),
    H(INCREF, op_incref),
    H(DECREF, op_decref),
    H(DUP, op_dup),
    H(DROP, op_drop),
    H(DEFER, exec_op_defer),
    H(STORE, exec_op_store),
    H(CLEAR_SLOT, exec_op_clear_slot),
    H(LOAD, exec_op_load),
    H(LIST_APPEND, exec_op_list_append),
    H(LIST_GET, exec_op_list_get),
    H(LIST_SET, exec_op_list_set),
    H(LIST_RESIZE, exec_op_list_resize),
    H(ROOT_SET, exec_op_root_set),
    H(ROOT_GET, exec_op_root_get),
    H(ROOT_CLEAR, exec_op_root_clear),
    H(LATE_ROOT_SET, exec_op_late_root_set),
    H(LATE_ROOT_CLEAR, exec_op_late_root_clear),
    H(WEAKREF_GET, exec_op_weakref_get),
    H(SEND, op_send),
    H(RECV, op_recv),
    H(FRAME_PUSH, exec_op_frame_push),
    H(FRAME_PUSH_FN, exec_op_frame_push_fn),
    H(FRAME_POP, exec_op_frame_pop),
    H(LOCAL_STORE, exec_op_local_store),
    H(STACK_PUSH, exec_op_stack_push),
    H(STACK_POP, exec_op_stack_pop),
    H(CREF_PUSH, exec_op_cref_push),
    H(CREF_POP, exec_op_cref_pop),
    H(GC_COLLECT, exec_op_gc_collect),
    H(GC_ENABLE, exec_op_gc_enable),
    H(GC_DISABLE, exec_op_gc_disable),
    H(GC_THRESHOLD, exec_op_gc_threshold),
    H(SPAWN, op_spawn),
    H(JOIN, op_join),
    H(BIND, op_bind),
    H(DETACH, op_detach),
    H(ATTACH, op_attach),
    H(EXIT, op_exit),
    H(ASYNC_EXC, op_async_exc),
    H(MERGE_REQUEST, op_merge_request),
    H(POLL, op_poll),
    H(SUPPRESS, exec_op_suppress),
    H(UNSUPPRESS, exec_op_unsuppress),
    H(QSBR, op_qsbr),
    H(RECLAIM, op_reclaim),
    H(CHURN_FREELIST, exec_op_churn_freelist),
    H(CHURN_TYPE, exec_op_churn_type),
    H(DEEP_CHAIN, exec_op_deep_chain),
    H(FAIL_ALLOC, op_fail_alloc),
    H(FAIL_ALLOC_AT, op_fail_alloc_at),
    H(SHUTDOWN, op_shutdown),
    H(YIELD, op_yield),
    H(STW, op_stw),
    H(SPIN, op_spin),
};
