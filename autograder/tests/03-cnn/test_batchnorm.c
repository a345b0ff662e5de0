/* BatchNorm: a forward and backward by hand on one channel of 4 values, the running
 * statistics against torch, eval mode with the running statistics, finite-difference
 * checks in training and eval mode for (N, C) and (N, C, H, W), backward accumulation,
 * a checkpoint round trip that keeps the running statistics, parameter and buffer
 * counts (PyTorch: 2C params, 2C buffers) and the summary's "Buffers:" line, and the
 * aborts on bad inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_batchnorm.h"
#include "nn_gradcheck.h"
#include "nn_model.h"
#include "nn_parallel.h"
#include "nn_rng.h"
#include "nn_shapes.h"

static void free_layer(nn_batchnorm *bn) { bn->base.ops->free(&bn->base); }

/* gamma and beta away from 1 and 0, so the check sees them matter. */
static void randomize_affine(nn_batchnorm *bn, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_rng_fill_uniform(&rng, bn->gamma.data, bn->C, 0.5f, 1.5f);
  nn_rng_fill_normal(&rng, bn->beta.data, bn->C, 0.f, 1.f);
}

static nn_batchnorm *one_channel_of_4(nn_tensor *x, nn_tensor *y) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 1);
  bn->gamma.data[0] = 2.f, bn->beta.data[0] = 1.f;
  *x = nn_tensor_from(2, (int[]){4, 1}, (float[]){1, 2, 3, 4});
  *y = nn_tensor_new(2, (int[]){4, 1}, NN_CPU);
  return bn;
}

Test(batchnorm, forward_by_hand_one_channel_of_4) {
  /* x = [1, 2, 3, 4] (N = 4, C = 1), gamma 2, beta 1:
   *   mean = 2.5, var = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25 (biased), inv_std = 1/sqrt(1.25 + 1e-5)
   *   xhat = [-1.5, -0.5, 0.5, 1.5] / sqrt(1.25) = [-1.341641, -0.447214, 0.447214, 1.341641]
   *   y = 2 xhat + 1 = [-1.683283, 0.105573, 1.894427, 3.683283]       (torch: the same to 1e-6)
   * running_mean = 0.9 * 0 + 0.1 * 2.5 = 0.25
   * running_var  = 0.9 * 1 + 0.1 * 1.25 * 4/3 (unbiased: 5/3) = 1.0666667 */
  nn_tensor x, y;
  nn_batchnorm *bn = one_channel_of_4(&x, &y);
  nn_batchnorm_forward(bn, &x, &y, true);
  const float want[4] = {-1.6832707f, 0.1055765f, 1.8944237f, 3.6832709f};
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(y.data[i], want[i], 1e-5f, "y[%d] = %g, expected %g", i, y.data[i], want[i]);
  cr_assert_float_eq(bn->running_mean.data[0], 0.25f, 1e-6f, "running_mean %g, expected 0.25",
                     bn->running_mean.data[0]);
  cr_assert_float_eq(bn->running_var.data[0], 1.0666667f, 1e-6f,
                     "running_var %g, expected 0.9 + 0.1 * 5/3 = 1.0666667 (the UNBIASED batch variance)",
                     bn->running_var.data[0]);
  nn_tensor_free(&x), nn_tensor_free(&y), free_layer(bn);
}

Test(batchnorm, backward_by_hand_one_channel_of_4) {
  /* The same x, dy = [1, 0, 0, 0]: sum(dy) = 1, sum(dy xhat) = xhat0 = -1.341641 (xhat0^2 = 1.8).
   * k = gamma inv_std / M = 2 * 0.894423 / 4 = 0.447212
   *   dx0 = k (4*1 - 1 - xhat0 * -1.341641) = k (3 - 1.8)   =  1.2 k =  0.536654
   *   dx1 = k (0 - 1 - xhat1 * -1.341641) = k (-1 - 0.6)    = -1.6 k = -0.715539
   *   dx2 = k (-1 + 0.6) = -0.4 k = -0.178885,  dx3 = k (-1 + 1.8) = 0.8 k = 0.357769
   * dgamma = sum(dy xhat) = -1.341641, dbeta = sum(dy) = 1       (torch: the same to 1e-6) */
  nn_tensor x, y;
  nn_batchnorm *bn = one_channel_of_4(&x, &y);
  nn_batchnorm_forward(bn, &x, &y, true);
  nn_tensor dy = nn_tensor_from(2, (int[]){4, 1}, (float[]){1, 0, 0, 0}), dx = nn_tensor_new(2, (int[]){4, 1}, NN_CPU);
  nn_batchnorm_backward(bn, &dy, &dx);
  const float want[4] = {0.5366606f, -0.7155367f, -0.1788869f, 0.3577630f};
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(dx.data[i], want[i], 1e-5f, "dx[%d] = %g, expected %g", i, dx.data[i], want[i]);
  cr_assert_float_eq(bn->dgamma.data[0], -1.3416355f, 1e-5f, "dgamma %g, expected -1.341641", bn->dgamma.data[0]);
  cr_assert_float_eq(bn->dbeta.data[0], 1.f, 1e-6f, "dbeta %g, expected 1", bn->dbeta.data[0]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(bn);
}

/* x (2, 3, 2, 2) of step k: x[i] = sin(0.37 i + k) (c + 1) + c, c = channel of flat index i. */
static nn_tensor step_input(int k) {
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 2, 2}, NN_CPU);
  for (int i = 0; i < 24; i++) {
    int c = (i / 4) % 3;
    x.data[i] = sinf(0.37f * (float)i + (float)k) * (float)(c + 1) + (float)c;
  }
  return x;
}

Test(batchnorm, running_statistics_after_3_steps_match_torch) {
  /* torch.nn.BatchNorm2d(3), three training forwards of step_input(0), (1), (2):
   *   running_mean = [0.06872165, 0.44004869, 0.38181877], running_var = [0.83292449, 1.16778302, 1.68356013]
   * then in eval mode x (1, 3, 1, 1) = [0.5, -1, 2] gives [0.47255489, -1.33258295, 1.24712956]. */
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor y = nn_tensor_new(4, (int[]){2, 3, 2, 2}, NN_CPU);
  for (int k = 0; k < 3; k++) {
    nn_tensor x = step_input(k);
    nn_batchnorm_forward(bn, &x, &y, true);
    nn_tensor_free(&x);
  }
  const float mean[3] = {0.06872165f, 0.44004869f, 0.38181877f}, var[3] = {0.83292449f, 1.16778302f, 1.68356013f};
  for (int c = 0; c < 3; c++) {
    cr_assert_float_eq(bn->running_mean.data[c], mean[c], 1e-5f, "running_mean[%d] = %g, torch %g", c,
                       bn->running_mean.data[c], mean[c]);
    cr_assert_float_eq(bn->running_var.data[c], var[c], 1e-5f, "running_var[%d] = %g, torch %g", c,
                       bn->running_var.data[c], var[c]);
  }
  nn_tensor x = nn_tensor_from(4, (int[]){1, 3, 1, 1}, (float[]){0.5f, -1.f, 2.f});
  nn_tensor y1 = nn_tensor_new(4, (int[]){1, 3, 1, 1}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y1, false);
  const float want[3] = {0.47255489f, -1.33258295f, 1.24712956f};
  for (int c = 0; c < 3; c++)
    cr_assert_float_eq(y1.data[c], want[c], 1e-5f, "eval y[%d] = %g, torch %g", c, y1.data[c], want[c]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y1), free_layer(bn);
}

Test(batchnorm, eval_uses_the_running_statistics_and_leaves_them_alone) {
  /* running_mean 1, running_var 3, gamma 2, beta 0.5: y = 2 (x - 1) / sqrt(3 + 1e-5) + 0.5,
   * x = [1, 4] -> [0.5, 2 * 3 / 1.7320537 + 0.5 = 3.9641047]: the batch's own mean (2.5) plays no part. */
  nn_batchnorm *bn = nn_batchnorm_new("bn", 1);
  bn->running_mean.data[0] = 1.f, bn->running_var.data[0] = 3.f, bn->gamma.data[0] = 2.f, bn->beta.data[0] = 0.5f;
  nn_tensor x = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, 4}), y = nn_tensor_new(2, (int[]){2, 1}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y, false);
  cr_assert_float_eq(y.data[0], 0.5f, 1e-6f, "y[0] = %g, expected 0.5", y.data[0]);
  cr_assert_float_eq(y.data[1], 3.9641047f, 1e-5f, "y[1] = %g, expected 3.9641047", y.data[1]);
  cr_assert(bn->running_mean.data[0] == 1.f && bn->running_var.data[0] == 3.f,
            "eval changed the running statistics to %g, %g", bn->running_mean.data[0], bn->running_var.data[0]);
  /* backward after eval: dx = dy * gamma / sqrt(running_var + eps) = 2 / 1.7320537 = 1.1547 per unit of dy */
  nn_tensor dy = nn_tensor_from(2, (int[]){2, 1}, (float[]){1, -2}), dx = nn_tensor_new(2, (int[]){2, 1}, NN_CPU);
  nn_batchnorm_backward(bn, &dy, &dx);
  cr_assert_float_eq(dx.data[0], 1.1547f, 1e-4f, "dx[0] = %g, expected 2/sqrt(3) = 1.1547", dx.data[0]);
  cr_assert_float_eq(dx.data[1], -2.3094f, 1e-4f, "dx[1] = %g, expected -2 * 1.1547", dx.data[1]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(bn);
}

/* Gradcheck of a BatchNorm(C) on x of `shape`, in training mode or eval mode. */
static void check_gradients(int ndim, const int *shape, bool training, uint64_t seed) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", shape[1]);
  randomize_affine(bn, seed);
  if (!training) { /* running statistics other than 0 and 1 */
    nn_rng rng = nn_rng_new(seed + 1);
    nn_rng_fill_normal(&rng, bn->running_mean.data, bn->C, 0.f, 1.f);
    nn_rng_fill_uniform(&rng, bn->running_var.data, bn->C, 0.5f, 2.f);
  }
  nn_tensor x = nn_tensor_randn(ndim, shape, seed + 2);
  nn_gradcheck r = training ? nn_gradcheck_layer_training(&bn->base, &x, 1e-2, seed + 3)
                            : nn_gradcheck_layer(&bn->base, &x, 1e-2, seed + 3);
  cr_assert(r.max_rel < 2e-3, "%s mode %s: %s[%ld]: analytic %g, numeric %g (rel %g)",
            training ? "training" : "eval", nn_shape_str(&x).s, r.name, r.index, r.analytic, r.numeric, r.max_rel);
  cr_assert_eq(r.checked, nn_numel(&x) + 2 * shape[1], "checked %ld values", r.checked);
  nn_tensor_free(&x), free_layer(bn);
}

Test(batchnorm, gradcheck_training_N_C, .timeout = 10) { check_gradients(2, (int[]){5, 3}, true, 11); }
Test(batchnorm, gradcheck_training_N_C_H_W, .timeout = 10) { check_gradients(4, (int[]){2, 3, 3, 2}, true, 12); }
Test(batchnorm, gradcheck_eval_N_C_H_W, .timeout = 10) { check_gradients(4, (int[]){2, 3, 3, 2}, false, 13); }

Test(batchnorm, backward_accumulates) {
  /* Two backward passes of one forward give twice the grads of one: every grad is ADDED to. */
  nn_batchnorm *bn = nn_batchnorm_new("bn", 2);
  randomize_affine(bn, 3);
  nn_tensor x = nn_tensor_randn(4, (int[]){3, 2, 2, 2}, 4), y = nn_tensor_new(4, (int[]){3, 2, 2, 2}, NN_CPU);
  nn_tensor dy = nn_tensor_randn(4, (int[]){3, 2, 2, 2}, 5), dx = nn_tensor_new(4, (int[]){3, 2, 2, 2}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y, true);
  nn_batchnorm_backward(bn, &dy, &dx);
  nn_tensor dx1 = nn_tensor_to(&dx, NN_CPU), dg1 = nn_tensor_to(&bn->dgamma, NN_CPU);
  nn_tensor db1 = nn_tensor_to(&bn->dbeta, NN_CPU);
  nn_batchnorm_backward(bn, &dy, &dx);
  for (long i = 0; i < nn_numel(&dx); i++)
    cr_assert_float_eq(dx.data[i], 2 * dx1.data[i], 1e-5f, "dx[%ld] = %g after two passes, expected 2 * %g", i,
                       dx.data[i], dx1.data[i]);
  for (int c = 0; c < 2; c++) {
    cr_assert_float_eq(bn->dgamma.data[c], 2 * dg1.data[c], 1e-5f, "dgamma[%d] did not accumulate", c);
    cr_assert_float_eq(bn->dbeta.data[c], 2 * db1.data[c], 1e-5f, "dbeta[%d] did not accumulate", c);
  }
  nn_tensor *all[] = {&x, &y, &dy, &dx, &dx1, &dg1, &db1};
  for (int i = 0; i < 7; i++) nn_tensor_free(all[i]);
  free_layer(bn);
}

/* The channels spread over the threads once x is large enough: 1 and 3 threads give the
 * same bits in training and eval mode (each channel is the same computation). */
Test(batchnorm, any_number_of_threads_gives_the_one_thread_answer) {
  const int shape[4] = {8, 6, 16, 16}; /* 12,288 values x 6 channels >= NN_PARALLEL_MIN_WORK */
  nn_tensor x = nn_tensor_randn(4, shape, 21), dy = nn_tensor_randn(4, shape, 22);
  for (int training = 0; training <= 1; training++) {
    nn_tensor y[2], dx[2], dgamma[2];
    for (int k = 0; k < 2; k++) {
      nn_set_threads(1 + 2 * k);
      nn_batchnorm *bn = nn_batchnorm_new("bn", 6);
      randomize_affine(bn, 23);
      y[k] = nn_tensor_new(4, shape, NN_CPU), dx[k] = nn_tensor_new(4, shape, NN_CPU);
      nn_batchnorm_forward(bn, &x, &y[k], training);
      nn_batchnorm_backward(bn, &dy, &dx[k]);
      dgamma[k] = nn_tensor_to(&bn->dgamma, NN_CPU);
      free_layer(bn);
    }
    const struct { const char *name; const nn_tensor *t; } g[] = {{"y", y}, {"dx", dx}, {"dgamma", dgamma}};
    for (int m = 0; m < 3; m++)
      for (long i = 0; i < nn_numel(&g[m].t[0]); i++)
        cr_assert_eq(g[m].t[1].data[i], g[m].t[0].data[i], "%s mode: on 3 threads %s[%ld] = %.9g, on 1 thread %.9g",
                     training ? "training" : "eval", g[m].name, i, g[m].t[1].data[i], g[m].t[0].data[i]);
    for (int k = 0; k < 2; k++) nn_tensor_free(&y[k]), nn_tensor_free(&dx[k]), nn_tensor_free(&dgamma[k]);
  }
  nn_tensor_free(&x), nn_tensor_free(&dy);
}

Test(batchnorm, checkpoint_round_trip_keeps_the_running_statistics) {
  char path[] = "/tmp/nn_bn_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  nn_model *a = nn_model_new("a", 3, (int[]){3, 2, 2}), *b = nn_model_new("b", 3, (int[]){3, 2, 2});
  nn_model_add(a, &nn_batchnorm_new("bn", 3)->base);
  nn_model_add(b, &nn_batchnorm_new("bn", 3)->base);
  nn_batchnorm *ba = (nn_batchnorm *)a->layers[0], *bb = (nn_batchnorm *)b->layers[0];
  randomize_affine(ba, 8);
  nn_tensor x = step_input(0), y = nn_tensor_new(4, (int[]){2, 3, 2, 2}, NN_CPU);
  nn_batchnorm_forward(ba, &x, &y, true); /* running statistics away from 0 and 1 */
  nn_error err = {0};
  cr_assert_eq(nn_model_save(a, path, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(nn_model_load(b, path, &err), NN_OK, "%s", err.msg);
  for (int c = 0; c < 3; c++) {
    cr_assert_eq(bb->running_mean.data[c], ba->running_mean.data[c], "running_mean[%d] %g after the load, saved %g",
                 c, bb->running_mean.data[c], ba->running_mean.data[c]);
    cr_assert_eq(bb->running_var.data[c], ba->running_var.data[c], "running_var[%d] %g after the load, saved %g", c,
                 bb->running_var.data[c], ba->running_var.data[c]);
    cr_assert_eq(bb->gamma.data[c], ba->gamma.data[c], "gamma[%d] differs after the load", c);
    cr_assert_eq(bb->beta.data[c], ba->beta.data[c], "beta[%d] differs after the load", c);
  }
  int count;
  nn_named_tensor *state = nn_model_state(a, &count);
  cr_assert_eq(count, 4, "the state has %d tensors, expected gamma, beta, running_mean, running_var", count);
  cr_assert_str_eq(state[2].name, "bn.running_mean");
  cr_assert_str_eq(state[3].name, "bn.running_var");
  free(state);
  unlink(path);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_model_free(a), nn_model_free(b);
}

Test(batchnorm, params_2C_buffers_2C_and_the_summary_line) {
  /* PyTorch BatchNorm2d(16): weight + bias = 32 parameters; running_mean + running_var = 32 values of
   * buffers (Keras counts all 64 as params, 32 of them non-trainable). */
  nn_batchnorm *bn = nn_batchnorm_new("bn1", 16);
  cr_assert_eq(nn_layer_param_count(&bn->base), 32);
  cr_assert_eq(nn_layer_buffer_count(&bn->base), 32);
  nn_shape in = nn_shape_image(16, 8, 8);
  nn_calc calc;
  nn_error err = {0};
  cr_assert_eq(nn_calc_batchnorm(&in, NN_PYTORCH, &calc, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(calc.params, nn_layer_param_count(&bn->base), "nn_shapes says %ld params", calc.params);
  nn_param p[4];
  cr_assert_eq(bn->base.ops->params(&bn->base, p, 4), 2);
  cr_assert_str_eq(p[0].name, "bn1.gamma");
  cr_assert_str_eq(p[1].name, "bn1.beta");
  cr_assert_eq(nn_layer_buffers(&bn->base, p, 4), 2);
  cr_assert_str_eq(p[0].name, "bn1.running_mean");
  cr_assert_str_eq(p[1].name, "bn1.running_var");
  cr_assert_null(p[0].grad, "a buffer has no gradient");
  free_layer(bn);

  nn_model *m = nn_model_new("m", 3, (int[]){16, 8, 8});
  nn_model_add(m, &nn_batchnorm_new("bn1", 16)->base);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(text, "bn1 (BatchNorm)"), "no row for bn1 in:\n%s", text);
  cr_assert(strstr(text, "Total params: 32 "), "the total is not 32 in:\n%s", text);
  cr_assert(strstr(text, "Buffers: 32 "), "no \"Buffers: 32\" line in:\n%s", text);
  free(text), nn_model_free(m);
}

Test(batchnorm, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 4, 2, 2}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 4, 2, 2}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y, true); /* "takes (N, 3) or (N, 3, H, W) inputs, got (2, 4, 2, 2)" */
}

Test(batchnorm, y_of_another_shape_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y, true);
}

Test(batchnorm, training_on_one_value_per_channel_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3); /* PyTorch: "Expected more than 1 value per channel when training" */
  nn_tensor x = nn_tensor_new(2, (int[]){1, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){1, 3}, NN_CPU);
  nn_batchnorm_forward(bn, &x, &y, true);
}

Test(batchnorm, backward_before_forward_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn", 3);
  nn_tensor dy = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_batchnorm_backward(bn, &dy, NULL);
}
