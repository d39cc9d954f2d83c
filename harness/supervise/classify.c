/* classify.c — how a worker ended, as a trial result: the executor's hang block, the
 * supervisor's watchdog, a sanitizer headline, the runtime's fatal line, a signal or an exit
 * status (supervise.h). */
#include "supervise.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "executor.h"


static bool has_prefix(const char *s, const char *end, const char *pre)
{
    size_t n = strlen(pre);
    return (size_t)(end - s) >= n && memcmp(s, pre, n) == 0;
}

/* first occurrence of needle in [s, end), or NULL */
static const char *find_in(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; (size_t)(end - p) >= n; p++)
        if (memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

static void copy_span(char *out, size_t n, const char *s, const char *end)
{
    size_t len = (size_t)(end - s);
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = 0;
}

static const struct { const char *tool, *kind; } sanitizers[] = {
    {"AddressSanitizer: ", "asan"}, {"ThreadSanitizer: ", "tsan"},
    {"LeakSanitizer: ", "lsan"},    {"MemorySanitizer: ", "msan"},
    {"UndefinedBehaviorSanitizer: ", "ubsan"},
};

/* "SEGV on unknown address" and friends: the sanitizer caught a deadly signal */
static void deadly_signal(sanitizer_headline *h, const char *rest, const char *end)
{
    const char *on = find_in(rest, end, " on unknown address");
    if (!on || on - rest > 8)
        return;
    h->deadly_signal = true;
    snprintf(h->signal, sizeof h->signal, "SIG%.*s", (int)(on - rest), rest);
}

bool log_sanitizer_headline(const char *log, size_t len, sanitizer_headline *h)
{
    memset(h, 0, sizeof *h);
    const char *end = log + len;
    for (const char *line = log; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        /* "==PID==ERROR: AddressSanitizer: ..." or "WARNING: ThreadSanitizer: ..." */
        const char *p = line;
        if (has_prefix(p, eol, "==")) {
            const char *q = find_in(p + 2, eol, "==");
            if (q)
                p = q + 2;
        }
        if (has_prefix(p, eol, "ERROR: "))
            p += 7;
        else if (has_prefix(p, eol, "WARNING: "))
            p += 9;
        for (size_t i = 0; i < sizeof sanitizers / sizeof sanitizers[0]; i++) {
            if (!has_prefix(p, eol, sanitizers[i].tool))
                continue;
            const char *rest = p + strlen(sanitizers[i].tool);
            const char *cut = find_in(p, eol, " at pc ");
            const char *c2 = find_in(p, eol, " (pc ");
            const char *c3 = find_in(p, eol, " (pid=");
            const char *stop = eol;
            if (cut && cut < stop) stop = cut;
            if (c2 && c2 < stop) stop = c2;
            if (c3 && c3 < stop) stop = c3;
            snprintf(h->kind, sizeof h->kind, "%s", sanitizers[i].kind);
            copy_span(h->text, sizeof h->text, p, stop);
            deadly_signal(h, rest, stop);
            return true;
        }
        /* UBSan: "file.c:12:5: runtime error: signed integer overflow: ..." */
        if (find_in(line, eol, ": runtime error: ") || has_prefix(line, eol, "runtime error: ")) {
            snprintf(h->kind, sizeof h->kind, "ubsan");
            copy_span(h->text, sizeof h->text, line, eol);
            return true;
        }
        line = eol < end ? eol + 1 : end;
    }
    return false;
}

bool log_fatal_line(const char *log, size_t len, char *out, size_t n)
{
    const char *end = log + len;
    const char *p = find_in(log, end, "refstorm runtime fatal error: ");
    const char *q = find_in(log, end, "refstorm runtime assertion failed: ");
    if (!p || (q && q < p))
        p = q;
    if (!p)
        return false;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    copy_span(out, n, p, eol ? eol : end);
    return true;
}

/* backtrace_symbols_fd names only exported functions; the rest are "refstorm(+0x1f1932)[...]".
 * Give each such frame its function and line from addr2line (binutils) run on this binary —
 * the worker's, since the supervisor starts /proc/self/exe.  The dump is returned rewritten
 * (malloc'd), or NULL to keep it as it is (addr2line missing, or nothing to name). */
#define SYM_MAX_FRAMES 256
static char *symbolize(const char *dump)
{
    char exe[4096];
    ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (el <= 0)
        return NULL;
    exe[el] = '\0';
    /* the frames to name: "...(+0xHEX)[..." */
    const char *at[SYM_MAX_FRAMES];
    unsigned long long off[SYM_MAX_FRAMES];
    int n = 0;
    for (const char *p = dump; (p = strstr(p, "(+0x")) != NULL && n < SYM_MAX_FRAMES; p += 4) {
        const char *eol = strchr(p, '\n'), *bol = p;
        while (bol > dump && bol[-1] != '\n')
            bol--;
        bool shared = memmem(bol, (size_t)(p - bol), ".so", 3) != NULL; /* libc's, not ours */
        if (!shared && sscanf(p, "(+0x%llx)", &off[n]) == 1) {
            at[n] = eol ? eol : p + strlen(p);
            n++;
        }
    }
    if (n == 0)
        return NULL;
    size_t cmdcap = strlen(exe) + 64 + (size_t)n * 24;
    char *cmd = malloc(cmdcap);
    if (!cmd)
        return NULL;
    size_t k = (size_t)snprintf(cmd, cmdcap, "addr2line -f -C -p -e '%s'", exe);
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(cmd + k, cmdcap - k, " 0x%llx", off[i]);
    snprintf(cmd + k, cmdcap - k, " 2>/dev/null");
    FILE *f = strchr(exe, '\'') ? NULL : popen(cmd, "r");
    free(cmd);
    if (!f)
        return NULL;
    char names[SYM_MAX_FRAMES][256];
    int got = 0;
    while (got < n && fgets(names[got], sizeof names[got], f)) {
        names[got][strcspn(names[got], "\n")] = '\0';
        got++;
    }
    if (pclose(f) != 0 || got != n)
        return NULL;
    size_t cap = strlen(dump) + (size_t)n * 280 + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const char *src = dump;
    for (int i = 0; i < n; i++) {
        size_t chunk = (size_t)(at[i] - src);
        memcpy(out + len, src, chunk);
        len += chunk;
        len += (size_t)snprintf(out + len, cap - len, "  %s", names[i]);
        src = at[i];
    }
    snprintf(out + len, cap - len, "%s", src);
    return out;
}

/* The executor's block from `begin` to `end` (included; to the log's end if it was cut short)
 * into [*b, *e); false if the log has none. */
static bool log_block(const char *log, size_t len, const char *begin, const char *end,
                      const char **b, const char **e)
{
    *b = memmem(log, len, begin, strlen(begin));
    if (!*b)
        return false;
    const char *stop = log + len;
    *e = memmem(*b, (size_t)(stop - *b), end, strlen(end));
    *e = *e ? *e + strlen(end) : stop;
    return true;
}

/* The block's next line (at *line, before e) into buf, NUL-terminated; false at the end. */
static bool block_line(const char **line, const char *e, char *buf, size_t n)
{
    if (*line >= e)
        return false;
    const char *nl = memchr(*line, '\n', (size_t)(e - *line));
    size_t ll = (size_t)((nl ? nl : e) - *line);
    snprintf(buf, n, "%.*s", (int)(ll < n ? ll : n - 1), *line);
    *line = nl ? nl + 1 : e;
    return true;
}

/* The executor's hang block, if the log has one: the verdict, the first unfinished thread
 * and its op, and the block itself as the thread dump. */
static bool exec_hang(const char *log, size_t len, trial_result *r)
{
    const char *b, *e;
    if (!log_block(log, len, EXEC_HANG_BEGIN, EXEC_HANG_END, &b, &e))
        return false;
    r->thread_dump = strndup(b, (size_t)(e - b));
    char *named = r->thread_dump ? symbolize(r->thread_dump) : NULL;
    if (named) {
        free(r->thread_dump);
        r->thread_dump = named;
    }
    r->verdict = VERDICT_HANG;
    snprintf(r->check, sizeof r->check, "watchdog");
    long long timeout = -1, elapsed = -1;
    bool blamed = false;
    char buf[512];
    for (const char *line = b; block_line(&line, e, buf, sizeof buf);) {
        int t;
        long long op;
        sscanf(buf, "timeout_ms %lld elapsed_ms %lld", &timeout, &elapsed);
        if (!blamed && sscanf(buf, "thread %d op %lld", &t, &op) == 2 && !strstr(buf, " done 1")) {
            r->thread = t;
            r->op_index = op;
            blamed = true;
        }
    }
    snprintf(r->message, sizeof r->message,
             "the trial outlived its timeout of %lld ms (the executor's watchdog, after %lld ms)",
             timeout, elapsed);
    return true;
}

/* The executor's blame block (a death: fatal signal or sanitizer), if the log has one: the
 * thread and op that died, the ops run and the time, and the block as the thread dump. */
static void exec_blame(const char *log, size_t len, trial_result *r)
{
    const char *b, *e;
    if (!log_block(log, len, EXEC_BLAME_BEGIN, EXEC_BLAME_END, &b, &e))
        return;
    free(r->thread_dump);
    r->thread_dump = strndup(b, (size_t)(e - b));
    char buf[512];
    for (const char *line = b; block_line(&line, e, buf, sizeof buf);) {
        int t;
        long long op, el;
        unsigned long long ops;
        if (sscanf(buf, "blame thread %d op %lld", &t, &op) == 2) {
            r->thread = t;
            r->op_index = op;
        } else if (sscanf(buf, "ops_run %llu elapsed_ms %lld", &ops, &el) == 2) {
            r->ops_run = ops;
            r->seconds = (double)el / 1000.0;
        }
    }
}

int worker_classify_end(int status, bool hung, const char *log, size_t log_len,
                        trial_result *r)
{
    sanitizer_headline h;
    char fatal[256];
    bool has_h = log_sanitizer_headline(log, log_len, &h);
    bool has_fatal = log_fatal_line(log, log_len, fatal, sizeof fatal);
    r->thread = -1;
    r->op_index = -1;
    r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (hung) {
        r->verdict = VERDICT_HANG;
        snprintf(r->check, sizeof r->check, "watchdog");
        snprintf(r->message, sizeof r->message,
                 "the trial did not finish within the watchdog time; the worker was killed");
        return 0;
    }
    if (exec_hang(log, log_len, r))
        return 0;
    if (r->exit_status == EXEC_HANG_EXIT_STATUS) {
        { /* the status without the block (log cut short) */
            r->verdict = VERDICT_HANG;
            snprintf(r->check, sizeof r->check, "watchdog");
            snprintf(r->message, sizeof r->message,
                     "the executor's watchdog ended the trial (exit status %d)", r->exit_status);
        }
        return 0;
    }
    if (has_h && !h.deadly_signal) {
        exec_blame(log, log_len, r);
        r->verdict = VERDICT_SANITIZER;
        snprintf(r->check, sizeof r->check, "%s", h.kind);
        snprintf(r->message, sizeof r->message, "%s", h.text);
        snprintf(r->headline, sizeof r->headline, "%s", h.text);
        return 0;
    }
    if (has_h || r->signal) {
        exec_blame(log, log_len, r);
        r->verdict = VERDICT_CRASH;
        if (has_h) {
            snprintf(r->check, sizeof r->check, "%s", h.signal);
            snprintf(r->headline, sizeof r->headline, "%s", h.text);
        } else {
            const char *abbrev = sigabbrev_np(r->signal);
            snprintf(r->check, sizeof r->check, "SIG%s", abbrev ? abbrev : "?");
        }
        if (has_fatal) {
            snprintf(r->message, sizeof r->message, "%s", fatal);
            if (!has_h)
                snprintf(r->headline, sizeof r->headline, "%s", fatal);
        } else if (has_h) {
            snprintf(r->message, sizeof r->message, "%s", h.text);
        } else {
            snprintf(r->message, sizeof r->message, "the worker was killed by signal %d (%s)",
                     r->signal, strsignal(r->signal));
        }
        return 0;
    }
    if (r->exit_status == EXIT_USAGE || r->exit_status == EXIT_INTERNAL)
        return -1;
    exec_blame(log, log_len, r);
    r->verdict = VERDICT_CRASH;
    snprintf(r->check, sizeof r->check, "exit");
    snprintf(r->message, sizeof r->message,
             "the worker exited with status %d before reporting the trial", r->exit_status);
    return 0;
}

