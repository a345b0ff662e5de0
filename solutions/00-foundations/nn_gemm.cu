/* nn_gemm.cu: the GPU backends of nn_sgemm: cuBLAS and a hand-written tiled kernel.
 *
 * Both take device pointers and the row-major contract of nn_gemm.h:
 *   C = alpha * op(A) @ op(B) + beta * C,  op(A): (M, K), op(B): (K, N), C: (M, N).
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
}

/* One cuBLAS handle per process, made on first use: creating one costs
 * milliseconds, far more than a small GEMM. This is the library's only cache. */
static cublasHandle_t cublas_handle(void) {
  static cublasHandle_t handle = NULL;
  if (!handle && cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS)
    nn_panic("nn_sgemm_cublas: cublasCreate failed (is the GPU busy or out of memory?)");
  return handle;
}

/* cuBLAS is column-major. A row-major (M, N) matrix is a column-major (N, M)
 * one, so row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T:
 * swap the operands and M with N, keep the transpose flags. */
extern "C" void nn_sgemm_cublas(bool ta, bool tb, int M, int N, int K, float alpha,
                                const float *A, const float *B, float beta, float *C) {
  int lda = ta ? M : K, ldb = tb ? K : N;
  cublasStatus_t s = cublasSgemm(cublas_handle(), tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                                 ldb > 0 ? ldb : 1, A, lda > 0 ? lda : 1, &beta, C, N);
  if (s != CUBLAS_STATUS_SUCCESS) nn_panic("nn_sgemm_cublas: cublasSgemm failed with status %d", (int)s);
}

/* The tiled kernel. Each block computes a TILE x TILE patch of C. It walks K in
 * steps of TILE: the block loads a TILE x TILE patch of op(A) and of op(B) into
 * shared memory (each element read from global memory once per block, not
 * TILE times), synchronises, and every thread accumulates its dot product from
 * the fast shared copies. */
#define TILE 32

/* ANCHOR: tiled_loads */
__device__ static float load_a(const float *A, bool ta, int M, int K, int i, int p) {
  if (i >= M || p >= K) return 0.f; /* pad the edge tiles with zeros */
  return ta ? A[(long)p * M + i] : A[(long)i * K + p];
}
__device__ static float load_b(const float *B, bool tb, int N, int K, int p, int j) {
  if (p >= K || j >= N) return 0.f;
  return tb ? B[(long)j * K + p] : B[(long)p * N + j];
}
/* ANCHOR_END: tiled_loads */

__global__ void sgemm_tiled_kernel(bool ta, bool tb, int M, int N, int K, float alpha,
                                   const float *A, const float *B, float beta, float *C) {
  __shared__ float a_tile[TILE][TILE];
  __shared__ float b_tile[TILE][TILE + 1]; /* +1: no bank conflicts when B is transposed */
  int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
  float sum = 0.f;
  for (int p0 = 0; p0 < K; p0 += TILE) {
    /* BEGIN SOLUTION */
    /* HINT: thread (ty, tx) loads op(A)[row][p0+tx] and op(B)[p0+ty][col], then all sync */
    a_tile[threadIdx.y][threadIdx.x] = load_a(A, ta, M, K, row, p0 + threadIdx.x);
    b_tile[threadIdx.y][threadIdx.x] = load_b(B, tb, N, K, p0 + threadIdx.y, col);
    __syncthreads();
    for (int p = 0; p < TILE; p++) sum += a_tile[threadIdx.y][p] * b_tile[p][threadIdx.x];
    __syncthreads();
    /* END SOLUTION */
  }
  if (row < M && col < N) {
    float old = beta == 0.f ? 0.f : beta * C[(long)row * N + col];
    C[(long)row * N + col] = alpha * sum + old;
  }
}

/* ANCHOR: tiled_launch */
extern "C" void nn_sgemm_tiled_cuda(bool ta, bool tb, int M, int N, int K, float alpha,
                                    const float *A, const float *B, float beta, float *C) {
  dim3 block(TILE, TILE), grid(nn_ceil_div(N, TILE), nn_ceil_div(M, TILE));
  sgemm_tiled_kernel<<<grid, block>>>(ta, tb, M, N, K, alpha, A, B, beta, C);
  NN_CUDA_CHECK(cudaGetLastError());
}
/* ANCHOR_END: tiled_launch */
