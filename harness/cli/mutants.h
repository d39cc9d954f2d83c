/* mutants.h — `refstorm mutants`, the mutant scoreboard (README "Mutants": the harness
 * proves itself").  mutants.c runs it: each mutant of runtime/include/rs/bugs.def against the scenarios
 * that target it (scenarios/scenario.h), and every scenario with no mutant (the clean row),
 * in the variant whose detectors the mutant needs; report/scoreboard.c prints and writes the
 * result (table, one JSON object, summary.md, summary.json, junit.xml).
 *
 * The scoreboard's form is in scoreboard.h. */
#ifndef RS_MUTANTS_H
#define RS_MUTANTS_H

#include <jansson.h>

#include "cli.h"
#include "scoreboard.h"

int cmd_mutants(const cli_opts *o, const char *argv0);

#endif
