/* nn_conv2d.cu: the two bias kernels of Conv2d on the GPU; im2col and col2im are
 * nn_im2col.cu, the matrix products cuBLAS through nn_sgemm (nn_conv2d.c).
 *
 *   forward   y[n, f, p] += b[f]                  y: (N, F, P), P = Ho*Wo   b: (F)
 *   backward  db[f] += sum_{n, p} dy[n, f, p]     dy: (N, F, P)             db: (F)
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
}

enum { BLOCK = 256 };

/* one thread per element of y; f is the middle index of (n, f, p) */
__global__ void conv_bias_add_kernel(float *y, const float *b, long total, int F, int P) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k < total) y[k] += b[k / P % F];
}

extern "C" void nn_conv2d_bias_add_cuda(float *y, const float *b, int N, int F, int P) {
  long total = (long)N * F * P;
  if (total <= 0) return;
  conv_bias_add_kernel<<<(unsigned)((total + BLOCK - 1) / BLOCK), BLOCK>>>(y, b, total, F, P);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* One block per filter f sums the N*P numbers dy[n, f, :]. Thread t takes
 * t, t + BLOCK, ... (consecutive threads, consecutive p: coalesced), then the
 * BLOCK partial sums are halved in shared memory until one is left, which is
 * added to db[f]. No atomics: each f has one block, so the result is the same
 * on every run. */
__global__ void conv_bias_grad_kernel(const float *dy, float *db, int N, int F, int P) {
  __shared__ float part[BLOCK];
  int f = blockIdx.x;
  long count = (long)N * P;
  float sum = 0.f;
  for (long t = threadIdx.x; t < count; t += BLOCK) {
    long n = t / P, p = t % P;
    sum += dy[(n * F + f) * P + p];
  }
  part[threadIdx.x] = sum;
  __syncthreads();
  for (unsigned half = BLOCK / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) part[threadIdx.x] += part[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[f] += part[0];
}

extern "C" void nn_conv2d_bias_grad_cuda(const float *dy, float *db, int N, int F, int P) {
  if (N <= 0 || F <= 0 || P <= 0) return;
  conv_bias_grad_kernel<<<F, BLOCK>>>(dy, db, N, F, P);
  NN_CUDA_CHECK(cudaGetLastError());
}
