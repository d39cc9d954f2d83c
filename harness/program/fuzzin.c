/* fuzzin.c — fuzz input bytes ⇄ a program and its schedule tape (see fuzzin.h). */
#include "fuzzin.h"

#include <stdbool.h>
#include <string.h>

#include "rs/debug.h"

/* ---- the fuzzable ops: every row of ops.def but `spin` ---- */

static int nops_cache = -1;
static int ops_cache[PROG_OP__COUNT];

static void ops_init(void)
{
    if (nops_cache >= 0)
        return;
    int n = 0;
    for (int op = 0; op < PROG_OP__COUNT; op++)
        if (op != PROG_OP_SPIN)
            ops_cache[n++] = op;
    nops_cache = n;
}

int fuzzin_nops(void)
{
    ops_init();
    return nops_cache;
}

int fuzzin_op(int i)
{
    ops_init();
    return i >= 0 && i < nops_cache ? ops_cache[i] : -1;
}

static int row_of(int op)
{
    ops_init();
    for (int i = 0; i < nops_cache; i++)
        if (ops_cache[i] == op)
            return i;
    return -1;
}

/* How many values an argument of this kind can take (its byte is reduced modulo this), and
 * the value of byte b. */
static uint32_t arg_span(const prog_argspec *a, uint32_t nthreads)
{
    int words = 0;
    switch (a->kind) {
    case PROG_ARG_REG: return PROG_NREGS;
    case PROG_ARG_SLOT: return PROG_NSLOTS;
    case PROG_ARG_MBOX: return PROG_NMAILBOXES;
    case PROG_ARG_ROOT: return PROG_NROOTS;
    case PROG_ARG_LROOT: return PROG_NLATE_ROOTS;
    case PROG_ARG_THR: return nthreads;
    case PROG_ARG_ENUM: (void)prog_enum_words(a->set, &words); return (uint32_t)words;
    case PROG_ARG_SITE: return (uint32_t)rs_fault_site_count();
    case PROG_ARG_INT: {
        uint64_t span = (uint64_t)((int64_t)a->hi - a->lo + 1);
        return span < FUZZIN_INT_SPAN ? (uint32_t)span : FUZZIN_INT_SPAN;
    }
    default: return 1;
    }
}

static int32_t arg_value(const prog_argspec *a, uint32_t span, uint8_t b)
{
    uint32_t v = span ? b % span : 0;
    return a->kind == PROG_ARG_INT ? a->lo + (int32_t)v : (int32_t)v;
}

/* The byte that encodes value v (clamped into the span), the inverse of arg_value. */
static uint8_t arg_byte(const prog_argspec *a, uint32_t span, int32_t v, const char *site)
{
    int64_t x = v;
    if (a->kind == PROG_ARG_SITE) {
        int i = site ? rs_fault_site_find(site) : -1;
        x = i < 0 ? 0 : i; /* a "prefix.*" site is not in the table: its first site instead */
    } else if (a->kind == PROG_ARG_INT) {
        x = (int64_t)v - a->lo;
    }
    if (x < 0)
        x = 0;
    if (span && x >= (int64_t)span)
        x = span - 1;
    return (uint8_t)x;
}

/* ---- decoding ---- */

typedef struct reader {
    const uint8_t *d;
    size_t pos, end;
} reader;

static uint8_t rd(reader *r)
{
    return r->pos < r->end ? r->d[r->pos++] : 0;
}

static void decode_header(reader *r, fuzzin *f, prog_mode *mode, prog_start *start)
{
    program *p = &f->prog;
    uint32_t nthreads = FUZZIN_MIN_THREADS
                        + rd(r) % (FUZZIN_MAX_THREADS - FUZZIN_MIN_THREADS + 1);
    uint8_t bits = rd(r);
    p->opt.gc_enabled = !(bits & 1);
    p->opt.freelists = !(bits & 2);
    p->opt.immortalize_deferred = !(bits & 4);
    p->opt.torture = bits & 8 ? PROG_TORTURE_ON : PROG_TORTURE_OFF;
    p->opt.auto_points = (bits & 16) != 0;
    p->opt.gc_threshold[0] = rd(r);
    p->opt.trash_depth = 1 + rd(r) % 64;
    f->seed = rd(r);
    f->depth = 1 + rd(r) % 4;
    p->opt.seed = f->seed;
    p->opt.check_rate = 1;
    p->opt.validate = true;
    p->opt.timeout_ms = FUZZIN_TIMEOUT_MS;
    mode[0] = PROG_MODE_MAIN;
    start[0] = PROG_START_AUTO;
    for (uint32_t t = 1; t < nthreads; t++) {
        uint8_t b = rd(r);
        mode[t] = (prog_mode)(PROG_MODE_EARLY + (b & 0x7f) % 3);
        start[t] = b & 0x80 ? PROG_START_SPAWN : PROG_START_AUTO;
    }
    p->nthreads = nthreads; /* threads are added after the body: starts may change */
}

typedef struct body_state {
    prog_tstate ts[FUZZIN_MAX_THREADS];
    bool spawned[FUZZIN_MAX_THREADS], joined[FUZZIN_MAX_THREADS];
    bool spawned_by_me[FUZZIN_MAX_THREADS][FUZZIN_MAX_THREADS];
} body_state;

/* The threads a spawn (or join) by thread t may name at this point: 'spawn' threads above t
 * not spawned yet (threads t spawned and has not joined).  A spawn's or join's thread byte
 * picks one of these, so the decoder does not waste them on threads it would refuse. */
static int candidates(const body_state *bs, const prog_start *start, uint32_t nthreads,
                      uint32_t t, int code, int *out)
{
    int n = 0;
    for (uint32_t j = 1; j < nthreads; j++) {
        bool ok = code == PROG_OP_SPAWN
                      ? j > t && start[j] == PROG_START_SPAWN && !bs->spawned[j]
                      : bs->spawned_by_me[t][j] && !bs->joined[j];
        if (ok)
            out[n++] = (int)j;
    }
    return n;
}

/* Whether op (arguments in range) may follow in thread t; if so the state moves on. */
static bool accept(body_state *bs, uint32_t t, const prog_op *op)
{
    char msg[160];
    prog_tstate save = bs->ts[t];
    if (prog_tstate_step(&bs->ts[t], op, msg, sizeof msg) < 0) {
        bs->ts[t] = save;
        return false;
    }
    if (op->code == PROG_OP_SPAWN)
        bs->spawned[op->arg[0]] = bs->spawned_by_me[t][op->arg[0]] = true;
    if (op->code == PROG_OP_JOIN)
        bs->joined[op->arg[0]] = true;
    return true;
}

/* The op that attaches a thread in this state (bind, attach), or -1 if it is attached or
 * ended. */
static int fix_attach(const prog_tstate *ts)
{
    if (ts->state == PROG_TS_UNBOUND)
        return ts->mode == PROG_MODE_LATE ? PROG_OP_BIND : PROG_OP_ATTACH;
    return ts->state == PROG_TS_DETACHED ? PROG_OP_ATTACH : -1;
}

static bool spawn_or_join(int code)
{
    return code == PROG_OP_SPAWN || code == PROG_OP_JOIN;
}

static void body_init(body_state *bs, const prog_mode *mode, uint32_t nthreads)
{
    memset(bs, 0, sizeof *bs);
    for (uint32_t t = 0; t < nthreads; t++)
        prog_tstate_init(&bs->ts[t], (int)t, mode[t]);
}

/* Ops are collected per thread first (threads are added once their start is final). */
typedef struct pending {
    prog_op op[FUZZIN_MAX_OPS];
    uint8_t thread[FUZZIN_MAX_OPS];
    uint32_t n;
} pending;

static void decode_body(reader *r, fuzzin *f, const prog_mode *mode, const prog_start *start,
                        pending *pd)
{
    uint32_t nthreads = f->prog.nthreads;
    static body_state bs; /* large; the decoder is not reentrant (one input at a time) */
    body_init(&bs, mode, nthreads);
    while (r->pos < r->end) {
        uint32_t t = rd(r) % nthreads;
        if (r->pos >= r->end)
            break;
        int code = fuzzin_op(rd(r) % fuzzin_nops());
        const prog_opinfo *o = prog_op_info(code);
        if (r->end - r->pos < (size_t)o->nargs) {
            r->pos = r->end; /* cut off by the end of the body */
            break;
        }
        prog_op op = {.code = (uint16_t)code};
        for (int i = 0; i < o->nargs; i++)
            op.arg[i] = arg_value(&o->arg[i], arg_span(&o->arg[i], nthreads), rd(r));
        bool ok = pd->n < FUZZIN_MAX_OPS;
        if (ok && spawn_or_join(code)) {
            int cand[FUZZIN_MAX_THREADS];
            int nc = candidates(&bs, start, nthreads, t, code, cand);
            ok = nc > 0;
            if (ok)
                op.arg[0] = cand[op.arg[0] % nc];
        }
        if (ok && prog_op_info(code)->need == PROG_NEED_ATT) {
            /* an op that needs the thread attached, in a thread that is not: the decoder
             * first binds or attaches it (an explicit op of the program, so the encoding
             * of the result holds it and decodes the same) */
            int fix = fix_attach(&bs.ts[t]);
            prog_op fop = {.code = (uint16_t)fix};
            if (fix >= 0 && pd->n + 1 < FUZZIN_MAX_OPS && accept(&bs, t, &fop)) {
                pd->thread[pd->n] = (uint8_t)t;
                pd->op[pd->n++] = fop;
            }
        }
        if (!ok || !accept(&bs, t, &op)) {
            f->skipped++;
            continue;
        }
        pd->thread[pd->n] = (uint8_t)t;
        pd->op[pd->n++] = op;
    }
}

static void decode_tape(const uint8_t *d, size_t lo, size_t hi, fuzzin *f)
{
    uint64_t step = 0;
    bool first = true;
    for (size_t i = lo; i + 1 < hi && f->ntape < FUZZIN_MAX_SWITCHES; i += 2) {
        step += (uint64_t)d[i] + (first ? 0 : 1);
        first = false;
        if (step > UINT32_MAX)
            break;
        f->tape[f->ntape].step = (uint32_t)step;
        f->tape[f->ntape].thread = (int32_t)(d[i + 1] % f->prog.nthreads);
        f->ntape++;
    }
}

int fuzzin_decode(const uint8_t *data, size_t size, fuzzin *f)
{
    memset(f, 0, sizeof *f);
    program_init(&f->prog);
    reader r = {data, 0, size};
    prog_mode mode[FUZZIN_MAX_THREADS];
    prog_start start[FUZZIN_MAX_THREADS];
    decode_header(&r, f, mode, start);
    size_t body_end = size > r.pos ? size : r.pos;
    if (size >= r.pos + 2) {
        size_t len = (size_t)data[size - 2] | (size_t)data[size - 1] << 8;
        size_t room = size - 2 - r.pos;
        if (len > room)
            len = room;
        body_end = size - 2 - len;
        decode_tape(data, body_end, size - 2, f);
    }
    r.end = body_end > r.pos ? body_end : r.pos;
    static pending pd; /* not reentrant, like the body state */
    pd.n = 0;
    decode_body(&r, f, mode, start, &pd);
    /* a 'spawn' thread nothing spawned starts with the program instead */
    bool spawned[FUZZIN_MAX_THREADS] = {false};
    for (uint32_t i = 0; i < pd.n; i++)
        if (pd.op[i].code == PROG_OP_SPAWN)
            spawned[pd.op[i].arg[0]] = true;
    uint32_t nthreads = f->prog.nthreads;
    f->prog.nthreads = 0;
    if (program_set_name(&f->prog, "fuzz") < 0)
        goto oom;
    for (uint32_t t = 0; t < nthreads; t++)
        if (program_add_thread(&f->prog, mode[t], spawned[t] ? PROG_START_SPAWN : PROG_START_AUTO)
            < 0)
            goto oom;
    for (uint32_t i = 0; i < pd.n; i++) {
        const prog_op *op = &pd.op[i];
        const char *site = NULL;
        const prog_opinfo *o = prog_op_info(op->code);
        for (int a = 0; a < o->nargs; a++)
            if (o->arg[a].kind == PROG_ARG_SITE)
                site = rs_fault_site_name((size_t)op->arg[a]);
        int32_t args[PROG_MAX_ARGS];
        for (int a = 0; a < PROG_MAX_ARGS; a++)
            args[a] = o->arg[a].kind == PROG_ARG_SITE ? 0 : op->arg[a];
        if (program_add_op_a(&f->prog, pd.thread[i], op->code, args, site) < 0)
            goto oom;
    }
    return 0;
oom:
    fuzzin_free(f);
    return -1;
}

void fuzzin_free(fuzzin *f)
{
    program_free(&f->prog);
    f->ntape = 0;
}

/* ---- encoding ---- */

typedef struct writer {
    uint8_t *buf;
    size_t len, cap;
} writer;

static void wr(writer *w, uint8_t b)
{
    if (w->len < w->cap)
        w->buf[w->len] = b;
    w->len++;
}

size_t fuzzin_encode(const fuzzin *f, uint8_t *buf, size_t cap)
{
    const program *p = &f->prog;
    writer w = {buf, 0, cap};
    uint32_t nthreads = p->nthreads;
    if (nthreads < FUZZIN_MIN_THREADS)
        nthreads = FUZZIN_MIN_THREADS;
    if (nthreads > FUZZIN_MAX_THREADS)
        nthreads = FUZZIN_MAX_THREADS;
    wr(&w, (uint8_t)(nthreads - FUZZIN_MIN_THREADS));
    wr(&w, (uint8_t)((p->opt.gc_enabled ? 0 : 1) | (p->opt.freelists ? 0 : 2)
                     | (p->opt.immortalize_deferred ? 0 : 4)
                     | (p->opt.torture != PROG_TORTURE_OFF ? 8 : 0) | (p->opt.auto_points ? 16 : 0)));
    wr(&w, (uint8_t)(p->opt.gc_threshold[0] > 255 ? 255 : p->opt.gc_threshold[0]));
    wr(&w, (uint8_t)((p->opt.trash_depth > 64 ? 64 : p->opt.trash_depth ? p->opt.trash_depth : 1) - 1));
    wr(&w, (uint8_t)f->seed);
    wr(&w, (uint8_t)((f->depth >= 1 && f->depth <= 4 ? f->depth : 3) - 1));
    for (uint32_t t = 1; t < nthreads; t++) {
        const prog_thread *th = t < p->nthreads ? &p->thread[t] : NULL;
        uint8_t m = th && th->mode >= PROG_MODE_EARLY ? (uint8_t)(th->mode - PROG_MODE_EARLY) : 0;
        wr(&w, (uint8_t)(m | (th && th->start == PROG_START_SPAWN ? 0x80 : 0)));
    }
    /* ops round robin over the threads (each thread's order kept), so that a cut at
     * FUZZIN_MAX_OPS keeps a prefix of every thread; spawn and join name their thread by its
     * place among the candidates, as the decoder will see them */
    static body_state bs;
    prog_mode mode[FUZZIN_MAX_THREADS];
    prog_start start[FUZZIN_MAX_THREADS];
    for (uint32_t t = 0; t < nthreads; t++) {
        const prog_thread *th = t < p->nthreads ? &p->thread[t] : NULL;
        mode[t] = t == 0 ? PROG_MODE_MAIN : th && th->mode >= PROG_MODE_EARLY ? th->mode
                                                                            : PROG_MODE_EARLY;
        start[t] = t && th && th->start == PROG_START_SPAWN ? PROG_START_SPAWN : PROG_START_AUTO;
    }
    body_init(&bs, mode, nthreads);
    uint32_t kept = 0, next[FUZZIN_MAX_THREADS] = {0};
    for (bool more = true; more && kept < FUZZIN_MAX_OPS;) {
        more = false;
        for (uint32_t t = 0; t < nthreads && t < p->nthreads && kept < FUZZIN_MAX_OPS; t++) {
            if (next[t] >= p->thread[t].nops)
                continue;
            more = true;
            const prog_op *op = &p->thread[t].ops[next[t]++];
            int row = row_of(op->code);
            if (row < 0)
                continue; /* `spin` */
            const prog_opinfo *o = prog_op_info(op->code);
            uint8_t args[PROG_MAX_ARGS];
            for (int a = 0; a < o->nargs; a++)
                args[a] = arg_byte(&o->arg[a], arg_span(&o->arg[a], nthreads), op->arg[a], op->str);
            prog_op sim = {.code = op->code}; /* the op as the decoder will read it */
            for (int a = 0; a < o->nargs; a++)
                sim.arg[a] = arg_value(&o->arg[a], arg_span(&o->arg[a], nthreads), args[a]);
            bool ok = true;
            if (spawn_or_join(op->code)) {
                int cand[FUZZIN_MAX_THREADS];
                int nc = candidates(&bs, start, nthreads, t, op->code, cand);
                args[0] = 0;
                for (int c = 0; c < nc; c++)
                    if (cand[c] == op->arg[0])
                        args[0] = (uint8_t)c;
                ok = nc > 0;
                if (ok)
                    sim.arg[0] = cand[args[0]];
            }
            if (!ok || !accept(&bs, t, &sim))
                continue; /* the decoder would skip it: leave it out */
            wr(&w, (uint8_t)t);
            wr(&w, (uint8_t)row);
            for (int a = 0; a < o->nargs; a++)
                wr(&w, args[a]);
            kept++;
        }
    }
    size_t tape_start = w.len;
    uint64_t prev = 0;
    for (size_t i = 0; i < f->ntape; i++) {
        uint64_t gap = f->tape[i].step - prev - (i ? 1 : 0);
        if (f->tape[i].step < prev + (i ? 1 : 0))
            gap = 0; /* not increasing: not a decoder's tape */
        if (gap > 255)
            gap = 255; /* a longer gap is not a decoder's tape: clamped */
        wr(&w, (uint8_t)gap);
        wr(&w, (uint8_t)((uint32_t)f->tape[i].thread % nthreads));
        prev = prev + gap + (i ? 1 : 0);
    }
    size_t len = w.len - tape_start;
    if (len > 0xffff)
        len = 0xffff & ~(size_t)1;
    wr(&w, (uint8_t)(len & 0xff));
    wr(&w, (uint8_t)(len >> 8));
    return w.len;
}

int fuzzin_from_program(const program *p, uint64_t seed, int depth, fuzzin *out)
{
    memset(out, 0, sizeof *out);
    if (program_copy(&out->prog, p) < 0)
        return -1;
    out->seed = seed;
    out->depth = depth;
    return 0;
}
