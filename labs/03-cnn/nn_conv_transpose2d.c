/* nn_conv_transpose2d.c: ConvTranspose2d forward and backward, one nn_sgemm per image and
 * product, on the CPU or the GPU (where the layer's weights are): Conv2d's two passes with
 * their roles swapped. The GPU path reuses Conv2d's kernels (nn_cnn_cuda.h: im2col, col2im,
 * the bias add and the bias grad) and cuBLAS; it needs no kernel of its own. */
#include "nn_conv_transpose2d.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_cnn_cuda.h"
#include "nn_conv_shapes.h"
#include "nn_gemm.h"

/* "ConvTranspose2d(64 -> 32, 4x4", then ", stride 2", ", padding 1", ", output_padding 1",
 * ", dilation 2", ", no bias" where they are not the defaults, then ")". */
typedef struct { char s[160]; } convt_text;

static convt_text describe(const nn_conv_transpose2d *t) {
  convt_text d;
  size_t n = (size_t)snprintf(d.s, sizeof d.s, "ConvTranspose2d(%d -> %d, %dx%d", t->C_in, t->C_out, t->KH, t->KW);
  if (t->stride != 1) n += (size_t)snprintf(d.s + n, sizeof d.s - n, ", stride %d", t->stride);
  if (t->padding != 0) n += (size_t)snprintf(d.s + n, sizeof d.s - n, ", padding %d", t->padding);
  if (t->output_padding != 0) n += (size_t)snprintf(d.s + n, sizeof d.s - n, ", output_padding %d", t->output_padding);
  if (t->dilation != 1) n += (size_t)snprintf(d.s + n, sizeof d.s - n, ", dilation %d", t->dilation);
  if (!t->has_bias) n += (size_t)snprintf(d.s + n, sizeof d.s - n, ", no bias");
  snprintf(d.s + n, sizeof d.s - n, ")");
  return d;
}

/* Ho or Wo from nn_conv_transpose_out_len (the calculator `nn exam` uses), so the layer and a drill
 * never disagree; who: the message's prefix. */
static int out_len(const char *who, const nn_conv_transpose2d *t, int H, int W, int L, int K, const char *axis) {
  nn_conv_opts o = nn_conv_opts_default(t->C_out, K);
  o.stride = t->stride, o.dilation = t->dilation, o.pad = NN_PAD_EXPLICIT, o.padding = t->padding;
  o.output_padding = t->output_padding;
  nn_len len;
  nn_error err;
  NN_REQUIRE(nn_conv_transpose_out_len(L, &o, NN_PYTORCH, &len, &err) == NN_OK,
             "%s: %s on (N, %d, %d, %d), along %s: %s", who, describe(t).s, t->C_in, H, W, axis, err.msg);
  return len.len;
}

/* The Conv2d that maps y back onto x's grid: it reads y (C_out, Ho, Wo) through windows
 * at stride s, padding p, dilation d, one window per pixel of x (H x W). Ho = H and
 * Wo = W are set, not computed: with output_padding >= s (allowed when d > s) the
 * conv's own formula would give one more window, which would read only rows of y
 * that no input pixel reached. */
static nn_conv_geom geom_of(const char *who, const nn_conv_transpose2d *t, int H, int W) {
  return (nn_conv_geom){.C = t->C_out, .H = out_len(who, t, H, W, H, t->KH, "H"),
                        .W = out_len(who, t, H, W, W, t->KW, "W"), .KH = t->KH, .KW = t->KW,
                        .stride = t->stride, .pad_h = t->padding, .pad_w = t->padding,
                        .dilation = t->dilation, .Ho = H, .Wo = W};
}

nn_conv_geom nn_conv_transpose2d_geom(const nn_conv_transpose2d *t, int H, int W) {
  NN_REQUIRE(t, "nn_conv_transpose2d_geom: the layer is NULL");
  return geom_of(t->base.name, t, H, W);
}

/* t must be on the device of the layer's weights: the layer runs there. */
static void check_device(const char *fn, const nn_conv_transpose2d *t, const char *what, const nn_tensor *v) {
  nn_layer_require_device(fn, &t->base, what, v, t->W.device);
}

/* x: (N, C_in, H, W) on the device of the layer's weights; returns the adjoint conv's geometry. */
static nn_conv_geom check_input(const char *fn, const nn_conv_transpose2d *t, const nn_tensor *x) {
  NN_REQUIRE(x, "%s: x is NULL", fn);
  check_device(fn, t, "x", x);
  NN_REQUIRE(x->ndim == 4 && x->shape[1] == t->C_in, "%s: %s: %s takes (N, %d, H, W) inputs, got %s", fn,
             t->base.name, describe(t).s, t->C_in, nn_shape_str(x).s);
  char who[96];
  snprintf(who, sizeof who, "%s: %s", fn, t->base.name);
  return geom_of(who, t, x->shape[2], x->shape[3]);
}

/* y (forward) or dy (backward) must be (N, C_out, Ho, Wo) on the weights' device; Ho, Wo are g's H, W. */
static void check_output(const char *fn, const nn_conv_transpose2d *t, const char *what, const nn_tensor *y,
                         const nn_tensor *x, const nn_conv_geom *g) {
  NN_REQUIRE(y, "%s: %s is NULL", fn, what);
  check_device(fn, t, what, y);
  NN_REQUIRE(y->ndim == 4 && y->shape[0] == x->shape[0] && y->shape[1] == t->C_out && y->shape[2] == g->H &&
                 y->shape[3] == g->W,
             "%s: %s is %s but %s (%s) gives (%d, %d, %d, %d) for x %s", fn, what, nn_shape_str(y).s, t->base.name,
             describe(t).s, x->shape[0], t->C_out, g->H, g->W, nn_shape_str(x).s);
}

long nn_conv_transpose2d_workspace_floats(const nn_conv_geom *g) {
  return nn_conv_geom_rows(g) * nn_conv_geom_cols(g);
}

/* The (C_out*KH*KW, H*W) workspace for one image, borrowed from the call's arena, which is on
 * the weights' device (a GPU layer's columns live on the GPU; back on the CPU, a host arena). */
static float *workspace(const nn_conv_transpose2d *t, const nn_call *c, const char *fn, const nn_conv_geom *g) {
  nn_arena *a = nn_call_arena(c, fn, "its im2col workspace");
  NN_REQUIRE(nn_arena_device(a) == t->W.device, "%s: the call's arena is on the %s but %s's weights are on the %s",
             fn, nn_device_name(nn_arena_device(a)), t->base.name, nn_device_name(t->W.device));
  return nn_arena_floats(a, nn_conv_transpose2d_workspace_floats(g));
}

/* ---- the math. K = C_out*KH*KW rows of cols, P = H*W columns (one per input pixel).
 * g is the adjoint conv's geometry, so g->H x g->W is OUR output Ho x Wo. */

/* x: (N, C_in, H, W) -> y: (N, C_out, Ho, Wo) */
static void convt_forward_cpu(nn_conv_transpose2d *t, const nn_tensor *x, nn_tensor *y, const nn_conv_geom *g,
                              float *cols) {
  const int N = x->shape[0], C_in = t->C_in, K = (int)nn_conv_geom_rows(g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)C_in * P, y_plane = (long)g->H * g->W; /* one image; one output channel */
  for (int n = 0; n < N; n++) {
    const float *x_n = x->data + n * x_size;               /* (C_in, H*W) */
    float *y_n = y->data + (long)n * t->C_out * y_plane;   /* (C_out, Ho, Wo) */
    /* column p of cols: the stamp of pixel p, sum_c x_n[c][p] * W[c] (C_out*KH*KW) */
    nn_sgemm(true, false, K, P, C_in, 1.f, t->W.data, x_n, 0.f, cols, NN_CPU);
    for (int o = 0; o < t->C_out; o++) /* b, then col2im adds every stamp where it lands */
      for (long q = 0; q < y_plane; q++) y_n[o * y_plane + q] = t->has_bias ? t->b.data[o] : 0.f;
    nn_col2im(cols, g, y_n);
  }
}

/* dy: (N, C_out, Ho, Wo); dx: (N, C_in, H, W) or NULL */
static void convt_backward_cpu(nn_conv_transpose2d *t, const nn_tensor *x, const nn_tensor *dy, nn_tensor *dx,
                               const nn_conv_geom *g, float *cols) {
  const int N = dy->shape[0], C_in = t->C_in, K = (int)nn_conv_geom_rows(g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)C_in * P, y_plane = (long)g->H * g->W;
  /* cols (K, P): what each input pixel's stamp touched of dy_n */
  for (int n = 0; n < N; n++) {
    const float *x_n = x->data + n * x_size;                   /* (C_in, H*W) */
    const float *dy_n = dy->data + (long)n * t->C_out * y_plane; /* (C_out, Ho, Wo) */
    float *dx_n = dx ? dx->data + n * x_size : NULL;            /* (C_in, H*W) */
    nn_im2col(dy_n, g, cols);
    nn_sgemm(false, true, C_in, K, P, 1.f, x_n, cols, 1.f, t->dW.data, NN_CPU); /* dW += x_n @ cols^T */
    if (t->has_bias)
      for (int o = 0; o < t->C_out; o++)
        for (long q = 0; q < y_plane; q++) t->db.data[o] += dy_n[o * y_plane + q];
    if (dx_n) nn_sgemm(false, false, C_in, P, K, 1.f, t->W.data, cols, 1.f, dx_n, NN_CPU); /* a Conv2d forward */
  }
}

/* ---- the same on the GPU: cuBLAS for the products, Conv2d's kernels for the rest
 * (nn_cnn_cuda.h). All pointers are device pointers; the images go one after another
 * through one workspace, in order on stream 0. */

/* x: (N, C_in, H, W) -> y: (N, C_out, Ho, Wo). y = 0, then += b, then += the stamps: the
 * CPU's order (b first, col2im adding onto it), so only the products' rounding differs. */
static void convt_forward_gpu(nn_conv_transpose2d *t, const nn_tensor *x, nn_tensor *y, const nn_conv_geom *g,
                              float *cols) {
  const int N = x->shape[0], C_in = t->C_in, K = (int)nn_conv_geom_rows(g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)C_in * P, y_plane = (long)g->H * g->W;
  nn_tensor_fill(y, 0.f);
  if (t->has_bias) nn_conv2d_bias_add_cuda(y->data, t->b.data, N, t->C_out, (int)y_plane);
  for (int n = 0; n < N; n++) {
    nn_sgemm(true, false, K, P, C_in, 1.f, t->W.data, x->data + n * x_size, 0.f, cols, NN_GPU); /* W^T x_n */
    nn_col2im_cuda(cols, g, y->data + (long)n * t->C_out * y_plane); /* y_n += col2im(cols) */
  }
}

/* dy: (N, C_out, Ho, Wo); dx: (N, C_in, H, W) or NULL */
static void convt_backward_gpu(nn_conv_transpose2d *t, const nn_tensor *x, const nn_tensor *dy, nn_tensor *dx,
                               const nn_conv_geom *g, float *cols) {
  const int N = dy->shape[0], C_in = t->C_in, K = (int)nn_conv_geom_rows(g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)C_in * P, y_plane = (long)g->H * g->W;
  if (t->has_bias) nn_conv2d_bias_grad_cuda(dy->data, t->db.data, N, t->C_out, (int)y_plane); /* one block per o */
  for (int n = 0; n < N; n++) {
    nn_im2col_cuda(dy->data + (long)n * t->C_out * y_plane, g, cols);
    nn_sgemm(false, true, C_in, K, P, 1.f, x->data + n * x_size, cols, 1.f, t->dW.data, NN_GPU); /* dW += x_n cols^T */
    if (dx) nn_sgemm(false, false, C_in, P, K, 1.f, t->W.data, cols, 1.f, dx->data + n * x_size, NN_GPU);
  }
}

/* ---- entry points: checks, then the one device switch (the weights' device) */

void nn_conv_transpose2d_forward(nn_conv_transpose2d *t, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(t, "nn_conv_transpose2d_forward: the layer is NULL");
  nn_call_begin(c, &t->base, "nn_conv_transpose2d_forward", x, y);
  nn_conv_geom g = check_input("nn_conv_transpose2d_forward", t, x);
  check_output("nn_conv_transpose2d_forward", t, "y", y, x, &g);
  float *cols = workspace(t, c, "nn_conv_transpose2d_forward", &g);
  switch (t->W.device) {
  case NN_CPU: convt_forward_cpu(t, x, y, &g, cols); break;
  case NN_GPU: convt_forward_gpu(t, x, y, &g, cols); break;
  }
}

void nn_conv_transpose2d_backward(nn_conv_transpose2d *t, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(t, "nn_conv_transpose2d_backward: the layer is NULL");
  nn_call_require_forward(c, "nn_conv_transpose2d_backward", &t->base);
  const nn_tensor *x = c->x;
  nn_conv_geom g = check_input("nn_conv_transpose2d_backward", t, x);
  check_output("nn_conv_transpose2d_backward", t, "dy", dy, x, &g);
  if (dx) {
    check_device("nn_conv_transpose2d_backward", t, "dx", dx);
    NN_REQUIRE(nn_same_shape(dx, x), "nn_conv_transpose2d_backward: dx is %s but the forward input x was %s",
               nn_shape_str(dx).s, nn_shape_str(x).s);
  }
  float *cols = workspace(t, c, "nn_conv_transpose2d_backward", &g);
  switch (t->W.device) {
  case NN_CPU: convt_backward_cpu(t, x, dy, dx, &g, cols); break;
  case NN_GPU: convt_backward_gpu(t, x, dy, dx, &g, cols); break;
  }
}

void nn_conv_transpose2d_forward_naive(const nn_conv_transpose2d *t, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(t, "nn_conv_transpose2d_forward_naive: the layer is NULL");
  NN_REQUIRE(x && x->device == NN_CPU && t->W.device == NN_CPU, "nn_conv_transpose2d_forward_naive: the reference "
             "runs on the CPU only; move %s (nn_layer_to) and x (nn_tensor_to) to the CPU", t->base.name);
  nn_conv_geom g = check_input("nn_conv_transpose2d_forward_naive", t, x);
  check_output("nn_conv_transpose2d_forward_naive", t, "y", y, x, &g);
  /* the adjoint conv's geometry reads the other way round: its input is our y, its output our x */
  const int N = x->shape[0], C_in = t->C_in, C_out = t->C_out, H = g.Ho, W = g.Wo, Ho = g.H, Wo = g.W;
  const int KH = t->KH, KW = t->KW, s = t->stride, p = t->padding, d = t->dilation;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < C_out; o++)
      for (long q = 0; q < (long)Ho * Wo; q++)
        y->data[((long)n * C_out + o) * Ho * Wo + q] = t->has_bias ? t->b.data[o] : 0.f;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C_in; c++)
      for (int h = 0; h < H; h++)
        for (int w = 0; w < W; w++) {
          float v = x->data[(((long)n * C_in + c) * H + h) * W + w];
          for (int o = 0; o < C_out; o++)
            for (int i = 0; i < KH; i++)
              for (int j = 0; j < KW; j++) {
                int oh = h * s - p + i * d, ow = w * s - p + j * d;
                if (oh < 0 || oh >= Ho || ow < 0 || ow >= Wo) continue; /* cropped by the padding */
                y->data[(((long)n * C_out + o) * Ho + oh) * Wo + ow] +=
                    v * t->W.data[(((long)c * C_out + o) * KH + i) * KW + j];
              }
        }
}

/* ---- the layer's ops table */

/* the same in training and evaluation */
static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_conv_transpose2d_forward((nn_conv_transpose2d *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_conv_transpose2d_backward((nn_conv_transpose2d *)l, c, dy, dx);
}

static int params_op(nn_layer *l, nn_param *out, int max) {
  nn_conv_transpose2d *t = (nn_conv_transpose2d *)l;
  int count = t->has_bias ? 2 : 1;
  NN_REQUIRE(max >= count, "nn_conv_transpose2d params: room for %d params, %s has %d", max, t->base.name, count);
  out[0] = (nn_param){t->W_name, &t->W, &t->dW};
  if (t->has_bias) out[1] = (nn_param){t->b_name, &t->b, &t->db};
  return count;
}

/* One example's shape with N in front: "(N, 3, 28, 28)". */
static nn_shape_text batch_shape(const int *in, int ndim) {
  nn_shape_text s;
  size_t n = (size_t)snprintf(s.s, sizeof s.s, "(N");
  for (int i = 0; i < ndim && n < sizeof s.s; i++) n += (size_t)snprintf(s.s + n, sizeof s.s - n, ", %d", in[i]);
  if (n < sizeof s.s) snprintf(s.s + n, sizeof s.s - n, ")");
  return s;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_conv_transpose2d *t = (const nn_conv_transpose2d *)l;
  NN_REQUIRE(in_ndim == 3 && in[0] == t->C_in, "%s: %s takes (N, %d, H, W) inputs, got %s", l->name,
             describe(t).s, t->C_in, batch_shape(in, in_ndim).s);
  nn_conv_geom g = geom_of(l->name, t, in[1], in[2]);
  out[0] = t->C_out, out[1] = g.H, out[2] = g.W;
  return 3;
}

static void free_op(nn_layer *l) {
  nn_conv_transpose2d *t = (nn_conv_transpose2d *)l;
  nn_tensor_free(&t->W), nn_tensor_free(&t->dW), nn_tensor_free(&t->b), nn_tensor_free(&t->db);
  free(t);
}

static const nn_layer_ops CONVT_OPS = {.kind = "ConvTranspose2d", .forward = forward_op, .backward = backward_op,
                                       .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_conv_transpose2d *nn_conv_transpose2d_new(const char *name, const nn_conv_transpose2d_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_conv_transpose2d_new: a config and an rng are needed");
  const char *nm = name ? name : "conv_transpose2d";
  bool rect = cfg->kh > 0 && cfg->kw > 0;
  int KH = rect ? cfg->kh : cfg->kernel, KW = rect ? cfg->kw : cfg->kernel;
  int s = cfg->stride ? cfg->stride : 1, d = cfg->dilation ? cfg->dilation : 1;
  NN_REQUIRE(cfg->in_channels >= 1 && cfg->out_channels >= 1 && KH >= 1 && KW >= 1,
             "nn_conv_transpose2d_new: %s: in_channels %d, out_channels %d, kernel %dx%d: each must be at least 1",
             nm, cfg->in_channels, cfg->out_channels, KH, KW);
  NN_REQUIRE(s >= 1 && d >= 1, "nn_conv_transpose2d_new: %s: stride %d, dilation %d: each must be at least 1 "
             "(0 means 1)", nm, cfg->stride, cfg->dilation);
  NN_REQUIRE(cfg->padding >= 0, "nn_conv_transpose2d_new: %s: padding %d must be 0 or more", nm, cfg->padding);
  NN_REQUIRE(cfg->output_padding >= 0 && cfg->output_padding < (s > d ? s : d),
             "nn_conv_transpose2d_new: %s: output_padding %d must be at least 0 and smaller than stride %d or "
             "dilation %d (PyTorch's rule): a stride-%d Conv2d maps %d sizes to one, and output_padding picks which "
             "one to go back to", nm, cfg->output_padding, s, d, s, s);

  nn_conv_transpose2d *t = nn_xcalloc(1, sizeof *t, "nn_conv_transpose2d");
  t->base.ops = &CONVT_OPS;
  nn_layer_name(&t->base, "nn_conv_transpose2d_new", nm, NULL);
  snprintf(t->W_name, sizeof t->W_name, "%s.W", t->base.name);
  snprintf(t->b_name, sizeof t->b_name, "%s.b", t->base.name);
  t->C_in = cfg->in_channels, t->C_out = cfg->out_channels, t->KH = KH, t->KW = KW;
  t->stride = s, t->padding = cfg->padding, t->output_padding = cfg->output_padding, t->dilation = d;
  t->has_bias = !cfg->no_bias;
  const int shape[4] = {t->C_in, t->C_out, KH, KW};
  t->W = nn_tensor_new(4, shape, NN_CPU), t->dW = nn_tensor_new(4, shape, NN_CPU);
  if (t->has_bias) t->b = nn_tensor_new(1, &t->C_out, NN_CPU), t->db = nn_tensor_new(1, &t->C_out, NN_CPU);
  /* PyTorch's and Keras' fans of a transposed weight: W.size(1) * KH * KW in, W.size(0) * KH * KW out */
  long fan_in = (long)t->C_out * KH * KW, fan_out = (long)t->C_in * KH * KW;
  if (cfg->xavier) {
    float a = sqrtf(6.f / (float)(fan_in + fan_out));
    nn_rng_fill_uniform(rng, t->W.data, nn_numel(&t->W), -a, a);
  } else {
    nn_rng_fill_normal(rng, t->W.data, nn_numel(&t->W), 0.f, sqrtf(2.f / (float)fan_in));
  }
  return t;
}
