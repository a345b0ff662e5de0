/* nn_batches.h: the mini-batches of one epoch, in a fresh seeded order each epoch.
 *
 * Mini-batch gradient descent visits the N training examples in a random order,
 * B at a time; reshuffling every epoch keeps the steps from repeating the same
 * pattern. Every fit of the course uses this one loop:
 *
 *   nn_batches it = nn_batches_new(&X, y, 32, seed);         X: (N, D), y: (N)
 *   for (int e = 0; e < epochs; e++) {
 *     nn_batches_shuffle(&it);
 *     nn_batch b;
 *     while (nn_batches_next(&it, &b)) step(&b.X, b.y);     b.X: (b.n, D), b.y: (b.n)
 *   }
 *   nn_batches_free(&it);
 *
 * A batch of 0 (or >= N) is the full batch: one batch per epoch, the data as it
 * is, nothing copied or shuffled. X may be NULL when the rows live elsewhere
 * (a sparse matrix): then b.rows lists the batch's row indices and b.X is empty.
 */
#ifndef NN_BATCHES_H
#define NN_BATCHES_H

#include <stdint.h>

#include "nn_rng.h"
#include "nn_tensor.h"

typedef struct {
  nn_tensor X;      /* (n, D): the batch's rows, copied together (a view of X for the full batch) */
  const int *y;     /* (n) */
  const int *rows;  /* (n) their indices in the data set; NULL for the full batch, in order */
  int n;
} nn_batch;

typedef struct {
  const nn_tensor *X; /* (N, D) or NULL */
  const int *y;       /* (N) */
  int N, B, start;
  int *order;         /* this epoch's permutation of 0..N-1 */
  float *xb;          /* (B, D) */
  int *yb;            /* (B) */
  nn_rng rng;
} nn_batches;

/* Batches of `batch` examples of X (N, D) or, with X NULL, of N = count rows. */
nn_batches nn_batches_new(const nn_tensor *X, const int *y, int count, int batch, uint64_t seed);
/* Start an epoch: a new random order (nothing to do for the full batch). */
void nn_batches_shuffle(nn_batches *it);
/* The next batch of the epoch into *b; false when the epoch is over. */
bool nn_batches_next(nn_batches *it, nn_batch *b);
void nn_batches_free(nn_batches *it);

/* How many steps (batches) one epoch of N examples takes at batch size `batch`: ceil(N / batch),
 * the last batch smaller (PyTorch's DataLoader default, Keras' fit); with drop_last, floor(N /
 * batch), the partial batch skipped. 60,000 / 128: 469 (the last of 96), 468 with drop_last.
 * batch 0 (or >= N) is the full batch: 1. */
int nn_batches_per_epoch(int N, int batch, bool drop_last);

#endif
