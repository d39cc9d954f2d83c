/* exec_ops_gc.c — the op handlers of the garbage collector (collect, enable, disable,
 * thresholds) and of the allocation loops: freelist churn, heap-type instance churn and deep
 * container chains.
 *
 * A collection may also start without a gc_collect op: allocations schedule one (GC_SCHEDULED)
 * and the thread that next polls runs it — at the executor's poll between ops, or at a `poll`
 * op.  The loops below do not poll: each runs to its end attached (a stop-the-world requested
 * meanwhile waits for it, as for a long C call), and their length is bounded by the op's range.
 *
 * Churn loops allocate in batches of EXEC_CHURN_BATCH (more than any freelist's maximum,
 * freelist.h) and then free the batch, so freelists are filled past their maxima and drained
 * again; an allocation that fails (fault hook) is skipped. */
#include "exec_internal.h"


#define EXEC_CHURN_BATCH 128

int exec_op_gc_collect(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    (void)rs_gc_collect(t->ts, RS_GC_MANUAL); /* 0 if disabled or another one runs; -1 OOM */
    return EXEC_OP_NEXT;
}

int exec_op_gc_enable(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    uint64_t begun = exec_oracles_gc_toggle_begin(t->tr);
    exec_oracles_gc_enabling(t->tr, begun);
    (void)rs_gc_enable();
    exec_oracles_gc_toggle_end(t->tr);
    return EXEC_OP_NEXT;
}

int exec_op_gc_disable(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    uint64_t begun = exec_oracles_gc_toggle_begin(t->tr);
    (void)rs_gc_disable();
    exec_oracles_gc_disabled(t->tr, begun);
    exec_oracles_gc_toggle_end(t->tr);
    return EXEC_OP_NEXT;
}

int exec_op_gc_threshold(EXEC_OP_ARGS)
{
    (void)t, (void)index;
    rs_gc_set_threshold(op->arg[0], op->arg[1], op->arg[2]);
    return EXEC_OP_NEXT;
}

static rs_object *churn_new(int kind, uint32_t i)
{
    switch (kind) {
    case PROG_FLKIND_LEAF:
        return rs_leaf_new();
    case PROG_FLKIND_CONTAINER: /* sizes 1..4: the sizes with freelists */
        return rs_container_new(1 + i % RS_FREELIST_CONTAINER_MAX_SLOTS);
    default:
        return rs_list_new();
    }
}

static void drop_batch(rs_object **b, int n)
{
    for (int i = 0; i < n; i++)
        rs_decref(b[i]);
}

/* count allocations of make(i, arg), freed a batch at a time; failed ones are skipped */
static void churn(uint32_t count, rs_object *(*make)(uint32_t i, void *arg), void *arg)
{
    rs_object *batch[EXEC_CHURN_BATCH];
    int n = 0;
    for (uint32_t i = 0; i < count; i++) {
        rs_object *o = make(i, arg);
        if (o)
            batch[n++] = o;
        if (n == EXEC_CHURN_BATCH) {
            drop_batch(batch, n);
            n = 0;
        }
    }
    drop_batch(batch, n);
}

static rs_object *make_freelist_kind(uint32_t i, void *arg)
{
    return churn_new(*(const int32_t *)arg, i);
}

static rs_object *make_instance(uint32_t i, void *arg)
{
    return rs_container_new_typed(arg, i % 3); /* slotless, 1 or 2 slots */
}

int exec_op_churn_freelist(EXEC_OP_ARGS)
{
    (void)t, (void)index;
    int32_t kind = op->arg[0];
    churn((uint32_t)op->arg[1], make_freelist_kind, &kind);
    return EXEC_OP_NEXT;
}

int exec_op_churn_type(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *ty = t->reg[op->arg[0]].obj;
    if (ty == NULL || !rs_type_is_heap(ty))
        return EXEC_OP_NEXT;
    churn((uint32_t)op->arg[1], make_instance, ty);
    return EXEC_OP_NEXT;
}

/* r<dst> = c_depth, where c_k's slot 0 holds c_{k-1} (c_1's is empty).  An allocation failure
 * ends the chain early. */
int exec_op_deep_chain(EXEC_OP_ARGS)
{
    (void)index;
    int32_t depth = op->arg[1] < EXEC_DEEP_CHAIN_MAX ? op->arg[1] : EXEC_DEEP_CHAIN_MAX;
    rs_object *head = NULL;
    for (int32_t i = 0; i < depth; i++) {
        rs_object *c = rs_container_new(1);
        if (c == NULL)
            break;
        if (head)
            rs_container_set(c, 0, head); /* steals head's reference */
        head = c;
    }
    exec_reg_set(t, op->arg[0], head);
    return EXEC_OP_NEXT;
}
