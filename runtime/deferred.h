#ifndef RS_RUNTIME_INTERNAL
#error "runtime/deferred.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* deferred.h — deferred reference counting (model.md §3.1, §3.4) and the stack validators.
 * Owned by deferred.c (deferral) and stackcheck.c (validators).
 *
 * A DEFERRED object (gc bit RS_GC_DEFERRED, always tracked) carries a bias of RS_REF_DEFERRED
 * in its shared count, so its count never reaches 0 through refcounting; references from
 * frames and c_stack_refs may be tagged (uncounted).  The bias is never in the reference
 * total:
 *     RT term of a mortal DEFERRED object = refcnt(o) − RS_REF_DEFERRED
 *     D2: DEFERRED ⇒ TRACKED and (immortal or shared count ≥ RS_REF_DEFERRED)
 * Only the GC frees such objects, after rs_deferred_disable under stop-the-world.
 *
 * What the GC (gc.c) uses:
 *   rs_deferred_disable(o)   §3.4 minus the merge: clears DEFERRED and removes the bias
 *                            (a plain load-modify-store of ob_ref_shared: STW only); for a
 *                            generator, makes every tagged reference of its frame strong
 *                            (adding to the referent's shared count without reading ob_tid,
 *                            which may hold gc_refs then).  The GC then calls its own
 *                            merge_refcount(o, 0) (or +1 for unreachable objects).  Heap types
 *                            must also release their unique id (§5): the types mechanism's
 *                            part, not done here.
 *   rs_frames_visit_thread   frame.h: the stack scan (§3.3)
 *   generators' tp_traverse  code.c: tagged references reported with tagged = 1 */
#ifndef RS_DEFERRED_H
#define RS_DEFERRED_H

#include "rs/api.h"
#include <stdbool.h>

#include "rs/object.h"
#include "rs/violation.h"

/* Creation (owner, shared 0, count 1): immortalise if `immortalize_deferred` is on and
 * rt.immortalize == 1, else set DEFERRED and add the bias. */
void rs_set_deferred(rs_object *o);
/* rs_object_enable_deferred: rs/api.h */
/* §3.4, under STW (see above). */
void rs_deferred_disable(rs_object *o);

/* For unit tests that run no collection (the GC is what frees deferred objects).  The caller holds the
 * last `nrefs` strong references to o and nothing else can reach it (no tagged reference
 * either): ends deferral or immortality and drops those references, freeing o.  For an
 * immortal (temporarily immortalised) o the count was dropped from the total at
 * immortalisation, so it is added back first (de-immortalisation, §10).  Fatal if a mortal
 * o's count (bias excluded) is not nrefs. */
void rs_deferred_test_release(rs_object *o, intptr_t nrefs);

/* Validator (stackcheck.c), under STW with HEAD_LOCK held (from rs_check_world): D2 on every
 * object of every published heap and the abandoned pool; D4 on every thread's c_stack_refs
 * and THREAD frames (every non-null reference names an allocated object block, or a static
 * object).  True if sound, else false with *v filled ("D2", "D4"). */
struct rs_freelist_set;
/* D2, D4 under STW; `dead` (may be NULL) lists freelisted blocks, which count as freed */
bool rs_check_stacks(rs_violation *v, const struct rs_freelist_set *dead);

#endif
