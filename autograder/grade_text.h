/* grade_text.h: what the grader does to text that came from a student's process before a
 * person or Gradescope sees it: valid UTF-8, no control characters (C0 but \n and \t, DEL,
 * C1), no bidirectional overrides or isolates (which can make a line read backwards). */
#ifndef GRADE_TEXT_H
#define GRADE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* src[0..len) cleaned into dst (at most n-1 bytes, never half a character); each removed
 * character becomes '?'. one_line: \n and \t become spaces. */
void clean_text(char *dst, size_t n, const char *src, size_t len, bool one_line);
/* The last line of out that starts with prefix, without it, into buf; NULL if none. */
const char *find_line(const char *out, const char *prefix, char *buf, size_t n);
/* The last non-empty line of out, into buf; NULL if none. */
const char *last_line(const char *out, char *buf, size_t n);

#endif
