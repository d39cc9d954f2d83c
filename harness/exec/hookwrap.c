/* hookwrap.c — the hook table a trial installs: the scheduler's own table, wrapped so that
 * each program thread's last schedule point and whether it is blocked are recorded for the
 * watchdog, the runtime's observation events reach the oracles, and allocation faults come
 * from the calling program thread's fail_alloc / fail_alloc_at. */
#include "exec_internal.h"

#include <string.h>

static rs_hooks exec_inner; /* the scheduler's table; written only between trials */

static void exec_hook_point(void *ctx, const char *name)
{
    (void)ctx;
    exec_thread *t = exec_self();
    if (t)
        rs_atomic_store_relaxed_ptr(&t->cur_point, (void *)name);
    if (exec_inner.sched_point)
        exec_inner.sched_point(exec_inner.ctx, name);
}

static int exec_hook_wait(void *ctx, uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    (void)ctx;
    exec_thread *t = exec_self();
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
bool exec_fault(void *ctx, const char *site)
{
    (void)ctx;
    exec_thread *t = exec_self();
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


/* An automatic point (RS_AUTO_POINTS builds), installed only when the scheduler asked for
 * them, and the clock are not wrapped: the scheduler's own hooks are called with the
 * scheduler's context (the wrappers ignore theirs and use exec_inner.ctx).  Points come by the million per trial, so
 * the watchdog's "last point" stays the last named one (an atomic store here would cost a
 * TSan call each); pct's trace names the site of every switch. */
void exec_hooks_wrap(void)
{
    exec_inner = *rs_hooks_current();
    rs_hooks wrap = {.ctx = exec_inner.ctx, .sched_point = exec_hook_point,
                     .site_point = exec_inner.site_point,
                     .wait = exec_hook_wait,
                     .wake = exec_hook_wake, .fault = exec_hook_fault,
                     .now = exec_inner.now,
                     .event = exec_hook_event};
    rs_hooks_install(&wrap);
}

void exec_hooks_unwrap(void)
{
    rs_hooks_install(NULL);
}
