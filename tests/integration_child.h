/* integration_child.h — run this test program again as a child (fork+exec through
 * posix_spawn of /proc/self/exe: TSan does not support fork without exec) and collect its
 * exit status and stderr.  Used by the integration tests for mutants whose effect ends the
 * process: a fatal invariant (abort), an ASan report, or a TSan report (the child runs with
 * TSAN_OPTIONS=halt_on_error=1:exitcode=66, as in test_tsan_canary.c). */
#ifndef RS_INTEGRATION_CHILD_H
#define RS_INTEGRATION_CHILD_H

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__)
#define ITEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ITEST_TSAN 1
#endif
#endif
#ifndef ITEST_TSAN
#define ITEST_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define ITEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ITEST_ASAN 1
#endif
#endif
#ifndef ITEST_ASAN
#define ITEST_ASAN 0
#endif

#define ITEST_EXIT_TSAN 66
#define ITEST_EXIT_ASAN 67
#define ITEST_RACE_TEXT "WARNING: ThreadSanitizer: data race"

typedef struct child_result {
    int status; /* exit code, or 128 + signal */
    char err[32768];
} child_result;

extern char **environ;

/* Run "/proc/self/exe ARGS..." (args: NULL-terminated, at most 6) with TSAN_OPTIONS and, if
 * asan_options is non-NULL, ASAN_OPTIONS replaced; fill *res with its exit status and the head
 * of its stderr.  The one place the tests start a copy of themselves. */
static inline void run_self(const char *const *args, const char *tsan_options,
                            const char *asan_options, child_result *res)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 3, sizeof *env);
    assert_non_null(env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "TSAN_OPTIONS=", 13) != 0 &&
            (asan_options == NULL || strncmp(environ[i], "ASAN_OPTIONS=", 13) != 0))
            env[k++] = environ[i];
    char tsan_var[256], asan_var[256];
    snprintf(tsan_var, sizeof tsan_var, "TSAN_OPTIONS=%s", tsan_options);
    env[k++] = tsan_var;
    if (asan_options) {
        snprintf(asan_var, sizeof asan_var, "ASAN_OPTIONS=%s", asan_options);
        env[k++] = asan_var;
    }
    env[k] = NULL;

    char *argv[8] = {"/proc/self/exe"};
    for (size_t i = 0; args[i] && i < 6; i++)
        argv[i + 1] = (char *)args[i];

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    free(env);

    size_t len = 0;
    for (;;) {
        char buf[4096];
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (take > sizeof res->err - 1 - len)
            take = sizeof res->err - 1 - len; /* keep the head: the report's first lines */
        memcpy(res->err + len, buf, take);
        len += take;
    }
    res->err[len] = '\0';
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        assert_int_equal(errno, EINTR);
    res->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* run "/proc/self/exe --child A B" (b may be NULL) and fill *res */
static inline void run_child(const char *a, const char *b, child_result *res)
{
    const char *args[] = {"--child", a, b, NULL};
    run_self(args, "halt_on_error=1:exitcode=66", "exitcode=67:detect_leaks=0", res);
}

#endif
