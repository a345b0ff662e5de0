/* nn_dropout.cu: Dropout's mask on the GPU, one thread per element.
 *
 * Thread i computes element i's uniform number from (seed, step, i) with nn_philox.h, the
 * same inline code the CPU runs (nn_dropout.c), so the two masks are the same bits: no
 * thread waits for another's draws, and nothing is stored between forward and backward.
 * The product in[i] * m is rounded on its own (__fmul_rn), never fused with the add of
 * backward into an FMA, so dx is the CPU's too, bit for bit.
 */
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
#include "nn_philox.h"
}

enum { BLOCK = 256 };

/* out[i] (+)= in[i] * m_i, m_i = keep_scale if u(seed, step, i) >= p else 0 */
__global__ void dropout_kernel(uint64_t seed, uint64_t step, float p, float keep_scale, const float *in,
                               float *out, long n, bool accumulate) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  /* TODO(lab 02-mlp): write this part of dropout_kernel. */
  /* HINT: the GPU twin of nn_dropout.c's apply_mask, one element per thread: the same mask value from nn_philox_uniform (it is __host__ __device__), the same accumulate rule; the test wants the CPU's mask and values exactly */
  NN_LAB_STUB_DEVICE("02-mlp", "dropout_kernel");
}

extern "C" void nn_dropout_apply_cuda(uint64_t seed, uint64_t step, float p, float keep_scale, const float *in,
                                      float *out, long n, bool accumulate) {
  if (n <= 0) return;
  dropout_kernel<<<(unsigned)((n + BLOCK - 1) / BLOCK), BLOCK>>>(seed, step, p, keep_scale, in, out, n, accumulate);
  NN_CUDA_CHECK(cudaGetLastError());
}
