/* Pooling: MaxPool2d (argmax routing, overlapping windows, ties, padding),
 * AvgPool2d (count_include_pad) and GlobalAvgPool2d, by hand and by finite
 * differences; backward accumulates; output sizes agree with nn_shapes; bad
 * settings abort.
 *
 * Graded tests (GRADED): the public variant is the hand-worked case; the drawn one pools
 * random planes of drawn sizes with a drawn window, and the test routes dy itself (each
 * window's first maximum in reading order, padded cells left out) to know y and dx. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "graded_gradcheck.h"
#include "nn_dense.h"
#include "nn_gradcheck.h"
#include "nn_model.h"
#include "nn_parallel.h"
#include "nn_pool.h"

/* One application of a layer: its record (MaxPool's argmax) comes from ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws) { return (nn_call){.arena = ws, .training = true}; }

/* *y = l(x) through the call c for a 4-D x; y's shape comes from the layer's out_shape (the code
 * under test's: answered, and it must be the reference's). The call records y's address: the
 * caller's *y must stay where it is until the backward. */
static void forward(nn_grade *g, nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  int shape[NN_MAX_DIMS] = {x->shape[0]};
  int ndim = l->ops->out_shape(l, x->shape + 1, x->ndim - 1, shape + 1) + 1;
  int want[4] = {ndim, shape[1], shape[2], shape[3]}, got[4] = {ndim, shape[1], shape[2], shape[3]};
  answer(g, "out_shape: its axes and sizes", got, 4);
  expect(g, memcmp(got, want, sizeof got) == 0, "%s: out_shape of x %s gave %d axes (%d, %d, %d), expected %d "
         "(%d, %d, %d)", l->name, nn_shape_str(x).s, got[0] - 1, got[1], got[2], got[3], want[0] - 1, want[1],
         want[2], want[3]);
  *y = nn_tensor_new(ndim, shape, NN_CPU);
  l->ops->forward(l, c, x, y);
}

/* dx from zero, back through the call c of the forward that gave dy's shape. */
static nn_tensor backward(nn_layer *l, const nn_call *c, const nn_tensor *x, const float *dy_values,
                          const nn_tensor *y) {
  nn_tensor dy = nn_tensor_from(y->ndim, y->shape, dy_values), dx = nn_tensor_new(x->ndim, x->shape, NN_CPU);
  l->ops->backward(l, c, &dy, &dx);
  nn_tensor_free(&dy);
  return dx;
}

/* n floats as doubles, for nn_grade_diagnose (the caller frees them). */
static double *as_doubles(const float *v, long n) {
  double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
  for (long i = 0; i < n; i++) d[i] = v[i];
  return d;
}

/* t (the code under test's) answered as `what`, then each element against want; a failure
 * says where, as (n, c, h, w), and what kind of wrong t is. */
static void expect_values(nn_grade *g, const char *what, nn_tensor *t, const float *want, float tol) {
  long n = nn_numel(t);
  answer(g, what, t->data, n);
  double *w = as_doubles(want, n);
  const char *at = strchr(what, ' ') ? ", at " : ""; /* "dx[0, 1, 0, 2] (n, c, h, w)", "dx (...), at [0, 1, 0, 2]" */
  for (long i = 0; i < n; i++)
    expect_near(g, t->data[i], want[i], tol, "%s%s%s = %g, expected %g%s", what, at,
                nn_grade_where(i, t->ndim, t->shape).s, t->data[i], want[i],
                nn_grade_diagnose(t->data, w, NULL, n, t->ndim, t->shape).s);
  free(w);
}

/* ---- the drawn variants: random planes, a drawn window, y and dx routed by the test */

typedef struct {
  int N, C, H, W, k, s, p;
} pool_case;

/* A k x k window (k in k_lo..k_hi), stride s in s_lo..s_hi (s_hi <= 0: up to k + s_hi),
 * padding p in p_lo..p_hi (p_hi < 0: up to k/2, the most there is), and planes from
 * min_extra more than the padded window needs to 5 more than that. */
static pool_case draw_pool(nn_grade *g, int k_lo, int k_hi, int s_lo, int s_hi, int p_lo, int p_hi, int min_extra) {
  pool_case t;
  t.N = nn_grade_size(g, 1, 1, 3);
  t.C = nn_grade_size(g, 1, 1, 3);
  t.k = nn_grade_size(g, 2, k_lo, k_hi);
  t.s = nn_grade_size(g, 2, s_lo, s_hi <= 0 ? t.k + s_hi : s_hi);
  t.p = nn_grade_size(g, 0, p_lo, p_hi < 0 ? t.k / 2 : p_hi);
  int min_len = t.k - 2 * t.p + min_extra < 1 ? 1 : t.k - 2 * t.p + min_extra;
  t.H = nn_grade_size(g, 4, min_len, min_len + 5);
  t.W = nn_grade_size(g, 4, min_len, min_len + 5);
  return t;
}

static int pool_out(int L, const pool_case *t) { return (L + 2 * t->p - t->k) / t->s + 1; }

/* y and dx of MaxPool2d(t) by the rule: each window's first maximum in reading order among
 * its real cells (a padded cell is no candidate) takes the window's dy, added. */
static void maxpool_by_rule(const pool_case *t, const float *x, const float *dy, float *y, float *dx) {
  const int Ho = pool_out(t->H, t), Wo = pool_out(t->W, t);
  memset(dx, 0, sizeof(float) * (size_t)t->N * t->C * t->H * t->W);
  double *sum = calloc((size_t)t->N * t->C * t->H * t->W, sizeof *sum);
  for (long q = 0; q < (long)t->N * t->C; q++)
    for (int i = 0; i < Ho; i++)
      for (int j = 0; j < Wo; j++) {
        long at = -1;
        for (int h = i * t->s - t->p; h < i * t->s - t->p + t->k; h++)
          for (int w = j * t->s - t->p; w < j * t->s - t->p + t->k; w++) {
            if (h < 0 || h >= t->H || w < 0 || w >= t->W) continue;
            long c = (q * t->H + h) * t->W + w;
            if (at < 0 || x[c] > x[at]) at = c;
          }
        long o = (q * Ho + i) * Wo + j;
        y[o] = x[at], sum[at] += dy[o];
      }
  for (long i = 0; i < (long)t->N * t->C * t->H * t->W; i++) dx[i] = (float)sum[i];
  free(sum);
}

/* MaxPool2d(t) forward and backward of x (filled by the caller) with dy drawn from seed:
 * y and dx answered, then against the rule. */
static void check_maxpool(nn_grade *g, const pool_case *t, nn_tensor *x, uint64_t seed, const char *rule) {
  nn_pool2d *p = nn_maxpool2d_new("pool1", t->k, t->s, t->p);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_tensor y;
  forward(g, &p->base, &c, x, &y);
  answer(g, "y of the max-pool forward", y.data, nn_numel(&y));
  nn_tensor dy = nn_tensor_randn(4, y.shape, seed), dx = nn_tensor_new(4, x->shape, NN_CPU);
  p->base.ops->backward(&p->base, &c, &dy, &dx);
  answer(g, "dx of the max-pool backward", dx.data, nn_numel(&dx));
  float *want_y = malloc((size_t)nn_numel(&y) * sizeof *want_y), *want_dx = malloc((size_t)nn_numel(x) * sizeof *want_dx);
  maxpool_by_rule(t, x->data, dy.data, want_y, want_dx);
  char name[160];
  snprintf(name, sizeof name, "MaxPool2d(kernel %d, stride %d, padding %d) on x %s", t->k, t->s, t->p,
           nn_shape_str(x).s);
  double *y_d = as_doubles(want_y, nn_numel(&y)), *dx_d = as_doubles(want_dx, nn_numel(x));
  for (long i = 0; i < nn_numel(&y); i++)
    expect(g, y.data[i] == want_y[i], "%s: y%s = %g, expected %g, the window's max%s%s", name,
           nn_grade_where(i, 4, y.shape).s, y.data[i], want_y[i], rule,
           nn_grade_diagnose(y.data, y_d, NULL, nn_numel(&y), 4, y.shape).s);
  for (long i = 0; i < nn_numel(x); i++)
    expect_near(g, dx.data[i], want_dx[i], 1e-5 * (1 + fabsf(want_dx[i])), "%s: dx%s = %g, expected %g (dy of "
                "every window whose max it is, added)%s%s", name, nn_grade_where(i, 4, dx.shape).s, dx.data[i],
                want_dx[i], rule, nn_grade_diagnose(dx.data, dx_d, NULL, nn_numel(x), 4, dx.shape).s);
  free(want_y), free(want_dx), free(y_d), free(dx_d);
  nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

/* x (N, C, H, W) holding the distinct values 0.1 * (a random permutation of 0..n-1) - offset:
 * a nudge of h = 1e-2 never changes which cell is a window's max. */
static nn_tensor distinct_input(int N, int C, int H, int W, uint64_t seed) {
  nn_tensor x = nn_tensor_new(4, (int[]){N, C, H, W}, NN_CPU);
  int n = (int)nn_numel(&x), *perm = malloc((size_t)n * sizeof *perm);
  nn_rng rng = nn_rng_new(seed);
  nn_rng_permutation(&rng, perm, n);
  for (int i = 0; i < n; i++) x.data[i] = 0.1f * (float)perm[i] - 0.05f * (float)n;
  free(perm);
  return x;
}

GRADED_TEST(maxpool, forward_and_backward_by_hand_2x2_stride_2) {
  if (!nn_grade_public(g)) { /* distinct values: one max per window */
    pool_case t = draw_pool(g, 2, 2, 2, 2, 0, 0, 0);
    nn_tensor x = distinct_input(t.N, t.C, t.H, t.W, nn_grade_seed(g, 1));
    check_maxpool(g, &t, &x, nn_grade_seed(g, 2), "");
    nn_tensor_free(&x);
    return;
  }
  /* x (1, 1, 4, 4), four 2x2 windows:
   *   1 3 | 2 0       max 4 at (1,0)   max 5 at (1,3)
   *   4 2 | 1 5
   *   ----+----
   *   7 0 | 6 8       max 9 at (3,1)   max 8 at (2,3)
   *   1 9 | 3 4
   * dy = [1, 2, 3, 4] goes to those four cells; every other cell gets 0. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  const float xv[16] = {1, 3, 2, 0, 4, 2, 1, 5, 7, 0, 6, 8, 1, 9, 3, 4};
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 4, 4}, xv), y;
  forward(g, &p->base, &c, &x, &y);
  expect(g, y.ndim == 4 && y.shape[2] == 2 && y.shape[3] == 2, "y is %s, expected (1, 1, 2, 2)", nn_shape_str(&y).s);
  expect_values(g, "y", &y, (float[]){4, 5, 9, 8}, 0.f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){1, 2, 3, 4}, &y);
  expect_values(g, "dx", &dx, (float[]){0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 4, 0, 3, 0, 0}, 0.f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

/* The 2x2 stride-2 window has its own branch-free path (nn_pool.c). It must keep every
 * rule of the general window: ties to the first cell in reading order (values drawn from
 * {-1, 0, 1}), a NaN wins (the last of several), +-inf, and a window whose sum is
 * inf - inf = NaN without a NaN in it; the odd last row and column are left out. */
Test(maxpool, the_2x2_path_keeps_every_rule) {
  enum { N = 3, C = 2, H = 7, W = 9, HO = 3, WO = 4 };
  nn_rng rng = nn_rng_new(5);
  float xv[N * C * H * W];
  for (int i = 0; i < N * C * H * W; i++) xv[i] = (float)nn_rng_below(&rng, 3) - 1.f;
  for (int i = 0; i < 12; i++) xv[nn_rng_below(&rng, N * C * H * W)] = NAN;
  for (int i = 0; i < 6; i++) xv[nn_rng_below(&rng, N * C * H * W)] = INFINITY;
  for (int i = 0; i < 6; i++) xv[nn_rng_below(&rng, N * C * H * W)] = -INFINITY;
  xv[0] = INFINITY, xv[1] = -INFINITY, xv[W] = 1.f, xv[W + 1] = 1.f; /* window (0, 0): inf, no NaN */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_tensor x = nn_tensor_from(4, (int[]){N, C, H, W}, xv), y;
  forward(nn_grade_here(), &p->base, &c, &x, &y);
  const int *argmax = c.saved; /* (N, C, HO, WO): where each max came from, kept in the call */
  for (int q = 0; q < N * C; q++)
    for (int i = 0; i < HO; i++)
      for (int j = 0; j < WO; j++) {
        const float *plane = xv + q * H * W;
        float best = 0.f;
        int at = -1;
        for (int h = 2 * i; h < 2 * i + 2; h++) /* the rule, cell by cell in reading order */
          for (int w = 2 * j; w < 2 * j + 2; w++) {
            float v = plane[h * W + w];
            if (at < 0 || v > best || isnan(v)) best = v, at = h * W + w;
          }
        long o = (long)q * HO * WO + i * WO + j;
        bool same = isnan(best) ? isnan(y.data[o]) : y.data[o] == best;
        cr_assert(same && argmax[o] == at, "plane %d window (%d, %d) of [%g %g / %g %g]: max %g at %d, "
                  "expected %g at %d", q, i, j, plane[2 * i * W + 2 * j], plane[2 * i * W + 2 * j + 1],
                  plane[(2 * i + 1) * W + 2 * j], plane[(2 * i + 1) * W + 2 * j + 1], y.data[o], argmax[o], best, at);
      }
  nn_tensor_free(&x), nn_tensor_free(&y);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

/* The (n, c) planes spread over the threads: 1 and 3 threads give the same y and dx. */
Test(maxpool, any_number_of_threads_gives_the_one_thread_answer) {
  nn_tensor x = nn_tensor_randn(4, (int[]){5, 7, 12, 13}, 8), y[2], dx[2]; /* 35 planes x 36 windows x 4 */
  for (int k = 0; k < 2; k++) {
    nn_set_threads(1 + 2 * k);
    nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call c = call_on(ws);
    forward(nn_grade_here(), &p->base, &c, &x, &y[k]);
    nn_tensor dy = nn_tensor_randn(4, y[k].shape, 9);
    dx[k] = nn_tensor_new(4, x.shape, NN_CPU);
    p->base.ops->backward(&p->base, &c, &dy, &dx[k]);
    nn_tensor_free(&dy);
    nn_arena_free(ws);
    p->base.ops->free(&p->base);
  }
  for (long i = 0; i < nn_numel(&y[0]); i++)
    cr_assert_eq(y[1].data[i], y[0].data[i], "on 3 threads y[%ld] = %g, on 1 thread %g", i, y[1].data[i], y[0].data[i]);
  for (long i = 0; i < nn_numel(&x); i++)
    cr_assert_eq(dx[1].data[i], dx[0].data[i], "on 3 threads dx[%ld] = %g, on 1 thread %g", i, dx[1].data[i],
                 dx[0].data[i]);
  for (int k = 0; k < 2; k++) nn_tensor_free(&y[k]), nn_tensor_free(&dx[k]);
  nn_tensor_free(&x);
}

GRADED_TEST(maxpool, overlapping_windows_add_into_the_shared_max) {
  if (!nn_grade_public(g)) {
    /* stride < kernel; distinct values, and in every plane a cell (s, s) above all others:
     * it lies in windows (0, 0), (0, 1), (1, 0) and (1, 1), and takes the sum of their dy. */
    pool_case t = draw_pool(g, 2, 4, 1, -1, 0, 0, 0);
    t.H += t.s, t.W += t.s; /* at least two windows along each axis */
    nn_tensor x = distinct_input(t.N, t.C, t.H, t.W, nn_grade_seed(g, 1));
    for (long q = 0; q < (long)t.N * t.C; q++) x.data[(q * t.H + t.s) * t.W + t.s] = 1e3f;
    check_maxpool(g, &t, &x, nn_grade_seed(g, 2), " (a cell that is the max of several windows gets all their dy)");
    nn_tensor_free(&x);
    return;
  }
  /* 3x3 windows, stride 2, on a 5x5 plane: 2x2 windows; rows and columns 0-2 and 2-4.
   * x[h][w] = -0.01 (5h + w), distinct, except x[0][2] = 5 (in windows (0,0) and
   * (0,1): the max of both) and x[3][3] = 7 (the max of window (1,1)). Window (1,0)
   * (rows 2-4, cols 0-2) keeps its largest plain value, x[2][0] = -0.10.
   * dy = [1, 2, 3, 4]: dx[0][2] = 1 + 2 = 3, dx[2][0] = 3, dx[3][3] = 4. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 3, 2, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  float xv[25];
  for (int i = 0; i < 25; i++) xv[i] = -0.01f * (float)i;
  xv[0 * 5 + 2] = 5.f, xv[3 * 5 + 3] = 7.f;
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 5, 5}, xv), y;
  forward(g, &p->base, &c, &x, &y);
  expect_values(g, "y", &y, (float[]){5, 5, -0.10f, 7}, 1e-7f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){1, 2, 3, 4}, &y);
  float want[25] = {0};
  want[0 * 5 + 2] = 3.f, want[2 * 5 + 0] = 3.f, want[3 * 5 + 3] = 4.f;
  expect_values(g, "dx (x[0][2] is the max of two windows: it receives 1 + 2)", &dx, want, 0.f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

GRADED_TEST(maxpool, ties_go_to_the_first_maximum) {
  if (!nn_grade_public(g)) { /* values from {-1, 0, 1}: ties in most windows, overlapping or not */
    pool_case t = draw_pool(g, 2, 3, 1, 0, 0, 0, 0);
    nn_tensor x = nn_tensor_new(4, (int[]){t.N, t.C, t.H, t.W}, NN_CPU);
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 1));
    for (long i = 0; i < nn_numel(&x); i++) x.data[i] = (float)nn_rng_below(&rng, 3) - 1.f;
    check_maxpool(g, &t, &x, nn_grade_seed(g, 2), " (a tie goes to the first maximum in reading order)");
    nn_tensor_free(&x);
    return;
  }
  /* x (1, 1, 2, 4), two 2x2 windows:
   *   3 3 | 1 5      all four equal: the first, (0,0), as PyTorch
   *   3 3 | 2 5      5 twice: the first in row-major order, (0,3)
   * dy = [1, 2] -> dx[0][0] = 1, dx[0][3] = 2, nothing else. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 2, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 4}, (float[]){3, 3, 1, 5, 3, 3, 2, 5});
  nn_tensor y;
  forward(g, &p->base, &c, &x, &y);
  expect_values(g, "y", &y, (float[]){3, 5}, 0.f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){1, 2}, &y);
  expect_values(g, "dx (a tie sends dy to the first maximum only)", &dx, (float[]){1, 0, 0, 2, 0, 0, 0, 0}, 0.f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

GRADED_TEST(maxpool, padded_cells_never_win) {
  if (!nn_grade_public(g)) { /* padding 1 or more, every value below the padding's 0 */
    pool_case t = draw_pool(g, 2, 4, 1, 3, 1, -1, 0);
    nn_tensor x = distinct_input(t.N, t.C, t.H, t.W, nn_grade_seed(g, 1));
    float top = -INFINITY;
    for (long i = 0; i < nn_numel(&x); i++) top = fmaxf(top, x.data[i]);
    for (long i = 0; i < nn_numel(&x); i++) x.data[i] -= top + 1.f;
    check_maxpool(g, &t, &x, nn_grade_seed(g, 2), " (a padded cell is never a window's max, though its 0 is larger)");
    nn_tensor_free(&x);
    return;
  }
  /* MaxPool2d(3, stride 2, padding 1) on (1, 1, 4, 4): Ho = floor((4 + 2 - 3) / 2) + 1 = 2.
   * x = -1 .. -16 (all below the padding's 0): windows rows/cols -1..1 and 1..3,
   *   (0,0): real cells (0..1, 0..1), max -1 at (0,0)   (0,1): (0..1, 1..3), max -2 at (0,1)
   *   (1,0): (1..3, 0..1), max -5 at (1,0)              (1,1): (1..3, 1..3), max -6 at (1,1)
   * A padded zero taken as a value would give 0 and route dy nowhere. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 3, 2, 1);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  float xv[16];
  for (int i = 0; i < 16; i++) xv[i] = -1.f - (float)i;
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 4, 4}, xv), y;
  forward(g, &p->base, &c, &x, &y);
  expect(g, y.shape[2] == 2 && y.shape[3] == 2, "y is %s, expected (1, 1, 2, 2)", nn_shape_str(&y).s);
  expect_values(g, "y", &y, (float[]){-1, -2, -5, -6}, 0.f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){1, 2, 3, 4}, &y);
  expect_values(g, "dx", &dx, (float[]){1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0.f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

Test(maxpool, planes_are_pooled_apart) {
  /* (2, 3, 2, 2) with MaxPool2d(2): one output per (n, c) plane, its own max;
   * dy routes inside its own plane. Plane q holds {q, q+0.5, q-1, q+0.25} rotated. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  float xv[24], want_y[6], want_dx[24] = {0}, dyv[6];
  for (int q = 0; q < 6; q++) {
    float v[4] = {(float)q, q + 0.5f, q - 1.f, q + 0.25f};
    for (int i = 0; i < 4; i++) xv[q * 4 + i] = v[(i + q) % 4];
    int at = (1 - q % 4 + 4) % 4; /* where v[1] (the max) landed */
    want_y[q] = q + 0.5f, dyv[q] = (float)(q + 1), want_dx[q * 4 + at] = (float)(q + 1);
  }
  nn_tensor x = nn_tensor_from(4, (int[]){2, 3, 2, 2}, xv), y;
  forward(nn_grade_here(), &p->base, &c, &x, &y);
  cr_assert(y.shape[0] == 2 && y.shape[1] == 3 && y.shape[2] == 1 && y.shape[3] == 1, "y is %s, expected (2, 3, 1, 1)",
            nn_shape_str(&y).s);
  expect_values(nn_grade_here(), "y", &y, want_y, 0.f);
  nn_tensor dx = backward(&p->base, &c, &x, dyv, &y);
  expect_values(nn_grade_here(), "dx", &dx, want_dx, 0.f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

/* Every element of x against central differences; the analytic dx is the answer
 * (graded_gradcheck.h). */
static void gradcheck(nn_grade *g, nn_layer *l, const nn_tensor *x) {
  nn_gradcheck r = graded_gradcheck(g, l, x, 1e-2, 42, false);
  expect(g, r.checked == nn_numel(x), "%s: checked %ld elements, expected every element of x (%ld); no params",
         l->name, r.checked, nn_numel(x));
  expect(g, r.max_rel < 1e-3, "%s on x %s: %s: analytic %g, numeric %g (relative error %.2g)", l->name,
         nn_shape_str(x).s, nn_gradcheck_where(&r).s, r.analytic, r.numeric, r.max_rel);
}

GRADED_TEST(maxpool, gradcheck) {
  /* public: MaxPool2d(2) and MaxPool2d(3, 2, 1) on (2, 3, 6, 5) (W = 5: the last column falls
   * outside every 2x2 window); drawn: the first kernel 2 or 3, the second 3 or 4 (stride 2,
   * padding 1), x's sizes and values */
  int ka = nn_grade_size(g, 2, 2, 3), kb = nn_grade_size(g, 3, 3, 4);
  int N = nn_grade_size(g, 2, 1, 2), C = nn_grade_size(g, 3, 1, 3);
  int H = nn_grade_size(g, 6, kb, 8), W = nn_grade_size(g, 5, kb, 8);
  nn_pool2d *a = nn_maxpool2d_new("pool_a", ka, 0, 0), *b = nn_maxpool2d_new("pool_b_s2_p1", kb, 2, 1);
  nn_tensor x = distinct_input(N, C, H, W, nn_grade_seed(g, 11));
  gradcheck(g, &a->base, &x), gradcheck(g, &b->base, &x);
  nn_tensor_free(&x);
  a->base.ops->free(&a->base), b->base.ops->free(&b->base);
}

Test(avgpool, forward_and_backward_by_hand) {
  /* AvgPool2d(2) on x = 0..15 (1, 1, 4, 4):
   *   (0+1+4+5)/4 = 2.5   (2+3+6+7)/4 = 4.5   (8+9+12+13)/4 = 10.5   (10+11+14+15)/4 = 12.5
   * dy = [4, 8, 12, 16]: each cell of window (i, j) gets dy / 4. */
  nn_pool2d *p = nn_avgpool2d_new("avg1", 2, 2, 0);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  float xv[16];
  for (int i = 0; i < 16; i++) xv[i] = (float)i;
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 4, 4}, xv), y;
  forward(nn_grade_here(), &p->base, &c, &x, &y);
  expect_values(nn_grade_here(), "y", &y, (float[]){2.5f, 4.5f, 10.5f, 12.5f}, 1e-6f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){4, 8, 12, 16}, &y);
  expect_values(nn_grade_here(), "dx", &dx, (float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, 1e-6f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

Test(avgpool, padding_counts_in_the_divisor) {
  /* AvgPool2d(3, stride 1, padding 1) on a 3x3 plane of ones, count_include_pad = true
   * (PyTorch's default): every window divides by 9, padded zeros included:
   *   corner 4/9, edge 6/9, centre 9/9.
   * Backward with dy = 1: cell (h, w) gets (windows that hold it) / 9, the same pattern. */
  nn_pool2d *p = nn_avgpool2d_new("avg1", 3, 1, 1);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 3, 3}, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1}), y;
  forward(nn_grade_here(), &p->base, &c, &x, &y);
  const float want[9] = {4 / 9.f, 6 / 9.f, 4 / 9.f, 6 / 9.f, 1, 6 / 9.f, 4 / 9.f, 6 / 9.f, 4 / 9.f};
  expect_values(nn_grade_here(), "y (count_include_pad: a corner window is 4 ones / 9)", &y, want, 1e-6f);
  nn_tensor dx = backward(&p->base, &c, &x, (float[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, &y);
  expect_values(nn_grade_here(), "dx", &dx, want, 1e-6f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  nn_arena_free(ws);
  p->base.ops->free(&p->base);
}

Test(avgpool, gradcheck) {
  nn_pool2d *a = nn_avgpool2d_new("avg_2x2", 2, 0, 0), *b = nn_avgpool2d_new("avg_3x3_s2_p1", 3, 2, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 6, 5}, NN_CPU);
  nn_rng rng = nn_rng_new(5);
  nn_rng_fill_normal(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  gradcheck(nn_grade_here(), &a->base, &x), gradcheck(nn_grade_here(), &b->base, &x);
  nn_tensor_free(&x);
  a->base.ops->free(&a->base), b->base.ops->free(&b->base);
}

Test(global_avgpool, forward_and_backward_by_hand) {
  /* x = 0..15 as (2, 2, 2, 2): planes {0..3}, {4..7}, {8..11}, {12..15}, means
   * 1.5, 5.5, 9.5, 13.5 -> y (2, 2). dy = [4, 8, -4, 0]: each cell gets dy / (H*W) = dy / 4. */
  nn_layer *g = nn_global_avgpool2d_new("gap");
  nn_call c = {.training = true}; /* GlobalAvgPool2d keeps only x: no arena */
  float xv[16];
  for (int i = 0; i < 16; i++) xv[i] = (float)i;
  nn_tensor x = nn_tensor_from(4, (int[]){2, 2, 2, 2}, xv), y;
  forward(nn_grade_here(), g, &c, &x, &y);
  cr_assert(y.ndim == 2 && y.shape[0] == 2 && y.shape[1] == 2, "y is %s, expected (2, 2)", nn_shape_str(&y).s);
  expect_values(nn_grade_here(), "y", &y, (float[]){1.5f, 5.5f, 9.5f, 13.5f}, 1e-6f);
  nn_tensor dx = backward(g, &c, &x, (float[]){4, 8, -4, 0}, &y);
  expect_values(nn_grade_here(), "dx", &dx, (float[]){1, 1, 1, 1, 2, 2, 2, 2, -1, -1, -1, -1, 0, 0, 0, 0}, 1e-6f);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dx);
  g->ops->free(g);
}

Test(global_avgpool, gradcheck) {
  nn_layer *g = nn_global_avgpool2d_new("gap");
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 4, 5}, NN_CPU);
  nn_rng rng = nn_rng_new(9);
  nn_rng_fill_normal(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  gradcheck(nn_grade_here(), g, &x);
  nn_tensor_free(&x);
  g->ops->free(g);
}

Test(pool, backward_accumulates) {
  /* dx starts at 1 everywhere: after backward it is 1 + the gradient, for each layer. */
  nn_layer *layers[3] = {&nn_maxpool2d_new("max", 3, 2, 1)->base, &nn_avgpool2d_new("avg", 3, 2, 1)->base,
                         nn_global_avgpool2d_new("gap")};
  nn_tensor x = distinct_input(2, 2, 5, 5, 3);
  for (int k = 0; k < 3; k++) {
    nn_layer *l = layers[k];
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call c = call_on(ws);
    nn_tensor y;
    forward(nn_grade_here(), l, &c, &x, &y);
    nn_tensor dy = nn_tensor_new(y.ndim, y.shape, NN_CPU);
    nn_rng rng = nn_rng_new(4);
    nn_rng_fill_normal(&rng, dy.data, nn_numel(&dy), 0.f, 1.f);
    nn_tensor fresh = nn_tensor_new(4, x.shape, NN_CPU), ones = nn_tensor_new(4, x.shape, NN_CPU);
    nn_tensor_fill(&ones, 1.f);
    l->ops->backward(l, &c, &dy, &fresh);
    l->ops->backward(l, &c, &dy, &ones);
    for (long i = 0; i < nn_numel(&x); i++)
      cr_assert_float_eq(ones.data[i], 1.f + fresh.data[i], 1e-6f,
                         "%s: dx[%ld] = %g after backward into dx = 1; expected 1 + %g (backward must add, not overwrite)",
                         l->name, i, ones.data[i], fresh.data[i]);
    nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&fresh), nn_tensor_free(&ones);
    nn_arena_free(ws);
    l->ops->free(l);
  }
  nn_tensor_free(&x);
}

Test(pool, out_shape_agrees_with_nn_shapes) {
  /* The seeds' CNN: conv 3x3 -> (32, 26, 26) -> MaxPool2d(2) -> (32, 13, 13);
   * conv 3x3 -> (64, 11, 11) -> MaxPool2d(2) -> (64, 5, 5): floor((11 - 2) / 2) + 1 = 5. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  cr_assert_eq(p->stride, 2, "stride 0 means stride = kernel (PyTorch's stride=None), got %d", p->stride);
  const int cases[4][3] = {{32, 26, 26}, {32, 13, 13}, {64, 11, 11}, {64, 5, 5}};
  for (int c = 0; c < 4; c += 2) {
    int out[3], nd = p->base.ops->out_shape(&p->base, cases[c], 3, out);
    cr_assert(nd == 3 && out[0] == cases[c + 1][0] && out[1] == cases[c + 1][1] && out[2] == cases[c + 1][2],
              "MaxPool2d(2) on (%d, %d, %d): got (%d, %d, %d), expected (%d, %d, %d)", cases[c][0], cases[c][1],
              cases[c][2], out[0], out[1], out[2], cases[c + 1][0], cases[c + 1][1], cases[c + 1][2]);
    nn_shape in = nn_shape_image(cases[c][0], cases[c][1], cases[c][2]);
    nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, 2);
    nn_calc calc;
    cr_assert_eq(nn_calc_pool2d(&in, &o, NN_PYTORCH, &calc, NULL), NN_OK);
    cr_assert(calc.out.dim[1] == out[1] && calc.out.dim[2] == out[2], "the layer and nn_calc_pool2d disagree");
  }
  nn_pool2d *q = nn_avgpool2d_new("avg", 3, 2, 1);
  int out[3], nd = q->base.ops->out_shape(&q->base, (int[]){8, 7, 8}, 3, out);
  cr_assert(nd == 3 && out[0] == 8 && out[1] == 4 && out[2] == 4,
            "AvgPool2d(3, 2, 1) on (8, 7, 8): got (%d, %d, %d), expected (8, 4, 4)", out[0], out[1], out[2]);
  nn_layer *g = nn_global_avgpool2d_new("gap");
  nd = g->ops->out_shape(g, (int[]){64, 5, 5}, 3, out);
  cr_assert(nd == 1 && out[0] == 64, "GlobalAvgPool2d on (64, 5, 5): got %d dims, (%d), expected (64)", nd, out[0]);
  cr_assert_eq(nn_layer_param_count(&p->base) + nn_layer_param_count(&q->base) + nn_layer_param_count(g), 0,
               "pooling has no parameters");
  p->base.ops->free(&p->base), q->base.ops->free(&q->base), g->ops->free(g);
}

Test(pool, trains_inside_a_model) {
  /* (2, 6, 6) -> MaxPool2d(2) (2, 3, 3) -> AvgPool2d(3, 1, 1) (2, 3, 3) -> GlobalAvgPool2d (2)
   * -> Dense(2 -> 2): the model chains the shapes, and a step runs forward and backward. */
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("pools", 3, (int[]){2, 6, 6});
  nn_model_add(m, &nn_maxpool2d_new("max", 2, 0, 0)->base);
  nn_model_add(m, &nn_avgpool2d_new("avg", 3, 1, 1)->base);
  nn_model_add(m, nn_global_avgpool2d_new("gap"));
  nn_model_add(m, &nn_dense_new("dense", 2, 2, NN_INIT_XAVIER, &rng)->base);
  int out[3];
  cr_assert(nn_model_out_shape(m, out) == 1 && out[0] == 2, "the model's output is (N, 2)");
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_SGD, NULL);
  nn_tensor x = nn_tensor_new(4, (int[]){4, 2, 6, 6}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, nn_numel(&x), 0.f, 1.f);
  const int y[4] = {0, 1, 1, 0};
  double first = nn_model_train_batch(m, &x, y, NULL, NULL);
  for (int i = 0; i < 5; i++) nn_model_train_batch(m, &x, y, NULL, NULL);
  cr_assert(isfinite(first), "the loss is %g", first);
  nn_tensor_free(&x), nn_model_free(m);
}

/* ---- mistakes abort with a message naming the layer and the shapes */

Test(pool, kernel_larger_than_the_padded_input_aborts, .signal = SIGABRT) {
  nn_pool2d *p = nn_maxpool2d_new("pool1", 5, 0, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 1, 2, 2}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 1, 1, 1}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU));
  nn_pool2d_forward(p, &c, &x, &y); /* padded 2 + 2*1 = 4 < 5: "nn_pool2d_forward: pool1 MaxPool2d(kernel 5, ...) on x (1, 1, 2, 2): ..." */
}

Test(pool, out_shape_of_a_too_small_input_aborts, .signal = SIGABRT) {
  nn_pool2d *p = nn_avgpool2d_new("avg", 3, 2, 0);
  int out[3];
  p->base.ops->out_shape(&p->base, (int[]){8, 2, 9}, 3, out);
}

Test(pool, negative_stride_aborts, .signal = SIGABRT) {
  nn_maxpool2d_new("pool1", 2, -1, 0); /* stride 0 is the default (= kernel), < 0 is an error */
}

Test(pool, zero_kernel_aborts, .signal = SIGABRT) { nn_avgpool2d_new("avg", 0, 1, 0); }

Test(pool, padding_over_half_the_kernel_aborts, .signal = SIGABRT) {
  nn_maxpool2d_new("pool1", 3, 1, 2); /* PyTorch: "pad should be at most half of effective kernel size" */
}

Test(pool, wrong_y_shape_aborts, .signal = SIGABRT) {
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 8, 8}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 3, 8, 8}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU));
  nn_pool2d_forward(p, &c, &x, &y); /* "... maps x (2, 3, 8, 8) to (2, 3, 4, 4) but y is (2, 3, 8, 8)" */
}

Test(pool, image_input_is_required, .signal = SIGABRT) {
  nn_layer *g = nn_global_avgpool2d_new("gap");
  int out[3];
  g->ops->out_shape(g, (int[]){784}, 1, out); /* a Dense-shaped input: (N, 784) */
}

Test(pool, backward_before_forward_aborts, .signal = SIGABRT) {
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_tensor dy = nn_tensor_new(4, (int[]){1, 1, 2, 2}, NN_CPU), dx = nn_tensor_new(4, (int[]){1, 1, 4, 4}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU)); /* a call that had no forward */
  nn_pool2d_backward(p, &c, &dy, &dx);
}

Test(pool, x_and_y_on_two_devices_abort, .signal = SIGABRT) {
  /* x says it is on the GPU, y is on the CPU: refused before either is touched. */
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 1, 4, 4}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 1, 2, 2}, NN_CPU);
  x.device = NN_GPU; /* labelled GPU; never read */
  nn_call c = call_on(nn_arena_new(NN_CPU));
  nn_pool2d_forward(p, &c, &x, &y);
}
