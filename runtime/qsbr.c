/* qsbr.c — quiescent-state-based reclamation: sequences, records, poll (model.md §11).
 *
 * Writers advance wr_seq to obtain a goal; readers publish the wr_seq they saw at each
 * quiescent point in their record (0 while offline); poll computes the minimum over online
 * records and caches it in rd_seq.  The record array grows by doubling under stop-the-world
 * (threads keep an index and re-read the array pointer; see qsbr.h for why that is safe).
 *
 * Orderings, each named again at its site:
 *   quiescent  release store of seq   ↔ poll's acquire load of seq (the reader's accesses to
 *                                       retired memory happen before the writer's free)
 *   detach     release store of 0     ↔ poll's acquire load of seq (same, for going offline)
 *   attach     seq_cst store of seq   ↔ poll's seq_cst fence (rs_atomic_fence_seq_cst): either
 *              the poller sees the attaching thread online, or the attaching thread sees the
 *              unlink that preceded the writer's advance
 *   advance    seq_cst add on wr_seq  ↔ readers' acquire loads of wr_seq */
#include "qsbr.h"

#include <stdlib.h>
#include <string.h>

#include "rs/debug.h"
#include "rs/fatal.h"
#include "bugs.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static rs_qsbr_rec *qarray(void) { return rs_atomic_load_relaxed_ptr(&rs_rt.qsbr.array); }
static size_t qsize(void) { return rs_atomic_load_relaxed_uptr(&rs_rt.qsbr.size); }

static rs_qsbr_rec *rec_of(const rs_tstate *ts)
{
    RS_ASSERT(ts->qsbr_idx != RS_QSBR_NO_SLOT && ts->qsbr_idx < qsize());
    return &qarray()[ts->qsbr_idx];
}

/* fresh records [from, to) of a, all free, chained in index order after `next` */
static void init_free_range(rs_qsbr_rec *a, size_t from, size_t to, size_t next)
{
    for (size_t i = from; i < to; i++) {
        rs_atomic_store_relaxed_i64(&a[i].seq, RS_QSBR_OFFLINE);
        a[i].deferrals = 0;
        a[i].allocated = false;
        a[i].freelist_next = i + 1 < to ? i + 1 : next;
    }
}

static rs_qsbr_rec *alloc_array(size_t n)
{
    return aligned_alloc(_Alignof(rs_qsbr_rec), n * sizeof(rs_qsbr_rec));
}

int rs_qsbr_init(void)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    /* torture: one record, so the second thread state already grows the array under a pause */
    size_t n = rs_rt.opts.torture ? 1 : RS_QSBR_MIN_ARRAY;
    rs_qsbr_rec *a = alloc_array(n);
    if (a == NULL)
        return -1;
    init_free_range(a, 0, n, RS_QSBR_NO_SLOT);
    rs_atomic_store_relaxed_ptr(&q->array, a);
    rs_atomic_store_relaxed_uptr(&q->size, n);
    q->freelist = 0;
    q->nallocated = 0;
    rs_atomic_store_relaxed_i64(&q->wr_seq, RS_QSBR_INITIAL);
    rs_atomic_store_relaxed_i64(&q->rd_seq, RS_QSBR_INITIAL);
    q->check_last_wr = RS_QSBR_INITIAL;
    return 0;
}

void rs_qsbr_fini(void)
{
    free(qarray());
    rs_atomic_store_relaxed_ptr(&rs_rt.qsbr.array, NULL);
    rs_atomic_store_relaxed_uptr(&rs_rt.qsbr.size, 0);
}

/* Under STW and the mutex: double the array.  -1 on (injected) allocation failure. */
static int grow_locked(void)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    if (rs_fault(RS_FAULT_QSBR_GROW))
        return -1;
    size_t old_n = qsize(), new_n = old_n * 2;
    rs_qsbr_rec *old = qarray(), *a = alloc_array(new_n);
    if (a == NULL)
        return -1;
    RS_SCHED("qsbr.grow");
    for (size_t i = 0; i < old_n; i++) {
        rs_atomic_store_relaxed_i64(&a[i].seq, rs_atomic_load_relaxed_i64(&old[i].seq));
        a[i].deferrals = old[i].deferrals;
        a[i].allocated = old[i].allocated;
        a[i].freelist_next = old[i].freelist_next;
    }
    init_free_range(a, old_n, new_n, q->freelist);
    q->freelist = old_n;
    /* relaxed: readers are attached threads, all stopped now; the restart orders these
     * stores before their next attach */
    rs_atomic_store_relaxed_ptr(&q->array, a);
    rs_atomic_store_relaxed_uptr(&q->size, new_n);
    rs_atomic_add_relaxed_u64(&q->grows, 1);
    free(old);
    return 0;
}

size_t rs_qsbr_reserve(void)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    for (;;) {
        rs_mutex_lock(&q->mutex);
        if (q->freelist != RS_QSBR_NO_SLOT) {
            size_t i = q->freelist;
            rs_qsbr_rec *r = &qarray()[i];
            q->freelist = r->freelist_next;
            RS_ASSERT(!r->allocated);
            r->allocated = true;
            r->freelist_next = RS_QSBR_NO_SLOT;
            r->deferrals = 0;
            q->nallocated++;
            rs_mutex_unlock(&q->mutex);
            return i;
        }
        rs_mutex_unlock(&q->mutex);
        /* full: stop the world first (never while holding the mutex: a detached thread in
         * unregister may need it to finish), then grow under the mutex if still full */
        rs_tstate *me = rs_tstate_current();
        rs_stop_the_world(me);
        rs_mutex_lock(&q->mutex);
        int rc = q->freelist == RS_QSBR_NO_SLOT ? grow_locked() : 0;
        rs_mutex_unlock(&q->mutex);
        rs_start_the_world(me);
        if (rc < 0)
            return RS_QSBR_NO_SLOT;
    }
}

void rs_qsbr_register(rs_tstate *ts, size_t idx)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    rs_mutex_lock(&q->mutex);
    RS_ASSERT(idx < qsize() && qarray()[idx].allocated);
    RS_ASSERT(rs_atomic_load_relaxed_i64(&qarray()[idx].seq) == RS_QSBR_OFFLINE);
    ts->qsbr_idx = idx;
    rs_mutex_unlock(&q->mutex);
}

void rs_qsbr_unregister(rs_tstate *ts)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    if (ts->qsbr_idx == RS_QSBR_NO_SLOT)
        return;
    rs_mutex_lock(&q->mutex);
    /* re-read the record under the mutex: the array may have moved since we last looked */
    rs_qsbr_rec *r = rec_of(ts);
    if (rs_atomic_load_relaxed_i64(&r->seq) != RS_QSBR_OFFLINE)
        rs_fatal("qsbr: unregistering a thread that is still online", ts);
    RS_ASSERT(r->allocated);
    r->allocated = false;
    r->freelist_next = q->freelist;
    q->freelist = ts->qsbr_idx;
    q->nallocated--;
    ts->qsbr_idx = RS_QSBR_NO_SLOT;
    rs_mutex_unlock(&q->mutex);
}

int64_t rs_qsbr_advance(void)
{
    /* seq_cst: pairs with the acquire loads of wr_seq by quiescent/attach/poll; everything the
     * writer unlinked before is ordered before the new sequence */
    return rs_atomic_add_seq_cst_i64(&rs_rt.qsbr.wr_seq, RS_QSBR_INCR) + RS_QSBR_INCR;
}

int64_t rs_qsbr_deferred_advance(rs_tstate *ts)
{
    rs_qsbr_rec *r = rec_of(ts);
    /* torture: defer at most once before a real advance */
    if (++r->deferrals < (rs_rt.opts.torture ? 2 : RS_QSBR_DEFERRED_LIMIT))
        /* acquire: pairs with the seq_cst add of rs_qsbr_advance */
        return rs_atomic_load_acquire_i64(&rs_rt.qsbr.wr_seq) + RS_QSBR_INCR;
    r->deferrals = 0;
    return rs_qsbr_advance();
}

int64_t rs_debug_qsbr_min_online(void)
{
    /* the oracle's own minimum, computed like poll_scan's but apart from it (a broken scan is
     * what the oracle looks for); under stop-the-world nobody moves a record or the array */
    /* acquire: pairs with rs_qsbr_advance's seq_cst add */
    int64_t min_seq = rs_atomic_load_acquire_i64(&rs_rt.qsbr.wr_seq);
    rs_qsbr_rec *a = qarray();
    for (size_t i = 0, n = qsize(); i < n; i++) {
        int64_t s = rs_atomic_load_relaxed_i64(&a[i].seq); /* ordered by the pause */
        if (s != RS_QSBR_OFFLINE && rs_qsbr_lt(s, min_seq))
            min_seq = s;
    }
    return min_seq;
}

void rs_qsbr_quiescent(rs_tstate *ts)
{
    rs_qsbr_rec *r = rec_of(ts);
    /* acquire: pairs with rs_qsbr_advance's seq_cst add */
    int64_t seq = rs_atomic_load_acquire_i64(&rs_rt.qsbr.wr_seq);
    /* release: pairs with the acquire load of seq in poll_scan — our reads of memory retired
     * before `seq` happen before the writer frees it */
    rs_atomic_store_release_i64(&r->seq, seq);
}

void rs_qsbr_attach(rs_tstate *ts)
{
    rs_qsbr_rec *r = rec_of(ts);
    RS_ASSERT(rs_atomic_load_relaxed_i64(&r->seq) == RS_QSBR_OFFLINE);
    /* seq_cst store: pairs with the seq_cst fence in rs_qsbr_poll (see the file comment) */
    rs_atomic_store_seq_cst_i64(&r->seq, rs_atomic_load_acquire_i64(&rs_rt.qsbr.wr_seq));
}

void rs_qsbr_detach(rs_tstate *ts)
{
    if (ts->qsbr_idx == RS_QSBR_NO_SLOT)
        return;
    /* release: pairs with the acquire load of seq in poll_scan */
    rs_atomic_store_release_i64(&rec_of(ts)->seq, RS_QSBR_OFFLINE);
}

void rs_qsbr_detach_unlinked(rs_tstate *ts)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    if (ts->qsbr_idx == RS_QSBR_NO_SLOT)
        return;
    /* Unlinked, no pause stops us: a reserve may be growing the array now, under the mutex
     * (decision 14); under it, the record is where rec_of says and stays there.  Without the
     * mutex (as before 2026-12-03) the OFFLINE store raced with the grow's copy and free of
     * the old array: a lost store, or a write to freed memory; TSan saw it in qsbr-resize
     * (2 of 300 chaos trials; 0 of 1200 after), found by the first campaign. */
    rs_mutex_lock(&q->mutex);
    /* release: pairs with the acquire load of seq in poll_scan */
    rs_atomic_store_release_i64(&rec_of(ts)->seq, RS_QSBR_OFFLINE);
    rs_mutex_unlock(&q->mutex);
}

/* min(wr_seq, every online seq); raises rd_seq to it (losing the CAS race is fine: the
 * winner wrote a value at least as fresh, or ours is stale and theirs is right) */
static int64_t poll_scan(void)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    int64_t min_seq = rs_atomic_load_acquire_i64(&q->wr_seq); /* pairs with rs_qsbr_advance */
    rs_qsbr_rec *a = qarray();
    size_t n = qsize();
    for (size_t i = 0; i < n; i++) {
        /* acquire: pairs with the release stores of quiescent and detach */
        int64_t s = rs_atomic_load_acquire_i64(&a[i].seq);
        /* mutant qsbr-poll-counts-offline: an offline record's 0 taken as its sequence */
        if ((s != RS_QSBR_OFFLINE || rs_bug(RS_BUG_QSBR_POLL_COUNTS_OFFLINE)) &&
            rs_qsbr_lt(s, min_seq))
            min_seq = s;
    }
    RS_SCHED("qsbr.poll");
    int64_t rd = rs_atomic_load_relaxed_i64(&q->rd_seq);
    while (rs_qsbr_lt(rd, min_seq)) {
        /* acq_rel: pairs with other pollers' CAS and the acquire load in rs_qsbr_poll */
        if (rs_atomic_cas_acq_rel_i64(&q->rd_seq, &rd, min_seq))
            return min_seq;
    }
    return rd;
}

bool rs_qsbr_poll(rs_tstate *ts, int64_t goal)
{
    (void)ts;
    /* acquire: pairs with the CAS of rd_seq in poll_scan (that poller saw the quiescent
     * stores, and its acquire loads carry them to us) */
    if (rs_qsbr_leq(goal, rs_atomic_load_acquire_i64(&rs_rt.qsbr.rd_seq)))
        return true;
    /* the one fence of the runtime: pairs with the seq_cst store of rs_qsbr_attach */
    rs_atomic_fence_seq_cst();
    return rs_qsbr_leq(goal, poll_scan());
}

int64_t rs_qsbr_wr_seq(void) { return rs_atomic_load_relaxed_i64(&rs_rt.qsbr.wr_seq); }
int64_t rs_qsbr_rd_seq(void) { return rs_atomic_load_relaxed_i64(&rs_rt.qsbr.rd_seq); }
int64_t rs_qsbr_seq_of(const rs_tstate *ts)
{
    if (ts->qsbr_idx == RS_QSBR_NO_SLOT)
        return RS_QSBR_OFFLINE;
    return rs_atomic_load_relaxed_i64(&rec_of(ts)->seq);
}

bool rs_qsbr_check_locked(rs_violation *v)
{
    rs_qsbr_shared *q = &rs_rt.qsbr;
    int64_t wr = rs_atomic_load_relaxed_i64(&q->wr_seq);
    int64_t rd = rs_atomic_load_relaxed_i64(&q->rd_seq);
    if ((wr & 1) == 0)
        return rs_violate(v, "Q2", NULL, "wr_seq %ld is even (must stay odd)", (long)wr);
    if (rs_qsbr_lt(wr, q->check_last_wr))
        return rs_violate(v, "Q2", NULL, "wr_seq went back from %ld to %ld", (long)q->check_last_wr,
                          (long)wr);
    if (rs_qsbr_lt(wr, rd))
        return rs_violate(v, "Q2", NULL, "rd_seq %ld is ahead of wr_seq %ld", (long)rd, (long)wr);
    q->check_last_wr = wr;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        int st = rs_atomic_load_relaxed_int(&t->state);
        int64_t seq = rs_qsbr_seq_of(t);
        if (st == RS_TS_ATTACHED && seq == RS_QSBR_OFFLINE)
            return rs_violate(v, "Q3", NULL, "thread %lu is attached but its QSBR record is offline",
                              (unsigned long)t->id);
        if (st != RS_TS_ATTACHED && seq != RS_QSBR_OFFLINE)
            return rs_violate(v, "Q3", NULL,
                              "thread %lu is not attached (state %d) but its QSBR record is online (seq %ld)",
                              (unsigned long)t->id, st, (long)seq);
    }
    return true;
}
