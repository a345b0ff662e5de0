/* nn_pool.cu: MaxPool2d, AvgPool2d and GlobalAvgPool2d on the GPU (nn_pool.h).
 *
 * Every (n, c) plane is pooled alone; x: (planes, H, W), y: (planes, Ho, Wo).
 *
 * Forwards: one thread per OUTPUT element, looping over its window in the CPU's
 * order (so max-pool's ties and NaNs go the same way, and avg-pool sums the same
 * numbers in the same order).
 *
 * Backwards: one thread per INPUT element. Overlapping windows (k > s) send two
 * gradients to one cell; a thread per output would then need atomicAdd, whose
 * order changes from run to run. Instead each cell finds the windows that cover it,
 *   i*s - p <= h <= i*s - p + k - 1   i.e.   ceil((h + p - k + 1) / s) <= i <= floor((h + p) / s),
 * (the same for w and j), and adds their shares in row-major window order onto
 * dx's old value: the CPU's additions in the CPU's order.
 *
 * GlobalAvgPool2d: one block per plane reduces it in shared memory, in double as the
 * CPU does; backward is one thread per cell.
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
}

enum { BLOCK = 256 };

static unsigned blocks_for(long total) { return (unsigned)((total + BLOCK - 1) / BLOCK); }

/* ---- MaxPool2d / AvgPool2d */

/* k: the flat index of y (planes, Ho, Wo) */
__global__ void maxpool_forward_kernel(nn_pool_window g, const float *x, float *y, int *argmax, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  long q = k / ((long)g.Ho * g.Wo);
  int o = (int)(k % ((long)g.Ho * g.Wo)), i = o / g.Wo, j = o % g.Wo;
  const float *x_q = x + q * g.H * g.W;
  int h0 = i * g.s - g.p, w0 = j * g.s - g.p;
  float best = 0.f;
  int at = -1;
  for (int a = 0; a < g.k; a++)
    for (int b = 0; b < g.k; b++) {
      int h = h0 + a, w = w0 + b;
      if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue; /* a padded cell never wins */
      float v = x_q[h * g.W + w];
      if (at < 0 || v > best || isnan(v)) best = v, at = h * g.W + w; /* ties keep the first; NaN wins */
    }
  y[k] = best;
  argmax[k] = at;
}

extern "C" void nn_maxpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, int *argmax,
                                        long planes) {
  long total = planes * g->Ho * g->Wo;
  if (total <= 0) return;
  maxpool_forward_kernel<<<blocks_for(total), BLOCK>>>(*g, x, y, argmax, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* The windows along one axis that cover cell h: [*lo, *hi] (empty when lo > hi). */
__device__ static void covering(int h, int k, int s, int p, int n_out, int *lo, int *hi) {
  int first = h + p - k + 1; /* the smallest i*s that still reaches h */
  *lo = first <= 0 ? 0 : (first + s - 1) / s;
  *hi = (h + p) / s;
  if (*hi > n_out - 1) *hi = n_out - 1;
}

/* k: the flat index of dx (planes, H, W) */
__global__ void maxpool_backward_kernel(nn_pool_window g, const float *dy, const int *argmax, float *dx,
                                        long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  long q = k / ((long)g.H * g.W);
  int cell = (int)(k % ((long)g.H * g.W)), h = cell / g.W, w = cell % g.W;
  const float *dy_q = dy + q * g.Ho * g.Wo;
  const int *arg_q = argmax + q * g.Ho * g.Wo;
  int i_lo, i_hi, j_lo, j_hi;
  covering(h, g.k, g.s, g.p, g.Ho, &i_lo, &i_hi);
  covering(w, g.k, g.s, g.p, g.Wo, &j_lo, &j_hi);
  float sum = dx[k];
  for (int i = i_lo; i <= i_hi; i++)
    for (int j = j_lo; j <= j_hi; j++)
      if (arg_q[i * g.Wo + j] == cell) sum += dy_q[i * g.Wo + j]; /* this cell was window (i, j)'s max */
  dx[k] = sum;
}

extern "C" void nn_maxpool_backward_cuda(const nn_pool_window *g, const float *dy, const int *argmax, float *dx,
                                         long planes) {
  long total = planes * g->H * g->W;
  if (total <= 0) return;
  maxpool_backward_kernel<<<blocks_for(total), BLOCK>>>(*g, dy, argmax, dx, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* k: the flat index of y; the divisor is k^2, padded cells counting as zeros */
__global__ void avgpool_forward_kernel(nn_pool_window g, const float *x, float *y, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  long q = k / ((long)g.Ho * g.Wo);
  int o = (int)(k % ((long)g.Ho * g.Wo)), i = o / g.Wo, j = o % g.Wo;
  const float *x_q = x + q * g.H * g.W;
  int h0 = i * g.s - g.p, w0 = j * g.s - g.p;
  float sum = 0.f;
  for (int h = h0 > 0 ? h0 : 0; h < h0 + g.k && h < g.H; h++)
    for (int w = w0 > 0 ? w0 : 0; w < w0 + g.k && w < g.W; w++) sum += x_q[h * g.W + w];
  y[k] = sum * (1.f / (float)(g.k * g.k));
}

extern "C" void nn_avgpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, long planes) {
  long total = planes * g->Ho * g->Wo;
  if (total <= 0) return;
  avgpool_forward_kernel<<<blocks_for(total), BLOCK>>>(*g, x, y, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* k: the flat index of dx; every window covering the cell gives it dy / k^2 */
__global__ void avgpool_backward_kernel(nn_pool_window g, const float *dy, float *dx, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  long q = k / ((long)g.H * g.W);
  int cell = (int)(k % ((long)g.H * g.W)), h = cell / g.W, w = cell % g.W;
  const float *dy_q = dy + q * g.Ho * g.Wo;
  float scale = 1.f / (float)(g.k * g.k);
  int i_lo, i_hi, j_lo, j_hi;
  covering(h, g.k, g.s, g.p, g.Ho, &i_lo, &i_hi);
  covering(w, g.k, g.s, g.p, g.Wo, &j_lo, &j_hi);
  float sum = dx[k];
  for (int i = i_lo; i <= i_hi; i++)
    for (int j = j_lo; j <= j_hi; j++)
      sum += __fmul_rn(dy_q[i * g.Wo + j], scale); /* rounded product, no FMA: the CPU's share */
  dx[k] = sum;
}

extern "C" void nn_avgpool_backward_cuda(const nn_pool_window *g, const float *dy, float *dx, long planes) {
  long total = planes * g->H * g->W;
  if (total <= 0) return;
  avgpool_backward_kernel<<<blocks_for(total), BLOCK>>>(*g, dy, dx, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* ---- GlobalAvgPool2d */

/* One block per plane q: thread t sums cells t, t + BLOCK, ... in double, then the
 * BLOCK partial sums are halved in shared memory until one is left. */
__global__ void global_avgpool_forward_kernel(const float *x, float *y, long plane) {
  __shared__ double part[BLOCK];
  const float *x_q = x + blockIdx.x * plane;
  double sum = 0;
  for (long i = threadIdx.x; i < plane; i += BLOCK) sum += x_q[i];
  part[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = BLOCK / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) y[blockIdx.x] = (float)(part[0] / (double)plane);
}

extern "C" void nn_global_avgpool_forward_cuda(const float *x, float *y, long planes, long plane) {
  if (planes <= 0 || plane <= 0) return;
  global_avgpool_forward_kernel<<<(unsigned)planes, BLOCK>>>(x, y, plane);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* k: the flat index of dx (planes, plane) */
__global__ void global_avgpool_backward_kernel(const float *dy, float *dx, long plane, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k < total) dx[k] += dy[k / plane] / (float)plane; /* each cell moved the mean by 1/(H*W) of itself */
}

extern "C" void nn_global_avgpool_backward_cuda(const float *dy, float *dx, long planes, long plane) {
  long total = planes * plane;
  if (total <= 0) return;
  global_avgpool_backward_kernel<<<blocks_for(total), BLOCK>>>(dy, dx, plane, total);
  NN_CUDA_CHECK(cudaGetLastError());
}
