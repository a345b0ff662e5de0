/* nn_nocuda.c: stands in for the .cu files when the library is built without
 * nvcc. nn_cuda_available() is false, so no correct program reaches the other
 * functions; if one does, it stops with a message instead of a segfault. */
#include "nn_common.h"
#include "nn_cuda.h"

#define NO_CUDA(fn) nn_panic("%s: libnn was built without CUDA (no nvcc or no cuBLAS, or NO_CUDA=1); " \
                             "check nn_cuda_available() first", fn)

bool nn_cuda_available(void) { return false; }
const char *nn_cuda_describe(void) { return "no GPU: libnn was built without CUDA (no nvcc or no cuBLAS, or NO_CUDA=1)"; }

void *nn_cuda_malloc(size_t bytes) { (void)bytes; NO_CUDA("nn_cuda_malloc"); }
void nn_cuda_free(void *p) {
  if (p) NO_CUDA("nn_cuda_free");
}
void nn_cuda_to_device(void *dst, const void *src, size_t bytes) {
  (void)dst, (void)src, (void)bytes;
  NO_CUDA("nn_cuda_to_device");
}
void nn_cuda_to_host(void *dst, const void *src, size_t bytes) {
  (void)dst, (void)src, (void)bytes;
  NO_CUDA("nn_cuda_to_host");
}
void nn_cuda_device_copy(void *dst, const void *src, size_t bytes) {
  (void)dst, (void)src, (void)bytes;
  NO_CUDA("nn_cuda_device_copy");
}
void nn_cuda_fill(float *x, float value, int n) {
  (void)x, (void)value, (void)n;
  NO_CUDA("nn_cuda_fill");
}
void nn_cuda_synchronize(void) {}

void nn_sgemm_cublas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                     long stride_a, const float *B, int ldb, long stride_b, float beta, float *C,
                     int ldc, long stride_c, int batch) {
  (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)stride_a;
  (void)B, (void)ldb, (void)stride_b, (void)beta, (void)C, (void)ldc, (void)stride_c, (void)batch;
  NO_CUDA("nn_sgemm_cublas");
}
void nn_sgemm_tiled_cuda(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                         int lda, long stride_a, const float *B, int ldb, long stride_b,
                         float beta, float *C, int ldc, long stride_c, int batch) {
  (void)ta, (void)tb, (void)M, (void)N, (void)K, (void)alpha, (void)A, (void)lda, (void)stride_a;
  (void)B, (void)ldb, (void)stride_b, (void)beta, (void)C, (void)ldc, (void)stride_c, (void)batch;
  NO_CUDA("nn_sgemm_tiled_cuda");
}
