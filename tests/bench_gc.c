/* bench_gc.c — a benchmark, not a test: the cost of a full collection (rs_gc_collect, MANUAL)
 * of N live objects in ns per object, next to a bare mark-and-sweep pass over the same pages
 * measured in the same run.
 *
 * The heap: N tracked containers with one slot each, object i pointing at object (i-1)/2 (a
 * binary tree held together by parent links), and each held by the benchmark (so all are
 * live: gc_refs > 0 everywhere).  The bare pass is what any tracing collector must at least
 * do over this heap, under the same stop-the-world: mark from the held objects through
 * tp_traverse with an explicit stack (a spare header bit as the mark), then sweep every GC
 * page clearing the marks.  The collector additionally computes gc_refs (update_refs walk +
 * traverse), restores ob_tid, runs two stop-the-worlds and its phase bookkeeping.  Prints the
 * best of REPS runs of each and their ratio.  Usage: bench_gc [N] (default 1000000). */
#include <stdio.h>
#include <stdlib.h>

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

/* ---- the bare mark-and-sweep pass ---- */

static rs_object **stack;
static size_t sp;

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
    }
    return true;
}

static void bare_pass(rs_tstate *ts, rs_object **roots, size_t n)
{
    rs_stop_the_world(ts);
    for (size_t i = 0; i < n; i++) {
        bare_visit(roots[i], 0, NULL);
        while (sp > 0) {
            rs_object *o = stack[--sp];
            o->ob_type->tp_traverse(o, bare_visit, NULL);
        }
    }
    swept = 0;
    rs_heap_visit_tld(&ts->heap, RS_HEAP_MASK(RS_HEAP_GC), bare_sweep, NULL);
    rs_start_the_world(ts);
    if (swept != n) {
        fprintf(stderr, "bare pass swept %lu of %zu\n", (unsigned long)swept, n);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
    rs_options opts;
    rs_options_default(&opts);
    opts.validate = false;
    opts.gc_threshold[0] = 0; /* no automatic collections */
    if (rs_runtime_init(&opts) < 0)
        return 1;
    rs_tstate *ts = rs_tstate_current();
    rs_object **objs = malloc(n * sizeof *objs);
    stack = malloc(n * sizeof *stack);
    if (!objs || !stack)
        return 1;
    for (size_t i = 0; i < n; i++) {
        bnode *b = (bnode *)rs_object_alloc(&bn_type, 1);
        if (b == NULL)
            return 1;
        rs_object *parent = i ? objs[(i - 1) / 2] : NULL;
        if (parent)
            rs_incref(parent);
        rs_atomic_store_relaxed_ptr(&b->slot, parent);
        objs[i] = &b->ob;
    }
    double best_gc = 1e30, best_bare = 1e30;
    for (int r = 0; r < REPS; r++) {
        int64_t t0 = rs_monotonic_ns();
        int got = rs_gc_collect(ts, RS_GC_MANUAL);
        int64_t t1 = rs_monotonic_ns();
        bare_pass(ts, objs, n);
        int64_t t2 = rs_monotonic_ns();
        if (got != 0 || rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total) != (int64_t)n - 1) {
            /* the root (object 0) holds nothing: a leaf-only container, untracked */
            fprintf(stderr, "collection: %d collected, %ld long-lived (want 0, %zu)\n", got,
                    (long)rs_atomic_load_relaxed_i64(&rs_rt.gc.long_lived_total), n - 1);
            return 1;
        }
        double g = (double)(t1 - t0) / (double)n, b = (double)(t2 - t1) / (double)n;
        best_gc = g < best_gc ? g : best_gc;
        best_bare = b < best_bare ? b : best_bare;
    }
    printf("objects %zu: full collection %.1f ns/object, bare mark+sweep %.1f ns/object, "
           "ratio %.2f (best of %d)\n", n, best_gc, best_bare, best_gc / best_bare, REPS);
    for (size_t i = n; i-- > 0;) /* children first: no deep destructor recursion */
        rs_decref(objs[i]);
    free(objs);
    free(stack);
    rs_leaks l = rs_runtime_fini();
    if (l.reftotal != 0 || l.blocks != 0) {
        fprintf(stderr, "leaks: reftotal %ld blocks %ld\n", (long)l.reftotal, (long)l.blocks);
        return 1;
    }
    return 0;
}
