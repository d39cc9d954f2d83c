/* violation.h — how a validator says what broke.
 *
 * Validators never abort: they return false and fill an rs_violation with the invariant's
 * name (as in docs/checks.md: "H1", "B1", "G6", "HEAP"), the object or block concerned (may be NULL)
 * and one line of text a person can read.  Whoever drives the runtime reports it. */
#ifndef RS_VIOLATION_H
#define RS_VIOLATION_H

#include <stdarg.h>
#include <stdbool.h>

typedef struct rs_violation {
    char invariant[8];      /* "H1", "B1", "HEAP", ... */
    const void *obj;        /* object or block concerned, or NULL */
    char msg[240];
} rs_violation;

/* Fill *v (if non-NULL) and return false, so validators can `return rs_violate(...)`. */
bool rs_violate(rs_violation *v, const char *invariant, const void *obj, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
