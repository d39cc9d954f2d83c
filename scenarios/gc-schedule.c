/* gc-schedule.c — scenario "gc-schedule": automatic collection scheduling under a large live
 * heap.  t0 builds a live heap many times the threshold (long container chains held by
 * roots: long_lived_total / 4 is several thousand) with a first threshold of a few hundred;
 * then every thread allocates in bursts that cross the 512 flush boundary (chains built and
 * dropped, or kept in the rooted lists so the live heap and young.count grow; freelist churn), polls to run scheduled collections and pauses the world, while
 * one or two togglers hold the GC disabled for stretches of their ops and change t0 (t1 stays
 * 10: scaling on, which the Ctr oracle needs).
 *
 * Property: Σ over HEAP collections of (long_lived_total / 4 + 1) ≤ the allocations counted
 * (executor oracle Ctr gc-schedule), the young count equals the sum of flushed counts at
 * STW #1 (G7), enabled/count are read atomically (TSan), and no HEAP collection starts after
 * a disable that happened before it until the next enable (executor oracle Exp gc-disabled).
 * Targets: gc-schedule-unscaled (Ctr, Hang), gc-alloc-count-racy (TSan, Inv G7),
 * gc-enabled-racy (TSan), gc-ignores-enabled (Exp). */
#include "gen.h"

static program *scn_gen_gc_schedule(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_gc_sched_init(&g, "gc-schedule", seed, sp) < 0)
        return NULL;
    int n = (int)g.p->nthreads;
    /* the live heap: NROOTS lists, each holding a long container chain (about 24,000 objects
     * in all) and a few references to one more container */
    for (int k = 0; k < PROG_NROOTS; k++) {
        gen_op(&g, 0, PROG_OP_NEW_LIST, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k, 0);
        gen_op(&g, 0, PROG_OP_NEW_CONTAINER, 1, 1);
        for (int i = (int)gen_below(&g, 0, 4); i >= 0; i--)
            gen_op(&g, 0, PROG_OP_LIST_APPEND, 0, 1);
        gen_op(&g, 0, PROG_OP_DEEP_CHAIN, 2, 2000 + (int)gen_below(&g, 0, 2000));
        gen_op(&g, 0, PROG_OP_LIST_APPEND, 0, 2);
    }
    for (int r = 0; r < 3; r++)
        gen_op(&g, 0, PROG_OP_DROP, r);
    /* t0's growth phase: chains longer than t0 + 512 kept in the rooted lists, one poll after
     * each (the poll before every op), so a trigger that ignores the live set collects once
     * per chain while the scaled one waits for long_lived_total / 4 new objects */
    for (int i = 0; i < 16 + (int)gen_below(&g, 0, 8); i++) {
        gen_op(&g, 0, PROG_OP_DEEP_CHAIN, 3, 1600 + (int)gen_below(&g, 0, 400));
        gen_keep_in_rooted_list(&g, 0, 3, 4);
        gen_op(&g, 0, PROG_OP_DROP, 3);
    }
    int togglers = n > 2 ? 1 + (int)gen_plan_below(&g, 2) : 1;
    for (int t = 0; t < n; t++) {
        bool toggler = t >= n - togglers; /* t0 only when it is alone */
        /* mostly enabled: t0's growth phase must get its collections */
        gen_toggler tg = {.off_span = 4, .on_min = 3, .on_span = 8};
        while (gen_room(&g, t)) {
            if (toggler && gen_toggle_step(&g, t, &tg))
                continue;
            uint32_t c = gen_below(&g, t, 10);
            if (toggler && c < 1) {
                gen_op(&g, t, PROG_OP_GC_THRESHOLD, 200 + (int)gen_below(&g, t, 2000), 10, 0);
            } else if (c < 3) { /* a burst that flushes: build a chain, keep it or free it */
                gen_op(&g, t, PROG_OP_DEEP_CHAIN, 3, 300 + (int)gen_below(&g, t, 700));
                if (gen_chance(&g, t, 500)) { /* the live heap grows: young.count builds up */
                    gen_keep_in_rooted_list(&g, t, 3, 4);
                }
                gen_op(&g, t, PROG_OP_DROP, 3);
            } else if (c < 6) {
                gen_op(&g, t, PROG_OP_CHURN_FREELIST, PROG_FLKIND_CONTAINER, 256 + (int)gen_below(&g, t, 1024));
            } else if (c < 8) {
                gen_op(&g, t, PROG_OP_POLL);
            } else if (c < 9) {
                gen_op(&g, t, PROG_OP_YIELD);
            } else {
                gen_op(&g, t, PROG_OP_STW);
            }
        }
        gen_toggle_end(&g, t, &tg);
        gen_op(&g, t, PROG_OP_POLL);
    }
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_schedule = {
    .name = "gc-schedule",
    .property = "HEAP collections scale with the live heap (Ctr), counts are exact (G7) and none runs after a disable (Exp)",
    SCENARIO_TARGETS({"gc-schedule-unscaled", SCN_CTR | SCN_HANG}, {"gc-alloc-count-racy", SCN_TSAN | SCN_INV}, {"gc-enabled-racy", SCN_TSAN}, {"gc-ignores-enabled", SCN_EXP}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_schedule,
};
