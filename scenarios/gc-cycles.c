/* gc-cycles.c — scenario "gc-cycles": cyclic garbage under churn.  Every thread builds small
 * cycles (containers holding each other, lists holding themselves, finalizables that
 * resurrect into roots) and drops them, while others read the published objects from roots
 * and shared containers, and any thread may collect — sometimes with its next object-stack
 * chunk allocation failing, so marking takes the error exit.
 *
 * Property: each cycle is freed by a collection exactly once (nothing reachable is freed,
 * ASan/Vfree), the GC leaves no scratch in ob_tid outside STW (G1/G3/H1 at every `stw`),
 * and two idle collections at the end restore the baseline so shutdown leaks nothing.
 * Targets: gc-untracks-zero-refcount (Leak, Exp), oom-during-gc-leaves-scratch (Inv G1/G3/H1).
 * (The GC worklist mutants need another thread to touch an entry the collector pops with the
 * world running — a weakref with a callback: finalizer-weakref targets them; measured here
 * 0 detections in 80 trials.) */
#include "gen.h"

static void cycle(gen *g, int t)
{
    switch (gen_below(g, t, 4)) {
    case 0: /* two containers */
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 0, 2);
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 1, 2);
        gen_op(g, t, PROG_OP_STORE, 0, 0, 1);
        gen_op(g, t, PROG_OP_STORE, 1, 0, 0);
        break;
    case 1: /* a list holding itself */
        gen_op(g, t, PROG_OP_NEW_LIST, 0);
        gen_op(g, t, PROG_OP_LIST_APPEND, 0, 0);
        gen_op(g, t, PROG_OP_NEW_LEAF, 1);
        gen_op(g, t, PROG_OP_LIST_APPEND, 0, 1);
        break;
    case 2: /* a finalizable in a cycle: may resurrect during the collection */
        gen_op(g, t, PROG_OP_NEW_FINALIZABLE, 0, 2, gen_chance(g, t, 500) ? PROG_FIN_RESURRECT : PROG_FIN_NONE);
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 1, 1);
        gen_op(g, t, PROG_OP_STORE, 0, 0, 1);
        gen_op(g, t, PROG_OP_STORE, 1, 0, 0);
        break;
    default: /* a container holding only leaves (untrackable while referenced) */
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 0, 2);
        gen_op(g, t, PROG_OP_NEW_LEAF, 1);
        gen_op(g, t, PROG_OP_STORE, 0, 1, 1);
        break;
    }
    if (gen_chance(g, t, 300)) { /* publish one member before dropping ours */
        gen_op(g, t, PROG_OP_DUP, 2, 0);
        gen_op(g, t, PROG_OP_SEND, (int)gen_below(g, t, PROG_NMAILBOXES), 2);
    }
    gen_op(g, t, PROG_OP_DROP, 0);
    gen_op(g, t, PROG_OP_DROP, 1);
}

static void reader(gen *g, int t)
{
    switch (gen_below(g, t, 4)) {
    case 0: gen_op(g, t, PROG_OP_ROOT_GET, 3, (int)gen_below(g, t, PROG_NROOTS)); break;
    case 1: gen_op(g, t, PROG_OP_RECV, 3, (int)gen_below(g, t, PROG_NMAILBOXES)); break;
    case 2: gen_op(g, t, PROG_OP_LOAD, 4, 3, 0); gen_op(g, t, PROG_OP_DROP, 4); break;
    default:
        gen_op(g, t, PROG_OP_DROP, 3);
        if (gen_chance(g, t, 300))
            gen_op(g, t, PROG_OP_ROOT_CLEAR, (int)gen_below(g, t, PROG_NROOTS));
        break;
    }
}

static program *scn_gen_gc_cycles(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "gc-cycles", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 10);
            if (c < 5)
                cycle(&g, t);
            else if (c < 8)
                reader(&g, t);
            else if (c < 9) {
                if (gen_chance(&g, t, 300))
                    gen_op(&g, t, PROG_OP_FAIL_ALLOC_AT, 1, "objstack.chunk");
                gen_op(&g, t, PROG_OP_GC_COLLECT);
            } else
                gen_op(&g, t, PROG_OP_STW);
        }
        gen_op(&g, t, PROG_OP_DROP, 3);
        gen_op(&g, t, PROG_OP_STW);
    }
    /* two idle collections: everything that was garbage is gone */
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_gc_cycles = {
    .name = "gc-cycles",
    .property = "cyclic garbage under churn and marking OOM is freed exactly once; no GC scratch outside STW (G1/G3/H1), no leak",
    SCENARIO_TARGETS({"gc-untracks-zero-refcount", SCN_LEAK | SCN_EXP}, {"oom-during-gc-leaves-scratch", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_gc_cycles,
};
