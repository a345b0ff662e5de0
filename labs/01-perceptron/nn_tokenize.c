/* nn_tokenize.c: one pass over the code points; a word collects until a
 * separator, then becomes one token (WORDS) or its n-grams (CHAR_NGRAMS). */
#include "nn_tokenize.h"

#include <stdlib.h>
#include <string.h>

#include "nn_common.h"
#include "nn_text.h"

typedef struct { uint32_t lo, hi; } cp_range;

/* Separators above ASCII, inclusive ranges in ascending order (see the header). */
static const cp_range separators[] = {
    {0x0080, 0x00a1},  /* C1 controls, U+00A0 no-break space, ¡ */
    {0x00a7, 0x00a7},  {0x00ab, 0x00ab}, {0x00b6, 0x00b7}, {0x00bb, 0x00bb}, {0x00bf, 0x00bf},
    {0x1680, 0x1680},  /* ogham space mark */
    {0x2000, 0x200d},  /* en quad .. hair space, zero-width space / (non-)joiner / joiner */
    {0x2010, 0x2064},  /* ‐ – — ‘ ’ “ ” • … ‧ ‰ ′ ″ ‹ › ※ ‼ ⁇, the format and space characters among them */
    {0x2e00, 0x2e7f},  /* Supplemental Punctuation */
    {0x3000, 0x3003},  /* ideographic space, 、 。 〃 */
    {0x3008, 0x3011},  /* 〈 〉 《 》 「 」 『 』 【 】 */
    {0x3014, 0x301f},  /* 〔 〕 .. 〜 〝 〞 〟 */
    {0x3030, 0x3030},  {0x303d, 0x303d}, {0x30fb, 0x30fb}, /* 〰 〽 ・ */
    {0xfe10, 0xfe1f},  /* vertical forms */
    {0xfe30, 0xfe6b},  /* CJK compatibility and small form variants */
    {0xfeff, 0xfeff},  /* zero-width no-break space (a stray byte order mark) */
    {0xff01, 0xff0f},  {0xff1a, 0xff20}, {0xff3b, 0xff40}, {0xff5b, 0xff65}, /* fullwidth ！ ？ ， 「 」 */
};

bool nn_token_is_separator(uint32_t cp) {
  if (cp < 0x80) /* controls, space, and ASCII punctuation; letters and digits are not */
    return cp <= 0x20 || cp == 0x7f || (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') ||
           (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
  int lo = 0, hi = (int)(sizeof separators / sizeof separators[0]) - 1;
  while (lo <= hi) { /* binary search for the range holding cp */
    int mid = (lo + hi) / 2;
    if (cp < separators[mid].lo) hi = mid - 1;
    else if (cp > separators[mid].hi) lo = mid + 1;
    else return true;
  }
  return false;
}

/* Append one token of `len` bytes to out. */
static void push_token(nn_tokens *out, const char *s, int len) {
  if (out->count == out->cap) {
    out->cap = out->cap ? 2 * out->cap : 64;
    out->start = realloc(out->start, (size_t)out->cap * sizeof *out->start);
    out->len = realloc(out->len, (size_t)out->cap * sizeof *out->len);
    NN_REQUIRE(out->start && out->len, "nn_tokenize: out of memory for %d tokens", out->cap);
  }
  size_t used = out->count ? (size_t)out->start[out->count - 1] + (size_t)out->len[out->count - 1] + 1 : 0;
  if (used + (size_t)len + 1 > out->bytes_cap) {
    size_t cap = out->bytes_cap ? out->bytes_cap : 256;
    while (cap < used + (size_t)len + 1) cap *= 2;
    out->bytes = realloc(out->bytes, cap);
    NN_REQUIRE(out->bytes, "nn_tokenize: out of memory for %zu bytes of tokens", cap);
    out->bytes_cap = cap;
  }
  NN_REQUIRE(used + (size_t)len < (size_t)INT32_MAX, "nn_tokenize: more than 2 GB of tokens in one text");
  memcpy(out->bytes + used, s, (size_t)len);
  out->bytes[used + (size_t)len] = '\0';
  out->start[out->count] = (int)used;
  out->len[out->count] = len;
  out->count++;
}

/* The current word (out->word, `nbytes` bytes, `ncp` code points starting at
 * out->cp_start[0..ncp)) becomes tokens. */
static void emit_word(const nn_tokenizer *tk, nn_tokens *out, int nbytes, int ncp) {
  if (ncp == 0) return;
  if (tk->mode == NN_TOKENS_WORDS || ncp <= tk->n) {
    push_token(out, out->word, nbytes);
    return;
  }
  out->cp_start[ncp] = nbytes; /* so n-gram i ends where code point i + n starts */
  for (int i = 0; i + tk->n <= ncp; i++)
    push_token(out, out->word + out->cp_start[i], out->cp_start[i + tk->n] - out->cp_start[i]);
}

/* Room in the word scratch for `need` bytes and need + 1 code-point starts. */
static void reserve_word(nn_tokens *out, int need) {
  if (need + 1 <= out->word_cap) return;
  int cap = out->word_cap ? out->word_cap : 64;
  while (cap < need + 1) cap *= 2;
  out->word = realloc(out->word, (size_t)cap);
  out->cp_start = realloc(out->cp_start, (size_t)cap * sizeof *out->cp_start);
  NN_REQUIRE(out->word && out->cp_start, "nn_tokenize: out of memory for a word of %d bytes", need);
  out->word_cap = cap;
}

int nn_tokenize(const nn_tokenizer *tk, const char *text, size_t len, nn_tokens *out) {
  NN_REQUIRE(tk && out && (text || len == 0), "nn_tokenize: NULL tokenizer, text or out");
  NN_REQUIRE(tk->mode == NN_TOKENS_WORDS || (tk->mode == NN_TOKENS_CHAR_NGRAMS && tk->n >= 1),
             "nn_tokenize: mode %d with n = %d; CHAR_NGRAMS needs n >= 1", (int)tk->mode, tk->n);
  NN_REQUIRE(len < (size_t)INT32_MAX, "nn_tokenize: a text of %zu bytes; split it", len);
  out->count = 0;
  out->invalid = 0;
  const uint8_t *s = (const uint8_t *)text;
  int nbytes = 0, ncp = 0; /* the word being collected */
  for (size_t i = 0; i < len;) {
    uint32_t cp = 0;
    int k = nn_utf8_decode(s + i, len - i, &cp);
    if (k == 0 || nn_token_is_separator(cp)) {
      emit_word(tk, out, nbytes, ncp);
      nbytes = ncp = 0;
      out->invalid += k == 0;
      i += k ? (size_t)k : 1;
      continue;
    }
    reserve_word(out, nbytes + k);
    out->cp_start[ncp++] = nbytes;
    for (int b = 0; b < k; b++) out->word[nbytes++] = (char)s[i + (size_t)b];
    if (cp >= 'A' && cp <= 'Z') out->word[nbytes - 1] = (char)(cp - 'A' + 'a');
    i += (size_t)k;
  }
  emit_word(tk, out, nbytes, ncp);
  return out->count;
}

void nn_tokens_free(nn_tokens *t) {
  if (!t) return;
  free(t->bytes);
  free(t->start);
  free(t->len);
  free(t->word);
  free(t->cp_start);
  *t = (nn_tokens){0};
}
