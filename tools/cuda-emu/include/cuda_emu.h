/* cuda_emu.h: CUDA on the CPU, a test double for the course's .cu files (tools/cuda-emu).
 *
 * `make test-gpu-emu` builds every .cu file with tools/cuda-emu/nvcc instead of NVIDIA's:
 * that script rewrites each launch `k<<<grid, block, shm, stream>>>(args)` into
 * `emu_launch(k, grid, block, shm, stream)(args)` and compiles the file as C++ with these
 * headers first on the include path. Then:
 *
 *   kernels      every thread of a block is a fiber (its own small stack) on the calling
 *                thread; blocks run one after another. A thread runs until it ends or waits
 *                at __syncthreads() (the whole block meets there), at a __shfl_*_sync or
 *                __syncwarp (its warp of 32 meets there). Between meetings the threads run
 *                one by one, forward in one phase and backward in the next, so a missing
 *                __syncthreads() reads what another thread has not written yet, or has
 *                already overwritten: the result is wrong, and a test says so.
 *   checks       the launch configuration as the hardware checks it (1 to 1024 threads per
 *                block, grid.y/z <= 65535, ...: cudaErrorInvalidConfiguration); __trap() and
 *                a block whose threads wait forever (a __syncthreads() some threads never
 *                reach while others wait at another) end the kernel with a sticky
 *                "unspecified launch failure", as on a GPU.
 *   memory       cudaMalloc is malloc, filled with 0xff bytes (NaN as float, -1 as int):
 *                code that reads device memory it never wrote gets NaN, not a lucky 0.
 *                Copies and memsets must stay inside one device allocation, in the
 *                direction they name. Under AddressSanitizer (DEBUG=1) a kernel's read past
 *                an allocation is reported with the .cu file and line.
 *   cuBLAS       cublasSgemm and cublasSgemmStridedBatched, column-major as cuBLAS, by a
 *                plain CPU loop (cublas_emu.cc).
 *   runtime      malloc/free (also the stream-ordered Async ones and the pool calls),
 *                memcpy/memset (Async too), the last-error and device-property calls, stream
 *                0. A launch runs to its end before emu_launch returns.
 *
 * What it cannot catch (only a GPU can; tools/gpu-check runs the same tests there):
 *   - timing: warps really run at once on a GPU, and a race between two blocks, or between
 *     threads that meet at no barrier, depends on it. Here blocks never overlap and each
 *     thread runs alone, so most races give one fixed answer (racecheck on a GPU finds them).
 *   - a kernel that reads host memory: here host and device share one address space.
 *   - floating-point details: nvcc contracts a*b + c into one fma (one rounding), the host
 *     compiler may not; expf and friends are the host's libm, not CUDA's (a few ulp apart).
 *     A CPU-vs-GPU test must allow that, as it must on a GPU.
 *   - speed, occupancy, shared-memory bank conflicts, register pressure, the limits of
 *     static shared memory per block (48 KiB).
 *   - warp-synchronous code that omits __syncwarp: lanes of a warp do not run in lockstep.
 *
 * It is for tests only, never for a product; it covers what chapters' .cu files use.
 */
#ifndef CUDA_EMU_H
#define CUDA_EMU_H

#include <cmath>
#include <math.h> /* isnan, expf, ... in the global namespace, as CUDA has them */
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

/* ---- what a kernel sees */
struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
/* The current thread's coordinates: the scheduler sets them before it resumes a thread. */
extern thread_local uint3 threadIdx, blockIdx;
extern thread_local dim3 blockDim, gridDim;
static constexpr int warpSize = 32;

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
/* One copy per block: blocks run one at a time on a thread, so a static one is the block's. */
#define __shared__ static thread_local

void emu_syncthreads(void);
[[noreturn]] void emu_trap(void);
/* What lane src of this thread's warp brought to the same meeting (a warp-wide barrier). */
uint64_t emu_warp_meet(uint64_t mine, int src_lane);
/* The launch's dynamic shared memory (the third launch argument), for `extern __shared__`. */
void *emu_dynamic_shared(void);

#define __syncthreads() emu_syncthreads()
#define __trap() emu_trap()
static inline void __threadfence(void) {}
static inline void __threadfence_block(void) {}

static inline int emu_lane(void) {
  return (int)((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x) % warpSize;
}
static inline void __syncwarp(unsigned mask = 0xffffffffu) {
  (void)mask;
  emu_warp_meet(0, emu_lane());
}

/* A shuffle is a meeting of the warp: each lane brings v and takes lane src's. */
template <class T>
static inline T emu_shfl(T v, int src) {
  static_assert(sizeof(T) <= sizeof(uint64_t), "cuda-emu: shuffles of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  bits = emu_warp_meet(bits, src);
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
template <class T>
static inline T __shfl_sync(unsigned, T v, int src_lane, int width = warpSize) {
  int lane = emu_lane();
  return emu_shfl(v, lane / width * width + src_lane % width);
}
template <class T>
static inline T __shfl_xor_sync(unsigned, T v, int lane_mask, int width = warpSize) {
  int lane = emu_lane(), src = lane ^ lane_mask;
  return emu_shfl(v, src / width == lane / width ? src : lane);
}
template <class T>
static inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = warpSize) {
  int lane = emu_lane();
  return emu_shfl(v, lane % width + (int)delta < width ? lane + (int)delta : lane);
}
template <class T>
static inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = warpSize) {
  int lane = emu_lane();
  return emu_shfl(v, lane % width >= (int)delta ? lane - (int)delta : lane);
}

/* Atomics: the blocks of a launch share one host thread, yet keep them atomic for a
 * program that launches from two threads. Each returns the old value, as CUDA's. */
template <class T>
static inline T atomicAdd(T *p, T v) {
  T old = *p, sum;
  do sum = old + v;
  while (!__atomic_compare_exchange(p, &old, &sum, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  return old;
}
template <class T>
static inline T atomicSub(T *p, T v) { return atomicAdd(p, (T)-v); }
template <class T>
static inline T atomicMin(T *p, T v) {
  T old = *p;
  while (v < old && !__atomic_compare_exchange(p, &old, &v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
template <class T>
static inline T atomicMax(T *p, T v) {
  T old = *p;
  while (v > old && !__atomic_compare_exchange(p, &old, &v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
template <class T>
static inline T atomicExch(T *p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
template <class T>
static inline T atomicCAS(T *p, T expected, T desired) {
  __atomic_compare_exchange(p, &expected, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

/* Device math that the host's libm does not name. The _rn forms round to nearest: plain
 * host arithmetic does (what they exist for on a GPU is to forbid contraction into an fma). */
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline float __fdividef(float a, float b) { return a / b; }
static inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
static inline double rsqrt(double x) { return 1.0 / sqrt(x); }
static inline float __saturatef(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }
static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }
static inline long min(long a, long b) { return a < b ? a : b; }
static inline long max(long a, long b) { return a > b ? a : b; }
static inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
static inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
template <class T>
static inline T __ldg(const T *p) { return *p; }

/* ---- launching: tools/cuda-emu/nvcc turns k<<<g, b, shm, stream>>>(args) into
 * emu_launch(k, g, b, shm, stream)(args) */
typedef struct CUstream_st *cudaStream_t;

/* Runs body(ctx) as every thread of every block of the grid; name for messages. A bad
 * configuration or a failed kernel leaves its error for cudaGetLastError. */
void emu_run(dim3 grid, dim3 block, size_t shm, void (*body)(void *), void *ctx, const char *name);

template <class... P>
struct emu_launcher {
  void (*kernel)(P...);
  const char *name;
  dim3 grid, block;
  size_t shm;
  /* Each thread calls the kernel with its own copies of the arguments, converted to the
   * parameters' types as a launch converts them. */
  template <class... A>
  void operator()(A... args) const {
    auto one_thread = [&] { kernel(args...); };
    emu_run(grid, block, shm, [](void *c) { (*static_cast<decltype(one_thread) *>(c))(); }, &one_thread, name);
  }
};
template <class... P>
static inline emu_launcher<P...> emu_make_launcher(void (*kernel)(P...), const char *name, dim3 grid, dim3 block,
                                                   size_t shm = 0, cudaStream_t stream = 0) {
  (void)stream; /* one stream: launches run in order, each to its end */
  return emu_launcher<P...>{kernel, name, grid, block, shm};
}
#define emu_launch(kernel, ...) emu_make_launcher(kernel, #kernel, __VA_ARGS__)

#endif
