/* junit.c — renders a list of test cases as a JUnit XML document (junit.h).  The document is
 * built in memory (open_memstream) so the caller can write it atomically
 * (file_write_atomic); every attribute and text node goes through one escaper. */
#include "junit.h"

#include <stdio.h>
#include <stdlib.h>

/* XML-escape s; control characters other than tab and newline become '?' (XML 1.0 forbids
 * them even as character references). */
static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(c < 0x20 && c != '\t' && c != '\n' ? '?' : c, f); break;
        }
    }
}

char *junit_render(const char *suite, const junit_case *cases, size_t n, double seconds)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    size_t failures = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        failures += cases[i].failure != NULL;
        skipped += cases[i].failure == NULL && cases[i].skipped != NULL;
    }
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"", f);
    esc(f, suite);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
            n, failures, skipped, seconds);
    for (size_t i = 0; i < n; i++) {
        const junit_case *c = &cases[i];
        fputs("    <testcase classname=\"", f);
        esc(f, c->classname);
        fputs("\" name=\"", f);
        esc(f, c->name);
        fprintf(f, "\" time=\"%.3f\"", c->seconds);
        if (c->failure) {
            fputs(">\n      <failure message=\"", f);
            esc(f, c->failure);
            fputs("\">", f);
            esc(f, c->failure);
            fputs("</failure>\n    </testcase>\n", f);
        } else if (c->skipped) {
            fputs(">\n      <skipped message=\"", f);
            esc(f, c->skipped);
            fputs("\"/>\n    </testcase>\n", f);
        } else {
            fputs("/>\n", f);
        }
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
