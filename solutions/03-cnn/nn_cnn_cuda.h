/* nn_cnn_cuda.h: the GPU launchers of chapter 03 (im2col and col2im, Conv2d's bias,
 * the pooling layers, BatchNorm, squeeze-and-excitation's channel scale).
 *
 * Each is defined in the .cu beside its op (nn_im2col.cu, nn_conv2d.cu, nn_pool.cu,
 * nn_batchnorm.cu, nn_se.cu) and called only from that op's device switch; without nvcc,
 * nn_cnn_nocuda.c defines the same names and panics. Every float and int pointer is
 * a device pointer; geometries are host structs, passed to the kernels by value.
 * Kernels run on stream 0, in order with cuBLAS and the copies of nn_tensor.c.
 *
 * No launcher uses atomics: where several outputs feed one input (col2im, the
 * pooling backwards), one thread per INPUT element gathers them, in the CPU's
 * order, so the GPU is deterministic and its sums are the CPU's; where one output
 * sums many inputs (a bias grad, BatchNorm's statistics, SE's gate grad), one block owns it.
 * ConvTranspose2d has no kernel of its own: its passes are Conv2d's (im2col, col2im, the
 * bias kernels) with the products' roles swapped.
 */
#ifndef NN_CNN_CUDA_H
#define NN_CNN_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

#include "nn_batchnorm.h"
#include "nn_im2col.h"
#include "nn_pool.h"

/* ---- nn_im2col.cu: one image, the contract of nn_im2col / nn_col2im (nn_im2col.h) */
/* cols (C*KH*KW, Ho*Wo) <- the windows of x (C, H, W); one thread per entry of cols */
void nn_im2col_cuda(const float *x, const nn_conv_geom *g, float *cols);
/* x (C, H, W) += col2im(cols); one thread per pixel of x, summing the entries that read it */
void nn_col2im_cuda(const float *cols, const nn_conv_geom *g, float *x);

/* ---- nn_conv2d.cu: y, dy: (N, F, P) with P = Ho*Wo; b, db: (F) */
void nn_conv2d_bias_add_cuda(float *y, const float *b, int N, int F, int P);  /* y[n, f, p] += b[f] */
void nn_conv2d_bias_grad_cuda(const float *dy, float *db, int N, int F, int P); /* db[f] += sum_{n,p} dy[n, f, p] */

/* ---- nn_pool.cu: `planes` = N*C planes; x, dx: (planes, H, W); y, dy, argmax: (planes, Ho, Wo).
 * argmax: h*W + w within the plane, as the CPU keeps it. The backwards ADD into dx. */
void nn_maxpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, int *argmax, long planes);
void nn_maxpool_backward_cuda(const nn_pool_window *g, const float *dy, const int *argmax, float *dx, long planes);
void nn_avgpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, long planes);
void nn_avgpool_backward_cuda(const nn_pool_window *g, const float *dy, float *dx, long planes);
/* GlobalAvgPool2d: x (planes, plane) -> y (planes); dx[q, i] += dy[q] / plane */
void nn_global_avgpool_forward_cuda(const float *x, float *y, long planes, long plane);
void nn_global_avgpool_backward_cuda(const float *dy, float *dx, long planes, long plane);

/* ---- nn_batchnorm.cu: x, y, dy, dx: (N, C, S), S = H*W (1 for (N, C)); one block per channel.
 * bn and saved are host structs; bn's tensors (gamma, beta, their grads, the running
 * statistics) and saved's arrays (the call's, from its arena) must be on the GPU. */
/* y, saved->xhat <- the batch's normalisation; saved->mean, var, inv_std <- the batch's; the running
 * ones updated */
void nn_batchnorm_forward_train_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y, int N,
                                     long S);
/* y, saved->xhat <- normalised by the running statistics; saved->mean, var, inv_std <- those */
void nn_batchnorm_forward_eval_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y, int N,
                                    long S);
/* dgamma, dbeta += ...; dx += ... (dx may be NULL): after a training or an eval forward (saved->trained) */
void nn_batchnorm_backward_cuda(nn_batchnorm *bn, const nn_batchnorm_saved *saved, const float *dy, float *dx,
                                int N, long S);

/* ---- nn_se.cu: x, y, dy, dx: (planes, plane), planes = N*C, plane = H*W; e, ds, de: (planes) */
void nn_se_scale_forward_cuda(const float *x, const float *e, float *y, long planes, long plane); /* y = x e[q] */
/* de[q] = sum_i dy[q, i] x[q, i] (written, not added); one block per plane, in double */
void nn_se_gate_grad_cuda(const float *dy, const float *x, float *de, long planes, long plane);
/* dx[q, i] += dy[q, i] e[q] + ds[q] / plane: the scale's backward and the squeeze's (the mean) */
void nn_se_scale_backward_cuda(const float *dy, const float *e, const float *ds, float *dx, long planes,
                               long plane);

#ifdef __cplusplus
}
#endif

#endif
