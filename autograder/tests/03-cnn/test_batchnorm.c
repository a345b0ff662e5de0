/* BatchNorm: a forward and backward by hand on one channel of 4 values, the running
 * statistics against torch, eval mode with the running statistics, finite-difference
 * checks in training and eval mode for (N, C) and (N, C, H, W), backward accumulation,
 * a checkpoint round trip that keeps the running statistics, parameter and buffer
 * counts (PyTorch: 2C params, 2C buffers) and the summary's Buffers line, and the
 * aborts on bad inputs.
 *
 * Graded tests (GRADED): the public variant is the hand-worked (or torch's) case; the drawn
 * one normalises random (N, C) or (N, C, H, W) inputs of drawn sizes, and the test knows y,
 * the running statistics and the gradients from the formulas of nn_batchnorm.h, in double. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graded.h"
#include "graded_gradcheck.h"
#include "nn_batchnorm.h"
#include "nn_gradcheck.h"
#include "nn_model.h"
#include "nn_parallel.h"
#include "nn_rng.h"
#include "nn_batchnorm_shapes.h"

static void free_layer(nn_batchnorm *bn) { bn->base.ops->free(&bn->base); }

/* One application of the layer: what its forward keeps for its backward (xhat, the
 * statistics) lives in the call, its arrays in the arena ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws, bool training) { return (nn_call){.arena = ws, .training = training}; }

/* gamma and beta away from 1 and 0, so the check sees them matter. */
static void randomize_affine(nn_batchnorm *bn, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_rng_fill_uniform(&rng, bn->gamma.data, bn->C, 0.5f, 1.5f);
  nn_rng_fill_normal(&rng, bn->beta.data, bn->C, 0.f, 1.f);
}

static nn_batchnorm *one_channel_of_4(nn_tensor *x, nn_tensor *y) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 1);
  bn->gamma.data[0] = 2.f, bn->beta.data[0] = 1.f;
  *x = nn_tensor_from(2, (int[]){4, 1}, (float[]){1, 2, 3, 4});
  *y = nn_tensor_new(2, (int[]){4, 1}, NN_CPU);
  return bn;
}

/* ---- the drawn variants: a shape, x, gamma and beta, and what the formulas say */

/* (N, C) or (N, C, H, W), N*H*W >= 3 values per channel (training needs 2; with 2, xhat is
 * +-1 whatever x, and dx is 0). */
static int draw_shape(nn_grade *g, int *shape) {
  int four = nn_grade_size(g, 0, 0, 1);
  shape[0] = nn_grade_size(g, 4, 3, 6), shape[1] = nn_grade_size(g, 1, 1, 4);
  shape[2] = nn_grade_size(g, 1, 1, 3), shape[3] = nn_grade_size(g, 1, 1, 3);
  return four ? 4 : 2;
}

/* x of `shape`: in each channel c the values c + std (k - (M-1)/2) / (M / sqrt(12)) for
 * k = 0..M-1 (mean c, standard deviation std; std 0: c + 1), shuffled. Random values can put a
 * channel's few values close together: a variance near 0, where the normalisation divides by
 * sqrt(var + eps) ~ sqrt(eps), float's rounding is magnified, and finite differences bend within h. */
static nn_tensor spread_input(int ndim, const int *shape, uint64_t seed, float std) {
  nn_tensor x = nn_tensor_new(ndim, shape, NN_CPU);
  const int N = shape[0], C = shape[1];
  const long S = ndim == 4 ? (long)shape[2] * shape[3] : 1, M = N * S;
  int *perm = malloc((size_t)M * sizeof *perm);
  nn_rng rng = nn_rng_new(seed);
  for (int c = 0; c < C; c++) {
    nn_rng_permutation(&rng, perm, (int)M);
    float sd = std > 0 ? std : (float)(c + 1);
    for (long m = 0; m < M; m++)
      x.data[(m / S * C + c) * S + m % S] = (float)c + sd * ((float)perm[m] - (float)(M - 1) / 2) / ((float)M * 0.288675f);
  }
  free(perm);
  return x;
}

/* The drawn variants' x: channel c has mean c and standard deviation c + 1. */
static nn_tensor channel_input(int ndim, const int *shape, uint64_t seed) { return spread_input(ndim, shape, seed, 0); }

/* The batch statistics of x per channel (mean, biased var) and xhat, in double. */
typedef struct {
  int N, C;
  long S, M;
  double *mean, *var, *xhat;
} bn_stats;

static bn_stats stats_of(const nn_tensor *x) {
  bn_stats b = {.N = x->shape[0], .C = x->shape[1], .S = x->ndim == 4 ? (long)x->shape[2] * x->shape[3] : 1};
  b.M = b.N * b.S;
  b.mean = calloc((size_t)b.C, sizeof(double)), b.var = calloc((size_t)b.C, sizeof(double));
  b.xhat = calloc((size_t)nn_numel(x), sizeof(double));
  for (long i = 0; i < nn_numel(x); i++) b.mean[i / b.S % b.C] += x->data[i] / (double)b.M;
  for (long i = 0; i < nn_numel(x); i++) {
    double d = x->data[i] - b.mean[i / b.S % b.C];
    b.var[i / b.S % b.C] += d * d / (double)b.M;
  }
  for (long i = 0; i < nn_numel(x); i++) {
    int c = (int)(i / b.S % b.C);
    b.xhat[i] = (x->data[i] - b.mean[c]) / sqrt(b.var[c] + 1e-5);
  }
  return b;
}

static void stats_free(bn_stats *b) { free(b->mean), free(b->var), free(b->xhat); }

/* Where element i of t is, its axes named as BatchNorm's: (n, c) or (n, c, h, w). */
static nn_grade_text where_in(const nn_tensor *t, long i) {
  return nn_grade_where_as(i, t->ndim, t->shape, t->ndim == 2 ? "(n, c)" : "(n, c, h, w)");
}

/* Words for a wrong training-mode y of x: is it the normalisation with the unbiased variance
 * (the sum of squares over M - 1), the classic slip? Else "". Only for a failure's message. */
static const char *unbiased_words(const nn_batchnorm *bn, const nn_tensor *x, const float *y) {
  bn_stats b = stats_of(x);
  bool same = b.M > 1;
  for (long i = 0; i < nn_numel(x) && same; i++) {
    int c = (int)(i / b.S % b.C);
    double inv_std = 1 / sqrt(b.var[c] * b.M / (b.M - 1) + bn->eps);
    double want = bn->gamma.data[c] * (x->data[i] - b.mean[c]) * inv_std + bn->beta.data[c];
    same = fabs(y[i] - want) <= 2e-5 * (1 + fabs(want));
  }
  stats_free(&b);
  return same ? "; y is the normalisation with the unbiased variance: you divided by M - 1 (unbiased); BatchNorm "
                "normalises with the biased variance (divide by M)" : "";
}

/* The drawn forward: y = gamma xhat + beta with the batch's statistics, and the running ones
 * moved 0.1 of the way to the batch's mean and UNBIASED variance (from drawn values). */
static void check_drawn_forward(nn_grade *g) {
  int shape[4], ndim = draw_shape(g, shape), C = shape[1];
  uint64_t seed = nn_grade_seed(g, 1);
  nn_batchnorm *bn = nn_batchnorm_new("bn", C);
  randomize_affine(bn, seed);
  nn_rng rng = nn_rng_new(seed + 1);
  nn_rng_fill_normal(&rng, bn->running_mean.data, C, 0.f, 1.f);
  nn_rng_fill_uniform(&rng, bn->running_var.data, C, 0.5f, 2.f);
  float rm0[4], rv0[4];
  memcpy(rm0, bn->running_mean.data, (size_t)C * sizeof(float)), memcpy(rv0, bn->running_var.data, (size_t)C * sizeof(float));
  nn_tensor x = channel_input(ndim, shape, seed + 2), y = nn_tensor_new(ndim, shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c1 = call_on(ws, true);
  nn_batchnorm_forward(bn, &c1, &x, &y);
  answer(g, "y", y.data, nn_numel(&y));
  answer(g, "running_mean", bn->running_mean.data, C);
  answer(g, "running_var", bn->running_var.data, C);
  bn_stats b = stats_of(&x);
  double *want = malloc((size_t)nn_numel(&y) * sizeof *want);
  for (long i = 0; i < nn_numel(&y); i++) {
    int c = (int)(i / b.S % C);
    want[i] = bn->gamma.data[c] * b.xhat[i] + bn->beta.data[c];
  }
  for (long i = 0; i < nn_numel(&y); i++) {
    int c = (int)(i / b.S % C);
    expect_near(g, y.data[i], want[i], 2e-5 * (1 + fabs(want[i])), "x %s, channel %d: y%s = %g, expected gamma xhat "
                "+ beta = %.7g (batch mean %.6g, variance %.6g, biased)%s%s", nn_shape_str(&x).s, c, where_in(&y, i).s,
                y.data[i], want[i], b.mean[c], b.var[c], unbiased_words(bn, &x, y.data),
                nn_grade_diagnose(y.data, want, NULL, nn_numel(&y), ndim, y.shape).s);
  }
  free(want);
  for (int c = 0; c < C; c++) {
    double mean = 0.9 * rm0[c] + 0.1 * b.mean[c], var = 0.9 * rv0[c] + 0.1 * b.var[c] * b.M / (b.M - 1);
    expect_near(g, bn->running_mean.data[c], mean, 1e-5 * (1 + fabs(mean)), "running_mean[%d] = %g, expected 0.9 * "
                "%g + 0.1 * %g = %g", c, bn->running_mean.data[c], rm0[c], b.mean[c], mean);
    expect_near(g, bn->running_var.data[c], var, 1e-5 * (1 + fabs(var)), "running_var[%d] = %g, expected 0.9 * %g + "
                "0.1 * %g = %g (the UNBIASED batch variance, M / (M - 1) times the biased, M = %ld)", c,
                bn->running_var.data[c], rv0[c], b.var[c] * b.M / (b.M - 1), var, b.M);
  }
  stats_free(&b);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), free_layer(bn);
}

GRADED_TEST(batchnorm, forward_by_hand_one_channel_of_4) {
  if (!nn_grade_public(g)) {
    check_drawn_forward(g);
    return;
  }
  /* x = [1, 2, 3, 4] (N = 4, C = 1), gamma 2, beta 1:
   *   mean = 2.5, var = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25 (biased), inv_std = 1/sqrt(1.25 + 1e-5)
   *   xhat = [-1.5, -0.5, 0.5, 1.5] / sqrt(1.25) = [-1.341641, -0.447214, 0.447214, 1.341641]
   *   y = 2 xhat + 1 = [-1.683283, 0.105573, 1.894427, 3.683283]       (torch: the same to 1e-6)
   * running_mean = 0.9 * 0 + 0.1 * 2.5 = 0.25
   * running_var  = 0.9 * 1 + 0.1 * 1.25 * 4/3 (unbiased: 5/3) = 1.0666667 */
  nn_tensor x, y;
  nn_batchnorm *bn = one_channel_of_4(&x, &y);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws, true);
  nn_batchnorm_forward(bn, &c, &x, &y);
  answer(g, "y", y.data, 4);
  answer(g, "running_mean", bn->running_mean.data, 1);
  answer(g, "running_var", bn->running_var.data, 1);
  const double want[4] = {-1.6832707, 0.1055765, 1.8944237, 3.6832709};
  for (int i = 0; i < 4; i++)
    expect_near(g, y.data[i], want[i], 1e-5, "y%s = %g, expected %g%s%s", where_in(&y, i).s, y.data[i], want[i],
                unbiased_words(bn, &x, y.data), nn_grade_diagnose(y.data, want, NULL, 4, 2, y.shape).s);
  expect_near(g, bn->running_mean.data[0], 0.25f, 1e-6, "running_mean %g, expected 0.25", bn->running_mean.data[0]);
  expect_near(g, bn->running_var.data[0], 1.0666667f, 1e-6,
              "running_var %g, expected 0.9 + 0.1 * 5/3 = 1.0666667 (the UNBIASED batch variance)",
              bn->running_var.data[0]);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), free_layer(bn);
}

/* The drawn backward after a training forward:
 *   dx = gamma inv_std / M (M dy - sum(dy) - xhat sum(dy xhat)), dgamma = sum(dy xhat), dbeta = sum(dy). */
static void check_drawn_backward(nn_grade *g) {
  int shape[4], ndim = draw_shape(g, shape), C = shape[1];
  uint64_t seed = nn_grade_seed(g, 2);
  nn_batchnorm *bn = nn_batchnorm_new("bn", C);
  randomize_affine(bn, seed);
  nn_tensor x = channel_input(ndim, shape, seed + 1), y = nn_tensor_new(ndim, shape, NN_CPU);
  nn_tensor dy = nn_tensor_randn(ndim, shape, seed + 2), dx = nn_tensor_new(ndim, shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c1 = call_on(ws, true);
  nn_batchnorm_forward(bn, &c1, &x, &y);
  nn_batchnorm_backward(bn, &c1, &dy, &dx);
  answer(g, "dx", dx.data, nn_numel(&dx));
  answer(g, "dgamma", bn->dgamma.data, C);
  answer(g, "dbeta", bn->dbeta.data, C);
  bn_stats b = stats_of(&x);
  double sum_dy[4] = {0}, sum_dy_xhat[4] = {0};
  for (long i = 0; i < nn_numel(&dy); i++) {
    sum_dy[i / b.S % C] += dy.data[i];
    sum_dy_xhat[i / b.S % C] += dy.data[i] * b.xhat[i];
  }
  double *want = malloc((size_t)nn_numel(&dx) * sizeof *want);
  for (long i = 0; i < nn_numel(&dx); i++) {
    int c = (int)(i / b.S % C);
    double k = bn->gamma.data[c] / sqrt(b.var[c] + 1e-5) / (double)b.M;
    want[i] = k * ((double)b.M * dy.data[i] - sum_dy[c] - b.xhat[i] * sum_dy_xhat[c]);
  }
  for (long i = 0; i < nn_numel(&dx); i++)
    expect_near(g, dx.data[i], want[i], 2e-5 * (1 + fabs(want[i])), "x %s, channel %ld: dx%s = %g, expected gamma "
                "inv_std / M (M dy - sum(dy) - xhat sum(dy xhat)) = %.7g (M = %ld)%s", nn_shape_str(&x).s,
                i / b.S % C, where_in(&dx, i).s, dx.data[i], want[i], b.M,
                nn_grade_diagnose(dx.data, want, NULL, nn_numel(&dx), ndim, dx.shape).s);
  free(want);
  for (int c = 0; c < C; c++) {
    expect_near(g, bn->dgamma.data[c], sum_dy_xhat[c], 1e-5 * (1 + fabs(sum_dy_xhat[c])), "dgamma[%d] = %g, "
                "expected sum(dy xhat) = %.7g", c, bn->dgamma.data[c], sum_dy_xhat[c]);
    expect_near(g, bn->dbeta.data[c], sum_dy[c], 1e-5 * (1 + fabs(sum_dy[c])), "dbeta[%d] = %g, expected sum(dy) = "
                "%.7g", c, bn->dbeta.data[c], sum_dy[c]);
  }
  stats_free(&b);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(bn);
}

GRADED_TEST(batchnorm, backward_by_hand_one_channel_of_4) {
  if (!nn_grade_public(g)) {
    check_drawn_backward(g);
    return;
  }
  /* The same x, dy = [1, 0, 0, 0]: sum(dy) = 1, sum(dy xhat) = xhat0 = -1.341641 (xhat0^2 = 1.8).
   * k = gamma inv_std / M = 2 * 0.894423 / 4 = 0.447212
   *   dx0 = k (4*1 - 1 - xhat0 * -1.341641) = k (3 - 1.8)   =  1.2 k =  0.536654
   *   dx1 = k (0 - 1 - xhat1 * -1.341641) = k (-1 - 0.6)    = -1.6 k = -0.715539
   *   dx2 = k (-1 + 0.6) = -0.4 k = -0.178885,  dx3 = k (-1 + 1.8) = 0.8 k = 0.357769
   * dgamma = sum(dy xhat) = -1.341641, dbeta = sum(dy) = 1       (torch: the same to 1e-6) */
  nn_tensor x, y;
  nn_batchnorm *bn = one_channel_of_4(&x, &y);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws, true);
  nn_batchnorm_forward(bn, &c, &x, &y);
  nn_tensor dy = nn_tensor_from(2, (int[]){4, 1}, (float[]){1, 0, 0, 0}), dx = nn_tensor_new(2, (int[]){4, 1}, NN_CPU);
  nn_batchnorm_backward(bn, &c, &dy, &dx);
  answer(g, "dx", dx.data, 4);
  answer(g, "dgamma", bn->dgamma.data, 1);
  answer(g, "dbeta", bn->dbeta.data, 1);
  const float want[4] = {0.5366606f, -0.7155367f, -0.1788869f, 0.3577630f};
  for (int i = 0; i < 4; i++)
    expect_near(g, dx.data[i], want[i], 1e-5, "dx%s = %g, expected %g", where_in(&dx, i).s, dx.data[i], want[i]);
  expect_near(g, bn->dgamma.data[0], -1.3416355f, 1e-5, "dgamma %g, expected -1.341641", bn->dgamma.data[0]);
  expect_near(g, bn->dbeta.data[0], 1.f, 1e-6, "dbeta %g, expected 1", bn->dbeta.data[0]);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(bn);
}

/* x (2, 3, 2, 2) of step k: x[i] = sin(0.37 i + k) (c + 1) + c, c = channel of flat index i. */
static nn_tensor step_input(int k) {
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 2, 2}, NN_CPU);
  for (int i = 0; i < 24; i++) {
    int c = (i / 4) % 3;
    x.data[i] = sinf(0.37f * (float)i + (float)k) * (float)(c + 1) + (float)c;
  }
  return x;
}

GRADED_TEST(batchnorm, running_statistics_after_3_steps_match_torch) {
  /* torch.nn.BatchNorm2d(3), three training forwards of step_input(0), (1), (2):
   *   running_mean = [0.06872165, 0.44004869, 0.38181877], running_var = [0.83292449, 1.16778302, 1.68356013]
   * then in eval mode x (1, 3, 1, 1) = [0.5, -1, 2] gives [0.47255489, -1.33258295, 1.24712956].
   * Drawn: C channels and the steps' shape drawn, each step's x random; the running statistics
   * follow the update rule from (0, 1), in double. */
  int shape[4] = {2, 3, 2, 2};
  if (!nn_grade_public(g)) draw_shape(g, shape);
  const int C = shape[1];
  uint64_t seed = nn_grade_seed(g, 0);
  nn_batchnorm *bn = nn_batchnorm_new("bn", C);
  nn_tensor y = nn_tensor_new(4, shape, NN_CPU);
  double mean[4] = {0, 0, 0, 0}, var[4] = {1, 1, 1, 1}; /* the drawn variant's want */
  nn_arena *ws = nn_arena_new(NN_CPU);
  for (int k = 0; k < 3; k++) {
    nn_arena_reset(ws); /* a new step: the last step's call is done with */
    nn_tensor x = nn_grade_public(g) ? step_input(k) : channel_input(4, shape, seed + (uint64_t)k);
    if (!nn_grade_public(g)) /* each step its own statistics */
      for (long i = 0; i < nn_numel(&x); i++) x.data[i] = x.data[i] * (1.f + 0.25f * (float)k) + 0.5f * (float)k;
    nn_call call = call_on(ws, true);
    nn_batchnorm_forward(bn, &call, &x, &y);
    bn_stats b = stats_of(&x);
    for (int c = 0; c < C; c++)
      mean[c] = 0.9 * mean[c] + 0.1 * b.mean[c], var[c] = 0.9 * var[c] + 0.1 * b.var[c] * b.M / (b.M - 1);
    stats_free(&b);
    nn_tensor_free(&x);
  }
  answer(g, "running_mean after 3 steps", bn->running_mean.data, C);
  answer(g, "running_var after 3 steps", bn->running_var.data, C);
  const char *who = nn_grade_public(g) ? "torch" : "expected";
  if (nn_grade_public(g)) {
    const double torch_mean[3] = {0.06872165, 0.44004869, 0.38181877}, torch_var[3] = {0.83292449, 1.16778302, 1.68356013};
    memcpy(mean, torch_mean, sizeof torch_mean), memcpy(var, torch_var, sizeof torch_var);
  }
  for (int c = 0; c < C; c++) {
    expect_near(g, bn->running_mean.data[c], mean[c], 1e-5 * (1 + fabs(mean[c])), "running_mean[%d] = %g, %s %g",
                c, bn->running_mean.data[c], who, mean[c]);
    expect_near(g, bn->running_var.data[c], var[c], 1e-5 * (1 + fabs(var[c])), "running_var[%d] = %g, %s %g", c,
                bn->running_var.data[c], who, var[c]);
  }
  float xv[4] = {0.5f, -1.f, 2.f, 0.25f};
  nn_tensor x = nn_tensor_from(4, (int[]){1, C, 1, 1}, xv);
  nn_tensor y1 = nn_tensor_new(4, (int[]){1, C, 1, 1}, NN_CPU);
  nn_arena_reset(ws);
  nn_call ce = call_on(ws, false);
  nn_batchnorm_forward(bn, &ce, &x, &y1);
  answer(g, "eval y", y1.data, C);
  for (int c = 0; c < C; c++) {
    double want = nn_grade_public(g) ? (double[]){0.47255489, -1.33258295, 1.24712956}[c]
                                     : (xv[c] - mean[c]) / sqrt(var[c] + 1e-5);
    expect_near(g, y1.data[c], want, 1e-5 * (1 + fabs(want)), "eval y[%d] = %g, %s %g (x = %g, with the running "
                "statistics)", c, y1.data[c], who, want, xv[c]);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y1), free_layer(bn);
}

Test(batchnorm, eval_uses_the_running_statistics_and_leaves_them_alone) {
  /* running_mean 1, running_var 3, gamma 2, beta 0.5: y = 2 (x - 1) / sqrt(3 + 1e-5) + 0.5,
   * x = [1, 4] -> [0.5, 2 * 3 / 1.7320537 + 0.5 = 3.9641047]: the batch's own mean (2.5) plays no part. */
  nn_batchnorm *bn = nn_batchnorm_new("bn", 1);
  bn->running_mean.data[0] = 1.f, bn->running_var.data[0] = 3.f, bn->gamma.data[0] = 2.f, bn->beta.data[0] = 0.5f;
  nn_tensor x = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 4}), y = nn_tensor_new(2, (int[]){2, 1}, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws, false);
  nn_batchnorm_forward(bn, &c, &x, &y);
  cr_assert_float_eq(y.data[0], 0.5f, 1e-6f, "y[0] = %g, expected 0.5", y.data[0]);
  cr_assert_float_eq(y.data[1], 3.9641047f, 1e-5f, "y[1] = %g, expected 3.9641047", y.data[1]);
  cr_assert(bn->running_mean.data[0] == 1.f && bn->running_var.data[0] == 3.f,
            "eval changed the running statistics to %g, %g", bn->running_mean.data[0], bn->running_var.data[0]);
  /* backward after eval: dx = dy * gamma / sqrt(running_var + eps) = 2 / 1.7320537 = 1.1547 per unit of dy */
  nn_tensor dy = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, -2}), dx = nn_tensor_new(2, (int[]){2, 1}, NN_CPU);
  nn_batchnorm_backward(bn, &c, &dy, &dx);
  cr_assert_float_eq(dx.data[0], 1.1547f, 1e-4f, "dx[0] = %g, expected 2/sqrt(3) = 1.1547", dx.data[0]);
  cr_assert_float_eq(dx.data[1], -2.3094f, 1e-4f, "dx[1] = %g, expected -2 * 1.1547", dx.data[1]);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(bn);
}

/* Gradcheck of a BatchNorm(C) on x of `shape`, in training mode or eval mode; the analytic
 * gradients are the answers (graded_gradcheck.h).
 * The drawn variants keep the check well away from float's limits, for any draw: a float
 * forward leaves each y with a rounding error of |y| 6e-8, which differencing turns into some
 * 3e-5 of error in a numeric gradient: 3e-3 of the floor 1e-2 of the relative error, over the
 * tolerance 2e-3. So there gamma is 0.025 to 0.075 and beta ~ N(0, 0.05): y, and with it that
 * error, is some 20 times smaller, while a wrong gradient still misses by about its own size
 * (dx ~ gamma, dgamma ~ sum(dy xhat), dbeta ~ sum(dy): all far above 2e-3 of the floor); and x
 * is spread evenly (spread_input, standard deviation 3). */
static void check_gradients(nn_grade *g, int ndim, const int *shape, bool training, uint64_t seed) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", shape[1]);
  randomize_affine(bn, seed);
  if (!nn_grade_public(g))
    for (int c = 0; c < bn->C; c++) bn->gamma.data[c] *= 0.05f, bn->beta.data[c] *= 0.05f;
  if (!training) { /* running statistics other than 0 and 1 */
    nn_rng rng = nn_rng_new(seed + 1);
    nn_rng_fill_normal(&rng, bn->running_mean.data, bn->C, 0.f, 1.f);
    nn_rng_fill_uniform(&rng, bn->running_var.data, bn->C, 0.5f, 2.f);
  }
  nn_tensor x = nn_grade_public(g) ? nn_tensor_randn(ndim, shape, seed + 2) : spread_input(ndim, shape, seed + 2, 3.f);
  nn_gradcheck r = graded_gradcheck(g, &bn->base, &x, 1e-2, seed + 3, training);
  expect(g, r.max_rel < 2e-3, "%s mode %s: %s: analytic %g, numeric %g (rel %g)", training ? "training" : "eval",
         nn_shape_str(&x).s, nn_gradcheck_where(&r).s, r.analytic, r.numeric, r.max_rel);
  expect(g, r.checked == nn_numel(&x) + 2 * shape[1], "checked %ld values, expected x's %ld and 2 x %d", r.checked,
         nn_numel(&x), shape[1]);
  nn_tensor_free(&x), free_layer(bn);
}

/* Drawn: N (3 to 8 rows, or 2 to 3 images of 2x1 to 3x3), C (1 to 4) and the seed. */
GRADED_TEST(batchnorm, gradcheck_training_N_C, .timeout = 10) {
  int shape[2] = {nn_grade_size(g, 5, 3, 8), 0};
  shape[1] = nn_grade_size(g, 3, 1, 4);
  check_gradients(g, 2, shape, true, nn_grade_seed(g, 11));
}

GRADED_TEST(batchnorm, gradcheck_training_N_C_H_W, .timeout = 10) {
  int shape[4] = {nn_grade_size(g, 2, 2, 3), 0, 0, 0};
  shape[1] = nn_grade_size(g, 3, 1, 4);
  shape[2] = nn_grade_size(g, 3, 2, 3);
  shape[3] = nn_grade_size(g, 2, 1, 3);
  check_gradients(g, 4, shape, true, nn_grade_seed(g, 12));
}

Test(batchnorm, gradcheck_eval_N_C_H_W, .timeout = 10) {
  check_gradients(nn_grade_here(), 4, (int[]){2, 3, 3, 2}, false, 13);
}

GRADED_TEST(batchnorm, backward_accumulates) {
  /* Two backward passes of one forward give twice the grads of one: every grad is ADDED to. */
  int shape[4] = {3, 2, 2, 2};
  if (!nn_grade_public(g)) draw_shape(g, shape);
  const int C = shape[1];
  uint64_t seed = nn_grade_seed(g, 3);
  nn_batchnorm *bn = nn_batchnorm_new("bn", C);
  randomize_affine(bn, seed);
  nn_tensor x = nn_tensor_randn(4, shape, seed + 1), y = nn_tensor_new(4, shape, NN_CPU);
  nn_tensor dy = nn_tensor_randn(4, shape, seed + 2), dx = nn_tensor_new(4, shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws, true);
  nn_batchnorm_forward(bn, &call, &x, &y);
  nn_batchnorm_backward(bn, &call, &dy, &dx);
  nn_tensor dx1 = nn_tensor_to(&dx, NN_CPU), dg1 = nn_tensor_to(&bn->dgamma, NN_CPU);
  nn_tensor db1 = nn_tensor_to(&bn->dbeta, NN_CPU);
  answer(g, "dx after one backward", dx1.data, nn_numel(&dx1));
  answer(g, "dgamma after one backward", dg1.data, C);
  answer(g, "dbeta after one backward", db1.data, C);
  nn_batchnorm_backward(bn, &call, &dy, &dx); /* the same call again */
  answer(g, "dx after two backwards", dx.data, nn_numel(&dx));
  answer(g, "dgamma after two backwards", bn->dgamma.data, C);
  answer(g, "dbeta after two backwards", bn->dbeta.data, C);
  double norm = 0, *want = malloc((size_t)nn_numel(&dx) * sizeof *want); /* twice one pass's */
  for (long i = 0; i < nn_numel(&dx); i++) norm += fabs(dx1.data[i]), want[i] = 2.0 * dx1.data[i];
  expect(g, norm > 0, "dx is all zeros after one backward");
  for (long i = 0; i < nn_numel(&dx); i++)
    expect_near(g, dx.data[i], 2 * dx1.data[i], 1e-5 * (1 + fabsf(dx1.data[i])), "dx%s = %g after two passes, "
                "expected 2 * %g%s", where_in(&dx, i).s, dx.data[i], dx1.data[i],
                nn_grade_diagnose(dx.data, want, dx1.data, nn_numel(&dx), 4, dx.shape).s);
  free(want);
  for (int c = 0; c < C; c++) {
    expect_near(g, bn->dgamma.data[c], 2 * dg1.data[c], 1e-5 * (1 + fabsf(dg1.data[c])), "dgamma[%d] = %g after two "
                "passes, expected 2 * %g: it did not accumulate", c, bn->dgamma.data[c], dg1.data[c]);
    expect_near(g, bn->dbeta.data[c], 2 * db1.data[c], 1e-5 * (1 + fabsf(db1.data[c])), "dbeta[%d] = %g after two "
                "passes, expected 2 * %g: it did not accumulate", c, bn->dbeta.data[c], db1.data[c]);
  }
  nn_tensor *all[] = {&x, &y, &dy, &dx, &dx1, &dg1, &db1};
  for (int i = 0; i < 7; i++) nn_tensor_free(all[i]);
  nn_arena_free(ws);
  free_layer(bn);
}

/* The channels spread over the threads once x is large enough: 1 and 3 threads give the
 * same bits in training and eval mode (each channel is the same computation). */
Test(batchnorm, any_number_of_threads_gives_the_one_thread_answer) {
  const int shape[4] = {8, 6, 16, 16}; /* 12,288 values x 6 channels >= NN_PARALLEL_MIN_WORK */
  nn_tensor x = nn_tensor_randn(4, shape, 21), dy = nn_tensor_randn(4, shape, 22);
  for (int training = 0; training <= 1; training++) {
    nn_tensor y[2], dx[2], dgamma[2];
    for (int k = 0; k < 2; k++) {
      nn_set_threads(1 + 2 * k);
      nn_batchnorm *bn = nn_batchnorm_new("bn", 6);
      randomize_affine(bn, 23);
      y[k] = nn_tensor_new(4, shape, NN_CPU), dx[k] = nn_tensor_new(4, shape, NN_CPU);
      nn_arena *ws = nn_arena_new(NN_CPU);
      nn_call c = call_on(ws, training);
      nn_batchnorm_forward(bn, &c, &x, &y[k]);
      nn_batchnorm_backward(bn, &c, &dy, &dx[k]);
      dgamma[k] = nn_tensor_to(&bn->dgamma, NN_CPU);
      nn_arena_free(ws);
      free_layer(bn);
    }
    const struct { const char *name; const nn_tensor *t; } g[] = {{"y", y}, {"dx", dx}, {"dgamma", dgamma}};
    for (int m = 0; m < 3; m++)
      for (long i = 0; i < nn_numel(&g[m].t[0]); i++)
        cr_assert_eq(g[m].t[1].data[i], g[m].t[0].data[i], "%s mode: on 3 threads %s[%ld] = %.9g, on 1 thread %.9g",
                     training ? "training" : "eval", g[m].name, i, g[m].t[1].data[i], g[m].t[0].data[i]);
    for (int k = 0; k < 2; k++) nn_tensor_free(&y[k]), nn_tensor_free(&dx[k]), nn_tensor_free(&dgamma[k]);
  }
  nn_tensor_free(&x), nn_tensor_free(&dy);
}

/* The worker opens no file: it answers what its layer holds after a training forward (the
 * running statistics) and what nn_model_state lists (the code under test's params and
 * buffers ops); the checker puts those in its own layer and does the save and load. */
GRADED_TEST(batchnorm, checkpoint_round_trip_keeps_the_running_statistics) {
  int shape[4] = {2, 3, 2, 2};
  if (!nn_grade_public(g)) draw_shape(g, shape);
  const int C = shape[1];
  uint64_t seed = nn_grade_seed(g, 8);
  nn_model *a = nn_model_new("a", 3, (int[]){C, shape[2], shape[3]});
  nn_model *b = nn_model_new("b", 3, (int[]){C, shape[2], shape[3]});
  nn_model_add(a, &nn_batchnorm_new("bn", C)->base);
  nn_model_add(b, &nn_batchnorm_new("bn", C)->base);
  nn_batchnorm *ba = (nn_batchnorm *)a->layers[0], *bb = (nn_batchnorm *)b->layers[0];
  randomize_affine(ba, seed);
  nn_tensor x = nn_grade_public(g) ? step_input(0) : channel_input(4, shape, seed + 1);
  nn_tensor y = nn_tensor_new(4, shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws, true);
  nn_batchnorm_forward(ba, &call, &x, &y); /* running statistics away from 0 and 1 */
  answer(g, "running_mean after a training forward", ba->running_mean.data, C);
  answer(g, "running_var after a training forward", ba->running_var.data, C);
  int count;
  nn_named_tensor *state = nn_model_state(a, &count);
  int names[2][48] = {{0}}; /* the names of state tensors 3 and 4, a char an int */
  for (int k = 0; k < 2 && 2 + k < count; k++)
    for (int i = 0; i < 47 && state[2 + k].name[i]; i++) names[k][i] = (unsigned char)state[2 + k].name[i];
  free(state);
  answer(g, "the number of tensors of nn_model_state", &count, 1);
  answer(g, "the names of the state's tensors 3 and 4", &names[0][0], 2 * 48);
  expect(g, count == 4, "the state has %d tensors, expected gamma, beta, running_mean, running_var", count);
  const char *want[2] = {"bn.running_mean", "bn.running_var"};
  for (int k = 0; k < 2; k++) {
    char got[48] = "";
    for (int i = 0; i < 47 && names[k][i] > 0 && names[k][i] < 128; i++) got[i] = (char)names[k][i];
    expect(g, strcmp(got, want[k]) == 0, "state tensor %d is \"%s\", expected \"%s\"", 3 + k, got, want[k]);
  }
  if (!nn_grade_mode_is_worker(g)) { /* the round trip, with the values the worker's layer holds */
    char path[] = "/tmp/nn_bn_XXXXXX";
    int fd = mkstemp(path);
    expect(g, fd >= 0, "mkstemp(%s) failed: the checker cannot write its checkpoint", path);
    close(fd);
    nn_error err = {0};
    nn_status saved = nn_model_save(a, path, &err);
    expect(g, saved == NN_OK, "nn_model_save: %s", err.msg);
    nn_status loaded = nn_model_load(b, path, &err);
    unlink(path);
    expect(g, loaded == NN_OK, "nn_model_load: %s", err.msg);
    for (int c = 0; c < C; c++) {
      expect(g, bb->running_mean.data[c] == ba->running_mean.data[c], "running_mean[%d] %g after the load, saved %g",
             c, bb->running_mean.data[c], ba->running_mean.data[c]);
      expect(g, bb->running_var.data[c] == ba->running_var.data[c], "running_var[%d] %g after the load, saved %g", c,
             bb->running_var.data[c], ba->running_var.data[c]);
      expect(g, bb->gamma.data[c] == ba->gamma.data[c], "gamma[%d] differs after the load", c);
      expect(g, bb->beta.data[c] == ba->beta.data[c], "beta[%d] differs after the load", c);
    }
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_model_free(a), nn_model_free(b);
}

Test(batchnorm, params_2C_buffers_2C_and_the_summary_line) {
  /* PyTorch BatchNorm2d(16): weight + bias = 32 parameters; running_mean + running_var = 32 values of
   * buffers (Keras counts all 64 as params, 32 of them non-trainable). */
  nn_batchnorm *bn = nn_batchnorm_new("bn1", 16);
  cr_assert_eq(nn_layer_param_count(&bn->base), 32);
  cr_assert_eq(nn_layer_buffer_count(&bn->base), 32);
  nn_shape in = nn_shape_image(16, 8, 8);
  nn_calc calc;
  nn_error err = {0};
  cr_assert_eq(nn_calc_batchnorm(&in, NN_PYTORCH, &calc, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(calc.params, nn_layer_param_count(&bn->base), "nn_shapes says %ld params", calc.params);
  nn_param p[4];
  cr_assert_eq(bn->base.ops->params(&bn->base, p, 4), 2);
  cr_assert_str_eq(p[0].name, "bn1.gamma");
  cr_assert_str_eq(p[1].name, "bn1.beta");
  cr_assert_eq(nn_layer_buffers(&bn->base, p, 4), 2);
  cr_assert_str_eq(p[0].name, "bn1.running_mean");
  cr_assert_str_eq(p[1].name, "bn1.running_var");
  cr_assert_null(p[0].grad, "a buffer has no gradient");
  free_layer(bn);

  nn_model *m = nn_model_new("m", 3, (int[]){16, 8, 8});
  nn_model_add(m, &nn_batchnorm_new("bn1", 16)->base);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(text, "bn1 (BatchNorm)"), "no row for bn1 in:\n%s", text);
  cr_assert(strstr(text, "Total params: 32\n"), "the total is not 32 in:\n%s", text);
  cr_assert(strstr(text, "Buffers (state_dict, not parameters): 32\n"),
            "no \"Buffers (state_dict, not parameters): 32\" line in:\n%s", text);
  free(text), nn_model_free(m);
}

Test(batchnorm, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 4, 2, 2}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 4, 2, 2}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_batchnorm_forward(bn, &c, &x, &y); /* "takes (N, 3) or (N, 3, H, W) inputs, got (2, 4, 2, 2)" */
}

Test(batchnorm, y_of_another_shape_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_batchnorm_forward(bn, &c, &x, &y);
}

Test(batchnorm, training_on_one_value_per_channel_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3); /* PyTorch: "Expected more than 1 value per channel when training" */
  nn_tensor x = nn_tensor_new(2, (int[]){1, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){1, 3}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_batchnorm_forward(bn, &c, &x, &y);
}

Test(batchnorm, backward_before_forward_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor dy = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true); /* a call that had no forward */
  nn_batchnorm_backward(bn, &c, &dy, NULL);
}
