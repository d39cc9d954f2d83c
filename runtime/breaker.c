/* breaker.c — the per-thread eval breaker and rs_poll (model.md §9).
 *
 * Each thread state has its own breaker word: low 8 bits are event bits, the rest a version.
 * Set = atomic OR on the TARGET's word, clear = atomic AND of that bit only, test = relaxed
 * load (E1: nothing stores the whole word outside rs_bump_version under STW).  rs_poll clears
 * each bit before running its handler, so a request made during the handler is not lost.
 * An ASYNC_EXC bit may be stale (its exception already taken by an earlier poll): that poll
 * raises nothing and is not an interrupt (issue 17; docs/decisions/async-exc.md).
 * The eval-breaker-global mutant routes every operation to one runtime-wide word. */
#include "bugs.h"
#include "rs/fatal.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static RS_ATOMIC(uintptr_t) *breaker_word(rs_tstate *ts)
{
    if (rs_bug(RS_BUG_EVAL_BREAKER_GLOBAL))
        return &rs_rt.global_breaker;
    return &ts->eval_breaker;
}

void rs_eval_breaker_set(rs_tstate *ts, uintptr_t bit)
{
    /* seq_cst: pairs with the target's relaxed test + seq_cst clear in rs_poll; the data the
     * request refers to (queue, async_exc) is published under a lock or by exchange before */
    rs_atomic_or_seq_cst_uptr(breaker_word(ts), bit);
}

void rs_eval_breaker_clear(rs_tstate *ts, uintptr_t bit)
{
    rs_atomic_and_seq_cst_uptr(breaker_word(ts), ~bit); /* pairs with rs_eval_breaker_set */
}

uintptr_t rs_eval_breaker_load(rs_tstate *ts)
{
    return rs_atomic_load_relaxed_uptr(breaker_word(ts));
}

int rs_poll(rs_tstate *ts, void **exc_out)
{
    uintptr_t eb = rs_eval_breaker_load(ts);
    void *exc = NULL;
    if (exc_out)
        *exc_out = NULL;
    if ((eb & RS_EB_EVENTS_MASK) == 0)
        goto quiescent; /* every poll is a quiescent point */
    RS_SCHED("breaker.poll");
    if (eb & RS_EB_PLEASE_STOP) {
        rs_eval_breaker_clear(ts, RS_EB_PLEASE_STOP);
        if (rs_tstate_suspend_self(ts) < 0)
            return -1;
    }
    if (eb & RS_EB_EXPLICIT_MERGE) {
        rs_eval_breaker_clear(ts, RS_EB_EXPLICIT_MERGE);
        rs_brc_merge(ts);
    }
    if (eb & RS_EB_GC_SCHEDULED) {
        rs_eval_breaker_clear(ts, RS_EB_GC_SCHEDULED);
        rs_gc_handle_scheduled(ts); /* gc: model.md §7.5 */
    }
    if (eb & RS_EB_ASYNC_EXC) {
        /* Clear the bit, then take the exception: the order of the other bits (and of
         * CPython's handler).  A sender stores its token before it sets the bit, so a token
         * stored after our exchange comes with a bit set after our clear: no request is lost,
         * and nothing needs re-raising.
         *
         * Issue 17: the bit may still be stale.  A sender whose token an earlier poll already
         * took (its exchange landed before that poll's, its bit after that poll's clear) leaves
         * the bit set over an empty slot.  Such a poll raises nothing and is no interrupt;
         * CPython does the same.  The runtime used to count every empty-slot poll as a
         * spurious interrupt, which made E3 fire on the clean runtime: the accounting was
         * wrong, not the protocol (docs/decisions/async-exc.md).  What E3 forbids is a bit
         * that nobody set on this thread's word, so each sighting of the bit must be paid for
         * by one send to this thread: distinct polls that see the bit see distinct sets
         * (each poll clears it in between), and the only sets are rs_async_exc_set's.
         * seq_cst AND: pairs with the sender's seq_cst OR (rs_eval_breaker_set); every write
         * of the word is a read-modify-write, so the clear reads from the release sequence
         * of each set we saw, and the sender's count (bumped before its OR) is visible to the
         * relaxed load below. */
        rs_eval_breaker_clear(ts, RS_EB_ASYNC_EXC);
        /* acq_rel exchange: pairs with the exchange in rs_async_exc_set (the token's data; and
         * our clear happens before the OR of a sender whose exchange comes after ours) */
        exc = rs_atomic_exchange_acq_rel_ptr(&ts->async_exc, NULL);
        /* relaxed: ordered by the clear above (acquire of the senders' ORs) */
        uint64_t sent = rs_atomic_load_relaxed_u64(&ts->async_exc_sent);
        if (++ts->async_exc_seen > sent) {
            ts->spurious_interrupts++; /* a bit no send to this thread explains (E3) */
            ts->async_exc_seen--;      /* it pays for no send; count each such bit once */
        }
    }
    if (exc_out)
        *exc_out = exc;
quiescent:
    /* model.md §9 tail: report quiescence, then drain the runtime delayed queue if
     * it has work (try-lock inside) */
    rs_qsbr_quiescent(ts);
    rs_delayed_process_runtime(ts);
    return 0;
}

int rs_async_exc_set(uintptr_t tid, void *token)
{
    rs_head_lock();
    rs_tstate *t = rs_tstate_find_locked(tid);
    if (t == NULL) {
        rs_head_unlock();
        return -1;
    }
    /* E3's ledger: one more bit set on t's word.  relaxed: published by the seq_cst OR below
     * (release), which t's clear in rs_poll reads through; HEAD_LOCK serialises senders */
    rs_atomic_add_relaxed_u64(&t->async_exc_sent, 1);
    /* acq_rel: pairs with the target's exchange in rs_poll */
    rs_atomic_exchange_acq_rel_ptr(&t->async_exc, token);
    /* the window of issue 17: the token is stored, the bit not yet set; a poll here takes
     * the token, and the bit set next then finds an empty slot (a stale bit) */
    RS_SCHED("breaker.async_exc.stored");
    rs_eval_breaker_set(t, RS_EB_ASYNC_EXC);
    rs_head_unlock();
    return 0;
}

void rs_bump_version(void)
{
    RS_ASSERT(rs_world_is_stopped() || rs_rt.threads == NULL || rs_rt.threads->next == NULL);
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        uintptr_t old = rs_atomic_load_relaxed_uptr(&t->eval_breaker);
        uintptr_t nw;
        do {
            nw = (old & RS_EB_EVENTS_MASK) |
                 (((old >> RS_EB_VERSION_SHIFT) + 1) << RS_EB_VERSION_SHIFT);
            /* relaxed CAS loop: only event bits race (ORs from other threads) */
        } while (!rs_atomic_cas_relaxed_uptr(&t->eval_breaker, &old, nw));
    }
}
