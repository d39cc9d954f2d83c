/* exec_ops_objects.c — the op handlers that create objects and move references between
 * registers and the object graph: object creation of every kind, deferral, container slots,
 * lists, roots and late roots, weak references.
 *
 * Conventions (docs/scn.md): a register holds a strong reference (plus `extra` ones owed by
 * incref).  A handler whose source register is null, or holds an object of the wrong kind
 * (a store into a list, a slot index past the container's size, a weakref to a leaf), does
 * nothing.  A getter's result replaces its destination register, null included ("null if the
 * slot is empty"); the result is taken before the destination is released, so `load r0 r0 0`
 * is well defined.  Every runtime setter steals a reference: the handler increfs first.
 * Allocation failures (fault hook) leave the destination null. */
#include "exec_internal.h"


static rs_object *reg_obj(exec_thread *t, int r) { return t->reg[r].obj; }

static bool is_kind(const rs_object *o, rs_kind k) { return o && o->ob_type->tp_kind == k; }

/* a container or finalizable (heap-type instances included) with slot i */
static bool has_slot(const rs_object *o, int i)
{
    return o && (o->ob_type->tp_kind == RS_KIND_CONTAINER ||
                 o->ob_type->tp_kind == RS_KIND_FINALIZABLE) &&
           (uint32_t)i < rs_container_nslots(o);
}

/* the kinds that take weak references (rs_weakref_new, rs/api.h) */
static bool takes_weakrefs(const rs_object *o)
{
    return o && (o->ob_type->tp_kind == RS_KIND_CONTAINER || o->ob_type->tp_kind == RS_KIND_LIST ||
                 o->ob_type->tp_kind == RS_KIND_FINALIZABLE);
}

/* ---- creation ---- */

int exec_op_new_container(EXEC_OP_ARGS)
{
    (void)index;
    exec_reg_set(t, op->arg[0], rs_container_new((uint32_t)op->arg[1]));
    return EXEC_OP_NEXT;
}

int exec_op_new_list(EXEC_OP_ARGS)
{
    (void)index;
    exec_reg_set(t, op->arg[0], rs_list_new());
    return EXEC_OP_NEXT;
}

/* Heap types are created with the container layout, so that one type serves both forms of
 * new_instance: `slots 0` makes a slotless instance (the leaf form), `slots n` an instance
 * with n slots.  Both hold a type reference counted per thread (typeid.h). */
int exec_op_new_type(EXEC_OP_ARGS)
{
    (void)index;
    rs_type *ty = rs_type_new_heap_from(t->ts, "exec.heaptype", &rs_container_type);
    exec_reg_set(t, op->arg[0], ty ? &ty->ob_base : NULL);
    return EXEC_OP_NEXT;
}

int exec_op_new_instance(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *ty = reg_obj(t, op->arg[1]);
    if (ty == NULL || !rs_type_is_heap(ty))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_container_new_typed((rs_type *)ty, (uint32_t)op->arg[2]));
    return EXEC_OP_NEXT;
}

/* frames of exec code objects: 8 locals and 8 stack slots (PROG_FRAME_LOCALS/STACK) */
int exec_op_new_code(EXEC_OP_ARGS)
{
    (void)index;
    exec_reg_set(t, op->arg[0],
                 rs_code_new((uint32_t)op->arg[1], PROG_FRAME_LOCALS, PROG_FRAME_STACK));
    return EXEC_OP_NEXT;
}

int exec_op_new_function(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *code = reg_obj(t, op->arg[1]);
    if (code == NULL || !rs_is_code(code))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_function_new(code, NULL));
    return EXEC_OP_NEXT;
}

/* The runtime implements only the `none` behaviour of generators (code.h: rs_gen_new returns
 * NULL for the others); every behaviour word makes a `none` generator, so programs asking for
 * a resurrecting one still exercise generator frames. */
int exec_op_new_generator(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *code = reg_obj(t, op->arg[1]);
    if (code == NULL || !rs_is_code(code))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_gen_new(code, RS_GEN_FIN_NONE));
    return EXEC_OP_NEXT;
}

static rs_fin_behaviour fin_of(int v)
{
    switch (v) {
    case PROG_FIN_RESURRECT:
        return RS_FIN_RESURRECT;
    case PROG_FIN_DEALLOC_RESURRECT:
        return RS_DEALLOC_RESURRECT;
    case PROG_FIN_COLLECT:
        return RS_FIN_COLLECT;
    default:
        return RS_FIN_NONE;
    }
}

/* A resurrecting finalizable stores itself into a root: g7, the last root slot (programs that
 * read g7 may find it there, as Python code finds a resurrected object in a module global). */
#define EXEC_FIN_ROOT (RS_ROOTS - 1)

int exec_op_new_finalizable(EXEC_OP_ARGS)
{
    (void)index;
    exec_reg_set(t, op->arg[0],
                 rs_finalizable_new(fin_of(op->arg[2]), (uint32_t)op->arg[1], EXEC_FIN_ROOT));
    return EXEC_OP_NEXT;
}

int exec_op_new_weakref(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *target = reg_obj(t, op->arg[1]);
    if (!takes_weakrefs(target))
        return EXEC_OP_NEXT;
    /* created before r<dst> is released: `new_weakref r0 r0` then lets the referent die */
    exec_reg_set(t, op->arg[0], rs_weakref_new(target, op->arg[2] == PROG_WRCB_CALLBACK));
    return EXEC_OP_NEXT;
}

int exec_op_defer(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *o = reg_obj(t, op->arg[0]);
    if (o)
        (void)rs_object_enable_deferred(o); /* -1: not owned, untracked, immortal, deferred */
    return EXEC_OP_NEXT;
}

/* ---- containers ---- */

int exec_op_store(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *c = reg_obj(t, op->arg[0]), *v = reg_obj(t, op->arg[2]);
    if (v == NULL || !has_slot(c, op->arg[1]))
        return EXEC_OP_NEXT;
    rs_incref(v);
    rs_container_set(c, (uint32_t)op->arg[1], v);
    return EXEC_OP_NEXT;
}

int exec_op_clear_slot(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *c = reg_obj(t, op->arg[0]);
    if (has_slot(c, op->arg[1]))
        rs_container_set(c, (uint32_t)op->arg[1], NULL);
    return EXEC_OP_NEXT;
}

int exec_op_load(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *c = reg_obj(t, op->arg[1]);
    if (!has_slot(c, op->arg[2]))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_container_get(c, (uint32_t)op->arg[2]));
    return EXEC_OP_NEXT;
}

/* ---- lists ---- */

int exec_op_list_append(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *l = reg_obj(t, op->arg[0]), *v = reg_obj(t, op->arg[1]);
    if (v == NULL || !is_kind(l, RS_KIND_LIST))
        return EXEC_OP_NEXT;
    rs_incref(v);
    (void)rs_list_append(l, v); /* -1: allocation failure, v's new reference was dropped */
    return EXEC_OP_NEXT;
}

int exec_op_list_get(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *l = reg_obj(t, op->arg[1]);
    if (!is_kind(l, RS_KIND_LIST))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_list_get(l, (size_t)op->arg[2]));
    return EXEC_OP_NEXT;
}

int exec_op_list_set(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *l = reg_obj(t, op->arg[0]), *v = reg_obj(t, op->arg[2]);
    if (v == NULL || !is_kind(l, RS_KIND_LIST))
        return EXEC_OP_NEXT;
    rs_incref(v);
    (void)rs_list_set(l, (size_t)op->arg[1], v); /* -1: out of range, v's new reference dropped */
    return EXEC_OP_NEXT;
}

int exec_op_list_resize(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *l = reg_obj(t, op->arg[0]);
    if (is_kind(l, RS_KIND_LIST))
        (void)rs_list_resize(l, (size_t)op->arg[1]); /* -1: allocation failure, unchanged */
    return EXEC_OP_NEXT;
}

/* ---- roots and late roots ---- */

int exec_op_root_set(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *v = reg_obj(t, op->arg[1]);
    if (v == NULL)
        return EXEC_OP_NEXT;
    rs_incref(v);
    rs_root_set(op->arg[0], v);
    return EXEC_OP_NEXT;
}

int exec_op_root_get(EXEC_OP_ARGS)
{
    (void)index;
    exec_reg_set(t, op->arg[0], rs_root_get(op->arg[1]));
    return EXEC_OP_NEXT;
}

int exec_op_root_clear(EXEC_OP_ARGS)
{
    (void)t, (void)index;
    rs_root_set(op->arg[0], NULL);
    return EXEC_OP_NEXT;
}

int exec_op_late_root_set(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *v = reg_obj(t, op->arg[1]);
    if (v == NULL)
        return EXEC_OP_NEXT;
    rs_incref(v);
    rs_late_root_set(op->arg[0], v);
    return EXEC_OP_NEXT;
}

int exec_op_late_root_clear(EXEC_OP_ARGS)
{
    (void)t, (void)index;
    rs_late_root_set(op->arg[0], NULL);
    return EXEC_OP_NEXT;
}

/* ---- weak references ---- */

int exec_op_weakref_get(EXEC_OP_ARGS)
{
    (void)index;
    rs_object *wr = reg_obj(t, op->arg[1]);
    if (!is_kind(wr, RS_KIND_WEAKREF))
        return EXEC_OP_NEXT;
    exec_reg_set(t, op->arg[0], rs_weakref_get(wr));
    return EXEC_OP_NEXT;
}
