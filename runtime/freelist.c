/* freelist.c — per-thread unified freelists (model.md §6): push, pop, clear, the object.c seam,
 * and the F2/F3 validator.
 *
 * A list is a stack of dead blocks linked through their first word.  Only the owning thread
 * pushes and pops (or anyone under stop-the-world, F1), so head and size are plain fields; the
 * link word is written with a relaxed atomic store because for objects it is ob_tid, which
 * lock-free readers (try_incref on a stale pointer) may load at any time.  A freelisted block
 * stays allocated and counted by the heap until a clear frees it (thread exit, final; the GC).
 *
 * Mutants: `freelist-disabled-caches` (push ignores size == -1 and the option-off maximum 0)
 * and `freelist-not-cleared-at-exit` (exit skips the final clear). */
#include "freelist.h"

#include <stdlib.h>

#include "bugs.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/object.h"
#include "runtime.h"
#include "tstate.h"

/* the first word of a block, seen as the atomic ob_tid (objects) or a plain link (others: the
 * same atomic access, harmless) */
static RS_ATOMIC(uintptr_t) *link_word(void *block) { return (RS_ATOMIC(uintptr_t) *)block; }

int rs_freelist_push(rs_freelist *fl, void *block, intptr_t max)
{
    intptr_t eff = rs_rt.opts.freelists ? max : 0; /* option off ⇒ every max is 0 */
    if (rs_rt.opts.torture && eff > 1)
        eff = 1; /* torture: every list full after one block, the overflow path every time */
    bool take;
    if (rs_bug(RS_BUG_FREELIST_DISABLED_CACHES))
        take = fl->size < max; /* mutant: a disabled (-1) or option-off list still caches */
    else
        take = fl->size >= 0 && fl->size < eff;
    if (!take)
        return 0;
    rs_atomic_store_relaxed_uptr(link_word(block), (uintptr_t)fl->head);
    fl->head = block;
    fl->size++;
    return 1;
}

void *rs_freelist_pop(rs_freelist *fl)
{
    void *b = fl->head;
    if (b == NULL)
        return NULL;
    fl->head = (void *)rs_atomic_load_relaxed_uptr(link_word(b));
    fl->size--;
    return b;
}

rs_object *rs_freelist_pop_object(rs_freelist *fl, rs_type *type)
{
    rs_object *o = rs_freelist_pop(fl);
    if (o != NULL)
        rs_new_reference(o, type); /* ob_tid: link → our id (relaxed store), count 1 */
    return o;
}

rs_freelist *rs_freelist_for(rs_tstate *ts, const rs_type *type, size_t size)
{
    if (type->tp_flags & RS_TPFLAGS_HEAPTYPE)
        return NULL;
    switch (type->tp_kind) {
    case RS_KIND_LEAF:
        if ((type->tp_flags & RS_TPFLAGS_GC) || type->tp_basicsize != sizeof(rs_object))
            return NULL;
        return &ts->freelists.leaves;
    case RS_KIND_CONTAINER:
        if (size < 1 || size > RS_FREELIST_CONTAINER_MAX_SLOTS)
            return NULL;
        return &ts->freelists.containers[size];
    case RS_KIND_LIST:
        return &ts->freelists.lists;
    default:
        return NULL;
    }
}

rs_object *rs_freelist_alloc(rs_tstate *ts, rs_type *type, int gc)
{
    if (gc || type->tp_kind != RS_KIND_LEAF)
        return NULL;
    rs_freelist *fl = rs_freelist_for(ts, type, 0);
    return fl ? rs_freelist_pop_object(fl, type) : NULL;
}

int rs_freelist_free(rs_tstate *ts, rs_object *o)
{
    rs_type *t = o->ob_type;
    if (t->tp_kind != RS_KIND_LEAF)
        return 0;
    rs_freelist *fl = rs_freelist_for(ts, t, 0);
    /* only blocks of the untracked OBJECT heap go on the leaves list (pop hands them back to
     * untracked allocations) */
    if (fl == NULL || rs_heap_block_kind(o) != RS_HEAP_OBJECT)
        return 0;
    return rs_freelist_push(fl, o, RS_FREELIST_MAX_LEAVES);
}

/* ---- clearing ---- */

static void clear_one(rs_heap_tld *heap, rs_freelist *fl, bool is_final)
{
    void *b;
    while ((b = rs_freelist_pop(fl)) != NULL)
        rs_heap_free(heap, b);
    RS_ASSERT(fl->size == 0 || fl->size == -1);
    if (is_final)
        fl->size = -1;
}

void rs_freelists_clear(rs_tstate *ts, bool is_final)
{
    /* the caller's heap takes the frees (its block counter gets the -1s): at shutdown the main
     * thread clears the lists of states whose threads are gone */
    rs_tstate *me = rs_tstate_current();
    if (me == NULL)
        rs_fatal("freelist clear by a thread without a thread state", NULL);
    rs_freelists *f = &ts->freelists;
    clear_one(&me->heap, &f->leaves, is_final);
    for (int i = 1; i <= RS_FREELIST_CONTAINER_MAX_SLOTS; i++)
        clear_one(&me->heap, &f->containers[i], is_final);
    clear_one(&me->heap, &f->lists, is_final);
    clear_one(&me->heap, &f->object_stack_chunks, is_final);
}

void rs_freelists_exit(rs_tstate *ts)
{
    if (rs_bug(RS_BUG_FREELIST_NOT_CLEARED_AT_EXIT))
        return; /* mutant: cached blocks vanish with the thread state */
    rs_freelists_clear(ts, true);
}

intptr_t rs_freelists_count(const rs_tstate *ts)
{
    const rs_freelists *f = &ts->freelists;
    intptr_t n = 0;
    const rs_freelist *all[] = {&f->leaves, &f->containers[1], &f->containers[2], &f->containers[3],
                                &f->containers[4], &f->lists, &f->object_stack_chunks};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i]->size > 0)
            n += all[i]->size;
    return n;
}

/* ---- validation ---- */

static int cmp_ptr(const void *a, const void *b)
{
    const void *x = *(const void *const *)a, *y = *(const void *const *)b;
    return x < y ? -1 : x > y;
}

static bool set_add(rs_freelist_set *s, const void *b, rs_violation *v)
{
    const void **nb = realloc(s->blocks, (s->n + 1) * sizeof *nb);
    if (nb == NULL)
        return rs_violate(v, "OOM", NULL, "validator out of memory");
    s->blocks = nb;
    s->blocks[s->n++] = b;
    return true;
}

/* F2 and F3 for one list; objects: whether its blocks are object headers */
static bool check_list(const rs_tstate *t, const char *name, const rs_freelist *fl, bool objects,
                       rs_violation *v, rs_freelist_set *set)
{
    unsigned long tid = (unsigned long)t->id;
    if (fl->size < -1)
        return rs_violate(v, "F2", NULL, "thread %lu: %s freelist size %ld", tid, name, (long)fl->size);
    if (fl->size == -1 && fl->head != NULL)
        return rs_violate(v, "F2", fl->head, "thread %lu: disabled %s freelist (size -1) holds blocks",
                          tid, name);
    if (!rs_rt.opts.freelists && fl->size > 0)
        return rs_violate(v, "F2", fl->head,
                          "thread %lu: option freelists off but the %s freelist has size %ld", tid, name,
                          (long)fl->size);
    intptr_t len = 0;
    for (void *b = fl->head; b != NULL;) {
        /* a thread id in a link would be a freed-then-owned object: never dereference it */
        if (rs_tid_registry_contains((uintptr_t)b))
            return rs_violate(v, "F3", b, "thread %lu: %s freelist link is a thread id", tid, name);
        if (!rs_heap_block_allocated(b))
            return rs_violate(v, "F3", b, "thread %lu: %s freelist holds a block that is not allocated",
                              tid, name);
        if (++len > fl->size)
            return rs_violate(v, "F2", b, "thread %lu: %s freelist chain longer than its size %ld", tid,
                              name, (long)fl->size);
        if (objects) {
            const rs_object *o = b;
            uint32_t local = rs_atomic_load_relaxed_u32(&o->ob_ref_local);
            intptr_t shared = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
            if (local != 0 || (shared != 0 && shared != RS_REF_MERGED))
                return rs_violate(v, "F3", b,
                                  "thread %lu: freelisted %s object is not dead (local=%u shared=%#lx)",
                                  tid, name, local, (unsigned long)shared);
        }
        if (!set_add(set, b, v))
            return false;
        b = (void *)rs_atomic_load_relaxed_uptr(link_word(b));
    }
    if (len != fl->size && !(len == 0 && fl->size == -1))
        return rs_violate(v, "F2", fl->head, "thread %lu: %s freelist size %ld but chain length %ld", tid,
                          name, (long)fl->size, (long)len);
    return true;
}

bool rs_freelist_check_locked(rs_violation *v, rs_freelist_set *set)
{
    set->blocks = NULL;
    set->n = 0;
    static const char *const cnames[] = {"", "containers[1]", "containers[2]", "containers[3]",
                                         "containers[4]"};
    for (rs_tstate *t = rs_rt.threads; t; t = t->next) {
        const rs_freelists *f = &t->freelists;
        if (!check_list(t, "leaves", &f->leaves, true, v, set))
            return false;
        for (int i = 1; i <= RS_FREELIST_CONTAINER_MAX_SLOTS; i++)
            if (!check_list(t, cnames[i], &f->containers[i], true, v, set))
                return false;
        if (!check_list(t, "lists", &f->lists, true, v, set) ||
            !check_list(t, "object_stack_chunks", &f->object_stack_chunks, false, v, set))
            return false;
    }
    if (set->n > 1)
        qsort(set->blocks, set->n, sizeof *set->blocks, cmp_ptr);
    for (size_t i = 1; i < set->n; i++)
        if (set->blocks[i] == set->blocks[i - 1])
            return rs_violate(v, "F2", set->blocks[i], "block is on two freelists (or twice on one)");
    return true;
}

bool rs_freelist_set_contains(const rs_freelist_set *set, const void *block)
{
    if (set->n == 0)
        return false;
    return bsearch(&block, set->blocks, set->n, sizeof *set->blocks, cmp_ptr) != NULL;
}

void rs_freelist_set_free(rs_freelist_set *set)
{
    free(set->blocks);
    set->blocks = NULL;
    set->n = 0;
}
