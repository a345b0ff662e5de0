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
  /* TODO(lab 03-cnn): write this part of se_gate_grad_kernel. */
  /* HINT: this block owns plane blockIdx.x alone: each of its BLOCK threads sums its share of the plane's dy * x (in double, as the CPU does), leaves that in part[threadIdx.x], then the block adds the BLOCK partial sums together in shared memory and one thread writes de (written, not added). Why must every thread pass each __syncthreads(), even one with no cells? */
  NN_LAB_STUB_DEVICE("03-cnn", "se_gate_grad_kernel");
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
  /* TODO(lab 03-cnn): write this part of se_scale_backward_kernel. */
  /* HINT: y = x * e[q] reaches x twice: directly (dy times the gate of x's plane q) and through the squeeze s[q] = mean of the plane, whose gradient ds[q] the MLP's backward left; the mean gives each of the plane's cells 1/plane of it. Add both into dx (backward accumulates) */
  NN_LAB_STUB_DEVICE("03-cnn", "se_scale_backward_kernel");
}

extern "C" void nn_se_scale_backward_cuda(const float *dy, const float *e, const float *ds, float *dx, long planes,
                                          long plane) {
  long total = planes * plane;
  if (total <= 0) return;
  se_scale_backward_kernel<<<blocks_for(total), BLOCK>>>(dy, e, ds, dx, plane, total);
  NN_CUDA_CHECK(cudaGetLastError());
}
