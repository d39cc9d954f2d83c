#ifndef RS_RUNTIME_INTERNAL
#error "runtime/atomic.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* atomic.h — TRANSITION shim: this header moved to runtime/include/rs/atomic.h.  It only forwards,
 * for code outside runtime/ that still includes it by its old path ("../runtime/atomic.h");
 * delete it once nothing does (scripts/gen-build, TRANSITION).  Include "rs/atomic.h". */
#include "rs/atomic.h"
