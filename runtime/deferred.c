/* deferred.c — deferred reference counting (model.md §3.1, §3.4): marking objects deferred at
 * creation (or immortalising them while temporary immortalisation is active), enabling
 * deferral on an existing tracked object, and disabling it for the GC under stop-the-world.
 *
 * The bias RS_REF_DEFERRED sits in the count part of ob_ref_shared and is never added to the
 * reference total; stack references to a DEFERRED object may be tagged (uncounted), so the
 * object's count (bias excluded) may be 0 while it is in use.  Only the GC may decide that it
 * is garbage, after which it disables deferral and merges the count. */
#include "deferred.h"

#include "code.h"
#include "rs/fatal.h"
#include "immortal.h"
#include "runtime.h"

void rs_set_deferred(rs_object *o)
{
    RS_ASSERT(rs_is_owned(o) && rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) == 0);
    RS_ASSERT(rs_gc_bits(o) & RS_GC_TRACKED);
    /* creation: only this thread sees o, so plain load-modify-stores of the header suffice */
    if (rs_immortalize_active()) {
        intptr_t rc = rs_refcnt(o);
        rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, RS_IMMORTAL_REFCNT_LOCAL);
        rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, 0);
        rs_gc_bits_set(o, RS_GC_DEFERRED);
        rs_reftotal_add_inline(-rc);   /* immortals are not counted */
        return;
    }
    rs_gc_bits_set(o, RS_GC_DEFERRED);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(RS_REF_DEFERRED, 0));
}

int rs_object_enable_deferred(rs_object *o)
{
    if (!rs_is_owned(o) || rs_is_immortal(o))
        return -1;
    uint8_t bits = rs_gc_bits(o);
    for (;;) {
        if (!(bits & RS_GC_TRACKED) || (bits & RS_GC_DEFERRED))
            return -1;
        /* relaxed CAS: ob_gc_bits writers otherwise hold ob_mutex or stop the world; the CAS
         * keeps us from losing a concurrent locked writer's bit (model.md §1.2) */
        if (rs_atomic_cas_relaxed_u8(&o->ob_gc_bits, &bits, (uint8_t)(bits | RS_GC_DEFERRED)))
            break;
    }
    /* an RMW: non-owners may be adding to the shared count concurrently; relaxed because the
     * GC reads the bias (and the bit) only under STW */
    rs_atomic_add_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(RS_REF_DEFERRED, 0));
    return 0;
}

/* under STW: turn a tagged generator-frame reference into a counted one without looking at
 * the referent's ob_tid (it may hold gc_refs during a collection) */
static rs_stackref make_strong_stw(rs_stackref r)
{
    rs_object *o = rs_sr_obj(r);
    if (o == NULL || !rs_sr_is_tagged(r))
        return r;
    if (!rs_is_immortal(o)) {
        rs_atomic_add_relaxed_iptr(&o->ob_ref_shared, RS_REF_SHARED(1, 0)); /* STW: no order needed */
        rs_reftotal_add_inline(1);
    }
    return (rs_stackref){(uintptr_t)o};
}

void rs_deferred_disable(rs_object *o)
{
    uint8_t bits = rs_gc_bits(o);
    if ((bits & RS_GC_DEFERRED) && !rs_is_immortal(o)) {
        rs_gc_bits_clear(o, RS_GC_DEFERRED);
        intptr_t s = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
        rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, s - RS_REF_SHARED(RS_REF_DEFERRED, 0));
    }
    if (o->ob_type == &rs_gen_type && ((rs_gen *)o)->frame != NULL) {
        /* a finalizer may resurrect the generator: its referents must then be counted */
        rs_frame *f = ((rs_gen *)o)->frame;
        f->f_executable = make_strong_stw(f->f_executable);
        f->f_funcobj = make_strong_stw(f->f_funcobj);
        for (rs_stackref *p = f->localsplus; p < f->stackpointer; p++)
            *p = make_strong_stw(*p);
    }
}

void rs_deferred_test_release(rs_object *o, intptr_t nrefs)
{
    RS_ASSERT(nrefs >= 0);
    if (rs_is_immortal(o)) {
        rs_reftotal_add_inline(nrefs);     /* de-immortalisation adds the count back (§10) */
    } else {
        intptr_t rc = rs_refcnt(o) - ((rs_gc_bits(o) & RS_GC_DEFERRED) ? RS_REF_DEFERRED : 0);
        if (rc != nrefs)
            rs_fatal("rs_deferred_test_release: the count is not the caller's references", o);
    }
    /* sole access: like merge_refcount(o, -nrefs) reaching 0 */
    rs_gc_bits_clear(o, RS_GC_DEFERRED);
    rs_atomic_store_relaxed_uptr(&o->ob_tid, 0);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_atomic_store_relaxed_iptr(&o->ob_ref_shared, RS_REF_MERGED);
    rs_reftotal_add_inline(-nrefs);
    rs_dealloc(o);
}
