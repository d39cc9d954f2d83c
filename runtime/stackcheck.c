/* stackcheck.c — validators for deferred objects and stacks (model.md §3.5 D2, D4), run from
 * rs_check_world under stop-the-world with HEAD_LOCK held.
 *
 *   D2  DEFERRED ⇒ TRACKED, and a mortal DEFERRED object's count (local + shared) ≥ RS_REF_DEFERRED
 *   D4  every non-null reference in a thread's c_stack_refs and THREAD frames (f_executable,
 *       f_funcobj, slots [localsplus, stackpointer)) names an allocated object block, or a
 *       static object; tagged ones name an immortal or DEFERRED object (D1: an uncounted
 *       reference to an ordinary object keeps nothing alive)
 *
 * The walk gathers every allocated object block of the published heaps and the pool into a
 * sorted array (plain malloc: no allocation in a walked heap), then looks every stack
 * reference up in it.  A reference not found is read only if its page holds some allocated
 * object block (so the page is live and the block's first 24 bytes are readable) — then it
 * names a freed block — or if it lies in the executable's image, where static objects are. */
#include <stdint.h>
#include <stdlib.h>

#include "code.h"
#include "deferred.h"
#include "freelist.h"
#include "heap.h"
#include "runtime.h"

/* linker-provided bounds of the executable's image (GNU ld, lld) */
extern char __executable_start[], _end[];

typedef struct blocks_ctx {
    const rs_freelist_set *dead; /* freelisted blocks: allocated but dead (freelist.c) */
    uintptr_t *addrs;
    size_t n, cap;
    rs_violation *v;
    bool ok;
} blocks_ctx;

static bool gather_block(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size;
    (void)kind;
    blocks_ctx *c = arg;
    rs_object *o = block;
    if (c->dead && rs_freelist_set_contains(c->dead, o))
        return true; /* dead: a reference to it is a reference to a freed block */
    uint8_t bits = rs_gc_bits(o);
    if (bits & RS_GC_DEFERRED) {
        if (!(bits & RS_GC_TRACKED))
            return c->ok = rs_violate(c->v, "D2", o, "%s object is DEFERRED but not tracked",
                                      o->ob_type->tp_name);
        /* the bias is checked against the true count (local + shared): a non-owner's decref of
         * a reference the owner counts locally takes the shared part below the bias (sound) */
        intptr_t count = rs_refcnt(o);
        if (!rs_is_immortal(o) && count < RS_REF_DEFERRED)
            return c->ok = rs_violate(c->v, "D2", o,
                                      "%s object is DEFERRED but its count %ld lacks the bias",
                                      o->ob_type->tp_name, (long)count);
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        uintptr_t *na = realloc(c->addrs, ncap * sizeof *na);
        if (na == NULL)
            return c->ok = rs_violate(c->v, "OOM", NULL, "validator out of memory");
        c->addrs = na;
        c->cap = ncap;
    }
    c->addrs[c->n++] = (uintptr_t)block;
    return true;
}

static int cmp_addr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* index of the first address ≥ key */
static size_t lower_bound(const blocks_ctx *c, uintptr_t key)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->addrs[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool page_is_live(const blocks_ctx *c, uintptr_t p)
{
    uintptr_t base = p & ~(uintptr_t)(RS_PAGE_SIZE - 1);
    size_t i = lower_bound(c, base);
    return i < c->n && c->addrs[i] < base + RS_PAGE_SIZE;
}

static bool check_ref(blocks_ctx *c, const rs_tstate *t, rs_stackref r, const char *where)
{
    if (rs_sr_is_null(r))
        return true;
    uintptr_t p = (uintptr_t)rs_sr_obj(r);
    size_t i = lower_bound(c, p);
    if (i < c->n && c->addrs[i] == p) {
        const rs_object *o = (const rs_object *)p;
        if (rs_sr_is_tagged(r) && !rs_is_immortal(o) && !(rs_gc_bits(o) & RS_GC_DEFERRED))
            return rs_violate(c->v, "D4", o,
                              "thread %lu %s: tagged reference to a %s object that is neither "
                              "immortal nor deferred",
                              (unsigned long)t->id, where, o->ob_type->tp_name);
        return true;
    }
    if (page_is_live(c, p))
        return rs_violate(c->v, "D4", (const void *)p,
                          "thread %lu %s: %s reference names a freed block",
                          (unsigned long)t->id, where, rs_sr_is_tagged(r) ? "tagged" : "strong");
    /* outside every live object page: only a static object may be there, and statics live
     * in the executable's image (the runtime is linked statically), so nothing else is read */
    const rs_object *o = (const rs_object *)p;
    if ((p & 7) == 0 && p >= (uintptr_t)__executable_start && p + sizeof(rs_object) <= (uintptr_t)_end &&
        (rs_atomic_load_relaxed_u16(&o->ob_flags) & RS_OBF_STATIC))
        return true;
    return rs_violate(c->v, "D4", (const void *)p,
                      "thread %lu %s: reference names no allocated object", (unsigned long)t->id,
                      where);
}

static bool check_thread(blocks_ctx *c, const rs_tstate *t)
{
    const rs_frame_tstate *fs = &t->frames;
    for (size_t i = 0; i < fs->n_c_stack_refs; i++)
        if (!check_ref(c, t, fs->c_stack_refs[i], "c_stack_refs"))
            return false;
    /* acquire: pairs with the owner's release store of current_frame (frame.c publish) */
    for (const rs_frame *f = rs_atomic_load_acquire_ptr(&fs->current_frame); f; f = f->previous) {
        if (!check_ref(c, t, f->f_executable, "f_executable") ||
            !check_ref(c, t, f->f_funcobj, "f_funcobj"))
            return false;
        for (const rs_stackref *p = f->localsplus; f->stackpointer && p < f->stackpointer; p++)
            if (!check_ref(c, t, *p, p < f->localsplus + f->nlocalsplus ? "frame local" : "frame stack"))
                return false;
    }
    return true;
}

bool rs_check_stacks(rs_violation *v, const rs_freelist_set *dead)
{
    blocks_ctx c = {.dead = dead, .v = v, .ok = true};
    for (rs_tstate *t = rs_rt.threads; c.ok && t; t = t->next)
        if (rs_atomic_load_acquire_int(&t->heap_initialized)) /* pairs with rs_tstate_bind (G6) */
            rs_heap_visit_tld(&t->heap, RS_HEAP_ALL_OBJECTS, gather_block, &c);
    if (c.ok)
        rs_heap_visit_abandoned(RS_HEAP_ALL_OBJECTS, gather_block, &c);
    bool ok = c.ok;
    if (ok) {
        if (c.n > 1)
            qsort(c.addrs, c.n, sizeof *c.addrs, cmp_addr);
        for (rs_tstate *t = rs_rt.threads; ok && t; t = t->next)
            ok = check_thread(&c, t);
    }
    free(c.addrs);
    return ok;
}
