/* nn_mlp_cuda.h: the GPU launchers of chapter 02 (activations, losses, Dense,
 * optimizers, Dropout, the layers' dx += dy).
 *
 * Each is defined in the .cu beside its op (nn_activation.cu, nn_loss.cu,
 * nn_dense.cu, nn_optim.cu, nn_dropout.cu, nn_layer.cu) and called only from that op's device
 * switch; without nvcc, nn_mlp_nocuda.c defines the same names and panics.
 * Every float pointer is a device pointer; sizes are element counts. Kernels run
 * on stream 0, in order with cuBLAS and the copies of nn_tensor.c.
 */
#ifndef NN_MLP_CUDA_H
#define NN_MLP_CUDA_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "nn_activation.h"
#include "nn_arena.h"
#include "nn_optim.h"

/* ---- nn_activation.cu: n elements; y == x is allowed */
void nn_activation_forward_cuda(nn_activation act, const float *x, float *y, long n);
/* dx += dy * f'(x) */
void nn_activation_backward_cuda(nn_activation act, const float *x, const float *y, const float *dy,
                                 float *dx, long n);
/* rows of C, one warp per row */
void nn_softmax_forward_cuda(const float *x, float *y, long rows, int C);
void nn_softmax_backward_cuda(const float *y, const float *dy, float *dx, long rows, int C);

/* ---- nn_loss.cu: each returns the MEAN loss and ADDS the gradient of that mean
 * into dz (or dpred), which may be NULL. Labels y are HOST pointers, already
 * checked by the caller; the launcher copies them to the device. The device memory
 * for that copy and for the sum comes from `scratch` (an arena on the GPU), or, when
 * it is NULL, from CUDA's stream-ordered pool. */
typedef enum { NN_REGRESSION_MSE, NN_REGRESSION_MAE, NN_REGRESSION_HUBER, NN_REGRESSION_LOG_COSH } nn_regression_loss;
/* M elements; delta: Huber's, ignored by the others */
double nn_regression_loss_cuda(nn_regression_loss kind, const float *pred, const float *target, long M,
                               double delta, float *dpred, nn_arena *scratch);
double nn_bce_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch);
double nn_binary_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch);
double nn_squared_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch);
double nn_focal_loss_cuda(const float *z, const int *y, int N, double alpha, double gamma, float *dz,
                          nn_arena *scratch);
/* z: (N, C) */
double nn_sparse_ce_loss_cuda(const float *z, const int *y, int N, int C, float *dz, nn_arena *scratch);
double nn_multi_hinge_loss_cuda(const float *z, const int *y, int N, int C, float *dz, nn_arena *scratch);
/* t: (N, C) on the device. *bad_row = the first row of t that is not a distribution
 * (an entry < 0, or a sum off 1 by more than 1e-3), else -1; the caller aborts on it. */
double nn_categorical_ce_loss_cuda(const float *z, const float *t, int N, int C, float *dz, int *bad_row,
                                   nn_arena *scratch);

/* nn_regularizer.h's penalty over n weights w, l1 |w| + l2 w^2 summed in double; g += its
 * gradient unless g is NULL. Its scratch (the sum) as the losses'. */
double nn_regularize_cuda(const float *w, float *g, long n, float l1, float l2, nn_arena *scratch);

/* ---- nn_dense.cu: y, dy: (N, out); b, db: (out) */
void nn_dense_bias_add_cuda(float *y, const float *b, int N, int out);  /* y[n, j] += b[j] */
void nn_dense_bias_grad_cuda(const float *dy, float *db, int N, int out); /* db[j] += sum_n dy[n, j] */

/* ---- nn_optim.cu: one update of n elements of one param, the rule of `kind` (nn_optim.h).
 * m, v: the kind's state (NULL where it keeps none); bc1 = 1 - beta1^t, bc2 = 1 - beta2^t
 * (adam, adamw; ignored by the others), computed on the host in double. */
void nn_optim_step_cuda(nn_optim_kind kind, const nn_optim_config *c, float *w, const float *g, float *m,
                        float *v, long n, float bc1, float bc2);

/* ---- nn_dropout.cu: out[i] (+)= in[i] * m_i over n elements (accumulate: add, else
 * overwrite), m_i = keep_scale when nn_philox_uniform(seed, step, i) >= p, else 0: the CPU's
 * mask, bit for bit. keep_scale = 1 / (1 - p), computed by the caller. */
void nn_dropout_apply_cuda(uint64_t seed, uint64_t step, float p, float keep_scale, const float *in, float *out,
                           long n, bool accumulate);

/* ---- nn_layer.cu: dst += src, n elements */
void nn_add_into_cuda(float *dst, const float *src, long n);

#ifdef __cplusplus
}
#endif

#endif
