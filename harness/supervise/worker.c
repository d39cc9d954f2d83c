/* worker.c — `refstorm worker`: runs trials in this process and reports each on the
 * result pipe (the protocol is in worker.h). */
#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "clock.h"
#include "executor.h"
#include "files.h"
#include "scn.h"
#include "supervise.h"

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
    json_object_set_new(o, "verdict", json_string(verdict_name(r->verdict)));
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

int worker_main(const worker_args *o)
{
    /* ^C reaches the terminal's whole process group: the supervisor decides what an
     * interruption ends (supervise_signals_install), and a worker it killed is no crash */
    signal(SIGINT, SIG_IGN);
    int fd = o->result_fd;
    program p;
    scn_error e;
    if (scn_parse_file(o->file, &p, &e) < 0) {
        char msg[512];
        scn_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        return EXIT_USAGE;
    }
    char *trace = NULL;
    if (o->trace && !(trace = file_read_all(o->trace, SCN_MAX_FILE, NULL))) {
        fprintf(stderr, "refstorm worker: %s: %s\n", o->trace, strerror(errno));
        program_free(&p);
        return EXIT_USAGE;
    }
    if (trace) /* one trailing newline is the file's, not the trace's */
        trace[strcspn(trace, "\n")] = 0;
    exec_config cfg = {
        .mode = o->mode, .depth = (int)o->depth, .replay_trace = trace, .bugs = o->bugs,
        .timeout_ms = p.opt.timeout_ms ? p.opt.timeout_ms : WORKER_DEFAULT_TIMEOUT_MS,
    };
    double t0 = mono_now_s();
    int status = EXIT_PASS;
    for (uint64_t i = 0; i < o->trials; i++) {
        uint64_t idx = o->first_trial + i;
        if (o->time_s > 0 && mono_now_s() - t0 >= o->time_s)
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
            status = EXIT_INTERNAL;
            break;
        }
        int sent = send_result(fd, idx, cfg.seed, &r);
        bool failed = verdict_is_finding(r.verdict);
        exec_result_free(&r);
        if (sent < 0) {
            fprintf(stderr, "refstorm worker: cannot write results: %s\n", strerror(errno));
            status = EXIT_INTERNAL;
            break;
        }
        if (failed) {
            status = EXIT_FINDING;
            break;
        }
    }
    free(trace);
    program_free(&p);
    return status;
}

