/* rng.h — the harness's one seeded pseudo-random generator.
 *
 * xoshiro256** (Blackman & Vigna), seeded through splitmix64.  Every random stream in the
 * harness derives from (run seed, stream index): rng_seed(&r, seed, stream) mixes both into
 * the four state words, so thread i's stream is independent of thread j's and of how many
 * values any other stream drew.  Streams used by the harness itself take indices at or above
 * RNG_STREAM_HARNESS so they never collide with program thread indices.
 *
 * An rng is owned by one thread (no internal synchronisation).  Never seeded from time(). */
#ifndef HARNESS_RNG_H
#define HARNESS_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rng { uint64_t s[4]; } rng;

/* streams of the harness's own components (thread streams are 0 .. nthreads-1) */
#define RNG_STREAM_HARNESS 0x100000000ull
#define RNG_STREAM_SCHED (RNG_STREAM_HARNESS + 1)

static inline uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    /* mix the stream index through one splitmix round of its own so that consecutive
     * streams of one seed do not share a splitmix trajectory shifted by one */
    uint64_t st = stream;
    uint64_t x = seed ^ rng_splitmix64(&st);
    for (int i = 0; i < 4; i++)
        r->s[i] = rng_splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the all-zero state is a fixed point */
}

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return result;
}

/* uniform in [0, n); n > 0.  Lemire's multiply-shift with rejection (unbiased). */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
    uint64_t x = rng_next(r);
    unsigned __int128 m = (unsigned __int128)x * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = (0 - n) % n;
        while (lo < threshold) {
            x = rng_next(r);
            m = (unsigned __int128)x * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* true with probability permille / 1000 */
static inline bool rng_chance(rng *r, unsigned permille)
{
    return rng_below(r, 1000) < permille;
}

#endif /* HARNESS_RNG_H */
