/* test_heap.c — unit tests of the per-thread page heaps (runtime/heap.c).
 *
 * Size classes and block queries for every kind and many sizes (big blocks included),
 * block counters and their fold, fatal double and interior frees (in a forked child, not
 * under TSan), the fault hook, walks that visit exactly the allocated blocks of the selected
 * kinds (abandoned pages included), remote frees from four threads and the owner's reuse of
 * exactly those blocks, abandonment and reclaim by another heap, the ASan poisoning of free
 * blocks (queried, and a real report in a forked child), the bind states, and the validator:
 * clean after all that, firing on hand-corrupted free lists and clean again once repaired.
 *
 * Hygiene that makes the checks exact: every test frees what it allocates and abandons its
 * heaps, so the pool holds only empty pages between tests; pages are per kind and class, and
 * some tests use a class no other test touches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rs/atomic.h"
#include "heap.h"
#include "rs/hooks.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TEST_ASAN)
#define TEST_ASAN 1
#endif
#ifdef TEST_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifndef RS_DEBUG
#define RS_DEBUG 0
#endif

/* Distinct non-zero thread ids, as the runtime's (addresses of distinct objects). */
static char tid_anchor[32];
#define TID(i) ((uintptr_t)&tid_anchor[i])

static uintptr_t page_addr(const void *b) { return (uintptr_t)b & ~(uintptr_t)(RS_PAGE_SIZE - 1); }

static void bind(rs_heap_tld *t, int i)
{
    memset(t, 0, sizeof *t);
    rs_heap_bind(t, TID(i));
}

static int64_t blocks_of(rs_heap_tld *t) { return rs_atomic_load_relaxed_i64(&t->blocks); }

static void assert_heap_sound(rs_heap_tld *t)
{
    rs_violation v = {.obj = NULL};
    bool ok = rs_heap_check(t, &v);
    if (!ok)
        print_error("heap check: %s %s\n", v.invariant, v.msg);
    assert_true(ok);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_ptrs(void **v, size_t n) { qsort(v, n, sizeof *v, cmp_ptr); }

/* Frees everything, abandons, and checks the tld and the pool. */
static void finish(rs_heap_tld *t, void **blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rs_heap_free(t, blocks[i]);
    assert_heap_sound(t);
    rs_heap_abandon(t);
    assert_heap_sound(NULL);
}

/* ---- collecting walks ----------------------------------------------------------------- */

typedef struct seen {
    void **v;
    size_t n, cap;
    long stop_after;    /* < 0: never stop */
} seen;

static bool collect(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    seen *s = arg;
    assert_int_equal(rs_heap_block_kind(block), kind);
    assert_int_equal(rs_heap_block_size(block), size);
    assert_true(rs_heap_block_allocated(block));
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        assert_non_null(s->v);
    }
    s->v[s->n++] = block;
    return s->stop_after < 0 || (long)s->n < s->stop_after;
}

static void assert_same_set(void **a, size_t na, void **b, size_t nb)
{
    assert_int_equal(na, nb);
    sort_ptrs(a, na);
    sort_ptrs(b, nb);
    for (size_t i = 0; i < na; i++)
        assert_ptr_equal(a[i], b[i]);
}

/* ---- setup ---------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    rs_heap_runtime_init();
    rs_heap_reset_folded_blocks();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rs_violation v = {.obj = NULL};
    if (!rs_heap_check(NULL, &v))
        return -1;
    rs_heap_runtime_fini();
    return 0;
}

/* ---- size classes and queries --------------------------------------------------------- */

static void test_size_classes(void **state)
{
    (void)state;
    size_t cls[64];
    int n = 0;
    for (size_t s = 16; s <= 128; s += 16)
        cls[n++] = s;
    while (cls[n - 1] < RS_MAX_SMALL) {
        size_t next = (cls[n - 1] * 5 / 4 + 8) / 16 * 16;   /* ×1.25, nearest 16 */
        cls[n++] = next < RS_MAX_SMALL ? next : RS_MAX_SMALL;
    }
    assert_int_equal(n, RS_SIZE_CLASSES);

    rs_heap_tld t;
    bind(&t, 0);
    void *b[RS_MAX_SMALL + 1];
    int c = 0;
    for (size_t s = 0; s <= RS_MAX_SMALL; s++) {
        while (c < n && cls[c] < (s ? s : 1))
            c++;
        b[s] = rs_heap_alloc(&t, RS_HEAP_MEM, s);
        assert_non_null(b[s]);
        assert_int_equal(rs_heap_block_size(b[s]), cls[c]);
        assert_int_equal((uintptr_t)b[s] % RS_BLOCK_ALIGN, 0);
    }
    assert_int_equal(blocks_of(&t), RS_MAX_SMALL + 1);
    finish(&t, b, RS_MAX_SMALL + 1);
    assert_int_equal(blocks_of(&t), 0);
}

static void test_alloc_free_kinds(void **state)
{
    (void)state;
    static const size_t sizes[] = {1,    8,    16,    17,    24,     32,     33,      100,
                                   128,  129,  1000,  4095,  4096,   4097,   5000,    60000,
                                   65536, 70000, 200000, 1 << 20};
    enum { NS = sizeof sizes / sizeof sizes[0] };
    rs_heap_tld t;
    bind(&t, 1);
    void *b[RS_HEAP_KINDS][NS];
    for (int k = 0; k < RS_HEAP_KINDS; k++) {
        for (int i = 0; i < NS; i++) {
            void *p = rs_heap_alloc(&t, (rs_heap_kind)k, sizes[i]);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % RS_BLOCK_ALIGN, 0);
            assert_true(rs_heap_block_size(p) >= sizes[i]);
            assert_true(rs_heap_block_size(p) < sizes[i] + sizes[i] / 4 + 16);
            assert_int_equal(rs_heap_block_kind(p), k);
            assert_true(rs_heap_block_allocated(p));
            assert_int_equal(rs_heap_page_owner(p), TID(1));
            assert_true((uintptr_t)p - page_addr(p) < RS_PAGE_SIZE);
            memset(p, 0xa5, rs_heap_block_size(p));   /* fully usable (ASan would say) */
            b[k][i] = p;
        }
    }
    assert_int_equal(blocks_of(&t), RS_HEAP_KINDS * NS);
    assert_heap_sound(&t);
    for (int k = 0; k < RS_HEAP_KINDS; k++) {
        for (int i = 0; i < NS; i++) {
            rs_heap_free(&t, b[k][i]);
            assert_false(rs_heap_block_allocated(b[k][i]));
        }
    }
    assert_int_equal(blocks_of(&t), 0);
    assert_heap_sound(&t);
    /* freed blocks are reused, big ones included: free lists are LIFO, so allocating in
     * the reverse order of the frees gives every block back in place */
    for (int i = NS - 1; i >= 0; i--)
        assert_ptr_equal(rs_heap_alloc(&t, RS_HEAP_GC, sizes[i]), b[RS_HEAP_GC][i]);
    for (int i = 0; i < NS; i++)
        rs_heap_free(&t, b[RS_HEAP_GC][i]);
    rs_heap_free(&t, NULL);   /* like free(NULL) */
    finish(&t, NULL, 0);
}

static void test_counters_fold(void **state)
{
    (void)state;
    rs_heap_tld a, b;
    bind(&a, 2);
    bind(&b, 3);
    int64_t base = rs_heap_folded_blocks();
    void *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = rs_heap_alloc(&a, RS_HEAP_OBJECT, 48);
    for (int i = 0; i < 4; i++)
        rs_heap_free(&b, p[i]);             /* the caller's counter takes the -1 */
    assert_int_equal(blocks_of(&a), 10);
    assert_int_equal(blocks_of(&b), -4);
    rs_heap_fold_blocks(&b);
    assert_int_equal(blocks_of(&b), 0);
    assert_int_equal(rs_heap_folded_blocks(), base - 4);
    assert_int_equal(rs_heap_folded_blocks() + blocks_of(&a), base + 6);   /* 6 live */
    finish(&a, p + 4, 6);
    rs_heap_fold_blocks(&a);
    assert_int_equal(rs_heap_folded_blocks(), base);
    rs_heap_abandon(&b);
    rs_heap_reset_folded_blocks();
    assert_int_equal(rs_heap_folded_blocks(), 0);
}

/* ---- fatal frees ---------------------------------------------------------------------- */

#ifndef TEST_TSAN
/* Runs fn(arg) in a forked child with stderr captured; returns the child's status and
 * copies what it wrote into out. */
static int in_child(void (*fn)(void *), void *arg, char *out, size_t outn)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        fn(arg);
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd[0], out + got, outn - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = 0;
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

typedef struct free_twice { rs_heap_tld *t; void *p; } free_twice;

static void do_free(void *arg)
{
    free_twice *f = arg;
    rs_heap_free(f->t, f->p);
}
#endif

static void test_fatal_frees(void **state)
{
    (void)state;
    rs_heap_tld t;
    bind(&t, 4);
    void *p = rs_heap_alloc(&t, RS_HEAP_OBJECT, 64);
    void *q = rs_heap_alloc(&t, RS_HEAP_MEM, 64);
    rs_heap_free(&t, p);
    assert_false(rs_heap_block_allocated(p));  /* the bit a second free would find clear */
    assert_false(rs_heap_block_allocated((char *)q + 16));   /* not a block start */
#ifndef TEST_TSAN   /* fork without exec is unsupported under TSan */
    char out[4096];
    free_twice again = {&t, p};
    int st = in_child(do_free, &again, out, sizeof out);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(out, "double free"));
    free_twice inner = {&t, (char *)q + 16};
    st = in_child(do_free, &inner, out, sizeof out);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(out, "not a block"));
#endif
    finish(&t, &q, 1);
}

/* ---- fault hook ----------------------------------------------------------------------- */

static int fault_calls[RS_HEAP_KINDS];

static bool fail_objects(void *ctx, const char *site)
{
    (void)ctx;
    if (strcmp(site, "alloc.mem") == 0)
        fault_calls[RS_HEAP_MEM]++;
    else if (strcmp(site, "alloc.object") == 0)
        fault_calls[RS_HEAP_OBJECT]++;
    else if (strcmp(site, "alloc.gc") == 0)
        fault_calls[RS_HEAP_GC]++;
    return strcmp(site, "alloc.object") == 0;
}

static void test_fault_hook(void **state)
{
    (void)state;
    rs_heap_tld t;
    bind(&t, 5);
    rs_hooks h = {.fault = fail_objects};
    rs_hooks_install(&h);
    assert_null(rs_heap_alloc(&t, RS_HEAP_OBJECT, 64));
    assert_null(rs_heap_alloc(&t, RS_HEAP_OBJECT, 100000));
    void *b[2];
    b[0] = rs_heap_alloc(&t, RS_HEAP_MEM, 64);
    b[1] = rs_heap_alloc(&t, RS_HEAP_GC, 100000);
    rs_hooks_install(NULL);
    assert_non_null(b[0]);
    assert_non_null(b[1]);
    assert_int_equal(fault_calls[RS_HEAP_OBJECT], 2);
    assert_int_equal(fault_calls[RS_HEAP_MEM], 1);
    assert_int_equal(fault_calls[RS_HEAP_GC], 1);
    assert_int_equal(blocks_of(&t), 2);     /* failures are not counted */
    void *o = rs_heap_alloc(&t, RS_HEAP_OBJECT, 64);   /* hook gone: succeeds */
    assert_non_null(o);
    rs_heap_free(&t, o);
    finish(&t, b, 2);
}

/* ---- walks ---------------------------------------------------------------------------- */

#define WALK_N 600

static void test_walks(void **state)
{
    (void)state;
    rs_heap_tld t;
    bind(&t, 6);
    void *live[RS_HEAP_KINDS][WALK_N];
    size_t nlive[RS_HEAP_KINDS] = {0};
    for (int i = 0; i < WALK_N; i++) {
        for (int k = 0; k < RS_HEAP_KINDS; k++) {
            size_t size = i % 50 == 0 ? 5000 + (size_t)i : 16 + (size_t)(i * 37 % 700);
            void *p = rs_heap_alloc(&t, (rs_heap_kind)k, size);
            assert_non_null(p);
            if (i % 3 == 1)
                rs_heap_free(&t, p);            /* holes */
            else
                live[k][nlive[k]++] = p;
        }
    }
    unsigned masks[] = {RS_HEAP_MASK(RS_HEAP_MEM), RS_HEAP_MASK(RS_HEAP_OBJECT),
                        RS_HEAP_MASK(RS_HEAP_GC), RS_HEAP_ALL_OBJECTS, 7};
    for (int phase = 0; phase < 2; phase++) {   /* 0: in the tld, 1: abandoned */
        for (size_t m = 0; m < sizeof masks / sizeof masks[0]; m++) {
            seen s = {.stop_after = -1};
            bool done = phase == 0 ? rs_heap_visit_tld(&t, masks[m], collect, &s)
                                   : rs_heap_visit_abandoned(masks[m], collect, &s);
            assert_true(done);
            void *want[RS_HEAP_KINDS * WALK_N];
            size_t nwant = 0;
            for (int k = 0; k < RS_HEAP_KINDS; k++)
                if (masks[m] & RS_HEAP_MASK(k))
                    for (size_t i = 0; i < nlive[k]; i++)
                        want[nwant++] = live[k][i];
            assert_same_set(s.v, s.n, want, nwant);
            free(s.v);
        }
        seen s = {.stop_after = 10};
        assert_false(phase == 0 ? rs_heap_visit_tld(&t, 7, collect, &s)
                                : rs_heap_visit_abandoned(7, collect, &s));
        assert_int_equal(s.n, 10);
        free(s.v);
        if (phase == 0) {
            assert_heap_sound(&t);
            rs_heap_abandon(&t);
            assert_int_equal(rs_atomic_load_relaxed_int(&t.debug_state), RS_HEAP_ABANDONED);
            seen none = {.stop_after = -1};
            assert_true(rs_heap_visit_tld(&t, 7, collect, &none));
            assert_int_equal(none.n, 0);
            assert_int_equal(rs_heap_page_owner(live[0][0]), 0);
            assert_heap_sound(NULL);
        }
    }
    /* free the abandoned blocks from another heap: remote frees into pool pages */
    rs_heap_tld u;
    bind(&u, 7);
    for (int k = 0; k < RS_HEAP_KINDS; k++)
        for (size_t i = 0; i < nlive[k]; i++)
            rs_heap_free(&u, live[k][i]);
    assert_heap_sound(NULL);
    seen none = {.stop_after = -1};
    assert_true(rs_heap_visit_abandoned(7, collect, &none));
    assert_int_equal(none.n, 0);
    assert_int_equal(blocks_of(&t) + blocks_of(&u), 0);
    finish(&u, NULL, 0);
}

/* ---- remote frees --------------------------------------------------------------------- */

#define REMOTE_THREADS 4
#define REMOTE_CLASS_SIZE 1216
#define REMOTE_PAGES 6

typedef struct remote_ctx {
    void **blocks;
    size_t from, to;
    size_t write;       /* bytes the freer writes into each block before freeing it */
    int index;
    int64_t blocks_after;
} remote_ctx;

static void *remote_freer(void *arg)
{
    remote_ctx *c = arg;
    rs_heap_tld t;
    bind(&t, 8 + c->index);
    for (size_t i = c->from; i < c->to; i++) {
        memset(c->blocks[i], 3, c->write);  /* a user's last writes before its free */
        rs_heap_free(&t, c->blocks[i]);
    }
    c->blocks_after = blocks_of(&t);
    rs_heap_abandon(&t);
    return NULL;
}

/* Blocks per page of a class: fill one empty page from a scratch heap. */
static size_t page_capacity(rs_heap_kind kind, size_t size)
{
    rs_heap_tld t;
    bind(&t, 12);
    void *b[RS_PAGE_SIZE / 16];
    size_t n = 0;
    for (;;) {
        b[n] = rs_heap_alloc(&t, kind, size);
        if (n && page_addr(b[n]) != page_addr(b[0]))
            break;
        n++;
    }
    finish(&t, b, n + 1);
    return n;
}

static void test_remote_frees(void **state)
{
    (void)state;
    size_t cap = page_capacity(RS_HEAP_OBJECT, REMOTE_CLASS_SIZE);
    assert_true(cap * REMOTE_CLASS_SIZE <= RS_PAGE_SIZE);
    assert_true((cap + 1) * REMOTE_CLASS_SIZE > RS_PAGE_SIZE - 1024);
    size_t n = cap * REMOTE_PAGES;              /* exactly REMOTE_PAGES full pages */
    void **old = malloc(n * sizeof *old), **again = malloc(n * sizeof *again);
    rs_heap_tld owner;
    bind(&owner, 13);
    for (size_t i = 0; i < n; i++) {
        old[i] = rs_heap_alloc(&owner, RS_HEAP_OBJECT, REMOTE_CLASS_SIZE);
        memset(old[i], (int)i, REMOTE_CLASS_SIZE);
    }
    pthread_t th[REMOTE_THREADS];
    remote_ctx ctx[REMOTE_THREADS];
    for (int i = 0; i < REMOTE_THREADS; i++) {
        ctx[i] = (remote_ctx){.blocks = old, .from = n * i / REMOTE_THREADS,
                              .to = n * (i + 1) / REMOTE_THREADS,
                              .write = REMOTE_CLASS_SIZE, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, remote_freer, &ctx[i]), 0);
    }
    int64_t freed = 0;
    for (int i = 0; i < REMOTE_THREADS; i++) {
        pthread_join(th[i], NULL);
        freed += ctx[i].blocks_after;
    }
    assert_int_equal(freed, -(int64_t)n);
    assert_int_equal(blocks_of(&owner), (int64_t)n);
    for (size_t i = 0; i < n; i++)
        assert_false(rs_heap_block_allocated(old[i]));
    assert_heap_sound(&owner);      /* the blocks sit on remote lists */
    /* the owner collects the remote lists and gets exactly those blocks back */
    for (size_t i = 0; i < n; i++)
        again[i] = rs_heap_alloc(&owner, RS_HEAP_OBJECT, REMOTE_CLASS_SIZE);
    assert_same_set(again, n, old, n);
    assert_heap_sound(&owner);
    finish(&owner, again, n);
    free(old);
    free(again);
}

/* Remote frees racing with the owner's allocations on the same class: once half the
 * blocks are freed (a relaxed progress count: no happens-before from it), the owner
 * allocates as many blocks again, draining its local list and taking remote lists while the
 * freers still push onto them, and writes each block.  TSan checks that every block's last
 * writes by its freer happen before the owner's (a relaxed push or take is reported); the
 * validator and counters check the bookkeeping. */
#define CHURN_N 2000

static RS_ATOMIC(int) churn_progress;

static void *churn_freer(void *arg)
{
    remote_ctx *c = arg;
    rs_heap_tld t;
    bind(&t, 8 + c->index);
    for (size_t i = c->from; i < c->to; i++) {
        memset(c->blocks[i], 3, c->write);
        rs_heap_free(&t, c->blocks[i]);
        rs_atomic_add_relaxed_int(&churn_progress, 1);
    }
    c->blocks_after = blocks_of(&t);
    rs_heap_abandon(&t);
    return NULL;
}

static bool half_freed(void)
{
    return rs_atomic_load_relaxed_int(&churn_progress) >= CHURN_N / 2;
}

static void test_remote_concurrent(void **state)
{
    (void)state;
    rs_heap_tld owner;
    bind(&owner, 21);
    void **old = malloc(CHURN_N * sizeof *old), **fresh = malloc(CHURN_N * sizeof *fresh);
    for (size_t i = 0; i < CHURN_N; i++) {
        old[i] = rs_heap_alloc(&owner, RS_HEAP_MEM, 48);
        memset(old[i], 1, 48);
    }
    rs_atomic_store_relaxed_int(&churn_progress, 0);
    pthread_t th[REMOTE_THREADS];
    remote_ctx ctx[REMOTE_THREADS];
    for (int i = 0; i < REMOTE_THREADS; i++) {
        ctx[i] = (remote_ctx){.blocks = old, .from = CHURN_N * (size_t)i / REMOTE_THREADS,
                              .to = CHURN_N * (size_t)(i + 1) / REMOTE_THREADS, .write = 48,
                              .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, churn_freer, &ctx[i]), 0);
    }
    for (long spins = 0; !half_freed(); spins++) {
        assert_true(spins < 100000000);
        sched_yield();
    }
    for (size_t i = 0; i < CHURN_N; i++) {
        fresh[i] = rs_heap_alloc(&owner, RS_HEAP_MEM, 48);
        assert_true(rs_heap_block_allocated(fresh[i]));
        memset(fresh[i], 2, 48);
    }
    int64_t freed = 0;
    for (int i = 0; i < REMOTE_THREADS; i++) {
        pthread_join(th[i], NULL);
        freed += ctx[i].blocks_after;
    }
    assert_int_equal(freed, -CHURN_N);
    assert_int_equal(blocks_of(&owner), 2 * CHURN_N);
    assert_heap_sound(&owner);
    seen s = {.stop_after = -1};
    assert_true(rs_heap_visit_tld(&owner, 7, collect, &s));
    assert_same_set(s.v, s.n, fresh, CHURN_N);
    free(s.v);
    finish(&owner, fresh, CHURN_N);
    free(old);
    free(fresh);
}

/* ---- debug pattern -------------------------------------------------------------------- */

#if RS_DEBUG && !defined(TEST_ASAN) && !defined(TEST_TSAN)
static void write_dead_then_reuse(void *arg)
{
    rs_heap_tld *t = arg;
    char *p = rs_heap_alloc(t, RS_HEAP_MEM, 64);
    rs_heap_free(t, p);
    p[40] = 1;                          /* use after free */
    rs_heap_alloc(t, RS_HEAP_MEM, 64);  /* the same block: pattern damaged */
}
#endif

static void test_debug_pattern(void **state)
{
    (void)state;
#if !RS_DEBUG
    skip();
#else
    rs_heap_tld t;
    bind(&t, 22);
    unsigned char *m = rs_heap_alloc(&t, RS_HEAP_MEM, 64);
    unsigned char *o = rs_heap_alloc(&t, RS_HEAP_OBJECT, 64);
#ifndef TEST_ASAN     /* under ASan the dead bytes are poisoned: not readable here */
    memset(o, 0x11, 64);
    rs_heap_free(&t, m);
    rs_heap_free(&t, o);
    for (int i = 8; i < 64; i++)
        assert_int_equal(m[i], 0xdb);
    for (int i = 8; i < 24; i++)
        assert_int_equal(o[i], 0x11);   /* dead header values kept */
    for (int i = 24; i < 64; i++)
        assert_int_equal(o[i], 0xdb);
#else
    rs_heap_free(&t, m);
    rs_heap_free(&t, o);
#endif
#if !defined(TEST_ASAN) && !defined(TEST_TSAN)
    char out[4096];
    int st = in_child(write_dead_then_reuse, &t, out, sizeof out);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    assert_non_null(strstr(out, "pattern"));
#endif
    finish(&t, NULL, 0);
#endif
}

/* ---- abandon and reclaim -------------------------------------------------------------- */

#define RECLAIM_SIZE 1520           /* a class no other test allocates */

static void test_abandon_reclaim(void **state)
{
    (void)state;
    rs_heap_tld a, b, c;
    bind(&a, 14);
    bind(&b, 15);
    bind(&c, 16);
    void *p[3];
    for (int i = 0; i < 3; i++)
        p[i] = rs_heap_alloc(&a, RS_HEAP_GC, RECLAIM_SIZE);
    rs_heap_abandon(&a);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rs_heap_page_owner(p[i]), 0);
    rs_heap_free(&c, p[2]);                 /* a free into a pool page: remote */
    assert_heap_sound(NULL);
    /* b's heap has no page of the class: it reclaims a's (the newest pool page) */
    void *q = rs_heap_alloc(&b, RS_HEAP_GC, RECLAIM_SIZE);
    assert_int_equal(page_addr(q), page_addr(p[0]));
    assert_int_equal(rs_heap_page_owner(p[0]), TID(15));
    assert_heap_sound(&b);
    assert_heap_sound(NULL);
    /* the new owner frees a's old blocks locally */
    rs_heap_free(&b, p[0]);
    rs_heap_free(&b, p[1]);
    rs_heap_free(&b, q);
    assert_int_equal(blocks_of(&a) + blocks_of(&b) + blocks_of(&c), 0);
    finish(&b, NULL, 0);
    finish(&c, NULL, 0);
}

/* ---- bind states ---------------------------------------------------------------------- */

static rs_heap_tld *binding;
static int state_at_bind_point = -1;

static void record_bind_state(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "tstate.bind.heap") == 0)
        state_at_bind_point = rs_atomic_load_relaxed_int(&binding->debug_state);
}

static void test_bind_states(void **state)
{
    (void)state;
    rs_heap_tld t;
    memset(&t, 0, sizeof t);
    assert_int_equal(rs_atomic_load_relaxed_int(&t.debug_state), RS_HEAP_UNINIT);
    binding = &t;
    rs_hooks h = {.sched_point = record_bind_state};
    rs_hooks_install(&h);
    rs_heap_bind(&t, TID(17));
    rs_hooks_install(NULL);
    assert_int_equal(state_at_bind_point, RS_HEAP_BUILDING);
    assert_int_equal(rs_atomic_load_relaxed_int(&t.debug_state), RS_HEAP_READY);
    assert_int_equal(t.owner_tid, TID(17));
    rs_heap_abandon(&t);
    assert_int_equal(rs_atomic_load_relaxed_int(&t.debug_state), RS_HEAP_ABANDONED);
}

/* ---- ASan poisoning ------------------------------------------------------------------- */

#ifdef TEST_ASAN
static void read_dead(void *arg)
{
    char copy[8];
    memcpy(copy, arg, sizeof copy);   /* intercepted by ASan: reports the poisoned read */
    (void)!write(1, copy, 1);
}
#endif

static void test_asan_poisoning(void **state)
{
    (void)state;
#ifndef TEST_ASAN
    skip();
#else
    rs_heap_tld t, u;
    bind(&t, 18);
    bind(&u, 19);
    void *m = rs_heap_alloc(&t, RS_HEAP_MEM, 100);
    void *o = rs_heap_alloc(&t, RS_HEAP_OBJECT, 100);
    void *r = rs_heap_alloc(&t, RS_HEAP_OBJECT, 100);
    void *big = rs_heap_alloc(&t, RS_HEAP_MEM, 100000);
    size_t bs = rs_heap_block_size(m);
    assert_null(__asan_region_is_poisoned(m, bs));      /* fresh blocks fully usable */
    assert_null(__asan_region_is_poisoned(o, bs));
    assert_null(__asan_region_is_poisoned(big, rs_heap_block_size(big)));
    memcpy((char *)o + 8, "deadvals", 8);
    rs_heap_free(&t, m);
    rs_heap_free(&t, o);
    rs_heap_free(&u, r);                    /* remote */
    rs_heap_free(&t, big);
    assert_true(__asan_address_is_poisoned(m));
    assert_true(__asan_address_is_poisoned((char *)m + 8));
    assert_true(__asan_address_is_poisoned((char *)m + bs - 1));
    assert_true(__asan_address_is_poisoned(big));
    assert_null(__asan_region_is_poisoned(o, 24));      /* bytes 0..23 stay readable */
    assert_memory_equal((char *)o + 8, "deadvals", 8);  /* ... with their dead values */
    assert_true(__asan_address_is_poisoned((char *)o + 24));
    assert_true(__asan_address_is_poisoned((char *)o + bs - 1));
    assert_null(__asan_region_is_poisoned(r, 24));
    assert_true(__asan_address_is_poisoned((char *)r + 24));
    /* and a real read is reported */
    char out[8192];
    int st = in_child(read_dead, m, out, sizeof out);
    assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_non_null(strstr(out, "use-after-poison"));
    st = in_child(read_dead, (char *)o + 24, out, sizeof out);
    assert_non_null(strstr(out, "use-after-poison"));
    /* reuse unpoisons the whole block again */
    void *m2 = rs_heap_alloc(&t, RS_HEAP_MEM, 100);
    assert_ptr_equal(m2, m);
    assert_null(__asan_region_is_poisoned(m2, bs));
    finish(&t, &m2, 1);
    finish(&u, NULL, 0);
#endif
}

/* ---- validator ------------------------------------------------------------------------ */

static RS_ATOMIC(uintptr_t) *link_word(void *block) { return (RS_ATOMIC(uintptr_t) *)block; }

static void expect_violation(rs_heap_tld *t, const char *needle)
{
    rs_violation v = {.obj = NULL};
    assert_false(rs_heap_check(t, &v));
    assert_string_equal(v.invariant, "HEAP");
    assert_non_null(v.obj);
    if (!strstr(v.msg, needle))
        print_error("message: %s\n", v.msg);
    assert_non_null(strstr(v.msg, needle));
}

static void test_check_fires(void **state)
{
    (void)state;
    rs_heap_tld t;
    bind(&t, 20);
    void *x = rs_heap_alloc(&t, RS_HEAP_OBJECT, 400);
    void *y = rs_heap_alloc(&t, RS_HEAP_OBJECT, 400);
    void *z = rs_heap_alloc(&t, RS_HEAP_OBJECT, 400);
    rs_heap_free(&t, x);
    rs_heap_free(&t, y);        /* free list: y -> x -> ... (ob_tid holds the link) */
    assert_heap_sound(&t);
    uintptr_t saved = rs_atomic_load_relaxed_uptr(link_word(y));
    assert_int_equal(saved, (uintptr_t)x);

    rs_atomic_store_relaxed_uptr(link_word(y), (uintptr_t)z);     /* a live block */
    expect_violation(&t, "allocated block");
    rs_atomic_store_relaxed_uptr(link_word(y), 0);      /* truncated: the count is off */
    expect_violation(&t, "capacity");
    rs_atomic_store_relaxed_uptr(link_word(y), (uintptr_t)y);     /* a cycle */
    expect_violation(&t, "twice");
    rs_atomic_store_relaxed_uptr(link_word(y), (uintptr_t)x + 8); /* not a block */
    expect_violation(&t, "not a block");
    rs_atomic_store_relaxed_uptr(link_word(y), saved);  /* repaired */
    assert_heap_sound(&t);
    rs_heap_free(&t, z);
    finish(&t, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_classes),
        cmocka_unit_test(test_alloc_free_kinds),
        cmocka_unit_test(test_counters_fold),
        cmocka_unit_test(test_fatal_frees),
        cmocka_unit_test(test_fault_hook),
        cmocka_unit_test(test_walks),
        cmocka_unit_test(test_remote_frees),
        cmocka_unit_test(test_remote_concurrent),
        cmocka_unit_test(test_abandon_reclaim),
        cmocka_unit_test(test_bind_states),
        cmocka_unit_test(test_asan_poisoning),
        cmocka_unit_test(test_check_fires),
        cmocka_unit_test(test_debug_pattern),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
