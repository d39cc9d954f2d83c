/* heap.c — per-thread heaps of pages with size classes (model.md §0.2; contract in heap.h).
 *
 * A page is RS_PAGE_SIZE bytes, RS_PAGE_SIZE-aligned, from jemalloc's mallocx in release
 * builds and aligned_alloc otherwise.  It starts with a header (struct rs_page: geometry,
 * owner, free lists, allocated bitmap) followed by `capacity` blocks of one size class; a
 * request above RS_MAX_SMALL gets a page of its own, sized to fit, whose single block still
 * starts inside the first RS_PAGE_SIZE bytes, so masking any block address finds its header.
 *
 * The owner allocates from its page's local free list; when that is empty it takes the
 * whole remote-free list (other threads' frees, pushed with a CAS) with one exchange, then
 * tries its other pages of the class, then reclaims an abandoned page of the same kind and
 * class from the pool (under the pool mutex), then asks the system for a new page.  The free
 * link is a block's first word, written and read with relaxed atomics: for OBJECT and GC
 * blocks that word is ob_tid, which lock-free readers may still probe in a dead block.
 *
 * Memory is type-stable: pages never change kind or size class and are never returned to
 * the system before rs_heap_runtime_fini, so a lock-free reader holding a stale pointer to a
 * freed object block still reads an object-shaped block (first 24 bytes readable: the link
 * or 0 in ob_tid, dead values in bytes 8..23).  Returning empty pages after a QSBR goal is
 * left to a later issue.  Under ASan the rest of a free object block, a whole free MEM block
 * and the unused tail of every page are poisoned; in the debug variant the poisoned part of
 * a free block is filled with a pattern that is checked again when the block is reused. */
#include "heap.h"
#include "witness.h"

#include <stdlib.h>
#include <string.h>

#if defined(RS_USE_JEMALLOC) && RS_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "rs/fatal.h"
#include "rs/hooks.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RS_HEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RS_HEAP_ASAN)
#define RS_HEAP_ASAN 1
#endif

#ifdef RS_HEAP_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) __asan_poison_memory_region((const void *)(p), (n))
#define UNPOISON(p, n) __asan_unpoison_memory_region((const void *)(p), (n))
#define IS_POISONED(p) (__asan_address_is_poisoned((const void *)(p)) != 0)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define IS_POISONED(p) ((void)(p), false)
#endif

#ifndef RS_DEBUG
#define RS_DEBUG 0
#endif
static const bool debug_fill = RS_DEBUG;   /* compiled in every build, so it cannot rot */
#define DEAD_PATTERN 0xdb

#define BIG RS_SIZE_CLASSES                 /* list index and size_class of big pages */
#define OBJECT_READABLE 24                  /* bytes of a free object block left readable */
#define MAX_BITMAP_WORDS ((RS_PAGE_SIZE / RS_BLOCK_ALIGN + 63) / 64)
#define MAX_BIG ((size_t)1 << 40)           /* larger requests fail */

/* Page header.
 *   capacity = used + length(free)
 *   used     = popcount(bits) + length(remote_free)
 * hence capacity = allocated + local free-list length + remote free-list length.  Bits at or
 * beyond capacity are 0; blocks on either list have their bit clear; owner is the tid of the
 * heap holding the page, 0 while it sits in the abandoned pool.  A page is on exactly one
 * list at a time (its heap's list for its class, or the pool's), so one pair of links
 * serves both. */
struct rs_page {
    /* immutable once the page is built */
    uint8_t kind;                   /* rs_heap_kind */
    uint8_t size_class;             /* 0 .. RS_SIZE_CLASSES-1, BIG for a page of its own */
    uint16_t bitmap_words;
    uint32_t capacity;              /* blocks in the page */
    uint32_t block_offset;          /* first block, from the page start; a multiple of 16 */
    uint32_t div_magic;             /* ceil(2^32 / block_size): exact index for offsets < 64K */
    uint32_t serial;                /* pages made before it in this runtime (rs_heap_block_serial) */
    size_t block_size;
    size_t page_bytes;              /* bytes obtained from the system */
    /* owner-only (the pool's pages: under the pool mutex; walks and checks: under STW) */
    uintptr_t free;                 /* local free list: a block address or 0 */
    uint32_t used;                  /* capacity - length(free) */
    rs_page *next, *prev;           /* the heap's list for the class, or the pool's */
    /* any thread */
    RS_ATOMIC(uintptr_t) owner;     /* owner tid, 0 in the pool; relaxed */
    RS_ATOMIC(uintptr_t) remote_free;  /* frees by non-owners: CAS push, owner takes all */
    RS_ATOMIC(uint64_t) bits[];     /* allocated bitmap; relaxed RMWs */
};

static const uint32_t class_size[RS_SIZE_CLASSES] = {
    16,  32,  48,  64,  80,  96,  112,  128,  160,  208,  256,  320,
    400, 496, 624, 784, 976, 1216, 1520, 1904, 2384, 2976, 3728, 4096,
};

/* The pool of abandoned pages, per kind and class. */
static struct {
    rs_mutex lock;
    rs_page *pages[RS_HEAP_KINDS][RS_SIZE_CLASSES + 1];   /* under lock */
} pool = {.lock = RS_MUTEX_INIT};

static RS_ATOMIC(int64_t) folded_blocks;

static const rs_fault_site fault_site[RS_HEAP_KINDS] = {RS_FAULT_ALLOC_MEM, RS_FAULT_ALLOC_OBJECT,
                                                      RS_FAULT_ALLOC_GC};

/* ---- geometry ----------------------------------------------------------------------------- */

static size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

static rs_page *page_of(const void *block)
{
    return (rs_page *)((uintptr_t)block & ~(uintptr_t)(RS_PAGE_SIZE - 1));
}

/* The size class of a small request, by its number of 16-byte granules (size + 15) / 16: the
 * first class whose size is at least granules * 16.  Data derived from class_size, checked
 * against it for every size at runtime init (rs_heap_runtime_init). */
static const uint8_t class_of_granules[RS_MAX_SMALL / RS_BLOCK_ALIGN + 1] = {
     0,  0,  1,  2,  3,  4,  5,  6,  7,  8,  8,  9,  9,  9, 10, 10,
    10, 11, 11, 11, 11, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13,
    14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 15, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 17, 17,
    17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 18, 18, 18,
    18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18, 18,
    19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19, 19,
    19, 19, 19, 19, 19, 19, 19, 19, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20,
    20, 20, 20, 20, 20, 20, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21,
    21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21,
    21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 22,
    22, 22, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23,
    23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23, 23,
    23,
};

/* size ≤ RS_MAX_SMALL */
static int class_of(size_t size) { return class_of_granules[(size + RS_BLOCK_ALIGN - 1) / RS_BLOCK_ALIGN]; }

/* the definition class_of_granules stands for: a linear search */
static int class_of_slow(size_t size)
{
    int c = 0;
    while (class_size[c] < size)
        c++;
    return c;
}

typedef struct geometry {
    uint32_t capacity, words, offset;
    size_t page_bytes;
} geometry;

static geometry small_geometry(size_t bs)
{
    geometry g = {.page_bytes = RS_PAGE_SIZE};
    g.capacity = (uint32_t)((RS_PAGE_SIZE - sizeof(rs_page)) / bs);
    for (;;) {
        g.words = (g.capacity + 63) / 64;
        g.offset = (uint32_t)round_up(sizeof(rs_page) + g.words * 8, RS_BLOCK_ALIGN);
        if (g.offset + (size_t)g.capacity * bs <= RS_PAGE_SIZE)
            return g;
        g.capacity--;
    }
}

static geometry big_geometry(size_t bs)
{
    geometry g = {.capacity = 1, .words = 1};
    g.offset = (uint32_t)round_up(sizeof(rs_page) + 8, RS_BLOCK_ALIGN);
    g.page_bytes = round_up(g.offset + bs, RS_PAGE_SIZE);
    return g;
}

/* Bytes of a free block that stay unpoisoned (and keep their dead values). */
static size_t readable_prefix(const rs_page *p)
{
    if (p->kind == RS_HEAP_MEM)
        return 0;
    return p->block_size < OBJECT_READABLE ? p->block_size : OBJECT_READABLE;
}

/* Where the debug pattern of a free block starts (after the link of a MEM block). */
static size_t dead_from(const rs_page *p)
{
    size_t r = readable_prefix(p);
    return r < sizeof(uintptr_t) ? sizeof(uintptr_t) : r;
}

static uintptr_t block_at(const rs_page *p, size_t idx)
{
    return (uintptr_t)p + p->block_offset + idx * p->block_size;
}

/* A page's immutable block geometry, read once by walks that index many blocks (under TSan
 * each header read is an instrumented access). */
typedef struct block_span {
    uintptr_t first;   /* the first block */
    uint64_t bytes;    /* capacity × block_size */
    size_t block_size;
    uint32_t div_magic;
} block_span;

static block_span span_of(const rs_page *p)
{
    return (block_span){(uintptr_t)p + p->block_offset, (uint64_t)p->capacity * p->block_size,
                        p->block_size, p->div_magic};
}

/* the heap check's per-block helpers: see check_list */
#define CHECK_NO_TSAN __attribute__((no_sanitize("thread")))

/* Index of the block at address b; -1 if b is not the start of a block of the span's page. */
CHECK_NO_TSAN
static long span_index(const block_span *s, uintptr_t b)
{
    if (b < s->first)
        return -1;
    uint64_t off = b - s->first;
    if (off >= s->bytes)
        return -1;
    uint64_t idx = (off * s->div_magic) >> 32;
    if (idx * s->block_size != off)
        return -1;
    return (long)idx;
}

static long block_index(const rs_page *p, uintptr_t b)
{
    block_span s = span_of(p);
    return span_index(&s, b);
}

uint64_t rs_heap_block_serial(const void *block)
{
    const rs_page *p = page_of(block);
    long i = block_index(p, (uintptr_t)block);
    RS_ASSERT(i >= 0);
    return (uint64_t)p->serial << 32 | (uint64_t)i;
}

/* ---- links and poisoning ---------------------------------------------------------------- */

static RS_ATOMIC(uintptr_t) *link_of(uintptr_t b) { return (RS_ATOMIC(uintptr_t) *)b; }


/* A block becomes free: debug pattern, then poison all but the readable prefix and, when
 * keep_link, the link word (a MEM block on a remote list keeps its link word unpoisoned
 * until the owner collects it: poisoning after the push could hit a reallocated block). */
static void kill_block(const rs_page *p, uintptr_t b, bool keep_link)
{
    size_t from = dead_from(p);
    if (debug_fill)
        memset((void *)(b + from), DEAD_PATTERN, p->block_size - from);
    size_t keep = readable_prefix(p);
    if (keep_link && keep < sizeof(uintptr_t))
        keep = sizeof(uintptr_t);
    POISON(b + keep, p->block_size - keep);
}

static void check_pattern(const rs_page *p, uintptr_t b)
{
    const unsigned char *c = (const unsigned char *)b;
    for (size_t i = dead_from(p); i < p->block_size; i++)
        if (c[i] != DEAD_PATTERN)
            rs_fatal("heap: a free block was written (debug pattern damaged)", (void *)b);
}

/* ---- pages ------------------------------------------------------------------------------ */

static void *sys_alloc(size_t n)
{
#if defined(RS_USE_JEMALLOC) && RS_USE_JEMALLOC
    return mallocx(n, MALLOCX_ALIGN(RS_PAGE_SIZE));
#else
    return aligned_alloc(RS_PAGE_SIZE, n);
#endif
}

static void sys_free(void *p)
{
#if defined(RS_USE_JEMALLOC) && RS_USE_JEMALLOC
    dallocx(p, 0);
#else
    free(p);
#endif
}

/* A fresh page owned by tid, every block on the local free list in address order. */
/* Pages made since rs_heap_runtime_init: a page's serial.  Relaxed: only uniqueness and, under
 * a scheduler that runs one thread at a time, the order of page_new calls matter. */
static RS_ATOMIC(uint32_t) page_serials;

static rs_page *page_new(rs_heap_kind kind, int cls, size_t bs, geometry g, uintptr_t tid)
{
    rs_page *p = sys_alloc(g.page_bytes);
    if (!p)
        return NULL;
    RS_ASSERT(g.words <= MAX_BITMAP_WORDS);
    p->kind = (uint8_t)kind;
    p->size_class = (uint8_t)cls;
    p->bitmap_words = (uint16_t)g.words;
    p->capacity = g.capacity;
    p->block_offset = g.offset;
    p->div_magic = (uint32_t)((((uint64_t)1 << 32) + bs - 1) / bs);
    p->serial = rs_atomic_add_relaxed_u32(&page_serials, 1);
    p->block_size = bs;
    p->page_bytes = g.page_bytes;
    p->used = 0;
    p->next = p->prev = NULL;
    rs_atomic_store_relaxed_uptr(&p->owner, tid);
    rs_atomic_store_relaxed_uptr(&p->remote_free, 0);
    for (uint32_t w = 0; w < g.words; w++)
        rs_atomic_store_relaxed_u64(&p->bits[w], 0);

    size_t zero = readable_prefix(p);
    for (uint32_t i = 0; i < g.capacity; i++) {
        uintptr_t b = block_at(p, i);
        if (zero > sizeof(uintptr_t))   /* dead header fields of a never-used object: 0 */
            memset((void *)(b + sizeof(uintptr_t)), 0, zero - sizeof(uintptr_t));
        rs_atomic_store_relaxed_uptr(link_of(b), i + 1 < g.capacity ? block_at(p, i + 1) : 0);
        kill_block(p, b, false);
    }
    p->free = block_at(p, 0);
    uintptr_t tail = block_at(p, g.capacity);
    POISON(tail, (uintptr_t)p + g.page_bytes - tail);
    return p;
}

static void page_release(rs_page *p)
{
    UNPOISON(p, p->page_bytes);
    sys_free(p);
}

/* Takes the block at the head of the local free list (non-empty). */
static void *page_pop(rs_page *p)
{
    uintptr_t b = p->free;
    UNPOISON(b, p->block_size);
    if (debug_fill)
        check_pattern(p, b);
    p->free = rs_atomic_load_relaxed_uptr(link_of(b));
    p->used++;
    long idx = block_index(p, b);
    if (idx < 0)
        rs_fatal("heap: free list holds a pointer that is not a block", (void *)b);
    uint64_t bit = (uint64_t)1 << (idx & 63);
    if (rs_atomic_or_relaxed_u64(&p->bits[idx >> 6], bit) & bit)
        rs_fatal("heap: free list holds an allocated block", (void *)b);
    return (void *)b;
}

/* Moves the remote-free list onto the local one; false if it was empty.  Owner only. */
static bool page_collect_remote(rs_page *p)
{
    if (rs_atomic_load_relaxed_uptr(&p->remote_free) == 0)
        return false;
    /* acquire: pairs with the release CAS of the remote pushes (their link stores) */
    uintptr_t list = rs_atomic_exchange_acquire_uptr(&p->remote_free, 0);
    uint32_t n = 0;
    for (uintptr_t b = list, next; b; b = next) {
        next = rs_atomic_load_relaxed_uptr(link_of(b));
        if (!next)
            rs_atomic_store_relaxed_uptr(link_of(b), p->free);
        if (p->kind == RS_HEAP_MEM)
            POISON(b, sizeof(uintptr_t));   /* now a local free MEM block: poisoned whole */
        if (++n > p->used)
            rs_fatal("heap: remote free list longer than the page's used count", p);
    }
    p->free = list;
    p->used -= n;
    return true;
}

static bool page_has_free(rs_page *p) { return p->free || page_collect_remote(p); }

/* ---- page lists --------------------------------------------------------------------------- */

static void list_push(rs_page **head, rs_page *p)
{
    p->prev = NULL;
    p->next = *head;
    if (*head)
        (*head)->prev = p;
    *head = p;
}

static void list_remove(rs_page **head, rs_page *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        *head = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->next = p->prev = NULL;
}

static bool big_fits(const rs_page *p, size_t page_bytes, size_t size)
{
    return p->page_bytes == page_bytes && p->block_size >= size;
}

/* Under the pool mutex: the first abandoned page of (kind, cls) with a free block, now owned
 * by tid; NULL if none.  For big pages only one of the same footprint that fits `size`. */
static rs_page *pool_reclaim(rs_heap_kind kind, int cls, size_t page_bytes, size_t size,
                             uintptr_t tid)
{
    rs_page *p;
    rs_mutex_lock(&pool.lock);
    rs_page **head = &pool.pages[kind][cls];
    for (p = *head; p; p = p->next) {
        if (cls == BIG && !big_fits(p, page_bytes, size))
            continue;
        if (p->free || rs_atomic_load_relaxed_uptr(&p->remote_free))
            break;
    }
    if (p) {
        list_remove(head, p);
        RS_ASSERT(rs_atomic_load_relaxed_uptr(&p->owner) == 0);
        rs_atomic_store_relaxed_uptr(&p->owner, tid);
    }
    rs_mutex_unlock(&pool.lock);
    return p;
}

/* ---- allocation --------------------------------------------------------------------------- */

static void count_blocks(rs_heap_tld *tld, int64_t d)
{
    /* owner-only counter: a relaxed load and store, no RMW */
    rs_atomic_store_relaxed_i64(&tld->blocks, rs_atomic_load_relaxed_i64(&tld->blocks) + d);
}

static void *alloc_small(rs_heap_tld *tld, rs_heap_kind kind, int cls)
{
    rs_page **head = &tld->heaps[kind].pages[cls];
    rs_page *p = *head;
    if (p && page_has_free(p))
        return page_pop(p);
    for (p = p ? p->next : NULL; p; p = p->next) {
        if (page_has_free(p)) {
            list_remove(head, p);
            list_push(head, p);
            return page_pop(p);
        }
    }
    p = pool_reclaim(kind, cls, RS_PAGE_SIZE, 0, tld->owner_tid);
    if (p)
        page_collect_remote(p);
    else
        p = page_new(kind, cls, class_size[cls], small_geometry(class_size[cls]),
                     tld->owner_tid);
    if (!p)
        return NULL;
    list_push(head, p);
    return page_pop(p);
}

static void *alloc_big(rs_heap_tld *tld, rs_heap_kind kind, size_t size)
{
    if (size > MAX_BIG)
        return NULL;
    size_t bs = round_up(size, RS_BLOCK_ALIGN);
    geometry g = big_geometry(bs);
    rs_page **head = &tld->heaps[kind].pages[BIG];
    rs_page *p;
    for (p = *head; p; p = p->next)
        if (big_fits(p, g.page_bytes, size) && page_has_free(p))
            break;
    if (p) {
        list_remove(head, p);
    } else {
        p = pool_reclaim(kind, BIG, g.page_bytes, size, tld->owner_tid);
        if (p)
            page_collect_remote(p);
        else
            p = page_new(kind, BIG, bs, g, tld->owner_tid);
        if (!p)
            return NULL;
    }
    list_push(head, p);
    return page_pop(p);
}

void *rs_heap_alloc(rs_heap_tld *tld, rs_heap_kind kind, size_t size)
{
    RS_ASSERT((unsigned)kind < RS_HEAP_KINDS);
    RS_ASSERT(tld->owner_tid != 0);
    if (rs_fault(fault_site[kind]))
        return NULL;
    void *b = size > RS_MAX_SMALL ? alloc_big(tld, kind, size)
                                  : alloc_small(tld, kind, class_of(size));
    if (b)
        count_blocks(tld, 1);
    return b;
}

void rs_heap_free(rs_heap_tld *tld, void *block)
{
    if (!block)
        return;
    rs_page *p = page_of(block);
    uintptr_t b = (uintptr_t)block;
    long idx = block_index(p, b);
    if (idx < 0)
        rs_fatal("heap: free of a pointer that is not a block", block);
    uint64_t bit = (uint64_t)1 << (idx & 63);
    if (!(rs_atomic_and_relaxed_u64(&p->bits[idx >> 6], ~bit) & bit))
        rs_fatal("double free", block);
    count_blocks(tld, -1);

    if (rs_atomic_load_relaxed_uptr(&p->owner) == tld->owner_tid) {
        rs_atomic_store_relaxed_uptr(link_of(b), p->free);
        kill_block(p, b, false);
        p->free = b;
        p->used--;
        return;
    }
    kill_block(p, b, true);
    uintptr_t head = rs_atomic_load_relaxed_uptr(&p->remote_free);
    do {
        rs_atomic_store_relaxed_uptr(link_of(b), head);
        /* release: pairs with the acquire exchange in page_collect_remote */
    } while (!rs_atomic_cas_release_uptr(&p->remote_free, &head, b));
}

/* ---- queries ------------------------------------------------------------------------------ */

size_t rs_heap_block_size(const void *block) { return page_of(block)->block_size; }

rs_heap_kind rs_heap_block_kind(const void *block)
{
    return (rs_heap_kind)page_of(block)->kind;
}

bool rs_heap_block_allocated(const void *block)
{
    rs_page *p = page_of(block);
    long idx = block_index(p, (uintptr_t)block);
    if (idx < 0)
        return false;
    return (rs_atomic_load_relaxed_u64(&p->bits[idx >> 6]) >> (idx & 63)) & 1;
}

uintptr_t rs_heap_page_owner(const void *block)
{
    return rs_atomic_load_relaxed_uptr(&page_of(block)->owner);
}

/* ---- thread binding, abandonment, runtime ------------------------------------------------- */

void rs_heap_runtime_init(void)
{
    rs_atomic_store_relaxed_u32(&page_serials, 0);
    rs_witness_name_range(RS_LC_POOL, &pool.lock, sizeof pool.lock);
    /* the size-class table is data: check it keeps its promise once per runtime */
    for (int c = 1; c < RS_SIZE_CLASSES; c++)
        RS_ASSERT(class_size[c] > class_size[c - 1] && class_size[c] % RS_BLOCK_ALIGN == 0);
    RS_ASSERT(class_size[RS_SIZE_CLASSES - 1] == RS_MAX_SMALL);
    for (size_t top = 0; top <= RS_MAX_SMALL; top += RS_BLOCK_ALIGN) /* each granule's ends */
        RS_ASSERT(class_of(top) == class_of_slow(top) &&
                  (top == 0 || class_of(top - RS_BLOCK_ALIGN + 1) == class_of_slow(top - RS_BLOCK_ALIGN + 1)));
}

void rs_heap_runtime_fini(void)
{
    rs_mutex_lock(&pool.lock);
    for (int k = 0; k < RS_HEAP_KINDS; k++) {
        for (int c = 0; c <= BIG; c++) {
            rs_page *p;
            while ((p = pool.pages[k][c])) {
                list_remove(&pool.pages[k][c], p);
                page_release(p);
            }
        }
    }
    rs_mutex_unlock(&pool.lock);
}

void rs_heap_bind(rs_heap_tld *tld, uintptr_t tid)
{
    RS_ASSERT(tid != 0);
    rs_atomic_store_relaxed_int(&tld->debug_state, RS_HEAP_BUILDING);
    tld->owner_tid = tid;
    memset(tld->heaps, 0, sizeof tld->heaps);
    RS_SCHED("tstate.bind.heap");
    rs_atomic_store_relaxed_int(&tld->debug_state, RS_HEAP_READY);
}

void rs_heap_abandon(rs_heap_tld *tld)
{
    rs_mutex_lock(&pool.lock);
    for (int k = 0; k < RS_HEAP_KINDS; k++) {
        for (int c = 0; c <= BIG; c++) {
            rs_page **head = &tld->heaps[k].pages[c];
            rs_page *p;
            while ((p = *head)) {
                list_remove(head, p);
                rs_atomic_store_relaxed_uptr(&p->owner, 0);
                list_push(&pool.pages[k][c], p);
            }
        }
    }
    rs_mutex_unlock(&pool.lock);
    rs_atomic_store_relaxed_int(&tld->debug_state, RS_HEAP_ABANDONED);
}

/* ---- walks -------------------------------------------------------------------------------- */

static bool visit_page(rs_page *p, rs_heap_visit_fn fn, void *arg)
{
    /* the immutable header read once (locals: under TSan, no instrumented access per block) */
    const block_span s = span_of(p);
    const uint32_t words = p->bitmap_words, capacity = p->capacity;
    const rs_heap_kind kind = (rs_heap_kind)p->kind;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t bits = rs_atomic_load_relaxed_u64(&p->bits[w]);
        while (bits) {
            size_t idx = (size_t)w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            if (idx >= capacity)
                break;   /* corrupt bitmap: rs_heap_check reports it */
            uintptr_t b = s.first + idx * s.block_size;
            __builtin_prefetch((const void *)(b + 512)); /* walks stream */
            if (!fn((void *)b, s.block_size, kind, arg))
                return false;
        }
    }
    return true;
}

static bool visit_lists(rs_page *lists[RS_HEAP_KINDS][RS_SIZE_CLASSES + 1], unsigned mask,
                        rs_heap_visit_fn fn, void *arg)
{
    for (int k = 0; k < RS_HEAP_KINDS; k++) {
        if (!(mask & RS_HEAP_MASK(k)))
            continue;
        for (int c = 0; c <= BIG; c++)
            for (rs_page *p = lists[k][c], *next; p; p = next) {
                next = p->next;
                if (!visit_page(p, fn, arg))
                    return false;
            }
    }
    return true;
}

bool rs_heap_visit_tld(rs_heap_tld *tld, unsigned kinds_mask, rs_heap_visit_fn fn, void *arg)
{
    rs_page *lists[RS_HEAP_KINDS][RS_SIZE_CLASSES + 1];
    for (int k = 0; k < RS_HEAP_KINDS; k++)
        memcpy(lists[k], tld->heaps[k].pages, sizeof lists[k]);
    return visit_lists(lists, kinds_mask, fn, arg);
}

/* No pool mutex: walks run under STW, when no thread can be reclaiming, and a visitor may
 * allocate (from a heap not being walked), which may itself take the pool mutex. */
bool rs_heap_visit_abandoned(unsigned kinds_mask, rs_heap_visit_fn fn, void *arg)
{
    return visit_lists(pool.pages, kinds_mask, fn, arg);
}

/* ---- accounting --------------------------------------------------------------------------- */

void rs_heap_fold_blocks(rs_heap_tld *tld)
{
    int64_t n = rs_atomic_load_relaxed_i64(&tld->blocks);
    rs_atomic_add_relaxed_i64(&folded_blocks, n);
    rs_atomic_store_relaxed_i64(&tld->blocks, 0);
}

int64_t rs_heap_folded_blocks(void) { return rs_atomic_load_relaxed_i64(&folded_blocks); }

void rs_heap_reset_folded_blocks(void) { rs_atomic_store_relaxed_i64(&folded_blocks, 0); }

/* ---- validator ---------------------------------------------------------------------------- */

/* The validator runs with the world stopped: a thread it could be preempted for is detached
 * and cannot touch a heap, so its per-block reads are no schedule points.  The parenthesised
 * name calls the atomic itself, not the automatic-point macro (rs/atomic.h); a free list is
 * walked block by block, and a point per block made validation most of a fuzzed run's time. */
/* Reads a free block's link word, unpoisoning it just for the read if it was poisoned. */
CHECK_NO_TSAN
static uintptr_t link_peek(uintptr_t b)
{
    bool poisoned = IS_POISONED(b);
    if (poisoned)
        UNPOISON(b, sizeof(uintptr_t));
#if defined(__has_feature) && __has_feature(thread_sanitizer)
    /* Under TSan a plain read, unseen by it (this function is uninstrumented): with the world
     * stopped no thread writes a free block's link (its owner and any remote freer are
     * stopped, and a detached thread touches no heap), and an atomic load here, a TSan call
     * per free block, was most of a freelists-off trial.  Every other build loads it
     * relaxed. */
    uintptr_t next = *(const volatile uintptr_t *)b;
#else
    uintptr_t next = (rs_atomic_load_relaxed_uptr)(link_of(b));
#endif
    if (poisoned)
        POISON(b, sizeof(uintptr_t));
    return next;
}

/* Walks a free list (at most capacity + 1 steps), checking each entry is a free block of p
 * (geometry s, allocated bitmap alloc as read once by the caller) not seen before; returns
 * its length or -1 with *v filled. */
/* Uninstrumented by TSan (its atomics, the link loads, stay instrumented), with the two
 * helpers it calls per block (clang inlines only between functions of the same
 * instrumentation): the loop's plain accesses are the caller's copies on its stack, never
 * shared, and each would cost a TSan call per free block (the heap check was about 40% of a
 * gc-cycles trial under TSan). */
CHECK_NO_TSAN
static long check_list(rs_page *p, const block_span *s, const uint64_t *alloc, uintptr_t list,
                       const char *name, uint64_t *seen, rs_violation *v)
{
    long n = 0;
    for (uintptr_t b = list; b; b = link_peek(b)) {
        long idx = span_index(s, b);
        if (idx < 0) {
            rs_violate(v, "HEAP", p, "page %p: %s free list holds %p, not a block of it",
                       (void *)p, name, (void *)b);
            return -1;
        }
        uint64_t bit = (uint64_t)1 << (idx & 63);
        if (seen[idx >> 6] & bit) {
            rs_violate(v, "HEAP", p, "page %p: block %p twice on the free lists (or a cycle)",
                       (void *)p, (void *)b);
            return -1;
        }
        seen[idx >> 6] |= bit;
        if (alloc[idx >> 6] & bit) {
            rs_violate(v, "HEAP", p, "page %p: %s free list holds allocated block %p",
                       (void *)p, name, (void *)b);
            return -1;
        }
        n++;
    }
    return n;
}

static bool check_page(rs_page *p, int kind, int cls, uintptr_t owner, const rs_page *prev,
                       rs_violation *v)
{
    if ((uintptr_t)p & (RS_PAGE_SIZE - 1))
        return rs_violate(v, "HEAP", p, "page %p is not page-aligned", (void *)p);
    if (p->prev != prev)
        return rs_violate(v, "HEAP", p, "page %p: broken list link", (void *)p);
    if (p->kind != kind || p->size_class != cls)
        return rs_violate(v, "HEAP", p, "page %p: kind %d class %d on the list of kind %d "
                          "class %d", (void *)p, p->kind, p->size_class, kind, cls);
    geometry g = cls == BIG ? big_geometry(p->block_size) : small_geometry(class_size[cls]);
    if ((cls != BIG && p->block_size != class_size[cls]) ||
        (cls == BIG && (p->block_size <= RS_MAX_SMALL || p->block_size % RS_BLOCK_ALIGN)) ||
        p->capacity != g.capacity || p->bitmap_words != g.words ||
        p->block_offset != g.offset || p->page_bytes != g.page_bytes)
        return rs_violate(v, "HEAP", p, "page %p: geometry (block %zu, capacity %u) is not "
                          "its class's", (void *)p, p->block_size, p->capacity);
    uintptr_t o = rs_atomic_load_relaxed_uptr(&p->owner);
    if (o != owner)
        return rs_violate(v, "HEAP", p, "page %p: owner %#lx, expected %#lx", (void *)p,
                          (unsigned long)o, (unsigned long)owner);

    long allocated = 0;
    uint64_t alloc[MAX_BITMAP_WORDS];
    for (uint32_t w = 0; w < p->bitmap_words; w++) {
        uint64_t bits = alloc[w] = rs_atomic_load_relaxed_u64(&p->bits[w]);
        uint32_t valid = p->capacity - w * 64;
        if (valid < 64 && (bits >> valid))
            return rs_violate(v, "HEAP", p, "page %p: allocated bit beyond capacity %u",
                              (void *)p, p->capacity);
        allocated += __builtin_popcountll(bits);
    }
    uint64_t seen[MAX_BITMAP_WORDS] = {0};
    block_span s = span_of(p);
    long local = check_list(p, &s, alloc, p->free, "local", seen, v);
    if (local < 0)
        return false;
    long remote = check_list(p, &s, alloc, rs_atomic_load_relaxed_uptr(&p->remote_free),
                             "remote", seen, v);
    if (remote < 0)
        return false;
    if ((long)p->capacity != (long)p->used + local)
        return rs_violate(v, "HEAP", p, "page %p: capacity %u != used %u + local free %ld",
                          (void *)p, p->capacity, p->used, local);
    if ((long)p->used != allocated + remote)
        return rs_violate(v, "HEAP", p, "page %p: used %u != allocated %ld + remote free %ld",
                          (void *)p, p->used, allocated, remote);
    return true;
}

static bool check_lists(rs_page *lists[RS_HEAP_KINDS][RS_SIZE_CLASSES + 1], uintptr_t owner,
                        rs_violation *v)
{
    for (int k = 0; k < RS_HEAP_KINDS; k++)
        for (int c = 0; c <= BIG; c++) {
            const rs_page *prev = NULL;
            for (rs_page *p = lists[k][c]; p; prev = p, p = p->next)
                if (!check_page(p, k, c, owner, prev, v))
                    return false;
        }
    return true;
}

bool rs_heap_check(rs_heap_tld *tld, rs_violation *v)
{
    if (tld) {
        rs_page *lists[RS_HEAP_KINDS][RS_SIZE_CLASSES + 1];
        for (int k = 0; k < RS_HEAP_KINDS; k++)
            memcpy(lists[k], tld->heaps[k].pages, sizeof lists[k]);
        return check_lists(lists, tld->owner_tid, v);
    }
    rs_mutex_lock(&pool.lock);
    bool ok = check_lists(pool.pages, 0, v);
    rs_mutex_unlock(&pool.lock);
    return ok;
}
