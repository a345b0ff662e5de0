/* nn_split.h: which examples train the model and which judge it.
 *
 * A model is scored on examples it never saw; otherwise the score measures memory.
 * Everything here works on indices 0..n-1 into a dataset, drawn with a seeded nn_rng,
 * and nn_take_rows / nn_take_labels then gather the rows:
 *
 *   nn_split s = nn_train_test_split(n, 0.2, y, C, &rng);    s.train: (n_train), s.test: (n_test)
 *   nn_tensor x_train = nn_take_rows(&x, s.train, s.n_train); (n_train, D)
 *   int *y_train = nn_take_labels(y, n, s.train, s.n_train);
 *   ... free(y_train); nn_tensor_free(&x_train); nn_split_free(&s);
 *
 * Stratified: each class keeps its share in each part. On a small or imbalanced set a
 * plain random split can leave a rare class out of the test set; stratifying cannot.
 * Labels `const int *y` are 0..C-1.
 */
#ifndef NN_SPLIT_H
#define NN_SPLIT_H

#include "nn_rng.h"
#include "nn_tensor.h"

/* Two disjoint index lists whose union is 0..n-1, each in random order. */
typedef struct {
  int *train, *test; /* (n_train), (n_test): owned, nn_split_free releases them */
  int n_train, n_test;
} nn_split;

/* Shuffle 0..n-1 and cut it. n_test = ceil(test_fraction * n), as scikit-learn's
 * train_test_split (with a 1e-9 slack, so 0.7 * 10 gives 7, not 8 from 7.000000000000001);
 * n_train = n - n_test. Both must come out >= 1, else it aborts.
 * y == NULL: a plain random split (C is ignored).
 * y != NULL (labels 0..C-1): stratified. Class c of n_c examples sends floor(f * n_c)
 * to the test set; the n_test - sum floor(f * n_c) examples still owed go one each to
 * the classes with the largest remainders f * n_c - floor(f * n_c), ties to the lower
 * class. So every class's test count is within 1 of f * n_c and the total is n_test
 * (scikit-learn's StratifiedShuffleSplit breaks the ties at random instead). */
nn_split nn_train_test_split(int n, double test_fraction, const int *y, int C, nn_rng *rng);
void nn_split_free(nn_split *s);

/* k-fold cross-validation: fold[i] in 0..k-1 for each example i (fold: (n), caller-owned).
 * Fold f is the validation set of round f, the rest train. 2 <= k <= n. Fold sizes differ
 * by at most 1: the first n % k folds hold n/k + 1 examples, the others n/k (scikit-learn's
 * KFold). rng == NULL: contiguous blocks in index order (KFold(shuffle=False));
 * otherwise the indices are shuffled first. */
void nn_kfold(int n, int k, nn_rng *rng, int *fold);

/* Stratified k-fold: as nn_kfold, and each fold's count of class c is within 1 of n_c / k.
 * The examples, class by class (shuffled within each class when rng != NULL), are dealt
 * round-robin to folds 0, 1, ..., k-1, 0, ... with one counter across all classes;
 * fold sizes then also differ by at most 1. A class with fewer than k examples is
 * missing from some folds (scikit-learn warns about this; we allow it). */
void nn_stratified_kfold(const int *y, int n, int C, int k, nn_rng *rng, int *fold);

/* A new CPU tensor of the rows idx[0..m-1] of x, in that order (x: (N, ...), result
 * (m, ...); rows may repeat). The caller frees it with nn_tensor_free. */
nn_tensor nn_take_rows(const nn_tensor *x, const int *idx, int m);
/* A new array of y[idx[j]], j < m (y has n entries). The caller frees it with free(). */
int *nn_take_labels(const int *y, int n, const int *idx, int m);

#endif
