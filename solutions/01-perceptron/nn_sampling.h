/* nn_sampling.h: balance the classes of a training set by resampling.
 *
 * With 95 negatives and 5 positives a classifier can reach 95% accuracy by ignoring
 * the positives (nn_metrics.h). Resampling the TRAINING set so each class has the same
 * count makes every class weigh the same in the loss. Never resample the test set: it
 * must keep the class mix the model will meet.
 *
 *   under-sampling: each class keeps min_c n_c of its examples, drawn without replacement.
 *                   No duplicates, but data is thrown away.
 *   over-sampling:  each class keeps all its examples and draws max_c n_c - n_c more from
 *                   itself, with replacement (imbalanced-learn's RandomOverSampler). Nothing
 *                   is lost, but copies invite overfitting to the rare examples.
 *   SMOTE:          each smaller class gets max_c n_c - n_c NEW examples (Chawla et al. 2002):
 *                   pick one of its examples x_i at random, one of x_i's k nearest neighbours
 *                   of the same class x_j (Euclidean), and a u uniform in [0, 1):
 *                       x_new = x_i + u (x_j - x_i)
 *                   a point on the segment between two real examples, so the class's region
 *                   fills in instead of stacking copies on the same points. It assumes the
 *                   features are on comparable scales (scale first) and that the segment
 *                   between two examples of a class belongs to that class.
 * Classes absent from y (n_c = 0) are ignored: they cannot be sampled and do not set the min.
 *
 * Both return a new array of indices into y (and into the rows of x), in random order so
 * that batches mix the classes, and its length in *m. The caller gathers the rows
 * (nn_take_rows, nn_take_labels in nn_split.h) and frees the array with free().
 */
#ifndef NN_SAMPLING_H
#define NN_SAMPLING_H

#include "nn_rng.h"
#include "nn_tensor.h"

/* y: (n) labels 0..C-1. Returns (*m) indices, *m = (classes present) * min_c n_c. */
int *nn_undersample(const int *y, int n, int C, nn_rng *rng, int *m);
/* y: (n) labels 0..C-1. Returns (*m) indices, *m = (classes present) * max_c n_c. */
int *nn_oversample(const int *y, int n, int C, nn_rng *rng, int *m);

/* SMOTE on X (n, D), a CPU tensor, with labels y in 0..C-1 and k >= 1 neighbours (5 is the usual).
 * *X_out (a new (m, D) tensor) and *y_out (a new (m) array, free()) hold the n originals first, in
 * order, then the synthetic rows; m = (classes present) * max_c n_c. A class to be grown that has
 * a single example has no neighbour: NN_ERR_ARG, naming it (over-sample it instead). A class of
 * n_c <= k examples uses its n_c - 1 neighbours. */
nn_status nn_smote(const nn_tensor *X, const int *y, int C, int k, nn_rng *rng, nn_tensor *X_out, int **y_out,
                   nn_error *err);

#endif
