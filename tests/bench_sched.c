/* bench_sched.c — a benchmark (not a test): what a pct token handoff costs.
 *
 * Measured in one run, each as the best of 5 repetitions (ns per handoff):
 *   futex same-CPU   two threads pinned to one CPU ping-pong a word with raw futex
 *                    wait/wake: the floor a pct switch cannot beat.
 *   futex cross-CPU  the same with the threads on CPUs 0 and 1 (if there are two).
 *   pct switch       two program threads under pct, forced by a replay trace to switch
 *                    at every schedule point (one decision + one handoff per point).
 *   pct ping-pong    two program threads ping-pong a word through rs_hook_wait/wake, as
 *                    the parking lot will (two decisions and one handoff per wait).
 * and the ratio of pct switch to futex same-CPU.
 *
 * usage: bench_sched [handoffs per measurement, default 20000] */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "scheduler.h"
#include "rs/atomic.h"
#include "rs/hooks.h"

#define REPS 5

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        fprintf(stderr, "bench_sched: cannot pin to CPU %d\n", cpu);
        exit(1);
    }
}

/* ---- bare futex ping-pong ---- */

typedef struct pingpong {
    RS_ATOMIC(uint32_t) word; /* whose turn: 0 or 1 */
    int rounds;
    int cpu[2];
} pingpong;

typedef struct pp_arg { pingpong *pp; int idx; } pp_arg;

static void *pp_thread(void *arg)
{
    pp_arg *a = arg;
    pingpong *pp = a->pp;
    uint32_t me = (uint32_t)a->idx, other = 1 - me;
    pin(pp->cpu[a->idx]);
    for (int i = 0; i < pp->rounds; i++) {
        while (rs_atomic_load_acquire_u32(&pp->word) != me) /* acquire: pairs with the
                                                               other thread's release store */
            rs_futex_wait((uint32_t *)&pp->word, other, -1);
        rs_atomic_store_release_u32(&pp->word, other); /* release: pairs with the load above */
        rs_futex_wake((uint32_t *)&pp->word, 1);
    }
    return NULL;
}

/* ns per handoff (2 per round) */
static double bench_futex(int rounds, int cpu0, int cpu1)
{
    pingpong pp = {.rounds = rounds, .cpu = {cpu0, cpu1}};
    rs_atomic_store_relaxed_u32(&pp.word, 0);
    pthread_t th[2];
    pp_arg a[2] = {{&pp, 0}, {&pp, 1}};
    int64_t t0 = now_ns();
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, pp_thread, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    return (double)(now_ns() - t0) / (2.0 * rounds);
}

/* ---- pct ---- */

typedef struct pct_bench {
    sched *s;
    int points;                  /* per thread */
    bool use_wait;               /* ping-pong through the hooks instead of bare points */
    RS_ATOMIC(uint32_t) word;
} pct_bench;

typedef struct pb_arg { pct_bench *b; int idx; } pb_arg;

static void *pb_thread(void *arg)
{
    pb_arg *a = arg;
    pct_bench *b = a->b;
    sched_thread_begin(b->s, a->idx);
    uint32_t me = (uint32_t)a->idx, other = 1 - me;
    for (int i = 0; i < b->points; i++) {
        if (b->use_wait) {
            while (rs_atomic_load_relaxed_u32(&b->word) != me)
                rs_hook_wait((uint32_t *)&b->word, other, -1);
            rs_atomic_store_relaxed_u32(&b->word, other);
            rs_hook_wake((uint32_t *)&b->word, 1);
        } else {
            RS_SCHED("bench.point");
        }
    }
    sched_thread_end(b->s, a->idx);
    return NULL;
}

/* ns per switch of the token */
static double bench_pct(int points, bool use_wait, const sched_switch *alt, size_t nalt,
                        size_t *switches_out)
{
    pct_bench b = {.points = points, .use_wait = use_wait};
    rs_atomic_store_relaxed_u32(&b.word, 0);
    sched_params p = {.seed = 1, .nthreads = 2};
    if (!use_wait) {
        p.replay_trace = alt;
        p.replay_len = nalt;
    }
    b.s = sched_create(MODE_PCT, &p);
    sched_install(b.s);
    pthread_t th[2];
    pb_arg a[2] = {{&b, 0}, {&b, 1}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, pb_thread, &a[i]);
    int64_t t0 = now_ns();
    sched_start(b.s);
    for (int i = 0; i < 2; i++) {
        sched_join_wait(b.s, i);
        pthread_join(th[i], NULL);
    }
    int64_t dt = now_ns() - t0;
    sched_uninstall(b.s);
    size_t n;
    uint64_t at;
    sched_trace(b.s, &n);
    if (sched_replay_diverged(b.s, &at) || sched_deadlocked(b.s)) {
        fprintf(stderr, "bench_sched: pct run diverged or deadlocked\n");
        exit(1);
    }
    sched_destroy(b.s);
    *switches_out = n;
    return (double)dt / (double)n;
}

static double best(double a, double b) { return a < b ? a : b; }

int main(int argc, char **argv)
{
    int handoffs = argc > 1 ? atoi(argv[1]) : 20000;
    if (handoffs < 100)
        handoffs = 100;
    int rounds = handoffs / 2;
    int ncpu = 0;
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        ncpu = CPU_COUNT(&allowed);

    /* forced alternation: a switch at every decision (see test_sched.c) */
    int points = handoffs / 2;
    size_t steps = 2 * (size_t)points + 1;
    sched_switch *alt = malloc((steps + 1) * sizeof *alt);
    if (!alt)
        return 1;
    for (size_t i = 0; i < steps; i++)
        alt[i] = (sched_switch){.step = (uint32_t)i, .thread = (int32_t)(i & 1)};
    alt[steps] = (sched_switch){.step = (uint32_t)steps, .thread = 1};

    double same = 1e30, cross = 1e30, sw = 1e30, pp = 1e30;
    size_t nsw = 0, npp = 0;
    for (int r = 0; r < REPS; r++) {
        same = best(same, bench_futex(rounds, 0, 0));
        if (ncpu >= 2)
            cross = best(cross, bench_futex(rounds, 0, 1));
        sw = best(sw, bench_pct(points, false, alt, steps + 1, &nsw));
        pp = best(pp, bench_pct(rounds, true, NULL, 0, &npp));
    }
    free(alt);
#if defined(__SANITIZE_THREAD__)
    const char *variant = "tsan";
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    const char *variant = "tsan";
#else
    const char *variant = "non-tsan";
#endif
#else
    const char *variant = "non-tsan";
#endif
    printf("bench_sched (%s build, %d handoffs per measurement, best of %d)\n", variant,
           handoffs, REPS);
    printf("  futex ping-pong, same CPU    %8.0f ns/handoff\n", same);
    if (ncpu >= 2)
        printf("  futex ping-pong, CPUs 0 & 1  %8.0f ns/handoff\n", cross);
    printf("  pct switch (forced, points)  %8.0f ns/switch   (%zu switches)\n", sw, nsw);
    printf("  pct ping-pong (hook wait)    %8.0f ns/switch   (%zu switches)\n", pp, npp);
    printf("  ratio pct switch / futex same-CPU: %.2f\n", sw / same);
    return 0;
}
