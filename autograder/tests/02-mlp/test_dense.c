/* Dense: y = x W^T + b by hand, its backward by finite differences (every input
 * and parameter), accumulation, initialisation statistics, parameter count. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "nn_dense.h"
#include "nn_gradcheck.h"

Test(dense, forward_by_hand) {
  /* x = [[1, 2]], W = [[3, 4], [-1, 0.5]], b = [0.5, 1]:
   * y = [1*3 + 2*4 + 0.5, 1*(-1) + 2*0.5 + 1] = [11.5, 1] */
  nn_rng rng = nn_rng_new(1);
  nn_dense *d = nn_dense_new("dense1", 2, 2, NN_INIT_XAVIER, &rng);
  const float W[4] = {3, 4, -1, 0.5f}, b[2] = {0.5f, 1};
  memcpy(d->W.data, W, sizeof W), memcpy(d->b.data, b, sizeof b);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 2}), y = nn_tensor_new(2, (int[]){1, 2}, NN_CPU);
  nn_dense_forward(d, &x, &y);
  cr_assert_float_eq(y.data[0], 11.5f, 1e-6f, "y[0] = %g, expected 1*3 + 2*4 + 0.5 = 11.5", y.data[0]);
  cr_assert_float_eq(y.data[1], 1.f, 1e-6f, "y[1] = %g, expected 1*(-1) + 2*0.5 + 1 = 1", y.data[1]);
  nn_tensor_free(&x), nn_tensor_free(&y);
  d->base.ops->free(&d->base);
}

Test(dense, backward_by_hand) {
  /* x = [[1, 2]], W = [[3, 4], [-1, 0.5]], dy = [[1, -2]]:
   * dW = dy^T x = [[1, 2], [-2, -4]], db = [1, -2], dx = dy W = [3 + 2, 4 - 1] = [5, 3] */
  nn_rng rng = nn_rng_new(1);
  nn_dense *d = nn_dense_new("dense1", 2, 2, NN_INIT_XAVIER, &rng);
  const float W[4] = {3, 4, -1, 0.5f};
  memcpy(d->W.data, W, sizeof W);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 2}), y = nn_tensor_new(2, (int[]){1, 2}, NN_CPU);
  nn_tensor dy = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, -2}), dx = nn_tensor_new(2, (int[]){1, 2}, NN_CPU);
  nn_dense_forward(d, &x, &y);
  nn_dense_backward(d, &dy, &dx);
  const float dW[4] = {1, 2, -2, -4}, db[2] = {1, -2}, dxe[2] = {5, 3};
  for (int i = 0; i < 4; i++) cr_assert_float_eq(d->dW.data[i], dW[i], 1e-6f, "dW[%d] = %g, expected %g", i, d->dW.data[i], dW[i]);
  for (int i = 0; i < 2; i++) cr_assert_float_eq(d->db.data[i], db[i], 1e-6f, "db[%d] = %g, expected %g", i, d->db.data[i], db[i]);
  for (int i = 0; i < 2; i++) cr_assert_float_eq(dx.data[i], dxe[i], 1e-6f, "dx[%d] = %g, expected %g", i, dx.data[i], dxe[i]);
  nn_dense_backward(d, &dy, &dx); /* backward adds: a second call doubles everything */
  cr_assert_float_eq(d->dW.data[3], -8.f, 1e-6f, "a second backward must add: dW[1][1] = %g, expected -8", d->dW.data[3]);
  cr_assert_float_eq(dx.data[0], 10.f, 1e-6f, "a second backward must add: dx[0] = %g, expected 10", dx.data[0]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  d->base.ops->free(&d->base);
}

Test(dense, gradcheck) {
  nn_rng rng = nn_rng_new(7);
  nn_dense *d = nn_dense_new("dense1", 5, 3, NN_INIT_HE, &rng);
  nn_rng_fill_normal(&rng, d->b.data, 3, 0.f, 1.f);
  nn_tensor x = nn_tensor_new(2, (int[]){4, 5}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  nn_gradcheck r = nn_gradcheck_layer(&d->base, &x, 1e-2, 42);
  cr_assert_eq(r.checked, 4 * 5 + 3 * 5 + 3, "checked %ld elements, expected x (20) + W (15) + b (3)", r.checked);
  cr_assert(r.max_rel < 1e-3, "%s[%ld]: analytic %g, numeric %g (relative error %.2g)", r.name, r.index, r.analytic,
            r.numeric, r.max_rel);
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
