/* fuzz_program.c — libFuzzer target that runs programs of many threads on the runtime.
 *
 * The input is a program and its schedule (harness/program/fuzzin.h: any bytes decode, none
 * is rejected).  The program runs in this process under the pct scheduler, one program thread
 * at a time: the schedule tape's switches are forced at their decisions (a replay trace), and
 * where the tape says nothing pct decides, seeded by the input.  The same input therefore gives
 * the same run and the same coverage.  Every program thread ends (joined, or parked in the
 * executor's pool) before the next input.
 *
 * A program outside the model's contract (verdict error, check `contract`: it left a
 * reference cycle in a late root, whose leak is its own) is no finding: the input is
 * rejected (-1, libFuzzer does not keep it).
 *
 * Oracles are crashes: a trial whose verdict is not `pass` (a validator at a stop-the-world
 * point, the reference total, leak accounting, the program's own checks, a pct deadlock, or
 * an input the executor could not run) prints the verdict and the program as .scn text and
 * aborts, so libFuzzer keeps the input; the executor's hang watchdog aborts too.  ASan, UBSan
 * and TSan reports end the process themselves (fuzz-tsan: run with TSAN_OPTIONS=halt_on_error=1,
 * or libFuzzer keeps an empty input instead of the one that raced).
 *
 * Environment (read once, at start):
 *   RS_FUZZ_BUGS=a,b     mutants to switch on in every run (the fuzzer's scoreboard); the
 *                        oracles never read them
 *   RS_FUZZ_MUTATOR=bytes  libFuzzer's byte mutations only (default: structure-aware ones,
 *                        harness/program/fuzzmut.h, for three mutations in four)
 *   RS_FUZZ_SELFCHECK=1  run every input twice and abort unless verdict, check, the trace's
 *                        switches (step and thread) and the op log are identical (the
 *                        determinism self-check; use with -runs over a corpus)
 *
 * `refstorm import CRASH_FILE` turns a crash file into a finding folder that `refstorm repro`
 * replays. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "fuzzin.h"
#include "fuzzmut.h"
#include "scheduler.h"
#include "scn.h"

#define FUZZ_MAX_BUGS 16

static char bug_words[512];
static const char *bugs[FUZZ_MAX_BUGS + 1];
static bool selfcheck;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size); /* libFuzzer's own */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed);

/* Structure-aware mutation (harness/program/fuzzmut.h) for three calls in four; libFuzzer's
 * byte-level mutations for the fourth, which also keep its value-profile and dictionary
 * tricks (comparisons with constants) in play.  RS_FUZZ_MUTATOR=bytes leaves every call to
 * libFuzzer (to compare the two). */
static bool bytes_only;

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    if (bytes_only || seed % 4 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    return fuzzmut_mutate(data, size, max_size, seed);
}

size_t LLVMFuzzerCustomCrossOver(const uint8_t *data1, size_t size1, const uint8_t *data2,
                                 size_t size2, uint8_t *out, size_t max_out_size,
                                 unsigned int seed)
{
    return fuzzmut_crossover(data1, size1, data2, size2, out, max_out_size, seed);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *b = getenv("RS_FUZZ_BUGS");
    if (b && *b) {
        snprintf(bug_words, sizeof bug_words, "%s", b);
        int n = 0;
        for (char *save = NULL, *w = strtok_r(bug_words, ",", &save); w && n < FUZZ_MAX_BUGS;
             w = strtok_r(NULL, ",", &save))
            bugs[n++] = w;
        bugs[n] = NULL;
    }
    const char *mu = getenv("RS_FUZZ_MUTATOR");
    bytes_only = mu && strcmp(mu, "bytes") == 0;
    const char *sc = getenv("RS_FUZZ_SELFCHECK");
    selfcheck = sc && strcmp(sc, "0") != 0 && *sc;
    return 0;
}

static void die(const fuzzin *f, const char *what, const exec_result *r)
{
    fprintf(stderr, "fuzz_program: %s: verdict %s (%s): %s\n", what, verdict_name(r->verdict),
            r->check, r->message);
    if (r->thread >= 0)
        fprintf(stderr, "fuzz_program: at t%d op %lld\n", r->thread, (long long)r->op_index);
    fprintf(stderr, "fuzz_program: pct seed %llu depth %d, %zu tape switches; the program:\n",
            (unsigned long long)f->seed, f->depth, f->ntape);
    scn_print(&f->prog, stderr);
    fflush(stderr);
    abort();
}

/* One trial of the decoded input; the trace text (for the replay) is built from the tape. */
static void run_once(const fuzzin *f, char *trace, exec_result *r)
{
    exec_config cfg = {
        .mode = MODE_PCT,
        .seed = f->seed,
        .depth = f->depth,
        .replay_trace = f->ntape ? trace : NULL, /* no tape: pct alone */
        .bugs = bugs[0] ? bugs : NULL,
        .op_log = selfcheck,
        .hang_abort = true,
    };
    if (exec_run(&f->prog, &cfg, r) < 0)
        die(f, "internal error", r);
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The same switches: steps and threads, what a replay follows.  The point a switch is
 * labelled with is a name only, not part of the replay. */
static bool same_switches(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    sched_switch *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0;
    bool same = sched_trace_parse(a, &sa, &na) == 0 && sched_trace_parse(b, &sb, &nb) == 0
                && na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = sa[i].step == sb[i].step && sa[i].thread == sb[i].thread;
    free(sa);
    free(sb);
    return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzzin f;
    if (fuzzin_decode(data, size, &f) < 0)
        return 0; /* out of memory: not the input's fault */
    static sched_switch sw[FUZZIN_MAX_SWITCHES];
    for (size_t i = 0; i < f.ntape; i++)
        sw[i] = (sched_switch){.step = f.tape[i].step, .thread = f.tape[i].thread, .point = NULL};
    char *trace = sched_trace_text(sw, f.ntape);
    if (!trace) {
        fuzzin_free(&f);
        return 0;
    }
    exec_result r;
    run_once(&f, trace, &r);
    if (r.verdict == VERDICT_ERROR && strcmp(r.check, "contract") == 0) {
        /* a program outside the model's contract (a cycle left in a late root): no finding,
         * and not kept in the corpus (-1) */
        exec_result_free(&r);
        free(trace);
        fuzzin_free(&f);
        return -1;
    }
    if (r.verdict != VERDICT_PASS)
        die(&f, verdict_is_finding(r.verdict) ? "finding" : "the input could not run", &r);
    if (selfcheck) {
        exec_result r2;
        run_once(&f, trace, &r2);
        if (r2.verdict != r.verdict || strcmp(r2.check, r.check) != 0
            || !same_switches(r.trace, r2.trace) || !same_text(r.op_log, r2.op_log)) {
            fprintf(stderr, "fuzz_program: self-check: first run %s (%s), trace %s\n"
                            "  op log %s\n"
                            "fuzz_program: second run %s (%s), trace %s\n  op log %s\n",
                    verdict_name(r.verdict), r.check, r.trace ? r.trace : "-",
                    r.op_log ? r.op_log : "-", verdict_name(r2.verdict), r2.check,
                    r2.trace ? r2.trace : "-", r2.op_log ? r2.op_log : "-");
            die(&f, "self-check: the second run differs", &r2);
        }
        exec_result_free(&r2);
    }
    exec_result_free(&r);
    free(trace);
    fuzzin_free(&f);
    return 0;
}
