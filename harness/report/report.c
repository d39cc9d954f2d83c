/* report.c — writes a finding folder atomically.
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
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "scheduler.h"
#include "scn.h"
#include "vocab.h"

/* ---- report content ---- */

void report_op_text(const program *p, int t, int64_t k, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    if (!p || t < 0 || (uint32_t)t >= p->nthreads || k < 0 || (uint64_t)k >= p->thread[t].nops)
        return;
    prog_op_format(&p->thread[t].ops[k], buf, n);
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
                                  f->argv0 ? f->argv0 : "refstorm", dir, mode_name(f->mode), f->seed);
    if (f->mode == MODE_PCT && len < sizeof buf)
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
    json_object_set_new(o, "verdict", json_string(verdict_name(f->verdict)));
    json_object_set_new(o, "check", json_string(f->check ? f->check : ""));
    json_object_set_new(o, "message", json_string(f->message ? f->message : ""));
    json_object_set_new(o, "headline", f->headline ? json_string(f->headline) : json_null());
    json_object_set_new(o, "scenario", json_string(f->scenario ? f->scenario : ""));
    json_object_set_new(o, "source", json_string(f->source ? f->source : ""));
    json_object_set_new(o, "mode", json_string(mode_name(f->mode)));
    json_object_set_new(o, "depth", json_integer(f->depth));
    json_object_set_new(o, "seed", json_integer((json_int_t)f->seed));
    json_object_set_new(o, "trial", json_integer((json_int_t)f->trial));
    json_t *bugs = json_array();
    for (uint32_t i = 0; f->prog && i < f->prog->nbugs; i++)
        json_array_append_new(bugs, json_string(f->prog->bugs[i]));
    json_object_set_new(o, "bugs", bugs);
    json_object_set_new(o, "variant", json_string(build_variant()));
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
    const char *at = memmem(log, len, headline, strlen(headline));
    if (!at)
        at = memmem(log, len, key, strlen(key));
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

/* The heading anchor docs/checks.md gives a check code (GitHub's rule: lower case, spaces to
 * dashes, other punctuation dropped). */
static void check_anchor(const char *check, char *out, size_t n)
{
    size_t k = 0;
    for (const char *c = check; *c && k + 1 < n; c++) {
        if (*c >= 'A' && *c <= 'Z')
            out[k++] = (char)(*c - 'A' + 'a');
        else if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_')
            out[k++] = *c;
        else if (*c == ' ')
            out[k++] = '-';
    }
    out[k] = 0;
}

/* report.md; malloc'd text or NULL */
static char *render_md(const report_finding *f, const char *dir)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    fprintf(m, "# refstorm finding %s: %s", f->finding_id, verdict_name(f->verdict));
    if (f->check && *f->check)
        fprintf(m, " (%s)", f->check);
    fprintf(m, "\n\n**%s**: %s\n\n", verdict_name(f->verdict), f->message ? f->message : "");
    if (f->headline)
        fprintf(m, "Headline: `%s`\n\n", f->headline);
    if (f->check && *f->check) {
        char anchor[64];
        check_anchor(f->check, anchor, sizeof anchor);
        fprintf(m, "What `%s` asserts and what its failure usually means: `docs/checks.md#%s` "
                   "in the refstorm repository.\n\n", f->check, anchor);
    }
    fprintf(m, "| | |\n|---|---|\n");
    fprintf(m, "| run | %s |\n| scenario | %s |\n| source | %s |\n", f->run_id,
            f->scenario && *f->scenario ? f->scenario : "(unnamed)", f->source ? f->source : "");
    fprintf(m, "| mode | %s", mode_name(f->mode));
    if (f->mode == MODE_PCT)
        fprintf(m, ", depth %d", f->depth);
    fprintf(m, " |\n| seed | %" PRIu64 " (trial %" PRIu64 ") |\n", f->seed, f->trial);
    fprintf(m, "| mutants |");
    for (uint32_t i = 0; f->prog && i < f->prog->nbugs; i++)
        fprintf(m, " `%s`", f->prog->bugs[i]);
    if (!f->prog || f->prog->nbugs == 0)
        fprintf(m, " none");
    fprintf(m, " |\n| variant | %s |\n", build_variant());
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
    if (f->mode == MODE_PCT)
        fprintf(m, "\nThe replay is exact: pct runs one thread at a time and follows trace.txt.\n");
    else
        fprintf(m, "\nThe replay is statistical: a %s trial depends on how the machine schedules "
                   "its threads, so one replay may pass; `refstorm repro --tries 20 <this "
                   "folder>` measures how often it comes back.\n", mode_name(f->mode));
    free(replay);
    free(replay_long);
    fprintf(m, "\n## Threads and ops involved\n\n");
    if (f->thread >= 0 && f->prog && (uint32_t)f->thread < f->prog->nthreads) {
        char op[256];
        report_op_text(f->prog, f->thread, f->op_index, op, sizeof op);
        uint32_t nops = f->prog->thread[f->thread].nops;
        if (f->op_index >= 0 && (uint64_t)f->op_index >= nops)
            fprintf(m, "The failure was seen in thread t%d after its last op (while the thread "
                       "ended)", f->thread);
        else if (f->op_index >= 0)
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
    return file_write_atomic(dir, name, text, strlen(text));
}

static int write_files(const char *tmp, const char *final, const report_finding *f)
{
    int rc = -1;
    char *md = NULL, *scn = NULL, *js = NULL;
    json_t *j = report_finding_json(f, final);
    if (!j)
        goto out;
    js = json_dumps(j, JSON_INDENT(2) | REPORT_JSON_REALS);
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
        file_write_atomic(tmp, "sanitizer.log", f->sanitizer_log ? f->sanitizer_log : "",
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

/* A finding folder is flat: remove every entry (the files and any half-written temporary of
 * file_write_atomic), then the folder. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        char p[4096 + 256];
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(dir);
}

int report_sweep_stale(const char *report_dir, time_t before)
{
    DIR *top = opendir(report_dir);
    if (top == NULL)
        return 0;
    int removed = 0;
    for (struct dirent *run; (run = readdir(top)) != NULL;) {
        if (run->d_name[0] == '.')
            continue;
        char rdir[4096];
        if (snprintf(rdir, sizeof rdir, "%s/%s", report_dir, run->d_name) >= (int)sizeof rdir)
            continue;
        DIR *d = opendir(rdir);
        if (d == NULL)
            continue;
        int left = 0, gone = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[4096 + 256];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", rdir, e->d_name);
            if (strncmp(e->d_name, ".tmp-", 5) == 0 && stat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
                st.st_mtime < before) {
                remove_tree(p);
                gone++;
            } else {
                left++;
            }
        }
        closedir(d);
        if (gone > 0 && left == 0)
            rmdir(rdir); /* a run folder that held only the unfinished write */
        removed += gone;
    }
    closedir(top);
    return removed;
}

int report_dir_writable(const char *dir)
{
    char probe[4096];
    if (snprintf(probe, sizeof probe, "%s", dir) >= (int)sizeof probe - 32) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* the nearest existing ancestor (dir itself if it exists) */
    struct stat st;
    while (stat(probe, &st) < 0) {
        if (errno != ENOENT)
            return -1;
        char *slash = strrchr(probe, '/');
        if (slash == NULL) {
            snprintf(probe, sizeof probe, ".");
            break;
        }
        if (slash == probe)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    if (stat(probe, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    strcat(probe, "/.refstorm-probe-XXXXXX");
    int fd = mkstemp(probe);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(probe);
    return 0;
}

int report_write_finding(const char *root, const report_finding *f, char *out, size_t n)
{
    char tmp[4096], final[4096];
    if (file_mkdir_p(root) < 0)
        return -1;
    if (snprintf(tmp, sizeof tmp, "%s/.tmp-%s-XXXXXX", root, f->finding_id) >= (int)sizeof tmp ||
        snprintf(final, sizeof final, "%s/%s", root, f->finding_id) >= (int)sizeof final) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(tmp))
        return -1;
    if (chmod(tmp, 0755) < 0 || write_files(tmp, final, f) < 0 || file_fsync_dir(tmp) < 0)
        goto fail;
    /* rename() of a directory replaces only an empty one: refuse to overwrite any */
    if (access(final, F_OK) == 0) {
        errno = EEXIST;
        goto fail;
    }
    if (rename(tmp, final) < 0 || file_fsync_dir(root) < 0)
        goto fail;
    snprintf(out, n, "%s", final);
    return 0;
fail:;
    int e = errno ? errno : EIO;
    remove_tree(tmp);
    rmdir(root); /* the run folder, if this finding was to be its first: no empty folder stays */
    errno = e;
    return -1;
}
