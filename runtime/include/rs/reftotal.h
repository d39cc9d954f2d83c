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

/* rs__owner_key: this thread's id while its slot is set, else RS_NO_OWNER_KEY, a value no
 * ob_tid ever holds (odd and above every user-space address: not a thread id, a block or
 * object address, a gc_refs count or a root count).  Both are set together, by the thread
 * itself (rs__tstate_set_current), so ob_tid == rs__owner_key tells the inline owner paths of
 * object.h in one compare that the object is theirs and that the slot may be used without
 * the NULL test (rs_reftotal_add_keyed).  A zero-initialised key would match merged objects:
 * the static initial value is RS_NO_OWNER_KEY. */
#define RS_NO_OWNER_KEY (((uintptr_t)1 << 63) | 1)
extern _Thread_local uintptr_t rs__owner_key;

/* RS_NO_REFTOTAL (the release-nort build flavour, for benchmarks only): the totals are not
 * kept (they stay 0, and the RT check is off); a thread without a thread state still takes
 * the slow path and its fatal report. */
static inline void rs_reftotal_add_inline(intptr_t n)
{
    RS_ATOMIC(intptr_t) *p = rs__reftotal_slot;
    if (__builtin_expect(p == NULL, 0)) {
        rs_reftotal_slow(n);
        return;
    }
#ifndef RS_NO_REFTOTAL
    rs_atomic_store_relaxed_iptr(p, rs_atomic_load_relaxed_iptr(p) + n);
#endif
}
/* only after a match of rs__owner_key (the slot is set) */
static inline void rs_reftotal_add_keyed(intptr_t n)
{
#ifndef RS_NO_REFTOTAL
    RS_ATOMIC(intptr_t) *p = rs__reftotal_slot;
    rs_atomic_store_relaxed_iptr(p, rs_atomic_load_relaxed_iptr(p) + n);
#else
    (void)n;
#endif
}
static inline void rs_reftotal_inc(void) { rs_reftotal_add_inline(1); }
static inline void rs_reftotal_dec(void) { rs_reftotal_add_inline(-1); }

#endif
