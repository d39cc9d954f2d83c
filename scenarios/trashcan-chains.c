/* trashcan-chains.c — scenario "trashcan-chains": deep chains destroyed through the
 * trashcan.  Threads build container chains much deeper than the trash depth (a small value
 * picked per seed), sometimes with a resurrecting finalizable hung on the head, and drop them
 * themselves or send them to another thread to drop (so the destruction starts from a merge);
 * collections run meanwhile.
 *
 * Property: a deposited object is dead and untracked and leaves the chain with tid 0 and
 * shared MERGED, so a racing reader fails try_incref and H1 holds at every `stw`; each chain
 * is freed exactly once; no leak.
 * Targets: tid-zero-unmerged (Inv H1). */
#include "gen.h"

static program *scn_gen_trashcan_chains(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "trashcan-chains", seed, sp, 1) < 0)
        return NULL;
    g.p->opt.trash_depth = 2 + gen_plan_below(&g, 30);
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            switch (gen_below(&g, t, 6)) {
            case 0:
            case 1:
                gen_op(&g, t, PROG_OP_DEEP_CHAIN, 0, 20 + (int)gen_below(&g, t, 400));
                if (gen_chance(&g, t, 300)) {
                    gen_op(&g, t, PROG_OP_NEW_FINALIZABLE, 1, 0,
                           gen_chance(&g, t, 500) ? PROG_FIN_DEALLOC_RESURRECT : PROG_FIN_RESURRECT);
                    gen_op(&g, t, PROG_OP_STORE, 0, 1, 1);
                    gen_op(&g, t, PROG_OP_DROP, 1);
                }
                if (gen_chance(&g, t, 500))
                    gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 0);
                else
                    gen_op(&g, t, PROG_OP_DROP, 0);
                break;
            case 2:
                gen_op(&g, t, PROG_OP_RECV, 2, (int)gen_below(&g, t, PROG_NMAILBOXES));
                gen_op(&g, t, PROG_OP_LOAD, 3, 2, 0);
                gen_op(&g, t, PROG_OP_DROP, 2);
                gen_op(&g, t, PROG_OP_DROP, 3);
                break;
            case 3:
                gen_op(&g, t, PROG_OP_ROOT_GET, 4, (int)gen_below(&g, t, PROG_NROOTS));
                gen_op(&g, t, PROG_OP_ROOT_CLEAR, (int)gen_below(&g, t, PROG_NROOTS));
                gen_op(&g, t, PROG_OP_DROP, 4);
                break;
            case 4: gen_op(&g, t, gen_chance(&g, t, 300) ? PROG_OP_GC_COLLECT : PROG_OP_POLL); break;
            default: gen_op(&g, t, PROG_OP_STW); break;
            }
        }
        gen_op(&g, t, PROG_OP_POLL);
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_trashcan_chains = {
    .name = "trashcan-chains",
    .property = "chains deeper than the trash depth are destroyed once, leaving the trashcan with tid 0 and MERGED (H1)",
    SCENARIO_TARGETS({"tid-zero-unmerged", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_trashcan_chains,
};
