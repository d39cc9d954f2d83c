/* fuzzmut.c — structure-aware mutation of fuzz_program inputs (contract in fuzzmut.h).
 *
 * An input is split exactly as fuzzin_decode reads it: a header of FUZZIN_HEADER bytes plus
 * one per thread t1.., then op records ([thread][op][nargs bytes], nargs from the op table
 * row the op byte picks; a record cut off by the end of the body is dropped), then the tape's
 * pairs and the two trailer bytes.  A mutation edits those units and the input is written
 * back with a trailer that names the tape's new length. */
#include "fuzzmut.h"

#include <stdlib.h>
#include <string.h>

#include "fuzzin.h"
#include "rng.h"

#define MUT_REC_MAX (2 + PROG_MAX_ARGS)
#define MUT_HDR_MAX (FUZZIN_HEADER + FUZZIN_MAX_THREADS - 1)
#define MUT_STREAM (RNG_STREAM_HARNESS + 7) /* this PRNG's stream */

typedef struct mrec {
    uint8_t b[MUT_REC_MAX];
    uint8_t len;
} mrec;

typedef struct minput {
    uint8_t hdr[MUT_HDR_MAX];
    size_t nhdr;
    mrec *rec;
    size_t nrec, caprec;
    uint8_t *tape; /* pairs */
    size_t ntape, captape;
} minput;

static size_t header_len(uint8_t threads_byte)
{
    uint32_t n = FUZZIN_MIN_THREADS + threads_byte % (FUZZIN_MAX_THREADS - FUZZIN_MIN_THREADS + 1);
    return FUZZIN_HEADER + n - 1;
}

static uint8_t nargs_of(uint8_t op_byte)
{
    return (uint8_t)prog_op_info(fuzzin_op(op_byte % fuzzin_nops()))->nargs;
}

/* Split data the way the decoder reads it; false on allocation failure. */
static bool split(const uint8_t *d, size_t size, minput *m)
{
    memset(m, 0, sizeof *m);
    m->nhdr = header_len(size ? d[0] : 0);
    memcpy(m->hdr, d, size < m->nhdr ? size : m->nhdr); /* missing bytes read as 0 */
    size_t body_lo = m->nhdr < size ? m->nhdr : size, body_hi = size, tape_lo = size;
    if (size >= m->nhdr + 2) {
        size_t len = (size_t)d[size - 2] | (size_t)d[size - 1] << 8;
        size_t room = size - 2 - m->nhdr;
        if (len > room)
            len = room;
        body_hi = tape_lo = size - 2 - len;
        m->ntape = (len / 2) * 2;
    }
    m->caprec = (body_hi - body_lo) / 2 + 4;
    m->captape = m->ntape + 8;
    m->rec = malloc(m->caprec * sizeof *m->rec);
    m->tape = malloc(m->captape);
    if (!m->rec || !m->tape)
        return false;
    memcpy(m->tape, d + tape_lo, m->ntape);
    for (size_t i = body_lo; i + 2 <= body_hi;) {
        size_t len = 2 + (size_t)nargs_of(d[i + 1]);
        if (i + len > body_hi)
            break;
        mrec *r = &m->rec[m->nrec++];
        memcpy(r->b, d + i, len);
        r->len = (uint8_t)len;
        i += len;
    }
    return true;
}

static void minput_free(minput *m)
{
    free(m->rec);
    free(m->tape);
}

static size_t body_bytes(const minput *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nrec; i++)
        n += m->rec[i].len;
    return n;
}

/* Write m to out (max bytes): header, records, tape, trailer; records and then tape pairs are
 * dropped from the end until it fits.  Returns the size written. */
static size_t join(minput *m, uint8_t *out, size_t max)
{
    if (max < m->nhdr + 2) { /* no room for a trailer: the header alone (no tape) */
        size_t n = m->nhdr < max ? m->nhdr : max;
        memcpy(out, m->hdr, n);
        return n;
    }
    while (m->nhdr + body_bytes(m) + m->ntape + 2 > max) {
        if (m->nrec > 0)
            m->nrec--;
        else
            m->ntape -= 2;
    }
    size_t n = 0;
    memcpy(out, m->hdr, m->nhdr);
    n += m->nhdr;
    for (size_t i = 0; i < m->nrec; i++) {
        memcpy(out + n, m->rec[i].b, m->rec[i].len);
        n += m->rec[i].len;
    }
    memcpy(out + n, m->tape, m->ntape);
    n += m->ntape;
    out[n++] = (uint8_t)(m->ntape & 0xff);
    out[n++] = (uint8_t)(m->ntape >> 8);
    return n;
}

static void random_record(rng *r, mrec *rec)
{
    rec->b[0] = (uint8_t)rng_next(r);
    rec->b[1] = (uint8_t)rng_next(r);
    rec->len = (uint8_t)(2 + nargs_of(rec->b[1]));
    for (int i = 2; i < rec->len; i++)
        rec->b[i] = (uint8_t)rng_next(r);
}

static bool insert_record(minput *m, size_t at, const mrec *rec)
{
    if (m->nrec == m->caprec) {
        size_t cap = 2 * m->caprec + 4;
        mrec *nr = realloc(m->rec, cap * sizeof *nr);
        if (!nr)
            return false;
        m->rec = nr;
        m->caprec = cap;
    }
    memmove(&m->rec[at + 1], &m->rec[at], (m->nrec - at) * sizeof *m->rec);
    m->rec[at] = *rec;
    m->nrec++;
    return true;
}

static bool insert_pair(minput *m, size_t at, uint8_t gap, uint8_t thread)
{
    if (m->ntape + 2 > m->captape) {
        size_t cap = 2 * m->captape + 8;
        uint8_t *nt = realloc(m->tape, cap);
        if (!nt)
            return false;
        m->tape = nt;
        m->captape = cap;
    }
    memmove(m->tape + at + 2, m->tape + at, m->ntape - at);
    m->tape[at] = gap;
    m->tape[at + 1] = thread;
    m->ntape += 2;
    return true;
}

/* A header byte changed: keep the header as long as the thread count it now names. */
static void fix_header(minput *m, rng *r)
{
    size_t want = header_len(m->hdr[0]);
    for (size_t i = m->nhdr; i < want; i++)
        m->hdr[i] = (uint8_t)rng_next(r);
    m->nhdr = want;
}

enum {
    MUT_DELETE, MUT_DUPLICATE, MUT_INSERT, MUT_SWAP, MUT_REPLACE_OP, MUT_ARG, MUT_THREAD,
    MUT_TAPE_INSERT, MUT_TAPE_DELETE, MUT_TAPE_PERTURB, MUT_HEADER, MUT__COUNT
};

static void mutate_one(minput *m, rng *r)
{
    size_t nr = m->nrec, np = m->ntape / 2;
    switch (rng_below(r, MUT__COUNT)) {
    case MUT_DELETE:
        if (nr) {
            size_t i = rng_below(r, nr);
            memmove(&m->rec[i], &m->rec[i + 1], (nr - i - 1) * sizeof *m->rec);
            m->nrec--;
            return;
        }
        break;
    case MUT_DUPLICATE:
        if (nr) {
            mrec copy = m->rec[rng_below(r, nr)];
            insert_record(m, rng_below(r, nr + 1), &copy);
            return;
        }
        break;
    case MUT_SWAP:
        if (nr >= 2) {
            size_t i = rng_below(r, nr), j = rng_below(r, nr);
            mrec t = m->rec[i];
            m->rec[i] = m->rec[j];
            m->rec[j] = t;
            return;
        }
        break;
    case MUT_REPLACE_OP:
        if (nr) {
            mrec *rec = &m->rec[rng_below(r, nr)];
            uint8_t thread = rec->b[0];
            random_record(r, rec);
            rec->b[0] = thread;
            return;
        }
        break;
    case MUT_ARG:
        if (nr) {
            mrec *rec = &m->rec[rng_below(r, nr)];
            if (rec->len > 2) {
                uint8_t *b = &rec->b[2 + rng_below(r, rec->len - 2u)];
                /* a neighbouring value (register, count, slot) or any */
                *b = rng_chance(r, 500) ? (uint8_t)(*b + (rng_chance(r, 500) ? 1 : 255))
                                        : (uint8_t)rng_next(r);
                return;
            }
        }
        break;
    case MUT_THREAD:
        if (nr) {
            m->rec[rng_below(r, nr)].b[0] = (uint8_t)rng_next(r);
            return;
        }
        break;
    case MUT_TAPE_INSERT:
        insert_pair(m, 2 * rng_below(r, np + 1), (uint8_t)rng_below(r, 64), (uint8_t)rng_next(r));
        return;
    case MUT_TAPE_DELETE:
        if (np) {
            size_t i = 2 * rng_below(r, np);
            memmove(m->tape + i, m->tape + i + 2, m->ntape - i - 2);
            m->ntape -= 2;
            return;
        }
        break;
    case MUT_TAPE_PERTURB:
        if (np) {
            uint8_t *p = m->tape + 2 * rng_below(r, np);
            if (rng_chance(r, 500))
                p[0] = (uint8_t)(p[0] + rng_below(r, 9) - 4); /* a few decisions earlier or later */
            else
                p[1] = (uint8_t)rng_next(r); /* another thread */
            return;
        }
        break;
    case MUT_HEADER:
        m->hdr[rng_below(r, m->nhdr)] = (uint8_t)rng_next(r);
        fix_header(m, r);
        return;
    }
    /* nothing of that kind to change: add an op instead */
    mrec rec;
    random_record(r, &rec);
    insert_record(m, rng_below(r, m->nrec + 1), &rec);
}

size_t fuzzmut_mutate(uint8_t *data, size_t size, size_t max, uint32_t seed)
{
    minput m;
    rng r;
    rng_seed(&r, seed, MUT_STREAM);
    if (!split(data, size, &m)) {
        minput_free(&m);
        return size;
    }
    mutate_one(&m, &r);
    size_t n = join(&m, data, max);
    minput_free(&m);
    return n;
}

size_t fuzzmut_crossover(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t *out,
                         size_t max, uint32_t seed)
{
    minput ma, mb;
    memset(&ma, 0, sizeof ma);
    memset(&mb, 0, sizeof mb);
    rng r;
    rng_seed(&r, seed, MUT_STREAM + 1);
    size_t n = 0;
    if (split(a, na, &ma) && split(b, nb, &mb)) {
        size_t cut_a = rng_below(&r, ma.nrec + 1), cut_b = rng_below(&r, mb.nrec + 1);
        size_t keep = cut_a;
        ma.nrec = cut_a;
        for (size_t i = cut_b; i < mb.nrec && insert_record(&ma, keep, &mb.rec[i]); i++)
            keep++;
        if (rng_chance(&r, 500) && mb.ntape <= ma.captape) {
            memcpy(ma.tape, mb.tape, mb.ntape);
            ma.ntape = mb.ntape;
        }
        n = join(&ma, out, max);
    } else if (max > 0) {
        n = na < max ? na : max;
        memcpy(out, a, n);
    }
    minput_free(&ma);
    minput_free(&mb);
    return n;
}
