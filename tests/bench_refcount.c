/* bench_refcount.c — benchmark (not a test): the cost of reference counting on the owner's
 * path and on the shared path, next to a plain increment and an atomic add measured in the same
 * run.  Prints ns/op and ratios to the plain increment, and the non-owner pair's ratio to the
 * atomic pair.  Built in release and in release-nort (reference totals compiled out). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* exported, so its disassembly can be inspected: objdump -d --disassemble=rs_bench_owner_pair */
__attribute__((noinline)) void rs_bench_owner_pair(rs_object *o)
{
    rs_incref(o);
    rs_decref(o);
}

#define N 50000000L

static double best_of(double (*fn)(void *), void *arg)
{
    double best = 1e18;
    for (int r = 0; r < 5; r++) {
        double t = fn(arg);
        if (t < best)
            best = t;
    }
    return best;
}

long rs_bench_plain_counter; /* global: the barrier forces every update to memory */

static double run_plain(void *arg)
{
    long *p = arg;
    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
        (*p)++;
        rs_compiler_barrier();
        (*p)--;
        rs_compiler_barrier();
    }
    return (now_ns() - t0) / N;
}

static double run_atomic(void *arg)
{
    RS_ATOMIC(intptr_t) *p = arg;
    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
        rs_atomic_add_seq_cst_iptr(p, 1);
        rs_atomic_add_seq_cst_iptr(p, -1);
    }
    return (now_ns() - t0) / N;
}

static double run_refcount(void *arg)
{
    rs_object *o = arg;
    double t0 = now_ns();
    for (long i = 0; i < N; i++) {
        rs_incref(o);
        rs_decref(o);
        rs_compiler_barrier();
    }
    return (now_ns() - t0) / N;
}

static rs_object *foreign;
static void *make_foreign(void *arg)
{
    rs_tstate *ts = arg;
    rs_tstate_bind(ts);
    rs_tstate_attach(ts);
    foreign = rs_leaf_new();
    rs_incref(foreign); /* the benchmark thread's reference, kept alive after our exit */
    rs_tstate_detach(ts);
    return NULL; /* leaves the state attached-never-again; the runtime deletes it at fini */
}

int main(void)
{
    if (rs_runtime_init(NULL) < 0)
        return 3;
    RS_ATOMIC(intptr_t) at = 0;
    rs_object *mine = rs_leaf_new();
    pthread_t th;
    rs_tstate *ts = rs_tstate_new();
    pthread_create(&th, NULL, make_foreign, ts);
    pthread_join(th, NULL);

    double t_plain = best_of(run_plain, &rs_bench_plain_counter);
    double t_atomic = best_of(run_atomic, (void *)&at);
    double t_owner = best_of(run_refcount, mine);
    double t_shared = best_of(run_refcount, foreign);
    printf("%-34s %8s %8s\n", "operation (pair per iteration)", "ns/op", "ratio");
    printf("%-34s %8.2f %8.2f\n", "plain ++/-- (baseline)", t_plain, 1.0);
    printf("%-34s %8.2f %8.2f\n", "atomic seq_cst add +1/-1", t_atomic, t_atomic / t_plain);
    printf("%-34s %8.2f %8.2f\n", "owner incref+decref", t_owner, t_owner / t_plain);
    printf("%-34s %8.2f %8.2f\n", "non-owner incref+decref", t_shared, t_shared / t_plain);
    printf("%-34s %8s %8.2f\n", "non-owner / atomic pair", "", t_shared / t_atomic);
    rs_decref(mine);
    rs_decref(foreign);
    rs_decref(foreign);
    rs_tstate_release(ts);
    rs_leaks l = rs_runtime_fini();
    return (l.blocks == 0 && l.reftotal == 0) ? 0 : 1;
}
