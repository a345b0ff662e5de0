/* Binary logistic regression: the sigmoid and the cross-entropy by hand and at
 * extreme logits, the gradient against central differences of a double-precision
 * loss written here from the formula, and >= 94 % test accuracy on breast cancer.
 *
 *   L = 1/n sum_i [ -y_i log s(z_i) - (1 - y_i) log(1 - s(z_i)) ] + lambda/2 ||w||^2,
 *   z = X w + b,  s(z) = 1 / (1 + e^-z)
 *
 * Tests run from the repository root (the bundled CSV). */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_csv.h"
#include "nn_logistic.h"
#include "nn_rng.h"
#include "nn_scaler.h"
#include "nn_split.h"

/* ---- sigmoid and binary cross-entropy by hand */
Test(sigmoid, by_hand_and_at_extremes) {
  cr_assert_eq(nn_sigmoid(0.f), 0.5f, "sigmoid(0) = %g, expected 0.5", nn_sigmoid(0.f));
  float s2 = (float)(1 / (1 + exp(-2.0)));
  cr_assert_float_eq(nn_sigmoid(2.f), s2, 1e-6f, "sigmoid(2) = %.7g, expected %.7g", nn_sigmoid(2.f), s2);
  cr_assert_float_eq(nn_sigmoid(-2.f), 1 - s2, 1e-6f, "sigmoid(-2) = %.7g, expected 1 - sigmoid(2) = %.7g",
                     nn_sigmoid(-2.f), 1 - s2);
  float big[] = {100.f, -100.f, 1000.f, -1000.f, 88.8f, -88.8f};
  for (int k = 0; k < 6; k++) {
    float s = nn_sigmoid(big[k]);
    cr_assert(isfinite(s) && s >= 0.f && s <= 1.f,
              "sigmoid(%g) = %g: must be finite and in [0, 1] (e^%g overflows a float; "
              "use e^z / (1 + e^z) for z < 0)", big[k], s, -big[k]);
  }
  cr_assert_eq(nn_sigmoid(100.f), 1.f, "sigmoid(100) = %.9g, expected 1", nn_sigmoid(100.f));
  cr_assert(nn_sigmoid(-100.f) < 1e-30f, "sigmoid(-100) = %g, expected about 3.7e-44", nn_sigmoid(-100.f));
}

/* z = [0, 2], y = [1, 0]: L = (ln 2 + ln(1 + e^2)) / 2, dz = [(0.5 - 1)/2, s(2)/2], added
 * to what dz held. */
Test(bce, by_hand_adds_into_dz) {
  float z[2] = {0.f, 2.f}, dz[2] = {1.f, -1.f};
  int y[2] = {1, 0};
  double L = nn_bce_with_logits(z, y, 2, dz);
  double want = (log(2.0) + log1p(exp(2.0))) / 2, s2 = 1 / (1 + exp(-2.0));
  cr_assert_float_eq(L, want, 1e-6, "BCE of z = [0, 2], y = [1, 0] is %.9g, expected (ln 2 + ln(1 + e^2))/2 "
                     "= %.9g", L, want);
  cr_assert_float_eq(dz[0], 1 + (0.5 - 1) / 2, 1e-6, "dz[0] = %.7g: it held 1, plus (s(0) - 1)/2 = -0.25 "
                     "gives 0.75 (dz is added to, not overwritten)", dz[0]);
  cr_assert_float_eq(dz[1], -1 + s2 / 2, 1e-6, "dz[1] = %.7g: it held -1, plus (s(2) - 0)/2 gives %.7g",
                     dz[1], -1 + s2 / 2);
}

/* |z| = 100: e^100 overflows a float and s(-100) rounds to 0 in log(s). */
Test(bce, large_logits_are_finite) {
  float z[2] = {100.f, -100.f}, dz[2] = {0};
  double wrong = nn_bce_with_logits(z, (int[]){0, 1}, 2, dz); /* both confidently wrong */
  cr_assert(isfinite(wrong) && fabs(wrong - 100) < 1e-6,
            "BCE of z = [100, -100], y = [0, 1] is %g, expected 100 (compute it from z: "
            "max(z, 0) - z y + log(1 + e^-|z|), never log(sigmoid(z)))", wrong);
  cr_assert(fabs(dz[0] - 0.5f) < 1e-6f && fabs(dz[1] + 0.5f) < 1e-6f,
            "dz = [%g, %g], expected [0.5, -0.5]", dz[0], dz[1]);
  double right = nn_bce_with_logits(z, (int[]){1, 0}, 2, dz);
  cr_assert(isfinite(right) && right >= 0 && right < 1e-30, "BCE of z = [100, -100], y = [1, 0] is %g, "
            "expected about e^-100", right);
}

/* ---- gradient check on a small random problem, n = 7, D = 5, lambda = 0.1 */
enum { GN = 7, GD = 5 };
static const float LAMBDA = 0.1f;

typedef struct {
  nn_tensor X; /* (GN, GD) */
  int y[GN];
  nn_logistic m;
} small_problem;

static small_problem small_problem_new(uint64_t seed) {
  small_problem p;
  nn_rng rng = nn_rng_new(seed);
  p.X = nn_tensor_new(2, (int[]){GN, GD}, NN_CPU);
  nn_rng_fill_normal(&rng, p.X.data, GN * GD, 0.f, 1.f);
  for (int i = 0; i < GN; i++) p.y[i] = (int)nn_rng_below(&rng, 2);
  p.m = nn_logistic_new(GD);
  nn_rng_fill_normal(&rng, p.m.w.data, GD, 0.f, 0.5f);
  p.m.b = 0.3f;
  return p;
}

static void small_problem_free(small_problem *p) {
  nn_tensor_free(&p->X);
  nn_logistic_free(&p->m);
}

/* L(w, b) in double, straight from the definition. */
static double loss_double(const small_problem *p, const double *w, double b) {
  double L = 0, w2 = 0;
  for (int i = 0; i < GN; i++) {
    double z = b;
    for (int d = 0; d < GD; d++) z += (double)p->X.data[i * GD + d] * w[d];
    double s = 1 / (1 + exp(-z));
    L += p->y[i] ? -log(s) : -log(1 - s);
  }
  for (int d = 0; d < GD; d++) w2 += w[d] * w[d];
  return L / GN + 0.5 * LAMBDA * w2;
}

/* |a - n| / max(|a|, |n|, 1e-3): relative, except that gradients near 0 are compared
 * absolutely (a float sum of 7 terms is good to about 1e-7, not to 1e-3 of 1e-6). */
static double rel_error(double a, double n) { return fabs(a - n) / fmax(fmax(fabs(a), fabs(n)), 1e-3); }

Test(logistic, gradcheck_with_l2) {
  small_problem p = small_problem_new(11);
  float work[2 * GN];
  nn_logistic_zero_grad(&p.m);
  double L = nn_logistic_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  double w[GD + 1], h = 1e-5; /* w[GD] is b */
  for (int d = 0; d < GD; d++) w[d] = p.m.w.data[d];
  w[GD] = p.m.b;
  double L_ref = loss_double(&p, w, w[GD]);
  cr_assert(fabs(L - L_ref) < 1e-5 * fmax(1, L_ref), "nn_logistic_loss_grad returned L = %.9g, the "
            "definition gives %.9g (is lambda/2 ||w||^2 added?)", L, L_ref);
  for (int k = 0; k <= GD; k++) {
    double keep = w[k];
    w[k] = keep + h;
    double up = loss_double(&p, w, w[GD]);
    w[k] = keep - h;
    double down = loss_double(&p, w, w[GD]);
    w[k] = keep;
    double numeric = (up - down) / (2 * h), analytic = k < GD ? p.m.dw.data[k] : p.m.db;
    char name[16];
    snprintf(name, sizeof name, k < GD ? "dw[%d]" : "db", k);
    cr_assert(rel_error(analytic, numeric) < 1e-3,
              "%s: analytic %.7g, numeric %.7g (relative error %.2g); dL/dw = X^T (s(z) - y)/n + lambda w, "
              "dL/db = sum (s(z) - y)/n", name, analytic, numeric, rel_error(analytic, numeric));
  }
  small_problem_free(&p);
}

/* Backward adds: two calls without zeroing give twice the gradient. */
Test(logistic, loss_grad_accumulates) {
  small_problem p = small_problem_new(12);
  float work[2 * GN], once[GD];
  nn_logistic_zero_grad(&p.m);
  nn_logistic_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  float db_once = p.m.db;
  for (int d = 0; d < GD; d++) once[d] = p.m.dw.data[d];
  nn_logistic_loss_grad(&p.m, &p.X, p.y, LAMBDA, work);
  for (int d = 0; d < GD; d++)
    cr_assert_float_eq(p.m.dw.data[d], 2 * once[d], 1e-6f, "dw[%d] = %g after two calls, expected 2 x %g: "
                       "the gradient must be added to dw, not written over it", d, p.m.dw.data[d], once[d]);
  cr_assert_float_eq(p.m.db, 2 * db_once, 1e-6f, "db = %g after two calls, expected 2 x %g", p.m.db, db_once);
  small_problem_free(&p);
}

Test(logistic, predict_proba_and_predict_agree) {
  small_problem p = small_problem_new(13);
  float prob[GN];
  int yhat[GN];
  nn_logistic_predict_proba(&p.m, &p.X, prob);
  nn_logistic_predict(&p.m, &p.X, yhat);
  for (int i = 0; i < GN; i++) {
    double z = p.m.b;
    for (int d = 0; d < GD; d++) z += (double)p.X.data[i * GD + d] * p.m.w.data[d];
    cr_assert_float_eq(prob[i], 1 / (1 + exp(-z)), 1e-6, "p[%d] = %g, expected sigmoid(%g)", i, prob[i], z);
    cr_assert_eq(yhat[i], prob[i] > 0.5f, "yhat[%d] = %d but p = %g", i, yhat[i], prob[i]);
  }
  small_problem_free(&p);
}

/* ---- breast cancer (569 x 30, target 1 = benign): a stratified 80/20 split, a standard
 * scaler fitted on the 455 training rows. 114 test rows: 94 % is 108 right. Over split
 * seeds 1..20 these options score 107..114 right (median 111); SPLIT_SEED gives 111. */
enum { SPLIT_SEED = 2 };
typedef struct {
  nn_tensor x_train, x_test;
  int *y_train, *y_test;
} tabular_split;

/* Load `path`, split it stratified, and (standardise) fit a standard scaler on the
 * training rows only and apply it to both parts. */
static tabular_split load_split(const char *path, int C, bool standardise) {
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
  if (standardise) {
    nn_scaler sc = nn_standard_scaler_fit(&d.x_train);
    nn_scaler_transform(&sc, &d.x_train, &d.x_train);
    nn_scaler_transform(&sc, &d.x_test, &d.x_test);
    nn_scaler_free(&sc);
  }
  nn_split_free(&s);
  free(y);
  nn_table_free(&t);
  return d;
}

static void tabular_split_free(tabular_split *d) {
  nn_tensor_free(&d->x_train), nn_tensor_free(&d->x_test);
  free(d->y_train), free(d->y_test);
}

static double test_accuracy(const nn_logistic *m, const tabular_split *d) {
  int n = d->x_test.shape[0], right = 0;
  int *yhat = malloc((size_t)n * sizeof *yhat);
  nn_logistic_predict(m, &d->x_test, yhat);
  for (int i = 0; i < n; i++) right += yhat[i] == d->y_test[i];
  free(yhat);
  return (double)right / n;
}

Test(logistic, breast_cancer_test_accuracy_at_least_94) {
  tabular_split d = load_split("datasets/tabular/breast_cancer.csv.gz", 2, true);
  nn_logistic m = nn_logistic_new(d.x_train.shape[1]);
  enum { EPOCHS = 100 };
  float history[EPOCHS];
  nn_gd_options opt = {.lr = 0.1f, .epochs = EPOCHS, .batch = 32, .lambda = 1e-3f, .seed = 1};
  nn_logistic_fit(&m, &d.x_train, d.y_train, &opt, history);
  cr_assert(history[EPOCHS - 1] < 0.5f * history[0], "training loss went from %g (epoch 1) to %g "
            "(epoch %d); it should at least halve", history[0], history[EPOCHS - 1], EPOCHS);
  double acc = test_accuracy(&m, &d);
  /* the band of the lab (94 %) sits below this split's 97.4 %, so a correct solution whose
   * float rounding differs from ours is not failed by one borderline tumour */
  cr_assert(acc >= 0.94, "breast cancer test accuracy %.1f %% (%d test rows), expected >= 94 %% "
            "(final training loss %g)", 100 * acc, d.x_test.shape[0], history[EPOCHS - 1]);
  nn_logistic_free(&m);
  tabular_split_free(&d);
}

Test(logistic, wrong_width_aborts, .signal = SIGABRT) {
  nn_logistic m = nn_logistic_new(3);
  nn_tensor X = nn_tensor_new(2, (int[]){4, 2}, NN_CPU);
  float work[8];
  nn_logistic_loss_grad(&m, &X, (int[]){0, 1, 0, 1}, 0.f, work); /* X (4, 2) for w (3) */
}
