/* main.c — refstorm's entry point: parse the command line (cli.h) and dispatch to the
 * subcommand.  Usage errors print "refstorm: message" and exit 2; `--help` prints the help
 * generated from the flag table and exits 0.  Everything else lives in cmd_list.c, cmd_run.c,
 * cmd_repro.c, mutants.c (the scoreboard), shrink.c (minimal reproducers) and, below the CLI,
 * supervise/worker.c (the hidden `worker` command that run, repro and shrink start). */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "mutants.h"
#include "shrink.h"
#include "supervise.h"

static int dispatch(const cli_opts *o, const char *argv0);

/* SIGINT, SIGTERM and SIGPIPE end a command's work early but through its own exit path: the
 * workers are killed, finished findings kept, temporary files removed, the summary so far
 * printed (supervise.h); then the status is 128 + the signal (130, 143; 141 quietly, since
 * the reader of stdout is gone). */
int main(int argc, char **argv)
{
    cli_opts o;
    char err[512];
    if (cli_parse(argc, argv, &o, err, sizeof err) < 0) {
        fprintf(stderr, "refstorm: %s\nrun 'refstorm --help' for usage\n", err);
        return EXIT_USAGE;
    }
    if (o.help) {
        cli_help(stdout, o.cmd == CLI_CMD_HELP ? CLI_CMD_NONE : o.cmd);
        return EXIT_PASS;
    }
    const char *argv0 = argc > 0 && argv[0] ? argv[0] : "refstorm";
    if (o.cmd != CLI_CMD_WORKER)
        supervise_signals_install();
    int rc = dispatch(&o, argv0);
    int sig = supervise_interrupted();
    if (sig == 0)
        return rc;
    if (sig != SIGPIPE)
        fprintf(stderr, "refstorm: interrupted by SIG%s: stopped; what finished is above (exit "
                        "%d)\n", sig == SIGINT ? "INT" : "TERM", 128 + sig);
    return 128 + sig;
}

static int dispatch(const cli_opts *o, const char *argv0)
{
    switch (o->cmd) {
    case CLI_CMD_HELP:
        if (o->markdown)
            cli_markdown(stdout);
        else if (o->target)
            cli_help(stdout, cli_command_find(o->target)->cmd);
        else
            cli_help(stdout, CLI_CMD_NONE);
        return EXIT_PASS;
    case CLI_CMD_LIST:
        return cmd_list(o);
    case CLI_CMD_RUN:
        return cmd_run(o, argv0);
    case CLI_CMD_REPRO:
        return cmd_repro(o, argv0);
    case CLI_CMD_WORKER:
        return cmd_worker(o);
    case CLI_CMD_MUTANTS:
        return cmd_mutants(o, argv0);
    case CLI_CMD_SHRINK:
        return cmd_shrink(o, argv0);
    case CLI_CMD_IMPORT:
        return cmd_import(o, argv0);
    case CLI_CMD_ENCODE:
        return cmd_encode(o);
    case CLI_CMD_NONE:
    case CLI_CMD__COUNT:
        break;
    }
    fprintf(stderr, "refstorm: no command given\n");
    return EXIT_USAGE;
}
