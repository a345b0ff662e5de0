/* grade_text.c: cleaning what a student's process printed (grade_text.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "grade_text.h"

/* The code point of the UTF-8 sequence at s (k bytes, already validated). */
static uint32_t code_point(const unsigned char *s, size_t k) {
  if (k == 1) return s[0];
  uint32_t cp = s[0] & (0x7Fu >> k);
  for (size_t i = 1; i < k; i++) cp = (cp << 6) | (s[i] & 63u);
  return cp;
}

/* Length of a valid UTF-8 sequence at s (at most len bytes), 0 if invalid. */
static size_t utf8_length(const unsigned char *s, size_t len) {
  unsigned char c = s[0];
  size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (k == 0 || k > len) return 0;
  for (size_t m = 1; m < k; m++)
    if ((s[m] >> 6) != 2) return 0;
  uint32_t cp = code_point(s, k);
  bool shortest = (k == 2 && cp >= 0x80) || (k == 3 && cp >= 0x800) || (k == 4 && cp >= 0x10000) || k == 1;
  if (!shortest || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return 0;
  return k;
}

/* Characters no feedback needs: controls, and those that reorder what follows them. */
static bool unwanted(uint32_t cp) {
  return (cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

void clean_text(char *dst, size_t n, const char *src, size_t len, bool one_line) {
  size_t o = 0;
  const unsigned char *s = (const unsigned char *)src;
  for (size_t i = 0; i < len && o + 1 < n;) {
    size_t k = utf8_length(s + i, len - i);
    if (k == 0 || unwanted(code_point(s + i, k))) {
      dst[o++] = '?';
      i += k ? k : 1;
      continue;
    }
    if (o + k >= n) break;
    if (k == 1 && one_line && (s[i] == '\n' || s[i] == '\t'))
      dst[o] = ' ';
    else
      memcpy(dst + o, s + i, k);
    o += k, i += k;
  }
  dst[o] = '\0';
}

const char *find_line(const char *out, const char *prefix, char *buf, size_t n) {
  size_t plen = strlen(prefix);
  const char *found = NULL;
  for (const char *p = out; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len >= plen && strncmp(p, prefix, plen) == 0) {
      snprintf(buf, n, "%.*s", (int)(len - plen), p + plen);
      found = buf;
    }
    p = eol ? eol + 1 : NULL;
  }
  return found;
}

const char *last_line(const char *out, char *buf, size_t n) {
  const char *found = NULL;
  for (const char *p = out; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len > 0) {
      snprintf(buf, n, "%.*s", (int)(len < 300 ? len : 300), p);
      found = buf;
    }
    p = eol ? eol + 1 : NULL;
  }
  return found;
}
