/* L1 and L2 penalties (nn_regularizer.h): values and gradients by hand, a gradient check, and
 * a model whose reported loss and weight gradients include them while its biases do not. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>

#include "nn_dense.h"
#include "nn_model.h"
#include "nn_regularizer.h"
#include "nn_rng.h"

/* w = (0.5, -2, 0), l1 = 0.1, l2 = 0.01:
 *   penalty = 0.1 (0.5 + 2 + 0) + 0.01 (0.25 + 4 + 0) = 0.25 + 0.0425 = 0.2925
 *   grad    = 0.1 sign(w) + 0.02 w = (0.11, -0.14, 0): sign(0) = 0, no pull on a weight at 0 */
Test(regularizer, penalty_and_gradient_by_hand) {
  nn_tensor w = nn_tensor_from(1, (int[]){3}, (float[]){0.5f, -2.f, 0.f}), g = nn_tensor_new(1, (int[]){3}, NN_CPU);
  nn_param p = {"d.W", &w, &g};
  double pen = nn_regularize(&p, 1, 0.1f, 0.01f, true, NULL);
  cr_assert(fabs(pen - 0.2925) < 1e-7, "penalty %.9g, expected 0.2925", pen);
  const double want[3] = {0.11, -0.14, 0};
  for (int i = 0; i < 3; i++) cr_assert(fabs(g.data[i] - want[i]) < 1e-7, "grad[%d] = %g, expected %g", i, g.data[i], want[i]);
  cr_assert(fabs(nn_regularize(&p, 1, 0.1f, 0.01f, false, NULL) - 0.2925) < 1e-7, "without grads, the same penalty");
  cr_assert_eq(g.data[0], (float)0.11, "add_grads false leaves the grads alone");
  nn_tensor_free(&w), nn_tensor_free(&g);
}

Test(regularizer, gradient_matches_finite_differences) {
  enum { N = 40 };
  nn_rng rng = nn_rng_new(3);
  nn_tensor w = nn_tensor_new(1, (int[]){N}, NN_CPU), g = nn_tensor_new(1, (int[]){N}, NN_CPU);
  nn_rng_fill_uniform(&rng, w.data, N, -2.f, 2.f);
  for (int i = 0; i < N; i++)
    if (fabsf(w.data[i]) < 0.05f) w.data[i] = 0.5f; /* off the kink of |w| */
  nn_param p = {"w", &w, &g};
  nn_regularize(&p, 1, 0.3f, 0.2f, true, NULL);
  const float h = 1e-3f;
  for (int i = 0; i < N; i++) {
    float saved = w.data[i];
    w.data[i] = saved + h;
    double up = nn_regularize(&p, 1, 0.3f, 0.2f, false, NULL);
    w.data[i] = saved - h;
    double down = nn_regularize(&p, 1, 0.3f, 0.2f, false, NULL);
    w.data[i] = saved;
    double numeric = (up - down) / (2 * h);
    cr_assert(fabs(numeric - g.data[i]) < 1e-3 * fmax(1, fabs(numeric)), "grad[%d] = %g, finite differences %g", i,
              g.data[i], numeric);
  }
  nn_tensor_free(&w), nn_tensor_free(&g);
}

/* A model with l1, l2 set: the loss it reports is the data loss plus the penalty of "d.W",
 * d.W's grad gets the penalty's gradient, and d.b's does not. */
Test(regularizer, a_models_weights_get_the_penalty_and_its_biases_do_not) {
  nn_rng rng = nn_rng_new(6);
  nn_tensor x = nn_tensor_randn(2, (int[]){8, 3}, 1), Y = nn_tensor_randn(2, (int[]){8, 2}, 2);
  nn_model *plain = nn_model_new("plain", 1, (int[]){3}), *reg = nn_model_new("reg", 1, (int[]){3});
  nn_rng r2 = rng;
  nn_model_add(plain, &nn_dense_new("d", 3, 2, NN_INIT_XAVIER, &rng)->base);
  nn_model_add(reg, &nn_dense_new("d", 3, 2, NN_INIT_XAVIER, &r2)->base); /* the same weights */
  nn_model_compile(plain, NN_LOSS_MSE, NN_SGD, NULL), nn_model_compile(reg, NN_LOSS_MSE, NN_SGD, NULL);
  reg->l1 = 0.05f, reg->l2 = 0.1f;
  double a = nn_model_gradients(plain, &x, NULL, &Y, NULL), b = nn_model_gradients(reg, &x, NULL, &Y, NULL);
  nn_dense *dp = (nn_dense *)plain->layers[0], *dr = (nn_dense *)reg->layers[0];
  double pen = 0;
  for (int i = 0; i < 6; i++) {
    double w = dp->W.data[i], sign = (w > 0) - (w < 0);
    pen += 0.05 * fabs(w) + 0.1 * w * w;
    double want = dp->dW.data[i] + 0.05 * sign + 0.2 * w;
    cr_assert(fabs(dr->dW.data[i] - want) < 1e-6, "dW[%d] = %g, expected the data's %g + the penalty's = %g", i,
              dr->dW.data[i], dp->dW.data[i], want);
  }
  cr_assert(fabs(b - (a + pen)) < 1e-6, "reported loss %.9g, expected data loss %.9g + penalty %.9g", b, a, pen);
  for (int j = 0; j < 2; j++) cr_assert_eq(dr->db.data[j], dp->db.data[j], "db[%d]: the bias is not penalised", j);
  nn_eval e = nn_model_evaluate(reg, &x, NULL, &Y, 3);
  cr_assert(fabs(e.loss - b) < 1e-6, "evaluate's loss %.9g includes the penalty as training's %.9g does", e.loss, b);
  nn_model_free(plain), nn_model_free(reg), nn_tensor_free(&x), nn_tensor_free(&Y);
}

Test(regularizer, negative_strength_aborts, .signal = SIGABRT) {
  nn_tensor w = nn_tensor_new(1, (int[]){2}, NN_CPU);
  nn_regularize(&(nn_param){"w", &w, NULL}, 1, -0.1f, 0.f, false, NULL);
}
