/* Dense: y = x W^T + b by hand, its backward by finite differences (every input
 * and parameter), accumulation, one layer applied to two inputs (each backward through
 * its own call, the gradients adding up), (N, T, in) inputs, initialisation statistics,
 * parameter count.
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
  nn_call c = {0}; /* Dense keeps only x: no arena */
  nn_dense_forward(d, &c, &x, &y);
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
  nn_call c = {0};
  nn_dense_forward(d, &c, &x, &y);
  nn_dense_backward(d, &c, &dy, &dx);
  answer(g, "dW", d->dW.data, out * in);
  answer(g, "db", d->db.data, out);
  answer(g, "dx", dx.data, N * in);
  double *want = calloc((size_t)(2 * out * in + out + 2 * N * in), sizeof *want);
  double *dW = want, *dW_terms = dW + out * in, *db = dW_terms + out * in, *dxw = db + out, *dx_terms = dxw + N * in;
  backward_sums(&x, &W, &dy, dW, db, dxw, dW_terms, dx_terms);
  /* a failure says where (nn_grade_where) and, from the whole array, what kind of wrong it is */
  for (int i = 0; i < out * in; i++)
    expect(g, near_sum(g, d->dW.data[i], dW[i], dW_terms[i]), "dW%s = %g, expected sum_n dy[n][%d] x[n][%d] = %g%s",
           nn_grade_where(i, 2, d->dW.shape).s, d->dW.data[i], i / in, i % in, dW[i],
           nn_grade_diagnose(d->dW.data, dW, NULL, out * in, 2, d->dW.shape).s);
  for (int j = 0; j < out; j++)
    expect(g, near_sum(g, d->db.data[j], db[j], N), "db[%d] = %g, expected sum_n dy[n][%d] = %g%s", j, d->db.data[j], j,
           db[j], nn_grade_diagnose(d->db.data, db, NULL, out, 1, d->db.shape).s);
  for (int i = 0; i < N * in; i++)
    expect(g, near_sum(g, dx.data[i], dxw[i], dx_terms[i]), "dx%s = %g, expected sum_j dy[%d][j] W[j][%d] = %g%s",
           nn_grade_where(i, 2, dx.shape).s, dx.data[i], i / in, i % in, dxw[i],
           nn_grade_diagnose(dx.data, dxw, NULL, N * in, 2, dx.shape).s);
  /* In public these are the hand values above: the sums give them to the last bit. */
  float *dW_once = malloc((size_t)(out * in + N * in) * sizeof *dW_once), *dx_once = dW_once + out * in;
  memcpy(dW_once, d->dW.data, nn_tensor_bytes(&d->dW)), memcpy(dx_once, dx.data, nn_tensor_bytes(&dx));
  nn_dense_backward(d, &c, &dy, &dx); /* backward adds: a second call doubles everything */
  answer(g, "dW after a second backward", d->dW.data, out * in);
  answer(g, "dx after a second backward", dx.data, N * in);
  for (int i = 0; i < out * in; i++) dW[i] *= 2, dW_terms[i] *= 2; /* what two backwards add up to */
  for (int i = 0; i < N * in; i++) dxw[i] *= 2, dx_terms[i] *= 2;
  if (nn_grade_public(g)) {
    expect_near(g, d->dW.data[3], -8.f, 1e-6f, "a second backward must add: dW[1, 1] (row, col) = %g, expected -8%s",
                d->dW.data[3], nn_grade_diagnose(d->dW.data, dW, dW_once, out * in, 2, d->dW.shape).s);
    expect_near(g, dx.data[0], 10.f, 1e-6f, "a second backward must add: dx[0, 0] (row, col) = %g, expected 10%s",
                dx.data[0], nn_grade_diagnose(dx.data, dxw, dx_once, N * in, 2, dx.shape).s);
  }
  for (int i = 0; i < out * in; i++)
    expect(g, near_sum(g, d->dW.data[i], dW[i], dW_terms[i]), "a second backward must add: dW%s = %g, expected 2 x "
           "%g%s", nn_grade_where(i, 2, d->dW.shape).s, d->dW.data[i], dW[i] / 2,
           nn_grade_diagnose(d->dW.data, dW, dW_once, out * in, 2, d->dW.shape).s);
  for (int i = 0; i < N * in; i++)
    expect(g, near_sum(g, dx.data[i], dxw[i], dx_terms[i]), "a second backward must add: dx%s = %g, expected 2 x "
           "%g%s", nn_grade_where(i, 2, dx.shape).s, dx.data[i], dxw[i] / 2,
           nn_grade_diagnose(dx.data, dxw, dx_once, N * in, 2, dx.shape).s);
  free(dW_once);
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
  expect(g, r.max_rel < 1e-3, "%s: analytic %g, numeric %g (relative error %.2g; x (%d, %d), %d units)",
         nn_gradcheck_where(&r).s, r.analytic, r.numeric, r.max_rel, N, in, out);
  nn_tensor_free(&x);
  d->base.ops->free(&d->base);
}

/* A gradcheck names its worst element with an index per axis: with 1 added to dW[1][2] (flat 6 of
 * W (3, 4)) after the backward, the report is dense1.W[1, 2], not element 6. */
static void spoil_dW_1_2(void *ctx, const char *name, float *grad, long n) {
  (void)ctx;
  if (strcmp(name, "dense1.W") == 0 && n == 12) grad[6] += 1.f;
}

Test(dense, gradcheck_names_the_worst_element_by_its_indices) {
  nn_rng rng = nn_rng_new(4);
  nn_dense *d = nn_dense_new("dense1", 4, 3, NN_INIT_HE, &rng);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, 8, 0.f, 1.f);
  nn_gradcheck r = nn_gradcheck_layer_with(&d->base, &x, 1e-2, 5, false, spoil_dW_1_2, NULL);
  cr_assert_str_eq(nn_gradcheck_where(&r).s, "dense1.W[1, 2]", "the worst element is %s (flat %ld)",
                   nn_gradcheck_where(&r).s, r.index);
  cr_assert(r.ndim == 2 && r.shape[0] == 3 && r.shape[1] == 4, "W's shape is (3, 4), the report has %d axes", r.ndim);
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
  nn_call c = {0};
  nn_dense_forward(d, &c, &x, &y); /* "nn_dense_forward: x is (64, 785) but the layer expects (N, 784)" */
}

/* One Dense applied to two inputs in one step (an RNN cell over two steps, a discriminator on a
 * real and a fake batch), then backward through each application: dW must add up dy1^T x1 +
 * dy2^T x2. A layer that remembered only its last input went back through x2 twice: "One Dense
 * applied twice, then backward twice, gave dW = 20 where 11 is right".
 *
 * By hand (1 input, 1 output), W = 2, b = 0.5, x1 = 1, x2 = 4, dy1 = 3, dy2 = 2:
 *   y1 = 2*1 + 0.5 = 2.5, y2 = 2*4 + 0.5 = 8.5
 *   dW = dy1 x1 + dy2 x2 = 3*1 + 2*4 = 11   (the last input twice: (3 + 2)*4 = 20)
 *   db = 3 + 2 = 5,  dx1 = dy1 W = 6,  dx2 = dy2 W = 4
 * Then random x1 (3, 4) and x2 (5, 4) (different batch sizes) -> 3 units, backward in reverse
 * order as autograd goes, against the sums written out in double. */
static void dense_twice(nn_dense *d, const nn_tensor *x1, const nn_tensor *x2, const nn_tensor *dy1,
                        const nn_tensor *dy2, nn_tensor *y1, nn_tensor *y2, nn_tensor *dx1, nn_tensor *dx2) {
  nn_call c1 = {0}, c2 = {0};
  nn_tensor_fill(&d->dW, 0.f), nn_tensor_fill(&d->db, 0.f), nn_tensor_fill(dx1, 0.f), nn_tensor_fill(dx2, 0.f);
  nn_dense_forward(d, &c1, x1, y1);
  nn_dense_forward(d, &c2, x2, y2);
  cr_assert(c1.x == x1 && c1.y == y1 && c2.x == x2 && c2.y == y2, "each call records its own x and y");
  nn_dense_backward(d, &c2, dy2, dx2); /* the last application first, as autograd goes */
  nn_dense_backward(d, &c1, dy1, dx1);
}

Test(dense, applied_twice_gradients_add) {
  nn_rng rng = nn_rng_new(11);
  nn_dense *d = nn_dense_new("dense1", 1, 1, NN_INIT_XAVIER, &rng);
  d->W.data[0] = 2.f, d->b.data[0] = 0.5f;
  int one[2] = {1, 1};
  nn_tensor x1 = nn_tensor_from(2, one, (float[]){1}), x2 = nn_tensor_from(2, one, (float[]){4});
  nn_tensor dy1 = nn_tensor_from(2, one, (float[]){3}), dy2 = nn_tensor_from(2, one, (float[]){2});
  nn_tensor y1 = nn_tensor_new(2, one, NN_CPU), y2 = nn_tensor_new(2, one, NN_CPU);
  nn_tensor dx1 = nn_tensor_new(2, one, NN_CPU), dx2 = nn_tensor_new(2, one, NN_CPU);
  dense_twice(d, &x1, &x2, &dy1, &dy2, &y1, &y2, &dx1, &dx2);
  cr_assert_eq(y1.data[0], 2.5f, "y1 = %g, expected 2*1 + 0.5 = 2.5", y1.data[0]);
  cr_assert_eq(y2.data[0], 8.5f, "y2 = %g, expected 2*4 + 0.5 = 8.5", y2.data[0]);
  cr_assert_eq(d->dW.data[0], 11.f, "dW = %g, expected dy1 x1 + dy2 x2 = 3*1 + 2*4 = 11 (20 is x2 used twice)",
               d->dW.data[0]);
  cr_assert_eq(d->db.data[0], 5.f, "db = %g, expected dy1 + dy2 = 5", d->db.data[0]);
  cr_assert_eq(dx1.data[0], 6.f, "dx1 = %g, expected dy1 W = 3*2 = 6", dx1.data[0]);
  cr_assert_eq(dx2.data[0], 4.f, "dx2 = %g, expected dy2 W = 2*2 = 4", dx2.data[0]);
  nn_tensor_free(&x1), nn_tensor_free(&x2), nn_tensor_free(&dy1), nn_tensor_free(&dy2);
  nn_tensor_free(&y1), nn_tensor_free(&y2), nn_tensor_free(&dx1), nn_tensor_free(&dx2);
  d->base.ops->free(&d->base);

  const int N1 = 3, N2 = 5, in = 4, out = 3;
  nn_rng data = nn_rng_new(12);
  d = nn_dense_new("dense1", in, out, NN_INIT_XAVIER, &rng);
  nn_rng_fill_uniform(&data, d->b.data, out, -1.f, 1.f);
  x1 = nn_tensor_new(2, (int[]){N1, in}, NN_CPU), x2 = nn_tensor_new(2, (int[]){N2, in}, NN_CPU);
  dy1 = nn_tensor_new(2, (int[]){N1, out}, NN_CPU), dy2 = nn_tensor_new(2, (int[]){N2, out}, NN_CPU);
  y1 = nn_tensor_new(2, (int[]){N1, out}, NN_CPU), y2 = nn_tensor_new(2, (int[]){N2, out}, NN_CPU);
  dx1 = nn_tensor_new(2, (int[]){N1, in}, NN_CPU), dx2 = nn_tensor_new(2, (int[]){N2, in}, NN_CPU);
  nn_rng_fill_uniform(&data, x1.data, N1 * in, -1.f, 1.f), nn_rng_fill_uniform(&data, x2.data, N2 * in, -1.f, 1.f);
  nn_rng_fill_uniform(&data, dy1.data, N1 * out, -1.f, 1.f);
  nn_rng_fill_uniform(&data, dy2.data, N2 * out, -1.f, 1.f);
  dense_twice(d, &x1, &x2, &dy1, &dy2, &y1, &y2, &dx1, &dx2);
  const nn_tensor *xs[2] = {&x1, &x2}, *dys[2] = {&dy1, &dy2}, *ys[2] = {&y1, &y2}, *dxs[2] = {&dx1, &dx2};
  for (int a = 0; a < 2; a++) /* each y and dx from its own x and dy */
    for (int n = 0; n < xs[a]->shape[0]; n++) {
      for (int j = 0; j < out; j++) {
        double want = d->b.data[j];
        for (int k = 0; k < in; k++) want += (double)xs[a]->data[n * in + k] * d->W.data[j * in + k];
        cr_assert(fabs(ys[a]->data[n * out + j] - want) < 1e-5, "y%d[%d][%d] = %.7g, expected %.7g", a + 1, n, j,
                  ys[a]->data[n * out + j], want);
      }
      for (int k = 0; k < in; k++) {
        double want = 0;
        for (int j = 0; j < out; j++) want += (double)dys[a]->data[n * out + j] * d->W.data[j * in + k];
        cr_assert(fabs(dxs[a]->data[n * in + k] - want) < 1e-5, "dx%d[%d][%d] = %.7g, expected (dy%d W) = %.7g",
                  a + 1, n, k, dxs[a]->data[n * in + k], a + 1, want);
      }
    }
  for (int j = 0; j < out; j++) {
    double db = 0;
    for (int a = 0; a < 2; a++)
      for (int n = 0; n < dys[a]->shape[0]; n++) db += dys[a]->data[n * out + j];
    cr_assert(fabs(d->db.data[j] - db) < 1e-5, "db[%d] = %.7g, expected the sum of dy1's and dy2's column %d = %.7g",
              j, d->db.data[j], j, db);
    for (int k = 0; k < in; k++) {
      double dW = 0; /* dy1^T x1 + dy2^T x2 */
      for (int a = 0; a < 2; a++)
        for (int n = 0; n < xs[a]->shape[0]; n++) dW += (double)dys[a]->data[n * out + j] * xs[a]->data[n * in + k];
      cr_assert(fabs(d->dW.data[j * in + k] - dW) < 1e-5, "dW[%d][%d] = %.7g, expected (dy1^T x1 + dy2^T x2) = %.7g",
                j, k, d->dW.data[j * in + k], dW);
    }
  }
  nn_tensor_free(&x1), nn_tensor_free(&x2), nn_tensor_free(&dy1), nn_tensor_free(&dy2);
  nn_tensor_free(&y1), nn_tensor_free(&y2), nn_tensor_free(&dx1), nn_tensor_free(&dx2);
  d->base.ops->free(&d->base);
}

/* Dense on x (N, T, in) acts on the last dim: the same y, dW, db and dx as on the (N*T, in)
 * rows of its reshape (Keras' Dense, PyTorch's nn.Linear); y and dx keep x's leading dims. */
Test(dense, nd_input) {
  const int N = 2, T = 3, in = 4, out = 5;
  nn_rng rng = nn_rng_new(21), data = nn_rng_new(22);
  nn_dense *d3 = nn_dense_new("dense3", in, out, NN_INIT_XAVIER, &rng);
  nn_dense *d2 = nn_dense_new("dense2", in, out, NN_INIT_XAVIER, &rng);
  nn_rng_fill_uniform(&data, d3->b.data, out, -1.f, 1.f);
  nn_tensor_copy(&d2->W, &d3->W), nn_tensor_copy(&d2->b, &d3->b);
  int shape_out[3];
  cr_assert_eq(d3->base.ops->out_shape(&d3->base, (int[]){T, in}, 2, shape_out), 2, "(T, in) -> (T, out): 2 dims");
  cr_assert(shape_out[0] == T && shape_out[1] == out, "out_shape of (%d, %d) is (%d, %d), expected (%d, %d)", T, in,
            shape_out[0], shape_out[1], T, out);

  nn_tensor x3 = nn_tensor_new(3, (int[]){N, T, in}, NN_CPU), x2 = nn_tensor_new(2, (int[]){N * T, in}, NN_CPU);
  nn_tensor dy3 = nn_tensor_new(3, (int[]){N, T, out}, NN_CPU), dy2 = nn_tensor_new(2, (int[]){N * T, out}, NN_CPU);
  nn_tensor y3 = nn_tensor_new(3, (int[]){N, T, out}, NN_CPU), y2 = nn_tensor_new(2, (int[]){N * T, out}, NN_CPU);
  nn_tensor dx3 = nn_tensor_new(3, (int[]){N, T, in}, NN_CPU), dx2 = nn_tensor_new(2, (int[]){N * T, in}, NN_CPU);
  nn_rng_fill_uniform(&data, x3.data, nn_numel(&x3), -1.f, 1.f);
  nn_rng_fill_uniform(&data, dy3.data, nn_numel(&dy3), -1.f, 1.f);
  memcpy(x2.data, x3.data, nn_tensor_bytes(&x3)), memcpy(dy2.data, dy3.data, nn_tensor_bytes(&dy3));
  nn_tensor_fill(&dx3, 0.25f), nn_tensor_fill(&dx2, 0.25f); /* backward adds to what dx holds */
  nn_tensor_fill(&d3->dW, 0.f), nn_tensor_fill(&d3->db, 0.f), nn_tensor_fill(&d2->dW, 0.f), nn_tensor_fill(&d2->db, 0.f);

  nn_call c3 = {0}, c2 = {0};
  nn_dense_forward(d3, &c3, &x3, &y3);
  nn_dense_forward(d2, &c2, &x2, &y2);
  for (int r = 0; r < N * T; r++) /* the rows, against the sums in double */
    for (int j = 0; j < out; j++) {
      double want = d2->b.data[j];
      for (int k = 0; k < in; k++) want += (double)x2.data[r * in + k] * d2->W.data[j * in + k];
      cr_assert(fabs(y2.data[r * out + j] - want) < 1e-5, "(N*T, in) rows: y[%d][%d] = %.7g, expected %.7g", r, j,
                y2.data[r * out + j], want);
      cr_assert_eq(y3.data[r * out + j], y2.data[r * out + j], "(N, T, in): y[%d][%d][%d] = %.7g, but the (N*T, in) "
                   "reshape gives %.7g", r / T, r % T, j, y3.data[r * out + j], y2.data[r * out + j]);
    }
  nn_dense_backward(d3, &c3, &dy3, &dx3);
  nn_dense_backward(d2, &c2, &dy2, &dx2);
  for (long i = 0; i < nn_numel(&d2->dW); i++)
    cr_assert_eq(d3->dW.data[i], d2->dW.data[i], "dW[%ld] = %.7g from (N, T, in), %.7g from its (N*T, in) reshape", i,
                 d3->dW.data[i], d2->dW.data[i]);
  for (int j = 0; j < out; j++)
    cr_assert_eq(d3->db.data[j], d2->db.data[j], "db[%d] = %.7g from (N, T, in), %.7g from its (N*T, in) reshape", j,
                 d3->db.data[j], d2->db.data[j]);
  for (long i = 0; i < nn_numel(&dx2); i++)
    cr_assert_eq(dx3.data[i], dx2.data[i], "dx[%ld] = %.7g from (N, T, in), %.7g from its (N*T, in) reshape", i,
                 dx3.data[i], dx2.data[i]);
  /* and the reshape's own gradients, written out in double */
  for (int j = 0; j < out; j++) {
    double db = 0;
    for (int r = 0; r < N * T; r++) db += dy2.data[r * out + j];
    cr_assert(fabs(d2->db.data[j] - db) < 1e-5, "db[%d] = %.7g, expected %.7g", j, d2->db.data[j], db);
    for (int k = 0; k < in; k++) {
      double dW = 0;
      for (int r = 0; r < N * T; r++) dW += (double)dy2.data[r * out + j] * x2.data[r * in + k];
      cr_assert(fabs(d2->dW.data[j * in + k] - dW) < 1e-5, "dW[%d][%d] = %.7g, expected %.7g", j, k,
                d2->dW.data[j * in + k], dW);
    }
  }
  for (int r = 0; r < N * T; r++)
    for (int k = 0; k < in; k++) {
      double dx = 0.25;
      for (int j = 0; j < out; j++) dx += (double)dy2.data[r * out + j] * d2->W.data[j * in + k];
      cr_assert(fabs(dx2.data[r * in + k] - dx) < 1e-5, "dx[%d][%d] = %.7g, expected 0.25 + (dy W) = %.7g", r, k,
                dx2.data[r * in + k], dx);
    }
  nn_tensor_free(&x3), nn_tensor_free(&x2), nn_tensor_free(&dy3), nn_tensor_free(&dy2);
  nn_tensor_free(&y3), nn_tensor_free(&y2), nn_tensor_free(&dx3), nn_tensor_free(&dx2);
  d3->base.ops->free(&d3->base), d2->base.ops->free(&d2->base);
}

/* A layer's name keys its tensors in checkpoints ("<name>.W"): a name too long to keep whole
 * is refused, not cut (two long names cut alike would make two layers one). */
Test(dense, a_name_too_long_is_refused, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_dense_new("a_dense_layer_with_a_very_long_name", 2, 2, NN_INIT_HE, &rng); /* 35 characters */
}
