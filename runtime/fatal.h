#ifndef RS_RUNTIME_INTERNAL
#error "runtime/fatal.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* fatal.h — TRANSITION shim: this header moved to runtime/include/rs/fatal.h.  It only forwards,
 * for code outside runtime/ that still includes it by its old path ("../runtime/fatal.h");
 * delete it once nothing does (scripts/gen-build, TRANSITION).  Include "rs/fatal.h". */
#include "rs/fatal.h"
