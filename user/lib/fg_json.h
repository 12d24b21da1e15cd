/* SPDX-License-Identifier: MIT */
/*
 * The one JSON string writer of the library and the commands. Every name
 * that reaches JSON output (interfaces, files, feed names, sessions from the
 * wire) goes through it, so the output is valid JSON whatever the bytes:
 *   " and \ are escaped, control bytes become \u00XX, valid UTF-8 passes
 *   as it is, and a byte that is not part of valid UTF-8 becomes \uDCXX
 *   (the "surrogateescape" convention: Python's os.fsencode(), for one,
 *   turns the decoded string back into the very same bytes).
 */
#ifndef FG_JSON_H
#define FG_JSON_H

#include <stddef.h>
#include <stdio.h>

/* The quoted string for n bytes at s. */
void fg_json_strn(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated string (NULL prints null). */
void fg_json_str(FILE *f, const char *s);

#endif /* FG_JSON_H */
