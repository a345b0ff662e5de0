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
 * Classes absent from y (n_c = 0) are ignored: they cannot be sampled and do not set the min.
 *
 * Both return a new array of indices into y (and into the rows of x), in random order so
 * that batches mix the classes, and its length in *m. The caller gathers the rows
 * (nn_take_rows, nn_take_labels in nn_split.h) and frees the array with free().
 */
#ifndef NN_SAMPLING_H
#define NN_SAMPLING_H

#include "nn_rng.h"

/* y: (n) labels 0..C-1. Returns (*m) indices, *m = (classes present) * min_c n_c. */
int *nn_undersample(const int *y, int n, int C, nn_rng *rng, int *m);
/* y: (n) labels 0..C-1. Returns (*m) indices, *m = (classes present) * max_c n_c. */
int *nn_oversample(const int *y, int n, int C, nn_rng *rng, int *m);

#endif
