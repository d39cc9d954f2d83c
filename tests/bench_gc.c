/* bench_gc.c — a benchmark, not a test: the collector's cost per object (rs_gc_collect,
 * MANUAL) on three heaps of N objects, each next to a bare pass over the same pages measured in
 * the same run (the ratio is the figure to quote; machines are noisy).
 *
 *   tree     N tracked one-slot containers, object i pointing at object (i-1)/2 (a binary tree
 *            held together by parent links), each also held by the benchmark: all live, every
 *            one a root (gc_refs > 0).  Bare pass: mark from the held objects through
 *            tp_traverse with an explicit stack (a spare header bit as the mark), then sweep
 *            every GC page clearing the marks.
 *   cycles   N/2 garbage 2-cycles (a <-> b, nothing else holds them), all collected.  Bare
 *            pass: the same mark (no roots), a sweep that gathers every unmarked bench object,
 *            and a free of each block (rs_heap_free): mark, sweep and free of the same garbage.
 *   list     N live one-slot containers held by one list (each pointing back at the list), the
 *            list held by the benchmark: one root, and marking goes N deep into the mark stack.
 *            Bare pass as for tree, from the list.
 *
 * The collector additionally computes gc_refs (update_refs walk + traverse), restores ob_tid,
 * runs two stop-the-worlds and its phase bookkeeping; for garbage it merges, finalizes,
 * checks for resurrection, clears (tp_clear) and deallocates.  Each case prints the median
 * and the best of REPS runs of each pass in ns per object, and the ratio of the medians.
 * Usage: bench_gc [N] (default 1000000); BENCH_GC_CASES=tree,cycles,list picks cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"
#include "heap.h"
#include "lock.h"
#include "runtime.h"

#define REPS 5
#define BENCH_MARK RS_GC_FROZEN /* reserved bit (model.md §1.2): free for a benchmark's mark */

typedef struct bnode {
    rs_object ob;
    RS_ATOMIC(void *) slot;
} bnode;

static int bn_traverse(rs_object *o, rs_visit_fn visit, void *arg)
{
    rs_object *r = rs_atomic_load_relaxed_ptr(&((bnode *)o)->slot);
    return r ? visit(r, 0, arg) : 0;
}

static void bn_clear(rs_object *o)
{
    rs_object *r = rs_atomic_exchange_acq_rel_ptr(&((bnode *)o)->slot, NULL); /* no partner: one thread */
    if (r)
        rs_decref(r);
}

static void bn_dealloc(rs_object *o)
{
    rs_gc_bits_clear(o, RS_GC_TRACKED);
    bn_clear(o);
    rs_object_free(o);
}

static rs_type bn_type = {
    .ob_base = {.ob_flags = RS_OBF_STATIC, .ob_ref_local = RS_IMMORTAL_REFCNT_LOCAL, .ob_type = &rs_type_type},
    .tp_name = "bench-node",
    .tp_basicsize = sizeof(bnode),
    .tp_kind = RS_KIND_CONTAINER,
    .tp_flags = RS_TPFLAGS_GC,
    .tp_dealloc = bn_dealloc,
    .tp_traverse = bn_traverse,
    .tp_clear = bn_clear,
};

static bnode *bn_new(rs_object *slot) /* slot: a reference the node takes over, or NULL */
{
    bnode *b = (bnode *)rs_object_alloc(&bn_type, 1);
    if (b == NULL) {
        fprintf(stderr, "allocation failed\n");
        exit(1);
    }
    rs_atomic_store_relaxed_ptr(&b->slot, slot);
    return b;
}

/* ---- the bare passes ---- */

static rs_object **stack;   /* the bare mark stack: room for every object, never grows */
static size_t sp;
static rs_object **garbage; /* what the bare sweep found unmarked */
static size_t ngarbage;

static int bare_visit(rs_object *r, int tagged, void *arg)
{
    (void)tagged;
    (void)arg;
    if (!(rs_gc_bits(r) & BENCH_MARK)) {
        rs_gc_bits_set(r, BENCH_MARK);
        stack[sp++] = r;
    }
    return 0;
}

static uint64_t swept;
static bool bare_sweep(void *block, size_t size, rs_heap_kind kind, void *arg)
{
    (void)size, (void)kind, (void)arg;
    rs_object *o = block;
    if (rs_gc_bits(o) & BENCH_MARK) {
        rs_gc_bits_clear(o, BENCH_MARK);
        swept++;
    } else if (o->ob_type == &bn_type) { /* the runtime's own GC objects are not ours to free */
        garbage[ngarbage++] = o;
    }
    return true;
}

/* mark from roots[0..nroots), sweep; free the unmarked bench objects; want_marked: check */
static void bare_pass(rs_tstate *ts, rs_object **roots, size_t nroots, uint64_t want_marked)
{
    rs_stop_the_world(ts);
    for (size_t i = 0; i < nroots; i++) {
        bare_visit(roots[i], 0, NULL);
        while (sp > 0) {
            rs_object *o = stack[--sp];
            if (o->ob_type->tp_traverse)
                o->ob_type->tp_traverse(o, bare_visit, NULL);
        }
    }
    swept = 0;
    ngarbage = 0;
    rs_heap_visit_tld(&ts->heap, RS_HEAP_MASK(RS_HEAP_GC), bare_sweep, NULL);
    for (size_t i = 0; i < ngarbage; i++)
        rs_heap_free(&ts->heap, garbage[i]);
    rs_start_the_world(ts);
    if (swept != want_marked) {
        fprintf(stderr, "bare pass marked %lu, want %lu\n", (unsigned long)swept,
                (unsigned long)want_marked);
        exit(1);
    }
}

/* ---- figures ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *name, size_t n, double *gc, double *bare)
{
    double mg = median(gc, REPS), mb = median(bare, REPS);
    printf("%-7s objects %zu: collection %.1f ns/object (best %.1f), bare %.1f ns/object "
           "(best %.1f), ratio %.2f (medians of %d)\n", name, n, mg, gc[0], mb, bare[0], mg / mb,
           REPS);
}

static void check_collect(const char *name, int got, int want, int64_t want_long_lived)
{
    int64_t ll = rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total);
    if (got != want || ll != want_long_lived) {
        fprintf(stderr, "%s: %d collected, %ld long-lived (want %d, %ld)\n", name, got, (long)ll,
                want, (long)want_long_lived);
        exit(1);
    }
}

/* ---- the cases ---- */

static void case_tree(rs_tstate *ts, size_t n)
{
    rs_object **objs = malloc(n * sizeof *objs);
    if (!objs)
        exit(1);
    for (size_t i = 0; i < n; i++) {
        rs_object *parent = i ? objs[(i - 1) / 2] : NULL;
        if (parent)
            rs_incref(parent);
        objs[i] = &bn_new(parent)->ob;
    }
    double gc[REPS], bare[REPS];
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = rs_monotonic_ns();
        int got = rs_gc_collect(ts, RS_GC_MANUAL);
        int64_t t1 = rs_monotonic_ns();
        bare_pass(ts, objs, n, n);
        int64_t t2 = rs_monotonic_ns();
        /* the root (object 0) holds nothing: a leaf-only container, untracked */
        check_collect("tree", got, 0, (int64_t)n - 1);
        gc[r] = (double)(t1 - t0) / (double)n;
        bare[r] = (double)(t2 - t1) / (double)n;
    }
    report("tree", n, gc, bare);
    for (size_t i = n; i-- > 0;) /* children first: no deep destructor recursion */
        rs_decref(objs[i]);
    free(objs);
}

static void make_cycles(size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        bnode *a = bn_new(NULL), *b = bn_new(NULL);
        rs_atomic_store_relaxed_ptr(&a->slot, &b->ob);  /* a holds b (b's creation reference) */
        rs_atomic_store_relaxed_ptr(&b->slot, &a->ob);  /* b holds a (a's creation reference) */
    }
}

static void case_cycles(rs_tstate *ts, size_t n)
{
    n &= ~(size_t)1;
    double gc[REPS], bare[REPS];
    for (int r = 0; r < REPS; r++) {
        make_cycles(n);
        int64_t t0 = rs_monotonic_ns();
        int got = rs_gc_collect(ts, RS_GC_MANUAL);
        int64_t t1 = rs_monotonic_ns();
        check_collect("cycles", got, (int)n, 0);
        make_cycles(n);
        int64_t t2 = rs_monotonic_ns();
        bare_pass(ts, NULL, 0, 0);
        int64_t t3 = rs_monotonic_ns();
        if (ngarbage != n) {
            fprintf(stderr, "cycles: the bare sweep found %zu of %zu\n", ngarbage, n);
            exit(1);
        }
        rs_reftotal_add(-(intptr_t)n); /* the bare free dropped one reference per object */
        gc[r] = (double)(t1 - t0) / (double)n;
        bare[r] = (double)(t3 - t2) / (double)n;
    }
    report("cycles", n, gc, bare);
}

static void case_list(rs_tstate *ts, size_t n)
{
    rs_object *list = rs_list_new();
    if (list == NULL)
        exit(1);
    for (size_t i = 0; i < n; i++) {
        rs_incref(list);
        if (rs_list_append(list, &bn_new(list)->ob) < 0)
            exit(1);
    }
    double gc[REPS], bare[REPS];
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = rs_monotonic_ns();
        int got = rs_gc_collect(ts, RS_GC_MANUAL);
        int64_t t1 = rs_monotonic_ns();
        bare_pass(ts, &list, 1, n + 1);
        int64_t t2 = rs_monotonic_ns();
        check_collect("list", got, 0, (int64_t)n + 1);
        gc[r] = (double)(t1 - t0) / (double)n;
        bare[r] = (double)(t2 - t1) / (double)n;
    }
    report("list", n, gc, bare);
    /* the items point back at the list: a cycle, so the collector frees it */
    rs_decref(list);
    if (rs_gc_collect(ts, RS_GC_MANUAL) != (int)n + 1) {
        fprintf(stderr, "list: not collected\n");
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
    if (n < 2)
        n = 2;
    rs_options opts;
    rs_options_default(&opts);
    opts.validate = false;
    opts.gc_threshold[0] = 0; /* no automatic collections */
    if (rs_runtime_init(&opts) < 0)
        return 1;
    rs_tstate *ts = rs_tstate_current();
    stack = malloc((n + 1) * sizeof *stack);
    garbage = malloc((n + 1) * sizeof *garbage);
    if (!stack || !garbage)
        return 1;
    const char *only = getenv("BENCH_GC_CASES"); /* e.g. "tree,list" (for a profiler); default all */
    if (!only || strstr(only, "tree"))
        case_tree(ts, n);
    if (!only || strstr(only, "cycles"))
        case_cycles(ts, n);
    if (!only || strstr(only, "list"))
        case_list(ts, n);
    free(stack);
    free(garbage);
    rs_leaks l = rs_runtime_fini();
    if (l.reftotal != 0 || l.blocks != 0) {
        fprintf(stderr, "leaks: reftotal %ld blocks %ld\n", (long)l.reftotal, (long)l.blocks);
        return 1;
    }
    return 0;
}
