/* sched_chaos.c — the `chaos` mode: free-running threads with seeded random perturbations.
 *
 * Everything of the free mode (relaxed start gate, default futex blocking, join) plus, at
 * each schedule point, a decision drawn from the calling thread's own random stream
 * (rng_seed(seed, thread index)): with probability chaos_permille/1000 the thread yields,
 * busy-waits, or sleeps, for a delay in [1, chaos_max_delay_ns] (≤ 50 µs by default) drawn
 * log-scaled: a power-of-two band uniformly, then uniformly within it.  Race windows span
 * orders of magnitude (a few instructions to a pause of the world), and a log-scaled draw
 * gives each order the same share of the perturbations at a mean near max/9 instead of the
 * max/2 of a uniform draw, so that chaos runs close to free's trial rate.  Program threads run
 * with a timer slack of 1 ns while they are program threads (the default 50 µs would make
 * every sleep at least that long).  This widens the race windows the runtime marks with
 * RS_SCHED.  The decisions are reproducible per thread (same seed ⇒ same stream; each thread
 * folds its decisions into a fingerprint the tests compare); the resulting timing is not. */
#include "scheduler.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "rng.h"

/* per-thread state, owned by program thread idx (read by others only after the join) */
typedef struct chaos_thread {
    rng r;
    uint64_t fingerprint;
    uint64_t perturbations;
    uint64_t site_gap;      /* automatic points left before the next perturbation at one */
    long slack;             /* the thread's timer slack before it became a program thread */
    char pad[64 - (sizeof(rng) + 24 + sizeof(long)) % 64]; /* one owner per cache line */
} chaos_thread;

/* Automatic points come by the tens of millions per trial: instead of a draw at each, draw the
 * gap to the next perturbation (uniform in [1, 2000/permille], mean 1000/permille points) and
 * count down; the same seed gives the same gaps. */
static uint64_t site_gap_draw(rng *r, unsigned permille)
{
    return 1 + rng_below(r, 2000u / (permille ? permille : 1));
}

typedef struct chaos {
    sched base;
    chaos_thread *t;
} chaos;

/* A delay in [1, max_ns], log-scaled: band b uniform in [0, log2 max_ns], then uniform in
 * [2^b, 2^(b+1)) (the top band cut at max_ns). */
static uint32_t delay_draw(rng *r, unsigned max_ns)
{
    if (max_ns <= 1)
        return 1;
    unsigned top = 31 - (unsigned)__builtin_clz(max_ns); /* 2^top <= max_ns */
    uint32_t lo = 1u << rng_below(r, top + 1);
    uint32_t width = lo == 1u << top ? max_ns - lo + 1 : lo;
    return lo + (uint32_t)rng_below(r, width);
}

sched_chaos_decision sched_chaos_decide(struct rng *r, unsigned permille, unsigned max_ns)
{
    sched_chaos_decision d = {SCHED_CHAOS_NONE, 0};
    if (!rng_chance(r, permille))
        return d;
    switch (rng_below(r, 3)) {
    case 0:
        d.action = SCHED_CHAOS_YIELD;
        break;
    case 1:
        d.action = SCHED_CHAOS_SPIN;
        d.ns = delay_draw(r, max_ns);
        break;
    default:
        d.action = SCHED_CHAOS_SLEEP;
        d.ns = delay_draw(r, max_ns);
        break;
    }
    return d;
}

static int64_t chaos_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void chaos_act(sched_chaos_decision d)
{
    switch (d.action) {
    case SCHED_CHAOS_NONE:
        break;
    case SCHED_CHAOS_YIELD:
        sched_yield();
        break;
    case SCHED_CHAOS_SPIN: {
        int64_t until = chaos_now_ns() + d.ns;
        while (chaos_now_ns() < until)
            ;
        break;
    }
    case SCHED_CHAOS_SLEEP: {
        struct timespec ts = {0, (long)d.ns};
        nanosleep(&ts, NULL);
        break;
    }
    }
}

/* The calling program thread's state, or NULL for another thread (the executor between
 * trials). */
static chaos_thread *chaos_self(chaos *c)
{
    int idx = sched_self_index(&c->base);
    return idx < 0 ? NULL : &c->t[idx];
}

static void chaos_apply(chaos_thread *t, sched_chaos_decision d)
{
    /* FNV-1a style fold of (action, ns) */
    t->fingerprint = (t->fingerprint ^ ((uint64_t)d.action << 32 | d.ns)) * 0x100000001b3ull;
    if (d.action != SCHED_CHAOS_NONE)
        t->perturbations++;
    chaos_act(d);
}

static void chaos_sched_point(void *ctx, const char *name)
{
    (void)name;
    chaos *c = ctx;
    chaos_thread *t = chaos_self(c);
    if (t)
        chaos_apply(t, sched_chaos_decide(&t->r, c->base.p.chaos_permille,
                                          c->base.p.chaos_max_delay_ns));
}

/* Automatic points are many (hundreds per op): rarer and shorter perturbations, and only
 * spins (a sleep or a yield to one of eight threads on two cores can cost a time slice), keep
 * a trial within a few times its named-points cost. */
static void chaos_site_point(void *ctx, const rs_site *site)
{
    (void)site;
    chaos *c = ctx;
    chaos_thread *t = chaos_self(c);
    if (t == NULL || --t->site_gap > 0)
        return;
    t->site_gap = site_gap_draw(&t->r, c->base.p.chaos_site_permille);
    chaos_apply(t, (sched_chaos_decision){SCHED_CHAOS_SPIN,
                                          delay_draw(&t->r, SCHED_CHAOS_SITE_MAX_NS)});
}

/* The free mode's begin and end, around a timer slack of 1 ns for the program thread (the
 * executor's thread 0 runs on a thread it keeps: restore what it had). */
static void chaos_thread_begin(sched *s, int idx)
{
    chaos_thread *t = &((chaos *)s)->t[idx];
    int old = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    t->slack = old > 0 ? old : 0;
    if (t->slack > 0)
        (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    sched_free_thread_begin(s, idx);
}

static void chaos_thread_end(sched *s, int idx)
{
    chaos_thread *t = &((chaos *)s)->t[idx];
    if (t->slack > 0) /* before the end: the joiner may destroy the scheduler after it */
        (void)prctl(PR_SET_TIMERSLACK, (unsigned long)t->slack, 0, 0, 0);
    sched_free_thread_end(s, idx);
}

static sched *chaos_create(const sched_params *p)
{
    chaos *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    c->t = aligned_alloc(64, (size_t)p->nthreads * sizeof *c->t);
    if (!c->t || sched_base_init(&c->base, &sched_chaos_ops, p) < 0) {
        free(c->t);
        free(c);
        return NULL;
    }
    for (int i = 0; i < p->nthreads; i++) {
        rng_seed(&c->t[i].r, p->seed, (uint64_t)i);
        c->t[i].fingerprint = 0xcbf29ce484222325ull;
        c->t[i].perturbations = 0;
        c->t[i].site_gap = site_gap_draw(&c->t[i].r, p->chaos_site_permille);
    }
    return &c->base;
}

static void chaos_destroy(sched *s)
{
    chaos *c = (chaos *)s;
    sched_base_fini(s);
    free(c->t);
    free(c);
}

static void chaos_fill_hooks(sched *s, rs_hooks *h)
{
    h->sched_point = chaos_sched_point;
    h->site_point = s->p.auto_points ? chaos_site_point : NULL;
    h->wait = NULL;
    h->wake = NULL;
}

uint64_t sched_chaos_fingerprint(sched *s, int idx, uint64_t *perturbations)
{
    if (s->ops != &sched_chaos_ops || idx < 0 || idx >= s->p.nthreads) {
        if (perturbations)
            *perturbations = 0;
        return 0;
    }
    chaos *c = (chaos *)s;
    if (perturbations)
        *perturbations = c->t[idx].perturbations;
    return c->t[idx].fingerprint;
}

const sched_ops sched_chaos_ops = {
    .mode = MODE_CHAOS,
    .create = chaos_create,
    .destroy = chaos_destroy,
    .fill_hooks = chaos_fill_hooks,
    .thread_begin = chaos_thread_begin,
    .thread_end = chaos_thread_end,
    .start = sched_free_start,
    .join_wait_program = NULL,
    .collect = NULL,
};
