/* gc-schedule.c — scenario "gc-schedule": automatic collection scheduling under a large live
 * heap.  t0 builds a live heap several times the threshold (lists of containers held by
 * roots) with a low first threshold; then every thread allocates and frees GC objects in
 * bursts (crossing the 512 flush boundary), polls to run scheduled collections, and some
 * threads toggle gc_disable/gc_enable and change the thresholds while the others allocate.
 *
 * Property: HEAP collections are bounded by allocations / max(t0, live/4) + 1 (Ctr), the
 * young count equals the sum of flushed counts at STW #1 (G7), enabled/count are read
 * atomically (TSan), and no HEAP collection starts after a disable that happened before it
 * until the next enable (Exp).
 * Targets: gc-schedule-unscaled (Ctr, Hang), gc-alloc-count-racy (TSan, Inv G7),
 * gc-enabled-racy (TSan), gc-ignores-enabled (Exp). */
#include "gen.h"

program *scn_gen_gc_schedule(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "gc-schedule", seed, sp, 4) < 0)
        return NULL;
    g.p->opt.gc_threshold[0] = 200 + gen_plan_below(&g, 800);
    g.p->opt.gc_threshold[1] = 10;
    g.p->opt.gc_threshold[2] = 0;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    /* the live heap: NROOTS lists, each holding a long container chain (several times t0
     * objects in all) and a few references to one more container */
    for (int k = 0; k < PROG_NROOTS; k++) {
        gen_op(&g, 0, PROG_OP_NEW_LIST, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k, 0);
        gen_op(&g, 0, PROG_OP_NEW_CONTAINER, 1, 1);
        for (int i = (int)gen_below(&g, 0, 4); i >= 0; i--)
            gen_op(&g, 0, PROG_OP_LIST_APPEND, 0, 1);
        gen_op(&g, 0, PROG_OP_DEEP_CHAIN, 2, 500 + (int)gen_below(&g, 0, 1500));
        gen_op(&g, 0, PROG_OP_LIST_APPEND, 0, 2);
    }
    for (int r = 0; r < 3; r++)
        gen_op(&g, 0, PROG_OP_DROP, r);
    int togglers = n > 2 ? 1 + (int)gen_plan_below(&g, 2) : 1;
    for (int t = 0; t < n; t++) {
        bool toggler = t < togglers;
        bool disabled = false;
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 10);
            if (toggler && c < 2) {
                gen_op(&g, t, disabled ? PROG_OP_GC_ENABLE : PROG_OP_GC_DISABLE);
                disabled = !disabled;
            } else if (toggler && c < 3) {
                gen_op(&g, t, PROG_OP_GC_THRESHOLD, 200 + (int)gen_below(&g, t, 2000),
                       gen_chance(&g, t, 800) ? 10 : 0, 0);
            } else if (c < 7) {
                gen_op(&g, t, PROG_OP_CHURN_FREELIST, PROG_FLKIND_CONTAINER, 256 + (int)gen_below(&g, t, 1024));
            } else if (c < 9) {
                gen_op(&g, t, PROG_OP_POLL);
            } else {
                gen_op(&g, t, PROG_OP_STW);
            }
        }
        if (disabled)
            gen_op(&g, t, PROG_OP_GC_ENABLE);
        gen_op(&g, t, PROG_OP_POLL);
    }
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}
