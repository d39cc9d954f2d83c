/* fuzzin.h — fuzz input bytes ⇄ a program and its schedule tape.
 *
 * The fuzz_program target (harness/fuzz/) and `refstorm import` read libFuzzer's bytes with
 * this one decoder, so a crash file means the same program and schedule to both.  Every byte
 * string decodes (the decoder never rejects, so no input is wasted) into a program that
 * program_validate accepts: 2..16 threads, ops drawn from the whole op table except `spin`
 * (wall time: it would make a run depend on the machine), each argument one byte brought into
 * range, and a schedule tape of forced thread switches for the pct scheduler.
 *
 * Layout (version 1).  Bytes missing at the end read as 0.
 *   header   [0] threads - 2 (mod 15)    [1] option bits: 1 gc off, 2 freelists off,
 *            4 immortalize_deferred off, 8 torture on, 16 automatic points on
 *            [2] gc threshold 0 (0..255)  [3] trash depth - 1 (mod 64)
 *            [4] pct seed (0..255)        [5] pct depth - 1 (mod 4)
 *            then one byte per thread t1..: mode (mod 3: early, late, attach), 0x80: 'spawn'
 *   trailer  the last two bytes, if at least two are left after the header: the tape's
 *            length L in bytes (little endian, at most what is left)
 *   tape     the L bytes before the trailer: pairs (gap, thread): the next forced switch is
 *            gap + 1 decisions after the previous one (the first counts from decision 0),
 *            to thread (mod threads)
 *   body     what lies between the header and the tape: ops, each [thread][op][arg]...:
 *            thread (mod threads), op (mod FUZZIN_NOPS, an index into the fuzzable ops),
 *            then one byte per argument: r/m/g/l/slot modulo their count, t modulo threads,
 *            enum words modulo their count, fault sites modulo the site table, integers
 *            lo + byte mod min(hi - lo + 1, 256).  An op cut off by the end of the body is
 *            dropped.
 * Ops that the thread's state does not allow where they fall (prog_tstate_step), a spawn of a
 * thread that is not a 'spawn' thread or is already spawned or has an index not above the
 * spawner's, a join of a thread this thread did not spawn before, or a join twice, are
 * skipped (counted in `skipped`).  A 'spawn' thread that nothing spawns becomes 'auto'.
 * These rules make every spawn reachable and every join return, so the program is valid.
 *
 * Encoding is the decoder's inverse on its own output: for any bytes b,
 * decode(encode(decode(b))) equals decode(b) (program, seed, depth, tape).  Encoding a program
 * that did not come from the decoder (a scenario's, for a seed corpus) clamps what does not
 * fit — more than 16 threads, integers past the caps, `spin` — and the decoder then skips
 * what became invalid. */
#ifndef RS_PROGRAM_FUZZIN_H
#define RS_PROGRAM_FUZZIN_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"

#define FUZZIN_VERSION 1
#define FUZZIN_MIN_THREADS 2
#define FUZZIN_MAX_THREADS 16
#define FUZZIN_HEADER 6              /* fixed header bytes, before the thread bytes */
#define FUZZIN_INT_SPAN 256          /* integers take one byte: at most 256 values */
#define FUZZIN_MAX_OPS 512           /* ops kept per input, all threads together */
#define FUZZIN_MAX_SWITCHES 512      /* tape entries kept */
#define FUZZIN_TIMEOUT_MS 10000u     /* the program's hang watchdog */

typedef struct fuzzin_switch {
    uint32_t step;   /* decision index (scheduler.h's sched_switch.step) */
    int32_t thread;
} fuzzin_switch;

typedef struct fuzzin {
    program prog;          /* valid; named "fuzz" */
    uint64_t seed;         /* the pct seed (also the program's `seed`) */
    int depth;             /* pct depth 1..4 */
    fuzzin_switch tape[FUZZIN_MAX_SWITCHES];
    size_t ntape;
    uint32_t skipped;      /* ops the decoder dropped */
} fuzzin;

/* The number of op table rows the fuzzer draws from, and the opcode of row i. */
int fuzzin_nops(void);
int fuzzin_op(int i);

/* Decode bytes into *out (initialised here).  0, or -1 on allocation failure (out empty). */
int fuzzin_decode(const uint8_t *data, size_t size, fuzzin *out);
/* Encode into buf (up to cap bytes); returns the length the whole encoding needs (write
 * nothing past cap; call with cap 0 to size the buffer). */
size_t fuzzin_encode(const fuzzin *in, uint8_t *buf, size_t cap);
/* Prepare *out for encoding an arbitrary program (copied, clamped as above), seed and depth;
 * no tape.  -1 on allocation failure. */
int fuzzin_from_program(const program *p, uint64_t seed, int depth, fuzzin *out);
void fuzzin_free(fuzzin *f);

#endif
