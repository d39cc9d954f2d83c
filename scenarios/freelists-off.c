/* freelists-off.c — scenario "freelists-off": the same churn as freelist-churn with the
 * `freelists` option off (every maximum 0), plus exits: destructors after a thread's final
 * clear and every push with the option off must free the block rather than cache it.
 *
 * Property: with the option off every freelist size is 0 (F2 at every `stw`); blocks are
 * freed, not cached, so shutdown leaks nothing.
 * Targets: freelist-disabled-caches (Inv F2, Leak, Exp). */
#include "gen.h"

static program *scn_gen_freelists_off(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "freelists-off", seed, sp, 1) < 0)
        return NULL;
    g.p->opt.freelists = false;
    gen_add_workers(&g, PROG_MODE_MAIN, 400);
    gen_spawn_pending(&g, 0, -1);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 8);
            if (c < 3)
                gen_op(&g, t, PROG_OP_CHURN_FREELIST, (int)gen_below(&g, t, 3), 1 + (int)gen_below(&g, t, 200));
            else if (c < 6)
                gen_mix(&g, t);
            else
                gen_op(&g, t, PROG_OP_STW);
        }
        /* registers still hold objects: they die in the exit path, after the final clear */
        if (t > 0)
            gen_op(&g, t, PROG_OP_EXIT);
    }
    gen_join_spawned(&g, 0);
    gen_ensure_attached(&g, 0);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_freelists_off = {
    .name = "freelists-off",
    .property = "with the freelists option off every freelist stays empty (F2 sizes 0) and freed blocks are really freed",
    SCENARIO_TARGETS({"freelist-disabled-caches", SCN_INV | SCN_LEAK | SCN_EXP}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_freelists_off,
};
