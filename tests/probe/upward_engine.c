/* The engine reaching up to the scenarios: must not compile (only the CLI knows them). */
#include "scenario.h"
