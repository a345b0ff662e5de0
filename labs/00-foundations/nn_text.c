/* nn_text.c: UTF-8 checked one code point at a time; the first bad byte is
 * reported by offset and line, with the bytes themselves and the reason. */
#include "nn_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_file.h"

/* The Austen novels are under 1 MB each; 1 GiB bounds what a .gz may inflate to. */
#define MAX_TEXT_BYTES ((size_t)1 << 30)

/* One decoded character, or why the bytes are not one. */
typedef struct {
  uint32_t codepoint;
  int len;         /* bytes it takes, 1..4; 0 when invalid */
  size_t seen;     /* bytes looked at, for the message: the lead up to the bad byte */
  const char *why; /* NULL when valid */
} utf8_char;

static utf8_char invalid(size_t seen, const char *why) { return (utf8_char){0, 0, seen, why}; }

/* The lead byte gives the length and the payload bits; the smallest code point
 * of each length rules out overlong forms (0xc0 0xaf is '/' in two bytes). */
static utf8_char decode(const uint8_t *s, size_t len) {
  if (len == 0) return invalid(0, "no bytes left");
  uint8_t b = s[0];
  if (b < 0x80) return (utf8_char){b, 1, 1, NULL};
  int n;
  uint32_t cp, smallest;
  if (b < 0xc0) return invalid(1, "a continuation byte 10xxxxxx where a character starts");
  if (b < 0xe0) n = 2, cp = b & 0x1fu, smallest = 0x80;
  else if (b < 0xf0) n = 3, cp = b & 0x0fu, smallest = 0x800;
  else if (b < 0xf8) n = 4, cp = b & 0x07u, smallest = 0x10000;
  else return invalid(1, "0xf8..0xff never occur in UTF-8");
  for (int i = 1; i < n; i++) {
    if ((size_t)i >= len) return invalid(len, "the sequence is cut off by the end");
    if ((s[i] & 0xc0) != 0x80) return invalid((size_t)i + 1, "a continuation byte 10xxxxxx is missing");
    cp = cp << 6 | (s[i] & 0x3fu);
  }
  if (cp < smallest) return invalid((size_t)n, "an overlong form: the value fits in fewer bytes");
  if (cp >= 0xd800 && cp <= 0xdfff) return invalid((size_t)n, "a UTF-16 surrogate, U+D800..U+DFFF");
  if (cp > 0x10ffff) return invalid((size_t)n, "above U+10FFFF, the last code point");
  return (utf8_char){cp, n, (size_t)n, NULL};
}

int nn_utf8_decode(const uint8_t *s, size_t len, uint32_t *codepoint) {
  NN_REQUIRE((s || len == 0) && codepoint, "nn_utf8_decode: NULL s or codepoint");
  utf8_char c = decode(s, len);
  if (c.len) *codepoint = c.codepoint;
  return c.len;
}

static size_t line_of(const uint8_t *bytes, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset; i++) line += bytes[i] == '\n';
  return line;
}

/* "invalid UTF-8 at byte 1234 (line 56): 0xe9 0x20 (why); ..." for the
 * character that starts at `at` in the caller's bytes. */
static nn_status report(const uint8_t *bytes, size_t at, utf8_char c, const char *name,
                        nn_error *err) {
  char shown[32] = "";
  for (size_t i = 0, used = 0; i < c.seen && i < 4; i++)
    used += (size_t)snprintf(shown + used, sizeof shown - used, i ? " 0x%02x" : "0x%02x", bytes[at + i]);
  return nn_fail(err, NN_ERR_FORMAT, "%s: invalid UTF-8 at byte %zu (line %zu): %s (%s); is the "
                 "file Latin-1? convert it: iconv -f latin1 -t utf-8 %s", name, at,
                 line_of(bytes, at), shown, c.why, name);
}

/* UTF-16 and binary files fail on their first bytes; say what they are. */
static nn_status check_not_utf16(const uint8_t *bytes, size_t len, const char *name, nn_error *err) {
  if (len >= 2 && ((bytes[0] == 0xff && bytes[1] == 0xfe) || (bytes[0] == 0xfe && bytes[1] == 0xff)))
    return nn_fail(err, NN_ERR_FORMAT, "%s: starts with 0x%02x 0x%02x, the mark of UTF-16; "
                   "convert it: iconv -f utf-16 -t utf-8 %s", name, bytes[0], bytes[1], name);
  const uint8_t *nul = len ? memchr(bytes, 0, len) : NULL;
  if (nul)
    return nn_fail(err, NN_ERR_FORMAT, "%s: a NUL byte at byte %zu (line %zu); text has none: is "
                   "it a binary file, or UTF-16 (iconv -f utf-16 -t utf-8 %s)?", name,
                   (size_t)(nul - bytes), line_of(bytes, (size_t)(nul - bytes)), name);
  return NN_OK;
}

nn_status nn_text_parse(const uint8_t *bytes, size_t len, const char *name, nn_text *text,
                        nn_error *err) {
  NN_REQUIRE((bytes || len == 0) && name && text, "nn_text_parse: NULL bytes, name or text");
  *text = (nn_text){0};
  nn_status st = check_not_utf16(bytes, len, name, err);
  if (st != NN_OK) return st;
  /* A byte order mark (U+FEFF) says "UTF-8"; it is not part of the text. */
  size_t start = len >= 3 && memcmp(bytes, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
  size_t codepoints = 0, newlines = 0;
  for (size_t i = start; i < len;) {
    utf8_char c = decode(bytes + i, len - i);
    if (!c.len) return report(bytes, i, c, name, err);
    newlines += c.codepoint == '\n';
    codepoints++;
    i += (size_t)c.len;
  }
  size_t n = len - start;
  char *copy = malloc(n + 1);
  if (!copy) return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %zu bytes of text", name, n);
  if (n) memcpy(copy, bytes + start, n);
  copy[n] = '\0';
  bool open_last_line = n > 0 && copy[n - 1] != '\n';
  *text = (nn_text){copy, n, codepoints, newlines + open_last_line};
  return NN_OK;
}

nn_status nn_text_load(const char *path, nn_text *text, nn_error *err) {
  NN_REQUIRE(path && text, "nn_text_load: NULL path or text");
  *text = (nn_text){0};
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_status st = nn_file_read(path, MAX_TEXT_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_text_parse(bytes, len, path, text, err);
  free(bytes);
  return st;
}

void nn_text_free(nn_text *text) {
  if (!text) return;
  free(text->bytes);
  *text = (nn_text){0};
}
