/* cublas_emu.cc: the cuBLAS of tools/cuda-emu: SGEMM by a plain CPU loop, with cuBLAS's
 * column-major contract and argument checks. A test double: the GPU's cuBLAS adds in
 * another order (and may use TF32), so compare with a tolerance, as on a GPU. */
#include <cstdlib>
#include <vector>

#include "cublas_v2.h"

struct cublasContext {
  int unused;
};

cublasStatus_t cublasCreate(cublasHandle_t *handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  *handle = new cublasContext{0};
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t) {
  return handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t) {
  return handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

/* Column-major (rows, cols) with leading dimension ld: does it lie in device memory? */
static bool on_device(const float *p, int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return true;
  return emu_is_device_range(p, ((size_t)(cols - 1) * ld + rows) * sizeof(float));
}

/* One product: C (m, n) = alpha op(A) op(B) + beta C, all column-major. op(A) is copied
 * into a contiguous (m, k) panel first, so the inner loop runs down columns. */
static void sgemm_one(bool ta, bool tb, int m, int n, int k, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc, std::vector<float> &panel, std::vector<float> &column) {
  panel.resize((size_t)m * k);
  column.resize(m);
  for (int p = 0; p < k; p++)
    for (int i = 0; i < m; i++) panel[(size_t)p * m + i] = ta ? A[(size_t)i * lda + p] : A[(size_t)p * lda + i];
  for (int j = 0; j < n; j++) {
    for (int i = 0; i < m; i++) column[i] = 0.f;
    for (int p = 0; p < k; p++) {
      float b = tb ? B[(size_t)p * ldb + j] : B[(size_t)j * ldb + p];
      const float *a = &panel[(size_t)p * m];
      for (int i = 0; i < m; i++) column[i] += a[i] * b;
    }
    float *c = &C[(size_t)j * ldc];
    for (int i = 0; i < m; i++) c[i] = alpha * column[i] + (beta == 0.f ? 0.f : beta * c[i]); /* beta 0: C unread */
  }
}

static cublasStatus_t check(const char *call, cublasHandle_t handle, cublasOperation_t opa, cublasOperation_t opb,
                            int m, int n, int k, const float *alpha, const float *A, int lda, const float *B, int ldb,
                            const float *beta, float *C, int ldc) {
  if (!handle) return CUBLAS_STATUS_NOT_INITIALIZED;
  bool ta = opa != CUBLAS_OP_N, tb = opb != CUBLAS_OP_N;
  int a_rows = ta ? k : m, b_rows = tb ? n : k;
  if (m < 0 || n < 0 || k < 0 || !alpha || !beta || lda < (a_rows > 1 ? a_rows : 1) ||
      ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1)) {
    fprintf(stderr, "cuda-emu: %s: invalid value (m=%d, n=%d, k=%d, lda=%d, ldb=%d, ldc=%d)\n", call, m, n, k, lda, ldb,
            ldc);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (!on_device(A, a_rows, ta ? m : k, lda) || !on_device(B, b_rows, tb ? k : n, ldb) || !on_device(C, m, n, ldc)) {
    fprintf(stderr, "cuda-emu: %s: A, B or C is not (all) in device memory\n", call);
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t opa, cublasOperation_t opb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc) {
  cublasStatus_t s = check("cublasSgemm", handle, opa, opb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
  if (s != CUBLAS_STATUS_SUCCESS) return s;
  std::vector<float> panel, column;
  sgemm_one(opa != CUBLAS_OP_N, opb != CUBLAS_OP_N, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc, panel, column);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t opa, cublasOperation_t opb, int m,
                                         int n, int k, const float *alpha, const float *A, int lda, long long stride_a,
                                         const float *B, int ldb, long long stride_b, const float *beta, float *C,
                                         int ldc, long long stride_c, int batch) {
  if (batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  std::vector<float> panel, column;
  for (int b = 0; b < batch; b++) {
    const float *Ab = A + b * stride_a, *Bb = B + b * stride_b;
    float *Cb = C + b * stride_c;
    cublasStatus_t s = check("cublasSgemmStridedBatched", handle, opa, opb, m, n, k, alpha, Ab, lda, Bb, ldb, beta, Cb, ldc);
    if (s != CUBLAS_STATUS_SUCCESS) return s;
    sgemm_one(opa != CUBLAS_OP_N, opb != CUBLAS_OP_N, m, n, k, *alpha, Ab, lda, Bb, ldb, *beta, Cb, ldc, panel, column);
  }
  return CUBLAS_STATUS_SUCCESS;
}
