/* The losses of nn_loss.h: hand-worked values of each, every gradient against central
 * differences of a double-precision loss written here from its definition (not from the
 * stable forms the library uses), logits of 1000, accumulation (+=), NULL gradients, and
 * the aborts on bad labels and shapes.
 *
 * Gradcheck: h = 1e-5 on the double reference; relative error
 * |a - n| / max(|a|, |n|, 1e-3) < 1e-3 (gradients here are about 1/M ~ 0.05, computed in
 * double and rounded to float, so a right answer is good to ~1e-7). Inputs keep away from
 * the kinks: |r| >= 0.1 for MAE, |r| - delta >= 0.2 for Huber, every hinge margin >= 0.05
 * from 0.
 *
 * Graded (GRADED): sparse CE by hand and by gradcheck, categorical CE against sparse CE and by
 * gradcheck on soft targets, large logits, and accumulation for every loss. Each answers the
 * losses and gradients the code under test returned; what they are compared with is worked by
 * hand (public sizes) or computed here from the inputs in double (drawn sizes). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "graded.h"
#include "nn_arena.h"
#include "nn_loss.h"
#include "nn_rng.h"

enum { MAXN = 8, MAXC = 12 }; /* the largest drawn batch and class count */

static nn_tensor vec(int n, const float *v) { return nn_tensor_from(1, (int[]){n}, v); }
static nn_tensor mat(int r, int c, const float *v) { return nn_tensor_from(2, (int[]){r, c}, v); }
static nn_tensor zeros_like(const nn_tensor *t) { return nn_tensor_new(t->ndim, t->shape, NN_CPU); }

/* Every value of got (the answered gradient) within 1e-6 of want; before: what got held before
 * the call added to it, or NULL. A failure says where, and what kind of wrong got is. */
static void expect_values(nn_grade *g, const char *what, const nn_tensor *got, const double *want,
                          const float *before) {
  long n = nn_numel(got);
  for (long k = 0; k < n; k++)
    expect(g, fabs(got->data[k] - want[k]) < 1e-6, "%s, at %s: %.7g, expected %.7g%s", what,
           nn_grade_where(k, got->ndim, got->shape).s, got->data[k], want[k],
           nn_grade_diagnose(got->data, want, before, n, got->ndim, got->shape).s);
}

static void expect_loss(nn_grade *g, const char *what, double got, double want) {
  expect(g, fabs(got - want) < 1e-6 * fmax(1, fabs(want)), "%s = %.9g, expected %.9g", what, got, want);
}

/* ---- the definitions, in double */
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
static double ref_squared_hinge(const double *x, const ref_ctx *c) {
  double s = 0;
  for (int i = 0; i < c->N; i++) {
    double m = fmax(0, 1 - (2 * c->y[i] - 1) * x[i]);
    s += m * m;
  }
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

/* For logits too large for ref_ce: log sum_c e^(z_c), and softmax(z)_c, of a row of C. */
static double row_lse(const float *z, int C) {
  double m = z[0], s = 0;
  for (int c = 1; c < C; c++) m = fmax(m, z[c]);
  for (int c = 0; c < C; c++) s += exp(z[c] - m);
  return m + log(s);
}
static double row_softmax(const float *z, int C, int c) { return exp(z[c] - row_lse(z, C)); }
/* log(1 + e^x) without overflow */
static double softplus(double x) { return fmax(x, 0) + log1p(exp(-fabs(x))); }

static double rel_error(double a, double n) { return fabs(a - n) / fmax(fmax(fabs(a), fabs(n)), 1e-3); }

/* ---- hand-worked values */

/* [1, 2] vs [0, 0]: (1 + 4) / 2 = 2.5;  dpred = 2 r / 2 = [1, 2] */
Test(mse, by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor p = vec(2, (float[]){1, 2}), t = vec(2, (float[]){0, 0}), dp = zeros_like(&p);
  expect_loss(g, "MSE of [1, 2] vs [0, 0]", nn_mse_loss(&p, &t, &dp), 2.5);
  expect_values(g, "dMSE/dpred (2 r / M)", &dp, (double[]){1, 2}, NULL);
  /* (2, 2): r = [[1, -1], [0, 2]]: (1 + 1 + 0 + 4) / 4 = 1.5, the mean over all N D elements */
  nn_tensor P = mat(2, 2, (float[]){1, -1, 3, 2}), T = mat(2, 2, (float[]){0, 0, 3, 0});
  expect_loss(g, "MSE of a (2, 2) batch", nn_mse_loss(&P, &T, NULL), 1.5);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp), nn_tensor_free(&P), nn_tensor_free(&T);
}

/* r = [1, -2, 0]: (1 + 2 + 0) / 3 = 1;  dpred = sign(r) / 3, 0 at r = 0 */
Test(mae, by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor p = vec(3, (float[]){1, -2, 5}), t = vec(3, (float[]){0, 0, 5}), dp = zeros_like(&p);
  expect_loss(g, "MAE of r = [1, -2, 0]", nn_mae_loss(&p, &t, &dp), 1);
  expect_values(g, "dMAE/dpred (sign(r) / M, 0 at r = 0)", &dp, (double[]){1. / 3, -1. / 3, 0}, NULL);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* delta = 1, r = [0.5, -3]: 0.5 * 0.25 = 0.125 and 1 * (3 - 0.5) = 2.5, mean 1.3125;
 * dpred = [0.5, -1] / 2 */
Test(huber, by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor p = vec(2, (float[]){0.5f, -3}), t = vec(2, (float[]){0, 0}), dp = zeros_like(&p);
  expect_loss(g, "Huber (delta 1) of r = [0.5, -3]", nn_huber_loss(&p, &t, 1.f, &dp), (0.125 + 2.5) / 2);
  expect_values(g, "dHuber/dpred (r inside delta, delta sign(r) outside, / M)", &dp, (double[]){0.25, -0.5},
                NULL);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* r = [0, 1, 1000]: log cosh = [0, 0.43378..., 1000 - ln 2]; dpred = tanh(r) / 3 */
Test(log_cosh, by_hand_and_far_out) {
  nn_grade *g = nn_grade_here();
  nn_tensor p = vec(3, (float[]){0, 1, 1000}), t = vec(3, (float[]){0, 0, 0}), dp = zeros_like(&p);
  double L = nn_log_cosh_loss(&p, &t, &dp);
  cr_assert(isfinite(L), "log-cosh with r = 1000 is %g: cosh(1000) overflows; use |r| + log1p(e^-2|r|) - ln 2", L);
  expect_loss(g, "log-cosh of r = [0, 1, 1000]", L, (0 + log(cosh(1.0)) + 1000 - log(2.0)) / 3);
  expect_values(g, "dlogcosh/dpred (tanh(r) / M)", &dp, (double[]){0, tanh(1.0) / 3, 1. / 3}, NULL);
  nn_tensor_free(&p), nn_tensor_free(&t), nn_tensor_free(&dp);
}

/* z = [0, 2] as (2, 1), y = [1, 0]: (ln 2 + ln(1 + e^2)) / 2;  dz = (sigmoid(z) - y) / 2 */
Test(bce, by_hand_on_n_by_1) {
  nn_grade *g = nn_grade_here();
  nn_tensor z = mat(2, 1, (float[]){0, 2}), dz = zeros_like(&z);
  double s2 = 1 / (1 + exp(-2.0));
  expect_loss(g, "BCE of z = [0, 2], y = [1, 0]", nn_bce_loss(&z, (int[]){1, 0}, &dz),
              (log(2.0) + log1p(exp(2.0))) / 2);
  expect_values(g, "dBCE/dz", &dz, (double[]){-0.25, s2 / 2}, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* C equal logits: softmax is uniform, CE = ln C whatever the label; dz = (1/C - onehot) / N.
 * Public: C = 4, a row of 0s and a row of 7s, labels [2, 0]. Drawn: (1..8, 2..12), each row
 * its own level in [-50, 50], random labels. */
GRADED_TEST(sparse_ce, uniform_logits_give_log_C) {
  int N = nn_grade_size(g, 2, 1, MAXN), C = nn_grade_size(g, 4, 2, MAXC);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 12));
  nn_tensor z = nn_tensor_new(2, (int[]){N, C}, NN_CPU), dz = zeros_like(&z);
  int y[MAXN];
  for (int i = 0; i < N; i++) {
    float level = nn_grade_public(g) ? 7.f * (float)i : nn_rng_uniform(&rng, -50.f, 50.f);
    for (int c = 0; c < C; c++) z.data[i * C + c] = level;
    y[i] = nn_grade_public(g) ? (i == 0 ? 2 : 0) : (int)nn_rng_below(&rng, (uint32_t)C);
  }
  double L = nn_sparse_ce_loss(&z, y, &dz);
  answer(g, "the loss", &L, 1);
  answer(g, "dz", dz.data, N * C);
  char what[96];
  snprintf(what, sizeof what, "sparse CE of uniform logits (N = %d, C = %d)", N, C);
  expect_loss(g, what, L, log((double)C));
  double want[MAXN * MAXC];
  if (nn_grade_public(g))
    memcpy(want, (double[]){0.125, 0.125, -0.375, 0.125, -0.375, 0.125, 0.125, 0.125}, 8 * sizeof(double));
  else
    for (int i = 0; i < N; i++)
      for (int c = 0; c < C; c++) want[i * C + c] = (1.0 / C - (c == y[i])) / N;
  expect_values(g, "dCE/dz = (softmax - onehot) / N", &dz, want, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* One row z = [1, 2, 3], y = 0: softmax = e^z / (e + e^2 + e^3); CE = ln(e + e^2 + e^3) - 1;
 * dz held [1, 1, 1] and gets softmax - onehot added. Drawn: (1..6, 2..10), z ~ N(0, 3),
 * dz ~ N(0, 1) beforehand; the loss and the gradient from the definition, in double. */
GRADED_TEST(sparse_ce, by_hand_adds_into_dz) {
  int N = nn_grade_size(g, 1, 1, 6), C = nn_grade_size(g, 3, 2, 10);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 13));
  nn_tensor z = nn_tensor_new(2, (int[]){N, C}, NN_CPU), dz = zeros_like(&z);
  int y[MAXN] = {0};
  if (nn_grade_public(g)) {
    memcpy(z.data, (float[]){1, 2, 3}, 3 * sizeof(float));
    nn_tensor_fill(&dz, 1.f);
  } else {
    nn_rng_fill_normal(&rng, z.data, N * C, 0.f, 3.f);
    nn_rng_fill_normal(&rng, dz.data, N * C, 0.f, 1.f);
    for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&rng, (uint32_t)C);
  }
  float before[MAXN * MAXC];
  memcpy(before, dz.data, (size_t)(N * C) * sizeof(float));
  double L = nn_sparse_ce_loss(&z, y, &dz);
  answer(g, "the loss", &L, 1);
  answer(g, "dz", dz.data, N * C);
  double want_L = 0, want[MAXN * MAXC];
  if (nn_grade_public(g)) {
    double S = exp(1.0) + exp(2.0) + exp(3.0);
    want_L = log(S) - 1;
    memcpy(want, (double[]){1 + exp(1.0) / S - 1, 1 + exp(2.0) / S, 1 + exp(3.0) / S}, 3 * sizeof(double));
  } else {
    for (int i = 0; i < N; i++) {
      const float *z_i = z.data + i * C;
      want_L += (row_lse(z_i, C) - z_i[y[i]]) / N;
      for (int c = 0; c < C; c++) want[i * C + c] = before[i * C + c] + (row_softmax(z_i, C, c) - (c == y[i])) / N;
    }
  }
  expect_loss(g, nn_grade_public(g) ? "sparse CE of z = [1, 2, 3], y = 0" : "sparse CE of random logits", L, want_L);
  expect_values(g, "dz (what it held, plus (softmax - onehot) / N)", &dz, want, before);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* One-hot targets give the sparse loss and gradient; z = [0, 0] against [0.5, 0.5] is ln 2
 * with gradient 0 (the prediction is the target). Drawn: (1..6, 2..10) logits ~ N(0, 2) for
 * the first part; for the second, a random target row t of 2..8 classes (each entry
 * >= 0.2 / C) and logits log t + k: the loss is the entropy of t, the gradient 0 (both from
 * the definition, in double, at the float logits). */
GRADED_TEST(categorical_ce, one_hot_matches_sparse_and_soft_by_hand) {
  int N = nn_grade_size(g, 2, 1, 6), C = nn_grade_size(g, 3, 2, 10), C2 = nn_grade_size(g, 2, 2, 8);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 14));
  nn_tensor z = nn_tensor_new(2, (int[]){N, C}, NN_CPU), t = zeros_like(&z);
  int y[MAXN];
  if (nn_grade_public(g)) {
    memcpy(z.data, (float[]){0.3f, -1.2f, 2.f, 0.5f, 0.5f, -0.7f}, 6 * sizeof(float));
    y[0] = 2, y[1] = 0;
  } else {
    nn_rng_fill_normal(&rng, z.data, N * C, 0.f, 2.f);
    for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&rng, (uint32_t)C);
  }
  for (int i = 0; i < N; i++) t.data[i * C + y[i]] = 1.f;
  nn_tensor d1 = zeros_like(&z), d2 = zeros_like(&z);
  double a = nn_categorical_ce_loss(&z, &t, &d1), b = nn_sparse_ce_loss(&z, y, &d2);
  answer(g, "the categorical CE loss", &a, 1);
  answer(g, "the sparse CE loss", &b, 1);
  answer(g, "the categorical CE dz", d1.data, N * C);
  answer(g, "the sparse CE dz", d2.data, N * C);
  expect_loss(g, "categorical CE with one-hot rows vs sparse CE", a, b);
  for (int k = 0; k < N * C; k++)
    expect(g, fabs(d1.data[k] - d2.data[k]) < 1e-7, "dz%s: categorical %.7g, sparse %.7g",
           nn_grade_where(k, 2, d1.shape).s, d1.data[k], d2.data[k]);
  /* the prediction equal to the target */
  nn_tensor u = nn_tensor_new(2, (int[]){1, C2}, NN_CPU), soft = zeros_like(&u), du = zeros_like(&u);
  double want_L, want[MAXC];
  if (nn_grade_public(g)) {
    nn_tensor_fill(&soft, 0.5f);
    want_L = log(2.0), want[0] = want[1] = 0;
  } else {
    double total = 0, k = nn_rng_uniform(&rng, -3.f, 3.f), ud[MAXC], td[MAXC];
    for (int c = 0; c < C2; c++) total += soft.data[c] = nn_rng_uniform(&rng, 0.2f, 1.f);
    for (int c = 0; c < C2; c++) {
      soft.data[c] = (float)(soft.data[c] / total);
      u.data[c] = (float)(log(soft.data[c]) + k);
      ud[c] = u.data[c], td[c] = soft.data[c];
    }
    want_L = ref_ce(ud, &(ref_ctx){.N = 1, .C = C2, .t = td});
    for (int c = 0; c < C2; c++) want[c] = row_softmax(u.data, C2, c) - td[c];
  }
  double L = nn_categorical_ce_loss(&u, &soft, &du);
  answer(g, "the loss of a prediction equal to its target", &L, 1);
  answer(g, "its dz", du.data, C2);
  expect_loss(g, nn_grade_public(g) ? "categorical CE of z = [0, 0], t = [0.5, 0.5]"
                                    : "categorical CE of z = log t + k (the entropy of t)", L, want_L);
  expect_values(g, "dz for a prediction equal to its target", &du, want, NULL);
  nn_tensor_free(&z), nn_tensor_free(&t), nn_tensor_free(&d1), nn_tensor_free(&d2);
  nn_tensor_free(&u), nn_tensor_free(&soft), nn_tensor_free(&du);
}

/* CS231n's linear-classification notes, margin 1: scores (cat, car, frog)
 *   cat image  [3.2, 5.1, -1.7] y = cat:  max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1) = 2.9
 *   car image  [1.3, 4.9,  2.0] y = car:  0
 *   frog image [2.2, 2.5, -3.1] y = frog: 6.3 + 6.6 = 12.9          mean 15.8 / 3 */
Test(multi_hinge, cs231n_by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor z = mat(3, 3, (float[]){3.2f, 5.1f, -1.7f, 1.3f, 4.9f, 2.0f, 2.2f, 2.5f, -3.1f}), dz = zeros_like(&z);
  double L = nn_multi_hinge_loss(&z, (int[]){0, 1, 2}, &dz);
  cr_assert(fabs(L - 15.8 / 3) < 1e-5, "multi-class hinge of CS231n's example = %.7g, expected 15.8/3 = %.7g", L,
            15.8 / 3);
  double t = 1. / 3;
  expect_values(g, "dhinge/dz ([margin > 0] on j, minus their count on y, / N)", &dz,
                (double[]){-t, t, 0, 0, 0, 0, t, t, -2 * t}, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* labels {0, 1}, t = 2y - 1: z = [2, 0.5, -0.5, 0.3], y = [1, 1, 0, 0]:
 * max(0, 1 - t z) = [0, 0.5, 0.5, 1.3], mean 0.575;  dz = -t [1 - t z > 0] / 4 */
Test(binary_hinge, by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor z = vec(4, (float[]){2, 0.5f, -0.5f, 0.3f}), dz = zeros_like(&z);
  expect_loss(g, "binary hinge", nn_binary_hinge_loss(&z, (int[]){1, 1, 0, 0}, &dz), 0.575);
  expect_values(g, "dhinge/dz", &dz, (double[]){0, -0.25, 0.25, 0.25}, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* The same z and y: m = max(0, 1 - t z) = [0, 0.5, 0.5, 1.3], mean m^2 = (0.25 + 0.25 + 1.69) / 4 = 0.5475;
 * dz = -2 t m / 4 = [0, -0.25, 0.25, 0.65] */
Test(squared_hinge, by_hand) {
  nn_grade *g = nn_grade_here();
  nn_tensor z = vec(4, (float[]){2, 0.5f, -0.5f, 0.3f}), dz = zeros_like(&z);
  expect_loss(g, "squared hinge", nn_squared_hinge_loss(&z, (int[]){1, 1, 0, 0}, &dz), 0.5475);
  expect_values(g, "dsquared_hinge/dz", &dz, (double[]){0, -0.25, 0.25, 0.65}, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* z = 0: p_t = 1/2 either way; l = alpha_t (1/2)^2 ln 2 with alpha_t = 0.25 (y = 1), 0.75 (y = 0).
 * dl/dz = alpha_t s (1/2)^2 [2 (1/2) ln(1/2) - 1/2] */
Test(focal, by_hand_at_zero) {
  nn_grade *g = nn_grade_here();
  nn_tensor z = vec(2, (float[]){0, 0}), dz = zeros_like(&z);
  double L = nn_focal_loss(&z, (int[]){1, 0}, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &dz);
  expect_loss(g, "focal loss of z = [0, 0], y = [1, 0]", L, (0.25 + 0.75) * 0.25 * log(2.0) / 2);
  double d = 0.25 * (-log(2.0) - 0.5);
  expect_values(g, "dfocal/dz", &dz, (double[]){0.25 * d / 2, -0.75 * d / 2}, NULL);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* gamma = 0, alpha = 0.5 is BCE / 2; with gamma = 2 a well-classified example (z = 4, y = 1)
 * weighs (1 - p_t)^2 ~ 3e-4 of its BCE. */
Test(focal, gamma_zero_is_half_bce_and_easy_examples_fade) {
  nn_grade *g = nn_grade_here();
  nn_rng rng = nn_rng_new(5);
  float zv[6];
  int y[6];
  nn_rng_fill_normal(&rng, zv, 6, 0.f, 2.f);
  for (int i = 0; i < 6; i++) y[i] = (int)nn_rng_below(&rng, 2);
  nn_tensor z = vec(6, zv), df = zeros_like(&z), db = zeros_like(&z);
  double f = nn_focal_loss(&z, y, 0.5f, 0.f, &df), b = nn_bce_loss(&z, y, &db);
  expect_loss(g, "focal (gamma 0, alpha 0.5) vs BCE / 2", f, b / 2);
  for (int i = 0; i < 6; i++)
    cr_assert(fabs(df.data[i] - db.data[i] / 2) < 1e-7, "dz[%d]: focal %.7g, BCE/2 %.7g", i, df.data[i],
              db.data[i] / 2);
  nn_tensor e = vec(1, (float[]){4});
  double ratio = nn_focal_loss(&e, (int[]){1}, 1.f, 2.f, NULL) / nn_bce_loss(&e, (int[]){1}, NULL);
  double q = 1 / (1 + exp(4.0));
  cr_assert(fabs(ratio - q * q) < 1e-6, "focal / BCE at z = 4, y = 1 is %g, expected (1 - p_t)^2 = %g", ratio, q * q);
  nn_tensor_free(&z), nn_tensor_free(&df), nn_tensor_free(&db), nn_tensor_free(&e);
}

/* ---- large logits: everything finite, the confident-wrong loss ~ the logit gap.
 * Public: B = 1000 and the hand-worked rows below. Drawn: B in 200..3000, (1..6, 2..8) logits
 * each -B, 0 or B with random labels (the losses from the definition, in double, row by
 * row with the max taken out), and 1..6 binary logits of +-B. */
static double focal_at(double z, int y, double alpha, double gamma) { /* one example, stable */
  double s = 2 * y - 1, at = y ? alpha : 1 - alpha;
  return at * pow(1 / (1 + exp(s * z)), gamma) * softplus(-s * z); /* (1 - p_t)^gamma (-log p_t) */
}

GRADED_TEST(losses, large_logits_are_finite) {
  int B = nn_grade_size(g, 1000, 200, 3000);
  int N = nn_grade_size(g, 2, 1, 6), C = nn_grade_size(g, 3, 2, 8), Nb = nn_grade_size(g, 2, 1, 6);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 15));
  nn_tensor z = nn_tensor_new(2, (int[]){N, C}, NN_CPU), dz = zeros_like(&z), t = zeros_like(&z);
  nn_tensor b = nn_tensor_new(1, (int[]){Nb}, NN_CPU), db = zeros_like(&b);
  int y[MAXN], wrong[MAXN], right[MAXN];
  if (nn_grade_public(g)) { /* row 0 wrong by 1000, row 1 right */
    memcpy(z.data, (float[]){1000, 0, -1000, -1000, 1000, 0}, 6 * sizeof(float));
    y[0] = y[1] = 1;
    b.data[0] = 1000.f, b.data[1] = -1000.f;
  } else {
    for (int k = 0; k < N * C; k++) z.data[k] = (float)B * ((float)nn_rng_below(&rng, 3) - 1.f);
    for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&rng, (uint32_t)C);
    for (int i = 0; i < Nb; i++) b.data[i] = nn_rng_below(&rng, 2) ? (float)B : (float)-B;
  }
  for (int i = 0; i < N; i++) t.data[i * C + y[i]] = 1.f;
  for (int i = 0; i < Nb; i++) wrong[i] = b.data[i] < 0.f, right[i] = b.data[i] > 0.f;
  double want_ce = 0, want_bce = 0, want_focal = 0, want_dz[MAXN * 8];
  for (int i = 0; i < N; i++) {
    want_ce += (row_lse(z.data + i * C, C) - z.data[i * C + y[i]]) / N;
    for (int c = 0; c < C; c++) want_dz[i * C + c] = (row_softmax(z.data + i * C, C, c) - (c == y[i])) / N;
  }
  for (int i = 0; i < Nb; i++) {
    want_bce += softplus(-(2 * wrong[i] - 1) * (double)b.data[i]) / Nb;
    want_focal += focal_at(b.data[i], wrong[i], NN_FOCAL_ALPHA, NN_FOCAL_GAMMA) / Nb;
  }
  if (nn_grade_public(g)) {
    want_ce = 500, want_bce = 1000, want_focal = (0.75 + 0.25) * 1000 / 2;
    memcpy(want_dz, (double[]){0.5, -0.5, 0, 0, 0, 0}, 6 * sizeof(double));
  }
  double tol = 1e-6 * fmax(1000, want_ce); /* 1e-3 at the public 500 */
  char what[64];
  snprintf(what, sizeof what, "dCE/dz at logits of %d", B);

  double L = nn_sparse_ce_loss(&z, y, &dz);
  answer(g, "the sparse CE loss", &L, 1);
  answer(g, "the sparse CE dz", dz.data, N * C);
  expect(g, isfinite(L) && fabs(L - want_ce) < tol, "sparse CE with logits of %d = %g, expected %.9g "
         "(subtract the row max before e^)", B, L, want_ce);
  expect_values(g, what, &dz, want_dz, NULL);
  nn_tensor dc = zeros_like(&z);
  L = nn_categorical_ce_loss(&z, &t, &dc);
  answer(g, "the categorical CE loss", &L, 1);
  answer(g, "the categorical CE dz", dc.data, N * C);
  expect(g, isfinite(L) && fabs(L - want_ce) < tol, "categorical CE with logits of %d = %g, expected %.9g", B, L,
         want_ce);
  snprintf(what, sizeof what, "dcategorical/dz at logits of %d", B);
  expect_values(g, what, &dc, want_dz, NULL);

  L = nn_bce_loss(&b, wrong, &db);
  answer(g, "the BCE loss of wrong logits", &L, 1);
  expect(g, isfinite(L) && fabs(L - want_bce) < 1e-6 * fmax(1000, want_bce),
         "BCE of confidently wrong logits of +-%d = %g, expected %.9g", B, L, want_bce);
  nn_tensor_fill(&db, 0.f);
  L = nn_focal_loss(&b, wrong, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &db);
  answer(g, "the focal loss of wrong logits", &L, 1);
  answer(g, "its dz", db.data, Nb);
  expect(g, isfinite(L) && fabs(L - want_focal) < 1e-6 * fmax(1000, want_focal),
         "focal of confidently wrong logits of +-%d = %g, expected %.9g (alpha_t |z| per example)", B, L,
         want_focal);
  for (int i = 0; i < Nb; i++)
    expect(g, isfinite(db.data[i]), "dfocal/dz[%d] = %g for a logit of %g", i, db.data[i], b.data[i]);
  nn_tensor_fill(&db, 0.f);
  L = nn_focal_loss(&b, right, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &db);
  answer(g, "the focal loss of right logits", &L, 1);
  answer(g, "their dz", db.data, Nb);
  expect(g, isfinite(L) && L >= 0 && L < 1e-30, "focal of confidently right logits of +-%d = %g; expected 0", B, L);
  for (int i = 0; i < Nb; i++)
    expect(g, db.data[i] == 0.f, "focal of confidently right logits: dz[%d] = %g; expected 0", i, db.data[i]);
  nn_tensor_free(&z), nn_tensor_free(&dz), nn_tensor_free(&t), nn_tensor_free(&dc);
  nn_tensor_free(&b), nn_tensor_free(&db);
}

/* ---- gradient checks against the double reference: batch 5 and 4 classes (or 4 regression
 * outputs) in public; drawn: batch 1..8 and 2..7 classes or outputs. The loss and the
 * gradient are the answers; the reference loss and its central differences come from the
 * inputs alone. */
enum { GN = 5, GC = 4 };

static void draw_sizes(nn_grade *g, int *N, int *C) {
  *N = nn_grade_size(g, GN, 1, MAXN);
  *C = nn_grade_size(g, GC, 2, 7);
}

/* The returned loss against the reference, then every element of the analytic gradient
 * against (f(x + h) - f(x - h)) / 2h. */
static void gradcheck(nn_grade *g, const char *op, ref_loss f, const ref_ctx *c, const nn_tensor *x, double loss,
                      nn_tensor *dx) {
  int n = c->N * c->C;
  char what[48];
  snprintf(what, sizeof what, "%s: loss", op);
  answer(g, what, &loss, 1);
  snprintf(what, sizeof what, "%s: gradient", op);
  answer(g, what, dx->data, n);
  double xd[MAXN * MAXC] = {0}, h = 1e-5;
  for (int k = 0; k < n; k++) xd[k] = x->data[k];
  double want = f(xd, c);
  expect(g, fabs(loss - want) < 1e-6 * fmax(1, fabs(want)), "%s returned %.9g, the definition gives %.9g (x is %s)",
         op, loss, want, nn_shape_str(x).s);
  double numeric[MAXN * MAXC];
  for (int k = 0; k < n; k++) {
    double keep = xd[k];
    xd[k] = keep + h;
    double up = f(xd, c);
    xd[k] = keep - h;
    double down = f(xd, c);
    xd[k] = keep;
    numeric[k] = (up - down) / (2 * h);
  }
  for (int k = 0; k < n; k++) /* a failure says where, and what kind of wrong the whole gradient is */
    expect(g, rel_error(dx->data[k], numeric[k]) < 1e-3, "%s: d/dx%s of %s: analytic %.7g, numeric %.7g (relative "
           "error %.2g)%s", op, nn_grade_where(k, dx->ndim, dx->shape).s, nn_shape_str(x).s, dx->data[k], numeric[k],
           rel_error(dx->data[k], numeric[k]), nn_grade_diagnose(dx->data, numeric, NULL, n, dx->ndim, dx->shape).s);
}

/* A regression problem, (N, C): targets ~ N(0, 1), pred = target + r with
 * |r| in [lo, hi] of random sign, or r ~ N(0, 1.5) when lo = hi = 0. */
typedef struct {
  nn_tensor pred, target, dpred;
  double t[MAXN * MAXC];
} reg_problem;

static reg_problem reg_problem_new(int N, int C, uint64_t seed, double lo, double hi, double lo2, double hi2) {
  reg_problem p;
  nn_rng rng = nn_rng_new(seed);
  p.target = nn_tensor_new(2, (int[]){N, C}, NN_CPU);
  p.pred = zeros_like(&p.target), p.dpred = zeros_like(&p.target);
  nn_rng_fill_normal(&rng, p.target.data, N * C, 0.f, 1.f);
  for (int k = 0; k < N * C; k++) {
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

GRADED_TEST(mse, gradcheck) {
  int N, C;
  draw_sizes(g, &N, &C);
  reg_problem p = reg_problem_new(N, C, nn_grade_seed(g, 1), 0, 0, 0, 0);
  double L = nn_mse_loss(&p.pred, &p.target, &p.dpred);
  gradcheck(g, "nn_mse_loss", ref_mse, &(ref_ctx){.N = N, .C = C, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

GRADED_TEST(mae, gradcheck) {
  int N, C;
  draw_sizes(g, &N, &C);
  reg_problem p = reg_problem_new(N, C, nn_grade_seed(g, 2), 0.1, 2, 0, 0);
  double L = nn_mae_loss(&p.pred, &p.target, &p.dpred);
  gradcheck(g, "nn_mae_loss", ref_mae, &(ref_ctx){.N = N, .C = C, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

GRADED_TEST(huber, gradcheck_on_both_sides_of_delta) {
  int N, C; /* C >= 2: both sides of delta in every draw */
  draw_sizes(g, &N, &C);
  /* delta 1: half inside, half outside */
  reg_problem p = reg_problem_new(N, C, nn_grade_seed(g, 3), 0.05, 0.8, 1.2, 3);
  double L = nn_huber_loss(&p.pred, &p.target, 1.f, &p.dpred);
  gradcheck(g, "nn_huber_loss", ref_huber, &(ref_ctx){.N = N, .C = C, .t = p.t, .delta = 1}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

GRADED_TEST(log_cosh, gradcheck) {
  int N, C;
  draw_sizes(g, &N, &C);
  reg_problem p = reg_problem_new(N, C, nn_grade_seed(g, 4), 0, 0, 0, 0);
  double L = nn_log_cosh_loss(&p.pred, &p.target, &p.dpred);
  gradcheck(g, "nn_log_cosh_loss", ref_log_cosh, &(ref_ctx){.N = N, .C = C, .t = p.t}, &p.pred, L, &p.dpred);
  reg_problem_free(&p);
}

/* Binary logits (N) ~ N(0, 2), labels in {0, 1}; for the hinge, |1 - t z| >= 0.05 and
 * example 0 inside the margin (1 - t z > 0), so that the gradient is never all zero. */
static nn_tensor binary_logits(int N, uint64_t seed, int *y, bool away_from_hinge) {
  nn_rng rng = nn_rng_new(seed);
  nn_tensor z = nn_tensor_new(1, (int[]){N}, NN_CPU);
  for (int i = 0; i < N; i++) {
    y[i] = (int)nn_rng_below(&rng, 2);
    double m;
    do {
      z.data[i] = nn_rng_normal(&rng, 0.f, 2.f);
      m = 1 - (2 * y[i] - 1) * (double)z.data[i];
    } while (away_from_hinge && (fabs(m) < 0.05 || (i == 0 && m < 0)));
  }
  return z;
}

GRADED_TEST(bce, gradcheck) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = binary_logits(N, nn_grade_seed(g, 5), y, false), dz = zeros_like(&z);
  double L = nn_bce_loss(&z, y, &dz);
  gradcheck(g, "nn_bce_loss", ref_bce, &(ref_ctx){.N = N, .C = 1, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

GRADED_TEST(binary_hinge, gradcheck) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = binary_logits(N, nn_grade_seed(g, 6), y, true), dz = zeros_like(&z);
  double L = nn_binary_hinge_loss(&z, y, &dz);
  gradcheck(g, "nn_binary_hinge_loss", ref_binary_hinge, &(ref_ctx){.N = N, .C = 1, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

GRADED_TEST(squared_hinge, gradcheck) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = binary_logits(N, nn_grade_seed(g, 16), y, true), dz = zeros_like(&z);
  double L = nn_squared_hinge_loss(&z, y, &dz);
  gradcheck(g, "nn_squared_hinge_loss", ref_squared_hinge, &(ref_ctx){.N = N, .C = 1, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

GRADED_TEST(focal, gradcheck_default_and_fractional_gamma) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = binary_logits(N, nn_grade_seed(g, 7), y, false), dz = zeros_like(&z);
  double L = nn_focal_loss(&z, y, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, &dz);
  gradcheck(g, "nn_focal_loss (alpha 0.25, gamma 2)", ref_focal,
            &(ref_ctx){.N = N, .C = 1, .y = y, .alpha = 0.25, .gamma = 2}, &z, L, &dz);
  nn_tensor_fill(&dz, 0.f);
  L = nn_focal_loss(&z, y, 0.6f, 1.5f, &dz);
  gradcheck(g, "nn_focal_loss (alpha 0.6, gamma 1.5)", ref_focal,
            &(ref_ctx){.N = N, .C = 1, .y = y, .alpha = 0.6f, .gamma = 1.5}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* Multi-class logits (N, C) ~ N(0, 2), labels in 0..C-1; for the hinge every margin
 * z_j - z_y + 1 (j != y) at least 0.05 from 0, and row 0 with a positive one (so the
 * loss and its gradient are never all zero). */
static nn_tensor class_logits(int N, int C, uint64_t seed, int *y, bool away_from_hinge) {
  nn_rng rng = nn_rng_new(seed);
  nn_tensor z = nn_tensor_new(2, (int[]){N, C}, NN_CPU);
  for (int i = 0; i < N; i++) {
    float *z_i = z.data + i * C;
    y[i] = (int)nn_rng_below(&rng, (uint32_t)C);
    bool near_kink, active;
    do {
      nn_rng_fill_normal(&rng, z_i, C, 0.f, 2.f);
      near_kink = false, active = false;
      for (int j = 0; j < C; j++) {
        double margin = (double)z_i[j] - z_i[y[i]] + 1;
        if (j != y[i] && fabs(margin) < 0.05) near_kink = true;
        if (j != y[i] && margin > 0) active = true;
      }
    } while (away_from_hinge && (near_kink || (i == 0 && !active)));
  }
  return z;
}

GRADED_TEST(sparse_ce, gradcheck) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = class_logits(N, C, nn_grade_seed(g, 8), y, false), dz = zeros_like(&z);
  double L = nn_sparse_ce_loss(&z, y, &dz);
  gradcheck(g, "nn_sparse_ce_loss", ref_ce, &(ref_ctx){.N = N, .C = C, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

GRADED_TEST(categorical_ce, gradcheck_with_soft_targets) {
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = class_logits(N, C, nn_grade_seed(g, 9), y, false), dz = zeros_like(&z), t = zeros_like(&z);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 10));
  double td[MAXN * MAXC];
  for (int i = 0; i < N; i++) { /* a random distribution per row */
    double sum = 0;
    for (int c = 0; c < C; c++) sum += t.data[i * C + c] = nn_rng_uniform(&rng, 0.f, 1.f);
    for (int c = 0; c < C; c++) td[i * C + c] = t.data[i * C + c] = (float)(t.data[i * C + c] / sum);
  }
  double L = nn_categorical_ce_loss(&z, &t, &dz);
  gradcheck(g, "nn_categorical_ce_loss", ref_ce, &(ref_ctx){.N = N, .C = C, .t = td}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz), nn_tensor_free(&t);
}

GRADED_TEST(multi_hinge, gradcheck) { /* class_logits gives row 0 an active margin: the loss is > 0 */
  int N, C, y[MAXN];
  draw_sizes(g, &N, &C);
  nn_tensor z = class_logits(N, C, nn_grade_seed(g, 11), y, true), dz = zeros_like(&z);
  double L = nn_multi_hinge_loss(&z, y, &dz);
  gradcheck(g, "nn_multi_hinge_loss", ref_multi_hinge, &(ref_ctx){.N = N, .C = C, .y = y}, &z, L, &dz);
  nn_tensor_free(&z), nn_tensor_free(&dz);
}

/* ---- every loss: two calls double the gradient, NULL skips it and changes nothing.
 * Batch 5 and 4 classes or outputs in public; drawn as the gradchecks are. */
enum { MSE, MAE, HUBER, LOG_COSH, BCE, BINARY_HINGE, FOCAL, SPARSE_CE, CATEGORICAL_CE, MULTI_HINGE, N_LOSSES };
static const char *const NAMES[N_LOSSES] = {"nn_mse_loss",   "nn_mae_loss",          "nn_huber_loss",
                                            "nn_log_cosh_loss", "nn_bce_loss",       "nn_binary_hinge_loss",
                                            "nn_focal_loss", "nn_sparse_ce_loss",    "nn_categorical_ce_loss",
                                            "nn_multi_hinge_loss"};

typedef struct {
  nn_tensor a, b, bin, cls, probs; /* pred, target (N, C); binary logits (N); class logits and targets (N, C) */
  int ybin[MAXN], ycls[MAXN];
} zoo;

static zoo zoo_new(nn_grade *g) {
  zoo z;
  int N, C;
  draw_sizes(g, &N, &C);
  uint64_t s_reg = nn_grade_seed(g, 20), s_bin = nn_grade_seed(g, 21), s_cls = nn_grade_seed(g, 22);
  reg_problem p = reg_problem_new(N, C, s_reg, 0.1, 3, 0, 0);
  z.a = p.pred, z.b = p.target;
  nn_tensor_free(&p.dpred);
  z.bin = binary_logits(N, s_bin, z.ybin, true);
  z.cls = class_logits(N, C, s_cls, z.ycls, true);
  z.probs = zeros_like(&z.cls);
  for (int i = 0; i < N; i++) z.probs.data[i * C + z.ycls[i]] = 1.f;
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

GRADED_TEST(losses, gradients_accumulate_and_null_skips_them) {
  zoo z = zoo_new(g);
  for (int w = 0; w < N_LOSSES; w++) {
    nn_tensor once = zeros_like(input_of(&z, w)), twice = zeros_like(input_of(&z, w));
    long n = nn_numel(&once);
    double L1 = call(&z, w, &once);
    call(&z, w, &twice);
    call(&z, w, &twice);
    double L0 = call(&z, w, NULL);
    char what[48];
    snprintf(what, sizeof what, "%s: loss with a gradient", NAMES[w]);
    answer(g, what, &L1, 1);
    snprintf(what, sizeof what, "%s: loss with NULL", NAMES[w]);
    answer(g, what, &L0, 1);
    snprintf(what, sizeof what, "%s: grad after one call", NAMES[w]);
    answer(g, what, once.data, n);
    snprintf(what, sizeof what, "%s: grad after two calls", NAMES[w]);
    answer(g, what, twice.data, n);
    expect(g, L0 == L1, "%s: %.9g with a NULL gradient, %.9g with one; they must agree", NAMES[w], L0, L1);
    float norm = 0;
    double want[MAXN * MAXC]; /* two calls: twice one call's; before the second, one call's */
    for (long k = 0; k < n; k++) want[k] = 2.0 * once.data[k];
    for (long k = 0; k < n; k++) {
      norm += fabsf(once.data[k]);
      expect(g, fabsf(twice.data[k] - 2 * once.data[k]) <= 1e-6f * fmaxf(1.f, fabsf(once.data[k])),
             "%s: grad%s = %g after two calls, expected 2 x %g: add into the gradient (+=), never overwrite it%s",
             NAMES[w], nn_grade_where(k, twice.ndim, twice.shape).s, twice.data[k], once.data[k],
             nn_grade_diagnose(twice.data, want, once.data, n, twice.ndim, twice.shape).s);
    }
    expect(g, norm > 0, "%s: the gradient is all zero on this problem", NAMES[w]);
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

/* ---- the table: each row is its function, and lends the GPU path the caller's arena */

/* The named function a row stands for, called directly (no arena). */
static double named_loss(nn_loss_kind k, const nn_tensor *pred, const nn_target *t, nn_tensor *dpred) {
  switch (k) {
  case NN_LOSS_SPARSE_CE: return nn_sparse_ce_loss(pred, t->labels, dpred);
  case NN_LOSS_BCE: return nn_bce_loss(pred, t->labels, dpred);
  case NN_LOSS_FOCAL: return nn_focal_loss(pred, t->labels, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, dpred);
  case NN_LOSS_BINARY_HINGE: return nn_binary_hinge_loss(pred, t->labels, dpred);
  case NN_LOSS_MULTI_HINGE: return nn_multi_hinge_loss(pred, t->labels, dpred);
  case NN_LOSS_MSE: return nn_mse_loss(pred, t->Y, dpred);
  case NN_LOSS_MAE: return nn_mae_loss(pred, t->Y, dpred);
  case NN_LOSS_HUBER: return nn_huber_loss(pred, t->Y, 1.f, dpred);
  case NN_LOSS_LOG_COSH: return nn_log_cosh_loss(pred, t->Y, dpred);
  case NN_LOSS_CATEGORICAL_CE: return nn_categorical_ce_loss(pred, t->Y, dpred);
  case NN_LOSS_SQUARED_HINGE: return nn_squared_hinge_loss(pred, t->labels, dpred);
  case NN_LOSS_COUNT: break;
  }
  cr_assert_fail("no named function for loss kind %d", (int)k);
  return 0;
}

Test(loss_table, every_row_gives_its_functions_bits_and_borrows_nothing_on_the_cpu) {
  enum { N = 6, C = 4 };
  nn_rng rng = nn_rng_new(31);
  nn_arena *scratch = nn_arena_new(NN_CPU);
  int labels[N];
  for (int i = 0; i < N; i++) labels[i] = (int)nn_rng_below(&rng, 2); /* a class of every loss here */
  for (int k = 0; k < NN_LOSS_COUNT; k++) {
    const nn_loss *row = nn_loss_of((nn_loss_kind)k);
    int cols = row->outputs == 1 ? 1 : C;
    nn_tensor pred = nn_tensor_new(2, (int[]){N, cols}, NN_CPU), Y = nn_tensor_new(2, (int[]){N, cols}, NN_CPU);
    nn_rng_fill_uniform(&rng, pred.data, nn_numel(&pred), -2.f, 2.f);
    nn_rng_fill_uniform(&rng, Y.data, nn_numel(&Y), -2.f, 2.f);
    if (row->outputs != 0 && !row->takes_labels) { /* a classifier's targets: one-hot rows */
      nn_tensor_free(&Y);
      Y = nn_to_categorical(labels, N, cols);
    }
    nn_target target = {.labels = labels, .Y = &Y};
    nn_tensor d_row = zeros_like(&pred), d_named = zeros_like(&pred);
    double by_row = row->mean(row, &pred, &target, &d_row, scratch);
    double by_name = named_loss((nn_loss_kind)k, &pred, &target, &d_named);
    cr_expect_eq(by_row, by_name, "%s: the row gives %.17g, its function %.17g", row->name, by_row, by_name);
    cr_expect_eq(memcmp(d_row.data, d_named.data, nn_tensor_bytes(&pred)), 0, "%s: the gradients differ",
                 row->name);
    nn_tensor_free(&pred), nn_tensor_free(&Y), nn_tensor_free(&d_row), nn_tensor_free(&d_named);
  }
  cr_expect_eq(nn_arena_used(scratch), 0, "the CPU losses took %zu bytes of the arena; they need none",
               nn_arena_used(scratch));
  nn_arena_free(scratch);
}

/* The check comes before any CUDA call, so a tensor that only claims the GPU is enough. */
Test(loss_table, a_scratch_arena_on_another_device_aborts, .signal = SIGABRT) {
  float v[2 * 3] = {0};
  nn_tensor z = {.data = v, .shape = {2, 3}, .ndim = 2, .device = NN_GPU};
  nn_arena *cpu = nn_arena_new(NN_CPU);
  const nn_loss *row = nn_loss_of(NN_LOSS_SPARSE_CE);
  row->mean(row, &z, &(nn_target){.labels = (int[]){0, 2}}, NULL, cpu);
}
