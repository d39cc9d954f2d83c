/* gc-threshold-race.c — scenario "gc-threshold-race": the collection thresholds changed by
 * one or two setter threads while every other thread allocates and, at each positive flush of
 * its allocation count, evaluates the collection trigger (rs_gc_should_collect reads t0 and,
 * under a large live heap, t1).  Parity with CPython's
 * Lib/test/test_free_threading/test_gc.py, TestGC.test_set_threshold (gh-148613: a setter
 * racing the allocators' trigger).
 *
 * t0 builds a live heap of some 11,000 objects (container chains held by rooted lists), so
 * that long_lived_total / 4 keeps collections a few dozen flushes apart: every stop-the-world
 * orders all threads, and the race needs flushes between two of them.  Allocators build chains
 * past the 512 flush boundary and drop or keep them, build small self-cycles the collector
 * frees, and poll; they pause the world rarely (the validators, G7 among them, run there).
 * The setters only change the thresholds (t0 in 150..2150, t1 in 1..20, never 0, t2 in
 * 0..20) and pace themselves with freelist churn of leaves, which touches nothing shared: no
 * order but a collection's pause links a setter's store to an allocator's load.
 *
 * Property: the thresholds are read and written atomically (TSan: a plain store in
 * set_threshold or a plain load in the trigger is a data race with the other side), young.count
 * equals the flushed counts at STW #1 (G7), and HEAP collections scale with the live heap
 * whatever thresholds are set (executor oracle Ctr gc-schedule: t1 is never 0).
 * Targets: gc-threshold-racy (TSan), gc-alloc-count-racy (TSan, Inv G7). */
#include "gen.h"

static void setter_step(gen *g, int t)
{
    if (gen_below(g, t, 3) < 2)
        gen_op(g, t, PROG_OP_GC_THRESHOLD, 150 + (int)gen_below(g, t, 2000),
               1 + (int)gen_below(g, t, 20), (int)gen_below(g, t, 21));
    else
        gen_op(g, t, PROG_OP_CHURN_FREELIST, PROG_FLKIND_LEAF, 64 + (int)gen_below(g, t, 512));
}

static void allocator_step(gen *g, int t)
{
    uint32_t c = gen_below(g, t, 20);
    if (c < 8) { /* a burst past the flush boundary: the flush evaluates the trigger */
        gen_op(g, t, PROG_OP_DEEP_CHAIN, 3, 520 + (int)gen_below(g, t, 300));
        if (gen_chance(g, t, 150)) /* the live heap grows */
            gen_keep_in_rooted_list(g, t, 3, 4);
        gen_op(g, t, PROG_OP_DROP, 3);
    } else if (c < 12) { /* a self-cycle only the collector frees (the CPython test's garbage) */
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 5, 1);
        gen_op(g, t, PROG_OP_STORE, 5, 0, 5);
        gen_op(g, t, PROG_OP_DROP, 5);
    } else if (c < 15) {
        gen_op(g, t, PROG_OP_CHURN_FREELIST, PROG_FLKIND_CONTAINER, 64 + (int)gen_below(g, t, 256));
    } else if (c < 19) {
        gen_op(g, t, PROG_OP_POLL);
    } else {
        gen_op(g, t, PROG_OP_STW);
    }
}

static program *scn_gen_gc_threshold_race(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_gc_sched_init(&g, "gc-threshold-race", seed, sp) < 0)
        return NULL;
    int n = (int)g.p->nthreads;
    /* the live heap: NROOTS lists, each holding a container chain of 1,000..1,800 */
    for (int k = 0; k < PROG_NROOTS; k++) {
        gen_op(&g, 0, PROG_OP_NEW_LIST, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k, 0);
        gen_op(&g, 0, PROG_OP_DEEP_CHAIN, 2, 1000 + (int)gen_below(&g, 0, 800));
        gen_op(&g, 0, PROG_OP_LIST_APPEND, 0, 2);
    }
    gen_op(&g, 0, PROG_OP_DROP, 0);
    gen_op(&g, 0, PROG_OP_DROP, 2);
    int setters = n > 3 ? 2 : 1; /* the last threads; t0 is never one (it allocates first) */
    for (int t = 0; t < n; t++) {
        bool setter = t >= n - setters && t > 0;
        while (gen_room(&g, t)) {
            if (setter)
                setter_step(&g, t);
            else
                allocator_step(&g, t);
        }
        gen_op(&g, t, PROG_OP_POLL);
    }
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_threshold_race = {
    .name = "gc-threshold-race",
    .property = "thresholds set while allocators evaluate the trigger: read and written atomically (TSan), counts exact (G7), collections scaled (Ctr)",
    SCENARIO_TARGETS({"gc-threshold-racy", SCN_TSAN}, {"gc-alloc-count-racy", SCN_TSAN | SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_threshold_race,
};
