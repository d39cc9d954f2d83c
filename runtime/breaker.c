/* breaker.c — the per-thread eval breaker and rs_poll (SPEC §9).
 *
 * Each thread state has its own breaker word: low 8 bits are event bits, the rest a version.
 * Set = atomic OR on the TARGET's word, clear = atomic AND of that bit only, test = relaxed
 * load (E1: nothing stores the whole word outside rs_bump_version under STW).  rs_poll clears
 * each bit before running its handler, so a request made during the handler is not lost.
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
        goto quiescent; /* qsbr branch: every poll is a quiescent point */
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
        rs_gc_handle_scheduled(ts); /* gc: SPEC §7.5 */
    }
    if (eb & RS_EB_ASYNC_EXC) {
        /* Take the exception first, then clear the bit, then re-raise the bit if another
         * sender stored a new exception meanwhile.  Clearing first (as for the other bits)
         * lets two senders leave the bit set with the slot already emptied: a spurious
         * interrupt, which E3 forbids.  No request is lost either way.
         * acq_rel exchange: pairs with the exchange in rs_async_exc_set */
        exc = rs_atomic_exchange_acq_rel_ptr(&ts->async_exc, NULL);
        rs_eval_breaker_clear(ts, RS_EB_ASYNC_EXC);
        /* seq_cst load: ordered after the clear (seq_cst AND); pairs with the sender's
         * exchange, which precedes its seq_cst OR of the bit */
        if (rs_atomic_load_seq_cst_ptr(&ts->async_exc) != NULL)
            rs_eval_breaker_set(ts, RS_EB_ASYNC_EXC);
        if (exc == NULL)
            ts->spurious_interrupts++;
    }
    if (exc_out)
        *exc_out = exc;
quiescent:
    /* qsbr branch (SPEC §9 tail): report quiescence, then drain the runtime delayed queue if
     * it has work (try-lock inside) */
    rs_qsbr_quiescent(ts);
    rs_delayed_process_runtime(ts);
    return 0;
}

int rs_async_exc_set(uintptr_t tid, void *token)
{
    rs_head_lock();
    rs_tstate *t = rs_rt.threads;
    while (t && rs_atomic_load_relaxed_uptr(&t->thread_id) != tid)
        t = t->next;
    if (t == NULL) {
        rs_head_unlock();
        return -1;
    }
    /* acq_rel: pairs with the target's exchange in rs_poll */
    rs_atomic_exchange_acq_rel_ptr(&t->async_exc, token);
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
