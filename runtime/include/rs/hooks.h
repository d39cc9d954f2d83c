/* hooks.h — the runtime's one seam towards whoever drives it.
 *
 * The runtime never blocks, never yields at a critical window and never allocates without
 * asking this table first.  With no hooks installed (rs_hooks_install(NULL)) the defaults
 * apply: schedule points do nothing, blocking uses the Linux futex syscall, no allocation
 * fails.  A driver installs its own table to control scheduling (pct, chaos) and to inject
 * allocation failures.
 *
 * Blocking protocol (futex-like, on a 32-bit word):
 *   wait(addr, expected, timeout_ns): return at once if *addr != expected, else sleep until a
 *       wake on addr, the timeout (timeout_ns < 0: none), or spuriously.  Returns 0 when woken
 *       or the value differed, -1 on timeout.  Callers re-check their condition.
 *   wake(addr, n): wake up to n waiters of addr (n = INT32_MAX: all).
 *   now(): the clock those timeouts are measured on, in ns (and the mutex's fairness bound,
 *       lock.c).  A scheduler that runs one thread at a time on virtual time must supply it,
 *       or a timed wait re-waits until real time has passed and the run's step count
 *       depends on the machine.  NULL: CLOCK_MONOTONIC.
 * The parking lot (lock.c) is the only caller: every mutex, event and stop-the-world wait of
 * the runtime therefore reaches these two hooks.
 *
 * Schedule points: RS_SCHED("brc.queue.after_lookup") marks a critical window.  Names are
 * string literals (pointer-stable), dotted "<module>.<window>".
 *
 * Fault points: rs_fault(RS_FAULT_ALLOC_OBJECT) returns true if the step must fail; the sites
 * are the rows of rs/faults.def, and the fault hook receives the site's name.
 *
 * Observation points: rs_hook_event(RS_EV_..., arg) tells the driver that something happened,
 * so its oracles can check an expectation against the effect (e.g. "no HEAP collection after
 * a disable that happened before it").  An event hook only reads; it must not block, yield,
 * allocate runtime objects or call back into the runtime. */
#ifndef RS_HOOKS_H
#define RS_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

/* An automatic schedule point's call site (rs/atomic.h): where = "file:line operation",
 * a string literal; func = the enclosing function. */
typedef struct rs_site {
    const char *where;
    const char *func;
} rs_site;

typedef struct rs_hooks {
    void *ctx;
    /* a named critical window; may yield, sleep or switch threads */
    void (*sched_point)(void *ctx, const char *name);
    /* an automatic point: just before a synchronising operation at `site` (RS_AUTO_POINTS
     * builds only); may yield, sleep or switch threads; NULL: nothing happens */
    void (*site_point)(void *ctx, const rs_site *site);
    /* futex-like blocking, see above */
    int (*wait)(void *ctx, uint32_t *addr, uint32_t expected, int64_t timeout_ns);
    void (*wake)(void *ctx, uint32_t *addr, int n);
    /* the clock of timed waits, see above; NULL: CLOCK_MONOTONIC */
    int64_t (*now)(void *ctx);
    /* true ⇒ the allocation (or fallible step) named `site` fails */
    bool (*fault)(void *ctx, const char *site);
    /* an observation point, see rs_hook_event below */
    void (*event)(void *ctx, int event, int64_t arg);
} rs_hooks;

/* The events (arg in parentheses):
 *   RS_EV_GC_HANDLE  a thread handles its GC_SCHEDULED bit, before it re-checks `enabled` (0)
 *   RS_EV_GC_BEGIN   a collection has claimed the collector, before its first STW (reason) */
enum { RS_EV_GC_HANDLE = 1, RS_EV_GC_BEGIN = 2 };

/* Install a hook table (copied); NULL restores the defaults.  Not thread-safe: install before
 * the threads that use it start, and remove after they are joined. */
void rs_hooks_install(const rs_hooks *hooks);
const rs_hooks *rs_hooks_current(void);

extern rs_hooks rs_hooks_active;

static inline void rs_sched_point(const char *name)
{
    if (rs_hooks_active.sched_point)
        rs_hooks_active.sched_point(rs_hooks_active.ctx, name);
}
#define RS_SCHED(name) rs_sched_point(name)

static inline void rs_auto_point(const rs_site *site)
{
    if (rs_hooks_active.site_point)
        rs_hooks_active.site_point(rs_hooks_active.ctx, site);
}

typedef enum rs_fault_site {
#define RS_FAULT(id, name, desc) RS_FAULT_##id,
#include "rs/faults.def"
#undef RS_FAULT
    RS_FAULT__COUNT
} rs_fault_site;

extern const char *const rs_fault_names[RS_FAULT__COUNT];

static inline bool rs_fault(rs_fault_site site)
{
    return rs_hooks_active.fault && rs_hooks_active.fault(rs_hooks_active.ctx, rs_fault_names[site]);
}

static inline void rs_hook_event(int event, int64_t arg)
{
    if (rs_hooks_active.event)
        rs_hooks_active.event(rs_hooks_active.ctx, event, arg);
}

int rs_hook_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
void rs_hook_wake(uint32_t *addr, int n);
int64_t rs_hook_now(void);

/* the default futex implementations (usable by hook tables that wrap them) */
int rs_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);
void rs_futex_wake(uint32_t *addr, int n);
int64_t rs_monotonic_ns(void); /* CLOCK_MONOTONIC: the default `now`, and real time for benches */

#endif
