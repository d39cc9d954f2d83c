/* finalizer-weakref.c — scenario "finalizer-weakref": finalizer resurrection and weak
 * references under concurrent collections.  Threads build finalizables (resurrecting from the
 * finalizer or the destructor) and generators, put them in cycles, hang weak references (with
 * and without callbacks) on them and on plain containers, publish the weakrefs, and drop the
 * strong references; other threads dereference the weakrefs and read the roots resurrected
 * objects land in, while collections run.
 *
 * Property: a weakref is cleared before its referent is freed and never yields a dead object;
 * finalizers run at most once and destructors resurrect at most once; resurrected objects are
 * merged (H1) and tids outside STW are never GC scratch (H2/H5) at every `stw`; no leak.
 * Targets: worklist-plain-tid (TSan), restore-tid-outside-stw (TSan, Inv H5/H2, ASan),
 * tid-zero-unmerged (Inv H1). */
#include "gen.h"

static int behaviour(gen *g, int t)
{
    static const int b[] = {PROG_FIN_NONE, PROG_FIN_RESURRECT, PROG_FIN_DEALLOC_RESURRECT};
    return b[gen_below(g, t, 3)];
}

static void build(gen *g, int t)
{
    if (gen_chance(g, t, 250)) {
        gen_op(g, t, PROG_OP_NEW_CODE, 5, 0);
        gen_op(g, t, PROG_OP_NEW_GENERATOR, 0, 5, behaviour(g, t));
    } else {
        gen_op(g, t, PROG_OP_NEW_FINALIZABLE, 0, 2, behaviour(g, t));
    }
    bool cycle = gen_chance(g, t, 750);
    if (cycle) { /* a cycle through a container */
        gen_op(g, t, PROG_OP_NEW_CONTAINER, 1, 1);
        gen_op(g, t, PROG_OP_STORE, 1, 0, 0);
        gen_op(g, t, PROG_OP_STORE, 0, 0, 1);
    }
    gen_op(g, t, PROG_OP_NEW_WEAKREF, 2, 0, (int)gen_below(g, t, 2));
    gen_op(g, t, PROG_OP_SEND, (int)gen_below(g, t, PROG_NMAILBOXES), 2);
    /* a published weakref with a callback on cyclic garbage: the collector pops it from its
     * callback list with the world running while other threads take and drop references to
     * it (the window of the GC worklist mutants) */
    if (cycle && gen_chance(g, t, 700)) {
        gen_op(g, t, PROG_OP_NEW_WEAKREF, 3, 1, PROG_WRCB_CALLBACK);
        gen_op(g, t, PROG_OP_ROOT_SET, (int)gen_below(g, t, PROG_NROOTS), 3);
        gen_op(g, t, PROG_OP_DROP, 3);
    }
    gen_op(g, t, PROG_OP_DROP, 0);
    gen_op(g, t, PROG_OP_DROP, 1);
}

static void use(gen *g, int t)
{
    switch (gen_below(g, t, 6)) {
    case 0:
        gen_op(g, t, PROG_OP_RECV, 6, (int)gen_below(g, t, PROG_NMAILBOXES));
        gen_op(g, t, PROG_OP_WEAKREF_GET, 7, 6);
        if (gen_chance(g, t, 500))
            gen_op(g, t, PROG_OP_YIELD);
        gen_op(g, t, PROG_OP_DROP, 7);
        break;
    case 1:
        gen_op(g, t, PROG_OP_WEAKREF_GET, 7, 6);
        gen_op(g, t, PROG_OP_DROP, 7);
        gen_op(g, t, PROG_OP_DROP, 6);
        break;
    case 2:
    case 3:
    case 4: /* the weakrefs published in roots */
        gen_op(g, t, PROG_OP_ROOT_GET, 8, (int)gen_below(g, t, PROG_NROOTS));
        gen_op(g, t, PROG_OP_WEAKREF_GET, 9, 8);
        gen_op(g, t, PROG_OP_DROP, 9);
        gen_op(g, t, PROG_OP_DROP, 8);
        break;
    default:
        gen_op(g, t, PROG_OP_ROOT_CLEAR, (int)gen_below(g, t, PROG_NROOTS));
        break;
    }
}

static program *scn_gen_finalizer_weakref(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "finalizer-weakref", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            uint32_t c = gen_below(&g, t, 10);
            if (c < 4)
                build(&g, t);
            else if (c < 8)
                use(&g, t);
            else if (c < 9)
                gen_op(&g, t, PROG_OP_GC_COLLECT);
            else
                gen_op(&g, t, PROG_OP_STW);
        }
        gen_op(&g, t, PROG_OP_DROP, 6);
        gen_op(&g, t, PROG_OP_STW);
    }
    for (int r = 0; r < PROG_NROOTS; r++)
        gen_op(&g, 0, PROG_OP_ROOT_CLEAR, r);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    gen_op(&g, 0, PROG_OP_STW);
    return gen_finish(&g);
}

const scenario scn_finalizer_weakref = {
    .name = "finalizer-weakref",
    .property = "weakrefs are cleared before their referent dies; finalizers run once; resurrected objects stay merged (H1, H2/H5)",
    SCENARIO_TARGETS({"worklist-plain-tid", SCN_TSAN}, {"restore-tid-outside-stw", SCN_TSAN | SCN_INV | SCN_ASAN}, {"tid-zero-unmerged", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_finalizer_weakref,
};
