#ifndef RS_RUNTIME_INTERNAL
#error "runtime/typeobj.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* typeobj.h — heap type objects and their instances (model.md §0.1, §5).  Owned by typeobj.c.
 *
 * A heap type is an object in the GC heap (tracked; its own type is the static metatype
 * rs_heaptype_type, kind RS_KIND_TYPE) with one slot, `dict` (tp_dict, a strong reference).
 * It is always deferred (DEFERRED + the RS_REF_DEFERRED bias, or immortal while temporary
 * immortalisation is active), so only the GC frees it; it owns a unique id for per-thread
 * reference counting (typeid.h).  Its tp_flags are RS_TPFLAGS_HEAPTYPE plus, as for any type,
 * RS_TPFLAGS_GC when its instances are GC-tracked (leaf instances are not).
 *
 * Instances hold a reference to their heap type, taken with rs_incref_type when created and
 * dropped with rs_decref_type by their destructor, after the base kind's destructor ran. */
#ifndef RS_TYPEOBJ_H
#define RS_TYPEOBJ_H

#include "rs/api.h"
#include <stdbool.h>

#include "rs/object.h"

/* the metatype of heap types (static, immortal) */
extern rs_type rs_heaptype_type;

typedef struct rs_heaptype {
    rs_type type;
    const rs_type *base;     /* the static type whose layout and behaviour instances take */
} rs_heaptype;


/* Create a heap type named `name` (not copied: a string that outlives the type) whose
 * instances are of `base_kind` (only RS_KIND_LEAF so far; other kinds use
 * rs_type_new_heap_from with their static base type).  Owned by ts (count 1), tracked,
 * deferred, with a unique id (0 if the pool could not grow).  NULL on allocation failure. */
rs_type *rs_type_new_heap(rs_tstate *ts, const char *name, rs_kind base_kind);
/* rs_type_new_heap_from (instances like those of a static type) and rs_type_is_heap:
 * rs/api.h */

/* A new instance of the heap type (owned, count 1), holding a type reference; untracked
 * kinds only (leaves).  NULL on allocation failure. */
rs_object *rs_instance_new(rs_tstate *ts, rs_type *type);

/* TEST-ONLY path freeing a heap type while the GC cannot (model.md §3.4 done by hand): stops the
 * world, merges every thread's per-thread counts, disables deferral (clears DEFERRED, removes
 * the bias, merge_refcount(o, 0): the count moves to the shared field, MERGED), releases the id, restarts the world, then drops the creator's reference `ts` holds.
 * The type is freed when its last instance is gone.  Not for immortal types. */
void rs_type_heap_drop_testonly(rs_tstate *ts, rs_type *type);

#endif
