/* The Sequential model: shapes and parameter counts, one training step by hand,
 * the chain rule through the whole model by finite differences, fit (validation
 * split, determinism, XOR), the callbacks, checkpoints, and MNIST accuracy. */
#include "graded.h"
#include "graded_data.h"
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

Test(model, train_batch_is_one_sgd_step_by_hand) {
  /* Dense(2 -> 1), W = [0.5, -1], b = 0, x = [1, 2], target 0.5, MSE, SGD lr 0.1:
   * pred = 0.5 - 2 = -1.5, r = -2, loss = r^2 = 4, dloss/dpred = 2r = -4,
   * dW = -4 [1, 2] = [-4, -8], db = -4;  W <- [0.5 + 0.4, -1 + 0.8] = [0.9, -0.2], b <- 0.4 */
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("lin", 1, (int[]){2});
  nn_dense *d = nn_dense_new("d", 2, 1, NN_INIT_XAVIER, &rng);
  d->W.data[0] = 0.5f, d->W.data[1] = -1.f, d->b.data[0] = 0.f;
  nn_model_add(m, &d->base);
  nn_optim_config cfg = nn_optim_defaults(NN_SGD);
  cfg.lr = 0.1f;
  nn_model_compile(m, NN_LOSS_MSE, NN_SGD, &cfg);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 2}), Y = nn_tensor_from(2, (int[]){1, 1}, (float[]){0.5f});
  double loss = nn_model_train_batch(m, &x, NULL, &Y, NULL);
  cr_assert_float_eq(loss, 4.0, 1e-6, "loss %g, expected (-1.5 - 0.5)^2 = 4", loss);
  cr_assert_float_eq(d->W.data[0], 0.9f, 1e-6f, "W[0] = %g, expected 0.5 - 0.1 * (-4) = 0.9", d->W.data[0]);
  cr_assert_float_eq(d->W.data[1], -0.2f, 1e-6f, "W[1] = %g, expected -1 - 0.1 * (-8) = -0.2", d->W.data[1]);
  cr_assert_float_eq(d->b.data[0], 0.4f, 1e-6f, "b = %g, expected 0 - 0.1 * (-4) = 0.4", d->b.data[0]);
  /* a second step starts from zeroed grads: dW is this step's, not the sum of two */
  loss = nn_model_train_batch(m, &x, NULL, &Y, NULL);
  double pred = 0.9 * 1 - 0.2 * 2 + 0.4; /* 0.9 */
  cr_assert_float_eq(loss, (pred - 0.5) * (pred - 0.5), 1e-5, "second loss %g, expected (0.9 - 0.5)^2 = 0.16", loss);
  cr_assert_float_eq(d->dW.data[0], 2 * (pred - 0.5) * 1, 1e-5, "dW[0] = %g: grads must be zeroed each step",
                     d->dW.data[0]);
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
  cr_assert(strstr(buf, "Total params: 4") && strstr(buf, "2 trainable, 2 frozen"),
            "the summary should say 4 params, 2 trainable, 2 frozen:\n%s", buf);
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

Test(model, gradients_through_the_whole_chain_match_finite_differences) {
  /* Dense(5 -> 4) tanh Dense(4 -> 3), sparse CE: the model's backward (the chain
   * rule over three layers) against central differences of its loss. */
  nn_rng rng = nn_rng_new(3);
  nn_model *m = nn_model_new("chain", 1, (int[]){5});
  nn_model_add(m, &nn_dense_new("d1", 5, 4, NN_INIT_XAVIER, &rng)->base);
  nn_model_add(m, nn_activation_layer_new(NULL, nn_activation_of(NN_ACT_TANH)));
  nn_model_add(m, &nn_dense_new("d2", 4, 3, NN_INIT_XAVIER, &rng)->base);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_SGD, NULL);
  nn_tensor x = nn_tensor_new(2, (int[]){6, 5}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, 30, 0.f, 1.f);
  const int y[6] = {0, 2, 1, 1, 0, 2};
  nn_model_gradients(m, &x, y, NULL, NULL); /* the grads, no step */
  const float h = 1e-2f;
  for (int p = 0; p < m->param_count; p++) {
    nn_tensor *w = m->params[p].value, *g = m->params[p].grad;
    for (long i = 0; i < nn_numel(w); i++) {
      float keep = w->data[i];
      w->data[i] = keep + h;
      double up = nn_model_evaluate(m, &x, y, NULL, 6).loss;
      w->data[i] = keep - h;
      double down = nn_model_evaluate(m, &x, y, NULL, 6).loss;
      w->data[i] = keep;
      double numeric = (up - down) / (2 * h), analytic = g->data[i];
      cr_assert(fabs(numeric - analytic) <= 2e-3 + 2e-2 * fabs(numeric), "%s[%ld]: backward gives %g, finite differences %g",
                m->params[p].name, i, analytic, numeric);
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

Test(fit, learns_xor_and_is_deterministic) {
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, (float[]){0, 0, 0, 1, 1, 0, 1, 1});
  const int y[4] = {0, 1, 1, 0};
  nn_fit_options o = nn_fit_defaults();
  o.epochs = 300, o.batch_size = 2, o.verbose = 0;
  nn_model *a = xor_model(1), *b = xor_model(1);
  nn_history ha = nn_model_fit(a, &X, y, NULL, &o), hb = nn_model_fit(b, &X, y, NULL, &o);
  nn_eval e = nn_model_evaluate(a, &X, y, NULL, 4);
  cr_assert_eq(e.accuracy, 1.0, "XOR accuracy %g after 300 epochs (loss %g), expected 1", e.accuracy, e.loss);
  cr_assert_lt(ha.loss[ha.epochs - 1], 0.1, "final loss %g, expected < 0.1", ha.loss[ha.epochs - 1]);
  for (int i = 0; i < ha.epochs; i++)
    cr_assert_eq(ha.loss[i], hb.loss[i], "epoch %d: loss %.17g vs %.17g with the same seeds", i, ha.loss[i], hb.loss[i]);
  nn_history_free(&ha), nn_history_free(&hb), nn_model_free(a), nn_model_free(b), nn_tensor_free(&X);
}

Test(fit, validation_split_holds_out_the_last_rows) {
  /* 10 examples, split 0.3: train on rows 0..6, validate on 7..9 (Keras: int(N * 0.7) = 7) */
  nn_tensor X = nn_tensor_new(2, (int[]){10, 2}, NN_CPU);
  nn_rng rng = nn_rng_new(5);
  nn_rng_fill_normal(&rng, X.data, 20, 0.f, 1.f);
  int y[10];
  for (int i = 0; i < 10; i++) y[i] = X.data[2 * i] + X.data[2 * i + 1] > 0;
  nn_model *m = xor_model(2);
  nn_fit_options o = nn_fit_defaults();
  o.epochs = 3, o.batch_size = 3, o.validation_split = 0.3, o.verbose = 0;
  nn_history h = nn_model_fit(m, &X, y, NULL, &o);
  nn_tensor last3 = X;
  last3.data += 14, last3.shape[0] = 3;
  nn_eval v = nn_model_evaluate(m, &last3, y + 7, NULL, 3);
  cr_assert_float_eq(h.val_loss[2], v.loss, 1e-12, "val_loss %g, but the loss on rows 7..9 is %g", h.val_loss[2], v.loss);
  cr_assert_float_eq(h.val_accuracy[2], v.accuracy, 1e-12);
  nn_history_free(&h), nn_model_free(m), nn_tensor_free(&X);
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
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 42));
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
  double acc = graded_accuracy(g, &test, pred);
  answer(g, "the first and last epoch's training loss", first_last_loss, 2);
  expect(g, acc >= 0.94, "test accuracy %.2f%% on %d images, expected >= 94%% (train loss %.3f -> %.3f)", 100 * acc,
         test.n, first_last_loss[0], first_last_loss[1]);
  expect(g, first_last_loss[1] < first_last_loss[0], "the training loss did not fall: %g -> %g", first_last_loss[0],
         first_last_loss[1]);
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
    cr_assert_lt(r.max_rel, 1e-3, "%s: %s[%ld] backward %g, finite differences %g", l->name, r.name, r.index,
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
