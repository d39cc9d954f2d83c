/* cmd_run.c — `refstorm run`: load the program (a .scn file, or a scenario of the registry
 * generated into a temporary .scn file), run its trials in supervised workers (session.c),
 * and end with a summary line.  Exit codes are base/vocab.h's.
 *
 * Seeds: trial i of a run uses scheduler seed SEED+i, where SEED is --seed or the program's
 * own `seed`.  A generated scenario is built once per run, from --seed (default
 * CMD_SCENARIO_SEED) and --threads, and carries that seed.  A finding records its seed and its
 * program (repro.scn), so `repro` replays that one trial alone. */
#include "commands.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "report.h"
#include "scenario.h"
#include "scn.h"
#include "session.h"

#define CMD_SCENARIO_SEED 1 /* a generated scenario's seed when --seed is not given */
#define CMD_FIFO_WAIT_MS 10000 /* how long `run FIFO` waits for a writer (a message, no verdict) */

/* Write g as .scn text to a new temporary file (the workers read their program from a file);
 * path receives its name.  -1 (message printed, nothing left behind). */
static int write_program_temp(const program *g, const char *stem, char *path, size_t n)
{
    char *text = scn_print_to_buffer(g, NULL);
    int rc = text ? session_write_temp(stem, ".scn", text, path, n) : -1;
    if (!text)
        fprintf(stderr, "refstorm: run: out of memory printing the program\n");
    free(text);
    return rc;
}

/* Read a pipe, FIFO or terminal once, into p.  A FIFO blocks its reader until a writer opens
 * it: wait for data at most CMD_FIFO_WAIT_MS on the one descriptor that is then read (closing
 * it would throw away what a writer already sent), and give up with a message instead of
 * hanging.  -1 (message printed). */
static int load_stream(const char *path, program *p)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r;
    do
        r = poll(&pfd, 1, CMD_FIFO_WAIT_MS);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        fprintf(stderr, "refstorm: run: %s: nothing to read after %d s (a pipe or FIFO with no "
                        "writer?)\n", path, CMD_FIFO_WAIT_MS / 1000);
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    for (ssize_t got = 1; buf && got > 0 && len <= SCN_MAX_FILE;) {
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        do
            got = read(fd, buf + len, cap - len);
        while (got < 0 && errno == EINTR);
        if (got > 0)
            len += (size_t)got;
        else if (got < 0) {
            fprintf(stderr, "%s: read error: %s\n", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    scn_error e;
    int rc = scn_parse_buffer(buf, len, path, p, &e);
    free(buf);
    if (rc < 0) {
        char msg[512];
        scn_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
    }
    return rc;
}

/* `run NAME`: generate the scenario into p and write it to a temporary .scn file (the workers
 * read their program from a file); path receives its name.  -1 (message printed) if the name
 * is unknown, the parameters are out of the scenario's range, or the file cannot be written. */
static int generate_scenario(const cli_opts *o, program *p, char *path, size_t n)
{
    const scenario *sc = scenario_find(o->target);
    if (sc == NULL) {
        fprintf(stderr, "refstorm: run: unknown scenario '%s' (see `refstorm list`, or give a "
                        "FILE.scn)\n", o->target);
        return -1;
    }
    scenario_params sp = {.nthreads = cli_given(o, "threads") ? (int)o->threads : 0};
    uint64_t seed = cli_given(o, "seed") ? o->seed : CMD_SCENARIO_SEED;
    program *g = scenario_generate(sc, seed, &sp);
    if (g == NULL) {
        fprintf(stderr, "refstorm: run: scenario %s cannot be generated with %d threads "
                        "(at least %d, at most %d)\n", sc->name, sp.nthreads, SCENARIO_MIN_THREADS,
                PROG_MAX_THREADS);
        return -1;
    }
    cli_program_overrides(o, g);
    if (write_program_temp(g, sc->name, path, n) < 0) {
        scenario_program_free(g);
        return -1;
    }
    /* the session's program is a copy: reports print it as repro.scn */
    scn_error e;
    int rc = scn_parse_file(path, p, &e);
    scenario_program_free(g);
    if (rc < 0) {
        fprintf(stderr, "refstorm: run: the generated program does not parse back\n");
        unlink(path);
        path[0] = '\0';
        return -1;
    }
    return 0;
}

/* The program of the run into s->prog (s->source names its file): -1 (message printed). */
static int load(session *s, const cli_opts *o, char *gen_path, size_t n)
{
    bool is_stdin = strcmp(o->target, "-") == 0;
    const char *path = is_stdin ? "/dev/stdin" : o->target;
    bool file = is_stdin || strstr(o->target, ".scn") || strchr(o->target, '/') ||
                access(o->target, F_OK) == 0;
    if (!file) {
        if (generate_scenario(o, &s->prog, gen_path, n) < 0)
            return -1;
        s->source = gen_path;
    } else if (cli_given(o, "threads")) {
        fprintf(stderr, "refstorm: run: --threads applies to generated scenarios; %s fixes "
                        "its own threads\n", o->target);
        return -1;
    } else {
        /* a pipe, FIFO or terminal (`run -`, /dev/stdin, <(...)) is read once, here; the
         * workers get a copy in a temporary file, removed at the end like a generated one */
        struct stat st;
        bool regular = !is_stdin && stat(path, &st) == 0 && S_ISREG(st.st_mode);
        if (regular ? session_load_program(path, &s->prog) < 0 : load_stream(path, &s->prog) < 0)
            return -1;
        if (!regular) {
            if (write_program_temp(&s->prog, "input", gen_path, n) < 0)
                return -1;
            s->source = gen_path;
        }
    }
    return session_add_bugs(&s->prog, o->bugs);
}

static void summary(const session *s, const cli_opts *o, int rc)
{
    double el = mono_now_s() - s->t0;
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "refstorm: %s: %" PRIu64 " trials (%s, seeds %" PRIu64 "..), %" PRIu64
                 " passed, %" PRIu64 " findings, %" PRIu64 " could not run, %.2f s, %.1f "
                 "trials/s%s%s\n",
            rc == EXIT_PASS ? "PASS" : rc == EXIT_FINDING ? "FINDINGS" : "ERROR",
            s->done, mode_name(s->mode), s->seed, s->passed, s->findings, s->errors, el,
            el > 0 ? (double)s->done / el : 0, s->findings ? "; reports in " : "",
            s->findings ? s->run_dir : "");
}

int cmd_run(const cli_opts *o, const char *argv0)
{
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.argv0 = argv0;
    s.command = report_shell_join(o->argc, o->argv);
    s.source = o->target;
    s.mode = o->mode;
    s.depth = (int)o->depth;
    s.selftest_crash = o->selftest_crash;
    s.selftest_hang = o->selftest_hang;
    char gen_path[4096] = "";
    int rc = EXIT_USAGE;
    if (load(&s, o, gen_path, sizeof gen_path) == 0) {
        s.seed = cli_given(o, "seed") ? o->seed : s.prog.opt.seed;
        /* trial i uses seed + i: no trial's seed may pass PROG_SEED_MAX (a time-bounded run,
         * whose trials are unbounded, stops at the last seed instead) */
        uint64_t trials = o->trials, room = (uint64_t)PROG_SEED_MAX - s.seed + 1;
        if (trials > room && o->trials == INT64_MAX && !cli_given(o, "trials")) {
            trials = room;
        } else if (trials > room) {
            fprintf(stderr, "refstorm: run: seed %" PRIu64 " with %" PRIu64 " trials: the last "
                            "trial's seed would pass the largest seed %" PRId64 "; give a smaller "
                            "--seed or fewer --trials\n",
                    s.seed, trials, (int64_t)PROG_SEED_MAX);
            trials = 0;
        }
        if (trials > 0 && session_new_run(&s, o->report_dir) < 0) {
            trials = 0; /* rc stays EXIT_USAGE */
        } else if (trials > 0) {
            rc = session_drive(&s, trials, o->time_s, session_watchdog(o, &s.prog), NULL, o->bugs);
        }
        if (!o->quiet && trials > 0 && rc != EXIT_INTERNAL)
            summary(&s, o, rc);
    }
    /* the one exit */
    program_free(&s.prog);
    free(s.command);
    if (gen_path[0])
        unlink(gen_path);
    return rc;
}
