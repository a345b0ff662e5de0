/* nn_activation.cu: the activations and the row-wise softmax on the GPU.
 *
 * The same formulas as nn_activation.c, in the same careful forms (see
 * nn_activation.h): Phi(x) = erfc(-x / sqrt 2) / 2, (1 + tanh u)/2 = sigmoid(2u),
 * softplus(x) = log1p(e^-|x|) + max(x, 0), sigmoid never forming e^(large).
 * One thread per element; one kernel per kind (a template), so no kernel
 * switches on the kind per element. Softmax: one warp (32 threads) per row.
 */
#include <cuda_runtime.h>
#include <math.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
}

enum { BLOCK = 256, WARP = 32, ROWS_PER_BLOCK = BLOCK / WARP };

static constexpr float SQRT_2_OVER_PI = 0.7978845608028654f; /* sqrt(2/pi), GELU tanh form */
static constexpr float GELU_CUBIC = 0.044715f;
static constexpr float INV_SQRT_2 = 0.7071067811865476f;   /* Phi(x) = erfc(-x / sqrt 2) / 2 */
static constexpr float INV_SQRT_2PI = 0.3989422804014327f; /* phi(x) = e^(-x^2/2) / sqrt(2 pi) */
static constexpr float SELU_LAMBDA = 1.0507009873554805f;
static constexpr float SELU_ALPHA = 1.6732632423543772f;

/* n elements, BLOCK per block: n < 2^31 * 256 fits the grid's x dimension */
static unsigned blocks_for(long n) { return (unsigned)((n + BLOCK - 1) / BLOCK); }

/* ---- the scalar functions, as in nn_activation.c */

/* 1 / (1 + e^-z), as nn_sigmoid: e^ of a positive number is never formed */
__device__ static float sigmoid(float z) {
  if (z >= 0.f) return 1.f / (1.f + expf(-z));
  float e = expf(z);
  return e / (1.f + e);
}

__device__ static float softplus(float x) { return log1pf(expf(-fabsf(x))) + fmaxf(x, 0.f); }

__device__ static float Phi(float x) { return 0.5f * erfcf(-x * INV_SQRT_2); }

/* sigmoid(2u), u = sqrt(2/pi) (x + c x^3). __fadd_rn keeps nvcc from fusing the
 * add into an FMA, so 2u is rounded as on the CPU: for 2u near -87 one ulp of
 * 2u is 5e-6 of the result. */
__device__ static float gelu_tanh_gate(float x) {
  return sigmoid(2.f * SQRT_2_OVER_PI * __fadd_rn(x, GELU_CUBIC * x * x * x));
}

/* f(x); K is a template argument, so the switch folds away */
__device__ static float forward_one(nn_activation_kind K, float a, float x) {
  switch (K) {
  case NN_ACT_SIGMOID: return sigmoid(x);
  case NN_ACT_TANH: return tanhf(x);
  case NN_ACT_RELU: return x > 0.f ? x : 0.f;
  case NN_ACT_LEAKY_RELU: return x > 0.f ? x : a * x;
  case NN_ACT_ELU: return x > 0.f ? x : a * expm1f(x); /* expm1: no cancellation near 0 */
  case NN_ACT_SOFTPLUS: return softplus(x);
  case NN_ACT_GELU: return x * Phi(x);
  case NN_ACT_GELU_TANH: return x * gelu_tanh_gate(x);
  case NN_ACT_SILU: return x * sigmoid(x);
  case NN_ACT_SELU: return SELU_LAMBDA * (x > 0.f ? x : SELU_ALPHA * expm1f(x));
  case NN_ACT_RELU6: return fminf(fmaxf(x, 0.f), 6.f);
  default: return 0.f; /* NN_ACT_COUNT: the launcher never instantiates it */
  }
}

/* The lab's three derivatives, the GPU twins of nn_activation.c's: K is sigmoid, tanh or relu. */
__device__ static float lab_derivative(nn_activation_kind K, float x, float y) {
  /* BEGIN SOLUTION */
  /* HINT: the local derivative f'(x) only (the kernel multiplies it by dy and adds it into dx): sigmoid' = y (1 - y) and tanh' = 1 - y^2 read the output y; relu' = [x > 0] reads the input x */
  /* HINT2: three cases on K: NN_ACT_SIGMOID returns y (1 - y), NN_ACT_TANH returns 1 - y y, and the last (NN_ACT_RELU) 1 when x > 0, else 0: the forms of nn_activation.c's three loops */
  if (K == NN_ACT_SIGMOID) return y * (1.f - y);
  if (K == NN_ACT_TANH) return 1.f - y * y;
  return x > 0.f ? 1.f : 0.f; /* 0 at the kink */
  /* END SOLUTION */
}

/* f'(x) from x and y = f(x), the forms of nn_activation.c's backward loops */
__device__ static float derivative_one(nn_activation_kind K, float a, float x, float y) {
  switch (K) {
  case NN_ACT_SIGMOID: case NN_ACT_TANH: case NN_ACT_RELU: return lab_derivative(K, x, y);
  case NN_ACT_LEAKY_RELU: return x > 0.f ? 1.f : a;
  case NN_ACT_ELU: return x > 0.f ? 1.f : y + a; /* alpha e^x = y + alpha */
  case NN_ACT_SOFTPLUS: return sigmoid(x);
  case NN_ACT_GELU: return Phi(x) + x * (INV_SQRT_2PI * expf(-0.5f * x * x));
  case NN_ACT_GELU_TANH: {
    float s = gelu_tanh_gate(x), du = SQRT_2_OVER_PI * (1.f + 3.f * GELU_CUBIC * x * x);
    return s + 2.f * x * s * (1.f - s) * du;
  }
  case NN_ACT_SILU: {
    float s = sigmoid(x);
    return s * (1.f + x * (1.f - s));
  }
  case NN_ACT_SELU: return x > 0.f ? SELU_LAMBDA : y + SELU_LAMBDA * SELU_ALPHA;
  case NN_ACT_RELU6: return x > 0.f && x < 6.f ? 1.f : 0.f;
  default: return 0.f;
  }
}

template <nn_activation_kind K>
__global__ void activation_forward_kernel(float alpha, const float *x, float *y, long n) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = forward_one(K, alpha, x[i]);
}

/* dx += dy * f'(x); sigmoid and tanh read only y, relu and the others x */
template <nn_activation_kind K>
__global__ void activation_backward_kernel(float alpha, const float *x, const float *y, const float *dy,
                                           float *dx, long n) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] += dy[i] * derivative_one(K, alpha, x[i], y[i]);
}

extern "C" void nn_activation_forward_cuda(nn_activation act, const float *x, float *y, long n) {
  if (n <= 0) return;
  unsigned grid = blocks_for(n);
  float a = act.alpha;
  switch (act.kind) {
  case NN_ACT_SIGMOID: activation_forward_kernel<NN_ACT_SIGMOID><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_TANH: activation_forward_kernel<NN_ACT_TANH><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_RELU: activation_forward_kernel<NN_ACT_RELU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_LEAKY_RELU: activation_forward_kernel<NN_ACT_LEAKY_RELU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_ELU: activation_forward_kernel<NN_ACT_ELU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_SOFTPLUS: activation_forward_kernel<NN_ACT_SOFTPLUS><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_GELU: activation_forward_kernel<NN_ACT_GELU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_GELU_TANH: activation_forward_kernel<NN_ACT_GELU_TANH><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_SILU: activation_forward_kernel<NN_ACT_SILU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_SELU: activation_forward_kernel<NN_ACT_SELU><<<grid, BLOCK>>>(a, x, y, n); break;
  case NN_ACT_RELU6: activation_forward_kernel<NN_ACT_RELU6><<<grid, BLOCK>>>(a, x, y, n); break;
  default: nn_panic("nn_activation_forward_cuda: activation kind %d is not one of the %d kinds", (int)act.kind,
                    (int)NN_ACT_COUNT);
  }
  NN_CUDA_CHECK(cudaGetLastError());
}

extern "C" void nn_activation_backward_cuda(nn_activation act, const float *x, const float *y, const float *dy,
                                            float *dx, long n) {
  if (n <= 0) return;
  unsigned grid = blocks_for(n);
  float a = act.alpha;
  switch (act.kind) {
  case NN_ACT_SIGMOID: activation_backward_kernel<NN_ACT_SIGMOID><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_TANH: activation_backward_kernel<NN_ACT_TANH><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_RELU: activation_backward_kernel<NN_ACT_RELU><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_LEAKY_RELU:
    activation_backward_kernel<NN_ACT_LEAKY_RELU><<<grid, BLOCK>>>(a, x, y, dy, dx, n);
    break;
  case NN_ACT_ELU: activation_backward_kernel<NN_ACT_ELU><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_SOFTPLUS: activation_backward_kernel<NN_ACT_SOFTPLUS><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_GELU: activation_backward_kernel<NN_ACT_GELU><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_GELU_TANH:
    activation_backward_kernel<NN_ACT_GELU_TANH><<<grid, BLOCK>>>(a, x, y, dy, dx, n);
    break;
  case NN_ACT_SILU: activation_backward_kernel<NN_ACT_SILU><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_SELU: activation_backward_kernel<NN_ACT_SELU><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  case NN_ACT_RELU6: activation_backward_kernel<NN_ACT_RELU6><<<grid, BLOCK>>>(a, x, y, dy, dx, n); break;
  default: nn_panic("nn_activation_backward_cuda: activation kind %d is not one of the %d kinds",
                    (int)act.kind, (int)NN_ACT_COUNT);
  }
  NN_CUDA_CHECK(cudaGetLastError());
}

/* ---- softmax over rows of C: one warp per row, ROWS_PER_BLOCK rows per block.
 * Lane l handles columns l, l + 32, ...; the warp combines its 32 partials with
 * shuffles (every lane ends with the result). A row index is the same for all
 * 32 lanes of a warp, so a warp past the last row returns as a whole and the
 * full-mask shuffles never wait for a missing lane. */

__device__ static float warp_max(float v) {
  for (int offset = WARP / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

__device__ static float warp_sum(float v) {
  for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

/* y_c = e^(x_c - m) / sum_j e^(x_j - m), m = max_j x_j. y == x is allowed: each
 * lane reads x_c before it writes y_c, and touches only its own columns. */
__global__ void softmax_forward_kernel(const float *x, float *y, long rows, int C) {
  long r = (long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
  int lane = threadIdx.x % WARP;
  if (r >= rows) return;
  const float *x_r = x + r * C;
  float *y_r = y + r * C;
  float m = -INFINITY;
  for (int c = lane; c < C; c += WARP) m = fmaxf(m, x_r[c]);
  m = warp_max(m);
  float s = 0.f;
  for (int c = lane; c < C; c += WARP) s += y_r[c] = expf(x_r[c] - m); /* each in (0, 1] */
  s = warp_sum(s);
  for (int c = lane; c < C; c += WARP) y_r[c] /= s;
}

/* dx_c += y_c (dy_c - sum_j dy_j y_j) */
__global__ void softmax_backward_kernel(const float *y, const float *dy, float *dx, long rows, int C) {
  long r = (long)blockIdx.x * ROWS_PER_BLOCK + threadIdx.x / WARP;
  int lane = threadIdx.x % WARP;
  if (r >= rows) return;
  const float *y_r = y + r * C, *dy_r = dy + r * C;
  float *dx_r = dx + r * C;
  float dot = 0.f;
  for (int c = lane; c < C; c += WARP) dot += dy_r[c] * y_r[c];
  dot = warp_sum(dot);
  for (int c = lane; c < C; c += WARP) dx_r[c] += y_r[c] * (dy_r[c] - dot);
}

static unsigned row_blocks_for(long rows) { return (unsigned)((rows + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK); }

extern "C" void nn_softmax_forward_cuda(const float *x, float *y, long rows, int C) {
  if (rows <= 0 || C <= 0) return;
  softmax_forward_kernel<<<row_blocks_for(rows), BLOCK>>>(x, y, rows, C);
  NN_CUDA_CHECK(cudaGetLastError());
}

extern "C" void nn_softmax_backward_cuda(const float *y, const float *dy, float *dx, long rows, int C) {
  if (rows <= 0 || C <= 0) return;
  softmax_backward_kernel<<<row_blocks_for(rows), BLOCK>>>(y, dy, dx, rows, C);
  NN_CUDA_CHECK(cudaGetLastError());
}
