/* tools/cuda-emu/selftest.cu: the emulation's own rules, checked (make test-gpu-emu runs it
 * first). Each check is a kernel or a runtime call whose answer a GPU gives too: shuffles,
 * barriers, atomics, dynamic shared memory; and each error a GPU reports: a bad launch, a
 * trap, a barrier some threads never reach, a copy past its allocation, a double free. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures, checks;

static void check(bool ok, const char *what) {
  checks++;
  if (!ok) {
    failures++;
    printf("cuda-emu selftest: FAILED: %s\n", what);
  }
}

/* out[t] = the value lane t gets from each shuffle of v = 100 + lane */
__global__ void shuffles(int *out) {
  int lane = threadIdx.x % 32, v = 100 + lane;
  out[4 * threadIdx.x + 0] = __shfl_xor_sync(0xffffffffu, v, 1);
  out[4 * threadIdx.x + 1] = __shfl_down_sync(0xffffffffu, v, 4);
  out[4 * threadIdx.x + 2] = __shfl_up_sync(0xffffffffu, v, 4);
  out[4 * threadIdx.x + 3] = __shfl_sync(0xffffffffu, v, 7);
}

/* A block reversal through shared memory: right only if the barrier holds every thread. */
__global__ void reverse(const int *in, int *out) {
  __shared__ int tile[256];
  tile[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * 256 + threadIdx.x] = tile[255 - threadIdx.x];
}

__global__ void count(double *sum, int *smallest) {
  atomicAdd(sum, 0.5);
  atomicMin(smallest, (int)(blockIdx.x * blockDim.x + threadIdx.x));
}

__global__ void dynamic_shared(int *out) {
  extern __shared__ int scratch[];
  scratch[threadIdx.x] = (int)threadIdx.x * 3;
  __syncthreads();
  out[threadIdx.x] = scratch[(threadIdx.x + 1) % blockDim.x];
}

__global__ void traps(void) {
  if (threadIdx.x == 5) __trap();
}

/* Half of each warp waits at a barrier, the other half at a full-mask shuffle that needs the
 * first half too: neither ever completes (a hang, or worse, on a GPU). */
__global__ void waits_forever(int *out) {
  if (threadIdx.x % 32 < 16)
    __syncthreads();
  else
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 16);
}

__global__ void nothing(void) {}

/* A failed kernel spoils the context for good, as on a GPU: each such case runs in a child,
 * which says whether the failure came, and stayed. */
static bool fails_for_good(void (*launch)(int *), int *d) {
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    launch(d);
    bool failed = cudaGetLastError() == cudaErrorLaunchFailure && cudaDeviceSynchronize() == cudaErrorLaunchFailure;
    nothing<<<1, 1>>>();
    _exit(failed && cudaGetLastError() == cudaErrorLaunchFailure ? 0 : 1);
  }
  int status = 1;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void launch_trap(int *) { traps<<<1, 32>>>(); }
static void launch_wait_forever(int *d) { waits_forever<<<1, 64>>>(d); }

int main(void) {
  int *d, h[256 * 4];
  cudaMalloc((void **)&d, sizeof h);
  shuffles<<<1, 64>>>(d);
  check(cudaGetLastError() == cudaSuccess, "shuffles launch");
  cudaMemcpy(h, d, 64 * 4 * sizeof(int), cudaMemcpyDeviceToHost);
  bool ok = true;
  for (int t = 0; t < 64; t++) {
    int lane = t % 32;
    ok &= h[4 * t] == 100 + (lane ^ 1);
    ok &= h[4 * t + 1] == 100 + (lane + 4 < 32 ? lane + 4 : lane);
    ok &= h[4 * t + 2] == 100 + (lane >= 4 ? lane - 4 : lane);
    ok &= h[4 * t + 3] == 107;
  }
  check(ok, "__shfl_xor/down/up/_sync give each lane its source lane's value");

  int in[512], out[512], *d_in, *d_out;
  for (int i = 0; i < 512; i++) in[i] = i;
  cudaMalloc((void **)&d_in, sizeof in), cudaMalloc((void **)&d_out, sizeof out);
  cudaMemcpy(d_in, in, sizeof in, cudaMemcpyHostToDevice);
  reverse<<<2, 256>>>(d_in, d_out);
  cudaMemcpy(out, d_out, sizeof out, cudaMemcpyDeviceToHost);
  ok = true;
  for (int i = 0; i < 512; i++) ok &= out[i] == (i / 256) * 256 + 255 - i % 256;
  check(ok, "__syncthreads() holds the whole block (a reversal through shared memory)");

  double *sum;
  int *smallest, start = 1 << 30;
  cudaMalloc((void **)&sum, sizeof(double)), cudaMalloc((void **)&smallest, sizeof(int));
  cudaMemset(sum, 0, sizeof(double));
  cudaMemcpy(smallest, &start, sizeof start, cudaMemcpyHostToDevice);
  count<<<3, 100>>>(sum, smallest);
  double got_sum;
  int got_min;
  cudaMemcpy(&got_sum, sum, sizeof got_sum, cudaMemcpyDeviceToHost);
  cudaMemcpy(&got_min, smallest, sizeof got_min, cudaMemcpyDeviceToHost);
  check(got_sum == 150.0 && got_min == 0, "atomicAdd(double) and atomicMin over 3 blocks of 100");

  dynamic_shared<<<1, 64, 64 * sizeof(int)>>>(d);
  cudaMemcpy(h, d, 64 * sizeof(int), cudaMemcpyDeviceToHost);
  ok = true;
  for (int t = 0; t < 64; t++) ok &= h[t] == (t + 1) % 64 * 3;
  check(ok, "extern __shared__: the launch's dynamic shared memory");

  float poisoned;
  float *fresh;
  cudaMalloc((void **)&fresh, sizeof(float));
  cudaMemcpy(&poisoned, fresh, sizeof poisoned, cudaMemcpyDeviceToHost);
  check(poisoned != poisoned, "cudaMalloc's memory reads as NaN until written");

  printf("cuda-emu selftest: the errors below are expected\n");
  fflush(stdout);
  nothing<<<1, 2048>>>();
  check(cudaGetLastError() == cudaErrorInvalidConfiguration, "a block of 2048 threads: invalid configuration");
  nothing<<<dim3(1, 70000), 32>>>();
  check(cudaGetLastError() == cudaErrorInvalidConfiguration, "grid.y = 70000: invalid configuration");
  check(cudaMemcpy(h, d, sizeof h + 4, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue,
        "a copy longer than its allocation: invalid value");
  check(cudaMemcpy(d, h, 4, cudaMemcpyDeviceToHost) == cudaErrorInvalidValue,
        "a copy whose kind names the wrong sides: invalid value");
  int *once;
  cudaMalloc((void **)&once, 4);
  cudaFree(once);
  check(cudaFree(once) == cudaErrorInvalidValue, "a second cudaFree of one pointer: invalid value");
  cudaGetLastError();

  check(fails_for_good(launch_trap, d), "__trap(): a launch failure, sticky, and the next launch fails too");
  check(fails_for_good(launch_wait_forever, d),
        "a block whose threads wait at different barriers: a launch failure, sticky");

  cudaFree(d), cudaFree(d_in), cudaFree(d_out), cudaFree(sum), cudaFree(smallest), cudaFree(fresh);
  printf("cuda-emu selftest: %d of %d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
