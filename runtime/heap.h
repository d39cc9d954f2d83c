#ifndef RS_RUNTIME_INTERNAL
#error "runtime/heap.h is internal to the runtime: include \"rs/api.h\" or \"rs/debug.h\""
#endif
/* heap.h — per-thread heaps of pages with size classes (model.md §0.2).
 *
 * Each thread state owns three heaps: MEM (buffers, chunks, tables), OBJECT (untracked
 * objects) and GC (GC-tracked objects; the GC finds objects only by walking these).  A heap
 * is a set of pages; a page holds blocks of one size class, records its owner thread id
 * (0 = abandoned) and takes frees from other threads on an atomic remote-free list.  A thread
 * exit abandons its pages to a runtime-wide pool that allocators reclaim from under the pool
 * mutex (never during a walk: walks happen under stop-the-world).
 *
 * Pages come from jemalloc (mallocx, aligned) in release builds and from aligned_alloc in
 * sanitizer builds.  Every page is RS_PAGE_SIZE-aligned, so a block finds its page by masking;
 * a request larger than the biggest size class gets a page of its own.
 *
 * Free blocks: in OBJECT and GC pages the first 24 bytes of a free block stay readable (the
 * first word, ob_tid, holds the free-list link or 0, written with relaxed atomic stores since
 * lock-free readers may probe it; bytes 8..23 keep their dead values), the rest is
 * ASan-poisoned; MEM blocks are poisoned whole.  A stale pointer into a live page is therefore
 * still caught by ASan.
 *
 * Accounting: every successful alloc adds 1 to the calling thread's `blocks` counter, every
 * free subtracts 1 from the caller's (not the page owner's).  Counters are folded into the
 * runtime total when a thread state is deleted (rs_heap_fold_blocks); the sum over live
 * thread states plus the folded total is the number of allocated blocks.
 *
 * Invariants (checked by rs_heap_check_page): free-list length + allocated count = capacity;
 * every allocated bit names a block inside the page; a page's owner is its heap's thread id
 * or 0 in the pool. */
#ifndef RS_HEAP_H
#define RS_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rs/atomic.h"
#include "lock.h"
#include "rs/violation.h"

#define RS_PAGE_SHIFT 16
#define RS_PAGE_SIZE ((size_t)1 << RS_PAGE_SHIFT)   /* 64 KiB */
#define RS_BLOCK_ALIGN 16
#define RS_SIZE_CLASSES 24        /* 16, 32, 48, 64, 80, 96, 112, 128, 160, ... up to RS_MAX_SMALL */
#define RS_MAX_SMALL 4096         /* larger requests get a page of their own */

typedef enum rs_heap_kind {
    RS_HEAP_MEM = 0,
    RS_HEAP_OBJECT = 1,
    RS_HEAP_GC = 2,
    RS_HEAP_KINDS = 3,
} rs_heap_kind;
#define RS_HEAP_MASK(k) (1u << (k))
#define RS_HEAP_ALL_OBJECTS (RS_HEAP_MASK(RS_HEAP_OBJECT) | RS_HEAP_MASK(RS_HEAP_GC))

/* debug state of a thread's heap set; the walker asserts READY (G6) */
enum { RS_HEAP_UNINIT = 0, RS_HEAP_BUILDING = 1, RS_HEAP_READY = 2, RS_HEAP_ABANDONED = 3 };

typedef struct rs_page rs_page;

typedef struct rs_heap {
    rs_page *pages[RS_SIZE_CLASSES + 1];   /* per size class, last: big-block pages */
} rs_heap;

/* Per-thread heap state, embedded in the thread state.  Owner-only fields are plain and
 * written only by the owning thread (or under stop-the-world). */
typedef struct rs_heap_tld {
    uintptr_t owner_tid;                   /* owner-only; set by rs_heap_bind */
    RS_ATOMIC(int) debug_state;            /* RS_HEAP_*; relaxed (diagnostic only) */
    rs_heap heaps[RS_HEAP_KINDS];          /* owner-only (walked under STW) */
    RS_ATOMIC(int64_t) blocks;             /* owner writes relaxed; others read at fold/STW */
} rs_heap_tld;

void rs_heap_runtime_init(void);
/* Frees every page still in the pool (call after all thread states are gone). */
void rs_heap_runtime_fini(void);

/* Build the heap set of the calling thread (tid = its thread id): BUILDING, schedule point
 * "tstate.bind.heap", READY.  The caller publishes heap_initialized afterwards. */
void rs_heap_bind(rs_heap_tld *tld, uintptr_t tid);
/* Give every page to the abandoned pool (owner 0).  Blocks stay allocated. */
void rs_heap_abandon(rs_heap_tld *tld);

/* Allocate from the caller's heap `kind`.  Passes the fault hook ("alloc.mem", "alloc.object",
 * "alloc.gc"); returns NULL on injected or real failure.  Memory is not zeroed. */
void *rs_heap_alloc(rs_heap_tld *tld, rs_heap_kind kind, size_t size);
/* Free a block from any thread; `tld` is the caller's (its counter takes the -1). */
void rs_heap_free(rs_heap_tld *tld, void *block);

/* Block queries (block must point into a live page). */
size_t rs_heap_block_size(const void *block);
rs_heap_kind rs_heap_block_kind(const void *block);
bool rs_heap_block_allocated(const void *block);     /* Vfree */
uintptr_t rs_heap_page_owner(const void *block);     /* 0: abandoned; relaxed */
/* The block's place in this runtime's heap: (page serial, index in the page).  Unlike its
 * address it is the same in every run that allocates the same way, so a table hashed by it
 * (weakref.c) collides the same way in every run and a pct replay stays exact. */
uint64_t rs_heap_block_serial(const void *block);

/* Walks, only under stop-the-world (or single-threaded): fn is called for every allocated
 * block of the selected kinds; returning false stops the walk (the walk then returns false). */
typedef bool (*rs_heap_visit_fn)(void *block, size_t size, rs_heap_kind kind, void *arg);
bool rs_heap_visit_tld(rs_heap_tld *tld, unsigned kinds_mask, rs_heap_visit_fn fn, void *arg);
bool rs_heap_visit_abandoned(unsigned kinds_mask, rs_heap_visit_fn fn, void *arg);

/* Accounting */
void rs_heap_fold_blocks(rs_heap_tld *tld);  /* runtime total += tld->blocks; tld->blocks = 0 */
int64_t rs_heap_folded_blocks(void);         /* the runtime total (relaxed) */
void rs_heap_reset_folded_blocks(void);      /* at runtime init */

/* Validator: checks every page of a tld (the abandoned pool when tld is NULL): size class,
 * owner, free-list length + allocated count = capacity.  Returns true if sound, else false with
 * *v filled (invariant "HEAP"). */
bool rs_heap_check(rs_heap_tld *tld, rs_violation *v);

#endif
