/* oracles.c — the executor's scenario oracles: expectations about the collector's scheduling
 * that no runtime validator states, checked from the runtime's observation events
 * (hooks.h: RS_EV_GC_HANDLE, RS_EV_GC_BEGIN) against what the program did.
 *
 * Exp "gc-disabled" (model.md §7.5, gh-129533): no HEAP collection starts after a `gc_disable`
 * that happened before it, until the next `gc_enable`.  The trial keeps one word,
 * toggle = generation << 2 | tainted << 1 | disabled: `gc_disable` stores (gen+1, disabled)
 * after the runtime's disable returned, `gc_enable` stores (gen+1, enabled) before the
 * runtime's enable runs.  When a thread handles its GC_SCHEDULED bit (before the runtime
 * re-checks `enabled`) it snapshots the word; when that thread's HEAP collection then begins,
 * it reads the word again.  Same word, disabled and not tainted ⇒ a finding.  Why no clean run
 * can fail it: the snapshot saw a completed disable D (seq_cst load of D's seq_cst store, so
 * D's exchange happens before the re-check); the re-check can then only read `enabled` = 1
 * from an enable E whose exchange follows D's (acquire, pairing with E's acq_rel exchange).
 * If E's word store followed D's, it precedes E's exchange, so the second read cannot see the
 * snapshot's word.  If it preceded D's, the two toggles overlapped — D's word store lands
 * after E re-enabled, and the word says "disabled" while the runtime is enabled — and D's
 * word is tainted: every toggle counts itself in `gc_toggling` and `gc_toggles` (seq_cst
 * fetch-adds) before its first step, and D taints its word when another toggle was in
 * progress as it began or began before D's store (read in the same CAS attempt, after the
 * word: a toggle whose store preceded D's successful CAS began before that read).  A
 * collection that began before a concurrent disable is not flagged: its snapshot predates
 * D's store.
 *
 * Ctr "gc-schedule" (model.md §7.5, gh-114746): a HEAP collection begins only when young.count
 * exceeds long_lived_total / 4 (scaling on, t1 ≠ 0), and every young.count came out of
 * disjoint positive flushes, so over a trial Σ (long_lived_total / 4 + 1) over HEAP
 * collections ≤ rs_gc_flushed_positive().  long_lived_total is read at RS_EV_GC_BEGIN, where
 * the collector is claimed and nothing else writes it.  Checked before shutdown, only for
 * programs whose t1 is never 0 (option and every gc_threshold op): then the bound holds
 * whatever the thresholds are changed to meanwhile.
 *
 * Both oracles stop at the end check: shutdown enables the GC by itself (model.md §4 step 3). */
#include "exec_internal.h"

#include <inttypes.h>

#include "rs/hooks.h"

void exec_oracles_reset(exec_trial *tr)
{
    const program *p = tr->p;
    bool scaled = p->opt.gc_threshold[1] != 0;
    for (uint32_t t = 0; t < p->nthreads && scaled; t++)
        for (uint32_t i = 0; i < p->thread[t].nops; i++)
            if (p->thread[t].ops[i].code == PROG_OP_GC_THRESHOLD &&
                p->thread[t].ops[i].arg[1] == 0)
                scaled = false;
    tr->ctr_applies = scaled;
    /* a program that starts with the GC disabled has disabled it before anything ran */
    rs_atomic_store_relaxed_u64(&tr->gc_toggle, p->opt.gc_enabled ? 0 : 1);
    rs_atomic_store_relaxed_u32(&tr->gc_toggling, 0);
    rs_atomic_store_relaxed_u64(&tr->gc_toggles, 0);
}

/* The toggle's ordinal among all toggles begun; taints it if another one is in progress. */
uint64_t exec_oracles_gc_toggle_begin(exec_trial *tr)
{
    /* seq_cst: a single order with the word's CAS and the re-read of gc_toggles in set_toggle */
    uint32_t busy = rs_atomic_add_seq_cst_u32(&tr->gc_toggling, 1);
    uint64_t begun = rs_atomic_add_seq_cst_u64(&tr->gc_toggles, 1);
    return busy ? UINT64_MAX : begun;
}

void exec_oracles_gc_toggle_end(exec_trial *tr)
{
    (void)rs_atomic_add_seq_cst_u32(&tr->gc_toggling, (uint32_t)-1); /* pairs with _begin */
}

static void set_toggle(exec_trial *tr, uint64_t begun, bool disabled)
{
    uint64_t old = rs_atomic_load_seq_cst_u64(&tr->gc_toggle), word;
    /* seq_cst: pairs with the snapshot and re-read in exec_oracles_event (see the header) */
    do {
        bool tainted = begun == UINT64_MAX ||
                       rs_atomic_load_seq_cst_u64(&tr->gc_toggles) != begun + 1;
        word = (((old >> 2) + 1) << 2) | (tainted ? 2u : 0u) | (disabled ? 1u : 0u);
    } while (!rs_atomic_cas_seq_cst_u64(&tr->gc_toggle, &old, word));
}

void exec_oracles_gc_disabled(exec_trial *tr, uint64_t begun) { set_toggle(tr, begun, true); }
void exec_oracles_gc_enabling(exec_trial *tr, uint64_t begun) { set_toggle(tr, begun, false); }

void exec_oracles_event(exec_trial *tr, int event, int64_t arg)
{
    if (rs_atomic_load_relaxed_u32(&tr->oracles_off))
        return;
    exec_thread *t = exec_self();
    if (event == RS_EV_GC_HANDLE) {
        if (t) {
            t->gc_seen = rs_atomic_load_seq_cst_u64(&tr->gc_toggle); /* see the header */
            t->gc_seen_valid = true;
        }
        return;
    }
    if (event != RS_EV_GC_BEGIN || arg != RS_GC_HEAP)
        return;
    rs_atomic_add_relaxed_i64(&tr->ctr_sum, rs_gc_long_lived_total() / 4 + 1);
    rs_atomic_add_relaxed_u64(&tr->ctr_collections, 1);
    if (t == NULL || !t->gc_seen_valid)
        return;
    t->gc_seen_valid = false;
    uint64_t now = rs_atomic_load_seq_cst_u64(&tr->gc_toggle); /* see the header */
    if ((t->gc_seen & 3) == 1 && now == t->gc_seen)
        exec_fail(tr, VERDICT_INVARIANT, "Exp", t->idx, rs_atomic_load_relaxed_i64(&t->cur_op),
                  "Exp gc-disabled: a HEAP collection began after gc_disable (generation %" PRIu64
                  ") with no gc_enable since",
                  t->gc_seen >> 2);
}

void exec_oracles_final(exec_thread *t, int64_t index)
{
    exec_trial *tr = t->tr;
    rs_atomic_store_relaxed_u32(&tr->oracles_off, 1);
    if (!tr->ctr_applies)
        return;
    int64_t sum = rs_atomic_load_relaxed_i64(&tr->ctr_sum);
    int64_t flushed = rs_gc_flushed_positive();
    if (sum > flushed)
        exec_fail(tr, VERDICT_INVARIANT, "Ctr", t->idx, index,
                  "Ctr gc-schedule: %" PRIu64 " HEAP collections needed more than %" PRId64
                  " allocations (Σ long_lived/4 + 1) but only %" PRId64 " were counted",
                  rs_atomic_load_relaxed_u64(&tr->ctr_collections), sum, flushed);
}
