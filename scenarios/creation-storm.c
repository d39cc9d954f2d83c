/* creation-storm.c — scenario "creation-storm": every thread creates objects of every kind as
 * fast as it can, links them into graphs, hands some to other threads through mailboxes and
 * roots, and drops them; a third of the workers are spawned late and some exit halfway.
 *
 * Property: every reference taken is counted once on the thread that took it, and every
 * thread's total is folded when it exits: RT holds at each `stw` check point and the runtime
 * shuts down with reference total 0 and no live blocks.
 * Targets (model.md §13): reftotal-racy (TSan, RT), reftotal-not-merged-at-exit (RT, Leak). */
#include "gen.h"

static program *scn_gen_creation_storm(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "creation-storm", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 330);
    gen_spawn_pending(&g, 0, -1);
    for (uint32_t t = 0; t < g.p->nthreads; t++) {
        int ti = (int)t;
        gen_start(&g, ti);
        /* a worker may end early (its registers are released, its totals folded) */
        bool early_exit = ti > 0 && gen_chance(&g, ti, 250);
        while (gen_room(&g, ti)) {
            if (gen_chance(&g, ti, 600)) {
                gen_new_any(&g, ti, (int)gen_below(&g, ti, GEN_MIX_REGS));
                if (gen_chance(&g, ti, 100))
                    gen_op(&g, ti, PROG_OP_NEW_TYPE, 12);
                if (gen_chance(&g, ti, 100))
                    gen_op(&g, ti, PROG_OP_NEW_INSTANCE, 13, 12, (int)gen_below(&g, ti, 3));
            } else {
                gen_mix(&g, ti);
            }
            if (gen_chance(&g, ti, 60))
                gen_checkpoint(&g, ti);
            if (early_exit && g.p->thread[t].nops * 2 >= (uint32_t)g.sp.ops_per_thread)
                break;
        }
        if (ti > 0 && early_exit)
            gen_op(&g, ti, PROG_OP_EXIT);
    }
    gen_join_spawned(&g, 0);
    gen_ensure_attached(&g, 0);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_creation_storm = {
    .name = "creation-storm",
    .property = "every thread creates, shares and drops objects of every kind; RT holds at each check and shutdown leaks nothing",
    SCENARIO_TARGETS({"reftotal-racy", SCN_TSAN | SCN_RT}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_creation_storm,
};
