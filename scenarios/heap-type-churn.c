/* heap-type-churn.c — scenario "heap-type-churn": heap-type instances churned across thread
 * exits.  t0 creates heap types (each gets a per-thread refcount id) and hands references to
 * them through mailboxes and roots; workers, spawned in a chain (each worker may start the
 * next), create and drop instances, store instances in containers passed to other threads,
 * and exit — so per-thread type counts are merged and finalised at exit while other threads
 * keep counting the same types; types are dropped and new ones created so ids are reused.
 *
 * Property: the true count of a type is local + shared + Σ per-thread values (T1); ids are
 * released only when no thread counts them (T2); RT at every `stw`; at shutdown the type-id
 * pool is finalised and nothing leaks.
 * Targets: typeid-pool-not-finalized (Leak, ASan), reftotal-not-merged-at-exit (RT, Leak). */
#include "gen.h"

static void worker(gen *g, int t)
{
    gen_start(g, t);
    gen_op(g, t, PROG_OP_RECV, 0, t % PROG_NMAILBOXES);
    gen_op(g, t, PROG_OP_ROOT_GET, 1, (int)gen_below(g, t, PROG_NROOTS));
    while (gen_room(g, t)) {
        int ty = (int)gen_below(g, t, 2);
        switch (gen_below(g, t, 6)) {
        case 0: gen_op(g, t, PROG_OP_CHURN_TYPE, ty, 1 + (int)gen_below(g, t, 64)); break;
        case 1:
            gen_op(g, t, PROG_OP_NEW_INSTANCE, 2, ty, (int)gen_below(g, t, 3));
            gen_op(g, t, PROG_OP_NEW_CONTAINER, 3, 1);
            gen_op(g, t, PROG_OP_STORE, 3, 0, 2);
            gen_op(g, t, PROG_OP_SEND, (int)gen_below(g, t, PROG_NMAILBOXES), 3);
            break;
        case 2: gen_op(g, t, PROG_OP_RECV, 4, (int)gen_below(g, t, PROG_NMAILBOXES)); break;
        case 3: gen_op(g, t, PROG_OP_DROP, 2 + (int)gen_below(g, t, 3)); break;
        case 4: gen_op(g, t, PROG_OP_DUP, 5, ty); gen_op(g, t, PROG_OP_DROP, 5); break;
        default: gen_op(g, t, gen_chance(g, t, 500) ? PROG_OP_STW : PROG_OP_POLL); break;
        }
    }
    if (gen_chance(g, t, 700))
        gen_op(g, t, PROG_OP_EXIT);
}

static program *scn_gen_heap_type_churn(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "heap-type-churn", seed, sp, 2) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 700);
    int n = (int)g.p->nthreads;
    int ntypes = 2 + (int)gen_below(&g, 0, 4);
    for (int k = 0; k < ntypes; k++) {
        gen_op(&g, 0, PROG_OP_NEW_TYPE, 0);
        gen_op(&g, 0, PROG_OP_ROOT_SET, k % PROG_NROOTS, 0);
        for (int m = 0; m < PROG_NMAILBOXES; m++)
            if (gen_chance(&g, 0, 400)) {
                gen_op(&g, 0, PROG_OP_DUP, 1, 0);
                gen_op(&g, 0, PROG_OP_SEND, m, 1);
            }
    }
    /* spawn threads form chains: a spawn thread is started by t0 or by an earlier worker */
    for (int t = 1; t < n; t++) {
        if (!g.is_spawn[t])
            continue;
        int by = 0;
        for (int c = t - 1; c >= 1; c--)
            if (!g.is_spawn[c] || g.spawned[c]) { /* c will run: it may start t */
                if (gen_plan_chance(&g, 400))
                    by = c;
                break;
            }
        if (by != 0) {
            gen_start(&g, by);
            gen_op(&g, by, PROG_OP_NEW_INSTANCE, 6, 0, 0);
            gen_op(&g, by, PROG_OP_SPAWN, t);
        } else {
            gen_op(&g, 0, PROG_OP_SPAWN, t);
        }
        g.spawned[t] = true;
    }
    while (gen_room(&g, 0)) {
        if (gen_chance(&g, 0, 200)) { /* replace a type: its id becomes reusable */
            int k = (int)gen_below(&g, 0, (uint32_t)ntypes);
            gen_op(&g, 0, PROG_OP_ROOT_CLEAR, k % PROG_NROOTS);
            gen_op(&g, 0, PROG_OP_NEW_TYPE, 0);
            gen_op(&g, 0, PROG_OP_ROOT_SET, k % PROG_NROOTS, 0);
        } else {
            gen_op(&g, 0, PROG_OP_CHURN_TYPE, 0, 1 + (int)gen_below(&g, 0, 32));
        }
        if (gen_chance(&g, 0, 150))
            gen_op(&g, 0, PROG_OP_GC_COLLECT);
        if (gen_chance(&g, 0, 150))
            gen_op(&g, 0, PROG_OP_STW);
    }
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    for (int t = 1; t < n; t++)
        worker(&g, t);
    return gen_finish(&g);
}

const scenario scn_heap_type_churn = {
    .name = "heap-type-churn",
    .property = "heap-type instances churned across thread exits keep exact type counts (T1, T2, RT); the id pool is finalised",
    SCENARIO_TARGETS({"typeid-pool-not-finalized", SCN_LEAK | SCN_ASAN}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_heap_type_churn,
};
