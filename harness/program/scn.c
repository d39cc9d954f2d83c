/* scn.c — .scn text: a line-at-a-time parser, the canonical printer and error formatting.
 *
 * Parsing: the input is cut into lines ('\n'; a '\r' right before it is dropped); each line
 * is first checked as a whole (length, NUL, control characters, UTF-8), then split into
 * tokens (bare words, or quoted strings with \" \\ \n \t escapes; '#' starts a comment) and
 * handled by its first word: the version line, a header line (name, seed, check_rate,
 * timeout_ms, option, bug), a thread header, or an op of harness/ops.def whose arguments are
 * read by kind from the table.  Everything is bounds-checked against the line length; the
 * input need not be NUL-terminated.  After the last line the program goes through
 * program_validate, whose errors carry the positions recorded here.
 *
 * Printing writes the header with every option explicit (a saved program never depends on
 * defaults), then each thread block, two-space indented, separated by blank lines. */
#include "scn.h"

#include "rs/debug.h" /* rs_bug_find: a `bug` line names a mutant of this runtime */

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors ----------------------------------------------------------------------------- */

int scn_error_format(const scn_error *e, char *buf, size_t n)
{
    const char *file = e->file ? e->file : "<input>";
    if (e->line)
        return snprintf(buf, n, "%s:%u:%u: %s", file, (unsigned)e->line, (unsigned)e->col,
                        e->message);
    return snprintf(buf, n, "%s: %s", file, e->message);
}

/* ---- lexer ------------------------------------------------------------------------------ */

typedef struct tok {
    const char *s; /* bare: the word; quoted: the decoded bytes (in the parser's buffer) */
    size_t len;
    uint32_t col;  /* 1-based byte column of the first character */
    size_t raw;    /* bytes the token occupies in the line */
    bool quoted;
} tok;

/* The options that may appear once each in a header; index into parser.seen. */
enum { H_NAME, H_SEED, H_CHECK_RATE, H_TIMEOUT, H_OPT_IMM, H_OPT_FREELISTS, H_OPT_GC_ENABLED,
       H_OPT_GC_THRESHOLD, H_OPT_TRASH_DEPTH, H_OPT_VALIDATE, H_OPT_TORTURE,
       H_OPT_AUTO_POINTS, H__COUNT };

typedef struct parser {
    program *p;
    scn_error *err;
    const char *line; /* the current line, without its terminator */
    size_t len, cur;  /* its length and the lexer's cursor */
    uint32_t lineno;
    uint32_t end_col; /* column just past the last token read */
    int thread;       /* the thread block being read, -1 before the first */
    bool version_seen;
    uint32_t seen[H__COUNT];            /* line of the first occurrence, 0 if none */
    uint32_t thread_line[PROG_MAX_THREADS];
    char sbuf[SCN_MAX_LINE + 1];        /* decoded string token */
} parser;

static int perr(parser *ps, uint32_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser *ps, uint32_t col, const char *fmt, ...)
{
    ps->err->line = ps->lineno;
    ps->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->message, sizeof ps->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* A token shown in a message: at most 40 bytes, cut at a UTF-8 character boundary. */
typedef struct shown { char s[48]; } shown;
static shown show(const tok *t)
{
    shown r;
    size_t n = t->len;
    if (n > 40) {
        n = 40;
        while (n > 0 && ((unsigned char)t->s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(r.s, t->s, n);
    strcpy(r.s + n, n < t->len ? "..." : "");
    return r;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* 1: a token in *t; 0: end of line (or comment); -1: error (reported). */
static int lex(parser *ps, tok *t)
{
    while (ps->cur < ps->len && is_space(ps->line[ps->cur]))
        ps->cur++;
    if (ps->cur == ps->len || ps->line[ps->cur] == '#')
        return 0;
    size_t start = ps->cur;
    t->col = (uint32_t)start + 1;
    if (ps->line[start] != '"') {
        while (ps->cur < ps->len && !is_space(ps->line[ps->cur]) && ps->line[ps->cur] != '#')
            ps->cur++;
        t->s = ps->line + start;
        t->len = ps->cur - start;
        t->raw = t->len;
        t->quoted = false;
        ps->end_col = (uint32_t)ps->cur + 1;
        return 1;
    }
    size_t n = 0;
    for (ps->cur = start + 1; ps->cur < ps->len; ps->cur++) {
        char c = ps->line[ps->cur];
        if (c == '"') {
            ps->cur++;
            t->s = ps->sbuf;
            t->len = n;
            t->raw = ps->cur - start;
            t->quoted = true;
            ps->sbuf[n] = '\0';
            ps->end_col = (uint32_t)ps->cur + 1;
            return 1;
        }
        if (c == '\\') {
            char e = ps->cur + 1 < ps->len ? ps->line[ps->cur + 1] : '\0';
            if (e == '"' || e == '\\')
                c = e;
            else if (e == 'n')
                c = '\n';
            else if (e == 't')
                c = '\t';
            else if (e == '\0')
                break; /* a backslash at the end of the line: unterminated */
            else { /* show the whole character: the line is valid UTF-8 */
                unsigned char u = (unsigned char)e;
                int k = u < 0x80 ? 1 : u < 0xe0 ? 2 : u < 0xf0 ? 3 : 4;
                return perr(ps, (uint32_t)ps->cur + 1, "unknown escape '\\%.*s' (use \\\" \\\\ \\n \\t)",
                            k, ps->line + ps->cur + 1);
            }
            ps->cur++;
        }
        ps->sbuf[n++] = c; /* n < len ≤ SCN_MAX_LINE: decoding never grows a string */
    }
    return perr(ps, t->col, "unterminated string");
}

/* The next token, which must exist: otherwise "missing <what>" just past the last token. */
static int need(parser *ps, tok *t, const char *what)
{
    int r = lex(ps, t);
    if (r == 0)
        return perr(ps, ps->end_col, "missing %s", what);
    return r;
}

/* No more tokens on the line. */
static int end_of_line(parser *ps, const char *after)
{
    tok t;
    int r = lex(ps, &t);
    if (r < 0)
        return -1;
    if (r > 0)
        return perr(ps, t.col, "unexpected '%s' after the last argument of %s",
                    t.quoted ? "\"...\"" : show(&t).s, after);
    return 0;
}

static bool word_is(const tok *t, const char *w)
{
    return !t->quoted && t->len == strlen(w) && memcmp(t->s, w, t->len) == 0;
}

/* Decimal digits s[0..len) into *v: 1 ok, 0 not a number, -1 overflow. */
static int digits(const char *s, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

/* An unsigned integer token in lo..hi. */
static int read_uint(parser *ps, const char *what, uint64_t lo, uint64_t hi, uint64_t *v)
{
    tok t;
    if (need(ps, &t, what) < 0)
        return -1;
    int r = t.quoted ? 0 : digits(t.s, t.len, v);
    if (r == 0)
        return perr(ps, t.col, "expected %s (a decimal integer), got '%s'", what,
                    t.quoted ? "\"...\"" : show(&t).s);
    if (r < 0)
        return perr(ps, t.col, "integer overflow in '%s'", show(&t).s);
    if (*v < lo || *v > hi)
        return perr(ps, t.col, "%s %llu out of range (%llu..%llu)", what, (unsigned long long)*v,
                    (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

/* ---- header lines ----------------------------------------------------------------------- */

static int once(parser *ps, int item, const tok *kw, const char *what)
{
    if (ps->seen[item])
        return perr(ps, kw->col, "duplicate %s (first at line %u)", what, (unsigned)ps->seen[item]);
    ps->seen[item] = ps->lineno;
    return 0;
}

static int read_onoff(parser *ps, bool *v, const char *what)
{
    tok t;
    if (need(ps, &t, what) < 0)
        return -1;
    if (word_is(&t, "on") || word_is(&t, "off")) {
        *v = word_is(&t, "on");
        return 0;
    }
    return perr(ps, t.col, "expected on|off, got '%s'", t.quoted ? "\"...\"" : show(&t).s);
}

static int header_option(parser *ps)
{
    prog_options *o = &ps->p->opt;
    tok t;
    uint64_t v;
    if (need(ps, &t, "option name") < 0)
        return -1;
    static const struct { const char *name; int item; } names[] = {
        {"immortalize_deferred", H_OPT_IMM}, {"freelists", H_OPT_FREELISTS},
        {"gc_enabled", H_OPT_GC_ENABLED}, {"gc_threshold", H_OPT_GC_THRESHOLD},
        {"trash_depth", H_OPT_TRASH_DEPTH}, {"validate", H_OPT_VALIDATE},
        {"torture", H_OPT_TORTURE}, {"auto_points", H_OPT_AUTO_POINTS}};
    int item = -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (word_is(&t, names[i].name))
            item = names[i].item;
    if (item < 0)
        return perr(ps, t.col, "unknown option '%s'", t.quoted ? "\"...\"" : show(&t).s);
    if (once(ps, item, &t, "option") < 0)
        return -1;
    switch (item) {
    case H_OPT_IMM: return read_onoff(ps, &o->immortalize_deferred, "on|off");
    case H_OPT_FREELISTS: return read_onoff(ps, &o->freelists, "on|off");
    case H_OPT_GC_ENABLED: return read_onoff(ps, &o->gc_enabled, "on|off");
    case H_OPT_VALIDATE: return read_onoff(ps, &o->validate, "on|off");
    case H_OPT_AUTO_POINTS: return read_onoff(ps, &o->auto_points, "on|off");
    case H_OPT_TORTURE: {
        if (need(ps, &t, "off|on|mixed") < 0)
            return -1;
        if (!t.quoted && prog_torture_parse(t.s, t.len, &o->torture) == 0)
            return 0;
        return perr(ps, t.col, "expected off|on|mixed, got '%s'",
                    t.quoted ? "\"...\"" : show(&t).s);
    }
    case H_OPT_TRASH_DEPTH:
        if (read_uint(ps, "trash_depth", PROG_TRASH_DEPTH_MIN, PROG_TRASH_DEPTH_MAX, &v) < 0)
            return -1;
        o->trash_depth = (uint32_t)v;
        return 0;
    default: /* H_OPT_GC_THRESHOLD */
        for (int i = 0; i < 3; i++) {
            static const char *const w[] = {"gc_threshold t0", "gc_threshold t1", "gc_threshold t2"};
            if (read_uint(ps, w[i], 0, PROG_GC_THRESHOLD_MAX, &v) < 0)
                return -1;
            o->gc_threshold[i] = (uint32_t)v;
        }
        return 0;
    }
}

static int header_line(parser *ps, const tok *kw)
{
    program *p = ps->p;
    tok t;
    uint64_t v;
    if (word_is(kw, "name")) {
        if (once(ps, H_NAME, kw, "name") < 0 || need(ps, &t, "quoted name") < 0)
            return -1;
        if (!t.quoted)
            return perr(ps, t.col, "expected a quoted string, got '%s'", show(&t).s);
        if (t.len > PROG_NAME_MAX)
            return perr(ps, t.col, "name longer than %d bytes", PROG_NAME_MAX);
        if (memchr(t.s, '\0', t.len) || program_set_name(p, t.s) < 0)
            return perr(ps, t.col, "bad name");
    } else if (word_is(kw, "seed")) {
        /* the CLI's --seed range: a seed is carried as a JSON integer (signed 64-bit) */
        if (once(ps, H_SEED, kw, "seed") < 0 || read_uint(ps, "seed", 0, PROG_SEED_MAX, &v) < 0)
            return -1;
        p->opt.seed = v;
    } else if (word_is(kw, "check_rate")) {
        if (once(ps, H_CHECK_RATE, kw, "check_rate") < 0
            || read_uint(ps, "check_rate", 0, PROG_CHECK_RATE_MAX, &v) < 0)
            return -1;
        p->opt.check_rate = (uint32_t)v;
    } else if (word_is(kw, "timeout_ms")) {
        if (once(ps, H_TIMEOUT, kw, "timeout_ms") < 0
            || read_uint(ps, "timeout_ms", 0, PROG_TIMEOUT_MS_MAX, &v) < 0)
            return -1;
        p->opt.timeout_ms = (uint32_t)v;
    } else if (word_is(kw, "option")) {
        if (header_option(ps) < 0)
            return -1;
    } else { /* bug */
        if (need(ps, &t, "bug name") < 0)
            return -1;
        if (t.quoted || !prog_bug_name_ok(t.s, t.len))
            return perr(ps, t.col, "bad bug name '%s' (expected [a-z0-9][a-z0-9_-]*, at most %d bytes)",
                        t.quoted ? "\"...\"" : show(&t).s, PROG_WORD_MAX);
        for (uint32_t i = 0; i < p->nbugs; i++)
            if (strlen(p->bugs[i]) == t.len && memcmp(p->bugs[i], t.s, t.len) == 0)
                return perr(ps, t.col, "duplicate bug '%s'", show(&t).s);
        if (p->nbugs >= PROG_MAX_BUGS)
            return perr(ps, t.col, "more than %d bugs", PROG_MAX_BUGS);
        char w[PROG_WORD_MAX + 1];
        memcpy(w, t.s, t.len);
        w[t.len] = '\0';
        if (rs_bug_find(w) < 0)
            return perr(ps, t.col, "unknown mutant '%s' (the names are in `refstorm list`)", w);
        if (program_add_bug(p, w) < 0)
            return perr(ps, t.col, "out of memory");
    }
    return end_of_line(ps, kw->s[0] == 'o' ? "option" : show(kw).s);
}

/* ---- thread headers and ops ------------------------------------------------------------- */

/* "<c>N" with N decimal: 1 and *v, 0 if the token has another shape, -1 overflow (reported). */
static int prefixed(parser *ps, const tok *t, char c, uint64_t *v)
{
    if (t->quoted || t->len < 2 || t->s[0] != c)
        return 0;
    int r = digits(t->s + 1, t->len - 1, v);
    if (r < 0)
        return perr(ps, t->col, "integer overflow in '%s'", show(t).s);
    return r;
}

static int thread_header(parser *ps, const tok *kw)
{
    program *p = ps->p;
    tok t, m, s;
    uint64_t idx = 0;
    int r;
    if (need(ps, &t, "thread index (t0..t63)") < 0 || (r = prefixed(ps, &t, 't', &idx)) < 0)
        return -1;
    if (r == 0)
        return perr(ps, t.col, "expected a thread index t0..t63, got '%s'",
                    t.quoted ? "\"...\"" : show(&t).s);
    if (idx >= PROG_MAX_THREADS)
        return perr(ps, t.col, "thread t%llu out of range: at most %d threads (t0..t%d)",
                    (unsigned long long)idx, PROG_MAX_THREADS, PROG_MAX_THREADS - 1);
    if (idx < p->nthreads)
        return perr(ps, t.col, "duplicate thread t%u (first declared at line %u)", (unsigned)idx,
                    (unsigned)ps->thread_line[idx]);
    if (idx > p->nthreads)
        return perr(ps, t.col, "thread t%u declared out of order: expected t%u next",
                    (unsigned)idx, (unsigned)p->nthreads);
    prog_mode mode = PROG_MODE_MAIN;
    prog_start start = PROG_START_AUTO;
    if (need(ps, &m, idx == 0 ? "'main' (t0 is the main thread)" : "start mode early|late|attach") < 0)
        return -1;
    if (idx == 0 && !word_is(&m, "main"))
        return perr(ps, m.col, "t0 is the main thread: declare it as 'thread t0 main'");
    if (idx > 0) {
        if (word_is(&m, "early"))
            mode = PROG_MODE_EARLY;
        else if (word_is(&m, "late"))
            mode = PROG_MODE_LATE;
        else if (word_is(&m, "attach"))
            mode = PROG_MODE_ATTACH;
        else if (word_is(&m, "main"))
            return perr(ps, m.col, "only t0 is 'main'");
        else
            return perr(ps, m.col, "expected a start mode early|late|attach, got '%s'",
                        m.quoted ? "\"...\"" : show(&m).s);
        if (need(ps, &s, "auto|spawn") < 0)
            return -1;
        if (word_is(&s, "auto"))
            start = PROG_START_AUTO;
        else if (word_is(&s, "spawn"))
            start = PROG_START_SPAWN;
        else
            return perr(ps, s.col, "expected auto|spawn, got '%s'", s.quoted ? "\"...\"" : show(&s).s);
    }
    if (end_of_line(ps, "thread") < 0)
        return -1;
    int ti = program_add_thread(p, mode, start);
    if (ti < 0)
        return perr(ps, kw->col, "cannot add thread");
    p->thread[ti].line = ps->lineno;
    p->thread[ti].col = (uint16_t)t.col;
    ps->thread_line[ti] = ps->lineno;
    ps->thread = ti;
    return 0;
}

static const char *const arg_what[] = {
    [PROG_ARG_REG] = "a register", [PROG_ARG_THR] = "a thread", [PROG_ARG_MBOX] = "a mailbox",
    [PROG_ARG_ROOT] = "a root", [PROG_ARG_LROOT] = "a late root", [PROG_ARG_SITE] = NULL};

/* Reads argument i of op into *v (or w[] for a site); col of the token into *col. */
static int op_arg(parser *ps, int op, int i, int32_t *v, char *w, uint16_t *col)
{
    const prog_opinfo *o = prog_op_info(op);
    const prog_argspec *a = &o->arg[i];
    char syn[160], msg[160];
    tok t;
    uint64_t x = 0;
    int r = lex(ps, &t);
    if (r < 0)
        return -1;
    if (r == 0) {
        prog_op_synopsis(op, syn, sizeof syn);
        return perr(ps, ps->end_col, "%s: missing argument <%s> (usage: %s)", o->name, a->name, syn);
    }
    *col = (uint16_t)t.col;
    shown sh = show(&t);
    const char *got = t.quoted ? "\"...\"" : sh.s;
    char c = prog_arg_prefix(a->kind);
    switch (a->kind) {
    case PROG_ARG_SITE:
        if (t.quoted || !prog_site_name_ok(t.s, t.len))
            return perr(ps, t.col, "%s: bad site name '%s' (expected dotted lower_snake words, e.g. alloc.gc)",
                        o->name, got);
        memcpy(w, t.s, t.len);
        w[t.len] = '\0';
        if (prog_arg_check(op, i, 0, w, msg, sizeof msg) < 0) /* a site the runtime has */
            return perr(ps, t.col, "%s", msg);
        return 0;
    case PROG_ARG_ENUM: {
        int k = t.quoted ? -1 : prog_enum_lookup(a->set, t.s, t.len);
        if (k < 0) {
            int n;
            const char *const *words = prog_enum_words(a->set, &n);
            size_t used = 0;
            msg[0] = '\0';
            for (int j = 0; j < n && used + strlen(words[j]) + 2 < sizeof msg; j++)
                used += (size_t)snprintf(msg + used, sizeof msg - used, "%s%s", j ? "|" : "", words[j]);
            return perr(ps, t.col, "%s: expected %s, got '%s'", o->name, msg, got);
        }
        *v = k;
        return 0;
    }
    case PROG_ARG_SLOT:
    case PROG_ARG_INT:
        r = t.quoted ? 0 : digits(t.s, t.len, &x);
        if (r < 0)
            return perr(ps, t.col, "integer overflow in '%s'", got);
        if (r == 0)
            return perr(ps, t.col, "%s: expected <%s> (an integer %d..%d), got '%s'", o->name,
                        a->name, (int)a->lo, (int)a->hi, got);
        if (x < (uint64_t)a->lo || x > (uint64_t)a->hi)
            return perr(ps, t.col, "%s: <%s> %s out of range (%d..%d)", o->name, a->name, got,
                        (int)a->lo, (int)a->hi);
        break;
    default:
        r = prefixed(ps, &t, c, &x);
        if (r < 0)
            return -1;
        if (r == 0)
            return perr(ps, t.col, "%s: expected %s %c%d..%c%d, got '%s'", o->name,
                        arg_what[a->kind], c, (int)a->lo, c, (int)a->hi, got);
        if (x < (uint64_t)a->lo || x > (uint64_t)a->hi)
            return perr(ps, t.col, "%s: %s out of range (%c%d..%c%d)", o->name, got, c,
                        (int)a->lo, c, (int)a->hi);
        break;
    }
    *v = (int32_t)x;
    return 0;
}

static int op_line(parser *ps, const tok *kw, int op)
{
    program *p = ps->p;
    const prog_opinfo *o = prog_op_info(op);
    prog_thread *th = &p->thread[ps->thread];
    int32_t args[PROG_MAX_ARGS] = {0};
    uint16_t cols[PROG_MAX_ARGS] = {0};
    char site[PROG_WORD_MAX + 1] = "";
    bool has_site = false;
    for (int i = 0; i < o->nargs; i++) {
        if (op_arg(ps, op, i, &args[i], site, &cols[i]) < 0)
            return -1;
        has_site |= o->arg[i].kind == PROG_ARG_SITE;
    }
    if (end_of_line(ps, o->name) < 0)
        return -1;
    if (th->nops >= PROG_MAX_OPS)
        return perr(ps, kw->col, "too many ops in t%d (at most %d)", ps->thread, PROG_MAX_OPS);
    int k = program_add_op_a(p, ps->thread, op, args, has_site ? site : NULL);
    if (k < 0)
        return perr(ps, kw->col, "out of memory");
    prog_op *dst = &th->ops[k];
    dst->line = ps->lineno;
    dst->col[0] = (uint16_t)kw->col;
    for (int i = 0; i < o->nargs; i++)
        dst->col[1 + i] = cols[i];
    return 0;
}

static bool is_header_word(const tok *t)
{
    static const char *const w[] = {"name", "seed", "check_rate", "timeout_ms", "option", "bug"};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (word_is(t, w[i]))
            return true;
    return false;
}

static int parse_line(parser *ps)
{
    tok kw;
    int r = lex(ps, &kw);
    if (r <= 0)
        return r; /* blank or comment, or a lexing error */
    if (kw.quoted)
        return perr(ps, kw.col, "expected a keyword or an op, got a string");
    if (!ps->version_seen) {
        uint64_t v;
        if (!word_is(&kw, "refstorm-scn"))
            return perr(ps, kw.col, "missing version line: the first line must be 'refstorm-scn %d'",
                        PROG_FORMAT_VERSION);
        tok t;
        if (need(ps, &t, "format version") < 0)
            return -1;
        int d = t.quoted ? 0 : digits(t.s, t.len, &v);
        if (d < 0)
            return perr(ps, t.col, "integer overflow in '%s'", show(&t).s);
        if (d == 0 || v != PROG_FORMAT_VERSION)
            return perr(ps, t.col, "unsupported format version '%s' (this build reads %d)",
                        t.quoted ? "\"...\"" : show(&t).s, PROG_FORMAT_VERSION);
        ps->version_seen = true;
        return end_of_line(ps, "refstorm-scn");
    }
    if (word_is(&kw, "refstorm-scn"))
        return perr(ps, kw.col, "duplicate version line");
    if (word_is(&kw, "thread"))
        return thread_header(ps, &kw);
    if (is_header_word(&kw)) {
        if (ps->thread >= 0)
            return perr(ps, kw.col, "'%s' must come before the first thread", show(&kw).s);
        return header_line(ps, &kw);
    }
    int op = prog_op_lookup(kw.s, kw.len);
    if (op < 0)
        return perr(ps, kw.col, ps->thread >= 0 ? "unknown op '%s'" : "unknown keyword '%s'",
                    show(&kw).s);
    if (ps->thread < 0)
        return perr(ps, kw.col, "op '%s' outside a thread block (declare 'thread t0 main' first)",
                    show(&kw).s);
    return op_line(ps, &kw, op);
}

int scn_parse_buffer(const char *buf, size_t len, const char *name, program *out, scn_error *err)
{
    parser *ps = calloc(1, sizeof *ps);
    program_init(out);
    err->file = name ? name : "<input>";
    err->line = err->col = 0;
    err->message[0] = '\0';
    if (!ps) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return -1;
    }
    ps->p = out;
    ps->err = err;
    ps->thread = -1;
    size_t pos = 0;
    uint32_t eof_col = 1; /* the end-of-input position: after the last line's bytes, or */
    bool eof_next = true; /* at the start of the line after it (empty input, final '\n') */
    int rc = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        const char *why;
        if (ps->lineno == UINT32_MAX - 1) {
            rc = perr(ps, 1, "more than %u lines", (unsigned)(UINT32_MAX - 2));
            break;
        }
        ps->lineno++;
        ps->line = buf + pos;
        ps->cur = 0;
        ps->end_col = 1;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && ps->line[n - 1] == '\r') /* CRLF line ends are accepted */
            n--;
        eof_next = nl != NULL;
        eof_col = nl ? 1 : (uint32_t)(n > SCN_MAX_LINE ? SCN_MAX_LINE : n) + 1;
        if (n > SCN_MAX_LINE) {
            rc = perr(ps, SCN_MAX_LINE + 1, "line longer than %d bytes", SCN_MAX_LINE);
            break;
        }
        ps->len = n;
        if (ps->lineno == 1 && n >= 3 && memcmp(ps->line, "\xEF\xBB\xBF", 3) == 0) {
            rc = perr(ps, 1, "the file starts with a UTF-8 byte order mark (EF BB BF): save it "
                             "without one (.scn files are plain ASCII)");
            break;
        }
        long bad = prog_text_check(ps->line, n, false, &why);
        if (bad >= 0) {
            rc = perr(ps, (uint32_t)bad + 1, "%s", why);
            break;
        }
        rc = parse_line(ps);
    }
    if (rc == 0) {
        ps->lineno += eof_next ? 1 : 0;
        if (!ps->version_seen)
            rc = perr(ps, eof_col, "missing version line: expected 'refstorm-scn %d'",
                      PROG_FORMAT_VERSION);
        else if (out->nthreads == 0)
            rc = perr(ps, eof_col, "no threads: a program needs at least 'thread t0 main'");
        else
            rc = program_validate(out, err);
    }
    free(ps);
    if (rc < 0)
        program_free(out);
    return rc;
}

int scn_parse_file(const char *path, program *out, scn_error *err)
{
    program_init(out);
    err->file = path;
    err->line = err->col = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = ncap <= SCN_MAX_FILE + (size_t)65536 ? realloc(buf, ncap) : NULL;
            if (!nb) {
                snprintf(err->message, sizeof err->message,
                         cap >= SCN_MAX_FILE ? "file larger than %u bytes" : "out of memory",
                         (unsigned)SCN_MAX_FILE);
                rc = -1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        len += k;
        if (k == 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err->message, sizeof err->message, "read error");
        rc = -1;
    }
    if (rc == 0 && len > SCN_MAX_FILE) {
        snprintf(err->message, sizeof err->message, "file larger than %u bytes", (unsigned)SCN_MAX_FILE);
        rc = -1;
    }
    fclose(f);
    if (rc == 0)
        rc = scn_parse_buffer(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- printer ---------------------------------------------------------------------------- */

static void print_string(const char *s, FILE *f)
{
    fputc('"', f);
    for (; s && *s; s++) {
        switch (*s) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        default: fputc(*s, f); break;
        }
    }
    fputc('"', f);
}

static void print_op(const prog_op *op, FILE *f)
{
    char text[PROG_OP_TEXT_MAX];
    prog_op_format(op, text, sizeof text);
    fprintf(f, "  %s\n", text);
}

int scn_print(const program *p, FILE *f)
{
    const prog_options *o = &p->opt;
    fprintf(f, "refstorm-scn %u\n", (unsigned)p->version);
    fputs("name ", f);
    print_string(p->name, f);
    fprintf(f, "\nseed %llu\n", (unsigned long long)o->seed);
    fprintf(f, "check_rate %u\n", (unsigned)o->check_rate);
    fprintf(f, "timeout_ms %u\n", (unsigned)o->timeout_ms);
    fprintf(f, "option immortalize_deferred %s\n", o->immortalize_deferred ? "on" : "off");
    fprintf(f, "option freelists %s\n", o->freelists ? "on" : "off");
    fprintf(f, "option gc_enabled %s\n", o->gc_enabled ? "on" : "off");
    fprintf(f, "option gc_threshold %u %u %u\n", (unsigned)o->gc_threshold[0],
            (unsigned)o->gc_threshold[1], (unsigned)o->gc_threshold[2]);
    fprintf(f, "option trash_depth %u\n", (unsigned)o->trash_depth);
    fprintf(f, "option validate %s\n", o->validate ? "on" : "off");
    if (o->torture != PROG_TORTURE_OFF) /* absent means off: older texts print unchanged */
        fprintf(f, "option torture %s\n", prog_torture_name(o->torture));
    if (o->auto_points) /* likewise: printed only when on */
        fprintf(f, "option auto_points on\n");
    for (uint32_t i = 0; i < p->nbugs; i++)
        fprintf(f, "bug %s\n", p->bugs[i]);
    for (uint32_t t = 0; t < p->nthreads && t < PROG_MAX_THREADS; t++) {
        const prog_thread *th = &p->thread[t];
        if (t == 0)
            fputs("\nthread t0 main\n", f);
        else
            fprintf(f, "\nthread t%u %s %s\n", (unsigned)t, prog_mode_name(th->mode),
                    prog_start_name(th->start));
        for (uint32_t k = 0; k < th->nops; k++)
            print_op(&th->ops[k], f);
    }
    return ferror(f) ? -1 : 0;
}

char *scn_print_to_buffer(const program *p, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    int rc = scn_print(p, f);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}
