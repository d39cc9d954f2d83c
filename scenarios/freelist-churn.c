/* freelist-churn.c — scenario "freelist-churn": per-thread freelists (option on) filled and
 * drained across thread exits.  Threads churn leaves, containers and lists in bursts larger
 * than the freelist maxima, keep some objects alive and free them later (filling the lists
 * from destructors), collect (STW #2 clears every thread's lists) and exit with full lists;
 * spawned threads replace exited ones.
 *
 * Property: a freelist's size is its chain length, -1 only when empty (F2), and lists change
 * only by their thread or under STW (F1); a thread's cached blocks are freed at its exit, so
 * shutdown leaks nothing.
 * Targets: freelist-not-cleared-at-exit (Leak, Inv F2). */
#include "gen.h"

static program *scn_gen_freelist_churn(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "freelist-churn", seed, sp, 2) < 0)
        return NULL;
    g.p->opt.freelists = true;
    gen_add_workers(&g, PROG_MODE_MAIN, 500);
    gen_spawn_pending(&g, 0, -1);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 8);
            if (c < 3)
                gen_op(&g, t, PROG_OP_CHURN_FREELIST, (int)gen_below(&g, t, 3), 1 + (int)gen_below(&g, t, 300));
            else if (c < 6)
                gen_mix(&g, t);
            else if (c < 7)
                gen_op(&g, t, PROG_OP_GC_COLLECT);
            else
                gen_op(&g, t, PROG_OP_STW);
        }
        if (t > 0) {
            gen_op(&g, t, PROG_OP_CHURN_FREELIST, (int)gen_below(&g, t, 3), 100);
            gen_op(&g, t, PROG_OP_EXIT);
        }
    }
    gen_join_spawned(&g, 0);
    gen_ensure_attached(&g, 0);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_freelist_churn = {
    .name = "freelist-churn",
    .property = "freelists filled past their maxima and left full at thread exit stay consistent (F1, F2) and are freed at exit",
    SCENARIO_TARGETS({"freelist-not-cleared-at-exit", SCN_LEAK | SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_freelist_churn,
};
