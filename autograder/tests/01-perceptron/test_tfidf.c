/* Sparse rows for text: the CSR products against nn_sgemm on the dense matrix,
 * bag-of-words counts and TF-IDF on a three-document example worked by hand, and
 * logistic regression on CSR rows: a double-precision gradient check, and the
 * same weights as the dense nn_logistic_fit on the same data.
 *
 * The TF-IDF values were computed independently with python3's math module:
 *   docs = [["the","cat","sat"], ["the","cat","the","dog"], ["a","dog"]]; n = 3
 *   vocab (by count, then bytes) = ["the","cat","dog","a","sat"]
 *   df  = {w: sum(w in d for d in docs)}              -> the 2, cat 2, dog 2, a 1, sat 1
 *   idf = {w: math.log((1 + n) / (1 + df[w])) + 1}    -> 1.2876820724517808 (df 2), 1.6931471805599454 (df 1)
 *   row = [d.count(w) * idf[w] for w in vocab];  row = [x / math.sqrt(sum(x*x for x in row)) for x in row]
 * By hand: d1 = the 2, cat 1, dog 1, all with the same idf, so its row is
 * (2, 1, 1) / sqrt(6) = (0.816496581, 0.408248290, 0.408248290). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_gemm.h"
#include "nn_logistic.h"
#include "nn_rng.h"
#include "nn_sparse.h"
#include "nn_sparse_logreg.h"
#include "nn_tfidf.h"

/* ---- CSR and its products */
Test(sparse, hand_example_products) {
  /* X = [[1 0 2] [0 0 0] [0 3 0]], the example of nn_sparse.h */
  nn_csr X = nn_csr_new(3, 3, 3);
  memcpy(X.indptr, (int[]){0, 2, 2, 3}, 4 * sizeof(int));
  memcpy(X.indices, (int[]){0, 2, 1}, 3 * sizeof(int));
  memcpy(X.values, (float[]){1, 2, 3}, 3 * sizeof(float));
  nn_csr_check(&X, "test");
  float w[3] = {1, 10, 100}, z[3];
  nn_csr_matvec(&X, NULL, 3, w, z); /* (1*1 + 2*100, 0, 3*10) */
  cr_assert(z[0] == 201.f && z[1] == 0.f && z[2] == 30.f, "X w = (%g, %g, %g), expected (201, 0, 30)", z[0], z[1],
            z[2]);
  float dz[3] = {1, 2, 3}, dw[3] = {1, 1, 1};
  nn_csr_matvec_t_add(&X, NULL, 3, dz, dw); /* X^T dz = (1*1, 3*3, 2*1), added to 1 */
  cr_assert(dw[0] == 2.f && dw[1] == 10.f && dw[2] == 3.f, "dw = 1 + X^T dz = (%g, %g, %g), expected (2, 10, 3)", dw[0],
            dw[1], dw[2]);
  nn_csr_free(&X);
}

/* A (rows, cols) with about `density` non-zeros, uniform in [-1, 1]. */
static nn_tensor random_sparse_dense(nn_rng *rng, int rows, int cols, float density) {
  nn_tensor A = nn_tensor_new(2, (int[]){rows, cols}, NN_CPU);
  for (long i = 0; i < (long)rows * cols; i++)
    A.data[i] = nn_rng_uniform(rng, 0.f, 1.f) < density ? nn_rng_uniform(rng, -1.f, 1.f) : 0.f;
  return A;
}

static void expect_close(const float *got, const float *want, int n, const char *what) {
  for (int i = 0; i < n; i++)
    cr_assert(fabsf(got[i] - want[i]) <= 1e-5f * (1.f + fabsf(want[i])), "%s[%d] = %.7g, nn_sgemm on the dense "
              "matrix gives %.7g", what, i, got[i], want[i]);
}

Test(sparse, products_match_sgemm_on_the_dense_matrix) {
  enum { N = 37, D = 53, B = 9 };
  nn_rng rng = nn_rng_new(7);
  nn_tensor A = random_sparse_dense(&rng, N, D, 0.15f);
  nn_csr X = nn_csr_from_dense(&A);
  nn_csr_check(&X, "nn_csr_from_dense");
  nn_tensor back = nn_csr_to_dense(&X);
  cr_assert_eq(memcmp(back.data, A.data, sizeof(float) * N * D), 0, "nn_csr_to_dense(nn_csr_from_dense(A)) != A");
  float w[D], z_all[N], z_ref[N], dz[B], dw[D], dw_ref[D], dz_full[N] = {0};
  nn_rng_fill_uniform(&rng, w, D, -1.f, 1.f);
  nn_rng_fill_uniform(&rng, dz, B, -1.f, 1.f);
  nn_rng_fill_uniform(&rng, dw, D, -1.f, 1.f);
  memcpy(dw_ref, dw, sizeof dw);
  int rows[B] = {36, 0, 5, 5, 17, 2, 30, 11, 0}; /* any order, repeats allowed */

  nn_sgemm(false, false, N, 1, D, 1.f, A.data, w, 0.f, z_ref, NN_CPU); /* A w */
  nn_csr_matvec(&X, NULL, N, w, z_all);
  expect_close(z_all, z_ref, N, "X w");
  float z[B], z_want[B];
  nn_csr_matvec(&X, rows, B, w, z);
  for (int i = 0; i < B; i++) z_want[i] = z_ref[rows[i]];
  expect_close(z, z_want, B, "X[rows] w");

  for (int i = 0; i < B; i++) dz_full[rows[i]] += dz[i]; /* X[rows]^T dz = A^T (dz scattered to rows) */
  nn_sgemm(true, false, D, 1, N, 1.f, A.data, dz_full, 1.f, dw_ref, NN_CPU);
  nn_csr_matvec_t_add(&X, rows, B, dz, dw);
  expect_close(dw, dw_ref, D, "dw + X[rows]^T dz");
  nn_tensor_free(&A), nn_tensor_free(&back), nn_csr_free(&X);
}

/* ---- bag of words and TF-IDF */
static const char *const DOCS[] = {"the cat sat", "The cat, the dog.", "a dog"};
static const nn_tfidf_options WORDS_TFIDF = {.tokenizer = {NN_TOKENS_WORDS, 0}, .weighting = NN_TFIDF, .min_count = 1};

/* X[i, token] (0 when the token is not in the vocabulary or not in row i). */
static float at(const nn_tfidf *v, const nn_csr *X, int i, const char *token) {
  int j = nn_vocab_find(&v->vocab, token, (int)strlen(token));
  for (int k = X->indptr[i]; j >= 0 && k < X->indptr[i + 1]; k++)
    if (X->indices[k] == j) return X->values[k];
  return 0.f;
}

Test(tfidf, idf_formula) {
  float idf[3];
  nn_tfidf_idf((int[]){0, 1, 3}, 3, 3, idf); /* ln(4/1) + 1, ln(4/2) + 1, ln(4/4) + 1 */
  cr_assert_float_eq(idf[0], 2.386294361f, 1e-6f, "df 0 of n 3: idf %.9f, expected ln 4 + 1 = 2.386294361", idf[0]);
  cr_assert_float_eq(idf[1], 1.693147181f, 1e-6f, "df 1 of n 3: idf %.9f, expected ln 2 + 1 = 1.693147181", idf[1]);
  cr_assert_float_eq(idf[2], 1.f, 1e-6f, "df 3 of n 3 (in every document): idf %.9f, expected 1", idf[2]);
}

Test(tfidf, three_documents_by_hand) {
  nn_tfidf v = nn_tfidf_fit(&WORDS_TFIDF, DOCS, 3);
  const char *vocab[] = {"the", "cat", "dog", "a", "sat"};
  cr_assert_eq(v.vocab.size, 5, "vocabulary of %d tokens, expected 5", v.vocab.size);
  for (int id = 0; id < 5; id++)
    cr_assert_str_eq(nn_vocab_token(&v.vocab, id), vocab[id], "id %d is \"%s\", expected \"%s\"", id,
                     nn_vocab_token(&v.vocab, id), vocab[id]);
  cr_assert_float_eq(v.idf[0], 1.2876820724517808f, 1e-6f, "idf(the) = %.9f", v.idf[0]);
  cr_assert_float_eq(v.idf[4], 1.6931471805599454f, 1e-6f, "idf(sat) = %.9f", v.idf[4]);
  nn_csr X = nn_tfidf_transform(&v, DOCS, 3);
  nn_csr_check(&X, "nn_tfidf_transform");
  cr_assert(X.rows == 3 && X.cols == 5 && X.nnz == 8, "X is (%d, %d) with %d non-zeros, expected (3, 5) with 8",
            X.rows, X.cols, X.nnz);
  const float want[3][5] = {{0.517856116f, 0.517856116f, 0.f, 0.f, 0.68091856f},
                            {0.816496581f, 0.40824829f, 0.40824829f, 0.f, 0.f},
                            {0.f, 0.f, 0.605348508f, 0.795960542f, 0.f}};
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 5; j++) {
      float got = at(&v, &X, i, vocab[j]);
      cr_assert_float_eq(got, want[i][j], 1e-6f, "doc %d, \"%s\": %.9f, expected %.9f", i, vocab[j], got, want[i][j]);
    }
  nn_csr_free(&X);
  nn_tfidf_free(&v);
}

Test(tfidf, rows_have_unit_l2_norm) {
  const char *docs[] = {"a b c a", "b b b", "c d e f g a", "x", "", "영화 최고 영화", "!!!"};
  nn_tfidf v = nn_tfidf_fit(&WORDS_TFIDF, docs, 7);
  nn_csr X = nn_tfidf_transform(&v, docs, 7);
  for (int i = 0; i < X.rows; i++) {
    double sq = 0;
    for (int k = X.indptr[i]; k < X.indptr[i + 1]; k++) sq += (double)X.values[k] * X.values[k];
    bool empty = X.indptr[i] == X.indptr[i + 1];
    cr_assert(empty ? i == 4 || i == 6 : fabs(sqrt(sq) - 1) < 1e-6, "row %d (\"%s\") has L2 norm %.9f, expected %s", i,
              docs[i], sqrt(sq), empty ? "a token" : "1");
  }
  nn_csr_free(&X);
  nn_tfidf_free(&v);
}

Test(tfidf, bag_of_words_counts) {
  nn_tfidf_options opt = WORDS_TFIDF;
  opt.weighting = NN_COUNTS;
  nn_tfidf v = nn_tfidf_fit(&opt, DOCS, 3);
  nn_csr X = nn_tfidf_transform(&v, DOCS, 3);
  cr_assert(at(&v, &X, 1, "the") == 2.f && at(&v, &X, 1, "cat") == 1.f && at(&v, &X, 1, "dog") == 1.f &&
                at(&v, &X, 1, "sat") == 0.f,
            "\"The cat, the dog.\" counts the 2, cat 1, dog 1, sat 0");
  cr_assert_eq(X.indptr[2] - X.indptr[1], 3, "row 1 stores its 3 distinct tokens, not 4 occurrences");
  nn_csr_free(&X);
  nn_tfidf_free(&v);
}

Test(tfidf, words_unseen_in_training_are_ignored) {
  nn_tfidf v = nn_tfidf_fit(&WORDS_TFIDF, DOCS, 3);
  const char *test[] = {"the bird sat", "bird fish", ""};
  nn_csr X = nn_tfidf_transform(&v, test, 3);
  cr_assert(X.rows == 3 && X.cols == 5, "X is (%d, %d), expected (3, 5): the training vocabulary", X.rows, X.cols);
  cr_assert_eq(X.indptr[1], 2, "\"the bird sat\": 2 known tokens, got %d", X.indptr[1]);
  /* the, sat: (idf 1.2877, 1.6931) / norm, as python3 gives */
  cr_assert_float_eq(at(&v, &X, 0, "the"), 0.605348508f, 1e-6f, "the: %.9f", at(&v, &X, 0, "the"));
  cr_assert_float_eq(at(&v, &X, 0, "sat"), 0.795960542f, 1e-6f, "sat: %.9f", at(&v, &X, 0, "sat"));
  cr_assert(X.indptr[2] == 2 && X.indptr[3] == 2, "a document of unseen words is an empty row");
  nn_csr_free(&X);
  nn_tfidf_free(&v);
}

Test(tfidf, min_count_drops_rare_words) {
  nn_tfidf_options opt = WORDS_TFIDF;
  opt.min_count = 2;
  nn_tfidf v = nn_tfidf_fit(&opt, DOCS, 3);
  cr_assert_eq(v.vocab.size, 3, "min_count 2 keeps the, cat, dog; kept %d", v.vocab.size);
  cr_assert(nn_vocab_find(&v.vocab, "sat", 3) < 0 && nn_vocab_find(&v.vocab, "a", 1) < 0, "sat and a occur once");
  nn_csr X = nn_tfidf_transform(&v, DOCS, 3);
  /* d0 keeps the, cat (same idf): each 1/sqrt(2) */
  cr_assert_float_eq(at(&v, &X, 0, "cat"), 0.707106781f, 1e-6f, "d0 cat: %.9f", at(&v, &X, 0, "cat"));
  nn_csr_free(&X);
  nn_tfidf_free(&v);
}

Test(tfidf, max_features_keeps_the_most_frequent) {
  nn_tfidf_options opt = WORDS_TFIDF;
  opt.weighting = NN_COUNTS;
  opt.max_features = 2;
  nn_tfidf v = nn_tfidf_fit(&opt, DOCS, 3);
  cr_assert(v.vocab.size == 2 && nn_vocab_find(&v.vocab, "the", 3) == 0 && nn_vocab_find(&v.vocab, "cat", 3) == 1,
            "max_features 2 keeps the (3) and cat (2, before dog by bytes)");
  nn_tfidf_free(&v);
}

/* ---- logistic regression on CSR rows */

/* The loss in double, from the definition: mean BCE of the rows + lambda/2 ||w||^2. */
static double loss_double(const nn_csr *X, const int *rows, int n, const int *y, const double *w, double b,
                          double lambda) {
  double sum = 0, w2 = 0;
  for (int i = 0; i < n; i++) {
    double z = b;
    for (int k = X->indptr[rows[i]]; k < X->indptr[rows[i] + 1]; k++) z += X->values[k] * w[X->indices[k]];
    sum += fmax(z, 0) - z * y[i] + log1p(exp(-fabs(z)));
  }
  for (int j = 0; j < X->cols; j++) w2 += w[j] * w[j];
  return sum / n + 0.5 * lambda * w2;
}

static double rel_error(double a, double b) { return fabs(a - b) / fmax(fabs(a) + fabs(b), 1e-8); }

Test(sparse_logreg, gradcheck_in_double) {
  enum { N = 12, D = 9, B = 6 };
  nn_rng rng = nn_rng_new(11);
  nn_tensor A = random_sparse_dense(&rng, N, D, 0.4f);
  for (int i = 0; i < N * D; i++) A.data[i] *= 2.f;
  nn_csr X = nn_csr_from_dense(&A);
  int rows[B] = {5, 0, 7, 7, 3, 11}, y[B] = {1, 0, 1, 1, 0, 0};
  const float lambda = 0.1f;
  nn_logistic m = nn_logistic_new(D);
  nn_rng_fill_normal(&rng, m.w.data, D, 0.f, 0.5f);
  m.b = 0.3f;
  float work[2 * B];
  nn_logistic_zero_grad(&m);
  double loss = nn_sparse_logreg_loss_grad(&m, &X, rows, B, y, lambda, work);

  double w[D], h = 1e-5;
  for (int j = 0; j < D; j++) w[j] = m.w.data[j];
  double want = loss_double(&X, rows, B, y, w, m.b, lambda);
  cr_assert(fabs(loss - want) < 1e-5, "loss %.9f, the definition in double gives %.9f", loss, want);
  for (int j = 0; j < D; j++) {
    double keep = w[j];
    w[j] = keep + h;
    double up = loss_double(&X, rows, B, y, w, m.b, lambda);
    w[j] = keep - h;
    double down = loss_double(&X, rows, B, y, w, m.b, lambda);
    w[j] = keep;
    double numeric = (up - down) / (2 * h);
    cr_assert(rel_error(m.dw.data[j], numeric) < 1e-3, "dL/dw[%d]: analytic %.8g, numeric %.8g (rel. error %.2g)", j,
              m.dw.data[j], numeric, rel_error(m.dw.data[j], numeric));
  }
  double up_b = loss_double(&X, rows, B, y, w, m.b + h, lambda);
  double numeric_b = (up_b - loss_double(&X, rows, B, y, w, m.b - h, lambda)) / (2 * h);
  cr_assert(rel_error(m.db, numeric_b) < 1e-3, "dL/db: analytic %.8g, numeric %.8g", m.db, numeric_b);
  nn_logistic_free(&m), nn_csr_free(&X), nn_tensor_free(&A);
}

Test(sparse_logreg, same_weights_as_dense_logistic_regression) {
  enum { N = 60, D = 20 };
  nn_rng rng = nn_rng_new(3);
  nn_tensor A = random_sparse_dense(&rng, N, D, 0.25f);
  int y[N];
  for (int i = 0; i < N; i++) y[i] = A.data[i * D] + A.data[i * D + 1] - A.data[i * D + 2] > 0.f; /* a linear rule */
  nn_csr X = nn_csr_from_dense(&A);
  nn_gd_options opt = {.lr = 0.5f, .epochs = 15, .batch = 8, .lambda = 1e-3f, .seed = 5};
  nn_logistic sparse = nn_logistic_new(D), dense = nn_logistic_new(D);
  double ls = nn_sparse_logreg_fit(&sparse, &X, y, &opt, NULL);
  double ld = nn_logistic_fit(&dense, &A, y, &opt, NULL);
  cr_assert(fabs(ls - ld) < 1e-4, "last-epoch loss: sparse %.7f, dense %.7f", ls, ld);
  for (int j = 0; j < D; j++)
    cr_assert(fabsf(sparse.w.data[j] - dense.w.data[j]) < 1e-4f, "w[%d]: sparse %.7f, dense nn_logistic_fit %.7f", j,
              sparse.w.data[j], dense.w.data[j]);
  cr_assert(fabsf(sparse.b - dense.b) < 1e-4f, "b: sparse %.7f, dense %.7f", sparse.b, dense.b);
  int yhat[N], right = 0;
  nn_sparse_logreg_predict(&sparse, &X, yhat);
  for (int i = 0; i < N; i++) right += yhat[i] == y[i];
  cr_assert(right >= 54, "%d of %d training examples right after 15 epochs, expected at least 54", right, N);
  opt.batch = 0; /* full batch: one step per epoch, rows == NULL */
  nn_logistic full = nn_logistic_new(D), full_dense = nn_logistic_new(D);
  nn_sparse_logreg_fit(&full, &X, y, &opt, NULL);
  nn_logistic_fit(&full_dense, &A, y, &opt, NULL);
  for (int j = 0; j < D; j++)
    cr_assert(fabsf(full.w.data[j] - full_dense.w.data[j]) < 1e-5f, "full batch, w[%d]: sparse %.7f, dense %.7f", j,
              full.w.data[j], full_dense.w.data[j]);
  nn_logistic_free(&sparse), nn_logistic_free(&dense), nn_logistic_free(&full), nn_logistic_free(&full_dense);
  nn_csr_free(&X), nn_tensor_free(&A);
}

Test(sparse_logreg, extremes_are_the_largest_and_smallest_weights) {
  nn_logistic m = nn_logistic_new(6);
  memcpy(m.w.data, (float[]){0.5f, -2.f, 3.f, 0.f, -2.f, 1.f}, 6 * sizeof(float));
  int top[2], bottom[3];
  nn_sparse_logreg_extremes(&m, 2, top, NULL);
  nn_sparse_logreg_extremes(&m, 3, NULL, bottom);
  cr_assert(top[0] == 2 && top[1] == 5, "top 2: ids %d, %d; expected 2 (w 3) and 5 (w 1)", top[0], top[1]);
  cr_assert(bottom[0] == 1 && bottom[1] == 4 && bottom[2] == 3,
            "bottom 3: ids %d, %d, %d; expected 1, 4 (w -2, by id), 3", bottom[0], bottom[1], bottom[2]);
  nn_logistic_free(&m);
}
