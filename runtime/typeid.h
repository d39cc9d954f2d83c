#ifndef RS_RUNTIME_INTERNAL
#error "runtime/typeid.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* typeid.h — per-thread heap-type reference counts and the type-id pool (model.md §5).
 * Owned by typeid.c.
 *
 * Every heap type gets a unique id (index + 1 into the pool's table; 0 = none).  A thread
 * counts its references to a heap type in its own array, values[id - 1], with plain
 * increments (no atomic RMW on the type's shared field, which every instance creation would
 * otherwise contend on).  The counts are merged into the type's shared field by the GC under
 * stop-the-world, by the immortalisation pass, and when the thread exits.
 *
 *   T1  true type count = ob_ref_local + (ob_ref_shared >> 2) + Σ_threads values[id − 1]
 *       (≥ RS_REF_DEFERRED while the type is DEFERRED)
 *   T2  an id is released (entry on the pool freelist, reusable) only when every thread's
 *       values[id − 1] is 0
 *   T3  a type with outstanding per-thread counts stays alive (its deferred bias); counts are
 *       never merged into a freed object: every live table entry is an allocated heap type
 *       whose unique_id names that entry
 *   T4  only its thread touches a per-thread array, except STW merges and its finalisation;
 *       a finalised thread has no array; no array is longer than the pool
 *
 * Locking: the pool mutex (DONT_DETACH: holders neither poll nor wait on a DETACH lock) guards
 * table, freelist and entries; size is also stored atomically so threads growing their arrays
 * read it without the lock.  Lock order: HEAD_LOCK before the pool mutex. */
#ifndef RS_TYPEID_H
#define RS_TYPEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "lock.h"
#include "rs/violation.h"

#define RS_INVALID_UNIQUE_ID ((uintptr_t)0)
#define RS_TYPEID_POOL_MIN 8

typedef struct rs_typeid_tstate {
    intptr_t *values;   /* owner-only (STW merges and finalisation excepted); MEM heap block */
    size_t size;
    bool is_finalized;
} rs_typeid_tstate;

typedef struct rs_object rs_object;
typedef struct rs_type rs_type;
typedef struct rs_tstate rs_tstate;

typedef union rs_typeid_entry rs_typeid_entry;
union rs_typeid_entry {
    rs_typeid_entry *next;   /* on the freelist */
    rs_object *obj;          /* assigned: the heap type */
};

typedef struct rs_typeid_pool {
    rs_mutex mutex;                 /* DONT_DETACH */
    rs_typeid_entry *table;         /* mutex; a MEM heap block (counted like any other) */
    rs_typeid_entry *freelist;      /* mutex */
    RS_ATOMIC(size_t) size;         /* stored under the mutex; relaxed loads outside it */
} rs_typeid_pool;

/* Assign an id to a new heap type t (creation, before publication): grows the pool if needed
 * (fault "typeid.grow"; failure ⇒ id 0 and t is refcounted the ordinary way).  Stores
 * t->unique_id and returns it.  ts is the calling thread (its heap holds the table). */
uintptr_t rs_typeid_assign(rs_tstate *ts, rs_type *t);

/* The calling thread (ts) takes / drops a reference to a type.  Immortal ⇒ nothing; id in the
 * thread's array ⇒ values[id − 1] ± 1 and reftotal ± 1; otherwise the ordinary rs_incref /
 * rs_decref (id 0, finalised thread, failed resize — fault "typeid.array"). */
void rs_incref_type(rs_tstate *ts, rs_type *t);
void rs_decref_type(rs_tstate *ts, rs_type *t);

/* Merge t's per-thread counts into the types' shared fields and zero them.  By t's own thread,
 * by anyone under STW, or on behalf of a thread proven gone. */
void rs_typeid_merge(rs_tstate *t);
/* Merge every linked thread's counts: under STW with HEAD_LOCK held (GC, immortalisation). */
void rs_typeid_merge_all_locked(void);
/* Exit step (3) (model.md §8.1): merge, free the array, mark the thread finalised.  Idempotent. */
void rs_typeid_tstate_fini(rs_tstate *t);
/* Release t's id (model.md §3.4): under STW, after every thread's counts were merged.  The entry
 * goes back on the freelist and t->unique_id becomes 0. */
void rs_typeid_release(rs_type *t);
/* Shutdown step 8: null the freelist entries, set unique_id = 0 on every type still in the
 * table, free the table (with ts's heap).  Every thread must have been finalised. */
void rs_typeid_pool_fini(rs_tstate *ts);

/* Σ over linked threads of Σ values[i]: the per-thread terms of T1, for the RT sum (check.c).
 * HEAD_LOCK held, under STW. */
intptr_t rs_typeid_refsum(void);
/* T1–T4 where a state shows them; under STW with HEAD_LOCK held. */
bool rs_typeid_check_locked(rs_violation *v);

#endif
