/* A scenario reaching into the executor: must not compile (scenarios build programs only). */
#include "executor.h"
