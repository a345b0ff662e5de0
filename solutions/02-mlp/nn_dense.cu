/* nn_dense.cu: the two bias kernels of the Dense layer on the GPU; the three
 * matrix products are cuBLAS, through nn_sgemm (nn_dense.c).
 *
 *   forward   y[n, j] += b[j]            y: (N, out)   b: (out)
 *   backward  db[j] += sum_n dy[n, j]    dy: (N, out)  db: (out)
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
}

enum { BLOCK = 256 };

/* one thread per element of y; consecutive threads, consecutive j (coalesced) */
__global__ void bias_add_kernel(float *y, const float *b, long total, int out) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k < total) y[k] += b[k % out];
}

extern "C" void nn_dense_bias_add_cuda(float *y, const float *b, int N, int out) {
  long total = (long)N * out;
  if (total <= 0) return;
  bias_add_kernel<<<(unsigned)((total + BLOCK - 1) / BLOCK), BLOCK>>>(y, b, total, out);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* Column sums. A block of COLS x ROWS threads owns COLS columns: thread (tx, ty)
 * sums rows ty, ty + ROWS, ... of column j = blockIdx.x * COLS + tx (a warp reads
 * 32 consecutive floats of a row), then the ROWS partials of each column are
 * added in shared memory and written once. No atomics: each column has one block. */
enum { COLS = 32, ROWS = 8 };

__global__ void bias_grad_kernel(const float *dy, float *db, int N, int out) {
  __shared__ float part[ROWS][COLS];
  int j = blockIdx.x * COLS + threadIdx.x;
  float sum = 0.f;
  if (j < out)
    for (int n = threadIdx.y; n < N; n += ROWS) sum += dy[(long)n * out + j];
  part[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < out) {
    for (int r = 1; r < ROWS; r++) sum += part[r][threadIdx.x];
    db[j] += sum;
  }
}

extern "C" void nn_dense_bias_grad_cuda(const float *dy, float *db, int N, int out) {
  if (N <= 0 || out <= 0) return;
  bias_grad_kernel<<<nn_ceil_div(out, COLS), dim3(COLS, ROWS)>>>(dy, db, N, out);
  NN_CUDA_CHECK(cudaGetLastError());
}
