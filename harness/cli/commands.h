/* commands.h — the user-facing subcommands `list`, `run` and `repro` (cmd_list.c, cmd_run.c,
 * cmd_repro.c); main.c parses the command line (cli.h) and dispatches here.  Each returns the
 * process exit code (EXIT_*, base/vocab.h).  argv0 is how the user called refstorm, used in
 * printed replay commands. */
#ifndef RS_COMMANDS_H
#define RS_COMMANDS_H

#include "cli.h"

int cmd_list(const cli_opts *o);
int cmd_run(const cli_opts *o, const char *argv0);
int cmd_repro(const cli_opts *o, const char *argv0);
int cmd_worker(const cli_opts *o);
int cmd_import(const cli_opts *o, const char *argv0); /* cmd_fuzz.c */
int cmd_encode(const cli_opts *o);                    /* cmd_fuzz.c */

#endif
