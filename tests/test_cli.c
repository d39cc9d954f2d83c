/* test_cli.c — the command line table and parser (cli.h), the sanitizer headline reader and the
 * atomic report writer (report.h).
 *
 * Parsing: each flag kind, both spellings (--f V, --f=V), ranges, flags given to the wrong
 * command, repeats, missing values, the mode registry, defaults.  Help: every public command and
 * flag appears in --help and in the Markdown section.  Headlines: real ASan, TSan, UBSan and LSan
 * first lines, a sanitizer-caught SEGV (a crash, not a sanitizer verdict), the runtime's fatal
 * line, and logs without any.  Reports: files land complete under their final names with no
 * temporary left over; a finding folder has every file and report.json parses with the fields the
 * README documents; writing a finding whose folder already exists fails and leaves the old one
 * intact.
 *
 * Supervisor: worker_run drives real workers — this test program re-executes itself as
 * `test_cli worker ...` (fork+exec through /proc/self/exe, as refstorm does) and runs the real
 * worker code against a stand-in exec_run defined below (test build only; the refstorm binary
 * links the real executor).  The stand-in fails seed 1007 with an invariant verdict and sleeps
 * 2 ms per trial; crashes and hangs come from the --selftest-* switches.  Checked: the verdict
 * of every trial in order, that a crash or hang ends only its worker and the run carries on,
 * the log of a finding, a stop request, a time budget, a malformed program (internal error). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "commands.h"
#include "executor.h"
#include "report.h"
#include "scn.h"
#include "files.h"
#include "supervise.h"
#include "worker.h"

/* ---- the stand-in executor (this test program only) ---- */

#define FAKE_FAIL_SEED 1007u


int exec_run(const program *p, const exec_config *cfg, exec_result *res)
{
    memset(res, 0, sizeof *res);
    res->thread = -1;
    res->op_index = -1;
    if (cfg->seed == FAKE_FAIL_SEED) {
        res->verdict = VERDICT_INVARIANT;
        snprintf(res->check, sizeof res->check, "H1");
        snprintf(res->message, sizeof res->message, "stand-in failure");
        res->thread = (int)p->nthreads - 1;
        res->op_index = 0;
    }
    if (cfg->mode == MODE_PCT)
        res->trace = strdup(cfg->replay_trace ? cfg->replay_trace : "0:0 3:1");
    res->ops_run = 4;
    res->seconds = 0.002;
    usleep(2000);
    return 0;
}

void exec_result_free(exec_result *r)
{
    free(r->trace);
    free(r->op_log);
    free(r->thread_dump);
}

/* ---- helpers ---- */

static int parse(cli_opts *o, char *err, size_t n, ...)
{
    char *argv[64] = {"refstorm"};
    int argc = 1;
    va_list ap;
    va_start(ap, n);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return cli_parse(argc, argv, o, err, n);
}

static char *capture(void (*fn)(FILE *, cli_cmd), cli_cmd cmd)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    if (fn)
        fn(f, cmd);
    else
        cli_markdown(f);
    fclose(f);
    return buf;
}

static char *make_tmpdir(void)
{
    char tmpl[] = "/tmp/test_cli-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return strdup(tmpl);
}

/* number of directory entries (besides . and ..) whose name contains `part` */
static int count_entries(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

static void rm_rf(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    assert_int_equal(system(cmd), 0);
}

/* ---- the tables ---- */

static void test_tables_consistent(void **state)
{
    (void)state;
    for (size_t i = 0; i < cli_nflags; i++) {
        const cli_flag *f = &cli_flags[i];
        assert_non_null(f->help);
        assert_true(f->cmds != 0);
        assert_ptr_equal(cli_flag_find(f->name), f);
        assert_true((f->kind == CLI_BOOL) == (f->meta == NULL));
        for (size_t j = i + 1; j < cli_nflags; j++)
            assert_string_not_equal(f->name, cli_flags[j].name);
    }
    for (size_t i = 0; i < cli_ncommands; i++)
        assert_ptr_equal(cli_command_find(cli_commands[i].name), &cli_commands[i]);
    /* 0..3, then the interrupted status 130 */
    assert_int_equal(cli_nexit_codes, 5);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(cli_exit_codes[i].code, (int)i);
    assert_int_equal(cli_exit_codes[4].code, 130);
}

static void test_help_lists_everything(void **state)
{
    (void)state;
    char *help = capture(cli_help, CLI_CMD_NONE);
    char *md = capture(NULL, CLI_CMD_NONE);
    for (size_t i = 0; i < cli_ncommands; i++) {
        char want[64];
        snprintf(want, sizeof want, "refstorm %s", cli_commands[i].name);
        if (!cli_commands[i].internal)
            assert_non_null(strstr(help, want));
        assert_non_null(strstr(md, want));
    }
    for (size_t i = 0; i < cli_nflags; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", cli_flags[i].name);
        assert_non_null(strstr(help, want));
        assert_non_null(strstr(md, want));
    }
    assert_non_null(strstr(help, "SEED+i"));
    assert_non_null(strstr(help, "exit codes"));
    free(help);
    free(md);
    /* a command's help lists only its flags */
    char *run = capture(cli_help, CLI_CMD_RUN);
    assert_non_null(strstr(run, "--trials N"));
    assert_null(strstr(run, "--trace"));
    assert_null(strstr(run, "--result-fd"));
    free(run);
}

/* ---- parsing ---- */

static void test_parse_run(void **state)
{
    (void)state;
    cli_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "run", "x.scn", "--mode", "pct", "--depth=5",
                           "--seed", "7", "--trials", "3", "--bug", "a", "--bug=b", "--json",
                           "--report-dir", "out", NULL), 0);
    assert_int_equal(o.cmd, CLI_CMD_RUN);
    assert_string_equal(o.target, "x.scn");
    assert_int_equal(o.mode, MODE_PCT);
    assert_int_equal(o.depth, 5);
    assert_int_equal(o.seed, 7);
    assert_int_equal(o.trials, 3);
    assert_int_equal(o.nbugs, 2);
    assert_string_equal(o.bugs[0], "a");
    assert_string_equal(o.bugs[1], "b");
    assert_null(o.bugs[2]);
    assert_true(o.json);
    assert_false(o.quiet);
    assert_string_equal(o.report_dir, "out");
    assert_true(cli_given(&o, "seed"));
    assert_false(cli_given(&o, "time"));
}

static void test_parse_defaults(void **state)
{
    (void)state;
    cli_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "run", "x.scn", NULL), 0);
    assert_int_equal(o.mode, MODE_FREE);
    assert_int_equal(o.depth, 3);
    assert_int_equal(o.trials, 100);
    assert_string_equal(o.report_dir, "reports");
    assert_int_equal(o.selftest_crash, -1);
    assert_false(cli_given(&o, "seed"));
    /* --time alone: unbounded trials, still a valid --trials for the worker */
    assert_int_equal(parse(&o, err, sizeof err, "run", "x.scn", "--time", "2.5", NULL), 0);
    assert_true(o.time_s > 2.49 && o.time_s < 2.51);
    assert_int_equal(o.trials, INT64_MAX);
    assert_int_equal(parse(&o, err, sizeof err, "run", "x.scn", "--time", "1", "--trials", "4",
                           NULL), 0);
    assert_int_equal(o.trials, 4);
}

static void expect_usage(const char *needle, ...)
{
    char *argv[16] = {"refstorm"};
    int argc = 1;
    va_list ap;
    va_start(ap, needle);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    cli_opts o;
    char err[256];
    assert_int_equal(cli_parse(argc, argv, &o, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("expected '%s' in '%s'", needle, err);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_usage("unknown option '--frobnicate'", "run", "x.scn", "--frobnicate", NULL);
    expect_usage("unknown option '-x'", "run", "x.scn", "-x", NULL);
    expect_usage("unknown command 'explode'", "explode", NULL);
    expect_usage("no command given", NULL);
    expect_usage("does not apply to 'list'", "list", "--seed", "1", NULL);
    expect_usage("does not apply to 'run'", "run", "x.scn", "--trace", "t", NULL);
    expect_usage("needs a value", "run", "x.scn", "--seed", NULL);
    expect_usage("expected an integer 1..64", "run", "x.scn", "--depth", "0", NULL);
    expect_usage("expected an integer", "run", "x.scn", "--seed", "-1", NULL);
    expect_usage("expected an integer", "run", "x.scn", "--seed", "12x", NULL);
    expect_usage("expected an integer", "run", "x.scn", "--trials", "0", NULL);
    expect_usage("expected seconds", "run", "x.scn", "--time", "-3", NULL);
    expect_usage("expected seconds", "run", "x.scn", "--time", "nan", NULL);
    expect_usage("given twice", "run", "x.scn", "--seed", "1", "--seed", "2", NULL);
    expect_usage("takes no value", "run", "x.scn", "--json=yes", NULL);
    expect_usage("unknown mode 'fast'", "run", "x.scn", "--mode", "fast", NULL);
    expect_usage("missing FILE.scn|SCENARIO", "run", NULL);
    expect_usage("unexpected argument", "run", "a.scn", "b.scn", NULL);
    expect_usage("unexpected argument", "list", "x", NULL);
    expect_usage("--result-fd is required", "worker", "x.scn", NULL);
    expect_usage("help: unknown command", "help", "nothing", NULL);
}

static void test_parse_help_and_dashdash(void **state)
{
    (void)state;
    cli_opts o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "--help", NULL), 0);
    assert_true(o.help);
    assert_int_equal(parse(&o, err, sizeof err, "run", "-h", NULL), 0);
    assert_true(o.help);
    assert_int_equal(o.cmd, CLI_CMD_RUN);
    /* after "--" a leading dash is a file name */
    assert_int_equal(parse(&o, err, sizeof err, "run", "--", "-odd.scn", NULL), 0);
    assert_string_equal(o.target, "-odd.scn");
    assert_int_equal(parse(&o, err, sizeof err, "worker", "p.scn", "--result-fd", "5",
                           "--first-trial", "9", "--selftest-crash", "10", NULL), 0);
    assert_int_equal(o.result_fd, 5);
    assert_int_equal(o.first_trial, 9);
    assert_int_equal(o.selftest_crash, 10);
}

/* ---- sanitizer output ---- */

static void expect_headline(const char *log, const char *kind, const char *text, bool deadly,
                            const char *sig)
{
    sanitizer_headline h;
    assert_true(log_sanitizer_headline(log, strlen(log), &h));
    assert_string_equal(h.kind, kind);
    assert_string_equal(h.text, text);
    assert_int_equal(h.deadly_signal, deadly);
    assert_string_equal(h.signal, sig);
}

static void test_headlines(void **state)
{
    (void)state;
    expect_headline("some noise\n=================================================================\n"
                    "==4242==ERROR: AddressSanitizer: heap-use-after-free on address "
                    "0x602000000010 at pc 0x55d3 bp 0x7ffd sp 0x7ffc\nREAD of size 8\n",
                    "asan", "AddressSanitizer: heap-use-after-free on address 0x602000000010",
                    false, "");
    expect_headline("==================\nWARNING: ThreadSanitizer: data race (pid=1234)\n"
                    "  Write of size 4 at 0x7b04 by thread T1:\n",
                    "tsan", "ThreadSanitizer: data race", false, "");
    expect_headline("runtime/refcount.c:88:17: runtime error: signed integer overflow: "
                    "2147483647 + 1 cannot be represented in type 'int'\n",
                    "ubsan", "runtime/refcount.c:88:17: runtime error: signed integer overflow: "
                    "2147483647 + 1 cannot be represented in type 'int'", false, "");
    expect_headline("\n==77==ERROR: LeakSanitizer: detected memory leaks\n\nDirect leak\n", "lsan",
                    "LeakSanitizer: detected memory leaks", false, "");
    expect_headline("AddressSanitizer:DEADLYSIGNAL\n==9==ERROR: AddressSanitizer: SEGV on unknown "
                    "address 0x000000000000 (pc 0x1 bp 0x2 sp 0x3 T0)\n", "asan",
                    "AddressSanitizer: SEGV on unknown address 0x000000000000", true, "SIGSEGV");
    expect_headline("==9==ERROR: ThreadSanitizer: SEGV on unknown address 0x0 (pc 0x1 bp 0x2)\n",
                    "tsan", "ThreadSanitizer: SEGV on unknown address 0x0", true, "SIGSEGV");
    /* the first report wins */
    expect_headline("WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) "
                    "(pid=5)\nWARNING: ThreadSanitizer: data race (pid=5)\n", "tsan",
                    "ThreadSanitizer: lock-order-inversion (potential deadlock)", false, "");
    sanitizer_headline h;
    const char *none = "refstorm runtime fatal error: merge of a merged object (object 0x10)\n"
                       "ERROR: something else\n";
    assert_false(log_sanitizer_headline(none, strlen(none), &h));
    assert_string_equal(h.kind, "");
    assert_false(log_sanitizer_headline("", 0, &h));
    /* a log cut in the middle of the headline (no newline, no NUL after len) */
    const char *cut = "WARNING: ThreadSanitizer: data raceXXXX";
    assert_true(log_sanitizer_headline(cut, strlen(cut) - 4, &h));
    assert_string_equal(h.text, "ThreadSanitizer: data race");

    char fatal[128];
    assert_true(log_fatal_line(none, strlen(none), fatal, sizeof fatal));
    assert_string_equal(fatal, "refstorm runtime fatal error: merge of a merged object (object 0x10)");
    const char *as = "x\nrefstorm runtime assertion failed: n > 0 at runtime/brc.c:12\nAborted\n";
    assert_true(log_fatal_line(as, strlen(as), fatal, sizeof fatal));
    assert_string_equal(fatal, "refstorm runtime assertion failed: n > 0 at runtime/brc.c:12");
    assert_false(log_fatal_line("all fine\n", 9, fatal, sizeof fatal));
}

/* ---- atomic files and finding folders ---- */

static void test_write_atomic(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    assert_int_equal(file_write_atomic(dir, "a.txt", "hello\n", 6), 0);
    assert_int_equal(file_write_atomic(dir, "a.txt", "bye\n", 4), 0); /* replaces */
    char path[512];
    snprintf(path, sizeof path, "%s/a.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[16] = {0};
    assert_int_equal(fread(buf, 1, sizeof buf - 1, f), 4);
    fclose(f);
    assert_string_equal(buf, "bye\n");
    assert_int_equal(count_entries(dir, ""), 1);       /* no temporary left */
    /* a directory that does not exist: -1, errno set, nothing created */
    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    errno = 0;
    assert_int_equal(file_write_atomic(missing, "b.txt", "x", 1), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(count_entries(dir, ""), 1);
    /* mkdir -p, and a file in the way */
    snprintf(path, sizeof path, "%s/x/y/z", dir);
    assert_int_equal(file_mkdir_p(path), 0);
    assert_int_equal(file_mkdir_p(path), 0);
    snprintf(path, sizeof path, "%s/a.txt/sub", dir);
    assert_int_equal(file_mkdir_p(path), -1);
    rm_rf(dir);
    free(dir);
}

static const char prog_text[] = "refstorm-scn 1\nname \"two\"\nseed 5\nbug eval-breaker-global\n"
                                "thread t0 main\n  new_leaf r0\n  send m0 r0\n"
                                "thread t1 early auto\n  recv r1 m0\n  drop r1\n";

static report_finding sample(const program *p, const char *id)
{
    static const char log[] = "==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n";
    report_finding f = {
        .run_id = "run1", .finding_id = id, .verdict = VERDICT_SANITIZER, .check = "asan",
        .message = "AddressSanitizer: heap-use-after-free on address 0x1",
        .headline = "AddressSanitizer: heap-use-after-free on address 0x1", .scenario = "two",
        .source = "two.scn", .prog = p, .mode = MODE_PCT, .depth = 3, .seed = 47, .trial = 5,
        .exit_status = 1, .signal = 0, .thread = 1, .op_index = 1, .seconds = 0.25,
        .trace_text = "0:0 4:1 9:0", .sanitizer_log = log, .sanitizer_log_len = sizeof log - 1,
        .selftest_crash = -1, .selftest_hang = -1, .argv0 = "refstorm",
        .command = "refstorm run two.scn --mode pct",
    };
    return f;
}

static void test_finding_folder(void **state)
{
    (void)state;
    program p;
    scn_error e;
    assert_int_equal(scn_parse_buffer(prog_text, sizeof prog_text - 1, "two.scn", &p, &e), 0);
    char *root = make_tmpdir();
    char runroot[512], out[1024];
    snprintf(runroot, sizeof runroot, "%s/reports/run1", root); /* created on demand */
    report_finding f = sample(&p, "001-sanitizer-trial5");
    assert_int_equal(report_write_finding(runroot, &f, out, sizeof out), 0);
    char want[1024];
    snprintf(want, sizeof want, "%s/001-sanitizer-trial5", runroot);
    assert_string_equal(out, want);
    assert_int_equal(count_entries(runroot, ".tmp"), 0);
    assert_int_equal(count_entries(out, ".tmp"), 0);
    static const char *const files[] = {"report.json", "report.md", "repro.scn", "trace.txt",
                                        "sanitizer.log"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(count_entries(out, files[i]), 1);

    char path[1200];
    snprintf(path, sizeof path, "%s/report.json", out);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_true(json_is_object(j));
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "sanitizer");
    assert_string_equal(json_string_value(json_object_get(j, "check")), "asan");
    assert_string_equal(json_string_value(json_object_get(j, "mode")), "pct");
    assert_int_equal(json_integer_value(json_object_get(j, "seed")), 47);
    assert_int_equal(json_integer_value(json_object_get(j, "trial")), 5);
    assert_string_equal(json_string_value(json_object_get(j, "command")),
                        "refstorm run two.scn --mode pct");
    assert_string_equal(json_string_value(json_object_get(j, "op")), "drop r1");
    json_t *trace = json_object_get(j, "trace");
    assert_int_equal(json_array_size(trace), 3);
    assert_int_equal(json_integer_value(json_array_get(trace, 1)), 1);
    json_t *bugs = json_object_get(j, "bugs");
    assert_int_equal(json_array_size(bugs), 1);
    assert_string_equal(json_string_value(json_array_get(bugs, 0)), "eval-breaker-global");
    const char *replay = json_string_value(json_object_get(j, "replay"));
    assert_non_null(replay);
    assert_non_null(strstr(replay, "refstorm repro "));
    assert_non_null(strstr(replay, out));
    json_decref(j);

    /* repro.scn parses back to the same program */
    program q;
    snprintf(path, sizeof path, "%s/repro.scn", out);
    assert_int_equal(scn_parse_file(path, &q, &e), 0);
    assert_true(program_equal(&p, &q));
    program_free(&q);

    /* report.md names the verdict, headline, op and the replay command */
    snprintf(path, sizeof path, "%s/report.md", out);
    FILE *md = fopen(path, "r");
    assert_non_null(md);
    char text[8192] = {0};
    assert_true(fread(text, 1, sizeof text - 1, md) > 0);
    fclose(md);
    assert_non_null(strstr(text, "sanitizer (asan)"));
    assert_non_null(strstr(text, "heap-use-after-free"));
    assert_non_null(strstr(text, "thread t1 at op 1: `drop r1`"));
    assert_non_null(strstr(text, "```\n==1==ERROR: AddressSanitizer: heap-use-after-free"));
    assert_non_null(strstr(text, replay ? "refstorm repro" : "?"));

    /* the same id again: refused, first folder untouched, no temporary left behind */
    report_finding g = sample(&p, "001-sanitizer-trial5");
    g.verdict = VERDICT_CRASH;
    assert_int_equal(report_write_finding(runroot, &g, out, sizeof out), -1);
    assert_int_equal(errno, EEXIST);
    assert_int_equal(count_entries(runroot, ""), 1);
    snprintf(path, sizeof path, "%s/report.json", want);
    j = json_load_file(path, 0, &je);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "sanitizer");
    json_decref(j);

    program_free(&p);
    rm_rf(root);
    free(root);
}

static void test_shell_join(void **state)
{
    (void)state;
    char *argv[] = {"build/asan/refstorm", "run", "my file.scn", "--bug", "it's", "", NULL};
    char *s = report_shell_join(6, argv);
    assert_string_equal(s, "build/asan/refstorm run 'my file.scn' --bug 'it'\\''s' ''");
    free(s);
    s = report_shell_join(0, argv);
    assert_string_equal(s, "");
    free(s);
}

static void test_op_text(void **state)
{
    (void)state;
    program p;
    scn_error e;
    assert_int_equal(scn_parse_buffer(prog_text, sizeof prog_text - 1, "two.scn", &p, &e), 0);
    char buf[64];
    report_op_text(&p, 0, 0, buf, sizeof buf);
    assert_string_equal(buf, "new_leaf r0");
    report_op_text(&p, 0, 1, buf, sizeof buf);
    assert_string_equal(buf, "send m0 r0");
    report_op_text(&p, 1, 0, buf, sizeof buf);
    assert_string_equal(buf, "recv r1 m0");
    report_op_text(&p, 1, 2, buf, sizeof buf);
    assert_string_equal(buf, "?");
    report_op_text(&p, 7, 0, buf, sizeof buf);
    assert_string_equal(buf, "?");
    report_op_text(NULL, 0, 0, buf, sizeof buf);
    assert_string_equal(buf, "?");
    program_free(&p);
}

/* ---- how a worker's end becomes a verdict ---- */

#define EXITED(code) (((code) & 0xff) << 8) /* what waitpid reports for exit(code) */
#define KILLED(sig) ((sig) & 0x7f)

static trial_result classify(int status, bool hung, const char *log, int want_rc)
{
    trial_result r;
    memset(&r, 0, sizeof r);
    assert_int_equal(worker_classify_end(status, hung, log, strlen(log), &r), want_rc);
    return r;
}

static void test_classify_end(void **state)
{
    (void)state;
    assert_true(WIFEXITED(EXITED(66)) && WEXITSTATUS(EXITED(66)) == 66);
    assert_true(WIFSIGNALED(KILLED(SIGSEGV)) && WTERMSIG(KILLED(SIGSEGV)) == SIGSEGV);
    /* TSan stops the worker with exit code 66 */
    trial_result r = classify(EXITED(66), false,
                              "==================\nWARNING: ThreadSanitizer: data race (pid=9)\n", 0);
    assert_string_equal(verdict_name(r.verdict), "sanitizer");
    assert_string_equal(r.check, "tsan");
    assert_string_equal(r.message, "ThreadSanitizer: data race");
    assert_string_equal(r.headline, "ThreadSanitizer: data race");
    assert_int_equal(r.exit_status, 66);
    assert_int_equal(r.signal, 0);
    /* ASan with abort_on_error: killed by SIGABRT, still a sanitizer verdict */
    r = classify(KILLED(SIGABRT), false,
                 "==3==ERROR: AddressSanitizer: heap-use-after-free on address 0x1 at pc 0x2\n", 0);
    assert_string_equal(verdict_name(r.verdict), "sanitizer");
    assert_string_equal(r.check, "asan");
    assert_int_equal(r.signal, SIGABRT);
    assert_int_equal(r.exit_status, -1);
    /* a SEGV that ASan caught is a crash */
    r = classify(EXITED(1), false,
                 "AddressSanitizer:DEADLYSIGNAL\n==3==ERROR: AddressSanitizer: SEGV on unknown "
                 "address 0x000000000008 (pc 0x1 bp 0x2 sp 0x3 T1)\n", 0);
    assert_string_equal(verdict_name(r.verdict), "crash");
    assert_string_equal(r.check, "SIGSEGV");
    assert_string_equal(r.headline, "AddressSanitizer: SEGV on unknown address 0x000000000008");
    /* the runtime's own abort */
    r = classify(KILLED(SIGABRT), false,
                 "refstorm runtime fatal error: decref of a freed object (object 0x10)\n", 0);
    assert_string_equal(verdict_name(r.verdict), "crash");
    assert_string_equal(r.check, "SIGABRT");
    assert_string_equal(r.message, "refstorm runtime fatal error: decref of a freed object (object 0x10)");
    /* a plain signal, nothing in the log */
    r = classify(KILLED(SIGSEGV), false, "", 0);
    assert_string_equal(verdict_name(r.verdict), "crash");
    assert_string_equal(r.check, "SIGSEGV");
    assert_non_null(strstr(r.message, "signal 11"));
    /* UBSan (exit code 1 by -fno-sanitize-recover) */
    r = classify(EXITED(1), false, "a.c:3:9: runtime error: load of null pointer\n", 0);
    assert_string_equal(verdict_name(r.verdict), "sanitizer");
    assert_string_equal(r.check, "ubsan");
    /* the watchdog wins over whatever the log says */
    r = classify(KILLED(SIGKILL), true, "WARNING: ThreadSanitizer: data race\n", 0);
    assert_string_equal(verdict_name(r.verdict), "hang");
    assert_string_equal(r.check, "watchdog");
    /* the executor's watchdog: its hang block (executor.h) and exit status 86 */
    r = classify(EXITED(86), false,
                 "noise\n==refstorm-hang-begin==\nverdict hang\ntimeout_ms 500 elapsed_ms 512 "
                 "program \"p\" mode free seed 3\nthread 0 op end \"\" point - wait 0 done 1\n"
                 "thread 1 op 4 \"join t2\" point sched.wait wait 1 done 0\n"
                 "thread 2 op 7 \"recv r0 m1\" point - wait 1 done 0\nbacktrace 1\n"
                 "./refstorm(+0x1234)\n==refstorm-hang-end==\ntrailing\n", 0);
    assert_string_equal(verdict_name(r.verdict), "hang");
    assert_string_equal(r.check, "watchdog");
    assert_int_equal(r.thread, 1);
    assert_int_equal(r.op_index, 4);
    assert_non_null(strstr(r.message, "500 ms"));
    assert_non_null(r.thread_dump);
    assert_true(strncmp(r.thread_dump, "==refstorm-hang-begin==", 23) == 0);
    assert_non_null(strstr(r.thread_dump, "==refstorm-hang-end=="));
    assert_null(strstr(r.thread_dump, "trailing"));
    trial_result_free(&r);
    r = classify(EXITED(86), false, "", 0); /* the status alone */
    assert_string_equal(verdict_name(r.verdict), "hang");
    assert_null(r.thread_dump);
    /* an unexplained exit status is a crash of kind "exit" */
    r = classify(EXITED(7), false, "", 0);
    assert_string_equal(verdict_name(r.verdict), "crash");
    assert_string_equal(r.check, "exit");
    /* the worker's own usage or internal errors are refstorm's problem, not a finding */
    classify(EXITED(2), false, "x.scn:1:1: missing version line\n", -1);
    classify(EXITED(3), false, "refstorm worker: executor failed\n", -1);
}

/* ---- the supervisor against real worker processes ---- */

typedef struct seen {
    int n;
    char verdict[64][16];
    char check[64][32];
    uint64_t trial[64], seed[64];
    bool log_has_selftest[64];
    bool has_trace[64];
    int stop_after_finding;
} seen;

static int collect(void *ctx, trial_result *r)
{
    seen *s = ctx;
    if (s->n >= 64)
        return -1;
    int i = s->n++;
    snprintf(s->verdict[i], sizeof s->verdict[i], "%s", verdict_name(r->verdict));
    snprintf(s->check[i], sizeof s->check[i], "%s", r->check);
    s->trial[i] = r->trial;
    s->seed[i] = r->seed;
    s->log_has_selftest[i] = r->log && strstr(r->log, "--selftest-");
    s->has_trace[i] = r->trace != NULL;
    return trial_is_finding(r) && s->stop_after_finding ? -1 : 0;
}

static char *scn_file(void)
{
    char *dir = make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/p.scn", dir);
    free(dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(prog_text, f);
    fclose(f);
    return strdup(path);
}

static void drop_scn(char *path)
{
    unlink(path);
    *strrchr(path, '/') = 0;
    rmdir(path);
    free(path);
}

static worker_spec spec(const char *file, uint64_t seed)
{
    worker_spec ws = {.file = file, .mode = MODE_FREE, .depth = 3, .seed = seed,
                      .selftest_crash = -1, .selftest_hang = -1, .watchdog_s = 30};
    return ws;
}

static void test_supervisor_crash_carries_on(void **state)
{
    (void)state;
    char *file = scn_file();
    worker_spec ws = spec(file, 100);
    ws.selftest_crash = 2;
    seen s = {0};
    char err[512];
    assert_int_equal(worker_run(&ws, 5, 0, collect, NULL, &s, err, sizeof err), 5);
    assert_int_equal(s.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(s.trial[i], (uint64_t)i);
        assert_int_equal(s.seed[i], 100u + (uint64_t)i);
        assert_string_equal(s.verdict[i], i == 2 ? "crash" : "pass");
    }
    assert_string_equal(s.check[2], "SIGSEGV");
    assert_true(s.log_has_selftest[2]);
    drop_scn(file);
}

static void test_supervisor_invariant_and_trace(void **state)
{
    (void)state;
    char *file = scn_file();
    worker_spec ws = spec(file, FAKE_FAIL_SEED - 3);
    ws.mode = MODE_PCT;
    seen s = {0};
    char err[512];
    assert_int_equal(worker_run(&ws, 6, 0, collect, NULL, &s, err, sizeof err), 6);
    assert_int_equal(s.n, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(s.verdict[i], i == 3 ? "invariant" : "pass");
        assert_true(s.has_trace[i]);
    }
    assert_string_equal(s.check[3], "H1");
    /* a callback that asks to stop: no worker after the finding */
    memset(&s, 0, sizeof s);
    s.stop_after_finding = 1;
    assert_int_equal(worker_run(&ws, 6, 0, collect, NULL, &s, err, sizeof err), 4);
    assert_int_equal(s.n, 4);
    drop_scn(file);
}

static void test_supervisor_hang(void **state)
{
    (void)state;
    char *file = scn_file();
    worker_spec ws = spec(file, 1);
    ws.selftest_hang = 1;
    ws.watchdog_s = 3.0; /* trial 0 reports well within it, even on a loaded machine */
    seen s = {0};
    char err[512];
    assert_int_equal(worker_run(&ws, 3, 0, collect, NULL, &s, err, sizeof err), 3);
    assert_string_equal(s.verdict[0], "pass");
    assert_string_equal(s.verdict[1], "hang");
    assert_string_equal(s.check[1], "watchdog");
    assert_string_equal(s.verdict[2], "pass");
    drop_scn(file);
}

static void test_supervisor_time_budget(void **state)
{
    (void)state;
    char *file = scn_file();
    worker_spec ws = spec(file, 1);
    seen s = {0};
    char err[512];
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int64_t got = worker_run(&ws, 1000000, 0.3, collect, NULL, &s, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double el = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_true(got >= 1 && got < 1000000); /* 2 ms per trial: far fewer than asked */
    assert_true(el < 60.0); /* the budget ended it, not the million trials (margin for load) */
    drop_scn(file);
}

static void test_supervisor_bad_program(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/bad.scn", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("refstorm-scn 1\nthread t0 main\n  frobnicate r0\n", f);
    fclose(f);
    worker_spec ws = spec(path, 1);
    seen s = {0};
    char err[512];
    assert_int_equal(worker_run(&ws, 3, 0, collect, NULL, &s, err, sizeof err), -1);
    assert_int_equal(s.n, 0);
    if (!strstr(err, "bad.scn:3:3"))
        fail_msg("error message: %s", err);
    rm_rf(dir);
    free(dir);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "worker") == 0) { /* started by worker_run above */
        cli_opts o;
        char err[256];
        if (cli_parse(argc, argv, &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return EXIT_USAGE;
        }
        return cmd_worker(&o);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_consistent),
        cmocka_unit_test(test_help_lists_everything),
        cmocka_unit_test(test_parse_run),
        cmocka_unit_test(test_parse_defaults),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_help_and_dashdash),
        cmocka_unit_test(test_headlines),
        cmocka_unit_test(test_write_atomic),
        cmocka_unit_test(test_finding_folder),
        cmocka_unit_test(test_op_text),
        cmocka_unit_test(test_shell_join),
        cmocka_unit_test(test_classify_end),
        cmocka_unit_test(test_supervisor_crash_carries_on),
        cmocka_unit_test(test_supervisor_invariant_and_trace),
        cmocka_unit_test(test_supervisor_hang),
        cmocka_unit_test(test_supervisor_time_budget),
        cmocka_unit_test(test_supervisor_bad_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
