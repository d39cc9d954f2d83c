/* fatal.h — the one routine for broken invariants.  Prints without allocating (write(2)) and
 * calls abort(), never exit(): sanitizers and libFuzzer must see the crash. */
#ifndef RS_FATAL_H
#define RS_FATAL_H

#include <stdbool.h>

_Noreturn void rs_fatal(const char *what, const void *obj);
_Noreturn void rs_fatal_at(const char *file, int line, const char *expr);

/* RS_ASSERT: checked in every build (cheap checks only); RS_DEBUG_ASSERT: only when the
 * runtime's `validate` option is on (expensive or hot-path checks). */
#define RS_ASSERT(e) ((e) ? (void)0 : rs_fatal_at(__FILE__, __LINE__, #e))

#endif
