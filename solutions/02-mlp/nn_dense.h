/* nn_dense.h: the fully connected (Dense, Linear) layer.
 *
 *   y = x W^T + b          x: (N, in)   W: (out, in)   b: (out)   y: (N, out)
 *
 * x may have more dims, (N, T, in) for a sequence: the layer then acts on the last one,
 * as Keras' Dense and PyTorch's nn.Linear do, treating x as (N*T, in) rows (the
 * Transformer's feed-forward block is this); y is (N, T, out).
 *
 * W is stored (out, in) as in PyTorch's nn.Linear, so row j of W is the weight
 * vector of output neuron j. Backward, from dy: (N, out):
 *
 *   dW += dy^T x   (out, in)      db += sum_n dy_n   (out)      dx += dy W   (N, in)
 *
 * Parameters: out * in + out, e.g. 784 -> 512 has 401,920. Keras's Dense(512) on
 * 784 inputs stores the same numbers as kernel (in, out) = W^T.
 *
 * Initialisation keeps the variance of the signal the same from layer to layer:
 *   Xavier/Glorot (tanh, sigmoid):  W ~ U(-a, a),  a = sqrt(6 / (in + out))
 *   He/Kaiming (ReLU):              W ~ N(0, 2 / in)
 * and b = 0. (Glorot & Bengio 2010; He et al. 2015.)
 *
 * The layer is made on the CPU; nn_layer_to(&d->base, NN_GPU) moves W, b, dW, db.
 * Forward and backward run where W is (the products through nn_sgemm, cuBLAS on
 * the GPU; the bias sums in nn_dense.cu), and every tensor passed must be there too.
 */
#ifndef NN_DENSE_H
#define NN_DENSE_H

#include "nn_layer.h"
#include "nn_rng.h"

typedef enum { NN_INIT_XAVIER, NN_INIT_HE } nn_init;

typedef struct {
  nn_layer base;
  int in, out;
  nn_tensor W, b, dW, db;
} nn_dense;

/* A Dense layer named `name` ("dense1") with weights drawn from rng by `init`. */
nn_dense *nn_dense_new(const char *name, int in, int out, nn_init init, nn_rng *rng);

/* y = x W^T + b; records x in the call c (nn_layer.h), the one thing backward needs. */
void nn_dense_forward(nn_dense *d, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* dW += dy^T x, db += sum of dy's rows, dx += dy W (dx may be NULL), with the x of call c. */
void nn_dense_backward(nn_dense *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
