/* shutdown-race.c — scenario "shutdown-race": the runtime is finalised while worker threads
 * still run and hold objects.  t0 plants what the shutdown sequence must release: deferred
 * functions and code in late roots, shared lists (appended to by other threads, resized so
 * their old buffers go through QSBR) in late roots and roots, heap types with instances; it
 * hands references to all of it to the workers, lets them churn for a short while, and calls
 * `shutdown` with the workers mid-run (their states are marked SHUTTING_DOWN).
 *
 * Property: shutdown returns reference total 0 and no live block (every deferred object
 * reachable only from late roots, every delayed buffer, the type-id table and each exited
 * thread's totals are released or folded).
 * Targets: shutdown-deferred-leak (Leak), free-delayed-ignores-shutdown (Leak),
 * typeid-pool-not-finalized (Leak, ASan), reftotal-not-merged-at-exit (RT, Leak). */
#include "gen.h"

static void plant(gen *g, int k)
{
    /* code + function in a late root: deferred, reachable only from there */
    gen_op(g, 0, PROG_OP_NEW_CODE, 0, (int)gen_below(g, 0, 4));
    gen_op(g, 0, PROG_OP_NEW_FUNCTION, 1, 0);
    gen_op(g, 0, PROG_OP_LATE_ROOT_SET, k % PROG_NLATE_ROOTS, 1);
    /* a list shared with the workers, kept alive by a late root */
    gen_op(g, 0, PROG_OP_NEW_LIST, 2);
    gen_op(g, 0, PROG_OP_LIST_APPEND, 2, 1);
    gen_op(g, 0, PROG_OP_LATE_ROOT_SET, (k + 1) % PROG_NLATE_ROOTS, 2);
    gen_op(g, 0, PROG_OP_ROOT_SET, k % PROG_NROOTS, 2);
    /* a heap type and an instance */
    gen_op(g, 0, PROG_OP_NEW_TYPE, 3);
    gen_op(g, 0, PROG_OP_NEW_INSTANCE, 4, 3, (int)gen_below(g, 0, 3));
    gen_op(g, 0, PROG_OP_STORE, 5, 0, 4);
    gen_op(g, 0, PROG_OP_ROOT_SET, (k + 3) % PROG_NROOTS, 3);
    for (int m = 0; m < 3; m++) {
        int src = 2 + (int)gen_below(g, 0, 3);
        gen_op(g, 0, PROG_OP_DUP, 6, src);
        gen_op(g, 0, PROG_OP_SEND, (int)gen_below(g, 0, PROG_NMAILBOXES), 6);
    }
}

static void worker_step(gen *g, int t)
{
    int r = (int)gen_below(g, t, 4);
    switch (gen_below(g, t, 8)) {
    case 0: gen_op(g, t, PROG_OP_RECV, r, (int)gen_below(g, t, PROG_NMAILBOXES)); break;
    case 1: gen_op(g, t, PROG_OP_ROOT_GET, r, (int)gen_below(g, t, PROG_NROOTS)); break;
    case 2: gen_new_any(g, t, 4); gen_op(g, t, PROG_OP_LIST_APPEND, r, 4); break;
    case 3: gen_op(g, t, PROG_OP_LIST_RESIZE, r, (int)gen_below(g, t, 64)); break;
    case 4: gen_op(g, t, PROG_OP_NEW_INSTANCE, 5, r, (int)gen_below(g, t, 2)); break;
    case 5: gen_op(g, t, PROG_OP_LIST_GET, 6, r, (int)gen_below(g, t, 8)); break;
    case 6: gen_op(g, t, PROG_OP_QSBR); break;
    default: gen_op(g, t, PROG_OP_POLL); break;
    }
}

static program *scn_gen_shutdown_race(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "shutdown-race", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 400);
    int n = (int)g.p->nthreads;
    gen_op(&g, 0, PROG_OP_NEW_CONTAINER, 5, 1);
    int plants = 2 + (int)gen_below(&g, 0, 3);
    for (int k = 0; k < plants; k++)
        plant(&g, k);
    gen_spawn_pending(&g, 0, -1);
    /* t0 churns a little (a fraction of the budget), so shutdown lands mid-run */
    int churn = (int)g.sp.ops_per_thread / 4 + (int)gen_below(&g, 0, (uint32_t)g.sp.ops_per_thread / 4 + 1);
    for (int k = 0; k < churn; k++)
        worker_step(&g, 0);
    gen_op(&g, 0, PROG_OP_STW);
    for (int r = 0; r < GEN_MIX_REGS; r++)
        gen_op(&g, 0, PROG_OP_DROP, r);
    gen_op(&g, 0, PROG_OP_SHUTDOWN);
    for (int t = 1; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            worker_step(&g, t);
            if (gen_chance(&g, t, 40))
                gen_detached_pause(&g, t);
        }
    }
    return gen_finish(&g);
}

const scenario scn_shutdown_race = {
    .name = "shutdown-race",
    .property = "shutdown while threads run and hold deferred functions, shared lists and heap types returns reftotal 0 and no blocks",
    SCENARIO_TARGETS({"shutdown-deferred-leak", SCN_LEAK}, {"free-delayed-ignores-shutdown", SCN_LEAK}, {"typeid-pool-not-finalized", SCN_LEAK | SCN_ASAN}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_shutdown_race,
};
