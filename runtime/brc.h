#ifndef RS_RUNTIME_INTERNAL
#error "runtime/brc.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* brc.h — biased reference counting: the merge queues (model.md §2.2).
 *
 * A non-owner whose decref would make the shared count negative hands its reference to the
 * owner instead: it marks the object QUEUED, pushes it onto the owner's shared queue (found in
 * a table of 257 buckets keyed by thread id) and sets EXPLICIT_MERGE on the owner's eval
 * breaker.  The owner, when it polls its eval breaker, merges every queued object.  A thread
 * leaving the table first drains its queues, so an enqueuer that finds no owner merges the
 * object itself.
 *
 * Invariants: B1 a QUEUED object is exactly once on the queue of the thread named by its
 * ob_tid (or being drained); B2 each entry holds one counted reference; B3 a thread absent
 * from the table has empty queues; E2 a non-empty shared queue ⇒ EXPLICIT_MERGE set or the
 * owner is merging. */
#ifndef RS_BRC_H
#define RS_BRC_H

#include "lock.h"
#include "objstack.h"

#define RS_BRC_NUM_BUCKETS 257

typedef struct rs_brc_state {
    rs_tstate *bucket_next;          /* bucket list, guarded by the bucket mutex */
    uintptr_t tid;                   /* 0: never registered; written before insertion */
    rs_objstack objects_to_merge;    /* guarded by the bucket mutex */
    rs_objstack local_objects_to_merge; /* owner-only */
    RS_ATOMIC(int) merging;          /* debug: owner is draining (relaxed) */
    /* an object this thread marked QUEUED but could not push (out of memory): it waits for
     * a stop-the-world to merge it (B1's window).  Written by this thread before it waits,
     * read by validators under STW (relaxed: the wait's detach orders it). */
    RS_ATOMIC(void *) unqueued;
} rs_brc_state;

typedef struct rs_brc_bucket {
    rs_mutex mutex;
    rs_tstate *head;
} rs_brc_bucket;

void rs_brc_queue(rs_object *o);           /* steals one reference */
void rs_brc_merge(rs_tstate *ts);          /* owner: merge everything queued to it */
void rs_brc_register(rs_tstate *ts);       /* on the bound thread */
void rs_brc_remove(rs_tstate *ts);         /* at exit; drains then unlinks */
/* under STW: drain ts's queues by merging (used by the GC and shutdown); returns objects
 * whose count reached zero through `zero_fn` (NULL: free them) */
void rs_brc_drain_stw(rs_tstate *ts, void (*zero_fn)(rs_object *o, void *arg), void *arg);

#endif
