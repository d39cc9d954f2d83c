/* sched_pct.c — the `pct` mode: one program thread at a time, chosen by PCT.
 *
 * Algorithm (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with
 * Probabilistic Guarantees of Finding Bugs", ASPLOS 2010): the n threads get distinct random
 * priorities d .. d+n-1; d-1 change points are drawn uniformly among the first k steps; at
 * change point i the running thread's priority drops to i; at every decision the enabled
 * thread of highest priority runs.  A bug of depth d is found with probability at least
 * 1/(n k^(d-1)).
 *
 * A decision (a "step") is taken at every schedule point, every blocking wait and every
 * thread end, plus once at the start.  Whoever takes a decision holds the run token; it
 * records a switch in the trace when the chosen thread differs from the one that ran, hands
 * the token over and sleeps until it gets it back.
 *
 * Blocking: a thread waiting through the hook (*addr == expected) is disabled until a wake
 * on addr enables it (FIFO by wait order, up to n).  When no thread is enabled but some are
 * blocked, the blocked thread with the earliest virtual deadline times out (its wait returns
 * -1; virtual time jumps to the deadline); with no deadline pending the run is deadlocked:
 * the flag is set and every blocked thread is released (its wait returns 0).
 *
 * Replay: with params.replay_trace the recorded switches are forced at their steps and no
 * switch elsewhere; when the recorded thread is not enabled (or the run ends with switches
 * left over) the replay diverges: the step is recorded and PCT takes over.
 *
 * Invisible to ThreadSanitizer: the token and the per-thread `go` words are accessed with
 * relaxed atomics only (TSan derives no happens-before from relaxed operations); all other
 * scheduler state is accessed with plain loads and stores in functions marked PCT_NOTSAN
 * (TSan does not instrument their plain accesses); threads sleep on their go word with the
 * raw futex syscall (which TSan does not intercept).  No mutex, condvar or barrier.  The
 * state is nevertheless used by one thread at a time: the token holder.  Hardware ordering
 * comes from the handoff itself: the giver's plain stores precede its store of `go` and the
 * taker reads them after it has seen `go` set (see PCT_GO_SET: x86-64 keeps that order with
 * relaxed operations; clang does not move plain accesses across an atomic store or load, nor
 * across the futex system call; C11 itself promises neither, which is the price of staying
 * invisible to TSan).
 *
 * All program threads are pinned to one CPU (a same-CPU futex handoff costs about 2 µs,
 * a cross-CPU one 20-25 µs on the 2-vCPU machines we run on). */
#include "scheduler.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rs/fatal.h"
#include "rng.h"

#define PCT_NOTSAN __attribute__((no_sanitize("thread")))
/* The automatic points' fast path runs once per runtime atomic (millions per trial): left
 * without ASan/UBSan checks too, which cost more than the path itself (its few fields are the
 * scheduler's own, set up and freed by pct_create/pct_destroy). */
#define PCT_HOT __attribute__((no_sanitize("thread", "address", "undefined")))
#define PCT_STEP_NS 1000           /* virtual time per decision */
#define PCT_NO_DEADLINE INT64_MAX
#define PCT_TRACE_CHUNK 4096
/* A thread that takes this many decisions in a row is spinning at a schedule point,
 * waiting for someone who never gets to run (PCT lets the highest priority run until it
 * blocks).  If another thread is enabled, or a timed wait can time out, the spinner's
 * priority drops below every other one.  Deterministic, recorded like any switch; it adds
 * a switch PCT itself would not make. */
#define PCT_STARVE_STEPS 100000

/* Setting and seeing a go word.  On x86-64 (TSO: stores become visible in order, loads are
 * not reordered with loads) relaxed is enough for the plain state written before the store
 * to be seen after the load, and relaxed operations give TSan no happens-before edge.  On
 * other architectures that is not so: there the handoff uses release/acquire, which is
 * correct but visible to TSan (pct under TSan there would hide the runtime's races; the
 * canary test says so by failing). */
#if defined(__x86_64__)
#define PCT_GO_SET(w) rs_atomic_store_relaxed_u32((w), 1)
#define PCT_GO_SEEN(w) (rs_atomic_load_relaxed_u32(w) != 0)
#else
#define PCT_GO_SET(w) rs_atomic_store_release_u32((w), 1) /* pairs with PCT_GO_SEEN */
#define PCT_GO_SEEN(w) (rs_atomic_load_acquire_u32(w) != 0) /* pairs with PCT_GO_SET */
#endif

enum pct_state { PCT_RUNNABLE, PCT_BLOCKED, PCT_DONE };

typedef struct pct_thread {
    RS_ATOMIC(uint32_t) go;     /* 1: this thread holds the token (giver sets, owner clears) */
    /* scheduler state, token holder only */
    int state;                  /* enum pct_state */
    int prio;
    const uint32_t *wait_addr;  /* BLOCKED: the word it waits on */
    uint64_t wait_seq;          /* BLOCKED: FIFO order of the wait */
    int64_t deadline;           /* BLOCKED: virtual ns, PCT_NO_DEADLINE if none */
    int wait_result;            /* set when enabled: 0 woken/released, -1 timed out */
    /* owner only */
    bool pinned;
    cpu_set_t saved_affinity;
} pct_thread;

typedef struct pct_chunk {
    struct pct_chunk *next;
    size_t n;
    sched_switch e[PCT_TRACE_CHUNK];
} pct_chunk;

typedef struct pct {
    sched base;
    int n;
    pct_thread *t;
    RS_ATOMIC(int) token;       /* index of the holder, -1 none; relaxed only (bookkeeping) */
    RS_ATOMIC(uint32_t) ready;  /* begun threads + 1 for the open gate; relaxed RMW */
    int cpu;                    /* CPU to pin to, -1: none */
    /* token holder only */
    int running;                /* last chosen thread, -1 before the start */
    uint64_t run_len;           /* consecutive decisions that kept `running` */
    bool dirty;                 /* a thread was enabled since the last full decision */
    /* the last full decision found the running thread past PCT_STARVE_STEPS with nobody to
     * demote it for (no other thread enabled, no wait that can time out): until a thread is
     * enabled or a switch happens that stays so, and the fast path may go on */
    bool starve_quiet;
    uint64_t starved, timeouts, releases; /* counters for sched_stats */
    uint64_t step;              /* decisions taken */
    int64_t vnow;               /* virtual time, ns */
    uint64_t wait_seq;
    uint64_t *change;           /* sorted change points, nchange = d - 1 */
    int nchange, next_change;
    pct_chunk *trace_head, *trace_tail;
    size_t trace_len;
    size_t replay_pos;
    bool diverged;
    uint64_t diverge_step;
} pct;

/* ---- raw futex on a go word (TSan does not intercept syscall()) ---- */

static PCT_NOTSAN void pct_futex_wait(RS_ATOMIC(uint32_t) *w, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static PCT_NOTSAN void pct_futex_wake(RS_ATOMIC(uint32_t) *w)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* ---- token handoff ---- */

/* Give the token to `next`.  After this the caller must not touch scheduler state. */
static PCT_NOTSAN void pct_give(pct *p, int next)
{
    rs_atomic_store_relaxed_int(&p->token, next);
    PCT_GO_SET(&p->t[next].go);
    pct_futex_wake(&p->t[next].go);
}

/* Sleep until this thread holds the token. */
static PCT_NOTSAN void pct_take(pct *p, int me)
{
    RS_ATOMIC(uint32_t) *go = &p->t[me].go;
    while (!PCT_GO_SEEN(go))
        pct_futex_wait(go, 0);
    rs_atomic_store_relaxed_u32(go, 0);
    RS_ASSERT(rs_atomic_load_relaxed_int(&p->token) == me);
}

/* Move from `me` (-1: not a program thread) to `next` (-1: none left).  If me_waits, sleep
 * until me is chosen again. */
static PCT_NOTSAN void pct_switch(pct *p, int me, int next, bool me_waits)
{
    if (next == me)
        return;
    if (next >= 0)
        pct_give(p, next);
    if (me_waits)
        pct_take(p, me);
}

/* ---- trace ---- */

static PCT_NOTSAN void pct_trace_add(pct *p, uint64_t step, int thread, const char *why)
{
    pct_chunk *c = p->trace_tail;
    if (c->n == PCT_TRACE_CHUNK) {
        pct_chunk *nc = malloc(sizeof *nc);
        if (!nc)
            rs_fatal("pct: out of memory for the trace", NULL);
        nc->next = NULL;
        nc->n = 0;
        c->next = nc;
        p->trace_tail = c = nc;
    }
    c->e[c->n++] = (sched_switch){.step = (uint32_t)step, .thread = thread, .point = why};
    p->trace_len++;
}

/* ---- the decision ---- */

static PCT_NOTSAN bool pct_enabled(const pct *p, int i)
{
    return i >= 0 && i < p->n && p->t[i].state == PCT_RUNNABLE;
}

static PCT_NOTSAN void pct_enable(pct *p, int i, int result)
{
    p->t[i].state = PCT_RUNNABLE;
    p->t[i].wait_addr = NULL;
    p->t[i].wait_result = result;
    p->dirty = true;
}

/* Enable up to n threads blocked on addr, oldest wait first; returns how many. */
static PCT_NOTSAN int pct_enable_waiters(pct *p, const uint32_t *addr, int n)
{
    int woken = 0;
    while (woken < n) {
        int best = -1;
        for (int i = 0; i < p->n; i++) {
            pct_thread *t = &p->t[i];
            if (t->state == PCT_BLOCKED && t->wait_addr == addr &&
                (best < 0 || t->wait_seq < p->t[best].wait_seq))
                best = i;
        }
        if (best < 0)
            break;
        pct_enable(p, best, 0);
        woken++;
    }
    return woken;
}

/* Time out the blocked thread with the earliest deadline (ties: the older wait); virtual
 * time jumps to that deadline.  Returns false if no blocked thread has a deadline. */
static PCT_NOTSAN bool pct_timeout_earliest(pct *p)
{
    int best = -1;
    for (int i = 0; i < p->n; i++) {
        pct_thread *t = &p->t[i];
        if (t->state == PCT_BLOCKED && t->deadline != PCT_NO_DEADLINE &&
            (best < 0 || t->deadline < p->t[best].deadline ||
             (t->deadline == p->t[best].deadline && t->wait_seq < p->t[best].wait_seq)))
            best = i;
    }
    if (best < 0)
        return false;
    if (p->t[best].deadline > p->vnow)
        p->vnow = p->t[best].deadline;
    pct_enable(p, best, -1);
    p->timeouts++;
    return true;
}

/* No thread is enabled: time out the earliest deadline, else declare a deadlock and release
 * every blocked thread.  Does nothing if no thread is blocked (all done). */
static PCT_NOTSAN void pct_unstick(pct *p)
{
    if (pct_timeout_earliest(p))
        return;
    int blocked = 0;
    for (int i = 0; i < p->n; i++)
        blocked += p->t[i].state == PCT_BLOCKED;
    if (blocked == 0)
        return;
    if (rs_atomic_exchange_relaxed_u32(&p->base.deadlocked, 1) != 0) {
        /* released before and stuck again: a livelock the executor will report as a hang;
         * slow it down rather than spin at full speed */
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    p->releases++;
    for (int i = 0; i < p->n; i++)
        if (p->t[i].state == PCT_BLOCKED)
            pct_enable(p, i, 0);
}

static PCT_NOTSAN int pct_highest(const pct *p)
{
    int best = -1;
    for (int i = 0; i < p->n; i++)
        if (p->t[i].state == PCT_RUNNABLE && (best < 0 || p->t[i].prio > p->t[best].prio))
            best = i;
    return best;
}

static PCT_NOTSAN bool pct_other_enabled(const pct *p, int me)
{
    for (int i = 0; i < p->n; i++)
        if (i != me && p->t[i].state == PCT_RUNNABLE)
            return true;
    return false;
}

static PCT_NOTSAN void pct_diverge(pct *p, uint64_t step)
{
    if (!p->diverged) {
        p->diverged = true;
        p->diverge_step = step;
    }
}

/* The replay's choice at this step, or -1 when the replay has diverged (now or before). */
static PCT_NOTSAN int pct_replay_choice(pct *p, uint64_t step)
{
    const sched_switch *r = p->base.p.replay_trace;
    size_t len = p->base.p.replay_len;
    if (!r || p->diverged)
        return -1;
    int want = p->running;
    if (p->replay_pos < len && r[p->replay_pos].step <= step) {
        if (r[p->replay_pos].step == step)
            want = r[p->replay_pos].thread;
        else
            want = -1; /* steps out of order in the given trace */
        p->replay_pos++;
    }
    if (pct_enabled(p, want))
        return want;
    if (want == p->running && pct_highest(p) < 0)
        return -1; /* every thread is done: the end of the run, checked by pct_decide */
    pct_diverge(p, step);
    return -1;
}

/* Take one decision on behalf of `me` (-1 at the start), whose state is already updated
 * (RUNNABLE at a point, BLOCKED at a wait, DONE at its end).  Returns the thread to run
 * next, -1 if every thread is done. */
static PCT_NOTSAN int pct_decide(pct *p, int me, const char *why)
{
    uint64_t step = p->step++;
    p->vnow += PCT_STEP_NS;
    while (me >= 0 && p->next_change < p->nchange && p->change[p->next_change] <= step) {
        p->t[me].prio = p->next_change + 1; /* change point i (1-based): priority i */
        p->next_change++;
    }
    if (pct_highest(p) < 0)
        pct_unstick(p);
    p->starve_quiet = false;
    if (me >= 0 && me == p->running && ++p->run_len >= PCT_STARVE_STEPS) {
        if (pct_other_enabled(p, me) || pct_timeout_earliest(p)) {
            p->t[me].prio = 0;
            p->run_len = 0;
            p->starved++;
        } else {
            p->starve_quiet = true;
        }
    }
    int next = pct_replay_choice(p, step);
    if (next < 0)
        next = pct_highest(p);
    if (next != p->running) {
        p->run_len = 0;
        p->starve_quiet = false;
    }
    if (next < 0) {
        if (p->base.p.replay_trace && p->replay_pos < p->base.p.replay_len)
            pct_diverge(p, step); /* switches left over */
    } else if (next != p->running) {
        pct_trace_add(p, step, next, why);
    }
    p->running = next;
    p->dirty = false;
    return next;
}

/* The decision pct_decide would take at an automatic point when nothing can change it: the
 * running thread stays (no thread was enabled since the last full decision, so it is still
 * the highest enabled priority; no change point, starvation demotion or recorded switch is
 * due at this step).  Counts the step exactly as pct_decide does, so traces and replays are
 * the same whichever path a decision took.  Automatic points come by the million; this keeps
 * each at a few compares. */
static PCT_HOT bool pct_decide_fast(pct *p, int me)
{
    const sched_switch *r = p->base.p.replay_trace;
    uint64_t step = p->step;
    if (p->dirty || me != p->running || (p->run_len + 1 >= PCT_STARVE_STEPS && !p->starve_quiet)
        || (p->next_change < p->nchange && p->change[p->next_change] <= step)
        || (r && !p->diverged && p->replay_pos < p->base.p.replay_len
            && r[p->replay_pos].step <= step))
        return false;
    p->step++;
    p->vnow += PCT_STEP_NS;
    p->run_len++;
    return true;
}

/* ---- hooks ---- */

static PCT_NOTSAN void pct_sched_point(void *ctx, const char *name)
{
    pct *p = ctx;
    int me = sched_self_index(&p->base);
    if (me < 0)
        return;
    int next = pct_decide(p, me, name);
    pct_switch(p, me, next, true);
}

/* An automatic point is a decision like a named one; the trace names it by its site. */
static PCT_HOT void pct_site_point(void *ctx, const rs_site *site)
{
    pct *p = ctx;
    int me = sched_self_index(&p->base);
    if (me < 0 || pct_decide_fast(p, me))
        return;
    int next = pct_decide(p, me, site->where);
    pct_switch(p, me, next, true);
}

static PCT_NOTSAN int pct_wait(void *ctx, uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    pct *p = ctx;
    int me = sched_self_index(&p->base);
    if (me < 0)
        return rs_futex_wait(addr, expected, timeout_ns);
    if (*addr != expected) /* plain: only the token holder runs */
        return 0;
    pct_thread *t = &p->t[me];
    if (timeout_ns == 0) { /* a poll: yield once, then time out */
        int next = pct_decide(p, me, "(wait)");
        pct_switch(p, me, next, true);
        return -1;
    }
    t->state = PCT_BLOCKED;
    t->wait_addr = addr;
    t->wait_seq = ++p->wait_seq;
    t->deadline = timeout_ns < 0 || timeout_ns > PCT_NO_DEADLINE - 1 - p->vnow
                      ? PCT_NO_DEADLINE : p->vnow + timeout_ns;
    int next = pct_decide(p, me, "(wait)");
    pct_switch(p, me, next, true);
    return t->wait_result; /* set by whoever enabled us */
}

/* The runtime's clock (its timed waits and mutex fairness) is the virtual one for program
 * threads, so a timed wait ends after the same steps on any machine; others see real time. */
static PCT_NOTSAN int64_t pct_now(void *ctx)
{
    pct *p = ctx;
    if (sched_self_index(&p->base) < 0)
        return rs_monotonic_ns();
    return p->vnow;
}

/* Wakes only program threads: during a pct run no other thread may block on runtime words
 * (scheduler.h), so there is no futex waiter to wake and no system call to pay. */
static PCT_NOTSAN void pct_wake(void *ctx, uint32_t *addr, int n)
{
    pct *p = ctx;
    if (sched_self_index(&p->base) < 0) {
        rs_futex_wake(addr, n);
        return;
    }
    pct_enable_waiters(p, addr, n);
}

/* ---- begin / start / end / join ---- */

static void pct_pin(pct *p, pct_thread *t)
{
    t->pinned = false;
    if (p->cpu < 0)
        return;
    if (pthread_getaffinity_np(pthread_self(), sizeof t->saved_affinity, &t->saved_affinity))
        return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(p->cpu, &one);
    t->pinned = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

static void pct_unpin(pct_thread *t)
{
    if (t->pinned)
        pthread_setaffinity_np(pthread_self(), sizeof t->saved_affinity, &t->saved_affinity);
    t->pinned = false;
}

/* Count one arrival (a thread or the gate); the last one takes the first decision. */
static PCT_NOTSAN int pct_arrive(pct *p)
{
    uint32_t all = (uint32_t)p->n + 1;
    if (rs_atomic_add_relaxed_u32(&p->ready, 1) + 1 != all)
        return -2;
    int next = pct_decide(p, -1, "(start)");
    RS_ASSERT(next >= 0);
    return next;
}

static PCT_NOTSAN void pct_thread_begin(sched *s, int idx)
{
    pct *p = (pct *)s;
    sched_self_set(s, idx);
    pct_pin(p, &p->t[idx]);
    int next = pct_arrive(p);
    if (next == idx)
        return;
    if (next >= 0)
        pct_give(p, next);
    pct_take(p, idx);
}

static PCT_NOTSAN void pct_start(sched *s)
{
    pct *p = (pct *)s;
    int next = pct_arrive(p);
    if (next >= 0)
        pct_give(p, next);
}

static PCT_NOTSAN void pct_thread_end(sched *s, int idx)
{
    pct *p = (pct *)s;
    pct_unpin(&p->t[idx]);
    p->t[idx].state = PCT_DONE;
    sched_done_mark(s, idx);                              /* outside joiners (futex) */
    pct_enable_waiters(p, (const uint32_t *)&s->done[idx], INT32_MAX); /* program joiners */
    int next = pct_decide(p, idx, "(end)");
    sched_self_clear();
    pct_switch(p, idx, next, false);
}

static int pct_join_program(sched *s, int idx)
{
    for (;;) {
        if (sched_done_is_set(s, idx)) /* acquire: pairs with sched_done_mark's release */
            return 0;
        if (sched_deadlocked(s))
            return -1;
        pct_wait(s, (uint32_t *)&s->done[idx], 0, -1);
    }
}

/* ---- creation and results ---- */

static int pct_choose_cpu(const sched_params *prm)
{
    if (prm->pin_cpu == SCHED_CPU_NONE)
        return -1;
    if (prm->pin_cpu >= 0)
        return prm->pin_cpu < CPU_SETSIZE ? prm->pin_cpu : -1;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) == 0)
        return -1;
    rng r;
    rng_seed(&r, prm->seed, RNG_STREAM_SCHED + 1);
    int k = (int)rng_below(&r, (uint64_t)CPU_COUNT(&allowed));
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed) && k-- == 0)
            return c;
    return -1;
}

static void pct_free(pct *p)
{
    pct_chunk *c = p->trace_head;
    while (c) {
        pct_chunk *nx = c->next;
        free(c);
        c = nx;
    }
    free(p->change);
    free(p->t);
    free(p);
}

static sched *pct_create(const sched_params *prm)
{
    pct *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    int n = prm->nthreads, d = prm->depth;
    p->n = n;
    p->t = calloc((size_t)n, sizeof *p->t);
    p->nchange = d - 1;
    p->change = calloc((size_t)(d > 1 ? d - 1 : 1), sizeof *p->change);
    p->trace_head = p->trace_tail = calloc(1, sizeof *p->trace_head);
    if (!p->t || !p->change || !p->trace_head || sched_base_init(&p->base, &sched_pct_ops, prm)) {
        pct_free(p);
        return NULL;
    }
    rng r;
    rng_seed(&r, prm->seed, RNG_STREAM_SCHED);
    /* distinct priorities d .. d+n-1 in random order (Fisher-Yates) */
    for (int i = 0; i < n; i++)
        p->t[i].prio = d + i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(&r, (uint64_t)i + 1);
        int tmp = p->t[i].prio;
        p->t[i].prio = p->t[j].prio;
        p->t[j].prio = tmp;
    }
    /* d-1 distinct change points in [1, k], sorted (insertion; d is small) */
    uint64_t k = (uint64_t)prm->max_steps_hint;
    int nc = p->nchange < (int)k ? p->nchange : (int)k;
    for (int i = 0; i < nc;) {
        uint64_t c = 1 + rng_below(&r, k);
        bool dup = false;
        for (int j = 0; j < i; j++)
            dup |= p->change[j] == c;
        if (dup)
            continue;
        int j = i++;
        while (j > 0 && p->change[j - 1] > c) {
            p->change[j] = p->change[j - 1];
            j--;
        }
        p->change[j] = c;
    }
    p->nchange = nc;
    for (int i = 0; i < n; i++) {
        p->t[i].state = PCT_RUNNABLE;
        p->t[i].deadline = PCT_NO_DEADLINE;
        rs_atomic_store_relaxed_u32(&p->t[i].go, 0);
    }
    rs_atomic_store_relaxed_int(&p->token, -1);
    rs_atomic_store_relaxed_u32(&p->ready, 0);
    p->cpu = pct_choose_cpu(prm);
    p->running = -1;
    return &p->base;
}

static void pct_destroy(sched *s)
{
    sched_base_fini(s);
    pct_free((pct *)s);
}

static PCT_NOTSAN void pct_collect(sched *s)
{
    pct *p = (pct *)s;
    s->stats = (sched_stats){
        .steps = p->step, .switches = p->trace_len, .vtime_ns = p->vnow,
        .timeouts = p->timeouts, .deadlock_releases = p->releases, .starved = p->starved,
    };
    s->replay_diverged = p->diverged;
    s->diverge_step = p->diverge_step;
    if (s->trace && s->trace_len == p->trace_len)
        return;
    free(s->trace);
    s->trace = malloc((p->trace_len ? p->trace_len : 1) * sizeof *s->trace);
    if (!s->trace)
        rs_fatal("pct: out of memory collecting the trace", NULL);
    size_t k = 0;
    for (pct_chunk *c = p->trace_head; c; c = c->next)
        for (size_t i = 0; i < c->n; i++)
            s->trace[k++] = c->e[i];
    s->trace_len = k;
}

static void pct_fill_hooks(sched *s, rs_hooks *h)
{
    h->sched_point = pct_sched_point;
    h->site_point = s->p.auto_points ? pct_site_point : NULL;
    h->wait = pct_wait;
    h->wake = pct_wake;
    h->now = pct_now;
}

const sched_ops sched_pct_ops = {
    .mode = MODE_PCT,
    .create = pct_create,
    .destroy = pct_destroy,
    .fill_hooks = pct_fill_hooks,
    .thread_begin = pct_thread_begin,
    .thread_end = pct_thread_end,
    .start = pct_start,
    .join_wait_program = pct_join_program,
    .collect = pct_collect,
};
