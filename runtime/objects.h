#ifndef RS_RUNTIME_INTERNAL
#error "runtime/objects.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* objects.h — the GC-tracked object kinds of model.md §0.1 that hold references: containers,
 * lists, finalizables, weakrefs; the root slots; the per-object lock.
 *
 * Reference conventions: every setter *steals* the reference it is given (the caller's
 * reference moves into the slot; NULL allowed where a slot may be empty); every getter returns
 * a *new* reference or NULL.  Writers serialise on the object's ob_mutex; readers are
 * lock-free (acquire load of the slot, rs_try_incref_compare) and fall back to the lock
 * (model.md §2.1).  A replaced reference is decref'd after the lock is released, so a destructor
 * never runs under an object lock.
 *
 * Destruction of containers, lists and finalizables goes through the trashcan (trash.c):
 * deep chains are destroyed iteratively, never deeper than rs_rt.opts.trash_depth nested
 * destructors.  Each destructor clears the object's weakrefs first (weakref.c), then drops
 * what it holds, decrefs a heap type, and frees the block.
 *
 * Memory layout: a finalizable starts with a container, so the container accessors work on
 * both kinds (rs_container_get/set accept RS_KIND_CONTAINER and RS_KIND_FINALIZABLE). */
#ifndef RS_OBJECTS_H
#define RS_OBJECTS_H

#include "rs/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lock.h"
#include "rs/object.h"
#include "rs/violation.h"

/* ---- the per-object lock (ob_mutex, model.md §8.2) ----
 * ob_mutex is one atomic byte at offset 10; rs_mutex is a struct of exactly one atomic byte,
 * so a pointer to the field is (C11 6.7.2.1p15) a pointer to such a struct.  Waiters detach
 * (RS_LOCK_DETACH): a thread holding an object lock may stop the world (rs_free_delayed
 * without a chunk does), and a waiting thread must not hold that stop up. */
_Static_assert(sizeof(rs_mutex) == 1, "rs_mutex overlays ob_mutex");
static inline rs_mutex *rs_object_mutex(rs_object *o) { return (rs_mutex *)(void *)&o->ob_mutex; }
static inline void rs_object_lock(rs_object *o) { rs_mutex_lock_flags(rs_object_mutex(o), RS_LOCK_DETACH); }
static inline void rs_object_unlock(rs_object *o) { rs_mutex_unlock(rs_object_mutex(o)); }

/* Header of a statically allocated (immortal) type object. */
#define RS_STATIC_TYPE_HEADER                                                            \
    {                                                                                    \
        .ob_tid = 0, .ob_flags = RS_OBF_STATIC, .ob_mutex = 0, .ob_gc_bits = 0,           \
        .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_ref_shared = 0, .ob_type = &rs_type_type \
    }

/* Make non-owners' rs_try_incref succeed on a live object: CAS MAYBE_WEAKREF into the shared
 * flags if they are 0 (weakref creation, root stores).  Immortals are left alone. */
void rs_object_set_maybe_weakref(rs_object *o);

/* ---- containers (container.c) ---- */
#define RS_CONTAINER_MAX 8
typedef struct rs_container {
    rs_object ob_base;
    uint32_t n;                             /* immutable after creation, ≤ RS_CONTAINER_MAX */
    RS_ATOMIC(void *) slots[RS_CONTAINER_MAX]; /* strong references or NULL; written under
                                             * ob_mutex (release), read lock-free (acquire) */
} rs_container;

int rs_container_traverse(rs_object *c, rs_visit_fn visit, void *arg);
void rs_container_clear(rs_object *c);        /* drop every slot (GC phase 4) */
void rs_container_dealloc(rs_object *c);
/* Destructor body shared with finalizables: weakrefs, slots, heap type, free (no trashcan). */
void rs__container_destroy(rs_object *c);

/* ---- lists (list.c) ----
 * items: a MEM-heap buffer {capacity; item[capacity]}; slots [size, capacity) are NULL.
 * A non-owner's first read sets SHARED under ob_mutex; from then on a replaced buffer (and the
 * last one, at destruction) goes through rs_free_delayed, so lock-free readers — attached,
 * hence holding QSBR back — never see it freed under them. */
typedef struct rs_list_items {
    size_t capacity;
    RS_ATOMIC(void *) item[];
} rs_list_items;

typedef struct rs_list {
    rs_object ob_base;
    RS_ATOMIC(void *) items;    /* rs_list_items *, or NULL when empty; release store under
                                 * ob_mutex, acquire load by readers */
    RS_ATOMIC(uintptr_t) size;  /* written under ob_mutex (relaxed), read relaxed */
} rs_list;

extern rs_type rs_list_type;
size_t rs_list_size(rs_object *l);
int rs_list_traverse(rs_object *l, rs_visit_fn visit, void *arg);
void rs_list_clear(rs_object *l);
void rs_list_dealloc(rs_object *l);

/* ---- finalizables (finalizable.c) ----
 * Behaviour lives in the type's tp_extra (a const rs_fin_behaviour *); the root slot a
 * resurrecting object stores itself into is the object's `root_slot` field (rs_rt.roots[]).
 *   FIN_NONE           tp_finalize counts and does nothing
 *   FIN_RESURRECT      tp_finalize, first run, stores a new reference to the object in
 *                      roots[root_slot]
 *   DEALLOC_RESURRECT  no finalizer; the destructor, first run, increfs the object, stores it
 *                      in roots[root_slot] and returns without freeing
 *   FIN_COLLECT        tp_finalize runs a MANUAL collection (Python's `gc.collect()` in a
 *                      `__del__`), unless the runtime is finalizing; a destructor reached from
 *                      a pop-close therefore collects while the frame's stackpointer is
 *                      unpublished (model.md §3.3, gh-129236)
 * Finalizers run at most once (FINALIZED bit); destructors resurrect at most once
 * (`resurrected`, written only by the destructor, which runs with sole access). */
/* rs_fin_behaviour (the four above) is in rs/api.h */

typedef struct rs_finalizable {
    rs_container c;             /* slots as a container's */
    int root_slot;              /* immutable: index into rs_rt.roots[] */
    bool resurrected;           /* destructor-only */
} rs_finalizable;

extern rs_type rs_fin_none_type, rs_fin_resurrect_type, rs_dealloc_resurrect_type,
    rs_fin_collect_type;
rs_type *rs_finalizable_type(rs_fin_behaviour b);
/* An instance of a finalizable type `t` (static or heap: tp_kind FINALIZABLE, tp_extra a
 * const rs_fin_behaviour *, tp_basicsize ≥ sizeof(rs_finalizable)); a heap type is held. */
rs_object *rs_finalizable_new_typed(rs_type *t, uint32_t n, int root_slot);
/* For heap types: tp_dealloc / tp_finalize of finalizable types. */
void rs_finalizable_dealloc(rs_object *o);
void rs_finalizable_finalize(rs_object *o);
rs_fin_behaviour rs_finalizable_behaviour(const rs_object *o);

/* ---- weakrefs (weakref.c) ----
 * A weakref holds an uncounted pointer to its referent and sits on the referent's list: a
 * chain in one bucket of a 256-way address-striped table, each bucket with its own lock.
 * get = try_incref under the bucket lock.  The referent's destructor (or the GC) clears every
 * weakref to it — referent NULL, unlinked — before the referent's block is freed. */
typedef struct rs_weakref {
    rs_object ob_base;
    RS_ATOMIC(void *) referent;     /* NULL once cleared; written under the bucket lock */
    bool has_callback;              /* immutable */
    struct rs_weakref *prev, *next; /* bucket chain, under the bucket lock */
} rs_weakref;

extern rs_type rs_weakref_type;
/* Destructor step: clear every weakref to `referent`, then run the callbacks of those that
 * have one and are still alive (try_incref), outside the lock. */
void rs_weakrefs_clear_dealloc(rs_object *referent);
/* runtime init: names the weakref stripes' mutexes for the lock-order witness */
void rs_weakref_runtime_init(void);
/* For the GC (phase 1 step 7, under STW): clear every weakref to `referent`; each one with a
 * callback is passed to found(wr, arg) (under the bucket lock: found must not touch
 * weakrefs).  Returns how many were cleared. */
typedef void (*rs_weakref_found_fn)(rs_object *wr, void *arg);
size_t rs_weakrefs_clear(rs_object *referent, rs_weakref_found_fn found, void *arg);
/* Clear one weakref (GC: an unreachable weakref is cleared itself). */
void rs_weakref_clear(rs_object *wr);
/* Run wr's callback: callbacks_run += 1 (the GC calls this for its wrcb_to_call list). */
void rs_weakref_run_callback(rs_object *wr);
/* Number of weakrefs currently linked to referent (tests, validators). */
size_t rs_weakref_count(rs_object *referent);
/* W1 (under STW): every linked weakref is in the bucket of its referent, and the referent is
 * non-NULL, an allocated block, of a kind that takes weakrefs — i.e. no referent was freed
 * while a weakref still pointed to it. */
bool rs_weakref_check(rs_violation *v);

/* ---- roots (roots.c): rs_rt.roots[8], rs_rt.late_roots[8] ----
 * set steals o (may be NULL): MAYBE_WEAKREF is set on o (so that non-owners' try_incref can
 * succeed), then exchange (acq_rel) and decref of the old value.  get = acquire load +
 * try_incref_compare, retried until it succeeds or the slot is empty. */
/* RS_ROOTS, rs_root_set, rs_root_get, rs_late_root_set: rs/api.h */
rs_object *rs_late_root_get(int i);
void rs_roots_clear(void);         /* shutdown: drop every root */
void rs_late_roots_clear(void);    /* shutdown, after the final collection */
/* shutdown, just before rs_late_roots_clear: objects on or below a reference cycle reachable
 * from late_roots[] (refcounting cannot free them); -1 out of memory (latecycle.c) */
int64_t rs_late_root_cycle_objects(void);

/* ---- trashcan (trash.c, model.md §1.3) ----
 * A destructor of a kind that can form deep chains brackets its body:
 *     if (rs_trash_begin(o)) return;   // deposited: destroyed later by the outermost drain
 *     ... body ...
 *     rs_trash_end();                  // the outermost one drains delete_later
 * The drain calls o->ob_type->tp_dealloc(o) again for each deposited object. */
bool rs_trash_begin(rs_object *o);
void rs_trash_end(void);
/* TR1 (under STW, HEAD_LOCK held): a thread's delete_later chain is non-empty only inside a
 * destructor (dealloc_depth > 0 or draining), and each deposited object has count 0, is
 * untracked and is an allocated block. */
bool rs_trash_check_locked(rs_violation *v);

#endif
