/* object.h — the object header, its constants, and the reference-counting entry points.
 *
 * Every object starts with a 32-byte owner-tagged header (model.md §1):
 *
 *     off  field          access
 *       0  ob_tid         atomic relaxed: owner thread id, or 0; also trashcan link, gc_refs,
 *                         worklist link and free-list link (a block address, never a thread id)
 *       8  ob_flags       RS_OBF_STATIC
 *      10  ob_mutex       per-object lock byte
 *      11  ob_gc_bits     TRACKED, FINALIZED, UNREACHABLE, FROZEN, SHARED, ALIVE, DEFERRED
 *      12  ob_ref_local   atomic; only the owner writes it (relaxed store), anyone reads (relaxed)
 *      16  ob_ref_shared  atomic; (count << 2) | flags, count may be negative
 *      24  ob_type        immutable after allocation
 *
 * True reference count:  refcnt(o) = ob_ref_local + (ob_ref_shared >> 2)   (arithmetic shift)
 * Invariants (validated by rs_check_object, check.c):
 *   H1  ob_tid == 0  ⇔  (ob_ref_shared & 3) == MERGED, for mortal live objects outside a
 *       collection (exceptions: the merge window, trashcan/worklist links, UNREACHABLE in STW)
 *   H2  only the owner writes ob_ref_local (except under STW / proven-gone owner / resurrect)
 *   H3  refcnt ≥ 0; the shared count is negative only with flags QUEUED or MERGED
 *   H4  once MERGED, ob_ref_local == 0 and no thread takes the local path
 *   H5  ownership changes only by merge (→0), new_reference, restore_tid (STW), resurrect,
 *       (de-)immortalisation
 *
 * Ownership check: is_owned(o) ⇔ load_relaxed(o->ob_tid) == rs_thread_id(), where the thread id
 * is the address of a thread-local byte: non-zero, unique among live threads, reused after exit,
 * and never the address of an object, frame or heap block. */
#ifndef RS_OBJECT_H
#define RS_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"

typedef struct rs_type rs_type;
typedef struct rs_tstate rs_tstate;

typedef struct rs_object {
    RS_ATOMIC(uintptr_t) ob_tid;
    RS_ATOMIC(uint16_t) ob_flags;
    RS_ATOMIC(uint8_t) ob_mutex;
    RS_ATOMIC(uint8_t) ob_gc_bits;
    RS_ATOMIC(uint32_t) ob_ref_local;
    RS_ATOMIC(intptr_t) ob_ref_shared;
    rs_type *ob_type;
} rs_object;

_Static_assert(sizeof(rs_object) == 32, "header is 32 bytes");
_Static_assert(offsetof(rs_object, ob_flags) == 8, "layout");
_Static_assert(offsetof(rs_object, ob_mutex) == 10, "layout");
_Static_assert(offsetof(rs_object, ob_gc_bits) == 11, "layout");
_Static_assert(offsetof(rs_object, ob_ref_local) == 12, "layout");
_Static_assert(offsetof(rs_object, ob_ref_shared) == 16, "layout");
_Static_assert(offsetof(rs_object, ob_type) == 24, "layout");

/* §1.2 constants */
#define RS_UNOWNED_TID ((uintptr_t)0)
#define RS_IMMORTAL_REFCNT_LOCAL UINT32_MAX
#define RS_REF_SHARED_SHIFT 2
#define RS_REF_SHARED_FLAG_MASK ((intptr_t)0x3)
#define RS_REF_SHARED_INIT ((intptr_t)0)
#define RS_REF_MAYBE_WEAKREF ((intptr_t)1)
#define RS_REF_QUEUED ((intptr_t)2)
#define RS_REF_MERGED ((intptr_t)3)
#define RS_REF_SHARED(n, f) ((intptr_t)(n) * ((intptr_t)1 << RS_REF_SHARED_SHIFT) + (f))
#define RS_REF_DEFERRED (INTPTR_MAX / 8)
#define RS_IMMORTAL_INITIAL_REFCNT ((intptr_t)3 << 30)

#define RS_OBF_STATIC 4

enum {
    RS_GC_TRACKED = 1,
    RS_GC_FINALIZED = 2,
    RS_GC_UNREACHABLE = 4,
    RS_GC_FROZEN = 8,
    RS_GC_SHARED = 16,
    RS_GC_ALIVE = 32,
    RS_GC_DEFERRED = 64,
    RS_GC_HAD_WEAKREF = 128, /* a weakref to it was ever made (set under ob_mutex, never cleared) */
};

/* Object types.  Static types are immortal statics; heap types (typeobj.c) are objects in the
 * GC heap whose instances are leaves, containers or finalizables.  `tp_dealloc` destroys an
 * object whose count reached zero: it clears weakrefs, drops what the object holds, decrefs a
 * heap type, and frees the block (freelist push or rs_object_free).
 *
 * Traversal: tp_traverse calls visit(referent, tagged, arg) for every reference the object
 * holds — strong ones with tagged = 0, tagged stack references (generator frames) with
 * tagged = 1 (model.md §3.3: visit_decref skips those; other visitors follow them).  A non-zero
 * return from visit stops the traversal and is returned. */
typedef enum rs_kind {
    RS_KIND_LEAF,
    RS_KIND_CONTAINER,
    RS_KIND_LIST,
    RS_KIND_TYPE,
    RS_KIND_CODE,
    RS_KIND_FUNCTION,
    RS_KIND_GENERATOR,
    RS_KIND_FINALIZABLE,
    RS_KIND_WEAKREF,
    RS_KIND_STATIC,
} rs_kind;

enum {
    RS_TPFLAGS_GC = 1,        /* instances live in the GC heap and start tracked */
    RS_TPFLAGS_HEAPTYPE = 2,  /* the type is a heap object (instances hold a reference) */
};

typedef void (*rs_dealloc_fn)(rs_object *o);
typedef int (*rs_visit_fn)(rs_object *o, int tagged, void *arg);
typedef int (*rs_traverse_fn)(rs_object *o, rs_visit_fn visit, void *arg);

struct rs_type {
    rs_object ob_base;
    const char *tp_name;
    size_t tp_basicsize;
    rs_kind tp_kind;
    unsigned tp_flags;               /* RS_TPFLAGS_* */
    rs_dealloc_fn tp_dealloc;
    rs_traverse_fn tp_traverse;      /* NULL: holds no references */
    void (*tp_clear)(rs_object *o);  /* drop held references (GC phase 4); may be NULL */
    void (*tp_finalize)(rs_object *o); /* runs at most once (FINALIZED); may resurrect */
    RS_ATOMIC(uintptr_t) unique_id;  /* heap types: per-thread refcount id, 0 = none (§5) */
    RS_ATOMIC(void *) tp_dict;       /* heap types: the `dict` slot (a strong reference) */
    const void *tp_extra;            /* kind-specific data (e.g. a finalizable's behaviour) */
    RS_ATOMIC(uint64_t) tp_deallocs; /* statistics: destructor runs (relaxed add) */
};

/* ---- thread identity ---- */
extern _Thread_local char rs__tid_anchor;
static inline uintptr_t rs_thread_id(void) { return (uintptr_t)&rs__tid_anchor; }

static inline int rs_is_owned(const rs_object *o)
{
    return rs_atomic_load_relaxed_uptr(&o->ob_tid) == rs_thread_id();
}
static inline int rs_is_immortal(const rs_object *o)
{
    return rs_atomic_load_relaxed_u32(&o->ob_ref_local) == RS_IMMORTAL_REFCNT_LOCAL;
}
static inline intptr_t rs_refcnt(const rs_object *o)
{
    uint32_t l = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    if (l == RS_IMMORTAL_REFCNT_LOCAL)
        return RS_IMMORTAL_INITIAL_REFCNT;
    return (intptr_t)l + (rs_atomic_load_relaxed_iptr(&o->ob_ref_shared) >> RS_REF_SHARED_SHIFT);
}
static inline uint8_t rs_gc_bits(const rs_object *o)
{
    return rs_atomic_load_relaxed_u8(&o->ob_gc_bits);
}
/* writers: hold ob_mutex, or sole access (construction/destruction), or STW (model.md §1.2) */
static inline void rs_gc_bits_set(rs_object *o, uint8_t bits)
{
    rs_atomic_store_relaxed_u8(&o->ob_gc_bits, (uint8_t)(rs_gc_bits(o) | bits));
}
static inline void rs_gc_bits_clear(rs_object *o, uint8_t bits)
{
    rs_atomic_store_relaxed_u8(&o->ob_gc_bits, (uint8_t)(rs_gc_bits(o) & ~bits));
}
/* A destructor's first step, before it can run other code (decref a referent, clear weakrefs
 * with callbacks): a dying object leaves the collector's view (sole access: it is dead).  A
 * collection started meanwhile (by a finalizer, a callback, an allocation) would otherwise
 * find it tracked with count 0, take it for garbage and destroy it a second time (model.md
 * §1.2; CPython untracks at the start of its GC types' dealloc for the same reason). */
static inline void rs_gc_untrack_dying(rs_object *o)
{
    /* the parenthesised names call the atomics themselves, not the automatic schedule points
     * (rs/atomic_points.h): no other thread can observe a dead object's bits */
    uint8_t bits = (rs_atomic_load_relaxed_u8)(&o->ob_gc_bits);
    if (bits & RS_GC_TRACKED)
        (rs_atomic_store_relaxed_u8)(&o->ob_gc_bits, (uint8_t)(bits & ~RS_GC_TRACKED));
}

/* ---- reference counting (refcount.c) ----
 * Inline here: the owner's paths (a relaxed load and store of ob_ref_local, and the per-thread
 * reference total: a relaxed load + store too, each thread writes only its own) and the
 * common non-owner cases (one seq_cst RMW on ob_ref_shared; release only, see
 * RS__INCREF_SHARED).  Out of line in refcount.c: the queueing decref, CAS retries and the
 * merge.  The fast paths take one test for the edges of ob_ref_local (incref: immortal and
 * overflow; decref: immortal, 0 and 1) and one compare of ob_tid with rs__owner_key for
 * ownership (reftotal.h).
 *
 * Each path performs the same atomic operations, in the same order, compiled in the same
 * place (inline in the caller, or in refcount.c) as before this layout: the automatic
 * schedule points of the instrumented builds count them, and recorded schedules depend on
 * it. */
void rs_reftotal_add(intptr_t n);            /* calling thread's total (model.md §10) */
void rs_decref_shared(rs_object *o);         /* non-owner decref */
void rs_incref_shared(rs_object *o);         /* non-owner incref */
void rs_merge_zero_local(rs_object *o);      /* owner, local just became 0 */
/* non-owner decref after its load of ob_ref_shared (s) and its reftotal update, when the
 * inline single CAS did not apply or failed (s: the value it saw) */
void rs_decref_shared_retry(rs_object *o, intptr_t s);
void rs_dealloc(rs_object *o);               /* count reached zero: run the type's destructor */
_Noreturn void rs_fatal_negative_refcount(rs_object *o);

#include "rs/reftotal.h"

static inline void rs_incref_shared_inline(rs_object *o)
{
    /* seq_cst: orders with the owner's merge CAS and the other threads' decref CASes */
    rs_atomic_add_seq_cst_iptr(&o->ob_ref_shared, RS_REF_SHARED(1, 0));
    rs_reftotal_inc();
}

/* The common non-owner decref: the shared field holds at least one reference (any flags), so
 * one CAS subtracting it can neither queue nor go negative. */
static inline void rs_decref_shared_inline(rs_object *o)
{
    intptr_t s = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    rs_reftotal_dec();
    if (__builtin_expect(s >= RS_REF_SHARED(1, 0), 1)) {
        intptr_t n = s - RS_REF_SHARED(1, 0);
        /* seq_cst CAS: pairs with the owner's acquire load in rs_merge_zero_local and with
         * its merge CAS; the last CAS to reach MERGED|0 owns the destruction */
        if (__builtin_expect(rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s, n), 1)) {
            if (__builtin_expect(n == RS_REF_MERGED, 0))
                rs_dealloc(o);
            return;
        }
    }
    rs_decref_shared_retry(o, s); /* queue, or retry the CAS from the value it saw */
}

/* The owner's rare cases: its decref of local 0 (fatal) or 1 (the last local reference), and
 * an owner without a reftotal slot (no thread state: the slow path is fatal; or the
 * reftotal-racy mutant). */
static inline void rs__decref_owned_last_inline(rs_object *o, uint32_t l)
{
    rs_reftotal_add_keyed(-1); /* the key matched: the slot is set */
    if (l == 0)
        rs_fatal_negative_refcount(o);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, 0);
    rs_merge_zero_local(o);
}
static inline void rs__incref_owned_noslot_inline(rs_object *o, uint32_t l)
{
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, l + 1);
    rs_reftotal_inc();
}
static inline void rs__decref_owned_noslot_inline(rs_object *o, uint32_t l)
{
    rs_reftotal_dec();
    if (l == 0)
        rs_fatal_negative_refcount(o);
    rs_atomic_store_relaxed_u32(&o->ob_ref_local, l - 1);
    if (l == 1)
        rs_merge_zero_local(o);
}
void rs_decref_owned_last(rs_object *o, uint32_t l);   /* the same, out of line (refcount.c) */
void rs_incref_owned_noslot(rs_object *o, uint32_t l);
void rs_decref_owned_noslot(rs_object *o, uint32_t l);

/* Where the inline refcount operations take their non-owner paths and the owner's rare cases.
 * Release: the non-owner paths inline (their common case), the rare cases out of line, which
 * keeps rs_incref / rs_decref small enough to inline everywhere.  The builds with automatic
 * schedule points keep every atomic operation compiled where it was before this layout:
 * code outside the runtime has no points of its own (rs/atomic.h), so moving an operation
 * between it and refcount.c would add or drop points and change every recorded schedule —
 * there the non-owner paths stay calls and the rare cases stay inline. */
#ifdef RS_AUTO_POINTS
#define RS__INCREF_SHARED(o) rs_incref_shared(o)
#define RS__DECREF_SHARED(o) rs_decref_shared(o)
#define RS__OWNER_RARE(name) rs__##name##_inline
#else
#define RS__INCREF_SHARED(o) rs_incref_shared_inline(o)
#define RS__DECREF_SHARED(o) rs_decref_shared_inline(o)
#define RS__OWNER_RARE(name) rs_##name
#endif

static inline void rs_incref(rs_object *o)
{
    uint32_t l = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    /* one test for both edges: immortal (UINT32_MAX: nothing to do) and UINT32_MAX - 1, where
     * the owner's l + 1 would make the object immortal by accident (fatal) */
    if (__builtin_expect(l >= RS_IMMORTAL_REFCNT_LOCAL - 1, 0)) {
        if (l == RS_IMMORTAL_REFCNT_LOCAL)
            return;
        if (rs_is_owned(o))
            rs_fatal_negative_refcount(o);
        RS__INCREF_SHARED(o);
        return;
    }
    uintptr_t t = rs_atomic_load_relaxed_uptr(&o->ob_tid);
    if (__builtin_expect(t == rs__owner_key, 1)) { /* owned, and the reftotal slot is set */
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, l + 1);
        rs_reftotal_add_keyed(1);
    } else if (t != rs_thread_id()) {
        RS__INCREF_SHARED(o);
    } else {
        RS__OWNER_RARE(incref_owned_noslot)(o, l);
    }
}

static inline void rs_decref(rs_object *o)
{
    uint32_t l = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
    /* one test for the edges: l - 2 wraps for 0 and 1, and UINT32_MAX (immortal) is the top */
    if (__builtin_expect((uint32_t)(l - 2) >= RS_IMMORTAL_REFCNT_LOCAL - 2, 0)) {
        if (l == RS_IMMORTAL_REFCNT_LOCAL)
            return;
        uintptr_t t = rs_atomic_load_relaxed_uptr(&o->ob_tid);
        if (t == rs__owner_key) /* owned, and the reftotal slot is set */
            RS__OWNER_RARE(decref_owned_last)(o, l);
        else if (t != rs_thread_id())
            RS__DECREF_SHARED(o); /* merged objects (local 0) */
        else
            RS__OWNER_RARE(decref_owned_noslot)(o, l);
        return;
    }
    uintptr_t t = rs_atomic_load_relaxed_uptr(&o->ob_tid);
    if (__builtin_expect(t == rs__owner_key, 1)) { /* owned, and the reftotal slot is set */
        rs_reftotal_add_keyed(-1);
        rs_atomic_store_relaxed_u32(&o->ob_ref_local, l - 1);
    } else if (t != rs_thread_id()) {
        RS__DECREF_SHARED(o);
    } else {
        RS__OWNER_RARE(decref_owned_noslot)(o, l);
    }
}

/* Lock-free reader's increment: fails (returns 0) if the object is dead or being freed. */
int rs_try_incref(rs_object *o);
/* try_incref, then confirm the slot still holds o (acquire load; pairs with the release/
 * exchange that published o into the slot); on failure undoes the increment. */
int rs_try_incref_compare(RS_ATOMIC(void *) *slot, rs_object *o);
/* Merge the owner's local count into the shared field, adding `extra` (model.md §2.1).  Returns
 * the merged count; the caller frees the object if it is 0. */
intptr_t rs_explicit_merge(rs_object *o, intptr_t extra);
/* Resurrection from a destructor (model.md §2.3). */
void rs_resurrect_start(rs_object *o);
int rs_resurrect_end(rs_object *o);            /* 0: dead, 1: alive */

/* Allocation and destruction (object.c) */
/* Initialise the header of a fresh or recycled block for the calling thread (model.md §1.3). */
void rs_new_reference(rs_object *o, rs_type *type);
/* Allocate an object of `type` (tp_basicsize bytes) in the caller's OBJECT heap, or in its GC
 * heap if `gc` is set; NULL on allocation failure.  The object is owned, count 1. */
rs_object *rs_object_alloc(rs_type *type, int gc);
void rs_object_free(rs_object *o);             /* give the block back to its heap */
/* rs_dealloc (declared above): count reached zero, run the type's destructor */

/* the built-in types */
extern rs_type rs_type_type;    /* the type of static types */
extern rs_type rs_leaf_type;    /* holds nothing */
extern rs_object rs_none;       /* static, immortal */

rs_object *rs_leaf_new(void);

#endif
