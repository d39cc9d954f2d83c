/* gc-toggle.c — scenario "gc-toggle": the GC disabled and enabled while collections are being
 * scheduled.  Scaling is off (t1 = 0) and workers only add to the live heap (chains kept in
 * rooted lists), so the young count only grows until a collection resets it, and every flush
 * past t0 schedules a HEAP collection on the flusher's eval breaker, to run at its next poll.  One or two togglers pause the world and
 * then disable the GC: a worker that polls for the pause with its GC_SCHEDULED bit set is
 * suspended before it handles the bit and usually handles it after the disable (gh-129533's
 * window); they stay disabled for a few ops, enable, and churn with the GC enabled.
 *
 * Property: no HEAP collection starts after a gc_disable that happened before it until the
 * next gc_enable (executor oracle Exp gc-disabled); `enabled` and the young count are read and
 * written atomically (TSan); the young count equals the flushed counts at STW #1 (G7).
 * Targets: gc-ignores-enabled (Exp), gc-enabled-racy (TSan), gc-alloc-count-racy (TSan, G7). */
#include "gen.h"

static program *scn_gen_gc_toggle(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "gc-toggle", seed, sp, 4) < 0)
        return NULL;
    g.p->opt.gc_threshold[0] = 600 + gen_plan_below(&g, 400);
    g.p->opt.gc_threshold[1] = 0; /* no scaling: every t0 allocations */
    g.p->opt.gc_threshold[2] = 0;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    for (int k = 0; k < PROG_NROOTS; k++) { /* the rooted lists the workers grow */
        gen_op(&g, 0, PROG_OP_NEW_LIST, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k, 0);
    }
    gen_op(&g, 0, PROG_OP_DROP, 0);
    int togglers = n > 3 ? 2 : 1;
    for (int t = 0; t < n; t++) {
        bool toggler = t >= n - togglers; /* t0 only when it is alone */
        gen_toggler tg = {.off_span = 2, .on_min = 1, .on_span = 3};
        tg.stretch = (int)gen_below(&g, t, 4); /* ops left before a toggler flips the GC */
        while (gen_room(&g, t)) {
            if (toggler && gen_toggle_step(&g, t, &tg))
                continue;
            uint32_t c = gen_below(&g, t, 10);
            if (!toggler && c < 3) {
                /* growth: a chain kept in a rooted list (no frees, so young.count only grows
                 * until a collection resets it, and each flush past t0 schedules one) */
                gen_op(&g, t, PROG_OP_DEEP_CHAIN, 3, 800 + (int)gen_below(&g, t, 800));
                gen_keep_in_rooted_list(&g, t, 3, 4);
                gen_op(&g, t, PROG_OP_DROP, 3);
            } else if (c < 8) {
                gen_op(&g, t, PROG_OP_CHURN_FREELIST, PROG_FLKIND_CONTAINER,
                       64 + (int)gen_below(&g, t, 512));
            } else {
                gen_op(&g, t, PROG_OP_POLL);
            }
        }
        gen_toggle_end(&g, t, &tg);
        gen_op(&g, t, PROG_OP_POLL);
    }
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_toggle = {
    .name = "gc-toggle",
    .property = "the GC disabled while collections are scheduled: none starts after a disable until the next enable (Exp), enabled read atomically",
    SCENARIO_TARGETS({"gc-ignores-enabled", SCN_EXP}, {"gc-enabled-racy", SCN_TSAN}, {"gc-alloc-count-racy", SCN_TSAN | SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_toggle,
};
