/* bench_torch.h: what the training benchmarks share: timing a step function into
 * images/s, and running a PyTorch script beside us, one thread setting at a time.
 *
 * Throughput: WARMUP steps, then up to REPS timed runs of STEPS steps, stopping
 * after a budget of seconds (a slow config gets fewer runs); images/s =
 * batch * steps / seconds, the best and the median of those runs.
 *
 * PyTorch runs as a child process, never beside our own timed run. On a 2-core
 * machine torch's intra-op pool (OpenMP) and its BLAS's pool slow each other down
 * when both take 2 threads, so torch gets the best of torch:BLAS = 1:1, 2:1 (idle
 * OpenMP workers spinning, and asleep) and 1:2. The script prints
 *   about <torch version, what does its GEMM, its thread pools>
 *   threads <torch threads> <BLAS threads>
 *   images_per_s <best> <median>
 * or `skip <reason>`; bench/torch_common.py has its half.
 */
#ifndef BENCH_TORCH_H
#define BENCH_TORCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  double best, median; /* images/s; 0 when not measured */
} bench_rate;

typedef struct {
  int batch, warmup, steps, reps;
  double budget_s; /* no further runs after this many seconds */
} bench_plan;

/* images/s of step(ctx, i) for i = 0, 1, ...; each step trains on plan->batch images. */
bench_rate bench_rate_of(void (*step)(void *ctx, int i), void *ctx, const bench_plan *plan);

/* "  config   best   median" */
void bench_header(void);
void bench_row(const char *config, bench_rate r);

/* The best PyTorch over the thread settings above, or why there is none (note). */
typedef struct {
  double best, median;  /* the best config's best, the best median of any config */
  char best_name[96];
  char about[512];      /* torch's GEMM and pools, from the script */
  char note[256];       /* why torch was skipped; "" when it ran */
} bench_torch_result;

/* Runs `python script --threads T <args>` for each thread setting, printing a row
 * each. args: the shape of the work ("--batch 64 --steps 200 ..."). */
bench_torch_result bench_torch_all(const char *script, const char *args);

/* PyTorch on the GPU: the script once with --device cuda (one row), or why not (note). */
bench_torch_result bench_torch_gpu(const char *script, const char *args);

/* "GPU: ours best / PyTorch CUDA best = R x" and the medians', or why there is no ratio. */
void bench_report_gpu_ratio(double ours_best, double ours_median, const bench_torch_result *t);

/* Prints "ours best / torch best = R x" (and the medians' ratio), and whether
 * ratio >= target; without torch, says why there is no ratio. */
void bench_report_ratio(double ours_best, double ours_median, const char *ours_name, const bench_torch_result *t,
                        double target);

#endif
