/* Splits: train/test (plain and stratified), k-fold, stratified k-fold, gathering rows.
 * Partition properties (every index once), determinism per seed, class proportions
 * on iris (50/50/50) and on an uneven toy set. Tests run from the repository root. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "nn_csv.h"
#include "nn_split.h"

/* iris's 150 labels as ints 0..2 (the target column holds 0, 1, 2). */
static void iris_labels(int *y) {
  nn_table t;
  nn_error err = {0};
  nn_status st = nn_csv_load("datasets/tabular/iris.csv.gz", &(nn_csv_options){.target = "target"}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(t.rows, 150);
  for (int i = 0; i < 150; i++) y[i] = (int)t.y.data[i];
  nn_table_free(&t);
}

/* train and test are disjoint and together hold each of 0..n-1 exactly once. */
static void assert_partition(const nn_split *s, int n) {
  cr_assert_eq(s->n_train + s->n_test, n, "%d train + %d test != n = %d", s->n_train, s->n_test, n);
  int *seen = calloc((size_t)n, sizeof(int));
  for (int j = 0; j < s->n_train; j++) {
    int i = s->train[j];
    cr_assert(i >= 0 && i < n, "train[%d] = %d is not an index of 0..%d", j, i, n - 1);
    cr_assert_eq(seen[i]++, 0, "index %d appears twice in train", i);
  }
  for (int j = 0; j < s->n_test; j++) {
    int i = s->test[j];
    cr_assert(i >= 0 && i < n, "test[%d] = %d is not an index of 0..%d", j, i, n - 1);
    cr_assert_eq(seen[i]++, 0, "index %d is in train and test (or twice in test)", i);
  }
  free(seen);
}

/* Fold sizes differ by at most 1 and every fold id is in 0..k-1. */
static void assert_folds(const int *fold, int n, int k) {
  int size[64] = {0}, lo = n, hi = 0;
  for (int i = 0; i < n; i++) {
    cr_assert(fold[i] >= 0 && fold[i] < k, "fold[%d] = %d, expected 0..%d", i, fold[i], k - 1);
    size[fold[i]]++;
  }
  for (int f = 0; f < k; f++) lo = size[f] < lo ? size[f] : lo, hi = size[f] > hi ? size[f] : hi;
  cr_assert(hi - lo <= 1, "fold sizes range from %d to %d; they must differ by at most 1", lo, hi);
}

Test(split, train_test_is_a_partition_of_the_right_size) {
  nn_rng rng = nn_rng_new(1);
  nn_split s = nn_train_test_split(101, 0.25, NULL, 0, &rng);
  cr_assert_eq(s.n_test, 26, "ceil(0.25 * 101) = 26 test examples, got %d", s.n_test);
  cr_assert_eq(s.n_train, 75);
  assert_partition(&s, 101);
  nn_split_free(&s);
  cr_assert_null(s.train);
}

Test(split, test_size_forgives_rounding_of_the_product) {
  nn_rng rng = nn_rng_new(1);
  nn_split s = nn_train_test_split(10, 0.7, NULL, 0, &rng); /* 0.7 * 10 = 7.000000000000001 in double */
  cr_assert_eq(s.n_test, 7, "70%% of 10 is 7 test examples, got %d", s.n_test);
  nn_split_free(&s);
}

Test(split, same_seed_same_split_other_seed_other_split) {
  nn_rng a = nn_rng_new(42), b = nn_rng_new(42), c = nn_rng_new(43);
  nn_split sa = nn_train_test_split(200, 0.2, NULL, 0, &a), sb = nn_train_test_split(200, 0.2, NULL, 0, &b),
           sc = nn_train_test_split(200, 0.2, NULL, 0, &c);
  cr_assert(memcmp(sa.test, sb.test, 40 * sizeof(int)) == 0 && memcmp(sa.train, sb.train, 160 * sizeof(int)) == 0,
            "seed 42 twice gave two different splits");
  cr_assert(memcmp(sa.test, sc.test, 40 * sizeof(int)) != 0, "seeds 42 and 43 gave the same test set");
  nn_split_free(&sa);
  nn_split_free(&sb);
  nn_split_free(&sc);
}

Test(split, stratified_split_of_iris_keeps_ten_of_each_class_in_test) {
  int y[150];
  iris_labels(y);
  nn_rng rng = nn_rng_new(7);
  nn_split s = nn_train_test_split(150, 0.2, y, 3, &rng);
  assert_partition(&s, 150);
  int test_count[3] = {0};
  for (int j = 0; j < s.n_test; j++) test_count[y[s.test[j]]]++;
  cr_assert(test_count[0] == 10 && test_count[1] == 10 && test_count[2] == 10,
            "20%% of 50/50/50 is 10/10/10 per class in test, got %d/%d/%d", test_count[0], test_count[1],
            test_count[2]);
  nn_split_free(&s);
}

/* Counts 7, 5, 3 (n = 15), f = 0.3: n_test = ceil(4.5) = 5. f n_c = 2.1, 1.5, 0.9 ->
 * floors 2, 1, 0 (3 given), 2 more to the largest remainders 0.9 (class 2), 0.5 (class 1):
 * test counts 2, 2, 1. */
Test(split, stratified_split_rounds_by_largest_remainder) {
  int y[15];
  for (int i = 0; i < 15; i++) y[i] = i < 7 ? 0 : i < 12 ? 1 : 2;
  for (uint64_t seed = 0; seed < 5; seed++) {
    nn_rng rng = nn_rng_new(seed);
    nn_split s = nn_train_test_split(15, 0.3, y, 3, &rng);
    assert_partition(&s, 15);
    int c[3] = {0};
    for (int j = 0; j < s.n_test; j++) c[y[s.test[j]]]++;
    cr_assert(s.n_test == 5 && c[0] == 2 && c[1] == 2 && c[2] == 1,
              "seed %d: test holds %d (%d/%d/%d per class), expected 5 (2/2/1)", (int)seed, s.n_test, c[0], c[1],
              c[2]);
    nn_split_free(&s);
  }
}

Test(split, kfold_puts_each_index_in_one_fold_of_near_equal_size) {
  int fold[103];
  nn_rng rng = nn_rng_new(3);
  nn_kfold(103, 5, &rng, fold); /* 103 = 5 * 20 + 3: sizes 21, 21, 21, 20, 20 */
  assert_folds(fold, 103, 5);
  int size[5] = {0};
  for (int i = 0; i < 103; i++) size[fold[i]]++;
  for (int f = 0; f < 5; f++) cr_assert_eq(size[f], f < 3 ? 21 : 20, "fold %d has %d examples", f, size[f]);
}

Test(split, kfold_without_rng_is_contiguous_blocks) {
  int fold[7];
  nn_kfold(7, 3, NULL, fold); /* sizes 3, 2, 2 */
  const int want[7] = {0, 0, 0, 1, 1, 2, 2};
  for (int i = 0; i < 7; i++) cr_assert_eq(fold[i], want[i], "fold[%d] = %d, expected %d", i, fold[i], want[i]);
}

Test(split, kfold_is_deterministic_per_seed) {
  int a[50], b[50], c[50];
  nn_rng ra = nn_rng_new(9), rb = nn_rng_new(9), rc = nn_rng_new(10);
  nn_kfold(50, 5, &ra, a);
  nn_kfold(50, 5, &rb, b);
  nn_kfold(50, 5, &rc, c);
  cr_assert(memcmp(a, b, sizeof a) == 0, "seed 9 twice gave different folds");
  cr_assert(memcmp(a, c, sizeof a) != 0, "seeds 9 and 10 gave the same folds");
}

Test(split, stratified_kfold_of_iris_has_ten_of_each_class_per_fold) {
  int y[150], fold[150];
  iris_labels(y);
  nn_rng rng = nn_rng_new(5);
  nn_stratified_kfold(y, 150, 3, 5, &rng, fold);
  assert_folds(fold, 150, 5);
  int count[5][3] = {{0}};
  for (int i = 0; i < 150; i++) count[fold[i]][y[i]]++;
  for (int f = 0; f < 5; f++)
    for (int c = 0; c < 3; c++)
      cr_assert_eq(count[f][c], 10, "fold %d holds %d of class %d, expected 10 (50 / 5)", f, count[f][c], c);
}

Test(split, stratified_kfold_keeps_uneven_classes_within_one_of_proportional) {
  nn_rng rng = nn_rng_new(21);
  for (int trial = 0; trial < 20; trial++) {
    int n = 30 + (int)nn_rng_below(&rng, 70), k = 2 + (int)nn_rng_below(&rng, 6), C = 4, y[100], fold[100];
    for (int i = 0; i < n; i++) y[i] = (int)nn_rng_below(&rng, 10) < 6 ? 0 : 1 + (int)nn_rng_below(&rng, 3);
    nn_stratified_kfold(y, n, C, k, &rng, fold);
    assert_folds(fold, n, k);
    int total[4] = {0}, count[8][4] = {{0}};
    for (int i = 0; i < n; i++) total[y[i]]++, count[fold[i]][y[i]]++;
    for (int f = 0; f < k; f++)
      for (int c = 0; c < C; c++)
        cr_assert(fabs(count[f][c] - (double)total[c] / k) < 1,
                  "trial %d: fold %d of %d holds %d of class %d's %d examples, not within 1 of %g", trial, f, k,
                  count[f][c], c, total[c], (double)total[c] / k);
  }
}

Test(split, take_rows_gathers_in_index_order) {
  const float v[8] = {0, 1, 10, 11, 20, 21, 30, 31};
  nn_tensor x = nn_tensor_from(2, (int[]){4, 2}, v);
  const int idx[3] = {3, 0, 3};
  nn_tensor t = nn_take_rows(&x, idx, 3);
  cr_assert(t.ndim == 2 && t.shape[0] == 3 && t.shape[1] == 2, "took 3 rows of (4, 2), got %s", nn_shape_str(&t).s);
  const float want[6] = {30, 31, 0, 1, 30, 31};
  for (int i = 0; i < 6; i++) cr_assert_eq(t.data[i], want[i], "data[%d] = %g, expected %g", i, t.data[i], want[i]);
  const int y[4] = {5, 6, 7, 8};
  int *ty = nn_take_labels(y, 4, idx, 3);
  cr_assert(ty[0] == 8 && ty[1] == 5 && ty[2] == 8, "labels %d %d %d, expected 8 5 8", ty[0], ty[1], ty[2]);
  free(ty);
  nn_tensor_free(&t);
  nn_tensor_free(&x);
}

Test(split, k_greater_than_n_aborts, .signal = SIGABRT) {
  int fold[3];
  nn_kfold(3, 4, NULL, fold);
}
Test(split, stratified_k_greater_than_n_aborts, .signal = SIGABRT) {
  int y[3] = {0, 1, 0}, fold[3];
  nn_stratified_kfold(y, 3, 2, 4, NULL, fold);
}
Test(split, test_fraction_leaving_no_train_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_train_test_split(4, 0.9, NULL, 0, &rng); /* ceil(3.6) = 4 test, 0 train */
}
Test(split, take_rows_out_of_range_aborts, .signal = SIGABRT) {
  nn_tensor x = nn_tensor_new(2, (int[]){4, 2}, NN_CPU);
  nn_take_rows(&x, (int[]){4}, 1);
}
