/* breaker-signals.c — scenario "breaker-signals": eval-breaker signals aimed at one thread
 * among many.  One worker, the target, owns a stream of objects it sends out; every other
 * thread drops them (queueing them to the target), sends the target asynchronous exceptions
 * and merge requests, and polls its own breaker often.
 *
 * Property: only the target sees ASYNC_EXC and raises each one at its next poll; nobody else
 * gets a spurious interrupt (E3); a non-empty queue has EXPLICIT_MERGE set on its owner (E2)
 * at every `stw`.
 * Targets: eval-breaker-global (Inv E2/E3, Exp), merge-request-lost (Inv E2, Ctr). */
#include "gen.h"

static program *scn_gen_breaker_signals(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "breaker-signals", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    int target = 1 + (int)gen_plan_below(&g, (uint32_t)(n - 1));
    for (int t = 0; t < n; t++) {
        while (gen_room(&g, t)) {
            if (t == target) {
                gen_new_any(&g, t, 0);
                gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 0);
                if (gen_chance(&g, t, 300))
                    gen_op(&g, t, PROG_OP_POLL);
            } else {
                switch (gen_below(&g, t, 6)) {
                case 0: gen_op(&g, t, PROG_OP_ASYNC_EXC, target); break;
                case 1: gen_op(&g, t, PROG_OP_MERGE_REQUEST, target); break;
                case 2:
                case 3:
                    gen_op(&g, t, PROG_OP_RECV, 1, (int)gen_below(&g, t, PROG_NMAILBOXES));
                    gen_op(&g, t, PROG_OP_DROP, 1);
                    break;
                default: gen_op(&g, t, PROG_OP_POLL); break;
                }
            }
            if (gen_chance(&g, t, 80))
                gen_op(&g, t, PROG_OP_STW);
        }
        gen_op(&g, t, PROG_OP_POLL);
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_breaker_signals = {
    .name = "breaker-signals",
    .property = "async exceptions and merge requests reach only their target thread (E3) and queues flag their owner (E2)",
    SCENARIO_TARGETS({"eval-breaker-global", SCN_INV | SCN_EXP}, {"merge-request-lost", SCN_INV | SCN_CTR}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_breaker_signals,
};
