/* freelist.h — per-thread unified freelists (SPEC §6).  Owned by freelist.c. */
#ifndef RS_FREELIST_H
#define RS_FREELIST_H

#include <stdint.h>

typedef struct rs_freelist {
    void *head;       /* chain through the block's first word */
    intptr_t size;    /* chain length; -1: disabled (final clear ran) */
} rs_freelist;

#define RS_FREELIST_CONTAINER_MAX_SLOTS 4

typedef struct rs_freelists {
    rs_freelist leaves;
    rs_freelist containers[RS_FREELIST_CONTAINER_MAX_SLOTS + 1]; /* [1..4] used */
    rs_freelist lists;
    rs_freelist object_stack_chunks;
} rs_freelists;

#endif
