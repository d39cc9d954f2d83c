/* typeid.c — per-thread heap-type reference counts and the type-id pool (model.md §5).
 *
 * The pool hands out ids to heap types: a table of entries that are either a type (assigned)
 * or a link in the freelist of unused entries.  It grows by doubling (minimum 8) only when the
 * freelist is empty, so freelist pointers into the old table never survive a move.  Each
 * thread keeps values[id − 1] counts it adds to and subtracts from with plain arithmetic; they
 * reach the type's shared field only through a merge (atomic add of count << 2), done under
 * the pool mutex so a merge never races a release or the pool's finalisation.
 *
 * Memory: the table and the per-thread arrays are MEM heap blocks, so the shutdown leak
 * figures count them (mutant `typeid-pool-not-finalized` leaves the table allocated). */
#include "typeid.h"

#include <stdlib.h>
#include <string.h>

#include "bugs.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "rs/object.h"
#include "runtime.h"
#include "tstate.h"

static rs_typeid_pool *pool(void) { return &rs_rt.typeids; }

/* ---- the pool ---- */

/* mutex held, freelist empty: double the table (fault "typeid.grow").  0 or -1. */
static int pool_grow_locked(rs_tstate *ts)
{
    rs_typeid_pool *p = pool();
    RS_ASSERT(p->freelist == NULL);
    size_t old = rs_atomic_load_relaxed_uptr((RS_ATOMIC(uintptr_t) *)&p->size);
    size_t n = old ? old * 2 : RS_TYPEID_POOL_MIN;
    if (rs_fault(RS_FAULT_TYPEID_GROW))
        return -1;
    rs_typeid_entry *t = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, n * sizeof *t);
    if (t == NULL)
        return -1;
    if (old)
        memcpy(t, p->table, old * sizeof *t);
    for (size_t i = old; i < n; i++)
        t[i].next = i + 1 < n ? &t[i + 1] : NULL;
    rs_heap_free(&ts->heap, p->table);
    p->table = t;
    p->freelist = &t[old];
    rs_atomic_store_relaxed_uptr((RS_ATOMIC(uintptr_t) *)&p->size, n);
    return 0;
}

static size_t pool_size(void)
{
    return rs_atomic_load_relaxed_uptr((RS_ATOMIC(uintptr_t) *)&pool()->size);
}

uintptr_t rs_typeid_assign(rs_tstate *ts, rs_type *t)
{
    rs_typeid_pool *p = pool();
    uintptr_t id = RS_INVALID_UNIQUE_ID;
    rs_mutex_lock(&p->mutex);
    if (p->freelist != NULL || pool_grow_locked(ts) == 0) {
        rs_typeid_entry *e = p->freelist;
        p->freelist = e->next;
        e->obj = &t->ob_base;
        id = (uintptr_t)(e - p->table) + 1;
    }
    rs_mutex_unlock(&p->mutex);
    rs_atomic_store_relaxed_uptr(&t->unique_id, id);
    return id;
}

void rs_typeid_release(rs_type *t)
{
    rs_typeid_pool *p = pool();
    rs_mutex_lock(&p->mutex);
    uintptr_t id = rs_atomic_load_relaxed_uptr(&t->unique_id);
    if (id != RS_INVALID_UNIQUE_ID) {
        RS_ASSERT(id <= pool_size() && p->table[id - 1].obj == &t->ob_base);
        rs_typeid_entry *e = &p->table[id - 1];
        e->next = p->freelist;
        p->freelist = e;
        rs_atomic_store_relaxed_uptr(&t->unique_id, RS_INVALID_UNIQUE_ID);
    }
    rs_mutex_unlock(&p->mutex);
}

void rs_typeid_pool_fini(rs_tstate *ts)
{
    if (rs_bug(RS_BUG_TYPEID_POOL_NOT_FINALIZED))
        return; /* mutant: the table stays allocated and surviving types keep their ids */
    rs_typeid_pool *p = pool();
    rs_mutex_lock(&p->mutex);
    /* null the unused entries; whatever is left non-null is a surviving type */
    for (rs_typeid_entry *e = p->freelist; e != NULL;) {
        rs_typeid_entry *next = e->next;
        e->obj = NULL;
        e = next;
    }
    size_t n = pool_size();
    for (size_t i = 0; i < n; i++)
        if (p->table[i].obj != NULL)
            rs_atomic_store_relaxed_uptr(&((rs_type *)p->table[i].obj)->unique_id, RS_INVALID_UNIQUE_ID);
    rs_heap_free(&ts->heap, p->table);
    p->table = NULL;
    p->freelist = NULL;
    rs_atomic_store_relaxed_uptr((RS_ATOMIC(uintptr_t) *)&p->size, 0);
    rs_mutex_unlock(&p->mutex);
}

/* ---- per-thread counts ---- */

/* Grow ts's array to the pool's size (fault "typeid.array"), zeroing the tail; true if idx is
 * then in range. */
static bool array_grow(rs_tstate *ts, size_t idx)
{
    rs_typeid_tstate *tt = &ts->typeids;
    /* relaxed: the id we hold was assigned (and the pool grown) before the type reached us, so
     * this load sees a size covering it */
    size_t n = pool_size();
    if (idx >= n || rs_fault(RS_FAULT_TYPEID_ARRAY))
        return false;
    intptr_t *a = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, n * sizeof *a);
    if (a == NULL)
        return false;
    if (tt->size)
        memcpy(a, tt->values, tt->size * sizeof *a);
    memset(a + tt->size, 0, (n - tt->size) * sizeof *a);
    rs_heap_free(&ts->heap, tt->values);
    tt->values = a;
    tt->size = n;
    return true;
}

void rs_incref_type(rs_tstate *ts, rs_type *t)
{
    rs_object *o = &t->ob_base;
    if (rs_is_immortal(o))
        return;
    RS_ASSERT(ts == rs_tstate_current()); /* T4 */
    rs_typeid_tstate *tt = &ts->typeids;
    /* unsigned: id 0 (none) becomes SIZE_MAX, out of every range */
    size_t idx = (size_t)(rs_atomic_load_relaxed_uptr(&t->unique_id) - 1);
    if (idx >= tt->size &&
        (idx == SIZE_MAX || tt->is_finalized || !array_grow(ts, idx))) {
        rs_incref(o);
        return;
    }
    tt->values[idx]++;
    rs_reftotal_inc();
}

void rs_decref_type(rs_tstate *ts, rs_type *t)
{
    rs_object *o = &t->ob_base;
    if (rs_is_immortal(o))
        return;
    RS_ASSERT(ts == rs_tstate_current()); /* T4 */
    rs_typeid_tstate *tt = &ts->typeids;
    size_t idx = (size_t)(rs_atomic_load_relaxed_uptr(&t->unique_id) - 1);
    if (idx < tt->size) {
        tt->values[idx]--;
        rs_reftotal_dec();
        return;
    }
    rs_decref(o);
}

void rs_typeid_merge(rs_tstate *t)
{
    rs_typeid_tstate *tt = &t->typeids;
    if (tt->size == 0)
        return;
    rs_typeid_pool *p = pool();
    rs_mutex_lock(&p->mutex);
    RS_ASSERT(tt->size <= pool_size()); /* T4 */
    for (size_t i = 0; i < tt->size; i++) {
        intptr_t n = tt->values[i];
        if (n == 0)
            continue;
        rs_object *o = p->table[i].obj;
        if (o == NULL)
            rs_fatal("T3: per-thread type counts for an entry with no type", NULL);
        if (rs_rt.opts.validate && !rs_heap_block_allocated(o)) /* Vfree */
            rs_fatal("T3: merging per-thread type counts into a freed type", o);
        /* seq_cst: like every RMW on the shared field, pairs with the seq_cst CASes of
         * decref_shared and merge_zero_local on other threads (count moves, flags kept) */
        rs_atomic_add_seq_cst_iptr(&o->ob_ref_shared, RS_REF_SHARED(n, 0));
        tt->values[i] = 0;
    }
    rs_mutex_unlock(&p->mutex);
}

void rs_typeid_merge_all_locked(void)
{
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        rs_typeid_merge(t);
}

void rs_typeid_tstate_fini(rs_tstate *t)
{
    rs_typeid_tstate *tt = &t->typeids;
    if (tt->is_finalized)
        return;
    rs_typeid_merge(t);
    if (tt->values != NULL) {
        /* the caller's heap takes the free (at shutdown: the main thread, for a gone thread) */
        rs_tstate *me = rs_tstate_current();
        if (me == NULL)
            rs_fatal("type-id finalisation by a thread without a thread state", NULL);
        rs_heap_free(&me->heap, tt->values);
    }
    tt->values = NULL;
    tt->size = 0;
    tt->is_finalized = true;
}

/* ---- accounting and validation ---- */

intptr_t rs_typeid_refsum(void)
{
    intptr_t sum = 0;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        for (size_t i = 0; i < t->typeids.size; i++)
            sum += t->typeids.values[i];
    return sum;
}

/* Σ_threads values[idx] */
static intptr_t thread_terms(size_t idx, const rs_tstate **nonzero)
{
    intptr_t sum = 0;
    for (rs_tstate *t = rs_rt.threads; t; t = t->next)
        if (idx < t->typeids.size && t->typeids.values[idx] != 0) {
            sum += t->typeids.values[idx];
            *nonzero = t;
        }
    return sum;
}

static bool check_pool_locked(rs_violation *v, bool *released, size_t n)
{
    rs_typeid_pool *p = pool();
    /* freelist: within the table, no cycle */
    size_t steps = 0;
    for (rs_typeid_entry *e = p->freelist; e != NULL; e = e->next) {
        if (e < p->table || e >= p->table + n)
            return rs_violate(v, "T2", e, "type-id freelist entry outside the table");
        if (++steps > n || released[e - p->table])
            return rs_violate(v, "T2", e, "type-id freelist has a cycle");
        released[e - p->table] = true;
    }
    for (size_t i = 0; i < n; i++) {
        const rs_tstate *who = NULL;
        intptr_t terms = thread_terms(i, &who);
        if (released[i]) {
            if (who != NULL) /* T2 */
                return rs_violate(v, "T2", NULL,
                                  "released type id %zu still has a per-thread count %ld in thread %lu",
                                  i + 1, (long)who->typeids.values[i], (unsigned long)who->id);
            continue;
        }
        rs_object *o = p->table[i].obj;
        if (o == NULL) {
            if (who != NULL)
                return rs_violate(v, "T3", NULL, "type id %zu has counts but no type", i + 1);
            continue;
        }
        /* T3: the entry names a live heap type that knows its id */
        if (!rs_heap_block_allocated(o))
            return rs_violate(v, "T3", o, "type id %zu names a freed block (counts outstanding: %ld)",
                              i + 1, (long)terms);
        rs_type *t = (rs_type *)o;
        if (!(t->tp_flags & RS_TPFLAGS_HEAPTYPE) ||
            rs_atomic_load_relaxed_uptr(&t->unique_id) != i + 1)
            return rs_violate(v, "T3", o, "type id %zu names an object whose unique_id is %lu", i + 1,
                              (unsigned long)rs_atomic_load_relaxed_uptr(&t->unique_id));
        /* T1: the true count, bias excluded, is not negative */
        if (!rs_is_immortal(o)) {
            intptr_t bias = (rs_gc_bits(o) & RS_GC_DEFERRED) ? RS_REF_DEFERRED : 0;
            intptr_t count = rs_refcnt(o) - bias + terms;
            if (count < 0)
                return rs_violate(v, "T1", o,
                                  "heap type %s: true count %ld < 0 (refcnt %ld, bias %ld, per-thread %ld)",
                                  t->tp_name, (long)count, (long)rs_refcnt(o), (long)bias, (long)terms);
        }
    }
    return true;
}

bool rs_typeid_check_locked(rs_violation *v)
{
    rs_typeid_pool *p = pool();
    size_t n = pool_size();
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        const rs_typeid_tstate *tt = &t->typeids;
        if (tt->size > n)
            return rs_violate(v, "T4", NULL, "thread %lu: per-thread type array (%zu) longer than the pool (%zu)",
                              (unsigned long)t->id, tt->size, n);
        if (tt->is_finalized && (tt->values != NULL || tt->size != 0))
            return rs_violate(v, "T4", NULL, "thread %lu: finalised but still has a per-thread type array",
                              (unsigned long)t->id);
    }
    if (n == 0)
        return true;
    bool *released = calloc(n, sizeof *released);
    if (released == NULL)
        return rs_violate(v, "OOM", NULL, "validator out of memory");
    rs_mutex_lock(&p->mutex);
    bool ok = check_pool_locked(v, released, n);
    rs_mutex_unlock(&p->mutex);
    free(released);
    return ok;
}
