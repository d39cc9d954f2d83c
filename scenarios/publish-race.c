/* publish-race.c — scenario "publish-race": objects published in shared container slots and
 * read lock-free by threads that have no other synchronisation with their writers.  t0 roots a
 * container of 8 slots and spawns the workers; writers (odd threads) create objects — code
 * objects above all, immortal from birth once temporary immortalisation is on, so a reader
 * takes them without any read-modify-write on their counts — and store them into the slots;
 * readers (even threads) only load the slots and use what they got.  No stop-the-world point
 * runs between the first spawn and the joins (check_rate 0; the validators run at the end), so
 * the slot's release store and the reader's acquire load are the only order between a writer's
 * initialisation of an object and a reader's use of it.
 *
 * Property: an object read from a slot is seen fully initialised.  The executor reads the type
 * of every object a register receives (a plain field the allocating thread wrote before
 * publishing it), so a publication without its release is a plain data race TSan reports.
 * Targets: container-publish-relaxed (TSan). */
#include "gen.h"

static void writer_step(gen *g, int t)
{
    switch (gen_below(g, t, 6)) {
    case 0:
    case 1:
    case 2: gen_op(g, t, PROG_OP_NEW_CODE, 1, (int)gen_below(g, t, 3)); break;
    case 3: gen_op(g, t, PROG_OP_NEW_CONTAINER, 1, 1 + (int)gen_below(g, t, 3)); break;
    default: gen_op(g, t, PROG_OP_NEW_LEAF, 1); break;
    }
    gen_op(g, t, PROG_OP_STORE, 0, (int)gen_below(g, t, 8), 1);
    if (gen_chance(g, t, 200))
        gen_op(g, t, PROG_OP_DROP, 1);
}

static void reader_step(gen *g, int t)
{
    int r = 2 + (int)gen_below(g, t, 2);
    gen_op(g, t, PROG_OP_LOAD, r, 0, (int)gen_below(g, t, 8));
    if (gen_chance(g, t, 250))
        gen_op(g, t, PROG_OP_LOAD, 4, r, 0); /* a container's first slot (no-op otherwise) */
    if (gen_chance(g, t, 100))
        gen_op(g, t, PROG_OP_DROP, r);
}

static program *scn_gen_publish_race(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "publish-race", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 1000);
    int n = (int)g.p->nthreads;
    gen_op(&g, 0, PROG_OP_NEW_CONTAINER, 0, 8);
    gen_op(&g, 0, PROG_OP_ROOT_SET, 0, 0);
    gen_spawn_pending(&g, 0, -1);
    gen_join_spawned(&g, 0);
    gen_op(&g, 0, PROG_OP_DROP, 0);
    gen_op(&g, 0, PROG_OP_ROOT_CLEAR, 0);
    for (int t = 1; t < n; t++) {
        gen_start(&g, t);
        gen_op(&g, t, PROG_OP_ROOT_GET, 0, 0);
        while (gen_room(&g, t)) {
            if (t % 2)
                writer_step(&g, t);
            else
                reader_step(&g, t);
        }
    }
    return gen_finish(&g);
}

const scenario scn_publish_race = {
    .name = "publish-race",
    .property = "an object read lock-free from a shared slot is seen initialised: its publication's release pairs with the reader's acquire (TSan on its plain type field)",
    SCENARIO_TARGETS({"container-publish-relaxed", SCN_TSAN}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_publish_race,
};
