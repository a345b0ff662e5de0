/* nn_noblas.c: stands in for nn_gemm_openblas.c when OpenBLAS is not installed;
 * nn_sgemm then uses the library's blocked kernel. */
#include "nn_gemm.h"

bool nn_openblas_available(void) { return false; }

void nn_sgemm_openblas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)B, (void)ldb;
  (void)beta, (void)C, (void)ldc;
  nn_panic("nn_sgemm_openblas: libnn was built without OpenBLAS "
           "(apt-get install libopenblas-dev, then make clean all)");
}
