/* bench_mlp: training throughput of chapter 02's MLP, in images/s, libnn vs PyTorch CPU.
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
 * steps, stopping after BUDGET_S seconds (a slow config gets fewer runs);
 * images/s = BATCH * STEPS / seconds, the best (and the median) of those runs.
 *
 * PyTorch runs the same model, shapes and counts in bench/bench_mlp_torch.py, as
 * a child process, one thread setting at a time, never beside our own run. On a
 * 2-core machine torch's intra-op pool (OpenMP) and its BLAS's pool slow each
 * other down when both take 2 threads, so torch gets the best of torch:BLAS =
 * 1:1, 2:1 (with OpenMP's idle workers spinning, and asleep) and 1:2 threads, and
 * ours the best of OpenBLAS 1 and 2 threads (blocked GEMM on 1 without OpenBLAS).
 * Ratios: best / best (the target's), and best median / best median.
 * PyTorch is skipped, with a note, without python3 or torch.
 * A benchmark, not a test: it exits 0 whether or not the target is met.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn_activation.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_gemm.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_progress.h"
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

static mlp mlp_new(uint64_t seed) {
  mlp m = {0};
  nn_rng rng = nn_rng_new(seed);
  m.d1 = nn_dense_new("dense1", IN, HIDDEN, NN_INIT_HE, &rng);
  m.d2 = nn_dense_new("dense2", HIDDEN, CLASSES, NN_INIT_HE, &rng);
  m.relu = nn_activation_of(NN_ACT_RELU);
  nn_param params[4];
  int count = m.d1->base.ops->params(&m.d1->base, params, 2);
  count += m.d2->base.ops->params(&m.d2->base, params + count, 2);
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = LR;
  m.opt = nn_optim_new(NN_SGD, &cfg, params, count);
  m.x_pool = nn_tensor_new(2, (int[]){POOL * BATCH, IN}, NN_CPU);
  nn_rng_fill_uniform(&rng, m.x_pool.data, nn_numel(&m.x_pool), 0.f, 1.f);
  m.y_pool = nn_xmalloc(sizeof *m.y_pool * POOL * BATCH, "bench_mlp labels");
  for (int i = 0; i < POOL * BATCH; i++) m.y_pool[i] = (int)nn_rng_below(&rng, CLASSES);
  m.h = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, NN_CPU);
  m.a = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, NN_CPU);
  m.z = nn_tensor_new(2, (int[]){BATCH, CLASSES}, NN_CPU);
  m.dz = nn_tensor_new(2, (int[]){BATCH, CLASSES}, NN_CPU);
  m.da = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, NN_CPU);
  m.dh = nn_tensor_new(2, (int[]){BATCH, HIDDEN}, NN_CPU);
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
  nn_dense_forward(m->d1, &x, &m->h);
  nn_activation_forward(&m->relu, &m->h, &m->a);
  nn_dense_forward(m->d2, &m->a, &m->z);
  nn_tensor_fill(&m->dz, 0.f);
  double loss = nn_sparse_ce_loss(&m->z, y, &m->dz);
  nn_tensor_fill(&m->da, 0.f);
  nn_dense_backward(m->d2, &m->dz, &m->da);
  nn_tensor_fill(&m->dh, 0.f);
  nn_activation_backward(&m->relu, &m->h, &m->a, &m->da, &m->dh);
  nn_dense_backward(m->d1, &m->dh, NULL);
  nn_optim_step(&m->opt);
  return loss;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct {
  double best, median; /* images/s; 0 when not measured */
} rate;

/* images/s of our MLP with OpenBLAS (or the blocked kernel) on `threads` threads. */
static rate bench_ours(mlp *m, int threads) {
  nn_openblas_set_threads(threads);
  int step = 0;
  for (int i = 0; i < WARMUP; i++, step++) train_step(m, step % POOL);
  double per_s[REPS], spent = 0;
  int runs = 0;
  while (runs < REPS && spent < BUDGET_S) {
    double t0 = nn_seconds();
    for (int i = 0; i < STEPS; i++, step++) train_step(m, step % POOL);
    double s = nn_seconds() - t0;
    spent += s;
    per_s[runs++] = (double)BATCH * STEPS / s;
  }
  qsort(per_s, runs, sizeof per_s[0], cmp_double);
  nn_openblas_set_threads(1); /* an idle pool of 1 while torch runs */
  return (rate){per_s[runs - 1], runs % 2 ? per_s[runs / 2] : (per_s[runs / 2 - 1] + per_s[runs / 2]) / 2};
}

/* A python3 that can import torch: $PYTHON, else python3 on the PATH, else Debian's
 * /usr/bin/python3 (a pyenv or venv python3 first on the PATH may lack torch).
 * Returns NULL and says why in note when there is none. find_spec does not load
 * torch, so asking costs a fraction of a second. */
static const char *find_python(char *note, size_t size) {
  const char *env = getenv("PYTHON");
  const char *cands[] = {env && env[0] ? env : "python3", "python3", "/usr/bin/python3"};
  bool any_python = false;
  char cmd[512];
  for (int i = 0; i < 3; i++) {
    snprintf(cmd, sizeof cmd, "%s -c 'import importlib.util, sys; "
             "sys.exit(importlib.util.find_spec(\"torch\") is None)' >/dev/null 2>&1", cands[i]);
    int status = system(cmd);
    if (status == 0) return cands[i];
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1) any_python = true;
  }
  snprintf(note, size, "%s", any_python ? "PyTorch not installed (apt-get install python3-torch); skipped"
                                        : "python3 not found (apt-get install python3 python3-torch); skipped");
  return NULL;
}

/* One PyTorch thread setting: torch's intra-op threads, its BLAS's threads, and
 * whether idle OpenMP workers sleep (OMP_WAIT_POLICY=passive) instead of spinning. */
typedef struct {
  int torch, blas;
  bool passive;
} torch_config;

/* What the torch script said: its rates, its one-line description of torch's
 * GEMM and threads, the threads it really got, or why it could not run. */
typedef struct {
  rate r;
  int got_torch, got_blas;
  char about[512], note[256];
} torch_run;

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
}

/* dst = src, cut to fit size bytes with its '\0'. */
static void copy_text(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Runs the torch script under `python` with config c (the BLAS reads its thread
 * count from the environment when it loads), and reads its lines
 *   about <text>   threads <torch> <blas>   images_per_s <best> <median>   skip <reason> */
static torch_run bench_torch(const char *python, torch_config c) {
  torch_run t = {0};
  char cmd[768], line[1024], last[256] = "";
  snprintf(cmd, sizeof cmd,
           "OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s %s %s --threads %d "
           "--batch %d --pool %d --warmup %d --steps %d --reps %d --budget %g --lr %g 2>&1",
           c.blas, c.torch, c.passive ? "OMP_WAIT_POLICY=passive" : "", python, TORCH_SCRIPT, c.torch,
           BATCH, POOL, WARMUP, STEPS, REPS, BUDGET_S, (double)LR);
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (!p) {
    snprintf(t.note, sizeof t.note, "could not start %s; skipped", python);
    return t;
  }
  while (fgets(line, sizeof line, p)) {
    chomp(line);
    if (strncmp(line, "images_per_s ", 13) == 0) sscanf(line + 13, "%lf %lf", &t.r.best, &t.r.median);
    else if (strncmp(line, "threads ", 8) == 0) sscanf(line + 8, "%d %d", &t.got_torch, &t.got_blas);
    else if (strncmp(line, "about ", 6) == 0) copy_text(t.about, sizeof t.about, line + 6);
    else if (strncmp(line, "skip ", 5) == 0) copy_text(t.note, sizeof t.note, line + 5);
    else if (line[0]) copy_text(last, sizeof last, line);
  }
  int status = pclose(p);
  if (t.r.best > 0 || t.note[0]) return t;
  snprintf(t.note, sizeof t.note, "%s %s failed (exit %d): %s; skipped", python, TORCH_SCRIPT,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1, last[0] ? last : "no output");
  return t;
}

static void row(const char *config, rate r) {
  printf("  %-48s %10.0f %10.0f\n", config, r.best, r.median);
  fflush(stdout);
}

int main(void) {
  printf("MLP 784-512-10 training (Dense, ReLU, Dense, sparse CE, SGD lr %g), batch %d, CPU\n", (double)LR,
         BATCH);
  printf("images/s over %d steps after %d warm-up steps; best and median of up to %d runs (%g s at most)\n",
         STEPS, WARMUP, REPS, BUDGET_S);
  printf("  %-48s %10s %10s\n", "config", "best", "median");

  /* ours: OpenBLAS on 1 and 2 threads, or the blocked kernel on 1 */
  mlp m = mlp_new(42);
  bool blas = nn_openblas_available();
  int max_threads = blas ? 2 : 1;
  double ours_best = 0, ours_median = 0;
  char ours_name[96] = "", name[96];
  for (int th = 1; th <= max_threads; th++) {
    rate r = bench_ours(&m, th);
    if (blas) snprintf(name, sizeof name, "libnn, threads OpenBLAS %d", th);
    else snprintf(name, sizeof name, "libnn, blocked GEMM (no OpenBLAS), 1 thread");
    row(name, r);
    if (r.best > ours_best) ours_best = r.best, snprintf(ours_name, sizeof ours_name, "%s", name);
    if (r.median > ours_median) ours_median = r.median;
  }
  mlp_free(&m);

  /* PyTorch: torch intra-op threads : BLAS threads. With 2 torch threads, idle
   * OpenMP workers spin by default; on 2 busy cores that costs torch dearly, so
   * that split also runs with them asleep (passive), and torch keeps its best. */
  static const torch_config SPLITS[] = {{1, 1, false}, {2, 1, false}, {2, 1, true}, {1, 2, false}};
  enum { N_SPLITS = (int)(sizeof SPLITS / sizeof SPLITS[0]) };
  double torch_best = 0, torch_median = 0;
  char torch_name[96] = "", about[512] = "", note[256] = "";
  const char *python = NULL;
  if (access(TORCH_SCRIPT, R_OK) != 0)
    snprintf(note, sizeof note, "%s not found (run from the repository root); skipped", TORCH_SCRIPT);
  else
    python = find_python(note, sizeof note);
  for (int i = 0; i < N_SPLITS && python; i++) {
    torch_config c = SPLITS[i];
    torch_run t = bench_torch(python, c);
    if (t.note[0]) {
      snprintf(note, sizeof note, "%s", t.note);
      break;
    }
    if (!about[0]) snprintf(about, sizeof about, "%s", t.about);
    int n = snprintf(name, sizeof name, "PyTorch, threads torch %d : BLAS %d%s", c.torch, c.blas,
                     c.passive ? ", OMP passive" : "");
    if (t.got_torch != c.torch || t.got_blas != c.blas)
      snprintf(name + n, sizeof name - n, " (got %d : %d)", t.got_torch, t.got_blas);
    row(name, t.r);
    if (t.r.best > torch_best) torch_best = t.r.best, snprintf(torch_name, sizeof torch_name, "%s", name);
    if (t.r.median > torch_median) torch_median = t.r.median;
  }
  if (about[0]) printf("PyTorch: %s\n", about);

  if (torch_best > 0) {
    double ratio = ours_best / torch_best;
    printf("ours best / torch best = %.2fx  (%s vs %s)\n", ratio, ours_name, torch_name);
    printf("ours median / torch median = %.2fx  (each side's config with the best median; steadier on a "
           "busy machine)\n", ours_median / torch_median);
    printf("target (ours >= %.2fx PyTorch): %s\n", TARGET_RATIO, ratio >= TARGET_RATIO ? "met" : "NOT met");
  } else {
    printf("%s\n", note);
    printf("ours best / torch best: no ratio without PyTorch\n");
  }
  printf("GPU: not measured here (%s)\n", nn_cuda_available() ? nn_cuda_describe() : "no GPU");
  return 0;
}
