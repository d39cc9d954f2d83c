/* mutants.h — `refstorm mutants`, the mutant scoreboard (DESIGN.md "Mutants: the harness
 * proves itself").  mutants.c runs it: each mutant of runtime/bugs.def against the scenarios
 * that target it (harness/scenario.h, implemented in scenarios/), and every scenario with no mutant (the clean row),
 * in the variant whose detectors the mutant needs; mutants_out.c prints and writes the
 * result (table, one JSON object, summary.md, summary.json, junit.xml).
 *
 * The scoreboard is one JSON object (the `--json` output, also summary.json):
 *   {"format": 1, "variant": "asan"|"tsan"|"asan+tsan", "seeds": N, "budget_s": B,
 *    "force_bug": NAME|null, "seconds": wall time,
 *    "mutants": [{"name", "variant", "seeds", "detected", "undetected", "not_runnable",
 *                 "detector", "expected", "scenarios", "median_s", "max_s", "trials",
 *                 "first": {"scenario", "mode", "program_seed", "sched_seed", "verdict",
 *                           "check", "message", "seconds"} | null}, ...],
 *    "clean": {"seeds", "findings", "trials", "passed", "not_runnable", "list": [...]},
 *    "unregistered": [names targeted by scenarios but absent from bugs.def],
 *    "ok": bool, "failing": [mutant names not detected, and "clean" if it had findings]} */
#ifndef RS_MUTANTS_H
#define RS_MUTANTS_H

#include <jansson.h>

#include "cli.h"

int cmd_mutants(const cli_opts *o, const char *argv0);

/* mutants_out.c: the text table (stdout), and summary.md / summary.json / junit.xml written
 * atomically into dir.  The board is the object described above. */
void mutants_print_table(FILE *f, json_t *board);
int mutants_write_summary(const char *dir, json_t *board);
/* Fill "ok" and "failing" from the rows and the clean row. */
void mutants_judge(json_t *board);

#endif
