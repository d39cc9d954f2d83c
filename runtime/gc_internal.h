#ifndef RS_RUNTIME_INTERNAL
#error "runtime/gc_internal.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* gc_internal.h — what the collector's driver (gc.c), its phases (gc_phases.c) and its
 * validators (gc_check.c) share: the per-collection state, the worklists threaded through
 * ob_tid, the header helpers of model.md §7.1, and one function per phase.  Not for other modules. */
#ifndef RS_GC_INTERNAL_H
#define RS_GC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "gc.h"
#include "heap.h"
#include "rs/object.h"
#include "objstack.h"

/* One collection's state (lives on the collector's stack). */
typedef struct rs_gc_state {
    rs_tstate *ts;                 /* the collector */
    rs_gc_reason reason;
    int skip_deferred_objects;     /* a frame with a NULL stackpointer was seen (§3.3) */
    rs_object *objs_to_decref;     /* worklists: entries MERGED, +1 each, linked through ob_tid */
    rs_object *unreachable;
    rs_object *wrcb_to_call;
    rs_objstack mark;              /* marking stack (MEM chunks; fault point objstack.chunk) */
    rs_objstack_chunk mark_reserve; /* the mark stack's first chunk, reused: an empty stack's
                                     * push allocates nothing (but still passes the fault point) */
    int64_t long_lived_total;      /* reachable objects counted by scan */
    int64_t collected;             /* objects cleared in phase 4 */
    bool failed;                   /* an allocation failed (mark or resurrection check) */
    bool may_resurrect;            /* phase 2 ran a finalizer or a weakref callback */
    size_t weakref_entries;        /* unreachable entries that are weakrefs or had one (scan) */
} rs_gc_state;

/* ---- worklists (model.md §7.1): link through ob_tid ---- */
void rs_gc_worklist_push(rs_object **head, rs_object *o);   /* asserts ob_tid == 0 */
rs_object *rs_gc_worklist_pop(rs_object **head);            /* stores ob_tid = 0 (relaxed) */
static inline rs_object *rs_gc_worklist_next(const rs_object *o)
{
    return (rs_object *)rs_atomic_load_relaxed_uptr(&o->ob_tid);
}

/* ---- header helpers (model.md §7.1), only under STW ---- */
intptr_t rs_gc_merge_refcount(rs_object *o, intptr_t extra);
void rs_gc_restore_tid(rs_object *o);

/* Walk every GC heap (thread heaps whose heap_initialized reads 1, then the abandoned pool),
 * under STW; fn as for rs_heap_visit_tld.  Takes HEAD_LOCK for the thread list.
 * RS_GC_WALKER(f), after `static bool f(rs_object *o, void *arg)`, defines f_block, the heap
 * visitor to pass: f is inlined into it, so a walk makes one indirect call per object. */
bool rs_gc_walk(rs_heap_visit_fn fn, void *arg);
#define RS_GC_WALKER(f)                                                         \
    static bool f##_block(void *block, size_t size, rs_heap_kind kind, void *arg) \
    {                                                                           \
        (void)size;                                                             \
        (void)kind;                                                             \
        return f((rs_object *)block, arg);                                      \
    }

/* ---- phases (gc_phases.c), in the order the driver calls them ---- */
void rs_gc_phase_reset_counts(rs_gc_state *g);      /* 1.1  STW */
void rs_gc_phase_drain_queues(rs_gc_state *g);      /* 1.2  STW */
void rs_gc_phase_delayed_frees(rs_gc_state *g);     /* 1.3  STW */
void rs_gc_phase_update_refs(rs_gc_state *g);       /* 1.5b STW */
void rs_gc_phase_visit_stacks(rs_gc_state *g);      /* 1.5d STW */
int rs_gc_phase_mark(rs_gc_state *g);               /* 1.5e STW; -1 on OOM */
void rs_gc_phase_scan(rs_gc_state *g);              /* 1.5f STW */
void rs_gc_phase_weakrefs(rs_gc_state *g);          /* 1.7  STW */
void rs_gc_phase_error_restore(rs_gc_state *g);     /* §7.3 STW */
void rs_gc_phase_decref_and_callbacks(rs_gc_state *g); /* 2 */
void rs_gc_phase_finalize(rs_gc_state *g);          /* 2 */
int rs_gc_phase_resurrection_check(rs_gc_state *g); /* 3  STW; -1 on OOM */
void rs_gc_phase_clear_freelists(rs_gc_state *g, bool all_threads); /* 3 end (STW) / 4 end */
void rs_gc_phase_drain_failed(rs_gc_state *g);      /* 4 after a failed phase 3 */
void rs_gc_phase_clear_garbage(rs_gc_state *g);     /* 4 */

/* ---- between-phase validators (gc_check.c); rs_fatal on failure ---- */
void rs_gc_validate_world(const char *where);            /* rs_check_world under STW */
void rs_gc_validate_gc_refs(void);                       /* 5c: UNREACHABLE, gc_refs ≥ 0 */
void rs_gc_validate_worklists(rs_gc_state *g, const char *where); /* G2 */

#endif
