/* registry.c — the list of scenarios (habit 12: lists kept once) and the lookups over it.
 * Each scenario's file owns its descriptor: name, the one-line property a clean run
 * satisfies, the mutants (docs/model.md §13) it targets with the detector kinds expected to
 * catch each, its default thread count and its generator.  The CLI's `list`, the mutant
 * scoreboard (scenario_for_mutant) and README's "Scenarios" table come from here
 * (tests/test_scenarios.c checks README against it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

/* the scenarios, one file each (scenarios/<name>.c owns its descriptor), in table order */
#define SCN_LIST(X)                                                                           \
    X(creation_storm) X(cross_decref) X(merge_at_zero) X(mailbox_handoff) X(bind_race)     \
    X(breaker_signals) X(shutdown_race) X(gc_cycles) X(gc_merge_zero) X(finalizer_weakref) \
    X(stack_deferred) X(immortalize_scopes) X(heap_type_churn) X(freelist_churn)           \
    X(freelists_off) X(qsbr_resize) X(trashcan_chains) X(gc_schedule) X(gc_toggle)         \
    X(gc_alloc_failure) X(publish_race) X(gc_threshold_race)
#define SCN_DECLARE_(id) extern const scenario scn_##id;
SCN_LIST(SCN_DECLARE_)
#undef SCN_DECLARE_

#define SCN_ENTRY_(id) &scn_##id,
static const scenario *const table[] = {SCN_LIST(SCN_ENTRY_)};
#undef SCN_ENTRY_


size_t scenario_count(void) { return sizeof table / sizeof table[0]; }

const scenario *scenario_at(size_t i) { return i < scenario_count() ? table[i] : NULL; }

const scenario *scenario_find(const char *name)
{
    for (size_t i = 0; name && i < scenario_count(); i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

size_t scenario_for_mutant(const char *mutant, const scenario **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; mutant && i < scenario_count(); i++)
        for (size_t k = 0; k < table[i]->ntargets; k++)
            if (strcmp(table[i]->targets[k].mutant, mutant) == 0) {
                if (n < max)
                    out[n] = table[i];
                n++;
                break;
            }
    return n;
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
    program *prog = s->gen(seed, &r);
    /* every scenario runs half its trials (odd scheduler seeds) under torture: one BRC and
     * parking-lot bucket, one-item chunks and freelists (rs_options.torture); and its schedulers
     * act at every synchronising operation of the runtime, not only at the named points
     * (automatic points, docs/model.md §13; `--points named` turns them off) */
    if (prog) {
        prog->opt.torture = PROG_TORTURE_MIXED;
        prog->opt.auto_points = true;
    }
    return prog;
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
