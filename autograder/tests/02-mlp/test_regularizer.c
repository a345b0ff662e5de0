/* L1 and L2 penalties (nn_regularizer.h): values and gradients by hand, a gradient check, and
 * a model whose reported loss and weight gradients include them while its biases do not. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "graded.h"
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

/* Graded (the lab's regularize_cpu): the penalty and the gradient it ADDS, on grads that start
 * at 1. Public: w = (0.5, -2, 0), l1 = 0.1, l2 = 0.01 as above (grad 1 + (0.11, -0.14, 0));
 * drawn: n, w (some exactly 0), l1 and l2 in [0, 0.5]. Expected values computed here, in double. */
GRADED_TEST(regularizer, l1_l2_penalty_and_the_gradient_it_adds) {
  int n = nn_grade_size(g, 3, 2, 40);
  float l1 = (float)nn_grade_size(g, 10, 0, 50) / 100.f, l2 = (float)nn_grade_size(g, 1, 0, 50) / 100.f;
  nn_tensor w = nn_tensor_new(1, (int[]){n}, NN_CPU), grad = nn_tensor_new(1, (int[]){n}, NN_CPU);
  if (nn_grade_public(g)) {
    memcpy(w.data, (float[]){0.5f, -2.f, 0.f}, 3 * sizeof(float));
  } else {
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 8));
    nn_rng_fill_normal(&rng, w.data, n, 0.f, 1.f);
    for (int i = 0; i < n; i += 5) w.data[i] = 0.f; /* sign(0) = 0 */
  }
  nn_tensor_fill(&grad, 1.f); /* the penalty's gradient is added to what is there */
  nn_param p = {"d.W", &w, &grad};
  double pen = nn_regularize(&p, 1, l1, l2, true, NULL);
  answer(g, "penalty", &pen, 1);
  answer(g, "grad (1 + the penalty's)", grad.data, n);
  double want = 0;
  for (int i = 0; i < n; i++) {
    double wi = w.data[i], sign = (wi > 0) - (wi < 0), gi = 1 + l1 * sign + 2 * l2 * wi;
    want += l1 * fabs(wi) + l2 * wi * wi;
    expect_near(g, grad.data[i], gi, 1e-6 * (1 + fabs(gi)), "w[%d] = %g, l1 = %g, l2 = %g: grad %g, expected 1 + l1 "
                "sign(w) + 2 l2 w = %.7g (added to the grad's 1)", i, wi, l1, l2, grad.data[i], gi);
  }
  expect_near(g, pen, want, 1e-6 * (1 + want), "penalty %.9g, expected l1 sum|w| + l2 sum w^2 = %.9g", pen, want);
  nn_tensor_free(&w), nn_tensor_free(&grad);
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
