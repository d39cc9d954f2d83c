/* gc.c — the collector's driver, rs_gc_collect (model.md §7.2): a script of phases.
 *
 * One collection at a time (CAS collecting 0 → 1).  Phase 1 runs under a first stop-the-world
 * and finds the unreachable set; the world restarts for phase 2 (pending decrefs, weakref
 * callbacks, finalizers, which may resurrect); phase 3 stops it again to see which entries
 * finalizers resurrected; phase 4 clears and drops the rest with the world running.  An
 * allocation failure while marking takes the error exit of §7.3: every object is restored and
 * nothing is freed.  With opts.validate the collector runs the world's validators at entry and
 * its own between phases (a broken invariant there is fatal: the GC cannot go on). */
#include "gc_internal.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static bool begin(rs_tstate *ts, rs_gc_reason reason)
{
    int expected = 0;
    /* acquire: pairs with the release store of 0 at the end of the previous collection */
    if (!rs_atomic_cas_acquire_int(&rs_rt.gc.collecting, &expected, 1))
        return false;
    bool go = true;
    if (reason == RS_GC_MANUAL)
        go = rs_gc_is_enabled();
    else if (reason == RS_GC_HEAP)
        go = rs_bug(RS_BUG_GC_IGNORES_ENABLED) ? true : rs_gc_should_collect();
    if (!go) {
        rs_atomic_store_release_int(&rs_rt.gc.collecting, 0); /* pairs with the CAS above */
        return false;
    }
    rs_rt.gc.collector = ts;
    rs_hook_event(RS_EV_GC_BEGIN, reason);
    return true;
}

static void end(rs_gc_reason reason)
{
    rs_rt.gc.collector = NULL;
    rs_atomic_add_relaxed_u64(&rs_rt.gc.collections[reason], 1);
    rs_atomic_store_release_int(&rs_rt.gc.collecting, 0); /* pairs with the CAS in begin() */
}

/* §7.3: restore every object, restart, release the collector; pending decrefs still run */
static int error_exit(rs_gc_state *g)
{
    rs_gc_phase_error_restore(g);
    rs_start_the_world(g->ts);
    rs_gc_phase_drain_failed(g);
    rs_atomic_add_relaxed_u64(&rs_rt.gc.failed, 1);
    end(g->reason);
    return -1;
}

int rs_gc_collect(rs_tstate *ts, rs_gc_reason reason)
{
    if (!begin(ts, reason))
        return 0;
    rs_gc_state g = {.ts = ts, .reason = reason};
    rs_objstack_init_reserve(&g.mark, &g.mark_reserve);
    bool validate = rs_rt.opts.validate;

    /* ---- phase 1: STW #1, find the unreachable set ---- */
    rs_stop_the_world(ts);
    if (validate) /* entry: H1–H5, G1–G7 (5a) */
        rs_gc_validate_world("GC entry");
    rs_gc_phase_reset_counts(&g);      /* (1) young.count = 0, flushed_since_reset = 0 */
    rs_gc_phase_drain_queues(&g);      /* (2) type counts; BRC queues (zero & untracked ⇒ objs_to_decref) */
    rs_gc_phase_delayed_frees(&g);     /* (3) QSBR-delayed frees, all ready */
    rs_gc_phase_update_refs(&g);       /* (5b) gc_refs = rc − internal refs; untrack leaf-only containers */
    if (validate)
        rs_gc_validate_gc_refs();      /* (5c) every candidate UNREACHABLE, gc_refs ≥ 0 */
    rs_gc_phase_visit_stacks(&g);      /* (5d) tagged stack references count (§3.3) */
    if (rs_gc_phase_mark(&g) < 0)      /* (5e) clear UNREACHABLE on all reachable */
        return error_exit(&g);
    rs_gc_phase_scan(&g);              /* (5f) unreachable ⇒ merged +1 on the list; others restored */
    rs_atomic_store_relaxed_i64(&rs_rt.gc.long_lived_total, g.long_lived_total); /* (6) */
    rs_gc_phase_weakrefs(&g);          /* (7) clear weakrefs to garbage; queue callbacks */
    if (validate)
        rs_gc_validate_worklists(&g, "after scan"); /* G2 */
    rs_start_the_world(ts);

    /* ---- phase 2: world running ---- */
    rs_gc_phase_decref_and_callbacks(&g); /* objs_to_decref, then weakref callbacks */
    rs_gc_phase_finalize(&g);             /* finalizers, once each; may resurrect */

    /* ---- phase 3: STW #2, the resurrection check ---- */
    rs_stop_the_world(ts);
    int rc = rs_gc_phase_resurrection_check(&g);
    if (validate && rc == 0)
        rs_gc_validate_worklists(&g, "after the resurrection check"); /* (5) G2 */
    rs_gc_phase_clear_freelists(&g, true); /* all threads' freelists, under STW (G5) */
    rs_start_the_world(ts);

    /* ---- phase 4: world running, clear the garbage ---- */
    if (rc < 0) {
        rs_gc_phase_drain_failed(&g);  /* drop the lists' references, clear nothing */
        rs_atomic_add_relaxed_u64(&rs_rt.gc.failed, 1);
        end(reason);
        return -1;
    }
    rs_gc_phase_clear_garbage(&g);     /* tp_clear each entry, drop its +1 */
    rs_gc_phase_clear_freelists(&g, false); /* own freelists refill from what was freed */
    rs_atomic_add_relaxed_u64(&rs_rt.gc.collected, (uint64_t)g.collected);
    end(reason);
    return (int)g.collected;
}
