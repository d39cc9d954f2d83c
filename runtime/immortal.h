/* immortal.h — temporary immortalisation of deferred objects (SPEC §3.6).  Owned by
 * immortal.c. */
#ifndef RS_IMMORTAL_H
#define RS_IMMORTAL_H

#include "atomic.h"

typedef struct rs_immortal_state {
    RS_ATOMIC(int) immortalize;      /* 0 armed, 1 active, < 0 suppressed (−2 per suppressor) */
    RS_ATOMIC(int) debug_suppressors; /* D5 */
} rs_immortal_state;

#endif
