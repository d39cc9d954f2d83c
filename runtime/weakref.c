/* weakref.c — weak references to containers, lists and finalizables (model.md §0.1, §7.2 step 7).
 *
 * A weakref holds an uncounted pointer to its referent.  Every live link sits in one bucket of
 * a 256-way table keyed by the referent's address; the bucket's lock guards its chain and the
 * `referent` fields of the weakrefs on it.  The table is process-wide and needs no set-up: it
 * is empty whenever no weakref is alive (zero leaks at shutdown imply it).
 *
 *   create  CAS MAYBE_WEAKREF into the referent's shared flags if they are 0 (so that
 *           non-owners' try_incref can succeed while it lives), link under the bucket lock
 *   get     under the bucket lock: still linked to r ⇒ try_incref(r).  The referent's
 *           destructor clears its weakrefs under the same lock before freeing the block, so r
 *           is never probed after its free
 *   clear   (destructor of r, or the GC) under the lock: unlink, then store referent = NULL
 *           with release — the last write to a weakref that the clearer holds no reference
 *           to; the weakref's own destructor reads it with acquire, so a weakref cleared by
 *           someone else is freed only after that clearer is done with it
 * The destructor path collects weakrefs with callbacks that it can still try_incref and runs
 * the callbacks (rs_rt.stats.callbacks_run += 1) after the unlock. */
#include "objects.h"

#include "rs/fatal.h"
#include "heap.h"
#include "runtime.h"
#include "witness.h"

#define WR_BUCKETS 256

typedef struct wr_bucket {
    rs_mutex lock;      /* DONT_DETACH: short sections, never waits for anything else */
    rs_weakref *head;   /* under lock */
} wr_bucket;

static wr_bucket wr_table[WR_BUCKETS];

void rs_weakref_runtime_init(void)
{
    rs_witness_name_range(RS_LC_WEAKREF, wr_table, sizeof wr_table);
}

static wr_bucket *bucket_of(const void *referent)
{
    /* torture: one stripe for every referent, so that clears, creations and gets of unrelated
     * referents always contend for the same lock */
    if (rs_rt.opts.torture)
        return &wr_table[0];
    /* by the block's serial, not its address: see rs_heap_block_serial */
    uint64_t h = (rs_heap_block_serial(referent) + 1) * 0x9E3779B97F4A7C15ull;
    return &wr_table[h >> 56];
}

static void weakref_dealloc(rs_object *o);

rs_type rs_weakref_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "weakref",
    .tp_basicsize = sizeof(rs_weakref),
    .tp_kind = RS_KIND_WEAKREF,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = weakref_dealloc,
};

void rs_object_set_maybe_weakref(rs_object *o)
{
    if (rs_is_immortal(o))
        return;
    intptr_t s = rs_atomic_load_relaxed_iptr(&o->ob_ref_shared);
    while ((s & RS_REF_SHARED_FLAG_MASK) == 0) {
        /* seq_cst: one more RMW among the decref / try_incref / merge CASes on the field */
        if (rs_atomic_cas_seq_cst_iptr(&o->ob_ref_shared, &s, s | RS_REF_MAYBE_WEAKREF))
            break;
    }
}

static void link_locked(wr_bucket *b, rs_weakref *w)
{
    w->prev = NULL;
    w->next = b->head;
    if (b->head)
        b->head->prev = w;
    b->head = w;
}

/* writes the neighbours only: w's own fields may be read by no one after this */
static void unlink_locked(wr_bucket *b, rs_weakref *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        b->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

rs_object *rs_weakref_new(rs_object *referent, bool callback)
{
    rs_kind k = referent->ob_type->tp_kind;
    if (k != RS_KIND_CONTAINER && k != RS_KIND_LIST && k != RS_KIND_FINALIZABLE &&
        k != RS_KIND_GENERATOR)
        rs_fatal("weakref to an object kind that does not support weak references", referent);
    rs_weakref *w = (rs_weakref *)rs_object_alloc(&rs_weakref_type, 1);
    if (w == NULL)
        return NULL;
    w->has_callback = callback;
    rs_atomic_store_relaxed_ptr(&w->referent, referent);
    /* the weakref too: the referent's destructor, on any thread, must be able to try_incref
     * it for its callback for as long as it lives */
    rs_object_set_maybe_weakref(&w->ob_base);
    rs_object_set_maybe_weakref(referent);
    /* before the link: the collector clears weakrefs only of objects with the bit (gc_phases.c);
     * ob_mutex for the GC bits' writer rule (model.md §1.2) */
    rs_object_lock(referent);
    rs_gc_bits_set(referent, RS_GC_HAD_WEAKREF);
    rs_object_unlock(referent);
    wr_bucket *b = bucket_of(referent);
    rs_mutex_lock(&b->lock);
    link_locked(b, w);
    rs_mutex_unlock(&b->lock);
    return &w->ob_base;
}

static rs_weakref *as_weakref(rs_object *o)
{
    if (o->ob_type != &rs_weakref_type)
        rs_fatal("not a weakref", o);
    return (rs_weakref *)o;
}

rs_object *rs_weakref_get(rs_object *o)
{
    rs_weakref *w = as_weakref(o);
    rs_object *r = rs_atomic_load_relaxed_ptr(&w->referent); /* a hint; re-read under the lock */
    if (r == NULL)
        return NULL;
    wr_bucket *b = bucket_of(r);
    rs_object *res = NULL;
    rs_mutex_lock(&b->lock);
    /* still linked to r ⇒ r's destructor has not cleared it yet ⇒ r's block is not freed */
    if (rs_atomic_load_relaxed_ptr(&w->referent) == r && rs_try_incref(r))
        res = r;
    rs_mutex_unlock(&b->lock);
    return res;
}

/* Unlink and clear w (bucket lock held).  After the release store the clearer must not touch
 * w unless it holds a reference to it. */
static void clear_locked(wr_bucket *b, rs_weakref *w)
{
    unlink_locked(b, w);
    /* release: pairs with the acquire load in weakref_dealloc / rs_weakref_clear */
    rs_atomic_store_release_ptr(&w->referent, NULL);
}

void rs_weakrefs_clear_dealloc(rs_object *referent)
{
    wr_bucket *b = bucket_of(referent);
    rs_weakref *with_cb = NULL;
    rs_mutex_lock(&b->lock);
    for (rs_weakref *w = b->head, *next; w; w = next) {
        next = w->next;
        if (rs_atomic_load_relaxed_ptr(&w->referent) != referent)
            continue;
        bool cb = w->has_callback;
        clear_locked(b, w);
        if (cb && rs_try_incref(&w->ob_base)) {
            w->next = with_cb; /* we hold a reference now: w stays ours to write */
            with_cb = w;
        }
    }
    rs_mutex_unlock(&b->lock);
    while (with_cb) {
        rs_weakref *w = with_cb;
        with_cb = w->next;
        w->next = NULL;
        rs_weakref_run_callback(&w->ob_base);
        rs_decref(&w->ob_base);
    }
}

size_t rs_weakrefs_clear(rs_object *referent, rs_weakref_found_fn found, void *arg)
{
    wr_bucket *b = bucket_of(referent);
    size_t n = 0;
    rs_mutex_lock(&b->lock);
    for (rs_weakref *w = b->head, *next; w; w = next) {
        next = w->next;
        if (rs_atomic_load_relaxed_ptr(&w->referent) != referent)
            continue;
        bool cb = w->has_callback;
        clear_locked(b, w);
        n++;
        if (cb && found)
            found(&w->ob_base, arg);
    }
    rs_mutex_unlock(&b->lock);
    return n;
}

void rs_weakref_clear(rs_object *o)
{
    rs_weakref *w = as_weakref(o);
    /* acquire: pairs with the release store in clear_locked (someone else cleared w) */
    rs_object *r = rs_atomic_load_acquire_ptr(&w->referent);
    if (r == NULL)
        return;
    wr_bucket *b = bucket_of(r);
    rs_mutex_lock(&b->lock);
    if (rs_atomic_load_relaxed_ptr(&w->referent) == r) /* the referent never changes but to NULL */
        clear_locked(b, w);
    rs_mutex_unlock(&b->lock);
}

static void weakref_dealloc(rs_object *o)
{
    rs_weakref_clear(o);
    rs_object_free(o);
}

void rs_weakref_run_callback(rs_object *o)
{
    if (!as_weakref(o)->has_callback)
        return;
    rs_atomic_add_relaxed_u64(&rs_rt.stats.callbacks_run, 1);
}

size_t rs_weakref_count(rs_object *referent)
{
    wr_bucket *b = bucket_of(referent);
    size_t n = 0;
    rs_mutex_lock(&b->lock);
    for (rs_weakref *w = b->head; w; w = w->next)
        n += rs_atomic_load_relaxed_ptr(&w->referent) == referent;
    rs_mutex_unlock(&b->lock);
    return n;
}

bool rs_weakref_check(rs_violation *v)
{
    for (size_t i = 0; i < WR_BUCKETS; i++) {
        wr_bucket *b = &wr_table[i];
        bool ok = true;
        rs_mutex_lock(&b->lock);
        for (rs_weakref *w = b->head; ok && w; w = w->next) {
            rs_object *r = rs_atomic_load_relaxed_ptr(&w->referent);
            if (r == NULL)
                ok = rs_violate(v, "W1", w, "weakref linked with a NULL referent");
            else if (bucket_of(r) != b)
                ok = rs_violate(v, "W1", w, "weakref to %p linked in the wrong bucket", (void *)r);
            else if (!rs_heap_block_allocated(r))
                ok = rs_violate(v, "W1", w, "weakref's referent %p is a freed block", (void *)r);
            else if (r->ob_type->tp_kind != RS_KIND_CONTAINER && r->ob_type->tp_kind != RS_KIND_LIST &&
                     r->ob_type->tp_kind != RS_KIND_FINALIZABLE &&
                     r->ob_type->tp_kind != RS_KIND_GENERATOR)
                ok = rs_violate(v, "W1", w, "weakref's referent %p is a %s", (void *)r,
                                r->ob_type->tp_name);
        }
        rs_mutex_unlock(&b->lock);
        if (!ok)
            return false;
    }
    return true;
}
