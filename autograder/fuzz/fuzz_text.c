/* libFuzzer target for the UTF-8 checker: any bytes through nn_text_parse,
 * and nn_utf8_decode at every offset, checked against the definition: a
 * decoded code point is a scalar value whose shortest encoding is exactly
 * the bytes it was decoded from.
 *   make fuzz   or   build/fuzz/fuzz_text -max_total_time=60 autograder/fuzz/corpus/text */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_text.h"

/* The shortest UTF-8 encoding of cp into out; returns its length. */
static int encode(uint32_t cp, uint8_t out[4]) {
  if (cp < 0x80) return out[0] = (uint8_t)cp, 1;
  if (cp < 0x800) return out[0] = 0xc0 | cp >> 6, out[1] = 0x80 | (cp & 0x3f), 2;
  if (cp < 0x10000)
    return out[0] = 0xe0 | cp >> 12, out[1] = 0x80 | ((cp >> 6) & 0x3f), out[2] = 0x80 | (cp & 0x3f), 3;
  out[0] = 0xf0 | cp >> 18, out[1] = 0x80 | ((cp >> 12) & 0x3f);
  out[2] = 0x80 | ((cp >> 6) & 0x3f), out[3] = 0x80 | (cp & 0x3f);
  return 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t codepoints = 0;
  for (size_t i = 0; i < size; i++) {
    uint32_t cp = 0;
    int n = nn_utf8_decode(data + i, size - i, &cp);
    if (n == 0) continue;
    uint8_t again[4];
    if (n < 1 || n > 4 || (size_t)n > size - i || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        encode(cp, again) != n || memcmp(again, data + i, (size_t)n) != 0)
      abort();
  }
  nn_text text;
  nn_error err;
  if (nn_text_parse(data, size, "fuzz", &text, &err) == NN_OK) {
    /* a valid text decodes, code point by code point, to the count it reports */
    for (size_t i = 0; i < text.len; codepoints++) {
      uint32_t cp;
      int n = nn_utf8_decode((const uint8_t *)text.bytes + i, text.len - i, &cp);
      if (n == 0) abort();
      i += (size_t)n;
    }
    if (codepoints != text.codepoints || text.bytes[text.len] != '\0') abort();
    nn_text_free(&text);
  }
  return 0;
}
