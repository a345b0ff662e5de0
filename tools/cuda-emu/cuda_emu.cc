/* cuda_emu.cc: the runtime of tools/cuda-emu: kernels on fibers, device memory on the heap.
 * include/cuda_emu.h says what the emulation is for and what it cannot catch. */
#include <sys/mman.h>
#include <time.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "cuda_runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define EMU_ASAN 1
#else
#define EMU_ASAN 0
#endif

thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;

/* ---- errors: the last one per host thread; a failed kernel's is sticky, as on a GPU,
 * where it spoils the context: every later call returns it. */
static thread_local cudaError_t last_error = cudaSuccess;
static cudaError_t sticky_error = cudaSuccess;

static cudaError_t fail(cudaError_t e) { return last_error = e; }
static cudaError_t ok_unless_sticky(void) { return sticky_error != cudaSuccess ? fail(sticky_error) : cudaSuccess; }

const char *cudaGetErrorName(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return "cudaSuccess";
  case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
  case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
  case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
  case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
  case cudaErrorNoDevice: return "cudaErrorNoDevice";
  case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
  case cudaErrorNotReady: return "cudaErrorNotReady";
  case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return "no error";
  case cudaErrorInvalidValue: return "invalid argument";
  case cudaErrorMemoryAllocation: return "out of memory";
  case cudaErrorInvalidConfiguration: return "invalid configuration argument";
  case cudaErrorInvalidDevice: return "invalid device ordinal";
  case cudaErrorNoDevice: return "no CUDA-capable device is detected";
  case cudaErrorInvalidResourceHandle: return "invalid resource handle";
  case cudaErrorNotReady: return "device not ready";
  case cudaErrorLaunchFailure: return "unspecified launch failure";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError(void) {
  cudaError_t e = last_error != cudaSuccess ? last_error : sticky_error;
  last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return last_error != cudaSuccess ? last_error : sticky_error; }

/* ---- the device */
cudaError_t cudaGetDeviceCount(int *n) {
  if (!n) return fail(cudaErrorInvalidValue);
  *n = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int *dev) {
  if (!dev) return fail(cudaErrorInvalidValue);
  *dev = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int dev) { return dev == 0 ? cudaSuccess : fail(cudaErrorInvalidDevice); }

/* An H100's numbers where code may size launches from them; the name says what it is. */
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int dev) {
  if (!p) return fail(cudaErrorInvalidValue);
  if (dev != 0) return fail(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  snprintf(p->name, sizeof p->name, "tools/cuda-emu, CUDA emulated on the CPU");
  p->totalGlobalMem = 16000000000ull, p->sharedMemPerBlock = 48 << 10;
  p->major = 9, p->minor = 0, p->multiProcessorCount = 132, p->maxThreadsPerBlock = 1024, p->warpSize = 32;
  p->maxThreadsDim[0] = 1024, p->maxThreadsDim[1] = 1024, p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647, p->maxGridSize[1] = 65535, p->maxGridSize[2] = 65535;
  return cudaSuccess;
}

/* Launches run to their end when they are made: there is nothing to wait for. */
cudaError_t cudaDeviceSynchronize(void) { return ok_unless_sticky(); }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return ok_unless_sticky(); }

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes) {
  if (!free_bytes || !total_bytes) return fail(cudaErrorInvalidValue);
  *free_bytes = *total_bytes = 16000000000ull;
  return cudaSuccess;
}

/* ---- device memory: heap blocks, remembered so that copies can be checked */
static std::mutex memory_lock;
static std::map<uintptr_t, size_t> device_blocks; /* start -> bytes */

bool emu_is_device_range(const void *p, size_t bytes) {
  std::lock_guard<std::mutex> hold(memory_lock);
  auto it = device_blocks.upper_bound((uintptr_t)p);
  if (it == device_blocks.begin()) return false;
  --it;
  return (uintptr_t)p >= it->first && (uintptr_t)p - it->first + bytes <= it->second;
}

cudaError_t cudaMalloc(void **p, size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  if (ok_unless_sticky() != cudaSuccess) return sticky_error;
  void *block = malloc(bytes ? bytes : 1);
  if (!block) return fail(cudaErrorMemoryAllocation);
  memset(block, 0xff, bytes); /* NaN as float: memory nobody wrote does not read as 0 */
  std::lock_guard<std::mutex> hold(memory_lock);
  device_blocks[(uintptr_t)block] = bytes;
  *p = block;
  return cudaSuccess;
}

cudaError_t cudaFree(void *p) {
  if (!p) return cudaSuccess;
  {
    std::lock_guard<std::mutex> hold(memory_lock);
    auto it = device_blocks.find((uintptr_t)p);
    if (it == device_blocks.end()) {
      fprintf(stderr, "cuda-emu: cudaFree(%p): not a pointer that cudaMalloc returned (freed twice, or host memory?)\n", p);
      return fail(cudaErrorInvalidValue);
    }
    device_blocks.erase(it);
  }
  free(p);
  return cudaSuccess;
}

cudaError_t cudaMallocAsync(void **p, size_t bytes, cudaStream_t) { return cudaMalloc(p, bytes); }
cudaError_t cudaFreeAsync(void *p, cudaStream_t) { return cudaFree(p); }

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *pool, int dev) {
  static int the_pool;
  if (!pool || dev != 0) return fail(cudaErrorInvalidValue);
  *pool = (cudaMemPool_t)&the_pool;
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t pool, cudaMemPoolAttr, void *value) {
  return pool && value ? cudaSuccess : fail(cudaErrorInvalidValue);
}

/* Pinned host memory is host memory. */
cudaError_t cudaMallocHost(void **p, size_t bytes) {
  if (!p) return fail(cudaErrorInvalidValue);
  *p = malloc(bytes ? bytes : 1);
  return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFreeHost(void *p) {
  free(p);
  return cudaSuccess;
}

/* A copy's device side must lie inside one allocation, its host side outside every one. */
static bool side_ok(const char *call, const char *side, const void *p, size_t bytes, bool device) {
  bool on_device = emu_is_device_range(p, bytes), starts_on_device = emu_is_device_range(p, 0);
  if (device && !on_device) {
    fprintf(stderr, "cuda-emu: %s: the %s [%p, +%zu bytes) is %s\n", call, side, p, bytes,
            starts_on_device ? "longer than what is left of its cudaMalloc block" : "not device memory");
    return false;
  }
  if (!device && starts_on_device) {
    fprintf(stderr, "cuda-emu: %s: the %s %p is device memory, but the copy's kind says host\n", call, side, p);
    return false;
  }
  return true;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind) {
  if (ok_unless_sticky() != cudaSuccess) return sticky_error;
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return fail(cudaErrorInvalidValue);
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return fail(cudaErrorInvalidValue);
  /* which side the kind names device memory; cudaMemcpyDefault: where each side starts */
  bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind == cudaMemcpyDefault) dst_device = emu_is_device_range(dst, 0), src_device = emu_is_device_range(src, 0);
  bool ok = side_ok("cudaMemcpy", "destination", dst, bytes, dst_device) &&
            side_ok("cudaMemcpy", "source", src, bytes, src_device);
  if (!ok) return fail(cudaErrorInvalidValue);
  memmove(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void *p, int value, size_t bytes) {
  if (ok_unless_sticky() != cudaSuccess) return sticky_error;
  if (bytes == 0) return cudaSuccess;
  if (!side_ok("cudaMemset", "destination", p, bytes, true)) return fail(cudaErrorInvalidValue);
  memset(p, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t bytes, cudaStream_t) { return cudaMemset(p, value, bytes); }

/* ---- streams and events: one stream in fact; an event is the time it was recorded */
struct CUevent_st {
  double ms;
};

cudaError_t cudaStreamCreate(cudaStream_t *s) {
  static int streams;
  if (!s) return fail(cudaErrorInvalidValue);
  *s = (cudaStream_t)&streams;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t *e) {
  if (!e) return fail(cudaErrorInvalidValue);
  *e = new CUevent_st{0};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  if (!e) return fail(cudaErrorInvalidResourceHandle);
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  e->ms = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? ok_unless_sticky() : fail(cudaErrorInvalidResourceHandle); }

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end) return fail(cudaErrorInvalidValue);
  *ms = (float)(end->ms - start->ms);
  return cudaSuccess;
}

/* ---- fibers: each thread of a block runs on its own stack, and gives the host thread
 * back (emu_switch) when it waits or ends. x86-64: six callee-saved registers and the
 * stack pointer, a few nanoseconds; elsewhere ucontext, slower (a system call each). */
#if defined(__x86_64__)
extern "C" void emu_switch(void **save_sp, void *next_sp);
extern "C" void emu_fiber_entry(void);
/* emu_switch pushes the callee-saved registers, saves rsp, loads next_sp, pops and returns
 * there. A new fiber's stack holds the registers and emu_fiber_entry as the return
 * address; emu_fiber_entry calls r13(r12). */
asm(".text\n"
    ".globl emu_switch\n"
    ".type emu_switch, @function\n"
    "emu_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size emu_switch, .-emu_switch\n"
    ".globl emu_fiber_entry\n"
    ".type emu_fiber_entry, @function\n"
    "emu_fiber_entry:\n"
    "  movq %r12, %rdi\n"
    "  callq *%r13\n"
    "  ud2\n"
    ".size emu_fiber_entry, .-emu_fiber_entry\n");
typedef void *fiber_context;
#else
#include <ucontext.h>
typedef ucontext_t fiber_context;
#endif

enum thread_state { NEW, RUNNABLE, AT_BARRIER, AT_WARP, DONE };

struct fiber_stack {
  char *base; /* above a guard page */
  size_t size;
};

struct emu_thread {
  uint3 idx;
  thread_state state;
  fiber_context context;
  fiber_stack stack;
  uint64_t brought, taken; /* a warp meeting's value in and out */
  int src_lane;
  void *asan_fake_stack;
};

struct block_run {
  std::vector<emu_thread> threads;
  int current;
  fiber_context scheduler;
  void *asan_fake_stack;
  const void *scheduler_stack_bottom;
  size_t scheduler_stack_size;
  void (*body)(void *);
  void *ctx;
  const char *name;
  bool trapped;
  std::vector<char> dynamic_shared;
};

static thread_local block_run *running;
static thread_local std::vector<fiber_stack> free_stacks;
static const size_t STACK_BYTES = 256 << 10, GUARD_BYTES = 4096;

static void asan_start_switch(void **fake, const void *bottom, size_t size) {
#if EMU_ASAN
  __sanitizer_start_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}

static void asan_finish_switch(void *fake, const void **bottom, size_t *size) {
#if EMU_ASAN
  __sanitizer_finish_switch_fiber(fake, bottom, size);
#else
  (void)fake, (void)bottom, (void)size;
#endif
}

static fiber_stack take_stack(void) {
  if (!free_stacks.empty()) {
    fiber_stack s = free_stacks.back();
    free_stacks.pop_back();
#if EMU_ASAN
    ASAN_UNPOISON_MEMORY_REGION(s.base, s.size); /* a fiber that never returned left its frames poisoned */
#endif
    return s;
  }
  char *m = (char *)mmap(NULL, STACK_BYTES + GUARD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    fprintf(stderr, "cuda-emu: no memory for a thread's stack\n");
    abort();
  }
  mprotect(m, GUARD_BYTES, PROT_NONE); /* a kernel that overflows its stack faults here */
  return fiber_stack{m + GUARD_BYTES, STACK_BYTES};
}

static void thread_main(emu_thread *t);

#if defined(__x86_64__)
static void switch_context(fiber_context *save, fiber_context *next) { emu_switch(save, *next); }
static void start_context(emu_thread *t) {
  uintptr_t top = ((uintptr_t)t->stack.base + t->stack.size) & ~(uintptr_t)15;
  void **sp = (void **)(top - 72); /* r15 r14 r13 r12 rbx rbp, return address; 16-aligned after ret */
  sp[0] = sp[1] = sp[4] = sp[5] = NULL;
  sp[2] = (void *)thread_main;
  sp[3] = (void *)t;
  sp[6] = (void *)emu_fiber_entry;
  t->context = sp;
}
#else
static void switch_context(fiber_context *save, fiber_context *next) { swapcontext(save, next); }
static void fiber_entry_ucontext(unsigned lo, unsigned hi) {
  thread_main((emu_thread *)(((uintptr_t)hi << 32) | lo));
}
static void start_context(emu_thread *t) {
  getcontext(&t->context);
  t->context.uc_stack.ss_sp = t->stack.base;
  t->context.uc_stack.ss_size = t->stack.size;
  t->context.uc_link = NULL;
  uintptr_t p = (uintptr_t)t;
  makecontext(&t->context, (void (*)(void))fiber_entry_ucontext, 2, (unsigned)p, (unsigned)(p >> 32));
}
#endif

/* The scheduler hands the host thread to thread i until it waits or ends. */
static void resume(block_run *r, int i) {
  emu_thread *t = &r->threads[i];
  if (t->state == NEW) {
    t->stack = take_stack();
    start_context(t);
  }
  t->state = RUNNABLE;
  threadIdx = t->idx;
  r->current = i;
  asan_start_switch(&r->asan_fake_stack, t->stack.base, t->stack.size);
  switch_context(&r->scheduler, &t->context);
  asan_finish_switch(r->asan_fake_stack, NULL, NULL);
  if (t->state == DONE) free_stacks.push_back(t->stack);
}

/* A thread gives the host thread back to the scheduler, waiting in state s (or ended). */
static void wait_as(thread_state s) {
  block_run *r = running;
  emu_thread *t = &r->threads[r->current];
  t->state = s;
  asan_start_switch(s == DONE ? NULL : &t->asan_fake_stack, r->scheduler_stack_bottom, r->scheduler_stack_size);
  switch_context(&t->context, &r->scheduler);
  asan_finish_switch(t->asan_fake_stack, NULL, NULL);
}

static void thread_main(emu_thread *t) {
  block_run *r = running;
  asan_finish_switch(NULL, &r->scheduler_stack_bottom, &r->scheduler_stack_size);
  (void)t;
  r->body(r->ctx);
  wait_as(DONE); /* never resumed */
  abort();
}

void emu_syncthreads(void) {
  if (!running) {
    fprintf(stderr, "cuda-emu: __syncthreads() outside a kernel\n");
    abort();
  }
  wait_as(AT_BARRIER);
}

uint64_t emu_warp_meet(uint64_t mine, int src_lane) {
  if (!running) {
    fprintf(stderr, "cuda-emu: a warp shuffle or __syncwarp() outside a kernel\n");
    abort();
  }
  emu_thread *t = &running->threads[running->current];
  t->brought = mine, t->src_lane = src_lane;
  wait_as(AT_WARP);
  return t->taken;
}

void emu_trap(void) {
  if (!running) abort();
  emu_thread *t = &running->threads[running->current];
  fflush(stdout); /* what the kernel printed first (a stub says why it traps), as a GPU's printf buffer is */
  fprintf(stderr, "cuda-emu: kernel %s, block (%u, %u, %u), thread (%u, %u, %u): __trap()\n", running->name,
          blockIdx.x, blockIdx.y, blockIdx.z, t->idx.x, t->idx.y, t->idx.z);
  running->trapped = true;
  wait_as(DONE);
  abort();
}

void *emu_dynamic_shared(void) { return running && !running->dynamic_shared.empty() ? running->dynamic_shared.data() : NULL; }

/* Every warp whose living lanes all wait at a meeting: each lane takes its source lane's
 * value (its own where the source lane is gone), and all go on. */
static bool release_warps(block_run *r) {
  int n = (int)r->threads.size();
  bool released = false;
  for (int w0 = 0; w0 < n; w0 += warpSize) {
    int w1 = w0 + warpSize < n ? w0 + warpSize : n, waiting = 0, living = 0;
    for (int i = w0; i < w1; i++) {
      living += r->threads[i].state != DONE;
      waiting += r->threads[i].state == AT_WARP;
    }
    if (waiting == 0 || waiting != living) continue;
    for (int i = w0; i < w1; i++) {
      emu_thread *t = &r->threads[i];
      if (t->state != AT_WARP) continue;
      int src = w0 + t->src_lane;
      bool there = t->src_lane >= 0 && t->src_lane < warpSize && src < w1 && r->threads[src].state == AT_WARP;
      t->taken = there ? r->threads[src].brought : t->brought;
    }
    for (int i = w0; i < w1; i++)
      if (r->threads[i].state == AT_WARP) r->threads[i].state = RUNNABLE;
    released = true;
  }
  return released;
}

/* Runs the block blockIdx to its end; false (after saying why) if it trapped or its
 * threads wait forever. */
static bool run_block(block_run *r) {
  int n = (int)r->threads.size();
  for (emu_thread &t : r->threads) t.state = NEW;
  bool forward = true;
  for (;;) {
    for (int k = 0; k < n; k++) {
      int i = forward ? k : n - 1 - k;
      thread_state s = r->threads[i].state;
      if (s == NEW || s == RUNNABLE) resume(r, i);
      if (r->trapped) return false;
    }
    forward = !forward; /* the next phase runs the threads the other way round */
    int living = 0, at_barrier = 0, at_warp = 0;
    for (emu_thread &t : r->threads) {
      living += t.state != DONE;
      at_barrier += t.state == AT_BARRIER;
      at_warp += t.state == AT_WARP;
    }
    if (living == 0) return true;
    if (at_barrier == living) { /* threads that ended count as arrived, as on Volta and later */
      for (emu_thread &t : r->threads) t.state = t.state == AT_BARRIER ? RUNNABLE : t.state;
      continue;
    }
    if (release_warps(r)) continue;
    fprintf(stderr,
            "cuda-emu: kernel %s, block (%u, %u, %u): its threads wait forever: %d at __syncthreads(), %d at a warp "
            "shuffle or __syncwarp, %d ended (a __syncthreads() that some threads of the block never reach, or a "
            "full-mask shuffle that some lanes of a warp never reach?)\n",
            r->name, blockIdx.x, blockIdx.y, blockIdx.z, at_barrier, at_warp, n - living);
    return false;
  }
}

/* What the hardware refuses before a kernel starts; NULL when the launch is fine. */
static const char *bad_configuration(dim3 g, dim3 b, size_t shm) {
  if (g.x == 0 || g.y == 0 || g.z == 0) return "a grid dimension is 0";
  if (g.x > 2147483647u || g.y > 65535 || g.z > 65535) return "the grid is larger than (2^31 - 1, 65535, 65535)";
  if (b.x == 0 || b.y == 0 || b.z == 0) return "a block dimension is 0";
  if (b.x > 1024 || b.y > 1024 || b.z > 64) return "the block is larger than (1024, 1024, 64)";
  if ((unsigned long)b.x * b.y * b.z > 1024) return "the block has more than 1024 threads";
  if (shm > 48 << 10) return "more than 48 KiB of dynamic shared memory";
  return NULL;
}

void emu_run(dim3 grid, dim3 block, size_t shm, void (*body)(void *), void *ctx, const char *name) {
  if (sticky_error != cudaSuccess) {
    last_error = sticky_error;
    return;
  }
  const char *bad = bad_configuration(grid, block, shm);
  if (running) bad = "a launch from inside a kernel (dynamic parallelism is not emulated)";
  if (bad) {
    fprintf(stderr, "cuda-emu: %s<<<(%u, %u, %u), (%u, %u, %u)>>>: %s\n", name, grid.x, grid.y, grid.z, block.x,
            block.y, block.z, bad);
    last_error = cudaErrorInvalidConfiguration;
    return;
  }
  block_run r{};
  r.body = body, r.ctx = ctx, r.name = name;
  r.threads.resize((size_t)block.x * block.y * block.z);
  for (unsigned z = 0, i = 0; z < block.z; z++)
    for (unsigned y = 0; y < block.y; y++)
      for (unsigned x = 0; x < block.x; x++) r.threads[i++].idx = uint3{x, y, z};
  r.dynamic_shared.resize(shm);
  uint3 saved_thread = threadIdx, saved_block = blockIdx;
  dim3 saved_block_dim = blockDim, saved_grid_dim = gridDim;
  gridDim = grid, blockDim = block;
  running = &r;
  for (unsigned z = 0; z < grid.z && !r.trapped; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++) {
        blockIdx = uint3{x, y, z};
        if (shm) memset(r.dynamic_shared.data(), 0xff, shm); /* a block finds no values left by the last */
        if (!run_block(&r)) {
          for (emu_thread &t : r.threads) /* the stacks of threads that will never go on */
            if (t.state != NEW && t.state != DONE) free_stacks.push_back(t.stack);
          sticky_error = last_error = cudaErrorLaunchFailure;
          r.trapped = true;
          goto done;
        }
      }
done:
  running = NULL;
  threadIdx = saved_thread, blockIdx = saved_block, blockDim = saved_block_dim, gridDim = saved_grid_dim;
}
