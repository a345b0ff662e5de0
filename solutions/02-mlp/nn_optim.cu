/* nn_optim.cu: one update of one param on the GPU, a kernel per optimizer kind.
 *
 * The rules of nn_optim.h, element by element, exactly as nn_optim.c writes them
 * (one thread per element): L2 weight decay replaces g by g + wd w for every kind
 * but adamw, whose decoupled decay shrinks w by 1 - lr wd before its Adam step.
 * Adam's bias corrections 1 - beta^t are the same for every element, so the host
 * computes them once (in double, as the CPU does) and passes them in.
 */
#include <cuda_runtime.h>
#include <math.h>

extern "C" {
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
}

enum { BLOCK = 256 };

static unsigned blocks_for(long n) { return (unsigned)((n + BLOCK - 1) / BLOCK); }

/* PyTorch's weight_decay (L2): the gradient of f(w) + wd/2 ||w||^2 */
__device__ static float l2(float g, float w, float wd) { return g + wd * w; }

/* w -= lr (g + wd w) */
__global__ void sgd_kernel(float *w, const float *g, long n, float lr, float wd) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) w[i] -= lr * l2(g[i], w[i], wd);
}

/* v = mu v + g, then the step: momentum w -= lr v, nesterov w -= lr (g + mu v) */
__device__ static void momentum_update(float *w, float g, float *v, float lr, float mu, float wd, bool nesterov) {
  /* BEGIN SOLUTION */
  /* HINT: as momentum_cpu for one element: gi = l2(g, *w, wd), then v and w */
  /* HINT2: momentum_cpu's loop body for one element, with w[i] and v[i] read and written through the pointers w and v and g[i] given as g: gi = l2(g, *w, wd), then the new *v, then the step of *w */
  float gi = l2(g, *w, wd);
  *v = mu * *v + gi;
  *w -= lr * (nesterov ? gi + mu * *v : *v);
  /* END SOLUTION */
}

__global__ void momentum_kernel(float *w, const float *g, float *v, long n, float lr, float mu, float wd) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) momentum_update(&w[i], g[i], &v[i], lr, mu, wd, false);
}

__global__ void nesterov_kernel(float *w, const float *g, float *v, long n, float lr, float mu, float wd) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) momentum_update(&w[i], g[i], &v[i], lr, mu, wd, true);
}

/* G += g^2;  w -= lr g / (sqrt(G) + eps) */
__global__ void adagrad_kernel(float *w, const float *g, float *G, long n, float lr, float eps, float wd) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float gi = l2(g[i], w[i], wd);
  G[i] += gi * gi;
  w[i] -= lr * gi / (sqrtf(G[i]) + eps);
}

/* s = rho s + (1 - rho) g^2;  w -= lr g / (sqrt(s) + eps) */
__global__ void rmsprop_kernel(float *w, const float *g, float *s, long n, float lr, float rho, float eps,
                               float wd) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float gi = l2(g[i], w[i], wd);
  s[i] = rho * s[i] + (1.f - rho) * gi * gi;
  w[i] -= lr * gi / (sqrtf(s[i]) + eps);
}

/* Adam's update of element i, g already with any L2 term:
 * m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,  w -= lr (m / bc1) / (sqrt(v / bc2) + eps) */
__device__ static void adam_update(float *w, float gi, float *m, float *v, float lr, float b1, float b2,
                                   float eps, float bc1, float bc2) {
  /* BEGIN SOLUTION */
  /* HINT: as adam_cpu for one element; bc1 = 1 - b1^t and bc2 = 1 - b2^t come from the host */
  /* HINT2: adam_cpu's loop body for one element, through the pointers m, v and w; gi already holds the L2 term, and the host computed bc1 and bc2 (no pow on the device): divide by them as adam_cpu does */
  *m = b1 * *m + (1.f - b1) * gi;
  *v = b2 * *v + (1.f - b2) * gi * gi;
  float mhat = *m / bc1, vhat = *v / bc2;
  *w -= lr * mhat / (sqrtf(vhat) + eps);
  /* END SOLUTION */
}

/* Adam with L2: g + wd w */
__global__ void adam_kernel(float *w, const float *g, float *m, float *v, long n, float lr, float b1, float b2,
                            float eps, float wd, float bc1, float bc2) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) adam_update(&w[i], l2(g[i], w[i], wd), &m[i], &v[i], lr, b1, b2, eps, bc1, bc2);
}

/* AdamW: w *= shrink = 1 - lr wd, then Adam on the unchanged g */
__global__ void adamw_kernel(float *w, const float *g, float *m, float *v, long n, float lr, float b1, float b2,
                             float eps, float shrink, float bc1, float bc2) {
  long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  w[i] *= shrink;
  adam_update(&w[i], g[i], &m[i], &v[i], lr, b1, b2, eps, bc1, bc2);
}

extern "C" void nn_optim_step_cuda(nn_optim_kind kind, const nn_optim_config *c, float *w, const float *g,
                                   float *m, float *v, long n, float bc1, float bc2) {
  if (n <= 0) return;
  unsigned grid = blocks_for(n);
  float lr = c->lr, wd = c->weight_decay;
  switch (kind) {
  case NN_SGD: sgd_kernel<<<grid, BLOCK>>>(w, g, n, lr, wd); break;
  case NN_MOMENTUM: momentum_kernel<<<grid, BLOCK>>>(w, g, m, n, lr, c->momentum, wd); break;
  case NN_NESTEROV: nesterov_kernel<<<grid, BLOCK>>>(w, g, m, n, lr, c->momentum, wd); break;
  case NN_ADAGRAD: adagrad_kernel<<<grid, BLOCK>>>(w, g, v, n, lr, c->eps, wd); break;
  case NN_RMSPROP: rmsprop_kernel<<<grid, BLOCK>>>(w, g, v, n, lr, c->alpha, c->eps, wd); break;
  case NN_ADAM: adam_kernel<<<grid, BLOCK>>>(w, g, m, v, n, lr, c->beta1, c->beta2, c->eps, wd, bc1, bc2); break;
  case NN_ADAMW:
    adamw_kernel<<<grid, BLOCK>>>(w, g, m, v, n, lr, c->beta1, c->beta2, c->eps, 1.f - lr * wd, bc1, bc2);
    break;
  default: nn_panic("nn_optim_step_cuda: kind %d is not an optimizer", (int)kind);
  }
  NN_CUDA_CHECK(cudaGetLastError());
}
