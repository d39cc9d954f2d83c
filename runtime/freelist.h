#ifndef RS_RUNTIME_INTERNAL
#error "runtime/freelist.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* freelist.h — per-thread unified freelists (model.md §6).  Owned by freelist.c.
 *
 * Each thread state embeds `freelists` (ts->freelists): singly linked stacks of dead blocks,
 * kept allocated (and counted) so that the next allocation of the same kind skips the heap.
 * A block is linked through its first word (ob_tid for objects), written with a relaxed atomic
 * store: lock-free readers may still probe a dead object's ob_tid (try_incref), and a block
 * address there is never any thread's id, so no reader mistakes itself for the owner.
 *
 * Maxima: leaves 100, containers[1..4] 80, lists 80, object_stack_chunks 4; with the option
 * `freelists` off every maximum is 0 (push refuses, pop finds nothing).  size == -1 marks a list
 * disabled by its final clear (thread exit): push refuses from then on.
 *
 * Invariants (validated by rs_freelist_check_locked):
 *   F1  a thread's lists change only by that thread, or under stop-the-world (TSan's to catch)
 *   F2  size == chain length;  size == -1 ⇒ chain empty;  option off ⇒ no list holds a block
 *   F3  a freelisted object is dead: ob_ref_local == 0, ob_ref_shared ∈ {0, MERGED} (so
 *       try_incref fails), its first word is a block address or 0 (never a thread id), and its
 *       block is still allocated. */
#ifndef RS_FREELIST_H
#define RS_FREELIST_H

#include "rs/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/violation.h"

typedef struct rs_freelist {
    void *head;       /* chain through the block's first word */
    intptr_t size;    /* chain length; -1: disabled (final clear ran) */
} rs_freelist;


typedef struct rs_freelists {
    rs_freelist leaves;
    rs_freelist containers[RS_FREELIST_CONTAINER_MAX_SLOTS + 1]; /* [1..4] used */
    rs_freelist lists;
    rs_freelist object_stack_chunks;
} rs_freelists;

/* nominal maxima (the option `freelists` off makes every one 0) */
#define RS_FREELIST_MAX_LEAVES 100
#define RS_FREELIST_MAX_CONTAINERS 80
#define RS_FREELIST_MAX_LISTS 80
#define RS_FREELIST_MAX_OBJECT_STACK_CHUNKS 4

typedef struct rs_tstate rs_tstate;
typedef struct rs_type rs_type;
typedef struct rs_object rs_object;

/* ---- one list (owner thread, or under STW) ---- */
/* Push `block` if 0 ≤ size < max (max taken as 0 when the option is off): 1 if cached, 0 if
 * not (the caller frees the block normally). */
int rs_freelist_push(rs_freelist *fl, void *block, intptr_t max);
/* Pop a block, or NULL if the list is empty (the caller allocates normally).  The block keeps
 * its dead contents; objects must go through rs_freelist_pop_object. */
void *rs_freelist_pop(rs_freelist *fl);
/* Pop a dead object block and make it a new object of `type` (rs_new_reference: owned,
 * count 1, reftotal + 1), or NULL if the list is empty. */
rs_object *rs_freelist_pop_object(rs_freelist *fl, rs_type *type);

/* The list for objects of a static `type`: leaves (untracked,
 * sizeof(rs_object)), containers with `size` slots (1..4), lists.  NULL for heap types (their
 * instances hold a type reference) and for kinds without a list. */
rs_freelist *rs_freelist_for(rs_tstate *ts, const rs_type *type, size_t size);

/* ---- the object.c seam: allocation and free of leaf-kind static objects ---- */
/* A recycled block for `type` (count 1, owned) or NULL: only leaves of static types. */
rs_object *rs_freelist_alloc(rs_tstate *ts, rs_type *type, int gc);
/* Cache the dead object's block on the caller's list: 1 if cached, 0 if the caller must free. */
int rs_freelist_free(rs_tstate *ts, rs_object *o);

/* ---- clearing ---- */
/* Pop and free every block of ts's lists (the caller's heap takes the frees).  is_final ⇒ the
 * lists are disabled (size -1).  By ts's own thread, or under STW, or at shutdown on behalf of a
 * thread proven gone. */
void rs_freelists_clear(rs_tstate *ts, bool is_final);
/* Thread exit step (1) (model.md §8.1): the final clear of ts's own lists. */
void rs_freelists_exit(rs_tstate *ts);
/* total blocks cached on ts's lists (statistics, tests) */
intptr_t rs_freelists_count(const rs_tstate *ts);

/* ---- validation (F2, F3), under STW with HEAD_LOCK held ----
 * Also gathers every freelisted block into `set`, so the world walk (check.c) can skip the
 * dead blocks: they are allocated but hold no live object.  Free the set with
 * rs_freelist_set_free whatever the result. */
typedef struct rs_freelist_set {
    const void **blocks;   /* sorted */
    size_t n;
} rs_freelist_set;
bool rs_freelist_check_locked(rs_violation *v, rs_freelist_set *set);
bool rs_freelist_set_contains(const rs_freelist_set *set, const void *block);
void rs_freelist_set_free(rs_freelist_set *set);

#endif
