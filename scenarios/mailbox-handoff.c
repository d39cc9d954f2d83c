/* mailbox-handoff.c — scenario "mailbox-handoff": ownership handoff around a ring of
 * mailboxes.  Thread t takes a container from mailbox t mod 8, writes a fresh object into one
 * of its slots (a locked write by a non-owner), reads another slot lock-free, and passes the
 * container on to mailbox t+1 mod 8; every so often it starts a new container or drops the
 * one it holds.  Objects thus outlive their creators' interest, are decref'd by many threads
 * and merged by owners who only see them again through their queue.
 *
 * Property: handed-off objects keep exact counts: B1-B4/E2 at every `stw`, RT, and no leak at
 * shutdown.
 * Targets: merge-request-lost (Inv E2, Ctr), reftotal-queue-unaccounted (RT, Leak). */
#include "gen.h"

static program *scn_gen_mailbox_handoff(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "mailbox-handoff", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        int in = t % PROG_NMAILBOXES, out = (t + 1) % PROG_NMAILBOXES;
        while (gen_room(&g, t)) {
            if (gen_chance(&g, t, 200)) {
                gen_op(&g, t, PROG_OP_NEW_CONTAINER, 0, 4);
            } else {
                gen_op(&g, t, PROG_OP_RECV, 0, in);
            }
            gen_new_any(&g, t, 1);
            gen_op(&g, t, PROG_OP_STORE, 0, (int)gen_below(&g, t, 4), 1);
            gen_op(&g, t, PROG_OP_LOAD, 2, 0, (int)gen_below(&g, t, 4));
            if (gen_chance(&g, t, 300))
                gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 2);
            gen_op(&g, t, PROG_OP_DROP, 2);
            gen_op(&g, t, PROG_OP_DROP, 1);
            if (gen_chance(&g, t, 100))
                gen_op(&g, t, PROG_OP_DROP, 0);
            else
                gen_op(&g, t, PROG_OP_SEND, out, 0);
            if (gen_chance(&g, t, 250))
                gen_op(&g, t, PROG_OP_POLL);
            if (gen_chance(&g, t, 80))
                gen_op(&g, t, PROG_OP_STW);
        }
        gen_op(&g, t, PROG_OP_POLL);
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_mailbox_handoff = {
    .name = "mailbox-handoff",
    .property = "containers handed around a ring of mailboxes keep exact counts (B1-B4, E2, RT) and nothing leaks",
    SCENARIO_TARGETS({"merge-request-lost", SCN_INV | SCN_CTR}, {"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_mailbox_handoff,
};
