/* gc_check.c — the collector's validators (model.md §7.6): G1–G4 and G7 over the world (hooked
 * into rs_check_world), G2 over a worklist, and the between-phase checks the collector runs
 * with opts.validate (entry, D3 after update_refs, worklists after scan and after STW #2).
 * G5 (others' freelists cleared only under STW) is structural: the one call site is inside
 * STW #2.  G6 is asserted by the GC's heap walk itself (rs_gc_walk). */
#include <stdio.h>

#include "check.h"
#include "rs/fatal.h"
#include "gc_internal.h"
#include "runtime.h"
#include "tstate.h"

typedef struct check_ctx {
    rs_violation *v;
    bool ok;
} check_ctx;

static bool check_idle_object(rs_object *o, void *arg)
{
    check_ctx *c = arg;
    uint8_t bits = rs_gc_bits(o);
    if (bits & RS_GC_UNREACHABLE)
        return c->ok = rs_violate(c->v, "G1", o, "object UNREACHABLE with no collection running (ob_tid=%#lx)",
                                  (unsigned long)rs_atomic_load_relaxed_uptr(&o->ob_tid));
    if (bits & RS_GC_ALIVE)
        return c->ok = rs_violate(c->v, "G3", o, "object still ALIVE with no collection running");
    return true;
}

/* the GC walk takes HEAD_LOCK; this variant runs with it held (from rs_check_world) */
static bool walk_locked(bool (*fn)(void *, size_t, rs_heap_kind, void *), void *arg)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized) && /* pairs with rs_tstate_bind */
            !rs_heap_visit_tld(&t->heap, RS_HEAP_MASK(RS_HEAP_GC), fn, arg))
            return false;
    return rs_heap_visit_abandoned(RS_HEAP_MASK(RS_HEAP_GC), fn, arg);
}

static bool idle_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size;
    (void)kind;
    return check_idle_object(block, arg);
}

bool rs_gc_check_locked(rs_violation *v)
{
    int collecting = rs_atomic_load_relaxed_int(&rs_rt.gc.collecting);
    if (collecting != 0 && collecting != 1)
        return rs_violate(v, "G4", NULL, "collecting == %d (one collection at a time: 0 or 1)", collecting);
    int64_t young = rs_atomic_load_relaxed_i64(&rs_rt.gc.young_count);
    int64_t flushed = rs_atomic_load_relaxed_i64(&rs_rt.gc.flushed_folded);
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        flushed += rs_atomic_load_relaxed_i64(&t->gc.flushed_since_reset);
    if (young != flushed)
        return rs_violate(v, "G7", NULL, "young.count %ld != sum of per-thread flushes %ld since the reset",
                          (long)young, (long)flushed);
    if (collecting)
        return true; /* entries of a running collection are UNREACHABLE between phases */
    check_ctx c = {v, true};
    return walk_locked(idle_block, &c) || c.ok ? c.ok : false;
}

bool rs_gc_check_worklist(rs_object *head, bool unreachable, rs_violation *v)
{
    for (rs_object *o = head; o; o = rs_gc_worklist_next(o)) {
        intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
        if ((shared & RS_REF_SHARED_FLAG_MASK) != RS_REF_MERGED)
            return rs_violate(v, "G2", o, "worklist entry is not merged (shared flags %ld)",
                              (long)(shared & RS_REF_SHARED_FLAG_MASK));
        if ((shared >> RS_REF_SHARED_SHIFT) < 1 || rs_atomic_load_relaxed_u32(&o->ob_ref_local) != 0)
            return rs_violate(v, "G2", o, "worklist entry holds no reference for the list (count %ld, local %u)",
                              (long)(shared >> RS_REF_SHARED_SHIFT),
                              rs_atomic_load_relaxed_u32(&o->ob_ref_local));
        if (unreachable && !(rs_gc_bits(o) & RS_GC_UNREACHABLE))
            return rs_violate(v, "G2", o, "unreachable-list entry lost its UNREACHABLE bit");
    }
    return true;
}

/* ---- between phases (collector, under STW) ---- */

static _Noreturn void fail(const char *where, const rs_violation *v)
{
    static char buf[320];
    snprintf(buf, sizeof buf, "GC validation (%s): %s %s", where, v->invariant, v->msg);
    rs_fatal(buf, v->obj);
}

void rs_gc_validate_world(const char *where)
{
    rs_violation v;
    if (!rs_check_world(&v))
        fail(where, &v);
}

static bool check_gc_refs(rs_object *o, void *arg)
{
    check_ctx *c = arg;
    uint8_t bits = rs_gc_bits(o);
    if (!(bits & RS_GC_TRACKED) || (bits & RS_GC_ALIVE) || rs_is_immortal(o))
        return true;
    if (!(bits & RS_GC_UNREACHABLE))
        return c->ok = rs_violate(c->v, "G1", o, "tracked object not UNREACHABLE after update_refs");
    if ((intptr_t)rs_atomic_load_relaxed_uptr(&o->ob_tid) < 0)
        return c->ok = rs_violate(c->v, "D3", o, "gc_refs %ld < 0 after update_refs (%s)",
                                  (long)(intptr_t)rs_atomic_load_relaxed_uptr(&o->ob_tid),
                                  o->ob_type->tp_name);
    return true;
}
RS_GC_WALKER(check_gc_refs)

void rs_gc_validate_gc_refs(void)
{
    rs_violation v;
    check_ctx c = {&v, true};
    rs_gc_walk(check_gc_refs_block, &c);
    if (!c.ok)
        fail("after update_refs", &v);
}

void rs_gc_validate_worklists(rs_gc_state *g, const char *where)
{
    rs_violation v;
    if (!rs_gc_check_worklist(g->unreachable, true, &v) ||
        !rs_gc_check_worklist(g->objs_to_decref, false, &v) ||
        !rs_gc_check_worklist(g->wrcb_to_call, false, &v))
        fail(where, &v);
}
