/* cmd_repro.c — `refstorm repro`: replay one trial, either of a finding folder (its
 * report.json gives the mode, seed, depth and the verdict to expect; repro.scn the program;
 * trace.txt the pct trace) or of a .scn file, and say whether the finding came back. */
#include "commands.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "session.h"

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What a finding folder says about its trial. */
typedef struct finding_info {
    bool have;             /* a finding folder was read */
    verdict want;          /* the verdict it recorded */
    char want_check[32];
    bool have_seed;
    uint64_t seed;
    char scn_path[4096], trace_path[4096];
} finding_info;

/* Read dir/report.json into s (mode, depth, self-tests unless given) and fi; an exit code. */
static int read_finding(session *s, const cli_opts *o, const char *dir, finding_info *fi)
{
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s/report.json", dir);
    json_error_t je;
    json_t *j = json_load_file(jpath, 0, &je);
    if (!json_is_object(j)) {
        fprintf(stderr, "%s:%d:%d: %s\n", jpath, je.line, je.column,
                j ? "not a JSON object" : je.text);
        json_decref(j);
        return EXIT_USAGE;
    }
    int rc = EXIT_PASS;
    const char *m = json_string_value(json_object_get(j, "mode"));
    if (!cli_given(o, "mode") && m && mode_parse(m, &s->mode) < 0) {
        fprintf(stderr, "%s: mode: unknown mode '%s' (%s)\n", jpath, m, mode_list());
        rc = EXIT_USAGE;
    }
    const char *v = json_string_value(json_object_get(j, "verdict"));
    if (v && verdict_parse(v, &fi->want) < 0) {
        fprintf(stderr, "%s: verdict: unknown verdict '%s'\n", jpath, v);
        rc = EXIT_USAGE;
    }
    fi->have = v != NULL;
    if (!cli_given(o, "depth") && json_is_integer(json_object_get(j, "depth")))
        s->depth = (int)json_integer_value(json_object_get(j, "depth"));
    if (json_is_integer(json_object_get(j, "seed"))) {
        fi->seed = (uint64_t)json_integer_value(json_object_get(j, "seed"));
        fi->have_seed = true;
    }
    if (!cli_given(o, "selftest-crash") && json_is_true(json_object_get(j, "selftest_crash")))
        s->selftest_crash = 0;
    if (!cli_given(o, "selftest-hang") && json_is_true(json_object_get(j, "selftest_hang")))
        s->selftest_hang = 0;
    snprintf(fi->want_check, sizeof fi->want_check, "%s",
             json_string_value(json_object_get(j, "check")) ?: "");
    json_decref(j);
    snprintf(fi->scn_path, sizeof fi->scn_path, "%s/repro.scn", dir);
    snprintf(fi->trace_path, sizeof fi->trace_path, "%s/trace.txt", dir);
    return rc;
}

static void verdict_lines(const session *s, const cli_opts *o, const finding_info *fi)
{
    const trial_result *r = &s->last;
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "repro: %s%s%s%s (mode %s, seed %" PRIu64 ")\n", verdict_name(r->verdict),
            r->check[0] ? " (" : "", r->check, r->check[0] ? ")" : "", mode_name(s->mode),
            r->seed);
    if (r->message[0])
        fprintf(out, "  %s\n", r->message);
    if (fi->have) {
        bool same = fi->want == r->verdict && strcmp(fi->want_check, r->check) == 0;
        fprintf(out, "%s: the finding was %s (%s)\n",
                same ? "REPRODUCED" : trial_is_finding(r) ? "DIFFERENT FINDING" : "NOT REPRODUCED",
                verdict_name(fi->want), fi->want_check);
    }
}

int cmd_repro(const cli_opts *o, const char *argv0)
{
    session s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.repro = true;
    s.argv0 = argv0;
    s.mode = o->mode;
    s.depth = (int)o->depth;
    s.selftest_crash = o->selftest_crash;
    s.selftest_hang = o->selftest_hang;
    s.source = o->target;
    finding_info fi = {0};
    const char *trace = o->trace;
    int rc = EXIT_PASS;
    if (is_dir(o->target)) {
        rc = read_finding(&s, o, o->target, &fi);
        s.source = fi.scn_path;
        if (!trace && access(fi.trace_path, R_OK) == 0 && s.mode == MODE_PCT)
            trace = fi.trace_path;
    }
    if (rc == EXIT_PASS && (session_load_program(s.source, &s.prog) < 0 ||
                            session_add_bugs(&s.prog, o->bugs) < 0))
        rc = EXIT_USAGE;
    if (rc == EXIT_PASS && trace && access(trace, R_OK) != 0) {
        fprintf(stderr, "refstorm: --trace %s: %s\n", trace, strerror(errno));
        rc = EXIT_USAGE;
    }
    if (rc == EXIT_PASS) {
        /* trial 0 of a one-trial run with base seed = the finding's seed */
        s.seed = cli_given(o, "seed") ? o->seed : fi.have_seed ? fi.seed : s.prog.opt.seed;
        rc = session_drive(&s, 1, 0, session_watchdog(o, &s.prog), trace, o->bugs);
        if (rc != EXIT_INTERNAL && s.have_last && !o->quiet)
            verdict_lines(&s, o, &fi);
    }
    program_free(&s.prog);
    return rc;
}
