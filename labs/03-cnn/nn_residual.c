/* nn_residual.c: the basic block's forward and backward, sublayer by sublayer, on
 * the device of its weights (each sublayer dispatches itself; the block's own sum
 * has a CPU loop and, on the GPU, a copy and nn_add_into). */
#include "nn_residual.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation_layer.h"

/* The block's sublayers in the order params and buffers list them (NULL: absent). */
static int sublayers(const nn_residual *r, nn_layer **out) {
  nn_layer *all[] = {&r->conv1->base, &r->bn1->base, r->relu1, &r->conv2->base, &r->bn2->base,
                     r->proj ? &r->proj->base : NULL, r->proj_bn ? &r->proj_bn->base : NULL, r->relu2};
  int n = 0;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i]) out[n++] = all[i];
  return n;
}

/* The device the block runs on: its weights'. */
static nn_device device_of(const nn_residual *r) { return r->conv1->W.device; }

/* The call's record: the internal activations, each (N, out, Ho, Wo) from the call's arena,
 * and a fresh call per sublayer, in the block's mode, on the same arena. */
static nn_residual_saved *start_record(const nn_residual *r, nn_call *c, const char *fn, int N, int Ho, int Wo) {
  nn_arena *a = nn_call_arena(c, fn, "the activations between its sublayers");
  NN_REQUIRE(nn_arena_device(a) == device_of(r), "%s: the call's arena is on the %s but %s's weights are on the %s",
             fn, nn_device_name(nn_arena_device(a)), r->base.name, nn_device_name(device_of(r)));
  nn_residual_saved *s = nn_arena_record(a, sizeof *s);
  const int shape[4] = {N, r->out_C, Ho, Wo};
  nn_tensor *acts[] = {&s->a1, &s->b1, &s->r1, &s->a2, &s->b2, &s->sum};
  for (int i = 0; i < 6; i++) *acts[i] = nn_arena_tensor(a, 4, shape);
  if (r->proj) s->p1 = nn_arena_tensor(a, 4, shape), s->p2 = nn_arena_tensor(a, 4, shape); /* the shortcut's */
  nn_call *calls[] = {&s->conv1, &s->bn1, &s->relu1, &s->conv2, &s->bn2, &s->proj, &s->proj_bn, &s->relu2};
  for (int i = 0; i < 8; i++) *calls[i] = (nn_call){.arena = a, .training = c->training};
  return s;
}

/* t must be on the device of the block's weights: the block runs there. */
static void check_device(const char *fn, const nn_residual *r, const char *what, const nn_tensor *t) {
  nn_layer_require_device(fn, &r->base, what, t, device_of(r));
}

static void check_input(const char *fn, const nn_residual *r, const nn_tensor *x) {
  NN_REQUIRE(x, "%s: x is NULL", fn);
  check_device(fn, r, "x", x);
  NN_REQUIRE(x->ndim == 4 && x->shape[1] == r->in_C, "%s: %s: ResidualBlock(%d -> %d, stride %d) takes (N, %d, H, "
             "W) inputs, got %s", fn, r->base.name, r->in_C, r->out_C, r->stride, r->in_C, nn_shape_str(x).s);
}

/* t (y, dy) must be (N, out, Ho, Wo), the shape of the block's sum for x. */
static void check_like_output(const char *fn, const nn_residual *r, const char *what, const nn_tensor *t,
                              const nn_tensor *sum, const nn_tensor *x) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  check_device(fn, r, what, t);
  NN_REQUIRE(nn_same_shape(t, sum), "%s: %s: %s is %s but the block gives %s for x %s", fn, r->base.name, what,
             nn_shape_str(t).s, nn_shape_str(sum).s, nn_shape_str(x).s);
}

/* ---- forward and backward */

void nn_residual_forward(nn_residual *r, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  const char *fn = "nn_residual_forward";
  NN_REQUIRE(r, "%s: the layer is NULL", fn);
  nn_call_begin(c, &r->base, fn, x, y);
  check_input(fn, r, x);
  nn_conv_geom g = nn_conv2d_geom(r->conv1, x->shape[2], x->shape[3]);
  nn_residual_saved *s = start_record(r, c, fn, x->shape[0], g.Ho, g.Wo);
  check_like_output(fn, r, "y", y, &s->sum, x);
  c->saved = s;
  const nn_layer_ops *conv = r->conv1->base.ops, *bn = r->bn1->base.ops;
  /* ANCHOR: residual_forward */
  /* the main branch: each sublayer a call of its own, kept in s for backward */
  conv->forward(&r->conv1->base, &s->conv1, x, &s->a1);
  bn->forward(&r->bn1->base, &s->bn1, &s->a1, &s->b1);
  r->relu1->ops->forward(r->relu1, &s->relu1, &s->b1, &s->r1);
  conv->forward(&r->conv2->base, &s->conv2, &s->r1, &s->a2);
  bn->forward(&r->bn2->base, &s->bn2, &s->a2, &s->b2);
  /* the shortcut, then their sum */
  const nn_tensor *shortcut = x;
  if (r->proj) {
    conv->forward(&r->proj->base, &s->proj, x, &s->p1);
    bn->forward(&r->proj_bn->base, &s->proj_bn, &s->p1, &s->p2);
    shortcut = &s->p2;
  }
  switch (device_of(r)) {
  case NN_CPU: {
    const long n = nn_numel(&s->sum);
    for (long i = 0; i < n; i++) s->sum.data[i] = s->b2.data[i] + shortcut->data[i];
    break;
  }
  case NN_GPU: /* sum = b2, then sum += shortcut: the same one addition per element */
    nn_tensor_copy(&s->sum, &s->b2);
    nn_add_into(&s->sum, shortcut);
    break;
  }
  r->relu2->ops->forward(r->relu2, &s->relu2, &s->sum, y);
  /* ANCHOR_END: residual_forward */
}

void nn_residual_backward(nn_residual *r, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  const char *fn = "nn_residual_backward";
  NN_REQUIRE(r, "%s: the layer is NULL", fn);
  nn_call_require_forward(c, fn, &r->base);
  nn_residual_saved *s = c->saved;
  check_like_output(fn, r, "dy", dy, &s->sum, c->x);
  NN_REQUIRE(s->a1.device == device_of(r), "%s: %s moved to the %s after its forward pass (nn_layer_to); run the "
             "forward again there first", fn, r->base.name, nn_device_name(device_of(r)));
  if (dx) check_device(fn, r, "dx", dx);
  if (dx)
    NN_REQUIRE(nn_same_shape(dx, c->x), "%s: %s: dx is %s but the forward input x was %s", fn, r->base.name,
               nn_shape_str(dx).s, nn_shape_str(c->x).s);
  /* the grads of the internal activations, zeros from the arena: every backward below adds */
  nn_arena *a = nn_call_arena(c, fn, "the gradients of its internal activations");
  const int *shape = s->sum.shape;
  nn_tensor dsum = nn_arena_zeros(a, 4, shape), da2 = nn_arena_zeros(a, 4, shape), dr1 = nn_arena_zeros(a, 4, shape);
  nn_tensor db1 = nn_arena_zeros(a, 4, shape), da1 = nn_arena_zeros(a, 4, shape);
  nn_tensor dp2 = r->proj ? nn_arena_zeros(a, 4, shape) : (nn_tensor){0}; /* the projection's only */
  const nn_layer_ops *conv = r->conv1->base.ops, *bn = r->bn1->base.ops;
  r->relu2->ops->backward(r->relu2, &s->relu2, dy, &dsum); /* dsum = dL/d(b2 + shortcut) */
  /* TODO(lab 03-cnn): write this part of nn_residual_backward. */
  /* HINT: the sum passes dsum unchanged to BOTH of its inputs. Main branch: back through bn2, conv2, relu1, bn1, conv1, each with its own call from s (an op's backward(layer, call, dy, dx) adds into dx), ending in dx; shortcut: dx += dsum (nn_add_into, when dx), or back through proj_bn then proj into dx */
  NN_LAB_STUB("03-cnn", "nn_residual_backward");
}

/* ---- the layer's ops table */

static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_residual_forward((nn_residual *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_residual_backward((nn_residual *)l, c, dy, dx);
}

/* Every sublayer's params (or buffers), in order. */
static int list_all(nn_layer *l, nn_param *out, int max, bool buffers) {
  nn_layer *subs[8];
  int n = sublayers((nn_residual *)l, subs), total = 0;
  for (int i = 0; i < n; i++) {
    nn_param p[NN_MAX_LAYER_PARAMS];
    int k = buffers ? nn_layer_buffers(subs[i], p, NN_MAX_LAYER_PARAMS)
                    : subs[i]->ops->params(subs[i], p, NN_MAX_LAYER_PARAMS);
    NN_REQUIRE(total + k <= max, "nn_residual %s: room for %d, %s has more", buffers ? "buffers" : "params", max,
               l->name);
    for (int j = 0; j < k; j++) out[total++] = p[j];
  }
  return total;
}

static int params_op(nn_layer *l, nn_param *out, int max) { return list_all(l, out, max, false); }
static int buffers_op(nn_layer *l, nn_param *out, int max) { return list_all(l, out, max, true); }

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_residual *r = (const nn_residual *)l;
  NN_REQUIRE(in_ndim == 3 && in[0] == r->in_C, "%s: ResidualBlock(%d -> %d, stride %d) takes (N, %d, H, W) "
             "inputs, got %d channels (%d axes after N)", l->name, r->in_C, r->out_C, r->stride, r->in_C,
             in_ndim >= 1 ? in[0] : 0, in_ndim);
  return r->conv1->base.ops->out_shape(&r->conv1->base, in, in_ndim, out);
}

static void free_op(nn_layer *l) {
  nn_residual *r = (nn_residual *)l;
  nn_layer *subs[8];
  int n = sublayers(r, subs);
  for (int i = 0; i < n; i++) subs[i]->ops->free(subs[i]);
  free(r);
}

static const nn_layer_ops RESIDUAL_OPS = {.kind = "ResidualBlock", .forward = forward_op, .backward = backward_op,
                                          .params = params_op, .out_shape = out_shape_op, .free = free_op,
                                          .buffers = buffers_op};

/* A 3x3 (pad 1) or 1x1 (pad 0) convolution without bias, named "<block>.<part>". */
static nn_conv2d *conv_part(const nn_residual *r, const char *part, int in, int out, int kernel, int stride,
                            nn_rng *rng) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", r->base.name, part);
  nn_conv2d_config cfg = {.in_channels = in, .filters = out, .kernel = kernel, .stride = stride,
                          .pad = NN_PAD_EXPLICIT, .padding = kernel / 2, .no_bias = true};
  return nn_conv2d_new(name, &cfg, rng);
}

static nn_batchnorm *bn_part(const nn_residual *r, const char *part) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", r->base.name, part);
  return nn_batchnorm_new(name, r->out_C);
}

static nn_layer *relu_part(const nn_residual *r, const char *part) {
  char name[64];
  snprintf(name, sizeof name, "%s.%s", r->base.name, part);
  return nn_activation_layer_new(name, nn_activation_of(NN_ACT_RELU));
}

nn_residual *nn_residual_new(const char *name, const nn_residual_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_residual_new: a config and an rng are needed");
  const char *nm = name ? name : "block";
  NN_REQUIRE(strlen(nm) <= 23, "nn_residual_new: the name \"%s\" is %zu characters; at most 23, so that "
             "\"%s.proj_bn\" fits a layer name", nm, strlen(nm), nm);
  int stride = cfg->stride ? cfg->stride : 1;
  NN_REQUIRE(cfg->in_channels >= 1 && cfg->out_channels >= 1 && stride >= 1, "nn_residual_new: %s: in_channels "
             "%d, out_channels %d, stride %d: each must be at least 1 (stride 0 means 1)", nm, cfg->in_channels,
             cfg->out_channels, cfg->stride);
  nn_residual *r = nn_xcalloc(1, sizeof *r, "nn_residual");
  r->base.ops = &RESIDUAL_OPS;
  nn_layer_name(&r->base, "nn_residual_new", nm, NULL);
  r->in_C = cfg->in_channels, r->out_C = cfg->out_channels, r->stride = stride;
  r->conv1 = conv_part(r, "conv1", r->in_C, r->out_C, 3, stride, rng);
  r->bn1 = bn_part(r, "bn1");
  r->relu1 = relu_part(r, "relu1");
  r->conv2 = conv_part(r, "conv2", r->out_C, r->out_C, 3, 1, rng);
  r->bn2 = bn_part(r, "bn2");
  if (r->in_C != r->out_C || stride != 1) { /* x's shape differs from the branch's: project it */
    r->proj = conv_part(r, "proj", r->in_C, r->out_C, 1, stride, rng);
    r->proj_bn = bn_part(r, "proj_bn");
  }
  r->relu2 = relu_part(r, "relu2");
  return r;
}
