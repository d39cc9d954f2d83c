/* test_scenarios.c — unit tests of the scenario registry and generators (scenarios/).
 *
 * Registry: names unique and well formed, every row has a property and at least one target
 * with detectors, lookups by name and by mutant agree with the table, and every mutant of
 * runtime/include/rs/bugs.def is targeted by some scenario.  Generators: for every scenario, 200 seeds at
 * 4, 8 and 64 threads give programs that program_validate accepts, with the requested thread
 * count and a check rate; the same (name, seed, params) prints byte-identically, different
 * seeds differ, printed text parses back to an equal program; bad params are refused.
 * Docs: README.md's "Scenarios" section holds exactly the row scenario_format_row gives for
 * each registry entry.
 *
 * Files are found relative to $REFSTORM_ROOT, else the current directory (the repo root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"
#include "bugs.h"
#include "scenario.h"

static void test_registry_rows(void **state)
{
    (void)state;
    assert_true(scenario_count() >= 22); /* 22 since gc-threshold-race */
    assert_null(scenario_at(scenario_count()));
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *s = scenario_at(i);
        assert_non_null(s);
        assert_true(prog_bug_name_ok(s->name, strlen(s->name))); /* lower-kebab word */
        assert_true(strlen(s->property) > 20);
        assert_non_null(s->gen);
        assert_true(s->default_threads >= SCENARIO_MIN_THREADS && s->default_threads <= PROG_MAX_THREADS);
        assert_true(s->ntargets >= 1);
        for (size_t k = 0; k < s->ntargets; k++) {
            assert_true(prog_bug_name_ok(s->targets[k].mutant, strlen(s->targets[k].mutant)));
            assert_true(s->targets[k].detectors != 0);
            assert_true(s->targets[k].detectors < (1u << SCN_DETBIT__COUNT));
            for (size_t j = 0; j < k; j++)
                assert_string_not_equal(s->targets[j].mutant, s->targets[k].mutant);
        }
        assert_ptr_equal(scenario_find(s->name), s);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(scenario_at(j)->name, s->name);
    }
    assert_null(scenario_find("no-such-scenario"));
    assert_null(scenario_find(NULL));
}

static void test_for_mutant(void **state)
{
    (void)state;
    const scenario *out[64];
    size_t n = scenario_for_mutant("merge-request-lost", out, 64);
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < out[i]->ntargets; k++)
            found |= strcmp(out[i]->targets[k].mutant, "merge-request-lost") == 0;
        assert_true(found);
    }
    /* the count is the total even when out is short */
    assert_int_equal(scenario_for_mutant("merge-request-lost", out, 1), n);
    assert_int_equal(scenario_for_mutant("merge-request-lost", NULL, 0), n);
    assert_int_equal(scenario_for_mutant("no-such-mutant", out, 64), 0);
    /* every (scenario, target) pair is found by its mutant */
    size_t pairs = 0, total = 0;
    for (size_t i = 0; i < scenario_count(); i++)
        pairs += scenario_at(i)->ntargets;
    for (size_t i = 0; i < scenario_count(); i++)
        for (size_t k = 0; k < scenario_at(i)->ntargets; k++) {
            const char *m = scenario_at(i)->targets[k].mutant;
            bool first = true; /* count each mutant once */
            for (size_t j = 0; j <= i && first; j++)
                for (size_t q = 0; q < scenario_at(j)->ntargets; q++)
                    if ((j < i || q < k) && strcmp(scenario_at(j)->targets[q].mutant, m) == 0)
                        first = false;
            if (first)
                total += scenario_for_mutant(m, NULL, 0);
        }
    assert_int_equal(total, pairs);
}

/* every mutant the runtime registers today has a scenario aimed at it */
static void test_every_runtime_mutant_targeted(void **state)
{
    (void)state;
    assert_true(rs_bug_count() > 0);
    for (size_t i = 0; i < rs_bug_count(); i++) {
        size_t n = scenario_for_mutant(rs_bug_name(i), NULL, 0);
        if (n == 0)
            print_error("mutant %s is targeted by no scenario\n", rs_bug_name(i));
        assert_true(n > 0);
    }
}

static void test_detector_names(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(scenario_detector_name(SCN_DETBIT_TSAN), "TSan");
    assert_null(scenario_detector_name(SCN_DETBIT__COUNT));
    assert_null(scenario_detector_name(-1));
    assert_int_equal(scenario_detectors_format(SCN_TSAN | SCN_RT | SCN_LEAK, buf, sizeof buf), 14);
    assert_string_equal(buf, "TSan, RT, Leak");
    assert_int_equal(scenario_detectors_format(0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* truncation reports the full length and stays terminated */
    assert_int_equal(scenario_detectors_format(SCN_TSAN | SCN_ASAN, buf, 5), 10);
    assert_string_equal(buf, "TSan");
}

static void check_valid(const scenario *s, uint64_t seed, int nthreads, int ops)
{
    scenario_params sp = {nthreads, ops};
    program *p = scenario_generate(s, seed, &sp);
    if (!p)
        print_error("%s seed %llu threads %d: no program (run with REFSTORM_GEN_DEBUG=1)\n",
                    s->name, (unsigned long long)seed, nthreads);
    assert_non_null(p);
    /* scenario_generate returns only programs program_validate accepted; re-check a quarter
     * of them here independently (validation dominates this test's time under TSan) */
    if (seed % 4 == 0) {
        prog_error err;
        int rc = program_validate(p, &err);
        if (rc < 0)
            print_error("%s seed %llu: %s\n", s->name, (unsigned long long)seed, err.message);
        assert_int_equal(rc, 0);
    }
    assert_int_equal(p->nthreads, (uint32_t)nthreads);
    assert_true(p->opt.check_rate >= 1);
    assert_int_equal(p->opt.seed, seed);
    assert_string_equal(p->name, s->name);
    assert_int_equal(p->nbugs, 0); /* mutants are the caller's to add */
    /* every thread does something, and nothing much beyond the size knob */
    for (uint32_t t = 0; t < p->nthreads; t++) {
        assert_true(p->thread[t].nops > 0);
        assert_true(p->thread[t].nops < (uint32_t)(8 * ops + 4 * PROG_MAX_THREADS + 64));
    }
    scenario_program_free(p);
}

/* 200 seeds at 4, 8 and 64 threads, 32 ops per thread (16 at 64 threads; the default size is covered by
 * test_extremes and test_deterministic; this keeps the sweep fast under TSan) */
static void test_valid_programs(void **state)
{
    (void)state;
    static const int threads[] = {4, 8, 64};
    for (size_t i = 0; i < scenario_count(); i++)
        for (size_t k = 0; k < 3; k++)
            for (uint64_t seed = 0; seed < 200; seed++)
                check_valid(scenario_at(i), seed * 0x9e3779b97f4a7c15ull + k, threads[k],
                            threads[k] == 64 ? 16 : 32);
}

static void test_extremes(void **state)
{
    (void)state;
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *s = scenario_at(i);
        for (uint64_t seed = 0; seed < 10; seed++) {
            check_valid(s, seed, SCENARIO_MIN_THREADS, SCENARIO_MIN_OPS);
            check_valid(s, seed, 3, SCENARIO_MIN_OPS);
            check_valid(s, ~seed, 64, SCENARIO_DEFAULT_OPS);
            check_valid(s, seed, 5, 600);
        }
    }
}

static char *print(const program *p, size_t *len)
{
    char *t = scn_print_to_buffer(p, len);
    assert_non_null(t);
    return t;
}

static void test_deterministic(void **state)
{
    (void)state;
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *s = scenario_at(i);
        size_t differ = 0;
        for (uint64_t seed = 1; seed <= 8; seed++) {
            scenario_params sp = {0, 0}; /* defaults */
            program *a = scenario_generate(s, seed, &sp), *b = scenario_generate(s, seed, NULL);
            program *c = scenario_generate(s, seed + 1000, NULL);
            assert_non_null(a);
            assert_non_null(b);
            assert_non_null(c);
            assert_int_equal(a->nthreads, (uint32_t)s->default_threads);
            size_t la, lb, lc;
            char *ta = print(a, &la), *tb = print(b, &lb), *tc = print(c, &lc);
            assert_int_equal(la, lb);
            assert_memory_equal(ta, tb, la);
            differ += la != lc || memcmp(ta, tc, la) != 0;
            /* the text form carries the whole program */
            program q;
            scn_error err;
            assert_int_equal(scn_parse_buffer(ta, la, s->name, &q, &err), 0);
            assert_true(program_equal(a, &q));
            program_free(&q);
            free(ta);
            free(tb);
            free(tc);
            scenario_program_free(a);
            scenario_program_free(b);
            scenario_program_free(c);
        }
        if (differ < 7)
            print_error("%s: only %zu of 8 seed pairs differ\n", s->name, differ);
        assert_true(differ >= 7);
    }
}

static void test_bad_params(void **state)
{
    (void)state;
    const scenario *s = scenario_at(0);
    scenario_params bad[] = {{1, 0}, {65, 0}, {-3, 0}, {0, SCENARIO_MIN_OPS - 1}, {0, SCENARIO_MAX_OPS + 1}, {0, -1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scenario_params out;
        assert_int_equal(scenario_params_resolve(s, &bad[i], &out), -1);
        assert_null(scenario_generate(s, 1, &bad[i]));
    }
    assert_null(scenario_generate(NULL, 1, NULL));
    scenario_params out, in = {0, 0};
    assert_int_equal(scenario_params_resolve(s, &in, &out), 0);
    assert_int_equal(out.nthreads, s->default_threads);
    assert_int_equal(out.ops_per_thread, SCENARIO_DEFAULT_OPS);
}

static char *read_readme(void)
{
    const char *root = getenv("REFSTORM_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/README.md", root ? root : ".");
    FILE *f = fopen(path, "rb");
    if (!f)
        print_error("cannot open %s (set REFSTORM_ROOT)\n", path);
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* README's "## Scenarios" section holds each registry row, and no row of an unknown scenario */
static void test_readme_lists_scenarios(void **state)
{
    (void)state;
    char *readme = read_readme();
    char *sec = strstr(readme, "\n## Scenarios\n");
    assert_non_null(sec);
    char *end = strstr(sec + 1, "\n## ");
    if (end)
        end[1] = '\0';
    for (size_t i = 0; i < scenario_count(); i++) {
        char row[2048], line[2060];
        scenario_format_row(scenario_at(i), row, sizeof row);
        snprintf(line, sizeof line, "\n%s\n", row);
        if (!strstr(sec, line))
            print_error("README.md \"Scenarios\" lacks (or has a stale) row:\n%s\n", row);
        assert_non_null(strstr(sec, line));
    }
    size_t rows = 0;
    for (char *l = strstr(sec, "\n| `"); l; l = strstr(l + 1, "\n| `"))
        rows++;
    assert_int_equal(rows, scenario_count());
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_rows),
        cmocka_unit_test(test_for_mutant),
        cmocka_unit_test(test_every_runtime_mutant_targeted),
        cmocka_unit_test(test_detector_names),
        cmocka_unit_test(test_valid_programs),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_readme_lists_scenarios),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
