/* worker.c — the worker process and the supervisor's side of it (see worker.h).
 *
 * Protocol: the supervisor spawns `/proc/self/exe worker FILE --result-fd FD --first-trial F
 * --trials N --seed S --mode M ...` with stdout and stderr redirected to a log file and FD the
 * write end of a pipe.  The worker writes one compact JSON object per trial, one per line
 * (fields of trial_result), and exits 0 when its trials are done, 1 right after a failing
 * trial, 2 on bad input, 3 on an internal error.  The trial in progress is always
 * first + (lines received): when the worker dies without reporting it (signal, sanitizer
 * exit, or killed by the watchdog), that trial is the finding.
 *
 * The sanitizers are told to stop at their first report (halt_on_error=1 appended to the
 * caller's options), so a report always ends the trial that caused it; TSan does not sleep a
 * second at exit (atexit_sleep_ms=0 put before the caller's options, which may override it). */
#include "worker.h"

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
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "executor.h"
#include "report.h"
#include "scn.h"

/* The executor's watchdog ends a hung trial's process with this status after writing a block
 * between these markers to stderr (executor.h, "Hang").  The fallbacks keep this file
 * building against an executor.h from before the protocol; the values are the same. */
#ifndef EXEC_HANG_EXIT_STATUS
#define EXEC_HANG_EXIT_STATUS 86
#define EXEC_HANG_BEGIN "==refstorm-hang-begin=="
#define EXEC_HANG_END "==refstorm-hang-end=="
#endif

extern char **environ;

#define WORKER_LOG_MAX (16u << 20)   /* bytes of worker stderr kept for a report */
#define WORKER_LINE_MAX (8u << 20)   /* one result line (a pct trace can be long) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void trial_result_free(trial_result *r)
{
    free(r->trace);
    free(r->thread_dump);
    free(r->op_log);
    free(r->log);
    r->trace = r->thread_dump = r->op_log = r->log = NULL;
}

bool trial_is_finding(const trial_result *r)
{
    return strcmp(r->verdict, "pass") != 0 && strcmp(r->verdict, "error") != 0;
}

char *worker_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

/* ======================================================================================
 * Worker (child) side
 * ====================================================================================== */

static const char *verdict_word(exec_verdict v)
{
    switch (v) {
    case EXEC_PASS: return "pass";
    case EXEC_INVARIANT: return "invariant";
    case EXEC_CRASH: return "crash";
    case EXEC_SANITIZER: return "sanitizer";
    case EXEC_HANG: return "hang";
    case EXEC_LEAK: return "leak";
    case EXEC_ERROR: return "error";
    }
    return "error";
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static int send_result(int fd, uint64_t trial, uint64_t seed, const exec_result *r)
{
    json_t *o = json_object();
    if (!o)
        return -1;
    json_object_set_new(o, "trial", json_integer((json_int_t)trial));
    json_object_set_new(o, "seed", json_integer((json_int_t)seed));
    json_object_set_new(o, "verdict", json_string(verdict_word(r->verdict)));
    json_object_set_new(o, "check", json_stringn(r->check, strnlen(r->check, sizeof r->check)));
    json_object_set_new(o, "message",
                        json_stringn(r->message, strnlen(r->message, sizeof r->message)));
    json_object_set_new(o, "thread", json_integer(r->thread));
    json_object_set_new(o, "op_index", json_integer(r->op_index));
    json_object_set_new(o, "leaked_blocks", json_integer(r->leaked_blocks));
    json_object_set_new(o, "leaked_reftotal", json_integer(r->leaked_reftotal));
    json_object_set_new(o, "ops_run", json_integer((json_int_t)r->ops_run));
    json_object_set_new(o, "seconds", json_real(r->seconds));
    json_object_set_new(o, "trace", r->trace ? json_string(r->trace) : json_null());
    json_object_set_new(o, "thread_dump", r->thread_dump ? json_string(r->thread_dump) : json_null());
    json_object_set_new(o, "op_log", r->op_log ? json_string(r->op_log) : json_null());
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        return -1;
    size_t len = strlen(s);
    int rc = -1;
    char *line = realloc(s, len + 2);
    if (line) {
        s = line;
        s[len] = '\n';
        rc = write_all(fd, s, len + 1);
    }
    free(s);
    return rc;
}

int worker_main(const cli_opts *o)
{
    int fd = (int)o->result_fd;
    program p;
    scn_error e;
    if (scn_parse_file(o->target, &p, &e) < 0) {
        char msg[512];
        scn_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return CLI_EXIT_USAGE;
    }
    char *trace = NULL;
    if (o->trace && !(trace = worker_read_file(o->trace, SCN_MAX_FILE, NULL))) {
        fprintf(stderr, "refstorm worker: %s: %s\n", o->trace, strerror(errno));
        program_free(&p);
        return CLI_EXIT_USAGE;
    }
    if (trace) /* one trailing newline is the file's, not the trace's */
        trace[strcspn(trace, "\n")] = 0;
    exec_config cfg = {
        .mode = o->mode, .depth = (int)o->depth, .replay_trace = trace, .bugs = o->bugs,
        .timeout_ms = p.opt.timeout_ms ? p.opt.timeout_ms : WORKER_DEFAULT_TIMEOUT_MS,
    };
    double t0 = now_s();
    int status = CLI_EXIT_PASS;
    for (uint64_t i = 0; i < o->trials; i++) {
        uint64_t idx = o->first_trial + i;
        if (o->time_s > 0 && now_s() - t0 >= o->time_s)
            break;
        if (o->selftest_crash >= 0 && idx == (uint64_t)o->selftest_crash) {
            fprintf(stderr, "refstorm worker: --selftest-crash: raising SIGSEGV at trial %" PRIu64
                            "\n", idx);
            raise(SIGSEGV);
        }
        if (o->selftest_hang >= 0 && idx == (uint64_t)o->selftest_hang) {
            fprintf(stderr, "refstorm worker: --selftest-hang: sleeping at trial %" PRIu64 "\n",
                    idx);
            for (;;)
                pause();
        }
        cfg.seed = o->seed + idx;
        exec_result r;
        memset(&r, 0, sizeof r);
        if (exec_run(&p, &cfg, &r) < 0) {
            fprintf(stderr, "refstorm worker: executor failed: %.*s\n", (int)sizeof r.message,
                    r.message);
            exec_result_free(&r);
            status = CLI_EXIT_INTERNAL;
            break;
        }
        int sent = send_result(fd, idx, cfg.seed, &r);
        bool failed = r.verdict != EXEC_PASS && r.verdict != EXEC_ERROR;
        exec_result_free(&r);
        if (sent < 0) {
            fprintf(stderr, "refstorm worker: cannot write results: %s\n", strerror(errno));
            status = CLI_EXIT_INTERNAL;
            break;
        }
        if (failed) {
            status = CLI_EXIT_FINDING;
            break;
        }
    }
    free(trace);
    program_free(&p);
    return status;
}

/* ======================================================================================
 * Supervisor side
 * ====================================================================================== */

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
#define ARGV_MAX (32 + 2 * CLI_MAX_BUGS)
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
    argv[a++] = (char *)ws->mode;
    snprintf(store[4], 32, "%d", ws->depth);
    argv[a++] = "--depth";
    argv[a++] = store[4];
    for (int i = 0; ws->bugs && ws->bugs[i] && i < CLI_MAX_BUGS; i++) {
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
    copy_str(r->verdict, sizeof r->verdict, o, "verdict");
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
    return r->verdict[0] ? 0 : -1;
}

/* The executor's hang block, if the log has one: the verdict, the first unfinished thread
 * and its op, and the block itself as the thread dump. */
static bool exec_hang(const char *log, size_t len, trial_result *r)
{
    const char *b = memmem(log, len, EXEC_HANG_BEGIN, strlen(EXEC_HANG_BEGIN));
    if (!b)
        return false;
    const char *end = log + len;
    const char *e = memmem(b, (size_t)(end - b), EXEC_HANG_END, strlen(EXEC_HANG_END));
    e = e ? e + strlen(EXEC_HANG_END) : end;
    r->thread_dump = strndup(b, (size_t)(e - b));
    snprintf(r->verdict, sizeof r->verdict, "hang");
    snprintf(r->check, sizeof r->check, "watchdog");
    long long timeout = -1, elapsed = -1;
    bool blamed = false;
    for (const char *line = b; line < e;) {
        const char *nl = memchr(line, '\n', (size_t)(e - line));
        size_t ll = (size_t)((nl ? nl : e) - line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(ll < sizeof buf ? ll : sizeof buf - 1), line);
        int t;
        long long op;
        sscanf(buf, "timeout_ms %lld elapsed_ms %lld", &timeout, &elapsed);
        if (!blamed && sscanf(buf, "thread %d op %lld", &t, &op) == 2 && !strstr(buf, " done 1")) {
            r->thread = t;
            r->op_index = op;
            blamed = true;
        }
        line = nl ? nl + 1 : e;
    }
    snprintf(r->message, sizeof r->message,
             "the trial outlived its timeout of %lld ms (the executor's watchdog, after %lld ms)",
             timeout, elapsed);
    return true;
}

int worker_classify_end(int status, bool hung, const char *log, size_t log_len,
                        trial_result *r)
{
    report_headline h;
    char fatal[256];
    bool has_h = report_sanitizer_headline(log, log_len, &h);
    bool has_fatal = report_fatal_line(log, log_len, fatal, sizeof fatal);
    r->thread = -1;
    r->op_index = -1;
    r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (hung) {
        snprintf(r->verdict, sizeof r->verdict, "hang");
        snprintf(r->check, sizeof r->check, "watchdog");
        snprintf(r->message, sizeof r->message,
                 "the trial did not finish within the watchdog time; the worker was killed");
        return 0;
    }
    if (exec_hang(log, log_len, r) || r->exit_status == EXEC_HANG_EXIT_STATUS) {
        if (!r->verdict[0]) { /* the status without the block (log cut short) */
            snprintf(r->verdict, sizeof r->verdict, "hang");
            snprintf(r->check, sizeof r->check, "watchdog");
            snprintf(r->message, sizeof r->message,
                     "the executor's watchdog ended the trial (exit status %d)", r->exit_status);
        }
        return 0;
    }
    if (has_h && !h.deadly_signal) {
        snprintf(r->verdict, sizeof r->verdict, "sanitizer");
        snprintf(r->check, sizeof r->check, "%s", h.kind);
        snprintf(r->message, sizeof r->message, "%s", h.text);
        snprintf(r->headline, sizeof r->headline, "%s", h.text);
        return 0;
    }
    if (has_h || r->signal) {
        snprintf(r->verdict, sizeof r->verdict, "crash");
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
    if (r->exit_status == CLI_EXIT_USAGE || r->exit_status == CLI_EXIT_INTERNAL)
        return -1;
    snprintf(r->verdict, sizeof r->verdict, "crash");
    snprintf(r->check, sizeof r->check, "exit");
    snprintf(r->message, sizeof r->message,
             "the worker exited with status %d before reporting the trial", r->exit_status);
    return 0;
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
        double t0 = now_s();
        while (waitpid(g, &st, WNOHANG) == 0) {
            if (now_s() - t0 > WORKER_DUMP_S) {
                kill(g, SIGKILL);
                waitpid(g, &st, 0);
                break;
            }
            usleep(20000);
        }
        text = worker_read_file(path, 1u << 20, NULL);
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
    double last = now_s();
    memset(&held, 0, sizeof held);
    for (bool eof = false; !eof && buf;) {
        double wait = ws->watchdog_s - (now_s() - last);
        int ms = wait <= 0 ? 0 : wait > 1.0 ? 1000 : (int)(wait * 1000) + 1;
        struct pollfd pf = {.fd = rfd, .events = POLLIN};
        int pr = poll(&pf, 1, ms);
        if (tick)
            tick(ctx);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr <= 0) {
            if (now_s() - last >= ws->watchdog_s) {
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
            last = now_s();
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
    size_t log_len = 0;
    char *log = worker_read_file(ws->log_path, WORKER_LOG_MAX, &log_len);
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
    char tmpl[] = "/tmp/refstorm-XXXXXX";
    const char *tmpdir = mkdtemp(tmpl);
    if (!tmpdir) {
        snprintf(err, n, "cannot create a temporary directory: %s", strerror(errno));
        return -1;
    }
    char log_path[64];
    snprintf(log_path, sizeof log_path, "%s/worker.log", tmpdir);
    worker_spec ws = *wsp;
    ws.log_path = log_path;
    double t0 = now_s();
    uint64_t next = 0;
    int64_t rc = 0;
    bool stop = false;
    while (next < trials && !stop) {
        ws.time_left_s = 0;
        if (time_s > 0) {
            ws.time_left_s = time_s - (now_s() - t0);
            if (ws.time_left_s <= 0)
                break;
        }
        int64_t got = batch(&ws, next, trials - next, fn, tick, ctx, &stop, err, n);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 0 && time_s <= 0) {
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
