/* bench_heap.c — a benchmark, not a test: the cost of an alloc+free pair from the runtime's
 * page heap against the process malloc/free (jemalloc in the release build), in the same run.
 *
 * Two patterns per size: "pair" (allocate one block, free it at once: the hottest path) and
 * "batch" (allocate BATCH blocks, then free them all: walks the free list, touches more
 * memory).  Every pointer is stored in a global array before it is freed, so the compiler
 * cannot elide a malloc/free pair.  Prints ns per pair for both allocators and their ratio
 * (heap / malloc: below 1 means the heap is faster).  Build with the release flags:
 *   clang -std=c11 -D_GNU_SOURCE -O2 -DRS_USE_JEMALLOC=1 -pthread runtime/heap.c
 *         runtime/lock.c runtime/hooks.c runtime/fatal.c runtime/violation.c
 *         tests/bench_heap.c -ljemalloc -o bench_heap */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap.h"
#include "lock.h"

#define PAIRS 20000000L
#define BATCH 1000
#define BATCH_ROUNDS 20000L

static void *sink[BATCH];
static rs_heap_tld tld;
static char tid_anchor;

static double heap_pair(size_t size)
{
    int64_t t0 = rs_monotonic_ns();
    for (long i = 0; i < PAIRS; i++) {
        void *p = rs_heap_alloc(&tld, RS_HEAP_MEM, size);
        sink[i & 511] = p;
        rs_heap_free(&tld, p);
    }
    return (double)(rs_monotonic_ns() - t0) / PAIRS;
}

static double malloc_pair(size_t size)
{
    int64_t t0 = rs_monotonic_ns();
    for (long i = 0; i < PAIRS; i++) {
        void *p = malloc(size);
        sink[i & 511] = p;
        free(p);
    }
    return (double)(rs_monotonic_ns() - t0) / PAIRS;
}

static double heap_batch(size_t size)
{
    int64_t t0 = rs_monotonic_ns();
    for (long r = 0; r < BATCH_ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++)
            sink[i] = rs_heap_alloc(&tld, RS_HEAP_MEM, size);
        for (int i = 0; i < BATCH; i++)
            rs_heap_free(&tld, sink[i]);
    }
    return (double)(rs_monotonic_ns() - t0) / ((double)BATCH_ROUNDS * BATCH);
}

static double malloc_batch(size_t size)
{
    int64_t t0 = rs_monotonic_ns();
    for (long r = 0; r < BATCH_ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++)
            sink[i] = malloc(size);
        for (int i = 0; i < BATCH; i++)
            free(sink[i]);
    }
    return (double)(rs_monotonic_ns() - t0) / ((double)BATCH_ROUNDS * BATCH);
}

int main(void)
{
    rs_heap_runtime_init();
    rs_heap_bind(&tld, (uintptr_t)&tid_anchor);
    static const size_t sizes[] = {32, 64, 256, 1000};
    printf("%-6s %-6s %12s %12s %8s\n", "size", "mode", "heap ns", "malloc ns", "ratio");
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        heap_pair(sizes[s]);        /* warm-up: pages exist, caches are hot */
        malloc_pair(sizes[s]);
        double h = heap_pair(sizes[s]), m = malloc_pair(sizes[s]);
        printf("%-6zu %-6s %12.2f %12.2f %8.2f\n", sizes[s], "pair", h, m, h / m);
        h = heap_batch(sizes[s]);
        m = malloc_batch(sizes[s]);
        printf("%-6zu %-6s %12.2f %12.2f %8.2f\n", sizes[s], "batch", h, m, h / m);
    }
    rs_heap_abandon(&tld);
    rs_heap_runtime_fini();
    return 0;
}
