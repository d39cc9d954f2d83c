#ifndef RS_RUNTIME_INTERNAL
#error "runtime/check.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* check.h — the runtime's validators (model.md §12).  Each returns true when the invariant holds,
 * else false with an rs_violation naming it.  They never abort.
 *
 *   rs_check_object      H1, H3, H4, H5 (ob_tid is 0 or some bound thread's id), Vfree —
 *                        one object, at a quiescent point (STW or single-threaded)
 *   rs_check_world       under STW (the caller is the requester): every heap (page
 *                        consistency, heap_initialized ⇒ READY), every object (above), the BRC
 *                        queues (B1, B3, E2), eval breakers (E3), reference conservation (RT)
 *   rs_check_runtime     stops the world, runs rs_check_world, restarts it
 *
 * H2 (only the owner writes ob_ref_local) is a property of executions, not of states: it is
 * TSan's to catch (local writes are relaxed atomics only on the owner's path; mutants that
 * break H2 use plain accesses). */
#ifndef RS_CHECK_H
#define RS_CHECK_H

#include "rs/debug.h"
#include <stdbool.h>

#include "rs/object.h"
#include "tstate.h"
#include "rs/violation.h"

bool rs_check_object(const rs_object *o, rs_violation *v);
/* rs_check_world, rs_check_runtime: rs/debug.h */

#endif
