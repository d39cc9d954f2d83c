/* reftotal.h — per-thread reference totals (model.md §10), the inline part.
 *
 * Each thread's total is written only by that thread: a relaxed load and a relaxed store of
 * old + n (no read-modify-write needed, others only read it under HEAD_LOCK or STW).  The
 * thread finds its total through rs__reftotal_slot, set when its thread state is bound or
 * attached on it and cleared when the state is deleted; a NULL slot sends the operation to the
 * slow path, which reports a refcount operation by a thread without a state as fatal (or, with
 * the reftotal-racy mutant, does the historical plain += on the runtime total).
 *
 * Conservation (RT): at every quiescent point
 *     rs_get_reftotal() == Σ live mortal objects' refcnt (minus the deferred bias). */
#ifndef RS_REFTOTAL_H
#define RS_REFTOTAL_H

#include <stdint.h>

#include "rs/atomic.h"

extern _Thread_local RS_ATOMIC(intptr_t) *rs__reftotal_slot;
void rs_reftotal_slow(intptr_t n);

static inline void rs_reftotal_add_inline(intptr_t n)
{
    RS_ATOMIC(intptr_t) *p = rs__reftotal_slot;
    if (__builtin_expect(p == NULL, 0)) {
        rs_reftotal_slow(n);
        return;
    }
    rs_atomic_store_relaxed_iptr(p, rs_atomic_load_relaxed_iptr(p) + n);
}
static inline void rs_reftotal_inc(void) { rs_reftotal_add_inline(1); }
static inline void rs_reftotal_dec(void) { rs_reftotal_add_inline(-1); }

#endif
