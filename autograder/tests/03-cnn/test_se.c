/* SqueezeExcite: a forward and a backward worked by hand (one image whose ReLU is on,
 * one whose ReLU is off), finite-difference checks of every input and parameter,
 * backward accumulation, the parameter count against PyTorch's, out_shape, the
 * parameter names, and the aborts on bad inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "nn_gradcheck.h"
#include "nn_se.h"

static nn_se *make(int C, int r, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_se *se = nn_se_new("se1", &(nn_se_config){.channels = C, .reduction = r}, &rng);
  /* biases start at 0; draw them so that the checks see them work */
  nn_rng_fill_normal(&rng, se->fc1->b.data, se->hidden, 0.f, 0.5f);
  nn_rng_fill_normal(&rng, se->fc2->b.data, C, 0.f, 0.5f);
  return se;
}

static void free_layer(nn_se *se) { se->base.ops->free(&se->base); }

/* One application of the block: its record (the (N, C) and (N, hidden) intermediates, fc1's
 * and fc2's calls) comes from ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws) { return (nn_call){.arena = ws, .training = true}; }

static void expect(const char *what, const float *got, const double *want, int n, double tol) {
  for (int i = 0; i < n; i++)
    cr_assert(fabs(got[i] - want[i]) <= tol, "%s[%d] = %.7g, expected %.7g", what, i, got[i], want[i]);
}

Test(se, forward_and_backward_by_hand) {
  /* C = 2, r = 2: one hidden unit. W1 = [1, -1], b1 = 0.5; W2 = [[0], [-ln 3 / 2]], b2 = [ln 3, 0].
   * (sigmoid(ln 3) = 1 / (1 + 1/3) = 3/4, sigmoid(-ln 3) = 1/4, sigmoid(0) = 1/2.)
   *
   * image 0: x = [[1, 2], [3, 6]], [[-1, 1], [2, 4]]   s = [3, 1.5]
   *   a1 = 3 - 1.5 + 0.5 = 2, z = 2;  a2 = [0 + ln 3, -ln 3 + 0] -> e = [3/4, 1/4]
   *   y = [[0.75, 1.5], [2.25, 4.5]], [[-0.25, 0.25], [0.5, 1]]
   * image 1: x = [[0, 2], [0, 2]], [[3, 3], [3, 3]]       s = [1, 3]
   *   a1 = 1 - 3 + 0.5 = -1.5, z = 0 (ReLU off);  a2 = b2 -> e = [3/4, 1/2]
   *   y = [[0, 1.5], [0, 1.5]], [[1.5, 1.5], [1.5, 1.5]]
   *
   * Backward with dy = 1 everywhere: de = sum of x per plane, da2 = de e (1 - e):
   *   image 0: de = [12, 6], da2 = [12 * 3/16, 6 * 3/16] = [2.25, 1.125]
   *   image 1: de = [4, 12],  da2 = [4 * 3/16, 12 * 1/4] = [0.75, 3]
   *   db2 = [2.25 + 0.75, 1.125 + 3] = [3, 4.125];  dW2 = sum_n da2 z = [2.25 * 2, 1.125 * 2] = [4.5, 2.25]
   *   image 0: dz = da2 . W2 = 1.125 * (-ln 3 / 2) = -0.5625 ln 3 (ReLU on: da1 = dz)
   *     db1 = -0.5625 ln 3 = -0.6179694;  dW1 = da1 s = [3, 1.5] * db1 = [-1.8539083, -0.9269541]
   *     ds = da1 W1 = [-0.5625 ln 3, 0.5625 ln 3];  dx = dy e + ds / 4 = [0.75 - 0.140625 ln 3,
   *     0.25 + 0.140625 ln 3] = [0.5955076, 0.4044924] on every pixel of each channel
   *   image 1: the ReLU is off, nothing flows through the MLP: dx = dy e = [0.75, 0.5]
   * (torch.sigmoid(fc2(torch.relu(fc1(x.mean((2, 3)))))) with these weights, backward of
   * y.sum() in float64, gives the same numbers.) */
  nn_se *se = make(2, 2, 1);
  cr_assert_eq(se->hidden, 1, "C = 2, r = 2 has %d hidden units, expected 1", se->hidden);
  const double ln3 = log(3.0);
  se->fc1->W.data[0] = 1.f, se->fc1->W.data[1] = -1.f, se->fc1->b.data[0] = 0.5f;
  se->fc2->W.data[0] = 0.f, se->fc2->W.data[1] = (float)(-ln3 / 2);
  se->fc2->b.data[0] = (float)ln3, se->fc2->b.data[1] = 0.f;
  nn_tensor x = nn_tensor_from(4, (int[]){2, 2, 2, 2}, (float[]){1, 2, 3, 6, -1, 1, 2, 4, 0, 2, 0, 2, 3, 3, 3, 3});
  nn_tensor y = nn_tensor_new(4, x.shape, NN_CPU), dy = nn_tensor_new(4, x.shape, NN_CPU);
  nn_tensor dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_se_forward(se, &c, &x, &y);
  const nn_se_saved *sv = c.saved;
  expect("e", sv->e.data, (double[]){0.75, 0.25, 0.75, 0.5}, 4, 1e-6);
  expect("y", y.data, (double[]){0.75, 1.5, 2.25, 4.5, -0.25, 0.25, 0.5, 1, 0, 1.5, 0, 1.5, 1.5, 1.5, 1.5, 1.5}, 16,
         1e-5);
  nn_tensor_fill(&dy, 1.f);
  nn_se_backward(se, &c, &dy, &dx);
  const double a = 0.75 - 0.140625 * ln3, b = 0.25 + 0.140625 * ln3;
  expect("dx", dx.data, (double[]){a, a, a, a, b, b, b, b, 0.75, 0.75, 0.75, 0.75, 0.5, 0.5, 0.5, 0.5}, 16, 1e-5);
  expect("fc2.db", se->fc2->db.data, (double[]){3, 4.125}, 2, 1e-5);
  expect("fc2.dW", se->fc2->dW.data, (double[]){4.5, 2.25}, 2, 1e-5);
  expect("fc1.db", se->fc1->db.data, (double[]){-0.5625 * ln3}, 1, 1e-5);
  expect("fc1.dW", se->fc1->dW.data, (double[]){-3 * 0.5625 * ln3, -1.5 * 0.5625 * ln3}, 2, 1e-5);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  free_layer(se);
}

/* Every element of x and of the four parameters against central differences of the layer
 * (nn_gradcheck_layer, forward in float). The layer is curved (the sigmoid), so the
 * difference has an O(h^2) error, and its forward is float, so it has a rounding error
 * of order 1e-7 |L| / h: h = 3e-2 keeps both under 1e-3 (1e-2 and 1e-1 do not, for
 * gradients near the 1e-2 floor). The seeds keep the ReLU's inputs further than h moves
 * them from its kink. backward_matches_a_double_reference below checks the same
 * gradients to 1e-4 against a forward pass in double. */
static void gradcheck(int N, int C, int r, int H, int W, uint64_t seed) {
  nn_se *se = make(C, r, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){N, C, H, W}, seed + 1), y = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_se_forward(se, &c, &x, &y); /* no ReLU input within 0.1 of the kink, where a nudge of h could cross it */
  const nn_tensor *a1 = &((const nn_se_saved *)c.saved)->a1;
  for (long i = 0; i < nn_numel(a1); i++)
    cr_assert(fabsf(a1->data[i]) > 0.1f, "pick another seed: fc1's output %ld is %g, near the ReLU's kink", i,
              a1->data[i]);
  nn_arena_free(ws);
  nn_tensor_free(&y);
  nn_gradcheck g = nn_gradcheck_layer(&se->base, &x, 3e-2, seed + 2);
  long hidden = se->hidden, want = nn_numel(&x) + 2L * C * hidden + hidden + C;
  cr_assert_eq(g.checked, want, "checked %ld elements, expected x (%ld) + fc1 and fc2 (%ld)", g.checked,
               nn_numel(&x), want - nn_numel(&x));
  cr_log_info("gradcheck SqueezeExcite(%d, r %d) on %s: worst relative error %.2g (%s)", C, r,
              nn_shape_str(&x).s, g.max_rel, nn_gradcheck_where(&g).s);
  cr_assert(g.max_rel < 1e-3, "SqueezeExcite(%d, r %d) on x %s: %s: analytic %g, numeric %g (relative "
            "error %.2g)", C, r, nn_shape_str(&x).s, nn_gradcheck_where(&g).s, g.analytic, g.numeric, g.max_rel);
  nn_tensor_free(&x);
  free_layer(se);
}

Test(se, gradcheck_8_channels_r_4) { gradcheck(2, 8, 4, 3, 4, 11); }
Test(se, gradcheck_4_channels_r_1) { gradcheck(3, 4, 1, 2, 3, 21); }
Test(se, gradcheck_3_channels_r_16_one_hidden_unit) { gradcheck(2, 3, 16, 4, 2, 71); }
Test(se, gradcheck_1x1_planes) { gradcheck(4, 6, 2, 1, 1, 141); }

/* The block's forward in double, written from the formulas (nothing shared with nn_se.c):
 * v holds x (N, C, H, W), then W1 (hid, C), b1 (hid), W2 (C, hid), b2 (C), in the order
 * the layer lists its gradients. Returns L = sum r * y. */
typedef struct { int N, C, hid, HW; } se_dims;

static double reference_loss(const se_dims *d, const double *v, const float *r) {
  const double *x = v, *W1 = x + (long)d->N * d->C * d->HW, *b1 = W1 + d->hid * d->C, *W2 = b1 + d->hid,
               *b2 = W2 + d->C * d->hid;
  double L = 0, s[64], z[64];
  for (int n = 0; n < d->N; n++) {
    for (int c = 0; c < d->C; c++) {
      s[c] = 0;
      for (int q = 0; q < d->HW; q++) s[c] += x[((long)n * d->C + c) * d->HW + q] / d->HW;
    }
    for (int j = 0; j < d->hid; j++) {
      double a = b1[j];
      for (int c = 0; c < d->C; c++) a += W1[j * d->C + c] * s[c];
      z[j] = a > 0 ? a : 0;
    }
    for (int c = 0; c < d->C; c++) {
      double a = b2[c];
      for (int j = 0; j < d->hid; j++) a += W2[c * d->hid + j] * z[j];
      double e = 1 / (1 + exp(-a));
      for (int q = 0; q < d->HW; q++) {
        long i = ((long)n * d->C + c) * d->HW + q;
        L += r[i] * x[i] * e;
      }
    }
  }
  return L;
}

/* The layer's analytic gradients (float) of L = sum dy * y against central differences of
 * reference_loss (double, h = 1e-6: both errors near 1e-9), so the tolerance can be 1e-4. */
static void check_against_reference(int N, int C, int r, int H, int W, uint64_t seed) {
  nn_se *se = make(C, r, seed);
  se_dims d = {N, C, se->hidden, H * W};
  nn_tensor x = nn_tensor_randn(4, (int[]){N, C, H, W}, seed + 1), y = nn_tensor_new(4, x.shape, NN_CPU);
  nn_tensor dy = nn_tensor_randn(4, x.shape, seed + 2), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_param p[4];
  cr_assert_eq(se->base.ops->params(&se->base, p, 4), 4);
  const nn_tensor *values[5] = {&x, p[0].value, p[1].value, p[2].value, p[3].value};
  const nn_tensor *grads[5] = {&dx, p[0].grad, p[1].grad, p[2].grad, p[3].grad};
  const char *names[5] = {"x", p[0].name, p[1].name, p[2].name, p[3].name};
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_se_forward(se, &c, &x, &y);
  const nn_tensor *a1 = &((const nn_se_saved *)c.saved)->a1;
  for (long i = 0; i < nn_numel(a1); i++)
    cr_assert(fabsf(a1->data[i]) > 1e-3f, "pick another seed: fc1's output %ld is %g, at the ReLU's kink", i,
              a1->data[i]);
  nn_se_backward(se, &c, &dy, &dx);
  enum { MAX_VALUES = 1024 };
  double v[MAX_VALUES], analytic[MAX_VALUES];
  long n_all = 0;
  for (int k = 0; k < 5; k++)
    for (long i = 0; i < nn_numel(values[k]); i++, n_all++) {
      cr_assert(n_all < MAX_VALUES, "too many values for the test's buffers");
      v[n_all] = values[k]->data[i], analytic[n_all] = grads[k]->data[i];
    }
  double worst = 0;
  for (long i = 0, k = 0, base = 0; i < n_all; i++) {
    while (i - base >= nn_numel(values[k])) base += nn_numel(values[k]), k++;
    const double h = 1e-6, saved = v[i];
    v[i] = saved + h;
    double up = reference_loss(&d, v, dy.data);
    v[i] = saved - h;
    double down = reference_loss(&d, v, dy.data);
    v[i] = saved;
    double numeric = (up - down) / (2 * h);
    double rel = fabs(analytic[i] - numeric) / fmax(fmax(fabs(analytic[i]), fabs(numeric)), 1e-2);
    worst = fmax(worst, rel);
    cr_assert(rel < 1e-4, "SqueezeExcite(%d, r %d) on x %s: %s[%ld]: analytic %.9g, numeric (double) %.9g: "
              "relative error %.2g", C, r, nn_shape_str(&x).s, names[k], i - base, analytic[i], numeric, rel);
  }
  cr_log_info("SqueezeExcite(%d, r %d) on %s vs the double reference: worst relative error %.2g over %ld values", C,
              r, nn_shape_str(&x).s, worst, n_all);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  free_layer(se);
}

Test(se, backward_matches_a_double_reference) {
  check_against_reference(2, 8, 4, 3, 2, 61);
  check_against_reference(4, 6, 2, 1, 1, 71);  /* 1x1 planes: s = x */
  check_against_reference(2, 3, 16, 4, 2, 81); /* one hidden unit */
  check_against_reference(3, 4, 1, 2, 3, 91);  /* r = 1: no bottleneck */
}

Test(se, backward_accumulates) {
  nn_se *se = make(8, 4, 5);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, 8, 3, 3}, 6), y = nn_tensor_new(4, x.shape, NN_CPU);
  nn_tensor dy = nn_tensor_randn(4, x.shape, 7), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_se_forward(se, &c, &x, &y);
  nn_se_backward(se, &c, &dy, &dx);
  nn_param p[4];
  cr_assert_eq(se->base.ops->params(&se->base, p, 4), 4);
  nn_tensor once[5];
  for (int k = 0; k < 4; k++) once[k] = nn_tensor_to(p[k].grad, NN_CPU);
  once[4] = nn_tensor_to(&dx, NN_CPU);
  nn_se_backward(se, &c, &dy, &dx); /* backward adds: a second backward doubles every gradient */
  for (int k = 0; k < 5; k++) {
    const nn_tensor *twice = k < 4 ? p[k].grad : &dx;
    const char *name = k < 4 ? p[k].name : "dx";
    double norm = 0;
    for (long i = 0; i < nn_numel(&once[k]); i++) norm += fabs(once[k].data[i]);
    cr_assert(norm > 0, "%s is all zeros after one backward", name);
    for (long i = 0; i < nn_numel(&once[k]); i++)
      cr_assert_float_eq(twice->data[i], 2 * once[k].data[i], 1e-5f * (1 + fabsf(once[k].data[i])),
                         "a second backward must add: %s[%ld] = %g, expected 2 x %g", name, i, twice->data[i],
                         once[k].data[i]);
    nn_tensor_free(&once[k]);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  free_layer(se);
}

Test(se, parameter_count_and_names) {
  /* 2*C*(C/r) + C/r + C. sum(p.numel() for p in (Linear(C, C//r), Linear(C//r, C)).parameters())
   * in PyTorch: C = 64, r = 16 -> 580; C = 256, r = 16 -> 8,464; C = 3, r = 16 (1 hidden unit) -> 10 */
  const struct { int C, r; long params; } cases[] = {{64, 16, 580}, {256, 16, 8464}, {3, 16, 10}, {2, 2, 7}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    nn_se *se = make(cases[k].C, cases[k].r, 1);
    cr_assert_eq(nn_layer_param_count(&se->base), cases[k].params, "SqueezeExcite(%d, r %d) has %ld params, "
                 "expected 2*%d*%d + %d + %d = %ld", cases[k].C, cases[k].r, nn_layer_param_count(&se->base),
                 cases[k].C, se->hidden, se->hidden, cases[k].C, cases[k].params);
    free_layer(se);
  }
  nn_se *se = make(64, 0, 1); /* reduction 0 means the paper's 16 */
  cr_assert_eq(se->hidden, 4, "reduction 0 should mean 16: 64 channels -> 4 hidden units, got %d", se->hidden);
  nn_param p[4];
  int n = se->base.ops->params(&se->base, p, 4);
  const char *names[4] = {"se1.fc1.W", "se1.fc1.b", "se1.fc2.W", "se1.fc2.b"};
  cr_assert_eq(n, 4, "SqueezeExcite lists %d params, expected 4", n);
  for (int k = 0; k < 4; k++) cr_assert_str_eq(p[k].name, names[k], "param %d is %s, expected %s", k, p[k].name,
                                               names[k]);
  free_layer(se);
}

Test(se, out_shape_is_the_input_shape) {
  nn_se *se = make(16, 4, 1);
  int out[NN_MAX_DIMS];
  int nd = se->base.ops->out_shape(&se->base, (int[]){16, 7, 5}, 3, out);
  cr_assert(nd == 3 && out[0] == 16 && out[1] == 7 && out[2] == 5, "out_shape of (N, 16, 7, 5) is (N, %d, %d, %d) "
            "with %d axes", out[0], out[1], out[2], nd);
  free_layer(se);
}

/* One training step of se on x in the arena ws, reset first: forward, then backward of dy = 1;
 * returns the step's call, whose record lives until the next reset. */
static nn_call se_step(nn_se *se, nn_arena *ws, const nn_tensor *x, nn_tensor *y) {
  nn_arena_reset(ws);
  nn_call c = call_on(ws);
  nn_se_forward(se, &c, x, y);
  nn_tensor dy = nn_tensor_new(4, x->shape, NN_CPU), dx = nn_tensor_new(4, x->shape, NN_CPU);
  nn_tensor_fill(&dy, 1.f);
  nn_se_backward(se, &c, &dy, &dx);
  nn_tensor_free(&dy), nn_tensor_free(&dx);
  return c;
}

/* The block keeps no buffers: a call's intermediates and their gradients come from its arena,
 * which the first step of a batch of 48 grows (with C = 64 they need more than its first block);
 * after a reset a step of a smaller batch allocates nothing. */
Test(se, a_larger_batch_grows_the_buffers_and_a_smaller_reuses_them) {
  enum { C = 64, PLANE = 2 * 2 };
  nn_se *se = make(C, 16, 1);
  nn_tensor x3 = nn_tensor_randn(4, (int[]){48, C, 2, 2}, 1), y3 = nn_tensor_new(4, x3.shape, NN_CPU);
  nn_tensor x1 = nn_tensor_randn(4, (int[]){1, C, 2, 2}, 2), y1 = nn_tensor_new(4, x1.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = se_step(se, ws, &x3, &y3);
  const nn_se_saved *sv = c.saved;
  cr_assert(sv->e.shape[0] == 48 && sv->e.shape[1] == C && sv->a1.shape[0] == 48 && sv->a1.shape[1] == se->hidden,
            "the record of a batch of 48 holds e %s and a1 %s, expected (48, %d) and (48, %d)", nn_shape_str(&sv->e).s,
            nn_shape_str(&sv->a1).s, C, se->hidden);
  nn_arena_reset(ws);
  long first = nn_arena_allocations(ws);
  cr_assert(first > 1, "a step of a batch of 48 fits the arena's first block (%ld allocations): the test shows "
            "nothing", first);
  c = se_step(se, ws, &x1, &y1);
  sv = c.saved;
  cr_assert_eq(sv->e.shape[0], 1, "the record holds %d rows, expected the batch's 1", sv->e.shape[0]);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a smaller batch allocated %ld more blocks: it must reuse the "
               "arena", nn_arena_allocations(ws) - first);
  /* image 0 of x3 alone gives the same y as in the batch of 48 */
  nn_tensor x0 = nn_tensor_from(4, (int[]){1, C, 2, 2}, x3.data), y0 = nn_tensor_new(4, x0.shape, NN_CPU);
  nn_call c0 = call_on(ws);
  nn_se_forward(se, &c0, &x0, &y0);
  for (int i = 0; i < C * PLANE; i++)
    cr_assert_float_eq(y0.data[i], y3.data[i], 1e-6f, "y[%d] alone %g, in the batch %g", i, y0.data[i], y3.data[i]);
  nn_arena_free(ws);
  nn_tensor_free(&x3), nn_tensor_free(&y3), nn_tensor_free(&x1), nn_tensor_free(&y1);
  nn_tensor_free(&x0), nn_tensor_free(&y0);
  free_layer(se);
}

Test(se, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_se *se = make(8, 4, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 4, 3, 3}, NN_CPU), y = nn_tensor_new(4, x.shape, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU));
  /* "nn_se_forward: se1: SqueezeExcite(8, hidden 2) takes (N, 8, H, W), but x is (2, 4, 3, 3)" */
  nn_se_forward(se, &c, &x, &y);
}

Test(se, a_flat_input_aborts, .signal = SIGABRT) {
  nn_se *se = make(8, 4, 1);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 8}, NN_CPU), y = nn_tensor_new(2, x.shape, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU));
  /* "nn_se_forward: se1: SqueezeExcite(8, hidden 2) takes (N, 8, H, W), but x is (2, 8)" */
  nn_se_forward(se, &c, &x, &y);
}

Test(se, negative_reduction_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  /* "nn_se_new: se1: channels 8 and reduction -2 must be at least 1 (reduction 0 means 16)" */
  nn_se_new("se1", &(nn_se_config){.channels = 8, .reduction = -2}, &rng);
}

/* x labelled GPU, the block's weights on the CPU: stopped at the check, before any CUDA call, so
 * this runs everywhere (the GPU path itself: test_gpu_cnn.c's se_gpu tests). */
Test(se, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_se *se = make(2, 1, 1);
  float host[8], out[8];
  nn_tensor x = {.data = host, .shape = {1, 2, 2, 2}, .ndim = 4, .device = NN_GPU}; /* labelled GPU; never read */
  nn_tensor y = {.data = out, .shape = {1, 2, 2, 2}, .ndim = 4, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU));
  /* "nn_se_forward: x is on the GPU but se1's weights are on the CPU; move the layer (nn_layer_to) or the
   * tensor (nn_tensor_to)" */
  nn_se_forward(se, &c, &x, &y);
}
