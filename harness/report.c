/* report.c — writes a finding folder atomically and reads sanitizer headlines from a log.
 *
 * Atomicity: each file is written to a mkstemp() name in its directory, fsync'd and renamed
 * over its final name, then the directory is fsync'd; the whole folder is assembled under a
 * mkdtemp() name ".tmp-<finding-id>-XXXXXX" beside its final place and renamed when complete.
 * A crash of refstorm at any point leaves either nothing or a ".tmp-*" folder, never a
 * half-written finding under its final name.  See report.h for the folder's contents; the
 * fields of report.json are listed in README.md ("Report format"). */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scheduler.h"
#include "scn.h"

/* ---- sanitizer output ---- */

static bool has_prefix(const char *s, const char *end, const char *pre)
{
    size_t n = strlen(pre);
    return (size_t)(end - s) >= n && memcmp(s, pre, n) == 0;
}

/* first occurrence of needle in [s, end), or NULL */
static const char *find_in(const char *s, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = s; (size_t)(end - p) >= n; p++)
        if (memcmp(p, needle, n) == 0)
            return p;
    return NULL;
}

static void copy_span(char *out, size_t n, const char *s, const char *end)
{
    size_t len = (size_t)(end - s);
    if (len >= n)
        len = n - 1;
    memcpy(out, s, len);
    out[len] = 0;
}

static const struct { const char *tool, *kind; } sanitizers[] = {
    {"AddressSanitizer: ", "asan"}, {"ThreadSanitizer: ", "tsan"},
    {"LeakSanitizer: ", "lsan"},    {"MemorySanitizer: ", "msan"},
    {"UndefinedBehaviorSanitizer: ", "ubsan"},
};

/* "SEGV on unknown address" and friends: the sanitizer caught a deadly signal */
static void deadly_signal(report_headline *h, const char *rest, const char *end)
{
    const char *on = find_in(rest, end, " on unknown address");
    if (!on || on - rest > 8)
        return;
    h->deadly_signal = true;
    snprintf(h->signal, sizeof h->signal, "SIG%.*s", (int)(on - rest), rest);
}

bool report_sanitizer_headline(const char *log, size_t len, report_headline *h)
{
    memset(h, 0, sizeof *h);
    const char *end = log + len;
    for (const char *line = log; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        /* "==PID==ERROR: AddressSanitizer: ..." or "WARNING: ThreadSanitizer: ..." */
        const char *p = line;
        if (has_prefix(p, eol, "==")) {
            const char *q = find_in(p + 2, eol, "==");
            if (q)
                p = q + 2;
        }
        if (has_prefix(p, eol, "ERROR: "))
            p += 7;
        else if (has_prefix(p, eol, "WARNING: "))
            p += 9;
        for (size_t i = 0; i < sizeof sanitizers / sizeof sanitizers[0]; i++) {
            if (!has_prefix(p, eol, sanitizers[i].tool))
                continue;
            const char *rest = p + strlen(sanitizers[i].tool);
            const char *cut = find_in(p, eol, " at pc ");
            const char *c2 = find_in(p, eol, " (pc ");
            const char *c3 = find_in(p, eol, " (pid=");
            const char *stop = eol;
            if (cut && cut < stop) stop = cut;
            if (c2 && c2 < stop) stop = c2;
            if (c3 && c3 < stop) stop = c3;
            snprintf(h->kind, sizeof h->kind, "%s", sanitizers[i].kind);
            copy_span(h->text, sizeof h->text, p, stop);
            deadly_signal(h, rest, stop);
            return true;
        }
        /* UBSan: "file.c:12:5: runtime error: signed integer overflow: ..." */
        if (find_in(line, eol, ": runtime error: ") || has_prefix(line, eol, "runtime error: ")) {
            snprintf(h->kind, sizeof h->kind, "ubsan");
            copy_span(h->text, sizeof h->text, line, eol);
            return true;
        }
        line = eol < end ? eol + 1 : end;
    }
    return false;
}

bool report_fatal_line(const char *log, size_t len, char *out, size_t n)
{
    const char *end = log + len;
    const char *p = find_in(log, end, "refstorm runtime fatal error: ");
    const char *q = find_in(log, end, "refstorm runtime assertion failed: ");
    if (!p || (q && q < p))
        p = q;
    if (!p)
        return false;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    copy_span(out, n, p, eol ? eol : end);
    return true;
}

const char *report_variant(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    return "asan";
#elif __has_feature(thread_sanitizer)
    return "tsan";
#endif
#endif
#if defined(RS_DEBUG) && RS_DEBUG
    return "debug";
#elif defined(RS_USE_JEMALLOC) && RS_USE_JEMALLOC
    return "release";
#else
    return "unknown";
#endif
}

/* ---- atomic files ---- */

static int fsync_path(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int report_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp[4096], final[4096];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp-XXXXXX", dir, name) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", dir, name) >= (int)sizeof final) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, final) < 0)
        goto fail;
    return fsync_path(dir);
fail:;
    int e = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = e;
    return -1;
}

int report_mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(buf, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- report content ---- */

void report_op_text(const program *p, int t, int64_t k, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    if (!p || t < 0 || (uint32_t)t >= p->nthreads || k < 0 || (uint64_t)k >= p->thread[t].nops)
        return;
    const prog_op *op = &p->thread[t].ops[k];
    const prog_opinfo *info = prog_op_info(op->code);
    if (!info)
        return;
    size_t len = (size_t)snprintf(buf, n, "%s", info->name);
    for (int i = 0; i < info->nargs && len < n; i++) {
        const prog_argspec *a = &info->arg[i];
        int w;
        if (a->kind == PROG_ARG_SITE) {
            w = snprintf(buf + len, n - len, " %s", op->str ? op->str : "?");
        } else if (a->kind == PROG_ARG_ENUM) {
            int count = 0;
            const char *const *words = prog_enum_words(a->set, &count);
            int v = op->arg[i];
            w = snprintf(buf + len, n - len, " %s", v >= 0 && v < count ? words[v] : "?");
        } else {
            char pre = prog_arg_prefix(a->kind);
            w = pre ? snprintf(buf + len, n - len, " %c%d", pre, (int)op->arg[i])
                    : snprintf(buf + len, n - len, " %d", (int)op->arg[i]);
        }
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

char *report_shell_join(int argc, char *const *argv)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool plain = *a && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-_./=:,+@%") == strlen(a);
        fputs(i ? " " : "", m);
        if (plain) {
            fputs(a, m);
            continue;
        }
        fputc('\'', m);
        for (; *a; a++)
            fputs(*a == '\'' ? "'\\''" : (char[2]){*a, 0}, m);
        fputc('\'', m);
    }
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static json_t *trace_array(const char *text)
{
    json_t *a = json_array();
    sched_switch *sw = NULL;
    size_t n = 0;
    if (a && text && sched_trace_parse(text, &sw, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_integer(sw[i].thread));
        free(sw);
    }
    return a;
}

static char *replay_command(const report_finding *f, const char *dir)
{
    char *s = NULL;
    if (asprintf(&s, "%s repro %s", f->argv0 ? f->argv0 : "refstorm", dir) < 0)
        return NULL;
    return s;
}

/* the same replay spelled out flag by flag (what repro FINDING_DIR does) */
static char *replay_command_long(const report_finding *f, const char *dir)
{
    char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s repro %s/repro.scn --mode %s --seed %" PRIu64,
                                  f->argv0 ? f->argv0 : "refstorm", dir, f->mode, f->seed);
    if (strcmp(f->mode, "pct") == 0 && len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, " --depth %d", f->depth);
    if (f->trace_text && len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, " --trace %s/trace.txt", dir);
    if (f->selftest_crash >= 0 && len < sizeof buf)
        len += (size_t)snprintf(buf + len, sizeof buf - len, " --selftest-crash 0");
    if (f->selftest_hang >= 0 && len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, " --selftest-hang 0");
    return strdup(buf);
}

json_t *report_finding_json(const report_finding *f, const char *dir)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    char *replay = replay_command(f, dir), *replay_long = replay_command_long(f, dir);
    json_object_set_new(o, "format", json_integer(REPORT_FORMAT_VERSION));
    json_object_set_new(o, "run_id", json_string(f->run_id));
    json_object_set_new(o, "finding_id", json_string(f->finding_id));
    json_object_set_new(o, "verdict", json_string(f->verdict));
    json_object_set_new(o, "check", json_string(f->check ? f->check : ""));
    json_object_set_new(o, "message", json_string(f->message ? f->message : ""));
    json_object_set_new(o, "headline", f->headline ? json_string(f->headline) : json_null());
    json_object_set_new(o, "scenario", json_string(f->scenario ? f->scenario : ""));
    json_object_set_new(o, "source", json_string(f->source ? f->source : ""));
    json_object_set_new(o, "mode", json_string(f->mode));
    json_object_set_new(o, "depth", json_integer(f->depth));
    json_object_set_new(o, "seed", json_integer((json_int_t)f->seed));
    json_object_set_new(o, "trial", json_integer((json_int_t)f->trial));
    json_t *bugs = json_array();
    for (uint32_t i = 0; f->prog && i < f->prog->nbugs; i++)
        json_array_append_new(bugs, json_string(f->prog->bugs[i]));
    json_object_set_new(o, "bugs", bugs);
    json_object_set_new(o, "variant", json_string(report_variant()));
    json_object_set_new(o, "command", f->command ? json_string(f->command) : json_null());
    json_object_set_new(o, "exit_status", f->exit_status >= 0 ? json_integer(f->exit_status)
                                                              : json_null());
    json_object_set_new(o, "signal", f->signal > 0 ? json_integer(f->signal) : json_null());
    json_object_set_new(o, "thread", json_integer(f->thread));
    json_object_set_new(o, "op_index", json_integer(f->op_index));
    char op[256];
    report_op_text(f->prog, f->thread, f->op_index, op, sizeof op);
    json_object_set_new(o, "op", f->op_index >= 0 ? json_string(op) : json_null());
    json_object_set_new(o, "leaked_blocks", json_integer(f->leaked_blocks));
    json_object_set_new(o, "leaked_reftotal", json_integer(f->leaked_reftotal));
    json_object_set_new(o, "ops_run", json_integer((json_int_t)f->ops_run));
    json_object_set_new(o, "seconds", json_real(f->seconds));
    json_object_set_new(o, "trace", f->trace_text ? trace_array(f->trace_text) : json_null());
    json_object_set_new(o, "selftest_crash", json_boolean(f->selftest_crash >= 0));
    json_object_set_new(o, "selftest_hang", json_boolean(f->selftest_hang >= 0));
    json_object_set_new(o, "replay", replay ? json_string(replay) : json_null());
    json_object_set_new(o, "replay_exact", replay_long ? json_string(replay_long) : json_null());
    json_t *files = json_array();
    json_array_append_new(files, json_string("report.json"));
    json_array_append_new(files, json_string("report.md"));
    json_array_append_new(files, json_string("repro.scn"));
    json_array_append_new(files, json_string("sanitizer.log"));
    if (f->trace_text)
        json_array_append_new(files, json_string("trace.txt"));
    if (f->thread_dump)
        json_array_append_new(files, json_string("thread_dump.txt"));
    if (f->op_log)
        json_array_append_new(files, json_string("op_log.txt"));
    json_object_set_new(o, "files", files);
    free(replay);
    free(replay_long);
    return o;
}

/* The report around the headline (it names the threads and stacks involved): from the
 * headline's line, at most REPORT_EXCERPT_LINES lines. */
#define REPORT_EXCERPT_LINES 40
static void log_excerpt(FILE *m, const char *log, size_t len, const char *headline)
{
    const char *end = log + len;
    size_t hl = strcspn(headline, " "); /* "AddressSanitizer:", "file.c:1:2:", "refstorm" */
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(hl < sizeof key ? hl : sizeof key - 1), headline);
    const char *at = find_in(log, end, headline);
    if (!at)
        at = find_in(log, end, key);
    if (!at)
        return;
    while (at > log && at[-1] != '\n')
        at--;
    const char *stop = at;
    for (int i = 0; i < REPORT_EXCERPT_LINES && stop < end; i++) {
        const char *nl = memchr(stop, '\n', (size_t)(end - stop));
        stop = nl ? nl + 1 : end;
    }
    fprintf(m, "\n## Report (first %d lines; all of it in sanitizer.log)\n\n```\n%.*s%s```\n",
            REPORT_EXCERPT_LINES, (int)(stop - at), at,
            stop > at && stop[-1] == '\n' ? "" : "\n");
}

/* report.md; malloc'd text or NULL */
static char *render_md(const report_finding *f, const char *dir)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fprintf(m, "# refstorm finding %s: %s", f->finding_id, f->verdict);
    if (f->check && *f->check)
        fprintf(m, " (%s)", f->check);
    fprintf(m, "\n\n**%s**: %s\n\n", f->verdict, f->message ? f->message : "");
    if (f->headline)
        fprintf(m, "Headline: `%s`\n\n", f->headline);
    fprintf(m, "| | |\n|---|---|\n");
    fprintf(m, "| run | %s |\n| scenario | %s |\n| source | %s |\n", f->run_id,
            f->scenario && *f->scenario ? f->scenario : "(unnamed)", f->source ? f->source : "");
    fprintf(m, "| mode | %s", f->mode);
    if (strcmp(f->mode, "pct") == 0)
        fprintf(m, ", depth %d", f->depth);
    fprintf(m, " |\n| seed | %" PRIu64 " (trial %" PRIu64 ") |\n", f->seed, f->trial);
    fprintf(m, "| mutants |");
    for (uint32_t i = 0; f->prog && i < f->prog->nbugs; i++)
        fprintf(m, " `%s`", f->prog->bugs[i]);
    if (!f->prog || f->prog->nbugs == 0)
        fprintf(m, " none");
    fprintf(m, " |\n| variant | %s |\n", report_variant());
    if (f->command)
        fprintf(m, "| command | `%s` |\n", f->command);
    if (f->signal > 0)
        fprintf(m, "| worker | killed by signal %d (%s) |\n", f->signal, strsignal(f->signal));
    else if (f->exit_status >= 0)
        fprintf(m, "| worker | exit status %d |\n", f->exit_status);
    fprintf(m, "| leaks | %" PRId64 " blocks, reference total %" PRId64 " |\n", f->leaked_blocks,
            f->leaked_reftotal);
    fprintf(m, "| time | %.3f s, %" PRIu64 " ops |\n", f->seconds, f->ops_run);
    char *replay = replay_command(f, dir), *replay_long = replay_command_long(f, dir);
    fprintf(m, "\n## Replay\n\n    %s\n\nor, spelled out:\n\n    %s\n", replay ? replay : "?",
            replay_long ? replay_long : "?");
    free(replay);
    free(replay_long);
    fprintf(m, "\n## Threads and ops involved\n\n");
    if (f->thread >= 0 && f->prog && (uint32_t)f->thread < f->prog->nthreads) {
        char op[256];
        report_op_text(f->prog, f->thread, f->op_index, op, sizeof op);
        if (f->op_index >= 0)
            fprintf(m, "The failure was seen in thread t%d at op %" PRId64 ": `%s`", f->thread,
                    f->op_index, op);
        else
            fprintf(m, "The failure was seen in thread t%d", f->thread);
        uint32_t line = f->op_index >= 0 && (uint64_t)f->op_index < f->prog->thread[f->thread].nops
                            ? f->prog->thread[f->thread].ops[f->op_index].line : 0;
        if (line)
            fprintf(m, " (%s line %u)", f->source ? f->source : "", line);
        fprintf(m, ".\n\n");
    } else {
        fprintf(m, "No single thread or op was blamed (a crash or sanitizer report names the "
                   "threads in sanitizer.log).\n\n");
    }
    for (uint32_t t = 0; f->prog && t < f->prog->nthreads; t++) {
        const prog_thread *th = &f->prog->thread[t];
        fprintf(m, "- t%u %s%s%s: %u ops\n", t, prog_mode_name(th->mode),
                t ? " " : "", t ? prog_start_name(th->start) : "", th->nops);
    }
    if (f->trace_text)
        fprintf(m, "\npct trace (step:thread at each switch), also in trace.txt:\n\n    %s\n",
                f->trace_text);
    if (f->headline && f->sanitizer_log)
        log_excerpt(m, f->sanitizer_log, f->sanitizer_log_len, f->headline);
    if (f->thread_dump)
        fprintf(m, "\n## Thread dump\n\n```\n%s\n```\n", f->thread_dump);
    fprintf(m, "\n## Files\n\n- `report.json`: the same, machine readable\n- `repro.scn`: the "
               "program (mutants included)\n- `sanitizer.log`: the worker's stderr, raw\n");
    if (f->trace_text)
        fprintf(m, "- `trace.txt`: the pct schedule, for exact replay\n");
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int put_text(const char *dir, const char *name, const char *text)
{
    return report_write_atomic(dir, name, text, strlen(text));
}

static int write_files(const char *tmp, const char *final, const report_finding *f)
{
    int rc = -1;
    char *md = NULL, *scn = NULL, *js = NULL;
    json_t *j = report_finding_json(f, final);
    if (!j)
        goto out;
    js = json_dumps(j, JSON_INDENT(2));
    md = render_md(f, final);
    scn = f->prog ? scn_print_to_buffer(f->prog, NULL) : strdup("");
    if (!js || !md || !scn)
        goto out;
    size_t jl = strlen(js);
    char *jsn = realloc(js, jl + 2);
    if (!jsn)
        goto out;
    js = jsn;
    js[jl] = '\n';
    js[jl + 1] = 0;
    if (put_text(tmp, "repro.scn", scn) < 0 ||
        report_write_atomic(tmp, "sanitizer.log", f->sanitizer_log ? f->sanitizer_log : "",
                            f->sanitizer_log ? f->sanitizer_log_len : 0) < 0 ||
        (f->trace_text && put_text(tmp, "trace.txt", f->trace_text) < 0) ||
        (f->thread_dump && put_text(tmp, "thread_dump.txt", f->thread_dump) < 0) ||
        (f->op_log && put_text(tmp, "op_log.txt", f->op_log) < 0) ||
        put_text(tmp, "report.md", md) < 0 || put_text(tmp, "report.json", js) < 0)
        goto out;
    rc = 0;
out:
    json_decref(j);
    free(js);
    free(md);
    free(scn);
    return rc;
}

static void remove_tree(const char *dir)
{
    static const char *const names[] = {"report.json", "report.md", "repro.scn", "trace.txt",
                                        "sanitizer.log", "thread_dump.txt", "op_log.txt"};
    char p[4096];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

int report_write_finding(const char *root, const report_finding *f, char *out, size_t n)
{
    char tmp[4096], final[4096];
    if (report_mkdir_p(root) < 0)
        return -1;
    if (snprintf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", root, f->finding_id) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", root, f->finding_id) >= (int)sizeof final) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(tmp))
        return -1;
    if (chmod(tmp, 0755) < 0 || write_files(tmp, final, f) < 0 || fsync_path(tmp) < 0)
        goto fail;
    /* rename() of a directory replaces only an empty one: refuse to overwrite any */
    if (access(final, F_OK) == 0) {
        errno = EEXIST;
        goto fail;
    }
    if (rename(tmp, final) < 0 || fsync_path(root) < 0)
        goto fail;
    snprintf(out, n, "%s", final);
    return 0;
fail:;
    int e = errno ? errno : EIO;
    remove_tree(tmp);
    errno = e;
    return -1;
}
