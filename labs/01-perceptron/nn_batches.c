/* nn_batches.c: a permutation per epoch, and the rows it picks copied together. */
#include "nn_batches.h"

#include <stdlib.h>
#include <string.h>

nn_batches nn_batches_new(const nn_tensor *X, const int *y, int count, int batch, uint64_t seed) {
  NN_REQUIRE(y && batch >= 0, "nn_batches_new: NULL y or batch %d < 0", batch);
  NN_REQUIRE(!X || (X->ndim == 2 && X->shape[0] == count && X->device == NN_CPU),
             "nn_batches_new: X is %s but count is %d; X must be a CPU (count, D) tensor",
             X ? nn_shape_str(X).s : "NULL", count);
  NN_REQUIRE(count >= 1, "nn_batches_new: count is %d; there must be examples", count);
  int B = batch == 0 || batch > count ? count : batch;
  nn_batches it = {.X = X, .y = y, .N = count, .B = B, .start = count, .rng = nn_rng_new(seed)};
  if (B < count) {
    int D = X ? X->shape[1] : 0;
    it.order = nn_xmalloc((size_t)count * sizeof *it.order, "nn_batches order (N)");
    it.yb = nn_xmalloc((size_t)B * sizeof *it.yb, "nn_batches y (B)");
    if (X) it.xb = nn_xmalloc((size_t)B * D * sizeof *it.xb, "nn_batches X (B, D)");
  }
  return it;
}

int nn_batches_per_epoch(int N, int batch, bool drop_last) {
  NN_REQUIRE(N >= 1 && batch >= 0, "nn_batches_per_epoch: N = %d, batch = %d; expected N >= 1, batch >= 0", N,
             batch);
  if (batch == 0 || batch >= N) return 1;
  return drop_last ? N / batch : (N + batch - 1) / batch;
}

void nn_batches_shuffle(nn_batches *it) {
  if (it->order) nn_rng_permutation(&it->rng, it->order, it->N);
  it->start = 0;
}

/* b gets rows order[start .. start + n): labels copied, and X's rows when there is an X. */
static void gather(const nn_batches *it, int n, nn_batch *b) {
  const int *rows = it->order + it->start;
  for (int k = 0; k < n; k++) it->yb[k] = it->y[rows[k]];
  *b = (nn_batch){.y = it->yb, .rows = rows, .n = n};
  if (!it->X) return;
  int D = it->X->shape[1];
  for (int k = 0; k < n; k++)
    memcpy(it->xb + (long)k * D, it->X->data + (long)rows[k] * D, (size_t)D * sizeof *it->xb);
  b->X = (nn_tensor){.data = it->xb, .shape = {n, D}, .ndim = 2, .device = NN_CPU};
}

bool nn_batches_next(nn_batches *it, nn_batch *b) {
  if (it->start >= it->N) return false;
  int n = it->N - it->start < it->B ? it->N - it->start : it->B;
  if (it->order)
    gather(it, n, b);
  else /* the full batch: the data as it is */
    *b = (nn_batch){.X = it->X ? *it->X : (nn_tensor){0}, .y = it->y, .n = n};
  it->start += n;
  return true;
}

void nn_batches_free(nn_batches *it) {
  free(it->order), free(it->xb), free(it->yb);
  *it = (nn_batches){0};
}
