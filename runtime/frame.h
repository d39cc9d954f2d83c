/* frame.h — stack references, per-thread interpreter stacks and frames (SPEC §3.2).
 * Owned by frame.c. */
#ifndef RS_FRAME_H
#define RS_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "atomic.h"

typedef struct rs_object rs_object;

typedef struct rs_stackref { uintptr_t bits; } rs_stackref;
#define RS_TAG_DEFERRED ((uintptr_t)1)

typedef struct rs_frame rs_frame;
typedef struct rs_data_chunk rs_data_chunk;

typedef struct rs_frame_tstate {
    RS_ATOMIC(void *) current_frame;   /* rs_frame *; owner writes, the GC reads under STW */
    rs_data_chunk *data_chunk;         /* the data stack (MEM chunks) */
    rs_stackref *c_stack_refs;         /* per-thread C-stack references (CPython: _PyCStackRef) */
    size_t n_c_stack_refs, cap_c_stack_refs;
} rs_frame_tstate;

#endif
