/* hooks.c — the hook table and its defaults (futex blocking, no faults, no schedule). */
/* never preempted inside: its spin locks and the hook table itself (rs/atomic.h) */
#define RS_NO_AUTO_POINTS
#include "rs/hooks.h"

#include <errno.h>
#include <linux/futex.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rs/debug.h"

rs_hooks rs_hooks_active;

const char *const rs_fault_names[RS_FAULT__COUNT] = {
#define RS_FAULT(id, name, desc) name,
#include "rs/faults.def"
#undef RS_FAULT
};
static const char *const fault_descs[RS_FAULT__COUNT] = {
#define RS_FAULT(id, name, desc) desc,
#include "rs/faults.def"
#undef RS_FAULT
};

size_t rs_fault_site_count(void) { return RS_FAULT__COUNT; }
const char *rs_fault_site_name(size_t i) { return i < RS_FAULT__COUNT ? rs_fault_names[i] : NULL; }
const char *rs_fault_site_desc(size_t i) { return i < RS_FAULT__COUNT ? fault_descs[i] : NULL; }

int rs_fault_site_find(const char *name)
{
    for (size_t i = 0; name && i < RS_FAULT__COUNT; i++)
        if (strcmp(rs_fault_names[i], name) == 0)
            return (int)i;
    return -1;
}

void rs_hooks_install(const rs_hooks *hooks)
{
    if (hooks)
        rs_hooks_active = *hooks;
    else
        rs_hooks_active = (rs_hooks){0};
}

const rs_hooks *rs_hooks_current(void) { return &rs_hooks_active; }

int rs_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    long r = syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
    if (r == -1 && errno == ETIMEDOUT)
        return -1;
    return 0;
}

void rs_futex_wake(uint32_t *addr, int n)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

int64_t rs_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t rs_hook_now(void)
{
    if (rs_hooks_active.now)
        return rs_hooks_active.now(rs_hooks_active.ctx);
    return rs_monotonic_ns();
}

int rs_hook_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns)
{
    if (rs_hooks_active.wait)
        return rs_hooks_active.wait(rs_hooks_active.ctx, addr, expected, timeout_ns);
    return rs_futex_wait(addr, expected, timeout_ns);
}

void rs_hook_wake(uint32_t *addr, int n)
{
    if (rs_hooks_active.wake)
        rs_hooks_active.wake(rs_hooks_active.ctx, addr, n);
    else
        rs_futex_wake(addr, n);
}
