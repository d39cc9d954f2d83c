/* scenario.h — named scenario generators and their registry: the interface.
 *
 * Layering: this header belongs to the harness (it is the harness's contract for "programs by
 * name"); the scenarios layer implements it (scenarios/registry.c and one file per scenario),
 * so source dependencies still point scenarios -> harness -> runtime.  The harness (the CLI's
 * `run NAME`, `list`, and the mutant scoreboard) calls it; the implementation is linked in
 * with the refstorm binary and the tests.
 *
 * A scenario is a seeded function that builds a program (harness/program.h) aimed at one
 * runtime mechanism or historical bug.  Every scenario states its oracle: the property it
 * checks, the mutants of model.md §13 it must catch, and for each mutant the kinds of detector
 * expected to fire (habit 9).  Each scenario file owns its descriptor and scenarios/registry.c
 * is only the list of them; the CLI
 * (`refstorm list`), the mutant scoreboard and README's "Scenarios" section are produced from
 * or checked against it (habit 12).
 *
 * Determinism: a generator draws every random choice from rng streams derived from the seed
 * (harness/rng.h), so the same (name, seed, params) gives the same program byte for byte.
 * Generated programs are valid (program_validate accepts them) and carry `check_rate`, so the
 * validators run at the programs' `stw` check points.  Generators never switch mutants on:
 * the caller adds `--bug NAME` (exec_config.bugs). */
#ifndef RS_SCENARIO_H
#define RS_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "program.h"

#define SCENARIO_DEFAULT_THREADS 8  /* several times the 2 cores of the reference machine */
#define SCENARIO_MIN_THREADS 2
#define SCENARIO_DEFAULT_OPS 96     /* ops per thread (approximate: a size knob, not a count) */
#define SCENARIO_MIN_OPS 8
#define SCENARIO_MAX_OPS 100000

typedef struct scenario_params {
    int nthreads;       /* program threads, t0 included: 2..PROG_MAX_THREADS; 0 = the scenario's default */
    int ops_per_thread; /* size knob: SCENARIO_MIN_OPS..SCENARIO_MAX_OPS; 0 = SCENARIO_DEFAULT_OPS */
} scenario_params;

/* Detector kinds (model.md §13).  A target names the ones expected to catch its mutant. */
#define SCENARIO_DETECTORS(X)                                                                 \
    X(TSAN, "TSan")                                                                           \
    X(ASAN, "ASan")                                                                           \
    X(VFREE, "Vfree")                                                                         \
    X(INV, "Inv")                                                                             \
    X(RT, "RT")                                                                               \
    X(LEAK, "Leak")                                                                           \
    X(EXP, "Exp")                                                                             \
    X(CTR, "Ctr")                                                                             \
    X(HANG, "Hang")

enum scenario_detector_bit {
#define SCN_DET_BIT_(id, word) SCN_DETBIT_##id,
    SCENARIO_DETECTORS(SCN_DET_BIT_)
#undef SCN_DET_BIT_
    SCN_DETBIT__COUNT
};
#define SCN_DET_(id) (1u << SCN_DETBIT_##id)
#define SCN_TSAN SCN_DET_(TSAN)
#define SCN_ASAN SCN_DET_(ASAN)
#define SCN_VFREE SCN_DET_(VFREE)
#define SCN_INV SCN_DET_(INV)
#define SCN_RT SCN_DET_(RT)
#define SCN_LEAK SCN_DET_(LEAK)
#define SCN_EXP SCN_DET_(EXP)
#define SCN_CTR SCN_DET_(CTR)
#define SCN_HANG SCN_DET_(HANG)

typedef struct scenario_target {
    const char *mutant;  /* a model.md §13 name, e.g. "merge-request-lost" */
    unsigned detectors;  /* SCN_* bits expected to catch it in this scenario */
} scenario_target;

typedef program *(*scenario_gen_fn)(uint64_t seed, const scenario_params *p);

typedef struct scenario {
    const char *name;              /* lower-kebab, unique */
    const char *property;          /* one line: what a clean run must satisfy */
    const scenario_target *targets;
    size_t ntargets;
    int default_threads;
    scenario_gen_fn gen;           /* call through scenario_generate() */
} scenario;

/* A descriptor's targets: SCENARIO_TARGETS({"mutant", SCN_INV | SCN_RT}, ...) fills
 * .targets and .ntargets. */
#define SCENARIO_TARGETS(...)                                                                 \
    .targets = (const scenario_target[]){__VA_ARGS__},                                        \
    .ntargets = sizeof((const scenario_target[]){__VA_ARGS__}) / sizeof(scenario_target)

/* The registry, in table order. */
size_t scenario_count(void);
const scenario *scenario_at(size_t i);       /* NULL if i >= count */
const scenario *scenario_find(const char *name); /* NULL if unknown */
/* Scenarios targeting `mutant`: writes up to max of them into out (out may be NULL when max
 * is 0) and returns how many there are in all. */
size_t scenario_for_mutant(const char *mutant, const scenario **out, size_t max);
/* "TSan", "RT", ... for one bit index, NULL if out of range; and a mask as "TSan, RT" (what
 * snprintf returns). */
const char *scenario_detector_name(int bit);
int scenario_detectors_format(unsigned mask, char *buf, size_t n);

/* The scenario's README table row (Markdown, no newline):
 *   | `name` | property | `mutant` (TSan, RT), ... | default threads |
 * README.md's "Scenarios" section holds exactly these rows (tests/test_scenarios.c checks).
 * Returns what snprintf returns. */
int scenario_format_row(const scenario *s, char *buf, size_t n);

/* Fill params from s's defaults where they are 0; -1 if a value is out of range. */
int scenario_params_resolve(const scenario *s, const scenario_params *in, scenario_params *out);
/* Generate: resolves params (p may be NULL: all defaults), calls the generator.  The program
 * is malloc'd; free it with scenario_program_free.  NULL on bad params or allocation failure
 * (a generator that would emit an invalid program also returns NULL: tests catch that). */
program *scenario_generate(const scenario *s, uint64_t seed, const scenario_params *p);
void scenario_program_free(program *p);

#endif
