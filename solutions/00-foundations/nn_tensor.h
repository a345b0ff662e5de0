/* nn_tensor.h: the one data structure of the course.
 *
 * float32, contiguous, row-major, up to 4 dims. Images are (N, C, H, W),
 * sequences (N, T, D), matrices (rows, cols). Element (n, c, h, w) of a 4-D
 * tensor lives at data[((n*C + c)*H + h)*W + w]. No strides and no views
 * beyond reshape: what you see in the shape is how the bytes lie in memory.
 * `data` points to host memory when device == NN_CPU, to GPU memory when NN_GPU.
 */
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include <stdint.h>

#include "nn_common.h"

#define NN_MAX_DIMS 4

/* ANCHOR: tensor_struct */
typedef struct {
  float *data;
  int shape[NN_MAX_DIMS];
  int ndim;
  nn_device device;
} nn_tensor;
/* ANCHOR_END: tensor_struct */

/* A zero-filled tensor: nn_tensor_new(2, (int[]){3, 4}, NN_CPU) is 3x4. */
nn_tensor nn_tensor_new(int ndim, const int *shape, nn_device device);
/* A CPU tensor holding a copy of `values` (numel floats). */
nn_tensor nn_tensor_from(int ndim, const int *shape, const float *values);
/* A CPU tensor of N(0, 1) draws from nn_rng_new(seed), in order (torch.randn after
 * torch.manual_seed): the same seed, the same tensor, on every machine. */
nn_tensor nn_tensor_randn(int ndim, const int *shape, uint64_t seed);
void nn_tensor_free(nn_tensor *t);

/* Number of elements: the product of the shape. */
long nn_numel(const nn_tensor *t);
size_t nn_tensor_bytes(const nn_tensor *t);
bool nn_same_shape(const nn_tensor *a, const nn_tensor *b);

/* Same data, new shape; panics unless the element count stays the same.
 * One entry may be -1 and is then inferred, as in PyTorch's view(-1, 784). */
void nn_tensor_reshape(nn_tensor *t, int ndim, const int *shape);

void nn_tensor_fill(nn_tensor *t, float value);
/* dst <- src for any pair of devices; shapes must have the same element count. */
void nn_tensor_copy(nn_tensor *dst, const nn_tensor *src);
/* A new tensor with the same shape and values on `device`. */
nn_tensor nn_tensor_to(const nn_tensor *t, nn_device device);

/* "(64, 1, 28, 28)" for messages: NN_REQUIRE(..., "%s", nn_shape_str(x).s). */
typedef struct { char s[64]; } nn_shape_text;
nn_shape_text nn_shape_str(const nn_tensor *t);

#endif
