/* bugs.c — the mutant registry: names, descriptions and switches from bugs.def. */
#include "bugs.h"

#include <string.h>

RS_ATOMIC(uint8_t) rs_bugs_on[RS_BUG_COUNT > 0 ? RS_BUG_COUNT : 1];

static const struct { const char *name, *desc; } bug_table[] = {
#define RS_BUG(id, name, desc) {name, desc},
#include "rs/bugs.def"
#undef RS_BUG
};

size_t rs_bug_count(void) { return RS_BUG_COUNT; }
const char *rs_bug_name(size_t i) { return i < RS_BUG_COUNT ? bug_table[i].name : NULL; }
const char *rs_bug_desc(size_t i) { return i < RS_BUG_COUNT ? bug_table[i].desc : NULL; }

int rs_bug_find(const char *name)
{
    for (size_t i = 0; name && i < RS_BUG_COUNT; i++)
        if (strcmp(bug_table[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rs_bug_set(const char *name, bool on)
{
    int i = rs_bug_find(name);
    if (i < 0)
        return -1;
    rs_atomic_store_relaxed_u8(&rs_bugs_on[i], on ? 1 : 0);
    return 0;
}

void rs_bug_clear_all(void)
{
    for (size_t i = 0; i < RS_BUG_COUNT; i++)
        rs_atomic_store_relaxed_u8(&rs_bugs_on[i], 0);
}
