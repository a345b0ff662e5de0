/* nn_tokenize.h: UTF-8 text -> tokens, the first step of a bag of words.
 *
 * A text is cut into WORDS at separators:
 *   - white space: ASCII (space, \t \n \v \f \r) and Unicode (U+00A0, U+2000..U+200A,
 *     U+3000 the ideographic space, ...), zero-width spaces, control characters;
 *   - punctuation: ASCII !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~, Latin-1 ¡ § « ¶ · » ¿,
 *     General Punctuation U+2010..U+205E (‐ – — ‘ ’ “ ” … ‧ ‰ ※ ‼), CJK punctuation
 *     (、 。 〈 〉 《 》 「 」 『 』 【 】 〜), the fullwidth forms of ASCII punctuation (！ ？ ，)
 *     and of 「」、・.
 * Everything else is part of a word: letters of any script, digits, Hangul syllables
 * and jamo (ㅋㅋ), symbols (★ ♥) and emoji. ASCII A..Z become a..z; other scripts are
 * left as they are (Hangul has no case). So
 *     "This movie, was GREAT!!"  ->  this | movie | was | great
 *     "don't"                    ->  don | t          (the apostrophe is punctuation)
 *
 * Korean attaches particles to words ("영화가", "영화는", "영화를" are one noun), so
 * word counts split one meaning over many rare tokens. The usual baseline is
 * CHAR_NGRAMS: the n-grams of code points (for Hangul, syllables) inside each word:
 *     "최고의 영화!" with n = 2  ->  최고 | 고의 | 영화
 * N-grams do not cross word boundaries: "의 영" would only add noise from the spacing,
 * which is inconsistent in reviews. A word shorter than n code points is one token
 * by itself, so "굿" (good) or "a" is not lost. Not scikit-learn's analyzer="char_wb":
 * that pads each word with a space first, so it also emits edge n-grams (" 최", "의 ")
 * and a short word only with its spaces; the two vocabularies differ.
 *
 * Invalid UTF-8 (a Latin-1 byte, a cut sequence) is not an error here: each bad byte
 * is a separator, and `invalid` counts them so a caller can warn. Loaders check the
 * encoding of a file up front (nn_text.h); the tokenizer must not crash on any bytes.
 */
#ifndef NN_TOKENIZE_H
#define NN_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { NN_TOKENS_WORDS, NN_TOKENS_CHAR_NGRAMS } nn_token_mode;

typedef struct {
  nn_token_mode mode;
  int n; /* CHAR_NGRAMS: code points per token, >= 1 (2 = syllable bigrams); ignored for WORDS */
} nn_tokenizer;

/* The tokens of one text. Token i is the '\0'-terminated string bytes + start[i]
 * of len[i] bytes. nn_tokenize reuses the buffers, so one nn_tokens serves a whole
 * corpus, document after document; start from (nn_tokens){0}. */
typedef struct {
  int count;    /* tokens */
  long invalid; /* bytes that were not valid UTF-8 (skipped as separators) */
  char *bytes;  /* the tokens, one after the other, each followed by '\0' */
  int *start, *len;
  size_t bytes_cap;
  int cap;
  /* scratch for the current word: its bytes and where each code point starts */
  char *word;
  int *cp_start;
  int word_cap;
} nn_tokens;

/* Cut text[0..len) into out (replacing what it held). Returns out->count. */
int nn_tokenize(const nn_tokenizer *tk, const char *text, size_t len, nn_tokens *out);
void nn_tokens_free(nn_tokens *t);

/* Token i of t, a '\0'-terminated string. */
static inline const char *nn_token(const nn_tokens *t, int i) { return t->bytes + t->start[i]; }

/* True when code point cp ends a word (white space, control or punctuation, above). */
bool nn_token_is_separator(uint32_t cp);

#endif
