/* nn_layer.cu: dst += src on the GPU, for nn_add_into (nn_layer.c). */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
}

enum { BLOCK = 256 };

__global__ void add_into_kernel(float *dst, const float *src, long n) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dst[i] += src[i];
}

extern "C" void nn_add_into_cuda(float *dst, const float *src, long n) {
  if (n <= 0) return;
  add_into_kernel<<<(unsigned)((n + BLOCK - 1) / BLOCK), BLOCK>>>(dst, src, n);
  NN_CUDA_CHECK(cudaGetLastError());
}
