/* gen.c — emission helpers shared by the scenario generators: the program under construction,
 * its seeded rng streams, and a per-thread state walk (prog_tstate_step) that keeps every
 * appended op valid.  See gen.h. */
#include "gen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gen_init(gen *g, const char *name, uint64_t seed, const scenario_params *sp,
             uint32_t check_rate)
{
    memset(g, 0, sizeof *g);
    g->p = malloc(sizeof *g->p);
    if (!g->p)
        return -1;
    program_init(g->p);
    g->sp = *sp;
    rng_seed(&g->plan, seed, GEN_STREAM_PLAN);
    for (int t = 0; t < PROG_MAX_THREADS; t++)
        rng_seed(&g->r[t], seed, (uint64_t)t);
    g->p->opt.seed = seed;
    /* The validators walk every heap, which grows with the threads, at every check_rate-th
     * pause, and the pauses grow with the threads too: past the default thread count they run
     * at proportionally fewer pauses, so checking costs the same per op at 64 threads as at 8
     * (issue 15's stop-the-world scaling; programs of up to 8 threads are unchanged) */
    int nthreads = sp->nthreads ? sp->nthreads : SCENARIO_DEFAULT_THREADS;
    uint32_t scale = (uint32_t)((nthreads + SCENARIO_DEFAULT_THREADS - 1) / SCENARIO_DEFAULT_THREADS);
    g->p->opt.check_rate = check_rate * scale;
    /* big programs on slow (TSan) builds need more than the default 10 s watchdog */
    g->p->opt.timeout_ms = 60000;
    if (program_set_name(g->p, name) < 0 || gen_thread(g, PROG_MODE_MAIN, PROG_START_AUTO) != 0) {
        program_free(g->p);
        free(g->p);
        g->p = NULL;
        return -1;
    }
    return 0;
}

int gen_thread(gen *g, prog_mode mode, prog_start start)
{
    int t = program_add_thread(g->p, mode, start);
    if (t < 0) {
        if (!g->failed)
            snprintf(g->why, sizeof g->why, "cannot add thread %u", g->p->nthreads);
        g->failed = true;
        return -1;
    }
    prog_tstate_init(&g->ts[t], t, mode);
    return t;
}

/* Collect the variadic arguments of `op` (ints, a SITE as const char *) and append the op if
 * thread t's state allows it.  Returns 0, or -1 with msg set. */
static int append_v(gen *g, int t, int op, va_list ap, char *msg, size_t n)
{
    const prog_opinfo *info = prog_op_info(op);
    if (!info || t < 0 || (uint32_t)t >= g->p->nthreads) {
        snprintf(msg, n, "bad op %d or thread %d", op, t);
        return -1;
    }
    prog_op o;
    memset(&o, 0, sizeof o);
    o.code = (uint16_t)op;
    const char *site = NULL;
    for (int i = 0; i < info->nargs; i++) {
        if (info->arg[i].kind == PROG_ARG_SITE)
            site = va_arg(ap, const char *);
        else
            o.arg[i] = va_arg(ap, int);
    }
    o.str = (char *)site; /* borrowed for the state step only */
    prog_tstate next = g->ts[t];
    if (prog_tstate_step(&next, &o, msg, n) < 0)
        return -1;
    if (program_add_op_a(g->p, t, op, o.arg, site) < 0) {
        snprintf(msg, n, "%s: argument out of range or program full", info->name);
        return -1;
    }
    g->ts[t] = next;
    return 0;
}

void gen_op(gen *g, int t, int op, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, op);
    int rc = append_v(g, t, op, ap, msg, sizeof msg);
    va_end(ap);
    if (rc < 0 && !g->failed) {
        g->failed = true;
        snprintf(g->why, sizeof g->why, "t%d op %u: %s", t,
                 t >= 0 && (uint32_t)t < g->p->nthreads ? g->p->thread[t].nops : 0, msg);
    }
}

bool gen_try(gen *g, int t, int op, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, op);
    int rc = append_v(g, t, op, ap, msg, sizeof msg);
    va_end(ap);
    return rc == 0;
}

program *gen_finish(gen *g)
{
    prog_error err;
    program *p = g->p;
    g->p = NULL;
    if (!p)
        return NULL;
    if (g->failed || program_validate(p, &err) < 0) {
        if (getenv("REFSTORM_GEN_DEBUG"))
            fprintf(stderr, "scenario %s: %s\n", p->name ? p->name : "?",
                    g->failed ? g->why : err.message);
        program_free(p);
        free(p);
        return NULL;
    }
    return p;
}

bool gen_room(const gen *g, int t)
{
    return g->p->thread[t].nops < (uint32_t)g->sp.ops_per_thread;
}

prog_mode gen_plan_mode(gen *g)
{
    static const prog_mode modes[] = {PROG_MODE_EARLY, PROG_MODE_LATE, PROG_MODE_ATTACH};
    return modes[gen_plan_below(g, 3)];
}

void gen_start(gen *g, int t)
{
    if (g->ts[t].state != PROG_TS_UNBOUND)
        return;
    for (uint32_t i = gen_below(g, t, 3); i > 0; i--)
        gen_op(g, t, PROG_OP_YIELD);
    gen_op(g, t, g->ts[t].mode == PROG_MODE_LATE ? PROG_OP_BIND : PROG_OP_ATTACH);
}

void gen_new_any(gen *g, int t, int dst)
{
    switch (gen_below(g, t, 5)) {
    case 0: gen_op(g, t, PROG_OP_NEW_LEAF, dst); break;
    case 1:
    case 2: gen_op(g, t, PROG_OP_NEW_CONTAINER, dst, 1 + (int)gen_below(g, t, 8)); break;
    case 3: gen_op(g, t, PROG_OP_NEW_LIST, dst); break;
    default:
        gen_op(g, t, PROG_OP_NEW_FINALIZABLE, dst, (int)gen_below(g, t, 4), PROG_FIN_NONE);
        break;
    }
}

void gen_checkpoint(gen *g, int t)
{
    gen_ensure_attached(g, t);
    gen_op(g, t, gen_chance(g, t, 750) ? PROG_OP_STW : PROG_OP_POLL);
}

void gen_ensure_attached(gen *g, int t)
{
    if (g->ts[t].state == PROG_TS_UNBOUND)
        gen_start(g, t);
    else if (g->ts[t].state == PROG_TS_DETACHED)
        gen_op(g, t, PROG_OP_ATTACH);
}

void gen_detached_pause(gen *g, int t)
{
    gen_ensure_attached(g, t);
    gen_op(g, t, PROG_OP_DETACH);
    gen_op(g, t, PROG_OP_YIELD);
    gen_op(g, t, PROG_OP_ATTACH);
}

int gen_gc_sched_init(gen *g, const char *name, uint64_t seed, const scenario_params *sp)
{
    if (gen_init(g, name, seed, sp, 4) < 0)
        return -1;
    g->p->opt.gc_threshold[0] = 200 + gen_plan_below(g, 800);
    g->p->opt.gc_threshold[1] = 10;
    g->p->opt.gc_threshold[2] = 0;
    gen_add_workers(g, PROG_MODE_EARLY, 0);
    return 0;
}

void gen_add_workers(gen *g, prog_mode mode, unsigned spawn_permille)
{
    for (int i = 1; i < g->sp.nthreads; i++) {
        prog_mode m = mode == PROG_MODE_MAIN ? gen_plan_mode(g) : mode;
        bool sp = gen_plan_chance(g, spawn_permille);
        int t = gen_thread(g, m, sp ? PROG_START_SPAWN : PROG_START_AUTO);
        if (t < 0)
            return;
        g->is_spawn[t] = sp;
    }
}

void gen_spawn_pending(gen *g, int by, int max)
{
    for (uint32_t t = 1; t < g->p->nthreads && max != 0; t++) {
        if (!g->is_spawn[t] || g->spawned[t] || (int)t == by)
            continue;
        gen_ensure_attached(g, by);
        gen_op(g, by, PROG_OP_SPAWN, (int)t);
        g->spawned[t] = true;
        if (max > 0)
            max--;
    }
}

void gen_join_spawned(gen *g, int by)
{
    for (uint32_t t = 1; t < g->p->nthreads; t++) {
        if (!g->spawned[t] || g->joined[t] || (int)t == by)
            continue;
        gen_op(g, by, PROG_OP_JOIN, (int)t);
        g->joined[t] = true;
    }
}

void gen_mix(gen *g, int t)
{
    gen_ensure_attached(g, t);
    int a = (int)gen_below(g, t, GEN_MIX_REGS), b = (int)gen_below(g, t, GEN_MIX_REGS);
    int slot = (int)gen_below(g, t, PROG_NSLOTS), mb = (int)gen_below(g, t, PROG_NMAILBOXES);
    switch (gen_below(g, t, 16)) {
    case 0: case 1: case 2: gen_new_any(g, t, a); break;
    case 3: case 4: gen_op(g, t, PROG_OP_STORE, a, slot, b); break;
    case 5: gen_op(g, t, PROG_OP_LOAD, a, b, slot); break;
    case 6: gen_op(g, t, PROG_OP_DUP, a, b); break;
    case 7: case 8: gen_op(g, t, PROG_OP_DROP, a); break;
    case 9: gen_op(g, t, PROG_OP_SEND, mb, a); break;
    case 10: gen_op(g, t, PROG_OP_RECV, a, mb); break;
    case 11: gen_op(g, t, PROG_OP_ROOT_SET, (int)gen_below(g, t, PROG_NROOTS), a); break;
    case 12: gen_op(g, t, PROG_OP_ROOT_GET, a, (int)gen_below(g, t, PROG_NROOTS)); break;
    case 13: gen_op(g, t, PROG_OP_LIST_APPEND, a, b); break;
    case 14:
        if (gen_chance(g, t, 500))
            gen_op(g, t, PROG_OP_NEW_WEAKREF, a, b, (int)gen_below(g, t, 2));
        else
            gen_op(g, t, PROG_OP_WEAKREF_GET, a, b);
        break;
    default: gen_checkpoint(g, t); break;
    }
}

bool gen_toggle_step(gen *g, int t, gen_toggler *tg)
{
    if (tg->stretch-- > 0)
        return false;
    if (!tg->disabled)
        gen_op(g, t, PROG_OP_STW);
    gen_op(g, t, tg->disabled ? PROG_OP_GC_ENABLE : PROG_OP_GC_DISABLE);
    tg->disabled = !tg->disabled;
    tg->stretch = tg->disabled ? 1 + (int)gen_below(g, t, tg->off_span)
                               : (int)tg->on_min + (int)gen_below(g, t, tg->on_span);
    return true;
}

void gen_toggle_end(gen *g, int t, gen_toggler *tg)
{
    if (tg->disabled)
        gen_op(g, t, PROG_OP_GC_ENABLE);
    tg->disabled = false;
}

void gen_keep_in_rooted_list(gen *g, int t, int reg, int tmp)
{
    gen_op(g, t, PROG_OP_ROOT_GET, tmp, (int)gen_below(g, t, PROG_NROOTS));
    gen_op(g, t, PROG_OP_LIST_APPEND, tmp, reg);
    gen_op(g, t, PROG_OP_DROP, tmp);
}
