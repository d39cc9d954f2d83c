/* exec_ops_frames.c — the op handlers of a thread's interpreter stacks and scopes: thread
 * frames, stack references, locals, C-stack references, immortalisation suppression scopes;
 * and the unwinding of all of them when a thread ends.
 *
 * Balance: the program validator proves each thread's frame_push/frame_pop, stack_push/
 * stack_pop, cref_push/cref_pop and suppress/unsuppress balanced by their static order.  At
 * run time a push may find its register null or of the wrong kind, or its allocation may
 * fail; it then records a placeholder (exec_frame.real false, a clear bit in `pushed` or
 * `crefs`) and the matching pop does nothing, so the runtime's stacks always match what the
 * executor believes they hold.  Only real entries touch the runtime.
 *
 * References: a real frame holds the code (tagged: code is deferred or immortal) and the
 * function (strong); stack_push, local_store and cref_push take a new stack reference — tagged
 * when the object is deferred or immortal (the GC must find it through the stack scan), a
 * counted one otherwise.  Registers keep their own references throughout. */
#include "exec_internal.h"


static rs_object *reg_obj(exec_thread *t, int r) { return t->reg[r].obj; }

static exec_frame *top_frame(exec_thread *t)
{
    return t->nframes > 0 ? &t->frame[t->nframes - 1] : NULL;
}

static int push_frame(exec_thread *t, rs_object *code, rs_object *func)
{
    if (t->nframes >= PROG_MAX_FRAMES)
        return EXEC_OP_NEXT; /* the validator forbids it */
    exec_frame *f = &t->frame[t->nframes++];
    f->nstack = 0;
    f->pushed = 0;
    f->real = code != NULL && rs_is_code(code) && rs_frame_push(t->ts, code, func) != NULL;
    return EXEC_OP_NEXT;
}

int exec_op_frame_push(EXEC_OP_ARGS)
{
    (void)index;
    return push_frame(t, reg_obj(t, op->arg[0]), NULL);
}

/* r<func> must hold a function (else the frame runs the code without one) */
int exec_op_frame_push_fn(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *func = reg_obj(t, op->arg[1]);
    if (func && func->ob_type != &rs_function_type)
        func = NULL;
    return push_frame(t, reg_obj(t, op->arg[0]), func);
}

int exec_op_frame_pop(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    exec_frame *f = top_frame(t);
    if (f == NULL)
        return EXEC_OP_NEXT;
    t->nframes--;
    if (f->real)
        rs_frame_pop(t->ts); /* closes its locals and stack: destructors may run */
    return EXEC_OP_NEXT;
}

int exec_op_local_store(EXEC_OP_ARGS)
{
    (void)index;
    exec_frame *f = top_frame(t);
    rs_object *v = reg_obj(t, op->arg[1]);
    if (f && f->real && v)
        rs_local_store(t->ts, (uint32_t)op->arg[0], rs_sr_new(v));
    return EXEC_OP_NEXT;
}

int exec_op_stack_push(EXEC_OP_ARGS)
{
    (void)index;
    exec_frame *f = top_frame(t);
    if (f == NULL || f->nstack >= PROG_FRAME_STACK)
        return EXEC_OP_NEXT; /* the validator forbids both */
    rs_object *v = reg_obj(t, op->arg[0]);
    bool real = f->real && v && rs_stack_push(t->ts, v) == 0;
    if (real)
        f->pushed |= (uint8_t)(1u << f->nstack);
    f->nstack++;
    return EXEC_OP_NEXT;
}

int exec_op_stack_pop(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    exec_frame *f = top_frame(t);
    if (f == NULL || f->nstack == 0)
        return EXEC_OP_NEXT;
    f->nstack--;
    uint8_t bit = (uint8_t)(1u << f->nstack);
    if (f->pushed & bit) {
        f->pushed &= (uint8_t)~bit;
        rs_stack_pop_close(t->ts);
    }
    return EXEC_OP_NEXT;
}

int exec_op_cref_push(EXEC_OP_ARGS)
{
    (void)index;
    if (t->ncrefs >= PROG_MAX_CREFS)
        return EXEC_OP_NEXT; /* the validator forbids it */
    rs_object *v = reg_obj(t, op->arg[0]);
    if (v && rs_cref_push(t->ts, v) == 0)
        t->crefs |= 1u << t->ncrefs;
    t->ncrefs++;
    return EXEC_OP_NEXT;
}

int exec_op_cref_pop(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    if (t->ncrefs == 0)
        return EXEC_OP_NEXT;
    t->ncrefs--;
    uint32_t bit = 1u << t->ncrefs;
    if (t->crefs & bit) {
        t->crefs &= ~bit;
        rs_cref_pop(t->ts);
    }
    return EXEC_OP_NEXT;
}

int exec_op_suppress(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    rs_immortalize_suppress();
    t->suppress_depth++;
    return EXEC_OP_NEXT;
}

int exec_op_unsuppress(EXEC_OP_ARGS)
{
    (void)op, (void)index;
    if (t->suppress_depth == 0)
        return EXEC_OP_NEXT; /* the validator forbids it */
    t->suppress_depth--;
    rs_immortalize_unsuppress();
    return EXEC_OP_NEXT;
}

void exec_thread_unwind(exec_thread *t)
{
    while (t->ncrefs > 0)
        exec_op_cref_pop(t, NULL, -1);
    while (t->nframes > 0)
        exec_op_frame_pop(t, NULL, -1); /* its stack references go with it */
    while (t->suppress_depth > 0)
        exec_op_unsuppress(t, NULL, -1);
}
