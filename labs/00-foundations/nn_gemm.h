/* nn_gemm.h: the one matrix multiply every layer of the course calls.
 *
 *   C = alpha * op(A) @ op(B) + beta * C          row-major
 *   op(A): (M, K)   op(B): (K, N)   C: (M, N)
 *   ta: A is stored transposed, as (K, M); tb: B is stored as (N, K).
 *
 * beta = 1 is how a backward pass accumulates dW += x^T @ dy; beta = 0 ignores
 * whatever C held (even NaN), as BLAS does. M = 0 or N = 0 writes nothing; K = 0
 * makes op(A) @ op(B) all zeros, so C = beta * C.
 *
 * Leading dimensions: lda is how many floats apart two stored rows of A are,
 *   A as stored, row r, column c:  A[r * lda + c]
 * so lda >= K for A stored (M, K), lda >= M for A stored (K, M); likewise ldb >= N
 * (ldb >= K when tb) and ldc >= N. The stored row length itself (nn_sgemm) is a
 * contiguous matrix; a larger one is a submatrix of a wider one, used in place. Head h
 * of attention's Q: (T, H*d) is (T, d) at Q + h*d with lda = H*d, no copy. C's floats
 * between N and ldc are never read nor written.
 *
 * Strided batch: batch products in one call, item b of each operand stride_* floats
 * after item b-1,
 *   C_b = alpha * op(A_b) @ op(B_b) + beta * C_b,   X_b = X + b * stride_x,  b < batch
 * Q K^T for the B*H heads of Q, K: (B*H, T, d) is one call: M = N = T, K = d, tb,
 * stride_a = stride_b = T*d, stride_c = T*T, batch = B*H. One kernel launch instead of
 * B*H on a GPU, where a launch costs about as much as a small head's product. A stride of
 * 0 gives every item the same A (or B). The items of C must not overlap: stacked
 * (stride_c >= (M-1)*ldc + N) or side by side in the rows of a wider matrix
 * (stride_c >= N and (batch-1)*stride_c + N <= ldc: the heads of a (T, H*d) output).
 *
 * Bad arguments (a size or stride < 0, an ld shorter than its stored row, batch < 1,
 * items of C that overlap, NULL) abort naming the function and the numbers.
 *
 * Backends, same contract:
 *   naive     three loops, the definition; the reference everything is tested against
 *   blocked   the library's own: packed, cache-blocked, a register micro-kernel
 *             (chapter 00's lab; GotoBLAS/BLIS structure)
 *   openblas  cblas_sgemm, when the library was built with OpenBLAS; on libnn's threads,
 *             never OpenBLAS's own (nn_parallel.h)
 *   cublas    cublasSgemm / cublasSgemmStridedBatched on device pointers
 *   tiled     a hand-written shared-memory CUDA kernel (chapter 00's GPU lab)
 * The CPU backends multiply one matrix at a time; nn_gemm.c spreads a batch over the
 * threads. The GPU backends take the whole batch in one launch (nn_cuda.h).
 */
#ifndef NN_GEMM_H
#define NN_GEMM_H

#include "nn_common.h"

typedef enum {
  NN_GEMM_NAIVE,
  NN_GEMM_BLOCKED,
  NN_GEMM_OPENBLAS,
  NN_GEMM_CUBLAS,
  NN_GEMM_TILED,
  NN_GEMM_BACKENDS /* count */
} nn_gemm_backend;

/* The entry points layers use. CPU: OpenBLAS when built with it, else blocked.
 * GPU (A, B, C are device pointers): cuBLAS.
 * nn_sgemm: contiguous operands, lda = K (M when ta), ldb = N (K when tb), ldc = N. */
void nn_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
              const float *B, float beta, float *C, nn_device device);
void nn_sgemm_ld(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc, nn_device device);
void nn_sgemm_strided_batched(bool ta, bool tb, int M, int N, int K, float alpha,
                              const float *A, int lda, long stride_a, const float *B, int ldb,
                              long stride_b, float beta, float *C, int ldc, long stride_c,
                              int batch, nn_device device);

/* A chosen backend, for tests, benchmarks and the lab. Pointers live on the
 * backend's device (host for naive/blocked/openblas, GPU for cublas/tiled).
 * One product with leading dimensions is the strided form with batch = 1. */
void nn_sgemm_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K,
                   float alpha, const float *A, const float *B, float beta, float *C);
void nn_sgemm_strided_batched_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N,
                                   int K, float alpha, const float *A, int lda, long stride_a,
                                   const float *B, int ldb, long stride_b, float beta, float *C,
                                   int ldc, long stride_c, int batch);

bool nn_gemm_available(nn_gemm_backend backend);
nn_device nn_gemm_device(nn_gemm_backend backend);
const char *nn_gemm_name(nn_gemm_backend backend); /* "blocked" */

/* The CPU backends, one product each; arguments are checked by the entry points above. */
void nn_sgemm_naive(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc);
void nn_sgemm_blocked(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Defined in nn_gemm_openblas.c, or in nn_noblas.c when OpenBLAS is absent. */
bool nn_openblas_available(void);
void nn_sgemm_openblas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif
