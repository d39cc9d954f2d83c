/* qsbr-resize.c — scenario "qsbr-resize": QSBR-delayed frees under list resize storms and
 * thread turnover.  t0 publishes lists in roots and late roots; every thread appends to them,
 * reads items lock-free and resizes them (a shared list's old buffer is freed through QSBR),
 * reports quiescent states and polls; many threads are spawned late and exit, so QSBR records
 * are reserved, grown (sometimes with the growth allocation failing) and released; the run
 * ends in `shutdown` with buffers still queued.
 *
 * Property: a buffer stamped with goal G is freed only once rd_seq ≥ G and no queued item is
 * lost (Q1-Q5 at every `stw`); readers never see a freed buffer (ASan); a `reclaim` frees every
 * buffer of the thread's queue that all threads have passed since the last `stw` (GR: the
 * queues do not grow while the run lasts); at shutdown every queued buffer is freed, so
 * nothing leaks.
 * Targets: free-delayed-ignores-shutdown (Leak), qsbr-poll-counts-offline (Inv: GR). */
#include "gen.h"

static void list_step(gen *g, int t)
{
    int l = (int)gen_below(g, t, 3);
    switch (gen_below(g, t, 9)) {
    case 0: gen_op(g, t, PROG_OP_ROOT_GET, l, (int)gen_below(g, t, 4)); break;
    case 1:
    case 2: gen_new_any(g, t, 4); gen_op(g, t, PROG_OP_LIST_APPEND, l, 4); break;
    case 3:
        if (gen_chance(g, t, 500)) {
            gen_new_any(g, t, 4);
            gen_op(g, t, PROG_OP_LIST_SET, l, (int)gen_below(g, t, 64), 4); /* replaces an item */
        } else {
            gen_op(g, t, PROG_OP_LIST_GET, 5, l, (int)gen_below(g, t, 64));
        }
        break;
    case 4:
    case 5: gen_op(g, t, PROG_OP_LIST_RESIZE, l, (int)gen_below(g, t, 300)); break;
    case 6: gen_op(g, t, PROG_OP_QSBR); break;
    case 7: gen_op(g, t, PROG_OP_RECLAIM); break;
    default: gen_op(g, t, gen_chance(g, t, 600) ? PROG_OP_POLL : PROG_OP_STW); break;
    }
}

static program *scn_gen_qsbr_resize(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "qsbr-resize", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 750);
    int n = (int)g.p->nthreads;
    for (int k = 0; k < 4; k++) {
        gen_op(&g, 0, PROG_OP_NEW_LIST, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k, 0);
        gen_op(&g, 0, PROG_OP_LATE_ROOT_SET, k, 0);
    }
    /* turnover: spawn in waves, joining each wave before the next */
    int wave = 2 + (int)gen_plan_below(&g, 6);
    int spawned = 0;
    for (int t = 1; t < n; t++) {
        if (!g.is_spawn[t])
            continue;
        if (gen_chance(&g, 0, 100))
            gen_op(&g, 0, PROG_OP_FAIL_ALLOC_AT, 1, "qsbr.grow");
        gen_op(&g, 0, PROG_OP_SPAWN, t);
        g.spawned[t] = true;
        list_step(&g, 0);
        if (++spawned % wave == 0)
            gen_join_spawned(&g, 0);
    }
    while (gen_room(&g, 0))
        list_step(&g, 0);
    gen_join_spawned(&g, 0);
    for (int r = 0; r < GEN_MIX_REGS; r++)
        gen_op(&g, 0, PROG_OP_DROP, r);
    gen_op(&g, 0, PROG_OP_SHUTDOWN);
    for (int t = 1; t < n; t++) {
        gen_start(&g, t);
        gen_op(&g, t, PROG_OP_ROOT_GET, 0, (int)gen_below(&g, t, 4));
        while (gen_room(&g, t)) {
            list_step(&g, t);
            if (gen_chance(&g, t, 100))
                gen_op(&g, t, PROG_OP_FAIL_ALLOC_AT, 1, "delayed.chunk");
        }
        if (gen_chance(&g, t, 500))
            gen_op(&g, t, PROG_OP_EXIT);
    }
    return gen_finish(&g);
}

const scenario scn_qsbr_resize = {
    .name = "qsbr-resize",
    .property = "shared list buffers replaced in storms are freed only after their QSBR goal (Q1-Q5), once every thread passed it (GR), and all of them by shutdown",
    SCENARIO_TARGETS({"free-delayed-ignores-shutdown", SCN_LEAK},
                     {"qsbr-poll-counts-offline", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_qsbr_resize,
};
