/* registry.c — THE table of scenarios (habit 12: lists kept once).  One row per scenario:
 * name, the one-line property a clean run satisfies, the model.md §13 mutants it targets with the
 * detector kinds expected to catch each, its default thread count and its generator.  The
 * CLI's `list`, the mutant scoreboard (scenario_for_mutant) and README's "Scenarios" table
 * come from here (tests/test_scenarios.c checks README against it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* the generators, one file each (scenarios/<name>.c) */
#define SCN_GENERATORS(X)                                                                     \
    X(creation_storm) X(cross_decref) X(merge_at_zero) X(mailbox_handoff) X(bind_race)       \
    X(breaker_signals) X(shutdown_race) X(gc_cycles) X(gc_merge_zero) X(finalizer_weakref)   \
    X(stack_deferred) X(immortalize_scopes) X(heap_type_churn) X(freelist_churn)             \
    X(freelists_off) X(qsbr_resize) X(trashcan_chains) X(gc_schedule) X(gc_toggle)       \
    X(gc_alloc_failure)
#define SCN_DECLARE_(id) program *scn_gen_##id(uint64_t seed, const scenario_params *p);
SCN_GENERATORS(SCN_DECLARE_)
#undef SCN_DECLARE_

#define T(...) (const scenario_target[]){__VA_ARGS__}, \
    sizeof((const scenario_target[]){__VA_ARGS__}) / sizeof(scenario_target)

static const scenario table[] = {
    {"creation-storm",
     "every thread creates, shares and drops objects of every kind; RT holds at each check and shutdown leaks nothing",
     T({"reftotal-racy", SCN_TSAN | SCN_RT}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_creation_storm},
    {"cross-decref",
     "a merge-queue flood: queued objects flag their owner (E2), each queueing's +1 is taken back by the merge (RT), no leak",
     T({"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}, {"merge-request-lost", SCN_INV | SCN_CTR},
       {"reftotal-racy", SCN_TSAN | SCN_RT}),
     SCENARIO_DEFAULT_THREADS, scn_gen_cross_decref},
    {"merge-at-zero",
     "owners give objects up (merge at zero local) while others decref through the shared field; tid 0 implies merged (H1)",
     T({"tid-zero-unmerged", SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_merge_at_zero},
    {"mailbox-handoff",
     "containers handed around a ring of mailboxes keep exact counts (B1-B4, E2, RT) and nothing leaks",
     T({"merge-request-lost", SCN_INV | SCN_CTR}, {"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_mailbox_handoff},
    {"bind-race",
     "early/late/attach threads bind while others stop the world and collect; walks skip half-built heaps (G6, S1)",
     T({"bind-heap-visible-early", SCN_INV | SCN_TSAN | SCN_ASAN}),
     SCENARIO_DEFAULT_THREADS, scn_gen_bind_race},
    {"breaker-signals",
     "async exceptions and merge requests reach only their target thread (E3) and queues flag their owner (E2)",
     T({"eval-breaker-global", SCN_INV | SCN_EXP}, {"merge-request-lost", SCN_INV | SCN_CTR}),
     SCENARIO_DEFAULT_THREADS, scn_gen_breaker_signals},
    {"shutdown-race",
     "shutdown while threads run and hold deferred functions, shared lists and heap types returns reftotal 0 and no blocks",
     T({"shutdown-deferred-leak", SCN_LEAK}, {"free-delayed-ignores-shutdown", SCN_LEAK},
       {"typeid-pool-not-finalized", SCN_LEAK | SCN_ASAN}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_shutdown_race},
    {"gc-cycles",
     "cyclic garbage under churn and marking OOM is freed exactly once; no GC scratch outside STW (G1/G3/H1), no leak",
     T({"gc-untracks-zero-refcount", SCN_LEAK | SCN_EXP}, {"oom-during-gc-leaves-scratch", SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_gc_cycles},
    {"gc-merge-zero",
     "tracked objects merged to zero by the collection's queue drain are freed by it, never untracked (no leak, RT)",
     T({"gc-untracks-zero-refcount", SCN_LEAK | SCN_EXP}, {"reftotal-queue-unaccounted", SCN_RT | SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_gc_merge_zero},
    {"finalizer-weakref",
     "weakrefs are cleared before their referent dies; finalizers run once; resurrected objects stay merged (H1, H2/H5)",
     T({"worklist-plain-tid", SCN_TSAN}, {"restore-tid-outside-stw", SCN_TSAN | SCN_INV | SCN_ASAN},
       {"tid-zero-unmerged", SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_finalizer_weakref},
    {"stack-deferred",
     "deferred objects held only by frames and C stacks of other threads survive collections (D3/D4, ASan, Vfree)",
     T({"gc-skips-stacks", SCN_ASAN | SCN_VFREE | SCN_INV}, {"gc-trusts-null-stackpointer", SCN_ASAN | SCN_VFREE | SCN_INV},
       {"frames-not-zeroed", SCN_ASAN | SCN_VFREE | SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_stack_deferred},
    {"immortalize-scopes",
     "suppression scopes race thread creation: rt.immortalize matches the active suppressors, scope objects are mortal (D5)",
     T({"immortalize-suppress-race", SCN_INV | SCN_EXP | SCN_TSAN}),
     SCENARIO_DEFAULT_THREADS, scn_gen_immortalize_scopes},
    {"heap-type-churn",
     "heap-type instances churned across thread exits keep exact type counts (T1, T2, RT); the id pool is finalised",
     T({"typeid-pool-not-finalized", SCN_LEAK | SCN_ASAN}, {"reftotal-not-merged-at-exit", SCN_RT | SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_heap_type_churn},
    {"freelist-churn",
     "freelists filled past their maxima and left full at thread exit stay consistent (F1, F2) and are freed at exit",
     T({"freelist-not-cleared-at-exit", SCN_LEAK | SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_freelist_churn},
    {"freelists-off",
     "with the freelists option off every freelist stays empty (F2 sizes 0) and freed blocks are really freed",
     T({"freelist-disabled-caches", SCN_INV | SCN_LEAK | SCN_EXP}),
     SCENARIO_DEFAULT_THREADS, scn_gen_freelists_off},
    {"qsbr-resize",
     "shared list buffers replaced in storms are freed only after their QSBR goal (Q1-Q5) and all of them by shutdown",
     T({"free-delayed-ignores-shutdown", SCN_LEAK}),
     SCENARIO_DEFAULT_THREADS, scn_gen_qsbr_resize},
    {"trashcan-chains",
     "chains deeper than the trash depth are destroyed once, leaving the trashcan with tid 0 and MERGED (H1)",
     T({"tid-zero-unmerged", SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_trashcan_chains},
    {"gc-schedule",
     "HEAP collections scale with the live heap (Ctr), counts are exact (G7) and none runs after a disable (Exp)",
     T({"gc-schedule-unscaled", SCN_CTR | SCN_HANG}, {"gc-alloc-count-racy", SCN_TSAN | SCN_INV},
       {"gc-enabled-racy", SCN_TSAN}, {"gc-ignores-enabled", SCN_EXP}),
     SCENARIO_DEFAULT_THREADS, scn_gen_gc_schedule},
    {"gc-toggle",
     "the GC disabled while collections are scheduled: none starts after a disable until the next enable (Exp), enabled read atomically",
     T({"gc-ignores-enabled", SCN_EXP}, {"gc-enabled-racy", SCN_TSAN}, {"gc-alloc-count-racy", SCN_TSAN | SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_gc_toggle},
    {"gc-alloc-failure",
     "collections whose allocations fail restore the heap (G1/G3/H1) and a later collection frees the garbage",
     T({"oom-during-gc-leaves-scratch", SCN_INV}),
     SCENARIO_DEFAULT_THREADS, scn_gen_gc_alloc_failure},
};
#undef T

size_t scenario_count(void) { return sizeof table / sizeof table[0]; }

const scenario *scenario_at(size_t i) { return i < scenario_count() ? &table[i] : NULL; }

const scenario *scenario_find(const char *name)
{
    for (size_t i = 0; name && i < scenario_count(); i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

size_t scenario_for_mutant(const char *mutant, const scenario **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; mutant && i < scenario_count(); i++)
        for (size_t k = 0; k < table[i].ntargets; k++)
            if (strcmp(table[i].targets[k].mutant, mutant) == 0) {
                if (n < max)
                    out[n] = &table[i];
                n++;
                break;
            }
    return n;
}

unsigned scenario_detectors(const scenario *s)
{
    unsigned m = 0;
    for (size_t k = 0; k < s->ntargets; k++)
        m |= s->targets[k].detectors;
    return m;
}

const char *scenario_detector_name(int bit)
{
    static const char *const names[] = {
#define SCN_DET_NAME_(id, word) word,
        SCENARIO_DETECTORS(SCN_DET_NAME_)
#undef SCN_DET_NAME_
    };
    return bit >= 0 && bit < SCN_DETBIT__COUNT ? names[bit] : NULL;
}

int scenario_detectors_format(unsigned mask, char *buf, size_t n)
{
    int len = 0;
    if (n)
        buf[0] = '\0';
    for (int b = 0; b < SCN_DETBIT__COUNT; b++) {
        if (!(mask & (1u << b)))
            continue;
        size_t used = (size_t)len < n ? (size_t)len : n;
        int w = snprintf(buf + used, n - used, "%s%s", len ? ", " : "", scenario_detector_name(b));
        if (w < 0)
            return w;
        len += w;
    }
    return len;
}

int scenario_params_resolve(const scenario *s, const scenario_params *in, scenario_params *out)
{
    scenario_params r = {0, 0};
    if (in)
        r = *in;
    if (r.nthreads == 0)
        r.nthreads = s->default_threads;
    if (r.ops_per_thread == 0)
        r.ops_per_thread = SCENARIO_DEFAULT_OPS;
    if (r.nthreads < SCENARIO_MIN_THREADS || r.nthreads > PROG_MAX_THREADS ||
        r.ops_per_thread < SCENARIO_MIN_OPS || r.ops_per_thread > SCENARIO_MAX_OPS)
        return -1;
    *out = r;
    return 0;
}

program *scenario_generate(const scenario *s, uint64_t seed, const scenario_params *p)
{
    scenario_params r;
    if (!s || scenario_params_resolve(s, p, &r) < 0)
        return NULL;
    return s->gen(seed, &r);
}

void scenario_program_free(program *p)
{
    if (!p)
        return;
    program_free(p);
    free(p);
}

int scenario_format_row(const scenario *s, char *buf, size_t n)
{
    char targets[512], det[96];
    size_t used = 0;
    targets[0] = '\0';
    for (size_t k = 0; k < s->ntargets; k++) {
        scenario_detectors_format(s->targets[k].detectors, det, sizeof det);
        int w = snprintf(targets + used, sizeof targets - used, "%s`%s` (%s)", k ? ", " : "",
                         s->targets[k].mutant, det);
        if (w < 0 || (size_t)w >= sizeof targets - used)
            break;
        used += (size_t)w;
    }
    return snprintf(buf, n, "| `%s` | %s | %s | %d |", s->name, s->property, targets,
                    s->default_threads);
}
