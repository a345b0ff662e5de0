/* Dropout and Flatten: inverted dropout keeps about 1 - p of the elements and
 * scales them by 1 / (1 - p), is the identity in evaluation, and its backward
 * uses the same mask (replayed, not stored); Flatten moves no byte. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "nn_dropout.h"
#include "nn_flatten.h"
#include "nn_gradcheck.h"

enum { N = 4, D = 500 };

Test(dropout, training_keeps_one_minus_p_scaled_up) {
  nn_dropout *d = nn_dropout_new("dropout1", 0.25f, 1);
  nn_tensor x = nn_tensor_new(2, (int[]){N, D}, NN_CPU), y = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_tensor_fill(&x, 3.f);
  nn_dropout_forward(d, &x, &y, true);
  long kept = 0;
  for (long i = 0; i < N * D; i++) {
    cr_assert(y.data[i] == 0.f || fabsf(y.data[i] - 4.f) < 1e-6f,
              "y[%ld] = %g: a kept 3 is scaled to 3 / (1 - 0.25) = 4, a dropped one is 0", i, y.data[i]);
    kept += y.data[i] != 0.f;
  }
  /* 2000 draws keep 1500 on average, std sqrt(2000 * 0.75 * 0.25) = 19.4 */
  cr_assert(labs(kept - 1500) < 100, "kept %ld of 2000 elements with p = 0.25; expected about 1500", kept);
  nn_tensor_free(&x), nn_tensor_free(&y);
  d->base.ops->free(&d->base);
}

Test(dropout, backward_uses_the_forward_mask) {
  nn_dropout *d = nn_dropout_new("dropout1", 0.5f, 7);
  nn_tensor x = nn_tensor_new(2, (int[]){N, D}, NN_CPU), y = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, (int[]){N, D}, NN_CPU), dx = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_tensor_fill(&x, 1.f), nn_tensor_fill(&dy, 1.f), nn_tensor_fill(&dx, 0.5f);
  nn_dropout_forward(d, &x, &y, true);
  nn_dropout_backward(d, &dy, &dx);
  for (long i = 0; i < N * D; i++)
    cr_assert_float_eq(dx.data[i], 0.5f + y.data[i], 1e-6f,
                       "dx[%ld] = %g: with x = dy = 1, dx must add exactly y = %g (same mask, same scale)", i,
                       dx.data[i], y.data[i]);
  nn_dropout_forward(d, &x, &y, true); /* a new step draws a new mask */
  nn_tensor first = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_dropout_forward(d, &x, &first, true);
  cr_assert(memcmp(first.data, y.data, nn_tensor_bytes(&y)) != 0, "two training steps drew the same mask");
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&first);
  d->base.ops->free(&d->base);
}

Test(dropout, evaluation_is_the_identity) {
  nn_dropout *d = nn_dropout_new("dropout1", 0.5f, 7);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 3}, (float[]){1, -2, 3}), y = nn_tensor_new(2, (int[]){1, 3}, NN_CPU);
  nn_dropout_forward(d, &x, &y, false);
  for (int i = 0; i < 3; i++) cr_assert_eq(y.data[i], x.data[i], "eval: y[%d] = %g, expected x = %g", i, y.data[i], x.data[i]);
  nn_tensor_free(&x), nn_tensor_free(&y);
  d->base.ops->free(&d->base);
}

Test(dropout, p_of_one_aborts, .signal = SIGABRT) { nn_dropout_new("dropout1", 1.f, 1); }

Test(flatten, images_to_rows_and_back) {
  nn_layer *f = nn_flatten_new("flatten");
  int out[1];
  cr_assert_eq(f->ops->out_shape(f, (int[]){1, 28, 28}, 3, out), 1);
  cr_assert_eq(out[0], 784, "(1, 28, 28) flattens to 784, got %d", out[0]);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 2, 2}, NN_CPU);
  nn_rng rng = nn_rng_new(5);
  nn_rng_fill_normal(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  nn_gradcheck r = nn_gradcheck_layer(f, &x, 1e-2, 3);
  cr_assert(r.max_rel < 1e-3, "%s[%ld]: analytic %g, numeric %g", r.name, r.index, r.analytic, r.numeric);
  nn_tensor_free(&x);
  f->ops->free(f);
}
