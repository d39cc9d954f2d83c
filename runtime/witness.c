/* witness.c — the lock-order witness (see witness.h). */
#define RS_NO_AUTO_POINTS /* called from lock.c, inside lock operations: never a point */
#include "witness.h"

#include <stdio.h>
#include <string.h>

#include "rs/atomic.h"
#include "rs/debug.h"
#include "runtime.h"

static const char *const class_names[RS_LC__COUNT] = {
    "object/other", "stw", "HEAD_LOCK", "brc-bucket", "typeid-pool", "qsbr", "delayed-free",
    "page-pool", "weakref-stripe",
};

#define WITNESS_RANGES 8
#define WITNESS_DEPTH 16

/* named ranges: written at runtime init, before the threads that lock start */
typedef struct witness_range {
    const char *base;
    size_t size;
    rs_lock_class c;
} witness_range;
static witness_range ranges[WITNESS_RANGES];
static int nranges;

/* edge[a][b] = 1: some thread acquired b while holding a (relaxed: a set of facts, each
 * written once from 0 to 1; the cycle check reads whatever it sees) */
static RS_ATOMIC(uint8_t) edge[RS_LC__COUNT][RS_LC__COUNT];

/* the first cycle: state 0 none, 1 being written, 2 written (release, pairs with the acquire
 * load in rs_debug_lock_order) */
static RS_ATOMIC(int) cycle_state;
static char cycle_text[256];

static _Thread_local struct {
    const rs_mutex *m[WITNESS_DEPTH];
    uint8_t c[WITNESS_DEPTH];
    int n;
} held;

void rs_witness_name_range(rs_lock_class c, const void *base, size_t size)
{
    for (int i = 0; i < nranges; i++)
        if (ranges[i].base == base)
            return;
    if (nranges < WITNESS_RANGES)
        ranges[nranges++] = (witness_range){(const char *)base, size, c};
}

void rs_witness_reset(void)
{
    for (int a = 0; a < RS_LC__COUNT; a++)
        for (int b = 0; b < RS_LC__COUNT; b++)
            rs_atomic_store_relaxed_u8(&edge[a][b], 0);
    rs_atomic_store_relaxed_int(&cycle_state, 0);
    cycle_text[0] = 0;
}

void rs_witness_thread_start(void)
{
    held.n = 0;
}

static rs_lock_class class_of(const rs_mutex *m)
{
    if (m == &rs_rt.head_lock)
        return RS_LC_HEAD;
    if (m == &rs_rt.stw.mutex)
        return RS_LC_STW;
    if (m == &rs_rt.typeids.mutex)
        return RS_LC_TYPEID;
    if (m == &rs_rt.qsbr.mutex)
        return RS_LC_QSBR;
    if (m == &rs_rt.delayed.mutex)
        return RS_LC_DELAYED;
    const char *p = (const char *)m, *bb = (const char *)rs_rt.brc_buckets;
    if (p >= bb && p < bb + sizeof rs_rt.brc_buckets)
        return RS_LC_BRC;
    for (int i = 0; i < nranges; i++)
        if (p >= ranges[i].base && p < ranges[i].base + ranges[i].size)
            return ranges[i].c;
    return RS_LC_OTHER;
}

/* does `from` reach `to` over recorded edges? (depth-first, at most RS_LC__COUNT nodes) */
static bool reaches(int from, int to, bool *seen)
{
    if (from == to)
        return true;
    seen[from] = true;
    for (int n = 0; n < RS_LC__COUNT; n++)
        if (!seen[n] && rs_atomic_load_relaxed_u8(&edge[from][n]) && reaches(n, to, seen))
            return true;
    return false;
}

static void record_cycle(int a, int b)
{
    int expected = 0;
    if (!rs_atomic_cas_relaxed_int(&cycle_state, &expected, 1))
        return; /* a cycle is already kept */
    snprintf(cycle_text, sizeof cycle_text,
             "lock order cycle: %s taken while holding %s, but %s is also taken (directly or "
             "through other locks) while holding %s",
             class_names[b], class_names[a], class_names[a], class_names[b]);
    rs_atomic_store_release_int(&cycle_state, 2); /* pairs with rs_debug_lock_order */
}

void rs_witness_acquired(const rs_mutex *m, bool try_lock)
{
    rs_lock_class c = class_of(m);
    if (!try_lock)
        for (int i = 0; i < held.n; i++) {
            int a = held.c[i];
            if (a == (int)c || rs_atomic_load_relaxed_u8(&edge[a][c]))
                continue;
            rs_atomic_store_relaxed_u8(&edge[a][c], 1);
            bool seen[RS_LC__COUNT] = {false};
            if (reaches((int)c, a, seen))
                record_cycle(a, (int)c);
        }
    if (held.n < WITNESS_DEPTH) {
        held.m[held.n] = m;
        held.c[held.n] = (uint8_t)c;
    }
    held.n++;
}

void rs_witness_released(const rs_mutex *m)
{
    int top = held.n < WITNESS_DEPTH ? held.n : WITNESS_DEPTH;
    for (int i = top - 1; i >= 0; i--)
        if (held.m[i] == m) {
            memmove(&held.m[i], &held.m[i + 1], (size_t)(top - i - 1) * sizeof held.m[0]);
            memmove(&held.c[i], &held.c[i + 1], (size_t)(top - i - 1) * sizeof held.c[0]);
            held.n--;
            return;
        }
    if (held.n > WITNESS_DEPTH)
        held.n--; /* it was one of the untracked ones beyond the depth */
}

bool rs_debug_lock_order(char *buf, size_t n)
{
    if (rs_atomic_load_acquire_int(&cycle_state) != 2) /* pairs with record_cycle */
        return false;
    snprintf(buf, n, "%s", cycle_text);
    return true;
}

size_t rs_debug_lock_order_edges(char *buf, size_t n)
{
    size_t used = 0, count = 0;
    if (n)
        buf[0] = 0;
    for (int a = 0; a < RS_LC__COUNT; a++)
        for (int b = 0; b < RS_LC__COUNT; b++)
            if (rs_atomic_load_relaxed_u8(&edge[a][b])) {
                count++;
                if (used < n) {
                    int w = snprintf(buf + used, n - used, "%s%s -> %s", used ? ", " : "",
                                     class_names[a], class_names[b]);
                    used += w > 0 ? (size_t)w : 0;
                }
            }
    return count;
}
