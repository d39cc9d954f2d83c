/* merge-at-zero.c — scenario "merge-at-zero": explicit merges and merges at zero local
 * count race with other threads' shared-path decrefs.  Each thread owns objects, gives new
 * references to them to others (mailboxes, roots), then drops its own: its last local decref
 * merges the shared count and gives the object up (tid 0) while others still decref through
 * the shared field.  Some objects are finalizables whose destructor resurrects them (into a
 * root, later cleared), and threads ask each other for explicit merges.
 *
 * Property: an object whose tid is 0 is merged (H1) at every `stw`; no refcount goes
 * negative; everything is freed exactly once and shutdown leaks nothing.
 * Targets: tid-zero-unmerged (Inv H1, negative-refcount fatal). */
#include "gen.h"

static program *scn_gen_merge_at_zero(uint64_t seed, const scenario_params *sp)
{
    gen g;
    if (gen_init(&g, "merge-at-zero", seed, sp, 1) < 0)
        return NULL;
    gen_add_workers(&g, PROG_MODE_EARLY, 0);
    int n = (int)g.p->nthreads;
    for (int t = 0; t < n; t++) {
        while (gen_room(&g, t)) {
            switch (gen_below(&g, t, 6)) {
            case 0:
            case 1: /* own an object, share it, drop the owner's reference */
                if (gen_chance(&g, t, 400))
                    gen_op(&g, t, PROG_OP_NEW_FINALIZABLE, 0, (int)gen_below(&g, t, 2),
                           gen_chance(&g, t, 500) ? PROG_FIN_DEALLOC_RESURRECT : PROG_FIN_RESURRECT);
                else
                    gen_op(&g, t, PROG_OP_NEW_CONTAINER, 0, 1);
                gen_op(&g, t, PROG_OP_DUP, 1, 0);
                gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 1);
                if (gen_chance(&g, t, 300)) {
                    gen_op(&g, t, PROG_OP_DUP, 1, 0);
                    gen_op(&g, t, PROG_OP_SEND, (int)gen_below(&g, t, PROG_NMAILBOXES), 1);
                }
                if (gen_chance(&g, t, 300))
                    gen_op(&g, t, PROG_OP_YIELD);
                gen_op(&g, t, PROG_OP_DROP, 0);
                break;
            case 2: /* a foreign object: take, copy, drop (shared path) */
            case 3:
                gen_op(&g, t, PROG_OP_RECV, 2, (int)gen_below(&g, t, PROG_NMAILBOXES));
                gen_op(&g, t, PROG_OP_DUP, 3, 2);
                gen_op(&g, t, PROG_OP_DROP, 2);
                if (gen_chance(&g, t, 500))
                    gen_op(&g, t, PROG_OP_YIELD);
                gen_op(&g, t, PROG_OP_DROP, 3);
                break;
            case 4: /* resurrected objects sit in roots: read and clear them */
                gen_op(&g, t, PROG_OP_ROOT_GET, 4, (int)gen_below(&g, t, PROG_NROOTS));
                if (gen_chance(&g, t, 500))
                    gen_op(&g, t, PROG_OP_ROOT_CLEAR, (int)gen_below(&g, t, PROG_NROOTS));
                gen_op(&g, t, PROG_OP_DROP, 4);
                break;
            default:
                gen_op(&g, t, PROG_OP_MERGE_REQUEST, (int)gen_below(&g, t, (uint32_t)n));
                gen_op(&g, t, PROG_OP_POLL);
                break;
            }
            if (gen_chance(&g, t, 90))
                gen_op(&g, t, PROG_OP_STW);
        }
        gen_op(&g, t, PROG_OP_POLL);
        gen_op(&g, t, PROG_OP_STW);
    }
    return gen_finish(&g);
}

const scenario scn_merge_at_zero = {
    .name = "merge-at-zero",
    .property = "owners give objects up (merge at zero local) while others decref through the shared field; tid 0 implies merged (H1)",
    SCENARIO_TARGETS({"tid-zero-unmerged", SCN_INV}),
    .default_threads = SCENARIO_DEFAULT_THREADS,
    .gen = scn_gen_merge_at_zero,
};
