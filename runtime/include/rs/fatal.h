/* fatal.h — the one routine for broken invariants.  Prints without allocating (write(2)) and
 * calls abort(), never exit(): sanitizers and libFuzzer must see the crash. */
#ifndef RS_FATAL_H
#define RS_FATAL_H

#include <stdbool.h>

_Noreturn void rs_fatal(const char *what, const void *obj);
_Noreturn void rs_fatal_at(const char *file, int line, const char *expr);

/* RS_ASSERT: checked in every build, so it is for cheap checks only; expensive ones are
 * validators (rs/debug.h), run where the driver or the `validate` option asks for them. */
#define RS_ASSERT(e) ((e) ? (void)0 : rs_fatal_at(__FILE__, __LINE__, #e))

#endif
