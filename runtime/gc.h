/* gc.h — the garbage collector (SPEC §7): state and API.  Owned by the GC mechanism (gc.c). */
#ifndef RS_GC_H
#define RS_GC_H

#include <stdint.h>

#include "atomic.h"

typedef struct rs_tstate rs_tstate;

typedef enum rs_gc_reason { RS_GC_HEAP, RS_GC_MANUAL, RS_GC_SHUTDOWN } rs_gc_reason;

#define RS_LOCAL_ALLOC_COUNT_THRESHOLD 512

/* per thread (owner-only unless noted) */
typedef struct rs_gc_tstate {
    int64_t alloc_count;                  /* owner-only; flushed at ±512 */
    RS_ATOMIC(int64_t) flushed_since_reset; /* debug (G7): owner adds, STW #1 resets */
} rs_gc_tstate;

/* runtime-wide */
typedef struct rs_gc_runtime {
    RS_ATOMIC(int) collecting;
    RS_ATOMIC(int) enabled;
    RS_ATOMIC(int64_t) young_count;
    RS_ATOMIC(int64_t) t0, t1, t2;
    RS_ATOMIC(int64_t) long_lived_total;
    RS_ATOMIC(uint64_t) collections[3];   /* per reason */
} rs_gc_runtime;

#endif
