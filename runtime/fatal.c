/* fatal.c — print a one-line diagnosis to stderr without allocating, then abort(). */
#include "rs/fatal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(const char *s) { (void)!write(2, s, strlen(s)); }

static void put_hex(uintptr_t x)
{
    char buf[2 + 16 + 1];
    int i = (int)sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[x & 15];
        x >>= 4;
    } while (x && i > 2);
    buf[--i] = 'x';
    buf[--i] = '0';
    put(buf + i);
}

_Noreturn void rs_fatal(const char *what, const void *obj)
{
    put("refstorm runtime fatal error: ");
    put(what);
    if (obj) {
        put(" (object ");
        put_hex((uintptr_t)obj);
        put(")");
    }
    put("\n");
    abort();
}

_Noreturn void rs_fatal_at(const char *file, int line, const char *expr)
{
    char num[16];
    int i = (int)sizeof num - 1;
    num[i] = 0;
    do {
        num[--i] = (char)('0' + line % 10);
        line /= 10;
    } while (line && i > 0);
    put("refstorm runtime assertion failed: ");
    put(expr);
    put(" at ");
    put(file);
    put(":");
    put(num + i);
    put("\n");
    abort();
}
