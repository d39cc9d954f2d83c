/* gc-merge-zero.c — scenario "gc-merge-zero": objects reach zero through the merge queue while
 * the GC runs.  Owners create containers that hold only leaves (the GC may untrack such a
 * container while it is referenced) and give their only reference away; receivers drop it
 * on the shared path, which queues it to the owner.  Owners seldom poll, so the collection's
 * queue drain is what merges most of them to zero — leaving tracked zero-count garbage that
 * only the collector may free.
 *
 * Property: a tracked object merged to zero by the drain is freed by that collection (never
 * untracked at zero): block count back to baseline after two idle collections, shutdown
 * leaks nothing, RT holds at every `stw`.
 * Targets: gc-untracks-zero-refcount (Leak, Exp), reftotal-queue-unaccounted (RT, Leak). */
#include "gen.h"

static program *scn_gen_gc_merge_zero(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "gc-merge-zero", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        while (gen_room(&g, t)) {
            switch (gen_below(&g, t, 8)) {
            case 0: case 1: case 2: /* own a leaf-only container, give it away */
                gen_op(&g, t, PROG_OP_NEW_CONTAINER, 0, 1 + (int)gen_below(&g, t, 3));
                gen_op(&g, t, PROG_OP_NEW_LEAF, 1);
                gen_op(&g, t, PROG_OP_STORE, 0, 0, 1);
                gen_op(&g, t, PROG_OP_DROP, 1);
                gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 0);
                break;
            case 3: case 4: /* drop someone else's (shared path, queued to the owner) */
                gen_op(&g, t, PROG_OP_RECV, 2, (int)gen_below(&g, t, PROG_NMAILBOXES));
                gen_op(&g, t, PROG_OP_LOAD, 3, 2, 0);
                gen_op(&g, t, PROG_OP_DROP, 2);
                gen_op(&g, t, PROG_OP_DROP, 3);
                break;
            case 5: gen_op(&g, t, PROG_OP_GC_COLLECT); break;
            case 6: gen_op(&g, t, PROG_OP_STW); break;
            default:
                if (gen_chance(&g, t, 300))
                    gen_op(&g, t, PROG_OP_POLL);
                else
                    gen_op(&g, t, PROG_OP_YIELD);
                break;
            }
        }
        gen_op(&g, t, PROG_OP_STW);
    }
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_merge_zero = {
    .name = "gc-merge-zero",
    .property = "tracked objects merged to zero by the collection's queue drain are freed by it, never untracked (no leak, RT)",
    SCENARIO_TARGETS({"gc-untracks-zero-refcount", SCN_LEAK | SCN_EXP}, {"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_merge_zero,
};
