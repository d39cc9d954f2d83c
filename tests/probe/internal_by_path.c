/* The same by a relative path: the internal header's #error must stop it. */
#include "../../runtime/tstate.h"
