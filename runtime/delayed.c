/* delayed.c — QSBR-delayed frees: per-thread and runtime queues of {ptr, goal} (model.md §11).
 *
 * rs_free_delayed appends to the caller's queue with a deferred QSBR goal; processing walks
 * the queue oldest first and frees while the goal is reached, keeping one empty chunk of a
 * thread's own queue for reuse.  Exiting threads splice their leftovers onto the runtime
 * queue, drained by attached threads at rs_poll (try-lock: a poll never waits for it) and
 * emptied whole at shutdown.  Every free of a queued item checks Q1 (rd_seq ≥ goal) and
 * counts a violation instead of aborting, so the validator (and a mutant hunt) can report it. */
#include "delayed.h"

#include "bugs.h"
#include "rs/debug.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "qsbr.h"
#include "runtime.h"
#include "tstate.h"

size_t rs_delayed_queue_len(const rs_delayed_queue *q)
{
    size_t n = 0;
    for (const rs_delayed_chunk *c = q->head; c; c = c->next)
        n += c->wr_idx - c->rd_idx;
    return n;
}

static void queue_unlink_head(rs_delayed_queue *q)
{
    rs_delayed_chunk *c = q->head;
    q->head = c->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    c->next = c->prev = NULL;
}

static void queue_push_chunk(rs_delayed_queue *q, rs_delayed_chunk *c)
{
    c->next = NULL;
    c->prev = q->tail;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
}

static void free_now(rs_tstate *ts, void *p, RS_ATOMIC(uint64_t) *counter)
{
    rs_heap_free(&ts->heap, p);
    rs_atomic_add_relaxed_u64(counter, 1);
}

void rs__delayed_free_item(rs_tstate *ts, rs_delayed_item it)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    int64_t rd = rs_qsbr_rd_seq();
    if (!rs_qsbr_leq(it.goal, rd)) {
        /* Q1 broken: record it for the validator, do not abort (a mutant hunt wants a report) */
        rs_atomic_store_relaxed_ptr(&d->q1_last_ptr, it.ptr);
        rs_atomic_store_relaxed_i64(&d->q1_last_goal, it.goal);
        rs_atomic_store_relaxed_i64(&d->q1_last_rd, rd);
        rs_atomic_add_relaxed_u64(&d->q1_violations, 1);
    }
    free_now(ts, it.ptr, &d->freed_delayed);
}

/* Free the ready prefix of q.  keep_one: keep (and reset) the last chunk once empty.
 * Returns whether q is now empty. */
static bool process_queue(rs_tstate *ts, rs_delayed_queue *q, bool keep_one)
{
    rs_delayed_chunk *c;
    while ((c = q->head) != NULL) {
        while (c->rd_idx < c->wr_idx) {
            rs_delayed_item it = c->items[c->rd_idx];
            if (!rs_qsbr_poll(ts, it.goal))
                return false;   /* Q4: goals never decrease, nothing later is ready either */
            RS_SCHED("delayed.process");
            c->rd_idx++;
            rs__delayed_free_item(ts, it);
        }
        if (keep_one && c == q->tail) {
            c->rd_idx = c->wr_idx = 0;
            break;
        }
        queue_unlink_head(q);
        rs_heap_free(&ts->heap, c);
    }
    return true;
}

void rs_delayed_process_runtime(rs_tstate *ts)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    /* acquire: pairs with the release store of has_work in rs_delayed_abandon */
    if (!rs_atomic_load_acquire_int(&d->has_work))
        return;
    if (!rs_mutex_trylock(&d->mutex))
        return;
    bool empty = process_queue(ts, &d->queue, false);
    /* release: pairs with the acquire test above (the queue's state under the mutex) */
    rs_atomic_store_release_int(&d->has_work, empty ? 0 : 1);
    rs_mutex_unlock(&d->mutex);
}

void rs_delayed_process(rs_tstate *ts)
{
    process_queue(ts, &ts->mem_free_queue, true);
    rs_delayed_process_runtime(ts);
}

void rs_mem_process_delayed(rs_tstate *ts)
{
    RS_ASSERT(rs_atomic_load_relaxed_int(&ts->state) == RS_TS_ATTACHED);
    rs_delayed_process(ts);
}

int64_t rs_debug_delayed_held(const rs_tstate *ts, int64_t goal)
{
    int64_t n = 0;
    for (const rs_delayed_chunk *c = ts->mem_free_queue.head; c != NULL; c = c->next)
        for (size_t i = c->rd_idx; i < c->wr_idx; i++)
            n += rs_qsbr_leq(c->items[i].goal, goal);
    return n;
}

/* The chunk could not be allocated: free p under a stop-the-world, when no other thread is
 * attached, hence none is between quiescent points holding p. */
static void free_under_stw(rs_tstate *ts, void *p)
{
    rs_stop_the_world(ts);
    free_now(ts, p, &rs_rt.delayed.freed_stw);
    rs_start_the_world(ts);
}

void rs_free_delayed(rs_tstate *ts, void *p)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    if (p == NULL)
        return;
    /* lifecycle mutant free-delayed-ignores-shutdown: only a stopped world frees at once */
    if ((rs_atomic_load_relaxed_int(&rs_rt.finalizing) && !rs_bug(RS_BUG_FREE_DELAYED_IGNORES_SHUTDOWN)) ||
        rs_world_is_stopped()) {
        /* finalizing: no reader can be running (shutdown shut them out); world stopped: the
         * caller is the requester and every other thread is offline */
        free_now(ts, p, &d->freed_now);
        return;
    }
    RS_ASSERT(rs_atomic_load_relaxed_int(&ts->state) == RS_TS_ATTACHED);
    int64_t goal = rs_qsbr_deferred_advance(ts);
    rs_delayed_queue *q = &ts->mem_free_queue;
    rs_delayed_chunk *c = q->tail;
    if (c == NULL || c->wr_idx == RS_DELAYED_CHUNK_ITEMS) {
        c = rs_fault(RS_FAULT_DELAYED_CHUNK) ? NULL
                                       : rs_heap_alloc(&ts->heap, RS_HEAP_MEM, sizeof *c);
        if (c == NULL) {
            free_under_stw(ts, p);
            return;
        }
        c->rd_idx = c->wr_idx = 0;
        queue_push_chunk(q, c);
    }
    RS_SCHED("delayed.append");
    c->items[c->wr_idx++] = (rs_delayed_item){p, goal};
    rs_atomic_add_relaxed_u64(&d->queued, 1);
    if (c->wr_idx == RS_DELAYED_CHUNK_ITEMS)
        rs_delayed_process(ts);
}

void rs_delayed_abandon(rs_tstate *ts)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    rs_delayed_queue *q = &ts->mem_free_queue;
    if (q->head == NULL)
        return;
    if (rs_delayed_queue_len(q) == 0) {
        /* only the kept empty chunk */
        RS_ASSERT(q->head == q->tail);
        rs_heap_free(&ts->heap, q->head);
        q->head = q->tail = NULL;
        return;
    }
    rs_mutex_lock(&d->mutex);
    RS_SCHED("delayed.abandon");
    if (d->queue.tail) {
        d->queue.tail->next = q->head;
        q->head->prev = d->queue.tail;
    } else {
        d->queue.head = q->head;
    }
    d->queue.tail = q->tail;
    q->head = q->tail = NULL;
    /* release: pairs with the acquire test in rs_delayed_process_runtime */
    rs_atomic_store_release_int(&d->has_work, 1);
    rs_mutex_unlock(&d->mutex);
}

void rs_delayed_fini(rs_tstate *ts)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    rs_mutex_lock(&d->mutex);
    rs_delayed_chunk *c;
    while ((c = d->queue.head) != NULL) {
        for (size_t i = c->rd_idx; i < c->wr_idx; i++)
            free_now(ts, c->items[i].ptr, &d->freed_at_fini);
        queue_unlink_head(&d->queue);
        rs_heap_free(&ts->heap, c);
    }
    rs_atomic_store_relaxed_int(&d->has_work, 0);
    rs_mutex_unlock(&d->mutex);
}

/* Q4 for one queue */
static bool check_queue(const rs_delayed_queue *q, const char *whose, uint64_t id, bool ordered,
                        rs_violation *v)
{
    bool first = true;
    int64_t last = 0;
    for (const rs_delayed_chunk *c = q->head; c; c = c->next) {
        if (c->rd_idx > c->wr_idx || c->wr_idx > RS_DELAYED_CHUNK_ITEMS)
            return rs_violate(v, "Q4", c, "%s queue %lu: chunk indices rd=%zu wr=%zu out of order",
                              whose, (unsigned long)id, c->rd_idx, c->wr_idx);
        for (size_t i = c->rd_idx; i < c->wr_idx; i++) {
            int64_t g = c->items[i].goal;
            if (ordered && !first && rs_qsbr_lt(g, last))
                return rs_violate(v, "Q4", c->items[i].ptr,
                                  "%s queue %lu: goal %ld follows goal %ld (goals must not decrease)",
                                  whose, (unsigned long)id, (long)g, (long)last);
            first = false;
            last = g;
        }
    }
    return true;
}

bool rs_delayed_check_locked(rs_violation *v)
{
    rs_delayed_runtime *d = &rs_rt.delayed;
    uint64_t q1 = rs_atomic_load_relaxed_u64(&d->q1_violations);
    if (q1 != 0)
        return rs_violate(v, "Q1", rs_atomic_load_relaxed_ptr(&d->q1_last_ptr),
                          "%lu delayed block(s) freed before their goal (last: goal %ld, rd_seq %ld)",
                          (unsigned long)q1, (long)rs_atomic_load_relaxed_i64(&d->q1_last_goal),
                          (long)rs_atomic_load_relaxed_i64(&d->q1_last_rd));
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (!check_queue(&t->mem_free_queue, "thread", t->id, true, v))
            return false;
    /* the runtime queue is read without its mutex: under STW only the requester runs runtime
     * code that takes it (pollers, exits and shutdown are all attached) */
    /* the runtime queue is a concatenation of abandoned thread queues (each ordered,
     * rs_delayed_abandon), so its goals may go down where one thread's queue ends: only the
     * chunk indices are checked there */
    if (!check_queue(&d->queue, "runtime", 0, false, v))
        return false;
    if (rs_delayed_queue_len(&d->queue) != 0 && !rs_atomic_load_relaxed_int(&d->has_work))
        return rs_violate(v, "Q5", NULL,
                          "the runtime delayed-free queue holds %zu item(s) but has_work is clear: "
                          "no poller will drain it",
                          rs_delayed_queue_len(&d->queue));
    return true;
}
