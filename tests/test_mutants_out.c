/* test_mutants_out.c — the scoreboard's verdict and outputs (harness/mutants_out.c) and the
 * JUnit writer (harness/junit.c), on hand-built boards: the verdict names exactly the
 * undetected mutants and "clean" when the clean row has findings; the text table and
 * summary.md show the rows and the verdict; summary.json round-trips the board; junit.xml
 * counts cases and failures and escapes XML; no temporary file is left behind.  The running
 * side (mutants.c) is covered end to end by tests/e2e/mutants.sh. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "junit.h"
#include "mutants.h"
#include "files.h"
#include "scoreboard.h"

static json_t *row(const char *name, int detected, int undetected, int not_runnable)
{
    json_t *r = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i}", "name", name,
                          "variant", "asan", "expected", "Inv", "scenarios", "merge-at-zero",
                          "seeds", 3, "detected", detected, "undetected", undetected,
                          "not_runnable", not_runnable, "trials", 10);
    json_object_set_new(r, "detector", detected ? json_string("H1") : json_null());
    json_object_set_new(r, "median_s", detected ? json_real(0.25) : json_null());
    json_object_set_new(r, "max_s", detected ? json_real(0.75) : json_null());
    json_object_set_new(r, "not_runnable_reason",
                        not_runnable ? json_string("merge-at-zero: unsupported: op X needs Y")
                                     : json_null());
    json_object_set_new(r, "first", json_null());
    return r;
}

static json_t *board(int clean_findings)
{
    json_t *b = json_pack("{s:i, s:s, s:i, s:f, s:n, s:f, s:[]}", "format", 1, "variant",
                          "asan+tsan", "seeds", 3, "budget_s", 5.0, "force_bug", "seconds", 12.5,
                          "unregistered");
    json_t *rows = json_array();
    json_array_append_new(rows, row("tid-zero-unmerged", 3, 0, 0));
    json_array_append_new(rows, row("gc-skips-stacks", 0, 2, 1));
    json_array_append_new(rows, row("frames-not-zeroed", 0, 0, 3));
    json_object_set_new(b, "mutants", rows);
    json_t *list = json_array();
    if (clean_findings)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}",
                                              "verdict", "invariant", "check", "H1", "scenario",
                                              "gc-cycles", "mode", "chaos", "variant", "asan",
                                              "program_seed", 1, "sched_seed", 4294967296,
                                              "message", "a <bad> & \"quoted\" thing"));
    json_object_set_new(b, "clean", json_pack("{s:i, s:i, s:i, s:i, s:i, s:o}", "seeds", 3,
                                              "findings", clean_findings, "trials", 57, "passed",
                                              57 - clean_findings, "not_runnable", 0, "list", list));
    return b;
}

static char *failing(json_t *b)
{
    json_t *f = json_object_get(b, "failing");
    char *s = json_dumps(f, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

static void test_judge(void **state)
{
    (void)state;
    json_t *b = board(0);
    mutants_judge(b);
    assert_false(json_is_true(json_object_get(b, "ok")));
    char *f = failing(b);
    assert_string_equal(f, "[\"gc-skips-stacks\",\"frames-not-zeroed\"]");
    free(f);
    json_decref(b);

    b = board(1);
    mutants_judge(b);
    f = failing(b);
    assert_string_equal(f, "[\"gc-skips-stacks\",\"frames-not-zeroed\",\"clean\"]");
    free(f);
    json_decref(b);

    /* every mutant detected and a clean row without findings: ok */
    b = board(0);
    json_t *rows = json_array();
    json_array_append_new(rows, row("tid-zero-unmerged", 1, 2, 0));
    json_object_set_new(b, "mutants", rows);
    mutants_judge(b);
    assert_true(json_is_true(json_object_get(b, "ok")));
    assert_int_equal(json_array_size(json_object_get(b, "failing")), 0);
    json_decref(b);
}

static char *table(json_t *b)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    mutants_print_table(f, b);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_table(void **state)
{
    (void)state;
    json_t *b = board(1);
    mutants_judge(b);
    char *t = table(b);
    assert_non_null(strstr(t, "tid-zero-unmerged"));
    assert_non_null(strstr(t, "3/3"));
    assert_non_null(strstr(t, "0.25 s"));
    assert_non_null(strstr(t, "0.75 s"));
    assert_non_null(strstr(t, "1 finding(s) in 57 trials"));
    assert_non_null(strstr(t, "FAIL: not detected: gc-skips-stacks, frames-not-zeroed; the clean "
                              "runtime had 1 finding(s)"));
    free(t);
    json_decref(b);
}

static char *slurp(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *s = file_read_all(path, 1u << 20, NULL);
    assert_non_null(s);
    return s;
}

static void test_summary_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/rs-test-mutants-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[600];
    snprintf(sub, sizeof sub, "%s/gate", dir); /* created by the writer */
    json_t *b = board(1);
    mutants_judge(b);
    assert_int_equal(mutants_write_summary(sub, b), 0);

    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", sub);
    json_error_t je;
    json_t *back = json_load_file(path, 0, &je);
    assert_non_null(back);
    assert_true(json_equal(back, b));
    json_decref(back);

    char *md = slurp(sub, "summary.md");
    assert_non_null(strstr(md, "**FAIL**"));
    assert_non_null(strstr(md, "| `gc-skips-stacks` | asan | 0/3 | 2 | 1 |"));
    free(md);

    char *x = slurp(sub, "junit.xml");
    assert_non_null(strstr(x, "tests=\"4\" failures=\"3\""));
    assert_non_null(strstr(x, "name=\"tid-zero-unmerged\" time=\"0.750\"/>"));
    assert_non_null(strstr(x, "not runnable: the executor refused every targeted scenario "
                              "(merge-at-zero: unsupported: op X needs Y)"));
    assert_non_null(strstr(x, "name=\"clean-runtime\""));
    assert_non_null(strstr(x, "a &lt;bad&gt; &amp; &quot;quoted&quot; thing"));
    assert_null(strstr(x, "<bad>"));
    free(x);

    /* exactly the three files, nothing temporary */
    DIR *d = opendir(sub);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        files++;
        char p[900];
        snprintf(p, sizeof p, "%s/%s", sub, e->d_name);
        unlink(p);
    }
    closedir(d);
    assert_int_equal(files, 3);
    rmdir(sub);
    rmdir(dir);
    json_decref(b);
}

static void test_junit_render(void **state)
{
    (void)state;
    junit_case c[3] = {
        {"k", "pass'd", 1.5, NULL, NULL},
        {"k", "f", 0, "bad \x01 <x>", NULL},
        {"k", "s", 0, NULL, "not yet"},
    };
    char *x = junit_render("suite&", c, 3, 2.0);
    assert_non_null(x);
    assert_non_null(strstr(x, "<testsuite name=\"suite&amp;\" tests=\"3\" failures=\"1\" "
                              "errors=\"0\" skipped=\"1\" time=\"2.000\">"));
    assert_non_null(strstr(x, "name=\"pass&apos;d\" time=\"1.500\"/>"));
    assert_non_null(strstr(x, "<failure message=\"bad ? &lt;x&gt;\">bad ? &lt;x&gt;</failure>"));
    assert_non_null(strstr(x, "<skipped message=\"not yet\"/>"));
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_summary_files),
        cmocka_unit_test(test_junit_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
