#ifndef RS_RUNTIME_INTERNAL
#error "runtime/object.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* object.h — TRANSITION shim: this header moved to runtime/include/rs/object.h.  It only forwards,
 * for code outside runtime/ that still includes it by its old path ("../runtime/object.h");
 * delete it once nothing does (scripts/gen-build, TRANSITION).  Include "rs/object.h". */
#include "rs/object.h"
