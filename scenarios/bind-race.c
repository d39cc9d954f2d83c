/* bind-race.c — scenario "bind-race": thread binding (early, late, attach) against
 * stop-the-world and collections.  Collector threads (t0 and the 'auto' workers) allocate
 * tracked objects and run `gc_collect` and `stw` back to back while t0 spawns the other
 * workers one by one; late and attach workers linger unbound (yield) before binding, so their
 * states are linked but their heaps half built when a collection walks the heaps.  The new
 * threads allocate a little and exit; t0 joins them.
 *
 * Property: a heap walk visits only heaps whose heap_initialized reads 1, and those are READY
 * (G6, S1 at every `stw`); nothing reads a half-built heap (ASan, TSan).
 * Targets: bind-heap-visible-early (Inv G6, TSan, ASan). */
#include "gen.h"

static void collector_step(gen *g, int t)
{
    switch (gen_below(g, t, 5)) {
    case 0: gen_op(g, t, PROG_OP_GC_COLLECT); break;
    case 1: gen_op(g, t, PROG_OP_STW); break;
    case 2: gen_op(g, t, PROG_OP_POLL); break;
    default: gen_new_any(g, t, (int)gen_below(g, t, GEN_MIX_REGS)); break;
    }
}

static program *scn_gen_bind_race(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "bind-race", seed, sp, 1) < 0)
        return NULL;
    /* at least one auto collector besides t0 when there is room; the rest are spawned */
    for (int i = 1; i < g.sp.nthreads; i++) {
        bool collector = i == 1 ? g.sp.nthreads > 3 : gen_plan_chance(&g, 150);
        prog_mode m = collector ? PROG_MODE_EARLY : (gen_plan_chance(&g, 500) ? PROG_MODE_LATE : PROG_MODE_ATTACH);
        int t = gen_thread(&g, m, collector ? PROG_START_AUTO : PROG_START_SPAWN);
        if (t > 0)
            g.is_spawn[t] = !collector;
    }
    int n = (int)g.p->nthreads;
    /* t0: spawn the binders one at a time between collections */
    for (int t = 1; t < n; t++) {
        if (!g.is_spawn[t])
            continue;
        collector_step(&g, 0);
        gen_op(&g, 0, PROG_OP_SPAWN, t);
        g.spawned[t] = true;
        gen_op(&g, 0, PROG_OP_GC_COLLECT);
    }
    while (gen_room(&g, 0))
        collector_step(&g, 0);
    gen_join_spawned(&g, 0);
    gen_ensure_attached(&g, 0);
    gen_op(&g, 0, PROG_OP_STW);
    for (int t = 1; t < n; t++) {
        if (!g.is_spawn[t]) {
            while (gen_room(&g, t))
                collector_step(&g, t);
            continue;
        }
        /* unbound stretch: linked, not bound */
        for (int k = 1 + (int)gen_below(&g, t, 4); k > 0; k--)
            gen_op(&g, t, PROG_OP_YIELD);
        gen_start(&g, t);
        int budget = 4 + (int)gen_below(&g, t, 12);
        for (int k = 0; k < budget; k++) {
            gen_new_any(&g, t, (int)gen_below(&g, t, 4));
            if (gen_chance(&g, t, 200))
                gen_detached_pause(&g, t);
            if (gen_chance(&g, t, 150))
                gen_op(&g, t, PROG_OP_STW);
        }
        if (gen_chance(&g, t, 500))
            gen_op(&g, t, PROG_OP_EXIT);
    }
    return gen_finish(&g);
}

const scenario scn_bind_race = {
    .name = "bind-race",
    .property = "early/late/attach threads bind while others stop the world and collect; walks skip half-built heaps (G6, S1)",
    SCENARIO_TARGETS({"bind-heap-visible-early", SCN_INV | SCN_TSAN | SCN_ASAN},
                     {"brc-register-unlocked", SCN_TSAN}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_bind_race,
};
