/* cmd_list.c — `refstorm list`: the scenarios, the mutants and the scheduling modes, from
 * their tables. */
#include "commands.h"

#include <stdio.h>

#include "rs/debug.h"
#include "scenario.h"

int cmd_list(const cli_opts *o)
{
    (void)o;
    printf("scenarios (%zu; refstorm run NAME [--seed N] [--threads N]):\n", scenario_count());
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *sc = scenario_at(i);
        printf("  %-20s %s (%d threads)\n", sc->name, sc->property, sc->default_threads);
    }
    printf("\n");
    printf("mutants (%zu; switch on with --bug NAME):\n", rs_bug_count());
    for (size_t i = 0; i < rs_bug_count(); i++)
        printf("  %-28s %s\n", rs_bug_name(i), rs_bug_desc(i));
    printf("\nfault sites (fail_alloc_at COUNT SITE; SITE.* for a prefix):\n");
    for (size_t i = 0; i < rs_fault_site_count(); i++)
        printf("  %-16s %s\n", rs_fault_site_name(i), rs_fault_site_desc(i));
    printf("\nmodes (--mode MODE):\n");
    for (int m = 0; m < MODE__COUNT; m++)
        printf("  %-6s %s\n", mode_name((run_mode)m), mode_help((run_mode)m));
    return EXIT_PASS;
}
