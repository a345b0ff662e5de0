/* nn_text.h: UTF-8 text, checked byte by byte (the corpora of chapters 02, 04, 05).
 *
 * UTF-8 writes a code point in 1 to 4 bytes:
 *   U+0000..U+007F     0xxxxxxx
 *   U+0080..U+07FF     110xxxxx 10xxxxxx
 *   U+0800..U+FFFF     1110xxxx 10xxxxxx 10xxxxxx     (not U+D800..U+DFFF, the surrogates)
 *   U+10000..U+10FFFF  11110xxx 10xxxxxx 10xxxxxx 10xxxxxx
 * and only in the shortest form ("overlong" encodings are invalid). A Latin-1 or
 * Windows-1252 file usually breaks these rules within a few lines, so the loader
 * reports the first bad byte by offset and line instead of feeding mojibake to a
 * character-level model.
 */
#ifndef NN_TEXT_H
#define NN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "nn_common.h"

typedef struct {
  char *bytes;        /* the text, '\0'-terminated, valid UTF-8, without a leading BOM */
  size_t len;         /* bytes, not counting the '\0' */
  size_t codepoints;  /* characters */
  size_t lines;       /* '\n' count, plus one if the last line has no '\n' */
} nn_text;

/* Decode the code point at s[0..len): returns the bytes it takes (1..4) and sets
 * *codepoint, or returns 0 for an invalid sequence (bad lead byte, missing
 * continuation byte, overlong form, surrogate, above U+10FFFF, cut off by len). */
int nn_utf8_decode(const uint8_t *s, size_t len, uint32_t *codepoint);

/* Check `len` bytes (`name` for messages) and copy them into a new *text.
 * Error: NN_ERR_FORMAT, e.g. "emma.txt: invalid UTF-8 at byte 1234 (line 56):
 * 0xe9 0x20 (...); is the file Latin-1? convert it: iconv -f latin1 -t utf-8".
 * Byte offsets count from the start of `bytes`, BOM included, as a hex editor
 * shows them. A NUL byte is refused too (text->bytes is a C string; NULs mean
 * UTF-16 or a binary file), and so is a UTF-16 byte order mark. */
nn_status nn_text_parse(const uint8_t *bytes, size_t len, const char *name, nn_text *text,
                        nn_error *err);
/* Read `path` (plain or .gz) and check it. */
nn_status nn_text_load(const char *path, nn_text *text, nn_error *err);
void nn_text_free(nn_text *text);

#endif
