/* roots.c — the root slots: rs_rt.roots[8] (module globals) and rs_rt.late_roots[8] (dropped
 * after the final collection), each an atomic slot holding a strong reference (model.md §0.1).
 *
 * set: the stored reference is the caller's (stolen).  MAYBE_WEAKREF is put into the value's
 * shared flags first, so that a non-owner's try_incref of a live stored value always succeeds
 * (a bare shared field of 0 would make it fail for as long as the owner keeps the object);
 * then exchange (acq_rel) and decref the old value.
 * get: acquire load, try_incref_compare, retried: the loop ends because a failure means the
 * slot changed meanwhile (the slot's own reference keeps its current value alive). */
#include "objects.h"

#include "rs/fatal.h"
#include "runtime.h"

static RS_ATOMIC(void *) *slot(RS_ATOMIC(void *) *table, int i)
{
    if (i < 0 || i >= RS_ROOTS)
        rs_fatal("root index out of range", NULL);
    return &table[i];
}

static void slot_set(RS_ATOMIC(void *) *s, rs_object *o)
{
    if (o != NULL)
        rs_object_set_maybe_weakref(o);
    /* acq_rel: release publishes o to slot_get's acquire load; acquire orders our decref of
     * the old value after the set that stored it */
    rs_object *old = rs_atomic_exchange_acq_rel_ptr(s, o);
    if (old != NULL)
        rs_decref(old);
}

static rs_object *slot_get(RS_ATOMIC(void *) *s)
{
    for (;;) {
        /* acquire: pairs with the exchange in slot_set */
        rs_object *o = rs_atomic_load_acquire_ptr(s);
        if (o == NULL)
            return NULL;
        if (rs_try_incref_compare(s, o))
            return o;
    }
}

void rs_root_set(int i, rs_object *o) { slot_set(slot(rs_rt.roots, i), o); }
rs_object *rs_root_get(int i) { return slot_get(slot(rs_rt.roots, i)); }
void rs_late_root_set(int i, rs_object *o) { slot_set(slot(rs_rt.late_roots, i), o); }
rs_object *rs_late_root_get(int i) { return slot_get(slot(rs_rt.late_roots, i)); }

void rs_roots_clear(void)
{
    for (int i = 0; i < RS_ROOTS; i++)
        slot_set(&rs_rt.roots[i], NULL);
}

void rs_late_roots_clear(void)
{
    for (int i = 0; i < RS_ROOTS; i++)
        slot_set(&rs_rt.late_roots[i], NULL);
}
