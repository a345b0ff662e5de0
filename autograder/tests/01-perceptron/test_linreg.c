/* Linear regression by the normal equations (nn_linreg.h): an exact line, a small system
 * solved by hand (and by numpy.linalg.lstsq: theta = (29/18, 11/18, 1/3)), the normal
 * equations themselves (the residual is orthogonal to every column), ridge, and a singular
 * X^T X refused with the reason. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nn_linreg.h"
#include "nn_rng.h"

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
