/* bench_mlp: training throughput of chapter 02's MLP, in images/s, libnn vs PyTorch CPU
 * (and, with a GPU, libnn on it vs PyTorch CUDA).
 *
 *   model   x (64, 784) -> Dense 784->512 -> ReLU -> Dense 512->10 -> logits (64, 10)
 *   loss    sparse cross-entropy from the logits (softmax fused into the loss)
 *   optim   plain SGD, lr 0.01, batch 64
 *
 * One step is what a fit loop does: zero the grads, forward, loss and dL/dlogits,
 * backward through Dense 2, the ReLU and Dense 1 (no dx for the input), one SGD
 * step. The input is a pool of POOL seeded random batches (pixels in [0, 1),
 * labels 0..9); step i trains on batch i mod POOL. Nothing is allocated in the
 * timed loop. Each config runs WARMUP steps, then up to REPS timed runs of STEPS
 * steps, stopping after BUDGET_S seconds (bench/common/bench_torch.h).
 *
 * PyTorch runs the same model, shapes and counts in bench/bench_mlp_torch.py, as
 * a child process, at its best thread setting (bench_torch.h says which it tries);
 * ours gets the best of 1 and 2 of libnn's threads (nn_parallel.h: nn_sgemm spreads its
 * slabs of C over them; OpenBLAS, or the blocked kernel without it, runs inside each).
 * Ratios: best / best (the target's), and best median / best median.
 * PyTorch is skipped, with a note, without python3 or torch. With a GPU the same steps run
 * there, the pool of batches on the device too, against PyTorch CUDA (its --device cuda).
 * A benchmark, not a test: it exits 0 whether or not the target is met.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_torch.h"
#include "nn_activation.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_gemm.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_parallel.h"
#include "nn_rng.h"

enum { BATCH = 64, IN = 784, HIDDEN = 512, CLASSES = 10, POOL = 50 };
enum { WARMUP = 20, STEPS = 200, REPS = 5 };
static const double BUDGET_S = 3.0; /* no further runs of a config after this many seconds */
static const float LR = 0.01f;
static const double TARGET_RATIO = 1.20; /* ours >= 1.2x PyTorch's best */
static const char *TORCH_SCRIPT = "bench/bench_mlp_torch.py";

typedef struct {
  nn_dense *d1, *d2;
  nn_activation relu;
  nn_optim opt;
  nn_tensor x_pool;   /* (POOL * BATCH, IN) */
  int *y_pool;        /* POOL * BATCH labels */
  nn_tensor h, a, z;  /* (BATCH, HIDDEN) pre- and post-ReLU, (BATCH, CLASSES) logits */
  nn_tensor dz, da, dh;
} mlp;

static mlp mlp_new(uint64_t seed, nn_device device) {
  mlp m = {0};
  nn_rng rng = nn_rng_new(seed);
  m.d1 = nn_dense_new("dense1", IN, HIDDEN, NN_INIT_HE, &rng);
  m.d2 = nn_dense_new("dense2", HIDDEN, CLASSES, NN_INIT_HE, &rng);
  nn_layer_to(&m.d1->base, device), nn_layer_to(&m.d2->base, device);
  m.relu = nn_activation_of(NN_ACT_RELU);
  nn_param params[4];
  int count = m.d1->base.ops->params(&m.d1->base, params, 2);
  count += m.d2->base.ops->params(&m.d2->base, params + count, 2);
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = LR;
  m.opt = nn_optim_new(NN_SGD, &cfg, params, count);
  nn_tensor pool = nn_tensor_new(2, (int[]){POOL * BATCH, IN}, NN_CPU);
  nn_rng_fill_uniform(&rng, pool.data, nn_numel(&pool), 0.f, 1.f);
  m.x_pool = nn_tensor_to(&pool, device);
  nn_tensor_free(&pool);
  m.y_pool = nn_xmalloc(sizeof *m.y_pool * POOL * BATCH, "bench_mlp labels");
  for (int i = 0; i < POOL * BATCH; i++) m.y_pool[i] = (int)nn_rng_below(&rng, CLASSES);
  m.h = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, device);
  m.a = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, device);
  m.z = nn_tensor_new(2, (int[]){BATCH, CLASSES}, device);
  m.dz = nn_tensor_new(2, (int[]){BATCH, CLASSES}, device);
  m.da = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, device);
  m.dh = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, device);
  return m;
}

static void mlp_free(mlp *m) {
  nn_optim_free(&m->opt);
  m->d1->base.ops->free(&m->d1->base), m->d2->base.ops->free(&m->d2->base);
  nn_tensor_free(&m->x_pool), free(m->y_pool);
  nn_tensor *acts[] = {&m->h, &m->a, &m->z, &m->dz, &m->da, &m->dh};
  for (int i = 0; i < 6; i++) nn_tensor_free(acts[i]);
}

/* One training step on batch b of the pool; returns the mean loss. */
static double train_step(mlp *m, int b) {
  nn_tensor x = m->x_pool; /* rows b*BATCH .. (b+1)*BATCH of the pool, no copy */
  x.data += (long)b * BATCH * IN;
  x.shape[0] = BATCH;
  const int *y = m->y_pool + b * BATCH;
  nn_optim_zero_grad(&m->opt);
  nn_call c1 = {.training = true}, c2 = {.training = true}; /* Dense keeps only x: no arena */
  nn_dense_forward(m->d1, &c1, &x, &m->h);
  nn_activation_forward(&m->relu, &m->h, &m->a);
  nn_dense_forward(m->d2, &c2, &m->a, &m->z);
  nn_tensor_fill(&m->dz, 0.f);
  double loss = nn_sparse_ce_loss(&m->z, y, &m->dz);
  nn_tensor_fill(&m->da, 0.f);
  nn_dense_backward(m->d2, &c2, &m->dz, &m->da);
  nn_tensor_fill(&m->dh, 0.f);
  nn_activation_backward(&m->relu, &m->h, &m->a, &m->da, &m->dh);
  nn_dense_backward(m->d1, &c1, &m->dh, NULL);
  nn_optim_step(&m->opt);
  return loss;
}

/* The step bench_rate_of times: batch i mod POOL. */
static void step_of(void *ctx, int i) { train_step(ctx, i % POOL); }

/* images/s of our MLP on `threads` of libnn's threads (nn_parallel.h). */
static bench_rate bench_ours(mlp *m, int threads) {
  nn_set_threads(threads);
  bench_plan plan = {.batch = BATCH, .warmup = WARMUP, .steps = STEPS, .reps = REPS, .budget_s = BUDGET_S};
  bench_rate r = bench_rate_of(step_of, m, &plan);
  nn_set_threads(1); /* no second thread of ours awake while torch runs */
  return r;
}

/* The same steps on the GPU, against PyTorch CUDA (the loss's copy back ends each step). */
static void bench_gpu(const char *args) {
  if (!nn_cuda_available()) {
    printf("\nGPU: skipped (%s)\n", nn_cuda_describe());
    return;
  }
  printf("\nthe same on the GPU (%s)\n", nn_cuda_describe());
  bench_header();
  mlp g = mlp_new(42, NN_GPU);
  bench_plan plan = {.batch = BATCH, .warmup = WARMUP, .steps = STEPS, .reps = REPS, .budget_s = BUDGET_S};
  bench_rate r = bench_rate_of(step_of, &g, &plan);
  bench_row("libnn, GPU", r);
  mlp_free(&g);
  bench_torch_result t = bench_torch_gpu(TORCH_SCRIPT, args);
  bench_report_gpu_ratio(r.best, r.median, &t);
}

int main(void) {
  printf("MLP 784-512-10 training (Dense, ReLU, Dense, sparse CE, SGD lr %g), batch %d, CPU\n", (double)LR,
         BATCH);
  printf("images/s over %d steps after %d warm-up steps; best and median of up to %d runs (%g s at most)\n",
         STEPS, WARMUP, REPS, BUDGET_S);
  bench_header();

  /* ours on 1 and 2 threads (nn_parallel.h), OpenBLAS or the blocked kernel under nn_sgemm */
  mlp m = mlp_new(42, NN_CPU);
  bool blas = nn_openblas_available();
  int max_threads = 2;
  double ours_best = 0, ours_median = 0;
  char ours_name[96] = "", name[96];
  for (int th = 1; th <= max_threads; th++) {
    bench_rate r = bench_ours(&m, th);
    snprintf(name, sizeof name, "libnn, %d thread%s%s", th, th > 1 ? "s" : "", blas ? "" : " (blocked GEMM, no OpenBLAS)");
    bench_row(name, r);
    if (r.best > ours_best) ours_best = r.best, snprintf(ours_name, sizeof ours_name, "%s", name);
    if (r.median > ours_median) ours_median = r.median;
  }
  mlp_free(&m);

  char args[256];
  snprintf(args, sizeof args, "--batch %d --pool %d --warmup %d --steps %d --reps %d --budget %g --lr %g", BATCH,
           POOL, WARMUP, STEPS, REPS, BUDGET_S, (double)LR);
  bench_torch_result t = bench_torch_all(TORCH_SCRIPT, args);
  bench_report_ratio(ours_best, ours_median, ours_name, &t, TARGET_RATIO);
  bench_gpu(args);
  return 0;
}
