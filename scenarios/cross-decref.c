/* cross-decref.c — scenario "cross-decref": a merge-queue flood.  Producers (even threads)
 * create objects and send new references to them into every mailbox; consumers (odd threads)
 * take them, copy them, read their slots and drop them, so most last decrefs run on a thread
 * that is not the owner and queue the object to its owner.  Owners poll rarely, so queues
 * grow between merges; consumers also send explicit merge requests.
 *
 * Property: a queued object reaches its owner's queue with EXPLICIT_MERGE set on the owner
 * (E2 at each `stw`), each queueing adds +1 that the merge takes back (RT), and after the
 * final merges no object and no reference remains (shutdown leak figures 0).
 * Targets: reftotal-queue-unaccounted (RT, Leak), merge-request-lost (Inv E2, Ctr),
 * reftotal-racy (TSan, RT). */
#include "gen.h"

static void producer(gen *g, int t)
{
    int obj = (int)gen_below(g, t, 4);
    switch (gen_below(g, t, 4)) {
    case 0: gen_op(g, t, PROG_OP_NEW_LEAF, obj); break;
    case 1: gen_op(g, t, PROG_OP_NEW_LIST, obj); break;
    default:
        gen_op(g, t, PROG_OP_NEW_CONTAINER, obj, 2);
        gen_op(g, t, PROG_OP_NEW_LEAF, 5);
        gen_op(g, t, PROG_OP_STORE, obj, 0, 5);
        gen_op(g, t, PROG_OP_DROP, 5);
        break;
    }
    for (int k = (int)gen_below(g, t, 3); k >= 0; k--) {
        gen_op(g, t, PROG_OP_DUP, 4, obj);
        gen_op(g, t, PROG_OP_SEND, (int)gen_below(g, t, PROG_NMAILBOXES), 4);
    }
    gen_op(g, t, PROG_OP_SEND, (int)gen_below(g, t, PROG_NMAILBOXES), obj);
    if (gen_chance(g, t, 120))
        gen_op(g, t, PROG_OP_POLL);
}

static void consumer(gen *g, int t, int nthreads)
{
    int r = (int)gen_below(g, t, 4);
    gen_op(g, t, PROG_OP_RECV, r, (int)gen_below(g, t, PROG_NMAILBOXES));
    switch (gen_below(g, t, 5)) {
    case 0: gen_op(g, t, PROG_OP_DUP, 4, r); gen_op(g, t, PROG_OP_DROP, 4); break;
    case 1: gen_op(g, t, PROG_OP_LOAD, 5, r, 0); gen_op(g, t, PROG_OP_DROP, 5); break;
    case 2: gen_op(g, t, PROG_OP_INCREF, r); gen_op(g, t, PROG_OP_DECREF, r); break;
    default: break;
    }
    gen_op(g, t, PROG_OP_DROP, r);
    if (gen_chance(g, t, 80))
        gen_op(g, t, PROG_OP_MERGE_REQUEST, 2 * (int)gen_below(g, t, (uint32_t)(nthreads + 1) / 2));
    if (gen_chance(g, t, 100))
        gen_op(g, t, PROG_OP_POLL);
}

static program *scn_gen_cross_decref(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "cross-decref", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        while (gen_room(&g, t)) {
            if (t % 2 == 0)
                producer(&g, t);
            else
                consumer(&g, t, n);
            if (gen_chance(&g, t, 70))
                gen_op(&g, t, PROG_OP_STW);
        }
        /* owners merge what was queued to them before the world is checked again */
        gen_op(&g, t, PROG_OP_POLL);
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_cross_decref = {
    .name = "cross-decref",
    .property = "a merge-queue flood: queued objects flag their owner (E2), each queueing's +1 is taken back by the merge (RT), no leak",
    SCENARIO_TARGETS({"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}, {"merge-request-lost", SCN_INV | SCN_CTR}, {"reftotal-racy", SCN_TSAN | SCN_RT}, {"brc-register-unlocked", SCN_TSAN},
                     {"brc-queue-takes-head-lock", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_cross_decref,
};
