/* list.c — the list kind: a tracked object with a MEM-heap item buffer (model.md §0.1, §2.1, §11).
 *
 *     rs_list { items → rs_list_items {capacity; item[capacity]}, size }
 *     invariant (under ob_mutex): item[i] != NULL ⇔ i < size ≤ capacity; each is a strong
 *     reference; items == NULL ⇔ capacity 0
 *
 * Writers hold ob_mutex.  Item stores are releases; a new buffer is filled first and then
 * published with a release store of `items`.  A replaced buffer is left as it was (readers
 * still in it see stale but once-valid items, and notice the swap by re-reading `items`).
 *
 * Lock-free reads (rs_list_get): a non-owner's first read sets SHARED under ob_mutex; then
 * acquire load of `items`, bound the index by the buffer's capacity, acquire load of the
 * item, rs_try_incref_compare against the item slot, and re-check that `items` did not
 * change; any failure falls back to the lock.  Buffer lifetime: once SHARED is set, a
 * replaced buffer (and the last one, at destruction) goes through rs_free_delayed, so it
 * outlives every reader that might hold it (readers are attached, hence hold QSBR back);
 * otherwise it is freed at once — only the owner reads lock-free then.  A non-owner that
 * replaces the buffer sets SHARED itself first: the owner may be reading it lock-free. */
#include "objects.h"

#include "rs/fatal.h"
#include "heap.h"
#include "runtime.h"
#include "tstate.h"

rs_type rs_list_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "list",
    .tp_basicsize = sizeof(rs_list),
    .tp_kind = RS_KIND_LIST,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = rs_list_dealloc,
    .tp_traverse = rs_list_traverse,
    .tp_clear = rs_list_clear,
};

static rs_list *as_list(rs_object *o)
{
    if (o->ob_type->tp_kind != RS_KIND_LIST)
        rs_fatal("not a list", o);
    return (rs_list *)o;
}

static rs_tstate *current(void)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("list operation by a thread without a thread state", NULL);
    return ts;
}

rs_object *rs_list_new(void)
{
    rs_object *o = rs_object_alloc(&rs_list_type, 1);
    if (o == NULL)
        return NULL;
    rs_list *l = (rs_list *)o;
    rs_atomic_store_relaxed_ptr(&l->items, NULL);
    rs_atomic_store_relaxed_uptr(&l->size, 0);
    return o;
}

/* a buffer with the first n items of `from` (NULL: none) and NULL after; NULL on OOM */
static rs_list_items *items_new(rs_tstate *ts, size_t cap, rs_list_items *from, size_t n)
{
    rs_list_items *it = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, sizeof *it + cap * sizeof(it->item[0]));
    if (it == NULL)
        return NULL;
    it->capacity = cap;
    for (size_t i = 0; i < cap; i++)
        rs_atomic_store_relaxed_ptr(&it->item[i],
                                    i < n ? rs_atomic_load_relaxed_ptr(&from->item[i]) : NULL);
    return it;
}

/* under ob_mutex: about to replace the buffer; returns whether the old one must be delayed */
static bool replace_needs_delay(rs_object *o)
{
    if (!rs_is_owned(o) && !(rs_gc_bits(o) & RS_GC_SHARED))
        rs_gc_bits_set(o, RS_GC_SHARED); /* the owner may be reading it lock-free */
    return (rs_gc_bits(o) & RS_GC_SHARED) != 0;
}

static void items_release(rs_tstate *ts, rs_list_items *it, bool delayed)
{
    if (it == NULL)
        return;
    if (delayed)
        rs_free_delayed(ts, it);
    else
        rs_heap_free(&ts->heap, it);
}

/* under ob_mutex: publish a new buffer; the returned old one is released after the unlock */
static rs_list_items *publish(rs_list *l, rs_list_items *nit)
{
    rs_list_items *old = rs_atomic_load_relaxed_ptr(&l->items);
    /* release: pairs with the readers' acquire loads of items in rs_list_get */
    rs_atomic_store_release_ptr(&l->items, nit);
    return old;
}

int rs_list_append(rs_object *o, rs_object *v)
{
    rs_list *l = as_list(o);
    rs_tstate *ts = current();
    rs_list_items *old = NULL;
    bool delayed = false;
    rs_object_lock(o);
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    if (it == NULL || size == it->capacity) {
        rs_list_items *nit = items_new(ts, it ? it->capacity * 2 : 4, it, size);
        if (nit == NULL) {
            rs_object_unlock(o);
            rs_decref(v);
            return -1;
        }
        delayed = replace_needs_delay(o);
        old = publish(l, nit);
        it = nit;
    }
    rs_atomic_store_release_ptr(&it->item[size], v); /* pairs with the readers' acquire load */
    rs_atomic_store_relaxed_uptr(&l->size, size + 1);
    rs_object_unlock(o);
    items_release(ts, old, delayed);
    return 0;
}

int rs_list_set(rs_object *o, size_t i, rs_object *v)
{
    rs_list *l = as_list(o);
    rs_object_lock(o);
    if (i >= rs_atomic_load_relaxed_uptr(&l->size)) {
        rs_object_unlock(o);
        rs_decref(v);
        return -1;
    }
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    rs_object *old = rs_atomic_load_relaxed_ptr(&it->item[i]);
    rs_atomic_store_release_ptr(&it->item[i], v); /* pairs with the readers' acquire load */
    rs_object_unlock(o);
    rs_decref(old);
    return 0;
}

size_t rs_list_size(rs_object *o) { return rs_atomic_load_relaxed_uptr(&as_list(o)->size); }

static rs_object *get_locked(rs_list *l, size_t i)
{
    rs_object *v = NULL;
    rs_object_lock(&l->ob_base);
    if (i < rs_atomic_load_relaxed_uptr(&l->size)) {
        rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
        v = rs_atomic_load_relaxed_ptr(&it->item[i]);
        rs_incref(v); /* the list's reference keeps it alive while we hold the lock */
    }
    rs_object_unlock(&l->ob_base);
    return v;
}

rs_object *rs_list_get(rs_object *o, size_t i)
{
    rs_list *l = as_list(o);
    if (!rs_is_owned(o) && !(rs_gc_bits(o) & RS_GC_SHARED)) {
        /* first read by a non-owner: from now on replaced buffers are freed through QSBR */
        rs_object_lock(o);
        rs_gc_bits_set(o, RS_GC_SHARED);
        rs_object_unlock(o);
    }
    /* acquire: pairs with the release store in publish() */
    rs_list_items *it = rs_atomic_load_acquire_ptr(&l->items);
    if (it != NULL && i < it->capacity) {
        RS_ATOMIC(void *) *slot = &it->item[i];
        rs_object *v = rs_atomic_load_acquire_ptr(slot); /* pairs with the item release stores */
        if (v != NULL && rs_try_incref_compare(slot, v)) {
            /* acquire: pairs with publish(); the same buffer ⇒ v was an item of the list */
            if (rs_atomic_load_acquire_ptr(&l->items) == it)
                return v;
            rs_decref(v);
        }
    }
    return get_locked(l, i);
}

/* under ob_mutex: shrink the buffer when it is mostly empty (failure is harmless) */
static rs_list_items *maybe_shrink(rs_tstate *ts, rs_list *l, bool *delayed)
{
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    if (it == NULL || it->capacity <= 8 || size * 4 >= it->capacity)
        return NULL;
    rs_list_items *nit = size ? items_new(ts, size * 2 > 4 ? size * 2 : 4, it, size) : NULL;
    if (size && nit == NULL)
        return NULL;
    *delayed = replace_needs_delay(&l->ob_base);
    return publish(l, nit);
}

int rs_list_resize(rs_object *o, size_t n)
{
    rs_list *l = as_list(o);
    rs_tstate *ts = current();
    for (;;) { /* truncate one item per lock hold: the decref runs unlocked */
        rs_object_lock(o);
        size_t size = rs_atomic_load_relaxed_uptr(&l->size);
        if (size <= n)
            break; /* still locked */
        rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
        rs_object *v = rs_atomic_load_relaxed_ptr(&it->item[size - 1]);
        rs_atomic_store_release_ptr(&it->item[size - 1], NULL); /* pairs with readers' acquire */
        rs_atomic_store_relaxed_uptr(&l->size, size - 1);
        rs_object_unlock(o);
        rs_decref(v);
    }
    /* locked here */
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    rs_list_items *old = NULL;
    bool delayed = false;
    if (n > (it ? it->capacity : 0)) {
        size_t cap = it && it->capacity * 2 > n ? it->capacity * 2 : n;
        rs_list_items *nit = items_new(ts, cap, it, size);
        if (nit == NULL) {
            rs_object_unlock(o);
            return -1;
        }
        delayed = replace_needs_delay(o);
        old = publish(l, nit);
        it = nit;
    } else if (n <= size) {
        /* shrink only when not growing — maybe_shrink sizes the buffer for `size`
         * items, and growing to n > size would then write past its capacity */
        old = maybe_shrink(ts, l, &delayed);
        it = rs_atomic_load_relaxed_ptr(&l->items);
    }
    for (size_t i = size; i < n; i++)
        rs_atomic_store_release_ptr(&it->item[i], &rs_none); /* immortal: no incref needed */
    if (n > size)
        rs_atomic_store_relaxed_uptr(&l->size, n);
    rs_object_unlock(o);
    items_release(ts, old, delayed);
    return 0;
}

int rs_list_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_list *l = as_list(o);
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    for (size_t i = 0; i < size; i++) {
        int r = visit(rs_atomic_load_relaxed_ptr(&it->item[i]), 0, arg);
        if (r != 0)
            return r;
    }
    return 0;
}

void rs_list_clear(rs_object *o)
{
    rs_list *l = as_list(o);
    rs_tstate *ts = current();
    rs_object_lock(o);
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    rs_atomic_store_relaxed_uptr(&l->size, 0);
    bool delayed = replace_needs_delay(o);
    rs_list_items *old = publish(l, NULL);
    rs_object_unlock(o);
    /* the detached buffer is ours: readers still in it re-check `items` and give up */
    for (size_t i = 0; i < size; i++)
        rs_decref(rs_atomic_load_relaxed_ptr(&old->item[i]));
    items_release(ts, old, delayed);
}

void rs_list_dealloc(rs_object *o)
{
    if (rs_trash_begin(o))
        return;
    rs_list *l = (rs_list *)o;
    rs_tstate *ts = current();
    rs_gc_untrack_dying(o);
    rs_weakrefs_clear_dealloc(o);
    /* sole access: dead, no reference left */
    rs_list_items *it = rs_atomic_load_relaxed_ptr(&l->items);
    size_t size = rs_atomic_load_relaxed_uptr(&l->size);
    for (size_t i = 0; i < size; i++)
        rs_decref(rs_atomic_load_relaxed_ptr(&it->item[i]));
    items_release(ts, it, (rs_gc_bits(o) & RS_GC_SHARED) != 0);
    rs_object_free(o);
    rs_trash_end();
}
