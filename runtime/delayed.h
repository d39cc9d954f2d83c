#ifndef RS_RUNTIME_INTERNAL
#error "runtime/delayed.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* delayed.h — QSBR-delayed frees of MEM-heap blocks (model.md §11, CPython: _PyMem_FreeDelayed).
 *
 * A block that lock-free readers may still hold (e.g. a SHARED list's replaced item buffer)
 * is not freed at once: rs_free_delayed stamps it with a QSBR goal and appends {ptr, goal}
 * to the calling thread's queue.  Queues are lists of 4096-byte chunks (MEM-heap blocks
 * themselves, so leak accounting sees them) filled at wr_idx and drained at rd_idx.
 * Processing frees items in order while rs_qsbr_poll(goal) holds and stops at the first that
 * is not ready.  An exiting thread splices its non-empty queue onto the runtime queue
 * {mutex, list, has_work}, which attached threads drain from rs_poll (try-lock) and the
 * runtime frees whole at shutdown (ignoring goals).
 *
 * Invariants (rs_delayed_check_locked, under STW):
 *   Q1  a block stamped with goal G is freed only when rd_seq ≥ G — checked at each free;
 *       violations are counted in rs_rt.delayed.q1_violations, which the validator reports
 *   Q4  goals in each queue never decrease (from rd_idx of the oldest chunk to the newest)
 *   Q5  no item stays queued forever: a non-empty runtime queue has has_work set (so every
 *       poller tries to drain it); per-thread queues belong to linked thread states */
#ifndef RS_DELAYED_H
#define RS_DELAYED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "lock.h"
#include "rs/object.h"
#include "rs/violation.h"

#define RS_DELAYED_CHUNK_BYTES 4096
#define RS_DELAYED_CHUNK_ITEMS 254

typedef struct rs_delayed_item {
    void *ptr;       /* a MEM-heap block */
    int64_t goal;    /* QSBR goal: free once rd_seq ≥ goal */
} rs_delayed_item;

typedef struct rs_delayed_chunk {
    struct rs_delayed_chunk *prev, *next;   /* node: head = oldest */
    size_t rd_idx, wr_idx;                  /* items[rd_idx, wr_idx) are queued */
    rs_delayed_item items[RS_DELAYED_CHUNK_ITEMS];
} rs_delayed_chunk;

_Static_assert(sizeof(rs_delayed_chunk) == RS_DELAYED_CHUNK_BYTES, "delayed-free chunk is 4096 bytes");

/* A queue: per thread (owner-only, embedded in the thread state as mem_free_queue) or the
 * runtime's (under its mutex). */
typedef struct rs_delayed_queue {
    rs_delayed_chunk *head, *tail;
} rs_delayed_queue;

/* The runtime queue and statistics, embedded in rs_runtime as rs_rt.delayed. */
typedef struct rs_delayed_runtime {
    rs_mutex mutex;                      /* guards queue */
    rs_delayed_queue queue;
    RS_ATOMIC(int) has_work;             /* release store after splicing; acquire test in polls */
    RS_ATOMIC(uint64_t) queued;          /* items appended */
    RS_ATOMIC(uint64_t) freed_delayed;   /* items freed by processing */
    RS_ATOMIC(uint64_t) freed_now;       /* freed at once (finalizing or world stopped) */
    RS_ATOMIC(uint64_t) freed_stw;       /* no chunk: freed under a stop-the-world */
    RS_ATOMIC(uint64_t) freed_at_fini;   /* freed by shutdown ignoring goals */
    RS_ATOMIC(uint64_t) q1_violations;   /* frees with rd_seq < goal (Q1) */
    RS_ATOMIC(void *) q1_last_ptr;       /* the last such block and its figures, for the */
    RS_ATOMIC(int64_t) q1_last_goal;     /*  report (relaxed; read by the validator at STW) */
    RS_ATOMIC(int64_t) q1_last_rd;
} rs_delayed_runtime;

/* Free MEM block p once no reader can hold it.  ts: the caller, attached (or the STW
 * requester).  NULL ⇒ nothing; finalizing or world stopped ⇒ freed now; no chunk (fault
 * "delayed.chunk" or OOM) ⇒ freed under a stop-the-world; a full chunk ⇒ the queue is
 * processed. */
void rs_free_delayed(rs_tstate *ts, void *p);
/* Free what is ready in ts's own queue, then in the runtime queue if it has work and its
 * try-lock succeeds (rs_poll, full chunks, the GC). */
void rs_delayed_process(rs_tstate *ts);
/* Only the runtime queue (rs_poll's tail). */
void rs_delayed_process_runtime(rs_tstate *ts);
/* Exit step (4): splice ts's non-empty queue onto the runtime queue (sets has_work); an
 * empty chunk is freed. */
void rs_delayed_abandon(rs_tstate *ts);
/* Shutdown step 9: free everything in the runtime queue, ignoring goals (ts: the main state). */
void rs_delayed_fini(rs_tstate *ts);
/* Items queued in ts's own queue / in the runtime queue (owner, or under STW / for tests). */
size_t rs_delayed_queue_len(const rs_delayed_queue *q);

/* Internal, exposed for tests and mutants: free one item, checking Q1. */
void rs__delayed_free_item(rs_tstate *ts, rs_delayed_item it);

/* Q1, Q4, Q5: under STW with HEAD_LOCK held (rs_check_world). */
bool rs_delayed_check_locked(rs_violation *v);

#endif
