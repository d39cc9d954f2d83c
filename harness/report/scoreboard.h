/* scoreboard.h — the mutant scoreboard's outputs: the verdict, the text table and the gate's
 * files.  `refstorm mutants` (cli/mutants.c) fills the board; this module only reads it.
 *
 * The scoreboard is one JSON object (the `--json` output, also summary.json):
 *   {"format": 1, "variant": "asan"|"tsan"|"asan+tsan", "seeds": N, "trial_budget": B,
 *    "force_bug": NAME|null, "seconds": wall time,
 *    "mutants": [{"name", "variant", "seeds", "detected", "undetected", "not_runnable",
 *                 "detector", "expected", "scenarios", "median_trials", "max_trials" (trials
 *                 to the first finding over the detected seeds), "median_s", "max_s" (the same
 *                 in wall time, for information), "trials" (all trials run),
 *                 "first": {"scenario", "mode", "program_seed", "sched_seed", "verdict",
 *                           "check", "message", "seconds", "trials"} | null}, ...],
 *    "clean": {"seeds", "findings", "trials", "passed", "not_runnable", "list": [...]},
 *    "unregistered": [names targeted by scenarios but absent from bugs.def],
 *    "ok": bool, "failing": [mutant names not detected, and "clean" if it had findings]} */
#ifndef RS_SCOREBOARD_H
#define RS_SCOREBOARD_H

#include <stdio.h>

#include <jansson.h>

/* The text table (stdout), and summary.md / summary.json / junit.xml written atomically into
 * dir.  The board is the object described above. */
void mutants_print_table(FILE *f, json_t *board);
int mutants_write_summary(const char *dir, json_t *board);
/* Fill "ok" and "failing" from the rows and the clean row. */
void mutants_judge(json_t *board);

#endif
