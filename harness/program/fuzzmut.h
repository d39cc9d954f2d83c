/* fuzzmut.h — structure-aware mutation of fuzz_program inputs (the layout of fuzzin.h).
 *
 * libFuzzer's own mutations flip bits and splice bytes with no idea where an op starts, so
 * most of them shift every op after the change onto other bytes.  These work on the layout's
 * units instead: the header, the op records of the body ([thread][op][one byte per
 * argument]) and the tape's (gap, thread) pairs.  One call applies one mutation, chosen and
 * carried out with a PRNG seeded by `seed` alone (the same input and seed give the same
 * output):
 *   delete, duplicate, insert (random), or swap op records; replace a record's op (new
 *   arguments); change one argument byte; move a record to another thread;
 *   insert, delete or perturb a tape switch; change one header byte (threads, options, GC
 *   threshold, trash depth, pct seed and depth, a thread's mode).
 * Crossover keeps the first input's header, its records up to a cut point, the second
 * input's records from another cut point, and one of the two tapes.
 * The output is rebuilt with a correct trailer and never exceeds max; the decoder accepts any
 * bytes, so every output is a valid program. */
#ifndef RS_PROGRAM_FUZZMUT_H
#define RS_PROGRAM_FUZZMUT_H

#include <stddef.h>
#include <stdint.h>

/* Mutate data[0..size) in place (data has room for max bytes); returns the new size. */
size_t fuzzmut_mutate(uint8_t *data, size_t size, size_t max, uint32_t seed);

/* Cross a and b into out (room for max bytes); returns out's size. */
size_t fuzzmut_crossover(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t *out,
                         size_t max, uint32_t seed);

#endif
