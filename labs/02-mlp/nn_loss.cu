/* nn_loss.cu: the losses of nn_loss.h on the GPU, same formulas and same forms.
 *
 * Each kernel computes every per-element (regression, binary) or per-row
 * (multi-class) term in double, adds the gradient of the mean into dz, and sums
 * the terms: a double partial per thread, a block reduction (warp shuffles, one
 * partial per warp in shared memory), one atomicAdd(double) per block (sm_60+;
 * the library builds for sm_80 and sm_90). The launcher copies that one sum
 * back and returns sum / N, as the CPU does. Multi-class rows go one warp per
 * row, each lane taking columns lane, lane + 32, ...
 */
#include <cuda_runtime.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

extern "C" {
#include "nn_arena.h"
#include "nn_common.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"
}

enum { BLOCK = 256, WARP = 32, WARPS_PER_BLOCK = BLOCK / WARP, MAX_BLOCKS = 1024 };
static const unsigned FULL_MASK = 0xffffffffu;
static constexpr double LN2 = 0.69314718055994530942;

/* Grid-stride kernels: enough blocks for one element (or one row per warp) each,
 * at most MAX_BLOCKS, which fills an H100 (132 SMs) several times over and keeps
 * the atomics on the sum few. */
static unsigned blocks_for(long n, int per_block) {
  long b = (n + per_block - 1) / per_block;
  return (unsigned)(b < (long)MAX_BLOCKS ? b : (long)MAX_BLOCKS);
}

/* ---- device scratch for one call: the loss sum, the first bad row, the labels
 *
 * It comes from the caller's arena (a GPU arena: what a model or a tape lends
 * through the loss table's mean(), so a training step allocates nothing), or,
 * for a direct call with no arena, from CUDA's stream-ordered pool
 * (cudaMallocAsync / cudaFreeAsync on stream 0), not cudaMalloc: cudaMalloc
 * synchronises the device and costs far more than a small loss kernel, while the
 * pool hands back the block the last call freed. The pool's release threshold is
 * raised from its default 0, which would give the memory back to the driver at
 * every synchronisation (and the copy of the sum is one). */
typedef struct {
  double sum;  /* of the per-element or per-row terms */
  int bad_row; /* categorical CE: the first row of the target that is not a distribution */
  int pad;
} scratch_head;

typedef struct {
  void *base;
  scratch_head *head;
  int *y;         /* the labels on the device, or NULL */
  bool from_pool; /* no arena was given: scratch_end gives base back to the pool */
} scratch;

static const uint64_t POOL_KEEP_BYTES = 64u << 20; /* what the pool keeps across synchronisations */

static void *pool_alloc(size_t bytes) {
  int dev;
  cudaMemPool_t pool;
  uint64_t keep = POOL_KEEP_BYTES;
  void *p;
  NN_CUDA_CHECK(cudaGetDevice(&dev));
  NN_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, dev));
  NN_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  NN_CUDA_CHECK(cudaMallocAsync(&p, bytes, 0));
  return p;
}

static scratch scratch_begin(nn_arena *arena, const int *y_host, int N) {
  size_t head_bytes = sizeof(scratch_head), bytes = head_bytes + (y_host ? (size_t)N * sizeof(int) : 0);
  scratch s = {NULL, NULL, NULL, arena == NULL};
  s.base = arena ? nn_arena_alloc(arena, bytes) : pool_alloc(bytes); /* both align to >= 8 bytes */
  s.head = (scratch_head *)s.base;
  /* From pageable host memory the copy is staged before cudaMemcpyAsync returns,
   * so `start` (and the caller's y) may go as soon as it does. */
  scratch_head start = {0.0, INT_MAX, 0};
  NN_CUDA_CHECK(cudaMemcpyAsync(s.head, &start, head_bytes, cudaMemcpyHostToDevice, 0));
  if (y_host) {
    s.y = (int *)((char *)s.base + head_bytes);
    NN_CUDA_CHECK(cudaMemcpyAsync(s.y, y_host, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, 0));
  }
  return s;
}

/* Waits for the kernel (the copy back is synchronous), gives a pool block back,
 * and returns the sum; *bad_row = the first bad row or -1, when asked. */
static double scratch_end(scratch s, int *bad_row) {
  scratch_head h;
  NN_CUDA_CHECK(cudaMemcpy(&h, s.head, sizeof h, cudaMemcpyDeviceToHost));
  if (s.from_pool) NN_CUDA_CHECK(cudaFreeAsync(s.base, 0));
  if (bad_row) *bad_row = h.bad_row == INT_MAX ? -1 : h.bad_row;
  return h.sum;
}

/* ---- reductions */

__device__ static double warp_sum(double v) {
  for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(FULL_MASK, v, offset);
  return v;
}

__device__ static int warp_sum_int(int v) {
  for (int offset = WARP / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(FULL_MASK, v, offset);
  return v;
}

__device__ static float warp_max(float v) {
  for (int offset = WARP / 2; offset > 0; offset /= 2) v = fmaxf(v, __shfl_xor_sync(FULL_MASK, v, offset));
  return v;
}

/* *sum += the v of every thread of the block. Every thread of the block must
 * call it (it synchronises the block), so the kernels below never return early. */
__device__ static void block_add(double v, double *sum) {
  __shared__ double warp_part[WARPS_PER_BLOCK];
  int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
  v = warp_sum(v);
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = warp_sum(lane < WARPS_PER_BLOCK ? warp_part[lane] : 0.0);
    if (lane == 0) atomicAdd(sum, v);
  }
}

/* ---- regression: the per-element term l(r) and dl/dr of nn_loss.c, r = pred - target */

__device__ static double regression_term(nn_regression_loss kind, double r, double delta, double *g) {
  switch (kind) {
  case NN_REGRESSION_MSE: *g = 2 * r; return r * r;
  case NN_REGRESSION_MAE: *g = (r > 0) - (r < 0); return fabs(r); /* sign(r), 0 at r = 0 */
  case NN_REGRESSION_HUBER:
    if (fabs(r) <= delta) {
      *g = r;
      return 0.5 * r * r;
    }
    *g = r > 0 ? delta : -delta;
    return delta * (fabs(r) - 0.5 * delta);
  case NN_REGRESSION_LOG_COSH: *g = tanh(r); return fabs(r) + log1p(exp(-2 * fabs(r))) - LN2;
  }
  *g = 0;
  return 0;
}

/* sum over M elements of l(p - t); dp += dl/dr / M */
__global__ void regression_kernel(nn_regression_loss kind, const float *p, const float *t, long M, double delta,
                                  float *dp, double *sum) {
  double part = 0, g;
  for (long k = (long)blockIdx.x * blockDim.x + threadIdx.x; k < M; k += (long)gridDim.x * blockDim.x) {
    part += regression_term(kind, (double)p[k] - t[k], delta, &g);
    if (dp) dp[k] += (float)(g / M);
  }
  block_add(part, sum);
}

extern "C" double nn_regression_loss_cuda(nn_regression_loss kind, const float *pred, const float *target, long M,
                                          double delta, float *dpred, nn_arena *arena) {
  scratch s = scratch_begin(arena, NULL, 0);
  regression_kernel<<<blocks_for(M, BLOCK), BLOCK>>>(kind, pred, target, M, delta, dpred, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL) / M;
}

/* ---- binary classification: logits z (N), labels y in {0, 1} on the device */

/* 1 / (1 + e^-x) in double, never forming e^(large) */
__device__ static double sigmoid_d(double x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  double e = exp(x);
  return e / (1 + e);
}

/* l = max(z, 0) - z y + log1p(e^-|z|);  dz += (sigmoid(z) - y) / N */
__global__ void bce_kernel(const float *z, const int *y, int N, float *dz, double *sum) {
  double part = 0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (long)gridDim.x * blockDim.x) {
    double z_i = z[i];
    part += fmax(z_i, 0.0) - z_i * y[i] + log1p(exp(-fabs(z_i)));
    if (dz) dz[i] += (float)((sigmoid_d(z_i) - y[i]) / N);
  }
  block_add(part, sum);
}

/* t = 2y - 1: l = max(0, 1 - t z);  dz -= t [1 - t z > 0] / N */
__global__ void binary_hinge_kernel(const float *z, const int *y, int N, float *dz, double *sum) {
  double part = 0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (long)gridDim.x * blockDim.x) {
    double t = 2 * y[i] - 1, m = 1 - t * z[i];
    if (m <= 0) continue;
    part += m;
    if (dz) dz[i] -= (float)(t / N);
  }
  block_add(part, sum);
}

/* t = 2y - 1, m = max(0, 1 - t z): l = m^2;  dz -= 2 t m / N */
__global__ void squared_hinge_kernel(const float *z, const int *y, int N, float *dz, double *sum) {
  double part = 0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (long)gridDim.x * blockDim.x) {
    double t = 2 * y[i] - 1, m = 1 - t * z[i];
    if (m <= 0) continue;
    part += m * m;
    if (dz) dz[i] -= (float)(2 * t * m / N);
  }
  block_add(part, sum);
}

/* s = 2y - 1, p_t = sigmoid(s z): l = -alpha_t (1 - p_t)^gamma log p_t,
 * dz += alpha_t s (1 - p_t)^gamma [gamma p_t log p_t - (1 - p_t)] / N */
__global__ void focal_kernel(const float *z, const int *y, int N, double alpha, double gamma, float *dz,
                             double *sum) {
  double part = 0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < N; i += (long)gridDim.x * blockDim.x) {
    double s = 2 * y[i] - 1, sz = s * z[i], a_t = y[i] ? alpha : 1 - alpha;
    double log_pt = -(fmax(-sz, 0.0) + log1p(exp(-fabs(sz)))); /* -softplus(-s z) */
    double pt = sigmoid_d(sz), q = sigmoid_d(-sz);            /* q = 1 - p_t, exact near p_t = 1 */
    double w = pow(q, gamma);
    part += -a_t * w * log_pt;
    if (dz) dz[i] += (float)(a_t * s * w * (gamma * pt * log_pt - q) / N);
  }
  block_add(part, sum);
}

/* bce, binary hinge and squared hinge take the same arguments: one launcher for their kernels */
typedef void (*binary_kernel)(const float *z, const int *y, int N, float *dz, double *sum);

static double launch_binary(binary_kernel kernel, const float *z, const int *y, int N, float *dz, nn_arena *arena) {
  scratch s = scratch_begin(arena, y, N);
  kernel<<<blocks_for(N, BLOCK), BLOCK>>>(z, s.y, N, dz, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL) / N;
}

extern "C" double nn_bce_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *arena) {
  return launch_binary(bce_kernel, z, y, N, dz, arena);
}

extern "C" double nn_binary_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *arena) {
  return launch_binary(binary_hinge_kernel, z, y, N, dz, arena);
}

extern "C" double nn_squared_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *arena) {
  return launch_binary(squared_hinge_kernel, z, y, N, dz, arena);
}

extern "C" double nn_focal_loss_cuda(const float *z, const int *y, int N, double alpha, double gamma, float *dz,
                                     nn_arena *arena) {
  scratch s = scratch_begin(arena, y, N);
  focal_kernel<<<blocks_for(N, BLOCK), BLOCK>>>(z, s.y, N, alpha, gamma, dz, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL) / N;
}

/* ---- multi-class: logits z (N, C), one warp per row. The loop over rows runs
 * the same number of times on every lane of a warp (the row index is the warp's),
 * so the full-mask shuffles inside it always find all 32 lanes. */

/* this warp's first row, and the step to its next (grid-stride, one warp per row) */
__device__ static long warp_row(void) { return ((long)blockIdx.x * blockDim.x + threadIdx.x) / WARP; }
__device__ static long warp_rows(void) { return (long)gridDim.x * blockDim.x / WARP; }

/* m = max_c z_c, s = sum_c e^(z_c - m) in [1, C], on every lane: logsumexp(z) = m + log s */
__device__ static void row_logsumexp(const float *z, int C, int lane, double *m_out, double *s_out) {
  float m = -INFINITY;
  for (int c = lane; c < C; c += WARP) m = fmaxf(m, z[c]);
  m = warp_max(m);
  double s = 0;
  for (int c = lane; c < C; c += WARP) s += exp(z[c] - (double)m);
  *m_out = m, *s_out = warp_sum(s);
}

/* l_i = logsumexp(z_i) - z_iy;  dz_ic += (softmax(z_i)_c - [c == y_i]) / N */
__global__ void sparse_ce_kernel(const float *z, const int *y, int N, int C, float *dz, double *sum) {
  int lane = threadIdx.x % WARP;
  double part = 0;
  for (long i = warp_row(); i < N; i += warp_rows()) {
    const float *z_i = z + i * C;
    double m, s;
    row_logsumexp(z_i, C, lane, &m, &s);
    if (lane == 0) part += m + log(s) - z_i[y[i]];
    if (!dz) continue;
    float *dz_i = dz + i * C;
    /* TODO(lab 02-mlp): write this part of sparse_ce_kernel. */
    /* HINT: one warp (32 lanes) owns row i, and m and s are already the whole row's (row_logsumexp reduced them over the warp): each lane writes its own columns c = lane, lane + 32, ..., so no two threads touch one float. The value is sparse_ce_cpu's */
    NN_LAB_STUB_DEVICE("02-mlp", "sparse_ce_kernel");
  }
  block_add(part, sum);
}

/* l_i = logsumexp(z_i) - sum_c t_ic z_ic;  dz_i += (softmax(z_i) - t_i) / N. Also
 * checks that t_i is a distribution (entries >= 0, sum within 1e-3 of 1, NaN
 * failing both), as nn_loss.c does, and keeps the first row that is not. */
__global__ void categorical_ce_kernel(const float *z, const float *t, int N, int C, float *dz, double *sum,
                                      int *bad_row) {
  int lane = threadIdx.x % WARP;
  double part = 0;
  for (long i = warp_row(); i < N; i += warp_rows()) {
    const float *z_i = z + i * C, *t_i = t + i * C;
    double m, s, tz = 0, total = 0;
    int negative = 0;
    row_logsumexp(z_i, C, lane, &m, &s);
    for (int c = lane; c < C; c += WARP) {
      tz += (double)t_i[c] * z_i[c];
      total += t_i[c];
      negative |= !(t_i[c] >= 0.f);
    }
    tz = warp_sum(tz), total = warp_sum(total), negative = warp_sum_int(negative);
    if (lane == 0) {
      part += m + log(s) - tz;
      if (negative || !(fabs(total - 1) <= 1e-3)) atomicMin(bad_row, (int)i);
    }
    if (!dz) continue;
    float *dz_i = dz + i * C;
    /* TODO(lab 02-mlp): write this part of categorical_ce_kernel. */
    /* HINT: as in sparse_ce_kernel, the warp's lanes split row i's columns (c = lane, lane + 32, ...) and m and s are the whole row's; the value is categorical_ce_cpu's, t_i in place of the one-hot row */
    NN_LAB_STUB_DEVICE("02-mlp", "categorical_ce_kernel");
  }
  block_add(part, sum);
}

/* l_i = sum_{j != y} max(0, z_j - z_y + 1); each positive margin adds 1/N to dz_j
 * and takes 1/N from dz_y */
__global__ void multi_hinge_kernel(const float *z, const int *y, int N, int C, float *dz, double *sum) {
  int lane = threadIdx.x % WARP;
  float inv_N = 1.f / N;
  double part = 0;
  for (long i = warp_row(); i < N; i += warp_rows()) {
    const float *z_i = z + i * C;
    int y_i = y[i], positive = 0;
    for (int j = lane; j < C; j += WARP) {
      double margin = (double)z_i[j] - z_i[y_i] + 1;
      if (j == y_i || margin <= 0) continue;
      part += margin;
      positive++;
      if (dz) dz[i * C + j] += inv_N;
    }
    positive = warp_sum_int(positive);
    /* one 1/N at a time, as the CPU loop does, so the float sum rounds the same way */
    if (dz && lane == 0)
      for (int k = 0; k < positive; k++) dz[i * C + y_i] -= inv_N;
  }
  block_add(part, sum);
}

extern "C" double nn_sparse_ce_loss_cuda(const float *z, const int *y, int N, int C, float *dz,
                                         nn_arena *arena) {
  scratch s = scratch_begin(arena, y, N);
  sparse_ce_kernel<<<blocks_for(N, WARPS_PER_BLOCK), BLOCK>>>(z, s.y, N, C, dz, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL) / N;
}

extern "C" double nn_categorical_ce_loss_cuda(const float *z, const float *t, int N, int C, float *dz,
                                              int *bad_row, nn_arena *arena) {
  scratch s = scratch_begin(arena, NULL, 0);
  categorical_ce_kernel<<<blocks_for(N, WARPS_PER_BLOCK), BLOCK>>>(z, t, N, C, dz, &s.head->sum,
                                                                     &s.head->bad_row);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, bad_row) / N;
}

extern "C" double nn_multi_hinge_loss_cuda(const float *z, const int *y, int N, int C, float *dz,
                                           nn_arena *arena) {
  scratch s = scratch_begin(arena, y, N);
  multi_hinge_kernel<<<blocks_for(N, WARPS_PER_BLOCK), BLOCK>>>(z, s.y, N, C, dz, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL) / N;
}

/* ---- nn_regularizer.h's penalty: l1 |w| + l2 w^2, summed; g += l1 sign(w) + 2 l2 w */

__global__ void regularize_kernel(const float *w, float *g, long n, float l1, float l2, double *sum) {
  double part = 0;
  for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) {
    double wi = w[i], sign = (wi > 0) - (wi < 0);
    part += l1 * fabs(wi) + l2 * wi * wi;
    if (g) g[i] += (float)(l1 * sign + 2 * l2 * wi);
  }
  block_add(part, sum);
}

extern "C" double nn_regularize_cuda(const float *w, float *g, long n, float l1, float l2, nn_arena *arena) {
  if (n <= 0) return 0;
  scratch s = scratch_begin(arena, NULL, 0);
  regularize_kernel<<<blocks_for(n, BLOCK), BLOCK>>>(w, g, n, l1, l2, &s.head->sum);
  NN_CUDA_CHECK(cudaGetLastError());
  return scratch_end(s, NULL);
}
