/* gc-alloc-failure.c — scenario "gc-alloc-failure": allocation failure during collections.
 * Threads build garbage cycles and live graphs and collect with faults armed at the GC's own
 * allocations (object-stack chunks for marking, delayed-free chunks, type-id growth, object
 * allocation), so collections take their error exits while other threads keep mutating and
 * checking the world.
 *
 * Property: a failed collection restores every tid, clears UNREACHABLE/ALIVE, restarts the
 * world and resets `collecting` (G1/G3/H1 at the next `stw` and the next collection's entry);
 * a later collection frees what the failed one left; no leak at shutdown.
 * Targets: oom-during-gc-leaves-scratch (Inv G1/G3/H1). */
#include "gen.h"

static const char *const sites[] = {"objstack.chunk", "objstack.chunk", "delayed.chunk",
                                    "typeid.*", "alloc.*"};

static program *scn_gen_gc_alloc_failure(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "gc-alloc-failure", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 10);
            if (c < 2) { /* garbage cycle */
                gen_op(&g, t, PROG_OP_NEW_CONTAINER, 0, 2);
                gen_op(&g, t, PROG_OP_NEW_CONTAINER, 1, 2);
                gen_op(&g, t, PROG_OP_STORE, 0, 0, 1);
                gen_op(&g, t, PROG_OP_STORE, 1, 0, 0);
                gen_op(&g, t, PROG_OP_DROP, 0);
                gen_op(&g, t, PROG_OP_DROP, 1);
            } else if (c < 5) {
                gen_mix(&g, t);
            } else if (c < 7) {
                const char *site = sites[gen_below(&g, t, sizeof sites / sizeof sites[0])];
                gen_op(&g, t, PROG_OP_FAIL_ALLOC_AT, 1 + (int)gen_below(&g, t, 3), site);
                gen_op(&g, t, PROG_OP_GC_COLLECT);
            } else if (c < 8) {
                gen_op(&g, t, PROG_OP_FAIL_ALLOC, 1);
                gen_op(&g, t, PROG_OP_GC_COLLECT);
            } else {
                gen_op(&g, t, PROG_OP_STW);
            }
        }
        gen_op(&g, t, PROG_OP_STW);
    }
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_alloc_failure = {
    .name = "gc-alloc-failure",
    .property = "collections whose allocations fail restore the heap (G1/G3/H1) and a later collection frees the garbage",
    SCENARIO_TARGETS({"oom-during-gc-leaves-scratch", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_alloc_failure,
};
