/* nn_cuda.h: the only door from C into CUDA.
 *
 * Every GPU routine of the library is an extern "C" launcher declared here and
 * defined in a .cu file beside the op. When the library is built without nvcc,
 * nn_nocuda.c defines the same names: nn_cuda_available() says false and the
 * others panic, so GPU code paths never need #ifdef.
 */
#ifndef NN_CUDA_H
#define NN_CUDA_H

#include <stdbool.h>
#include <stddef.h>

/* True when the library was built with CUDA AND a GPU is usable right now.
 * Tests call this and skip (never pass) GPU tests when it is false. */
bool nn_cuda_available(void);
/* One line for humans: "NVIDIA H100 (sm_90, 80 GB)" or why there is no GPU. */
const char *nn_cuda_describe(void);

void *nn_cuda_malloc(size_t bytes);
void nn_cuda_free(void *p);
void nn_cuda_to_device(void *dst, const void *src, size_t bytes);
void nn_cuda_to_host(void *dst, const void *src, size_t bytes);
void nn_cuda_device_copy(void *dst, const void *src, size_t bytes);
void nn_cuda_fill(float *x, float value, int n);
void nn_cuda_synchronize(void);

/* GEMM on device pointers, row-major, the strided-batched contract of nn_gemm.h: a whole
 * batch in one launch. Arguments are checked by nn_gemm.c's entry points. */
void nn_sgemm_cublas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                     long stride_a, const float *B, int ldb, long stride_b, float beta, float *C,
                     int ldc, long stride_c, int batch);
void nn_sgemm_tiled_cuda(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                         int lda, long stride_a, const float *B, int ldb, long stride_b,
                         float beta, float *C, int ldc, long stride_c, int batch);

#ifdef __CUDACC__
#include <stdio.h> /* device printf */
/* For .cu files: stop with the file, line, call and CUDA's own words. */
#define NN_CUDA_CHECK(call)                                                        \
  do {                                                                             \
    cudaError_t e_ = (call);                                                       \
    if (e_ != cudaSuccess)                                                         \
      nn_panic("%s:%d: %s failed: %s", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
  } while (0)

/* The device-code twin of NN_LAB_STUB: a kernel cannot call nn_panic, so it
 * prints and traps; the launcher's next CUDA check then stops the program. */
#define NN_LAB_STUB_DEVICE(lab, fn)                                                 \
  do {                                                                              \
    printf("lab %s: %s is not written yet (the TODO in %s)\n", lab, fn, __FILE__); \
    __trap();                                                                       \
  } while (0)
#endif

#endif
