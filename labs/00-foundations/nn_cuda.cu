/* nn_cuda.cu: device memory and the GPU check, behind the C launchers of nn_cuda.h. */
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
}

/* Asked once per call: cheap, and it keeps the library free of globals. A
 * machine with the CUDA toolkit but no GPU (or no driver) answers false. */
extern "C" bool nn_cuda_available(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError(); /* clear the sticky "no device" error */
    return false;
  }
  return n > 0;
}

extern "C" const char *nn_cuda_describe(void) {
  static char line[320]; /* one describe string; not thread-safe, for printing */
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0) {
    cudaGetLastError();
    snprintf(line, sizeof line, "no GPU: %s",
             e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device found");
    return line;
  }
  cudaDeviceProp p;
  NN_CUDA_CHECK(cudaGetDeviceProperties(&p, 0));
  snprintf(line, sizeof line, "%s (sm_%d%d, %.0f GB)", p.name, p.major, p.minor,
           p.totalGlobalMem / 1e9);
  return line;
}

extern "C" void *nn_cuda_malloc(size_t bytes) {
  void *p = NULL;
  NN_CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
  return p;
}

extern "C" void nn_cuda_free(void *p) {
  if (p) NN_CUDA_CHECK(cudaFree(p));
}

extern "C" void nn_cuda_to_device(void *dst, const void *src, size_t bytes) {
  NN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

extern "C" void nn_cuda_to_host(void *dst, const void *src, size_t bytes) {
  NN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

extern "C" void nn_cuda_device_copy(void *dst, const void *src, size_t bytes) {
  NN_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

__global__ void fill_kernel(float *x, float value, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = value;
}

extern "C" void nn_cuda_fill(float *x, float value, int n) {
  if (n <= 0) return;
  fill_kernel<<<nn_ceil_div(n, 256), 256>>>(x, value, n);
  NN_CUDA_CHECK(cudaGetLastError());
}

extern "C" void nn_cuda_synchronize(void) { NN_CUDA_CHECK(cudaDeviceSynchronize()); }
