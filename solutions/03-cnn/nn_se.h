/* nn_se.h: the squeeze-and-excitation block (Hu et al., "Squeeze-and-Excitation
 * Networks", 2018): a CNN learns how much each channel matters, per image.
 *
 *   squeeze   s = mean over H, W of x                  (N, C)       one number per channel
 *   excite    z = relu(W1 s + b1)                      (N, C/r)     fc1: a bottleneck of C/r units
 *             e = sigmoid(W2 z + b2)                   (N, C)       fc2: a gate in (0, 1) per channel
 *   scale     y = x * e[:, :, None, None]              (N, C, H, W) each channel times its gate
 *
 *   x, y: (N, C, H, W)   W1: (C/r, C)   b1: (C/r)   W2: (C, C/r)   b2: (C)
 *
 * C/r is rounded down and at least 1 (r = 16 is the paper's default). fc1 and fc2 are
 * nn_dense layers ("se1.fc1", "se1.fc2"), so the params are "se1.fc1.W", "se1.fc1.b",
 * "se1.fc2.W", "se1.fc2.b", and their count is
 *
 *   2*C*(C/r) + C/r + C,   e.g. C = 64, r = 16: 2*64*4 + 4 + 64 = 580
 *
 * (PyTorch: Linear(C, C/r) and Linear(C/r, C), or 1x1 Conv2ds, which store the same numbers).
 * Backward, from dy (N, C, H, W), adding into dx: y depends on x twice, directly and
 * through the gate, so dx has two terms:
 *
 *   de = sum over H, W of dy * x                       (N, C)       the gate's gradient
 *   the excitation MLP back to ds (N, C): sigmoid', fc2, relu', fc1 (their own backwards)
 *   dx += dy * e + ds / (H*W)                          broadcast over H, W (the mean's backward)
 *
 * Initialisation: fc1 He (it feeds a ReLU), fc2 Glorot (it feeds a sigmoid); biases 0.
 *
 * Memory: a call keeps its (N, C) and (N, C/r) intermediates (s, the pre-activations,
 * z, e: nn_se_saved) and backward their gradients, all in the call's arena. Backward
 * reads the call's x by pointer (the caller keeps it alive).
 *
 * Devices: the block runs where its weights are (nn_layer_to moves fc1's and fc2's); x, y,
 * dy, dx and the call's arena must be there too, else it aborts naming both devices. On
 * the GPU the squeeze is GlobalAvgPool2d's kernel, fc1 and fc2 cuBLAS, ReLU and sigmoid
 * chapter 02's kernels, and the scale, de and dx nn_se.cu's (nn_cnn_cuda.h), each sum of
 * a plane owned by one block: no atomics, the same bits every run.
 */
#ifndef NN_SE_H
#define NN_SE_H

#include "nn_dense.h"
#include "nn_layer.h"
#include "nn_rng.h"

typedef struct {
  int channels;  /* C */
  int reduction; /* r >= 1; 0 means 16. The bottleneck has max(1, C / r) units */
} nn_se_config;

typedef struct {
  nn_layer base;
  int C, hidden;         /* hidden = max(1, C / r) */
  nn_dense *fc1, *fc2;   /* C -> hidden, hidden -> C */
} nn_se;

/* What one forward keeps for its backward (the call's c->saved, in its arena): the
 * intermediates (N, C) or (N, hidden), and the calls of fc1 and fc2. */
typedef struct {
  nn_tensor s, a1, z, a2, e; /* squeeze, fc1's output, relu(a1), fc2's output, sigmoid(a2) */
  nn_call fc1, fc2;
} nn_se_saved;

/* A SqueezeExcite block named `name` ("se1", at most 27 characters so that "se1.fc1"
 * fits a layer name), weights drawn from rng. */
nn_se *nn_se_new(const char *name, const nn_se_config *cfg, nn_rng *rng);

/* x: (N, C, H, W) -> y: (N, C, H, W), each channel scaled by its gate. */
void nn_se_forward(nn_se *se, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* fc1's and fc2's grads += ..., dx += ... (dx may be NULL), from dy: (N, C, H, W). */
void nn_se_backward(nn_se *se, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
