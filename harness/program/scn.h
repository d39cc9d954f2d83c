/* scn.h — the .scn text form of a program: parse, print, report errors.
 *
 * .scn is line oriented and versioned (`refstorm-scn 1` is the first significant line); the
 * grammar is in docs/scn.md.  Printing is canonical: print(parse(t)) == t for every t that
 * print produced, and parse(print(p)) equals p (program_equal).  Comments and layout are not
 * preserved.  Parsing validates the program (program_validate), so a parsed program is ready
 * to run; errors carry a 1-based line and byte column pointing at the offending token. */
#ifndef RS_SCN_H
#define RS_SCN_H

#include <stddef.h>
#include <stdio.h>

#include "program.h"

typedef prog_error scn_error;

#define SCN_MAX_LINE 4096          /* bytes per line, not counting the line break */
#define SCN_MAX_FILE (64u << 20)   /* scn_parse_file refuses larger files */

/* Parse len bytes (NUL bytes are errors, not terminators).  `name` names the input in error
 * messages (borrowed: err->file points to it; NULL means "<input>").  On success *out holds
 * the program (caller frees with program_free) and 0 is returned; on failure *out is empty
 * (program_init state, nothing to free) and -1 is returned with *err filled in.  `out` need
 * not be initialised on entry. */
int scn_parse_buffer(const char *buf, size_t len, const char *name, program *out, scn_error *err);
/* The same on a file's contents; err->file = path (borrowed).  Open or read failures are
 * reported with line 0. */
int scn_parse_file(const char *path, program *out, scn_error *err);

/* Print canonically; -1 on a write error. */
int scn_print(const program *p, FILE *f);
/* Print into a malloc'd NUL-terminated string (length in *len if len is not NULL); NULL on
 * allocation failure. */
char *scn_print_to_buffer(const program *p, size_t *len);

/* "FILE:LINE:COL: message" (or "FILE: message" when there is no position) into buf; returns
 * what snprintf returns. */
int scn_error_format(const scn_error *e, char *buf, size_t n);

#endif
