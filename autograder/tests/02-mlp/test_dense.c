/* Dense: y = x W^T + b by hand, its backward by finite differences (every input
 * and parameter), accumulation, initialisation statistics, parameter count.
 *
 * Graded (GRADED): forward and backward by hand and the gradcheck. They answer y, dW, db
 * and dx as the code under test left them. In a drawn variant x (N, in), W (out, in), b
 * and dy are random and the expected values are the sums written out here, in double. The
 * test sets W and b itself, so the values do not depend on how nn_dense_new initialises. */
#include <math.h>
#include <signal.h>
#include <string.h>

#include "graded.h"
#include "graded_gradcheck.h"
#include "nn_dense.h"
#include "nn_gradcheck.h"

/* |got - want| within 1e-6 for the numbers worked by hand (public), else within float rounding
 * of a sum whose terms add up to `terms` in magnitude */
static bool near_sum(const nn_grade *g, double got, double want, double terms) {
  return fabs(got - want) <= (nn_grade_public(g) ? 1e-6 : 1e-5 * (1 + terms));
}

GRADED_TEST(dense, forward_by_hand) {
  /* x = [[1, 2]], W = [[3, 4], [-1, 0.5]], b = [0.5, 1]:
   * y = [1*3 + 2*4 + 0.5, 1*(-1) + 2*0.5 + 1] = [11.5, 1]
   * Drawn: x (1..9, 1..12), W (1..10, in), b, all in [-1, 1]. */
  int N = nn_grade_size(g, 1, 1, 9), in = nn_grade_size(g, 2, 1, 12), out = nn_grade_size(g, 2, 1, 10);
  nn_rng data = nn_rng_new(nn_grade_seed(g, 2)), rng = nn_rng_new(1);
  nn_dense *d = nn_dense_new("dense1", in, out, NN_INIT_XAVIER, &rng);
  nn_tensor x = nn_tensor_new(2, (int[]){N, in}, NN_CPU), y = nn_tensor_new(2, (int[]){N, out}, NN_CPU);
  nn_tensor W = nn_tensor_new(2, (int[]){out, in}, NN_CPU), b = nn_tensor_new(1, (int[]){out}, NN_CPU);
  if (nn_grade_public(g)) {
    memcpy(W.data, (float[]){3, 4, -1, 0.5f}, 4 * sizeof(float));
    memcpy(b.data, (float[]){0.5f, 1}, 2 * sizeof(float));
    memcpy(x.data, (float[]){1, 2}, 2 * sizeof(float));
  } else {
    nn_rng_fill_uniform(&data, W.data, out * in, -1.f, 1.f);
    nn_rng_fill_uniform(&data, b.data, out, -1.f, 1.f);
    nn_rng_fill_uniform(&data, x.data, N * in, -1.f, 1.f);
  }
  memcpy(d->W.data, W.data, nn_tensor_bytes(&W)), memcpy(d->b.data, b.data, nn_tensor_bytes(&b));
  nn_dense_forward(d, &x, &y);
  answer(g, "y", y.data, N * out);
  if (nn_grade_public(g)) {
    expect_near(g, y.data[0], 11.5f, 1e-6f, "y[0] = %g, expected 1*3 + 2*4 + 0.5 = 11.5", y.data[0]);
    expect_near(g, y.data[1], 1.f, 1e-6f, "y[1] = %g, expected 1*(-1) + 2*0.5 + 1 = 1", y.data[1]);
  } else {
    for (int n = 0; n < N; n++)
      for (int j = 0; j < out; j++) {
        double want = b.data[j], terms = fabs(b.data[j]);
        for (int k = 0; k < in; k++) {
          want += (double)x.data[n * in + k] * W.data[j * in + k];
          terms += fabs((double)x.data[n * in + k] * W.data[j * in + k]);
        }
        expect(g, near_sum(g, y.data[n * out + j], want, terms), "y[%d][%d] = %.7g, expected b[%d] + sum_k x[%d][k] "
               "W[%d][k] = %.7g (x %s, W %s)", n, j, y.data[n * out + j], j, n, j, want, nn_shape_str(&x).s,
               nn_shape_str(&W).s);
      }
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&W), nn_tensor_free(&b);
  d->base.ops->free(&d->base);
}

/* dW = dy^T x, db = the column sums of dy, dx = dy W, written out in double from the inputs */
static void backward_sums(const nn_tensor *x, const nn_tensor *W, const nn_tensor *dy, double *dW, double *db,
                          double *dx, double *dW_terms, double *dx_terms) {
  int N = x->shape[0], in = x->shape[1], out = W->shape[0];
  for (int j = 0; j < out; j++) {
    db[j] = 0;
    for (int k = 0; k < in; k++) dW[j * in + k] = dW_terms[j * in + k] = 0;
  }
  for (int n = 0; n < N; n++)
    for (int k = 0; k < in; k++) dx[n * in + k] = dx_terms[n * in + k] = 0;
  for (int n = 0; n < N; n++)
    for (int j = 0; j < out; j++) {
      double dy_nj = dy->data[n * out + j];
      db[j] += dy_nj;
      for (int k = 0; k < in; k++) {
        dW[j * in + k] += dy_nj * x->data[n * in + k], dW_terms[j * in + k] += fabs(dy_nj * x->data[n * in + k]);
        dx[n * in + k] += dy_nj * W->data[j * in + k], dx_terms[n * in + k] += fabs(dy_nj * W->data[j * in + k]);
      }
    }
}

GRADED_TEST(dense, backward_by_hand) {
  /* x = [[1, 2]], W = [[3, 4], [-1, 0.5]], dy = [[1, -2]]:
   * dW = dy^T x = [[1, 2], [-2, -4]], db = [1, -2], dx = dy W = [3 + 2, 4 - 1] = [5, 3]
   * Drawn: x (1..9, 1..12), W (1..10, in), dy, all in [-1, 1]. */
  int N = nn_grade_size(g, 1, 1, 9), in = nn_grade_size(g, 2, 1, 12), out = nn_grade_size(g, 2, 1, 10);
  nn_rng data = nn_rng_new(nn_grade_seed(g, 3)), rng = nn_rng_new(1);
  nn_dense *d = nn_dense_new("dense1", in, out, NN_INIT_XAVIER, &rng);
  nn_tensor x = nn_tensor_new(2, (int[]){N, in}, NN_CPU), y = nn_tensor_new(2, (int[]){N, out}, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, (int[]){N, out}, NN_CPU), dx = nn_tensor_new(2, (int[]){N, in}, NN_CPU);
  nn_tensor W = nn_tensor_new(2, (int[]){out, in}, NN_CPU);
  if (nn_grade_public(g)) {
    memcpy(W.data, (float[]){3, 4, -1, 0.5f}, 4 * sizeof(float));
    memcpy(x.data, (float[]){1, 2}, 2 * sizeof(float));
    memcpy(dy.data, (float[]){1, -2}, 2 * sizeof(float));
  } else {
    nn_rng_fill_uniform(&data, W.data, out * in, -1.f, 1.f);
    nn_rng_fill_uniform(&data, x.data, N * in, -1.f, 1.f);
    nn_rng_fill_uniform(&data, dy.data, N * out, -1.f, 1.f);
  }
  memcpy(d->W.data, W.data, nn_tensor_bytes(&W));
  nn_tensor_fill(&d->b, 0.f), nn_tensor_fill(&d->dW, 0.f), nn_tensor_fill(&d->db, 0.f);
  nn_dense_forward(d, &x, &y);
  nn_dense_backward(d, &dy, &dx);
  answer(g, "dW", d->dW.data, out * in);
  answer(g, "db", d->db.data, out);
  answer(g, "dx", dx.data, N * in);
  double *want = calloc((size_t)(2 * out * in + out + 2 * N * in), sizeof *want);
  double *dW = want, *dW_terms = dW + out * in, *db = dW_terms + out * in, *dxw = db + out, *dx_terms = dxw + N * in;
  backward_sums(&x, &W, &dy, dW, db, dxw, dW_terms, dx_terms);
  for (int i = 0; i < out * in; i++)
    expect(g, near_sum(g, d->dW.data[i], dW[i], dW_terms[i]), "dW[%d][%d] = %g, expected sum_n dy[n][%d] x[n][%d] = %g",
           i / in, i % in, d->dW.data[i], i / in, i % in, dW[i]);
  for (int j = 0; j < out; j++)
    expect(g, near_sum(g, d->db.data[j], db[j], N), "db[%d] = %g, expected sum_n dy[n][%d] = %g", j, d->db.data[j], j,
           db[j]);
  for (int i = 0; i < N * in; i++)
    expect(g, near_sum(g, dx.data[i], dxw[i], dx_terms[i]), "dx[%d][%d] = %g, expected sum_j dy[%d][j] W[j][%d] = %g",
           i / in, i % in, dx.data[i], i / in, i % in, dxw[i]);
  /* In public these are the hand values above: the sums give them to the last bit. */
  nn_dense_backward(d, &dy, &dx); /* backward adds: a second call doubles everything */
  answer(g, "dW after a second backward", d->dW.data, out * in);
  answer(g, "dx after a second backward", dx.data, N * in);
  if (nn_grade_public(g)) {
    expect_near(g, d->dW.data[3], -8.f, 1e-6f, "a second backward must add: dW[1][1] = %g, expected -8", d->dW.data[3]);
    expect_near(g, dx.data[0], 10.f, 1e-6f, "a second backward must add: dx[0] = %g, expected 10", dx.data[0]);
  }
  for (int i = 0; i < out * in; i++)
    expect(g, near_sum(g, d->dW.data[i], 2 * dW[i], 2 * dW_terms[i]), "a second backward must add: dW[%d][%d] = %g, "
           "expected 2 x %g", i / in, i % in, d->dW.data[i], dW[i]);
  for (int i = 0; i < N * in; i++)
    expect(g, near_sum(g, dx.data[i], 2 * dxw[i], 2 * dx_terms[i]), "a second backward must add: dx[%d][%d] = %g, "
           "expected 2 x %g", i / in, i % in, dx.data[i], dxw[i]);
  free(want);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&W);
  d->base.ops->free(&d->base);
}

/* x (4, 5) -> 3 units in public; drawn: (1..6, 1..8) -> 1..6. W ~ N(0, 2 / in) (He), b and x
 * ~ N(0, 1), all set here. The analytic gradients (dx, dW, db) are the answers; the finite
 * differences come from the reference's forward. Dense is affine in each of x, W and b, so a
 * central difference has no truncation error whatever h: the drawn variant takes h = 0.5,
 * where float rounding in L(v + h) - L(v - h) weighs 50 times less than at the public 1e-2
 * (with h = 1e-2, 107 of 3,000 such draws fail on the reference with a gradient near 0.01;
 * with 0.5 the worst is 6e-5). */
GRADED_TEST(dense, gradcheck) {
  int N = nn_grade_size(g, 4, 1, 6), in = nn_grade_size(g, 5, 1, 8), out = nn_grade_size(g, 3, 1, 6);
  nn_rng data = nn_rng_new(nn_grade_seed(g, 7)), rng = nn_rng_new(7);
  nn_dense *d = nn_dense_new("dense1", in, out, NN_INIT_HE, &rng);
  nn_rng_fill_normal(&data, d->W.data, out * in, 0.f, sqrtf(2.f / (float)in));
  nn_rng_fill_normal(&data, d->b.data, out, 0.f, 1.f);
  nn_tensor x = nn_tensor_new(2, (int[]){N, in}, NN_CPU);
  nn_rng_fill_normal(&data, x.data, nn_numel(&x), 0.f, 1.f);
  double h = nn_grade_public(g) ? 1e-2 : 0.5;
  nn_gradcheck r = graded_gradcheck(g, &d->base, &x, h, nn_grade_seed(g, 42), false);
  expect(g, r.checked == N * in + out * in + out, "checked %ld elements, expected x (%d) + W (%d) + b (%d)", r.checked,
         N * in, out * in, out);
  expect(g, r.max_rel < 1e-3, "%s[%ld]: analytic %g, numeric %g (relative error %.2g; x (%d, %d), %d units)", r.name,
         r.index, r.analytic, r.numeric, r.max_rel, N, in, out);
  nn_tensor_free(&x);
  d->base.ops->free(&d->base);
}

Test(dense, init_statistics_and_parameter_count) {
  nn_rng rng = nn_rng_new(3);
  nn_dense *he = nn_dense_new("dense1", 784, 512, NN_INIT_HE, &rng);
  cr_assert_eq(nn_layer_param_count(&he->base), 401920L, "784 -> 512 has 784*512 + 512 = 401,920 parameters");
  double sum = 0, sq = 0;
  long n = nn_numel(&he->W);
  for (long i = 0; i < n; i++) sum += he->W.data[i], sq += (double)he->W.data[i] * he->W.data[i];
  double var = sq / n - (sum / n) * (sum / n);
  cr_assert(fabs(var - 2.0 / 784) < 0.05 * 2.0 / 784, "He init: variance %g, expected 2/784 = %g", var, 2.0 / 784);
  nn_dense *xa = nn_dense_new("dense2", 100, 50, NN_INIT_XAVIER, &rng);
  float a = sqrtf(6.f / 150.f);
  for (long i = 0; i < nn_numel(&xa->W); i++)
    cr_assert(fabsf(xa->W.data[i]) <= a, "Xavier init: W[%ld] = %g is outside (-%g, %g)", i, xa->W.data[i], a, a);
  for (int j = 0; j < 50; j++) cr_assert_eq(xa->b.data[j], 0.f, "biases start at 0");
  he->base.ops->free(&he->base), xa->base.ops->free(&xa->base);
}

Test(dense, wrong_input_width_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_dense *d = nn_dense_new("dense1", 784, 10, NN_INIT_HE, &rng);
  nn_tensor x = nn_tensor_new(2, (int[]){64, 785}, NN_CPU), y = nn_tensor_new(2, (int[]){64, 10}, NN_CPU);
  nn_dense_forward(d, &x, &y); /* "nn_dense_forward: x is (64, 785) but the layer expects (N, 784)" */
}
