/* What the harness may include: compiles with the public include path alone. */
#include "rs/api.h"
#include "rs/debug.h"
#include "rs/hooks.h"

int probe_public_api(void) { return rs_fault_site_count() > 0 && rs_bug_count() > 0; }
