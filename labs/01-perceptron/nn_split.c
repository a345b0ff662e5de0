/* nn_split.c: train/test splits, k-fold assignments, and gathering rows by index. */
#include "nn_split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void require_labels(const char *fn, const int *y, int n, int C) {
  NN_REQUIRE(C >= 1, "%s: C is %d; there must be at least one class", fn, C);
  for (int i = 0; i < n; i++)
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "%s: y[%d] is %d, outside the classes 0..%d", fn, i, y[i], C - 1);
}

/* count[c] = #{i : y[i] = c}; count: (C), caller-owned. */
static void class_counts(const int *y, int n, int C, int *count) {
  memset(count, 0, (size_t)C * sizeof(int));
  for (int i = 0; i < n; i++) count[y[i]]++;
}

/* ceil(x), forgiving the rounding error of a product like 0.7 * 10 = 7.000000000000001. */
static int ceil_slack(double x) { return (int)ceil(x - 1e-9); }
static int floor_slack(double x) { return (int)floor(x + 1e-9); }

/* quota[c]: how many of class c go to the test set (nn_split.h: floor, then the
 * largest remainders, ties to the lower class). */
static void stratified_quota(const int *count, int C, double f, int n_test, int *quota) {
  int given = 0;
  for (int c = 0; c < C; c++) given += quota[c] = floor_slack(f * count[c]);
  for (; given < n_test; given++) {
    int best = -1;
    double best_rem = -1;
    for (int c = 0; c < C; c++) {
      double rem = f * count[c] - quota[c];
      if (quota[c] < count[c] && rem > best_rem + 1e-12) best = c, best_rem = rem;
    }
    quota[best]++; /* best exists: sum of quotas < n_test < n = sum of counts */
  }
}

nn_split nn_train_test_split(int n, double test_fraction, const int *y, int C, nn_rng *rng) {
  NN_REQUIRE(n >= 2, "nn_train_test_split: n is %d; a split needs at least 2 examples", n);
  NN_REQUIRE(test_fraction > 0 && test_fraction < 1, "nn_train_test_split: test_fraction is %g, expected in (0, 1)",
             test_fraction);
  NN_REQUIRE(rng != NULL, "nn_train_test_split: rng is NULL; pass a seeded nn_rng");
  int n_test = ceil_slack(test_fraction * n);
  NN_REQUIRE(n_test >= 1 && n_test <= n - 1,
             "nn_train_test_split: test_fraction %g of n = %d gives %d test and %d train examples; both must be >= 1",
             test_fraction, n, n_test, n - n_test);
  int classes = y ? C : 1;
  if (y) require_labels("nn_train_test_split", y, n, C);
  int *count = nn_xcalloc((size_t)classes * 2, sizeof(int), "nn_train_test_split: class counts");
  int *quota = count + classes;
  if (y) {
    class_counts(y, n, C, count);
    stratified_quota(count, C, test_fraction, n_test, quota);
  } else {
    quota[0] = n_test;
  }
  nn_split s = {.n_train = n - n_test, .n_test = n_test};
  s.train = nn_xmalloc((size_t)s.n_train * sizeof(int), "nn_train_test_split: train indices");
  s.test = nn_xmalloc((size_t)s.n_test * sizeof(int), "nn_train_test_split: test indices");
  int *order = nn_xmalloc((size_t)n * sizeof(int), "nn_train_test_split: permutation");
  nn_rng_permutation(rng, order, n);
  /* Walk a random order; an example goes to test while its class still owes test examples. */
  int tr = 0, te = 0;
  for (int j = 0; j < n; j++) {
    int i = order[j], c = y ? y[i] : 0;
    if (quota[c] > 0) {
      quota[c]--;
      s.test[te++] = i;
    } else {
      s.train[tr++] = i;
    }
  }
  free(order);
  free(count);
  return s;
}

void nn_split_free(nn_split *s) {
  free(s->train);
  free(s->test);
  *s = (nn_split){0};
}

static void require_folds(const char *fn, int n, int k, const int *fold) {
  NN_REQUIRE(n >= 1 && k >= 2 && k <= n, "%s: k is %d and n is %d; k-fold needs 2 <= k <= n", fn, k, n);
  NN_REQUIRE(fold != NULL, "%s: fold is NULL; it needs room for n = %d ints", fn, n);
}

void nn_kfold(int n, int k, nn_rng *rng, int *fold) {
  require_folds("nn_kfold", n, k, fold);
  int *order = nn_xmalloc((size_t)n * sizeof(int), "nn_kfold: order");
  if (rng)
    nn_rng_permutation(rng, order, n);
  else
    for (int i = 0; i < n; i++) order[i] = i;
  /* Position j of the order goes to fold f when j falls in f's block; blocks
   * 0..n%k-1 are one longer. */
  int j = 0;
  for (int f = 0; f < k; f++) {
    int size = n / k + (f < n % k);
    for (int end = j + size; j < end; j++) fold[order[j]] = f;
  }
  free(order);
}

void nn_stratified_kfold(const int *y, int n, int C, int k, nn_rng *rng, int *fold) {
  require_folds("nn_stratified_kfold", n, k, fold);
  NN_REQUIRE(y != NULL, "nn_stratified_kfold: y is NULL");
  require_labels("nn_stratified_kfold", y, n, C);
  int *order = nn_xmalloc((size_t)n * sizeof(int), "nn_stratified_kfold: order");
  if (rng)
    nn_rng_permutation(rng, order, n);
  else
    for (int i = 0; i < n; i++) order[i] = i;
  /* Deal class 0's examples, then class 1's, ..., round-robin over the folds. */
  int dealt = 0;
  for (int c = 0; c < C; c++)
    for (int j = 0; j < n; j++)
      if (y[order[j]] == c) fold[order[j]] = dealt++ % k;
  free(order);
}

nn_tensor nn_take_rows(const nn_tensor *x, const int *idx, int m) {
  NN_REQUIRE(x && x->data && x->ndim >= 1 && x->device == NN_CPU,
             "nn_take_rows: x must be a CPU tensor with data (x is %s)", x ? nn_shape_str(x).s : "NULL");
  NN_REQUIRE(m >= 1 && idx != NULL, "nn_take_rows: m is %d; gather at least one row of x %s", m,
             nn_shape_str(x).s);
  int rows = x->shape[0];
  long row_len = nn_numel(x) / rows;
  int shape[NN_MAX_DIMS];
  memcpy(shape, x->shape, sizeof shape);
  shape[0] = m;
  nn_tensor out = nn_tensor_new(x->ndim, shape, NN_CPU);
  for (int j = 0; j < m; j++) {
    NN_REQUIRE(idx[j] >= 0 && idx[j] < rows, "nn_take_rows: idx[%d] is %d but x is %s", j, idx[j],
               nn_shape_str(x).s);
    memcpy(out.data + (long)j * row_len, x->data + (long)idx[j] * row_len, (size_t)row_len * sizeof(float));
  }
  return out;
}

int *nn_take_labels(const int *y, int n, const int *idx, int m) {
  NN_REQUIRE(y && idx && m >= 1, "nn_take_labels: y or idx is NULL, or m (%d) < 1", m);
  int *out = nn_xmalloc((size_t)m * sizeof(int), "nn_take_labels: labels");
  for (int j = 0; j < m; j++) {
    NN_REQUIRE(idx[j] >= 0 && idx[j] < n, "nn_take_labels: idx[%d] is %d but y has %d labels", j, idx[j], n);
    out[j] = y[idx[j]];
  }
  return out;
}
