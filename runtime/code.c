/* code.c — code objects, functions and generators (model.md §0.1): construction (deferred from
 * birth: rs_set_deferred), traversal for the GC, clearing and destruction.
 *
 * Compiling a code object runs inside an immortalisation suppression scope (model.md §3.6): the
 * code object and its constants are built while no immortalisation pass can run and while
 * set_deferred does not immortalise, so they are mortal when compilation returns.
 * A generator owns one frame (a MEM block) built by rs_frame_init exactly like a thread frame
 * but owned by the generator; the GC reaches it only through the generator's tp_traverse. */
#include "code.h"

#include "deferred.h"
#include "rs/fatal.h"
#include "heap.h"
#include "immortal.h"
#include "tstate.h"

/* ---- code ---- */

static int code_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_code *co = (rs_code *)o;
    for (uint32_t i = 0; i < co->nconsts; i++)
        if (co->consts[i] != NULL) {
            int r = visit(co->consts[i], 0, arg);
            if (r)
                return r;
        }
    return 0;
}

static void code_clear(rs_object *o)
{
    rs_code *co = (rs_code *)o;
    for (uint32_t i = 0; i < co->nconsts; i++) {
        rs_object *c = co->consts[i];
        co->consts[i] = NULL;
        if (c)
            rs_decref(c);
    }
}

static void code_dealloc(rs_object *o)
{
    rs_gc_untrack_dying(o);
    code_clear(o);
    rs_object_free(o);
}

#define RS_STATIC_TYPE_HEADER                                                            \
    {                                                                                    \
        .ob_tid = 0, .ob_flags = RS_OBF_STATIC, .ob_mutex = 0, .ob_gc_bits = 0,           \
        .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_ref_shared = 0, .ob_type = &rs_type_type \
    }

rs_type rs_code_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "code",
    .tp_basicsize = sizeof(rs_code),
    .tp_kind = RS_KIND_CODE,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = code_dealloc,
    .tp_traverse = code_traverse,
    .tp_clear = code_clear,
};

rs_object *rs_code_new(uint32_t nconsts, uint32_t nlocalsplus, uint32_t stacksize)
{
    if (nconsts > RS_CODE_MAX_CONSTS || nlocalsplus > RS_FRAME_MAX_SLOTS || stacksize > RS_FRAME_MAX_SLOTS)
        return NULL;
    rs_immortalize_suppress();   /* compile: nothing built here becomes immortal */
    rs_code *co = (rs_code *)rs_object_alloc(&rs_code_type, 1);
    if (co != NULL) {
        co->nconsts = 0;
        co->nlocalsplus = nlocalsplus;
        co->stacksize = stacksize;
        for (uint32_t i = 0; i < RS_CODE_MAX_CONSTS; i++)
            co->consts[i] = NULL;
        for (uint32_t i = 0; i < nconsts; i++) {
            rs_object *c = rs_leaf_new();
            if (c == NULL) {       /* drop what was built: the object is still ours alone */
                for (uint32_t j = 0; j < i; j++)
                    rs_decref(co->consts[j]);
                rs_object_free(&co->ob_base);
                rs_reftotal_add_inline(-1);  /* the code object's own reference */
                co = NULL;
                break;
            }
            co->consts[i] = c;
            co->nconsts = i + 1;
        }
        if (co != NULL)
            rs_set_deferred(&co->ob_base);
    }
    rs_immortalize_unsuppress();
    return co ? &co->ob_base : NULL;
}

/* ---- function ---- */

static int function_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_function *fn = (rs_function *)o;
    int r = 0;
    if (fn->code && (r = visit(fn->code, 0, arg)) != 0)
        return r;
    if (fn->globals && (r = visit(fn->globals, 0, arg)) != 0)
        return r;
    return 0;
}

static void function_clear(rs_object *o)
{
    rs_function *fn = (rs_function *)o;
    rs_object *c = fn->code, *g = fn->globals;
    fn->code = fn->globals = NULL;
    if (c)
        rs_decref(c);
    if (g)
        rs_decref(g);
}

static void function_dealloc(rs_object *o)
{
    rs_gc_untrack_dying(o);
    function_clear(o);
    rs_object_free(o);
}

rs_type rs_function_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "function",
    .tp_basicsize = sizeof(rs_function),
    .tp_kind = RS_KIND_FUNCTION,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = function_dealloc,
    .tp_traverse = function_traverse,
    .tp_clear = function_clear,
};

rs_object *rs_function_new(rs_object *code, rs_object *globals)
{
    RS_ASSERT(rs_is_code(code));
    rs_function *fn = (rs_function *)rs_object_alloc(&rs_function_type, 1);
    if (fn == NULL)
        return NULL;
    rs_incref(code);
    fn->code = code;
    if (globals)
        rs_incref(globals);
    fn->globals = globals;
    rs_set_deferred(&fn->ob_base);
    return &fn->ob_base;
}

/* ---- generator ---- */

static int visit_ref(rs_stackref r, rs_visit_fn visit, void *arg)
{
    if (rs_sr_is_null(r))
        return 0;
    return visit(rs_sr_obj(r), rs_sr_is_tagged(r) ? 1 : 0, arg);
}

static int gen_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_frame *f = ((rs_gen *)o)->frame;
    if (f == NULL)
        return 0;
    int r;
    if ((r = visit_ref(f->f_executable, visit, arg)) != 0 || (r = visit_ref(f->f_funcobj, visit, arg)) != 0)
        return r;
    for (rs_stackref *p = f->localsplus; p < f->stackpointer; p++)
        if ((r = visit_ref(*p, visit, arg)) != 0)
            return r;
    return 0;
}

static void gen_clear(rs_object *o)
{
    rs_gen *g = (rs_gen *)o;
    rs_frame *f = g->frame;
    if (f == NULL)
        return;
    g->frame = NULL;
    rs_frame_clear(f);
    rs_tstate *me = rs_tstate_current();
    RS_ASSERT(me != NULL);
    rs_heap_free(&me->heap, f);
}

static void gen_dealloc(rs_object *o)
{
    rs_gc_untrack_dying(o);
    gen_clear(o);
    rs_object_free(o);
}

rs_type rs_gen_type = {
    .ob_base = RS_STATIC_TYPE_HEADER,
    .tp_name = "generator",
    .tp_basicsize = sizeof(rs_gen),
    .tp_kind = RS_KIND_GENERATOR,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = gen_dealloc,
    .tp_traverse = gen_traverse,
    .tp_clear = gen_clear,
};

rs_object *rs_gen_new(rs_object *code, int behaviour)
{
    RS_ASSERT(rs_is_code(code));
    if (behaviour != RS_GEN_FIN_NONE)
        return NULL;   /* FIN_RESURRECT / DEALLOC_RESURRECT generators: not implemented */
    rs_tstate *ts = rs_tstate_current();
    RS_ASSERT(ts != NULL);
    rs_code *co = (rs_code *)code;
    rs_frame *f = rs_heap_alloc(&ts->heap, RS_HEAP_MEM, rs_frame_size(co->nlocalsplus, co->stacksize));
    if (f == NULL)
        return NULL;
    rs_gen *g = (rs_gen *)rs_object_alloc(&rs_gen_type, 1);
    if (g == NULL) {
        rs_heap_free(&ts->heap, f);
        return NULL;
    }
    rs_frame_init(f, code, NULL, RS_FRAME_OWNED_BY_GENERATOR);
    g->frame = f;
    g->behaviour = behaviour;
    return &g->ob_base;
}

bool rs_is_code(const rs_object *o) { return o->ob_type == &rs_code_type; }
