#ifndef RS_RUNTIME_INTERNAL
#error "runtime/trash.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* trash.h — the trashcan: deferred destruction of deep chains (model.md §1.3).  Owned by trash.c. */
#ifndef RS_TRASH_H
#define RS_TRASH_H

#include <stdbool.h>

typedef struct rs_object rs_object;

typedef struct rs_trash_tstate {
    int dealloc_depth;        /* owner-only */
    rs_object *delete_later;  /* owner-only; chain linked through ob_tid (bit 0: was tracked) */
    bool draining;            /* owner-only; the outermost drain is running */
} rs_trash_tstate;

#endif
