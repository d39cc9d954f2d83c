/* immortalize-scopes.c — scenario "immortalize-scopes": temporary immortalisation against
 * concurrent suppressors.  Workers open nested suppression scopes, compile code and create
 * deferred objects inside them and leave them; meanwhile t0 keeps spawning new threads (each
 * new non-main thread state may trigger the immortalisation pass), and everyone checks the
 * world often.
 *
 * Property: with A active suppressors rt.immortalize is -2A or 1-2A, and nothing a thread
 * creates inside its own scope is immortal (D5 at every `stw`); the pass runs at most once and
 * makes the deferred objects t0 created before the first spawn immortal.
 * Targets: immortalize-suppress-race (Inv D5, Exp, TSan). */
#include "gen.h"

static void scoped_work(gen *g, int t)
{
    int depth = 1 + (int)gen_below(g, t, 3);
    for (int d = 0; d < depth; d++)
        gen_op(g, t, PROG_OP_SUPPRESS);
    for (int k = (int)gen_below(g, t, 3); k >= 0; k--) {
        switch (gen_below(g, t, 3)) {
        case 0: gen_op(g, t, PROG_OP_NEW_CODE, 0, (int)gen_below(g, t, 4)); break;
        case 1: gen_op(g, t, PROG_OP_NEW_TYPE, 1); break;
        default:
            gen_op(g, t, PROG_OP_NEW_CONTAINER, 2, 1);
            gen_op(g, t, PROG_OP_DEFER, 2);
            break;
        }
        if (gen_chance(g, t, 300))
            gen_op(g, t, PROG_OP_STW);
    }
    for (int d = 0; d < depth; d++)
        gen_op(g, t, PROG_OP_UNSUPPRESS);
    if (gen_chance(g, t, 400))
        gen_op(g, t, PROG_OP_DROP, (int)gen_below(g, t, 3));
}

static program *scn_gen_immortalize_scopes(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "immortalize-scopes", seed, sp, 1) < 0)
        return NULL;
    /* three programs in four start every worker by a spawn, so that t0's deferred objects below
     * exist when the first non-main state triggers the pass (immortalize_block runs on them);
     * in the others some workers start at once and race t0 for the trigger */
    gen_add_workers(&g, PROG_MODE_MAIN, gen_plan_chance(&g, 750) ? 1000 : 600);
    int n = (int)g.p->nthreads;
    /* t0: deferred objects outside any scope, kept in r3 and r4 until its end */
    gen_op(&g, 0, PROG_OP_NEW_CODE, 3, 1);
    gen_op(&g, 0, PROG_OP_NEW_CONTAINER, 4, 1);
    gen_op(&g, 0, PROG_OP_DEFER, 4);
    /* t0: spawn threads one by one, with scopes of its own in between */
    for (int t = 1; t < n; t++) {
        if (!g.is_spawn[t])
            continue;
        if (gen_chance(&g, 0, 500) && gen_room(&g, 0))
            scoped_work(&g, 0);
        gen_op(&g, 0, PROG_OP_SPAWN, t);
        g.spawned[t] = true;
        gen_op(&g, 0, PROG_OP_STW);
    }
    while (gen_room(&g, 0))
        scoped_work(&g, 0);
    gen_join_spawned(&g, 0);
    gen_ensure_attached(&g, 0);
    gen_op(&g, 0, PROG_OP_STW);
    for (int t = 1; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            scoped_work(&g, t);
            if (gen_chance(&g, t, 300))
                gen_op(&g, t, PROG_OP_STW);
        }
    }
    return gen_finish(&g);
}

const scenario scn_immortalize_scopes = {
    .name = "immortalize-scopes",
    .property = "suppression scopes race thread creation: rt.immortalize matches the active suppressors, scope objects are mortal (D5)",
    SCENARIO_TARGETS({"immortalize-suppress-race", SCN_INV | SCN_EXP | SCN_TSAN}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_immortalize_scopes,
};
