/* brc.c — biased reference counting merge queues (model.md §2.2).
 *
 * Table: RS_BRC_NUM_BUCKETS buckets, each {mutex; list of thread states}.  A bucket's mutex
 * guards its list and the shared queues (objects_to_merge) of the threads on it.
 *
 * Enqueue (rs_brc_queue, steals one reference, called after the QUEUED CAS):
 *   1. t = load_seq_cst(o.tid); 0 ⇒ the owner merged after our CAS and counted our
 *      reference in the merged count: drop it with an ordinary decref.
 *   2. lock bucket[t % 257]; find the state with brc.tid == t.
 *   3. none (owner exited): explicit_merge(o, -1) under the lock; free if 0.
 *   4. push fails (no chunk): unlock; stop the world; explicit_merge(o, -1); free if 0.
 *   5. push onto the owner's objects_to_merge; set EXPLICIT_MERGE on the OWNER's breaker.
 * Owner merge (rs_brc_merge, from rs_poll): splice the shared queue into the local one under
 * the lock; unlocked, pop each: immortal ⇒ skip (no count); else explicit_merge(o, -1), free if 0.
 * Removal at exit: drain the local queue, then under the lock unlink if the shared queue is
 * empty, else splice it and repeat. */
#include "brc.h"

#include "bugs.h"
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static rs_brc_bucket *bucket_of(uintptr_t tid)
{
    /* torture: every thread in bucket 0, so registrations and lookups always share a list */
    return &rs_rt.brc_buckets[rs_rt.opts.torture ? 0 : tid % RS_BRC_NUM_BUCKETS];
}

/* bucket lock held */
static rs_tstate *find_in_bucket(rs_brc_bucket *b, uintptr_t tid)
{
    for (rs_tstate *t = b->head; t; t = t->brc.bucket_next)
        if (t->brc.tid == tid)
            return t;
    return NULL;
}

static void merge_and_maybe_free(rs_object *o)
{
    if (rs_explicit_merge(o, -1) == 0)
        rs_dealloc(o);
}

void rs_brc_queue(rs_object *o)
{
    /* seq_cst: pairs with the owner's ob_tid store + merge CAS (seq_cst) in
     * rs_merge_zero_local / rs_explicit_merge: a 0 seen here means our QUEUED state was
     * folded into a MERGED count that includes our reference */
    uintptr_t t = rs_atomic_load_seq_cst_uptr(&o->ob_tid);
    if (t == 0) {
        rs_decref(o);
        return;
    }
    rs_brc_bucket *b = bucket_of(t);
    rs_mutex_lock(&b->mutex);
    rs_tstate *owner = find_in_bucket(b, t);
    if (rs_bug(RS_BUG_BRC_QUEUE_TAKES_HEAD_LOCK)) {
        /* mutant: HEAD_LOCK under a bucket lock, the reverse of thread exit's order (HEAD_LOCK,
         * then the bucket); a deadlock needs both at the same instant, the witness sees the
         * cycle in any run that takes both paths */
        rs_head_lock();
        rs_head_unlock();
    }
    RS_SCHED("brc.queue.after_lookup");
    if (owner == NULL) {
        /* the owner exited: its local count is final, merge on its behalf */
        rs_atomic_add_relaxed_u64(&rs_rt.stats.merged_no_owner, 1);
        intptr_t n = rs_explicit_merge(o, -1);
        rs_mutex_unlock(&b->mutex);
        if (n == 0)
            rs_dealloc(o);
        return;
    }
    if (rs_objstack_push(&owner->brc.objects_to_merge, o) < 0) {
        rs_mutex_unlock(&b->mutex);
        /* out of memory: merge with the owner stopped (it may not run its local path now);
         * another thread's pause may come first and must know o is in this window (B1) */
        rs_tstate *me = rs_tstate_current();
        rs_atomic_store_relaxed_ptr(&me->brc.unqueued, o);
        rs_stop_the_world(me);
        intptr_t n = rs_explicit_merge(o, -1);
        rs_atomic_store_relaxed_ptr(&me->brc.unqueued, NULL);
        rs_start_the_world(me);
        if (n == 0)
            rs_dealloc(o);
        return;
    }
    rs_atomic_add_relaxed_u64(&rs_rt.stats.queued, 1);
    rs_tstate *target = owner;
    if (rs_bug(RS_BUG_MERGE_REQUEST_LOST))
        target = rs_tstate_current(); /* mutant: the enqueuer flags itself */
    rs_eval_breaker_set(target, RS_EB_EXPLICIT_MERGE);
    rs_mutex_unlock(&b->mutex);
}

static void drain_local(rs_tstate *ts)
{
    rs_object *o;
    while ((o = rs_objstack_pop(&ts->brc.local_objects_to_merge)) != NULL) {
        if (rs_is_immortal(o))
            continue; /* immortalised while queued: the queue's reference is not counted */
        rs_atomic_add_relaxed_u64(&rs_rt.stats.merged_by_owner, 1);
        merge_and_maybe_free(o);
    }
}

void rs_brc_merge(rs_tstate *ts)
{
    RS_ASSERT(ts->brc.tid == rs_thread_id());
    rs_atomic_store_relaxed_int(&ts->brc.merging, 1);
    rs_brc_bucket *b = bucket_of(ts->brc.tid);
    rs_mutex_lock(&b->mutex);
    rs_objstack_splice(&ts->brc.local_objects_to_merge, &ts->brc.objects_to_merge);
    rs_mutex_unlock(&b->mutex);
    RS_SCHED("brc.merge.spliced");
    drain_local(ts);
    ts->merges++;
    rs_atomic_store_relaxed_int(&ts->brc.merging, 0);
}

void rs_brc_register(rs_tstate *ts)
{
    uintptr_t tid = rs_thread_id();
    ts->brc.tid = tid;
    rs_brc_bucket *b = bucket_of(tid);
    /* mutant: the list is pushed onto without its lock; with 257 buckets and regularly spaced
     * thread ids no two threads ever share a bucket, so only torture (one bucket) shows it */
    bool locked = !rs_bug(RS_BUG_BRC_REGISTER_UNLOCKED);
    if (locked)
        rs_mutex_lock(&b->mutex);
    ts->brc.bucket_next = b->head;
    b->head = ts;
    if (locked)
        rs_mutex_unlock(&b->mutex);
}

void rs_brc_remove(rs_tstate *ts)
{
    if (ts->brc.tid == 0)
        return; /* never bound */
    rs_brc_bucket *b = bucket_of(ts->brc.tid);
    for (;;) {
        drain_local(ts);
        rs_mutex_lock(&b->mutex);
        if (rs_objstack_empty(&ts->brc.objects_to_merge)) {
            rs_tstate **pp = &b->head;
            while (*pp != ts)
                pp = &(*pp)->brc.bucket_next;
            *pp = ts->brc.bucket_next;
            ts->brc.bucket_next = NULL;
            rs_mutex_unlock(&b->mutex);
            return;
        }
        rs_objstack_splice(&ts->brc.local_objects_to_merge, &ts->brc.objects_to_merge);
        rs_mutex_unlock(&b->mutex);
    }
}

void rs_brc_drain_stw(rs_tstate *ts, void (*zero_fn)(rs_object *o, void *arg), void *arg)
{
    rs_brc_bucket *b = bucket_of(ts->brc.tid);
    rs_mutex_lock(&b->mutex);
    rs_objstack_splice(&ts->brc.local_objects_to_merge, &ts->brc.objects_to_merge);
    rs_mutex_unlock(&b->mutex);
    rs_object *o;
    while ((o = rs_objstack_pop(&ts->brc.local_objects_to_merge)) != NULL) {
        if (rs_is_immortal(o))
            continue;
        if (rs_explicit_merge(o, -1) == 0) {
            if (zero_fn)
                zero_fn(o, arg);
            else
                rs_dealloc(o);
        }
    }
}
