/* typeid.h — per-thread heap-type reference counts and the type-id pool (SPEC §5).
 * Owned by typeid.c. */
#ifndef RS_TYPEID_H
#define RS_TYPEID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic.h"
#include "lock.h"

typedef struct rs_typeid_tstate {
    intptr_t *values;   /* owner-only (STW merges and finalisation excepted) */
    size_t size;
    bool is_finalized;
} rs_typeid_tstate;

typedef union rs_typeid_entry rs_typeid_entry;

typedef struct rs_typeid_pool {
    rs_mutex mutex;                 /* DONT_DETACH */
    rs_typeid_entry *table;
    rs_typeid_entry *freelist;
    RS_ATOMIC(size_t) size;
} rs_typeid_pool;

#endif
