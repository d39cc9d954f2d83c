/* stack-deferred.c — scenario "stack-deferred": deferred objects held only on the stacks of
 * other threads while collections run.  t0 creates deferred objects (code, functions, heap
 * types, containers made deferred) and sends them out; workers push frames running the code,
 * store the objects in locals, on the frame stack and on c_stack_refs, DROP their registers
 * (so a tagged stack reference is the only thing keeping the object) and keep using the frame
 * while any thread collects; they pop-close frames whose stack holds finalizables (most of
 * which collect in their finalizer, inside the pop-close), and push
 * and pop frames repeatedly with fewer locals so a later frame reuses the memory of an earlier
 * one.
 *
 * Property: a deferred object referenced from a frame or C stack is never freed while the
 * reference exists (ASan, Vfree), gc_refs stays ≥ 0 and every tagged stack reference names an
 * allocated block (D3/D4 at every `stw`); no leak at shutdown.
 * Targets: gc-skips-stacks (ASan, Vfree, Inv D4), gc-trusts-null-stackpointer (ASan, Vfree,
 * Inv D3/D4), frames-not-zeroed (ASan, Vfree, Inv D3). */
#include "gen.h"

static void make_deferred(gen *g, int t, int dst)
{
    switch (gen_below(g, t, 4)) {
    case 0: gen_op(g, t, PROG_OP_NEW_CODE, dst, (int)gen_below(g, t, 4)); break;
    case 1:
        gen_op(g, t, PROG_OP_NEW_CODE, 11, 1);
        gen_op(g, t, PROG_OP_NEW_FUNCTION, dst, 11);
        break;
    case 2: gen_op(g, t, PROG_OP_NEW_TYPE, dst); break;
    default:
        gen_op(g, t, PROG_OP_NEW_CONTAINER, dst, 2);
        gen_op(g, t, PROG_OP_DEFER, dst);
        break;
    }
}

/* one frame's life: push, fill, drop registers, collect/yield, pop */
static void frame_life(gen *g, int t)
{
    gen_op(g, t, PROG_OP_RECV, 0, (int)gen_below(g, t, PROG_NMAILBOXES));
    make_deferred(g, t, 1);
    gen_op(g, t, PROG_OP_NEW_CODE, 2, (int)gen_below(g, t, 3));
    gen_op(g, t, PROG_OP_NEW_CODE, 10, 0);
    gen_op(g, t, PROG_OP_NEW_FUNCTION, 3, 10);
    if (gen_chance(g, t, 500))
        gen_op(g, t, PROG_OP_FRAME_PUSH_FN, 2, 3);
    else
        gen_op(g, t, PROG_OP_FRAME_PUSH, 2);
    int locals = (int)gen_below(g, t, 9); /* 0..8: later frames often set fewer than earlier ones */
    for (int i = 0; i < locals; i++)
        gen_op(g, t, PROG_OP_LOCAL_STORE, i, i % 2 ? 0 : 1);
    gen_op(g, t, PROG_OP_STACK_PUSH, 0);
    gen_op(g, t, PROG_OP_STACK_PUSH, 1);
    if (gen_chance(g, t, 600)) {
        /* a finalizable whose pop-close runs its destructor; most collect in their finalizer,
         * while this frame's stackpointer is unpublished (gh-129236's window) */
        gen_op(g, t, PROG_OP_NEW_FINALIZABLE, 4, 1,
               gen_chance(g, t, 750) ? PROG_FIN_COLLECT : PROG_FIN_NONE);
        gen_op(g, t, PROG_OP_STORE, 4, 0, 3);
        gen_op(g, t, PROG_OP_STACK_PUSH, 4);
        gen_op(g, t, PROG_OP_DROP, 4);
    }
    bool cref = gen_chance(g, t, 400);
    if (cref)
        gen_op(g, t, PROG_OP_CREF_PUSH, 1);
    /* the stack references are now the only ones */
    for (int r = 0; r <= 3; r++)
        gen_op(g, t, PROG_OP_DROP, r);
    gen_op(g, t, PROG_OP_DROP, 10);
    gen_op(g, t, PROG_OP_DROP, 11);
    switch (gen_below(g, t, 3)) {
    case 0: gen_op(g, t, PROG_OP_GC_COLLECT); break;
    case 1: gen_op(g, t, PROG_OP_STW); break;
    default: gen_op(g, t, PROG_OP_YIELD); break;
    }
    if (g->ts[t].stack[g->ts[t].nframes - 1] > 2) {
        gen_op(g, t, PROG_OP_STACK_POP); /* pop-closes the finalizable: its destructor runs */
        gen_op(g, t, PROG_OP_STW);       /* D3/D4: the frame's tagged references still valid */
    }
    if (cref)
        gen_op(g, t, PROG_OP_CREF_POP);
    gen_op(g, t, PROG_OP_FRAME_POP);
}

static program *scn_gen_stack_deferred(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "stack-deferred", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_MAIN, 0);
    int n = (int)g.p->nthreads;
    /* t0: feed deferred objects and collect */
    while (gen_room(&g, 0)) {
        make_deferred(&g, 0, 0);
        gen_op(&g, 0, PROG_OP_SEND, (int)gen_below(&g, 0, PROG_NMAILBOXES), 0);
        if (gen_chance(&g, 0, 300))
            gen_op(&g, 0, PROG_OP_GC_COLLECT);
        if (gen_chance(&g, 0, 150))
            gen_op(&g, 0, PROG_OP_STW);
    }
    gen_op(&g, 0, PROG_OP_GC_COLLECT);
    for (int t = 1; t < n; t++) {
        gen_start(&g, t);
        while (gen_room(&g, t)) {
            if (gen_chance(&g, t, 800))
                frame_life(&g, t);
            else
                gen_op(&g, t, PROG_OP_GC_COLLECT);
        }
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_stack_deferred = {
    .name = "stack-deferred",
    .property = "deferred objects held only by frames and C stacks of other threads survive collections (D3/D4, ASan, Vfree)",
    SCENARIO_TARGETS({"gc-skips-stacks", SCN_ASAN | SCN_VFREE | SCN_INV}, {"gc-trusts-null-stackpointer", SCN_ASAN | SCN_VFREE | SCN_INV}, {"frames-not-zeroed", SCN_ASAN | SCN_VFREE | SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_stack_deferred,
};
