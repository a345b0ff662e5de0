/* Chapter 02 on the GPU: every op with a GPU path runs on both devices on the same
 * numbers, and the GPU must agree with the CPU (the reference the other tests prove).
 * A failure prints the max |GPU - CPU| and the worst element. Without a GPU (or a
 * build without CUDA) these tests are skipped, never passed; the few that check an
 * abort before any CUDA call run everywhere.
 *
 * Agreement (gpu_compare.h): err = |gpu - cpu| / max(|cpu|, floor) <= tol, elementwise.
 *   element-wise ops  tol 1e-5: the same float formulas; the GPU's expf/erfcf/tanhf
 *                     are within 2-4 ulp of glibc's, and nvcc fuses a*b + c into FMAs.
 *                     floor 1e-30 for values (subnormals), 0.1 for gradients, where
 *                     f' from y (sigmoid, tanh near saturation) is good to ~1e-7 only.
 *   losses            the loss (a double) to 1e-9; gradients (double, rounded to float) 1e-5.
 *   optimizers        tol 1e-5, floor 0.1: an FMA moves w or a state by an ulp of the
 *                     terms (~1e-8), and a state like v = mu v + g can cancel to near 0.
 *   GEMM-based        tol 1e-4, floor 1 (cuBLAS sums in another order).
 *
 * Graded (GRADED): every GPU result (a tensor, or a loss: a double) is an answer, taken
 * before it is compared; when graded, the CPU side is the checker's, the reference's. The
 * drawn variants draw the sizes and the seeds.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abort_message.h"
#include "graded.h"
#include "nn_activation.h"
#include "nn_arena.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_dropout.h"
#include "nn_flatten.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_rng.h"

#include "gpu_compare.h"

/* The GPU's loss is the answer `what`; then it must match the CPU's. */
static void expect_loss_close(nn_grade *g, const char *what, double gpu, double cpu) {
  answer(g, what, &gpu, 1);
  double err = fabs(gpu - cpu) / fmax(fabs(cpu), 1e-12);
  expect(g, err <= 1e-9, "%s: GPU loss %.15g, CPU loss %.15g (|GPU - CPU| = %.3g, relative %.3g > 1e-9)", what, gpu,
         cpu, fabs(gpu - cpu), err);
}

/* Names in answers, which must not come from the code under test. */
static const char *const ACT_NAMES[] = {"sigmoid", "tanh",      "relu", "leaky_relu", "elu",  "softplus",
                                        "gelu",    "gelu_tanh", "silu", "selu",       "relu6"};
_Static_assert(sizeof ACT_NAMES / sizeof ACT_NAMES[0] == NN_ACT_COUNT, "a name for every activation kind");
static const char *const OPTIM_NAMES[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"};
_Static_assert(sizeof OPTIM_NAMES / sizeof OPTIM_NAMES[0] == NN_ADAMW + 1, "a name for every optimizer kind");

/* ---- activations */

/* 4099 values: a grid over [-30, 30], then 0, the tiny and the large, then n_small random
 * values near 0 and n_wide in [-5, 5] (587 and 1499 in public). */
static nn_tensor activation_inputs(nn_rng *rng, int n_small, int n_wide) {
  enum { GRID = 2001, SPECIAL = 12 };
  int n = GRID + SPECIAL + n_small + n_wide;
  nn_tensor x = nn_tensor_new(2, (int[]){1, n}, NN_CPU);
  int k = 0;
  for (; k < GRID; k++) x.data[k] = -30.f + 0.03f * (float)k;
  const float special[SPECIAL] = {0.f, -0.f, 1e-8f, -1e-8f, 1e-4f, -1e-4f, 30.f, -30.f, 15.f, -15.f, 1.f, -1.f};
  for (int s = 0; s < SPECIAL; k++, s++) x.data[k] = special[s];
  for (; k < GRID + SPECIAL + n_small; k++) x.data[k] = nn_rng_uniform(rng, -1e-3f, 1e-3f);
  for (; k < n; k++) x.data[k] = nn_rng_uniform(rng, -5.f, 5.f);
  return x;
}

GRADED_TEST(activation_gpu, every_kind_matches_cpu) {
  NEED_GPU();
  int n_small = nn_grade_size(g, 587, 50, 1000), n_wide = nn_grade_size(g, 1499, 50, 3000);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 2));
  nn_tensor x = activation_inputs(&rng, n_small, n_wide);
  nn_tensor dy = random_tensor(&rng, 2, x.shape, -1.f, 1.f);
  nn_tensor gx = on_gpu(&x), gdy = on_gpu(&dy);
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_activation act = nn_activation_of((nn_activation_kind)k);
    const char *name = ACT_NAMES[k];
    char what[256];
    nn_tensor y = nn_tensor_new(2, x.shape, NN_CPU), gy = nn_tensor_new(2, x.shape, NN_GPU);
    nn_activation_forward(&act, &x, &y);
    nn_activation_forward(&act, &gx, &gy);
    snprintf(what, sizeof what, "%s forward", name);
    expect_close(g, what, &gy, &y, 1e-5, 1e-30);

    /* y == x on the GPU too */
    nn_tensor inplace = on_gpu(&x);
    nn_activation_forward(&act, &inplace, &inplace);
    snprintf(what, sizeof what, "%s forward in place (y == x)", name);
    expect_close(g, what, &inplace, &y, 1e-5, 1e-30);

    /* backward twice from dx = 0: dx = dy f'(x), then 2 dy f'(x) (it adds) */
    nn_tensor dx = nn_tensor_new(2, x.shape, NN_CPU), gdx = nn_tensor_new(2, x.shape, NN_GPU);
    for (int round = 1; round <= 2; round++) {
      nn_activation_backward(&act, &x, &y, &dy, &dx);
      nn_activation_backward(&act, &gx, &gy, &gdy, &gdx);
      snprintf(what, sizeof what, "%s backward, call %d (dx += dy f'(x))", name, round);
      expect_close(g, what, &gdx, &dx, 1e-5, 0.1);
    }
    nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&inplace), nn_tensor_free(&dx), nn_tensor_free(&gdx);
  }
  nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&gx), nn_tensor_free(&gdy);
}

/* (33, 10), logits near 1000 in (7, 1000) (e^1000 would overflow), and (5, 3, 37) as 15 rows;
 * drawn: the rows of each case (1..40) and the seed */
GRADED_TEST(softmax_gpu, forward_backward_match_cpu_with_logits_of_1000) {
  NEED_GPU();
  struct { int ndim, shape[3]; float lo, hi; } cases[] = {
      {2, {33, 10}, -5.f, 5.f}, {2, {7, 1000}, 980.f, 1020.f}, {3, {5, 3, 37}, -30.f, 30.f}, {2, {4, 1}, -1.f, 1.f}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    cases[c].shape[0] = nn_grade_size(g, cases[c].shape[0], 1, 40);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 3));
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    nn_tensor x = random_tensor(&rng, cases[c].ndim, cases[c].shape, cases[c].lo, cases[c].hi);
    nn_tensor dy = random_tensor(&rng, cases[c].ndim, cases[c].shape, -1.f, 1.f);
    nn_tensor y = nn_tensor_new(x.ndim, x.shape, NN_CPU), dx = nn_tensor_new(x.ndim, x.shape, NN_CPU);
    nn_tensor gx = on_gpu(&x), gdy = on_gpu(&dy);
    nn_tensor gy = nn_tensor_new(x.ndim, x.shape, NN_GPU), gdx = nn_tensor_new(x.ndim, x.shape, NN_GPU);
    char what[256];
    nn_softmax_forward(&x, &y);
    nn_softmax_forward(&gx, &gy);
    snprintf(what, sizeof what, "softmax forward on %s logits in [%g, %g]", nn_shape_str(&x).s, cases[c].lo,
             cases[c].hi);
    expect_close(g, what, &gy, &y, 1e-5, 1e-30);
    nn_softmax_backward(&y, &dy, &dx);
    nn_softmax_backward(&gy, &gdy, &gdx);
    snprintf(what, sizeof what, "softmax backward on %s", nn_shape_str(&x).s);
    expect_close(g, what, &gdx, &dx, 1e-5, 0.1);
    nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&y), nn_tensor_free(&dx);
    nn_tensor_free(&gx), nn_tensor_free(&gdy), nn_tensor_free(&gy), nn_tensor_free(&gdx);
  }
}

/* ---- losses: N = 37, C = 10, (37, 3) for regression (drawn: N 4..80, C 2..20). Each loss:
 * the value with and without a gradient, and the gradient after one call and after two
 * (it adds). */

enum { LN = 37, LC = 10, LMAX = 80 };

typedef double (*regression_fn)(const nn_tensor *p, const nn_tensor *t, nn_tensor *dp);
static double huber_1(const nn_tensor *p, const nn_tensor *t, nn_tensor *dp) { return nn_huber_loss(p, t, 1.f, dp); }

/* runs loss on CPU tensors (p, t) and on their GPU copies, twice each, comparing */
static void compare_regression(nn_grade *g, const char *name, regression_fn loss, const nn_tensor *p,
                               const nn_tensor *t) {
  nn_tensor gp = on_gpu(p), gt = on_gpu(t);
  nn_tensor dp = nn_tensor_new(p->ndim, p->shape, NN_CPU), gdp = nn_tensor_new(p->ndim, p->shape, NN_GPU);
  char what[256];
  snprintf(what, sizeof what, "%s without a gradient", name);
  double l_gpu = loss(&gp, &gt, NULL), l_cpu = loss(p, t, NULL);
  expect_loss_close(g, what, l_gpu, l_cpu);
  for (int round = 1; round <= 2; round++) {
    l_cpu = loss(p, t, &dp), l_gpu = loss(&gp, &gt, &gdp);
    snprintf(what, sizeof what, "%s, call %d", name, round);
    expect_loss_close(g, what, l_gpu, l_cpu);
    snprintf(what, sizeof what, "%s gradient after call %d", name, round);
    expect_close(g, what, &gdp, &dp, 1e-5, 1e-9);
  }
  nn_tensor_free(&gp), nn_tensor_free(&gt), nn_tensor_free(&dp), nn_tensor_free(&gdp);
}

GRADED_TEST(loss_gpu, regression_losses_match_cpu) {
  NEED_GPU();
  int N = nn_grade_size(g, LN, 1, LMAX), D = nn_grade_size(g, 3, 1, 20);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 4));
  int shapes[2][2] = {{N, D}, {N, 1}};
  for (int s = 0; s < 2; s++) {
    nn_tensor p = random_tensor(&rng, 2, shapes[s], -2.f, 2.f), t = random_tensor(&rng, 2, shapes[s], -2.f, 2.f);
    compare_regression(g, "MSE", nn_mse_loss, &p, &t);
    compare_regression(g, "MAE", nn_mae_loss, &p, &t);
    compare_regression(g, "Huber (delta 1)", huber_1, &p, &t);
    compare_regression(g, "log-cosh", nn_log_cosh_loss, &p, &t);
    nn_tensor_free(&p), nn_tensor_free(&t);
  }
}

typedef double (*label_fn)(const nn_tensor *z, const int *y, nn_tensor *dz);
static double focal_default(const nn_tensor *z, const int *y, nn_tensor *dz) {
  return nn_focal_loss(z, y, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, dz);
}
static double focal_fractional(const nn_tensor *z, const int *y, nn_tensor *dz) {
  return nn_focal_loss(z, y, 0.7f, 0.5f, dz);
}

/* the labels stay on the host for both devices */
static void compare_labels(nn_grade *g, const char *name, label_fn loss, const nn_tensor *z, const int *y) {
  nn_tensor gz = on_gpu(z);
  nn_tensor dz = nn_tensor_new(z->ndim, z->shape, NN_CPU), gdz = nn_tensor_new(z->ndim, z->shape, NN_GPU);
  char what[256];
  snprintf(what, sizeof what, "%s on %s without a gradient", name, nn_shape_str(z).s);
  double l_gpu = loss(&gz, y, NULL), l_cpu = loss(z, y, NULL);
  expect_loss_close(g, what, l_gpu, l_cpu);
  for (int round = 1; round <= 2; round++) {
    l_cpu = loss(z, y, &dz), l_gpu = loss(&gz, y, &gdz);
    snprintf(what, sizeof what, "%s on %s, call %d", name, nn_shape_str(z).s, round);
    expect_loss_close(g, what, l_gpu, l_cpu);
    snprintf(what, sizeof what, "%s gradient on %s after call %d", name, nn_shape_str(z).s, round);
    expect_close(g, what, &gdz, &dz, 1e-5, 1e-9);
  }
  nn_tensor_free(&gz), nn_tensor_free(&dz), nn_tensor_free(&gdz);
}

GRADED_TEST(loss_gpu, binary_losses_match_cpu) {
  NEED_GPU();
  int N = nn_grade_size(g, LN, 1, LMAX);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 5));
  int y[LMAX];
  for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&rng, 2);
  int shapes[2][2] = {{N, 1}, {N}};
  for (int s = 0; s < 2; s++) {
    nn_tensor z = random_tensor(&rng, s == 0 ? 2 : 1, shapes[s], -6.f, 6.f);
    compare_labels(g, "BCE", nn_bce_loss, &z, y);
    compare_labels(g, "binary hinge", nn_binary_hinge_loss, &z, y);
    compare_labels(g, "squared hinge", nn_squared_hinge_loss, &z, y);
    compare_labels(g, "focal (alpha 0.25, gamma 2)", focal_default, &z, y);
    compare_labels(g, "focal (alpha 0.7, gamma 0.5)", focal_fractional, &z, y);
    nn_tensor_free(&z);
  }
}

GRADED_TEST(loss_gpu, multiclass_losses_match_cpu) {
  NEED_GPU();
  int N = nn_grade_size(g, LN, 4, LMAX), C = nn_grade_size(g, LC, 2, 20);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 6));
  int y[LMAX];
  for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&rng, (uint32_t)C);
  nn_tensor z = random_tensor(&rng, 2, (int[]){N, C}, -5.f, 5.f);
  for (int c = 0; c < C; c++) z.data[3 * C + c] = 1000.f + (float)c; /* row 3: logits of 1000 */
  compare_labels(g, "sparse CE", nn_sparse_ce_loss, &z, y);
  compare_labels(g, "multi-class hinge", nn_multi_hinge_loss, &z, y);

  /* categorical CE on soft targets: rows of positive numbers scaled to sum 1 */
  nn_tensor t = random_tensor(&rng, 2, (int[]){N, C}, 0.01f, 1.f);
  for (int i = 0; i < N; i++) {
    double total = 0;
    for (int c = 0; c < C; c++) total += t.data[i * C + c];
    for (int c = 0; c < C; c++) t.data[i * C + c] = (float)(t.data[i * C + c] / total);
  }
  nn_tensor gz = on_gpu(&z), gt = on_gpu(&t);
  nn_tensor dz = nn_tensor_new(2, z.shape, NN_CPU), gdz = nn_tensor_new(2, z.shape, NN_GPU);
  double l_gpu = nn_categorical_ce_loss(&gz, &gt, NULL), l_cpu = nn_categorical_ce_loss(&z, &t, NULL);
  expect_loss_close(g, "categorical CE without a gradient", l_gpu, l_cpu);
  for (int round = 1; round <= 2; round++) {
    l_cpu = nn_categorical_ce_loss(&z, &t, &dz), l_gpu = nn_categorical_ce_loss(&gz, &gt, &gdz);
    expect_loss_close(g, "categorical CE", l_gpu, l_cpu);
    expect_close(g, "categorical CE gradient", &gdz, &dz, 1e-5, 1e-9);
  }
  nn_tensor_free(&z), nn_tensor_free(&t), nn_tensor_free(&gz), nn_tensor_free(&gt);
  nn_tensor_free(&dz), nn_tensor_free(&gdz);
}

/* What a model's or a tape's training step calls: a table row given a GPU arena takes its
 * labels' copy and its sum from the arena (nothing from CUDA's pool), gives the value of
 * the named function, and, once the arena has grown, allocates nothing more. */
Test(loss_gpu, table_rows_borrow_from_a_gpu_arena_and_stop_allocating) {
  if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe());
  enum { N = 33, C = 7 };
  nn_rng rng = nn_rng_new(17);
  nn_arena *scratch = nn_arena_new(NN_GPU);
  int labels[N];
  for (int i = 0; i < N; i++) labels[i] = (int)nn_rng_below(&rng, 2);
  for (int k = 0; k < NN_LOSS_COUNT; k++) {
    const nn_loss *row = nn_loss_of((nn_loss_kind)k);
    int shape[2] = {N, row->outputs == 1 ? 1 : C};
    nn_tensor pred = random_tensor(&rng, 2, shape, -2.f, 2.f), Y = random_tensor(&rng, 2, shape, -2.f, 2.f);
    if (row->outputs != 0 && !row->takes_labels) { /* a classifier's targets: one-hot rows */
      nn_tensor_free(&Y);
      Y = nn_to_categorical(labels, N, shape[1]);
    }
    nn_tensor gpred = on_gpu(&pred), gY = on_gpu(&Y);
    nn_target cpu_target = {.labels = labels, .Y = &Y}, gpu_target = {.labels = labels, .Y = &gY};
    double want = row->mean(row, &pred, &cpu_target, NULL, NULL);
    long grown = 0;
    for (int step = 0; step < 3; step++) { /* the first call may grow the arena; the third must not */
      nn_arena_reset(scratch);
      double got = row->mean(row, &gpred, &gpu_target, NULL, scratch);
      cr_expect(fabs(got - want) <= 1e-9 * fmax(fabs(want), 1e-12), "%s, step %d: GPU %.15g, CPU %.15g", row->name,
                step, got, want);
      cr_expect(nn_arena_used(scratch) > 0, "%s: the GPU path took nothing from the arena", row->name);
      if (step == 1) grown = nn_arena_allocations(scratch); /* after the reset that merged step 0's blocks */
      if (step == 2)
        cr_expect_eq(nn_arena_allocations(scratch), grown, "%s: the arena allocated again (%ld, then %ld blocks)",
                     row->name, grown, nn_arena_allocations(scratch));
    }
    nn_tensor_free(&pred), nn_tensor_free(&Y), nn_tensor_free(&gpred), nn_tensor_free(&gY);
  }
  nn_arena_free(scratch);
}

/* A label out of range is caught on the host, before any CUDA call, so a tensor
 * that only claims to be on the GPU is enough: this runs with or without one. */
Test(loss_gpu, label_out_of_range_aborts_before_the_gpu, .signal = SIGABRT) {
  float v[2 * LC] = {0};
  nn_tensor z = {.data = v, .shape = {2, LC}, .ndim = 2, .device = NN_GPU};
  nn_sparse_ce_loss(&z, (int[]){0, LC}, NULL); /* y[1] = C */
}

/* The GPU checks that each target row is a distribution and aborts with the CPU's
 * message. CUDA cannot be used on both sides of a fork, so the child alone touches
 * it (and says "no-gpu" when there is none). */
static void categorical_ce_on_a_bad_gpu_target(void *ctx) {
  (void)ctx;
  if (!nn_cuda_available()) {
    fprintf(stderr, "no-gpu: %s", nn_cuda_describe());
    abort();
  }
  nn_tensor z = nn_tensor_new(2, (int[]){6, 3}, NN_CPU), t = nn_tensor_new(2, (int[]){6, 3}, NN_CPU);
  for (int i = 0; i < 6; i++) t.data[i * 3] = 1.f;
  t.data[4 * 3] = 0.5f; /* row 4 sums to 0.5 */
  nn_tensor gz = on_gpu(&z), gt = on_gpu(&t);
  nn_categorical_ce_loss(&gz, &gt, NULL);
}

Test(loss_gpu, categorical_target_not_a_distribution_aborts_naming_the_row) {
  char msg[1024];
  bool aborted = nn_abort_message(categorical_ce_on_a_bad_gpu_target, NULL, msg, sizeof msg);
  if (strncmp(msg, "no-gpu", 6) == 0) cr_skip_test("gpu: %s", msg + 8);
  cr_assert(aborted, "a GPU target row summing to 0.5 must abort");
  cr_assert(strstr(msg, "nn_categorical_ce_loss") && strstr(msg, "row 4") && strstr(msg, "0.5"),
            "the message must name the function, the row and its sum: \"%s\"", msg);
}

/* ---- Dense: odd shapes, N = 33, in = 65, out = 17 (drawn: N 1..80, in 1..130, out 1..40);
 * the GPU layer is the CPU layer's twin, moved with nn_layer_to. W and b are set here, so
 * both devices (and, when graded, both processes) start from the same weights. */

typedef struct {
  int N, in, out;
  nn_dense *cpu, *gpu;
  nn_tensor x, gx;
} dense_pair;

static dense_pair dense_pair_new(nn_grade *g, uint64_t public_seed) {
  dense_pair p = {.N = nn_grade_size(g, 33, 1, 80), .in = nn_grade_size(g, 65, 1, 130),
                  .out = nn_grade_size(g, 17, 1, 40)};
  nn_rng data = nn_rng_new(nn_grade_seed(g, public_seed)), r1 = nn_rng_new(7), r2 = nn_rng_new(7);
  int in = p.in, out = p.out;
  p.cpu = nn_dense_new("dense1", in, out, NN_INIT_XAVIER, &r1);
  p.gpu = nn_dense_new("dense1", in, out, NN_INIT_XAVIER, &r2);
  float a = sqrtf(6.f / (float)(in + out)); /* Xavier's range */
  nn_rng_fill_uniform(&data, p.cpu->W.data, out * in, -a, a);
  nn_rng_fill_uniform(&data, p.cpu->b.data, out, -0.5f, 0.5f); /* a bias that is not 0 */
  /* grads that already hold something: backward must add to them */
  nn_rng_fill_uniform(&data, p.cpu->dW.data, out * in, -1.f, 1.f);
  nn_rng_fill_uniform(&data, p.cpu->db.data, out, -1.f, 1.f);
  nn_tensor_copy(&p.gpu->W, &p.cpu->W), nn_tensor_copy(&p.gpu->b, &p.cpu->b);
  nn_tensor_copy(&p.gpu->dW, &p.cpu->dW), nn_tensor_copy(&p.gpu->db, &p.cpu->db);
  nn_layer_to(&p.gpu->base, NN_GPU);
  p.x = random_tensor(&data, 2, (int[]){p.N, in}, -1.f, 1.f);
  p.gx = on_gpu(&p.x);
  return p;
}

static void dense_pair_free(dense_pair *p) {
  p->cpu->base.ops->free(&p->cpu->base), p->gpu->base.ops->free(&p->gpu->base);
  nn_tensor_free(&p->x), nn_tensor_free(&p->gx);
}

GRADED_TEST(dense_gpu, forward_matches_cpu) {
  NEED_GPU();
  dense_pair p = dense_pair_new(g, 8);
  nn_tensor y = nn_tensor_new(2, (int[]){p.N, p.out}, NN_CPU), gy = nn_tensor_new(2, (int[]){p.N, p.out}, NN_GPU);
  nn_tensor_fill(&gy, NAN); /* forward overwrites y */
  nn_call c = {0}, gc = {0}; /* Dense keeps only x: no arena */
  nn_dense_forward(p.cpu, &c, &p.x, &y);
  nn_dense_forward(p.gpu, &gc, &p.gx, &gy);
  char what[128];
  snprintf(what, sizeof what, "Dense (%d, %d) -> (%d, %d) forward, y = x W^T + b", p.N, p.in, p.N, p.out);
  expect_close(g, what, &gy, &y, 1e-4, 1);
  nn_tensor_free(&y), nn_tensor_free(&gy);
  dense_pair_free(&p);
}

GRADED_TEST(dense_gpu, backward_adds_into_grads_like_cpu) {
  NEED_GPU();
  dense_pair p = dense_pair_new(g, 9);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 10));
  nn_tensor y = nn_tensor_new(2, (int[]){p.N, p.out}, NN_CPU), gy = nn_tensor_new(2, (int[]){p.N, p.out}, NN_GPU);
  nn_tensor dy = random_tensor(&rng, 2, (int[]){p.N, p.out}, -1.f, 1.f), gdy = on_gpu(&dy);
  nn_tensor dx = random_tensor(&rng, 2, (int[]){p.N, p.in}, -1.f, 1.f), gdx = on_gpu(&dx);
  nn_call c = {0}, gc = {0};
  nn_dense_forward(p.cpu, &c, &p.x, &y);
  nn_dense_forward(p.gpu, &gc, &p.gx, &gy);
  nn_dense_backward(p.cpu, &c, &dy, &dx);
  nn_dense_backward(p.gpu, &gc, &gdy, &gdx);
  expect_close(g, "Dense backward: dW += dy^T x", &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
  expect_close(g, "Dense backward: db += column sums of dy", &p.gpu->db, &p.cpu->db, 1e-4, 1);
  expect_close(g, "Dense backward: dx += dy W", &gdx, &dx, 1e-4, 1);
  /* again, without dx (a first layer): only the parameter grads add up */
  nn_dense_backward(p.cpu, &c, &dy, NULL);
  nn_dense_backward(p.gpu, &gc, &gdy, NULL);
  expect_close(g, "Dense backward (dx NULL), second call: dW", &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
  expect_close(g, "Dense backward (dx NULL), second call: db", &p.gpu->db, &p.cpu->db, 1e-4, 1);
  nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&dy), nn_tensor_free(&gdy);
  nn_tensor_free(&dx), nn_tensor_free(&gdx);
  dense_pair_free(&p);
}

/* ---- optimizers: two steps of every kind, with weight decay, on a (5, 7) weight and a (7)
 * bias (drawn: (1..9, 1..12) and its bias); lr 0.1 so that a wrong term moves w by far more
 * than rounding. Which kinds keep which state is the table of nn_optim.h, written here so
 * that every run answers the same things. */
static bool keeps_m(int k) { return k == NN_MOMENTUM || k == NN_NESTEROV || k == NN_ADAM || k == NN_ADAMW; }
static bool keeps_v(int k) { return k == NN_ADAGRAD || k == NN_RMSPROP || k == NN_ADAM || k == NN_ADAMW; }

GRADED_TEST(optim_gpu, every_kind_two_steps_match_cpu) {
  NEED_GPU();
  int R = nn_grade_size(g, 5, 1, 9), C = nn_grade_size(g, 7, 1, 12);
  uint64_t seed = nn_grade_seed(g, 10);
  for (int k = NN_SGD; k <= NN_ADAMW; k++) {
    nn_rng rng = nn_rng_new(seed + (uint64_t)k);
    int shapes[2][2] = {{R, C}, {C, 0}};
    nn_tensor w[2], gr[2], gw[2], gg[2];
    nn_param cpu[2], gpu[2];
    for (int i = 0; i < 2; i++) {
      int ndim = i == 0 ? 2 : 1;
      w[i] = random_tensor(&rng, ndim, shapes[i], -1.f, 1.f);
      gr[i] = nn_tensor_new(ndim, shapes[i], NN_CPU);
      gw[i] = on_gpu(&w[i]), gg[i] = nn_tensor_new(ndim, shapes[i], NN_GPU);
      cpu[i] = (nn_param){i == 0 ? "dense1.W" : "dense1.b", &w[i], &gr[i]};
      gpu[i] = (nn_param){i == 0 ? "dense1.W" : "dense1.b", &gw[i], &gg[i]};
    }
    nn_optim_config cfg = nn_optim_defaults((nn_optim_kind)k);
    cfg.lr = 0.1f, cfg.weight_decay = 0.05f;
    nn_optim oc = nn_optim_new((nn_optim_kind)k, &cfg, cpu, 2), og = nn_optim_new((nn_optim_kind)k, &cfg, gpu, 2);
    const char *name = OPTIM_NAMES[k];
    char what[256];
    for (int step = 1; step <= 2; step++) {
      nn_optim_zero_grad(&oc), nn_optim_zero_grad(&og);
      for (int i = 0; i < 2; i++) {
        nn_rng_fill_uniform(&rng, gr[i].data, nn_numel(&gr[i]), -1.f, 1.f);
        nn_tensor_copy(&gg[i], &gr[i]);
      }
      nn_optim_step(&oc), nn_optim_step(&og);
      for (int i = 0; i < 2; i++) {
        snprintf(what, sizeof what, "%s (weight_decay 0.05) step %d: %s", name, step, cpu[i].name);
        expect_close(g, what, &gw[i], &w[i], 1e-5, 0.1);
        /* where the GPU optimizer keeps its state: -1 none, else the device */
        int where[2] = {og.m[i].data ? (int)og.m[i].device : -1, og.v[i].data ? (int)og.v[i].device : -1};
        snprintf(what, sizeof what, "%s step %d: the devices of %s's state", name, step, cpu[i].name);
        answer(g, what, where, 2);
        expect(g, where[0] != NN_CPU && where[1] != NN_CPU, "%s: the state of a GPU param must be on the GPU "
               "(first moment: %s, second: %s)", name, where[0] == NN_CPU ? "CPU" : "GPU or none",
               where[1] == NN_CPU ? "CPU" : "GPU or none");
        if (keeps_m(k)) {
          snprintf(what, sizeof what, "%s step %d: first-moment state of %s", name, step, cpu[i].name);
          expect_close(g, what, &og.m[i], &oc.m[i], 1e-5, 0.1);
        }
        if (keeps_v(k)) {
          snprintf(what, sizeof what, "%s step %d: second-moment state of %s", name, step, cpu[i].name);
          expect_close(g, what, &og.v[i], &oc.v[i], 1e-5, 0.1);
        }
      }
    }
    /* zero_grad on the GPU zeroes the GPU grads */
    nn_optim_zero_grad(&og);
    for (int i = 0; i < 2; i++) {
      nn_tensor zero = nn_tensor_new(gg[i].ndim, gg[i].shape, NN_CPU);
      snprintf(what, sizeof what, "%s: nn_optim_zero_grad on the GPU grad of %s", name, cpu[i].name);
      expect_close(g, what, &gg[i], &zero, 0, 1);
      nn_tensor_free(&zero);
    }
    nn_optim_free(&oc), nn_optim_free(&og);
    for (int i = 0; i < 2; i++)
      nn_tensor_free(&w[i]), nn_tensor_free(&gr[i]), nn_tensor_free(&gw[i]), nn_tensor_free(&gg[i]);
  }
}

/* ---- layers: nn_layer_to there and back, Flatten and Dropout on the GPU */

Test(layer_gpu, layer_to_gpu_and_back_keeps_every_value) {
  if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe());
  enum { DIN = 65, DOUT = 17 };
  nn_rng rng = nn_rng_new(11), data = nn_rng_new(12);
  nn_dense *d = nn_dense_new("dense1", DIN, DOUT, NN_INIT_HE, &rng);
  nn_rng_fill_uniform(&data, d->b.data, DOUT, -1.f, 1.f);
  nn_rng_fill_uniform(&data, d->dW.data, DOUT * DIN, -1.f, 1.f);
  nn_rng_fill_uniform(&data, d->db.data, DOUT, -1.f, 1.f);
  nn_tensor before[4] = {nn_tensor_to(&d->W, NN_CPU), nn_tensor_to(&d->b, NN_CPU), nn_tensor_to(&d->dW, NN_CPU),
                         nn_tensor_to(&d->db, NN_CPU)};
  nn_layer_to(&d->base, NN_GPU);
  nn_tensor *now[4] = {&d->W, &d->b, &d->dW, &d->db};
  const char *names[4] = {"W", "b", "dW", "db"};
  for (int i = 0; i < 4; i++)
    cr_assert(now[i]->device == NN_GPU && nn_same_shape(now[i], &before[i]),
              "after nn_layer_to(NN_GPU), %s is %s on the %s; expected %s on the GPU", names[i],
              nn_shape_str(now[i]).s, now[i]->device == NN_GPU ? "GPU" : "CPU", nn_shape_str(&before[i]).s);
  nn_layer_to(&d->base, NN_GPU); /* already there: nothing moves */
  nn_layer_to(&d->base, NN_CPU);
  for (int i = 0; i < 4; i++) {
    cr_assert(now[i]->device == NN_CPU, "after nn_layer_to(NN_CPU), %s is still on the GPU", names[i]);
    cr_assert(memcmp(now[i]->data, before[i].data, nn_tensor_bytes(&before[i])) == 0,
              "%s changed on its way to the GPU and back", names[i]);
    nn_tensor_free(&before[i]);
  }
  d->base.ops->free(&d->base);
}

/* (3, 2, 5, 7) in public; drawn: each dimension 1..8 */
GRADED_TEST(layer_gpu, flatten_forward_backward_match_cpu) {
  NEED_GPU();
  int shape4[4] = {nn_grade_size(g, 3, 1, 8), nn_grade_size(g, 2, 1, 8), nn_grade_size(g, 5, 1, 8),
                   nn_grade_size(g, 7, 1, 8)};
  int shape2[2] = {shape4[0], shape4[1] * shape4[2] * shape4[3]};
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 13));
  nn_layer *f = nn_flatten_new("flatten");
  nn_tensor x = random_tensor(&rng, 4, shape4, -1.f, 1.f), dy = random_tensor(&rng, 2, shape2, -1.f, 1.f);
  nn_tensor dx = random_tensor(&rng, 4, shape4, -1.f, 1.f), y = nn_tensor_new(2, shape2, NN_CPU);
  nn_tensor gx = on_gpu(&x), gdy = on_gpu(&dy), gdx = on_gpu(&dx), gy = nn_tensor_new(2, shape2, NN_GPU);
  nn_call c = {.training = true}, gc = {.training = true}; /* Flatten keeps nothing: no arena */
  f->ops->forward(f, &c, &x, &y);
  f->ops->forward(f, &gc, &gx, &gy);
  expect_close(g, "Flatten forward (a copy)", &gy, &y, 0, 1);
  f->ops->backward(f, &c, &dy, &dx);
  f->ops->backward(f, &gc, &gdy, &gdx);
  expect_close(g, "Flatten backward (dx += dy)", &gdx, &dx, 0, 1);
  nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&y);
  nn_tensor_free(&gx), nn_tensor_free(&gdy), nn_tensor_free(&gdx), nn_tensor_free(&gy);
  f->ops->free(f);
}

/* Dropout on the GPU draws the CPU's mask, bit for bit: both compute nn_philox.h's u(seed, t, i).
 * Two layers with one seed, one per device, run the same calls: eval (the identity, dx += dy),
 * then `skip` training forwards (the step moves on), then a forward and its backward into a
 * random dx. y and dx must be EXACTLY the CPU's (tol 0): the same mask and the same roundings.
 * Public: (4, 300) at p 0.3 after 2 steps, (1, 1027) (a last block of 3) at p 0.55 after 0, and
 * (3, 5, 7, 9) at p 0.1 after 5; drawn: each size, p (0.05..0.9), the steps and the seeds. */
GRADED_TEST(dropout_gpu, mask_matches_cpu_bit_for_bit) {
  NEED_GPU();
  struct { int ndim, shape[4], p20, skip; } cases[] = {
      {2, {4, 300}, 6, 2}, {2, {1, 1027}, 11, 0}, {4, {3, 5, 7, 9}, 2, 5}};
  cases[0].shape[0] = nn_grade_size(g, 4, 1, 16), cases[0].shape[1] = nn_grade_size(g, 300, 1, 700);
  cases[1].shape[1] = nn_grade_size(g, 1027, 257, 3000);
  for (int k = 0; k < 4; k++) cases[2].shape[k] = nn_grade_size(g, cases[2].shape[k], 1, 12);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    cases[c].p20 = nn_grade_size(g, cases[c].p20, 1, 18);
    cases[c].skip = nn_grade_size(g, cases[c].skip, 0, 6);
  }
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 21));
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    float p = (float)cases[c].p20 / 20.f;
    uint64_t seed = nn_grade_seed(g, 100 + c);
    int ndim = cases[c].ndim, *shape = cases[c].shape;
    nn_dropout *d = nn_dropout_new("dropout", p, seed), *gd = nn_dropout_new("dropout", p, seed);
    nn_tensor x = random_tensor(&rng, ndim, shape, -2.f, 2.f), dy = random_tensor(&rng, ndim, shape, -1.f, 1.f);
    nn_tensor dx = random_tensor(&rng, ndim, shape, -1.f, 1.f), y = nn_tensor_new(ndim, shape, NN_CPU);
    nn_tensor gx = on_gpu(&x), gdy = on_gpu(&dy), gdx = on_gpu(&dx), gy = nn_tensor_new(ndim, shape, NN_GPU);
    nn_arena *ws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
    char what[256];

    nn_call e = {.training = false}, ge = {.training = false}; /* eval keeps nothing: no arena */
    nn_dropout_forward(d, &e, &x, &y);
    nn_dropout_forward(gd, &ge, &gx, &gy);
    snprintf(what, sizeof what, "eval forward on %s (the identity)", nn_shape_str(&x).s);
    expect_close(g, what, &gy, &y, 0, 1);
    nn_dropout_backward(d, &e, &dy, &dx);
    nn_dropout_backward(gd, &ge, &gdy, &gdx);
    snprintf(what, sizeof what, "eval backward on %s (dx += dy)", nn_shape_str(&x).s);
    expect_close(g, what, &gdx, &dx, 0, 1);

    for (int t = 0; t < cases[c].skip; t++) { /* training calls whose masks are not used */
      nn_call s = {.arena = ws, .training = true}, gs = {.arena = gws, .training = true};
      nn_dropout_forward(d, &s, &x, &y);
      nn_dropout_forward(gd, &gs, &gx, &gy);
    }
    nn_call tc = {.arena = ws, .training = true}, gtc = {.arena = gws, .training = true};
    nn_dropout_forward(d, &tc, &x, &y);
    nn_dropout_forward(gd, &gtc, &gx, &gy);
    snprintf(what, sizeof what, "training forward %d on %s, p %g", cases[c].skip + 1, nn_shape_str(&x).s, p);
    expect_close(g, what, &gy, &y, 0, 1);
    nn_dropout_backward(d, &tc, &dy, &dx);
    nn_dropout_backward(gd, &gtc, &gdy, &gdx);
    snprintf(what, sizeof what, "its backward (dx += dy m / (1 - p)) on %s", nn_shape_str(&x).s);
    expect_close(g, what, &gdx, &dx, 0, 1);

    nn_arena_free(ws), nn_arena_free(gws);
    nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&y);
    nn_tensor_free(&gx), nn_tensor_free(&gdy), nn_tensor_free(&gdx), nn_tensor_free(&gy);
    d->base.ops->free(&d->base), gd->base.ops->free(&gd->base);
  }
}

/* x on the GPU and y on the CPU: Dropout stops at its check, naming both devices, before any
 * CUDA call (so this runs everywhere) */
Test(layer_gpu, dropout_with_x_and_y_on_two_devices_aborts, .signal = SIGABRT) {
  nn_dropout *d = nn_dropout_new("dropout", 0.5f, 1);
  float v[4] = {1, 2, 3, 4}, w[4];
  nn_tensor x = {.data = v, .shape = {4}, .ndim = 1, .device = NN_GPU};
  nn_tensor y = {.data = w, .shape = {4}, .ndim = 1, .device = NN_CPU};
  nn_arena *ws = nn_arena_new(NN_CPU); /* the tensors' check comes first: no GPU arena needed */
  nn_call c = {.arena = ws, .training = true};
  nn_dropout_forward(d, &c, &x, &y);
}
