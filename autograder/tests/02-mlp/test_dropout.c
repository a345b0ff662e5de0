/* Dropout and Flatten: inverted dropout keeps about 1 - p of the elements and
 * scales them by 1 / (1 - p), is the identity in evaluation, and its backward
 * uses the same mask (recomputed from (seed, step, i), not stored); Flatten moves no byte.
 *
 * Graded (GRADED): the kept share and scale, and the backward's mask. Both answer the
 * y and dx the code under test computed; the first also wants the mask of nn_philox.h
 * exactly (answer_close against the reference's y): the GPU computes the same bits. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_dropout.h"
#include "nn_flatten.h"
#include "nn_gradcheck.h"
#include "nn_philox.h"
#include "nn_rng.h"

/* Public: (4, 500). Drawn: (2..6, 200..800), p = 0.1..0.4 (0.1..0.7 for the mask test) in
 * steps of 0.05, and the seeds. y and dx are the answers. */
static void draw_shape(nn_grade *g, int shape[2]) {
  shape[0] = nn_grade_size(g, 4, 2, 6), shape[1] = nn_grade_size(g, 500, 200, 800);
}

/* 1e-6, as worked by hand in public; relative to |want| > 1 for the drawn values */
static float tolerance(const nn_grade *g, float want) {
  return nn_grade_public(g) ? 1e-6f : 1e-6f * fmaxf(1.f, fabsf(want));
}

GRADED_TEST(dropout, training_keeps_one_minus_p_scaled_up) {
  int shape[2];
  draw_shape(g, shape);
  long n = (long)shape[0] * shape[1];
  float p = (float)nn_grade_size(g, 5, 2, 8) / 20.f;                              /* 0.25 */
  float value = nn_grade_public(g) ? 3.f : (float)nn_grade_size(g, 0, 2, 16) / 4.f; /* 0.5..4 drawn */
  nn_dropout *d = nn_dropout_new("dropout1", p, nn_grade_seed(g, 1));
  nn_tensor x = nn_tensor_new(2, shape, NN_CPU), y = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor_fill(&x, value);
  nn_arena *ws = nn_arena_new(NN_CPU); /* a training call keeps its mask's step there */
  nn_call c = {.arena = ws, .training = true};
  nn_dropout_forward(d, &c, &x, &y);
  answer_close(g, "y (the mask of nn_philox_uniform)", y.data, n, 1e-6);
  float scaled = value / (1.f - p); /* 3 / (1 - 0.25) = 4 */
  long kept = 0;
  for (long i = 0; i < n; i++) {
    expect(g, y.data[i] == 0.f || fabsf(y.data[i] - scaled) < tolerance(g, scaled),
           "y[%ld] = %g: a kept %g is scaled to %g / (1 - %g) = %g, a dropped one is 0", i, y.data[i], value, value, p,
           scaled);
    kept += y.data[i] != 0.f;
  }
  /* n draws keep n (1 - p) on average, std sqrt(n p (1 - p)): 1500 and 19.4 for 2000 at p = 0.25,
   * where the band is +-100 (5.2 std); a drawn variant gets 5.5 std */
  double mean = n * (1.0 - p), band = nn_grade_public(g) ? 100 : 5.5 * sqrt(n * p * (1.0 - p));
  expect(g, fabs(kept - mean) < band, "kept %ld of %ld elements with p = %g; expected about %.0f (within %.0f)",
         kept, n, p, mean, band);
  nn_tensor_free(&x), nn_tensor_free(&y);
  nn_arena_free(ws);
  d->base.ops->free(&d->base);
}

GRADED_TEST(dropout, backward_uses_the_forward_mask) {
  int shape[2];
  draw_shape(g, shape);
  long n = (long)shape[0] * shape[1];
  float p = (float)nn_grade_size(g, 10, 2, 14) / 20.f; /* 0.5 */
  nn_dropout *d = nn_dropout_new("dropout1", p, nn_grade_seed(g, 7));
  nn_rng data = nn_rng_new(nn_grade_seed(g, 8));
  nn_tensor x = nn_tensor_new(2, shape, NN_CPU), y = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, shape, NN_CPU), dx = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor_fill(&x, 1.f);
  if (nn_grade_public(g)) { /* x = dy = 1: dx must add exactly y */
    nn_tensor_fill(&dy, 1.f), nn_tensor_fill(&dx, 0.5f);
  } else { /* x = 1, dy and dx random: dx must add dy y */
    nn_rng_fill_normal(&data, dy.data, n, 0.f, 1.f);
    nn_rng_fill_uniform(&data, dx.data, n, -1.f, 1.f);
  }
  float *dx0 = malloc((size_t)n * sizeof *dx0);
  memcpy(dx0, dx.data, (size_t)n * sizeof *dx0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = {.arena = ws, .training = true};
  nn_dropout_forward(d, &c, &x, &y);
  answer(g, "y of the forward", y.data, n);
  nn_dropout_backward(d, &c, &dy, &dx);
  answer(g, "dx of the backward", dx.data, n);
  for (long i = 0; i < n; i++) {
    float want = dx0[i] + dy.data[i] * y.data[i];
    expect(g, fabsf(dx.data[i] - want) < tolerance(g, want),
           "dx[%ld] = %g: with x = 1, dx must add exactly dy y = %g x %g to the %g it held (the forward's mask and "
           "scale)", i, dx.data[i], dy.data[i], y.data[i], dx0[i]);
  }
  nn_arena_reset(ws); /* a new step: new calls */
  nn_call c2 = {.arena = ws, .training = true}, c3 = {.arena = ws, .training = true};
  nn_dropout_forward(d, &c2, &x, &y); /* a new step draws a new mask */
  nn_tensor first = nn_tensor_new(2, shape, NN_CPU);
  nn_dropout_forward(d, &c3, &x, &first);
  answer(g, "y of a second step", y.data, n);
  answer(g, "y of a third step", first.data, n);
  expect(g, memcmp(first.data, y.data, nn_tensor_bytes(&y)) != 0, "two training steps drew the same mask");
  free(dx0);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&first);
  nn_arena_free(ws);
  d->base.ops->free(&d->base);
}

Test(dropout, evaluation_is_the_identity) {
  nn_dropout *d = nn_dropout_new("dropout1", 0.5f, 7);
  nn_tensor x = nn_tensor_from(2, (int[]){1, 3}, (float[]){1, -2, 3}), y = nn_tensor_new(2, (int[]){1, 3}, NN_CPU);
  nn_call c = {.training = false}; /* evaluation keeps nothing: no arena */
  nn_dropout_forward(d, &c, &x, &y);
  for (int i = 0; i < 3; i++) cr_assert_eq(y.data[i], x.data[i], "eval: y[%d] = %g, expected x = %g", i, y.data[i], x.data[i]);
  nn_tensor_free(&x), nn_tensor_free(&y);
  d->base.ops->free(&d->base);
}

/* The mask is the documented function of (seed, step, i): element i of the layer's t-th
 * training call is kept iff nn_philox_uniform(seed, t, i) >= p. Two layers with one seed draw
 * the same masks; eval calls do not move the step on. */
Test(dropout, mask_is_philox_of_seed_step_and_index) {
  enum { N = 3, D = 1000 };
  const float p = 0.3f;
  const uint64_t seed = 0x5eed;
  nn_dropout *d = nn_dropout_new("dropout1", p, seed), *twin = nn_dropout_new("dropout2", p, seed);
  nn_tensor x = nn_tensor_new(2, (int[]){N, D}, NN_CPU), y = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_tensor y2 = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  nn_tensor_fill(&x, 2.f);
  nn_arena *ws = nn_arena_new(NN_CPU);
  for (uint64_t t = 0; t < 3; t++) {
    nn_call eval = {.training = false};
    nn_dropout_forward(d, &eval, &x, &y); /* the identity: t stays */
    nn_call c = {.arena = ws, .training = true}, c2 = {.arena = ws, .training = true};
    nn_dropout_forward(d, &c, &x, &y);
    nn_dropout_forward(twin, &c2, &x, &y2);
    cr_assert_eq(d->step, t + 1, "after %lu training calls the step is %lu", (unsigned long)t + 1,
                 (unsigned long)d->step);
    for (long i = 0; i < N * D; i++) {
      float want = nn_philox_uniform(seed, t, (uint64_t)i) >= p ? 2.f / (1.f - p) : 0.f;
      cr_assert_eq(y.data[i], want, "call t = %lu: y[%ld] = %g, expected %g (u = %g, p = %g)", (unsigned long)t, i,
                   y.data[i], want, nn_philox_uniform(seed, t, (uint64_t)i), p);
      cr_assert_eq(y2.data[i], y.data[i], "a layer with the same seed drew another mask at t = %lu, element %ld",
                   (unsigned long)t, i);
    }
    nn_arena_reset(ws);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y2);
  nn_arena_free(ws);
  d->base.ops->free(&d->base), twin->base.ops->free(&twin->base);
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
  cr_assert(r.max_rel < 1e-3, "%s: analytic %g, numeric %g", nn_gradcheck_where(&r).s, r.analytic, r.numeric);
  nn_tensor_free(&x);
  f->ops->free(f);
}
