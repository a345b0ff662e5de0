/* Korean movie-review sentiment (NSMC): the TSV loader on hand-made files, then
 * bag of words and TF-IDF + logistic regression on real reviews, with accuracy
 * and F1 floors on the held-out file.
 *
 * Data, first found of: $NN_NSMC_DIR, datasets/full/nsmc (`make data`),
 * ../shared/datasets/text/nsmc-mini (a 20,000 / 5,000 balanced sample beside the
 * repository, as in CI). Without any, the accuracy tests are SKIPPED, never passed.
 * Training uses the first 20,000 reviews of ratings_train.txt and the first 5,000
 * of ratings_test.txt, so the full corpus runs as fast as the sample.
 *
 * Measured on nsmc-mini (train 20,000, test 5,000), min_count 2, 20 epochs of
 * batches of 128, seed 1:                    accuracy   F1     vocabulary
 *   character bigrams, BOW    (lr 0.5)          0.826    0.825   22,699
 *   character bigrams, TF-IDF (lr 5)            0.829    0.831   22,699
 *   words,             BOW    (lr 0.5)          0.751    0.736   14,164
 *   words,             TF-IDF (lr 5)            0.766    0.788   14,164
 * Floors sit about 3 points below. Bigrams beat words by 6 points: Korean glues
 * particles to nouns ("영화가", "영화는"), so words split one meaning over rare tokens. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_metrics.h"
#include "nn_nsmc.h"
#include "nn_sparse_logreg.h"
#include "nn_tfidf.h"

/* ---- the loader, on bytes */

/* nn_nsmc_parse on an exact-size copy (no '\0' after it), so ASan catches a read past len. */
static nn_status parse(const char *text, size_t len, nn_nsmc *d, nn_error *err) {
  uint8_t *exact = malloc(len ? len : 1);
  memcpy(exact, text, len);
  nn_status st = nn_nsmc_parse(exact, len, "t.txt", d, err);
  free(exact);
  return st;
}

static void expect_error(const char *text, const char *fact1, const char *fact2) {
  nn_nsmc d;
  nn_error err = {0};
  nn_status st = parse(text, strlen(text), &d, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "parsing \"%s\": got %s, expected NN_ERR_FORMAT (message: %s)", text,
               nn_status_name(st), err.msg);
  cr_assert(strncmp(err.msg, "t.txt: ", 7) == 0, "the message must start with the file name: %s", err.msg);
  cr_assert(strstr(err.msg, fact1), "parsing \"%s\": the message must say \"%s\": %s", text, fact1, err.msg);
  cr_assert(!fact2 || strstr(err.msg, fact2), "parsing \"%s\": the message must say \"%s\": %s", text, fact2, err.msg);
  cr_assert(d.n == 0 && d.docs == NULL && d.text == NULL, "after a failure the set must be empty");
}

Test(nsmc, parses_reviews_labels_and_ids) {
  const char text[] = "\xef\xbb\xbfid\tdocument\tlabel\r\n"
                      "9976970\t아 더빙.. 진짜 짜증나네요 목소리\t0\r\n"
                      "3819312\t\t1\n"          /* NSMC has a few empty reviews */
                      "10265843\t\"최고\" 10점!\t1"; /* no quoting; no '\n' at the end */
  nn_nsmc d;
  nn_error err = {0};
  nn_status st = parse(text, sizeof text - 1, &d, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(d.n, 3, "%d reviews, expected 3", d.n);
  cr_assert_str_eq(d.docs[0], "아 더빙.. 진짜 짜증나네요 목소리");
  cr_assert_str_eq(d.docs[1], "");
  cr_assert_str_eq(d.docs[2], "\"최고\" 10점!");
  cr_assert(d.labels[0] == 0 && d.labels[1] == 1 && d.labels[2] == 1, "labels %d %d %d, expected 0 1 1", d.labels[0],
            d.labels[1], d.labels[2]);
  cr_assert(d.ids[0] == 9976970 && d.ids[2] == 10265843, "ids %ld, %ld", d.ids[0], d.ids[2]);
  nn_nsmc_free(&d);
  cr_assert(d.docs == NULL && d.n == 0);
}

Test(nsmc, a_final_newline_adds_no_review) {
  const char text[] = "id\tdocument\tlabel\n1\ta\t1\n";
  nn_nsmc d;
  nn_error err = {0};
  cr_assert_eq(parse(text, sizeof text - 1, &d, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(d.n, 1);
  nn_nsmc_free(&d);
}

Test(nsmc, malformed_files_name_the_line) {
  expect_error("id,document,label\n1,a,1\n", "line 1", "id<TAB>document<TAB>label");
  expect_error("id\tdocument\tlabel\n1\tgood\t1\n2\tbad\n", "line 3: 2 tab-separated fields", "expected 3");
  expect_error("id\tdocument\tlabel\n1\ta\tb\t1\n", "line 2: 4 tab-separated fields", NULL);
  expect_error("id\tdocument\tlabel\n1\tgood\t2\n", "line 2: the label \"2\"", "neither 0");
  expect_error("id\tdocument\tlabel\n1\tgood\t\n", "line 2: the label \"\"", NULL);
  expect_error("id\tdocument\tlabel\nx7\tgood\t1\n", "line 2: the id \"x7\" is not a number", NULL);
  expect_error("id\tdocument\tlabel\n1\ta\t1\n\n2\tb\t0\n", "line 3 is empty", NULL);
  expect_error("id\tdocument\tlabel\n", "no reviews", NULL);
  expect_error("", "the file is empty", "id<TAB>document<TAB>label");
  /* "영화" in CP949 (EUC-KR): 0xbf 0xb5 0xc8 0xad, at byte 20 of the file */
  expect_error("id\tdocument\tlabel\n1\t\xbf\xb5\xc8\xad\t1\n", "line 2: invalid UTF-8 at byte 20", "iconv -f cp949");
}

Test(nsmc, nul_byte_is_refused) {
  const char text[] = "id\tdocument\tlabel\n1\ta\0b\t1\n";
  nn_nsmc d;
  nn_error err = {0};
  cr_assert_eq(parse(text, sizeof text - 1, &d, &err), NN_ERR_FORMAT);
  cr_assert(strstr(err.msg, "NUL byte at byte 21"), "%s", err.msg);
}

Test(nsmc, missing_folder_says_make_data) {
  nn_nsmc d;
  nn_error err = {0};
  nn_status st = nn_nsmc_load("no/such/folder", "train", &d, &err);
  cr_assert_eq(st, NN_ERR_IO, "got %s: %s", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "no/such/folder/ratings_train.txt") && strstr(err.msg, "make data"), "%s", err.msg);
}

/* ---- sentiment on real reviews */
enum { TRAIN_MAX = 20000, TEST_MAX = 5000 };

static bool has_nsmc(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/ratings_train.txt", dir);
  if (access(path, R_OK) == 0) return true;
  snprintf(path, sizeof path, "%s/ratings_train.txt.gz", dir);
  return access(path, R_OK) == 0;
}

/* The first folder that holds NSMC, or NULL. */
static const char *find_nsmc(void) {
  const char *env = getenv("NN_NSMC_DIR");
  const char *dirs[] = {env && *env ? env : NULL, "datasets/full/nsmc", "../shared/datasets/text/nsmc-mini"};
  for (int i = 0; i < 3; i++)
    if (dirs[i] && has_nsmc(dirs[i])) return dirs[i];
  return NULL;
}

typedef struct {
  nn_nsmc train, test;
} nsmc_data;

static nsmc_data load_or_skip(void) {
  const char *dir = find_nsmc();
  if (!dir) cr_skip_test("NSMC not found: run `make data` or set NN_NSMC_DIR");
  nsmc_data d;
  nn_error err = {0};
  nn_status st = nn_nsmc_load(dir, "train", &d.train, &err);
  if (st == NN_OK) st = nn_nsmc_load(dir, "test", &d.test, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  if (d.train.n > TRAIN_MAX) d.train.n = TRAIN_MAX;
  if (d.test.n > TEST_MAX) d.test.n = TEST_MAX;
  cr_log_info("NSMC from %s: %d training and %d test reviews used", dir, d.train.n, d.test.n);
  return d;
}

static void free_data(nsmc_data *d) {
  nn_nsmc_free(&d->train);
  nn_nsmc_free(&d->test);
}

Test(nsmc, data_has_both_labels) {
  nsmc_data d = load_or_skip();
  int pos = 0;
  for (int i = 0; i < d.train.n; i++) pos += d.train.labels[i];
  cr_assert(d.train.n >= 1000 && pos > d.train.n / 3 && pos < 2 * d.train.n / 3,
            "%d training reviews, %d positive: NSMC is about half positive", d.train.n, pos);
  free_data(&d);
}

typedef struct {
  double accuracy, f1;
  int D;
} result;

/* Fit the features on train, train logistic regression, score the test reviews. */
static result train_and_test(nn_tokenizer tk, nn_weighting weighting, float lr, int top_k, char top[][64],
                             char bottom[][64]) {
  nsmc_data d = load_or_skip();
  nn_tfidf_options fo = {.tokenizer = tk, .weighting = weighting, .min_count = 2};
  nn_tfidf v = nn_tfidf_fit(&fo, d.train.docs, d.train.n);
  nn_csr Xtr = nn_tfidf_transform(&v, d.train.docs, d.train.n);
  nn_csr Xte = nn_tfidf_transform(&v, d.test.docs, d.test.n);
  for (int i = 0; weighting == NN_TFIDF && i < Xtr.rows; i++) {
    double sq = 0;
    for (int k = Xtr.indptr[i]; k < Xtr.indptr[i + 1]; k++) sq += (double)Xtr.values[k] * Xtr.values[k];
    cr_assert(sq == 0 || fabs(sq - 1) < 1e-5, "TF-IDF row %d has squared L2 norm %.7f, expected 1", i, sq);
  }
  nn_logistic m = nn_logistic_new(v.vocab.size);
  nn_gd_options go = {.lr = lr, .epochs = 20, .batch = 128, .lambda = 0.f, .seed = 1};
  nn_sparse_logreg_fit(&m, &Xtr, d.train.labels, &go, NULL);
  int *yhat = malloc((size_t)d.test.n * sizeof *yhat);
  nn_sparse_logreg_predict(&m, &Xte, yhat);
  result r = {nn_accuracy(d.test.labels, yhat, d.test.n), nn_f1(d.test.labels, yhat, d.test.n), v.vocab.size};
  int *ids = malloc((size_t)(top_k ? 2 * top_k : 1) * sizeof *ids);
  nn_sparse_logreg_extremes(&m, top_k, ids, ids + top_k);
  for (int i = 0; i < top_k; i++) {
    snprintf(top[i], 64, "%s", nn_vocab_token(&v.vocab, ids[i]));
    snprintf(bottom[i], 64, "%s", nn_vocab_token(&v.vocab, ids[top_k + i]));
  }
  free(ids), free(yhat);
  nn_logistic_free(&m), nn_csr_free(&Xtr), nn_csr_free(&Xte), nn_tfidf_free(&v), free_data(&d);
  return r;
}

static void expect_floor(result r, const char *what, double floor) {
  cr_log_info("%s: accuracy %.4f, F1 %.4f, vocabulary %d", what, r.accuracy, r.f1, r.D);
  cr_assert(r.accuracy >= floor, "%s: test accuracy %.4f, expected at least %.2f (F1 %.4f)", what, r.accuracy, floor,
            r.f1);
  cr_assert(r.f1 >= floor, "%s: test F1 %.4f, expected at least %.2f (accuracy %.4f)", what, r.f1, floor, r.accuracy);
}

static bool listed(char list[][64], int k, const char *token) {
  for (int i = 0; i < k; i++)
    if (strcmp(list[i], token) == 0) return true;
  return false;
}

static const nn_tokenizer BIGRAMS = {NN_TOKENS_CHAR_NGRAMS, 2}, WORDS = {NN_TOKENS_WORDS, 0};

Test(sentiment, char_bigrams_bow) {
  expect_floor(train_and_test(BIGRAMS, NN_COUNTS, 0.5f, 0, NULL, NULL), "character bigrams, BOW", 0.79);
}

Test(sentiment, char_bigrams_tfidf) {
  enum { K = 20 };
  char top[K][64], bottom[K][64];
  result r = train_and_test(BIGRAMS, NN_TFIDF, 5.f, K, top, bottom);
  expect_floor(r, "character bigrams, TF-IDF", 0.79);
  cr_log_info("most positive: %s %s %s %s %s; most negative: %s %s %s %s %s", top[0], top[1], top[2], top[3], top[4],
              bottom[0], bottom[1], bottom[2], bottom[3], bottom[4]);
  cr_assert(listed(top, K, "최고"), "\"최고\" (the best) should be among the %d most positive bigrams; first: %s %s %s",
            K, top[0], top[1], top[2]);
  cr_assert(listed(bottom, K, "최악"),
            "\"최악\" (the worst) should be among the %d most negative bigrams; first: %s %s %s", K, bottom[0],
            bottom[1], bottom[2]);
}

Test(sentiment, words_bow) {
  expect_floor(train_and_test(WORDS, NN_COUNTS, 0.5f, 0, NULL, NULL), "words, BOW", 0.70);
}

Test(sentiment, words_tfidf) {
  expect_floor(train_and_test(WORDS, NN_TFIDF, 5.f, 0, NULL, NULL), "words, TF-IDF", 0.72);
}
