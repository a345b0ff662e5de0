/* Linear regression by the normal equations (nn_linreg.h): an exact line, a small system
 * solved by hand (and by numpy.linalg.lstsq: theta = (29/18, 11/18, 1/3)), the normal
 * equations themselves (the residual is orthogonal to every column), ridge, and a singular
 * X^T X refused with the reason. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_linreg.h"
#include "nn_rng.h"

/* Graded (the lab's normal_equations): the fitted w and b must satisfy the normal equations,
 * checked here in double: the residual e = y - X w - b sums to 0 (the bias column) and
 * X^T e = l2 N w (ridge; 0 without). Public: y = 2 x1 - 3 x2 + 1 exactly on 5 rows, so w = (2, -3),
 * b = 1; drawn: N, D, X and y random, l2 0 or 0.1. */
GRADED_TEST(linreg, the_fit_solves_the_normal_equations) {
  int D = nn_grade_size(g, 2, 1, 4), N = nn_grade_size(g, 5, D + 2, 40);
  double l2 = nn_grade_public(g) ? 0 : nn_grade_size(g, 0, 0, 1) * 0.1;
  nn_tensor X = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  float *y = malloc(sizeof *y * (size_t)N);
  if (nn_grade_public(g)) {
    const float x[5][2] = {{0, 0}, {1, 0}, {0, 1}, {2, 1}, {1, 3}};
    for (int i = 0; i < 5; i++) X.data[2 * i] = x[i][0], X.data[2 * i + 1] = x[i][1], y[i] = 2 * x[i][0] - 3 * x[i][1] + 1;
  } else {
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 12));
    nn_rng_fill_normal(&rng, X.data, (long)N * D, 0.f, 1.f);
    nn_rng_fill_normal(&rng, y, N, 0.f, 2.f);
  }
  nn_linreg m = {0};
  nn_error err = {0};
  int status = nn_linreg_fit(&X, y, l2, &m, &err);
  answer(g, "the fit's status (0: NN_OK)", &status, 1);
  expect(g, status == NN_OK, "nn_linreg_fit on a full-rank X %s refused it: %s", nn_shape_str(&X).s, err.msg);
  double theta[5] = {0}; /* w (D), then b */
  for (int j = 0; j < D && m.w; j++) theta[j] = m.w[j];
  theta[D] = status == NN_OK ? m.b : 0;
  answer(g, "w, then b", theta, D + 1);
  static const double LINE[3] = {2, -3, 1}; /* w1, w2, b */
  if (nn_grade_public(g))
    for (int j = 0; j <= D; j++)
      expect_near(g, theta[j], LINE[j], 1e-9, "theta[%d] = %.12g, expected %g (y = 2 x1 - 3 x2 + 1)", j, theta[j],
                  LINE[j]);
  double xte[5] = {0}, sum_e = 0, scale = 0; /* X^T e, sum e, and a size to judge them by */
  for (int i = 0; i < N; i++) {
    double e = y[i] - theta[D];
    for (int j = 0; j < D; j++) e -= theta[j] * X.data[(long)i * D + j];
    sum_e += e, scale += fabs(y[i]);
    for (int j = 0; j < D; j++) xte[j] += X.data[(long)i * D + j] * e;
  }
  expect(g, fabs(sum_e) <= 1e-8 * (1 + scale), "the residuals sum to %.3g, not 0: b is not the least-squares bias", sum_e);
  for (int j = 0; j < D; j++)
    expect(g, fabs(xte[j] - l2 * N * theta[j]) <= 1e-8 * (1 + scale) * (1 + fabs(theta[j])), "column %d: X^T e = %.9g "
           "but the normal equations want l2 N w = %.9g (l2 = %g): w does not solve (X^T X + l2 N I) w = X^T y", j,
           xte[j], l2 * N * theta[j], l2);
  nn_linreg_free(&m);
  free(y), nn_tensor_free(&X);
}

Test(linreg, an_exact_line_is_found) {
  nn_tensor X = nn_tensor_from(2, (int[]){5, 1}, (float[]){0, 1, 2, 3, 4});
  float y[5] = {1, 3, 5, 7, 9}; /* y = 2 x + 1 */
  nn_linreg m;
  nn_error err = {0};
  cr_assert_eq(nn_linreg_fit(&X, y, 0, &m, &err), NN_OK, "%s", err.msg);
  cr_assert(fabs(m.w[0] - 2) < 1e-9 && fabs(m.b - 1) < 1e-9, "w = %.12g, b = %.12g; expected 2 and 1", m.w[0], m.b);
  nn_linreg_free(&m), nn_tensor_free(&X);
}

/* A = [X 1], A^T A = [[55, 53, 15], [53, 55, 15], [15, 15, 5]], A^T y = [124, 122, 35]:
 * theta = (29/18, 11/18, 1/3). With ridge l2 = 0.1 (0.5 on w's diagonal, N = 5):
 * theta = (1.48108108, 0.68108108, 0.51351351) (numpy.linalg.solve of the same system). */
Test(linreg, a_small_system_by_hand_and_with_ridge) {
  nn_tensor X = nn_tensor_from(2, (int[]){5, 2}, (float[]){1, 2, 2, 1, 3, 4, 4, 3, 5, 5});
  float y[5] = {3, 4, 8, 9, 11};
  nn_linreg m;
  nn_error err = {0};
  cr_assert_eq(nn_linreg_fit(&X, y, 0, &m, &err), NN_OK, "%s", err.msg);
  cr_assert(fabs(m.w[0] - 29.0 / 18) < 1e-9 && fabs(m.w[1] - 11.0 / 18) < 1e-9 && fabs(m.b - 1.0 / 3) < 1e-9,
            "theta = (%.10g, %.10g, %.10g); expected (29/18, 11/18, 1/3)", m.w[0], m.w[1], m.b);
  nn_linreg_free(&m);
  cr_assert_eq(nn_linreg_fit(&X, y, 0.1, &m, &err), NN_OK, "%s", err.msg);
  cr_assert(fabs(m.w[0] - 1.48108108) < 1e-7 && fabs(m.w[1] - 0.68108108) < 1e-7 && fabs(m.b - 0.51351351) < 1e-7,
            "ridge theta = (%.10g, %.10g, %.10g); expected (1.48108108, 0.68108108, 0.51351351)", m.w[0], m.w[1], m.b);
  float yhat[5];
  nn_linreg_predict(&m, &X, yhat);
  cr_assert(fabsf(yhat[0] - (float)(1.48108108 + 2 * 0.68108108 + 0.51351351)) < 1e-5, "yhat[0] = %g", yhat[0]);
  nn_linreg_free(&m), nn_tensor_free(&X);
}

/* What the normal equations say: at the least-squares theta the residual r = y - A theta is
 * orthogonal to every column of A, so sum_i r_i = 0 and sum_i r_i x_ij = 0. */
Test(linreg, the_residual_is_orthogonal_to_every_column) {
  enum { N = 200, D = 6 };
  nn_rng rng = nn_rng_new(4);
  nn_tensor X = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_rng_fill_normal(&rng, X.data, N * D, 0.f, 3.f);
  float y[N], yhat[N];
  for (int i = 0; i < N; i++) y[i] = 5 + X.data[i * D] - 2 * X.data[i * D + 3] + nn_rng_normal(&rng, 0.f, 1.f);
  nn_linreg m;
  nn_error err = {0};
  cr_assert_eq(nn_linreg_fit(&X, y, 0, &m, &err), NN_OK, "%s", err.msg);
  nn_linreg_predict(&m, &X, yhat);
  for (int j = 0; j <= D; j++) {
    double dot = 0, scale = 0;
    for (int i = 0; i < N; i++) {
      double a = j < D ? X.data[i * D + j] : 1.0;
      dot += (y[i] - (double)yhat[i]) * a, scale += fabs(y[i] * a);
    }
    cr_assert(fabs(dot) < 1e-5 * scale, "column %d: sum of residual * column = %g; the normal equations want 0", j,
              dot);
  }
  nn_linreg_free(&m), nn_tensor_free(&X);
}

Test(linreg, a_singular_system_is_refused_and_ridge_solves_it) {
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, (float[]){1, 1, 2, 2, 3, 3, 4, 4}); /* column 1 = column 0 */
  float y[4] = {1, 2, 3, 4};
  nn_linreg m;
  nn_error err = {0};
  cr_assert_eq(nn_linreg_fit(&X, y, 0, &m, &err), NN_ERR_ARG, "a repeated column must be refused");
  cr_assert(strstr(err.msg, "singular") && strstr(err.msg, "l2 > 0"), "the message must say why and what to do: %s",
            err.msg);
  cr_assert_null(m.w, "nothing stays allocated after an error");
  cr_assert_eq(nn_linreg_fit(&X, y, 0.01, &m, &err), NN_OK, "ridge makes it solvable: %s", err.msg);
  cr_assert(fabs(m.w[0] - m.w[1]) < 1e-9, "ridge splits the weight evenly between twin columns: %g, %g", m.w[0],
            m.w[1]);
  nn_linreg_free(&m), nn_tensor_free(&X);
}
