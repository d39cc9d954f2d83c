#ifndef RS_RUNTIME_INTERNAL
#error "runtime/code.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* code.h — code objects, functions and generators (model.md §0.1).  Owned by code.c.
 *
 * All three are GC objects (RS_TPFLAGS_GC, allocated tracked in the GC heap).  Code objects
 * and functions are always deferred (set_deferred at creation: the shared count carries
 * RS_REF_DEFERRED, or the object is immortalised while temporary immortalisation is active);
 * generators are not deferred.
 *
 *   code      nconsts constant slots (strong references to fresh leaves, built inside an
 *             immortalisation suppression scope: "compile"), nlocalsplus, stacksize
 *   function  a strong reference to its code and to its globals (a container, or NULL)
 *   generator its own frame (owner GENERATOR, a MEM block), built like a thread frame; its
 *             tp_traverse reports the frame's references, tagged ones with tagged = 1
 *
 * Fields are immutable after creation except the generator's frame slots (owner of the
 * generator only, or under STW).  tp_clear (GC phase 4) drops the held references. */
#ifndef RS_CODE_H
#define RS_CODE_H

#include "rs/api.h"
#include <stdint.h>

#include "frame.h"
#include "rs/object.h"

#define RS_CODE_MAX_CONSTS 8

typedef struct rs_code {
    rs_object ob_base;
    uint32_t nconsts, nlocalsplus, stacksize;
    rs_object *consts[RS_CODE_MAX_CONSTS];   /* strong; NULL after tp_clear */
} rs_code;

typedef struct rs_function {
    rs_object ob_base;
    rs_object *code;      /* strong */
    rs_object *globals;   /* strong, or NULL */
} rs_function;

/* generator behaviours (model.md §0.1): only RS_GEN_FIN_NONE (rs/api.h) is implemented */

typedef struct rs_gen {
    rs_object ob_base;
    rs_frame *frame;      /* owned MEM block; NULL after tp_clear */
    int behaviour;
} rs_gen;

extern rs_type rs_code_type, rs_gen_type; /* rs_function_type: rs/api.h */
_Static_assert(RS_CODE_MAX_CONSTS == 8, "rs/api.h says rs_code_new takes at most 8 constants");

static inline rs_frame *rs_gen_frame(rs_object *gen) { return ((rs_gen *)gen)->frame; }


#endif
