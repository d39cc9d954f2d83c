/* A harness file that reaches for a runtime internal: must not compile (scripts/check-layering). */
#include "tstate.h"
