/* Tokenizer and vocabulary: hand-cut English and Korean texts, Unicode
 * punctuation, character n-grams, invalid UTF-8; the vocabulary's ids, counts,
 * document frequencies, pruning and its hash table under growth.
 *
 * FNV-1a values were computed independently with python3:
 *   h = 14695981039346656037; for c in s.encode(): h = ((h ^ c) * 1099511628211) % 2**64 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn_tokenize.h"
#include "nn_vocab.h"

/* Tokenize `text` (from an exact-size copy with no '\0', so ASan catches a read
 * past len) and compare with the expected tokens, given as NULL-terminated list. */
static void expect_tokens(nn_tokenizer tk, const char *text, ...) {
  size_t len = strlen(text);
  char *exact = malloc(len ? len : 1);
  memcpy(exact, text, len);
  nn_tokens t = {0};
  int n = nn_tokenize(&tk, exact, len, &t);
  free(exact);
  va_list ap;
  va_start(ap, text);
  int i = 0;
  for (const char *want; (want = va_arg(ap, const char *)); i++) {
    cr_assert(i < n, "\"%s\": %d tokens, expected token %d \"%s\" too", text, n, i, want);
    cr_assert_str_eq(nn_token(&t, i), want, "\"%s\": token %d is \"%s\", expected \"%s\"", text, i,
                     nn_token(&t, i), want);
    cr_assert_eq(t.len[i], (int)strlen(want), "\"%s\": token %d has len %d, expected %zu", text, i, t.len[i],
                 strlen(want));
  }
  va_end(ap);
  cr_assert_eq(n, i, "\"%s\": %d tokens, expected %d (token %d is \"%s\")", text, n, i, i,
               n > i ? nn_token(&t, i) : "");
  cr_assert_eq(t.count, n);
  nn_tokens_free(&t);
}

static const nn_tokenizer words = {NN_TOKENS_WORDS, 0};
static const nn_tokenizer bigrams = {NN_TOKENS_CHAR_NGRAMS, 2};

Test(tokenize, english_words_lower_cased_punctuation_dropped) {
  expect_tokens(words, "This movie, was GREAT!!", "this", "movie", "was", "great", NULL);
  expect_tokens(words, "  don't\tstop-me\n(now) 10/10 ", "don", "t", "stop", "me", "now", "10", "10", NULL);
  expect_tokens(words, "a.b,c;d:e?f", "a", "b", "c", "d", "e", "f", NULL);
}

Test(tokenize, korean_words_and_unicode_punctuation) {
  expect_tokens(words, "정말 최고의 영화…ㅋㅋ 「추천」", "정말", "최고의", "영화", "ㅋㅋ", "추천", NULL);
  /* “ ” ‘ ’ · — ！ 、 。 and the ideographic space U+3000 all separate */
  expect_tokens(words, "“좋아요” ‘최고’·굿 — 10점！재미、감동。끝\xe3\x80\x80ok",
                "좋아요", "최고", "굿", "10점", "재미", "감동", "끝", "ok", NULL);
  /* symbols and emoji are not punctuation: they stay tokens */
  expect_tokens(words, "★★★★★ 강추 😀", "★★★★★", "강추", "😀", NULL);
  /* only ASCII is lower-cased */
  expect_tokens(words, "ÉCOLE Straße", "École", "straße", NULL);
}

Test(tokenize, char_bigrams_stay_inside_words) {
  expect_tokens(bigrams, "최고의 영화!", "최고", "고의", "영화", NULL);
  expect_tokens(bigrams, "영화가 영화는", "영화", "화가", "영화", "화는", NULL);
  /* a word shorter than n is kept whole, so "굿" (good) is not lost */
  expect_tokens(bigrams, "굿 a Bc!", "굿", "a", "bc", NULL);
  expect_tokens((nn_tokenizer){NN_TOKENS_CHAR_NGRAMS, 3}, "abcd 재밌다", "abc", "bcd", "재밌다", NULL);
  expect_tokens((nn_tokenizer){NN_TOKENS_CHAR_NGRAMS, 1}, "가나 x", "가", "나", "x", NULL);
}

Test(tokenize, empty_and_separator_only_texts_give_no_tokens) {
  expect_tokens(words, "", NULL);
  expect_tokens(words, " \t\n!?…「」", NULL);
  expect_tokens(bigrams, "...", NULL);
}

Test(tokenize, invalid_utf8_bytes_are_separators_and_counted) {
  nn_tokens t = {0};
  /* 0xff never occurs in UTF-8; 0xe2 0x82 is a euro sign cut short (2 bad bytes) */
  const char text[] = "ab\xff" "cd \xe2\x82 ef";
  int n = nn_tokenize(&words, text, sizeof text - 1, &t);
  cr_assert_eq(n, 3, "expected ab | cd | ef, got %d tokens", n);
  cr_assert_str_eq(nn_token(&t, 0), "ab");
  cr_assert_str_eq(nn_token(&t, 1), "cd");
  cr_assert_str_eq(nn_token(&t, 2), "ef");
  cr_assert_eq(t.invalid, 3, "3 invalid bytes, counted %ld", t.invalid);
  /* a sequence cut by the end of the text */
  n = nn_tokenize(&bigrams, "xyz\xed", 4, &t);
  cr_assert(n == 2 && t.invalid == 1, "xyz + a cut lead byte: %d tokens, %ld invalid; expected 2 and 1", n, t.invalid);
  /* a surrogate (invalid in UTF-8) inside a Korean word splits it */
  n = nn_tokenize(&words, "영화\xed\xa0\x80좋다", strlen("영화\xed\xa0\x80좋다"), &t);
  cr_assert(n == 2 && t.invalid == 3, "surrogate: %d tokens, %ld invalid; expected 2 and 3", n, t.invalid);
  nn_tokens_free(&t);
}

Test(tokenize, buffers_are_reused_between_texts) {
  nn_tokens t = {0};
  char long_text[5000];
  for (int i = 0; i < 999; i++) memcpy(long_text + 5 * i, "word ", 5);
  long_text[4995] = '\0';
  cr_assert_eq(nn_tokenize(&words, long_text, strlen(long_text), &t), 999);
  cr_assert_eq(nn_tokenize(&words, "one two", 7, &t), 2, "the count must restart at each text");
  cr_assert_str_eq(nn_token(&t, 1), "two");
  nn_tokens_free(&t);
  cr_assert(t.bytes == NULL && t.count == 0);
}

Test(tokenize, separator_table) {
  uint32_t sep[] = {' ', '\t', '!', '/', '@', '[', '`', '~', 0x7f, 0xa0, 0xb7, 0xab, 0x2014, 0x2019, 0x201c, 0x2026,
                    0x3000, 0x3001, 0x300c, 0x300d, 0xff01, 0xff1f, 0xfeff};
  uint32_t word[] = {'a', 'Z', '0', '9', 0xe9, 0xac00 /* 가 */, 0xd7a3 /* 힣 */, 0x3131 /* ㄱ */, 0x314b /* ㅋ */,
                     0x2605 /* ★ */, 0x2665 /* ♥ */, 0x1f600 /* 😀 */, 0x4e00 /* 一 */};
  for (size_t i = 0; i < sizeof sep / sizeof sep[0]; i++)
    cr_assert(nn_token_is_separator(sep[i]), "U+%04X must separate words", sep[i]);
  for (size_t i = 0; i < sizeof word / sizeof word[0]; i++)
    cr_assert(!nn_token_is_separator(word[i]), "U+%04X belongs to a word", word[i]);
}

/* ---- the vocabulary */
static void add_text(nn_vocab *v, const char *text) {
  nn_tokens t = {0};
  nn_tokenize(&words, text, strlen(text), &t);
  nn_vocab_add_document(v, &t);
  nn_tokens_free(&t);
}

Test(vocab, fnv1a_known_values) {
  cr_assert_eq(nn_fnv1a64("", 0), 0xcbf29ce484222325ull);
  cr_assert_eq(nn_fnv1a64("a", 1), 0xaf63dc4c8601ec8cull);
  cr_assert_eq(nn_fnv1a64("foobar", 6), 0x85944171f73967e8ull);
  cr_assert_eq(nn_fnv1a64("영화", strlen("영화")), 0x117f16cf81bd0782ull);
}

Test(vocab, counts_document_frequency_and_lookup) {
  nn_vocab v = {0};
  add_text(&v, "a a a");
  add_text(&v, "a b");
  cr_assert_eq(v.size, 2);
  cr_assert_eq(v.docs, 2);
  int a = nn_vocab_find(&v, "a", 1), b = nn_vocab_find(&v, "b", 1);
  cr_assert(a == 0 && b == 1, "before pruning ids follow first occurrence: a %d, b %d", a, b);
  cr_assert(v.count[a] == 4 && v.df[a] == 2, "a: count %ld df %d, expected 4 and 2", v.count[a], v.df[a]);
  cr_assert(v.count[b] == 1 && v.df[b] == 1, "b: count %ld df %d, expected 1 and 1", v.count[b], v.df[b]);
  cr_assert_eq(nn_vocab_find(&v, "c", 1), -1, "an absent token has id -1");
  cr_assert_eq(nn_vocab_find(&v, "ab", 2), -1);
  cr_assert_str_eq(nn_vocab_token(&v, b), "b");
  nn_vocab_free(&v);
}

Test(vocab, prune_orders_by_count_then_bytes) {
  nn_vocab v = {0};
  add_text(&v, "d b a b c b a dd");
  nn_vocab_prune(&v, 1, 0);
  const char *want[] = {"b", "a", "c", "d", "dd"}; /* 3, 2, then the 1s by bytes, a prefix first */
  cr_assert_eq(v.size, 5);
  for (int id = 0; id < 5; id++) {
    cr_assert_str_eq(nn_vocab_token(&v, id), want[id], "id %d is \"%s\", expected \"%s\"", id, nn_vocab_token(&v, id),
                     want[id]);
    cr_assert_eq(nn_vocab_find(&v, want[id], (int)strlen(want[id])), id, "the table must follow the new ids");
  }
  cr_assert(v.count[0] == 3 && v.df[0] == 1 && v.count[1] == 2, "counts must move with their tokens");
  nn_vocab_free(&v);
}

Test(vocab, prune_min_count_and_max_size) {
  nn_vocab v = {0};
  add_text(&v, "x x x y y z w");
  nn_vocab_prune(&v, 2, 0);
  cr_assert_eq(v.size, 2, "min_count 2 keeps x, y; kept %d", v.size);
  cr_assert(nn_vocab_find(&v, "z", 1) == -1 && nn_vocab_find(&v, "w", 1) == -1, "z and w occur once: dropped");
  nn_vocab_prune(&v, 0, 1);
  cr_assert(v.size == 1 && nn_vocab_find(&v, "x", 1) == 0, "max_size 1 keeps the most frequent, x");
  nn_vocab_free(&v);
}

Test(vocab, hash_table_grows_and_finds_every_token) {
  nn_vocab v = {0};
  char tok[32];
  enum { N = 50000 };
  for (int i = 0; i < N; i++) {
    int len = snprintf(tok, sizeof tok, "t%d", i);
    for (int r = 0; r <= i % 3; r++) nn_vocab_add(&v, tok, len); /* counts 1, 2, 3, 1, 2, 3, ... */
  }
  cr_assert_eq(v.size, N);
  cr_assert(2 * v.size <= v.nslots, "load %d / %d is above 1/2", v.size, v.nslots);
  for (int i = 0; i < N; i++) {
    int len = snprintf(tok, sizeof tok, "t%d", i);
    int id = nn_vocab_find(&v, tok, len);
    cr_assert(id == i && v.count[id] == i % 3 + 1, "%s: id %d count %ld, expected %d and %d", tok, id,
              id >= 0 ? v.count[id] : -1L, i, i % 3 + 1);
  }
  cr_assert_eq(nn_vocab_find(&v, "t50000", 6), -1);
  nn_vocab_prune(&v, 3, 0);
  cr_assert_eq(v.size, N / 3, "count >= 3 keeps every third token, kept %d", v.size);
  /* all have count 3, so bytes decide: "t10001" < "t1001" < "t101" < "t11" < ... */
  cr_assert_str_eq(nn_vocab_token(&v, 0), "t10001", "id 0 is \"%s\"", nn_vocab_token(&v, 0));
  cr_assert_str_eq(nn_vocab_token(&v, 1), "t10004", "id 1 is \"%s\"", nn_vocab_token(&v, 1));
  nn_vocab_free(&v);
}
