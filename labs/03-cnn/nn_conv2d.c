/* nn_conv2d.c: Conv2d forward and backward, one nn_sgemm per image, on the CPU (the
 * images spread over libnn's threads) or the GPU (where the layer's weights are). */
#include "nn_conv2d.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_parallel.h"

/* "Conv2d(1 -> 32, 3x3)", with ", stride 2", ", padding 1" / ", padding same",
 * ", dilation 2", ", no bias" where they are not the defaults. */
typedef struct { char s[128]; } conv_text;

static conv_text describe(const nn_conv2d *c) {
  conv_text t;
  int n = snprintf(t.s, sizeof t.s, "Conv2d(%d -> %d, %dx%d", c->C, c->F, c->KH, c->KW);
  if (c->stride != 1) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", stride %d", c->stride);
  if (c->pad == NN_PAD_SAME) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", padding same");
  if (c->pad == NN_PAD_EXPLICIT) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", padding %d", c->padding);
  if (c->dilation != 1) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", dilation %d", c->dilation);
  if (c->groups != 1) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", groups %d", c->groups);
  if (!c->has_bias) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", no bias");
  snprintf(t.s + n, sizeof t.s - (size_t)n, ")");
  return t;
}

/* One example's shape with N in front: "(N, 3, 28, 28)". */
static nn_shape_text batch_shape(const int *in, int ndim) {
  nn_shape_text t;
  int n = snprintf(t.s, sizeof t.s, "(N");
  for (int i = 0; i < ndim && n < (int)sizeof t.s; i++) n += snprintf(t.s + n, sizeof t.s - (size_t)n, ", %d", in[i]);
  if (n < (int)sizeof t.s) snprintf(t.s + n, sizeof t.s - (size_t)n, ")");
  return t;
}

/* Zeros above and left of the image: p, or for 'same' half of the d*(K-1) a window
 * overhangs (the odd one of an even kernel goes below / right, as in PyTorch). */
static int pad_before(const nn_conv2d *c, int K) {
  switch (c->pad) {
  case NN_PAD_VALID: return 0;
  case NN_PAD_SAME: return c->dilation * (K - 1) / 2;
  case NN_PAD_EXPLICIT: return c->padding;
  }
  return 0;
}

/* Ho or Wo from nn_conv_out_len (the calculator `nn exam` uses); who: the message's prefix. */
static int out_len(const char *who, const nn_conv2d *c, int H, int W, int L, int K, const char *axis) {
  nn_conv_opts o = nn_conv_opts_default(c->F, K);
  o.stride = c->stride, o.dilation = c->dilation, o.pad = c->pad, o.padding = c->padding;
  nn_len len;
  nn_error err;
  NN_REQUIRE(nn_conv_out_len(L, &o, NN_PYTORCH, &len, &err) == NN_OK, "%s: %s on (N, %d, %d, %d), along %s: %s",
             who, describe(c).s, c->C, H, W, axis, err.msg);
  return len.len;
}

static nn_conv_geom geom_of(const char *who, const nn_conv2d *c, int H, int W) {
  return (nn_conv_geom){.C = c->C, .H = H, .W = W, .KH = c->KH, .KW = c->KW, .stride = c->stride,
                        .pad_h = pad_before(c, c->KH), .pad_w = pad_before(c, c->KW), .dilation = c->dilation,
                        .Ho = out_len(who, c, H, W, H, c->KH, "H"), .Wo = out_len(who, c, H, W, W, c->KW, "W")};
}

nn_conv_geom nn_conv2d_geom(const nn_conv2d *c, int H, int W) {
  NN_REQUIRE(c, "nn_conv2d_geom: the layer is NULL");
  return geom_of(c->base.name, c, H, W);
}

/* t must be on the device of the layer's weights: the layer runs there. */
static void check_device(const char *fn, const nn_conv2d *c, const char *what, const nn_tensor *t) {
  nn_layer_require_device(fn, &c->base, what, t, c->W.device);
}

/* x: (N, C, H, W) on the device of the layer's weights; returns one image's geometry. */
static nn_conv_geom check_input(const char *fn, const nn_conv2d *c, const nn_tensor *x) {
  NN_REQUIRE(x, "%s: x is NULL", fn);
  check_device(fn, c, "x", x);
  NN_REQUIRE(x->ndim == 4 && x->shape[1] == c->C, "%s: %s: %s takes (N, %d, H, W) inputs, got %s", fn,
             c->base.name, describe(c).s, c->C, nn_shape_str(x).s);
  char who[96];
  snprintf(who, sizeof who, "%s: %s", fn, c->base.name);
  return geom_of(who, c, x->shape[2], x->shape[3]);
}

/* t must be (N, F, Ho, Wo) on the weights' device: y in forward, dy in backward. */
static void check_output(const char *fn, const nn_conv2d *c, const char *what, const nn_tensor *t,
                         const nn_tensor *x, const nn_conv_geom *g) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  check_device(fn, c, what, t);
  NN_REQUIRE(t->ndim == 4 && t->shape[0] == x->shape[0] && t->shape[1] == c->F && t->shape[2] == g->Ho &&
                 t->shape[3] == g->Wo,
             "%s: %s is %s but %s (%s) gives (%d, %d, %d, %d) for x %s", fn, what, nn_shape_str(t).s, c->base.name,
             describe(c).s, x->shape[0], c->F, g->Ho, g->Wo, nn_shape_str(x).s);
}

/* The workspace, borrowed from the call's arena (on the weights' device) for this call only:
 *   CPU forward:  every image's im2col columns (N, K, P), kept in the call for backward, when
 *                 they fit NN_CONV2D_KEEP_FLOATS; else per thread an im2col buffer (K, P)
 *   CPU backward: per thread a (K, P) buffer (the windows when not kept, then dcols) and a
 *                 partial dW (F, K) and db (F), added into dW and db after the loop over images
 *   GPU:          one im2col buffer (K, P); the images go one after another */
typedef struct {
  float *data;
  int threads; /* the threads it is laid out for (1 on the GPU) */
  bool kept;   /* forward: data holds all N images' columns, image n at n * K * P */
} workspace;

static long cols_floats(const nn_conv_geom *g) { return nn_conv_geom_rows(g) * nn_conv_geom_cols(g); }
/* K/G: the rows of cols one group's filters see, C/G channels' windows (W's row length) */
static long group_rows(const nn_conv2d *c, const nn_conv_geom *g) { return nn_conv_geom_rows(g) / c->groups; }
static long grad_floats(const nn_conv2d *c, const nn_conv_geom *g) { return (long)c->F * group_rows(c, g) + c->F; }

/* Whether a CPU forward on N images keeps their columns: backward then skips im2col, a fifth
 * of a small CNN's step, for memory the arena has anyway. A large batch of large images
 * recomputes instead (ResNet on 224 x 224 would keep gigabytes). */
static bool keeps_columns(const nn_conv2d *c, const nn_conv_geom *g, int N) {
  return c->W.device == NN_CPU && (double)N * cols_floats(g) <= c->keep_floats;
}

long nn_conv2d_workspace_floats(const nn_conv2d *c, const nn_conv_geom *g, int N, int threads, bool backward) {
  if (c->W.device == NN_GPU) return cols_floats(g);
  if (backward) return (cols_floats(g) + grad_floats(c, g)) * threads;
  return keeps_columns(c, g, N) ? N * cols_floats(g) : threads * cols_floats(g);
}

static workspace borrow_workspace(const nn_conv2d *c, const nn_call *call, const char *fn, const nn_conv_geom *g,
                                  int N, bool backward) {
  nn_arena *a = nn_call_arena(call, fn, "its im2col workspace");
  NN_REQUIRE(nn_arena_device(a) == c->W.device, "%s: the call's arena is on the %s but %s's weights are on the %s",
             fn, nn_device_name(nn_arena_device(a)), c->base.name, nn_device_name(c->W.device));
  workspace ws = {.threads = c->W.device == NN_CPU ? nn_threads() : 1, .kept = !backward && keeps_columns(c, g, N)};
  ws.data = nn_arena_floats(a, nn_conv2d_workspace_floats(c, g, N, ws.threads, backward));
  return ws;
}

/* Thread t's im2col buffer, (K, P); its partial dW (F, K), with its db (F) behind it. */
static float *cols_of(const workspace *ws, const nn_conv_geom *g, int t) { return ws->data + t * cols_floats(g); }
static float *grads_of(const nn_conv2d *c, const workspace *ws, const nn_conv_geom *g, int t) {
  return ws->data + ws->threads * cols_floats(g) + t * grad_floats(c, g);
}

/* ---- the math. K = C*KH*KW rows of cols, P = Ho*Wo columns; the images of the batch
 * are independent, so they spread over the threads, each with its own cols. With G groups
 * each image is G products of F/G filters on K/G rows of cols (G = 1: one product). */

/* One group's slice of one image: its filters' rows of W (Fg, Kg) and b (Fg), its rows of
 * cols (Kg, P) and of y_n (Fg, P). */
typedef struct {
  int Fg, Kg, P;
  const float *W, *b; /* b: NULL without bias */
  float *cols, *y;    /* forward: cols read; backward: y is dy_n, cols the windows */
} group_slice;

static group_slice slice_of(const nn_conv2d *c, const nn_conv_geom *g, int group, float *cols, float *y_n) {
  const int Fg = c->F / c->groups, Kg = (int)group_rows(c, g), P = (int)nn_conv_geom_cols(g);
  return (group_slice){.Fg = Fg, .Kg = Kg, .P = P, .W = c->W.data + (long)group * Fg * Kg,
                       .b = c->has_bias ? c->b.data + (long)group * Fg : NULL, .cols = cols + (long)group * Kg * P,
                       .y = y_n + (long)group * Fg * P};
}

/* y (Fg, P) = W (Fg, Kg) @ cols (Kg, P) + b */
static void group_forward(const group_slice *s) {
  const int F = s->Fg, K = s->Kg, P = s->P;
  float *y_n = s->y;
  /* TODO(lab 03-cnn): write this part of group_forward. */
  /* HINT: y_n (F, P) = W (F, K) @ cols (K, P): one matrix product (nn_sgemm, nn_gemm.h; do W and cols need a transpose, given how each is stored?), then filter f's bias on every entry of its row f (when s->b is not NULL) */
  NN_LAB_STUB("03-cnn", "group_forward");
}

/* x: (N, C, H, W) -> y: (N, F, Ho, Wo) */
static void conv_forward_cpu(nn_conv2d *c, const nn_tensor *x, nn_tensor *y, const nn_conv_geom *g,
                             const workspace *ws) {
  const int N = x->shape[0], F = c->F, K = (int)group_rows(c, g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)g->C * g->H * g->W, y_size = (long)F * P; /* one image */
  const double work = (double)N * F * K * P;                          /* multiply-adds */
#pragma omp parallel for schedule(static) num_threads(ws->threads) if (work >= NN_PARALLEL_MIN_WORK)
  for (int n = 0; n < N; n++) {
    const float *x_n = x->data + n * x_size;        /* (C, H, W) */
    float *y_n = y->data + n * y_size;              /* (F, Ho*Wo) */
    float *cols = ws->kept ? ws->data + n * cols_floats(g) : cols_of(ws, g, nn_thread_index()); /* (K, P) */
    nn_im2col(x_n, g, cols);
    for (int group = 0; group < c->groups; group++) {
      group_slice s = slice_of(c, g, group, cols, y_n);
      group_forward(&s);
    }
  }
}

/* dW += sum over threads of their partial dW (and db), in thread order: the same bits
 * every run for a given number of threads. */
static void add_thread_grads(nn_conv2d *c, const nn_conv_geom *g, const workspace *ws) {
  const long FK = (long)c->F * group_rows(c, g);
  for (int t = 0; t < ws->threads; t++) {
    const float *dW_t = grads_of(c, ws, g, t), *db_t = dW_t + FK;
    for (long i = 0; i < FK; i++) c->dW.data[i] += dW_t[i];
    if (c->has_bias)
      for (int f = 0; f < c->F; f++) c->db.data[f] += db_t[f];
  }
}

/* sum of v[0..n): `omp simd` lets the compiler add in 8 or 16 lanes (a float sum's order is
 * otherwise fixed, so a plain loop stays scalar); the order is still the same every run. */
static float row_sum(const float *v, int n) {
  float s = 0.f;
#pragma omp simd reduction(+ : s)
  for (int i = 0; i < n; i++) s += v[i];
  return s;
}

/* For one group of one image, from dy (Fg, P) (s->y) and the windows cols (Kg, P):
 *   dW (Fg, Kg) += dy @ cols^T,   db[f] += sum of row f of dy,   dcols (Kg, P) = W^T @ dy
 * dW, db: this thread's share; dcols NULL when x needs no gradient. */
static void group_backward(const group_slice *s, float *dW, float *db, float *dcols) {
  const int F = s->Fg, K = s->Kg, P = s->P;
  const float *dy_n = s->y, *cols = s->cols;
  /* TODO(lab 03-cnn): write this part of group_backward. */
  /* HINT: the forward was y_n = W @ cols + b, so by the shapes: dW (F, K) += dy_n (F, P) @ cols^T, db[f] += the sum of dy_n's row f, dcols (K, P) = W^T @ dy_n (written, not added: the caller's col2im adds it into dx). Each only when its pointer is not NULL. dW and db are this thread's own share (the caller adds the threads' shares into c->dW and c->db after the loop), so adding into them races with no other thread */
  NN_LAB_STUB("03-cnn", "group_backward");
}

/* dy: (N, F, Ho, Wo); dx: (N, C, H, W) or NULL */
static void conv_backward_cpu(nn_conv2d *c, const nn_tensor *x, const float *kept, const nn_tensor *dy,
                              nn_tensor *dx, const nn_conv_geom *g, const workspace *ws) {
  const int N = dy->shape[0], F = c->F, K = (int)group_rows(c, g), P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)g->C * g->H * g->W, y_size = (long)F * P;
  const double work = 2.0 * N * F * K * P; /* multiply-adds: dW's and dx's products */
  memset(grads_of(c, ws, g, 0), 0, sizeof(float) * ws->threads * grad_floats(c, g));
#pragma omp parallel for schedule(static) num_threads(ws->threads) if (work >= NN_PARALLEL_MIN_WORK)
  for (int n = 0; n < N; n++) {
    const float *x_n = x->data + n * x_size;        /* (C, H, W) */
    const float *dy_n = dy->data + n * y_size;      /* (F, Ho*Wo) */
    float *dx_n = dx ? dx->data + n * x_size : NULL; /* (C, H, W) */
    int t = nn_thread_index();
    float *dcols = cols_of(ws, g, t);               /* (K, P): this thread's own */
    float *dW = grads_of(c, ws, g, t), *db = dW + (long)F * K; /* this thread's share of dW (F, K/G), db */
    const float *cols = dcols;                      /* (K, P): the windows of x_n */
    if (kept)
      cols = kept + n * cols_floats(g); /* kept by the forward */
    else
      nn_im2col(x_n, g, dcols); /* recomputed: the batch's columns were too large to keep */
    /* group by group; when cols is dcols, group g overwrites only its own rows, after using them */
    for (int group = 0; group < c->groups; group++) {
      group_slice s = slice_of(c, g, group, (float *)cols, (float *)dy_n);
      const int Fg = s.Fg, Kg = s.Kg;
      group_backward(&s, dW + (long)group * Fg * Kg, c->has_bias ? db + (long)group * Fg : NULL,
                     dx_n ? dcols + (long)group * Kg * P : NULL);
    }
    if (dx_n) nn_col2im(dcols, g, dx_n); /* dx_n += the windows' gradients, back where they came from */
  }
  add_thread_grads(c, g, ws);
}

/* ---- the same on the GPU: im2col and col2im kernels, cuBLAS, and the bias kernels
 * (nn_cnn_cuda.h). All pointers are device pointers; image n starts at n * x_size. */

static void conv_forward_gpu(nn_conv2d *c, const nn_tensor *x, nn_tensor *y, const nn_conv_geom *g,
                             const workspace *ws) {
  const int N = x->shape[0], F = c->F, P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)g->C * g->H * g->W, y_size = (long)F * P;
  for (int n = 0; n < N; n++) {
    nn_im2col_cuda(x->data + n * x_size, g, ws->data);
    for (int group = 0; group < c->groups; group++) {
      group_slice s = slice_of(c, g, group, ws->data, y->data + n * y_size);
      /* TODO(lab 03-cnn): write this part of conv_forward_gpu. */
      /* HINT: group_forward's product, on device pointers (NN_GPU: cuBLAS); the bias is added after the loop, for the whole batch at once */
      NN_LAB_STUB("03-cnn", "conv_forward_gpu");
    }
  }
  if (c->has_bias) nn_conv2d_bias_add_cuda(y->data, c->b.data, N, F, P); /* the whole batch at once */
}

static void conv_backward_gpu(nn_conv2d *c, const nn_tensor *x, const nn_tensor *dy, nn_tensor *dx,
                              const nn_conv_geom *g, const workspace *ws) {
  const int N = dy->shape[0], F = c->F, P = (int)nn_conv_geom_cols(g);
  const long x_size = (long)g->C * g->H * g->W, y_size = (long)F * P;
  if (c->has_bias) nn_conv2d_bias_grad_cuda(dy->data, c->db.data, N, F, P); /* db: one reduction for the batch */
  for (int n = 0; n < N; n++) {
    float *dy_n = dy->data + n * y_size;
    nn_im2col_cuda(x->data + n * x_size, g, ws->data);
    for (int group = 0; group < c->groups; group++) { /* group g overwrites only its own rows, after using them */
      group_slice s = slice_of(c, g, group, ws->data, dy_n);
      float *dW = c->dW.data + (long)group * s.Fg * s.Kg;
      /* TODO(lab 03-cnn): write this part of conv_backward_gpu. */
      /* HINT: group_backward's dW and dcols products, on device pointers (NN_GPU); one stream runs them in order, so here dW is the layer's own; dcols may overwrite this group's rows of cols once dW has used them */
      NN_LAB_STUB("03-cnn", "conv_backward_gpu");
    }
    if (dx) nn_col2im_cuda(ws->data, g, dx->data + n * x_size); /* dx_n += col2im(dcols) */
  }
}

/* ---- entry points: checks, then the one device switch (the weights' device) */

void nn_conv2d_forward(nn_conv2d *c, nn_call *call, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(c, "nn_conv2d_forward: the layer is NULL");
  nn_call_begin(call, &c->base, "nn_conv2d_forward", x, y);
  nn_conv_geom g = check_input("nn_conv2d_forward", c, x);
  check_output("nn_conv2d_forward", c, "y", y, x, &g);
  workspace ws = borrow_workspace(c, call, "nn_conv2d_forward", &g, x->shape[0], false);
  call->saved = ws.kept ? ws.data : NULL; /* the columns backward will not recompute */
  switch (c->W.device) {
  case NN_CPU: conv_forward_cpu(c, x, y, &g, &ws); break;
  case NN_GPU: conv_forward_gpu(c, x, y, &g, &ws); break;
  }
}

void nn_conv2d_backward(nn_conv2d *c, const nn_call *call, const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(c, "nn_conv2d_backward: the layer is NULL");
  nn_call_require_forward(call, "nn_conv2d_backward", &c->base);
  const nn_tensor *x = call->x;
  nn_conv_geom g = check_input("nn_conv2d_backward", c, x);
  check_output("nn_conv2d_backward", c, "dy", dy, x, &g);
  if (dx) {
    check_device("nn_conv2d_backward", c, "dx", dx);
    NN_REQUIRE(nn_same_shape(dx, x), "nn_conv2d_backward: dx is %s but the forward input x was %s",
               nn_shape_str(dx).s, nn_shape_str(x).s);
  }
  workspace ws = borrow_workspace(c, call, "nn_conv2d_backward", &g, x->shape[0], true);
  switch (c->W.device) {
  case NN_CPU: conv_backward_cpu(c, x, call->saved, dy, dx, &g, &ws); break;
  case NN_GPU: conv_backward_gpu(c, x, dy, dx, &g, &ws); break;
  }
}

/* ANCHOR: conv_naive */
void nn_conv2d_forward_naive(const nn_conv2d *c, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(c, "nn_conv2d_forward_naive: the layer is NULL");
  NN_REQUIRE(x && x->device == NN_CPU && c->W.device == NN_CPU, "nn_conv2d_forward_naive: the reference runs on "
             "the CPU only; move %s (nn_layer_to) and x (nn_tensor_to) to the CPU", c->base.name);
  nn_conv_geom g = check_input("nn_conv2d_forward_naive", c, x);
  check_output("nn_conv2d_forward_naive", c, "y", y, x, &g);
  const int N = x->shape[0], C = c->C, H = g.H, W = g.W, F = c->F, KH = c->KH, KW = c->KW;
  const int s = c->stride, d = c->dilation, Cg = C / c->groups, Fg = F / c->groups;
  for (int n = 0; n < N; n++)
    for (int f = 0; f < F; f++)
      for (int oh = 0; oh < g.Ho; oh++)
        for (int ow = 0; ow < g.Wo; ow++) {
          float sum = c->has_bias ? c->b.data[f] : 0.f;
          for (int k = 0; k < Cg; k++) { /* filter f sees channel k of its group, f / Fg */
            const int ch = f / Fg * Cg + k;
            for (int i = 0; i < KH; i++)
              for (int j = 0; j < KW; j++) {
                int ih = oh * s - g.pad_h + i * d, iw = ow * s - g.pad_w + j * d;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue; /* a zero of the padding */
                sum += c->W.data[(((long)f * Cg + k) * KH + i) * KW + j] *
                       x->data[(((long)n * C + ch) * H + ih) * W + iw];
              }
          }
          y->data[(((long)n * F + f) * g.Ho + oh) * g.Wo + ow] = sum;
        }
}
/* ANCHOR_END: conv_naive */

/* ---- the layer's ops table */

/* Conv2d acts the same in training and evaluation */
static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_conv2d_forward((nn_conv2d *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_conv2d_backward((nn_conv2d *)l, c, dy, dx);
}

static int params_op(nn_layer *l, nn_param *out, int max) {
  nn_conv2d *c = (nn_conv2d *)l;
  int count = c->has_bias ? 2 : 1;
  NN_REQUIRE(max >= count, "nn_conv2d params: room for %d params, %s has %d", max, c->base.name, count);
  out[0] = (nn_param){c->W_name, &c->W, &c->dW};
  if (c->has_bias) out[1] = (nn_param){c->b_name, &c->b, &c->db};
  return count;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_conv2d *c = (const nn_conv2d *)l;
  NN_REQUIRE(in_ndim == 3 && in[0] == c->C, "%s: %s takes (N, %d, H, W) inputs, got %s", l->name, describe(c).s,
             c->C, batch_shape(in, in_ndim).s);
  nn_conv_geom g = geom_of(l->name, c, in[1], in[2]);
  out[0] = c->F, out[1] = g.Ho, out[2] = g.Wo;
  return 3;
}

static void free_op(nn_layer *l) {
  nn_conv2d *c = (nn_conv2d *)l;
  nn_tensor_free(&c->W), nn_tensor_free(&c->dW), nn_tensor_free(&c->b), nn_tensor_free(&c->db);
  free(c);
}

static const nn_layer_ops CONV2D_OPS = {.kind = "Conv2d", .forward = forward_op, .backward = backward_op,
                                        .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_conv2d *nn_conv2d_new(const char *name, const nn_conv2d_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_conv2d_new: a config and an rng are needed");
  const char *nm = name ? name : "conv2d";
  int KH = cfg->kh > 0 && cfg->kw > 0 ? cfg->kh : cfg->kernel, KW = cfg->kh > 0 && cfg->kw > 0 ? cfg->kw : cfg->kernel;
  int stride = cfg->stride ? cfg->stride : 1, dilation = cfg->dilation ? cfg->dilation : 1;
  int groups = cfg->groups ? cfg->groups : 1;
  NN_REQUIRE(cfg->in_channels >= 1 && cfg->filters >= 1 && KH >= 1 && KW >= 1,
             "nn_conv2d_new: %s: in_channels %d, filters %d, kernel %dx%d: each must be at least 1", nm,
             cfg->in_channels, cfg->filters, KH, KW);
  NN_REQUIRE(stride >= 1 && dilation >= 1, "nn_conv2d_new: %s: stride %d, dilation %d: each must be at least 1 "
             "(0 means 1)", nm, cfg->stride, cfg->dilation);
  NN_REQUIRE(groups >= 1 && cfg->in_channels % groups == 0 && cfg->filters % groups == 0,
             "nn_conv2d_new: %s: groups %d must be at least 1 (0 means 1) and divide both in_channels %d and "
             "filters %d (depthwise: groups = in_channels, filters a multiple of it)", nm, cfg->groups,
             cfg->in_channels, cfg->filters);
  NN_REQUIRE(cfg->pad == NN_PAD_VALID || cfg->pad == NN_PAD_SAME || cfg->pad == NN_PAD_EXPLICIT,
             "nn_conv2d_new: %s: pad %d is none of NN_PAD_VALID, NN_PAD_SAME, NN_PAD_EXPLICIT", nm, (int)cfg->pad);
  NN_REQUIRE(cfg->pad != NN_PAD_EXPLICIT || cfg->padding >= 0, "nn_conv2d_new: %s: padding %d must be 0 or more",
             nm, cfg->padding);
  NN_REQUIRE(cfg->pad != NN_PAD_SAME || stride == 1,
             "nn_conv2d_new: %s: padding 'same' works with stride 1 only (as PyTorch's); with stride %d give the "
             "padding as a number (NN_PAD_EXPLICIT, padding = %d)", nm, stride, dilation * (KH - 1) / 2);

  nn_conv2d *c = nn_xcalloc(1, sizeof *c, "nn_conv2d");
  c->base.ops = &CONV2D_OPS;
  nn_layer_name(&c->base, "nn_conv2d_new", nm, NULL);
  snprintf(c->W_name, sizeof c->W_name, "%s.W", c->base.name);
  snprintf(c->b_name, sizeof c->b_name, "%s.b", c->base.name);
  c->C = cfg->in_channels, c->F = cfg->filters, c->KH = KH, c->KW = KW;
  c->stride = stride, c->dilation = dilation, c->groups = groups, c->pad = cfg->pad;
  c->padding = cfg->pad == NN_PAD_EXPLICIT ? cfg->padding : 0;
  c->keep_floats = NN_CONV2D_KEEP_FLOATS;
  c->has_bias = !cfg->no_bias;
  const int shape[4] = {c->F, c->C / groups, KH, KW};
  c->W = nn_tensor_new(4, shape, NN_CPU), c->dW = nn_tensor_new(4, shape, NN_CPU);
  if (c->has_bias) c->b = nn_tensor_new(1, &c->F, NN_CPU), c->db = nn_tensor_new(1, &c->F, NN_CPU);
  long fan_in = (long)c->C / groups * KH * KW, fan_out = (long)c->F * KH * KW; /* PyTorch's, from W's shape */
  if (cfg->xavier) {
    float a = sqrtf(6.f / (float)(fan_in + fan_out));
    nn_rng_fill_uniform(rng, c->W.data, nn_numel(&c->W), -a, a);
  } else {
    nn_rng_fill_normal(rng, c->W.data, nn_numel(&c->W), 0.f, sqrtf(2.f / (float)fan_in));
  }
  return c;
}
