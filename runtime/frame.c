/* frame.c — stack references, the per-thread data stack, frames, C-stack references, and the
 * GC's scan of a thread's stacks (model.md §3.2, §3.3).
 *
 * The data stack is a list of MEM chunks; frames are bump-allocated in the top chunk and a
 * chunk that empties (other than the first) is freed.  Pushing a frame zero-fills all of it
 * before setting any field, so an unset local reads as null rather than as a stale reference
 * left by an earlier frame in the same memory; only then is the frame published as current.
 * A pop-close stores stackpointer = NULL for the duration of the close, because the close may
 * run a destructor that runs a collection: the GC must then not trust any slot count of this
 * frame (it keeps every DEFERRED object alive instead).  Everything here is owner-only; the
 * GC reads it under stop-the-world (rs_frames_visit_thread). */
#include "frame.h"

#include <string.h>

#include "bugs.h"
#include "code.h"
#include "rs/fatal.h"
#include "heap.h"
#include "rs/hooks.h"
#include "tstate.h"

#define RS_DATA_CHUNK_BYTES 4096

struct rs_data_chunk {
    rs_data_chunk *previous;
    size_t capacity;          /* bytes usable in data[] */
    size_t top;               /* bytes in use */
    _Alignas(16) unsigned char data[];
};

/* ---- stack references ---- */

static inline rs_stackref sr_tagged(rs_object *o) { return (rs_stackref){(uintptr_t)o | RS_TAG_DEFERRED}; }
static inline rs_stackref sr_strong(rs_object *o) { return (rs_stackref){(uintptr_t)o}; }

rs_stackref rs_sr_new(rs_object *o)
{
    if (o == NULL)
        return RS_SR_NULL;
    if (rs_is_immortal(o) || (rs_gc_bits(o) & RS_GC_DEFERRED))
        return sr_tagged(o);
    rs_incref(o);
    return sr_strong(o);
}

rs_stackref rs_sr_steal(rs_object *o)
{
    if (o == NULL)
        return RS_SR_NULL;
    return rs_is_immortal(o) ? sr_tagged(o) : sr_strong(o);
}

rs_stackref rs_sr_dup(rs_stackref r)
{
    if (!rs_sr_is_tagged(r))
        rs_incref(rs_sr_obj(r));
    return r;
}

void rs_sr_close(rs_stackref r)
{
    if (!rs_sr_is_tagged(r) && r.bits != 0)
        rs_decref(rs_sr_obj(r));
}

rs_object *rs_sr_as_strong(rs_stackref r)
{
    rs_object *o = rs_sr_obj(r);
    if (o != NULL && rs_sr_is_tagged(r))
        rs_incref(o);
    return o;
}

/* ---- frames ---- */

size_t rs_frame_size(uint32_t nlocalsplus, uint32_t stacksize)
{
    size_t n = sizeof(rs_frame) + (size_t)(nlocalsplus + stacksize) * sizeof(rs_stackref);
    return (n + 15) & ~(size_t)15;
}

void rs_frame_init(rs_frame *f, rs_object *code, rs_object *func, int owner)
{
    rs_code *co = (rs_code *)code;
    RS_ASSERT(rs_is_code(code));
    size_t size = rs_frame_size(co->nlocalsplus, co->stacksize);
    /* mutant frames-not-zeroed: only the header fields are set; the slots keep whatever the
     * memory held (an earlier frame's references, or unfilled chunk memory) */
    if (!rs_bug(RS_BUG_FRAMES_NOT_ZEROED))
        memset(f, 0, size);
    f->previous = NULL;
    f->f_executable = rs_sr_new(code);
    f->f_funcobj = RS_SR_NULL;
    if (func != NULL) {
        rs_incref(func);       /* f_funcobj is strong: the GC does not scan it in thread frames */
        f->f_funcobj = sr_strong(func);
    }
    f->owner = owner;
    f->size = (uint32_t)size;
    f->nlocalsplus = co->nlocalsplus;
    f->stacksize = co->stacksize;
    f->stackpointer = f->localsplus + co->nlocalsplus;
}

void rs_frame_local_store(rs_frame *f, uint32_t i, rs_stackref r)
{
    RS_ASSERT(i < f->nlocalsplus);
    rs_stackref old = f->localsplus[i];
    f->localsplus[i] = r;
    rs_sr_close(old);
}

int rs_frame_stack_push(rs_frame *f, rs_stackref r)
{
    RS_ASSERT(f->stackpointer != NULL);
    if (f->stackpointer >= f->localsplus + f->nlocalsplus + f->stacksize)
        return -1;
    *f->stackpointer++ = r;
    return 0;
}

void rs_frame_clear(rs_frame *f)
{
    RS_ASSERT(f->stackpointer != NULL);
    /* newest first; the stackpointer drops below a slot before its close (a destructor may
     * scan the frame), and the slot keeps its dead bits, as memory above a stackpointer may */
    while (f->stackpointer > f->localsplus) {
        rs_stackref r = *--f->stackpointer;
        rs_sr_close(r);
    }
    rs_stackref fn = f->f_funcobj, ex = f->f_executable;
    f->f_funcobj = RS_SR_NULL;
    f->f_executable = RS_SR_NULL;
    rs_sr_close(fn);
    rs_sr_close(ex);
}

static rs_frame *current(rs_tstate *ts)
{
    return rs_atomic_load_relaxed_ptr(&ts->frames.current_frame); /* owner reads its own store */
}

rs_frame *rs_frame_current(rs_tstate *ts) { return current(ts); }

static void publish(rs_tstate *ts, rs_frame *f)
{
    /* release: pairs with the GC's acquire load of current_frame under STW (the frame's
     * fields and slots are written before it becomes visible) */
    rs_atomic_store_release_ptr(&ts->frames.current_frame, f);
}

static void *data_stack_reserve(rs_tstate *ts, size_t size)
{
    rs_data_chunk *c = ts->frames.data_chunk;
    if (c != NULL && c->capacity - c->top >= size) {
        void *p = c->data + c->top;
        c->top += size;
        return p;
    }
    size_t cap = RS_DATA_CHUNK_BYTES - sizeof(rs_data_chunk);
    if (cap < size)
        cap = size;
    rs_data_chunk *n = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, sizeof(rs_data_chunk) + cap);
    if (n == NULL)
        return NULL;
    n->previous = c;
    n->capacity = cap;
    n->top = size;
    ts->frames.data_chunk = n;
    return n->data;
}

static void data_stack_release(rs_tstate *ts, rs_frame *f)
{
    rs_data_chunk *c = ts->frames.data_chunk;
    RS_ASSERT(c != NULL && (unsigned char *)f + f->size == c->data + c->top);
    c->top -= f->size;
    if (c->top == 0 && c->previous != NULL) {   /* keep the first chunk until exit */
        ts->frames.data_chunk = c->previous;
        rs_heap_free(&rs_tstate_current()->heap, c);
    }
}

rs_frame *rs_frame_push(rs_tstate *ts, rs_object *code, rs_object *func)
{
    rs_code *co = (rs_code *)code;
    RS_ASSERT(rs_is_code(code));
    RS_ASSERT(co->nlocalsplus <= RS_FRAME_MAX_SLOTS && co->stacksize <= RS_FRAME_MAX_SLOTS);
    rs_frame *f = data_stack_reserve(ts, rs_frame_size(co->nlocalsplus, co->stacksize));
    if (f == NULL)
        return NULL;
    rs_frame_init(f, code, func, RS_FRAME_OWNED_BY_THREAD);
    f->previous = current(ts);
    publish(ts, f);
    return f;
}

void rs_frame_pop(rs_tstate *ts)
{
    rs_frame *f = current(ts);
    RS_ASSERT(f != NULL && f->owner == RS_FRAME_OWNED_BY_THREAD);
    rs_frame_clear(f);
    publish(ts, f->previous);
    data_stack_release(ts, f);
}

void rs_local_store(rs_tstate *ts, uint32_t i, rs_stackref r)
{
    rs_frame *f = current(ts);
    RS_ASSERT(f != NULL);
    rs_frame_local_store(f, i, r);
}

int rs_stack_push(rs_tstate *ts, rs_object *o)
{
    rs_frame *f = current(ts);
    RS_ASSERT(f != NULL && f->stackpointer != NULL);
    if (f->stackpointer >= f->localsplus + f->nlocalsplus + f->stacksize)
        return -1;
    rs_stackref r = rs_sr_new(o);
    *f->stackpointer++ = r;
    return 0;
}

void rs_stack_pop_close(rs_tstate *ts)
{
    rs_frame *f = current(ts);
    RS_ASSERT(f != NULL && f->stackpointer != NULL);
    rs_stackref *sp = f->stackpointer;
    RS_ASSERT(sp > f->localsplus + f->nlocalsplus);
    rs_stackref top = sp[-1];
    /* while the close runs, the GC cannot know which slots are live */
    f->stackpointer = NULL;
    RS_SCHED("frame.pop_close");
    rs_sr_close(top);
    f->stackpointer = sp - 1;
    publish(ts, f);
}

size_t rs_stack_depth(rs_tstate *ts)
{
    rs_frame *f = current(ts);
    RS_ASSERT(f != NULL && f->stackpointer != NULL);
    return (size_t)(f->stackpointer - (f->localsplus + f->nlocalsplus));
}

/* ---- C-stack references ---- */

int rs_cref_push(rs_tstate *ts, rs_object *o)
{
    rs_frame_tstate *fs = &ts->frames;
    if (fs->n_c_stack_refs == fs->cap_c_stack_refs) {
        size_t ncap = fs->cap_c_stack_refs ? fs->cap_c_stack_refs * 2 : 16;
        rs_stackref *na = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, ncap * sizeof *na);
        if (na == NULL)
            return -1;
        if (fs->n_c_stack_refs)
            memcpy(na, fs->c_stack_refs, fs->n_c_stack_refs * sizeof *na);
        if (fs->c_stack_refs)
            rs_heap_free(&ts->heap, fs->c_stack_refs);
        fs->c_stack_refs = na;
        fs->cap_c_stack_refs = ncap;
    }
    fs->c_stack_refs[fs->n_c_stack_refs++] = rs_sr_new(o);
    return 0;
}

void rs_cref_pop(rs_tstate *ts)
{
    rs_frame_tstate *fs = &ts->frames;
    RS_ASSERT(fs->n_c_stack_refs > 0);
    rs_stackref r = fs->c_stack_refs[--fs->n_c_stack_refs];
    rs_sr_close(r);
}

size_t rs_cref_depth(rs_tstate *ts) { return ts->frames.n_c_stack_refs; }

/* ---- thread exit ---- */

void rs_frames_clear_thread(rs_tstate *ts)
{
    rs_frame_tstate *fs = &ts->frames;
    rs_tstate *me = rs_tstate_current();
    RS_ASSERT(me != NULL);
    while (current(ts) != NULL) {
        rs_frame *f = current(ts);
        if (f->stackpointer == NULL)
            rs_fatal("thread exit inside a pop-close", f);
        rs_frame_clear(f);
        publish(ts, f->previous);
        rs_data_chunk *c = fs->data_chunk;
        c->top -= f->size;
        if (c->top == 0 && c->previous != NULL) {
            fs->data_chunk = c->previous;
            rs_heap_free(&me->heap, c);
        }
    }
    while (fs->n_c_stack_refs > 0)
        rs_sr_close(fs->c_stack_refs[--fs->n_c_stack_refs]);
    if (fs->c_stack_refs)
        rs_heap_free(&me->heap, fs->c_stack_refs);
    fs->c_stack_refs = NULL;
    fs->cap_c_stack_refs = 0;
    while (fs->data_chunk != NULL) {
        rs_data_chunk *c = fs->data_chunk;
        fs->data_chunk = c->previous;
        rs_heap_free(&me->heap, c);
    }
}

/* ---- the GC's view ---- */

static int visit_tagged(rs_stackref r, int (*visit)(rs_object *, void *), void *arg)
{
    if (!rs_sr_is_tagged(r) || rs_sr_is_null(r))
        return 0;
    return visit(rs_sr_obj(r), arg);
}

int rs_frames_visit_thread(rs_tstate *ts, int (*visit)(rs_object *o, void *arg),
                           int *skip_deferred_objects, void *arg)
{
    /* mutant gc-skips-stacks: the scan sees no stack at all */
    if (rs_bug(RS_BUG_GC_SKIPS_STACKS))
        return 0;
    int err;
    rs_frame_tstate *fs = &ts->frames;
    for (size_t i = 0; i < fs->n_c_stack_refs; i++)
        if ((err = visit_tagged(fs->c_stack_refs[i], visit, arg)) != 0)
            return err;
    /* acquire: pairs with the owner's release store in publish() */
    for (rs_frame *f = rs_atomic_load_acquire_ptr(&fs->current_frame); f; f = f->previous) {
        if (f->owner != RS_FRAME_OWNED_BY_THREAD)
            continue;
        if ((err = visit_tagged(f->f_executable, visit, arg)) != 0)
            return err;
        rs_stackref *sp = f->stackpointer;
        if (sp == NULL) {
            /* mutant gc-trusts-null-stackpointer: the frame counts as having no live slots and
             * the deferred objects it may hold get no protection */
            if (!rs_bug(RS_BUG_GC_TRUSTS_NULL_STACKPOINTER))
                *skip_deferred_objects = 1;
            continue;
        }
        for (rs_stackref *p = f->localsplus; p < sp; p++)
            if ((err = visit_tagged(*p, visit, arg)) != 0)
                return err;
    }
    return 0;
}
