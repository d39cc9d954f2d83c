#ifndef RS_RUNTIME_INTERNAL
#error "runtime/immortal.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* immortal.h — temporary immortalisation of deferred objects (model.md §3.6).  Owned by
 * immortal.c.
 *
 * rt.immortalize (atomic int):  0 armed · 1 active · < 0 suppressed.
 * Suppressors add −2 on entry and +2 on exit (RMWs: they nest and commute across threads);
 * the pass runs at most once, under stop-the-world, when the first non-main thread state is
 * created and it re-reads 0 there; it ends with CAS 0 → 1.
 *     D5: with A active suppressors, immortalize ∈ {−2A, 1 − 2A}   (A = debug_suppressors)
 * and nothing a thread creates inside its own scope is immortal (set_deferred reads the
 * value with the thread's own −2 already added, so it sees < 1; the pass re-checks 0).
 * Option `immortalize_deferred` off ⇒ never triggered. */
#ifndef RS_IMMORTAL_H
#define RS_IMMORTAL_H

#include "rs/api.h"
#include <stdbool.h>

#include "rs/atomic.h"
#include "rs/violation.h"

typedef struct rs_tstate rs_tstate;

typedef struct rs_immortal_state {
    RS_ATOMIC(int) immortalize;      /* 0 armed, 1 active, < 0 suppressed (−2 per suppressor) */
    RS_ATOMIC(int) debug_suppressors; /* D5: active suppressors (relaxed RMWs) */
    RS_ATOMIC(int) passes;            /* statistics: immortalisation passes run */
} rs_immortal_state;

/* Suppression scopes: rs_immortalize_suppress / rs_immortalize_unsuppress in rs/api.h. */
/* CPython: subinterpreter creation/teardown — a suppression scope. */
void rs_isolated_scope_enter(void);
void rs_isolated_scope_exit(void);

/* true if set_deferred must immortalise now (option on and rt.immortalize == 1) */
bool rs_immortalize_active(void);
/* The trigger: called by rs_tstate_new after linking `created` (a non-main state). */
void rs_immortalize_on_new_thread(rs_tstate *created);

/* D5 validator (any time; exact under STW, when no suppressor is mid-update). */
bool rs_check_immortalize(rs_violation *v);

#endif
