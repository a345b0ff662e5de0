/* nn_batchnorm.cu: BatchNorm on the GPU (nn_batchnorm.h has the formulas).
 *
 * x: (N, C, S), S = H*W (1 for (N, C) inputs); channel c is the M = N*S values
 * x[(n*C + c)*S + s]. Every kernel here runs ONE BLOCK PER CHANNEL (grid C):
 *
 *   1. thread t takes the channel's values t, t + BLOCK, t + 2 BLOCK, ... (for a
 *      fixed n, consecutive threads read consecutive s: coalesced) and sums them
 *      in double, as the CPU does;
 *   2. the BLOCK partial sums are halved in shared memory until one is left, which
 *      every thread then reads (a per-channel statistic);
 *   3. each thread writes its values of xhat, y or dx with that statistic.
 *
 * (The eval forward has nothing to sum: the running statistics are given, only 3.)
 * Products and sums that the CPU rounds one at a time are written __fmul_rn /
 * __fadd_rn, which nvcc never fuses into an FMA, so those outputs equal the CPU's.
 *
 * No atomics: one block owns a channel, so the sums are added in the same order on
 * every run and the GPU gives the same bits each time. The variance takes two passes
 * (the mean, then the squares of x - mean), as the CPU does: one pass of sum(x^2) -
 * M mean^2 loses every digit when the mean is large next to the spread.
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
}

enum { BLOCK = 256 };

/* The index of value t (0 <= t < M) of channel c in x: (N, C, S). */
__device__ static long channel_index(long t, int c, int C, long S) {
  long n = t / S, s = t % S;
  return (n * C + c) * S + s;
}

/* The block's sum of `mine` (one partial sum per thread), returned to every thread.
 * part: BLOCK doubles of shared memory, free again when this returns. */
__device__ static double block_sum(double mine, double *part) {
  part[threadIdx.x] = mine;
  __syncthreads();
  for (unsigned half = BLOCK / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  double total = part[0];
  __syncthreads(); /* everyone has read part[0] before the next block_sum writes it */
  return total;
}

/* ---- forward with the batch's statistics (training) */

/* Block c: mean, biased var, inv_std of channel c; xhat and y; the running statistics
 * moved towards the batch's (unbiased var, M / (M - 1)). */
__global__ void bn_forward_train_kernel(const float *x, float *y, float *xhat, const float *gamma, const float *beta,
                                        float *mean, float *var, float *inv_std, float *running_mean,
                                        float *running_var, int C, long S, long M, float eps, float momentum) {
  __shared__ double part[BLOCK];
  const int c = blockIdx.x;
  double sum = 0;
  for (long t = threadIdx.x; t < M; t += BLOCK) sum += x[channel_index(t, c, C, S)];
  const float mean_c = (float)(block_sum(sum, part) / (double)M);
  double sq = 0;
  for (long t = threadIdx.x; t < M; t += BLOCK) {
    double d = x[channel_index(t, c, C, S)] - mean_c; /* float difference, double square: the CPU's */
    sq += d * d;
  }
  const float var_c = (float)(block_sum(sq, part) / (double)M);
  const float inv_std_c = 1.f / sqrtf(var_c + eps);
  const float g = gamma[c], b = beta[c];
  for (long t = threadIdx.x; t < M; t += BLOCK) {
    long i = channel_index(t, c, C, S);
    float h = (x[i] - mean_c) * inv_std_c;
    xhat[i] = h;
    y[i] = __fadd_rn(__fmul_rn(g, h), b); /* no FMA: the CPU's two roundings */
  }
  if (threadIdx.x == 0) {
    mean[c] = mean_c, var[c] = var_c, inv_std[c] = inv_std_c;
    float unbiased = var_c * (float)M / (float)(M - 1);
    running_mean[c] = __fadd_rn(__fmul_rn(1.f - momentum, running_mean[c]), __fmul_rn(momentum, mean_c));
    running_var[c] = __fadd_rn(__fmul_rn(1.f - momentum, running_var[c]), __fmul_rn(momentum, unbiased));
  }
}

extern "C" void nn_batchnorm_forward_train_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x,
                                                float *y, int N, long S) {
  const long M = (long)N * S;
  if (M <= 0) return;
  bn_forward_train_kernel<<<bn->C, BLOCK>>>(x, y, saved->xhat, bn->gamma.data, bn->beta.data, saved->mean,
                                           saved->var, saved->inv_std, bn->running_mean.data,
                                           bn->running_var.data, bn->C, S, M, bn->eps, bn->momentum);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* ---- forward with the running statistics (evaluation) */

/* Block c: nothing to reduce; mean, var = the running ones, xhat and y from them. */
__global__ void bn_forward_eval_kernel(const float *x, float *y, float *xhat, const float *gamma, const float *beta,
                                       float *mean, float *var, float *inv_std, const float *running_mean,
                                       const float *running_var, int C, long S, long M, float eps) {
  const int c = blockIdx.x;
  const float mean_c = running_mean[c], inv_std_c = 1.f / sqrtf(running_var[c] + eps);
  const float g = gamma[c], b = beta[c];
  for (long t = threadIdx.x; t < M; t += BLOCK) {
    long i = channel_index(t, c, C, S);
    float h = (x[i] - mean_c) * inv_std_c;
    xhat[i] = h;
    y[i] = __fadd_rn(__fmul_rn(g, h), b);
  }
  if (threadIdx.x == 0) mean[c] = mean_c, var[c] = running_var[c], inv_std[c] = inv_std_c;
}

extern "C" void nn_batchnorm_forward_eval_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x,
                                               float *y, int N, long S) {
  const long M = (long)N * S;
  if (M <= 0) return;
  bn_forward_eval_kernel<<<bn->C, BLOCK>>>(x, y, saved->xhat, bn->gamma.data, bn->beta.data, saved->mean,
                                          saved->var, saved->inv_std, bn->running_mean.data,
                                          bn->running_var.data, bn->C, S, M, bn->eps);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* ---- backward */

/* Block c: sum(dy) and sum(dy * xhat) over the channel, in double; dgamma and dbeta
 * += them; then, when dx is not NULL, dx += (the CPU's formulas, nn_batchnorm.h)
 *   after a training forward  gamma inv_std / M * (M dy - sum(dy) - xhat sum(dy xhat))
 *   after an eval forward     gamma inv_std * dy                                      */
__global__ void bn_backward_kernel(const float *dy, const float *xhat, const float *gamma, const float *inv_std,
                                   float *dgamma, float *dbeta, float *dx, int C, long S, long M, bool trained) {
  __shared__ double part[BLOCK];
  const int c = blockIdx.x;
  double a = 0, b = 0;
  for (long t = threadIdx.x; t < M; t += BLOCK) {
    long i = channel_index(t, c, C, S);
    a += dy[i], b += (double)dy[i] * xhat[i];
  }
  const double sum_dy = block_sum(a, part), sum_dy_xhat = block_sum(b, part);
  if (threadIdx.x == 0) dgamma[c] += (float)sum_dy_xhat, dbeta[c] += (float)sum_dy;
  if (!dx) return;
  if (trained) {
    const double k = (double)gamma[c] * inv_std[c] / (double)M;
    for (long t = threadIdx.x; t < M; t += BLOCK) {
      long i = channel_index(t, c, C, S);
      dx[i] += (float)(k * ((double)M * dy[i] - sum_dy - xhat[i] * sum_dy_xhat));
    }
  } else {
    const float k = __fmul_rn(gamma[c], inv_std[c]);
    for (long t = threadIdx.x; t < M; t += BLOCK) {
      long i = channel_index(t, c, C, S);
      dx[i] = __fadd_rn(dx[i], __fmul_rn(k, dy[i]));
    }
  }
}

extern "C" void nn_batchnorm_backward_cuda(nn_batchnorm *bn, const nn_batchnorm_saved *saved, const float *dy,
                                           float *dx, int N, long S) {
  const long M = (long)N * S;
  if (M <= 0) return;
  bn_backward_kernel<<<bn->C, BLOCK>>>(dy, saved->xhat, bn->gamma.data, saved->inv_std, bn->dgamma.data,
                                      bn->dbeta.data, dx, bn->C, S, M, saved->trained);
  NN_CUDA_CHECK(cudaGetLastError());
}
