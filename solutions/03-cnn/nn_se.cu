/* nn_se.cu: the channel scale of squeeze-and-excitation on the GPU and its backward
 * (nn_se.h); the squeeze is GlobalAvgPool2d's kernel (nn_pool.cu), the excitation MLP
 * two nn_dense layers and two activations (cuBLAS and chapter 02's kernels).
 *
 * x, y, dy, dx: (planes, plane), planes = N*C, plane = H*W; e, ds, de: (planes).
 *
 *   forward    y[q, i] = x[q, i] * e[q]                     one thread per element
 *   gate grad  de[q] = sum_i dy[q, i] * x[q, i]             one block per plane
 *   backward   dx[q, i] += dy[q, i] * e[q] + ds[q] / plane   one thread per element
 *
 * de is a sum of `plane` products into one number: one block owns it (thread t takes
 * i = t, t + BLOCK, ..., then the BLOCK partial sums are halved in shared memory), in
 * double as the CPU sums, and no atomics: a float atomicAdd's order changes from run to
 * run, and so would its bits. The products are rounded before they are added (__fmul_rn,
 * no FMA), so y and dx are the CPU's numbers from the same e and ds.
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
}

enum { BLOCK = 256 };

static unsigned blocks_for(long total) { return (unsigned)((total + BLOCK - 1) / BLOCK); }

/* k: the flat index of y (planes, plane) */
__global__ void se_scale_forward_kernel(const float *x, const float *e, float *y, long plane, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k < total) y[k] = __fmul_rn(x[k], e[k / plane]);
}

extern "C" void nn_se_scale_forward_cuda(const float *x, const float *e, float *y, long planes, long plane) {
  long total = planes * plane;
  if (total <= 0) return;
  se_scale_forward_kernel<<<blocks_for(total), BLOCK>>>(x, e, y, plane, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* One block per plane q: de[q] = sum over the plane of dy * x, in double. */
__global__ void se_gate_grad_kernel(const float *dy, const float *x, float *de, long plane) {
  __shared__ double part[BLOCK];
  const float *dy_q = dy + blockIdx.x * plane, *x_q = x + blockIdx.x * plane;
  /* BEGIN SOLUTION */
  /* HINT: this block owns plane blockIdx.x alone: each of its BLOCK threads sums its share of the plane's dy * x (in double, as the CPU does), leaves that in part[threadIdx.x], then the block adds the BLOCK partial sums together in shared memory and one thread writes de (written, not added). Why must every thread pass each __syncthreads(), even one with no cells? */
  /* HINT2: thread t sums i = t, t + BLOCK, t + 2*BLOCK, ... < plane of (double)dy_q[i] * x_q[i] into a double; part[threadIdx.x] = that; __syncthreads(); then for half = BLOCK/2, BLOCK/4, ..., 1: threads below half add part[t + half] into part[t], and every thread calls __syncthreads() after each round (outside the if); finally thread 0 writes de[blockIdx.x] = (float)part[0]. GlobalAvgPool2d's kernel in nn_pool.cu has the same shape */
  double sum = 0;
  for (long i = threadIdx.x; i < plane; i += BLOCK) sum += (double)dy_q[i] * x_q[i]; /* exact in double */
  part[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = BLOCK / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) de[blockIdx.x] = (float)part[0];
  /* END SOLUTION */
}

extern "C" void nn_se_gate_grad_cuda(const float *dy, const float *x, float *de, long planes, long plane) {
  if (planes <= 0 || plane <= 0) return;
  se_gate_grad_kernel<<<(unsigned)planes, BLOCK>>>(dy, x, de, plane);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* k: the flat index of dx (planes, plane): the scale's share, then the mean's */
__global__ void se_scale_backward_kernel(const float *dy, const float *e, const float *ds, float *dx, long plane,
                                         long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  /* BEGIN SOLUTION */
  /* HINT: y = x * e[q] reaches x twice: directly (dy times the gate of x's plane q) and through the squeeze s[q] = mean of the plane, whose gradient ds[q] the MLP's backward left; the mean gives each of the plane's cells 1/plane of it. Add both into dx (backward accumulates) */
  /* HINT2: q = k / plane (the plane of element k); dx[k] += __fmul_rn(dy[k], e[q]) + ds[q] / (float)plane. __fmul_rn rounds the product before the add (no fused multiply-add), as the CPU's dy * gate + through_mean does */
  long q = k / plane;
  float through_mean = ds[q] / (float)plane;
  dx[k] += __fmul_rn(dy[k], e[q]) + through_mean;
  /* END SOLUTION */
}

extern "C" void nn_se_scale_backward_cuda(const float *dy, const float *e, const float *ds, float *dx, long planes,
                                          long plane) {
  long total = planes * plane;
  if (total <= 0) return;
  se_scale_backward_kernel<<<blocks_for(total), BLOCK>>>(dy, e, ds, dx, plane, total);
  NN_CUDA_CHECK(cudaGetLastError());
}
