/* nn_batchnorm.h: Batch Normalization, one layer for (N, C) and (N, C, H, W) inputs
 * (PyTorch's BatchNorm1d and BatchNorm2d).
 *
 * Each channel c is normalised over the M values it has in the batch: M = N for
 * x: (N, C), M = N*H*W for x: (N, C, H, W) (every example and every position).
 *
 *   mean_c = (1/M) sum x            var_c = (1/M) sum (x - mean_c)^2      (biased)
 *   xhat   = (x - mean_c) * inv_std_c,   inv_std_c = 1 / sqrt(var_c + eps)
 *   y      = gamma_c * xhat + beta_c                                  y: x's shape
 *
 * Parameters and statistics are two different things:
 *   gamma, beta (C each)  parameters: trained by the optimizer (start 1 and 0, so
 *                         the layer starts as a pure normalisation). They let the
 *                         network undo the normalisation where that helps.
 *                         Named "<name>.gamma", "<name>.beta". PyTorch counts 2C params.
 *   running_mean, running_var (C each)  statistics, not parameters: no gradient, no
 *                         optimizer; the buffers op lists them so checkpoints save
 *                         them and nn_layer_to moves them ("<name>.running_mean",
 *                         "<name>.running_var"; start 0 and 1). Keras counts them as
 *                         2C "non-trainable params" (4C in all).
 *
 * Training (forward with training = true) normalises with the batch's own mean and
 * biased variance, and moves the running statistics towards them (PyTorch's
 * convention, momentum 0.1; the variance unbiased, M / (M - 1) times the batch's):
 *
 *   running_mean = (1 - momentum) * running_mean + momentum * mean_c
 *   running_var  = (1 - momentum) * running_var  + momentum * var_c * M / (M - 1)
 *
 * Evaluation (training = false) uses running_mean and running_var instead, so a
 * prediction depends on its own example only, never on the rest of its batch.
 *
 * Backward after a training forward: mean and var depend on every x of the channel,
 * so each dx gets three terms (sums over the channel's M values):
 *
 *   dx += gamma * inv_std / M * (M * dy - sum(dy) - xhat * sum(dy * xhat))
 *   dgamma += sum(dy * xhat),   dbeta += sum(dy)
 *
 * After an eval forward the layer is the affine map y = x * gamma * inv_std + const,
 * inv_std = 1 / sqrt(running_var + eps), so dx += dy * gamma * inv_std.
 *
 * Why it helps: each layer's inputs keep mean 0 and variance 1 whatever the layers
 * before them do to their scale, so a deep net trains with larger learning rates,
 * depends less on its initialisation, and the batch-to-batch noise in mean and var
 * acts as a mild regulariser. ResNets put one after every convolution (whose bias
 * it makes useless: beta plays that part, so those convolutions have no bias).
 *
 * Memory: each call keeps its own xhat (x's size) and statistics for backward, in the
 * call's arena (nn_arena.h), so a training step allocates nothing and one layer can
 * be applied twice in a step.
 *
 * Devices: the layer runs where its gamma is (nn_layer_to moves gamma, beta, their
 * grads and the running statistics); x, y, dy, dx and the call's arena must be there
 * too. On the GPU
 * (nn_batchnorm.cu) one block per channel reduces its M values in shared memory,
 * in double as the CPU does, with no atomics: the same result on every run.
 */
#ifndef NN_BATCHNORM_H
#define NN_BATCHNORM_H

#include "nn_layer.h"

typedef struct {
  nn_layer base;
  int C;
  float eps;      /* 1e-5 */
  float momentum; /* 0.1: the weight of the new batch in the running statistics */
  nn_tensor gamma, beta, dgamma, dbeta;  /* (C): the parameters and their grads */
  nn_tensor running_mean, running_var;   /* (C): the buffers (statistics, never trained) */
  char gamma_name[48], beta_name[48], mean_name[48], var_name[48];
} nn_batchnorm;

/* What one forward keeps for its backward (the call's c->saved); the arrays are in the
 * call's arena, on the layer's device. */
typedef struct {
  float *mean, *var, *inv_std; /* (C): the statistics the call normalised with (batch or running) */
  float *xhat;                 /* x's shape: the normalised x */
  bool trained;                /* training mode: batch statistics, so backward has the extra terms */
} nn_batchnorm_saved;

/* BatchNorm over C channels, named `name` ("bn1"); eps 1e-5, momentum 0.1. */
nn_batchnorm *nn_batchnorm_new(const char *name, int channels);

/* x: (N, C) or (N, C, H, W) on gamma's device -> y: the same shape. c->training: batch
 * statistics (and the running ones updated) or the running ones. */
void nn_batchnorm_forward(nn_batchnorm *bn, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* dgamma += ..., dbeta += ..., dx += ... (dx may be NULL), from dy: call c's x's shape. */
void nn_batchnorm_backward(nn_batchnorm *bn, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
