/* nn_gemm.c: nn_sgemm's dispatch and the two CPU backends the library owns. */
#include "nn_gemm.h"

#include "nn_cuda.h"

/* Element (i, p) of op(A), where op(A) is (M, K); A is (M, K) or stored (K, M). */
static inline float op_a(const float *A, bool ta, int M, int K, int i, int p) {
  return ta ? A[(long)p * M + i] : A[(long)i * K + p];
}
/* Element (p, j) of op(B), where op(B) is (K, N); B is (K, N) or stored (N, K). */
static inline float op_b(const float *B, bool tb, int N, int K, int p, int j) {
  return tb ? B[(long)j * K + p] : B[(long)p * N + j];
}

void nn_sgemm_naive(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                    const float *B, float beta, float *C) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float sum = 0.f; /* C[i][j] = sum_p op(A)[i][p] * op(B)[p][j] */
      for (int p = 0; p < K; p++) sum += op_a(A, ta, M, K, i, p) * op_b(B, tb, N, K, p, j);
      float old = beta == 0.f ? 0.f : beta * C[(long)i * N + j];
      C[(long)i * N + j] = alpha * sum + old;
    }
}

/* Tiles sized so a block of A, B and C stays in L1/L2 while it is reused. */
enum { TILE_M = 64, TILE_N = 256, TILE_K = 256 };

static void scale_c(int M, int N, float beta, float *C) {
  for (long i = 0; i < (long)M * N; i++) C[i] = beta == 0.f ? 0.f : beta * C[i];
}

void nn_sgemm_blocked(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      const float *B, float beta, float *C) {
  scale_c(M, N, beta, C);
  /* TODO(lab 00-foundations): write this part of nn_sgemm_blocked. */
  NN_LAB_STUB("00-foundations", "nn_sgemm_blocked");
}

static void check_dims(const char *fn, int M, int N, int K, const float *A, const float *B,
                       const float *C) {
  NN_REQUIRE(M >= 0 && N >= 0 && K >= 0, "%s: M=%d, N=%d, K=%d; sizes must be >= 0", fn, M, N, K);
  NN_REQUIRE((A && B) || M == 0 || N == 0 || K == 0, "%s: A or B is NULL (M=%d, N=%d, K=%d)", fn,
             M, N, K);
  NN_REQUIRE(C || M == 0 || N == 0, "%s: C is NULL (M=%d, N=%d)", fn, M, N);
}

bool nn_gemm_available(nn_gemm_backend backend) {
  switch (backend) {
  case NN_GEMM_NAIVE:
  case NN_GEMM_BLOCKED: return true;
  case NN_GEMM_OPENBLAS: return nn_openblas_available();
  case NN_GEMM_CUBLAS:
  case NN_GEMM_TILED: return nn_cuda_available();
  case NN_GEMM_BACKENDS: break;
  }
  return false;
}

nn_device nn_gemm_device(nn_gemm_backend backend) {
  return backend == NN_GEMM_CUBLAS || backend == NN_GEMM_TILED ? NN_GPU : NN_CPU;
}

const char *nn_gemm_name(nn_gemm_backend backend) {
  static const char *names[NN_GEMM_BACKENDS] = {"naive", "blocked", "openblas", "cublas", "tiled"};
  return backend >= 0 && backend < NN_GEMM_BACKENDS ? names[backend] : "?";
}

void nn_sgemm_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K, float alpha,
                   const float *A, const float *B, float beta, float *C) {
  check_dims("nn_sgemm", M, N, K, A, B, C);
  NN_REQUIRE(nn_gemm_available(backend), "nn_sgemm: backend '%s' is not available in this build",
             nn_gemm_name(backend));
  if (M == 0 || N == 0) return;
  switch (backend) {
  case NN_GEMM_NAIVE: nn_sgemm_naive(ta, tb, M, N, K, alpha, A, B, beta, C); break;
  case NN_GEMM_BLOCKED: nn_sgemm_blocked(ta, tb, M, N, K, alpha, A, B, beta, C); break;
  case NN_GEMM_OPENBLAS: nn_sgemm_openblas(ta, tb, M, N, K, alpha, A, B, beta, C); break;
  case NN_GEMM_CUBLAS: nn_sgemm_cublas(ta, tb, M, N, K, alpha, A, B, beta, C); break;
  case NN_GEMM_TILED: nn_sgemm_tiled_cuda(ta, tb, M, N, K, alpha, A, B, beta, C); break;
  case NN_GEMM_BACKENDS: break;
  }
}

void nn_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, const float *B,
              float beta, float *C, nn_device device) {
  nn_gemm_backend cpu = nn_openblas_available() ? NN_GEMM_OPENBLAS : NN_GEMM_BLOCKED;
  nn_sgemm_with(device == NN_GPU ? NN_GEMM_CUBLAS : cpu, ta, tb, M, N, K, alpha, A, B, beta, C);
}
