/* bench_cnn: chapter 03's convolution, measured two ways.
 *
 * 1. Training throughput of the seeds' CNN, in images/s, libnn vs PyTorch CPU (and, with a
 *    GPU, libnn there vs PyTorch CUDA, the pool of batches on the device):
 *      x (64, 1, 28, 28) -> Conv2d(1 -> 32, 3x3) -> ReLU -> MaxPool 2 -> Conv2d(32 -> 64, 3x3)
 *      -> ReLU -> MaxPool 2 -> Flatten -> Dense(1600 -> 10) -> logits (64, 10)
 *    sparse cross-entropy, plain SGD lr 0.01, batch 64; one step is nn_model_train_batch
 *    (zero grads, forward, loss, backward, step), what nn_fit runs per batch. Seeded
 *    random pool of POOL batches, timed as bench/common/bench_torch.h says; PyTorch runs
 *    the same model in bench/bench_cnn_torch.py at its best thread setting.
 *
 * 2. One Conv2d forward in GFLOP/s: conv2 of that model, (64, 32, 13, 13) -> (64, 64, 11, 11),
 *    2 F C KH KW Ho Wo N = 2 * 64 * 288 * 121 * 64 = 285 MFLOP, by im2col + nn_sgemm and by the
 *    naive seven loops, beside nn_sgemm's own GFLOP/s on square 1024 matrices (the GEMM
 *    "peak" on this machine), all on one thread. Im2col's copies and small GEMMs
 *    (M = 64 filters, N = 121 positions, K = 288) are why conv gets a fraction of the peak.
 *
 * A benchmark, not a test: it exits 0 whether or not the target is met.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_torch.h"
#include "nn_cnn_models.h"
#include "nn_conv2d.h"
#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_parallel.h"
#include "nn_progress.h"

enum { BATCH = 64, POOL = 20, CLASSES = 10 };
enum { WARMUP = 5, STEPS = 40, REPS = 5 };
static const double BUDGET_S = 4.0; /* no further runs of a config after this many seconds */
static const float LR = 0.01f;
static const double TARGET_RATIO = 1.3; /* ours >= 1.3x PyTorch's best: a lead, not a tie within the noise */
static const char *TORCH_SCRIPT = "bench/bench_cnn_torch.py";

typedef struct {
  nn_model *m;
  nn_tensor x_pool; /* (POOL * BATCH, 1, 28, 28) */
  int *y_pool;
} trainer;

/* One nn_model_train_batch on batch i mod POOL of the pool (a view, no copy). */
static void train_step(void *ctx, int i) {
  trainer *t = ctx;
  int b = i % POOL;
  nn_tensor x = t->x_pool;
  x.data += (long)b * BATCH * 784;
  x.shape[0] = BATCH;
  nn_model_train_batch(t->m, &x, t->y_pool + b * BATCH, NULL, NULL);
}

/* The seeds' CNN compiled for SGD on `device`, with its pool of seeded batches there too. */
static trainer trainer_new(nn_device device) {
  nn_rng rng = nn_rng_new(42);
  trainer t = {.m = nn_mnist_cnn(32, 64, 0, &rng)};
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = LR;
  nn_model_compile(t.m, NN_LOSS_SPARSE_CE, NN_SGD, &cfg);
  nn_model_to(t.m, device);
  nn_tensor pool = nn_tensor_new(4, (int[]){POOL * BATCH, 1, 28, 28}, NN_CPU);
  nn_rng_fill_uniform(&rng, pool.data, nn_numel(&pool), 0.f, 1.f);
  t.x_pool = nn_tensor_to(&pool, device);
  nn_tensor_free(&pool);
  t.y_pool = nn_xmalloc(sizeof *t.y_pool * POOL * BATCH, "bench_cnn labels");
  for (int i = 0; i < POOL * BATCH; i++) t.y_pool[i] = (int)nn_rng_below(&rng, CLASSES);
  return t;
}

/* The same training steps on the GPU, against PyTorch CUDA. */
static void bench_training_gpu(const char *args) {
  if (!nn_cuda_available()) {
    printf("\nGPU: skipped (%s)\n", nn_cuda_describe());
    return;
  }
  printf("\nthe same training on the GPU (%s)\n", nn_cuda_describe());
  bench_header();
  trainer t = trainer_new(NN_GPU);
  bench_plan plan = {.batch = BATCH, .warmup = WARMUP, .steps = STEPS, .reps = REPS, .budget_s = BUDGET_S};
  bench_rate r = bench_rate_of(train_step, &t, &plan);
  bench_row("libnn, GPU", r);
  nn_model_free(t.m), nn_tensor_free(&t.x_pool), free(t.y_pool);
  bench_torch_result torch = bench_torch_gpu(TORCH_SCRIPT, args);
  bench_report_gpu_ratio(r.best, r.median, &torch);
}

static void bench_training(void) {
  printf("seeds' CNN training (34,826 params; sparse CE, SGD lr %g), batch %d, CPU\n", (double)LR, BATCH);
  printf("images/s over %d steps after %d warm-up steps; best and median of up to %d runs (%g s at most)\n", STEPS,
         WARMUP, REPS, BUDGET_S);
  bench_header();
  trainer t = trainer_new(NN_CPU);

  bool blas = nn_openblas_available();
  double ours_best = 0, ours_median = 0;
  char ours_name[96] = "", name[96];
  bench_plan plan = {.batch = BATCH, .warmup = WARMUP, .steps = STEPS, .reps = REPS, .budget_s = BUDGET_S};
  for (int th = 1; th <= 2; th++) {
    nn_set_threads(th);
    bench_rate r = bench_rate_of(train_step, &t, &plan);
    nn_set_threads(1); /* no second thread of ours awake while torch runs */
    snprintf(name, sizeof name, "libnn, %d thread%s%s", th, th > 1 ? "s" : "", blas ? "" : " (blocked GEMM, no OpenBLAS)");
    bench_row(name, r);
    if (r.best > ours_best) ours_best = r.best, snprintf(ours_name, sizeof ours_name, "%s", name);
    if (r.median > ours_median) ours_median = r.median;
  }
  nn_model_free(t.m), nn_tensor_free(&t.x_pool), free(t.y_pool);

  char args[256];
  snprintf(args, sizeof args, "--batch %d --pool %d --warmup %d --steps %d --reps %d --budget %g --lr %g", BATCH,
           POOL, WARMUP, STEPS, REPS, BUDGET_S, (double)LR);
  bench_torch_result tr = bench_torch_all(TORCH_SCRIPT, args);
  bench_report_ratio(ours_best, ours_median, ours_name, &tr, TARGET_RATIO);
  bench_training_gpu(args);
}

/* The best seconds of up to 5 calls of f(ctx) (stopping after 1 s), after one warm-up call. */
static double best_seconds(void (*f)(void *ctx), void *ctx) {
  f(ctx);
  double best = 1e30, spent = 0;
  for (int r = 0; r < 5 && spent < 1.0; r++) {
    double t0 = nn_seconds();
    f(ctx);
    double s = nn_seconds() - t0;
    spent += s;
    if (s < best) best = s;
  }
  return best;
}

typedef struct {
  nn_conv2d *conv;
  nn_arena *ws; /* the forward's im2col workspace: sized by the warm-up call, then reused */
  nn_tensor x, y;
  nn_tensor A, B, C; /* square GEMM operands */
} conv_case;

static void run_conv(void *ctx) {
  conv_case *c = ctx;
  nn_arena_reset(c->ws);
  nn_call call = {.arena = c->ws, .training = false};
  nn_conv2d_forward(c->conv, &call, &c->x, &c->y);
}
static void run_naive(void *ctx) { conv_case *c = ctx; nn_conv2d_forward_naive(c->conv, &c->x, &c->y); }
static void run_gemm(void *ctx) {
  conv_case *c = ctx;
  int n = c->A.shape[0];
  nn_sgemm(false, false, n, n, n, 1.f, c->A.data, c->B.data, 0.f, c->C.data, NN_CPU);
}

static void bench_conv_forward(void) {
  enum { N = 64, C = 32, H = 13, F = 64, K = 3, HO = H - K + 1, SQ = 1024 };
  nn_set_threads(1);
  nn_rng rng = nn_rng_new(7);
  conv_case c = {.conv = nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = C, .filters = F, .kernel = K}, &rng),
                 .ws = nn_arena_new(NN_CPU), .x = nn_tensor_new(4, (int[]){N, C, H, H}, NN_CPU), .y = nn_tensor_new(4, (int[]){N, F, HO, HO}, NN_CPU),
                 .A = nn_tensor_new(2, (int[]){SQ, SQ}, NN_CPU), .B = nn_tensor_new(2, (int[]){SQ, SQ}, NN_CPU),
                 .C = nn_tensor_new(2, (int[]){SQ, SQ}, NN_CPU)};
  nn_rng_fill_uniform(&rng, c.x.data, nn_numel(&c.x), 0.f, 1.f);
  nn_rng_fill_uniform(&rng, c.A.data, nn_numel(&c.A), -1.f, 1.f);
  nn_rng_fill_uniform(&rng, c.B.data, nn_numel(&c.B), -1.f, 1.f);
  double conv_flop = 2.0 * F * C * K * K * HO * HO * N, gemm_flop = 2.0 * SQ * SQ * SQ;
  double t_gemm = best_seconds(run_gemm, &c), t_conv = best_seconds(run_conv, &c), t_naive = best_seconds(run_naive, &c);
  double peak = gemm_flop / t_gemm / 1e9, conv = conv_flop / t_conv / 1e9, naive = conv_flop / t_naive / 1e9;
  printf("\nConv2d(32 -> 64, 3x3) forward on (64, 32, 13, 13): %.0f MFLOP, 1 thread, %s\n", conv_flop / 1e6,
         nn_openblas_available() ? "OpenBLAS" : "blocked GEMM (no OpenBLAS)");
  printf("  %-40s %8.2f ms %8.1f GFLOP/s\n", "nn_sgemm, square 1024 (the GEMM peak)", t_gemm * 1e3, peak);
  printf("  %-40s %8.2f ms %8.1f GFLOP/s  %4.0f%% of the peak\n", "im2col + nn_sgemm (nn_conv2d_forward)",
         t_conv * 1e3, conv, 100 * conv / peak);
  printf("  %-40s %8.2f ms %8.1f GFLOP/s  %4.0f%% of the peak\n", "naive seven loops", t_naive * 1e3, naive,
         100 * naive / peak);
  printf("im2col + GEMM / naive = %.1fx faster\n", t_naive / t_conv);
  c.conv->base.ops->free(&c.conv->base);
  nn_arena_free(c.ws);
  nn_tensor *ts[] = {&c.x, &c.y, &c.A, &c.B, &c.C};
  for (int i = 0; i < 5; i++) nn_tensor_free(ts[i]);
}

int main(void) {
  bench_training();
  bench_conv_forward();
  return 0;
}
