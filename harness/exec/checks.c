/* checks.c — the executor's checks: validators at stop-the-world points and at the end, and
 * leak accounting after shutdown.
 *
 * Stop-the-world points are the `stw` op (any thread) and, when the program's check_rate is
 * non-zero, one by t0 after every EXEC_T0_STW_EVERY-th of its ops.  The points are counted
 * over the whole trial; the runtime's validators (rs_check_world, under the pause) run at
 * every check_rate-th one.  With check_rate 0 they run only at the end.  The end check runs
 * just before rs_runtime_fini (on t0: after every thread ended, or at a `shutdown` op with
 * the others stopped by the pause).
 *
 * Leak accounting: rs_runtime_fini returns {reftotal, blocks}.  Both must be zero.  A
 * `shutdown` op first drains every other thread's registers and the mailboxes
 * (exec_ops_shutdown.c), so normally nothing is orphaned; should a shut-out thread still hold
 * registers, they are counted (references, and one block per distinct object — exact only for
 * objects that hold no references) and subtracted; any difference is VERDICT_LEAK. */
#include "exec_internal.h"

#include <stdlib.h>


static void report_violation(exec_thread *t, int64_t index, const rs_violation *v)
{
    if (v->obj) /* the object it is about, when it names one (never "(nil)") */
        exec_fail(t->tr, VERDICT_INVARIANT, v->invariant, t->idx, index, "%s at %p: %s",
                  v->invariant, v->obj, v->msg);
    else
        exec_fail(t->tr, VERDICT_INVARIANT, v->invariant, t->idx, index, "%s: %s", v->invariant,
                  v->msg);
}

void exec_stw_point(exec_thread *t, int64_t index)
{
    exec_trial *tr = t->tr;
    rs_stop_the_world(t->ts);
    exec_retain_epoch(t);
    uint64_t n = rs_atomic_add_relaxed_u64(&tr->stw_points, 1) + 1;
    if (tr->check_rate > 0 && n % tr->check_rate == 0) {
        rs_violation v;
        if (!rs_check_world(&v))
            report_violation(t, index, &v);
    }
    rs_start_the_world(t->ts);
}

bool exec_check_now(exec_thread *t, int64_t index)
{
    exec_oracles_final(t, index);
    rs_violation v;
    if (rs_check_runtime(t->ts, &v))
        return true;
    report_violation(t, index, &v);
    return false;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return x < y ? -1 : x > y;
}

void exec_check_leaks(exec_trial *tr, exec_result *res)
{
    void *objs[PROG_MAX_THREADS * PROG_NREGS + PROG_NMAILBOXES];
    size_t n = 0;
    int64_t refs = 0;
    for (int i = 0; i < tr->nthreads; i++) {
        exec_thread *t = &tr->th[i];
        if (!t->shut_out)
            continue;
        for (int r = 0; r < PROG_NREGS; r++)
            if (t->reg[r].obj) {
                objs[n++] = t->reg[r].obj;
                refs += 1 + (int64_t)t->reg[r].extra;
                t->reg[r].obj = NULL; /* dangling now: the runtime's pages are gone */
            }
    }
    for (int m = 0; m < PROG_NMAILBOXES; m++) {
        void *o = rs_atomic_exchange_relaxed_ptr(&tr->mbox[m], NULL);
        if (o) {
            objs[n++] = o;
            refs += 1;
        }
    }
    qsort(objs, n, sizeof *objs, cmp_ptr);
    int64_t distinct = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || objs[i] != objs[i - 1])
            distinct++;
    res->leaked_reftotal = (int64_t)tr->leaks.reftotal - refs;
    res->leaked_blocks = tr->leaks.blocks - distinct;
    if ((res->leaked_reftotal != 0 || res->leaked_blocks != 0) && tr->leaks.late_cycle_objects > 0)
        exec_fail(tr, VERDICT_ERROR, "contract", -1, -1,
                  "the program left a reference cycle in a late root (%ld objects on or below "
                  "it at shutdown step 7, which frees late roots by refcounting alone): its "
                  "leak (reftotal %ld, blocks %ld) is the program's, not the runtime's",
                  (long)tr->leaks.late_cycle_objects, (long)tr->leaks.reftotal,
                  (long)tr->leaks.blocks);
    else if ((res->leaked_reftotal != 0 || res->leaked_blocks != 0) && tr->leaks.late_resurrections > 0)
        exec_fail(tr, VERDICT_ERROR, "contract", -1, -1,
                  "an object the late roots held resurrected itself into %d root slot(s) after "
                  "shutdown step 7, which no collection follows: its leak (reftotal %ld, blocks "
                  "%ld) is the program's, not the runtime's",
                  tr->leaks.late_resurrections, (long)tr->leaks.reftotal, (long)tr->leaks.blocks);
    else if (res->leaked_reftotal != 0 || res->leaked_blocks != 0)
        exec_fail(tr, VERDICT_LEAK, "leak", -1, -1,
                  "after shutdown: reftotal %ld, blocks %ld (orphaned by shut-out threads and "
                  "mailboxes: %ld references, %ld objects)",
                  (long)tr->leaks.reftotal, (long)tr->leaks.blocks, (long)refs, (long)distinct);
}

void exec_check_lock_order(exec_trial *tr)
{
    char cycle[256], edges[512];
    if (!rs_debug_lock_order(cycle, sizeof cycle))
        return;
    rs_debug_lock_order_edges(edges, sizeof edges);
    exec_fail(tr, VERDICT_INVARIANT, "LO", -1, -1, "%s (order graph: %s)", cycle, edges);
}
