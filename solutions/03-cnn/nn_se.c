/* nn_se.c: squeeze-and-excitation, forward and backward, on the CPU or the GPU (where the
 * block's weights are). The excitation MLP is two nn_dense layers and two nn_activations,
 * which run on either device; this file adds the squeeze (a mean per channel), the scale
 * (a product per channel) and their backwards, each a CPU loop here or a kernel (the
 * squeeze GlobalAvgPool2d's, the rest nn_se.cu's). */
#include "nn_se.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation.h"
#include "nn_cnn_cuda.h"

/* The device the block runs on: its weights'. */
static nn_device device_of(const nn_se *se) { return se->fc1->W.device; }

/* x, y, dy, dx: (N, C, H, W) on the weights' device; what is the tensor's name in messages. */
static void check_image(const char *fn, const nn_se *se, const char *what, const nn_tensor *t) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  NN_REQUIRE(se->fc2->W.device == device_of(se), "%s: %s's fc1 is on the %s but its fc2 on the %s; move the block "
             "as a whole (nn_layer_to)", fn, se->base.name, nn_device_name(device_of(se)),
             nn_device_name(se->fc2->W.device));
  nn_layer_require_device(fn, &se->base, what, t, device_of(se));
  NN_REQUIRE(t->ndim == 4 && t->shape[1] == se->C, "%s: %s: SqueezeExcite(%d, hidden %d) takes (N, %d, H, W), "
             "but %s is %s", fn, se->base.name, se->C, se->hidden, se->C, what, nn_shape_str(t).s);
}

/* A (rows, cols) tensor from the arena, on its device. */
static nn_tensor rows(nn_arena *a, int n, int cols) { return nn_arena_tensor(a, 2, (int[]){n, cols}); }

/* ---- the squeeze and the scale, and their backwards: x, y, dy, dx (planes, plane), planes = N*C,
 * plane = H*W; s, e, de, ds (planes). Each runs on dev, where every pointer is. */

/* s[q] = the mean of plane q, summed in double */
static void squeeze(nn_device dev, const float *x, float *s, long planes, long plane) {
  switch (dev) {
  case NN_CPU:
    for (long q = 0; q < planes; q++) {
      const float *x_q = x + q * plane;
      double sum = 0;
      for (long i = 0; i < plane; i++) sum += x_q[i];
      s[q] = (float)(sum / (double)plane);
    }
    break;
  case NN_GPU: nn_global_avgpool_forward_cuda(x, s, planes, plane); break; /* one block per plane, in double */
  }
}

/* y[q, i] = x[q, i] * e[q] */
static void scale(nn_device dev, const float *x, const float *e, float *y, long planes, long plane) {
  switch (dev) {
  case NN_CPU:
    for (long q = 0; q < planes; q++) {
      const float *x_q = x + q * plane;
      float *y_q = y + q * plane;
      for (long i = 0; i < plane; i++) y_q[i] = x_q[i] * e[q];
    }
    break;
  case NN_GPU: nn_se_scale_forward_cuda(x, e, y, planes, plane); break;
  }
}

/* de[q] = sum over plane q of dy * x (written), summed in double */
static void gate_grad(nn_device dev, const float *dy, const float *x, float *de, long planes, long plane) {
  switch (dev) {
  case NN_CPU:
    for (long q = 0; q < planes; q++) {
      const float *dy_q = dy + q * plane, *x_q = x + q * plane;
      double sum = 0;
      for (long i = 0; i < plane; i++) sum += (double)dy_q[i] * x_q[i];
      de[q] = (float)sum;
    }
    break;
  case NN_GPU: nn_se_gate_grad_cuda(dy, x, de, planes, plane); break; /* one block per plane, in double */
  }
}

/* dx[q, i] += dy[q, i] * e[q] + ds[q] / plane: the scale's backward, then the mean's */
static void scale_backward(nn_device dev, const float *dy, const float *e, const float *ds, float *dx, long planes,
                           long plane) {
  switch (dev) {
  case NN_CPU:
    for (long q = 0; q < planes; q++) {
      const float *dy_q = dy + q * plane;
      float *dx_q = dx + q * plane;
      const float gate = e[q], through_mean = ds[q] / (float)plane;
      for (long i = 0; i < plane; i++) dx_q[i] += dy_q[i] * gate + through_mean;
    }
    break;
  case NN_GPU: nn_se_scale_backward_cuda(dy, e, ds, dx, planes, plane); break;
  }
}

/* ---- entry points */

void nn_se_forward(nn_se *se, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(se, "nn_se_forward: the layer is NULL");
  nn_call_begin(c, &se->base, "nn_se_forward", x, y);
  check_image("nn_se_forward", se, "x", x);
  check_image("nn_se_forward", se, "y", y);
  NN_REQUIRE(nn_same_shape(x, y), "nn_se_forward: x is %s but y is %s; SqueezeExcite keeps the shape",
             nn_shape_str(x).s, nn_shape_str(y).s);
  const nn_device dev = device_of(se);
  const int N = x->shape[0], C = se->C;
  const long HW = (long)x->shape[2] * x->shape[3];
  nn_arena *a = nn_call_arena(c, "nn_se_forward", "the excitation's intermediates");
  NN_REQUIRE(nn_arena_device(a) == dev, "nn_se_forward: the call's arena is on the %s but %s's weights are on the "
             "%s", nn_device_name(nn_arena_device(a)), se->base.name, nn_device_name(dev));
  nn_se_saved *sv = nn_arena_record(a, sizeof *sv);
  sv->s = rows(a, N, C), sv->a1 = rows(a, N, se->hidden), sv->z = rows(a, N, se->hidden);
  sv->a2 = rows(a, N, C), sv->e = rows(a, N, C);
  sv->fc1 = sv->fc2 = (nn_call){.arena = a, .training = c->training};
  c->saved = sv;
  squeeze(dev, x->data, sv->s.data, (long)N * C, HW); /* s[n][c] = the mean of plane (n, c) */
  const nn_activation relu = nn_activation_of(NN_ACT_RELU), sigmoid = nn_activation_of(NN_ACT_SIGMOID);
  nn_dense_forward(se->fc1, &sv->fc1, &sv->s, &sv->a1); /* excite: e = sigmoid(W2 relu(W1 s + b1) + b2) */
  nn_activation_forward(&relu, &sv->a1, &sv->z);
  nn_dense_forward(se->fc2, &sv->fc2, &sv->z, &sv->a2);
  nn_activation_forward(&sigmoid, &sv->a2, &sv->e);
  scale(dev, x->data, sv->e.data, y->data, (long)N * C, HW); /* plane (n, c) times e[n][c] */
}

void nn_se_backward(nn_se *se, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(se, "nn_se_backward: the layer is NULL");
  nn_call_require_forward(c, "nn_se_backward", &se->base);
  const nn_tensor *x = c->x;
  const nn_se_saved *sv = c->saved;
  const nn_device dev = device_of(se);
  NN_REQUIRE(sv->e.device == dev, "nn_se_backward: %s moved to the %s after its forward pass (nn_layer_to); run the "
             "forward again there first", se->base.name, nn_device_name(dev));
  check_image("nn_se_backward", se, "dy", dy);
  NN_REQUIRE(nn_same_shape(dy, x), "nn_se_backward: dy is %s but the forward input x was %s",
             nn_shape_str(dy).s, nn_shape_str(x).s);
  if (dx) {
    check_image("nn_se_backward", se, "dx", dx);
    NN_REQUIRE(nn_same_shape(dx, x), "nn_se_backward: dx is %s but the forward input x was %s",
               nn_shape_str(dx).s, nn_shape_str(x).s);
  }
  const int N = x->shape[0], C = se->C;
  const long HW = (long)x->shape[2] * x->shape[3];
  nn_arena *a = nn_call_arena(c, "nn_se_backward", "the excitation's gradients");
  nn_tensor de = rows(a, N, C);
  gate_grad(dev, dy->data, x->data, de.data, (long)N * C, HW); /* de[n][c] = sum over the plane of dy * x */
  /* the excitation MLP backwards, each step adding into a zeroed gradient */
  const nn_activation relu = nn_activation_of(NN_ACT_RELU), sigmoid = nn_activation_of(NN_ACT_SIGMOID);
  nn_tensor da2 = nn_arena_zeros(a, 2, (int[]){N, C}), dz = nn_arena_zeros(a, 2, (int[]){N, se->hidden});
  nn_tensor da1 = nn_arena_zeros(a, 2, (int[]){N, se->hidden}), ds = nn_arena_zeros(a, 2, (int[]){N, C});
  nn_activation_backward(&sigmoid, &sv->a2, &sv->e, &de, &da2); /* da2 = de * e (1 - e) */
  nn_dense_backward(se->fc2, &sv->fc2, &da2, &dz);              /* dW2, db2; dz = da2 W2 */
  nn_activation_backward(&relu, &sv->a1, &sv->z, &dz, &da1);    /* da1 = dz [a1 > 0] */
  nn_dense_backward(se->fc1, &sv->fc1, &da1, &ds);              /* dW1, db1; ds = da1 W1 */
  if (dx) scale_backward(dev, dy->data, sv->e.data, ds.data, dx->data, (long)N * C, HW); /* dx += dy e + ds / (H W) */
}

/* ---- the layer's ops table */

/* the same in training and evaluation */
static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_se_forward((nn_se *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_se_backward((nn_se *)l, c, dy, dx);
}

/* fc1's (W, b), then fc2's: "se1.fc1.W", "se1.fc1.b", "se1.fc2.W", "se1.fc2.b". */
static int params_op(nn_layer *l, nn_param *out, int max) {
  nn_se *se = (nn_se *)l;
  NN_REQUIRE(max >= 4, "nn_se params: room for %d params, %s has 4", max, se->base.name);
  int n = se->fc1->base.ops->params(&se->fc1->base, out, max);
  return n + se->fc2->base.ops->params(&se->fc2->base, out + n, max - n);
}

/* One example's shape with N in front: "(N, 64, 7, 7)". */
static nn_shape_text batch_shape(const int *in, int ndim) {
  nn_shape_text s;
  size_t n = (size_t)snprintf(s.s, sizeof s.s, "(N");
  for (int i = 0; i < ndim && n < sizeof s.s; i++) n += (size_t)snprintf(s.s + n, sizeof s.s - n, ", %d", in[i]);
  if (n < sizeof s.s) snprintf(s.s + n, sizeof s.s - n, ")");
  return s;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_se *se = (const nn_se *)l;
  NN_REQUIRE(in_ndim == 3 && in[0] == se->C, "%s: SqueezeExcite(%d, hidden %d) takes (N, %d, H, W) inputs, got %s",
             l->name, se->C, se->hidden, se->C, batch_shape(in, in_ndim).s);
  memcpy(out, in, 3 * sizeof *out);
  return 3;
}

static void free_op(nn_layer *l) {
  nn_se *se = (nn_se *)l;
  se->fc1->base.ops->free(&se->fc1->base);
  se->fc2->base.ops->free(&se->fc2->base);
  free(se);
}

static const nn_layer_ops SE_OPS = {.kind = "SqueezeExcite", .forward = forward_op, .backward = backward_op,
                                    .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_se *nn_se_new(const char *name, const nn_se_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_se_new: a config and an rng are needed");
  const char *nm = name ? name : "se";
  int r = cfg->reduction ? cfg->reduction : 16;
  NN_REQUIRE(cfg->channels >= 1 && r >= 1, "nn_se_new: %s: channels %d and reduction %d must be at least 1 "
             "(reduction 0 means 16)", nm, cfg->channels, cfg->reduction);
  NN_REQUIRE(strlen(nm) <= 27, "nn_se_new: the name \"%s\" is %zu characters; at most 27, so that \"%s.fc1\" "
             "fits a layer name", nm, strlen(nm), nm);
  nn_se *se = nn_xcalloc(1, sizeof *se, "nn_se");
  se->base.ops = &SE_OPS;
  nn_layer_name(&se->base, "nn_se_new", nm, NULL);
  se->C = cfg->channels;
  se->hidden = se->C / r >= 1 ? se->C / r : 1;
  char fc_name[40];
  snprintf(fc_name, sizeof fc_name, "%s.fc1", nm);
  se->fc1 = nn_dense_new(fc_name, se->C, se->hidden, NN_INIT_HE, rng);
  snprintf(fc_name, sizeof fc_name, "%s.fc2", nm);
  se->fc2 = nn_dense_new(fc_name, se->hidden, se->C, NN_INIT_XAVIER, rng);
  return se;
}
