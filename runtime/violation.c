/* violation.c — filling an rs_violation. */
#include "rs/violation.h"

#include <stdio.h>
#include <string.h>

bool rs_violate(rs_violation *v, const char *invariant, const void *obj, const char *fmt, ...)
{
    if (!v)
        return false;
    snprintf(v->invariant, sizeof v->invariant, "%s", invariant);
    v->obj = obj;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, sizeof v->msg, fmt, ap);
    va_end(ap);
    return false;
}
