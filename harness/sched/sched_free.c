/* sched_free.c — the `free` mode: program threads run truly in parallel.
 *
 * Schedule points do nothing and blocking is the runtime's default futex (the hook table
 * leaves sched_point, wait and wake NULL).  The start gate is a relaxed flag the threads
 * spin and yield on, so the harness adds no happens-before edge between program threads:
 * under TSan, any missing synchronisation in the runtime stays visible.  The only edge the
 * harness adds is the join (sched_done_mark / sched_done_is_set), as a real join would.
 * The chaos mode reuses begin, end and start from here. */
#include "scheduler.h"

#include <stdlib.h>

void sched_free_thread_begin(sched *s, int idx)
{
    sched_self_set(s, idx);
    sched_gate_wait(s);
}

void sched_free_thread_end(sched *s, int idx)
{
    sched_self_clear();
    sched_done_mark(s, idx);
}

void sched_free_start(sched *s) { sched_gate_open(s); }

static sched *free_create(const sched_params *p)
{
    sched *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    if (sched_base_init(s, &sched_free_ops, p) < 0) {
        free(s);
        return NULL;
    }
    return s;
}

static void free_destroy(sched *s)
{
    sched_base_fini(s);
    free(s);
}

static void free_fill_hooks(sched *s, rs_hooks *h)
{
    (void)s;
    h->sched_point = NULL;
    h->wait = NULL;
    h->wake = NULL;
}

const sched_ops sched_free_ops = {
    .mode = MODE_FREE,
    .create = free_create,
    .destroy = free_destroy,
    .fill_hooks = free_fill_hooks,
    .thread_begin = sched_free_thread_begin,
    .thread_end = sched_free_thread_end,
    .start = sched_free_start,
    .join_wait_program = NULL,
    .collect = NULL,
};
