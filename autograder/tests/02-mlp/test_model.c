/* The Sequential model: shapes and parameter counts, one training step by hand,
 * the chain rule through the whole model by finite differences, fit (validation
 * split, determinism, XOR), the callbacks, checkpoints, and MNIST accuracy.
 *
 * Graded (GRADED): the SGD step by hand, the chain rule by finite differences, XOR, the
 * validation split and MNIST. Each answers what the model computed with the code under test
 * (losses, weights, grads, predictions); the checker judges them with the reference. */
#include "graded.h"
#include "graded_data.h"
#include "abort_message.h"
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nn_activation_layer.h"
#include "nn_augment.h"
#include "nn_dense.h"
#include "nn_fit.h"
#include "nn_flatten.h"
#include "nn_gradcheck.h"
#include "nn_idx.h"
#include "nn_linreg.h"
#include "nn_model.h"

static nn_model *mnist_mlp(int hidden, nn_rng *rng) {
  nn_model *m = nn_model_new("mlp", 3, (int[]){1, 28, 28});
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("dense1", 784, hidden, NN_INIT_HE, rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dense_new("dense2", hidden, 10, NN_INIT_XAVIER, rng)->base);
  return m;
}

Test(model, shapes_and_parameter_counts) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = mnist_mlp(512, &rng);
  int out[NN_MAX_DIMS];
  cr_assert_eq(nn_model_out_shape(m, out), 1);
  cr_assert_eq(out[0], 10);
  /* 784*512 + 512 = 401,920 and 512*10 + 10 = 5,130 */
  cr_assert_eq(nn_model_param_count(m), 407050, "params %ld, expected 401,920 + 5,130 = 407,050",
               nn_model_param_count(m));
  char buf[4096] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(buf, "dense1 (Dense)") && strstr(buf, "(N, 512)") && strstr(buf, "401,920") &&
                strstr(buf, "407,050"),
            "the summary lacks a row or the total:\n%s", buf);
  nn_model_free(m);
}

Test(model, adding_a_layer_that_does_not_fit_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("m", 1, (int[]){4});
  nn_model_add(m, &nn_dense_new("d1", 5, 3, NN_INIT_HE, &rng)->base); /* takes 5, gets 4 */
}

/* ---- regression: gradient descent on the MSE walks down to the normal equations' answer */

Test(model, a_dense_layer_trained_on_mse_reaches_the_normal_equations) {
  enum { N = 60, D = 3 };
  nn_rng rng = nn_rng_new(12);
  nn_tensor X = nn_tensor_new(2, (int[]){N, D}, NN_CPU), Y = nn_tensor_new(2, (int[]){N, 1}, NN_CPU);
  nn_rng_fill_normal(&rng, X.data, N * D, 0.f, 1.f);
  for (int i = 0; i < N; i++)
    Y.data[i] = 0.5f + X.data[i * D] - 0.7f * X.data[i * D + 2] + nn_rng_normal(&rng, 0.f, 0.3f);
  nn_linreg ne;
  nn_error err = {0};
  cr_assert_eq(nn_linreg_fit(&X, Y.data, 0, &ne, &err), NN_OK, "%s", err.msg);
  nn_model *m = nn_model_new("linear", 1, (int[]){D});
  nn_model_add(m, &nn_dense_new("d", D, 1, NN_INIT_XAVIER, &rng)->base);
  nn_optim_config sgd = nn_optim_defaults(NN_SGD);
  sgd.lr = 0.1f;
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, &sgd);
  for (int step = 0; step < 2000; step++) nn_model_train_batch(m, &X, NULL, &Y, NULL); /* full batch */
  nn_dense *d = (nn_dense *)m->layers[0];
  for (int j = 0; j < D; j++)
    cr_assert(fabs(d->W.data[j] - ne.w[j]) < 1e-4, "w[%d]: gradient descent %.6f, normal equations %.6f", j,
              d->W.data[j], ne.w[j]);
  cr_assert(fabs(d->b.data[0] - ne.b) < 1e-4, "b: gradient descent %.6f, normal equations %.6f", d->b.data[0], ne.b);
  nn_linreg_free(&ne), nn_model_free(m), nn_tensor_free(&X), nn_tensor_free(&Y);
}

/* ---- one-hot targets: categorical CE, and targets of the wrong kind */

/* A 4-5-3 classifier from a fixed seed, compiled with `loss`. */
static nn_model *small_classifier(nn_loss_kind loss) {
  nn_rng rng = nn_rng_new(8);
  nn_model *m = nn_model_new("small", 1, (int[]){4});
  nn_model_add(m, &nn_dense_new("d1", 4, 5, NN_INIT_HE, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dense_new("d2", 5, 3, NN_INIT_XAVIER, &rng)->base);
  nn_model_compile(m, loss, NN_ADAM, NULL);
  return m;
}

Test(to_categorical, one_hot_rows) {
  nn_tensor t = nn_to_categorical((int[]){2, 0, 1}, 3, 4);
  const float want[12] = {0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  cr_assert(t.ndim == 2 && t.shape[0] == 3 && t.shape[1] == 4, "shape %s, expected (3, 4)", nn_shape_str(&t).s);
  for (int i = 0; i < 12; i++) cr_assert_eq(t.data[i], want[i], "entry %d is %g, expected %g", i, t.data[i], want[i]);
  nn_tensor_free(&t);
}

Test(to_categorical, a_label_out_of_range_aborts, .signal = SIGABRT) { nn_to_categorical((int[]){0, 3}, 2, 3); }

/* Keras' categorical_crossentropy on to_categorical(y) is sparse_categorical_crossentropy on y:
 * the same losses, the same steps, the same accuracy. */
Test(model, categorical_ce_on_one_hot_rows_trains_as_sparse_ce_on_labels) {
  enum { N = 12, STEPS = 5 };
  nn_tensor x = nn_tensor_randn(2, (int[]){N, 4}, 3);
  int y[N];
  for (int i = 0; i < N; i++) y[i] = (i * 7) % 3;
  nn_tensor Y = nn_to_categorical(y, N, 3);
  nn_model *sparse = small_classifier(NN_LOSS_SPARSE_CE), *onehot = small_classifier(NN_LOSS_CATEGORICAL_CE);
  for (int step = 0; step < STEPS; step++) {
    int right_sparse = -1, right_onehot = -1;
    double a = nn_model_train_batch(sparse, &x, y, NULL, &right_sparse);
    double b = nn_model_train_batch(onehot, &x, NULL, &Y, &right_onehot);
    cr_assert(fabs(a - b) <= 1e-6 * fabs(a), "step %d: sparse CE on labels %.9g, categorical CE on one-hot %.9g", step,
              a, b);
    cr_assert_eq(right_onehot, right_sparse, "step %d: %d right by the one-hot rows, %d by the labels", step,
                 right_onehot, right_sparse);
  }
  nn_dense *d_sparse = (nn_dense *)sparse->layers[2], *d_onehot = (nn_dense *)onehot->layers[2];
  for (long i = 0; i < nn_numel(&d_sparse->W); i++)
    cr_assert_float_eq(d_onehot->W.data[i], d_sparse->W.data[i], 1e-6, "W[%ld] after %d steps differs", i, STEPS);
  nn_eval e = nn_model_evaluate(onehot, &x, NULL, &Y, 5);
  cr_assert(e.accuracy >= 0, "categorical CE is a classifier's loss: evaluate reports accuracy (got %g)", e.accuracy);
  nn_model_free(sparse), nn_model_free(onehot);
  nn_tensor_free(&x), nn_tensor_free(&Y);
}

typedef struct {
  nn_loss_kind loss;
  const int *y;
  const nn_tensor *x, *Y;
} wrong_target;

static void train_on_wrong_target(void *ctx) {
  wrong_target *w = ctx;
  nn_model *m = small_classifier(w->loss); /* with MSE: a regression model of 3 outputs */
  nn_model_train_batch(m, w->x, w->y, w->Y, NULL);
}

/* Each mix-up aborts and the message says which loss fits what was given. */
Test(model, targets_of_the_wrong_kind_abort_saying_which_loss_fits) {
  enum { N = 6 };
  nn_tensor x = nn_tensor_randn(2, (int[]){N, 4}, 5);
  int y[N] = {0, 1, 2, 0, 1, 2};
  nn_tensor Y = nn_to_categorical(y, N, 3), classes = nn_tensor_new(2, (int[]){N, 1}, NN_CPU);
  struct {
    wrong_target w;
    const char *says[2];
  } cases[] = {
      {{NN_LOSS_SPARSE_CE, NULL, &x, &Y}, {"sparse_ce takes int labels", "categorical_ce"}},
      {{NN_LOSS_CATEGORICAL_CE, y, &x, NULL}, {"categorical_ce takes a target tensor", "nn_to_categorical(y, N, C)"}},
      {{NN_LOSS_CATEGORICAL_CE, NULL, &x, &classes}, {"Y is (6, 1) but the model gives 6 rows of 3 outputs",
                                                     "one class per row"}},
      {{NN_LOSS_MSE, y, &x, NULL}, {"mse takes a target tensor", "regression loss"}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char msg[1024];
    bool aborted = nn_abort_message(train_on_wrong_target, &cases[k].w, msg, sizeof msg);
    cr_assert(aborted, "case %zu (%s): training on the wrong kind of target must abort; it said \"%s\"", k,
              nn_loss_name(cases[k].w.loss), msg);
    for (int j = 0; j < 2; j++)
      cr_assert(strstr(msg, cases[k].says[j]), "case %zu (%s): the message must say \"%s\": %s", k,
                nn_loss_name(cases[k].w.loss), cases[k].says[j], msg);
  }
  nn_tensor_free(&x), nn_tensor_free(&Y), nn_tensor_free(&classes);
}

/* One SGD step by hand on Dense(2 -> 1), then a second that starts from zeroed grads.
 * Drawn: Dense(1..6 -> 1..3) on 1..5 rows, W, b, x and the target in [-1, 1], lr 0.01..0.1;
 * the step written out in double (MSE is the mean over N * out). The losses, W and b after
 * step 1 and dW of step 2 are the answers. */
typedef struct {
  int N, in, out;
  const float *x, *Y;
} sgd_problem;

/* pred = x W^T + b, r = pred - Y: returns mean r^2; dW, db = its gradient (MSE over N out). */
static double mse_step(const sgd_problem *p, const double *W, const double *b, double *dW, double *db) {
  int M = p->N * p->out;
  double loss = 0;
  for (int j = 0; j < p->out; j++) {
    db[j] = 0;
    for (int k = 0; k < p->in; k++) dW[j * p->in + k] = 0;
  }
  for (int n = 0; n < p->N; n++)
    for (int j = 0; j < p->out; j++) {
      double pred = b[j];
      for (int k = 0; k < p->in; k++) pred += W[j * p->in + k] * p->x[n * p->in + k];
      double r = pred - p->Y[n * p->out + j], dpred = 2 * r / M;
      loss += r * r / M;
      db[j] += dpred;
      for (int k = 0; k < p->in; k++) dW[j * p->in + k] += dpred * p->x[n * p->in + k];
    }
  return loss;
}

GRADED_TEST(model, train_batch_is_one_sgd_step_by_hand) {
  /* Dense(2 -> 1), W = [0.5, -1], b = 0, x = [1, 2], target 0.5, MSE, SGD lr 0.1:
   * pred = 0.5 - 2 = -1.5, r = -2, loss = r^2 = 4, dloss/dpred = 2r = -4,
   * dW = -4 [1, 2] = [-4, -8], db = -4;  W <- [0.5 + 0.4, -1 + 0.8] = [0.9, -0.2], b <- 0.4 */
  int in = nn_grade_size(g, 2, 1, 6), out = nn_grade_size(g, 1, 1, 3), N = nn_grade_size(g, 1, 1, 5);
  float lr = (float)nn_grade_size(g, 10, 1, 10) / 100.f;
  nn_rng data = nn_rng_new(nn_grade_seed(g, 4)), rng = nn_rng_new(1);
  nn_model *m = nn_model_new("lin", 1, (int[]){in});
  nn_dense *d = nn_dense_new("d", in, out, NN_INIT_XAVIER, &rng);
  nn_tensor x = nn_tensor_new(2, (int[]){N, in}, NN_CPU), Y = nn_tensor_new(2, (int[]){N, out}, NN_CPU);
  if (nn_grade_public(g)) {
    d->W.data[0] = 0.5f, d->W.data[1] = -1.f, d->b.data[0] = 0.f;
    x.data[0] = 1.f, x.data[1] = 2.f, Y.data[0] = 0.5f;
  } else {
    nn_rng_fill_uniform(&data, d->W.data, out * in, -1.f, 1.f);
    nn_rng_fill_uniform(&data, d->b.data, out, -1.f, 1.f);
    nn_rng_fill_uniform(&data, x.data, N * in, -1.f, 1.f);
    nn_rng_fill_uniform(&data, Y.data, N * out, -1.f, 1.f);
  }
  double W0[6 * 3], b0[3], dW[6 * 3], db[3], W1[6 * 3], b1[3], dW2[6 * 3], db2[3];
  for (int i = 0; i < out * in; i++) W0[i] = d->W.data[i];
  for (int j = 0; j < out; j++) b0[j] = d->b.data[j];
  nn_model_add(m, &d->base);
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = lr;
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, &cfg);
  sgd_problem p = {N, in, out, x.data, Y.data};
  double want = mse_step(&p, W0, b0, dW, db);
  for (int i = 0; i < out * in; i++) W1[i] = W0[i] - lr * dW[i];
  for (int j = 0; j < out; j++) b1[j] = b0[j] - lr * db[j];

  double loss = nn_model_train_batch(m, &x, NULL, &Y, NULL);
  answer(g, "the loss of step 1", &loss, 1);
  answer(g, "W after step 1", d->W.data, out * in);
  answer(g, "b after step 1", d->b.data, out);
  if (nn_grade_public(g)) {
    expect_near(g, loss, 4.0, 1e-6, "loss %g, expected (-1.5 - 0.5)^2 = 4", loss);
    expect_near(g, d->W.data[0], 0.9f, 1e-6f, "W[0] = %g, expected 0.5 - 0.1 * (-4) = 0.9", d->W.data[0]);
    expect_near(g, d->W.data[1], -0.2f, 1e-6f, "W[1] = %g, expected -1 - 0.1 * (-8) = -0.2", d->W.data[1]);
    expect_near(g, d->b.data[0], 0.4f, 1e-6f, "b = %g, expected 0 - 0.1 * (-4) = 0.4", d->b.data[0]);
  } else {
    expect(g, fabs(loss - want) <= 1e-5 * fmax(1, want), "loss %g, expected the mean of (x W^T + b - Y)^2 = %g "
           "(x (%d, %d), W (%d, %d))", loss, want, N, in, out, in);
    for (int i = 0; i < out * in; i++)
      expect(g, fabs(d->W.data[i] - W1[i]) <= 1e-5 * fmax(1, fabs(W1[i])), "W[%d][%d] = %g after one step, "
             "expected %g - %g x dW %g = %g", i / in, i % in, d->W.data[i], W0[i], lr, dW[i], W1[i]);
    for (int j = 0; j < out; j++)
      expect(g, fabs(d->b.data[j] - b1[j]) <= 1e-5 * fmax(1, fabs(b1[j])), "b[%d] = %g after one step, expected "
             "%g - %g x db %g = %g", j, d->b.data[j], b0[j], lr, db[j], b1[j]);
  }
  /* a second step starts from zeroed grads: dW is this step's, not the sum of two */
  loss = nn_model_train_batch(m, &x, NULL, &Y, NULL);
  answer(g, "the loss of step 2", &loss, 1);
  answer(g, "dW of step 2", d->dW.data, out * in);
  if (nn_grade_public(g)) {
    double pred = 0.9 * 1 - 0.2 * 2 + 0.4; /* 0.9 */
    expect_near(g, loss, (pred - 0.5) * (pred - 0.5), 1e-5, "second loss %g, expected (0.9 - 0.5)^2 = 0.16", loss);
    expect_near(g, d->dW.data[0], 2 * (pred - 0.5) * 1, 1e-5, "dW[0] = %g: grads must be zeroed each step",
                d->dW.data[0]);
  } else {
    want = mse_step(&p, W1, b1, dW2, db2);
    expect(g, fabs(loss - want) <= 1e-5 * fmax(1, want), "second loss %g, expected %g", loss, want);
    for (int i = 0; i < out * in; i++)
      expect(g, fabs(d->dW.data[i] - dW2[i]) <= 1e-5 * fmax(1, fabs(dW2[i])), "dW[%d][%d] = %g in step 2, "
             "expected %g: grads must be zeroed each step (step 1's was %g)", i / in, i % in, d->dW.data[i], dW2[i],
             dW[i]);
  }
  nn_tensor_free(&x), nn_tensor_free(&Y), nn_model_free(m);
}

Test(model, a_frozen_layer_keeps_its_weights_and_passes_the_gradient_on) {
  /* Dense(1 -> 1) frozen, then Dense(1 -> 1): w1 = 2, b1 = 0, w2 = 3, b2 = 0, x = 1,
   * target 0, MSE, SGD lr 0.01: h = 2, pred = 6, dloss/dpred = 12, dw2 = 12 h = 24,
   * dh = 12 w2 = 36. Only w2 moves: 3 - 0.01 * 24 = 2.76; b2 goes to 0 - 0.01 * 12 = -0.12.
   * d1, frozen below every trainable layer, is not visited at all (PyTorch's autograd stops
   * there too): w1 stays 2 and its grad 0, where a backward through it would give 36.
   * Step 2: pred = 2 * 2.76 - 0.12 = 5.4, dw2 = 2 pred h = 21.6. */
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("frozen", 1, (int[]){1});
  nn_dense *d1 = nn_dense_new("d1", 1, 1, NN_INIT_XAVIER, &rng), *d2 = nn_dense_new("d2", 1, 1, NN_INIT_XAVIER, &rng);
  d1->W.data[0] = 2.f, d1->b.data[0] = 0.f, d2->W.data[0] = 3.f, d2->b.data[0] = 0.f;
  d1->base.frozen = true;
  nn_model_add(m, &d1->base);
  nn_model_add(m, &d2->base);
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = 0.01f;
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, &cfg);
  cr_assert_eq(m->param_count, 2, "the optimizer holds %d tensors; the frozen d1's W and b must not be among them",
               m->param_count);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 1}, (float[]){1}), Y = nn_tensor_from(2, (int[]){1, 1}, (float[]){0});
  d1->dW.data[0] = 7.f; /* a stale grad: the step must zero it, as it zeroes every grad */
  for (int step = 0; step < 2; step++) {
    nn_model_train_batch(m, &x, NULL, &Y, NULL);
    cr_assert_float_eq(d1->W.data[0], 2.f, 0.f, "the frozen d1.W moved to %g", d1->W.data[0]);
    cr_assert_float_eq(d1->dW.data[0], 0.f, 0.f, "d1.dW = %g after step %d: d1 is frozen and below every "
                       "trainable layer, so the backward must stop above it (its grads stay 0)", d1->dW.data[0],
                       step + 1);
  }
  cr_assert_float_eq(d2->W.data[0], 2.76f - 0.01f * 21.6f, 1e-5, "d2.W = %g after two steps, expected 2.76 - 0.01 "
                     "* 2 pred h = 2.76 - 0.01 * 21.6 = 2.544", d2->W.data[0]);
  char buf[4096] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(buf, "Total params: 4\n") && strstr(buf, "Trainable params: 2\n") &&
                strstr(buf, "Non-trainable params: 2\n"),
            "the summary should say 4 params, 2 trainable, 2 frozen (non-trainable):\n%s", buf);
  nn_tensor_free(&x), nn_tensor_free(&Y), nn_model_free(m);
}

Test(model, a_frozen_layer_between_trainable_ones_passes_the_gradient_on) {
  /* Dense(1 -> 1) x 3, no biases moving anything: w0 = 1, w1 = 2 (frozen), w2 = 3, x = 1,
   * target 0, MSE: h0 = 1, h1 = 2, pred = 6, dpred = 12; dw2 = 12 h1 = 24, dh1 = 12 w2 = 36,
   * dw1 = 36 h0 = 36 (d1 is visited: d0 below it trains), dh0 = 36 w1 = 72, dw0 = 72 x = 72. */
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("sandwich", 1, (int[]){1});
  nn_dense *d[3];
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "d%d", i);
    d[i] = nn_dense_new(name, 1, 1, NN_INIT_XAVIER, &rng);
    d[i]->W.data[0] = (float)(i + 1), d[i]->b.data[0] = 0.f;
    nn_model_add(m, &d[i]->base);
  }
  d[1]->base.frozen = true;
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, NULL);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 1}, (float[]){1}), Y = nn_tensor_from(2, (int[]){1, 1}, (float[]){0});
  nn_model_gradients(m, &x, NULL, &Y, NULL);
  const float want[3] = {72, 36, 24};
  for (int i = 0; i < 3; i++)
    cr_assert_float_eq(d[i]->dW.data[0], want[i], 1e-4, "d%d.dW = %g, expected %g (d1 is frozen, but d0 below it "
                       "trains, so the gradient must pass through d1)", i, d[i]->dW.data[0], want[i]);
  nn_tensor_free(&x), nn_tensor_free(&Y), nn_model_free(m);
}

GRADED_TEST(model, gradients_through_the_whole_chain_match_finite_differences) {
  /* Dense(5 -> 4) tanh Dense(4 -> 3), sparse CE on 6 rows: the model's backward (the chain
   * rule over three layers) against central differences of its loss. Drawn: Dense(1..7 ->
   * 1..6) tanh Dense(-> 2..5) on 1..8 rows. The weights are set here (Xavier's range, biases
   * in [-0.5, 0.5]); every param's grad is an answer, and the differences come from the
   * reference's forward (the worker does not compute them). */
  int in = nn_grade_size(g, 5, 1, 7), hid = nn_grade_size(g, 4, 1, 6), C = nn_grade_size(g, 3, 2, 5);
  int N = nn_grade_size(g, 6, 1, 8);
  nn_rng data = nn_rng_new(nn_grade_seed(g, 3)), rng = nn_rng_new(3);
  nn_model *m = nn_model_new("chain", 1, (int[]){in});
  nn_dense *d1 = nn_dense_new("d1", in, hid, NN_INIT_XAVIER, &rng);
  nn_dense *d2 = nn_dense_new("d2", hid, C, NN_INIT_XAVIER, &rng);
  nn_rng_fill_uniform(&data, d1->W.data, hid * in, -sqrtf(6.f / (float)(in + hid)), sqrtf(6.f / (float)(in + hid)));
  nn_rng_fill_uniform(&data, d1->b.data, hid, -0.5f, 0.5f);
  nn_rng_fill_uniform(&data, d2->W.data, C * hid, -sqrtf(6.f / (float)(hid + C)), sqrtf(6.f / (float)(hid + C)));
  nn_rng_fill_uniform(&data, d2->b.data, C, -0.5f, 0.5f);
  nn_model_add(m, &d1->base);
  nn_model_add(m, nn_activation_layer_new(NULL, nn_activation_of(NN_ACT_TANH)));
  nn_model_add(m, &d2->base);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_SGD, NULL);
  nn_tensor x = nn_tensor_new(2, (int[]){N, in}, NN_CPU);
  nn_rng_fill_normal(&data, x.data, N * in, 0.f, 1.f);
  int y[8] = {0, 2, 1, 1, 0, 2};
  if (!nn_grade_public(g))
    for (int i = 0; i < N; i++) y[i] = (int)nn_rng_below(&data, (uint32_t)C);
  nn_model_gradients(m, &x, y, NULL, NULL); /* the grads, no step */
  struct { const char *name; nn_tensor *value, *grad; int n; } params[4] = {
      {"d1.W", &d1->W, &d1->dW, hid * in}, {"d1.b", &d1->b, &d1->db, hid},
      {"d2.W", &d2->W, &d2->dW, C * hid},  {"d2.b", &d2->b, &d2->db, C}};
  for (int p = 0; p < 4; p++) {
    char what[48];
    snprintf(what, sizeof what, "%s (your backward)", params[p].name);
    answer(g, what, params[p].grad->data, params[p].n);
  }
  const float h = 1e-2f;
  for (int p = 0; p < 4 && !nn_grade_mode_is_worker(g); p++) {
    float *w = params[p].value->data, *grad = params[p].grad->data;
    for (int i = 0; i < params[p].n; i++) {
      float keep = w[i];
      w[i] = keep + h;
      double up = nn_model_evaluate(m, &x, y, NULL, N).loss;
      w[i] = keep - h;
      double down = nn_model_evaluate(m, &x, y, NULL, N).loss;
      w[i] = keep;
      double numeric = (up - down) / (2 * h), analytic = grad[i];
      expect(g, fabs(numeric - analytic) <= 2e-3 + 2e-2 * fabs(numeric), "%s%s: backward gives %g, finite "
             "differences %g (Dense(%d -> %d) tanh Dense(-> %d), %d rows)", params[p].name,
             nn_grade_where(i, params[p].value->ndim, params[p].value->shape).s, analytic, numeric, in, hid, C, N);
    }
  }
  nn_tensor_free(&x), nn_model_free(m);
}

static nn_model *xor_model(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("xor", 1, (int[]){2});
  nn_model_add(m, &nn_dense_new("h", 2, 4, NN_INIT_XAVIER, &rng)->base);
  nn_model_add(m, nn_activation_layer_new(NULL, nn_activation_of(NN_ACT_TANH)));
  nn_model_add(m, &nn_dense_new("o", 4, 1, NN_INIT_XAVIER, &rng)->base);
  nn_optim_config cfg = nn_optim_defaults(NN_ADAM);
  cfg.lr = 0.05f;
  nn_model_compile(m, NN_LOSS_BCE, NN_ADAM, &cfg);
  return m;
}

/* The loss of every epoch, EPOCHS of them (0 past the last one run). */
static void epoch_losses(const nn_history *h, int epochs, double *out) {
  for (int e = 0; e < epochs; e++) out[e] = e < h->epochs ? h->loss[e] : 0;
}

/* Drawn: XNOR instead of XOR half the time, and the init seed from 2..33. Not any seed: from
 * about 2.5% of them this 2-4-1 tanh net ends in a local minimum (loss ~0.35, 3 of 4 right);
 * seeds 1..33 all end below 0.011 on XOR and on XNOR, also with lr off by +-2e-4 relative.
 * The predicted classes and both runs' losses of every epoch are the answers. */
GRADED_TEST(fit, learns_xor_and_is_deterministic) {
  enum { EPOCHS = 300 };
  uint64_t seed = (uint64_t)nn_grade_size(g, 1, 2, 33);
  int xnor = nn_grade_size(g, 0, 0, 1);
  const char *name = xnor ? "XNOR" : "XOR";
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, (float[]){0, 0, 0, 1, 1, 0, 1, 1});
  int y[4] = {0, 1, 1, 0};
  for (int i = 0; i < 4; i++) y[i] ^= xnor;
  nn_fit_options o = nn_fit_defaults();
  o.epochs = EPOCHS, o.batch_size = 2, o.verbose = 0;
  nn_model *a = xor_model(seed), *b = xor_model(seed);
  nn_history ha = nn_model_fit(a, &X, y, NULL, &o), hb = nn_model_fit(b, &X, y, NULL, &o);
  int pred[4];
  nn_model_predict_classes(a, &X, pred, 4);
  double la[EPOCHS], lb[EPOCHS];
  epoch_losses(&ha, EPOCHS, la), epoch_losses(&hb, EPOCHS, lb);
  answer(g, "the predicted classes", pred, 4);
  answer(g, "the loss of every epoch, run 1", la, EPOCHS);
  answer(g, "the loss of every epoch, run 2", lb, EPOCHS);
  int right = 0;
  for (int i = 0; i < 4; i++) right += pred[i] == y[i];
  expect(g, right == 4, "%s accuracy %g after %d epochs (loss %g), expected 1 (predicted [%d, %d, %d, %d], labels "
         "[%d, %d, %d, %d]; init seed %llu)", name, right / 4.0, EPOCHS, la[EPOCHS - 1], pred[0], pred[1], pred[2],
         pred[3], y[0], y[1], y[2], y[3], (unsigned long long)seed);
  expect(g, la[EPOCHS - 1] < 0.1, "%s: final loss %g, expected < 0.1", name, la[EPOCHS - 1]);
  for (int i = 0; i < EPOCHS; i++)
    expect(g, la[i] == lb[i], "epoch %d: loss %.17g vs %.17g with the same seeds", i, la[i], lb[i]);
  nn_history_free(&ha), nn_history_free(&hb), nn_model_free(a), nn_model_free(b), nn_tensor_free(&X);
}

GRADED_TEST(fit, validation_split_holds_out_the_last_rows) {
  /* 10 examples, split 0.3: train on rows 0..6, validate on 7..9 (Keras: int(N * 0.7) = 7).
   * Drawn: 6..24 examples, split 0.15..0.5, 1..4 epochs of batches of 1..5. The answers are
   * the history's validation numbers and the trained weights; with those weights the
   * reference's evaluate of the last rows must give the last epoch's numbers. */
  int N = nn_grade_size(g, 10, 6, 24), epochs = nn_grade_size(g, 3, 1, 4), batch = nn_grade_size(g, 3, 1, 5);
  double split = nn_grade_size(g, 30, 15, 50) / 100.0;
  nn_tensor X = nn_tensor_new(2, (int[]){N, 2}, NN_CPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 5));
  nn_rng_fill_normal(&rng, X.data, 2 * N, 0.f, 1.f);
  int y[24];
  for (int i = 0; i < N; i++) y[i] = X.data[2 * i] + X.data[2 * i + 1] > 0;
  nn_model *m = xor_model(nn_grade_seed(g, 2));
  nn_dense *h = (nn_dense *)m->layers[0], *out = (nn_dense *)m->layers[2];
  nn_fit_options o = nn_fit_defaults();
  o.epochs = epochs, o.batch_size = batch, o.validation_split = split, o.verbose = 0;
  nn_history hist = nn_model_fit(m, &X, y, NULL, &o);
  double val_loss[4] = {0}, val_acc[4] = {0};
  for (int e = 0; e < epochs && e < hist.epochs; e++) val_loss[e] = hist.val_loss[e], val_acc[e] = hist.val_accuracy[e];
  answer(g, "val_loss of every epoch", val_loss, epochs);
  answer(g, "val_accuracy of every epoch", val_acc, epochs);
  answer(g, "the trained h.W", h->W.data, 8);
  answer(g, "the trained h.b", h->b.data, 4);
  answer(g, "the trained o.W", out->W.data, 4);
  answer(g, "the trained o.b", out->b.data, 1);
  int n_train = (int)floor(N * (1.0 - split)), n_val = N - n_train;
  nn_tensor last = X;
  last.data += 2 * n_train, last.shape[0] = n_val;
  nn_eval v = nn_model_evaluate(m, &last, y + n_train, NULL, n_val);
  expect(g, fabs(val_loss[epochs - 1] - v.loss) <= 1e-5 * fmax(1, v.loss), "val_loss %g, but the loss on rows %d..%d "
         "(the last %d of %d, split %g) is %g", val_loss[epochs - 1], n_train, N - 1, n_val, N, split, v.loss);
  expect(g, val_acc[epochs - 1] == v.accuracy, "val_accuracy %g, but the accuracy on rows %d..%d is %g",
         val_acc[epochs - 1], n_train, N - 1, v.accuracy);
  nn_history_free(&hist), nn_model_free(m), nn_tensor_free(&X);
}

/* A two-param model whose weights we can set to tell epochs apart. */
static nn_model *tiny_model(void) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("tiny", 1, (int[]){1});
  nn_model_add(m, &nn_dense_new("d", 1, 1, NN_INIT_XAVIER, &rng)->base);
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, NULL);
  return m;
}

Test(early_stopping, stops_after_patience_and_restores_the_best_epoch) {
  nn_model *m = tiny_model();
  nn_early_stopping es = nn_early_stopping_make("val_loss", 2, true);
  es.base.on_train_begin(&es.base, m);
  const double val_loss[5] = {1.0, 0.8, 0.9, 0.85, 0.7};
  nn_error err = {0};
  int stopped_at = -1;
  for (int e = 0; e < 5; e++) {
    m->params[0].value->data[0] = (float)e; /* W = the epoch number */
    nn_epoch_logs logs = {.epoch = e, .loss = 1, .accuracy = -1, .val_loss = val_loss[e], .val_accuracy = NAN};
    if (es.base.on_epoch_end(&es.base, m, &logs, &err)) {
      stopped_at = e;
      break;
    }
  }
  /* best 0.8 at epoch 1; 0.9 and 0.85 do not improve on it: stop after epoch 3 */
  cr_assert_eq(stopped_at, 3, "stopped after epoch %d, expected 3 (best at 1, patience 2)", stopped_at);
  cr_assert_eq(es.best_epoch, 1);
  cr_assert_eq(err.code, NN_OK);
  es.base.on_train_end(&es.base, m);
  cr_assert_eq(m->params[0].value->data[0], 1.f, "W = %g after restore, expected epoch 1's weights (1)",
               m->params[0].value->data[0]);
  nn_model_free(m);
}

Test(early_stopping, accuracy_improves_upwards_and_min_delta_counts) {
  cr_assert(nn_monitor_improved("val_accuracy", 0.91, 0.90, 0.0));
  cr_assert(!nn_monitor_improved("val_accuracy", 0.89, 0.90, 0.0));
  cr_assert(!nn_monitor_improved("val_loss", 0.795, 0.8, 0.01), "an improvement smaller than min_delta is none");
  cr_assert(nn_monitor_improved("loss", 0.5, NAN, 0.0), "the first epoch improves on nothing");
}

Test(fit, a_val_monitor_without_validation_data_stops_with_a_clear_error) {
  nn_model *m = tiny_model();
  nn_tensor X = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 2}), Y = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 2});
  nn_early_stopping es = nn_early_stopping_make("val_loss", 2, false);
  nn_callback *cbs[] = {&es.base};
  nn_fit_options o = nn_fit_defaults();
  o.epochs = 5, o.verbose = 0, o.callbacks = cbs, o.n_callbacks = 1;
  nn_history h = nn_model_fit(m, &X, NULL, &Y, &o);
  cr_assert_eq(h.status, NN_ERR_ARG);
  cr_assert_eq(h.epochs, 1, "fit ran %d epochs; it must stop at the first", h.epochs);
  cr_assert(strstr(h.err.msg, "validation_split"), "the message does not say what to do: %s", h.err.msg);
  nn_history_free(&h), nn_model_free(m), nn_tensor_free(&X), nn_tensor_free(&Y);
}

Test(cosine_annealing, the_rate_after_each_epoch_by_hand) {
  /* lr0 = 0.1, E = 4: after epoch e the rate is 0.1 (1 + cos(pi (e + 1) / 4)) / 2 =
   * 0.1 (1 + 0.7071) / 2 = 0.08536, 0.05, 0.01464, 0, and it stays 0 past E. */
  nn_rng rng = nn_rng_new(1);
  nn_model *m = mnist_mlp(4, &rng);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_SGD, NULL);
  nn_cosine_annealing c = nn_cosine_annealing_make(0.1f, 4);
  m->opt.cfg.lr = 7.f;
  c.base.on_train_begin(&c.base, m);
  cr_assert_float_eq(m->opt.cfg.lr, 0.1f, 1e-7f, "a fit starts at lr0 = 0.1, not %g", m->opt.cfg.lr);
  const double want[] = {0.0853553, 0.05, 0.0146447, 0, 0};
  for (int e = 0; e < 5; e++) {
    nn_epoch_logs logs = {.epoch = e};
    cr_assert_not(c.base.on_epoch_end(&c.base, m, &logs, NULL), "the schedule never stops training");
    cr_assert_float_eq(m->opt.cfg.lr, want[e], 1e-6, "after epoch %d the rate is %g, expected %g", e,
                       m->opt.cfg.lr, want[e]);
  }
  nn_model_free(m);
}

Test(cosine_annealing, zero_epochs_aborts, .signal = SIGABRT) { nn_cosine_annealing_make(0.1f, 0); }

Test(model_checkpoint, best_only_keeps_the_best_epoch_on_disk) {
  char path[] = "/tmp/nn_ckpt_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  nn_model *m = tiny_model();
  nn_model_checkpoint ck = nn_model_checkpoint_make(path, "val_accuracy", true);
  ck.base.on_train_begin(&ck.base, m);
  const double acc[4] = {0.5, 0.7, 0.6, 0.65};
  nn_error err = {0};
  for (int e = 0; e < 4; e++) {
    m->params[0].value->data[0] = (float)e;
    nn_epoch_logs logs = {.epoch = e, .val_loss = 1, .val_accuracy = acc[e]};
    cr_assert(!ck.base.on_epoch_end(&ck.base, m, &logs, &err), "stopped: %s", err.msg);
  }
  cr_assert_eq(ck.saves, 2, "%d saves; expected 2 (epochs 0 and 1 improved)", ck.saves);
  m->params[0].value->data[0] = -5;
  cr_assert_eq(nn_model_load(m, path, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(m->params[0].value->data[0], 1.f, "the file holds W = %g, expected epoch 1's (1)",
               m->params[0].value->data[0]);
  unlink(path);
  nn_model_free(m);
}

Test(model_checkpoint, a_path_that_cannot_be_written_stops_training_with_the_reason) {
  nn_model *m = tiny_model();
  nn_tensor X = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 2}), Y = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 2});
  nn_model_checkpoint ck = nn_model_checkpoint_make("/nonexistent-dir/best.ckpt", "loss", false);
  nn_callback *cbs[] = {&ck.base};
  nn_fit_options o = nn_fit_defaults();
  o.epochs = 3, o.verbose = 0, o.callbacks = cbs, o.n_callbacks = 1;
  nn_history h = nn_model_fit(m, &X, NULL, &Y, &o);
  cr_assert_eq(h.status, NN_ERR_IO, "status %s: %s", nn_status_name(h.status), h.err.msg);
  cr_assert(strstr(h.err.msg, "/nonexistent-dir/best.ckpt"), "the message does not name the file: %s", h.err.msg);
  cr_assert_eq(h.epochs, 1);
  nn_history_free(&h), nn_model_free(m), nn_tensor_free(&X), nn_tensor_free(&Y);
}

Test(model, save_and_load_round_trip_and_a_wrong_shape_changes_nothing) {
  char path[] = "/tmp/nn_model_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  nn_rng rng = nn_rng_new(9);
  nn_model *a = mnist_mlp(32, &rng), *b = mnist_mlp(32, &rng), *c = mnist_mlp(16, &rng);
  nn_error err = {0};
  cr_assert_eq(nn_model_save(a, path, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(nn_model_load(b, path, &err), NN_OK, "%s", err.msg);
  nn_dense *da = (nn_dense *)a->layers[1], *db = (nn_dense *)b->layers[1], *dc = (nn_dense *)c->layers[1];
  cr_assert(memcmp(da->W.data, db->W.data, nn_tensor_bytes(&da->W)) == 0, "dense1.W differs after the load");
  float before = dc->W.data[0];
  cr_assert_neq(nn_model_load(c, path, &err), NN_OK, "a 16-unit model loaded a 32-unit checkpoint");
  cr_assert(strstr(err.msg, "dense1"), "the message does not name the tensor: %s", err.msg);
  cr_assert_eq(dc->W.data[0], before, "a failed load changed the model");
  unlink(path);
  nn_model_free(a), nn_model_free(b), nn_model_free(c);
}

/* The graded accuracy test: the student's Dense, ReLU, softmax CE and Adam together. The
 * checker only scores the predictions: it does not train. */
GRADED_TEST(mnist, mlp_reaches_94_percent_on_the_sample) {
  graded_split train, test;
  graded_mnist(g, "datasets/mnist-10k", &train, &test);
  int *pred = calloc((size_t)test.n, sizeof *pred);
  float first_last_loss[2] = {0, 0};
  if (!nn_grade_is_checker(g)) {
    /* One training seed: another seed moves the accuracy by a point (a drawn seed gave the
     * reference 93.8 % on a test half). What a variant draws is which half of the test set
     * is scored: predictions remembered from another run fit nothing. */
    nn_rng rng = nn_rng_new(42);
    nn_model *m = mnist_mlp(128, &rng);
    nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
    nn_fit_options o = nn_fit_defaults();
    int shift = 1; /* without it this net tops out near 94% on 8,000 images (PyTorch too) */
    o.epochs = 8, o.batch_size = 32, o.verbose = 0, o.augment = nn_augment_random_shift, o.augment_ctx = &shift;
    nn_history h = nn_model_fit(m, &train.X, train.y, NULL, &o);
    nn_model_predict_classes(m, &test.X, pred, 500);
    first_last_loss[0] = (float)h.loss[0], first_last_loss[1] = (float)h.loss[h.epochs - 1];
    nn_history_free(&h), nn_model_free(m);
  }
  graded_expect_accuracy(g, &test, pred, first_last_loss, 0.94);
  free(pred), graded_split_free(&train), graded_split_free(&test);
}

Test(activation_layer, gradcheck_of_every_kind_through_the_layer_ops) {
  nn_rng rng = nn_rng_new(11);
  nn_tensor x = nn_tensor_new(2, (int[]){3, 7}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, 21, 0.f, 1.5f);
  for (int i = 0; i < 21; i++)
    if (fabsf(x.data[i]) < 0.05f) x.data[i] = 0.3f; /* keep away from ReLU's kink, where f' jumps */
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_layer *l = nn_activation_layer_new(NULL, nn_activation_of((nn_activation_kind)k));
    nn_gradcheck r = nn_gradcheck_layer(l, &x, 1e-3, 5);
    cr_assert_lt(r.max_rel, 1e-3, "%s: %s backward %g, finite differences %g", l->name, nn_gradcheck_where(&r).s,
                 r.analytic, r.numeric);
    l->ops->free(l);
  }
  nn_tensor_free(&x);
}

/* The shift done the obvious way, out of place: out[h][w] = in[h - dy][w - dx]. */
static void shift_reference(const float *in, float *out, int H, int W, int dy, int dx) {
  for (int h = 0; h < H; h++)
    for (int w = 0; w < W; w++) {
      int sh = h - dy, sw = w - dx;
      out[h * W + w] = sh >= 0 && sh < H && sw >= 0 && sw < W ? in[sh * W + sw] : 0.f;
    }
}

Test(augment, random_shift_in_place_matches_the_out_of_place_shift) {
  enum { N = 12, C = 2, H = 5, W = 6, S = 2 };
  nn_rng rng = nn_rng_new(3);
  nn_tensor x = nn_tensor_new(4, (int[]){N, C, H, W}, NN_CPU);
  nn_rng_fill_uniform(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  nn_tensor before = nn_tensor_to(&x, NN_CPU);
  nn_rng shift_rng = nn_rng_new(8), replay = nn_rng_new(8);
  nn_random_shift(&x, S, &shift_rng);
  float expect[H * W];
  for (int n = 0; n < N; n++) {
    int dy = (int)nn_rng_below(&replay, 2 * S + 1) - S, dx = (int)nn_rng_below(&replay, 2 * S + 1) - S;
    for (int c = 0; c < C; c++) {
      long at = ((long)n * C + c) * H * W;
      shift_reference(before.data + at, expect, H, W, dy, dx);
      for (int i = 0; i < H * W; i++)
        cr_assert_eq(x.data[at + i], expect[i], "image %d channel %d pixel %d: %g, expected %g (shift dy %d, dx %d)", n,
                     c, i, x.data[at + i], expect[i], dy, dx);
    }
  }
  nn_tensor_free(&x), nn_tensor_free(&before);
}

Test(augment, max_shift_zero_changes_nothing) {
  nn_rng rng = nn_rng_new(3);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 1, 4, 4}, NN_CPU);
  nn_rng_fill_uniform(&rng, x.data, 32, 0.f, 1.f);
  nn_tensor before = nn_tensor_to(&x, NN_CPU);
  nn_random_shift(&x, 0, &rng);
  cr_assert(memcmp(x.data, before.data, nn_tensor_bytes(&x)) == 0);
  nn_tensor_free(&x), nn_tensor_free(&before);
}
