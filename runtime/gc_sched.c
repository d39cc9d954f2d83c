/* gc_sched.c — when to collect (model.md §7.5): allocation counting, the trigger, the handler.
 *
 * Each GC-heap allocation adds 1 to the thread's private alloc_count, each GC-heap free
 * subtracts 1; at ±512 the count is flushed into the shared young.count with one atomic add
 * (and into the thread's debug flushed_since_reset, so G7 can compare).  A positive flush that
 * makes should_collect() true while no collection runs sets GC_SCHEDULED on the flusher's own
 * eval breaker; its next rs_poll clears the bit, re-checks `enabled` and collects (HEAP).
 *
 * The trigger scales with the live set: a whole-heap collection is due only when young.count
 * exceeds both t0 and long_lived_total / 4 (t1 == 0 turns the scaling off), so the collector's
 * total work stays linear in the allocations. */
#include "bugs.h"
#include "gc.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

void rs_gc_init(void)
{
    rs_atomic_store_relaxed_int(&rs_rt.gc.enabled, rs_rt.opts.gc_enabled ? 1 : 0);
    rs_gc_set_threshold(rs_rt.opts.gc_threshold[0], rs_rt.opts.gc_threshold[1],
                        rs_rt.opts.gc_threshold[2]);
}

bool rs_gc_should_collect(void)
{
    int64_t count = rs_atomic_load_relaxed_i64(&rs_rt.gc.young_count);
    int64_t t0 = rs_atomic_load_relaxed_i64(&rs_rt.gc.t0);
    if (count <= t0 || t0 == 0)
        return false;
    /* acquire: pairs with the exchange in rs_gc_enable / rs_gc_disable (a collection that
     * reads 1 here is ordered after the enable it read from) */
    int enabled = rs_bug(RS_BUG_GC_ENABLED_RACY) ? rs_racy_load_int(&rs_rt.gc.enabled)
                                                 : rs_atomic_load_acquire_int(&rs_rt.gc.enabled);
    if (!enabled)
        return false;
    if (rs_bug(RS_BUG_GC_SCHEDULE_UNSCALED))
        return true; /* mutant: every t0 allocations, whatever the live set */
    return count > rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total) / 4 ||
           rs_atomic_load_relaxed_i64(&rs_rt.gc.t1) == 0;
}

static void flush(rs_tstate *ts, bool may_schedule)
{
    int64_t n = ts->gc.alloc_count;
    ts->gc.alloc_count = 0;
    rs_atomic_add_relaxed_i64(&rs_rt.gc.young_count, n);
    if (n > 0) /* statistics: an upper bound of what young.count was ever credited */
        rs_atomic_add_relaxed_i64(&rs_rt.gc.flushed_positive, n);
    /* single writer (the owner); STW #1 resets it while the owner is stopped */
    rs_atomic_store_relaxed_i64(&ts->gc.flushed_since_reset,
                                rs_atomic_load_relaxed_i64(&ts->gc.flushed_since_reset) + n);
    if (may_schedule && rs_gc_should_collect() &&
        rs_atomic_load_relaxed_int(&rs_rt.gc.collecting) == 0) {
        rs_eval_breaker_set(ts, RS_EB_GC_SCHEDULED); /* the flusher's own breaker */
        /* scheduled, not yet handled: a disable may land here (gh-129533) */
        RS_SCHED("gc.schedule.pending");
    }
}

void rs_gc_on_alloc(rs_tstate *ts)
{
    if (rs_bug(RS_BUG_GC_ALLOC_COUNT_RACY)) {
        /* mutant: a plain ++ on the shared count per allocation */
        rs_racy_store_i64(&rs_rt.gc.young_count, rs_racy_load_i64(&rs_rt.gc.young_count) + 1);
        rs_atomic_add_relaxed_i64(&rs_rt.gc.flushed_positive, 1);
        if (rs_gc_should_collect() && rs_atomic_load_relaxed_int(&rs_rt.gc.collecting) == 0)
            rs_eval_breaker_set(ts, RS_EB_GC_SCHEDULED);
        return;
    }
    if (++ts->gc.alloc_count >= RS_LOCAL_ALLOC_COUNT_THRESHOLD)
        flush(ts, true);
}

void rs_gc_on_free(rs_tstate *ts)
{
    if (rs_bug(RS_BUG_GC_ALLOC_COUNT_RACY)) {
        rs_racy_store_i64(&rs_rt.gc.young_count, rs_racy_load_i64(&rs_rt.gc.young_count) - 1);
        return;
    }
    if (--ts->gc.alloc_count <= -RS_LOCAL_ALLOC_COUNT_THRESHOLD)
        flush(ts, false);
}

void rs_gc_handle_scheduled(rs_tstate *ts)
{
    rs_hook_event(RS_EV_GC_HANDLE, 0);
    if (!rs_bug(RS_BUG_GC_IGNORES_ENABLED) && !rs_gc_is_enabled())
        return; /* disabled after the request: a happened-before disable wins */
    rs_gc_collect(ts, RS_GC_HEAP);
}

int rs_gc_enable(void)
{
    return rs_atomic_exchange_acq_rel_int(&rs_rt.gc.enabled, 1); /* pairs with rs_gc_is_enabled */
}

int rs_gc_disable(void)
{
    return rs_atomic_exchange_acq_rel_int(&rs_rt.gc.enabled, 0); /* pairs with rs_gc_is_enabled */
}

bool rs_gc_is_enabled(void)
{
    /* acquire: pairs with the exchange in rs_gc_enable / rs_gc_disable */
    return rs_atomic_load_acquire_int(&rs_rt.gc.enabled) != 0;
}

/* Any thread, any time (gh-148613): each threshold is one relaxed atomic word, read the same
 * way by rs_gc_should_collect on every flush.  No order is needed between them: the trigger is
 * a heuristic that may see an old and a new threshold side by side, but never a torn word. */
void rs_gc_set_threshold(int64_t t0, int64_t t1, int64_t t2)
{
    if (rs_bug(RS_BUG_GC_THRESHOLD_RACY)) { /* mutant: plain stores racing the trigger's loads */
        rs_racy_store_i64(&rs_rt.gc.t0, t0);
        rs_racy_store_i64(&rs_rt.gc.t1, t1);
        rs_racy_store_i64(&rs_rt.gc.t2, t2);
        return;
    }
    rs_atomic_store_relaxed_i64(&rs_rt.gc.t0, t0);
    rs_atomic_store_relaxed_i64(&rs_rt.gc.t1, t1);
    rs_atomic_store_relaxed_i64(&rs_rt.gc.t2, t2);
}

int64_t rs_gc_get_count(void) { return rs_atomic_load_relaxed_i64(&rs_rt.gc.young_count); }

int64_t rs_gc_flushed_positive(void)
{
    return rs_atomic_load_relaxed_i64(&rs_rt.gc.flushed_positive);
}

int64_t rs_gc_long_lived_total(void)
{
    return rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total);
}

void rs_gc_tstate_fold(rs_tstate *ts)
{
    rs_atomic_add_relaxed_i64(&rs_rt.gc.flushed_folded,
                              rs_atomic_load_relaxed_i64(&ts->gc.flushed_since_reset));
    rs_atomic_store_relaxed_i64(&ts->gc.flushed_since_reset, 0);
}
