/* Softmax regression: the cross-entropy by hand and at extreme logits, the
 * gradient against central differences of a double-precision loss written here
 * from the formula, and test accuracy on iris (>= 90 %) and digits (>= 93 %).
 *
 *   L = 1/n sum_i -log softmax(Z_i)_{y_i} + lambda/2 ||W||^2,   Z = X W^T + b
 *
 * Tests run from the repository root (the bundled CSVs). */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_csv.h"
#include "nn_logistic.h"
#include "nn_rng.h"
#include "nn_scaler.h"
#include "nn_softmax_reg.h"
#include "nn_split.h"

/* ---- softmax cross-entropy by hand */
Test(softmax_xent, uniform_logits_give_log_C) { /* n = 2, C = 4, Z = 0: L = ln 4, dZ = (1/4 - onehot)/2 */
  float z[8] = {0}, dz[8] = {0};
  int y[2] = {1, 3};
  double L = nn_softmax_xent(z, y, 2, 4, dz);
  cr_assert_float_eq(L, log(4.0), 1e-6, "cross-entropy of uniform logits over C = 4 is %.9g, expected "
                     "ln 4 = %.9g", L, log(4.0));
  for (int i = 0; i < 2; i++)
    for (int c = 0; c < 4; c++) {
      double want = (0.25 - (c == y[i])) / 2;
      cr_assert_float_eq(dz[i * 4 + c], want, 1e-6, "dz[%d][%d] = %g, expected (softmax - onehot)/n = %g",
                         i, c, dz[i * 4 + c], want);
    }
}

/* z = [1, 2, 3], y = 2: L = ln(e + e^2 + e^3) - 3; dz = softmax(z) - [0, 0, 1], added to dz. */
Test(softmax_xent, by_hand_adds_into_dz) {
  float z[3] = {1.f, 2.f, 3.f}, dz[3] = {1.f, 1.f, 1.f};
  double s = exp(1.0) + exp(2.0) + exp(3.0);
  double L = nn_softmax_xent(z, (int[]){2}, 1, 3, dz);
  cr_assert_float_eq(L, log(s) - 3, 1e-6, "cross-entropy of z = [1, 2, 3], y = 2 is %.9g, expected "
                     "ln(e + e^2 + e^3) - 3 = %.9g", L, log(s) - 3);
  for (int c = 0; c < 3; c++) {
    double want = 1 + exp(c + 1.0) / s - (c == 2);
    cr_assert_float_eq(dz[c], want, 1e-6, "dz[%d] = %.7g: it held 1, plus softmax - onehot gives %.7g "
                       "(dz is added to, not overwritten)", c, dz[c], want);
  }
}

/* e^100 overflows a float: subtract the row's max first. */
Test(softmax_xent, large_logits_are_finite) {
  float z[2][3] = {{100.f, -100.f, 0.f}, {1000.f, 0.f, -1000.f}}, dz[6] = {0};
  double L = nn_softmax_xent(&z[0][0], (int[]){1, 0}, 2, 3, dz);
  double want = (200 + log1p(exp(-100.0) + exp(-200.0))) / 2; /* row 1 wrong by 200, row 2 right */
  cr_assert(isfinite(L) && fabs(L - want) < 1e-6, "cross-entropy of logits +-100, +-1000 is %g, expected "
            "%.9g (subtract max_c z_ic before exp)", L, want);
  for (int k = 0; k < 6; k++) cr_assert(isfinite(dz[k]), "dz[%d] = %g is not finite", k, dz[k]);
  cr_assert(fabs(dz[0] - 0.5f) < 1e-6f && fabs(dz[1] + 0.5f) < 1e-6f,
            "row 1: dz = [%g, %g, %g], expected [0.5, -0.5, 0] (softmax is [1, 0, 0], y = 1, n = 2)",
            dz[0], dz[1], dz[2]);
}

/* C = 2 is logistic regression: softmax over (0, z) is (1 - s(z), s(z)). */
Test(softmax_xent, two_classes_equal_binary_cross_entropy) {
  float z2[4][2] = {{0, -3}, {0, 0.5f}, {0, 2}, {0, -0.25f}}, z1[4] = {-3, 0.5f, 2, -0.25f};
  int y[4] = {0, 1, 1, 0};
  float dz2[8] = {0}, dz1[4] = {0};
  double L2 = nn_softmax_xent(&z2[0][0], y, 4, 2, dz2), L1 = nn_bce_with_logits(z1, y, 4, dz1);
  cr_assert_float_eq(L2, L1, 1e-6, "softmax cross-entropy of rows (0, z) is %.9g, binary cross-entropy "
                     "of z is %.9g; they must agree", L2, L1);
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(dz2[i * 2 + 1], dz1[i], 1e-6, "row %d: dL/dz_i1 = %g, binary dL/dz_i = %g", i,
                       dz2[i * 2 + 1], dz1[i]);
}

/* ---- gradient check on a small random problem, n = 7, D = 5, C = 3, lambda = 0.1 */
enum { GN = 7, GD = 5, GC = 3, NP = GC * GD + GC /* W, then b */ };
static const float LAMBDA = 0.1f;

typedef struct {
  nn_tensor X; /* (GN, GD) */
  int y[GN];
  nn_softmax_reg m;
} small_problem;

static small_problem small_problem_new(uint64_t seed) {
  small_problem p;
  nn_rng rng = nn_rng_new(seed);
  p.X = nn_tensor_new(2, (int[]){GN, GD}, NN_CPU);
  nn_rng_fill_normal(&rng, p.X.data, GN * GD, 0.f, 1.f);
  for (int i = 0; i < GN; i++) p.y[i] = (int)nn_rng_below(&rng, GC);
  p.m = nn_softmax_reg_new(GD, GC);
  nn_rng_fill_normal(&rng, p.m.W.data, GC * GD, 0.f, 0.5f);
  nn_rng_fill_normal(&rng, p.m.b.data, GC, 0.f, 0.5f);
  return p;
}

static void small_problem_free(small_problem *p) {
  nn_tensor_free(&p->X);
  nn_softmax_reg_free(&p->m);
}

/* L(theta) in double from the definition; theta = W (C, D) row-major, then b (C). */
static double loss_double(const small_problem *p, const double *theta) {
  const double *W = theta, *b = theta + GC * GD;
  double L = 0, W2 = 0;
  for (int i = 0; i < GN; i++) {
    double z[GC], s = 0;
    for (int c = 0; c < GC; c++) {
      z[c] = b[c];
      for (int d = 0; d < GD; d++) z[c] += W[c * GD + d] * p->X.data[i * GD + d];
      s += exp(z[c]);
    }
    L += -log(exp(z[p->y[i]]) / s);
  }
  for (int k = 0; k < GC * GD; k++) W2 += W[k] * W[k];
  return L / GN + 0.5 * LAMBDA * W2;
}

/* |a - n| / max(|a|, |n|, 1e-3): relative, except that gradients near 0 are compared
 * absolutely (a float sum of 7 terms is good to about 1e-7, not to 1e-3 of 1e-6). */
static double rel_error(double a, double n) { return fabs(a - n) / fmax(fmax(fabs(a), fabs(n)), 1e-3); }

Test(softmax_reg, gradcheck_with_l2) {
  small_problem p = small_problem_new(21);
  float work[2 * GN * GC];
  nn_softmax_reg_zero_grad(&p.m);
  double L = nn_softmax_reg_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  double theta[NP], h = 1e-5;
  for (int k = 0; k < GC * GD; k++) theta[k] = p.m.W.data[k];
  for (int c = 0; c < GC; c++) theta[GC * GD + c] = p.m.b.data[c];
  double L_ref = loss_double(&p, theta);
  cr_assert(fabs(L - L_ref) < 1e-5 * fmax(1, L_ref), "nn_softmax_reg_loss_grad returned L = %.9g, the "
            "definition gives %.9g (is lambda/2 ||W||^2 added?)", L, L_ref);
  for (int k = 0; k < NP; k++) {
    double keep = theta[k];
    theta[k] = keep + h;
    double up = loss_double(&p, theta);
    theta[k] = keep - h;
    double down = loss_double(&p, theta);
    theta[k] = keep;
    double numeric = (up - down) / (2 * h);
    bool is_W = k < GC * GD;
    double analytic = is_W ? p.m.dW.data[k] : p.m.db.data[k - GC * GD];
    char name[24];
    if (is_W) snprintf(name, sizeof name, "dW[%d][%d]", k / GD, k % GD);
    else snprintf(name, sizeof name, "db[%d]", k - GC * GD);
    cr_assert(rel_error(analytic, numeric) < 1e-3,
              "%s: analytic %.7g, numeric %.7g (relative error %.2g); dL/dZ = (softmax(Z) - onehot(y))/n, "
              "dL/dW = dZ^T X + lambda W, dL/db = sum_i dZ_i", name, analytic, numeric,
              rel_error(analytic, numeric));
  }
  small_problem_free(&p);
}

/* Backward adds: two calls without zeroing give twice the gradient. */
Test(softmax_reg, loss_grad_accumulates) {
  small_problem p = small_problem_new(22);
  float work[2 * GN * GC], dW_once[GC * GD], db_once[GC];
  nn_softmax_reg_zero_grad(&p.m);
  nn_softmax_reg_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  for (int k = 0; k < GC * GD; k++) dW_once[k] = p.m.dW.data[k];
  for (int c = 0; c < GC; c++) db_once[c] = p.m.db.data[c];
  nn_softmax_reg_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  for (int k = 0; k < GC * GD; k++)
    cr_assert_float_eq(p.m.dW.data[k], 2 * dW_once[k], 1e-6f, "dW[%d][%d] = %g after two calls, expected "
                       "2 x %g: the gradient must be added to dW, not written over it", k / GD, k % GD,
                       p.m.dW.data[k], dW_once[k]);
  for (int c = 0; c < GC; c++)
    cr_assert_float_eq(p.m.db.data[c], 2 * db_once[c], 1e-6f, "db[%d] = %g after two calls, expected 2 x %g",
                       c, p.m.db.data[c], db_once[c]);
  small_problem_free(&p);
}

/* Rows of P sum to 1, and predict is the argmax of P. */
Test(softmax_reg, predict_proba_rows_sum_to_one_and_predict_is_argmax) {
  small_problem p = small_problem_new(23);
  float P[GN * GC];
  int yhat[GN];
  nn_softmax_reg_predict_proba(&p.m, &p.X, P);
  nn_softmax_reg_predict(&p.m, &p.X, yhat);
  for (int i = 0; i < GN; i++) {
    double s = 0;
    int best = 0;
    for (int c = 0; c < GC; c++) s += P[i * GC + c], best = P[i * GC + c] > P[i * GC + best] ? c : best;
    cr_assert_float_eq(s, 1.0, 1e-5, "row %d of P sums to %.7g", i, s);
    cr_assert_eq(yhat[i], best, "yhat[%d] = %d, but the largest probability is class %d", i, yhat[i], best);
  }
  small_problem_free(&p);
}

/* ---- iris and digits: a stratified 80/20 split, a standard scaler fitted on the
 * training rows. Over split seeds 1..20 the options below score iris 27..30 of 30 right
 * (90 % is 27) and digits 342..355 of 360 (93 % is 335); SPLIT_SEED gives 29 and 350. */
enum { SPLIT_SEED = 2 };

typedef struct {
  nn_tensor x_train, x_test;
  int *y_train, *y_test;
} tabular_split;

static tabular_split load_split(const char *path, int C) {
  nn_table t;
  nn_error err = {0};
  nn_status st = nn_csv_load(path, &(nn_csv_options){.target = "target"}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  int *y = NULL;
  st = nn_table_labels(&t, path, C, &y, &err); /* the target column as class ids 0..C-1 */
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  nn_rng rng = nn_rng_new(SPLIT_SEED);
  nn_split s = nn_train_test_split(t.rows, 0.2, y, C, &rng);
  tabular_split d = {nn_take_rows(&t.x, s.train, s.n_train), nn_take_rows(&t.x, s.test, s.n_test),
                     nn_take_labels(y, t.rows, s.train, s.n_train), nn_take_labels(y, t.rows, s.test, s.n_test)};
  nn_scaler sc = nn_standard_scaler_fit(&d.x_train);
  nn_scaler_transform(&sc, &d.x_train, &d.x_train);
  nn_scaler_transform(&sc, &d.x_test, &d.x_test);
  nn_scaler_free(&sc);
  nn_split_free(&s);
  free(y);
  nn_table_free(&t);
  return d;
}

static void tabular_split_free(tabular_split *d) {
  nn_tensor_free(&d->x_train), nn_tensor_free(&d->x_test);
  free(d->y_train), free(d->y_test);
}

/* Train with opt, then fail unless test accuracy >= min_acc and the loss fell. */
static void check_accuracy(const char *name, const char *path, int C, nn_gd_options opt, double min_acc) {
  tabular_split d = load_split(path, C);
  nn_softmax_reg m = nn_softmax_reg_new(d.x_train.shape[1], C);
  float *history = malloc((size_t)opt.epochs * sizeof *history);
  nn_softmax_reg_fit(&m, &d.x_train, d.y_train, &opt, history);
  float first = history[0], last = history[opt.epochs - 1];
  cr_assert(last < 0.5f * first, "%s: training loss went from %g (epoch 1) to %g (epoch %d); it should at "
            "least halve", name, first, last, opt.epochs);
  int n = d.x_test.shape[0], right = 0;
  int *yhat = malloc((size_t)n * sizeof *yhat);
  nn_softmax_reg_predict(&m, &d.x_test, yhat);
  for (int i = 0; i < n; i++) right += yhat[i] == d.y_test[i];
  cr_assert((double)right / n >= min_acc, "%s: test accuracy %.1f %% (%d of %d), expected >= %.0f %% "
            "(final training loss %g)", name, 100.0 * right / n, right, n, 100 * min_acc, last);
  free(yhat), free(history);
  nn_softmax_reg_free(&m);
  tabular_split_free(&d);
}

Test(softmax_reg, iris_test_accuracy_at_least_90) {
  check_accuracy("iris", "datasets/tabular/iris.csv.gz", 3,
                 (nn_gd_options){.lr = 0.5f, .epochs = 100, .batch = 0, .lambda = 1e-3f, .seed = 1}, 0.90);
}

Test(softmax_reg, digits_test_accuracy_at_least_93) {
  check_accuracy("digits", "datasets/tabular/digits.csv.gz", 10,
                 (nn_gd_options){.lr = 0.1f, .epochs = 50, .batch = 16, .lambda = 1e-3f, .seed = 1}, 0.93);
}

Test(softmax_reg, wrong_width_aborts, .signal = SIGABRT) {
  nn_softmax_reg m = nn_softmax_reg_new(3, 2);
  nn_tensor X = nn_tensor_new(2, (int[]){4, 2}, NN_CPU);
  int yhat[4];
  nn_softmax_reg_predict(&m, &X, yhat); /* X (4, 2) for W (2, 3) */
}
