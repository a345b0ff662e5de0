/* bench_gemm: how fast is each nn_sgemm backend, as GFLOP/s and as ratios.
 *
 *   CPU: naive, blocked and OpenBLAS (pinned to 1 thread, like blocked) at
 *        n = 256 .. 2048, and the ratio blocked / OpenBLAS per size; then one
 *        strided batch shaped like attention's scores (nn_sgemm_strided_batched).
 *   GPU: the tiled CUDA kernel and cuBLAS at n = 1024 .. 4096 and on the same batch,
 *        when there is one.
 *
 * C = A @ B on square (n, n) float matrices is 2 n^3 flops (a multiply and an add
 * per term): GFLOP/s = 2 n^3 / seconds / 1e9; a batch of (M, K) @ (K, N) products is
 * 2 M N K batch flops. Each number is the best of a few runs after one warm-up run
 * (caches, page faults, thread pools, cuBLAS handle).
 * A benchmark, not a test: it exits 0 whether or not the target is met.
 */
#include <stdio.h>

#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_parallel.h"
#include "nn_progress.h"
#include "nn_rng.h"
#include "nn_tensor.h"

enum { N_CPU = 4, N_GPU = 3 };
static const int CPU_SIZES[N_CPU] = {256, 512, 1024, 2048};
static const int GPU_SIZES[N_GPU] = {1024, 2048, 4096};
static const int NAIVE_MAX_N = 1024; /* naive takes ~10 s at 2048 */
static const int TARGET_N = 1024;
static const double TARGET_RATIO = 0.60; /* blocked >= 0.60x OpenBLAS at n = 1024 */

/* batch products C_b = A_b @ op(B_b), (M, K) @ (K, N), contiguous: A: (batch, M, K),
 * B: (batch, K, N) or (batch, N, K) when tb, C: (batch, M, N). */
typedef struct { int batch, M, N, K; bool tb; } gemm_problem;
static gemm_problem square(int n) { return (gemm_problem){1, n, n, n, false}; }
/* Attention's scores, Q K^T for 32 heads (say batch 4 x 8 heads) of T = 128, d = 64. */
static const gemm_problem HEADS = {32, 128, 128, 64, true};

/* Seconds for one call; GPU backends are timed to the end of the kernel. */
static double run_once(nn_gemm_backend b, gemm_problem p, const float *A, const float *B, float *C) {
  double t0 = nn_seconds();
  if (p.batch == 1)
    nn_sgemm_with(b, false, p.tb, p.M, p.N, p.K, 1.f, A, B, 0.f, C);
  else
    nn_sgemm_strided_batched_with(b, false, p.tb, p.M, p.N, p.K, 1.f, A, p.K, (long)p.M * p.K, B,
                                  p.tb ? p.K : p.N, (long)p.K * p.N, 0.f, C, p.N, (long)p.M * p.N, p.batch);
  if (nn_gemm_device(b) == NN_GPU) nn_cuda_synchronize();
  return nn_seconds() - t0;
}

/* GFLOP/s of the best of up to 5 runs (stopping after 0.5 s), after a warm-up run. */
static double gflops(nn_gemm_backend b, gemm_problem p, nn_rng *rng) {
  nn_device dev = nn_gemm_device(b);
  nn_tensor A = nn_tensor_new(3, (int[]){p.batch, p.M, p.K}, NN_CPU);
  nn_tensor B = nn_tensor_new(3, (int[]){p.batch, p.K, p.N}, NN_CPU);
  nn_rng_fill_uniform(rng, A.data, nn_numel(&A), -1.f, 1.f);
  nn_rng_fill_uniform(rng, B.data, nn_numel(&B), -1.f, 1.f);
  nn_tensor dA = nn_tensor_to(&A, dev), dB = nn_tensor_to(&B, dev);
  nn_tensor C = nn_tensor_new(3, (int[]){p.batch, p.M, p.N}, dev);
  run_once(b, p, dA.data, dB.data, C.data);
  double best = 1e30, spent = 0;
  for (int r = 0; r < 5 && spent < 0.5; r++) {
    double s = run_once(b, p, dA.data, dB.data, C.data);
    spent += s;
    if (s < best) best = s;
  }
  nn_tensor_free(&A), nn_tensor_free(&B), nn_tensor_free(&dA), nn_tensor_free(&dB);
  nn_tensor_free(&C);
  return 2.0 * p.M * p.N * p.K * p.batch / best / 1e9;
}

/* "  81.3" or "     -" for a backend that was not run. */
static void cell(double v) {
  if (v > 0) printf(" %9.1f", v);
  else printf(" %9s", "-");
}

/* The CPU table; returns blocked / OpenBLAS at TARGET_N (0 without OpenBLAS). */
static double bench_cpu(nn_rng *rng) {
  bool blas = nn_gemm_available(NN_GEMM_OPENBLAS);
  double target_ratio = 0;
  nn_set_threads(1);
  printf("nn_sgemm on the CPU, C = A @ B, (n, n) float32, 1 thread, GFLOP/s (best of a few runs)\n");
  printf("%6s %9s %9s %9s %18s\n", "n", "naive", "blocked", "openblas", "blocked/openblas");
  for (int i = 0; i < N_CPU; i++) {
    int n = CPU_SIZES[i];
    double naive = n <= NAIVE_MAX_N ? gflops(NN_GEMM_NAIVE, square(n), rng) : 0;
    double blocked = gflops(NN_GEMM_BLOCKED, square(n), rng);
    double openblas = blas ? gflops(NN_GEMM_OPENBLAS, square(n), rng) : 0;
    printf("%6d", n), cell(naive), cell(blocked), cell(openblas);
    if (blas) printf(" %17.2fx\n", blocked / openblas);
    else printf(" %18s\n", "-");
    if (n == TARGET_N && blas) target_ratio = blocked / openblas;
    fflush(stdout);
  }
  gemm_problem h = HEADS;
  double naive = gflops(NN_GEMM_NAIVE, h, rng), blocked = gflops(NN_GEMM_BLOCKED, h, rng);
  double openblas = blas ? gflops(NN_GEMM_OPENBLAS, h, rng) : 0;
  printf("nn_sgemm_strided_batched, attention's Q K^T: %d x (%d, %d) @ (%d, %d)^T, 1 thread, GFLOP/s\n",
         h.batch, h.M, h.K, h.N, h.K);
  printf("%6s", "heads"), cell(naive), cell(blocked), cell(openblas);
  if (blas) printf(" %17.2fx\n", blocked / openblas);
  else printf(" %18s\n", "-");
  return target_ratio;
}

static void bench_gpu(nn_rng *rng) {
  printf("\nnn_sgemm on the GPU (%s), GFLOP/s; heads: the CPU's batch of 32, one launch\n",
         nn_cuda_describe());
  printf("%6s %9s %9s %14s\n", "n", "tiled", "cublas", "tiled/cublas");
  for (int i = 0; i < N_GPU; i++) {
    int n = GPU_SIZES[i];
    double tiled = gflops(NN_GEMM_TILED, square(n), rng), cublas = gflops(NN_GEMM_CUBLAS, square(n), rng);
    printf("%6d", n), cell(tiled), cell(cublas);
    printf(" %13.2fx\n", tiled / cublas);
  }
  double tiled = gflops(NN_GEMM_TILED, HEADS, rng), cublas = gflops(NN_GEMM_CUBLAS, HEADS, rng);
  printf("%6s", "heads"), cell(tiled), cell(cublas); /* one launch for the batch (above) */
  printf(" %13.2fx\n", tiled / cublas);
}

int main(void) {
  nn_rng rng = nn_rng_new(42);
  double ratio = bench_cpu(&rng);
  if (!nn_gemm_available(NN_GEMM_OPENBLAS))
    printf("target (blocked >= %.2fx OpenBLAS at n = %d): no ratio possible, libnn was built "
           "without OpenBLAS (apt-get install libopenblas-dev, then make clean bench)\n",
           TARGET_RATIO, TARGET_N);
  else
    printf("target (blocked >= %.2fx OpenBLAS at n = %d): %s (%.2fx)\n", TARGET_RATIO, TARGET_N,
           ratio >= TARGET_RATIO ? "met" : "NOT met", ratio);
  if (nn_cuda_available()) bench_gpu(&rng);
  else printf("\nGPU: skipped (%s)\n", nn_cuda_describe());
  return 0;
}
