/* witness.h — the lock-order witness (model.md §8.2, §12 check LO).
 *
 * Every runtime mutex belongs to a class (the stop-the-world mutex, HEAD_LOCK, the BRC buckets,
 * ...; a mutex nobody named is an object lock).  In builds with RS_LOCK_WITNESS (asan, tsan,
 * debug) each thread keeps the classes it holds; acquiring class B while holding class A
 * records the edge A -> B in a process-wide order graph.  An edge that closes a cycle (B already
 * reaches A) is a potential deadlock, whether or not this run deadlocked: the first such cycle
 * is kept, and rs_debug_lock_order() reports it (the executor makes it an LO finding).
 * Same-class nesting is not an edge.  A trylock cannot wait, so it adds no edge, but what it
 * takes is held.  The graph is cleared by rs_runtime_init. */
#ifndef RS_WITNESS_H
#define RS_WITNESS_H

#ifndef RS_RUNTIME_INTERNAL
#error "witness.h is internal to runtime/"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "lock.h"

typedef enum rs_lock_class {
    RS_LC_OTHER,      /* object locks and any mutex not named below */
    RS_LC_STW,        /* rs_rt.stw.mutex: one stop-the-world at a time */
    RS_LC_HEAD,       /* HEAD_LOCK */
    RS_LC_BRC,        /* a BRC bucket */
    RS_LC_TYPEID,     /* the type-id pool */
    RS_LC_QSBR,       /* QSBR's shared state */
    RS_LC_DELAYED,    /* the runtime's delayed-free queue */
    RS_LC_POOL,       /* the abandoned-page pool */
    RS_LC_WEAKREF,    /* a weakref stripe */
    RS_LC__COUNT
} rs_lock_class;

/* Name the mutexes in [base, base + size) (a table of them); called at runtime init. */
void rs_witness_name_range(rs_lock_class c, const void *base, size_t size);
void rs_witness_reset(void);
/* The calling thread holds no runtime lock (thread bind): its held-class stack is cleared. */
void rs_witness_thread_start(void);
void rs_witness_acquired(const rs_mutex *m, bool try_lock);
void rs_witness_released(const rs_mutex *m);

#endif
