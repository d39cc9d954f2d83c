/* latecycle.c — shutdown step 7's precondition, measured: is a reference cycle reachable from
 * late_roots[]? (model.md §4 step 7.)
 *
 * Step 7 empties late_roots[] and relies on refcounting alone to free what they held (CPython:
 * static types' dicts).  A cycle among those objects cannot be freed that way and no
 * collection follows, so its objects — and whatever hangs below them — stay in the leak
 * figures on a correct runtime.  Such a program is outside the model's contract; this count
 * lets the driver say so instead of reporting a leak (rs_leaks.late_cycle_objects).
 *
 * Called by the main thread between steps 6 and 7: the other states are gone (step 2), so
 * nothing else touches objects; plain reads of the graph are safe.  The edges are the strong
 * references step 4 counts: tp_traverse (tagged references are strong by then: step 4 made
 * generator frames' references strong, step 1 closed the main thread's) and an instance's
 * heap type.  Immortal objects are left out: they are never freed and never counted.
 *
 * Method: collect S, the mortal objects reachable from the late roots (a pointer hash set);
 * count each one's in-degree from S; peel off objects whose in-degree is 0 (Kahn).  What
 * cannot be peeled lies on a cycle or below one: exactly the objects refcounting cannot free
 * once the roots are cleared.  Out of memory: -1 (the driver then reports the leak as is). */
#include "runtime.h"

#include <stdlib.h>

#include "objects.h"

typedef struct lc_set {
    rs_object **key;   /* open addressing, NULL: empty */
    uint32_t *index;   /* key[i]'s position in order[] */
    size_t cap;        /* a power of two */
    rs_object **order; /* the members, in discovery order */
    int64_t *indeg;
    size_t n;
    bool oom;
} lc_set;

static size_t lc_hash(const rs_object *o, size_t cap)
{
    return (size_t)(((uint64_t)(uintptr_t)o >> 4) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
}

/* position of o in order[], or -1 */
static long lc_find(const lc_set *s, const rs_object *o)
{
    for (size_t i = lc_hash(o, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->key[i] == NULL)
            return -1;
        if (s->key[i] == o)
            return (long)s->index[i];
    }
}

static bool lc_grow(lc_set *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    rs_object **key = calloc(cap, sizeof *key);
    uint32_t *index = calloc(cap, sizeof *index);
    rs_object **order = realloc(s->order, cap * sizeof *order);
    if (order)
        s->order = order;
    if (!key || !index || !order) {
        free(key);
        free(index);
        return false;
    }
    for (size_t j = 0; j < s->n; j++) {
        size_t i = lc_hash(s->order[j], cap);
        while (key[i])
            i = (i + 1) & (cap - 1);
        key[i] = s->order[j];
        index[i] = (uint32_t)j;
    }
    free(s->key);
    free(s->index);
    s->key = key;
    s->index = index;
    s->cap = cap;
    return true;
}

static void lc_add(lc_set *s, rs_object *o)
{
    if (o == NULL || s->oom || rs_is_immortal(o) || (s->cap && lc_find(s, o) >= 0))
        return;
    if (2 * (s->n + 1) > s->cap && !lc_grow(s)) {
        s->oom = true;
        return;
    }
    size_t i = lc_hash(o, s->cap);
    while (s->key[i])
        i = (i + 1) & (s->cap - 1);
    s->key[i] = o;
    s->index[i] = (uint32_t)s->n;
    s->order[s->n++] = o;
}

static int discover_visit(rs_object *r, int tagged, void *arg)
{
    (void)tagged;
    lc_add(arg, r);
    return 0;
}

static int indeg_visit(rs_object *r, int tagged, void *arg)
{
    (void)tagged;
    lc_set *s = arg;
    long j = r ? lc_find(s, r) : -1;
    if (j >= 0)
        s->indeg[j]++;
    return 0;
}

typedef struct peel {
    lc_set *s;
    size_t *queue;
    size_t *tail;
} peel;

static int peel_visit(rs_object *r, int tagged, void *arg)
{
    (void)tagged;
    peel *p = arg;
    long j = r ? lc_find(p->s, r) : -1;
    if (j >= 0 && --p->s->indeg[j] == 0)
        p->queue[(*p->tail)++] = (size_t)j;
    return 0;
}

/* every strong reference o holds: its traverse and, for an instance, its heap type */
static void each_ref(rs_object *o, rs_visit_fn fn, void *arg)
{
    rs_type *t = o->ob_type;
    if (t->tp_traverse != NULL)
        t->tp_traverse(o, fn, arg);
    if (t->tp_flags & RS_TPFLAGS_HEAPTYPE)
        fn(&t->ob_base, 0, arg);
}

int64_t rs_late_root_cycle_objects(void)
{
    lc_set s = {0};
    for (int i = 0; i < RS_ROOTS; i++)
        lc_add(&s, rs_atomic_load_relaxed_ptr(&rs_rt.late_roots[i])); /* single-threaded now */
    for (size_t j = 0; j < s.n && !s.oom; j++) /* s.n grows as the walk finds more */
        each_ref(s.order[j], discover_visit, &s);
    int64_t left = -1;
    s.indeg = s.oom ? NULL : calloc(s.n ? s.n : 1, sizeof *s.indeg);
    size_t *queue = s.indeg ? malloc((s.n ? s.n : 1) * sizeof *queue) : NULL;
    if (queue) {
        for (size_t j = 0; j < s.n; j++)
            each_ref(s.order[j], indeg_visit, &s);
        size_t head = 0, tail = 0;
        for (size_t j = 0; j < s.n; j++)
            if (s.indeg[j] == 0)
                queue[tail++] = j;
        peel p = {.s = &s, .queue = queue, .tail = &tail};
        while (head < tail)
            each_ref(s.order[queue[head++]], peel_visit, &p);
        left = (int64_t)(s.n - tail);
    }
    free(queue);
    free(s.indeg);
    free(s.key);
    free(s.index);
    free(s.order);
    return left;
}
