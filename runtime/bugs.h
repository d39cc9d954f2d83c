#ifndef RS_RUNTIME_INTERNAL
#error "runtime/bugs.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* bugs.h — the bug-injection registry (mutants).
 *
 * Each row of bugs.def is a named switch consulted at the one site it changes:
 *     if (rs_bug(RS_BUG_TID_ZERO_UNMERGED)) ...
 * Switches are process-wide and set before a trial starts (relaxed atomics: a switch changed
 * while threads run takes effect eventually, never tears).  Checks must never read them: a
 * mutant is detected by its effect. */
#ifndef RS_BUGS_H
#define RS_BUGS_H

#include "rs/debug.h"
#include <stdbool.h>
#include <stddef.h>

#include "rs/atomic.h"

typedef enum rs_bug_id {
#define RS_BUG(id, name, desc) RS_BUG_##id,
#include "rs/bugs.def"
#undef RS_BUG
    RS_BUG_COUNT
} rs_bug_id;

extern RS_ATOMIC(uint8_t) rs_bugs_on[RS_BUG_COUNT > 0 ? RS_BUG_COUNT : 1];

static inline bool rs_bug(rs_bug_id b) { return rs_atomic_load_relaxed_u8(&rs_bugs_on[b]) != 0; }

/* the registry by name (rs_bug_count, rs_bug_name, rs_bug_set, ...): rs/debug.h */

#endif
