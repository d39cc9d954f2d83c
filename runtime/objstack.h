#ifndef RS_RUNTIME_INTERNAL
#error "runtime/objstack.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* objstack.h — stacks of object pointers in chunks (model.md §2.2), used by the BRC merge queues
 * and the GC's mark stack.  Chunks come from the calling thread's MEM heap; a push that needs
 * a chunk passes the fault point "objstack.chunk" and can fail.  A stack may have a reserve
 * chunk of its owner's (rs_objstack_init_reserve: the collector's mark stack keeps one in its
 * state), used whenever the stack is empty and never freed: like CPython's per-thread cache of
 * object-stack chunks it saves the allocation, not the fault point, which a push needing a
 * chunk passes all the same.  A stack is owned by whoever guards it (a bucket mutex, a single
 * thread, or stop-the-world). */
#ifndef RS_OBJSTACK_H
#define RS_OBJSTACK_H

#include <stdbool.h>
#include <stddef.h>

#include "rs/object.h"

#define RS_OBJSTACK_CHUNK_ITEMS 254

typedef struct rs_objstack_chunk {
    struct rs_objstack_chunk *prev;
    size_t n;
    rs_object *items[RS_OBJSTACK_CHUNK_ITEMS];
} rs_objstack_chunk;

/* The head chunk is never empty, but for the reserve, which stays the head (n = 0, prev NULL)
 * once the stack has used it and is empty again. */
typedef struct rs_objstack {
    rs_objstack_chunk *head;
    rs_objstack_chunk *reserve;  /* the owner's chunk for an empty stack, never freed; or NULL */
    size_t cap;                  /* items per chunk, set when a chunk is installed (0: none yet) */
} rs_objstack;

/* an empty stack whose first chunk is *reserve (which must outlive it); a zeroed rs_objstack
 * is an empty stack without one */
static inline void rs_objstack_init_reserve(rs_objstack *s, rs_objstack_chunk *reserve)
{
    s->head = NULL;
    s->reserve = reserve;
    s->cap = 0;
}

int rs_objstack_push_slow(rs_objstack *s, rs_object *o);
rs_object *rs_objstack_pop_slow(rs_objstack *s);

/* push: 0, or -1 if a chunk could not be allocated (nothing changed).  Inline while the head
 * chunk has items and room; a push that needs a chunk (or the empty reserve) takes the slow
 * path, which passes the fault point. */
static inline int rs_objstack_push(rs_objstack *s, rs_object *o)
{
    rs_objstack_chunk *c = s->head;
    if (c != NULL && c->n != 0 && c->n < s->cap) {
        c->items[c->n++] = o;
        return 0;
    }
    return rs_objstack_push_slow(s, o);
}

/* NULL when empty.  Inline unless the head chunk is about to empty. */
static inline rs_object *rs_objstack_pop(rs_objstack *s)
{
    rs_objstack_chunk *c = s->head;
    if (c == NULL || c->n == 0) /* n == 0: the empty reserve */
        return NULL;
    if (c->n > 1)
        return c->items[--c->n];
    return rs_objstack_pop_slow(s);
}

static inline bool rs_objstack_empty(const rs_objstack *s)
{
    return s->head == NULL || s->head->n == 0;
}

/* What a push followed at once by a pop would do, without an item: 0, or -1 where that push
 * would fail (nothing changed).  On an empty stack with a reserve it only passes the fault
 * point; for the collector's marking roots, which are pushed and popped first thing. */
int rs_objstack_probe(rs_objstack *s);
size_t rs_objstack_len(const rs_objstack *s);
/* move every entry of src (a stack without a reserve chunk) onto dst (src left empty); never
 * fails */
void rs_objstack_splice(rs_objstack *dst, rs_objstack *src);
/* free the chunks but the reserve (entries dropped: caller must have handled them) */
void rs_objstack_clear(rs_objstack *s);
/* true if o is on the stack */
bool rs_objstack_contains(const rs_objstack *s, const rs_object *o);

#endif
