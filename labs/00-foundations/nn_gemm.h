/* nn_gemm.h: the one matrix multiply every layer of the course calls.
 *
 *   C = alpha * op(A) @ op(B) + beta * C          row-major, no leading dims
 *   op(A): (M, K)   op(B): (K, N)   C: (M, N)
 *   ta: A is stored transposed, as (K, M); tb: B is stored as (N, K).
 *
 * beta = 1 is how a backward pass accumulates dW += x^T @ dy; beta = 0 ignores
 * whatever C held (even NaN), as BLAS does.
 *
 * Backends, same contract:
 *   naive     three loops, the definition; the reference everything is tested against
 *   blocked   the library's own: packed, cache-blocked, a register micro-kernel
 *             (chapter 00's lab; GotoBLAS/BLIS structure)
 *   openblas  cblas_sgemm, when the library was built with OpenBLAS; on libnn's threads,
 *             never OpenBLAS's own (nn_parallel.h)
 *   cublas    cublasSgemm on device pointers
 *   tiled     a hand-written shared-memory CUDA kernel (chapter 00's GPU lab)
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

/* The entry point layers use. CPU: OpenBLAS when built with it, else blocked.
 * GPU (A, B, C are device pointers): cuBLAS. */
void nn_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
              const float *B, float beta, float *C, nn_device device);

/* A chosen backend, for tests, benchmarks and the lab. Pointers live on the
 * backend's device (host for naive/blocked/openblas, GPU for cublas/tiled). */
void nn_sgemm_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K,
                   float alpha, const float *A, const float *B, float beta, float *C);

bool nn_gemm_available(nn_gemm_backend backend);
nn_device nn_gemm_device(nn_gemm_backend backend);
const char *nn_gemm_name(nn_gemm_backend backend); /* "blocked" */

void nn_sgemm_naive(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                    const float *B, float beta, float *C);
void nn_sgemm_blocked(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      const float *B, float beta, float *C);
/* Defined in nn_gemm_openblas.c, or in nn_noblas.c when OpenBLAS is absent. */
bool nn_openblas_available(void);
void nn_sgemm_openblas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       const float *B, float beta, float *C);

#endif
