/* api.h — the runtime as a program that drives it sees it: what a driver may call.
 *
 * Everything here is safe to call from outside runtime/; the headers in runtime/ itself are the
 * runtime's internals and refuse to compile elsewhere.  The object header and the inline
 * reference-counting fast paths are in rs/object.h (public, like CPython's object.h); the
 * hook table a driver installs is rs/hooks.h; what a test or an executor needs from the
 * inside (validators, the mutant registry, thread enumeration, fault sites, statistics) is the
 * small debug interface rs/debug.h.  docs/model.md describes every mechanism named below.
 *
 * Threads: a function taking an rs_tstate *ts is called on the thread that owns ts, attached,
 * unless its comment says otherwise.  Object functions are called by an attached thread. */
#ifndef RS_API_H
#define RS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/object.h"

/* ---- init and shutdown (docs/model.md §4) ---- */
typedef struct rs_options {
    bool immortalize_deferred;   /* §3.6, default on */
    bool freelists;              /* §6, default on */
    bool gc_enabled;             /* §7, default on */
    int64_t gc_threshold[3];     /* (2000, 10, 10) */
    int trash_depth;             /* 50 */
    bool validate;               /* run validators at GC entry and between phases */
    /* Torture (model.md §13): shrink every table and batch to its minimum so that collision,
     * overflow and boundary paths run on every use: one BRC bucket, one parking-lot bucket,
     * object-stack chunks of one item, freelists of at most one block, a QSBR deferral
     * limit of 2, a QSBR record array of one, one weakref stripe.  Behaviour stays correct;
     * only the paths taken change.  Default off. */
    bool torture;
} rs_options;

void rs_options_default(rs_options *o);
/* Create the runtime and the main thread state (created, bound, attached on the caller).
 * opts NULL ⇒ defaults.  0, or -1 on allocation failure.  One runtime at a time per process;
 * rs_runtime_init may be called again after rs_runtime_fini. */
int rs_runtime_init(const rs_options *opts);

typedef struct rs_leaks {
    intptr_t reftotal;  /* must be 0 */
    int64_t blocks;     /* must be 0 */
    /* objects on or below a reference cycle that only late_roots[] reached at step 7: step 7
     * frees late roots by refcounting alone, so a program that leaves a cycle there is not
     * clean and its leak is its own (-1: not counted, out of memory) */
    int64_t late_cycle_objects;
    /* root slots filled again after step 7 (a finalizer or destructor of an object the late
     * roots held resurrected it into a root, and no collection follows): not clean either */
    int late_resurrections;
} rs_leaks;
/* Shut down (main thread, attached): model §4 steps 1–11 (lifecycle.c).  Returns the leak
 * figures; both are 0 for any clean program (one with late_cycle_objects and
 * late_resurrections 0). */
rs_leaks rs_runtime_fini(void);

/* ---- thread states (§8.1) ---- */
/* Create a thread state on behalf of a new thread (called by the parent, which may be any
 * thread, attached or not).  Starts SUSPENDED if a stop-the-world is pending, else DETACHED.
 * NULL on allocation failure. */
rs_tstate *rs_tstate_new(void);
/* 0; -1 if the state is SHUTTING_DOWN (the thread must exit without touching objects).
 * An unbound state is bound first ("attach without binding"). */
int rs_tstate_attach(rs_tstate *ts);
void rs_tstate_detach(rs_tstate *ts);
/* The calling thread's attached (or bound) state, or NULL. */
rs_tstate *rs_tstate_current(void);
/* Exit on the thread itself, attached: clear then delete (§8.1 step 4).  ts is freed. */
void rs_tstate_exit(rs_tstate *ts);
/* The OS thread drops its reference without exiting through rs_tstate_exit (its attach
 * returned -1 at shutdown, or it never ran). */
void rs_tstate_release(rs_tstate *ts);
/* Whether ts has been bound to its OS thread (owner only, or any thread before it runs). */
bool rs_tstate_is_bound(const rs_tstate *ts);
/* Whether shutdown has shut ts out (relaxed read; the state never leaves SHUTTING_DOWN). */
bool rs_tstate_is_shutting_down(const rs_tstate *ts);

/* ---- stop-the-world (§8.3), the eval breaker (§9) ---- */
void rs_stop_the_world(rs_tstate *requester);
void rs_start_the_world(rs_tstate *requester);
/* Handle the caller's pending eval-breaker events (stop requests, merges, scheduled
 * collections, async exceptions) and report a quiescent point.  The async exception
 * delivered (or NULL) in *exc if exc is non-NULL.  Returns 0, or -1 if the runtime shut this
 * thread out while it was suspended: it must then stop touching objects and call
 * rs_tstate_release. */
int rs_poll(rs_tstate *ts, void **exc);
/* Send an async exception to the thread whose thread_id is tid (any thread); 0, or -1 if
 * no bound thread has that id. */
int rs_async_exc_set(uintptr_t tid, void *token);

/* ---- containers, lists, finalizables, weakrefs, roots (§0.1) ---- */
extern rs_type rs_container_type;
/* A tracked container with n empty slots (n ≤ 8), in the GC heap; NULL on allocation failure. */
rs_object *rs_container_new(uint32_t n);
/* An instance of a heap type (RS_TPFLAGS_HEAPTYPE, tp_kind CONTAINER, tp_dealloc
 * rs_container_dealloc, tp_basicsize ≥ a container's): holds a reference to it. */
rs_object *rs_container_new_typed(rs_type *type, uint32_t n);
/* Store o (stolen, may be NULL) in slot i; the old value is decref'd outside the lock.  A
 * mortal non-leaf o makes an untracked container tracked again (the GC untracks leaf-only
 * ones). */
void rs_container_set(rs_object *c, uint32_t i, rs_object *o);
/* A new reference to slot i's value, or NULL if the slot is empty. */
rs_object *rs_container_get(rs_object *c, uint32_t i);
/* The number of slots of a container or finalizable (immutable). */
uint32_t rs_container_nslots(const rs_object *c);
/* The most slots a container may have and still be recycled through the freelists (§6). */
#define RS_FREELIST_CONTAINER_MAX_SLOTS 4

rs_object *rs_list_new(void);                 /* tracked, empty; NULL on allocation failure */
/* Append o (stolen).  0, or -1 on allocation failure (o is then decref'd). */
int rs_list_append(rs_object *l, rs_object *o);
/* New reference to item i, or NULL if i ≥ size. */
rs_object *rs_list_get(rs_object *l, size_t i);
/* Replace item i (< size) by o (stolen); -1 if i is out of range (o is then decref'd). */
int rs_list_set(rs_object *l, size_t i, rs_object *o);
/* Set the size to n: truncation drops items, growth fills with rs_none.  The buffer is
 * reallocated when n exceeds the capacity or falls below a quarter of it.  0 or -1 (OOM). */
int rs_list_resize(rs_object *l, size_t n);

/* What a finalizable does when it dies (finalizable.c; docs/model.md §0.1). */
typedef enum rs_fin_behaviour {
    RS_FIN_NONE,
    RS_FIN_RESURRECT,
    RS_DEALLOC_RESURRECT,
    RS_FIN_COLLECT,
} rs_fin_behaviour;
/* A finalizable container with n slots whose resurrection (if any) goes to root root_slot. */
rs_object *rs_finalizable_new(rs_fin_behaviour b, uint32_t n, int root_slot);

/* A weakref to a container, list or finalizable (borrowed; the caller holds a reference).
 * NULL on allocation failure. */
rs_object *rs_weakref_new(rs_object *referent, bool callback);
/* New reference to the referent, or NULL if it is dead or dying. */
rs_object *rs_weakref_get(rs_object *wr);

/* Module globals: RS_ROOTS strong slots (set steals o; get returns a new reference or NULL),
 * and late roots dropped only after the final collection (§4 step 7). */
#define RS_ROOTS 8
void rs_root_set(int i, rs_object *o);
rs_object *rs_root_get(int i);
void rs_late_root_set(int i, rs_object *o);

/* ---- code, functions, generators, frames and stack references (§3) ---- */
extern rs_type rs_function_type;
/* Compile a code object with nconsts fresh leaf constants (≤ 8), inside an immortalisation
 * suppression scope.  nlocalsplus, stacksize ≤ 64.  A new (strong) reference, or NULL on
 * allocation failure or bad sizes. */
rs_object *rs_code_new(uint32_t nconsts, uint32_t nlocalsplus, uint32_t stacksize);
bool rs_is_code(const rs_object *o);
/* A function of `code` with `globals` (NULL allowed).  New reference or NULL. */
rs_object *rs_function_new(rs_object *code, rs_object *globals);
/* A generator with its own frame of `code`.  New reference or NULL. */
enum { RS_GEN_FIN_NONE = 0 };
rs_object *rs_gen_new(rs_object *code, int behaviour);

typedef struct rs_frame rs_frame;
/* A stack reference: an object pointer whose low bit says "not counted" (deferred). */
typedef struct rs_stackref { uintptr_t bits; } rs_stackref;
/* a new reference: immortal or DEFERRED ⇒ tagged (no incref), else incref, untagged */
rs_stackref rs_sr_new(rs_object *o);
/* Push a THREAD frame executing `code` (a code object) as `func` (a function or NULL).
 * Zero-fills the whole frame, sets its fields, stackpointer = localsplus + nlocalsplus, then
 * publishes it as current.  NULL if a data chunk cannot be allocated. */
rs_frame *rs_frame_push(rs_tstate *ts, rs_object *code, rs_object *func);
/* Pop the current frame: close slots below stackpointer, f_executable, f_funcobj. */
void rs_frame_pop(rs_tstate *ts);
/* Store r (stolen) into local i of the current frame, closing the old value. */
void rs_local_store(rs_tstate *ts, uint32_t i, rs_stackref r);
/* Push rs_sr_new(o) onto the current frame's value stack; -1 if it is full. */
int rs_stack_push(rs_tstate *ts, rs_object *o);
/* Pop and close the top: stackpointer = NULL while closing (destructors, even a collection,
 * may run), then the new stackpointer is stored and the frame republished. */
void rs_stack_pop_close(rs_tstate *ts);
/* C-stack references (owner only): push rs_sr_new(o), 0 or -1 on allocation failure; pop
 * and close the most recent. */
int rs_cref_push(rs_tstate *ts, rs_object *o);
void rs_cref_pop(rs_tstate *ts);

/* Temporary immortalisation (§3.6): suppression scopes (attached thread; nest and commute). */
void rs_immortalize_suppress(void);
void rs_immortalize_unsuppress(void);
/* Owner only, tracked GC object: CAS DEFERRED in, then add the bias.  0, or -1 if o is not
 * owned by the caller, not tracked, immortal, or already deferred.  Never immortalises. */
int rs_object_enable_deferred(rs_object *o);

/* ---- heap types (§5) ---- */
/* A heap type whose instances take base's layout and behaviour (a static type).  The
 * instances' destructor runs base->tp_dealloc, then drops the type reference: a base whose
 * destructor may defer the free (trashcan) or resurrect must not be used until that order is
 * revisited (the type must outlive the block's last use of ob_type). */
rs_type *rs_type_new_heap_from(rs_tstate *ts, const char *name, const rs_type *base);
bool rs_type_is_heap(const rs_object *o);

/* ---- the garbage collector (§7) ---- */
typedef enum rs_gc_reason { RS_GC_HEAP, RS_GC_MANUAL, RS_GC_SHUTDOWN } rs_gc_reason;
/* Collect (§7.2).  ts: the caller, attached, no collection of its own running.  Returns
 * the number of unreachable objects cleared (≥ 0), 0 if another collection runs, the GC is
 * disabled (MANUAL) or not due (HEAP), or -1 after an error exit (OOM in marking, §7.3, or in
 * the resurrection check: everything restored, nothing freed that was reachable). */
int rs_gc_collect(rs_tstate *ts, rs_gc_reason reason);
int rs_gc_enable(void);                      /* both return the previous state */
int rs_gc_disable(void);
void rs_gc_set_threshold(int64_t t0, int64_t t1, int64_t t2);

/* ---- QSBR (§11) ---- */
/* Report a quiescent point (owner only, attached). */
void rs_qsbr_quiescent(rs_tstate *ts);
/* Free what is ready in the caller's delayed-free queue, then in the runtime's queue if it has
 * work and its try-lock succeeds (owner only, attached; CPython: _PyMem_ProcessDelayed). */
void rs_mem_process_delayed(rs_tstate *ts);

#endif
