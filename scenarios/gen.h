/* gen.h — emission helpers shared by the scenario generators (internal to scenarios/).
 *
 * A `gen` wraps the program being built with one rng stream per program thread (stream index =
 * thread index) and one plan stream for cross-thread structure, all derived from the seed, and
 * walks every thread with prog_tstate_step as ops are added, so a generator can only append ops
 * its thread may run.  An op the state machine refuses is a generator bug: gen_op records it
 * and gen_finish then returns NULL (tests run every scenario over many seeds to catch this).
 * gen_try is for optional ops: it appends only if the state allows, silently otherwise. */
#ifndef RS_SCENARIOS_GEN_H
#define RS_SCENARIOS_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "program.h"
#include "rng.h"
#include "scenario.h"

/* the plan stream: above the thread streams, away from the harness's own */
#define GEN_STREAM_PLAN (RNG_STREAM_HARNESS + 0x5c00)

typedef struct gen {
    program *p;
    scenario_params sp;
    rng plan;                           /* cross-thread structure */
    rng r[PROG_MAX_THREADS];            /* per program thread */
    prog_tstate ts[PROG_MAX_THREADS];
    bool is_spawn[PROG_MAX_THREADS];    /* started by a spawn op */
    bool spawned[PROG_MAX_THREADS];     /* its spawn op has been emitted */
    bool joined[PROG_MAX_THREADS];      /* its join op has been emitted */
    bool failed;
    char why[192];                      /* first generator bug, for debugging */
} gen;

/* Start a program named `name` with opt.seed = seed, check_rate = check_rate and the default
 * options; t0 (main) is added.  -1 on allocation failure. */
int gen_init(gen *g, const char *name, uint64_t seed, const scenario_params *sp,
             uint32_t check_rate);
/* Add a thread; returns its index (-1 and g->failed if full). */
int gen_thread(gen *g, prog_mode mode, prog_start start);
/* Emit what makes a late/attach thread attached (a few yields, then bind or attach); nothing
 * for early/main threads. */
void gen_start(gen *g, int t);
/* Append an op (arguments as program_add_op: ints, a SITE as const char *). */
void gen_op(gen *g, int t, int op, ...);
/* Append only if thread t's state allows it; true if appended. */
bool gen_try(gen *g, int t, int op, ...);
/* Validate and hand over the program (NULL, program freed, on any failure). */
program *gen_finish(gen *g);

/* Add the sp.nthreads - 1 worker threads: modes from the plan stream (or `mode` for all, if
 * it is not PROG_MODE_MAIN); each is a 'spawn' thread with probability spawn_permille. */
void gen_add_workers(gen *g, prog_mode mode, unsigned spawn_permille);
/* The scheduling scenarios' opening: gen_init (at least 4 threads), scaled thresholds (t0
 * 200..999 from the plan stream, t1 10 — never 0, so the Ctr bound applies — t2 0) and early
 * auto workers.  -1 as gen_init. */
int gen_gc_sched_init(gen *g, const char *name, uint64_t seed, const scenario_params *sp);
/* Thread `by` spawns up to max (-1: all) spawn threads not yet spawned, lowest index first,
 * skipping itself and threads spawned later than `by` would need (any index works: spawn
 * targets are only checked for existence and uniqueness). */
void gen_spawn_pending(gen *g, int by, int max);
/* Thread `by` joins every spawned, not yet joined thread other than itself. */
void gen_join_spawned(gen *g, int by);

/* ---- randomness -------------------------------------------------------------------------- */
static inline uint32_t gen_below(gen *g, int t, uint32_t n) { return (uint32_t)rng_below(&g->r[t], n); }
static inline bool gen_chance(gen *g, int t, unsigned permille) { return rng_chance(&g->r[t], permille); }
static inline uint32_t gen_plan_below(gen *g, uint32_t n) { return (uint32_t)rng_below(&g->plan, n); }
static inline bool gen_plan_chance(gen *g, unsigned permille) { return rng_chance(&g->plan, permille); }
/* true while thread t has fewer ops than the size knob asks */
bool gen_room(const gen *g, int t);
/* a random non-main start mode (early, late or attach) from the plan stream */
prog_mode gen_plan_mode(gen *g);

/* ---- common fragments -------------------------------------------------------------------- */
/* r<dst> = a new object of a random kind among leaf, container(1..8), list, finalizable */
void gen_new_any(gen *g, int t, int dst);
/* a check point: `stw` (validators at every check_rate-th one) or, less often, `poll` */
void gen_checkpoint(gen *g, int t);
/* ensure thread t is attached (attach after a detach); no-op if it is */
void gen_ensure_attached(gen *g, int t);
/* a short detached stretch: detach, yield, attach (lets stop-the-world treat it as stopped) */
void gen_detached_pause(gen *g, int t);
/* one step of generic object churn on registers r0..r11 (new, store, load, dup, drop, send,
 * recv, root get/set, weakrefs, checkpoints) */
void gen_mix(gen *g, int t);
#define GEN_MIX_REGS 12 /* r12..r15 are left to the scenario */

/* Keep r<reg>'s object alive from a random rooted list (root_get r<tmp>, list_append, drop
 * r<tmp>): the roots must hold lists, as gc-schedule and gc-toggle set them up. */
void gen_keep_in_rooted_list(gen *g, int t, int reg, int tmp);

/* A thread that toggles the GC (gc-schedule, gc-toggle): every `stretch` ops it flips the GC's
 * state.  A disable comes right after a `stw`: a thread that polls for that pause with its
 * GC_SCHEDULED bit set suspends first and handles the bit after the restart, usually after the
 * disable (the window of gh-129533).  The next stretch is 1 + below(off_span) ops disabled, or
 * on_min + below(on_span) ops enabled. */
typedef struct gen_toggler {
    bool disabled;
    int stretch;
    uint32_t off_span, on_min, on_span;
} gen_toggler;
/* true if it emitted the flip (the caller then emits no other op this step) */
bool gen_toggle_step(gen *g, int t, gen_toggler *tg);
/* the toggler's end: enable the GC again if it left it disabled */
void gen_toggle_end(gen *g, int t, gen_toggler *tg);

#endif
