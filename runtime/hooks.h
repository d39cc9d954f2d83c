#ifndef RS_RUNTIME_INTERNAL
#error "runtime/hooks.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* hooks.h — TRANSITION shim: this header moved to runtime/include/rs/hooks.h.  It only forwards,
 * for code outside runtime/ that still includes it by its old path ("../runtime/hooks.h");
 * delete it once nothing does (scripts/gen-build, TRANSITION).  Include "rs/hooks.h". */
#include "rs/hooks.h"
