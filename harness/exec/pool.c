/* pool.c — the executor's OS threads: the only code in refstorm that creates threads.
 *
 * A trial's program threads t1.. run on pooled OS threads that outlive the trial (creating
 * and joining a thread costs 20-35 us here, more than many trials).  A job is handed over with
 * a release store and a futex wake, and handed back the same way: these edges model
 * pthread_create and pthread_join, nothing more; there is no start barrier (the scheduler's
 * gate is relaxed in free mode). */
#include "exec_internal.h"

#include <pthread.h>
#include <stdlib.h>

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


int exec_pool_reserve(int n)
{
    for (int i = 0; i < n; i++)
        if (pool_get(i) == NULL)
            return -1;
    return 0;
}

void exec_pool_run(int i, void (*fn)(void *), void *arg)
{
    pool_dispatch(pool[i], fn, arg);
}

void exec_pool_join(int i)
{
    pool_wait_idle(pool[i]);
}
