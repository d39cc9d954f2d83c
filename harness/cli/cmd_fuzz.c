/* cmd_fuzz.c — the two bridges between refstorm and its fuzz_program target (harness/fuzz/):
 *
 *   import CRASH_FILE   decode the fuzzer's bytes (program/fuzzin.h) into a program and its
 *                       schedule tape, run that one trial in a supervised worker under pct
 *                       with the tape as its replay trace, and write the finding folder
 *                       (repro.scn, trace.txt, report.json/md) that `repro` replays and
 *                       `shrink` minimises.  The mutants the fuzzer ran with (RS_FUZZ_BUGS)
 *                       are given again with --bug.
 *   encode PROGRAM      the reverse, for seed corpora: a scenario (generated with --seed and
 *                       --threads) or a .scn file, each thread cut to its first
 *                       CMD_ENCODE_OPS ops, encoded into fuzz input bytes at --out.
 *
 * Exit codes as for run: 1 if the imported input is a finding, 0 if it passes here. */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "fuzzin.h"
#include "report.h"
#include "scenario.h"
#include "scheduler.h"
#include "scn.h"
#include "session.h"

#define CMD_ENCODE_OPS 24         /* ops kept per thread by `encode` */
#define CMD_FUZZ_MAX_INPUT (1u << 20)

static char *tape_text(const fuzzin *f)
{
    sched_switch *sw = calloc(f->ntape ? f->ntape : 1, sizeof *sw);
    if (!sw)
        return NULL;
    for (size_t i = 0; i < f->ntape; i++)
        sw[i] = (sched_switch){.step = f->tape[i].step, .thread = f->tape[i].thread};
    char *text = sched_trace_text(sw, f->ntape);
    free(sw);
    return text;
}

int cmd_import(const cli_opts *o, const char *argv0)
{
    size_t len = 0;
    char *bytes = file_read_all(o->target, CMD_FUZZ_MAX_INPUT, &len);
    if (!bytes) {
        fprintf(stderr, "refstorm: import: %s: %s\n", o->target, strerror(errno));
        return EXIT_USAGE;
    }
    fuzzin f;
    int rc = fuzzin_decode((const uint8_t *)bytes, len, &f);
    free(bytes);
    if (rc < 0) {
        fprintf(stderr, "refstorm: import: out of memory decoding %s\n", o->target);
        return EXIT_INTERNAL;
    }
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.argv0 = argv0;
    s.command = report_shell_join(o->argc, o->argv);
    s.mode = MODE_PCT;
    s.depth = f.depth;
    s.seed = f.seed;
    s.selftest_crash = s.selftest_hang = -1;
    char scn_path[4096] = "", trace_path[4096] = "";
    char *scn = scn_print_to_buffer(&f.prog, NULL);
    char *trace = tape_text(&f);
    rc = EXIT_INTERNAL;
    if (scn && trace && session_write_temp("import", ".scn", scn, scn_path, sizeof scn_path) == 0
        && (f.ntape == 0 || session_write_temp("import", ".trace", trace, trace_path, sizeof trace_path) == 0)) {
        s.source = scn_path;
        rc = session_load_program(scn_path, &s.prog) < 0 || session_add_bugs(&s.prog, o->bugs) < 0
                 ? EXIT_USAGE : EXIT_PASS;
    }
    if (rc == EXIT_PASS && session_new_run(&s, o->report_dir) < 0)
        rc = EXIT_USAGE;
    if (rc == EXIT_PASS) {
        rc = session_drive(&s, 1, 0, session_watchdog(o, &s.prog), f.ntape ? trace_path : NULL,
                           o->bugs);
        FILE *out = o->json ? stderr : stdout;
        if (!o->quiet && rc == EXIT_FINDING)
            fprintf(out, "import: %s is a finding: %s\n", o->target, s.first_finding);
        else if (!o->quiet && rc == EXIT_PASS)
            fprintf(out, "import: %s passes here (pct seed %" PRIu64 ", %zu tape switches): not "
                         "a finding; were the fuzzer's mutants (RS_FUZZ_BUGS) given with --bug?\n",
                    o->target, f.seed, f.ntape);
    }
    free(scn);
    free(trace);
    if (scn_path[0])
        unlink(scn_path);
    if (trace_path[0])
        unlink(trace_path);
    program_free(&s.prog);
    free(s.command);
    fuzzin_free(&f);
    return rc;
}

/* The program to encode: a .scn file, or a scenario generated with --seed/--threads. */
static program *encode_source(const cli_opts *o, program *file_prog)
{
    if (access(o->target, F_OK) == 0 || strstr(o->target, ".scn")) {
        if (session_load_program(o->target, file_prog) < 0)
            return NULL;
        return file_prog;
    }
    const scenario *sc = scenario_find(o->target);
    if (!sc) {
        fprintf(stderr, "refstorm: encode: unknown scenario '%s' (see `refstorm list`, or give "
                        "a FILE.scn)\n", o->target);
        return NULL;
    }
    scenario_params sp = {.nthreads = cli_given(o, "threads") ? (int)o->threads : 0};
    program *g = scenario_generate(sc, cli_given(o, "seed") ? o->seed : 1, &sp);
    if (!g)
        fprintf(stderr, "refstorm: encode: scenario %s cannot be generated with these "
                        "parameters\n", sc->name);
    return g;
}

int cmd_encode(const cli_opts *o)
{
    if (!o->out) {
        fprintf(stderr, "refstorm: encode: --out FILE is required\n");
        return EXIT_USAGE;
    }
    program file_prog;
    program_init(&file_prog);
    program *p = encode_source(o, &file_prog);
    if (!p)
        return EXIT_USAGE;
    fuzzin f;
    int rc = EXIT_INTERNAL;
    uint64_t seed = cli_given(o, "seed") ? o->seed : p->opt.seed;
    if (fuzzin_from_program(p, seed, cli_given(o, "depth") ? (int)o->depth : 3, &f) == 0) {
        for (uint32_t t = 0; t < f.prog.nthreads; t++)
            if (f.prog.thread[t].nops > CMD_ENCODE_OPS) {
                for (uint32_t k = CMD_ENCODE_OPS; k < f.prog.thread[t].nops; k++)
                    free(f.prog.thread[t].ops[k].str);
                f.prog.thread[t].nops = CMD_ENCODE_OPS;
            }
        size_t n = fuzzin_encode(&f, NULL, 0);
        uint8_t *buf = malloc(n);
        if (buf) {
            fuzzin_encode(&f, buf, n);
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", o->out);
            char *slash = strrchr(dir, '/');
            const char *name = slash ? slash + 1 : dir;
            if (slash)
                *slash = '\0';
            if (file_write_atomic(slash ? (dir[0] ? dir : "/") : ".", name, buf, n) == 0)
                rc = EXIT_PASS;
            else
                fprintf(stderr, "refstorm: encode: %s: %s\n", o->out, strerror(errno));
            free(buf);
        }
        fuzzin_free(&f);
    }
    if (p == &file_prog)
        program_free(&file_prog);
    else
        scenario_program_free(p);
    return rc;
}
