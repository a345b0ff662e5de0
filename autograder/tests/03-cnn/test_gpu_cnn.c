/* Chapter 03 on the GPU: im2col, col2im, Conv2d and the pooling layers run on both
 * devices on the same numbers, and the GPU must agree with the CPU (the reference
 * test_conv2d and test_pool prove). A failure prints the max |GPU - CPU| and the
 * worst element. Without a GPU (or a build without CUDA) these tests are skipped,
 * never passed; the two that check an abort before any CUDA call run everywhere.
 *
 * Agreement: err = |gpu - cpu| / max(|cpu|, floor) <= tol, elementwise.
 *   copies            tol 0: im2col, max-pool's y and argmax (the same cells chosen).
 *   gathers           tol 1e-6, floor 1: col2im and the pooling backwards add the CPU's
 *                     numbers in the CPU's order (they come out bit-equal; the margin is
 *                     for a compiler's right to reassociate nothing else).
 *   sums              tol 1e-6, floor 1e-30: avg-pool, global avg-pool (double sums).
 *   GEMM-based        tol 1e-4, floor 1: Conv2d (cuBLAS sums in another order).
 *   a whole model     gradients tol 5e-3, weights 1e-3, relative to the largest |value| of
 *                     the tensor: a ReLU or a max-pool window whose inputs differ by a
 *                     rounding can go the other way on the GPU and move one term of a
 *                     gradient; the layers' own tests above are the tight ones, this one
 *                     checks the wiring (nn_model_to, workspaces, argmax, the optimizer).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_flatten.h"
#include "nn_im2col.h"
#include "nn_model.h"
#include "nn_pool.h"
#include "nn_rng.h"

#define NEED_GPU()                                                         \
  do {                                                                     \
    if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe()); \
  } while (0)

/* ---- helpers */

static nn_tensor random_tensor(nn_rng *rng, int ndim, const int *shape, float lo, float hi) {
  nn_tensor t = nn_tensor_new(ndim, shape, NN_CPU);
  nn_rng_fill_uniform(rng, t.data, nn_numel(&t), lo, hi);
  return t;
}

static nn_tensor on_gpu(const nn_tensor *t) { return nn_tensor_to(t, NN_GPU); }

static double max_abs(const nn_tensor *cpu) {
  double m = 0;
  for (long i = 0; i < nn_numel(cpu); i++) m = fmax(m, fabs(cpu->data[i]));
  return m;
}

/* Asserts that gpu (any device) and cpu (host) hold the same values within tol. */
static void expect_close(const char *what, const nn_tensor *gpu, const nn_tensor *cpu, double tol, double floor) {
  cr_assert(nn_numel(gpu) == nn_numel(cpu), "%s: GPU tensor %s, CPU tensor %s", what, nn_shape_str(gpu).s,
            nn_shape_str(cpu).s);
  nn_tensor g = nn_tensor_to(gpu, NN_CPU);
  long n = nn_numel(cpu), at = 0;
  double worst = 0, max_err = 0;
  for (long i = 0; i < n; i++) {
    double a = g.data[i], c = cpu->data[i];
    bool same_nan = isnan(a) && isnan(c), one_nan = isnan(a) != isnan(c);
    double abs_err = same_nan ? 0 : fabs(a - c);
    double err = one_nan ? INFINITY : same_nan || a == c ? 0 : abs_err / fmax(fabs(c), floor);
    if (abs_err > max_err || one_nan) max_err = one_nan ? INFINITY : abs_err;
    if (err > worst) worst = err, at = i;
  }
  float got = g.data[at], want = cpu->data[at];
  nn_tensor_free(&g);
  cr_assert(worst <= tol,
            "%s: GPU and CPU differ: max |GPU - CPU| = %.3g over %ld values; worst at [%ld]: GPU %.9g, CPU %.9g "
            "(error %.3g, allowed %.0e relative to max(|CPU|, %g))",
            what, max_err, n, at, got, want, worst, tol, floor);
}

/* ---- im2col and col2im: one image, the geometries of test_conv2d and a few more */

typedef struct {
  int N, C, H, W, F, kh, kw, stride;
  nn_pad_mode pad;
  int padding, dilation;
  bool no_bias;
  const char *what;
} conv_case;

static const conv_case CASES[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, NN_PAD_VALID, 0, 1, false, "3x3, valid, odd sizes"},
    {2, 3, 9, 7, 4, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, false, "3x3, stride 2, padding 1"},
    {1, 3, 11, 10, 4, 3, 3, 1, NN_PAD_EXPLICIT, 2, 2, false, "3x3, padding 2, dilation 2"},
    {2, 2, 8, 7, 5, 4, 4, 1, NN_PAD_SAME, 0, 1, false, "4x4, 'same' (the extra zero below/right)"},
    {1, 3, 13, 9, 4, 5, 3, 2, NN_PAD_EXPLICIT, 1, 2, true, "5x3, stride 2, padding 1, dilation 2, no bias"},
    {3, 4, 5, 5, 3, 1, 1, 1, NN_PAD_VALID, 0, 1, true, "1x1, no bias"},
    {2, 1, 6, 6, 2, 3, 3, 3, NN_PAD_EXPLICIT, 1, 1, false, "3x3, stride 3, padding 1"},
    {3, 5, 17, 19, 33, 3, 3, 1, NN_PAD_SAME, 0, 1, false, "3x3 'same', 33 filters, 17x19"},
};
enum { NCASES = sizeof CASES / sizeof CASES[0] };

static nn_conv2d_config config_of(const conv_case *k) {
  return (nn_conv2d_config){.in_channels = k->C, .filters = k->F, .kh = k->kh, .kw = k->kw, .stride = k->stride,
                            .pad = k->pad, .padding = k->padding, .dilation = k->dilation, .no_bias = k->no_bias};
}

/* The geometry the layer of case k would use: padding resolved by nn_conv2d_geom. */
static nn_conv_geom geom_of_case(const conv_case *k) {
  nn_rng rng = nn_rng_new(1);
  nn_conv2d_config cfg = config_of(k);
  nn_conv2d *c = nn_conv2d_new("conv1", &cfg, &rng);
  nn_conv_geom g = nn_conv2d_geom(c, k->H, k->W);
  c->base.ops->free(&c->base);
  return g;
}

Test(im2col_gpu, im2col_matches_cpu_on_every_geometry) {
  NEED_GPU();
  nn_rng rng = nn_rng_new(31);
  for (int k = 0; k < NCASES; k++) {
    nn_conv_geom g = geom_of_case(&CASES[k]);
    int rows = (int)nn_conv_geom_rows(&g), cols = (int)nn_conv_geom_cols(&g);
    nn_tensor x = random_tensor(&rng, 3, (int[]){g.C, g.H, g.W}, -1.f, 1.f), gx = on_gpu(&x);
    nn_tensor c = nn_tensor_new(2, (int[]){rows, cols}, NN_CPU), gc = nn_tensor_new(2, (int[]){rows, cols}, NN_GPU);
    nn_tensor_fill(&gc, NAN); /* im2col must write every entry, the padding's zeros too */
    nn_im2col_on(x.data, &g, c.data, NN_CPU);
    nn_im2col_on(gx.data, &g, gc.data, NN_GPU);
    char what[256];
    snprintf(what, sizeof what, "im2col of x (%d, %d, %d), %s", g.C, g.H, g.W, CASES[k].what);
    expect_close(what, &gc, &c, 0, 1);
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&c), nn_tensor_free(&gc);
  }
}

Test(im2col_gpu, col2im_adds_like_cpu_on_every_geometry) {
  NEED_GPU();
  nn_rng rng = nn_rng_new(32);
  for (int k = 0; k < NCASES; k++) {
    nn_conv_geom g = geom_of_case(&CASES[k]);
    int rows = (int)nn_conv_geom_rows(&g), cols = (int)nn_conv_geom_cols(&g);
    nn_tensor c = random_tensor(&rng, 2, (int[]){rows, cols}, -1.f, 1.f), gc = on_gpu(&c);
    /* x already holds something: col2im adds into it */
    nn_tensor x = random_tensor(&rng, 3, (int[]){g.C, g.H, g.W}, -1.f, 1.f), gx = on_gpu(&x);
    char what[256];
    for (int round = 1; round <= 2; round++) {
      nn_col2im_on(c.data, &g, x.data, NN_CPU);
      nn_col2im_on(gc.data, &g, gx.data, NN_GPU);
      snprintf(what, sizeof what, "col2im into x (%d, %d, %d), %s, call %d (x += col2im(cols))", g.C, g.H, g.W,
               CASES[k].what, round);
      expect_close(what, &gx, &x, 1e-6, 1);
    }
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&c), nn_tensor_free(&gc);
  }
}

/* ---- Conv2d: each case's layer twice (same seed), one moved to the GPU */

typedef struct {
  nn_conv2d *cpu, *gpu;
  nn_tensor x, gx;
} conv_pair;

static conv_pair conv_pair_new(const conv_case *k, uint64_t seed) {
  nn_rng r1 = nn_rng_new(seed), r2 = nn_rng_new(seed), data = nn_rng_new(seed + 1000);
  nn_conv2d_config cfg = config_of(k);
  conv_pair p = {.cpu = nn_conv2d_new("conv1", &cfg, &r1), .gpu = nn_conv2d_new("conv1", &cfg, &r2)};
  long wn = nn_numel(&p.cpu->W);
  nn_rng_fill_uniform(&data, p.cpu->dW.data, wn, -1.f, 1.f); /* grads that hold something: backward adds */
  memcpy(p.gpu->dW.data, p.cpu->dW.data, (size_t)wn * sizeof(float));
  if (p.cpu->has_bias) {
    nn_rng_fill_uniform(&data, p.cpu->b.data, k->F, -0.5f, 0.5f); /* a bias that is not 0 */
    nn_rng_fill_uniform(&data, p.cpu->db.data, k->F, -1.f, 1.f);
    memcpy(p.gpu->b.data, p.cpu->b.data, (size_t)k->F * sizeof(float));
    memcpy(p.gpu->db.data, p.cpu->db.data, (size_t)k->F * sizeof(float));
  }
  nn_layer_to(&p.gpu->base, NN_GPU);
  p.x = random_tensor(&data, 4, (int[]){k->N, k->C, k->H, k->W}, -1.f, 1.f);
  p.gx = on_gpu(&p.x);
  return p;
}

static void conv_pair_free(conv_pair *p) {
  p->cpu->base.ops->free(&p->cpu->base), p->gpu->base.ops->free(&p->gpu->base);
  nn_tensor_free(&p->x), nn_tensor_free(&p->gx);
}

/* y's shape (N, F, Ho, Wo) for x through layer c */
static void out_shape(nn_conv2d *c, const nn_tensor *x, int shape[4]) {
  nn_conv_geom g = nn_conv2d_geom(c, x->shape[2], x->shape[3]);
  shape[0] = x->shape[0], shape[1] = c->F, shape[2] = g.Ho, shape[3] = g.Wo;
}

Test(conv2d_gpu, forward_matches_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < NCASES; k++) {
    conv_pair p = conv_pair_new(&CASES[k], 40 + (uint64_t)k);
    int ys[4];
    out_shape(p.cpu, &p.x, ys);
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_tensor_fill(&gy, NAN); /* forward overwrites y */
    nn_conv2d_forward(p.cpu, &p.x, &y);
    nn_conv2d_forward(p.gpu, &p.gx, &gy);
    cr_assert(p.gpu->cols_device == NN_GPU, "%s: a GPU layer's im2col workspace must be on the GPU", CASES[k].what);
    char what[256];
    snprintf(what, sizeof what, "Conv2d forward, x %s, %s", nn_shape_str(&p.x).s, CASES[k].what);
    expect_close(what, &gy, &y, 1e-4, 1);
    nn_tensor_free(&y), nn_tensor_free(&gy);
    conv_pair_free(&p);
  }
}

Test(conv2d_gpu, backward_adds_into_grads_like_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < NCASES; k++) {
    const conv_case *t = &CASES[k];
    conv_pair p = conv_pair_new(t, 60 + (uint64_t)k);
    nn_rng rng = nn_rng_new(80 + (uint64_t)k);
    int ys[4];
    out_shape(p.cpu, &p.x, ys);
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_tensor dy = random_tensor(&rng, 4, ys, -1.f, 1.f), gdy = on_gpu(&dy);
    nn_tensor dx = random_tensor(&rng, 4, p.x.shape, -1.f, 1.f), gdx = on_gpu(&dx);
    nn_conv2d_forward(p.cpu, &p.x, &y);
    nn_conv2d_forward(p.gpu, &p.gx, &gy);
    nn_conv2d_backward(p.cpu, &dy, &dx);
    nn_conv2d_backward(p.gpu, &gdy, &gdx);
    char what[256];
    snprintf(what, sizeof what, "Conv2d backward, %s: dW += dy_n cols^T", t->what);
    expect_close(what, &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
    if (t->no_bias) {
      cr_assert(p.gpu->db.data == NULL, "%s: a layer without bias has no db", t->what);
    } else {
      snprintf(what, sizeof what, "Conv2d backward, %s: db += sums of dy over n, oh, ow", t->what);
      expect_close(what, &p.gpu->db, &p.cpu->db, 1e-4, 1);
    }
    snprintf(what, sizeof what, "Conv2d backward, %s: dx += col2im(W^T dy_n)", t->what);
    expect_close(what, &gdx, &dx, 1e-4, 1);
    /* again, without dx (a first layer): only the parameter grads add up */
    nn_conv2d_backward(p.cpu, &dy, NULL);
    nn_conv2d_backward(p.gpu, &gdy, NULL);
    snprintf(what, sizeof what, "Conv2d backward (dx NULL), second call, %s: dW", t->what);
    expect_close(what, &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
    if (!t->no_bias) {
      snprintf(what, sizeof what, "Conv2d backward (dx NULL), second call, %s: db", t->what);
      expect_close(what, &p.gpu->db, &p.cpu->db, 1e-4, 1);
    }
    nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&dy), nn_tensor_free(&gdy);
    nn_tensor_free(&dx), nn_tensor_free(&gdx);
    conv_pair_free(&p);
  }
}

/* The workspace grows for a larger input and follows the layer to the GPU and back. */
Test(conv2d_gpu, workspace_grows_and_follows_the_layer) {
  NEED_GPU();
  const conv_case small = {1, 3, 6, 6, 4, 3, 3, 1, NN_PAD_EXPLICIT, 1, 1, false, "small"};
  conv_pair p = conv_pair_new(&small, 90);
  nn_rng rng = nn_rng_new(91);
  int shapes[3][4] = {{1, 3, 6, 6}, {3, 3, 15, 13}, {2, 3, 9, 9}}; /* grows, then a smaller one */
  for (int s = 0; s < 3; s++) {
    nn_tensor x = random_tensor(&rng, 4, shapes[s], -1.f, 1.f), gx = on_gpu(&x);
    int ys[4] = {shapes[s][0], 4, shapes[s][2], shapes[s][3]}; /* 3x3, padding 1: the same size */
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_conv2d_forward(p.cpu, &x, &y);
    nn_conv2d_forward(p.gpu, &gx, &gy);
    char what[128];
    snprintf(what, sizeof what, "Conv2d forward on x %s after smaller or larger inputs", nn_shape_str(&x).s);
    expect_close(what, &gy, &y, 1e-4, 1);
    long need = 3L * 9 * shapes[s][2] * shapes[s][3];
    cr_assert(p.gpu->cols_cap >= need, "the workspace holds %ld floats, x %s needs %ld", p.gpu->cols_cap,
              nn_shape_str(&x).s, need);
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  }
  cr_assert_eq(p.gpu->cols_cap, 3L * 9 * 15 * 13, "the workspace must grow only: %ld floats", p.gpu->cols_cap);
  /* back to the CPU: the next forward makes a host workspace and gives the CPU's y */
  nn_layer_to(&p.gpu->base, NN_CPU);
  nn_tensor y = nn_tensor_new(4, (int[]){1, 4, 6, 6}, NN_CPU), y2 = nn_tensor_new(4, (int[]){1, 4, 6, 6}, NN_CPU);
  nn_tensor x = random_tensor(&rng, 4, (int[]){1, 3, 6, 6}, -1.f, 1.f);
  nn_conv2d_forward(p.cpu, &x, &y);
  nn_conv2d_forward(p.gpu, &x, &y2);
  cr_assert(p.gpu->cols_device == NN_CPU, "after nn_layer_to(NN_CPU) the workspace must come back to the host");
  expect_close("Conv2d forward after the layer came back to the CPU", &y2, &y, 1e-6, 1);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y2);
  conv_pair_free(&p);
}

/* x labelled GPU, weights on the CPU: stopped at the check, before any CUDA call,
 * so this runs everywhere. "nn_conv2d_forward: x is on the GPU but conv1's weights
 * are on the CPU; move the layer (nn_layer_to) or the tensor (nn_tensor_to)" */
Test(conv2d_gpu, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_conv2d *c = nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 2, .kernel = 3}, &rng);
  float host[2 * 16], out[2 * 2 * 4];
  nn_tensor x = {.data = host, .shape = {2, 1, 4, 4}, .ndim = 4, .device = NN_GPU}; /* never read */
  nn_tensor y = {.data = out, .shape = {2, 2, 2, 2}, .ndim = 4, .device = NN_GPU};
  nn_conv2d_forward(c, &x, &y);
}

/* ---- pooling: odd sizes, overlapping windows, padding; integer inputs for ties */

typedef struct {
  int N, C, H, W, k, s, p;
} pool_case;

static const pool_case POOLS[] = {
    {2, 3, 8, 8, 2, 0, 0},   /* the CNN's 2x2, stride 2 */
    {2, 3, 9, 11, 3, 2, 1},  /* overlapping, padded */
    {1, 2, 7, 6, 3, 1, 1},   /* stride 1: each cell in up to 9 windows */
    {2, 2, 5, 5, 2, 1, 0},   /* overlapping, no padding */
    {1, 2, 10, 9, 4, 3, 2},  /* padding k/2 */
    {3, 4, 13, 13, 2, 0, 0}, /* 13 -> 6: the last row and column dropped */
};
enum { NPOOLS = sizeof POOLS / sizeof POOLS[0] };

/* x with values in {-2, ..., 2}: plenty of ties inside a window */
static nn_tensor pool_input(nn_rng *rng, const pool_case *t) {
  nn_tensor x = random_tensor(rng, 4, (int[]){t->N, t->C, t->H, t->W}, -2.5f, 2.5f);
  for (long i = 0; i < nn_numel(&x); i++) x.data[i] = roundf(x.data[i]);
  return x;
}

static void compare_pool(bool max, const pool_case *t, uint64_t seed, bool with_nan) {
  nn_rng rng = nn_rng_new(seed);
  nn_pool2d *pc = max ? nn_maxpool2d_new("pool1", t->k, t->s, t->p) : nn_avgpool2d_new("pool1", t->k, t->s, t->p);
  nn_pool2d *pg = max ? nn_maxpool2d_new("pool1", t->k, t->s, t->p) : nn_avgpool2d_new("pool1", t->k, t->s, t->p);
  nn_tensor x = pool_input(&rng, t);
  if (with_nan) x.data[nn_numel(&x) / 2 + 40] = NAN; /* inside its windows, not first: a NaN wins them, on both devices */
  int out[3];
  pc->base.ops->out_shape(&pc->base, x.shape + 1, 3, out);
  int ys[4] = {t->N, out[0], out[1], out[2]};
  nn_tensor gx = on_gpu(&x), y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
  nn_tensor_fill(&gy, 12345.f);
  nn_tensor dy = random_tensor(&rng, 4, ys, -1.f, 1.f), gdy = on_gpu(&dy);
  nn_tensor dx = random_tensor(&rng, 4, x.shape, -1.f, 1.f), gdx = on_gpu(&dx); /* backward adds into dx */
  char what[256], name[160];
  snprintf(name, sizeof name, "%s(kernel %d, stride %d, padding %d) on x %s%s", max ? "MaxPool2d" : "AvgPool2d",
           t->k, pc->stride, t->p, nn_shape_str(&x).s, with_nan ? " with a NaN" : "");
  nn_pool2d_forward(pc, &x, &y);
  nn_pool2d_forward(pg, &gx, &gy);
  snprintf(what, sizeof what, "%s: forward", name);
  expect_close(what, &gy, &y, max ? 0 : 1e-6, max ? 1 : 1e-30);
  if (max) {
    long n = nn_numel(&y);
    cr_assert(pg->argmax_device == NN_GPU, "%s: the argmax of a GPU forward must stay on the GPU", name);
    int *arg = malloc((size_t)n * sizeof *arg);
    nn_cuda_to_host(arg, pg->argmax, (size_t)n * sizeof *arg);
    for (long i = 0; i < n; i++)
      cr_assert_eq(arg[i], pc->argmax[i], "%s: argmax[%ld] is %d on the GPU, %d on the CPU (ties go to the first)",
                   name, i, arg[i], pc->argmax[i]);
    free(arg);
  }
  for (int round = 1; round <= 2; round++) {
    nn_pool2d_backward(pc, &dy, &dx);
    nn_pool2d_backward(pg, &gdy, &gdx);
    snprintf(what, sizeof what, "%s: backward call %d (dx += ...)", name, round);
    expect_close(what, &gdx, &dx, 1e-6, 1);
  }
  nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  nn_tensor_free(&dy), nn_tensor_free(&gdy), nn_tensor_free(&dx), nn_tensor_free(&gdx);
  pc->base.ops->free(&pc->base), pg->base.ops->free(&pg->base);
}

Test(pool_gpu, maxpool_forward_backward_match_cpu_with_ties) {
  NEED_GPU();
  for (int k = 0; k < NPOOLS; k++) compare_pool(true, &POOLS[k], 100 + (uint64_t)k, false);
  compare_pool(true, &POOLS[1], 120, true);
}

Test(pool_gpu, avgpool_forward_backward_match_cpu) {
  NEED_GPU();
  for (int k = 0; k < NPOOLS; k++) compare_pool(false, &POOLS[k], 130 + (uint64_t)k, false);
}

Test(pool_gpu, global_avgpool_forward_backward_match_cpu) {
  NEED_GPU();
  nn_rng rng = nn_rng_new(140);
  int shapes[3][4] = {{2, 3, 5, 7}, {3, 2, 50, 47}, {1, 1, 1, 1}};
  nn_layer *lc = nn_global_avgpool2d_new("gap"), *lg = nn_global_avgpool2d_new("gap");
  for (int s = 0; s < 3; s++) {
    int ys[2] = {shapes[s][0], shapes[s][1]};
    nn_tensor x = random_tensor(&rng, 4, shapes[s], -1.f, 3.f), gx = on_gpu(&x);
    nn_tensor y = nn_tensor_new(2, ys, NN_CPU), gy = nn_tensor_new(2, ys, NN_GPU);
    nn_tensor dy = random_tensor(&rng, 2, ys, -1.f, 1.f), gdy = on_gpu(&dy);
    nn_tensor dx = random_tensor(&rng, 4, shapes[s], -1.f, 1.f), gdx = on_gpu(&dx);
    char what[160];
    lc->ops->forward(lc, &x, &y, true);
    lg->ops->forward(lg, &gx, &gy, true);
    snprintf(what, sizeof what, "GlobalAvgPool2d forward on x %s", nn_shape_str(&x).s);
    expect_close(what, &gy, &y, 1e-6, 1e-30);
    lc->ops->backward(lc, &dy, &dx);
    lg->ops->backward(lg, &gdy, &gdx);
    snprintf(what, sizeof what, "GlobalAvgPool2d backward on x %s (dx += dy / (H*W))", nn_shape_str(&x).s);
    expect_close(what, &gdx, &dx, 1e-6, 1);
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
    nn_tensor_free(&dy), nn_tensor_free(&gdy), nn_tensor_free(&dx), nn_tensor_free(&gdx);
  }
  lc->ops->free(lc), lg->ops->free(lg);
}

/* x on the GPU, y on the CPU: stopped at the check, before any CUDA call, so this
 * runs everywhere. "nn_pool2d_forward: pool1: y is on the CPU but x is on the GPU; ..." */
Test(pool_gpu, x_and_y_on_two_devices_abort, .signal = SIGABRT) {
  nn_pool2d *p = nn_maxpool2d_new("pool1", 2, 0, 0);
  float host[16];
  nn_tensor x = {.data = host, .shape = {1, 1, 4, 4}, .ndim = 4, .device = NN_GPU}; /* never read */
  nn_tensor y = nn_tensor_new(4, (int[]){1, 1, 2, 2}, NN_CPU);
  nn_pool2d_forward(p, &x, &y);
}

/* ---- the seeds' CNN (test_cnn_model.c), one model per device from one seed:
 * Conv 32 3x3 -> ReLU -> MaxPool 2 -> Conv 64 3x3 -> ReLU -> MaxPool 2 -> Flatten -> Dense 10 */

static nn_model *seed_cnn(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("cnn", 3, (int[]){1, 28, 28});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 32, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = 32, .filters = 64, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu2", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool2", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("dense", 64 * 25, 10, NN_INIT_XAVIER, &rng)->base);
  nn_optim_config cfg = nn_optim_defaults(NN_MOMENTUM);
  cfg.lr = 0.01f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_MOMENTUM, &cfg);
  return m;
}

Test(cnn_gpu, seeds_cnn_train_steps_match_cpu) {
  NEED_GPU();
  enum { B = 8 };
  nn_model *mc = seed_cnn(7), *mg = seed_cnn(7);
  nn_model_to(mg, NN_GPU);
  nn_rng rng = nn_rng_new(150);
  nn_tensor x = random_tensor(&rng, 4, (int[]){B, 1, 28, 28}, 0.f, 1.f);
  int y[B];
  for (int i = 0; i < B; i++) y[i] = (int)nn_rng_below(&rng, 10);
  cr_assert_eq(mc->param_count, mg->param_count);
  for (int step = 1; step <= 3; step++) {
    double lc = nn_model_train_batch(mc, &x, y, NULL, NULL), lg = nn_model_train_batch(mg, &x, y, NULL, NULL);
    cr_assert(fabs(lg - lc) <= 1e-4 * fabs(lc), "step %d: loss %.9g on the GPU, %.9g on the CPU", step, lg, lc);
    char what[160];
    for (int i = 0; i < mc->param_count; i++) {
      const nn_param *c = &mc->params[i], *g = &mg->params[i];
      cr_assert(g->value->device == NN_GPU && g->grad->device == NN_GPU, "%s must be on the GPU", g->name);
      snprintf(what, sizeof what, "step %d: the gradient of %s", step, c->name);
      expect_close(what, g->grad, c->grad, 5e-3, max_abs(c->grad));
      snprintf(what, sizeof what, "step %d: %s after the step", step, c->name);
      expect_close(what, g->value, c->value, 1e-3, max_abs(c->value));
    }
  }
  nn_tensor_free(&x);
  nn_model_free(mc), nn_model_free(mg);
}
