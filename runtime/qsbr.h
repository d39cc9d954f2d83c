#ifndef RS_RUNTIME_INTERNAL
#error "runtime/qsbr.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* qsbr.h — quiescent-state-based reclamation (model.md §11): when may a block that readers might
 * still hold be freed?
 *
 * A shared write sequence `wr_seq` (odd, starts at RS_QSBR_INITIAL, grows by RS_QSBR_INCR) is
 * advanced by writers that retire memory: the value it reaches is the retired block's *goal*.
 * Every thread state owns a record whose `seq` is the write sequence it last observed at a
 * quiescent point (holding no pointer into retired memory), or RS_QSBR_OFFLINE (0) while the
 * thread is detached or suspended.  `rd_seq` caches the minimum over all online records (and
 * wr_seq): a goal G is reached once rd_seq ≥ G.  All comparisons are signed 64-bit differences.
 *
 * Records live in one array of 64-byte padded slots (no false sharing), at least
 * RS_QSBR_MIN_ARRAY long, doubled when full.  **Choice:** a thread state keeps the *index* of
 * its slot, never a pointer, and every access re-reads the array pointer.  The array is grown
 * only under stop-the-world *and* the QSBR mutex: lock-free accesses to records (attach,
 * detach, quiescent, poll) are made only by ATTACHED threads, which are all stopped during
 * the growth, and the remaining accesses (register, unregister, reserve) hold the mutex.  So
 * no one reads the old array once it is freed.
 *
 * Invariants (rs_qsbr_check_locked, under STW):
 *   Q2  wr_seq odd, never decreasing; rd_seq ≤ wr_seq
 *   Q3  state ATTACHED ⇒ seq ≠ 0; DETACHED, SUSPENDED or SHUTTING_DOWN ⇒ seq == 0
 * (Q1, Q4, Q5 concern the delayed-free queues: delayed.h.) */
#ifndef RS_QSBR_H
#define RS_QSBR_H

#include "rs/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "lock.h"
#include "rs/object.h"
#include "rs/violation.h"

#define RS_QSBR_OFFLINE ((int64_t)0)
#define RS_QSBR_INITIAL ((int64_t)1)
#define RS_QSBR_INCR ((int64_t)2)
#define RS_QSBR_DEFERRED_LIMIT 10
#define RS_QSBR_MIN_ARRAY 8
#define RS_QSBR_NO_SLOT ((size_t)-1)

/* a ≤ b in sequence arithmetic (signed difference: survives wrap-around) */
static inline bool rs_qsbr_leq(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b) <= 0; }
static inline bool rs_qsbr_lt(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b) < 0; }

/* One thread's record, padded to a cache line. */
typedef struct rs_qsbr_rec {
    RS_ATOMIC(int64_t) seq;   /* owner writes (attach/detach/quiescent); pollers read; 0 = offline */
    int deferrals;            /* owner-only: deferred advances since the last real one */
    bool allocated;           /* QSBR mutex */
    size_t freelist_next;     /* QSBR mutex; RS_QSBR_NO_SLOT ends the list */
} __attribute__((aligned(64))) rs_qsbr_rec;

/* Shared state, embedded in rs_runtime as rs_rt.qsbr. */
typedef struct rs_qsbr_shared {
    RS_ATOMIC(int64_t) wr_seq;        /* odd; advanced by atomic add */
    RS_ATOMIC(int64_t) rd_seq;        /* ≤ wr_seq; raised by CAS in poll */
    RS_ATOMIC(void *) array;          /* rs_qsbr_rec[size]; replaced only under STW + mutex */
    RS_ATOMIC(uintptr_t) size;        /* likewise */
    rs_mutex mutex;                   /* allocated, freelist, growth */
    size_t freelist;                  /* mutex; RS_QSBR_NO_SLOT when empty */
    size_t nallocated;                /* mutex; slots in use (statistics, tests) */
    RS_ATOMIC(uint64_t) grows;        /* statistics: array doublings */
    int64_t check_last_wr;            /* validator only (under STW): Q2 monotonicity */
} rs_qsbr_shared;

/* Runtime init/fini: allocate (−1 on failure) / free the record array. */
int rs_qsbr_init(void);
void rs_qsbr_fini(void);

/* Reserve a free slot (any thread; may stop the world to double the array; fault
 * "qsbr.grow").  Returns the index, or RS_QSBR_NO_SLOT on failure.  The slot is allocated
 * but offline. */
size_t rs_qsbr_reserve(void);
/* Bind a reserved slot to ts (after HEAD_UNLOCK in rs_tstate_new). */
void rs_qsbr_register(rs_tstate *ts, size_t idx);
/* Free ts's slot; the record must be offline.  Holding no other runtime lock. */
void rs_qsbr_unregister(rs_tstate *ts);

/* Writers: a new goal (advance the write sequence) ... */
int64_t rs_qsbr_advance(void);
/* ... or, on ts's behalf, reuse the next sequence for up to RS_QSBR_DEFERRED_LIMIT − 1
 * calls before really advancing (owner-only: ts is the caller, attached). */
int64_t rs_qsbr_deferred_advance(rs_tstate *ts);
/* Readers (owner-only, attached): go online; go offline.  (A quiescent point:
 * rs_qsbr_quiescent, rs/api.h.) */
void rs_qsbr_attach(rs_tstate *ts);
void rs_qsbr_detach(rs_tstate *ts);
/* the same for a thread that is already unlinked (exit step 7): under the QSBR mutex, since no
 * pause stops such a thread and a reserve may be moving the array */
void rs_qsbr_detach_unlinked(rs_tstate *ts);
/* Has goal been reached?  Caller attached (or the STW requester).  May raise rd_seq. */
bool rs_qsbr_poll(rs_tstate *ts, int64_t goal);

/* Readers of the shared state (relaxed; tests, statistics, validators) */
int64_t rs_qsbr_wr_seq(void);
int64_t rs_qsbr_rd_seq(void);
int64_t rs_qsbr_seq_of(const rs_tstate *ts);   /* ts's record seq, relaxed */

/* Q2, Q3 over rs_rt.threads: under STW with HEAD_LOCK held (rs_check_world). */
bool rs_qsbr_check_locked(rs_violation *v);

#endif
