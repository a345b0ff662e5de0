/* nn_gemm_openblas.c: the OpenBLAS backend of nn_sgemm (built when OpenBLAS is found). */
#include <cblas.h>

#include "nn_gemm.h"

bool nn_openblas_available(void) { return true; }

void nn_sgemm_openblas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       const float *B, float beta, float *C) {
  /* Row-major with tight leading dims: lda is the stored row length of A. */
  int lda = ta ? M : K, ldb = tb ? K : N;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N,
              K, alpha, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, beta, C, N > 0 ? N : 1);
}

void nn_openblas_set_threads(int n) { openblas_set_num_threads(n); }
