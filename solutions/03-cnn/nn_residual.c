/* nn_residual.c: the basic block's forward and backward, sublayer by sublayer, on
 * the device of its weights (each sublayer dispatches itself; the block's own sum
 * has a CPU loop and, on the GPU, a copy and nn_add_into). */
#include "nn_residual.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation_layer.h"

/* The block's sublayers in the order params and buffers list them: the main branch, then the
 * projection and the ReLU after the sum where the block has them. */
static int sublayers(const nn_residual *r, nn_layer **out) {
  int n = 0;
  for (int i = 0; i < r->n_main; i++) out[n++] = r->main[i];
  nn_layer *rest[] = {r->proj ? &r->proj->base : NULL, r->proj_bn ? &r->proj_bn->base : NULL, r->relu2};
  for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
    if (rest[i]) out[n++] = rest[i];
  return n;
}

/* The device the block runs on: its weights'. */
static nn_device device_of(const nn_residual *r) { return r->conv1->W.device; }

/* The call's record: each sublayer's output, shaped by its out_shape from x's, from the call's
 * arena, and a fresh call per sublayer, in the block's mode, on the same arena. */
static nn_residual_saved *start_record(const nn_residual *r, nn_call *c, const char *fn, const nn_tensor *x) {
  nn_arena *a = nn_call_arena(c, fn, "the activations between its sublayers");
  NN_REQUIRE(nn_arena_device(a) == device_of(r), "%s: the call's arena is on the %s but %s's weights are on the %s",
             fn, nn_device_name(nn_arena_device(a)), r->base.name, nn_device_name(device_of(r)));
  nn_residual_saved *s = nn_arena_record(a, sizeof *s);
  int shape[4] = {x->shape[0], x->shape[1], x->shape[2], x->shape[3]};
  for (int i = 0; i < r->n_main; i++) { /* (N, C, H, W) -> main[i] -> its (N, C', H', W') */
    r->main[i]->ops->out_shape(r->main[i], shape + 1, 3, shape + 1);
    s->act[i] = nn_arena_tensor(a, 4, shape);
    s->main[i] = (nn_call){.arena = a, .training = c->training};
  }
  if (r->proj) s->p1 = nn_arena_tensor(a, 4, shape), s->p2 = nn_arena_tensor(a, 4, shape); /* the shortcut's */
  if (r->relu2) s->sum = nn_arena_tensor(a, 4, shape); /* else the sum is y itself */
  nn_call *calls[] = {&s->proj, &s->proj_bn, &s->relu2};
  for (int i = 0; i < 3; i++) *calls[i] = (nn_call){.arena = a, .training = c->training};
  return s;
}

/* t must be on the device of the block's weights: the block runs there. */
static void check_device(const char *fn, const nn_residual *r, const char *what, const nn_tensor *t) {
  nn_layer_require_device(fn, &r->base, what, t, device_of(r));
}

static void check_input(const char *fn, const nn_residual *r, const nn_tensor *x) {
  NN_REQUIRE(x, "%s: x is NULL", fn);
  check_device(fn, r, "x", x);
  NN_REQUIRE(x->ndim == 4 && x->shape[1] == r->in_C, "%s: %s: %s(%d -> %d, stride %d) takes (N, %d, H, W) inputs, "
             "got %s", fn, r->base.name, nn_block_kind_name(r->kind), r->in_C, r->out_C, r->stride, r->in_C,
             nn_shape_str(x).s);
}

/* t (y, dy) must be (N, out, Ho, Wo), the shape of the main branch's output for x. */
static void check_like_output(const char *fn, const nn_residual *r, const char *what, const nn_tensor *t,
                              const nn_tensor *out, const nn_tensor *x) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  check_device(fn, r, what, t);
  NN_REQUIRE(nn_same_shape(t, out), "%s: %s: %s is %s but the block gives %s for x %s", fn, r->base.name, what,
             nn_shape_str(t).s, nn_shape_str(out).s, nn_shape_str(x).s);
}

/* sum = branch + shortcut, elementwise, on the block's device (shortcut NULL: sum = branch) */
static void add_shortcut(const nn_residual *r, nn_tensor *sum, const nn_tensor *branch, const nn_tensor *shortcut) {
  switch (device_of(r)) {
  case NN_CPU: {
    const long n = nn_numel(sum);
    for (long i = 0; i < n; i++) sum->data[i] = branch->data[i] + (shortcut ? shortcut->data[i] : 0.f);
    break;
  }
  case NN_GPU: /* sum = branch, then sum += shortcut: the same one addition per element */
    nn_tensor_copy(sum, branch);
    if (shortcut) nn_add_into(sum, shortcut);
    break;
  }
}

/* ---- forward and backward */

void nn_residual_forward(nn_residual *r, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  const char *fn = "nn_residual_forward";
  NN_REQUIRE(r, "%s: the layer is NULL", fn);
  nn_call_begin(c, &r->base, fn, x, y);
  check_input(fn, r, x);
  nn_residual_saved *s = start_record(r, c, fn, x);
  const nn_tensor *branch = &s->act[r->n_main - 1];
  check_like_output(fn, r, "y", y, branch, x);
  c->saved = s;
  /* ANCHOR: residual_forward */
  /* the main branch: each sublayer a call of its own, its output kept in s for backward */
  const nn_tensor *h = x;
  for (int i = 0; i < r->n_main; i++) {
    r->main[i]->ops->forward(r->main[i], &s->main[i], h, &s->act[i]);
    h = &s->act[i];
  }
  /* the shortcut: x, its projection, or none; then the sum, and the ReLU after it */
  const nn_tensor *shortcut = r->identity ? x : NULL;
  if (r->proj) {
    r->proj->base.ops->forward(&r->proj->base, &s->proj, x, &s->p1);
    r->proj_bn->base.ops->forward(&r->proj_bn->base, &s->proj_bn, &s->p1, &s->p2);
    shortcut = &s->p2;
  }
  if (r->relu2) {
    add_shortcut(r, &s->sum, branch, shortcut);
    r->relu2->ops->forward(r->relu2, &s->relu2, &s->sum, y);
  } else {
    add_shortcut(r, y, branch, shortcut); /* the inverted block is linear after its last BN */
  }
  /* ANCHOR_END: residual_forward */
}

void nn_residual_backward(nn_residual *r, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  const char *fn = "nn_residual_backward";
  NN_REQUIRE(r, "%s: the layer is NULL", fn);
  nn_call_require_forward(c, fn, &r->base);
  nn_residual_saved *s = c->saved;
  check_like_output(fn, r, "dy", dy, &s->act[r->n_main - 1], c->x);
  NN_REQUIRE(s->act[0].device == device_of(r), "%s: %s moved to the %s after its forward pass (nn_layer_to); run the "
             "forward again there first", fn, r->base.name, nn_device_name(device_of(r)));
  if (dx) check_device(fn, r, "dx", dx);
  if (dx)
    NN_REQUIRE(nn_same_shape(dx, c->x), "%s: %s: dx is %s but the forward input x was %s", fn, r->base.name,
               nn_shape_str(dx).s, nn_shape_str(c->x).s);
  /* the grads of the internal activations, zeros from the arena: every backward below adds */
  nn_arena *a = nn_call_arena(c, fn, "the gradients of its internal activations");
  nn_tensor dact[NN_BLOCK_MAX_MAIN]; /* dact[i] = dL/d act[i] */
  for (int i = 0; i < r->n_main - 1; i++) dact[i] = nn_arena_zeros(a, 4, s->act[i].shape);
  const nn_tensor *branch = &s->act[r->n_main - 1];
  nn_tensor dsum_relu = r->relu2 ? nn_arena_zeros(a, 4, branch->shape) : (nn_tensor){0};
  nn_tensor dp2 = r->proj ? nn_arena_zeros(a, 4, branch->shape) : (nn_tensor){0}; /* the projection's only */
  const nn_tensor *dsum = dy; /* dL/d(branch + shortcut): dy itself without a ReLU after the sum */
  if (r->relu2) {
    r->relu2->ops->backward(r->relu2, &s->relu2, dy, &dsum_relu);
    dsum = &dsum_relu;
  }
  /* BEGIN SOLUTION */
  /* HINT: the sum passes dsum unchanged to BOTH of its inputs. Main branch: back through main[n_main - 1] .. main[0], each with its own call s->main[i] (an op's backward(layer, call, dy, dx) adds into dx): main[i]'s dy is dsum for the last, else dact[i]; its dx is dact[i - 1], or dx for main[0]. Shortcut: identity: dx += dsum (nn_add_into, when dx); projection: back through proj_bn then proj into dx; none: nothing */
  /* HINT2: loop i from n_main - 1 down to 0: its dy is dsum for the last sublayer and &dact[i] otherwise, its dx is &dact[i - 1], or dx itself for i = 0; call r->main[i]->ops->backward(r->main[i], &s->main[i], its dy, its dx). Then the shortcut: with r->proj, proj_bn's backward from dsum into dp2, then proj's from dp2 into dx; with an identity shortcut and dx not NULL, nn_add_into(dx, dsum) */
  for (int i = r->n_main - 1; i >= 0; i--) {
    const nn_tensor *d_out = i == r->n_main - 1 ? dsum : &dact[i];
    nn_tensor *d_in = i > 0 ? &dact[i - 1] : dx;
    r->main[i]->ops->backward(r->main[i], &s->main[i], d_out, d_in);
  }
  if (r->proj) {
    r->proj_bn->base.ops->backward(&r->proj_bn->base, &s->proj_bn, dsum, &dp2);
    r->proj->base.ops->backward(&r->proj->base, &s->proj, &dp2, dx);
  } else if (r->identity && dx) {
    nn_add_into(dx, dsum);
  }
  /* END SOLUTION */
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
  nn_layer *subs[NN_BLOCK_MAX_MAIN + 3];
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
  NN_REQUIRE(in_ndim == 3 && in[0] == r->in_C, "%s: %s(%d -> %d, stride %d) takes (N, %d, H, W) inputs, got %d "
             "channels (%d axes after N)", l->name, nn_block_kind_name(r->kind), r->in_C, r->out_C, r->stride,
             r->in_C, in_ndim >= 1 ? in[0] : 0, in_ndim);
  int shape[3] = {in[0], in[1], in[2]};
  for (int i = 0; i < r->n_main; i++) r->main[i]->ops->out_shape(r->main[i], shape, 3, shape);
  memcpy(out, shape, sizeof shape);
  return 3;
}

static void free_op(nn_layer *l) {
  nn_residual *r = (nn_residual *)l;
  nn_layer *subs[NN_BLOCK_MAX_MAIN + 3];
  int n = sublayers(r, subs);
  for (int i = 0; i < n; i++) subs[i]->ops->free(subs[i]);
  free(r);
}

static const nn_layer_ops RESIDUAL_OPS = {.kind = "ResidualBlock", .forward = forward_op, .backward = backward_op,
                                          .params = params_op, .out_shape = out_shape_op, .free = free_op,
                                          .buffers = buffers_op};

/* "<block>.<part>" */
typedef struct { char s[64]; } part_name;
static part_name name_of(const nn_residual *r, const char *part) {
  part_name n;
  snprintf(n.s, sizeof n.s, "%s.%s", r->base.name, part);
  return n;
}

/* A 3x3 (pad 1) or 1x1 (pad 0) convolution without bias, in groups (1, or its channels: depthwise). */
static nn_conv2d *conv_part(const nn_residual *r, const char *part, int in, int out, int kernel, int stride,
                            int groups, nn_rng *rng) {
  nn_conv2d_config cfg = {.in_channels = in, .filters = out, .kernel = kernel, .stride = stride,
                          .pad = NN_PAD_EXPLICIT, .padding = kernel / 2, .groups = groups, .no_bias = true};
  return nn_conv2d_new(name_of(r, part).s, &cfg, rng);
}

static nn_layer *relu_part(const nn_residual *r, const char *part) {
  nn_activation_kind kind = r->kind == NN_BLOCK_INVERTED ? NN_ACT_RELU6 : NN_ACT_RELU; /* MobileNetV2's ReLU6 */
  return nn_activation_layer_new(name_of(r, part).s, nn_activation_of(kind));
}

/* Appends the next stage to the main branch: a conv without bias (conv1, conv2, conv3 in
 * turn), its BatchNorm (bn1, bn2, bn3), then a ReLU when relu (relu1, then relu_mid). */
static void add_stage(nn_residual *r, int in, int out, int kernel, int stride, int groups, bool relu, nn_rng *rng) {
  static const char *CONV[3] = {"conv1", "conv2", "conv3"}, *BN[3] = {"bn1", "bn2", "bn3"};
  nn_conv2d **convs[3] = {&r->conv1, &r->conv2, &r->conv3};
  nn_batchnorm **bns[3] = {&r->bn1, &r->bn2, &r->bn3};
  const int k = !r->conv1 ? 0 : !r->conv2 ? 1 : 2;
  nn_conv2d *conv = *convs[k] = conv_part(r, CONV[k], in, out, kernel, stride, groups, rng);
  nn_batchnorm *bn = *bns[k] = nn_batchnorm_new(name_of(r, BN[k]).s, out);
  r->main[r->n_main++] = &conv->base;
  r->main[r->n_main++] = &bn->base;
  if (relu) {
    nn_layer **at = r->relu1 ? &r->relu_mid : &r->relu1;
    *at = relu_part(r, r->relu1 ? "relu_mid" : "relu1");
    r->main[r->n_main++] = *at;
  }
}

/* The main branch of each kind (nn_residual.h); only the 3x3 has the stride. */
static void build_main(nn_residual *r, nn_rng *rng) {
  const int in = r->in_C, out = r->out_C, w = r->width, s = r->stride;
  switch (r->kind) {
  case NN_BLOCK_BASIC:
    add_stage(r, in, out, 3, s, 1, true, rng);
    add_stage(r, out, out, 3, 1, 1, false, rng);
    break;
  case NN_BLOCK_BOTTLENECK:
    add_stage(r, in, w, 1, 1, 1, true, rng);   /* shrink to the width */
    add_stage(r, w, w, 3, s, 1, true, rng);    /* the 3x3, on w channels only */
    add_stage(r, w, out, 1, 1, 1, false, rng); /* grow back */
    break;
  case NN_BLOCK_INVERTED:
    if (w != in) add_stage(r, in, w, 1, 1, 1, true, rng); /* expand (torchvision skips it at t = 1) */
    add_stage(r, w, w, 3, s, w, true, rng);               /* depthwise: groups = channels */
    add_stage(r, w, out, 1, 1, 1, false, rng);            /* project, linear */
    break;
  }
}

nn_residual *nn_residual_new(const char *name, const nn_residual_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_residual_new: a config and an rng are needed");
  const char *nm = name ? name : "block";
  NN_REQUIRE(strlen(nm) <= 23, "nn_residual_new: the name \"%s\" is %zu characters; at most 23, so that "
             "\"%s.proj_bn\" fits a layer name", nm, strlen(nm), nm);
  int stride = cfg->stride ? cfg->stride : 1;
  NN_REQUIRE(cfg->in_channels >= 1 && cfg->out_channels >= 1 && stride >= 1 && cfg->width >= 0,
             "nn_residual_new: %s: in_channels %d, out_channels %d, stride %d: each must be at least 1 (stride 0 "
             "means 1); width %d at least 0 (0: the kind's default)", nm, cfg->in_channels, cfg->out_channels,
             cfg->stride, cfg->width);
  NN_REQUIRE(cfg->kind == NN_BLOCK_BASIC || cfg->kind == NN_BLOCK_BOTTLENECK || cfg->kind == NN_BLOCK_INVERTED,
             "nn_residual_new: %s: kind %d is none of NN_BLOCK_BASIC, NN_BLOCK_BOTTLENECK, NN_BLOCK_INVERTED", nm,
             (int)cfg->kind);
  nn_residual *r = nn_xcalloc(1, sizeof *r, "nn_residual");
  r->base.ops = &RESIDUAL_OPS;
  nn_layer_name(&r->base, "nn_residual_new", nm, NULL);
  r->kind = cfg->kind, r->in_C = cfg->in_channels, r->out_C = cfg->out_channels, r->stride = stride;
  r->width = cfg->width ? cfg->width : nn_block_default_width(cfg->kind, cfg->in_channels, cfg->out_channels);
  build_main(r, rng);
  bool reshaped = r->in_C != r->out_C || stride != 1;
  r->identity = !reshaped;
  if (reshaped && r->kind != NN_BLOCK_INVERTED) { /* x's shape differs from the branch's: project it */
    r->proj = conv_part(r, "proj", r->in_C, r->out_C, 1, stride, 1, rng);
    r->proj_bn = nn_batchnorm_new(name_of(r, "proj_bn").s, r->out_C);
  }
  if (r->kind != NN_BLOCK_INVERTED) r->relu2 = relu_part(r, "relu2");
  return r;
}
