/* runtime.c — the runtime singleton: options, init, totals (model.md §4, §10).
 *
 * Shutdown (rs_runtime_fini, model.md §4 steps 1–11) lives in lifecycle.c. */
#include "runtime.h"
#include "witness.h"

#include <stdlib.h>
#include <string.h>

#include "rs/fatal.h"
#include "heap.h"
#include "objects.h"
#include "rs/hooks.h"

rs_runtime rs_rt;

void rs_options_default(rs_options *o)
{
    memset(o, 0, sizeof *o);
    o->immortalize_deferred = true;
    o->freelists = true;
    o->gc_enabled = true;
    o->gc_threshold[0] = 2000;
    o->gc_threshold[1] = 10;
    o->gc_threshold[2] = 10;
    o->trash_depth = 50;
#ifdef RS_DEBUG
    o->validate = true; /* the debug variant runs every validator and Vfree check */
#else
    o->validate = false;
#endif
}

/* DETACH waits of the lock module: an attached thread detaches while it waits */
static void *lock_detach(void)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL || rs_atomic_load_relaxed_int(&ts->state) != RS_TS_ATTACHED)
        return NULL;
    rs_tstate_detach(ts);
    return ts;
}

static void lock_reattach(void *token)
{
    rs_tstate *ts = token;
    if (rs_tstate_attach(ts) < 0) {
        /* shut out by rs_runtime_fini while waiting inside the runtime: there is no safe way
         * back to the caller, so the thread stays parked (as CPython does) */
        int v = RS_TS_SHUTTING_DOWN;
        for (;;)
            rs_park(&ts->state, &v, sizeof(int), -1, NULL, false);
    }
}

int rs_runtime_init(const rs_options *opts)
{
    RS_ASSERT(rs_atomic_load_relaxed_int(&rs_rt.initialized) == 0);
    memset(&rs_rt, 0, sizeof rs_rt);
    if (opts)
        rs_rt.opts = *opts;
    else
        rs_options_default(&rs_rt.opts);
    static const rs_lock_detach_fns fns = {lock_detach, lock_reattach};
    rs_lock_set_detach_fns(&fns);
    rs_lock_set_torture(rs_rt.opts.torture);
    rs_witness_reset();
    rs_weakref_runtime_init();
    rs_heap_runtime_init();
    rs_heap_reset_folded_blocks();
    rs_gc_init(); /* gc: enabled flag and thresholds from the options */
    if (rs_qsbr_init() < 0) /* the record array exists before any thread state */
        return -1;
    rs_tstate *ts = rs_tstate_new();
    if (ts == NULL)
        return -1;
    ts->is_main = true;
    rs_rt.main = ts;
    rs_tstate_bind(ts);
    rs_tstate_attach(ts);
    rs_atomic_store_relaxed_int(&rs_rt.initialized, 1);
    return 0;
}

intptr_t rs_get_reftotal_locked(void)
{
    intptr_t total = rs_atomic_load_relaxed_iptr(&rs_rt.reftotal);
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        total += rs_atomic_load_relaxed_iptr(&t->reftotal);
    return total;
}

intptr_t rs_get_reftotal(void)
{
    rs_head_lock();
    intptr_t total = rs_get_reftotal_locked();
    rs_head_unlock();
    return total;
}

uint64_t rs_stats_deallocs(void)
{
    rs_head_lock();
    uint64_t n = rs_atomic_load_relaxed_u64(&rs_rt.stats.deallocs) + rs_rt.deallocs_folded;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        n += t->deallocs;
    rs_head_unlock();
    return n;
}

int64_t rs_get_blocks(void)
{
    rs_head_lock();
    int64_t n = rs_heap_folded_blocks();
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        n += rs_atomic_load_relaxed_i64(&t->heap.blocks);
    rs_head_unlock();
    return n;
}

static size_t tid_hash(uintptr_t tid, size_t cap) { return (size_t)((tid >> 3) * 0x9E3779B97F4A7C15ull) & (cap - 1); }

bool rs_tid_registry_contains(uintptr_t tid)
{
    if (rs_rt.tids.cap == 0 || tid == 0)
        return false;
    for (size_t i = tid_hash(tid, rs_rt.tids.cap);; i = (i + 1) & (rs_rt.tids.cap - 1)) {
        if (rs_rt.tids.slots[i] == tid)
            return true;
        if (rs_rt.tids.slots[i] == 0)
            return false;
    }
}

static void tid_insert(uintptr_t *slots, size_t cap, uintptr_t tid)
{
    size_t i = tid_hash(tid, cap);
    while (slots[i] != 0 && slots[i] != tid)
        i = (i + 1) & (cap - 1);
    slots[i] = tid;
}

void rs_tid_registry_add(uintptr_t tid)
{
    if (rs_tid_registry_contains(tid))
        return;
    if ((rs_rt.tids.len + 1) * 2 > rs_rt.tids.cap) {
        size_t ncap = rs_rt.tids.cap ? rs_rt.tids.cap * 2 : 64;
        uintptr_t *ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            rs_fatal("out of memory growing the thread-id registry", NULL);
        for (size_t i = 0; i < rs_rt.tids.cap; i++)
            if (rs_rt.tids.slots[i])
                tid_insert(ns, ncap, rs_rt.tids.slots[i]);
        free(rs_rt.tids.slots);
        rs_rt.tids.slots = ns;
        rs_rt.tids.cap = ncap;
    }
    tid_insert(rs_rt.tids.slots, rs_rt.tids.cap, tid);
    rs_rt.tids.len++;
}

void rs_debug_set_validate(bool on) { rs_rt.opts.validate = on; }
