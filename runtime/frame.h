#ifndef RS_RUNTIME_INTERNAL
#error "runtime/frame.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* frame.h — stack references, per-thread interpreter stacks and frames (model.md §3.2, §3.3).
 * Owned by frame.c.
 *
 * A stack reference is a tagged word: bit 0 (RS_TAG_DEFERRED) set means "not counted" — the
 * referent is immortal or DEFERRED and lives because the GC sees the reference; clear means a
 * strong (counted) reference.  Pointer part 0 is null; RS_SR_NULL is {1} and a zeroed slot
 * (bits 0) is null too.
 *
 * D1: tagged references live only in THREAD frames, generator frames and the per-thread
 * c_stack_refs list — the three places the GC scans.  Anywhere else a reference must be made
 * strong first (rs_sr_as_strong).
 *
 * Frames live on a per-thread data stack of MEM chunks (bump allocation).  Layout:
 *     previous | f_executable | f_funcobj | owner | stackpointer | localsplus[nlocalsplus+stacksize]
 * Live slots are [localsplus, stackpointer): the locals, then the value stack.  stackpointer
 * is NULL only inside rs_stack_pop_close (the frame is then "being popped"; the GC cannot
 * know which slots are live and must treat every DEFERRED object as a root).
 * f_executable is a stack reference to the code object (tagged: code is always deferred);
 * f_funcobj is a strong reference to the function (or null).
 *
 * Concurrency: frames, the data stack and c_stack_refs are owner-only plain memory.  The GC
 * reads them only under stop-the-world, when the owner is stopped at a poll or detached; the
 * owner publishes its innermost frame in `current_frame` with a release store after the
 * frame is complete (the STW handshake orders it too; the store is the documented point at
 * which the frame becomes visible). */
#ifndef RS_FRAME_H
#define RS_FRAME_H

#include "rs/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"

typedef struct rs_object rs_object;
typedef struct rs_tstate rs_tstate;

#define RS_TAG_DEFERRED ((uintptr_t)1)
#define RS_SR_NULL ((rs_stackref){RS_TAG_DEFERRED})

typedef struct rs_data_chunk rs_data_chunk;

typedef struct rs_frame_tstate {
    RS_ATOMIC(void *) current_frame;   /* rs_frame *; owner writes (release), the GC reads under STW */
    rs_data_chunk *data_chunk;         /* owner-only: the data stack's top chunk (MEM blocks) */
    rs_stackref *c_stack_refs;         /* owner-only: C-stack references (CPython: _PyCStackRef) */
    size_t n_c_stack_refs, cap_c_stack_refs;
} rs_frame_tstate;

enum { RS_FRAME_OWNED_BY_THREAD = 0, RS_FRAME_OWNED_BY_GENERATOR = 1 };

struct rs_frame {
    rs_frame *previous;            /* the caller's frame (THREAD frames), else NULL */
    rs_stackref f_executable;      /* the code object (tagged) */
    rs_stackref f_funcobj;         /* the function (strong) or null */
    int owner;                     /* RS_FRAME_OWNED_BY_* */
    uint32_t size;                 /* bytes this frame takes on the data stack */
    uint32_t nlocalsplus, stacksize;
    rs_stackref *stackpointer;     /* first dead slot; NULL only inside a pop-close */
    rs_stackref localsplus[];      /* nlocalsplus + stacksize slots */
};

/* ---- stack references ---- */
static inline rs_object *rs_sr_obj(rs_stackref r) { return (rs_object *)(r.bits & ~RS_TAG_DEFERRED); }
static inline bool rs_sr_is_null(rs_stackref r) { return rs_sr_obj(r) == NULL; }
static inline bool rs_sr_is_tagged(rs_stackref r) { return (r.bits & RS_TAG_DEFERRED) != 0; }
/* take over a strong reference: immortal ⇒ tagged (nothing to count), else untagged */
rs_stackref rs_sr_steal(rs_object *o);
rs_stackref rs_sr_dup(rs_stackref r);          /* incref if untagged */
void rs_sr_close(rs_stackref r);               /* decref if untagged (destructors may run) */
rs_object *rs_sr_as_strong(rs_stackref r);     /* a new strong reference (incref if tagged) */

/* ---- frames (owner-only: ts is the calling thread's attached state) ----
 * Frame limits: nlocalsplus and stacksize ≤ RS_FRAME_MAX_SLOTS each. */
#define RS_FRAME_MAX_SLOTS 64  /* rs/api.h says 64 */
/* rs_frame_push, rs_frame_pop, rs_local_store, rs_stack_push, rs_stack_pop_close: rs/api.h */
rs_frame *rs_frame_current(rs_tstate *ts);
/* Number of live value-stack entries of the current frame. */
size_t rs_stack_depth(rs_tstate *ts);

/* the same operations on any frame (generator frames; the caller owns the frame) */
void rs_frame_init(rs_frame *f, rs_object *code, rs_object *func, int owner);
size_t rs_frame_size(uint32_t nlocalsplus, uint32_t stacksize);
void rs_frame_local_store(rs_frame *f, uint32_t i, rs_stackref r);
int rs_frame_stack_push(rs_frame *f, rs_stackref r);   /* steals r; -1 if full */
void rs_frame_clear(rs_frame *f);                      /* close every live reference */

/* ---- C-stack references (owner-only) ---- */
/* rs_cref_push, rs_cref_pop: rs/api.h */
size_t rs_cref_depth(rs_tstate *ts);

/* ---- thread exit ----
 * Pop every frame (closing its references), close every C-stack reference, and free the data
 * stack and the c_stack_refs array (model.md §8.1 exit).  Called from tstate_clear, on the thread
 * itself or, at shutdown, by the main thread for a thread proven gone. */
void rs_frames_clear_thread(rs_tstate *ts);

/* ---- the GC's view (model.md §3.3), under stop-the-world ----
 * Calls visit(o, arg) for every TAGGED non-null reference of thread ts: each entry of
 * c_stack_refs, then every THREAD frame from current_frame down (f_executable and the slots
 * [localsplus, stackpointer)).  Immortal referents are reported too (the GC skips them with
 * everything else it does not count).  A frame whose stackpointer is NULL is not slot-scanned;
 * it sets *skip_deferred_objects = 1 instead (then every DEFERRED object must be a mark root).
 * Untagged references are not reported: they are counted and need nothing from the GC here.
 * Returns the first non-zero value returned by visit (stopping there), else 0.
 * Generator frames are reported by the generator's tp_traverse (code.c), with tagged = 1. */
int rs_frames_visit_thread(rs_tstate *ts, int (*visit)(rs_object *o, void *arg),
                           int *skip_deferred_objects, void *arg);

#endif
