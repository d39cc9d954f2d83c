/* shrink.h — `refstorm shrink`: turn a failing program into a minimal reproducer.
 *
 * The input is a finding folder (report.json gives the mode, depth, scheduler seed, mutants and
 * the verdict + check to keep) or a .scn file plus flags (the verdict + check are those of the
 * first failing trial).  A candidate program "reproduces" when one of --tries trials, run in a
 * supervised worker (worker.h) by mode and seed — never by a pct trace, which stops applying
 * once ops are gone — fails with the same verdict and check.  Greedy reductions, repeated to a
 * fixpoint or until --time runs out: drop whole threads other than t0 (with the ops naming
 * them), remove chunks of each thread's ops with halving chunk sizes down to single ops (ddmin),
 * and halve integer arguments (counts, depths, sizes, ms) towards their minimum.  A candidate
 * that program_validate() rejects is skipped, never repaired.  The result is written atomically
 * as canonical .scn with header comments saying what it reproduces.
 *
 * The program edits below are pure data operations, exposed for the unit tests. */
#ifndef RS_SHRINK_H
#define RS_SHRINK_H

#include <stdint.h>

#include "cli.h"
#include "program.h"

/* The subcommand; returns the exit code (0 shrunk, 1 the input does not reproduce, 2 usage or
 * input error, 3 internal error). */
int cmd_shrink(const cli_opts *o, const char *argv0);

/* Total ops over all threads. */
uint64_t shrink_op_count(const program *p);
/* Remove ops [start, start + count) of thread t (clamped to the thread's length). */
void shrink_drop_ops(program *p, uint32_t t, uint32_t start, uint32_t count);
/* Remove thread k (k >= 1) and every op of the other threads that names it (spawn, join,
 * async_exc, merge_request); threads above k are renumbered down by one, and so are the ops
 * naming them.  -1 if k is 0 or out of range (p unchanged). */
int shrink_drop_thread(program *p, uint32_t k);

#endif
