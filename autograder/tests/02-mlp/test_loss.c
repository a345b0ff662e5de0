/* The losses of nn_loss.h: hand-worked values of each, every gradient against central
 * differences of a double-precision loss written here from its definition (not from the
 * stable forms the library uses), logits of 1000, accumulation (+=), NULL gradients, and
 * the aborts on bad labels and shapes.
 *
 * Gradcheck: h = 1e-5 on the double reference; relative error
 * |a - n| / max(|a|, |n|, 1e-3) < 1e-3 (gradients here are about 1/M ~ 0.05, computed in
 * double and rounded to float, so a right answer is good to ~1e-7). Inputs keep away from
 * the kinks: |r| >= 0.1 for MAE, |r| - delta >= 0.2 for Huber, every hinge margin >= 0.05
 * from 0. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "nn_loss.h"
#include "nn_rng.h"

static nn_tensor vec(int n, const float *v) { return nn_tensor_from(1, (int[]){n}, v); }
static nn_tensor mat(int r, int c, const float *v) { return nn_tensor_from(2, (int[]){r, c}, v); }
static nn_tensor zeros_like(const nn_tensor *t) { return nn_tensor_new(t->ndim, t->shape, NN_CPU); }

static void expect_values(const char *what, const float *got, const double *want, int n) {
  for (int k = 0; k < n; k++)
    cr_assert(fabs(got[k] - want[k]) < 1e-6, "%s[%d] = %.7g, expected %.7g", what, k, got[k], want[k]);
}

static void expect_loss(const char *what, double got, double want) {
  cr_assert(fabs(got - want) < 1e-6 * fmax(1, fabs(want)), "%s = %.9g, expected %.9g", what, got, want);
}

/* ---- hand-worked values */

/* [1, 2] vs [0, 0]: (1 + 4) / 2 = 2.5;  dpred = 2 r / 2 = [1, 2] */
Test(mse, by_hand) {
  nn_tensor p = vec(2, (float[]){1, 2}), t = vec(2, (float[]){0, 0}), dp = zeros_like(&p);
  expect_loss("MSE of [1, 2] vs [0, 0]", nn_mse_loss(&p, &t, &dp), 2.5);
  expect_values("dMSE/dpred (2 r / M)", dp.data, (double[]){1, 2}, 2);
  /* (2, 2): r = [[1, -1], [0, 2]]: (1 + 1 + 0 + 4) / 4 = 1.5, the mean over all N D elements */
  nn_tensor P = mat(2, 2, (float[]){1, -1, 3, 2}), T = mat(2, 2, (float[]){0, 0, 3, 0});
  expect_loss("MSE of a (2, 2) batch", nn_mse_loss(&P, &T, NULL), 1.5);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp), nn_tensor_free(&P), nn_tensor_free(&T);
}

/* r = [1, -2, 0]: (1 + 2 + 0) / 3 = 1;  dpred = sign(r) / 3, 0 at r = 0 */
Test(mae, by_hand) {
  nn_tensor p = vec(3, (float[]){1, -2, 5}), t = vec(3, (float[]){0, 0, 5}), dp = zeros_like(&p);
  expect_loss("MAE of r = [1, -2, 0]", nn_mae_loss(&p, &t, &dp), 1);
  expect_values("dMAE/dpred (sign(r) / M, 0 at r = 0)", dp.data, (double[]){1. / 3, -1. / 3, 0}, 3);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* delta = 1, r = [0.5, -3]: 0.5 * 0.25 = 0.125 and 1 * (3 - 0.5) = 2.5, mean 1.3125;
 * dpred = [0.5, -1] / 2 */
Test(huber, by_hand) {
  nn_tensor p = vec(2, (float[]){0.5f, -3}), t = vec(2, (float[]){0, 0}), dp = zeros_like(&p);
  expect_loss("Huber (delta 1) of r = [0.5, -3]", nn_huber_loss(&p, &t, 1.f, &dp), (0.125 + 2.5) / 2);
  expect_values("dHuber/dpred (r inside delta, delta sign(r) outside, / M)", dp.data,
                (double[]){0.25, -0.5}, 2);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* r = [0, 1, 1000]: log cosh = [0, 0.43378..., 1000 - ln 2]; dpred = tanh(r) / 3 */
Test(log_cosh, by_hand_and_far_out) {
  nn_tensor p = vec(3, (float[]){0, 1, 1000}), t = vec(3, (float[]){0, 0, 0}), dp = zeros_like(&p);
  double L = nn_log_cosh_loss(&p, &t, &dp);
  cr_assert(isfinite(L), "log-cosh with r = 1000 is %g: cosh(1000) overflows; use |r| + log1p(e^-2|r|) - ln 2", L);
  expect_loss("log-cosh of r = [0, 1, 1000]", L, (0 + log(cosh(1.0)) + 1000 - log(2.0)) / 3);
  expect_values("dlogcosh/dpred (tanh(r) / M)", dp.data, (double[]){0, tanh(1.0) / 3, 1. / 3}, 3);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* z = [0, 2] as (2, 1), y = [1, 0]: (ln 2 + ln(1 + e^2)) / 2;  dz = (sigmoid(z) - y) / 2 */
Test(bce, by_hand_on_n_by_1) {
  nn_tensor z = mat(2, 1, (float[]){0, 2}), dz = zeros_like(&z);
  double s2 = 1 / (1 + exp(-2.0));
  expect_loss("BCE of z = [0, 2], y = [1, 0]", nn_bce_loss(&z, (int[]){1, 0}, &dz),
              (log(2.0) + log1p(exp(2.0))) / 2);
  expect_values("dBCE/dz", dz.data, (double[]){-0.25, s2 / 2}, 2);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* C = 4 equal logits: softmax is uniform, CE = ln 4 whatever the label;
 * dz = (1/4 - onehot) / N */
Test(sparse_ce, uniform_logits_give_log_C) {
  nn_tensor z = mat(2, 4, (float[]){0, 0, 0, 0, 7, 7, 7, 7}), dz = zeros_like(&z);
  expect_loss("sparse CE of uniform logits (C = 4)", nn_sparse_ce_loss(&z, (int[]){2, 0}, &dz), log(4.0));
  expect_values("dCE/dz = (softmax - onehot) / N", dz.data,
                (double[]){0.125, 0.125, -0.375, 0.125, -0.375, 0.125, 0.125, 0.125}, 8);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* one row z = [1, 2, 3], y = 0: softmax = e^z / (e + e^2 + e^3); CE = ln(e + e^2 + e^3) - 1 */
Test(sparse_ce, by_hand_adds_into_dz) {
  nn_tensor z = mat(1, 3, (float[]){1, 2, 3}), dz = mat(1, 3, (float[]){1, 1, 1});
  double S = exp(1.0) + exp(2.0) + exp(3.0);
  expect_loss("sparse CE of z = [1, 2, 3], y = 0", nn_sparse_ce_loss(&z, (int[]){0}, &dz), log(S) - 1);
  expect_values("dz (held 1, plus softmax - onehot)", dz.data,
                (double[]){1 + exp(1.0) / S - 1, 1 + exp(2.0) / S, 1 + exp(3.0) / S}, 3);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* one-hot targets give the sparse loss and gradient; z = [0, 0] against [0.5, 0.5] is ln 2
 * with gradient 0 (the prediction is the target). */
Test(categorical_ce, one_hot_matches_sparse_and_soft_by_hand) {
  float zv[6] = {0.3f, -1.2f, 2.f, 0.5f, 0.5f, -0.7f};
  nn_tensor z = mat(2, 3, zv), t = mat(2, 3, (float[]){0, 0, 1, 1, 0, 0});
  nn_tensor d1 = zeros_like(&z), d2 = zeros_like(&z);
  double a = nn_categorical_ce_loss(&z, &t, &d1), b = nn_sparse_ce_loss(&z, (int[]){2, 0}, &d2);
  expect_loss("categorical CE with one-hot rows vs sparse CE", a, b);
  for (int k = 0; k < 6; k++)
    cr_assert(fabs(d1.data[k] - d2.data[k]) < 1e-7, "dz[%d]: categorical %.7g, sparse %.7g", k, d1.data[k],
              d2.data[k]);
  nn_tensor u = mat(1, 2, (float[]){0, 0}), half = mat(1, 2, (float[]){0.5f, 0.5f}), du = zeros_like(&u);
  expect_loss("categorical CE of z = [0, 0], t = [0.5, 0.5]", nn_categorical_ce_loss(&u, &half, &du), log(2.0));
  expect_values("dz for a prediction equal to its target", du.data, (double[]){0, 0}, 2);
  nn_tensor_free(&z), nn_tensor_free(&t), nn_tensor_free(&d1), nn_tensor_free(&d2);
  nn_tensor_free(&u), nn_tensor_free(&half), nn_tensor_free(&du);
}

/* CS231n's linear-classification notes, margin 1: scores (cat, car, frog)
 *   cat image  [3.2, 5.1, -1.7] y = cat:  max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1) = 2.9
 *   car image  [1.3, 4.9,  2.0] y = car:  0
 *   frog image [2.2, 2.5, -3.1] y = frog: 6.3 + 6.6 = 12.9          mean 15.8 / 3 */
Test(multi_hinge, cs231n_by_hand) {
  nn_tensor z = mat(3, 3, (float[]){3.2f, 5.1f, -1.7f, 1.3f, 4.9f, 2.0f, 2.2f, 2.5f, -3.1f}), dz = zeros_like(&z);
  double L = nn_multi_hinge_loss(&z, (int[]){0, 1, 2}, &dz);
  cr_assert(fabs(L - 15.8 / 3) < 1e-5, "multi-class hinge of CS231n's example = %.7g, expected 15.8/3 = %.7g", L,
            15.8 / 3);
  double t = 1. / 3;
  expect_values("dhinge/dz ([margin > 0] on j, minus their count on y, / N)", dz.data,
                (double[]){-t, t, 0, 0, 0, 0, t, t, -2 * t}, 9);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* labels {0, 1}, t = 2y - 1: z = [2, 0.5, -0.5, 0.3], y = [1, 1, 0, 0]:
 * max(0, 1 - t z) = [0, 0.5, 0.5, 1.3], mean 0.575;  dz = -t [1 - t z > 0] / 4 */
Test(binary_hinge, by_hand) {
  nn_tensor z = vec(4, (float[]){2, 0.5f, -0.5f, 0.3f}), dz = zeros_like(&z);
  expect_loss("binary hinge", nn_binary_hinge_loss(&z, (int[]){1, 1, 0, 0}, &dz), 0.575);
  expect_values("dhinge/dz", dz.data, (double[]){0, -0.25, 0.25, 0.25}, 4);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* z = 0: p_t = 1/2 either way; l = alpha_t (1/2)^2 ln 2 with alpha_t = 0.25 (y = 1), 0.75 (y = 0).
 * dl/dz = alpha_t s (1/2)^2 [2 (1/2) ln(1/2) - 1/2] */
Test(focal, by_hand_at_zero) {
  nn_tensor z = vec(2, (float[]){0, 0}), dz = zeros_like(&z);
  double L = nn_focal_loss(&z, (int[]){1, 0}, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &dz);
  expect_loss("focal loss of z = [0, 0], y = [1, 0]", L, (0.25 + 0.75) * 0.25 * log(2.0) / 2);
  double g = 0.25 * (-log(2.0) - 0.5);
  expect_values("dfocal/dz", dz.data, (double[]){0.25 * g / 2, -0.75 * g / 2}, 2);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* gamma = 0, alpha = 0.5 is BCE / 2; with gamma = 2 a well-classified example (z = 4, y = 1)
 * weighs (1 - p_t)^2 ~ 3e-4 of its BCE. */
Test(focal, gamma_zero_is_half_bce_and_easy_examples_fade) {
  nn_rng rng = nn_rng_new(5);
  float zv[6];
  int y[6];
  nn_rng_fill_normal(&rng, zv, 6, 0.f, 2.f);
  for (int i = 0; i < 6; i++) y[i] = (int)nn_rng_below(&rng, 2);
  nn_tensor z = vec(6, zv), df = zeros_like(&z), db = zeros_like(&z);
  double f = nn_focal_loss(&z, y, 0.5f, 0.f, &df), b = nn_bce_loss(&z, y, &db);
  expect_loss("focal (gamma 0, alpha 0.5) vs BCE / 2", f, b / 2);
  for (int i = 0; i < 6; i++)
    cr_assert(fabs(df.data[i] - db.data[i] / 2) < 1e-7, "dz[%d]: focal %.7g, BCE/2 %.7g", i, df.data[i],
              db.data[i] / 2);
  nn_tensor e = vec(1, (float[]){4});
  double ratio = nn_focal_loss(&e, (int[]){1}, 1.f, 2.f, NULL) / nn_bce_loss(&e, (int[]){1}, NULL);
  double q = 1 / (1 + exp(4.0));
  cr_assert(fabs(ratio - q * q) < 1e-6, "focal / BCE at z = 4, y = 1 is %g, expected (1 - p_t)^2 = %g", ratio, q * q);
  nn_tensor_free(&z), nn_tensor_free(&df), nn_tensor_free(&db), nn_tensor_free(&e);
}

/* ---- large logits: everything finite, the confident-wrong loss ~ the logit gap */
Test(losses, large_logits_are_finite) {
  nn_tensor z = mat(2, 3, (float[]){1000, 0, -1000, -1000, 1000, 0}), dz = zeros_like(&z);
  double L = nn_sparse_ce_loss(&z, (int[]){1, 1}, &dz); /* row 0 wrong by 1000, row 1 right */
  cr_assert(isfinite(L) && fabs(L - 500) < 1e-3, "sparse CE with logits of 1000 = %g, expected 500 "
            "(subtract the row max before e^)", L);
  expect_values("dCE/dz at logits of 1000", dz.data, (double[]){0.5, -0.5, 0, 0, 0, 0}, 6);
  nn_tensor t = mat(2, 3, (float[]){0, 1, 0, 0, 1, 0}), dc = zeros_like(&z);
  L = nn_categorical_ce_loss(&z, &t, &dc);
  cr_assert(isfinite(L) && fabs(L - 500) < 1e-3, "categorical CE with logits of 1000 = %g, expected 500", L);
  expect_values("dcategorical/dz at logits of 1000", dc.data, (double[]){0.5, -0.5, 0, 0, 0, 0}, 6);
  nn_tensor b = vec(2, (float[]){1000, -1000}), db = zeros_like(&b);
  L = nn_bce_loss(&b, (int[]){0, 1}, &db);
  cr_assert(isfinite(L) && fabs(L - 1000) < 1e-3, "BCE of z = [1000, -1000], y = [0, 1] = %g, expected 1000", L);
  nn_tensor_fill(&db, 0.f);
  L = nn_focal_loss(&b, (int[]){0, 1}, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &db);
  cr_assert(isfinite(L) && fabs(L - (0.75 + 0.25) * 1000 / 2) < 1e-3, "focal of z = [1000, -1000], y = [0, 1] "
            "= %g, expected (0.75 + 0.25) 1000 / 2", L);
  cr_assert(isfinite(db.data[0]) && isfinite(db.data[1]), "dfocal/dz = [%g, %g]", db.data[0], db.data[1]);
  nn_tensor_fill(&db, 0.f);
  L = nn_focal_loss(&b, (int[]){1, 0}, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &db);
  cr_assert(isfinite(L) && L >= 0 && L < 1e-30 && db.data[0] == 0.f && db.data[1] == 0.f,
            "focal of confidently right logits = %g, dz = [%g, %g]; expected 0s", L, db.data[0], db.data[1]);
  nn_tensor_free(&z), nn_tensor_free(&dz), nn_tensor_free(&t), nn_tensor_free(&dc);
  nn_tensor_free(&b), nn_tensor_free(&db);
}

/* ---- gradient checks against a double reference */
enum { GN = 5, GC = 4 }; /* batch 5; 4 classes, or 4 regression outputs */

typedef struct {
  int N, C;          /* x is (N, C); C = 1 for binary */
  const double *t;   /* regression or categorical targets, (N, C) */
  const int *y;      /* labels */
  double delta, alpha, gamma;
} ref_ctx;
typedef double (*ref_loss)(const double *x, const ref_ctx *c);

static double ref_mse(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int k = 0; k < c->N * c->C; k++) s += (x[k] - c->t[k]) * (x[k] - c->t[k]);
  return s / (c->N * c->C);
}
static double ref_mae(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int k = 0; k < c->N * c->C; k++) s += fabs(x[k] - c->t[k]);
  return s / (c->N * c->C);
}
static double ref_huber(const double *x, const ref_ctx *c) {
  double s = 0, d = c->delta;
  for (int k = 0; k < c->N * c->C; k++) {
    double r = fabs(x[k] - c->t[k]);
    s += r <= d ? 0.5 * r * r : d * (r - 0.5 * d);
  }
  return s / (c->N * c->C);
}
static double ref_log_cosh(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int k = 0; k < c->N * c->C; k++) s += log(cosh(x[k] - c->t[k]));
  return s / (c->N * c->C);
}
static double sigmoid(double z) { return 1 / (1 + exp(-z)); }
static double ref_bce(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++) s += c->y[i] ? -log(sigmoid(x[i])) : -log(1 - sigmoid(x[i]));
  return s / c->N;
}
static double ref_binary_hinge(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++) s += fmax(0, 1 - (2 * c->y[i] - 1) * x[i]);
  return s / c->N;
}
static double ref_focal(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++) {
    double p = sigmoid(x[i]), pt = c->y[i] ? p : 1 - p, at = c->y[i] ? c->alpha : 1 - c->alpha;
    s += -at * pow(1 - pt, c->gamma) * log(pt);
  }
  return s / c->N;
}
/* -sum_c t_ic log softmax(x_i)_c, t given or one-hot(y) */
static double ref_ce(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++) {
    const double *x_i = x + i * c->C;
    double Z = 0;
    for (int k = 0; k < c->C; k++) Z += exp(x_i[k]);
    for (int k = 0; k < c->C; k++) {
      double t = c->t ? c->t[i * c->C + k] : (k == c->y[i]);
      s -= t * log(exp(x_i[k]) / Z);
    }
  }
  return s / c->N;
}
static double ref_multi_hinge(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++)
    for (int j = 0; j < c->C; j++)
      if (j != c->y[i]) s += fmax(0, x[i * c->C + j] - x[i * c->C + c->y[i]] + 1);
  return s / c->N;
}

static double rel_error(double a, double n) { return fabs(a - n) / fmax(fmax(fabs(a), fabs(n)), 1e-3); }

/* The returned loss against the reference, then every element of the analytic gradient
 * against (f(x + h) - f(x - h)) / 2h. */
static void gradcheck(const char *op, ref_loss f, const ref_ctx *c, const nn_tensor *x, double loss,
                      const nn_tensor *dx) {
  int n = c->N * c->C;
  double xd[GN * GC], h = 1e-5;
  for (int k = 0; k < n; k++) xd[k] = x->data[k];
  double want = f(xd, c);
  cr_assert(fabs(loss - want) < 1e-6 * fmax(1, fabs(want)), "%s returned %.9g, the definition gives %.9g", op,
            loss, want);
  for (int k = 0; k < n; k++) {
    double keep = xd[k];
    xd[k] = keep + h;
    double up = f(xd, c);
    xd[k] = keep - h;
    double down = f(xd, c);
    xd[k] = keep;
    double numeric = (up - down) / (2 * h), analytic = dx->data[k];
    cr_assert(rel_error(analytic, numeric) < 1e-3, "%s: d/dx[%d]: analytic %.7g, numeric %.7g (relative error %.2g)",
              op, k, analytic, numeric, rel_error(analytic, numeric));
  }
}

/* A regression problem, (GN, GC): targets ~ N(0, 1), pred = target + r with
 * |r| in [lo, hi] of random sign, or r ~ N(0, 1.5) when lo = hi = 0. */
typedef struct {
  nn_tensor pred, target, dpred;
  double t[GN * GC];
} reg_problem;

static reg_problem reg_problem_new(uint64_t seed, double lo, double hi, double lo2, double hi2) {
  reg_problem p;
  nn_rng rng = nn_rng_new(seed);
  p.target = nn_tensor_new(2, (int[]){GN, GC}, NN_CPU);
  p.pred = zeros_like(&p.target), p.dpred = zeros_like(&p.target);
  nn_rng_fill_normal(&rng, p.target.data, GN * GC, 0.f, 1.f);
  for (int k = 0; k < GN * GC; k++) {
    float r = nn_rng_normal(&rng, 0.f, 1.5f);
    if (hi > 0) { /* |r| from [lo, hi] or (if given) [lo2, hi2], alternating */
      float mag = (k % 2 || hi2 == 0) ? nn_rng_uniform(&rng, (float)lo, (float)hi)
                                      : nn_rng_uniform(&rng, (float)lo2, (float)hi2);
      r = nn_rng_below(&rng, 2) ? mag : -mag;
    }
    p.pred.data[k] = p.target.data[k] + r;
    p.t[k] = p.target.data[k];
  }
  return p;
}

static void reg_problem_free(reg_problem *p) {
  nn_tensor_free(&p->pred), nn_tensor_free(&p->target), nn_tensor_free(&p->dpred);
}

Test(mse, gradcheck) {
  reg_problem p = reg_problem_new(1, 0, 0, 0, 0);
  double L = nn_mse_loss(&p.pred, &p.target, &p.dpred);
  gradcheck("nn_mse_loss", ref_mse, &(ref_ctx){.N = GN, .C = GC, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

Test(mae, gradcheck) {
  reg_problem p = reg_problem_new(2, 0.1, 2, 0, 0);
  double L = nn_mae_loss(&p.pred, &p.target, &p.dpred);
  gradcheck("nn_mae_loss", ref_mae, &(ref_ctx){.N = GN, .C = GC, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

Test(huber, gradcheck_on_both_sides_of_delta) {
  reg_problem p = reg_problem_new(3, 0.05, 0.8, 1.2, 3); /* delta 1: half inside, half outside */
  double L = nn_huber_loss(&p.pred, &p.target, 1.f, &p.dpred);
  gradcheck("nn_huber_loss", ref_huber, &(ref_ctx){.N = GN, .C = GC, .t = p.t, .delta = 1}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

Test(log_cosh, gradcheck) {
  reg_problem p = reg_problem_new(4, 0, 0, 0, 0);
  double L = nn_log_cosh_loss(&p.pred, &p.target, &p.dpred);
  gradcheck("nn_log_cosh_loss", ref_log_cosh, &(ref_ctx){.N = GN, .C = GC, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

/* Binary logits (GN) ~ N(0, 2), labels in {0, 1}; for the hinge, |1 - t z| >= 0.05. */
static nn_tensor binary_logits(uint64_t seed, int *y, bool away_from_hinge) {
  nn_rng rng = nn_rng_new(seed);
  nn_tensor z = nn_tensor_new(1, (int[]){GN}, NN_CPU);
  for (int i = 0; i < GN; i++) {
    y[i] = (int)nn_rng_below(&rng, 2);
    do z.data[i] = nn_rng_normal(&rng, 0.f, 2.f);
    while (away_from_hinge && fabs(1 - (2 * y[i] - 1) * (double)z.data[i]) < 0.05);
  }
  return z;
}

Test(bce, gradcheck) {
  int y[GN];
  nn_tensor z = binary_logits(5, y, false), dz = zeros_like(&z);
  double L = nn_bce_loss(&z, y, &dz);
  gradcheck("nn_bce_loss", ref_bce, &(ref_ctx){.N = GN, .C = 1, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

Test(binary_hinge, gradcheck) {
  int y[GN];
  nn_tensor z = binary_logits(6, y, true), dz = zeros_like(&z);
  double L = nn_binary_hinge_loss(&z, y, &dz);
  gradcheck("nn_binary_hinge_loss", ref_binary_hinge, &(ref_ctx){.N = GN, .C = 1, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

Test(focal, gradcheck_default_and_fractional_gamma) {
  int y[GN];
  nn_tensor z = binary_logits(7, y, false), dz = zeros_like(&z);
  double L = nn_focal_loss(&z, y, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &dz);
  gradcheck("nn_focal_loss (alpha 0.25, gamma 2)", ref_focal,
            &(ref_ctx){.N = GN, .C = 1, .y = y, .alpha = 0.25, .gamma = 2}, &z, L, &dz);
  nn_tensor_fill(&dz, 0.f);
  L = nn_focal_loss(&z, y, 0.6f, 1.5f, &dz);
  gradcheck("nn_focal_loss (alpha 0.6, gamma 1.5)", ref_focal,
            &(ref_ctx){.N = GN, .C = 1, .y = y, .alpha = 0.6f, .gamma = 1.5}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* Multi-class logits (GN, GC) ~ N(0, 2), labels in 0..GC-1; for the hinge every
 * margin z_j - z_y + 1 (j != y) at least 0.05 from 0. */
static nn_tensor class_logits(uint64_t seed, int *y, bool away_from_hinge) {
  nn_rng rng = nn_rng_new(seed);
  nn_tensor z = nn_tensor_new(2, (int[]){GN, GC}, NN_CPU);
  for (int i = 0; i < GN; i++) {
    float *z_i = z.data + i * GC;
    y[i] = (int)nn_rng_below(&rng, GC);
    bool near_kink;
    do {
      nn_rng_fill_normal(&rng, z_i, GC, 0.f, 2.f);
      near_kink = false;
      for (int j = 0; j < GC; j++)
        if (j != y[i] && fabs((double)z_i[j] - z_i[y[i]] + 1) < 0.05) near_kink = true;
    } while (away_from_hinge && near_kink);
  }
  return z;
}

Test(sparse_ce, gradcheck) {
  int y[GN];
  nn_tensor z = class_logits(8, y, false), dz = zeros_like(&z);
  double L = nn_sparse_ce_loss(&z, y, &dz);
  gradcheck("nn_sparse_ce_loss", ref_ce, &(ref_ctx){.N = GN, .C = GC, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

Test(categorical_ce, gradcheck_with_soft_targets) {
  int y[GN];
  nn_tensor z = class_logits(9, y, false), dz = zeros_like(&z), t = zeros_like(&z);
  nn_rng rng = nn_rng_new(10);
  double td[GN * GC];
  for (int i = 0; i < GN; i++) { /* a random distribution per row */
    double sum = 0;
    for (int c = 0; c < GC; c++) sum += t.data[i * GC + c] = nn_rng_uniform(&rng, 0.f, 1.f);
    for (int c = 0; c < GC; c++) td[i * GC + c] = t.data[i * GC + c] = (float)(t.data[i * GC + c] / sum);
  }
  double L = nn_categorical_ce_loss(&z, &t, &dz);
  gradcheck("nn_categorical_ce_loss", ref_ce, &(ref_ctx){.N = GN, .C = GC, .t = td}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz), nn_tensor_free(&t);
}

Test(multi_hinge, gradcheck) {
  int y[GN];
  nn_tensor z = class_logits(11, y, true), dz = zeros_like(&z);
  double L = nn_multi_hinge_loss(&z, y, &dz);
  cr_assert(L > 0, "the check needs some active margins; the loss is %g", L);
  gradcheck("nn_multi_hinge_loss", ref_multi_hinge, &(ref_ctx){.N = GN, .C = GC, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* ---- every loss: two calls double the gradient, NULL skips it and changes nothing */
enum { MSE, MAE, HUBER, LOG_COSH, BCE, BINARY_HINGE, FOCAL, SPARSE_CE, CATEGORICAL_CE, MULTI_HINGE, N_LOSSES };
static const char *const NAMES[N_LOSSES] = {"nn_mse_loss",   "nn_mae_loss",          "nn_huber_loss",
                                            "nn_log_cosh_loss", "nn_bce_loss",       "nn_binary_hinge_loss",
                                            "nn_focal_loss", "nn_sparse_ce_loss",    "nn_categorical_ce_loss",
                                            "nn_multi_hinge_loss"};

typedef struct {
  nn_tensor a, b, bin, cls, probs; /* pred, target (GN, GC); binary logits (GN); class logits and targets (GN, GC) */
  int ybin[GN], ycls[GN];
} zoo;

static zoo zoo_new(void) {
  zoo z;
  reg_problem p = reg_problem_new(20, 0.1, 3, 0, 0);
  z.a = p.pred, z.b = p.target;
  nn_tensor_free(&p.dpred);
  z.bin = binary_logits(21, z.ybin, true);
  z.cls = class_logits(22, z.ycls, true);
  z.probs = zeros_like(&z.cls);
  for (int i = 0; i < GN; i++) z.probs.data[i * GC + z.ycls[i]] = 1.f;
  return z;
}

static void zoo_free(zoo *z) {
  nn_tensor_free(&z->a), nn_tensor_free(&z->b), nn_tensor_free(&z->bin), nn_tensor_free(&z->cls);
  nn_tensor_free(&z->probs);
}

static double call(zoo *z, int which, nn_tensor *grad) {
  switch (which) {
  case MSE: return nn_mse_loss(&z->a, &z->b, grad);
  case MAE: return nn_mae_loss(&z->a, &z->b, grad);
  case HUBER: return nn_huber_loss(&z->a, &z->b, 1.f, grad);
  case LOG_COSH: return nn_log_cosh_loss(&z->a, &z->b, grad);
  case BCE: return nn_bce_loss(&z->bin, z->ybin, grad);
  case BINARY_HINGE: return nn_binary_hinge_loss(&z->bin, z->ybin, grad);
  case FOCAL: return nn_focal_loss(&z->bin, z->ybin, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, grad);
  case SPARSE_CE: return nn_sparse_ce_loss(&z->cls, z->ycls, grad);
  case CATEGORICAL_CE: return nn_categorical_ce_loss(&z->cls, &z->probs, grad);
  default: return nn_multi_hinge_loss(&z->cls, z->ycls, grad);
  }
}

static nn_tensor *input_of(zoo *z, int which) {
  return which <= LOG_COSH ? &z->a : which <= FOCAL ? &z->bin : &z->cls;
}

Test(losses, gradients_accumulate_and_null_skips_them) {
  zoo z = zoo_new();
  for (int w = 0; w < N_LOSSES; w++) {
    nn_tensor once = zeros_like(input_of(&z, w)), twice = zeros_like(input_of(&z, w));
    double L1 = call(&z, w, &once);
    call(&z, w, &twice);
    call(&z, w, &twice);
    double L0 = call(&z, w, NULL);
    cr_assert(L0 == L1, "%s: %.9g with a NULL gradient, %.9g with one; they must agree", NAMES[w], L0, L1);
    float norm = 0;
    for (long k = 0; k < nn_numel(&once); k++) {
      norm += fabsf(once.data[k]);
      cr_assert(fabsf(twice.data[k] - 2 * once.data[k]) <= 1e-6f * fmaxf(1.f, fabsf(once.data[k])),
                "%s: grad[%ld] = %g after two calls, expected 2 x %g: add into the gradient (+=), never "
                "overwrite it", NAMES[w], k, twice.data[k], once.data[k]);
    }
    cr_assert(norm > 0, "%s: the gradient is all zero on this problem", NAMES[w]);
    nn_tensor_free(&once), nn_tensor_free(&twice);
  }
  zoo_free(&z);
}

/* ---- programming errors abort (not graded: a stub aborts too) */
Test(sparse_ce, label_out_of_range_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_sparse_ce_loss(&z, (int[]){0, 3}, NULL); /* row 1: label 3 of 3 classes */
}

Test(sparse_ce, negative_label_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_sparse_ce_loss(&z, (int[]){-1, 0}, NULL);
}

Test(multi_hinge, label_out_of_range_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_multi_hinge_loss(&z, (int[]){5, 0}, NULL);
}

Test(binary_hinge, minus_one_label_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(1, (int[]){2}, NN_CPU);
  nn_binary_hinge_loss(&z, (int[]){1, -1}, NULL); /* labels are {0, 1} */
}

Test(focal, label_two_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(1, (int[]){2}, NN_CPU);
  nn_focal_loss(&z, (int[]){2, 0}, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, NULL);
}

Test(categorical_ce, target_row_not_a_distribution_aborts, .signal = SIGABRT) {
  nn_tensor z = nn_tensor_new(2, (int[]){1, 3}, NN_CPU), t = mat(1, 3, (float[]){1, 1, 0});
  nn_categorical_ce_loss(&z, &t, NULL);
}

Test(mse, shape_mismatch_aborts, .signal = SIGABRT) {
  nn_tensor p = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), t = nn_tensor_new(2, (int[]){3, 2}, NN_CPU);
  nn_mse_loss(&p, &t, NULL);
}

Test(mse, gradient_shape_mismatch_aborts, .signal = SIGABRT) {
  nn_tensor p = nn_tensor_new(1, (int[]){4}, NN_CPU), t = nn_tensor_new(1, (int[]){4}, NN_CPU);
  nn_tensor d = nn_tensor_new(1, (int[]){3}, NN_CPU);
  nn_mse_loss(&p, &t, &d);
}
