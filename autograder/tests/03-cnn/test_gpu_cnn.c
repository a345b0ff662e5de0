/* Chapter 03 on the GPU: im2col, col2im, Conv2d, the pooling layers, BatchNorm, the
 * residual block, ConvTranspose2d and SqueezeExcite run on both devices on the same
 * numbers, and the GPU must agree with the CPU (the reference test_conv2d, test_pool,
 * test_batchnorm, test_residual, test_conv_transpose2d and test_se prove). A failure prints the max |GPU - CPU| and the worst element. Without a GPU
 * (or a build without CUDA) these tests are skipped, never passed; the ones that check
 * an abort before any CUDA call run everywhere.
 *
 * Agreement (gpu_compare.h): err = |gpu - cpu| / max(|cpu|, floor) <= tol, elementwise.
 *   copies            tol 0: im2col, max-pool's y and argmax (the same cells chosen).
 *   gathers           tol 1e-6, floor 1: col2im and the pooling backwards add the CPU's
 *                     numbers in the CPU's order (they come out bit-equal; the margin is
 *                     for a compiler's right to reassociate nothing else).
 *   sums              tol 1e-6, floor 1e-30: avg-pool, global avg-pool (double sums).
 *   GEMM-based        tol 1e-4, floor 1: Conv2d, ConvTranspose2d (cuBLAS sums in another
 *                     order); SqueezeExcite's gate, y, dx and grads (its fc1 and fc2 are
 *                     cuBLAS products; the squeeze, de and the scale are the CPU's sums and
 *                     products, so only those products' rounding moves them).
 *   BatchNorm         tol 1e-5, floor 1: y, xhat, dx, dgamma, dbeta (double sums added in
 *                     another order, then the CPU's formulas); tol 1e-6, floor 1e-30: the
 *                     per-channel statistics and the running ones.
 *   ResidualBlock     tol 1e-4 (forward) and 1e-3 (grads), relative to the largest |value|
 *                     of the tensor: cuBLAS's rounding, normalised by a BatchNorm.
 *   a whole model     gradients tol 5e-3, weights 1e-3, relative to the largest |value| of
 *                     the tensor: a ReLU or a max-pool window whose inputs differ by a
 *                     rounding can go the other way on the GPU and move one term of a
 *                     gradient; the layers' own tests above are the tight ones, this one
 *                     checks the wiring (nn_model_to, workspaces, argmax, the optimizer).
 *
 * Graded (GRADED): the worker runs both twins and answers the GPU's tensors (expect_close
 * answers its first tensor) and what its layers say about themselves (where a workspace
 * lives, how large it is, how many params); the checker compares them with its own CPU
 * twin, the reference's. The drawn variants draw the geometries, shapes and seeds.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_activation_layer.h"
#include "nn_batchnorm.h"
#include "nn_cnn_models.h"
#include "nn_conv2d.h"
#include "nn_conv_transpose2d.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_flatten.h"
#include "nn_im2col.h"
#include "nn_model.h"
#include "nn_pool.h"
#include "nn_residual.h"
#include "nn_rng.h"
#include "nn_se.h"

#include "gpu_compare.h"

/* ---- im2col and col2im: one image, the geometries of test_conv2d and a few more */

typedef struct {
  int N, C, H, W, F, kh, kw, stride;
  nn_pad_mode pad;
  int padding, dilation;
  bool no_bias;
  const char *what;
  int groups; /* 0 means 1 */
} conv_case;

static const conv_case CASES[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, NN_PAD_VALID, 0, 1, false, "3x3, valid, odd sizes", 1},
    {2, 3, 9, 7, 4, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, false, "3x3, stride 2, padding 1", 1},
    {1, 3, 11, 10, 4, 3, 3, 1, NN_PAD_EXPLICIT, 2, 2, false, "3x3, padding 2, dilation 2", 1},
    {2, 2, 8, 7, 5, 4, 4, 1, NN_PAD_SAME, 0, 1, false, "4x4, 'same' (the extra zero below/right)", 1},
    {1, 3, 13, 9, 4, 5, 3, 2, NN_PAD_EXPLICIT, 1, 2, true, "5x3, stride 2, padding 1, dilation 2, no bias", 1},
    {3, 4, 5, 5, 3, 1, 1, 1, NN_PAD_VALID, 0, 1, true, "1x1, no bias", 1},
    {2, 1, 6, 6, 2, 3, 3, 3, NN_PAD_EXPLICIT, 1, 1, false, "3x3, stride 3, padding 1", 1},
    {3, 5, 17, 19, 33, 3, 3, 1, NN_PAD_SAME, 0, 1, false, "3x3 'same', 33 filters, 17x19", 1},
    {2, 4, 6, 7, 6, 3, 3, 1, NN_PAD_EXPLICIT, 1, 1, false, "3x3, padding 1, 2 groups", 2},
    {2, 8, 9, 9, 16, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, true, "depthwise 3x3, multiplier 2, stride 2, no bias", 8},
};
enum { NCASES = sizeof CASES / sizeof CASES[0], NDRAWN = 4 };

/* Case k of the variant: CASES[k] in the public one; in a drawn one (k < NDRAWN), every size,
 * the kernel, stride, padding mode, padding, dilation and bias drawn, always legal ('same'
 * with stride 1 only; the input at least the dilated kernel less the padding, and d; explicit
 * padding at most half the dilated kernel's span: the first window sees the image). */
static int case_count(const nn_grade *g) { return nn_grade_public(g) ? NCASES : NDRAWN; }

static conv_case case_of(nn_grade *g, int k) {
  if (nn_grade_public(g)) return CASES[k];
  conv_case t = {.what = "a drawn geometry"};
  t.N = nn_grade_size(g, 1, 1, 3), t.C = nn_grade_size(g, 1, 1, 5), t.F = nn_grade_size(g, 1, 1, 40);
  t.kh = nn_grade_size(g, 1, 1, 5), t.kw = nn_grade_size(g, 1, 1, 5), t.dilation = nn_grade_size(g, 1, 1, 2);
  int mode = nn_grade_size(g, 0, 0, 2), stride = nn_grade_size(g, 1, 1, 3), padding = nn_grade_size(g, 0, 0, 2);
  t.no_bias = nn_grade_size(g, 0, 0, 1);
  if (nn_grade_size(g, 0, 0, 1)) t.groups = t.C, t.F = t.C * nn_grade_size(g, 1, 1, 3); /* depthwise */
  t.pad = mode == 0 ? NN_PAD_VALID : mode == 1 ? NN_PAD_EXPLICIT : NN_PAD_SAME;
  t.stride = t.pad == NN_PAD_SAME ? 1 : stride;
  int span_h = t.dilation * (t.kh - 1) + 1, span_w = t.dilation * (t.kw - 1) + 1;
  int half_span = ((span_h < span_w ? span_h : span_w) - 1) / 2; /* the first window sees the image */
  t.padding = t.pad == NN_PAD_EXPLICIT ? (padding < half_span ? padding : half_span) : 0;
  int zeros = t.pad == NN_PAD_EXPLICIT ? 2 * t.padding : 0;
  int min_h = t.pad == NN_PAD_SAME || span_h - zeros < t.dilation ? t.dilation : span_h - zeros;
  int min_w = t.pad == NN_PAD_SAME || span_w - zeros < t.dilation ? t.dilation : span_w - zeros;
  t.H = nn_grade_size(g, 1, min_h, span_h + 16), t.W = nn_grade_size(g, 1, min_w, span_w + 16);
  return t;
}

/* "5x3, stride 2, padding 1, dilation 2, no bias", or the drawn case spelled out. */
static const char *case_text(const conv_case *t, char *buf, size_t n) {
  if (strcmp(t->what, "a drawn geometry") != 0) return t->what;
  snprintf(buf, n, "%dx%d, stride %d, pad %s %d, dilation %d, %d filters, groups %d%s", t->kh, t->kw, t->stride,
           nn_pad_mode_name(t->pad), t->padding, t->dilation, t->F, t->groups ? t->groups : 1,
           t->no_bias ? ", no bias" : "");
  return buf;
}

static nn_conv2d_config config_of(const conv_case *k) {
  return (nn_conv2d_config){.in_channels = k->C, .filters = k->F, .kh = k->kh, .kw = k->kw, .stride = k->stride,
                            .pad = k->pad, .padding = k->padding, .dilation = k->dilation, .no_bias = k->no_bias,
                            .groups = k->groups};
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

/* One application of a layer: its workspace and record come from ws, an arena on the layer's
 * device (nn_layer.h). */
static nn_call call_on(nn_arena *ws, bool training) { return (nn_call){.arena = ws, .training = training}; }

/* The device of a layer's workspace or record (where its call's arena put it), answered. */
static int answered_device(nn_grade *g, const char *what, nn_device device) {
  int d = (int)device;
  answer(g, what, &d, 1);
  return d;
}

GRADED_TEST(im2col_gpu, im2col_matches_cpu_on_every_geometry) {
  NEED_GPU();
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 31));
  for (int k = 0; k < case_count(g); k++) {
    conv_case t = case_of(g, k);
    nn_conv_geom geom = geom_of_case(&t);
    int rows = (int)nn_conv_geom_rows(&geom), cols = (int)nn_conv_geom_cols(&geom);
    nn_tensor x = random_tensor(&rng, 3, (int[]){geom.C, geom.H, geom.W}, -1.f, 1.f), gx = on_gpu(&x);
    nn_tensor c = nn_tensor_new(2, (int[]){rows, cols}, NN_CPU), gc = nn_tensor_new(2, (int[]){rows, cols}, NN_GPU);
    nn_tensor_fill(&gc, NAN); /* im2col must write every entry, the padding's zeros too */
    nn_im2col_on(x.data, &geom, c.data, NN_CPU);
    nn_im2col_on(gx.data, &geom, gc.data, NN_GPU);
    char what[256], text[128];
    snprintf(what, sizeof what, "im2col of x (%d, %d, %d), %s", geom.C, geom.H, geom.W, case_text(&t, text, sizeof text));
    expect_close(g, what, &gc, &c, 0, 1);
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&c), nn_tensor_free(&gc);
  }
}

Test(im2col_gpu, col2im_adds_like_cpu_on_every_geometry) {
  nn_grade *g = nn_grade_here();
  NEED_GPU();
  nn_rng rng = nn_rng_new(32);
  for (int k = 0; k < NCASES; k++) {
    nn_conv_geom geom = geom_of_case(&CASES[k]);
    int rows = (int)nn_conv_geom_rows(&geom), cols = (int)nn_conv_geom_cols(&geom);
    nn_tensor c = random_tensor(&rng, 2, (int[]){rows, cols}, -1.f, 1.f), gc = on_gpu(&c);
    /* x already holds something: col2im adds into it */
    nn_tensor x = random_tensor(&rng, 3, (int[]){geom.C, geom.H, geom.W}, -1.f, 1.f), gx = on_gpu(&x);
    char what[256];
    for (int round = 1; round <= 2; round++) {
      nn_col2im_on(c.data, &geom, x.data, NN_CPU);
      nn_col2im_on(gc.data, &geom, gx.data, NN_GPU);
      snprintf(what, sizeof what, "col2im into x (%d, %d, %d), %s, call %d (x += col2im(cols))", geom.C, geom.H,
               geom.W, CASES[k].what, round);
      expect_close(g, what, &gx, &x, 1e-6, 1);
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
  long wn = nn_numel(&p.cpu->W); /* (F, C/groups, kh, kw) */
  nn_rng_fill_uniform(&data, p.cpu->W.data, wn, -0.5f, 0.5f); /* the test's weights, whatever the constructor drew */
  memcpy(p.gpu->W.data, p.cpu->W.data, (size_t)wn * sizeof(float));
  nn_rng_fill_uniform(&data, p.cpu->dW.data, wn, -1.f, 1.f); /* grads that hold something: backward adds */
  memcpy(p.gpu->dW.data, p.cpu->dW.data, (size_t)wn * sizeof(float));
  if (!k->no_bias) {
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

GRADED_TEST(conv2d_gpu, forward_matches_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < case_count(g); k++) {
    conv_case t = case_of(g, k);
    conv_pair p = conv_pair_new(&t, nn_grade_seed(g, 40 + (uint64_t)k));
    int ys[4];
    out_shape(p.cpu, &p.x, ys);
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_tensor_fill(&gy, NAN); /* forward overwrites y */
    nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
    nn_call cc = call_on(cws, true), gc = call_on(gws, true);
    nn_conv2d_forward(p.cpu, &cc, &p.x, &y);
    nn_conv2d_forward(p.gpu, &gc, &p.gx, &gy);
    char what[256], text[128];
    const char *name = case_text(&t, text, sizeof text);
    int dev = answered_device(g, "where the GPU layer's workspace is", nn_arena_device(gc.arena));
    expect(g, dev == NN_GPU, "%s: a GPU layer's im2col workspace must be on the GPU", name);
    snprintf(what, sizeof what, "Conv2d forward, x %s, %s", nn_shape_str(&p.x).s, name);
    expect_close(g, what, &gy, &y, 1e-4, 1);
    nn_arena_free(cws), nn_arena_free(gws);
    nn_tensor_free(&y), nn_tensor_free(&gy);
    conv_pair_free(&p);
  }
}

GRADED_TEST(conv2d_gpu, backward_adds_into_grads_like_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < case_count(g); k++) {
    conv_case t = case_of(g, k);
    conv_pair p = conv_pair_new(&t, nn_grade_seed(g, 60 + (uint64_t)k));
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 80 + (uint64_t)k));
    char text[128];
    const char *name = case_text(&t, text, sizeof text);
    int ys[4];
    out_shape(p.cpu, &p.x, ys);
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_tensor dy = random_tensor(&rng, 4, ys, -1.f, 1.f), gdy = on_gpu(&dy);
    nn_tensor dx = random_tensor(&rng, 4, p.x.shape, -1.f, 1.f), gdx = on_gpu(&dx);
    nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
    nn_call cc = call_on(cws, true), gc = call_on(gws, true);
    nn_conv2d_forward(p.cpu, &cc, &p.x, &y);
    nn_conv2d_forward(p.gpu, &gc, &p.gx, &gy);
    nn_conv2d_backward(p.cpu, &cc, &dy, &dx);
    nn_conv2d_backward(p.gpu, &gc, &gdy, &gdx);
    char what[256];
    snprintf(what, sizeof what, "Conv2d backward, %s: dW += dy_n cols^T", name);
    expect_close(g, what, &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
    if (t.no_bias) {
      int has_db = p.gpu->db.data != NULL;
      answer(g, "the GPU layer has a db", &has_db, 1);
      expect(g, !has_db, "%s: a layer without bias has no db", name);
    } else {
      snprintf(what, sizeof what, "Conv2d backward, %s: db += sums of dy over n, oh, ow", name);
      expect_close(g, what, &p.gpu->db, &p.cpu->db, 1e-4, 1);
    }
    snprintf(what, sizeof what, "Conv2d backward, %s: dx += col2im(W^T dy_n)", name);
    expect_close(g, what, &gdx, &dx, 1e-4, 1);
    /* again, without dx (a first layer): only the parameter grads add up */
    nn_conv2d_backward(p.cpu, &cc, &dy, NULL);
    nn_conv2d_backward(p.gpu, &gc, &gdy, NULL);
    snprintf(what, sizeof what, "Conv2d backward (dx NULL), second call, %s: dW", name);
    expect_close(g, what, &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
    if (!t.no_bias) {
      snprintf(what, sizeof what, "Conv2d backward (dx NULL), second call, %s: db", name);
      expect_close(g, what, &p.gpu->db, &p.cpu->db, 1e-4, 1);
    }
    nn_arena_free(cws), nn_arena_free(gws);
    nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&dy), nn_tensor_free(&gdy);
    nn_tensor_free(&dx), nn_tensor_free(&gdx);
    conv_pair_free(&p);
  }
}

/* The workspace: a GPU call borrows one image's im2col buffer (C*KH*KW x Ho*Wo floats) from its
 * GPU arena, as large as this input needs; the arena, reset between the steps, grows for a
 * larger input and allocates nothing for a smaller one after it; back on the CPU the layer
 * takes a host arena and gives the CPU's y. Drawn: the three inputs' sizes (the second the
 * largest) and the seeds. */
GRADED_TEST(conv2d_gpu, workspace_grows_and_follows_the_layer) {
  NEED_GPU();
  const conv_case small = {1, 3, 6, 6, 4, 3, 3, 1, NN_PAD_EXPLICIT, 1, 1, false, "small", 1};
  conv_pair p = conv_pair_new(&small, nn_grade_seed(g, 90));
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 91));
  int shapes[3][4] = {{1, 3, 6, 6}, {3, 3, 15, 13}, {2, 3, 9, 9}}; /* grows, then a smaller one */
  if (!nn_grade_public(g)) {
    shapes[0][0] = nn_grade_size(g, 1, 1, 3), shapes[0][2] = nn_grade_size(g, 6, 2, 8);
    shapes[0][3] = nn_grade_size(g, 6, 2, 8);
    shapes[1][0] = nn_grade_size(g, 3, 1, 4), shapes[1][2] = nn_grade_size(g, 15, 10, 20);
    shapes[1][3] = nn_grade_size(g, 13, 10, 20);
    shapes[2][0] = nn_grade_size(g, 2, 1, 4), shapes[2][2] = nn_grade_size(g, 9, 2, 9);
    shapes[2][3] = nn_grade_size(g, 9, 2, 9);
  }
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
  long after_largest = 0; /* the GPU arena's allocations once the largest input's step was done */
  for (int s = 0; s < 3; s++) {
    nn_arena_reset(cws), nn_arena_reset(gws); /* a new step */
    if (s == 2) after_largest = nn_arena_allocations(gws);
    nn_tensor x = random_tensor(&rng, 4, shapes[s], -1.f, 1.f), gx = on_gpu(&x);
    int ys[4] = {shapes[s][0], 4, shapes[s][2], shapes[s][3]}; /* 3x3, padding 1: the same size */
    nn_tensor y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, NN_GPU);
    nn_call cc = call_on(cws, true), gc = call_on(gws, true);
    nn_conv2d_forward(p.cpu, &cc, &x, &y);
    nn_conv2d_forward(p.gpu, &gc, &gx, &gy);
    char what[128];
    snprintf(what, sizeof what, "Conv2d forward on x %s after smaller or larger inputs", nn_shape_str(&x).s);
    expect_close(g, what, &gy, &y, 1e-4, 1);
    /* the floats the GPU call borrowed: one image's cols, rounded up to the arena's 64 bytes */
    long need = 3L * 9 * shapes[s][2] * shapes[s][3], cap = (long)(nn_arena_used(gws) / sizeof(float));
    answer(g, "the floats the GPU forward borrowed from its arena", &cap, 1);
    expect(g, cap >= need && cap < need + 16, "the GPU forward borrowed %ld floats, x %s needs %ld (rounded up to "
           "16)", cap, nn_shape_str(&x).s, need);
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  }
  nn_arena_reset(gws);
  long grown = nn_arena_allocations(gws) - after_largest;
  answer(g, "the GPU arena's allocations after the largest input's step", &grown, 1);
  expect(g, grown == 0, "the workspace must grow only to what the largest input needs: a smaller input after it "
         "allocated %ld blocks, expected none", grown);
  /* back to the CPU: the layer now takes a host arena, and gives the CPU's y */
  nn_layer_to(&p.gpu->base, NN_CPU);
  nn_arena_reset(cws);
  nn_tensor y = nn_tensor_new(4, (int[]){1, 4, 6, 6}, NN_CPU), y2 = nn_tensor_new(4, (int[]){1, 4, 6, 6}, NN_CPU);
  nn_tensor x = random_tensor(&rng, 4, (int[]){1, 3, 6, 6}, -1.f, 1.f);
  nn_call cc = call_on(cws, true), back = call_on(cws, true);
  nn_conv2d_forward(p.cpu, &cc, &x, &y);
  nn_conv2d_forward(p.gpu, &back, &x, &y2);
  int dev = answered_device(g, "where the layer's workspace is, back on the CPU", nn_arena_device(back.arena));
  expect(g, dev == NN_CPU, "after nn_layer_to(NN_CPU) the workspace must come back to the host");
  expect_close(g, "Conv2d forward after the layer came back to the CPU", &y2, &y, 1e-6, 1);
  nn_arena_free(cws), nn_arena_free(gws);
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
  nn_call call = call_on(nn_arena_new(NN_CPU), true);
  nn_conv2d_forward(c, &call, &x, &y);
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

/* Pool case k of the variant: POOLS[k] in the public one; in a drawn one (k < NDRAWN), a k x k
 * window (2 to 4), stride 1 to k + 1, padding up to k/2, planes up to 20 on a side. */
static int pool_count(const nn_grade *g) { return nn_grade_public(g) ? NPOOLS : NDRAWN; }

static pool_case pool_of(nn_grade *g, int k) {
  if (nn_grade_public(g)) return POOLS[k];
  pool_case t;
  t.N = nn_grade_size(g, 1, 1, 3), t.C = nn_grade_size(g, 1, 1, 4), t.k = nn_grade_size(g, 2, 2, 4);
  t.s = nn_grade_size(g, 0, 1, t.k + 1), t.p = nn_grade_size(g, 0, 0, t.k / 2);
  int min_len = t.k - 2 * t.p < 1 ? 1 : t.k - 2 * t.p;
  t.H = nn_grade_size(g, 8, min_len, 20), t.W = nn_grade_size(g, 8, min_len, 20);
  return t;
}

/* x with values in {-2, ..., 2}: plenty of ties inside a window */
static nn_tensor pool_input(nn_rng *rng, const pool_case *t) {
  nn_tensor x = random_tensor(rng, 4, (int[]){t->N, t->C, t->H, t->W}, -2.5f, 2.5f);
  for (long i = 0; i < nn_numel(&x); i++) x.data[i] = roundf(x.data[i]);
  return x;
}

static void compare_pool(nn_grade *g, bool max, const pool_case *t, uint64_t seed, bool with_nan) {
  nn_rng rng = nn_rng_new(seed);
  nn_pool2d *pc = max ? nn_maxpool2d_new("pool1", t->k, t->s, t->p) : nn_avgpool2d_new("pool1", t->k, t->s, t->p);
  nn_pool2d *pg = max ? nn_maxpool2d_new("pool1", t->k, t->s, t->p) : nn_avgpool2d_new("pool1", t->k, t->s, t->p);
  nn_tensor x = pool_input(&rng, t);
  if (with_nan) { /* inside its windows, not first: a NaN wins them, on both devices */
    long at = nn_numel(&x) / 2 + 40 < nn_numel(&x) ? nn_numel(&x) / 2 + 40 : nn_numel(&x) / 2;
    x.data[at] = NAN;
  }
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
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
  nn_call cc = call_on(cws, true), gc = call_on(gws, true);
  nn_pool2d_forward(pc, &cc, &x, &y);
  nn_pool2d_forward(pg, &gc, &gx, &gy);
  snprintf(what, sizeof what, "%s: forward", name);
  expect_close(g, what, &gy, &y, max ? 0 : 1e-6, max ? 1 : 1e-30);
  if (max) {
    long n = nn_numel(&y);
    const int *cpu_arg = cc.saved; /* (N, C, Ho, Wo): the argmax lives in the call */
    int dev = answered_device(g, "where the GPU max-pool's argmax is", nn_arena_device(gc.arena));
    expect(g, dev == NN_GPU, "%s: the argmax of a GPU forward must stay on the GPU", name);
    int *arg = malloc((size_t)n * sizeof *arg);
    nn_cuda_to_host(arg, gc.saved, (size_t)n * sizeof *arg);
    answer(g, "the GPU max-pool's argmax", arg, n);
    for (long i = 0; i < n; i++)
      expect(g, arg[i] == cpu_arg[i], "%s: argmax[%ld] is %d on the GPU, %d on the CPU (ties go to the first)",
             name, i, arg[i], cpu_arg[i]);
    free(arg);
  }
  for (int round = 1; round <= 2; round++) {
    nn_pool2d_backward(pc, &cc, &dy, &dx);
    nn_pool2d_backward(pg, &gc, &gdy, &gdx);
    snprintf(what, sizeof what, "%s: backward call %d (dx += ...)", name, round);
    expect_close(g, what, &gdx, &dx, 1e-6, 1);
  }
  nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  nn_tensor_free(&dy), nn_tensor_free(&gdy), nn_tensor_free(&dx), nn_tensor_free(&gdx);
  nn_arena_free(cws), nn_arena_free(gws);
  pc->base.ops->free(&pc->base), pg->base.ops->free(&pg->base);
}

GRADED_TEST(pool_gpu, maxpool_forward_backward_match_cpu_with_ties) {
  NEED_GPU();
  for (int k = 0; k < pool_count(g); k++) {
    pool_case t = pool_of(g, k);
    compare_pool(g, true, &t, nn_grade_seed(g, 100 + (uint64_t)k), false);
  }
  pool_case t = nn_grade_public(g) ? POOLS[1] : pool_of(g, 0);
  compare_pool(g, true, &t, nn_grade_seed(g, 120), true);
}

Test(pool_gpu, avgpool_forward_backward_match_cpu) {
  nn_grade *g = nn_grade_here();
  NEED_GPU();
  for (int k = 0; k < NPOOLS; k++) compare_pool(g, false, &POOLS[k], 130 + (uint64_t)k, false);
}

Test(pool_gpu, global_avgpool_forward_backward_match_cpu) {
  nn_grade *g = nn_grade_here();
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
    nn_call cc = {.training = true}, gc = {.training = true}; /* GlobalAvgPool2d keeps only x: no arena */
    lc->ops->forward(lc, &cc, &x, &y);
    lg->ops->forward(lg, &gc, &gx, &gy);
    snprintf(what, sizeof what, "GlobalAvgPool2d forward on x %s", nn_shape_str(&x).s);
    expect_close(g, what, &gy, &y, 1e-6, 1e-30);
    lc->ops->backward(lc, &cc, &dy, &dx);
    lg->ops->backward(lg, &gc, &gdy, &gdx);
    snprintf(what, sizeof what, "GlobalAvgPool2d backward on x %s (dx += dy / (H*W))", nn_shape_str(&x).s);
    expect_close(g, what, &gdx, &dx, 1e-6, 1);
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
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_pool2d_forward(p, &c, &x, &y);
}

/* ---- whole models: two copies from one seed, one moved to the GPU, trained side by side */

/* A count of the code under test's (params, buffers), answered; it must be the reference's. */
static int answered_count(nn_grade *g, const char *what, int gpu_count, int cpu_count, const char *name) {
  answer(g, what, &gpu_count, 1);
  expect(g, gpu_count == cpu_count, "%s: %s: %d on the GPU twin, %d on the CPU", name, what, gpu_count, cpu_count);
  return gpu_count;
}

/* Three momentum steps of mc (CPU) and mg (GPU) on one batch: the losses, every gradient,
 * every value after the step and every buffer (BatchNorm's running statistics) agree. */
static void compare_train_steps(nn_grade *g, nn_model *mc, nn_model *mg, const nn_tensor *x, const int *y) {
  answered_count(g, "the GPU model's param count", mg->param_count, mc->param_count, mc->name);
  char what[160];
  for (int step = 1; step <= 3; step++) {
    double lc = nn_model_train_batch(mc, x, y, NULL, NULL), lg = nn_model_train_batch(mg, x, y, NULL, NULL);
    answer(g, "the GPU model's loss", &lg, 1);
    expect(g, fabs(lg - lc) <= 1e-4 * fabs(lc), "step %d: loss %.9g on the GPU, %.9g on the CPU", step, lg, lc);
    for (int i = 0; i < mc->param_count; i++) {
      const nn_param *c = &mc->params[i], *gp = &mg->params[i];
      int devices[2] = {gp->value->device, gp->grad->device};
      answer(g, "the devices of a GPU param and its grad", devices, 2);
      expect(g, devices[0] == NN_GPU && devices[1] == NN_GPU, "%s must be on the GPU", c->name);
      snprintf(what, sizeof what, "step %d: the gradient of %s", step, c->name);
      expect_close(g, what, gp->grad, c->grad, 5e-3, max_abs(c->grad));
      snprintf(what, sizeof what, "step %d: %s after the step", step, c->name);
      expect_close(g, what, gp->value, c->value, 1e-3, max_abs(c->value));
    }
    for (int l = 0; l < mc->count; l++) {
      nn_param bc[NN_MAX_LAYER_PARAMS], bg[NN_MAX_LAYER_PARAMS];
      int n = nn_layer_buffers(mc->layers[l], bc, NN_MAX_LAYER_PARAMS);
      answered_count(g, "a GPU layer's buffer count", nn_layer_buffers(mg->layers[l], bg, NN_MAX_LAYER_PARAMS), n,
                     mc->layers[l]->name);
      for (int i = 0; i < n; i++) {
        int dev = answered_device(g, "the device of a GPU buffer", bg[i].value->device);
        expect(g, dev == NN_GPU, "%s must be on the GPU", bc[i].name);
        snprintf(what, sizeof what, "step %d: %s", step, bc[i].name);
        expect_close(g, what, bg[i].value, bc[i].value, 1e-3, max_abs(bc[i].value));
      }
    }
  }
}

/* A batch of B random images (CPU) of shape in[3] and B labels 0..9. */
static nn_tensor random_batch(nn_rng *rng, int B, const int in[3], int *y) {
  nn_tensor x = random_tensor(rng, 4, (int[]){B, in[0], in[1], in[2]}, 0.f, 1.f);
  for (int i = 0; i < B; i++) y[i] = (int)nn_rng_below(rng, 10);
  return x;
}

/* The seeds' CNN (nn_cnn_models.h: Conv 32 3x3, ReLU, MaxPool 2, Conv 64 3x3, ReLU,
 * MaxPool 2, Flatten, Dense 10), with momentum lr 0.01. */
static nn_model *seed_cnn(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_mnist_cnn(32, 64, 0.f, &rng);
  nn_optim_config cfg = nn_optim_defaults(NN_MOMENTUM);
  cfg.lr = 0.01f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_MOMENTUM, &cfg);
  return m;
}

/* Drawn: the batch (2 to 12 images), the weights' seed, the images and labels. */
GRADED_TEST(cnn_gpu, seeds_cnn_train_steps_match_cpu) {
  NEED_GPU();
  int B = nn_grade_size(g, 8, 2, 12);
  uint64_t seed = nn_grade_seed(g, 7);
  nn_model *mc = seed_cnn(seed), *mg = seed_cnn(seed);
  nn_model_to(mg, NN_GPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 150));
  int *y = malloc((size_t)B * sizeof *y);
  nn_tensor x = random_batch(&rng, B, (int[]){1, 28, 28}, y);
  compare_train_steps(g, mc, mg, &x, y);
  nn_tensor_free(&x), free(y);
  nn_model_free(mc), nn_model_free(mg);
}

/* ---- BatchNorm: one layer per device, the same gamma, beta, running statistics and
 * (since backward adds) the same dgamma, dbeta to start from */

typedef struct {
  nn_batchnorm *cpu, *gpu;
} bn_pair;

static bn_pair bn_pair_new(int C, uint64_t seed) {
  bn_pair p = {nn_batchnorm_new("bn1", C), nn_batchnorm_new("bn1", C)};
  nn_rng rng = nn_rng_new(seed);
  nn_rng_fill_uniform(&rng, p.cpu->gamma.data, C, 0.5f, 1.5f);
  nn_rng_fill_normal(&rng, p.cpu->beta.data, C, 0.f, 0.5f);
  nn_rng_fill_normal(&rng, p.cpu->running_mean.data, C, 0.f, 0.5f);
  nn_rng_fill_uniform(&rng, p.cpu->running_var.data, C, 0.5f, 2.f);
  nn_rng_fill_uniform(&rng, p.cpu->dgamma.data, C, -1.f, 1.f);
  nn_rng_fill_uniform(&rng, p.cpu->dbeta.data, C, -1.f, 1.f);
  nn_tensor *from[] = {&p.cpu->gamma, &p.cpu->beta, &p.cpu->running_mean, &p.cpu->running_var, &p.cpu->dgamma,
                       &p.cpu->dbeta};
  nn_tensor *to[] = {&p.gpu->gamma, &p.gpu->beta, &p.gpu->running_mean, &p.gpu->running_var, &p.gpu->dgamma,
                     &p.gpu->dbeta};
  for (int i = 0; i < 6; i++) nn_tensor_copy(to[i], from[i]);
  nn_layer_to(&p.gpu->base, NN_GPU);
  return p;
}

static void bn_pair_free(bn_pair *p) { p->cpu->base.ops->free(&p->cpu->base), p->gpu->base.ops->free(&p->gpu->base); }

/* One array of a call's record as a tensor of `shape`, on the device of the call's arena. */
static nn_tensor saved_tensor(const nn_call *c, float *data, int ndim, const int *shape) {
  nn_tensor t = {.data = data, .ndim = ndim, .device = nn_arena_device(c->arena)};
  for (int d = 0; d < ndim; d++) t.shape[d] = shape[d];
  return t;
}

/* What the last forward left behind: in its call (cc on the CPU twin, gc on the other) xhat
 * (x's shape), mean, var, inv_std; in the layers the running statistics. */
static void expect_bn_state(nn_grade *g, const char *name, const bn_pair *p, const nn_call *cc, const nn_call *gc,
                            const nn_tensor *x) {
  char what[256];
  const nn_batchnorm_saved *cs = cc->saved, *gs = gc->saved;
  const int C = p->cpu->C;
  nn_tensor cx = saved_tensor(cc, cs->xhat, x->ndim, x->shape), gx = saved_tensor(gc, gs->xhat, x->ndim, x->shape);
  snprintf(what, sizeof what, "%s: xhat", name);
  expect_close(g, what, &gx, &cx, 1e-5, 1);
  const char *names[] = {"mean", "var", "inv_std", "running_mean", "running_var"};
  nn_tensor cm = saved_tensor(cc, cs->mean, 1, &C), cv = saved_tensor(cc, cs->var, 1, &C);
  nn_tensor ci = saved_tensor(cc, cs->inv_std, 1, &C), gm = saved_tensor(gc, gs->mean, 1, &C);
  nn_tensor gv = saved_tensor(gc, gs->var, 1, &C), gi = saved_tensor(gc, gs->inv_std, 1, &C);
  const nn_tensor *c[] = {&cm, &cv, &ci, &p->cpu->running_mean, &p->cpu->running_var};
  nn_tensor *gt[] = {&gm, &gv, &gi, &p->gpu->running_mean, &p->gpu->running_var};
  for (int i = 0; i < 5; i++) {
    snprintf(what, sizeof what, "%s: %s", name, names[i]);
    expect_close(g, what, gt[i], c[i], 1e-6, 1e-30);
  }
}

/* (N, C) and (N, C, H, W); M = N*H*W below, equal to and above the 256 threads of a block */
static const int BN_SHAPES[][4] = {{8, 5, 0, 0}, {300, 4, 0, 0}, {4, 3, 7, 9}, {2, 6, 17, 19}, {3, 1, 1, 1},
                                   {2, 2, 8, 8}};
enum { NBN = sizeof BN_SHAPES / sizeof BN_SHAPES[0] };

/* Shape k of the variant: BN_SHAPES[k] in the public one; in a drawn one (k < NDRAWN), (N, C)
 * with N from 2 to 600 or (N, C, H, W) with N*H*W from 2 to about 1,600 (the 256 threads of
 * a block, and more), C from 1 to 6. */
static int bn_count(const nn_grade *g) { return nn_grade_public(g) ? NBN : NDRAWN; }

static void bn_shape_of(nn_grade *g, int k, int shape[4]) {
  if (nn_grade_public(g)) {
    memcpy(shape, BN_SHAPES[k], 4 * sizeof *shape);
    return;
  }
  int four = nn_grade_size(g, 0, 0, 1);
  shape[1] = nn_grade_size(g, 1, 1, 6);
  shape[0] = four ? nn_grade_size(g, 1, 1, 4) : nn_grade_size(g, 2, 2, 600);
  shape[2] = four ? nn_grade_size(g, 1, 1, 20) : 0;
  shape[3] = four ? nn_grade_size(g, 1, shape[0] * shape[2] < 2 ? 2 : 1, 20) : 0;
}

/* One forward (training or eval) and two backwards (with dx, then dx NULL) on both
 * devices, x far from 0 (mean 3) so that a one-pass variance would show. */
static void compare_batchnorm(nn_grade *g, const int *shape4, bool training, uint64_t seed) {
  const int ndim = shape4[2] ? 4 : 2, C = shape4[1];
  bn_pair p = bn_pair_new(C, seed);
  nn_rng rng = nn_rng_new(seed + 1);
  nn_tensor x = random_tensor(&rng, ndim, shape4, 2.f, 4.f), gx = on_gpu(&x);
  nn_tensor y = nn_tensor_new(ndim, shape4, NN_CPU), gy = nn_tensor_new(ndim, shape4, NN_GPU);
  nn_tensor_fill(&gy, NAN); /* forward overwrites y */
  char name[160], what[256];
  snprintf(name, sizeof name, "BatchNorm(%d) %s forward on x %s", C, training ? "training" : "eval",
           nn_shape_str(&x).s);
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
  nn_call cc = call_on(cws, training), gc = call_on(gws, training);
  nn_batchnorm_forward(p.cpu, &cc, &x, &y);
  nn_batchnorm_forward(p.gpu, &gc, &gx, &gy);
  int devices[3] = {nn_arena_device(gc.arena), nn_arena_device(gc.arena), nn_arena_device(gc.arena)};
  answer(g, "the devices of the GPU layer's xhat, mean, inv_std", devices, 3);
  expect(g, devices[0] == NN_GPU && devices[1] == NN_GPU && devices[2] == NN_GPU,
         "%s: a GPU layer's workspaces (xhat, mean, var, inv_std) must be on the GPU", name);
  snprintf(what, sizeof what, "%s: y", name);
  expect_close(g, what, &gy, &y, 1e-5, 1);
  expect_bn_state(g, name, &p, &cc, &gc, &x);
  nn_tensor dy = random_tensor(&rng, ndim, shape4, -1.f, 1.f), gdy = on_gpu(&dy);
  nn_tensor dx = random_tensor(&rng, ndim, shape4, -1.f, 1.f), gdx = on_gpu(&dx); /* backward adds into dx */
  nn_batchnorm_backward(p.cpu, &cc, &dy, &dx);
  nn_batchnorm_backward(p.gpu, &gc, &gdy, &gdx);
  snprintf(what, sizeof what, "%s, backward: dx += ...", name);
  expect_close(g, what, &gdx, &dx, 1e-5, 1);
  for (int round = 1; round <= 2; round++) {
    snprintf(what, sizeof what, "%s, backward call %d: dgamma += sum(dy xhat)", name, round);
    expect_close(g, what, &p.gpu->dgamma, &p.cpu->dgamma, 1e-5, 1);
    snprintf(what, sizeof what, "%s, backward call %d: dbeta += sum(dy)", name, round);
    expect_close(g, what, &p.gpu->dbeta, &p.cpu->dbeta, 1e-5, 1);
    nn_batchnorm_backward(p.cpu, &cc, &dy, NULL); /* round 2: a first layer, no dx */
    nn_batchnorm_backward(p.gpu, &gc, &gdy, NULL);
  }
  nn_arena_free(cws), nn_arena_free(gws);
  nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  nn_tensor_free(&dy), nn_tensor_free(&gdy), nn_tensor_free(&dx), nn_tensor_free(&gdx);
  bn_pair_free(&p);
}

GRADED_TEST(batchnorm_gpu, training_forward_backward_match_cpu_on_N_C_and_N_C_H_W) {
  NEED_GPU();
  for (int k = 0; k < bn_count(g); k++) {
    int shape[4];
    bn_shape_of(g, k, shape);
    compare_batchnorm(g, shape, true, nn_grade_seed(g, 200 + (uint64_t)k));
  }
}

Test(batchnorm_gpu, eval_forward_backward_match_cpu_on_N_C_and_N_C_H_W) {
  nn_grade *g = nn_grade_here();
  NEED_GPU();
  for (int k = 0; k < NBN; k++) compare_batchnorm(g, BN_SHAPES[k], false, 220 + (uint64_t)k);
}

/* Four training steps on batches of 4, 6 (the workspace grows), 2 and 8 examples: the
 * running statistics after each, then an eval forward that uses them. Each step is a call of
 * its own on arenas reset between the steps: after the largest step the GPU arena allocates
 * nothing more. Drawn: C, the four batches (the second the largest), the planes' sizes, the seeds. */
GRADED_TEST(batchnorm_gpu, running_statistics_after_4_steps_match_cpu) {
  NEED_GPU();
  int shapes[4][4] = {{4, 3, 5, 5}, {6, 3, 5, 5}, {2, 3, 5, 5}, {8, 3, 2, 2}};
  if (!nn_grade_public(g)) {
    int C = nn_grade_size(g, 3, 1, 5), H = nn_grade_size(g, 5, 2, 7), W = nn_grade_size(g, 5, 2, 7);
    int n[4];
    n[0] = nn_grade_size(g, 4, 2, 5), n[1] = nn_grade_size(g, 6, 6, 9), n[2] = nn_grade_size(g, 2, 1, 5);
    n[3] = nn_grade_size(g, 8, 2, 9);
    for (int k = 0; k < 4; k++)
      shapes[k][0] = n[k], shapes[k][1] = C, shapes[k][2] = k < 3 ? H : 2, shapes[k][3] = k < 3 ? W : 2;
  }
  const int C = shapes[0][1];
  bn_pair p = bn_pair_new(C, nn_grade_seed(g, 240));
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 241));
  char what[160];
  long largest = 0, after_largest = 0; /* the largest batch's values; the GPU arena's allocations after its step */
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
  for (int step = 0; step < 5; step++) {
    const int *s = shapes[step < 4 ? step : 0];
    bool training = step < 4;
    nn_arena_reset(cws), nn_arena_reset(gws); /* a new step: the last one's calls are done with */
    nn_tensor x = random_tensor(&rng, 4, s, -1.f + (float)step, 2.f + (float)step), gx = on_gpu(&x);
    nn_tensor y = nn_tensor_new(4, s, NN_CPU), gy = nn_tensor_new(4, s, NN_GPU);
    nn_call cc = call_on(cws, training), gc = call_on(gws, training);
    nn_batchnorm_forward(p.cpu, &cc, &x, &y);
    nn_batchnorm_forward(p.gpu, &gc, &gx, &gy);
    snprintf(what, sizeof what, "%s %d on x %s", training ? "training step" : "then eval, step", step + 1,
             nn_shape_str(&x).s);
    expect_bn_state(g, what, &p, &cc, &gc, &x);
    expect_close(g, what, &gy, &y, 1e-5, 1);
    if (training && nn_numel(&x) > largest) { /* the arena is sized by this step at its next reset */
      largest = nn_numel(&x);
      nn_arena_reset(gws);
      after_largest = nn_arena_allocations(gws);
    }
    nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  }
  nn_arena_reset(gws);
  long grown = nn_arena_allocations(gws) - after_largest;
  answer(g, "the GPU arena's allocations after the largest batch", &grown, 1);
  expect(g, grown == 0, "xhat and the statistics must grow the arena only to the largest batch's (%ld values): "
         "%ld blocks allocated after it, expected none", largest, grown);
  nn_arena_free(cws), nn_arena_free(gws);
  bn_pair_free(&p);
}

/* After nn_layer_to(NN_CPU) the running statistics come back and the workspaces follow
 * at the next forward: the layer then is the CPU's again. Drawn: C, x's shape, the seeds. */
GRADED_TEST(batchnorm_gpu, workspaces_follow_the_layer_back_to_the_cpu) {
  NEED_GPU();
  int shape[4];
  shape[1] = nn_grade_size(g, 4, 1, 6), shape[0] = nn_grade_size(g, 3, 2, 5);
  shape[2] = nn_grade_size(g, 6, 1, 8), shape[3] = nn_grade_size(g, 5, 1, 8);
  const int C = shape[1];
  bn_pair p = bn_pair_new(C, nn_grade_seed(g, 250));
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 251));
  nn_tensor x = random_tensor(&rng, 4, shape, -1.f, 1.f), gx = on_gpu(&x);
  nn_tensor y = nn_tensor_new(4, shape, NN_CPU), gy = nn_tensor_new(4, shape, NN_GPU);
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
  nn_call cc = call_on(cws, true), gc = call_on(gws, true);
  nn_batchnorm_forward(p.cpu, &cc, &x, &y);
  nn_batchnorm_forward(p.gpu, &gc, &gx, &gy);
  nn_layer_to(&p.gpu->base, NN_CPU);
  int back[2] = {p.gpu->running_mean.device, p.gpu->running_var.device};
  answer(g, "the devices of running_mean, running_var", back, 2);
  expect(g, back[0] == NN_CPU && back[1] == NN_CPU, "nn_layer_to(NN_CPU) must bring the running statistics back");
  nn_tensor y2 = nn_tensor_new(4, shape, NN_CPU), dy = random_tensor(&rng, 4, shape, -1.f, 1.f);
  nn_tensor dx = nn_tensor_new(4, shape, NN_CPU), dx2 = nn_tensor_new(4, shape, NN_CPU);
  nn_arena_reset(cws); /* a new step, the layer back on the CPU: its calls take a host arena */
  nn_call cc2 = call_on(cws, true), moved = call_on(cws, true);
  nn_batchnorm_forward(p.cpu, &cc2, &x, &y);
  nn_batchnorm_forward(p.gpu, &moved, &x, &y2);
  int devices[3] = {nn_arena_device(moved.arena), nn_arena_device(moved.arena), nn_arena_device(moved.arena)};
  answer(g, "the devices of xhat, mean, inv_std", devices, 3);
  expect(g, devices[0] == NN_CPU && devices[1] == NN_CPU && devices[2] == NN_CPU,
         "after nn_layer_to(NN_CPU) the workspaces must come back to the host at the next forward");
  expect_close(g, "BatchNorm forward after the layer came back to the CPU", &y2, &y, 1e-5, 1);
  expect_bn_state(g, "BatchNorm after the layer came back to the CPU", &p, &cc2, &moved, &x);
  nn_batchnorm_backward(p.cpu, &cc2, &dy, &dx);
  nn_batchnorm_backward(p.gpu, &moved, &dy, &dx2);
  expect_close(g, "BatchNorm backward after the layer came back to the CPU", &dx2, &dx, 1e-5, 1);
  nn_tensor_free(&x), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&y2);
  nn_tensor_free(&dy), nn_tensor_free(&dx), nn_tensor_free(&dx2);
  nn_arena_free(cws), nn_arena_free(gws);
  bn_pair_free(&p);
}

/* x labelled GPU, gamma on the CPU: stopped at the check, before any CUDA call, so this
 * runs everywhere. "nn_batchnorm_forward: x is on the GPU but bn1's gamma and beta are
 * on the CPU; move the layer (nn_layer_to) or the tensor (nn_tensor_to)" */
Test(batchnorm_gpu, x_on_the_gpu_and_gamma_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_batchnorm *bn = nn_batchnorm_new("bn1", 2);
  float host[8], out[8];
  nn_tensor x = {.data = host, .shape = {4, 2}, .ndim = 2, .device = NN_GPU}; /* never read */
  nn_tensor y = {.data = out, .shape = {4, 2}, .ndim = 2, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_batchnorm_forward(bn, &c, &x, &y);
}

/* ---- ResidualBlock: one block per device from one seed, every BatchNorm moved off
 * gamma 1, beta 0 and the running statistics 0, 1 */

static nn_residual *residual_block(int in, int out, int stride, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_residual_config cfg = {.in_channels = in, .out_channels = out, .stride = stride};
  nn_residual *r = nn_residual_new("block1", &cfg, &rng);
  nn_conv2d *convs[3] = {r->conv1, r->conv2, r->proj}; /* the test's weights, whatever the constructor drew */
  for (int i = 0; i < 3; i++)
    if (convs[i]) nn_rng_fill_normal(&rng, convs[i]->W.data, nn_numel(&convs[i]->W), 0.f, 0.3f);
  nn_batchnorm *bns[3] = {r->bn1, r->bn2, r->proj_bn};
  for (int i = 0; i < 3; i++) {
    if (!bns[i]) continue;
    nn_rng_fill_uniform(&rng, bns[i]->gamma.data, bns[i]->C, 0.5f, 1.5f);
    nn_rng_fill_normal(&rng, bns[i]->beta.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_normal(&rng, bns[i]->running_mean.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_uniform(&rng, bns[i]->running_var.data, bns[i]->C, 0.5f, 2.f);
  }
  return r;
}

/* y's shape for x through block r */
static void residual_out_shape(nn_residual *r, const nn_tensor *x, int shape[4]) {
  int out[3];
  r->base.ops->out_shape(&r->base, x->shape + 1, 3, out);
  shape[0] = x->shape[0], shape[1] = out[0], shape[2] = out[1], shape[3] = out[2];
}

/* Every param's grad and every buffer of layer gl (any device) against layer c's (host). */
static void expect_layer_state(nn_grade *g, const char *name, nn_layer *gl, nn_layer *c, double grad_tol,
                               double buf_tol) {
  nn_param pg[NN_MAX_LAYER_PARAMS], pc[NN_MAX_LAYER_PARAMS];
  char what[256];
  int n = c->ops->params(c, pc, NN_MAX_LAYER_PARAMS);
  answered_count(g, "the GPU block's param count", gl->ops->params(gl, pg, NN_MAX_LAYER_PARAMS), n, name);
  for (int i = 0; i < n; i++) {
    snprintf(what, sizeof what, "%s: the gradient of %s", name, pc[i].name);
    expect_close(g, what, pg[i].grad, pc[i].grad, grad_tol, max_abs(pc[i].grad));
  }
  n = nn_layer_buffers(c, pc, NN_MAX_LAYER_PARAMS);
  answered_count(g, "the GPU block's buffer count", nn_layer_buffers(gl, pg, NN_MAX_LAYER_PARAMS), n, name);
  for (int i = 0; i < n; i++) {
    snprintf(what, sizeof what, "%s: %s", name, pc[i].name);
    expect_close(g, what, pg[i].value, pc[i].value, buf_tol, max_abs(pc[i].value));
  }
}

/* A forward and a backward of block rc (host) and rg (x, dy, dx moved to rg's device). */
static void compare_residual_step(nn_grade *g, const char *block, nn_residual *rc, nn_residual *rg,
                                  const nn_tensor *x, bool training, uint64_t seed) {
  nn_device dev = rg->conv1->W.device;
  nn_rng rng = nn_rng_new(seed);
  int ys[4];
  residual_out_shape(rc, x, ys);
  nn_tensor gx = nn_tensor_to(x, dev), y = nn_tensor_new(4, ys, NN_CPU), gy = nn_tensor_new(4, ys, dev);
  nn_tensor_fill(&gy, NAN);
  nn_tensor dy = random_tensor(&rng, 4, ys, -1.f, 1.f), gdy = nn_tensor_to(&dy, dev);
  nn_tensor dx = random_tensor(&rng, 4, x->shape, -1.f, 1.f), gdx = nn_tensor_to(&dx, dev);
  char name[200], what[256];
  snprintf(name, sizeof name, "%s, %s, on the %s, x %s", block, training ? "training" : "eval",
           dev == NN_GPU ? "GPU" : "CPU", nn_shape_str(x).s);
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(dev); /* each block's calls on its device */
  nn_call cc = call_on(cws, training), gc = call_on(gws, training);
  nn_residual_forward(rc, &cc, x, &y);
  nn_residual_forward(rg, &gc, &gx, &gy);
  const nn_residual_saved *gs = gc.saved; /* the block's record: its internal activations */
  int devices[3] = {gs->act[0].device, gs->sum.device, gs->act[rg->n_main - 1].device};
  answer(g, "the devices of the block's first activation, sum, branch output", devices, 3);
  expect(g, devices[0] == (int)dev && devices[1] == (int)dev && devices[2] == (int)dev,
         "%s: the block's internal activations must be on its weights' device", name);
  snprintf(what, sizeof what, "%s: y", name);
  expect_close(g, what, &gy, &y, 1e-4, max_abs(&y));
  nn_residual_backward(rc, &cc, &dy, &dx);
  nn_residual_backward(rg, &gc, &gdy, &gdx);
  snprintf(what, sizeof what, "%s: dx += ... (both branches)", name);
  expect_close(g, what, &gdx, &dx, 1e-3, max_abs(&dx));
  expect_layer_state(g, name, &rg->base, &rc->base, 1e-3, 1e-4);
  nn_arena_free(cws), nn_arena_free(gws);
  nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&dy), nn_tensor_free(&gdy);
  nn_tensor_free(&dx), nn_tensor_free(&gdx);
}

/* Training, then eval (the running statistics the training step left), then training
 * again on a smaller batch; the grads add up over the three backwards. */
static void compare_residual(nn_grade *g, int in, int out, int stride, const int xs[4], uint64_t seed) {
  nn_residual *rc = residual_block(in, out, stride, seed), *rg = residual_block(in, out, stride, seed);
  nn_layer_to(&rg->base, NN_GPU);
  nn_rng rng = nn_rng_new(seed + 1);
  nn_tensor x = random_tensor(&rng, 4, xs, -1.f, 1.f);
  char block[96];
  snprintf(block, sizeof block, "ResidualBlock(%d -> %d, stride %d)%s", in, out, stride,
           rc->proj ? " (projection)" : " (identity)");
  compare_residual_step(g, block, rc, rg, &x, true, seed + 2);
  compare_residual_step(g, block, rc, rg, &x, false, seed + 3);
  nn_tensor small = random_tensor(&rng, 4, (int[]){xs[0] - 1, xs[1], xs[2], xs[3]}, -1.f, 1.f);
  compare_residual_step(g, block, rc, rg, &small, true, seed + 4);
  nn_tensor_free(&x), nn_tensor_free(&small);
  rc->base.ops->free(&rc->base), rg->base.ops->free(&rg->base);
}

/* x's shape for a block of `in` channels: xs in the public variant; drawn, N from 3 to 5
 * (the third step takes one image less: at least 2 for the BatchNorms) and H, W from 3 to 10. */
static void residual_input(nn_grade *g, int in, const int public_xs[4], int xs[4]) {
  xs[0] = nn_grade_size(g, public_xs[0], 3, 5), xs[1] = in;
  xs[2] = nn_grade_size(g, public_xs[2], 3, 10), xs[3] = nn_grade_size(g, public_xs[3], 3, 10);
}

GRADED_TEST(residual_gpu, identity_block_training_and_eval_match_cpu) {
  NEED_GPU();
  int C = nn_grade_size(g, 4, 1, 6), xs[4];
  residual_input(g, C, (int[]){3, 4, 7, 6}, xs);
  compare_residual(g, C, C, 1, xs, nn_grade_seed(g, 300));
}

GRADED_TEST(residual_gpu, projection_block_stride_2_training_and_eval_match_cpu) {
  NEED_GPU();
  int in = nn_grade_size(g, 3, 1, 5), out = nn_grade_size(g, 6, in + 1, 8), xs[4];
  residual_input(g, in, (int[]){3, 3, 9, 8}, xs);
  compare_residual(g, in, out, 2, xs, nn_grade_seed(g, 310));
  in = nn_grade_size(g, 4, 1, 5), out = nn_grade_size(g, 6, in + 1, 8); /* channels change, stride 1: still a projection */
  residual_input(g, in, (int[]){2, 4, 5, 5}, xs);
  compare_residual(g, in, out, 1, xs, nn_grade_seed(g, 320));
}

/* Back on the CPU after a GPU step, the block makes host internals at its next
 * forward and goes on exactly as its twin that never left. Drawn: the channels, x, the seeds. */
GRADED_TEST(residual_gpu, internals_follow_the_block_back_to_the_cpu) {
  NEED_GPU();
  int in = nn_grade_size(g, 3, 1, 5), out = nn_grade_size(g, 5, in + 1, 8), xs[4];
  residual_input(g, in, (int[]){2, 3, 8, 8}, xs);
  uint64_t seed = nn_grade_seed(g, 330);
  nn_residual *rc = residual_block(in, out, 2, seed), *rg = residual_block(in, out, 2, seed);
  nn_layer_to(&rg->base, NN_GPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 331));
  nn_tensor x = random_tensor(&rng, 4, xs, -1.f, 1.f);
  char block[96];
  snprintf(block, sizeof block, "ResidualBlock(%d -> %d, stride 2)", in, out);
  compare_residual_step(g, block, rc, rg, &x, true, nn_grade_seed(g, 332));
  nn_layer_to(&rg->base, NN_CPU);
  snprintf(block, sizeof block, "ResidualBlock(%d -> %d, stride 2), moved back", in, out);
  compare_residual_step(g, block, rc, rg, &x, true, nn_grade_seed(g, 333));
  nn_tensor_free(&x);
  rc->base.ops->free(&rc->base), rg->base.ops->free(&rg->base);
}

/* x labelled GPU, weights on the CPU: stopped at the check, before any CUDA call. */
Test(residual_gpu, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_residual *r = residual_block(2, 2, 1, 1);
  float host[2 * 2 * 16], out[2 * 2 * 16];
  nn_tensor x = {.data = host, .shape = {2, 2, 4, 4}, .ndim = 4, .device = NN_GPU}; /* never read */
  nn_tensor y = {.data = out, .shape = {2, 2, 4, 4}, .ndim = 4, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_residual_forward(r, &c, &x, &y);
}

/* ---- a small ResNet (tools/nn/ch03_resnet.c's, narrower, on 12x12 inputs):
 * Conv 8 3x3 -> BatchNorm -> ReLU -> Block(8 -> 8) -> Block(8 -> 16, stride 2) -> Flatten -> Dense 10 */

static nn_model *small_resnet(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("resnet", 3, (int[]){1, 12, 12});
  nn_conv2d_config stem = {.in_channels = 1, .filters = 8, .kernel = 3, .pad = NN_PAD_EXPLICIT, .padding = 1,
                           .no_bias = true};
  nn_model_add(m, &nn_conv2d_new("stem", &stem, &rng)->base);
  nn_model_add(m, &nn_batchnorm_new("stem_bn", 8)->base);
  nn_model_add(m, nn_activation_layer_new("stem_relu", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_residual_new("block1", &(nn_residual_config){.in_channels = 8, .out_channels = 8,
                                                                   .stride = 1}, &rng)->base);
  nn_model_add(m, &nn_residual_new("block2", &(nn_residual_config){.in_channels = 8, .out_channels = 16,
                                                                   .stride = 2}, &rng)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("fc", 16 * 6 * 6, 10, NN_INIT_XAVIER, &rng)->base);
  nn_optim_config cfg = nn_optim_defaults(NN_MOMENTUM);
  cfg.lr = 0.01f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_MOMENTUM, &cfg);
  return m;
}

/* Drawn: the batch (2 to 12 images), the weights' seed, the images and labels. */
GRADED_TEST(resnet_gpu, small_resnet_train_steps_and_eval_match_cpu) {
  NEED_GPU();
  int B = nn_grade_size(g, 8, 2, 12);
  uint64_t seed = nn_grade_seed(g, 11);
  nn_model *mc = small_resnet(seed), *mg = small_resnet(seed);
  nn_model_to(mg, NN_GPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 350));
  int *y = malloc((size_t)B * sizeof *y);
  nn_tensor x = random_batch(&rng, B, (int[]){1, 12, 12}, y);
  compare_train_steps(g, mc, mg, &x, y);
  /* eval mode: the BatchNorms use the running statistics the steps left */
  nn_tensor out = nn_tensor_new(2, (int[]){B, 10}, NN_CPU), gout = nn_tensor_new(2, (int[]){B, 10}, NN_CPU);
  nn_model_predict(mc, &x, &out, B);
  nn_model_predict(mg, &x, &gout, B);
  expect_close(g, "the logits in eval mode after 3 steps", &gout, &out, 1e-3, max_abs(&out));
  nn_tensor_free(&x), nn_tensor_free(&out), nn_tensor_free(&gout), free(y);
  nn_model_free(mc), nn_model_free(mg);
}

/* ---- ConvTranspose2d: each case's layer twice (same seed), one moved to the GPU */

typedef struct {
  int N, C_in, H, W, C_out, kh, kw, stride, padding, output_padding, dilation;
  bool no_bias;
} convt_case;

static const convt_case CONVTS[] = {
    {2, 3, 4, 5, 2, 3, 3, 1, 0, 0, 1, false},   /* stride 1: every stamp overlaps its neighbours */
    {2, 4, 7, 7, 3, 4, 4, 2, 1, 0, 1, false},   /* a decoder's 2x upsampling, 7x7 -> 14x14 */
    {1, 2, 4, 6, 3, 3, 3, 2, 1, 1, 1, true},    /* output_padding 1, no bias */
    {2, 3, 5, 4, 2, 3, 2, 1, 2, 0, 2, false},   /* 3x2, dilation 2, padding 2 */
    {1, 2, 3, 3, 2, 2, 2, 3, 0, 2, 1, false},   /* stride 3 > kernel 2: rows no stamp reaches */
    {3, 5, 9, 10, 33, 3, 3, 2, 1, 1, 1, false}, /* 33 output channels */
};
enum { NCONVTS = sizeof CONVTS / sizeof CONVTS[0] };

/* Case k of the variant: CONVTS[k] in the public one; in a drawn one (k < NDRAWN) every size, the
 * kernel, stride, dilation, padding (at most half the dilated kernel's overhang, so the output
 * keeps a pixel), output_padding (below max(stride, dilation), PyTorch's rule) and the bias. */
static int convt_count(const nn_grade *g) { return nn_grade_public(g) ? NCONVTS : NDRAWN; }

static convt_case convt_of(nn_grade *g, int k) {
  if (nn_grade_public(g)) return CONVTS[k];
  convt_case t;
  t.N = nn_grade_size(g, 1, 1, 3), t.C_in = nn_grade_size(g, 1, 1, 5), t.C_out = nn_grade_size(g, 1, 1, 12);
  t.kh = nn_grade_size(g, 1, 1, 5), t.kw = nn_grade_size(g, 1, 1, 5), t.stride = nn_grade_size(g, 1, 1, 3);
  t.dilation = nn_grade_size(g, 1, 1, 2);
  int k_min = t.kh < t.kw ? t.kh : t.kw, s_or_d = t.stride > t.dilation ? t.stride : t.dilation;
  t.padding = nn_grade_size(g, 0, 0, t.dilation * (k_min - 1) / 2);
  t.output_padding = nn_grade_size(g, 0, 0, s_or_d - 1);
  t.H = nn_grade_size(g, 4, 1, 12), t.W = nn_grade_size(g, 4, 1, 12);
  t.no_bias = nn_grade_size(g, 0, 0, 1);
  return t;
}

/* "ConvTranspose2d(3 -> 2, 3x2, stride 1, padding 2, output_padding 0, dilation 2) on x (2, 3, 5, 4)" */
static void convt_text(const convt_case *t, char *buf, size_t n) {
  snprintf(buf, n, "ConvTranspose2d(%d -> %d, %dx%d, stride %d, padding %d, output_padding %d, dilation %d%s) on x "
           "(%d, %d, %d, %d)", t->C_in, t->C_out, t->kh, t->kw, t->stride, t->padding, t->output_padding,
           t->dilation, t->no_bias ? ", no bias" : "", t->N, t->C_in, t->H, t->W);
}

typedef struct {
  nn_conv_transpose2d *cpu, *gpu;
  nn_tensor x, gx;
  int ys[4]; /* y's shape (N, C_out, Ho, Wo) */
} convt_pair;

static convt_pair convt_pair_new(const convt_case *k, uint64_t seed) {
  nn_rng r1 = nn_rng_new(seed), r2 = nn_rng_new(seed), data = nn_rng_new(seed + 1000);
  nn_conv_transpose2d_config cfg = {.in_channels = k->C_in, .out_channels = k->C_out, .kh = k->kh, .kw = k->kw,
                                    .stride = k->stride, .padding = k->padding,
                                    .output_padding = k->output_padding, .dilation = k->dilation,
                                    .no_bias = k->no_bias};
  convt_pair p = {.cpu = nn_conv_transpose2d_new("up1", &cfg, &r1), .gpu = nn_conv_transpose2d_new("up1", &cfg, &r2)};
  nn_param pc[2], pg[2];
  int n = p.cpu->base.ops->params(&p.cpu->base, pc, 2);
  p.gpu->base.ops->params(&p.gpu->base, pg, 2);
  for (int i = 0; i < n; i++) { /* values not 0 (the bias starts there), grads that hold something: backward adds */
    long len = nn_numel(pc[i].value);
    nn_rng_fill_uniform(&data, pc[i].value->data, len, -0.5f, 0.5f);
    nn_rng_fill_uniform(&data, pc[i].grad->data, len, -1.f, 1.f);
    memcpy(pg[i].value->data, pc[i].value->data, (size_t)len * sizeof(float));
    memcpy(pg[i].grad->data, pc[i].grad->data, (size_t)len * sizeof(float));
  }
  nn_layer_to(&p.gpu->base, NN_GPU);
  p.x = random_tensor(&data, 4, (int[]){k->N, k->C_in, k->H, k->W}, -1.f, 1.f);
  p.gx = on_gpu(&p.x);
  int out[3];
  p.cpu->base.ops->out_shape(&p.cpu->base, p.x.shape + 1, 3, out);
  p.ys[0] = k->N, p.ys[1] = out[0], p.ys[2] = out[1], p.ys[3] = out[2];
  return p;
}

static void convt_pair_free(convt_pair *p) {
  p->cpu->base.ops->free(&p->cpu->base), p->gpu->base.ops->free(&p->gpu->base);
  nn_tensor_free(&p->x), nn_tensor_free(&p->gx);
}

GRADED_TEST(conv_transpose2d_gpu, forward_matches_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < convt_count(g); k++) {
    convt_case t = convt_of(g, k);
    convt_pair p = convt_pair_new(&t, nn_grade_seed(g, 400 + (uint64_t)k));
    nn_tensor y = nn_tensor_new(4, p.ys, NN_CPU), gy = nn_tensor_new(4, p.ys, NN_GPU);
    nn_tensor_fill(&gy, NAN); /* forward overwrites y, where no stamp lands too */
    nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
    nn_call cc = call_on(cws, true), gc = call_on(gws, true);
    nn_conv_transpose2d_forward(p.cpu, &cc, &p.x, &y);
    nn_conv_transpose2d_forward(p.gpu, &gc, &p.gx, &gy);
    char name[256], what[400];
    convt_text(&t, name, sizeof name);
    int dev = answered_device(g, "where the GPU layer's workspace is", nn_arena_device(gc.arena));
    expect(g, dev == NN_GPU, "%s: a GPU layer's column workspace must be on the GPU", name);
    snprintf(what, sizeof what, "%s: forward (b, then col2im(W^T x_n))", name);
    expect_close(g, what, &gy, &y, 1e-4, 1);
    nn_arena_free(cws), nn_arena_free(gws);
    nn_tensor_free(&y), nn_tensor_free(&gy);
    convt_pair_free(&p);
  }
}

GRADED_TEST(conv_transpose2d_gpu, backward_adds_into_grads_like_cpu_on_every_config) {
  NEED_GPU();
  for (int k = 0; k < convt_count(g); k++) {
    convt_case t = convt_of(g, k);
    convt_pair p = convt_pair_new(&t, nn_grade_seed(g, 420 + (uint64_t)k));
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 440 + (uint64_t)k));
    char name[256], what[400];
    convt_text(&t, name, sizeof name);
    nn_tensor y = nn_tensor_new(4, p.ys, NN_CPU), gy = nn_tensor_new(4, p.ys, NN_GPU);
    nn_tensor dy = random_tensor(&rng, 4, p.ys, -1.f, 1.f), gdy = on_gpu(&dy);
    nn_tensor dx = random_tensor(&rng, 4, p.x.shape, -1.f, 1.f), gdx = on_gpu(&dx); /* backward adds into dx */
    nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(NN_GPU);
    nn_call cc = call_on(cws, true), gc = call_on(gws, true);
    nn_conv_transpose2d_forward(p.cpu, &cc, &p.x, &y);
    nn_conv_transpose2d_forward(p.gpu, &gc, &p.gx, &gy);
    for (int round = 1; round <= 2; round++) { /* the second time without dx (a first layer): only dW, db add */
      nn_conv_transpose2d_backward(p.cpu, &cc, &dy, round == 1 ? &dx : NULL);
      nn_conv_transpose2d_backward(p.gpu, &gc, &gdy, round == 1 ? &gdx : NULL);
      snprintf(what, sizeof what, "%s, backward call %d: dW += x_n im2col(dy_n)^T", name, round);
      expect_close(g, what, &p.gpu->dW, &p.cpu->dW, 1e-4, 1);
      if (t.no_bias) {
        int has_db = p.gpu->db.data != NULL;
        answer(g, "the GPU layer has a db", &has_db, 1);
        expect(g, !has_db, "%s: a layer without bias has no db", name);
      } else {
        snprintf(what, sizeof what, "%s, backward call %d: db += sums of dy over n, oh, ow", name, round);
        expect_close(g, what, &p.gpu->db, &p.cpu->db, 1e-4, 1);
      }
      if (round == 1) {
        snprintf(what, sizeof what, "%s: dx += W im2col(dy_n) (a Conv2d forward)", name);
        expect_close(g, what, &gdx, &dx, 1e-4, 1);
      }
    }
    nn_arena_free(cws), nn_arena_free(gws);
    nn_tensor_free(&y), nn_tensor_free(&gy), nn_tensor_free(&dy), nn_tensor_free(&gdy);
    nn_tensor_free(&dx), nn_tensor_free(&gdx);
    convt_pair_free(&p);
  }
}

/* x labelled GPU, weights on the CPU: stopped at the check, before any CUDA call, so this runs
 * everywhere. "nn_conv_transpose2d_forward: x is on the GPU but up1's weights are on the CPU; ..." */
Test(conv_transpose2d_gpu, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_conv_transpose2d_config cfg = {.in_channels = 1, .out_channels = 2, .kernel = 2, .stride = 2};
  nn_conv_transpose2d *t = nn_conv_transpose2d_new("up1", &cfg, &rng);
  float host[2 * 4], out[2 * 2 * 16];
  nn_tensor x = {.data = host, .shape = {2, 1, 2, 2}, .ndim = 4, .device = NN_GPU}; /* never read */
  nn_tensor y = {.data = out, .shape = {2, 2, 4, 4}, .ndim = 4, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_conv_transpose2d_forward(t, &c, &x, &y);
}

/* ---- SqueezeExcite: one block per device from one seed */

typedef struct { int N, C, r, H, W; } se_case;

static const se_case SES[] = {
    {2, 8, 4, 3, 4},   /* 2 hidden units */
    {3, 4, 1, 2, 3},   /* r = 1: no bottleneck */
    {2, 3, 16, 4, 2},  /* one hidden unit */
    {4, 6, 2, 1, 1},   /* 1x1 planes: s = x */
    {2, 16, 4, 17, 19}, /* planes of 323 cells: each of de's threads sums more than one */
};
enum { NSES = sizeof SES / sizeof SES[0] };

/* Case k: SES[k] in the public variant; drawn (k < NDRAWN): N, C, r and H, W (up to 24 x 24). */
static int se_count(const nn_grade *g) { return nn_grade_public(g) ? NSES : NDRAWN; }

static se_case se_of(nn_grade *g, int k) {
  if (nn_grade_public(g)) return SES[k];
  se_case t;
  t.N = nn_grade_size(g, 1, 1, 4), t.C = nn_grade_size(g, 1, 1, 24), t.r = nn_grade_size(g, 1, 1, 8);
  t.H = nn_grade_size(g, 1, 1, 24), t.W = nn_grade_size(g, 1, 1, 24);
  return t;
}

/* Block se1 from seed: the test's weights and biases (biases not 0), and grads that hold
 * something (backward adds). */
static nn_se *se_block(int C, int r, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_se *se = nn_se_new("se1", &(nn_se_config){.channels = C, .reduction = r}, &rng);
  nn_param p[4];
  int n = se->base.ops->params(&se->base, p, 4);
  for (int i = 0; i < n; i++) {
    nn_rng_fill_uniform(&rng, p[i].value->data, nn_numel(p[i].value), -1.f, 1.f);
    nn_rng_fill_uniform(&rng, p[i].grad->data, nn_numel(p[i].grad), -1.f, 1.f);
  }
  return se;
}

/* Every param's grad of block gse (any device) against block cse's (host). */
static void expect_se_grads(nn_grade *g, const char *name, nn_se *gse, nn_se *cse) {
  nn_param pg[4], pc[4];
  char what[300];
  int n = cse->base.ops->params(&cse->base, pc, 4);
  answered_count(g, "the GPU block's param count", gse->base.ops->params(&gse->base, pg, 4), n, name);
  for (int i = 0; i < n; i++) {
    snprintf(what, sizeof what, "%s: the gradient of %s", name, pc[i].name);
    expect_close(g, what, pg[i].grad, pc[i].grad, 1e-4, 1);
  }
}

/* A forward and two backwards (with dx, then without) of blocks cse (host) and gse (on dev),
 * on x (host) and dy, dx drawn from seed. */
static void compare_se_step(nn_grade *g, const char *block, nn_se *cse, nn_se *gse, const nn_tensor *x,
                            uint64_t seed) {
  nn_device dev = gse->fc1->W.device;
  nn_rng rng = nn_rng_new(seed);
  nn_tensor gx = nn_tensor_to(x, dev), y = nn_tensor_new(4, x->shape, NN_CPU), gy = nn_tensor_new(4, x->shape, dev);
  nn_tensor_fill(&gy, NAN);
  nn_tensor dy = random_tensor(&rng, 4, x->shape, -1.f, 1.f), gdy = nn_tensor_to(&dy, dev);
  nn_tensor dx = random_tensor(&rng, 4, x->shape, -1.f, 1.f), gdx = nn_tensor_to(&dx, dev);
  char name[200], what[300];
  snprintf(name, sizeof name, "%s on the %s, x %s", block, dev == NN_GPU ? "GPU" : "CPU", nn_shape_str(x).s);
  nn_arena *cws = nn_arena_new(NN_CPU), *gws = nn_arena_new(dev);
  nn_call cc = call_on(cws, true), gc = call_on(gws, true);
  nn_se_forward(cse, &cc, x, &y);
  nn_se_forward(gse, &gc, &gx, &gy);
  const nn_se_saved *cs = cc.saved, *gs = gc.saved;
  int devices[3] = {gs->s.device, gs->a1.device, gs->e.device};
  answer(g, "the devices of the block's s, a1, e", devices, 3);
  expect(g, devices[0] == (int)dev && devices[1] == (int)dev && devices[2] == (int)dev,
         "%s: the block's intermediates must be on its weights' device", name);
  nn_tensor gate = nn_tensor_to(&gs->e, dev); /* a copy: expect_close may answer it */
  snprintf(what, sizeof what, "%s: the gate e = sigmoid(fc2(relu(fc1(mean of x))))", name);
  expect_close(g, what, &gate, &cs->e, 1e-4, 1);
  snprintf(what, sizeof what, "%s: y = x e", name);
  expect_close(g, what, &gy, &y, 1e-4, 1);
  nn_se_backward(cse, &cc, &dy, &dx);
  nn_se_backward(gse, &gc, &gdy, &gdx);
  snprintf(what, sizeof what, "%s: dx += dy e + ds / (H W)", name);
  expect_close(g, what, &gdx, &dx, 1e-4, 1);
  expect_se_grads(g, name, gse, cse);
  nn_se_backward(cse, &cc, &dy, NULL); /* without dx: only the params' grads add up */
  nn_se_backward(gse, &gc, &gdy, NULL);
  snprintf(name + strlen(name), sizeof name - strlen(name), ", second backward (dx NULL)");
  expect_se_grads(g, name, gse, cse);
  nn_arena_free(cws), nn_arena_free(gws);
  nn_tensor_free(&gate), nn_tensor_free(&gx), nn_tensor_free(&y), nn_tensor_free(&gy);
  nn_tensor_free(&dy), nn_tensor_free(&gdy), nn_tensor_free(&dx), nn_tensor_free(&gdx);
}

GRADED_TEST(se_gpu, forward_backward_add_into_grads_like_cpu) {
  NEED_GPU();
  for (int k = 0; k < se_count(g); k++) {
    se_case t = se_of(g, k);
    uint64_t seed = nn_grade_seed(g, 500 + (uint64_t)k);
    nn_se *cse = se_block(t.C, t.r, seed), *gse = se_block(t.C, t.r, seed);
    nn_layer_to(&gse->base, NN_GPU);
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 520 + (uint64_t)k));
    nn_tensor x = random_tensor(&rng, 4, (int[]){t.N, t.C, t.H, t.W}, -1.f, 2.f);
    char block[96];
    snprintf(block, sizeof block, "SqueezeExcite(%d, r %d, hidden %d)", t.C, t.r, cse->hidden);
    compare_se_step(g, block, cse, gse, &x, nn_grade_seed(g, 540 + (uint64_t)k));
    nn_tensor_free(&x);
    cse->base.ops->free(&cse->base), gse->base.ops->free(&gse->base);
  }
}

/* Back on the CPU after a GPU step, the block takes a host arena and goes on exactly as its
 * twin that never left (its grads hold both steps). Drawn: C, r, x, the seeds. */
GRADED_TEST(se_gpu, follows_the_block_to_the_gpu_and_back) {
  NEED_GPU();
  int C = nn_grade_size(g, 6, 1, 16), r = nn_grade_size(g, 2, 1, 4);
  int xs[4] = {nn_grade_size(g, 3, 1, 4), C, nn_grade_size(g, 5, 1, 12), nn_grade_size(g, 7, 1, 12)};
  uint64_t seed = nn_grade_seed(g, 560);
  nn_se *cse = se_block(C, r, seed), *gse = se_block(C, r, seed);
  nn_layer_to(&gse->base, NN_GPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 561));
  nn_tensor x = random_tensor(&rng, 4, xs, -1.f, 2.f);
  char block[96];
  snprintf(block, sizeof block, "SqueezeExcite(%d, r %d)", C, r);
  compare_se_step(g, block, cse, gse, &x, nn_grade_seed(g, 562));
  nn_layer_to(&gse->base, NN_CPU);
  int back[2] = {gse->fc1->W.device, gse->fc2->dW.device};
  answer(g, "the devices of fc1.W and fc2.dW after nn_layer_to(NN_CPU)", back, 2);
  expect(g, back[0] == NN_CPU && back[1] == NN_CPU, "nn_layer_to(NN_CPU) must bring fc1 and fc2 back");
  snprintf(block, sizeof block, "SqueezeExcite(%d, r %d), moved back", C, r);
  compare_se_step(g, block, cse, gse, &x, nn_grade_seed(g, 563));
  nn_tensor_free(&x);
  cse->base.ops->free(&cse->base), gse->base.ops->free(&gse->base);
}

/* x labelled GPU, weights on the CPU: stopped at the check, before any CUDA call. */
Test(se_gpu, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_se *se = se_block(2, 1, 1);
  float host[8], out[8];
  nn_tensor x = {.data = host, .shape = {1, 2, 2, 2}, .ndim = 4, .device = NN_GPU}; /* never read */
  nn_tensor y = {.data = out, .shape = {1, 2, 2, 2}, .ndim = 4, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_se_forward(se, &c, &x, &y);
}

/* ---- a small decoder-like model with both: Conv 2 -> 4 3x3 -> ReLU -> SqueezeExcite(4, r 2)
 * -> ConvTranspose2d(4 -> 2, 4x4, stride 2, padding 1): 8x8 -> 16x16 -> Flatten -> Dense 10 */

static nn_model *se_upsampling_model(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("se_up", 3, (int[]){2, 8, 8});
  nn_conv2d_config stem = {.in_channels = 2, .filters = 4, .kernel = 3, .pad = NN_PAD_EXPLICIT, .padding = 1};
  nn_model_add(m, &nn_conv2d_new("stem", &stem, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("stem_relu", nn_activation_of(NN_ACT_RELU)));
  nn_se *se = nn_se_new("se1", &(nn_se_config){.channels = 4, .reduction = 2}, &rng);
  nn_rng_fill_normal(&rng, se->fc1->b.data, se->hidden, 0.f, 0.5f); /* biases not 0 */
  nn_rng_fill_normal(&rng, se->fc2->b.data, 4, 0.f, 0.5f);
  nn_model_add(m, &se->base);
  nn_conv_transpose2d_config up = {.in_channels = 4, .out_channels = 2, .kernel = 4, .stride = 2, .padding = 1};
  nn_conv_transpose2d *t = nn_conv_transpose2d_new("up1", &up, &rng);
  nn_rng_fill_normal(&rng, t->b.data, 2, 0.f, 0.5f);
  nn_model_add(m, &t->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("fc", 2 * 16 * 16, 10, NN_INIT_XAVIER, &rng)->base);
  nn_optim_config cfg = nn_optim_defaults(NN_MOMENTUM);
  cfg.lr = 0.01f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_MOMENTUM, &cfg);
  return m;
}

/* Three momentum steps on both devices (compare_train_steps), then the GPU model back on the
 * CPU (nn_model_to) for a fourth step: it must go on as its twin that never left. Drawn: the
 * batch (2 to 10 images), the weights' seed, the images and labels. */
GRADED_TEST(se_convt_gpu, a_model_with_both_trains_like_cpu_and_comes_back) {
  NEED_GPU();
  int B = nn_grade_size(g, 6, 2, 10);
  uint64_t seed = nn_grade_seed(g, 600);
  nn_model *mc = se_upsampling_model(seed), *mg = se_upsampling_model(seed);
  nn_model_to(mg, NN_GPU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 601));
  int *y = malloc((size_t)B * sizeof *y);
  nn_tensor x = random_batch(&rng, B, (int[]){2, 8, 8}, y);
  compare_train_steps(g, mc, mg, &x, y);
  nn_model_to(mg, NN_CPU); /* its optimizer starts afresh there (nn_model_to): so does the twin's */
  nn_optim_config cfg = mc->opt.cfg;
  nn_model_compile_loss(mc, mc->loss, mc->opt.kind, &cfg);
  double lc = nn_model_train_batch(mc, &x, y, NULL, NULL), lg = nn_model_train_batch(mg, &x, y, NULL, NULL);
  answer(g, "the loss of step 4, the model back on the CPU", &lg, 1);
  expect(g, fabs(lg - lc) <= 1e-4 * fabs(lc), "step 4, back on the CPU: loss %.9g, %.9g on the twin that stayed",
         lg, lc);
  char what[160];
  for (int i = 0; i < mc->param_count; i++) {
    const nn_param *c = &mc->params[i], *gp = &mg->params[i];
    int devices[2] = {gp->value->device, gp->grad->device};
    answer(g, "the devices of a param and its grad back on the CPU", devices, 2);
    expect(g, devices[0] == NN_CPU && devices[1] == NN_CPU, "%s must be back on the CPU", c->name);
    snprintf(what, sizeof what, "step 4, back on the CPU: %s after the step", c->name);
    expect_close(g, what, gp->value, c->value, 1e-3, max_abs(c->value));
  }
  nn_tensor_free(&x), free(y);
  nn_model_free(mc), nn_model_free(mg);
}
