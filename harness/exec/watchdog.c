/* watchdog.c — declares a hang when a trial outlives its timeout.
 *
 * One watchdog thread per process (started by the first arm, through the executor's thread
 * creation).  The executor arms it with the trial and a deadline and disarms it after the
 * joins; each arm/disarm bumps a generation word the watchdog sleeps on (futex with the
 * remaining time as timeout).  When the deadline passes with the same generation armed, the
 * watchdog writes the hang block described in executor.h to stderr — per program thread:
 * its current op (index and text), the last schedule point it passed, whether it is blocked
 * in a hook wait, then a backtrace — and ends the process with EXEC_HANG_EXIT_STATUS: after a
 * hang, threads may be stuck inside the runtime for good, so nothing else can run here.
 *
 * Backtraces: chosen over a gdb batch (no debugger needed, nothing to attach, works in a
 * container without ptrace rights).  The watchdog sends SIGURG to one thread at a time; the
 * handler, on that thread, calls backtrace(3) and backtrace_symbols_fd(3) onto stderr and
 * raises an acknowledgement flag; the watchdog waits up to 200 ms for it.  backtrace() is
 * called once at start so that libgcc is loaded before any handler needs it.  Under TSan a
 * signal reaches a thread blocked in a raw futex syscall only when it leaves it, so such a
 * thread's backtrace may be "unavailable"; the rest of its line still says where it is.
 *
 * Deaths: when a trial ends the process some other way — a fatal signal (rs_fatal's abort, a
 * segfault in a build without ASan) or a sanitizer about to exit after its report (its death
 * callback) — the dying thread writes the blame block (executor.h) first, so the supervisor can
 * name the thread and op that died and what every other thread was doing.  A signal handler
 * a sanitizer already installed is left alone: its report ends in the death callback. */
#include "exec_internal.h"

#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rs/hooks.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WD_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WD_SANITIZER 1
#endif
/* libFuzzer owns the one sanitizer death callback in a fuzz build (it writes the crash file
 * there), so the blame block comes from signals only in those builds */
#if defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#undef WD_SANITIZER
#endif
#ifdef WD_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

#define WD_ACK_WAIT_MS 200
#define WD_SIGNAL SIGURG

static RS_ATOMIC(uint32_t) wd_gen;        /* bumped by arm and disarm */
static RS_ATOMIC(void *) wd_trial;        /* the armed trial, or NULL */
static RS_ATOMIC(int64_t) wd_deadline;    /* CLOCK_MONOTONIC ns */
static RS_ATOMIC(int64_t) wd_started_ns;
static RS_ATOMIC(uint32_t) wd_ack;        /* the signalled thread has written its frames */
static bool wd_running;                   /* owner: the executor's thread */

static int64_t wd_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void wd_backtrace_handler(int sig)
{
    (void)sig;
    void *frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, 2);
    rs_atomic_store_relaxed_u32(&wd_ack, 1);
}

void exec_watchdog_signal_setup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = wd_backtrace_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(WD_SIGNAL, &sa, NULL);
}

static void thread_line(exec_trial *tr, int i, char *buf, size_t n)
{
    exec_thread *t = &tr->th[i];
    int64_t op = rs_atomic_load_relaxed_i64(&t->cur_op);
    const char *pt = rs_atomic_load_relaxed_ptr(&t->cur_point);
    char text[PROG_OP_TEXT_MAX] = "";
    char idx[24];
    if (op >= 0 && op < (int64_t)t->pt->nops) {
        prog_op_format(&t->pt->ops[op], text, sizeof text);
        snprintf(idx, sizeof idx, "%ld", (long)op);
    } else {
        snprintf(idx, sizeof idx, "%s", op < 0 ? "-1" : "end");
    }
    snprintf(buf, n, "thread %d op %s \"%s\" point %s wait %u done %u\n", i, idx, text,
             pt ? pt : "-", (unsigned)rs_atomic_load_relaxed_u32(&t->in_wait),
             (unsigned)rs_atomic_load_relaxed_u32(&t->finished));
}

char *exec_thread_dump_text(exec_trial *tr)
{
    size_t cap = (size_t)tr->nthreads * 256 + 1;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    size_t k = 0;
    s[0] = '\0';
    for (int i = 0; i < tr->nthreads && k < cap; i++) {
        thread_line(tr, i, s + k, cap - k);
        k += strlen(s + k);
    }
    return s;
}

/* One line onto fd 2 from a stack buffer: no stdio buffer, no malloc (dprintf may allocate,
 * which TSan reports as a signal-unsafe call inside a handler, where the blame block is
 * written). */
__attribute__((format(printf, 1, 2))) static void fd2_line(const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) {
        ssize_t w = write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
        (void)w; /* stderr is all there is to tell */
    }
}

/* the per-thread lines of the hang and blame blocks */
static void thread_lines(exec_trial *tr)
{
    char line[512];
    for (int i = 0; i < tr->nthreads; i++) {
        thread_line(tr, i, line, sizeof line);
        fd2_line("%s", line);
    }
}

static void wd_fire(exec_trial *tr)
{
    int64_t el = (wd_now() - rs_atomic_load_relaxed_i64(&wd_started_ns)) / 1000000;
    dprintf(2, "%s\nverdict hang\ntimeout_ms %u elapsed_ms %ld program \"%s\" mode %s seed %lu\n",
            EXEC_HANG_BEGIN, (unsigned)tr->timeout_ms, (long)el, tr->p->name ? tr->p->name : "",
            mode_name(tr->cfg->mode), (unsigned long)tr->cfg->seed);
    thread_lines(tr);
    for (int i = 0; i < tr->nthreads; i++) {
        exec_thread *t = &tr->th[i];
        uintptr_t os = rs_atomic_load_relaxed_uptr(&t->os_thread);
        if (os == 0 || rs_atomic_load_relaxed_u32(&t->finished)) {
            dprintf(2, "backtrace %d unavailable\n", i);
            continue;
        }
        dprintf(2, "backtrace %d\n", i);
        rs_atomic_store_relaxed_u32(&wd_ack, 0);
        if (pthread_kill((pthread_t)os, WD_SIGNAL) != 0) {
            dprintf(2, "backtrace %d unavailable\n", i);
            continue;
        }
        int waited = 0;
        while (!rs_atomic_load_relaxed_u32(&wd_ack) && waited < WD_ACK_WAIT_MS) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            waited++;
        }
        if (!rs_atomic_load_relaxed_u32(&wd_ack))
            dprintf(2, "backtrace %d unavailable\n", i);
    }
    dprintf(2, "%s\n", EXEC_HANG_END);
    if (tr->cfg->hang_abort)
        abort();
    _exit(EXEC_HANG_EXIT_STATUS);
}

static void *wd_main(void *arg)
{
    (void)arg;
    for (;;) {
        /* acquire: pairs with the release increment in arm/disarm (trial and deadline) */
        uint32_t g = rs_atomic_load_acquire_u32(&wd_gen);
        exec_trial *tr = rs_atomic_load_relaxed_ptr(&wd_trial);
        if (tr == NULL) {
            rs_futex_wait((uint32_t *)&wd_gen, g, -1);
            continue;
        }
        int64_t left = rs_atomic_load_relaxed_i64(&wd_deadline) - wd_now();
        if (left <= 0) {
            if (rs_atomic_load_acquire_u32(&wd_gen) == g) /* pairs with arm/disarm */
                wd_fire(tr);
            continue;
        }
        rs_futex_wait((uint32_t *)&wd_gen, g, left);
    }
    return NULL;
}

void exec_watchdog_arm(exec_trial *tr, uint32_t timeout_ms)
{
    exec_blame_install();
    if (!wd_running) {
        void *warm[4];
        backtrace(warm, 4); /* load the unwinder now, not inside a signal handler */
        exec_watchdog_signal_setup();
        if (exec_os_thread_create(wd_main, NULL) == 0)
            wd_running = true;
    }
    tr->timeout_ms = timeout_ms;
    int64_t now = wd_now();
    rs_atomic_store_relaxed_i64(&wd_started_ns, now);
    rs_atomic_store_relaxed_i64(&wd_deadline, now + (int64_t)timeout_ms * 1000000);
    rs_atomic_store_relaxed_ptr(&wd_trial, tr);
    rs_atomic_add_release_u32(&wd_gen, 1); /* pairs with wd_main's acquire loads */
    rs_futex_wake((uint32_t *)&wd_gen, 1);
}

void exec_watchdog_disarm(void)
{
    rs_atomic_store_relaxed_ptr(&wd_trial, NULL);
    rs_atomic_add_release_u32(&wd_gen, 1); /* pairs with wd_main's acquire loads */
    rs_futex_wake((uint32_t *)&wd_gen, 1);
}

/* ---- the blame block ---- */

static RS_ATOMIC(uint32_t) blame_written; /* once per process: the first death tells */

/* Called on the dying thread, in a signal handler or a sanitizer's death callback; the
 * trial's fields are read with the relaxed loads the watchdog uses. */
static void blame_write(void)
{
    exec_trial *tr = rs_atomic_load_relaxed_ptr(&wd_trial);
    if (tr == NULL || rs_atomic_exchange_relaxed_u32(&blame_written, 1) != 0)
        return;
    exec_thread *me = exec_self();
    int64_t el = (wd_now() - rs_atomic_load_relaxed_i64(&wd_started_ns)) / 1000000;
    fd2_line("%s\n", EXEC_BLAME_BEGIN);
    if (me)
        fd2_line("blame thread %d op %lld\n", me->idx,
                 (long long)rs_atomic_load_relaxed_i64(&me->cur_op));
    fd2_line("ops_run %llu elapsed_ms %lld\n",
             (unsigned long long)rs_atomic_load_relaxed_u64(&tr->ops_run), (long long)el);
    thread_lines(tr);
    fd2_line("%s\n", EXEC_BLAME_END);
}

static void blame_on_signal(int sig)
{
    blame_write();
    signal(sig, SIG_DFL); /* and die of it as before */
    raise(sig);
}

#ifdef WD_SANITIZER
static void blame_on_death(void) { blame_write(); }
#endif

void exec_blame_install(void)
{
    static bool installed; /* the executor's thread only */
    if (installed)
        return;
    installed = true;
    static const int fatal[] = {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        struct sigaction old;
        if (sigaction(fatal[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue; /* a sanitizer's, or the embedding program's: theirs */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = blame_on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(fatal[i], &sa, NULL);
    }
#ifdef WD_SANITIZER
    __sanitizer_set_death_callback(blame_on_death);
#endif
}
