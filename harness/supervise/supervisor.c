/* supervisor.c — starts workers and reads their results (supervise.h). */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "files.h"
#include "program.h"

extern char **environ;

#define WORKER_LOG_MAX (16u << 20)   /* bytes of worker stderr kept for a report */
#define WORKER_LINE_MAX (8u << 20)   /* one result line (a pct trace can be long) */

void trial_result_free(trial_result *r)
{
    free(r->trace);
    free(r->thread_dump);
    free(r->op_log);
    free(r->log);
    r->trace = r->thread_dump = r->op_log = r->log = NULL;
}

/* Sanitizer options: NAME=<defaults>:<the caller's>:<forced>.  The forced ones go last, so they
 * win: the first report must end the worker.  The defaults go first, so the caller's win:
 * TSan's atexit_sleep_ms (1000 by default: a second at every exit, to catch threads still
 * running then) is 0, as a worker exits only after the executor has joined every thread of its
 * trials; that second per worker dominated the TSan clean row of `mutants`. */
static char **child_env(void)
{
    static const char *const ours[][3] = {
        {"ASAN_OPTIONS", "", "halt_on_error=1"},
        {"TSAN_OPTIONS", "atexit_sleep_ms=0", "halt_on_error=1"},
        {"UBSAN_OPTIONS", "", "halt_on_error=1:print_stacktrace=1"},
    };
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < 3; j++)
            if (strncmp(environ[i], ours[j][0], strlen(ours[j][0])) == 0 &&
                environ[i][strlen(ours[j][0])] == '=')
                replaced = true;
        if (!replaced)
            env[k++] = strdup(environ[i]);
    }
    for (size_t j = 0; j < 3; j++) {
        const char *user = getenv(ours[j][0]);
        char *s = NULL;
        if (asprintf(&s, "%s=%s%s%s%s%s", ours[j][0], ours[j][1], *ours[j][1] ? ":" : "",
                     user ? user : "", user && *user ? ":" : "", ours[j][2]) < 0)
            s = NULL;
        env[k++] = s;
    }
    env[k] = NULL;
    return env;
}

static void free_env(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

/* argv of the worker; strings in store (freed by the caller) */
#define ARGV_MAX (32 + 2 * PROG_MAX_BUGS)
static int build_argv(const worker_spec *ws, uint64_t first, uint64_t count, int fd,
                      char *argv[ARGV_MAX], char store[8][32])
{
    int a = 0;
    argv[a++] = "refstorm";
    argv[a++] = "worker";
    argv[a++] = (char *)ws->file;
    snprintf(store[0], 32, "%d", fd);
    argv[a++] = "--result-fd";
    argv[a++] = store[0];
    snprintf(store[1], 32, "%" PRIu64, first);
    argv[a++] = "--first-trial";
    argv[a++] = store[1];
    snprintf(store[2], 32, "%" PRIu64, count);
    argv[a++] = "--trials";
    argv[a++] = store[2];
    snprintf(store[3], 32, "%" PRIu64, ws->seed);
    argv[a++] = "--seed";
    argv[a++] = store[3];
    argv[a++] = "--mode";
    argv[a++] = (char *)mode_name(ws->mode);
    snprintf(store[4], 32, "%d", ws->depth);
    argv[a++] = "--depth";
    argv[a++] = store[4];
    for (int i = 0; ws->bugs && ws->bugs[i] && i < PROG_MAX_BUGS; i++) {
        argv[a++] = "--bug";
        argv[a++] = (char *)ws->bugs[i];
    }
    if (ws->trace_file) {
        argv[a++] = "--trace";
        argv[a++] = (char *)ws->trace_file;
    }
    if (ws->selftest_crash >= 0) {
        snprintf(store[5], 32, "%" PRId64, ws->selftest_crash);
        argv[a++] = "--selftest-crash";
        argv[a++] = store[5];
    }
    if (ws->selftest_hang >= 0) {
        snprintf(store[6], 32, "%" PRId64, ws->selftest_hang);
        argv[a++] = "--selftest-hang";
        argv[a++] = store[6];
    }
    if (ws->time_left_s > 0) {
        snprintf(store[7], 32, "%.3f", ws->time_left_s < 0.001 ? 0.001 : ws->time_left_s);
        argv[a++] = "--time";
        argv[a++] = store[7];
    }
    argv[a] = NULL;
    return a;
}

static void copy_str(char *dst, size_t n, json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(dst, n, "%s", s ? s : "");
}

static char *dup_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? strdup(s) : NULL;
}

/* one result line from the worker; -1 if it is not one */
static int parse_line(const char *line, trial_result *r)
{
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    memset(r, 0, sizeof *r);
    r->trial = (uint64_t)json_integer_value(json_object_get(o, "trial"));
    r->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
    bool known = verdict_parse(json_string_value(json_object_get(o, "verdict")),
                               &r->verdict) == 0;
    copy_str(r->check, sizeof r->check, o, "check");
    copy_str(r->message, sizeof r->message, o, "message");
    r->thread = (int)json_integer_value(json_object_get(o, "thread"));
    r->op_index = json_integer_value(json_object_get(o, "op_index"));
    r->leaked_blocks = json_integer_value(json_object_get(o, "leaked_blocks"));
    r->leaked_reftotal = json_integer_value(json_object_get(o, "leaked_reftotal"));
    r->ops_run = (uint64_t)json_integer_value(json_object_get(o, "ops_run"));
    r->seconds = json_number_value(json_object_get(o, "seconds"));
    r->trace = dup_str(o, "trace");
    r->thread_dump = dup_str(o, "thread_dump");
    r->op_log = dup_str(o, "op_log");
    r->from_worker = true;
    r->exit_status = -1;
    json_decref(o);
    return known ? 0 : -1;
}

/* the last lines of the log, for an internal-error message */
static void log_tail(const char *log, size_t len, char *out, size_t n)
{
    size_t start = len > 600 ? len - 600 : 0;
    while (start > 0 && start < len && log[start - 1] != '\n')
        start++;
    snprintf(out, n, "%.*s", (int)(len - start), log + start);
    size_t l = strlen(out);
    while (l > 0 && out[l - 1] == '\n')
        out[--l] = 0;
}

static int64_t batch(const worker_spec *ws, uint64_t first, uint64_t count, trial_fn fn,
                     tick_fn tick, void *ctx, bool *stop, char *err, size_t n);

/* A hung worker's threads, by gdb (when installed), before it is killed: malloc'd text or
 * NULL.  Bounded: gdb that takes longer than WORKER_DUMP_S is killed. */
#define WORKER_DUMP_S 20
static char *thread_dump(pid_t pid, const char *log_path)
{
    char path[4200], pidbuf[24];
    snprintf(path, sizeof path, "%s.gdb", log_path);
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    char *argv[] = {"gdb", "-nx", "-batch", "-p", pidbuf, "-ex", "set pagination off",
                    "-ex", "info threads", "-ex", "thread apply all bt", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t g;
    int rc = posix_spawnp(&g, "gdb", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd);
    char *text = NULL;
    if (rc == 0) {
        int st;
        double t0 = mono_now_s();
        while (waitpid(g, &st, WNOHANG) == 0) {
            if (mono_now_s() - t0 > WORKER_DUMP_S) {
                kill(g, SIGKILL);
                waitpid(g, &st, 0);
                break;
            }
            usleep(20000);
        }
        text = file_read_all(path, 1u << 20, NULL);
    }
    unlink(path);
    return text;
}

static pid_t spawn_worker(const worker_spec *ws, uint64_t first, uint64_t count, int *rfd,
                          char *err, size_t n)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(err, n, "pipe: %s", strerror(errno));
        return -1;
    }
    /* the write end must survive exec (it is closed after spawn in this process) */
    fcntl(pfd[1], F_SETFD, 0);
    int logfd = open(ws->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(err, n, "%s: %s", ws->log_path, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    char *argv[ARGV_MAX], store[8][32];
    build_argv(ws, first, count, pfd[1], argv, store);
    char **env = child_env();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, logfd, 1);
    posix_spawn_file_actions_adddup2(&fa, logfd, 2);
    pid_t pid = -1;
    int rc = env ? posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env) : ENOMEM;
    posix_spawn_file_actions_destroy(&fa);
    free_env(env);
    close(logfd);
    close(pfd[1]);
    if (rc != 0) {
        snprintf(err, n, "cannot start a worker (/proc/self/exe): %s", strerror(rc));
        close(pfd[0]);
        return -1;
    }
    *rfd = pfd[0];
    return pid;
}

static volatile sig_atomic_t stop_signal; /* set by on_stop_signal only */

static void on_stop_signal(int sig)
{
    if (!stop_signal)
        stop_signal = sig;
}

void supervise_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll and waitpid return EINTR, and the loops look */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

int supervise_interrupted(void) { return stop_signal; }

int64_t worker_batch(const worker_spec *ws, uint64_t first, uint64_t count, trial_fn fn,
                     tick_fn tick, void *ctx, char *err, size_t n)
{
    return batch(ws, first, count, fn, tick, ctx, NULL, err, n);
}

static int64_t batch(const worker_spec *ws, uint64_t first, uint64_t count, trial_fn fn,
                     tick_fn tick, void *ctx, bool *stop, char *err, size_t n)
{
    int rfd = -1;
    pid_t pid = spawn_worker(ws, first, count, &rfd, err, n);
    if (pid < 0)
        return -1;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    uint64_t delivered = 0;
    trial_result held;          /* a failing trial, delivered after the worker exits */
    bool have_held = false, hung = false, bad_line = false;
    char *dump = NULL;          /* gdb's view of a hung worker */
    double last = mono_now_s();
    memset(&held, 0, sizeof held);
    for (bool eof = false; !eof && buf;) {
        double wait = ws->watchdog_s - (mono_now_s() - last);
        int ms = wait <= 0 ? 0 : wait > 1.0 ? 1000 : (int)(wait * 1000) + 1;
        struct pollfd pf = {.fd = rfd, .events = POLLIN};
        int pr = poll(&pf, 1, ms);
        if (stop_signal) { /* interrupted: the trial in progress will not finish */
            kill(pid, SIGKILL);
            break;
        }
        if (tick)
            tick(ctx);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0) {
            if (mono_now_s() - last >= ws->watchdog_s) {
                dump = thread_dump(pid, ws->log_path);
                kill(pid, SIGKILL);
                hung = true;
                break;
            }
            continue;
        }
        if (len + 4096 > cap) {
            if (cap >= WORKER_LINE_MAX) {
                bad_line = true;
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(rfd, buf + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            eof = true;
            r = 0;
        }
        len += (size_t)r;
        char *nl;
        while ((nl = memchr(buf, '\n', len)) != NULL) {
            *nl = 0;
            trial_result tr;
            if (parse_line(buf, &tr) < 0) {
                bad_line = true;
            } else if (trial_is_finding(&tr)) {
                if (have_held)
                    trial_result_free(&held);
                held = tr;
                have_held = true;
            } else {
                if (fn(ctx, &tr) != 0 && stop)
                    *stop = true;
                trial_result_free(&tr);
                delivered++;
            }
            last = mono_now_s();
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used);
            len -= used;
        }
    }
    free(buf);
    close(rfd);
    if (bad_line && !hung)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (stop_signal && !have_held && !bad_line) {
        free(dump);
        if (stop)
            *stop = true;
        return (int64_t)delivered;
    }
    size_t log_len = 0;
    char *log = file_read_all(ws->log_path, WORKER_LOG_MAX, &log_len);
    if (!log) {
        log = strdup("");
        log_len = 0;
    }
    if (bad_line && !hung) {
        snprintf(err, n, "the worker sent a malformed result line");
        goto internal;
    }
    if (have_held) {
        held.log = log;
        held.log_len = log_len;
        held.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        held.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (fn(ctx, &held) != 0 && stop)
            *stop = true;
        trial_result_free(&held);
        free(dump);
        return (int64_t)delivered + 1;
    }
    bool clean = !hung && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean) {
        free(dump);
        free(log);
        return (int64_t)delivered;
    }
    trial_result tr;
    memset(&tr, 0, sizeof tr);
    if (worker_classify_end(status, hung, log, log_len, &tr) < 0) {
        char tail[640];
        log_tail(log, log_len, tail, sizeof tail);
        snprintf(err, n, "the worker exited with status %d: %s", tr.exit_status, tail);
        goto internal;
    }
    /* the trial in progress; if every trial had been reported, blame the last one */
    tr.trial = first + (delivered < count ? delivered : count - 1);
    tr.seed = ws->seed + tr.trial;
    tr.log = log;
    tr.log_len = log_len;
    if (dump) {
        free(tr.thread_dump);
        tr.thread_dump = dump;
        dump = NULL;
    }
    if (fn(ctx, &tr) != 0 && stop)
        *stop = true;
    trial_result_free(&tr);
    return (int64_t)(delivered < count ? delivered + 1 : delivered);
internal:
    free(dump);
    free(log);
    if (have_held)
        trial_result_free(&held);
    return -1;
}

int64_t worker_run(const worker_spec *wsp, uint64_t trials, double time_s, trial_fn fn,
                   tick_fn tick, void *ctx, char *err, size_t n)
{
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/refstorm-XXXXXX", file_tmpdir());
    const char *tmpdir = mkdtemp(tmpl);
    if (!tmpdir) {
        snprintf(err, n, "cannot create a temporary directory in %s: %s", file_tmpdir(),
                 strerror(errno));
        return -1;
    }
    char log_path[4096 + 16];
    snprintf(log_path, sizeof log_path, "%s/worker.log", tmpdir);
    worker_spec ws = *wsp;
    ws.log_path = log_path;
    double t0 = mono_now_s();
    uint64_t next = 0;
    int64_t rc = 0;
    bool stop = false;
    while (next < trials && !stop && !stop_signal) {
        ws.time_left_s = 0;
        if (time_s > 0) {
            ws.time_left_s = time_s - (mono_now_s() - t0);
            if (ws.time_left_s <= 0)
                break;
        }
        int64_t got = batch(&ws, next, trials - next, fn, tick, ctx, &stop, err, n);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0 && time_s <= 0 && !stop_signal) {
            snprintf(err, n, "a worker exited cleanly without running a trial");
            rc = -1;
            break;
        }
        next += (uint64_t)got;
    }
    unlink(log_path);
    rmdir(tmpdir);
    return rc < 0 ? -1 : (int64_t)next;
}
