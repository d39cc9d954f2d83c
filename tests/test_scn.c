/* test_scn.c — unit tests of the program model (harness/program.c) and its .scn text form
 * (harness/scn.c).
 *
 * Round trips: every corpus/scn/NAME.scn file and a program built in code that uses every op of
 * harness/ops.def must print, re-parse to an equal program and print byte-identically.
 * Rejections: every corpus/scn/bad/NAME.scn file states on its first line
 * `# expect: LINE:COL: message substring` and must be rejected exactly so.  Docs: docs/scn.md
 * must list every op with the synopsis the table implies.  Plus the building API's refusals,
 * validation of programs built in code, equality, and error formatting.
 *
 * Files are found relative to $REFSTORM_ROOT, else the current directory (the repo root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

static char *repo_path(const char *rel)
{
    const char *root = getenv("REFSTORM_ROOT");
    size_t n = strlen(root ? root : ".") + strlen(rel) + 2;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "%s/%s", root ? root : ".", rel);
    return s;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* print → parse → equal; print again → identical; copy → equal */
static void assert_round_trip(const program *p)
{
    size_t n1, n2;
    char *t1 = scn_print_to_buffer(p, &n1);
    assert_non_null(t1);
    program q, c;
    scn_error err;
    if (scn_parse_buffer(t1, n1, "printed", &q, &err) < 0) {
        char m[512];
        scn_error_format(&err, m, sizeof m);
        print_error("%s\n%s\n", m, t1);
        fail();
    }
    assert_true(program_equal(p, &q));
    char *t2 = scn_print_to_buffer(&q, &n2);
    assert_non_null(t2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    assert_int_equal(program_copy(&c, p), 0);
    assert_true(program_equal(p, &c));
    free(t1);
    free(t2);
    program_free(&q);
    program_free(&c);
}

static void test_corpus_round_trip(void **state)
{
    (void)state;
    char *pat = repo_path("corpus/scn/*.scn");
    int failures = 0;
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 5);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        program p;
        scn_error err;
        if (scn_parse_file(g.gl_pathv[i], &p, &err) < 0) {
            char m[512];
            scn_error_format(&err, m, sizeof m);
            print_error("%s\n", m);
            failures++;
            continue;
        }
        assert_true(p.nthreads >= 1);
        assert_round_trip(&p);
        program_free(&p);
    }
    globfree(&g);
    free(pat);
    assert_int_equal(failures, 0); /* every rejection is printed above */
}

/* A program that uses every op once or more, in a valid order. */
static void build_every_op(program *p)
{
    program_init(p);
    assert_int_equal(program_set_name(p, "every op: \"quoted\"\tand\\n"), 0);
    assert_int_equal(program_add_bug(p, "tid-zero-unmerged"), 0);
    assert_int_equal(program_add_bug(p, "gc-skips-stacks"), 1);
    p->opt.seed = PROG_SEED_MAX; /* the largest seed the format takes */
    p->opt.freelists = false;
    p->opt.validate = true;
    p->opt.gc_threshold[0] = 1;
    p->opt.check_rate = 3;
    assert_int_equal(program_add_thread(p, PROG_MODE_MAIN, PROG_START_AUTO), 0);
    assert_int_equal(program_add_thread(p, PROG_MODE_LATE, PROG_START_SPAWN), 1);
    assert_int_equal(program_add_thread(p, PROG_MODE_ATTACH, PROG_START_AUTO), 2);
    assert_int_equal(program_add_thread(p, PROG_MODE_EARLY, PROG_START_AUTO), 3);
#define OP(t, ...) assert_true(program_add_op(p, t, __VA_ARGS__) >= 0)
    OP(0, PROG_OP_NEW_LEAF, 0);
    OP(0, PROG_OP_NEW_CONTAINER, 1, 4);
    OP(0, PROG_OP_NEW_LIST, 2);
    OP(0, PROG_OP_NEW_TYPE, 3);
    OP(0, PROG_OP_NEW_INSTANCE, 4, 3, 0);
    OP(0, PROG_OP_NEW_INSTANCE, 5, 3, 8);
    OP(0, PROG_OP_NEW_CODE, 6, 2);
    OP(0, PROG_OP_NEW_FUNCTION, 7, 6);
    OP(0, PROG_OP_NEW_GENERATOR, 8, 6, PROG_FIN_RESURRECT);
    OP(0, PROG_OP_NEW_FINALIZABLE, 9, 3, PROG_FIN_DEALLOC_RESURRECT);
    OP(0, PROG_OP_NEW_WEAKREF, 10, 1, PROG_WRCB_CALLBACK);
    OP(0, PROG_OP_INCREF, 0);
    OP(0, PROG_OP_DECREF, 0);
    OP(0, PROG_OP_DUP, 11, 0);
    OP(0, PROG_OP_DROP, 11);
    OP(0, PROG_OP_DEFER, 1);
    OP(0, PROG_OP_STORE, 1, 3, 0);
    OP(0, PROG_OP_CLEAR_SLOT, 1, 3);
    OP(0, PROG_OP_LOAD, 12, 1, 0);
    OP(0, PROG_OP_LIST_APPEND, 2, 0);
    OP(0, PROG_OP_LIST_GET, 13, 2, 1023);
    OP(0, PROG_OP_LIST_SET, 2, 1023, 7);
    OP(0, PROG_OP_LIST_RESIZE, 2, 4096);
    OP(0, PROG_OP_ROOT_SET, 7, 1);
    OP(0, PROG_OP_ROOT_GET, 14, 7);
    OP(0, PROG_OP_ROOT_CLEAR, 7);
    OP(0, PROG_OP_LATE_ROOT_SET, 1, 7);
    OP(0, PROG_OP_LATE_ROOT_CLEAR, 1);
    OP(0, PROG_OP_WEAKREF_GET, 15, 10);
    OP(0, PROG_OP_SEND, 0, 0);
    OP(0, PROG_OP_RECV, 0, 7);
    OP(0, PROG_OP_FRAME_PUSH, 6);
    OP(0, PROG_OP_LOCAL_STORE, 7, 1);
    OP(0, PROG_OP_STACK_PUSH, 7);
    OP(0, PROG_OP_STACK_POP);
    OP(0, PROG_OP_FRAME_PUSH_FN, 6, 7);
    OP(0, PROG_OP_FRAME_POP);
    OP(0, PROG_OP_FRAME_POP);
    OP(0, PROG_OP_CREF_PUSH, 1);
    OP(0, PROG_OP_CREF_POP);
    OP(0, PROG_OP_GC_COLLECT);
    OP(0, PROG_OP_GC_DISABLE);
    OP(0, PROG_OP_GC_ENABLE);
    OP(0, PROG_OP_GC_THRESHOLD, 1000000000, 0, 10);
    OP(0, PROG_OP_SPAWN, 1);
    OP(0, PROG_OP_ASYNC_EXC, 1);
    OP(0, PROG_OP_MERGE_REQUEST, 3);
    OP(0, PROG_OP_POLL);
    OP(0, PROG_OP_SUPPRESS);
    OP(0, PROG_OP_UNSUPPRESS);
    OP(0, PROG_OP_QSBR);
    OP(0, PROG_OP_RECLAIM);
    OP(0, PROG_OP_CHURN_FREELIST, PROG_FLKIND_LIST, 100000);
    OP(0, PROG_OP_CHURN_TYPE, 3, 1);
    OP(0, PROG_OP_DEEP_CHAIN, 12, 2000000);
    OP(0, PROG_OP_FAIL_ALLOC, 1000);
    OP(0, PROG_OP_FAIL_ALLOC_AT, 1, "alloc.gc");
    OP(0, PROG_OP_FAIL_ALLOC_AT, 2, "typeid.*");
    OP(0, PROG_OP_YIELD);
    OP(0, PROG_OP_STW);
    OP(0, PROG_OP_SPIN, 1);
    OP(0, PROG_OP_JOIN, 1);
    OP(0, PROG_OP_DETACH);
    OP(0, PROG_OP_ATTACH);
    OP(0, PROG_OP_SHUTDOWN);
    OP(1, PROG_OP_YIELD);
    OP(1, PROG_OP_FAIL_ALLOC, 1);
    OP(1, PROG_OP_BIND);
    OP(1, PROG_OP_RECV, 15, 0);
    OP(1, PROG_OP_DROP, 15);
    OP(1, PROG_OP_EXIT);
    OP(2, PROG_OP_ATTACH);
    OP(2, PROG_OP_NEW_LEAF, 0);
    OP(2, PROG_OP_DETACH);
    OP(3, PROG_OP_POLL);
#undef OP
}

static void test_every_op_round_trip(void **state)
{
    (void)state;
    program p;
    prog_error err;
    bool used[PROG_OP__COUNT] = {false};
    build_every_op(&p);
    if (program_validate(&p, &err) < 0) {
        print_error("%s\n", err.message);
        fail();
    }
    for (uint32_t t = 0; t < p.nthreads; t++)
        for (uint32_t k = 0; k < p.thread[t].nops; k++)
            used[p.thread[t].ops[k].code] = true;
    for (int op = 0; op < PROG_OP__COUNT; op++)
        if (!used[op]) {
            print_error("op %s is not exercised by build_every_op\n", prog_op_info(op)->name);
            fail();
        }
    assert_round_trip(&p);
    program_free(&p);
}

static void test_bad_corpus(void **state)
{
    (void)state;
    char *pat = repo_path("corpus/scn/bad/*.scn");
    int failures = 0;
    glob_t g;
    assert_int_equal(glob(pat, 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 20);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t len;
        char *text = read_all(path, &len);
        assert_non_null(text);
        unsigned line = 0, col = 0;
        int used = 0;
        if (sscanf(text, "# expect: %u:%u: %n", &line, &col, &used) != 2 || used == 0) {
            print_error("%s: first line must be '# expect: LINE:COL: message'\n", path);
            failures++;
            free(text);
            continue;
        }
        const char *want = text + used;
        size_t want_len = strcspn(want, "\n");
        program p;
        scn_error err;
        int rc = scn_parse_file(path, &p, &err);
        char m[512];
        scn_error_format(&err, m, sizeof m);
        bool ok = rc < 0 && err.line == line && err.col == col && err.file == path
            && want_len > 0 && memmem(err.message, strlen(err.message), want, want_len)
            && p.nthreads == 0 && p.name == NULL; /* a rejected parse leaves an empty program */
        if (!ok) {
            print_error("%s: expected %u:%u: %.*s\n  got: %s\n", path, line, col, (int)want_len,
                        want, rc < 0 ? m : "(accepted)");
            failures++;
        }
        program_free(&p);
        free(text);
    }
    globfree(&g);
    free(pat);
    assert_int_equal(failures, 0); /* every mismatch is printed above */
}

static void test_docs_cover_every_op(void **state)
{
    (void)state;
    char *path = repo_path("docs/scn.md");
    size_t len;
    char *doc = read_all(path, &len);
    assert_non_null(doc);
    for (int op = 0; op < PROG_OP__COUNT; op++) {
        char syn[200], want[210];
        prog_op_synopsis(op, syn, sizeof syn);
        snprintf(want, sizeof want, "`%s`", syn);
        if (!strstr(doc, want)) {
            print_error("docs/scn.md does not list %s\n", want);
            fail();
        }
    }
    /* the example in the docs is valid and in canonical form */
    const char *ex = strstr(doc, "## Example\n\n```\n");
    assert_non_null(ex);
    ex += strlen("## Example\n\n```\n");
    const char *ex_end = strstr(ex, "```\n");
    assert_non_null(ex_end);
    program p;
    scn_error err;
    assert_int_equal(scn_parse_buffer(ex, (size_t)(ex_end - ex), "docs example", &p, &err), 0);
    char *printed = scn_print_to_buffer(&p, NULL);
    assert_non_null(printed);
    assert_int_equal(strlen(printed), (size_t)(ex_end - ex));
    assert_memory_equal(printed, ex, strlen(printed));
    free(printed);
    program_free(&p);
    free(doc);
    free(path);
}

static void test_op_table_is_sane(void **state)
{
    (void)state;
    for (int op = 0; op < PROG_OP__COUNT; op++) {
        const prog_opinfo *o = prog_op_info(op);
        assert_non_null(o);
        assert_non_null(o->name);
        assert_true(strlen(o->doc) > 10);
        assert_int_equal(prog_op_lookup(o->name, strlen(o->name)), op);
        for (const char *c = o->name; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || *c == '_');
        int sites = 0;
        for (int i = 0; i < PROG_MAX_ARGS; i++) {
            /* NO only after the last argument */
            assert_int_equal(o->arg[i].kind != PROG_ARG_NONE, i < o->nargs);
            if (i < o->nargs) {
                assert_true(o->arg[i].lo <= o->arg[i].hi || o->arg[i].kind == PROG_ARG_SITE);
                sites += o->arg[i].kind == PROG_ARG_SITE;
            }
        }
        assert_true(sites <= 1);
    }
    assert_null(prog_op_info(PROG_OP__COUNT));
    assert_null(prog_op_info(-1));
    assert_int_equal(prog_op_lookup("new_lea", 7), -1);
    int n;
    assert_string_equal(prog_enum_words(PROG_ESET_FIN, &n)[2], "dealloc_resurrect");
    assert_int_equal(n, 4);
    char syn[128];
    prog_op_synopsis(PROG_OP_NEW_GENERATOR, syn, sizeof syn);
    assert_string_equal(syn, "new_generator r<dst> r<code> none|resurrect|dealloc_resurrect|collect");
    prog_op_synopsis(PROG_OP_NEW_CONTAINER, syn, 12); /* truncation stays terminated */
    assert_string_equal(syn, "new_contain");
}

static void test_build_api_refuses_bad_input(void **state)
{
    (void)state;
    program p;
    program_init(&p);
    assert_int_equal(program_add_thread(&p, PROG_MODE_EARLY, PROG_START_AUTO), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_NEW_LEAF, 0), -1); /* no thread yet */
    assert_int_equal(program_add_thread(&p, PROG_MODE_MAIN, PROG_START_SPAWN), 0);
    assert_int_equal(p.thread[0].start, PROG_START_AUTO);
    assert_int_equal(program_add_thread(&p, PROG_MODE_MAIN, PROG_START_AUTO), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_NEW_LEAF, 16), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_NEW_LEAF, -1), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_NEW_CONTAINER, 0, 0), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_NEW_GENERATOR, 0, 1, 4), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_FAIL_ALLOC_AT, 1, "Alloc"), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_FAIL_ALLOC_AT, 1, "alloc."), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_FAIL_ALLOC_AT, 1, "*"), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_FAIL_ALLOC_AT, 1, NULL), -1);
    assert_int_equal(program_add_op(&p, 1, PROG_OP_NEW_LEAF, 0), -1);  /* no such thread */
    assert_int_equal(program_add_op(&p, 0, PROG_OP__COUNT), -1);
    assert_int_equal(program_add_op(&p, 0, PROG_OP_FAIL_ALLOC_AT, 1, "alloc.*"), 0);
    assert_int_equal(p.thread[0].nops, 1);
    assert_int_equal(program_add_bug(&p, "Bad"), -1);
    assert_int_equal(program_add_bug(&p, "-x"), -1);
    assert_int_equal(program_add_bug(&p, "ok-1_2"), 0);
    assert_int_equal(program_add_bug(&p, "ok-1_2"), -1);
    assert_int_equal(program_set_name(&p, "bell\a"), -1);
    assert_int_equal(program_set_name(&p, "bad \xff utf8"), -1);
    assert_int_equal(program_set_name(&p, "caf\xc3\xa9\n"), 0);
    char big[PROG_NAME_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(program_set_name(&p, big), -1);
    assert_string_equal(p.name, "caf\xc3\xa9\n");
    program_free(&p);
    assert_int_equal(p.nthreads, 0);
    assert_null(p.name);
}

static void test_validate_program_built_in_code(void **state)
{
    (void)state;
    program p;
    prog_error err = {0};
    program_init(&p);
    assert_int_equal(program_validate(&p, &err), -1);
    assert_non_null(strstr(err.message, "no threads"));
    program_add_thread(&p, PROG_MODE_MAIN, 0);
    program_add_thread(&p, PROG_MODE_EARLY, PROG_START_AUTO);
    assert_int_equal(program_validate(&p, &err), 0);
    program_add_op(&p, 0, PROG_OP_YIELD);
    program_add_op(&p, 0, PROG_OP_SPAWN, 1);
    assert_int_equal(program_validate(&p, &err), -1);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.message, "t0 op 1: spawn: t1 is an 'auto' thread; only 'spawn' threads can be spawned");
    program_free(&p);

    /* the same through text: positions instead of the t/op prefix */
    const char *text = "refstorm-scn 1\nthread t0 main\n  yield\n  spawn t1\nthread t1 early auto\n";
    scn_error e;
    assert_int_equal(scn_parse_buffer(text, strlen(text), "x.scn", &p, &e), -1);
    char m[300];
    scn_error_format(&e, m, sizeof m);
    assert_string_equal(m, "x.scn:4:9: spawn: t1 is an 'auto' thread; only 'spawn' threads can be spawned");

    /* the state walker as a generator would use it */
    prog_tstate st;
    char msg[128];
    prog_op bind = {.code = PROG_OP_BIND}, leaf = {.code = PROG_OP_NEW_LEAF};
    prog_tstate_init(&st, 2, PROG_MODE_LATE);
    assert_int_equal(prog_tstate_step(&st, &leaf, msg, sizeof msg), -1);
    assert_int_equal(st.state, PROG_TS_UNBOUND);
    assert_int_equal(prog_tstate_step(&st, &bind, msg, sizeof msg), 0);
    assert_int_equal(prog_tstate_step(&st, &leaf, msg, sizeof msg), 0);
    assert_int_equal(prog_tstate_step(&st, &bind, msg, sizeof msg), -1);
    assert_string_equal(msg, "bind: t2 is already bound");
}

static void test_equal_sees_every_field(void **state)
{
    (void)state;
    program a, b;
    build_every_op(&a);
    assert_int_equal(program_copy(&b, &a), 0);
    assert_true(program_equal(&a, &b));
    b.opt.seed--;
    assert_false(program_equal(&a, &b));
    b.opt.seed++;
    b.thread[0].ops[1].arg[1] = 3;
    assert_false(program_equal(&a, &b));
    b.thread[0].ops[1].arg[1] = 4;
    b.thread[0].ops[1].arg[3] = 99; /* beyond nargs: not part of the op */
    b.thread[0].ops[1].line = 42;   /* positions are ignored */
    assert_true(program_equal(&a, &b));
    b.thread[2].mode = PROG_MODE_LATE;
    assert_false(program_equal(&a, &b));
    b.thread[2].mode = PROG_MODE_ATTACH;
    uint32_t k = a.thread[0].nops;
    while (k-- && a.thread[0].ops[k].code != PROG_OP_FAIL_ALLOC_AT)
        ;
    b.thread[0].ops[k].str[0] = 'x';
    assert_false(program_equal(&a, &b));
    b.thread[0].ops[k].str[0] = a.thread[0].ops[k].str[0];
    free(b.bugs[1]);
    b.bugs[1] = strdup("other");
    assert_false(program_equal(&a, &b));
    program_free(&b);
    program_init(&b);
    assert_false(program_equal(&a, &b));
    program_free(&a);
    program_init(&a);
    assert_true(program_equal(&a, &b)); /* NULL name == "" */
    assert_int_equal(program_set_name(&a, ""), 0);
    assert_true(program_equal(&a, &b));
    program_free(&a);
}

static void test_canonical_text(void **state)
{
    (void)state;
    const char *in =
        "# a comment\r\n"
        "\n"
        "refstorm-scn 1   # version\r\n"
        "thread t0 main\n"
        "\t new_leaf   r0#no space needed\n"
        "        send m0 r0\n"
        "thread t1 early auto\n"
        "recv r1 m0\n"
        "name_is_not_an_op_here_but_yield_is:\n";
    program p;
    scn_error err;
    /* the last line is an unknown op: the error points at it */
    assert_int_equal(scn_parse_buffer(in, strlen(in), NULL, &p, &err), -1);
    assert_int_equal(err.line, 9);
    assert_int_equal(err.col, 1);
    assert_string_equal(err.file, "<input>");
    /* without it, the text parses and prints canonically */
    size_t len = strlen(in) - strlen("name_is_not_an_op_here_but_yield_is:\n");
    char *exact = malloc(len); /* no terminator: the parser must stay inside len */
    assert_non_null(exact);
    memcpy(exact, in, len);
    assert_int_equal(scn_parse_buffer(exact, len, "exact", &p, &err), 0);
    free(exact);
    char *out = scn_print_to_buffer(&p, NULL);
    assert_string_equal(out,
                        "refstorm-scn 1\n"
                        "name \"\"\n"
                        "seed 0\n"
                        "check_rate 0\n"
                        "timeout_ms 10000\n"
                        "option immortalize_deferred on\n"
                        "option freelists on\n"
                        "option gc_enabled on\n"
                        "option gc_threshold 2000 10 10\n"
                        "option trash_depth 50\n"
                        "option validate off\n"
                        "\n"
                        "thread t0 main\n"
                        "  new_leaf r0\n"
                        "  send m0 r0\n"
                        "\n"
                        "thread t1 early auto\n"
                        "  recv r1 m0\n");
    free(out);
    program_free(&p);
}

static void test_errors_without_position(void **state)
{
    (void)state;
    program p;
    scn_error err;
    assert_int_equal(scn_parse_file("/nonexistent/dir/x.scn", &p, &err), -1);
    char m[300];
    scn_error_format(&err, m, sizeof m);
    assert_string_equal(m, "/nonexistent/dir/x.scn: cannot open: No such file or directory");
    /* a directory opens but cannot be read */
    assert_int_equal(scn_parse_file("/", &p, &err), -1);
    assert_int_equal(err.line, 0);
    /* embedded NUL inside a quoted name */
    static const char nul[] = "refstorm-scn 1\nname \"a\0b\"\nthread t0 main\n";
    assert_int_equal(scn_parse_buffer(nul, sizeof nul - 1, "nul", &p, &err), -1);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 8);
    assert_string_equal(err.message, "NUL byte");
    /* a long token is shortened in messages, on a UTF-8 boundary */
    const char *lng = "refstorm-scn 1\nthread t0 main\n  x\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n";
    assert_int_equal(scn_parse_buffer(lng, strlen(lng), "long", &p, &err), -1);
    assert_int_equal(err.col, 3);
    assert_non_null(strstr(err.message, "\xc3\xa9...'"));
    const char *why;
    assert_true(prog_text_check(err.message, strlen(err.message), false, &why) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_table_is_sane),
        cmocka_unit_test(test_corpus_round_trip),
        cmocka_unit_test(test_every_op_round_trip),
        cmocka_unit_test(test_bad_corpus),
        cmocka_unit_test(test_docs_cover_every_op),
        cmocka_unit_test(test_build_api_refuses_bad_input),
        cmocka_unit_test(test_validate_program_built_in_code),
        cmocka_unit_test(test_equal_sees_every_field),
        cmocka_unit_test(test_canonical_text),
        cmocka_unit_test(test_errors_without_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
