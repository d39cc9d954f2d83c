/* executor.c — the trial driver: runs one program against the runtime under one scheduler.
 *
 * A trial, top to bottom (exec_run):
 *   1. refuse programs that do not validate or use an op this runtime cannot run yet (a
 *      static scan of exec_op_table: EXEC_ERROR, nothing runs);
 *   2. switch the mutants on, create the scheduler (fault hook: exec_fault), install its hook
 *      table and wrap it (exec_hook_*: each program thread's last schedule point and whether
 *      it is blocked are recorded for the watchdog);
 *   3. rs_runtime_init on the calling thread, which becomes program thread t0 (the runtime's
 *      main thread); create the runtime states of the `auto` threads (the executor is their
 *      parent); hand every other program thread to a pooled OS thread — `spawn` threads too:
 *      they begin at once (pct starts only when every thread has begun) and block in a hook
 *      wait until their `spawn` op runs;
 *   4. arm the watchdog, open the start gate, run t0's ops, then t0's end: wait for the other
 *      threads (detached), release registers and mailboxes, validate, rs_runtime_fini — or,
 *      after a `shutdown` op (which first drains the others' registers, exec_ops_shutdown.c),
 *      just wait for the others to stop;
 *   5. join everything, disarm the watchdog, account leaks (checks.c), collect trace/op log.
 *
 * A program thread between ops: schedule point "exec.op", eval-breaker poll (attached only;
 * a thread the runtime shut out stops there and never touches an object again), the op.
 *
 * Threads: the pool is the only code in refstorm that creates OS threads (exec_os_thread_
 * create).  A job is handed over with a release store and a futex wake, and handed back the
 * same way: these edges model pthread_create and pthread_join, nothing more; there is no
 * start barrier (the scheduler's gate is relaxed in free mode). */
#include "exec_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../runtime/bugs.h"
#include "../runtime/hooks.h"
#include "../runtime/runtime.h"

exec_trial exec_cur;

static _Thread_local exec_thread *exec_tls;
exec_thread *exec_self(void) { return exec_tls; }

static const char *const verdict_names[] = {"pass", "invariant", "crash", "sanitizer",
                                            "hang", "leak", "error"};

const char *exec_verdict_name(exec_verdict v)
{
    return (unsigned)v < sizeof verdict_names / sizeof *verdict_names ? verdict_names[v] : "?";
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* ---- failures ---- */

void exec_fail(exec_trial *tr, exec_verdict v, const char *check, int thread, int64_t op,
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

/* ---- OS threads: the pool ---- */

int exec_os_thread_create(void *(*fn)(void *), void *arg)
{
    pthread_t th;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&th, &a, fn, arg);
    pthread_attr_destroy(&a);
    return r == 0 ? 0 : -1;
}

enum { POOL_IDLE = 0, POOL_JOB = 1 };
typedef struct pool_worker {
    RS_ATOMIC(uint32_t) state; /* IDLE ⇄ JOB */
    void (*fn)(void *);        /* written by the dispatcher before the release store */
    void *arg;
} pool_worker;

#define POOL_MAX PROG_MAX_THREADS
static pool_worker *pool[POOL_MAX];
static int pool_n; /* owner: the executor's thread */

static void *pool_main(void *p)
{
    pool_worker *w = p;
    for (;;) {
        /* acquire: pairs with the release store in pool_dispatch (a thread creation) */
        while (rs_atomic_load_acquire_u32(&w->state) != POOL_JOB)
            rs_futex_wait((uint32_t *)&w->state, POOL_IDLE, -1);
        w->fn(w->arg);
        /* release: pairs with the acquire load in pool_wait_idle (a thread join) */
        rs_atomic_store_release_u32(&w->state, POOL_IDLE);
        rs_futex_wake((uint32_t *)&w->state, INT32_MAX);
    }
    return NULL;
}

static pool_worker *pool_get(int i)
{
    while (pool_n <= i) {
        pool_worker *w = calloc(1, sizeof *w);
        if (w == NULL || exec_os_thread_create(pool_main, w) < 0) {
            free(w);
            return NULL;
        }
        pool[pool_n++] = w;
    }
    return pool[i];
}

static void pool_dispatch(pool_worker *w, void (*fn)(void *), void *arg)
{
    w->fn = fn;
    w->arg = arg;
    rs_atomic_store_release_u32(&w->state, POOL_JOB); /* pairs with pool_main's acquire */
    rs_futex_wake((uint32_t *)&w->state, INT32_MAX);
}

static void pool_wait_idle(pool_worker *w)
{
    /* acquire: pairs with pool_main's release store after the job */
    while (rs_atomic_load_acquire_u32(&w->state) != POOL_IDLE)
        rs_futex_wait((uint32_t *)&w->state, POOL_JOB, -1);
}

/* ---- the hook wrapper: the scheduler's table, plus what the watchdog wants to know ---- */

static rs_hooks exec_inner; /* the scheduler's table; written only between trials */

static void exec_hook_point(void *ctx, const char *name)
{
    (void)ctx;
    exec_thread *t = exec_tls;
    if (t)
        rs_atomic_store_relaxed_ptr(&t->cur_point, (void *)name);
    if (exec_inner.sched_point)
        exec_inner.sched_point(exec_inner.ctx, name);
}

static int exec_hook_wait(void *ctx, uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    (void)ctx;
    exec_thread *t = exec_tls;
    if (t)
        rs_atomic_store_relaxed_u32(&t->in_wait, 1);
    int r = exec_inner.wait ? exec_inner.wait(exec_inner.ctx, addr, expected, timeout_ns)
                            : rs_futex_wait(addr, expected, timeout_ns);
    if (t)
        rs_atomic_store_relaxed_u32(&t->in_wait, 0);
    return r;
}

static void exec_hook_wake(void *ctx, uint32_t *addr, int n)
{
    (void)ctx;
    if (exec_inner.wake)
        exec_inner.wake(exec_inner.ctx, addr, n);
    else
        rs_futex_wake(addr, n);
}

static void exec_hook_event(void *ctx, int event, int64_t arg)
{
    (void)ctx;
    exec_oracles_event(&exec_cur, event, arg);
}

static bool exec_hook_fault(void *ctx, const char *site)
{
    (void)ctx;
    return exec_inner.fault && exec_inner.fault(exec_inner.ctx, site);
}

/* The fault injector the scheduler forwards to: the calling program thread's fail_alloc. */
static bool exec_fault(void *ctx, const char *site)
{
    (void)ctx;
    exec_thread *t = exec_tls;
    if (t == NULL || t->fail_count == 0)
        return false;
    const char *want = t->fail_site;
    size_t n = strlen(want);
    if (n > 0) {
        bool prefix = n >= 2 && want[n - 1] == '*' && want[n - 2] == '.';
        if (prefix ? strncmp(site, want, n - 1) != 0 : strcmp(site, want) != 0)
            return false;
    }
    t->fail_count--;
    return true;
}

/* ---- registers ---- */

void exec_reg_release(exec_thread *t, int r)
{
    exec_reg *g = &t->reg[r];
    rs_object *o = g->obj;
    if (o == NULL)
        return;
    uint32_t n = g->extra + 1;
    g->obj = NULL;
    g->extra = 0;
    while (n--)
        rs_decref(o);
}

void exec_reg_set(exec_thread *t, int r, rs_object *o)
{
    exec_reg_release(t, r);
    t->reg[r].obj = o;
}

void exec_release_all(exec_thread *t)
{
    for (int r = 0; r < PROG_NREGS; r++)
        exec_reg_release(t, r);
}

/* ---- thread states ---- */

int exec_ts_attach(exec_thread *t)
{
    rs_tstate *ts = t->ts;
    /* a state shut out before it was bound must not bind (binding touches the runtime) */
    if (!ts->bound && rs_atomic_load_relaxed_int(&ts->state) == RS_TS_SHUTTING_DOWN) {
        t->shut_out = true;
        return -1;
    }
    bool was_bound = ts->bound;
    if (rs_tstate_attach(ts) < 0) {
        t->shut_out = true;
        return -1;
    }
    if (!was_bound)
        rs_atomic_store_relaxed_uptr(&t->tid, rs_thread_id());
    t->attached = true;
    return 0;
}

void exec_ts_detach(exec_thread *t)
{
    rs_tstate_detach(t->ts);
    t->attached = false;
}

/* End a thread other than t0: registers released, state cleared and deleted. */
int exec_thread_finish(exec_thread *t)
{
    t->fail_count = 0; /* injected faults are for ops, not for the thread's exit */
    if (t->ts == NULL)
        return EXEC_OP_STOP; /* never started (its spawn failed) */
    if (!t->shut_out && !t->attached)
        exec_ts_attach(t);
    if (t->shut_out) {
        /* registers stay as they are: orphans, counted by the leak accounting */
        rs_atomic_store_relaxed_uptr(&t->tid, 0);
        rs_tstate_release(t->ts);
    } else {
        exec_thread_unwind(t);
        exec_release_all(t);
        rs_atomic_store_relaxed_uptr(&t->tid, 0);
        rs_tstate_exit(t->ts);
    }
    t->ts = NULL;
    t->attached = false;
    return EXEC_OP_STOP;
}

int exec_spawn(exec_thread *t, int target)
{
    exec_thread *c = &t->tr->th[target];
    rs_tstate *ts = rs_tstate_new(); /* the parent creates the child's state */
    c->spawn_ts = ts;
    /* release: pairs with the child's acquire load in exec_thread_main (thread creation) */
    rs_atomic_store_release_u32(&c->spawned, ts ? 1 : 2);
    rs_hook_wake((uint32_t *)&c->spawned, INT32_MAX);
    return EXEC_OP_NEXT;
}

int exec_join(exec_thread *t, int target)
{
    bool was = t->attached;
    if (was)
        exec_ts_detach(t); /* a blocking call detaches */
    if (t->idx != 0)
        exec_join_begin(t); /* a `shutdown` meanwhile releases our registers for us */
    if (sched_join_wait(t->tr->s, target) < 0)
        exec_fail(t->tr, EXEC_HANG, "deadlock", t->idx, rs_atomic_load_relaxed_i64(&t->cur_op),
                  "pct: every thread blocked while t%d joined t%d", t->idx, target);
    if (t->idx != 0 && !exec_join_end(t))
        return EXEC_OP_STOP;
    if (was && exec_ts_attach(t) < 0)
        return EXEC_OP_STOP;
    return EXEC_OP_NEXT;
}

/* t0: the `shutdown` op — finalise the runtime while other threads may still run */
int exec_shutdown(exec_thread *t)
{
    exec_trial *tr = t->tr;
    t->fail_count = 0; /* injected faults are for ops, not for the runtime's shutdown */
    exec_shutdown_settle(t); /* the others' registers and the mailboxes are released */
    exec_thread_unwind(t);
    exec_release_all(t);
    if (!exec_check_now(t, rs_atomic_load_relaxed_i64(&t->cur_op)))
        rs_rt.opts.validate = false; /* lifecycle: recorded; shutdown's collections would abort on it */
    rs_atomic_store_relaxed_uptr(&t->tid, 0);
    tr->leaks = rs_runtime_fini();
    tr->shutdown_done = true;
    exec_shutdown_over(tr);
    t->ts = NULL;
    t->attached = false;
    return EXEC_OP_STOP;
}

bool exec_with_tstate(uintptr_t tid, void (*fn)(rs_tstate *ts, void *arg), void *arg)
{
    if (tid == 0)
        return false;
    rs_head_lock();
    rs_tstate *ts = rs_rt.threads;
    while (ts && rs_atomic_load_relaxed_uptr(&ts->thread_id) != tid)
        ts = ts->next;
    if (ts)
        fn(ts, arg);
    rs_head_unlock();
    return ts != NULL;
}

/* ---- op text ---- */

void exec_op_text(const prog_op *op, char *buf, size_t n)
{
    const prog_opinfo *in = prog_op_info(op->code);
    if (in == NULL) {
        snprintf(buf, n, "?");
        return;
    }
    size_t k = (size_t)snprintf(buf, n, "%s", in->name);
    for (int i = 0; i < in->nargs && k < n; i++) {
        const prog_argspec *a = &in->arg[i];
        if (a->kind == PROG_ARG_SITE) {
            k += (size_t)snprintf(buf + k, n - k, " %s", op->str ? op->str : "?");
        } else if (a->kind == PROG_ARG_ENUM) {
            int cnt = 0;
            const char *const *w = prog_enum_words(a->set, &cnt);
            int v = op->arg[i];
            k += (size_t)snprintf(buf + k, n - k, " %s", v >= 0 && v < cnt ? w[v] : "?");
        } else {
            char pre = prog_arg_prefix(a->kind);
            if (pre)
                k += (size_t)snprintf(buf + k, n - k, " %c%d", pre, (int)op->arg[i]);
            else
                k += (size_t)snprintf(buf + k, n - k, " %d", (int)op->arg[i]);
        }
    }
}

/* ---- running a thread's ops ---- */

static void exec_log(exec_trial *tr, int thread, int64_t index)
{
    if (tr->log == NULL)
        return;
    /* relaxed: a slot per op; in pct the order of the adds is the order of the ops */
    uint64_t at = rs_atomic_add_relaxed_u64(&tr->log_len, 1);
    if (at < tr->log_cap)
        tr->log[at] = ((uint64_t)(uint32_t)thread << 32) | (uint32_t)index;
}

/* 0: ran to the end of its ops or stopped by an op; the caller ends the thread */
static void exec_run_ops(exec_thread *t)
{
    exec_trial *tr = t->tr;
    const prog_thread *pt = t->pt;
    for (uint32_t i = 0; i < pt->nops; i++) {
        RS_SCHED("exec.op");
        /* acquire: pairs with t0's release store in exec_shutdown_settle */
        if (t->idx != 0 && rs_atomic_load_acquire_u32(&tr->shutdown_pending)) {
            exec_drain(t, i);
            break;
        }
        if (t->attached && rs_poll(t->ts, NULL) < 0) {
            t->shut_out = true;
            t->attached = false;
            break;
        }
        const prog_op *op = &pt->ops[i];
        rs_atomic_store_relaxed_i64(&t->cur_op, i);
        exec_log(tr, t->idx, i);
        rs_atomic_add_relaxed_u64(&tr->ops_run, 1);
        const exec_op_entry *e = &exec_op_table[op->code];
        int r = e->fn(t, op, i);
        if (r == EXEC_OP_STOP)
            break;
        if (t->idx == 0 && tr->check_rate > 0 && t->attached && (i + 1) % EXEC_T0_STW_EVERY == 0)
            exec_stw_point(t, i);
    }
    rs_atomic_store_relaxed_i64(&t->cur_op, pt->nops);
    t->fail_count = 0; /* fail_alloc counts fallible steps of ops: not of the thread's end */
}

static void exec_thread_main(void *arg)
{
    exec_thread *t = arg;
    exec_trial *tr = t->tr;
    exec_tls = t;
    rs_atomic_store_relaxed_uptr(&t->os_thread, (uintptr_t)pthread_self());
    sched_thread_begin(tr->s, t->idx);
    if (t->pt->start == PROG_START_SPAWN) {
        /* acquire: pairs with the spawner's release store (thread creation) */
        while (rs_atomic_load_acquire_u32(&t->spawned) == 0)
            rs_hook_wait((uint32_t *)&t->spawned, 0, -1);
        t->ts = t->spawn_ts;
    }
    if (t->ts) {
        if (t->pt->mode == PROG_MODE_EARLY)
            exec_ts_attach(t);
        if (!t->shut_out)
            exec_run_ops(t);
        if (t->ts)
            exec_thread_finish(t);
    }
    rs_atomic_store_relaxed_u32(&t->finished, 1);
    /* release: pairs with t0's acquire load in exec_shutdown_settle */
    rs_atomic_store_release_u32(&t->settle, EXEC_SETTLE_DONE);
    rs_hook_wake((uint32_t *)&t->settle, INT32_MAX);
    sched_thread_end(tr->s, t->idx);
    exec_tls = NULL;
}

/* t0's end: everything the program left behind is released, validated and shut down */
static void exec_main_finish(exec_thread *t)
{
    exec_trial *tr = t->tr;
    if (tr->shutdown_done) {
        for (int i = 1; i < tr->nthreads; i++)
            sched_join_wait(tr->s, i);
        return;
    }
    if (t->attached)
        exec_ts_detach(t);
    for (int i = 1; i < tr->nthreads; i++)
        if (sched_join_wait(tr->s, i) < 0)
            exec_fail(tr, EXEC_HANG, "deadlock", i, -1,
                      "pct: every thread blocked while t0 waited for t%d to end", i);
    exec_ts_attach(t); /* no one else can shut the runtime down */
    exec_thread_unwind(t);
    exec_release_all(t);
    for (int m = 0; m < PROG_NMAILBOXES; m++) {
        /* acq_rel: pairs with the exchanges of send/recv */
        rs_object *o = rs_atomic_exchange_acq_rel_ptr(&tr->mbox[m], NULL);
        if (o)
            rs_decref(o);
    }
    if (!exec_check_now(t, -1))
        rs_rt.opts.validate = false; /* lifecycle: recorded; shutdown's collections would abort on it */
    tr->leaks = rs_runtime_fini();
    t->ts = NULL;
    t->attached = false;
}

/* ---- the trial ---- */

static int exec_unsupported(const program *p, exec_result *res)
{
    for (uint32_t t = 0; t < p->nthreads; t++)
        for (uint32_t i = 0; i < p->thread[t].nops; i++) {
            const exec_op_entry *e = &exec_op_table[p->thread[t].ops[i].code];
            if (e->fn)
                continue;
            res->verdict = EXEC_ERROR;
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
    res->verdict = EXEC_ERROR;
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
    if (t == NULL)
        return NULL;
    size_t need = sched_trace_format(t, len, NULL, 0);
    char *buf = malloc(need + 1);
    if (buf)
        sched_trace_format(t, len, buf, need + 1);
    return buf;
}

int exec_run(const program *p, const exec_config *cfg, exec_result *res)
{
    memset(res, 0, sizeof *res);
    res->thread = -1;
    res->op_index = -1;
    prog_error perr;
    if (program_validate(p, &perr) < 0) {
        res->verdict = EXEC_ERROR;
        snprintf(res->check, sizeof res->check, "program");
        snprintf(res->message, sizeof res->message, "invalid program: %s", perr.message);
        return 0;
    }
    if (exec_unsupported(p, res) < 0 || exec_set_bugs(p, cfg, res) < 0)
        return 0;

    exec_trial *tr = &exec_cur;
    exec_trial_reset(tr, p, cfg);
    sched_switch *replay = NULL;
    size_t replay_len = 0;
    if (cfg->replay_trace && sched_trace_parse(cfg->replay_trace, &replay, &replay_len) < 0) {
        snprintf(res->message, sizeof res->message, "replay trace does not parse");
        rs_bug_clear_all();
        return -1;
    }
    sched_params sp = {.seed = cfg->seed, .nthreads = tr->nthreads, .depth = cfg->depth,
                       .pin_cpu = 0, .replay_trace = replay, .replay_len = replay_len,
                       .fault = exec_fault, .fault_ctx = tr};
    tr->s = sched_create(cfg->mode ? cfg->mode : "free", &sp);
    if (tr->s == NULL) {
        snprintf(res->message, sizeof res->message, "cannot create scheduler '%s'",
                 cfg->mode ? cfg->mode : "free");
        free(replay);
        rs_bug_clear_all();
        return -1;
    }
    if (cfg->op_log) {
        uint64_t total = 0;
        for (int i = 0; i < tr->nthreads; i++)
            total += p->thread[i].nops;
        tr->log_cap = total + 1;
        tr->log = malloc(tr->log_cap * sizeof *tr->log);
    }
    for (int i = 1; i < tr->nthreads; i++)
        if (pool_get(i - 1) == NULL) {
            snprintf(res->message, sizeof res->message, "cannot start pool threads");
            sched_destroy(tr->s);
            free(replay);
            free(tr->log);
            rs_bug_clear_all();
            return -1;
        }

    sched_install(tr->s);
    exec_inner = *rs_hooks_current();
    rs_hooks wrap = {.ctx = NULL, .sched_point = exec_hook_point, .wait = exec_hook_wait,
                     .wake = exec_hook_wake, .fault = exec_hook_fault,
                     .event = exec_hook_event};
    rs_hooks_install(&wrap);

    rs_options o;
    rs_options_default(&o);
    o.immortalize_deferred = p->opt.immortalize_deferred;
    o.freelists = p->opt.freelists;
    o.gc_enabled = p->opt.gc_enabled;
    o.validate = p->opt.validate || o.validate;
    for (int i = 0; i < 3; i++)
        o.gc_threshold[i] = p->opt.gc_threshold[i];
    o.trash_depth = (int)p->opt.trash_depth;
    int64_t t_start = now_ns();
    if (rs_runtime_init(&o) < 0) {
        rs_hooks_install(NULL);
        sched_destroy(tr->s);
        free(replay);
        free(tr->log);
        rs_bug_clear_all();
        snprintf(res->message, sizeof res->message, "rs_runtime_init failed");
        return -1;
    }
    exec_thread *t0 = &tr->th[0];
    t0->ts = rs_tstate_current();
    t0->attached = true;
    rs_atomic_store_relaxed_uptr(&t0->tid, rs_thread_id());
    rs_atomic_store_relaxed_uptr(&t0->os_thread, (uintptr_t)pthread_self());
    for (int i = 1; i < tr->nthreads; i++)
        if (p->thread[i].start == PROG_START_AUTO)
            tr->th[i].ts = rs_tstate_new(); /* no program thread runs yet: no fault applies */
    for (int i = 1; i < tr->nthreads; i++)
        pool_dispatch(pool[i - 1], exec_thread_main, &tr->th[i]);

    uint32_t timeout = cfg->timeout_ms ? cfg->timeout_ms : p->opt.timeout_ms;
    exec_watchdog_arm(tr, timeout ? timeout : 10000);
    sched_start(tr->s);
    sched_thread_begin(tr->s, 0);
    exec_tls = t0;
    exec_run_ops(t0);
    exec_main_finish(t0);
    rs_atomic_store_relaxed_u32(&t0->finished, 1);
    sched_thread_end(tr->s, 0);
    exec_tls = NULL;
    for (int i = 1; i < tr->nthreads; i++) {
        sched_join_wait(tr->s, i);
        pool_wait_idle(pool[i - 1]);
    }
    exec_watchdog_disarm();
    rs_hooks_install(NULL);

    res->seconds = (double)(now_ns() - t_start) / 1e9;
    res->ops_run = rs_atomic_load_relaxed_u64(&tr->ops_run);
    exec_check_leaks(tr, res);
    if (sched_deadlocked(tr->s))
        exec_fail(tr, EXEC_HANG, "deadlock", -1, -1, "pct: every program thread was blocked");
    if (rs_atomic_load_relaxed_u32(&tr->failed)) {
        res->verdict = tr->verdict;
        snprintf(res->check, sizeof res->check, "%s", tr->check);
        snprintf(res->message, sizeof res->message, "%s", tr->message);
        res->thread = tr->fthread;
        res->op_index = tr->fop;
        if (tr->verdict == EXEC_HANG)
            res->thread_dump = exec_thread_dump_text(tr);
    } else {
        res->verdict = EXEC_PASS;
    }
    res->trace = exec_format_trace(tr->s);
    if (tr->log)
        res->op_log = exec_format_log(tr);
    sched_destroy(tr->s);
    tr->s = NULL;
    free(tr->log);
    tr->log = NULL;
    free(replay);
    rs_bug_clear_all();
    return 0;
}

void exec_result_free(exec_result *res)
{
    free(res->trace);
    free(res->op_log);
    free(res->thread_dump);
    res->trace = res->op_log = res->thread_dump = NULL;
}
