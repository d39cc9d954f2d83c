/* objstack.c — chunked stacks of object pointers (see objstack.h). */
#include "objstack.h"

#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "runtime.h"
#include "tstate.h"

static rs_heap_tld *caller_tld(void)
{
    rs_tstate *ts = rs_tstate_current();
    if (ts == NULL)
        rs_fatal("object stack used by a thread without a thread state", NULL);
    return &ts->heap;
}

int rs_objstack_push_slow(rs_objstack *s, rs_object *o)
{
    rs_objstack_chunk *c = s->head;
    /* torture: chunks of one item, so every push after the first takes the new-chunk path */
    size_t cap = rs_rt.opts.torture ? 1 : RS_OBJSTACK_CHUNK_ITEMS;
    if (c == NULL || c->n == 0 || c->n >= cap) {
        if (rs_fault(RS_FAULT_OBJSTACK_CHUNK)) /* also for the reserve: see objstack.h */
            return -1;
        if (c == NULL || c->n != 0) { /* else c is the empty reserve: use it again */
            rs_objstack_chunk *nc = c == NULL && s->reserve
                                        ? s->reserve
                                        : rs_heap_alloc(caller_tld(), RS_HEAP_MEM, sizeof *nc);
            if (nc == NULL)
                return -1;
            nc->prev = c;
            nc->n = 0;
            s->head = c = nc;
        }
    }
    s->cap = cap; /* the inline push's bound (a spliced-in chunk gets it here too) */
    c->items[c->n++] = o;
    return 0;
}

rs_object *rs_objstack_pop_slow(rs_objstack *s)
{
    rs_objstack_chunk *c = s->head;
    if (c == NULL || c->n == 0) /* n == 0: the empty reserve */
        return NULL;
    rs_object *o = c->items[--c->n];
    if (c->n == 0 && c != s->reserve) { /* the reserve stays the head */
        s->head = c->prev;
        rs_heap_free(caller_tld(), c);
    }
    return o;
}

int rs_objstack_probe(rs_objstack *s)
{
    if (s->reserve == NULL || !rs_objstack_empty(s)) {
        if (rs_objstack_push(s, NULL) < 0)
            return -1;
        rs_objstack_pop(s);
        return 0;
    }
    /* the push would pass the fault point and take the reserve, the pop leave it empty */
    return rs_fault(RS_FAULT_OBJSTACK_CHUNK) ? -1 : 0;
}

size_t rs_objstack_len(const rs_objstack *s)
{
    size_t n = 0;
    for (const rs_objstack_chunk *c = s->head; c; c = c->prev)
        n += c->n;
    return n;
}

void rs_objstack_splice(rs_objstack *dst, rs_objstack *src)
{
    if (src->head == NULL)
        return;
    if (src->reserve != NULL)
        rs_fatal("objstack: splice of a stack with a reserve chunk", src);
    rs_objstack_chunk *last = src->head;
    while (last->prev)
        last = last->prev;
    last->prev = dst->head;
    dst->head = src->head;
    src->head = NULL;
}

void rs_objstack_clear(rs_objstack *s)
{
    while (s->head) {
        rs_objstack_chunk *c = s->head;
        s->head = c->prev;
        if (c != s->reserve)
            rs_heap_free(caller_tld(), c);
        else
            c->n = 0;
    }
}

bool rs_objstack_contains(const rs_objstack *s, const rs_object *o)
{
    for (const rs_objstack_chunk *c = s->head; c; c = c->prev)
        for (size_t i = 0; i < c->n; i++)
            if (c->items[i] == o)
                return true;
    return false;
}
