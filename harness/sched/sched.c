/* sched.c — the scheduler registry and the part every mode shares.
 *
 * sched_create looks the mode up in one table (sched_modes[], also the source of --help),
 * applies the parameter defaults and lets the mode build its struct, whose first member is
 * the common `struct sched`.  The common part holds the per-thread done words (the join),
 * the relaxed start gate of the free-running modes, the thread-local "which program thread
 * am I" record the hooks use to find their caller, the result accessors and the trace text
 * format.  Nothing here synchronises program threads with each other except the join
 * (release in sched_done_mark, acquire in sched_done_is_set), which models a real join. */
#include "scheduler.h"

#include "rs/fatal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one implementation per row of base/modes.def, in its order (checked in sched_create) */
static const sched_ops *const sched_modes[MODE__COUNT] = {
    [MODE_FREE] = &sched_free_ops, [MODE_CHAOS] = &sched_chaos_ops, [MODE_PCT] = &sched_pct_ops};

/* ---- creation ---- */

static int sched_params_normalise(sched_params *p)
{
    if (p->nthreads < 1 || p->nthreads > SCHED_MAX_THREADS)
        return -1;
    if (p->depth < 0 || p->max_steps_hint < 0 || p->pin_cpu < SCHED_CPU_NONE)
        return -1;
    if (p->replay_len && !p->replay_trace)
        return -1;
    if (p->depth == 0)
        p->depth = SCHED_PCT_DEFAULT_DEPTH;
    if (p->max_steps_hint == 0)
        p->max_steps_hint = SCHED_PCT_DEFAULT_STEPS;
    if (p->chaos_permille == 0)
        p->chaos_permille = SCHED_CHAOS_DEFAULT_PERMILLE;
    if (p->chaos_permille > 1000)
        p->chaos_permille = 1000;
    if (p->chaos_site_permille == 0)
        p->chaos_site_permille = SCHED_CHAOS_DEFAULT_SITE_PERMILLE;
    if (p->chaos_site_permille > 1000)
        p->chaos_site_permille = 1000;
    if (p->chaos_max_delay_ns == 0)
        p->chaos_max_delay_ns = SCHED_CHAOS_DEFAULT_MAX_NS;
    if (p->chaos_max_delay_ns > SCHED_CHAOS_LIMIT_NS)
        p->chaos_max_delay_ns = SCHED_CHAOS_LIMIT_NS;
    return 0;
}

sched *sched_create(run_mode mode, const sched_params *params)
{
    if ((unsigned)mode >= MODE__COUNT || !params || !sched_modes[mode] ||
        sched_modes[mode]->mode != mode)
        return NULL;
    sched_params p = *params;
    if (sched_params_normalise(&p) < 0)
        return NULL;
    return sched_modes[mode]->create(&p);
}

int sched_base_init(sched *s, const sched_ops *ops, const sched_params *p)
{
    s->ops = ops;
    s->p = *p;
    s->done = calloc((size_t)p->nthreads, sizeof *s->done);
    if (!s->done)
        return -1;
    rs_atomic_store_relaxed_u32(&s->deadlocked, 0);
    rs_atomic_store_relaxed_u32(&s->gate, 0);
    s->trace = NULL;
    s->trace_len = 0;
    s->stats = (sched_stats){0};
    s->replay_diverged = false;
    s->diverge_step = 0;
    return 0;
}

void sched_base_fini(sched *s)
{
    free(s->done);
    free(s->trace);
}

void sched_destroy(sched *s)
{
    if (s)
        s->ops->destroy(s);
}

run_mode sched_mode(const sched *s) { return s->ops->mode; }
const sched_params *sched_params_of(const sched *s) { return &s->p; }

/* ---- hooks ---- */

static bool sched_fault_forward(void *ctx, const char *site)
{
    sched *s = ctx;
    return s->p.fault(s->p.fault_ctx, site);
}

void sched_install(sched *s)
{
    rs_hooks h = {.ctx = s};
    s->ops->fill_hooks(s, &h);
    if (s->p.fault)
        h.fault = sched_fault_forward;
    rs_hooks_install(&h);
}

void sched_uninstall(sched *s)
{
    (void)s;
    rs_hooks_install(NULL);
}

/* ---- which program thread am I ---- */

_Thread_local sched_self_slot sched_self = {NULL, -1};

void sched_self_set(sched *s, int idx)
{
    sched_self.s = s;
    sched_self.idx = idx;
}

void sched_self_clear(void)
{
    sched_self.s = NULL;
    sched_self.idx = -1;
}


/* ---- begin / end / start / join ---- */

static bool sched_idx_ok(const sched *s, int idx) { return idx >= 0 && idx < s->p.nthreads; }

void sched_thread_begin(sched *s, int idx)
{
    if (!sched_idx_ok(s, idx))
        rs_fatal("sched_thread_begin: thread index out of range", NULL);
    s->ops->thread_begin(s, idx);
}

void sched_thread_end(sched *s, int idx)
{
    if (!sched_idx_ok(s, idx) || sched_self_index(s) != idx)
        rs_fatal("sched_thread_end: not called by the program thread that began", NULL);
    s->ops->thread_end(s, idx);
}

void sched_start(sched *s) { s->ops->start(s); }

void sched_done_mark(sched *s, int idx)
{
    /* release: pairs with the acquire load in sched_done_is_set (the joiner) */
    rs_atomic_store_release_u32(&s->done[idx], 1);
    rs_futex_wake((uint32_t *)&s->done[idx], INT32_MAX);
}

bool sched_done_is_set(const sched *s, int idx)
{
    /* acquire: pairs with the release store in sched_done_mark (the ending thread) */
    return rs_atomic_load_acquire_u32(&s->done[idx]) != 0;
}

int sched_join_wait(sched *s, int idx)
{
    if (!sched_idx_ok(s, idx))
        return -1;
    if (sched_self_index(s) >= 0 && s->ops->join_wait_program)
        return s->ops->join_wait_program(s, idx);
    while (!sched_done_is_set(s, idx))
        rs_futex_wait((uint32_t *)&s->done[idx], 0, -1);
    return 0;
}

void sched_gate_open(sched *s) { rs_atomic_store_relaxed_u32(&s->gate, 1); }

void sched_gate_wait(sched *s)
{
    /* relaxed on purpose: the gate must not order anything for TSan (free mode, scheduler.h) */
    while (rs_atomic_load_relaxed_u32(&s->gate) == 0)
        sched_yield();
}

/* ---- results ---- */

bool sched_deadlocked(const sched *s) { return rs_atomic_load_relaxed_u32(&s->deadlocked) != 0; }

static void sched_collect(sched *s)
{
    if (s->ops->collect)
        s->ops->collect(s);
}

const sched_switch *sched_trace(sched *s, size_t *len)
{
    sched_collect(s);
    if (len)
        *len = s->trace_len;
    return s->trace;
}

void sched_get_stats(sched *s, sched_stats *out)
{
    sched_collect(s);
    *out = s->stats;
}

bool sched_replay_diverged(sched *s, uint64_t *step)
{
    sched_collect(s);
    if (step)
        *step = s->diverge_step;
    return s->replay_diverged;
}

/* ---- trace text ---- */

size_t sched_trace_format(const sched_switch *t, size_t len, char *buf, size_t cap)
{
    size_t need = 0;
    if (buf && cap > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < len; i++) {
        bool room = buf && need < cap;
        const char *pt = t[i].point;
        int k = snprintf(room ? buf + need : NULL, room ? cap - need : 0, "%s%u:%d%s",
                         i ? " " : "", (unsigned)t[i].step, (int)t[i].thread, pt ? "@" : "");
        if (k > 0)
            need += (size_t)k;
        /* an automatic point's name has spaces ("runtime/stw.c:84 load relaxed"): written
         * with '_' so that a switch stays one space-separated token for the parser */
        for (const char *c = pt; c && *c; c++, need++)
            if (buf && need + 1 < cap) {
                buf[need] = *c == ' ' ? '_' : *c;
                buf[need + 1] = '\0';
            }
    }
    return need;
}

char *sched_trace_text(const sched_switch *t, size_t len)
{
    size_t need = sched_trace_format(t, len, NULL, 0) + 1;
    char *buf = malloc(need);
    if (buf)
        sched_trace_format(t, len, buf, need);
    return buf;
}

int sched_trace_parse(const char *text, sched_switch **out, size_t *len)
{
    size_t cap = 16, n = 0;
    sched_switch *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    const char *c = text;
    for (;;) {
        while (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r')
            c++;
        if (!*c)
            break;
        char *end;
        errno = 0;
        unsigned long step = strtoul(c, &end, 10);
        if (end == c || *end != ':' || errno || step > UINT32_MAX)
            goto bad;
        c = end + 1;
        long th = strtol(c, &end, 10);
        if (end == c || errno || th < 0 || th >= SCHED_MAX_THREADS)
            goto bad;
        c = end;
        if (*c == '@')
            while (*c && *c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
                c++;
        else if (*c && *c != ' ' && *c != '\t' && *c != '\n' && *c != '\r')
            goto bad;
        if (n > 0 && step <= v[n - 1].step)
            goto bad; /* steps strictly increase */
        if (n == cap) {
            sched_switch *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv)
                goto bad;
            v = nv;
            cap *= 2;
        }
        v[n++] = (sched_switch){.step = (uint32_t)step, .thread = (int32_t)th, .point = NULL};
    }
    *out = v;
    *len = n;
    return 0;
bad:
    free(v);
    return -1;
}
