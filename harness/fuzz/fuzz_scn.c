/* fuzz_scn.c — libFuzzer target for the .scn parser and printer.
 *
 * Any byte string must parse or be rejected without a crash, a leak or an out-of-bounds
 * access (the sanitizers check that).  Whatever parses must survive the canonical round
 * trip: print it, parse the text again (it must be accepted and equal the first program),
 * print again (byte-identical to the first text); a deep copy must equal it too.  A rejection
 * must leave the program empty and carry a sane error record (position inside the input,
 * printable message).  Any failure aborts, so libFuzzer keeps the input as a crash.
 *
 * Build by hand (OSS-Fuzz style, $LIB_FUZZING_ENGINE = -fsanitize=fuzzer):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *         harness/fuzz_scn.c harness/scn.c harness/program.c -o fuzz_scn
 *   ./fuzz_scn corpus/fuzz_scn/ */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

static void fail(const char *what, const char *text, const scn_error *err)
{
    char msg[512] = "";
    if (err)
        scn_error_format(err, msg, sizeof msg);
    fprintf(stderr, "fuzz_scn: %s\n%s\n--- printed text ---\n%s\n", what, msg, text ? text : "");
    abort();
}

/* A rejection must point inside the input (a line that exists, or the one after the last;
 * a column within the line limit) and say something printable. */
static void check_error(const uint8_t *data, size_t size, const scn_error *err)
{
    size_t lines = 1;
    const char *why;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (err->line < 1 || err->line > lines || err->col < 1 || err->col > SCN_MAX_LINE + 1
        || err->message[0] == '\0'
        || prog_text_check(err->message, strlen(err->message), false, &why) >= 0)
        fail("bad error record", NULL, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    program p, q;
    scn_error err;
    if (scn_parse_buffer((const char *)data, size, "fuzz", &p, &err) < 0) {
        check_error(data, size, &err);
        if (p.nthreads || p.name || p.nbugs)
            fail("a rejected parse left a non-empty program", NULL, &err);
        return 0;
    }
    if (program_copy(&q, &p) < 0 || !program_equal(&p, &q))
        fail("copy differs", NULL, NULL);
    program_free(&q);
    size_t n1 = 0, n2 = 0;
    char *t1 = scn_print_to_buffer(&p, &n1);
    if (!t1)
        fail("print failed", NULL, NULL);
    if (scn_parse_buffer(t1, n1, "printed", &q, &err) < 0)
        fail("printed text does not parse", t1, &err);
    if (!program_equal(&p, &q))
        fail("re-parsed program differs", t1, NULL);
    char *t2 = scn_print_to_buffer(&q, &n2);
    if (!t2 || n1 != n2 || memcmp(t1, t2, n1) != 0)
        fail("second print differs", t1, NULL);
    free(t1);
    free(t2);
    program_free(&p);
    program_free(&q);
    return 0;
}
