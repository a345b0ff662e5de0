/* nn_pool.c: max, average and global average pooling, one (H, W) plane at a time.
 * Every (n, c) plane is pooled alone, so the math is written for one plane and
 * the entry points walk the N*C planes. On the GPU the kernels of nn_pool.cu do
 * all the planes in one launch; the entry points choose by x's device. */
#include "nn_pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
#include "nn_parallel.h"

/* The sizes of one plane and its window: x plane (H, W) -> y plane (Ho, Wo) (nn_pool.h). */
typedef nn_pool_window window;

/* "MaxPool2d(kernel 3, stride 2, padding 1)", for messages. */
typedef struct { char s[96]; } pool_text;
static pool_text describe(const nn_pool2d *p) {
  pool_text t;
  snprintf(t.s, sizeof t.s, "%s(kernel %d, stride %d, padding %d)", p->base.ops->kind, p->kernel, p->stride,
           p->padding);
  return t;
}

/* "(N, 32, 26, 26)": a shape without N, as out_shape gets it. */
static nn_shape_text dims_text(const int *in, int ndim) {
  nn_shape_text t;
  int len = snprintf(t.s, sizeof t.s, "(N");
  for (int i = 0; i < ndim && len < (int)sizeof t.s; i++) len += snprintf(t.s + len, sizeof t.s - len, ", %d", in[i]);
  if (len < (int)sizeof t.s) snprintf(t.s + len, sizeof t.s - len, ")");
  return t;
}

/* t must be on `device`, where the layer runs (x's device in forward, dy's in backward). */
static void check_device(const char *fn, const nn_layer *l, const char *what, const nn_tensor *t, const char *ref,
                         nn_device device) {
  NN_REQUIRE(t->device == device, "%s: %s: %s is on the %s but %s is on the %s; %s runs where its input is, so "
             "both must be on one device (nn_tensor_to)", fn, l->name, what, nn_device_name(t->device), ref,
             nn_device_name(device), l->ops->kind);
}

/* Ho and Wo from nn_pool_out_len, the calculator of `nn exam`; aborts naming fn
 * (NULL: out_shape, named by the layer alone), the layer and x's shape (xs) when
 * the window does not fit. */
static window window_of(const char *fn, const nn_pool2d *p, const char *xs, int H, int W) {
  nn_pool_opts o = nn_pool_opts_default(p->kind, p->kernel);
  o.stride = p->stride;
  o.pad = p->padding > 0 ? NN_PAD_EXPLICIT : NN_PAD_VALID;
  o.padding = p->padding;
  nn_len lh, lw;
  nn_error err;
  if (nn_pool_out_len(H, &o, NN_PYTORCH, &lh, &err) != NN_OK || nn_pool_out_len(W, &o, NN_PYTORCH, &lw, &err) != NN_OK)
    nn_panic("%s%s%s %s on x %s: %s", fn ? fn : "", fn ? ": " : "", p->base.name, describe(p).s, xs, err.msg);
  return (window){.H = H, .W = W, .Ho = lh.len, .Wo = lw.len, .k = p->kernel, .s = p->stride, .p = p->padding};
}

/* ---- the math, for one plane. x: (H, W), y and dy: (Ho, Wo), argmax: (Ho, Wo) */

/* Window (i, j): its largest real cell into *best, and that cell's index in the plane
 * into *at. Ties keep the first cell in reading order; a NaN wins (PyTorch's rule), the
 * last NaN if there are several. */
static void maxpool_window(const window *g, const float *x, int i, int j, float *best, int *at) {
  int h0 = i * g->s - g->p, w0 = j * g->s - g->p; /* the window's top-left, maybe in the padding */
  int h_end = h0 + g->k < g->H ? h0 + g->k : g->H, w_end = w0 + g->k < g->W ? w0 + g->k : g->W;
  *best = 0.f, *at = -1;
  for (int h = h0 > 0 ? h0 : 0; h < h_end; h++) /* the real cells only: a padded cell never wins */
    for (int w = w0 > 0 ? w0 : 0; w < w_end; w++) {
      float v = x[h * g->W + w];
      if (*at < 0 || v > *best || isnan(v)) *best = v, *at = h * g->W + w; /* strict >: ties keep the first */
    }
  /* p <= k/2 puts a real cell in every window, so *at >= 0 here */
}

/* The usual window, 2x2 with stride 2 and no padding, without a branch on the values:
 * whether the next cell beats the best so far is a coin toss on real activations, and
 * the mispredicted branches of maxpool_window took a quarter of a CNN training step.
 * Written as selects over a whole output row, the compiler turns the row into max and
 * blend vector instructions (4x faster than a branch per cell). The same answer as
 * maxpool_window, ties included. A NaN is only noted on the way (x != x), and a row
 * that met one is done again by maxpool_window, which knows the NaN rule. */
static bool maxpool_2x2_row(const float *r0, const float *r1, int W, int i, int Wo, float *y, int *argmax) {
  int nan_seen = 0;
  for (int j = 0; j < Wo; j++) {
    float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
    float ab = b > a ? b : a, cd = d > c ? d : c, best = cd > ab ? cd : ab;
    int off = W + 1; /* the first cell equal to the best, in reading order a b / c d */
    off = c == best ? W : off;
    off = b == best ? 1 : off;
    off = a == best ? 0 : off;
    y[j] = best;
    argmax[j] = 2 * i * W + 2 * j + off;
    float sum = a + b + c + d; /* NaN when a cell is NaN (or inf - inf) */
    nan_seen |= sum != sum;
  }
  return nan_seen;
}

static void maxpool_2x2_plane(const window *g, const float *x, float *y, int *argmax) {
  const int W = g->W, Wo = g->Wo;
  for (int i = 0; i < g->Ho; i++) {
    const float *r0 = x + 2 * i * W, *r1 = r0 + W; /* the window's two rows */
    if (maxpool_2x2_row(r0, r1, W, i, Wo, y + i * Wo, argmax + i * Wo))
      for (int j = 0; j < Wo; j++) maxpool_window(g, x, i, j, &y[i * Wo + j], &argmax[i * Wo + j]);
  }
}

static void maxpool_forward_plane(const window *g, const float *x, float *y, int *argmax) {
  if (g->k == 2 && g->s == 2 && g->p == 0) {
    maxpool_2x2_plane(g, x, y, argmax);
    return;
  }
  for (int i = 0; i < g->Ho; i++)
    for (int j = 0; j < g->Wo; j++) maxpool_window(g, x, i, j, &y[i * g->Wo + j], &argmax[i * g->Wo + j]);
}

static void maxpool_backward_plane(const window *g, const float *dy, const int *argmax, float *dx) {
  /* TODO(lab 03-cnn): write this part of maxpool_backward_plane. */
  /* HINT: y[o] was the maximum of window o, so only that one input moved it, and the forward recorded which: argmax[o], an index into this (H, W) plane. Windows may overlap and share their maximum: what must happen to its gradient then? */
  NN_LAB_STUB("03-cnn", "maxpool_backward_plane");
}

static void avgpool_forward_plane(const window *g, const float *x, float *y) {
  float scale = 1.f / (float)(g->k * g->k); /* count_include_pad: padded cells count, as zeros */
  for (int i = 0; i < g->Ho; i++)
    for (int j = 0; j < g->Wo; j++) {
      int h0 = i * g->s - g->p, w0 = j * g->s - g->p;
      float sum = 0.f;
      for (int h = h0 > 0 ? h0 : 0; h < h0 + g->k && h < g->H; h++)
        for (int w = w0 > 0 ? w0 : 0; w < w0 + g->k && w < g->W; w++) sum += x[h * g->W + w];
      y[i * g->Wo + j] = sum * scale;
    }
}

static void avgpool_backward_plane(const window *g, const float *dy, float *dx) {
  float scale = 1.f / (float)(g->k * g->k);
  for (int i = 0; i < g->Ho; i++)
    for (int j = 0; j < g->Wo; j++) {
      int h0 = i * g->s - g->p, w0 = j * g->s - g->p;
      float share = dy[i * g->Wo + j] * scale; /* each real cell moved y by 1/k^2 of itself */
      for (int h = h0 > 0 ? h0 : 0; h < h0 + g->k && h < g->H; h++)
        for (int w = w0 > 0 ? w0 : 0; w < w0 + g->k && w < g->W; w++) dx[h * g->W + w] += share;
    }
}

/* ---- MaxPool2d / AvgPool2d: the planes on each device, then the entry points
 * (checks, and the one device switch: x's device) */

/* ---- all the planes, on each device */

/* Whether `planes` planes are worth a second thread (nn_parallel.h): the cells their
 * windows read, Ho*Wo*k*k per plane. */
static bool worth_threads(const window *g, long planes) {
  return (double)planes * g->Ho * g->Wo * g->k * g->k >= NN_PARALLEL_MIN_WORK;
}

static void pool_forward_cpu(nn_pool2d *p, const window *g, const nn_tensor *x, nn_tensor *y, int *argmax,
                             long planes) {
  long in_plane = (long)g->H * g->W, out_plane = (long)g->Ho * g->Wo;
#pragma omp parallel for schedule(static) if (worth_threads(g, planes)) /* the planes are independent */
  for (long q = 0; q < planes; q++) {
    const float *x_q = x->data + q * in_plane;
    float *y_q = y->data + q * out_plane;
    if (p->kind == NN_POOL_MAX) maxpool_forward_plane(g, x_q, y_q, argmax + q * out_plane);
    else avgpool_forward_plane(g, x_q, y_q);
  }
}

static void pool_forward_gpu(nn_pool2d *p, const window *g, const nn_tensor *x, nn_tensor *y, int *argmax,
                             long planes) {
  if (p->kind == NN_POOL_MAX) nn_maxpool_forward_cuda(g, x->data, y->data, argmax, planes);
  else nn_avgpool_forward_cuda(g, x->data, y->data, planes);
}

static void pool_backward_cpu(nn_pool2d *p, const window *g, const nn_tensor *dy, nn_tensor *dx,
                              const int *argmax, long planes) {
  long in_plane = (long)g->H * g->W, out_plane = (long)g->Ho * g->Wo;
#pragma omp parallel for schedule(static) if (worth_threads(g, planes)) /* dx's planes take only their own dy */
  for (long q = 0; q < planes; q++) {
    const float *dy_q = dy->data + q * out_plane;
    float *dx_q = dx->data + q * in_plane;
    if (p->kind == NN_POOL_MAX) maxpool_backward_plane(g, dy_q, argmax + q * out_plane, dx_q);
    else avgpool_backward_plane(g, dy_q, dx_q);
  }
}

static void pool_backward_gpu(nn_pool2d *p, const window *g, const nn_tensor *dy, nn_tensor *dx,
                              const int *argmax, long planes) {
  if (p->kind == NN_POOL_MAX) nn_maxpool_backward_cuda(g, dy->data, argmax, dx->data, planes);
  else nn_avgpool_backward_cuda(g, dy->data, dx->data, planes);
}

void nn_pool2d_forward(nn_pool2d *p, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  const char *fn = "nn_pool2d_forward";
  nn_call_begin(c, &p->base, fn, x, y);
  check_device(fn, &p->base, "y", y, "x", x->device);
  NN_REQUIRE(x->ndim == 4, "%s: %s %s takes x (N, C, H, W), got x %s and y %s", fn, p->base.name, describe(p).s,
             nn_shape_str(x).s, nn_shape_str(y).s);
  int N = x->shape[0], C = x->shape[1];
  window g = window_of(fn, p, nn_shape_str(x).s, x->shape[2], x->shape[3]);
  NN_REQUIRE(y->ndim == 4 && y->shape[0] == N && y->shape[1] == C && y->shape[2] == g.Ho && y->shape[3] == g.Wo,
             "%s: %s %s maps x %s to (%d, %d, %d, %d) but y is %s", fn, p->base.name, describe(p).s,
             nn_shape_str(x).s, N, C, g.Ho, g.Wo, nn_shape_str(y).s);
  long planes = (long)N * C;
  int *argmax = NULL; /* MaxPool: where each max came from, kept in the call for backward */
  if (p->kind == NN_POOL_MAX) {
    nn_arena *a = nn_call_arena(c, fn, "its argmax");
    NN_REQUIRE(nn_arena_device(a) == x->device, "%s: %s: the call's arena is on the %s but x is on the %s", fn,
               p->base.name, nn_device_name(nn_arena_device(a)), nn_device_name(x->device));
    argmax = nn_arena_alloc(a, (size_t)(planes * g.Ho * g.Wo) * sizeof(int));
  }
  c->saved = argmax;
  switch (x->device) {
  case NN_CPU: pool_forward_cpu(p, &g, x, y, argmax, planes); break;
  case NN_GPU: pool_forward_gpu(p, &g, x, y, argmax, planes); break;
  }
}

void nn_pool2d_backward(nn_pool2d *p, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  const char *fn = "nn_pool2d_backward";
  nn_call_require_forward(c, fn, &p->base);
  const nn_tensor x = *c->x, y = *c->y; /* their shapes and device: the values are not needed */
  NN_REQUIRE(dy->device == x.device, "%s: %s: dy is on the %s but the forward ran on the %s (x was there); "
             "move dy (nn_tensor_to)", fn, p->base.name, nn_device_name(dy->device), nn_device_name(x.device));
  NN_REQUIRE(nn_same_shape(dy, &y), "%s: %s: dy is %s but the forward gave y %s (from x %s)", fn, p->base.name,
             nn_shape_str(dy).s, nn_shape_str(&y).s, nn_shape_str(&x).s);
  if (!dx) return;
  check_device(fn, &p->base, "dx", dx, "dy", dy->device);
  NN_REQUIRE(nn_same_shape(dx, &x), "%s: %s: dx is %s but the forward input x was %s", fn, p->base.name,
             nn_shape_str(dx).s, nn_shape_str(&x).s);
  window g = window_of(fn, p, nn_shape_str(&x).s, x.shape[2], x.shape[3]);
  long planes = (long)x.shape[0] * x.shape[1];
  const int *argmax = c->saved;
  switch (dy->device) {
  case NN_CPU: pool_backward_cpu(p, &g, dy, dx, argmax, planes); break;
  case NN_GPU: pool_backward_gpu(p, &g, dy, dx, argmax, planes); break;
  }
}

/* ---- the MaxPool2d / AvgPool2d ops table */

/* pooling acts the same in training and evaluation */
static void pool_forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_pool2d_forward((nn_pool2d *)l, c, x, y);
}

static void pool_backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_pool2d_backward((nn_pool2d *)l, c, dy, dx);
}

static int no_params_op(nn_layer *l, nn_param *out, int max) {
  (void)l, (void)out, (void)max;
  return 0; /* nothing to learn */
}

static int pool_out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_pool2d *p = (const nn_pool2d *)l;
  NN_REQUIRE(in_ndim == 3, "%s: %s takes images (N, C, H, W), got %s", l->name, describe(p).s,
             dims_text(in, in_ndim).s);
  window g = window_of(NULL, p, dims_text(in, in_ndim).s, in[1], in[2]);
  out[0] = in[0], out[1] = g.Ho, out[2] = g.Wo;
  return 3;
}

static void pool_free_op(nn_layer *l) { free(l); }

static const nn_layer_ops MAXPOOL_OPS = {.kind = "MaxPool2d", .forward = pool_forward_op,
                                         .backward = pool_backward_op, .params = no_params_op,
                                         .out_shape = pool_out_shape_op, .free = pool_free_op};
static const nn_layer_ops AVGPOOL_OPS = {.kind = "AvgPool2d", .forward = pool_forward_op,
                                         .backward = pool_backward_op, .params = no_params_op,
                                         .out_shape = pool_out_shape_op, .free = pool_free_op};

static nn_pool2d *pool_new(const char *fn, const nn_layer_ops *ops, nn_pool_kind kind, const char *name,
                           int kernel, int stride, int padding) {
  NN_REQUIRE(kernel >= 1, "%s: kernel %d must be at least 1", fn, kernel);
  nn_pool2d *p = nn_xcalloc(1, sizeof *p, fn);
  p->base.ops = ops;
  nn_layer_name(&p->base, fn, name, kind == NN_POOL_MAX ? "maxpool" : "avgpool");
  p->kind = kind, p->kernel = kernel, p->stride = stride, p->padding = padding;
  /* The settings alone, checked by nn_pool_out_len's rules on the smallest input a window
   * fits (H = W = kernel): stride >= 0, 0 <= padding <= kernel/2. */
  nn_pool_opts o = nn_pool_opts_default(kind, kernel);
  o.stride = stride, o.pad = padding != 0 ? NN_PAD_EXPLICIT : NN_PAD_VALID, o.padding = padding;
  nn_len len;
  nn_error err;
  if (nn_pool_out_len(kernel, &o, NN_PYTORCH, &len, &err) != NN_OK) {
    free(p);
    nn_panic("%s: %s(kernel %d, stride %d, padding %d): %s", fn, ops->kind, kernel, stride, padding, err.msg);
  }
  if (p->stride == 0) p->stride = kernel; /* PyTorch's stride=None */
  return p;
}

nn_pool2d *nn_maxpool2d_new(const char *name, int kernel, int stride, int padding) {
  return pool_new("nn_maxpool2d_new", &MAXPOOL_OPS, NN_POOL_MAX, name, kernel, stride, padding);
}

nn_pool2d *nn_avgpool2d_new(const char *name, int kernel, int stride, int padding) {
  return pool_new("nn_avgpool2d_new", &AVGPOOL_OPS, NN_POOL_AVG, name, kernel, stride, padding);
}

/* ---- GlobalAvgPool2d: x (N, C, H, W) -> y (N, C) */

typedef struct {
  nn_layer base;
} global_avgpool;

/* x: (planes, plane) -> y: (planes) */
static void global_forward_cpu(const float *x, float *y, long planes, long plane) {
  for (long q = 0; q < planes; q++) {
    const float *x_q = x + q * plane;
    double sum = 0; /* a 224x224 plane is 50,176 terms: sum in double */
    for (long i = 0; i < plane; i++) sum += x_q[i];
    y[q] = (float)(sum / (double)plane);
  }
}

static void global_backward_cpu(const float *dy, float *dx, long planes, long plane) {
  for (long q = 0; q < planes; q++) {
    float share = dy[q] / (float)plane; /* every cell moved the mean by 1/(H*W) of itself */
    float *dx_q = dx + q * plane;
    for (long i = 0; i < plane; i++) dx_q[i] += share;
  }
}

static void global_forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  const char *fn = "nn_global_avgpool2d forward";
  nn_call_begin(c, l, fn, x, y);
  check_device(fn, l, "y", y, "x", x->device);
  NN_REQUIRE(x->ndim == 4 && y->ndim == 2 && y->shape[0] == x->shape[0] && y->shape[1] == x->shape[1],
             "%s: %s maps x (N, C, H, W) to y (N, C), got x %s and y %s", fn, l->name, nn_shape_str(x).s,
             nn_shape_str(y).s);
  long planes = (long)x->shape[0] * x->shape[1], plane = (long)x->shape[2] * x->shape[3];
  switch (x->device) {
  case NN_CPU: global_forward_cpu(x->data, y->data, planes, plane); break;
  case NN_GPU: nn_global_avgpool_forward_cuda(x->data, y->data, planes, plane); break;
  }
}

static void global_backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  const char *fn = "nn_global_avgpool2d backward";
  nn_call_require_forward(c, fn, l);
  const nn_tensor x = *c->x;
  NN_REQUIRE(dy->ndim == 2 && dy->shape[0] == x.shape[0] && dy->shape[1] == x.shape[1],
             "%s: %s: dy is %s but the forward input x was %s, so dy must be (%d, %d)", fn, l->name,
             nn_shape_str(dy).s, nn_shape_str(&x).s, x.shape[0], x.shape[1]);
  if (!dx) return;
  check_device(fn, l, "dx", dx, "dy", dy->device);
  NN_REQUIRE(nn_same_shape(dx, &x), "%s: %s: dx is %s but the forward input x was %s", fn, l->name,
             nn_shape_str(dx).s, nn_shape_str(&x).s);
  long planes = (long)x.shape[0] * x.shape[1], plane = (long)x.shape[2] * x.shape[3];
  switch (dy->device) {
  case NN_CPU: global_backward_cpu(dy->data, dx->data, planes, plane); break;
  case NN_GPU: nn_global_avgpool_backward_cuda(dy->data, dx->data, planes, plane); break;
  }
}

static int global_out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  NN_REQUIRE(in_ndim == 3, "%s: GlobalAvgPool2d takes images (N, C, H, W), got %s", l->name,
             dims_text(in, in_ndim).s);
  out[0] = in[0];
  return 1;
}

static void global_free_op(nn_layer *l) { free(l); }

static const nn_layer_ops GLOBAL_AVGPOOL_OPS = {.kind = "GlobalAvgPool2d", .forward = global_forward_op,
                                                .backward = global_backward_op, .params = no_params_op,
                                                .out_shape = global_out_shape_op, .free = global_free_op};

nn_layer *nn_global_avgpool2d_new(const char *name) {
  global_avgpool *g = nn_xcalloc(1, sizeof *g, "nn_global_avgpool2d_new");
  g->base.ops = &GLOBAL_AVGPOOL_OPS;
  nn_layer_name(&g->base, "nn_global_avgpool2d_new", name, "global_avgpool");
  return &g->base;
}
