/* trial.c — the trial driver: runs one program against the runtime under one scheduler.
 *
 * A trial, top to bottom (exec_run):
 *   1. refuse programs that do not validate or use an op this runtime cannot run yet (a
 *      static scan of exec_op_table: VERDICT_ERROR, nothing runs);
 *   2. switch the mutants on, create the scheduler (fault hook: exec_fault), install its hook
 *      table and wrap it (hookwrap.c: each program thread's last schedule point and whether
 *      it is blocked are recorded for the watchdog);
 *   3. rs_runtime_init on the calling thread, which becomes program thread t0 (the runtime's
 *      main thread); create the runtime states of the `auto` threads (the executor is their
 *      parent); hand every other program thread to a pooled OS thread (pool.c) — `spawn`
 *      threads too: they begin at once (pct starts only when every thread has begun) and block
 *      in a hook wait until their `spawn` op runs;
 *   4. arm the watchdog, open the start gate, run t0's ops, then t0's end (thread.c): wait for
 *      the other threads (detached), release registers and mailboxes, validate,
 *      rs_runtime_fini — or, after a `shutdown` op (which first drains the others' registers,
 *      exec_ops_shutdown.c), just wait for the others to stop;
 *   5. join everything, disarm the watchdog, account leaks (checks.c), collect trace/op log. */
#include "exec_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs/hooks.h"
#include "clock.h"

exec_trial exec_cur;

/* ---- failures ---- */

void exec_fail(exec_trial *tr, verdict v, const char *check, int thread, int64_t op,
               const char *fmt, ...)
{
    uint32_t zero = 0;
    /* relaxed: only one reporter wins; the fields are read after the joins */
    if (!rs_atomic_cas_relaxed_u32(&tr->failed, &zero, 1))
        return;
    tr->verdict = v;
    snprintf(tr->check, sizeof tr->check, "%s", check);
    tr->fthread = thread;
    tr->fop = op;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tr->message, sizeof tr->message, fmt, ap);
    va_end(ap);
}

/* ---- the trial ---- */

static int exec_unsupported(const program *p, exec_result *res)
{
    for (uint32_t t = 0; t < p->nthreads; t++)
        for (uint32_t i = 0; i < p->thread[t].nops; i++) {
            const exec_op_entry *e = &exec_op_table[p->thread[t].ops[i].code];
            if (e->fn)
                continue;
            res->verdict = VERDICT_ERROR;
            snprintf(res->check, sizeof res->check, "unsupported");
            snprintf(res->message, sizeof res->message, "op %s needs %s, not in this runtime yet",
                     prog_op_info(p->thread[t].ops[i].code)->name, e->needs);
            res->thread = (int)t;
            res->op_index = i;
            return -1;
        }
    return 0;
}

static int exec_set_bugs(const program *p, const exec_config *cfg, exec_result *res)
{
    rs_bug_clear_all();
    for (uint32_t i = 0; i < p->nbugs; i++)
        if (rs_bug_set(p->bugs[i], true) < 0)
            goto bad;
    for (const char *const *b = cfg->bugs; b && *b; b++)
        if (rs_bug_set(*b, true) < 0) {
            snprintf(res->message, sizeof res->message, "unknown mutant '%s'", *b);
            goto err;
        }
    return 0;
bad:
    snprintf(res->message, sizeof res->message, "unknown mutant in the program");
err:
    res->verdict = VERDICT_ERROR;
    snprintf(res->check, sizeof res->check, "bug");
    rs_bug_clear_all();
    return -1;
}

static void exec_trial_reset(exec_trial *tr, const program *p, const exec_config *cfg)
{
    memset(tr, 0, sizeof *tr);
    tr->p = p;
    tr->cfg = cfg;
    tr->nthreads = (int)p->nthreads;
    tr->check_rate = p->opt.check_rate;
    tr->fthread = -1;
    tr->fop = -1;
    for (int i = 0; i < tr->nthreads; i++) {
        exec_thread *t = &tr->th[i];
        t->tr = tr;
        t->idx = i;
        t->pt = &p->thread[i];
        rs_atomic_store_relaxed_i64(&t->cur_op, -1);
    }
    exec_oracles_reset(tr);
    exec_retain_reset(tr);
}

static char *exec_format_log(exec_trial *tr)
{
    uint64_t n = rs_atomic_load_relaxed_u64(&tr->log_len);
    if (n > tr->log_cap)
        n = tr->log_cap;
    char *s = malloc(n * 24 + 1);
    if (s == NULL)
        return NULL;
    size_t k = 0;
    s[0] = '\0';
    for (uint64_t i = 0; i < n; i++)
        k += (size_t)sprintf(s + k, "%s%u:%u", i ? " " : "", (unsigned)(tr->log[i] >> 32),
                             (unsigned)(uint32_t)tr->log[i]);
    return s;
}

static char *exec_format_trace(sched *s)
{
    size_t len;
    const sched_switch *t = sched_trace(s, &len);
    return t ? sched_trace_text(t, len) : NULL;
}

/* Everything exec_run sets up, so that its one exit path can undo exactly what was done. */
typedef struct exec_setup {
    sched_switch *replay;
    size_t replay_len;
    bool hooks, runtime;
} exec_setup;

/* PCT draws its change points among the first k decisions.  With automatic points a trial
 * takes about 280 decisions per op (measured: cross-decref, 812 ops, 228 000 decisions, against
 * about 1 000 with named points only), so k follows the program's size: a pure function of the
 * program, so that a seed replays the same schedule. */
#define PCT_AUTO_STEPS_PER_OP 300u
static int pct_steps_hint(uint64_t nops)
{
    uint64_t k = nops * PCT_AUTO_STEPS_PER_OP;
    if (k < SCHED_PCT_DEFAULT_STEPS)
        return SCHED_PCT_DEFAULT_STEPS;
    return k > 100000000u ? 100000000 : (int)k;
}

static int exec_prepare(exec_trial *tr, const exec_config *cfg, exec_setup *su,
                        exec_result *res)
{
    const program *p = tr->p;
    if (cfg->replay_trace &&
        sched_trace_parse(cfg->replay_trace, &su->replay, &su->replay_len) < 0) {
        snprintf(res->message, sizeof res->message, "replay trace does not parse");
        return -1;
    }
    uint64_t nops = 0;
    for (int i = 0; i < tr->nthreads; i++)
        nops += p->thread[i].nops;
    sched_params sp = {.seed = cfg->seed, .nthreads = tr->nthreads, .depth = cfg->depth,
                       .pin_cpu = 0, .replay_trace = su->replay, .replay_len = su->replay_len,
                       .fault = exec_fault, .fault_ctx = tr,
                       .auto_points = p->opt.auto_points,
                       .max_steps_hint = p->opt.auto_points ? pct_steps_hint(nops) : 0};
    tr->s = sched_create(cfg->mode, &sp);
    if (tr->s == NULL) {
        snprintf(res->message, sizeof res->message, "cannot create scheduler '%s'",
                 mode_name(cfg->mode));
        return -1;
    }
    if (cfg->op_log) {
        tr->log_cap = nops + 1;
        tr->log = malloc(tr->log_cap * sizeof *tr->log);
    }
    if (exec_pool_reserve(tr->nthreads - 1) < 0) {
        snprintf(res->message, sizeof res->message, "cannot start pool threads");
        return -1;
    }
    sched_install(tr->s);
    exec_hooks_wrap();
    su->hooks = true;

    rs_options o;
    rs_options_default(&o);
    o.immortalize_deferred = p->opt.immortalize_deferred;
    o.freelists = p->opt.freelists;
    o.gc_enabled = p->opt.gc_enabled;
    o.validate = p->opt.validate || o.validate;
    for (int i = 0; i < 3; i++)
        o.gc_threshold[i] = p->opt.gc_threshold[i];
    o.trash_depth = (int)p->opt.trash_depth;
    o.torture = prog_torture_for(p->opt.torture, cfg->seed);
    if (rs_runtime_init(&o) < 0) {
        snprintf(res->message, sizeof res->message, "rs_runtime_init failed");
        return -1;
    }
    su->runtime = true;
    return 0;
}

/* Run the program's threads to their end: t0 here, the others on the pool. */
static void exec_threads(exec_trial *tr, const exec_config *cfg)
{
    const program *p = tr->p;
    exec_thread *t0 = &tr->th[0];
    t0->ts = rs_tstate_current();
    t0->attached = true;
    rs_atomic_store_relaxed_uptr(&t0->tid, rs_thread_id());
    rs_atomic_store_relaxed_uptr(&t0->os_thread, (uintptr_t)pthread_self());
    for (int i = 1; i < tr->nthreads; i++)
        if (p->thread[i].start == PROG_START_AUTO)
            tr->th[i].ts = rs_tstate_new(); /* no program thread runs yet: no fault applies */
    for (int i = 1; i < tr->nthreads; i++)
        exec_pool_run(i - 1, exec_thread_main, &tr->th[i]);

    uint32_t timeout = cfg->timeout_ms ? cfg->timeout_ms : p->opt.timeout_ms;
    exec_watchdog_arm(tr, timeout ? timeout : 10000);
    sched_start(tr->s);
    sched_thread_begin(tr->s, 0);
    exec_self_set(t0);
    exec_run_ops(t0);
    exec_main_finish(t0);
    rs_atomic_store_relaxed_u32(&t0->finished, 1);
    sched_thread_end(tr->s, 0);
    exec_self_set(NULL);
    for (int i = 1; i < tr->nthreads; i++) {
        sched_join_wait(tr->s, i);
        exec_pool_join(i - 1);
    }
    exec_watchdog_disarm();
}

static void exec_collect(exec_trial *tr, exec_result *res)
{
    res->ops_run = rs_atomic_load_relaxed_u64(&tr->ops_run);
    exec_check_leaks(tr, res);
    exec_check_lock_order(tr);
    if (sched_deadlocked(tr->s))
        exec_fail(tr, VERDICT_HANG, "deadlock", -1, -1, "pct: every program thread was blocked");
    if (rs_atomic_load_relaxed_u32(&tr->failed)) {
        res->verdict = tr->verdict;
        snprintf(res->check, sizeof res->check, "%s", tr->check);
        snprintf(res->message, sizeof res->message, "%s", tr->message);
        res->thread = tr->fthread;
        res->op_index = tr->fop;
        if (tr->verdict == VERDICT_HANG)
            res->thread_dump = exec_thread_dump_text(tr);
    } else {
        res->verdict = VERDICT_PASS;
    }
    res->trace = exec_format_trace(tr->s);
    if (tr->log)
        res->op_log = exec_format_log(tr);
}

int exec_run(const program *p, const exec_config *cfg, exec_result *res)
{
    memset(res, 0, sizeof *res);
    res->thread = -1;
    res->op_index = -1;
    prog_error perr;
    if (program_validate(p, &perr) < 0) {
        res->verdict = VERDICT_ERROR;
        snprintf(res->check, sizeof res->check, "program");
        snprintf(res->message, sizeof res->message, "invalid program: %s", perr.message);
        return 0;
    }
    if (exec_unsupported(p, res) < 0 || exec_set_bugs(p, cfg, res) < 0)
        return 0;

    exec_trial *tr = &exec_cur;
    exec_trial_reset(tr, p, cfg);
    exec_setup su = {0};
    int rc = exec_prepare(tr, cfg, &su, res);
    if (rc == 0) {
        int64_t t_start = mono_now_ns();
        exec_threads(tr, cfg);
        res->seconds = (double)(mono_now_ns() - t_start) / 1e9;
        su.runtime = false; /* the program's end shut the runtime down */
        exec_collect(tr, res);
    }
    /* the one exit: undo what exec_prepare did, in reverse */
    if (su.runtime)
        (void)rs_runtime_fini();
    if (su.hooks)
        exec_hooks_unwrap();
    if (tr->s)
        sched_destroy(tr->s);
    tr->s = NULL;
    free(tr->log);
    tr->log = NULL;
    free(su.replay);
    rs_bug_clear_all();
    return rc;
}

void exec_result_free(exec_result *res)
{
    free(res->trace);
    free(res->op_log);
    free(res->thread_dump);
    res->trace = res->op_log = res->thread_dump = NULL;
}

