/* The runtime reaching up into the harness: must not compile. */
#include "program.h"
