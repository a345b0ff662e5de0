/* nn_gemm.cu: the GPU backends of nn_sgemm: cuBLAS and a hand-written tiled kernel.
 *
 * Both take device pointers and the row-major, strided-batched contract of nn_gemm.h:
 *   C_b = alpha * op(A_b) @ op(B_b) + beta * C_b,  op(A_b): (M, K), op(B_b): (K, N), C_b: (M, N)
 *   X_b = X + b * stride_x for b < batch; stored rows lda, ldb, ldc floats apart.
 * The whole batch is one launch: attention's B*H small products would otherwise cost
 * B*H launches of a few microseconds each.
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

/* cuBLAS is column-major. A row-major (M, N) matrix whose rows are ldc floats apart is
 * a column-major (N, M) one whose columns are ldc apart, so row-major C = op(A) op(B)
 * is column-major C^T = op(B)^T op(A)^T: swap the operands and M with N, keep the
 * transpose flags and the leading dimensions (and the strides of a batch). */
extern "C" void nn_sgemm_cublas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                                int lda, long stride_a, const float *B, int ldb, long stride_b,
                                float beta, float *C, int ldc, long stride_c, int batch) {
  cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  lda = lda > 0 ? lda : 1, ldb = ldb > 0 ? ldb : 1; /* cuBLAS wants ld >= 1, even for K = 0 */
  cublasStatus_t s =
      batch == 1 ? cublasSgemm(cublas_handle(), opb, opa, N, M, K, &alpha, B, ldb, A, lda, &beta, C, ldc)
                 : cublasSgemmStridedBatched(cublas_handle(), opb, opa, N, M, K, &alpha, B, ldb, stride_b, A,
                                             lda, stride_a, &beta, C, ldc, stride_c, batch);
  if (s != CUBLAS_STATUS_SUCCESS)
    nn_panic("nn_sgemm_cublas: cublasSgemm%s failed with status %d (M=%d, N=%d, K=%d, batch=%d)",
             batch == 1 ? "" : "StridedBatched", (int)s, M, N, K, batch);
}

/* The tiled kernel. Each block computes a TILE x TILE patch of one C_b, b = blockIdx.z.
 * It walks K in steps of TILE: the block loads a TILE x TILE patch of op(A) and of op(B)
 * into shared memory (each element read from global memory once per block, not
 * TILE times), synchronises, and every thread accumulates its dot product from
 * the fast shared copies. */
#define TILE 32
#define MAX_GRID_Z 65535 /* CUDA's limit on gridDim.z: a longer batch takes several launches */

/* ANCHOR: tiled_loads */
/* op(A)[i][p], op(B)[p][j]: the stored element, rows lda (ldb) floats apart */
__device__ static float load_a(const float *A, bool ta, int lda, int M, int K, int i, int p) {
  if (i >= M || p >= K) return 0.f; /* pad the edge tiles with zeros */
  return ta ? A[(long)p * lda + i] : A[(long)i * lda + p];
}
__device__ static float load_b(const float *B, bool tb, int ldb, int N, int K, int p, int j) {
  if (p >= K || j >= N) return 0.f;
  return tb ? B[(long)j * ldb + p] : B[(long)p * ldb + j];
}
/* ANCHOR_END: tiled_loads */

__global__ void sgemm_tiled_kernel(bool ta, bool tb, int M, int N, int K, float alpha,
                                   const float *A, int lda, long stride_a, const float *B, int ldb,
                                   long stride_b, float beta, float *C, int ldc, long stride_c) {
  __shared__ float a_tile[TILE][TILE];
  __shared__ float b_tile[TILE][TILE + 1]; /* +1: no bank conflicts when B is transposed */
  A += blockIdx.z * stride_a, B += blockIdx.z * stride_b, C += blockIdx.z * stride_c; /* item b */
  int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
  float sum = 0.f;
  for (int p0 = 0; p0 < K; p0 += TILE) {
    /* BEGIN SOLUTION */
    /* HINT: one step of K for the whole block: its TILE x TILE threads first copy a TILE-wide slab of op(A) (the block's rows, columns p0 ..) and of op(B) (rows p0 .., the block's columns) into a_tile and b_tile, ONE element per thread; then each thread adds the TILE products of its row of a_tile and its column of b_tile into sum. Every thread waits for the others twice: why before the products, and why again after them? */
    /* HINT2: thread (ty, tx) = (threadIdx.y, threadIdx.x) stores load_a(A, ta, lda, M, K, row, p0 + tx) in a_tile[ty][tx] and load_b(B, tb, ldb, N, K, p0 + ty, col) in b_tile[ty][tx] (both give 0 past the matrix's edge, so edge tiles need no test); __syncthreads(); sum gains a_tile[ty][p] times b_tile[p][tx] for p = 0 .. TILE - 1; __syncthreads() again, or a fast thread's next loads overwrite tiles a slow one still reads */
    a_tile[threadIdx.y][threadIdx.x] = load_a(A, ta, lda, M, K, row, p0 + threadIdx.x);
    b_tile[threadIdx.y][threadIdx.x] = load_b(B, tb, ldb, N, K, p0 + threadIdx.y, col);
    __syncthreads();
    for (int p = 0; p < TILE; p++) sum += a_tile[threadIdx.y][p] * b_tile[p][threadIdx.x];
    __syncthreads();
    /* END SOLUTION */
  }
  if (row < M && col < N) {
    float *c = &C[(long)row * ldc + col];
    *c = alpha * sum + (beta == 0.f ? 0.f : beta * *c);
  }
}

/* ANCHOR: tiled_launch */
extern "C" void nn_sgemm_tiled_cuda(bool ta, bool tb, int M, int N, int K, float alpha,
                                    const float *A, int lda, long stride_a, const float *B,
                                    int ldb, long stride_b, float beta, float *C, int ldc,
                                    long stride_c, int batch) {
  dim3 block(TILE, TILE);
  for (int b0 = 0; b0 < batch; b0 += MAX_GRID_Z) { /* items b0 .. b0 + items - 1 */
    int items = batch - b0 < MAX_GRID_Z ? batch - b0 : MAX_GRID_Z;
    dim3 grid(nn_ceil_div(N, TILE), nn_ceil_div(M, TILE), items);
    sgemm_tiled_kernel<<<grid, block>>>(ta, tb, M, N, K, alpha, A + b0 * stride_a, lda, stride_a,
                                        B + b0 * stride_b, ldb, stride_b, beta, C + b0 * stride_c,
                                        ldc, stride_c);
    NN_CUDA_CHECK(cudaGetLastError());
  }
}
/* ANCHOR_END: tiled_launch */
