/* program.c — the program data model: the op table compiled from ops.def, building programs
 * in code, copying and comparing them, and validating them.
 *
 * Validation has three layers.  (1) Values: every argument is in its kind's range, names and
 * options are well formed.  (2) Thread state: each thread's ops are walked with a small state
 * machine (unbound / attached / detached / ended, frame and stack depths, C-stack references,
 * suppression depth), so an op that touches objects never runs detached and pops never
 * underflow.  (3) Threads together: referenced threads exist, only 'spawn' threads are spawned
 * (exactly once) or joined (at most once), and an abstract run — threads advance until they
 * reach a join of an unfinished thread — shows every thread starts and every join returns. */
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rs/debug.h" /* the fault-site table, to validate fail_alloc_at */

/* ---- the op table -------------------------------------------------------------------- */

/* Each argument-kind macro expands to a parenthesised tuple; SPEC_ turns a tuple into a
 * prog_argspec initializer and USED_ into 1 (0 for NO), so nargs is a constant. */
#define PROG_CNT_(id, word) +1
#define NO (PROG_ARG_NONE, NULL, 0, 0, PROG_ESET_NONE)
#define REG(n) (PROG_ARG_REG, #n, 0, PROG_NREGS - 1, PROG_ESET_NONE)
#define SLOT(n) (PROG_ARG_SLOT, #n, 0, PROG_NSLOTS - 1, PROG_ESET_NONE)
#define INT(n, lo, hi) (PROG_ARG_INT, #n, lo, hi, PROG_ESET_NONE)
#define THR(n) (PROG_ARG_THR, #n, 0, PROG_MAX_THREADS - 1, PROG_ESET_NONE)
#define MBOX(n) (PROG_ARG_MBOX, #n, 0, PROG_NMAILBOXES - 1, PROG_ESET_NONE)
#define ROOT(n) (PROG_ARG_ROOT, #n, 0, PROG_NROOTS - 1, PROG_ESET_NONE)
#define LROOT(n) (PROG_ARG_LROOT, #n, 0, PROG_NLATE_ROOTS - 1, PROG_ESET_NONE)
#define ENUM(n, set) (PROG_ARG_ENUM, #n, 0, (0 PROG_ENUMSET_##set(PROG_CNT_)) - 1, PROG_ESET_##set)
#define SITE(n) (PROG_ARG_SITE, #n, 0, 0, PROG_ESET_NONE)
#define SPEC_(kind, name, lo, hi, set) {kind, name, lo, hi, set}
#define USED_(kind, name, lo, hi, set) ((kind) != PROG_ARG_NONE)
static const prog_opinfo op_table[PROG_OP__COUNT] = {
#define PROG_OP(id, name, need, a1, a2, a3, a4, doc)                                          \
    [PROG_OP_##id] = {name, PROG_NEED_##need, USED_ a1 + USED_ a2 + USED_ a3 + USED_ a4,      \
                      {SPEC_ a1, SPEC_ a2, SPEC_ a3, SPEC_ a4}, doc},
#include "ops.def"
};
#undef SPEC_
#undef USED_
#undef NO
#undef REG
#undef SLOT
#undef INT
#undef THR
#undef MBOX
#undef ROOT
#undef LROOT
#undef ENUM
#undef SITE
#undef PROG_CNT_

#define PROG_WORD_(id, word) word,
static const char *const fin_words[] = {PROG_ENUMSET_FIN(PROG_WORD_)};
static const char *const flkind_words[] = {PROG_ENUMSET_FLKIND(PROG_WORD_)};
static const char *const wrcb_words[] = {PROG_ENUMSET_WRCB(PROG_WORD_)};
#undef PROG_WORD_

char prog_arg_prefix(prog_argkind kind)
{
    switch (kind) {
    case PROG_ARG_REG: return 'r';
    case PROG_ARG_THR: return 't';
    case PROG_ARG_MBOX: return 'm';
    case PROG_ARG_ROOT: return 'g';
    case PROG_ARG_LROOT: return 'l';
    default: return 0;
    }
}

const prog_opinfo *prog_op_info(int op)
{
    return op >= 0 && op < PROG_OP__COUNT ? &op_table[op] : NULL;
}

int prog_op_lookup(const char *word, size_t len)
{
    for (int i = 0; i < PROG_OP__COUNT; i++)
        if (strlen(op_table[i].name) == len && memcmp(op_table[i].name, word, len) == 0)
            return i;
    return -1;
}

const char *const *prog_enum_words(prog_enumset set, int *count)
{
    switch (set) {
    case PROG_ESET_FIN:
        *count = (int)(sizeof fin_words / sizeof fin_words[0]);
        return fin_words;
    case PROG_ESET_FLKIND:
        *count = (int)(sizeof flkind_words / sizeof flkind_words[0]);
        return flkind_words;
    case PROG_ESET_WRCB:
        *count = (int)(sizeof wrcb_words / sizeof wrcb_words[0]);
        return wrcb_words;
    case PROG_ESET_NONE:
        break;
    }
    *count = 0;
    return NULL;
}

int prog_enum_lookup(prog_enumset set, const char *word, size_t len)
{
    int n;
    const char *const *w = prog_enum_words(set, &n);
    for (int i = 0; i < n; i++)
        if (strlen(w[i]) == len && memcmp(w[i], word, len) == 0)
            return i;
    return -1;
}

/* Appends to buf[*used..n) with snprintf semantics (never overflows, always terminated). */
static void cat(char *buf, size_t n, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cat(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
    if (n == 0 || *used >= n - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, n - *used, fmt, ap);
    va_end(ap);
    if (k > 0)
        *used = *used + (size_t)k < n - 1 ? *used + (size_t)k : n - 1;
}

void prog_op_format(const prog_op *op, char *buf, size_t n)
{
    const prog_opinfo *o = prog_op_info(op->code);
    if (n == 0)
        return;
    if (!o) {
        snprintf(buf, n, "?");
        return;
    }
    size_t len = (size_t)snprintf(buf, n, "%s", o->name);
    for (int i = 0; i < o->nargs && len < n; i++) {
        const prog_argspec *a = &o->arg[i];
        int v = (int)op->arg[i];
        int w;
        switch (a->kind) {
        case PROG_ARG_SITE: w = snprintf(buf + len, n - len, " %s", op->str ? op->str : "?"); break;
        case PROG_ARG_ENUM: {
            int cnt = 0;
            const char *const *words = prog_enum_words(a->set, &cnt);
            w = snprintf(buf + len, n - len, " %s", v >= 0 && v < cnt ? words[v] : "?");
            break;
        }
        case PROG_ARG_SLOT:
        case PROG_ARG_INT: w = snprintf(buf + len, n - len, " %d", v); break;
        default: w = snprintf(buf + len, n - len, " %c%d", prog_arg_prefix(a->kind), v); break;
        }
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

void prog_op_synopsis(int op, char *buf, size_t n)
{
    size_t used = 0;
    const prog_opinfo *o = prog_op_info(op);
    if (n == 0)
        return;
    buf[0] = '\0';
    if (!o)
        return;
    cat(buf, n, &used, "%s", o->name);
    for (int i = 0; i < o->nargs; i++) {
        const prog_argspec *a = &o->arg[i];
        if (prog_arg_prefix(a->kind)) /* r<dst>, t<thread>, ... */
            cat(buf, n, &used, " %c<%s>", prog_arg_prefix(a->kind), a->name);
        else if (a->kind == PROG_ARG_SLOT || a->kind == PROG_ARG_INT)
            cat(buf, n, &used, " <%s %d..%d>", a->name, (int)a->lo, (int)a->hi);
        else if (a->kind == PROG_ARG_ENUM) {
            int cnt;
            const char *const *w = prog_enum_words(a->set, &cnt);
            for (int k = 0; k < cnt; k++)
                cat(buf, n, &used, "%s%s", k ? "|" : " ", w[k]);
        } else
            cat(buf, n, &used, " <%s>", a->name);
    }
}

const char *prog_mode_name(prog_mode m)
{
    static const char *const names[] = {"main", "early", "late", "attach"};
    return (unsigned)m < 4 ? names[m] : "?";
}

const char *prog_start_name(prog_start s)
{
    return s == PROG_START_AUTO ? "auto" : s == PROG_START_SPAWN ? "spawn" : "?";
}

const char *prog_torture_name(prog_torture t)
{
    static const char *const names[] = {"off", "on", "mixed"};
    return (unsigned)t < 3 ? names[t] : "?";
}

int prog_torture_parse(const char *s, size_t len, prog_torture *out)
{
    for (int k = PROG_TORTURE_OFF; k <= PROG_TORTURE_MIXED; k++) {
        const char *w = prog_torture_name((prog_torture)k);
        if (strlen(w) == len && memcmp(w, s, len) == 0) {
            *out = (prog_torture)k;
            return 0;
        }
    }
    return -1;
}

const char *prog_points_name(bool auto_points)
{
    return auto_points ? "all" : "named";
}

int prog_points_parse(const char *s, bool *auto_points)
{
    for (int k = 0; k < 2; k++)
        if (strcmp(s, prog_points_name(k)) == 0) {
            *auto_points = k;
            return 0;
        }
    return -1;
}

bool prog_torture_for(prog_torture t, uint64_t seed)
{
    return t == PROG_TORTURE_ON || (t == PROG_TORTURE_MIXED && (seed & 1));
}

/* ---- text and word checks ------------------------------------------------------------- */

long prog_text_check(const char *s, size_t len, bool allow_newline, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = u[i];
        if (c < 0x80) {
            if (c == 0) {
                *why = "NUL byte";
                return (long)i;
            }
            if ((c < 0x20 && c != '\t' && !(c == '\n' && allow_newline)) || c == 0x7f) {
                *why = "control character";
                return (long)i;
            }
            i++;
            continue;
        }
        /* multi-byte sequence: lead byte gives the length and the second byte's range */
        unsigned need, lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
            need = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            lo = c == 0xe0 ? 0xa0 : 0x80;
            hi = c == 0xed ? 0x9f : 0xbf;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            lo = c == 0xf0 ? 0x90 : 0x80;
            hi = c == 0xf4 ? 0x8f : 0xbf;
        } else {
            *why = "invalid UTF-8";
            return (long)i;
        }
        if (len - i <= need) {
            *why = "invalid UTF-8";
            return (long)i;
        }
        for (unsigned k = 1; k <= need; k++) {
            unsigned b = u[i + k];
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) {
                *why = "invalid UTF-8";
                return (long)i;
            }
        }
        if (c == 0xc2 && u[i + 1] <= 0x9f) { /* U+0080..U+009F: C1 controls */
            *why = "control character";
            return (long)i;
        }
        i += need + 1;
    }
    return -1;
}

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool prog_bug_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > PROG_WORD_MAX || !(is_lower(s[0]) || is_digit(s[0])))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(is_lower(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

bool prog_site_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > PROG_WORD_MAX)
        return false;
    size_t i = 0;
    for (;;) {
        if (s[i] == '*') { /* a final wildcard segment */
            if (i == 0 || i + 1 != len)
                return false;
            return true;
        }
        if (!(is_lower(s[i]) || s[i] == '_'))
            return false;
        while (i < len && (is_lower(s[i]) || is_digit(s[i]) || s[i] == '_'))
            i++;
        if (i == len)
            return true;
        if (s[i] != '.' || i + 1 == len)
            return false;
        i++;
    }
}

/* ---- building, copying, comparing ----------------------------------------------------- */

static const prog_options default_options = {
    .immortalize_deferred = true, .freelists = true, .gc_enabled = true, .validate = false,
    .gc_threshold = {2000, 10, 10}, .trash_depth = 50,
    .seed = 0, .check_rate = 0, .timeout_ms = 10000,
};

void program_init(program *p)
{
    memset(p, 0, sizeof *p);
    p->version = PROG_FORMAT_VERSION;
    p->opt = default_options;
}

void program_free(program *p)
{
    free(p->name);
    for (uint32_t i = 0; i < p->nbugs; i++)
        free(p->bugs[i]);
    free(p->bugs);
    for (uint32_t t = 0; t < p->nthreads && t < PROG_MAX_THREADS; t++) {
        prog_thread *th = &p->thread[t];
        for (uint32_t k = 0; k < th->nops; k++)
            free(th->ops[k].str);
        free(th->ops);
    }
    program_init(p);
}

static char *dup_bytes(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

int program_copy(program *dst, const program *src)
{
    program_init(dst);
    dst->version = src->version;
    dst->opt = src->opt;
    if (src->name && !(dst->name = dup_bytes(src->name, strlen(src->name))))
        goto fail;
    for (uint32_t i = 0; i < src->nbugs; i++)
        if (program_add_bug(dst, src->bugs[i]) < 0)
            goto fail;
    for (uint32_t t = 0; t < src->nthreads; t++) {
        const prog_thread *s = &src->thread[t];
        prog_thread *d = &dst->thread[t];
        d->mode = s->mode;
        d->start = s->start;
        d->line = s->line;
        d->col = s->col;
        dst->nthreads = t + 1;
        if (s->nops == 0)
            continue;
        if (!(d->ops = calloc(s->nops, sizeof *d->ops)))
            goto fail;
        d->cap = s->nops;
        for (uint32_t k = 0; k < s->nops; k++) {
            d->ops[k] = s->ops[k];
            d->ops[k].str = NULL;
            d->nops = k + 1;
            if (s->ops[k].str && !(d->ops[k].str = dup_bytes(s->ops[k].str, strlen(s->ops[k].str))))
                goto fail;
        }
    }
    return 0;
fail:
    program_free(dst);
    return -1;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool options_equal(const prog_options *a, const prog_options *b)
{
    return a->immortalize_deferred == b->immortalize_deferred && a->freelists == b->freelists
        && a->gc_enabled == b->gc_enabled && a->validate == b->validate
        && memcmp(a->gc_threshold, b->gc_threshold, sizeof a->gc_threshold) == 0
        && a->trash_depth == b->trash_depth && a->seed == b->seed
        && a->check_rate == b->check_rate && a->timeout_ms == b->timeout_ms
        && a->torture == b->torture && a->auto_points == b->auto_points;
}

static bool op_equal(const prog_op *a, const prog_op *b)
{
    const prog_opinfo *o = prog_op_info(a->code);
    if (a->code != b->code || !o)
        return a->code == b->code;
    for (int i = 0; i < o->nargs; i++)
        if (o->arg[i].kind != PROG_ARG_SITE && a->arg[i] != b->arg[i])
            return false;
    return str_eq(a->str, b->str);
}

bool program_equal(const program *a, const program *b)
{
    if (a->version != b->version || !str_eq(a->name, b->name)
        || !options_equal(&a->opt, &b->opt) || a->nbugs != b->nbugs
        || a->nthreads != b->nthreads)
        return false;
    for (uint32_t i = 0; i < a->nbugs; i++)
        if (!str_eq(a->bugs[i], b->bugs[i]))
            return false;
    for (uint32_t t = 0; t < a->nthreads && t < PROG_MAX_THREADS; t++) {
        const prog_thread *x = &a->thread[t], *y = &b->thread[t];
        if (x->mode != y->mode || x->start != y->start || x->nops != y->nops)
            return false;
        for (uint32_t k = 0; k < x->nops; k++)
            if (!op_equal(&x->ops[k], &y->ops[k]))
                return false;
    }
    return true;
}

int program_set_name(program *p, const char *name)
{
    const char *why;
    size_t len = strlen(name);
    if (len > PROG_NAME_MAX || prog_text_check(name, len, true, &why) >= 0)
        return -1;
    char *d = dup_bytes(name, len);
    if (!d)
        return -1;
    free(p->name);
    p->name = d;
    return 0;
}

int program_add_bug(program *p, const char *bug)
{
    size_t len = strlen(bug);
    if (!prog_bug_name_ok(bug, len) || p->nbugs >= PROG_MAX_BUGS)
        return -1;
    for (uint32_t i = 0; i < p->nbugs; i++)
        if (strcmp(p->bugs[i], bug) == 0)
            return -1;
    char **nb = realloc(p->bugs, (p->nbugs + 1) * sizeof *nb);
    if (!nb)
        return -1;
    p->bugs = nb;
    if (!(nb[p->nbugs] = dup_bytes(bug, len)))
        return -1;
    return (int)p->nbugs++;
}

int program_add_thread(program *p, prog_mode mode, prog_start start)
{
    if (p->nthreads >= PROG_MAX_THREADS || (unsigned)mode > PROG_MODE_ATTACH
        || (unsigned)start > PROG_START_SPAWN || (p->nthreads == 0) != (mode == PROG_MODE_MAIN))
        return -1;
    prog_thread *t = &p->thread[p->nthreads];
    memset(t, 0, sizeof *t);
    t->mode = mode;
    t->start = mode == PROG_MODE_MAIN ? PROG_START_AUTO : start;
    return (int)p->nthreads++;
}

/* A site the runtime has (rs/faults.def), or a "prefix.*" that matches at least one. */
static bool prog_site_known(const char *s)
{
    size_t n = strlen(s);
    bool prefix = n >= 2 && s[n - 2] == '.' && s[n - 1] == '*';
    for (size_t i = 0; i < rs_fault_site_count(); i++) {
        const char *name = rs_fault_site_name(i);
        if (prefix ? strncmp(name, s, n - 1) == 0 : strcmp(name, s) == 0)
            return true;
    }
    return false;
}

int prog_arg_check(int op, int i, int32_t value, const char *str, char *msg, size_t n)
{
    const prog_opinfo *o = prog_op_info(op);
    if (!o || i < 0 || i >= o->nargs) {
        snprintf(msg, n, "no argument %d for this op", i + 1);
        return -1;
    }
    const prog_argspec *a = &o->arg[i];
    if (a->kind == PROG_ARG_SITE) {
        if (!str || !prog_site_name_ok(str, strlen(str))) {
            snprintf(msg, n, "%s: bad site name (expected dotted lower_snake words, e.g. alloc.gc)",
                     o->name);
            return -1;
        }
        if (!prog_site_known(str)) {
            snprintf(msg, n, "%s: no fault site '%s' in the runtime (`refstorm list` names them; "
                             "a trailing .* matches a prefix)", o->name, str);
            return -1;
        }
        return 0;
    }
    if (value < a->lo || value > a->hi) {
        char c = prog_arg_prefix(a->kind);
        if (c)
            snprintf(msg, n, "%s: %c%d out of range (%c%d..%c%d)", o->name, c, (int)value, c,
                     (int)a->lo, c, (int)a->hi);
        else
            snprintf(msg, n, "%s: %s %d out of range (%d..%d)", o->name, a->name, (int)value,
                     (int)a->lo, (int)a->hi);
        return -1;
    }
    return 0;
}

int program_add_op_a(program *p, int thread, int op, const int32_t *args, const char *str)
{
    const prog_opinfo *o = prog_op_info(op);
    char msg[128];
    if (!o || thread < 0 || (uint32_t)thread >= p->nthreads)
        return -1;
    prog_thread *t = &p->thread[thread];
    if (t->nops >= PROG_MAX_OPS)
        return -1;
    prog_op nop = {.code = (uint16_t)op};
    for (int i = 0; i < o->nargs; i++) {
        bool site = o->arg[i].kind == PROG_ARG_SITE;
        if (prog_arg_check(op, i, site ? 0 : args[i], site ? str : NULL, msg, sizeof msg) < 0)
            return -1;
        nop.arg[i] = site ? 0 : args[i];
        if (site && !(nop.str = dup_bytes(str, strlen(str))))
            return -1;
    }
    if (t->nops == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        if (cap > PROG_MAX_OPS)
            cap = PROG_MAX_OPS;
        prog_op *ops = realloc(t->ops, cap * sizeof *ops);
        if (!ops) {
            free(nop.str);
            return -1;
        }
        t->ops = ops;
        t->cap = cap;
    }
    t->ops[t->nops] = nop;
    return (int)t->nops++;
}

int program_add_op(program *p, int thread, int op, ...)
{
    const prog_opinfo *o = prog_op_info(op);
    int32_t args[PROG_MAX_ARGS] = {0};
    const char *str = NULL;
    if (!o)
        return -1;
    va_list ap;
    va_start(ap, op);
    for (int i = 0; i < o->nargs; i++) {
        if (o->arg[i].kind == PROG_ARG_SITE)
            str = va_arg(ap, const char *);
        else
            args[i] = va_arg(ap, int);
    }
    va_end(ap);
    return program_add_op_a(p, thread, op, args, str);
}

/* ---- per-thread state machine ---------------------------------------------------------- */

void prog_tstate_init(prog_tstate *s, int index, prog_mode mode)
{
    memset(s, 0, sizeof *s);
    s->index = index;
    s->mode = mode;
    s->state = mode == PROG_MODE_MAIN || mode == PROG_MODE_EARLY ? PROG_TS_ATTACHED
                                                                 : PROG_TS_UNBOUND;
}

static const char *ts_words(const prog_tstate *s)
{
    switch (s->state) {
    case PROG_TS_UNBOUND:
        return s->mode == PROG_MODE_LATE ? "not bound yet (bind first)" : "not attached yet (attach first)";
    case PROG_TS_DETACHED: return "detached";
    case PROG_TS_ATTACHED: return "attached";
    case PROG_TS_ENDED: return "ended";
    }
    return "?";
}

#define FAIL(...) (snprintf(msg, n, __VA_ARGS__), -1)

int prog_tstate_step(prog_tstate *s, const prog_op *op, char *msg, size_t n)
{
    const prog_opinfo *o = prog_op_info(op->code);
    if (!o)
        return FAIL("unknown opcode %u", (unsigned)op->code);
    if (s->state == PROG_TS_ENDED)
        return FAIL("%s: unreachable, the thread has already ended", o->name);
    if (o->need == PROG_NEED_ATT && s->state != PROG_TS_ATTACHED)
        return FAIL("%s needs an attached thread; t%d is %s", o->name, s->index, ts_words(s));
    uint32_t top = s->nframes ? s->stack[s->nframes - 1] : 0;
    switch ((prog_opcode)op->code) {
    case PROG_OP_BIND:
        if (s->mode != PROG_MODE_LATE)
            return FAIL("bind is only for 'late' threads (t%d is '%s')", s->index,
                        prog_mode_name(s->mode));
        if (s->state != PROG_TS_UNBOUND)
            return FAIL("bind: t%d is already bound", s->index);
        s->state = PROG_TS_ATTACHED;
        return 0;
    case PROG_OP_ATTACH:
        if (s->state == PROG_TS_ATTACHED)
            return FAIL("attach: t%d is already attached", s->index);
        if (s->state == PROG_TS_UNBOUND && s->mode != PROG_MODE_ATTACH)
            return FAIL("attach before bind in a 'late' thread");
        s->state = PROG_TS_ATTACHED;
        return 0;
    case PROG_OP_DETACH:
        if (s->state != PROG_TS_ATTACHED)
            return FAIL("detach: t%d is %s", s->index, ts_words(s));
        s->state = PROG_TS_DETACHED;
        return 0;
    case PROG_OP_EXIT:
        if (s->index == 0)
            return FAIL("exit is not allowed in t0 (let it end, or use shutdown)");
        s->state = PROG_TS_ENDED;
        return 0;
    case PROG_OP_SHUTDOWN:
        if (s->index != 0)
            return FAIL("shutdown is only allowed in t0");
        if (s->state != PROG_TS_ATTACHED)
            return FAIL("shutdown needs an attached thread; t0 is %s", ts_words(s));
        if (s->nframes)
            return FAIL("shutdown with %u frame(s) still pushed", (unsigned)s->nframes);
        if (s->ncrefs)
            return FAIL("shutdown with %u C-stack reference(s) still held", (unsigned)s->ncrefs);
        s->state = PROG_TS_ENDED;
        return 0;
    case PROG_OP_SPAWN:
    case PROG_OP_JOIN:
        if (op->arg[0] == s->index)
            return FAIL("%s: a thread cannot %s itself", o->name, o->name);
        if (op->arg[0] == 0)
            return FAIL("%s: t0 is the main thread, it cannot be %s", o->name,
                        op->code == PROG_OP_SPAWN ? "spawned" : "joined");
        return 0;
    case PROG_OP_FRAME_PUSH:
    case PROG_OP_FRAME_PUSH_FN:
        if (s->nframes >= PROG_MAX_FRAMES)
            return FAIL("%s: more than %d frames pushed", o->name, PROG_MAX_FRAMES);
        s->stack[s->nframes++] = 0;
        return 0;
    case PROG_OP_FRAME_POP:
    case PROG_OP_LOCAL_STORE:
    case PROG_OP_STACK_PUSH:
    case PROG_OP_STACK_POP:
        if (s->nframes == 0)
            return FAIL("%s without a frame (frame_push first)", o->name);
        if (op->code == PROG_OP_FRAME_POP)
            s->nframes--;
        else if (op->code == PROG_OP_STACK_PUSH) {
            if (top >= PROG_FRAME_STACK)
                return FAIL("stack_push: the frame's stack is full (%d)", PROG_FRAME_STACK);
            s->stack[s->nframes - 1]++;
        } else if (op->code == PROG_OP_STACK_POP) {
            if (top == 0)
                return FAIL("stack_pop on an empty stack");
            s->stack[s->nframes - 1]--;
        }
        return 0;
    case PROG_OP_CREF_PUSH:
        if (s->ncrefs >= PROG_MAX_CREFS)
            return FAIL("cref_push: more than %d C-stack references", PROG_MAX_CREFS);
        s->ncrefs++;
        return 0;
    case PROG_OP_CREF_POP:
        if (s->ncrefs == 0)
            return FAIL("cref_pop without a C-stack reference");
        s->ncrefs--;
        return 0;
    case PROG_OP_SUPPRESS:
        if (s->suppress >= 1000)
            return FAIL("suppress: scopes nested deeper than 1000");
        s->suppress++;
        return 0;
    case PROG_OP_UNSUPPRESS:
        if (s->suppress == 0)
            return FAIL("unsuppress without a matching suppress");
        s->suppress--;
        return 0;
    default:
        return 0;
    }
}

/* ---- whole-program validation ---------------------------------------------------------- */

/* Fills *err at (line, col); with no position (line 0) the message names where. */
static int verr(prog_error *err, uint32_t line, uint32_t col, int thread, long opidx,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int verr(prog_error *err, uint32_t line, uint32_t col, int thread, long opidx,
                const char *fmt, ...)
{
    size_t used = 0;
    err->line = line;
    err->col = line ? col : 0;
    err->message[0] = '\0';
    if (!line && thread >= 0 && opidx >= 0)
        cat(err->message, sizeof err->message, &used, "t%d op %ld: ", thread, opidx);
    else if (!line && thread >= 0)
        cat(err->message, sizeof err->message, &used, "t%d: ", thread);
    va_list ap;
    va_start(ap, fmt);
    if (used < sizeof err->message)
        vsnprintf(err->message + used, sizeof err->message - used, fmt, ap);
    va_end(ap);
    return -1;
}

static int validate_header(const program *p, prog_error *err)
{
    const prog_options *o = &p->opt;
    const char *why;
    if (p->version != PROG_FORMAT_VERSION)
        return verr(err, 0, 0, -1, -1, "unsupported format version %u", (unsigned)p->version);
    if (p->name && (strlen(p->name) > PROG_NAME_MAX
                    || prog_text_check(p->name, strlen(p->name), true, &why) >= 0))
        return verr(err, 0, 0, -1, -1, "bad program name");
    if (o->trash_depth < PROG_TRASH_DEPTH_MIN || o->trash_depth > PROG_TRASH_DEPTH_MAX
        || o->gc_threshold[0] > PROG_GC_THRESHOLD_MAX || o->gc_threshold[1] > PROG_GC_THRESHOLD_MAX
        || o->gc_threshold[2] > PROG_GC_THRESHOLD_MAX || o->check_rate > PROG_CHECK_RATE_MAX
        || o->timeout_ms > PROG_TIMEOUT_MS_MAX)
        return verr(err, 0, 0, -1, -1, "option out of range");
    if (p->nbugs > PROG_MAX_BUGS)
        return verr(err, 0, 0, -1, -1, "more than %d bugs", PROG_MAX_BUGS);
    for (uint32_t i = 0; i < p->nbugs; i++) {
        if (!p->bugs[i] || !prog_bug_name_ok(p->bugs[i], strlen(p->bugs[i])))
            return verr(err, 0, 0, -1, -1, "bad bug name");
        for (uint32_t k = 0; k < i; k++)
            if (strcmp(p->bugs[k], p->bugs[i]) == 0)
                return verr(err, 0, 0, -1, -1, "duplicate bug '%s'", p->bugs[i]);
    }
    if (p->nthreads == 0)
        return verr(err, 0, 0, -1, -1, "the program has no threads (t0 is required)");
    if (p->nthreads > PROG_MAX_THREADS)
        return verr(err, 0, 0, -1, -1, "more than %d threads", PROG_MAX_THREADS);
    for (uint32_t t = 0; t < p->nthreads; t++) {
        const prog_thread *th = &p->thread[t];
        if ((t == 0) != (th->mode == PROG_MODE_MAIN) || (unsigned)th->mode > PROG_MODE_ATTACH
            || (unsigned)th->start > PROG_START_SPAWN || (t == 0 && th->start != PROG_START_AUTO))
            return verr(err, th->line, th->col, (int)t, -1,
                        t == 0 ? "t0 must be the main thread" : "bad mode for thread t%u",
                        (unsigned)t);
        if (th->nops > PROG_MAX_OPS)
            return verr(err, th->line, th->col, (int)t, -1, "more than %d ops", PROG_MAX_OPS);
    }
    return 0;
}

/* Per-thread walk: argument values, referenced threads, the state machine; records who
 * spawns and joins whom. */
static int validate_thread(const program *p, uint32_t t, int *spawner, long *spawn_op,
                           int *joins, prog_error *err)
{
    const prog_thread *th = &p->thread[t];
    prog_tstate st;
    char msg[160];
    prog_tstate_init(&st, (int)t, th->mode);
    for (uint32_t k = 0; k < th->nops; k++) {
        const prog_op *op = &th->ops[k];
        const prog_opinfo *o = prog_op_info(op->code);
        if (!o)
            return verr(err, op->line, op->col[0], (int)t, k, "unknown opcode %u",
                        (unsigned)op->code);
        for (int i = 0; i < o->nargs; i++) {
            bool site = o->arg[i].kind == PROG_ARG_SITE;
            if (prog_arg_check(op->code, i, op->arg[i], site ? op->str : NULL, msg, sizeof msg))
                return verr(err, op->line, op->col[1 + i], (int)t, k, "%s", msg);
            if (o->arg[i].kind == PROG_ARG_THR && (uint32_t)op->arg[i] >= p->nthreads)
                return verr(err, op->line, op->col[1 + i], (int)t, k,
                            "%s: no thread t%d in this program", o->name, (int)op->arg[i]);
        }
        if (prog_tstate_step(&st, op, msg, sizeof msg) < 0)
            return verr(err, op->line, op->col[0], (int)t, k, "%s", msg);
        if (op->code != PROG_OP_SPAWN && op->code != PROG_OP_JOIN)
            continue;
        int target = op->arg[0];
        const prog_thread *tt = &p->thread[target];
        if (tt->start == PROG_START_AUTO)
            return verr(err, op->line, op->col[1], (int)t, k,
                        "%s: t%d is an 'auto' thread; only 'spawn' threads can be %s", o->name,
                        target, op->code == PROG_OP_SPAWN ? "spawned" : "joined");
        if (op->code == PROG_OP_SPAWN) {
            if (spawner[target] >= 0) {
                const prog_op *first = &p->thread[spawner[target]].ops[spawn_op[target]];
                return verr(err, op->line, op->col[1], (int)t, k,
                            "spawn: t%d is spawned twice (first by t%d, line %u)", target,
                            spawner[target], (unsigned)first->line);
            }
            spawner[target] = (int)t;
            spawn_op[target] = k;
        } else if (joins[target]++)
            return verr(err, op->line, op->col[1], (int)t, k, "join: t%d is joined twice", target);
    }
    return 0;
}

/* Abstract run: every started thread advances until it reaches a join of an unfinished
 * thread; a spawn starts its target.  Whatever has not finished when nothing can advance is
 * never started (its spawn is unreachable) or blocked forever in a join. */
static int validate_progress(const program *p, prog_error *err)
{
    bool started[PROG_MAX_THREADS], done[PROG_MAX_THREADS];
    uint32_t pc[PROG_MAX_THREADS];
    for (uint32_t t = 0; t < p->nthreads; t++) {
        started[t] = p->thread[t].start == PROG_START_AUTO;
        done[t] = false;
        pc[t] = 0;
    }
    for (bool progress = true; progress;) {
        progress = false;
        for (uint32_t t = 0; t < p->nthreads; t++) {
            const prog_thread *th = &p->thread[t];
            if (!started[t] || done[t])
                continue;
            for (; pc[t] < th->nops; pc[t]++) {
                const prog_op *op = &th->ops[pc[t]];
                if (op->code == PROG_OP_JOIN && !done[op->arg[0]])
                    break;
                if (op->code == PROG_OP_SPAWN && !started[op->arg[0]]) {
                    started[op->arg[0]] = true;
                    progress = true;
                }
            }
            if (pc[t] == th->nops) {
                done[t] = true;
                progress = true;
            }
        }
    }
    /* most specific first: a join of a thread that never starts (e.g. spawned after the
     * join), then threads never started, then joins in a circular wait */
    for (uint32_t t = 0; t < p->nthreads; t++) {
        const prog_op *op = started[t] && !done[t] ? &p->thread[t].ops[pc[t]] : NULL;
        if (op && !started[op->arg[0]])
            return verr(err, op->line, op->col[0], (int)t, pc[t],
                        "join t%d never returns: t%d is never started (is its spawn after this join?)",
                        (int)op->arg[0], (int)op->arg[0]);
    }
    for (uint32_t t = 0; t < p->nthreads; t++)
        if (!started[t])
            return verr(err, p->thread[t].line, p->thread[t].col, (int)t, -1,
                        "t%u is never started: no reachable spawn of it", (unsigned)t);
    for (uint32_t t = 0; t < p->nthreads; t++) {
        if (!done[t]) {
            const prog_op *op = &p->thread[t].ops[pc[t]];
            return verr(err, op->line, op->col[0], (int)t, pc[t],
                        "join t%d never returns (the threads wait on each other)", (int)op->arg[0]);
        }
    }
    return 0;
}

int program_validate(const program *p, prog_error *err)
{
    int spawner[PROG_MAX_THREADS], joins[PROG_MAX_THREADS] = {0};
    long spawn_op[PROG_MAX_THREADS];
    if (validate_header(p, err) < 0)
        return -1;
    for (uint32_t t = 0; t < PROG_MAX_THREADS; t++) {
        spawner[t] = -1;
        spawn_op[t] = -1;
    }
    for (uint32_t t = 0; t < p->nthreads; t++)
        if (validate_thread(p, t, spawner, spawn_op, joins, err) < 0)
            return -1;
    for (uint32_t t = 1; t < p->nthreads; t++)
        if (p->thread[t].start == PROG_START_SPAWN && spawner[t] < 0)
            return verr(err, p->thread[t].line, p->thread[t].col, (int)t, -1,
                        "t%u is a 'spawn' thread but no op spawns it", (unsigned)t);
    return validate_progress(p, err);
}
