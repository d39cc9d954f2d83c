/* junit.h — JUnit XML for CI systems: one <testsuite> of named test cases, each passed,
 * failed (with a message) or skipped.  Only the subset every CI reader accepts (Jenkins,
 * GitLab, GitHub actions' reporters): testsuite name/tests/failures/skipped/time, testcase
 * classname/name/time, failure message + text, skipped message.  Text is XML-escaped. */
#ifndef RS_JUNIT_H
#define RS_JUNIT_H

#include <stddef.h>

typedef struct junit_case {
    const char *classname;   /* e.g. "refstorm.mutants" */
    const char *name;        /* e.g. "tid-zero-unmerged" */
    double seconds;
    const char *failure;     /* NULL: the case passed (or was skipped) */
    const char *skipped;     /* NULL unless skipped: why */
} junit_case;

/* The whole document as a malloc'd NUL-terminated string; NULL on allocation failure. */
char *junit_render(const char *suite, const junit_case *cases, size_t n, double seconds);

#endif
