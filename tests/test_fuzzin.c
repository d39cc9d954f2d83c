/* test_fuzzin.c — the fuzz input decoder and encoder (harness/program/fuzzin.c).
 *
 * Never rejects: 20 000 pseudo-random byte strings (lengths 0..600, biased towards the
 * small bytes the mutator favours) each decode into a program program_validate accepts, with
 * 2..16 threads.  Inverse: for each of them decode(encode(decode(b))) equals decode(b) —
 * program, seed, depth and tape.  Reach: over those inputs every fuzzable op appears in some
 * decoded program (the decoder does not starve an op by its state rules), and the decoder
 * skips fewer than half of the ops it reads.  Seed corpus: every scenario's program encodes
 * into bytes that decode into a valid program that keeps most of its ops.  Layout: a
 * hand-written input decodes exactly as fuzzin.h describes.  Mutator (fuzzmut.h): outputs fit
 * max, the same seed gives the same bytes, most mutations change the decoded program, and most
 * keep it local (the op count moves by a few ops, where a byte flip in the body would shift
 * every op after it); crossover fits max and is deterministic too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzin.h"
#include "fuzzmut.h"
#include "scenario.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void expect_same(const fuzzin *a, const fuzzin *b)
{
    assert_true(program_equal(&a->prog, &b->prog));
    assert_int_equal(a->seed, b->seed);
    assert_int_equal(a->depth, b->depth);
    assert_int_equal(a->ntape, b->ntape);
    for (size_t i = 0; i < a->ntape; i++) {
        assert_int_equal(a->tape[i].step, b->tape[i].step);
        assert_int_equal(a->tape[i].thread, b->tape[i].thread);
    }
}

static void roundtrip(const fuzzin *f)
{
    size_t n = fuzzin_encode(f, NULL, 0);
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    assert_int_equal(fuzzin_encode(f, buf, n), n);
    fuzzin g;
    assert_int_equal(fuzzin_decode(buf, n, &g), 0);
    expect_same(f, &g);
    fuzzin_free(&g);
    free(buf);
}

static void test_random_inputs(void **state)
{
    (void)state;
    static uint8_t buf[600];
    bool seen[PROG_OP__COUNT] = {false};
    uint64_t ops = 0, skipped = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = next() % sizeof buf;
        for (size_t k = 0; k < n; k++) {
            uint64_t x = next();
            buf[k] = (uint8_t)(x & 8 ? x >> 8 : (x >> 8) % 8);
        }
        fuzzin f;
        assert_int_equal(fuzzin_decode(buf, n, &f), 0);
        prog_error err;
        if (program_validate(&f.prog, &err) < 0)
            fail_msg("input %d (%zu bytes) decodes into an invalid program: %s", i, n, err.message);
        assert_in_range(f.prog.nthreads, FUZZIN_MIN_THREADS, FUZZIN_MAX_THREADS);
        assert_in_range(f.depth, 1, 4);
        for (uint32_t t = 0; t < f.prog.nthreads; t++)
            for (uint32_t k = 0; k < f.prog.thread[t].nops; k++) {
                seen[f.prog.thread[t].ops[k].code] = true;
                ops++;
            }
        skipped += f.skipped;
        roundtrip(&f);
        fuzzin_free(&f);
    }
    for (int r = 0; r < fuzzin_nops(); r++)
        if (!seen[fuzzin_op(r)])
            fail_msg("op %s never decoded", prog_op_info(fuzzin_op(r))->name);
    assert_false(seen[PROG_OP_SPIN]);
    print_message("%" PRIu64 " ops kept, %" PRIu64 " skipped\n", ops, skipped);
    assert_true(skipped < ops);
}

static uint32_t total_ops(const fuzzin *f)
{
    uint32_t n = 0;
    for (uint32_t t = 0; t < f->prog.nthreads; t++)
        n += f->prog.thread[t].nops;
    return n;
}

static bool same_input(const fuzzin *a, const fuzzin *b)
{
    if (!program_equal(&a->prog, &b->prog) || a->seed != b->seed || a->depth != b->depth
        || a->ntape != b->ntape)
        return false;
    for (size_t i = 0; i < a->ntape; i++)
        if (a->tape[i].step != b->tape[i].step || a->tape[i].thread != b->tape[i].thread)
            return false;
    return true;
}

static void test_mutator(void **state)
{
    (void)state;
    enum { N = 4000, MAX = 600 };
    static uint8_t in[MAX], a[MAX], b[MAX], c[MAX];
    int changed = 0, local = 0;
    for (int i = 0; i < N; i++) {
        size_t n = 20 + next() % (MAX - 20);
        for (size_t k = 0; k < n; k++) {
            uint64_t x = next();
            in[k] = (uint8_t)(x & 8 ? x >> 8 : (x >> 8) % 8);
        }
        uint32_t seed = (uint32_t)next();
        memcpy(a, in, n);
        memcpy(b, in, n);
        size_t na = fuzzmut_mutate(a, n, MAX, seed), nb = fuzzmut_mutate(b, n, MAX, seed);
        assert_true(na <= MAX);
        assert_int_equal(na, nb);
        assert_memory_equal(a, b, na);
        fuzzin f, g;
        assert_int_equal(fuzzin_decode(in, n, &f), 0);
        assert_int_equal(fuzzin_decode(a, na, &g), 0);
        prog_error err;
        assert_int_equal(program_validate(&g.prog, &err), 0);
        changed += !same_input(&f, &g);
        int d = (int)total_ops(&g) - (int)total_ops(&f);
        local += d >= -8 && d <= 8;
        fuzzin_free(&f);
        fuzzin_free(&g);
        size_t nc = fuzzmut_crossover(in, n, a, na, c, MAX, seed);
        assert_true(nc <= MAX);
        assert_int_equal(fuzzmut_crossover(in, n, a, na, b, MAX, seed), nc);
        assert_memory_equal(b, c, nc);
    }
    print_message("mutator: %d of %d outputs change the program, %d keep the op count within 8\n",
                  changed, N, local);
    assert_true(changed >= N * 6 / 10);
    assert_true(local >= N * 8 / 10);
}

static void test_layout(void **state)
{
    (void)state;
    /* 3 threads; gc off, torture on; threshold 7; trash depth 5; seed 42; depth 2;
     * t1 late, t2 early 'spawn'; body: t0 spawn t2, t1 bind, t1 new_leaf r3; tape: 2 switches */
    uint8_t in[] = {1, 1 | 8, 7, 4, 42, 1, 1, 0x80,
                    0, 0, 0, /* thread, op row, arg: filled below */
                    1, 0,
                    1, 0, 3,
                    5, 2, 0, 1, /* tape: step 5 -> t2, step 6 -> t1 */
                    4, 0};
    in[9] = (uint8_t)-1;
    for (int r = 0; r < fuzzin_nops(); r++) {
        if (fuzzin_op(r) == PROG_OP_SPAWN)
            in[9] = (uint8_t)r;
        if (fuzzin_op(r) == PROG_OP_BIND)
            in[12] = (uint8_t)r;
        if (fuzzin_op(r) == PROG_OP_NEW_LEAF)
            in[14] = (uint8_t)r;
    }
    in[10] = 2;
    fuzzin f;
    assert_int_equal(fuzzin_decode(in, sizeof in, &f), 0);
    assert_int_equal(f.prog.nthreads, 3);
    assert_false(f.prog.opt.gc_enabled);
    assert_int_equal(f.prog.opt.torture, PROG_TORTURE_ON);
    assert_int_equal(f.prog.opt.gc_threshold[0], 7);
    assert_int_equal(f.prog.opt.trash_depth, 5);
    assert_int_equal(f.seed, 42);
    assert_int_equal(f.depth, 2);
    assert_int_equal(f.prog.thread[1].mode, PROG_MODE_LATE);
    assert_int_equal(f.prog.thread[2].mode, PROG_MODE_EARLY);
    assert_int_equal(f.prog.thread[2].start, PROG_START_SPAWN);
    assert_int_equal(f.prog.thread[0].nops, 1);
    assert_int_equal(f.prog.thread[0].ops[0].code, PROG_OP_SPAWN);
    assert_int_equal(f.prog.thread[0].ops[0].arg[0], 2);
    assert_int_equal(f.prog.thread[1].nops, 2);
    assert_int_equal(f.prog.thread[1].ops[1].code, PROG_OP_NEW_LEAF);
    assert_int_equal(f.prog.thread[1].ops[1].arg[0], 3);
    assert_int_equal(f.ntape, 2);
    assert_int_equal(f.tape[0].step, 5);
    assert_int_equal(f.tape[0].thread, 2);
    assert_int_equal(f.tape[1].step, 6);
    assert_int_equal(f.tape[1].thread, 1);
    assert_int_equal(f.skipped, 0);
    roundtrip(&f);
    fuzzin_free(&f);
}

static void test_scenarios_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < scenario_count(); i++) {
        const scenario *sc = scenario_at(i);
        scenario_params sp = {0};
        program *p = scenario_generate(sc, 1, &sp);
        assert_non_null(p);
        fuzzin f;
        assert_int_equal(fuzzin_from_program(p, 1, 3, &f), 0);
        size_t n = fuzzin_encode(&f, NULL, 0);
        uint8_t *buf = malloc(n);
        assert_non_null(buf);
        fuzzin_encode(&f, buf, n);
        fuzzin g;
        assert_int_equal(fuzzin_decode(buf, n, &g), 0);
        prog_error err;
        assert_int_equal(program_validate(&g.prog, &err), 0);
        uint64_t before = 0, after = 0;
        for (uint32_t t = 0; t < p->nthreads; t++)
            before += p->thread[t].nops;
        for (uint32_t t = 0; t < g.prog.nthreads; t++)
            after += g.prog.thread[t].nops;
        print_message("%-28s %4" PRIu64 " ops -> %4" PRIu64 " (%u skipped)\n", sc->name, before,
                      after, g.skipped);
        assert_true(after > 0);
        fuzzin_free(&f);
        fuzzin_free(&g);
        free(buf);
        scenario_program_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_random_inputs),
        cmocka_unit_test(test_scenarios_encode),
        cmocka_unit_test(test_mutator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
