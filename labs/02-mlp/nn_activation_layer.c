/* nn_activation_layer.c: nn_activation_forward/backward behind the layer ops table. */
#include "nn_activation_layer.h"

#include <stdio.h>
#include <stdlib.h>

/* an activation acts the same in training and evaluation; its backward needs x and y (the call's) */
static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_activation_layer *a = (nn_activation_layer *)l;
  nn_call_begin(c, l, "nn_activation_layer forward", x, y);
  nn_activation_forward(&a->act, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_activation_layer *a = (nn_activation_layer *)l;
  nn_call_require_forward(c, "nn_activation_layer backward", l);
  if (dx) nn_activation_backward(&a->act, c->x, c->y, dy, dx);
}

static int params_op(nn_layer *l, nn_param *out, int max) {
  (void)l, (void)out, (void)max;
  return 0;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  (void)l;
  for (int i = 0; i < in_ndim; i++) out[i] = in[i];
  return in_ndim;
}

static void free_op(nn_layer *l) { free(l); }

static const nn_layer_ops ACTIVATION_OPS = {.kind = "Activation", .forward = forward_op, .backward = backward_op,
                                            .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_layer *nn_activation_layer_new(const char *name, nn_activation act) {
  NN_REQUIRE((int)act.kind >= 0 && act.kind < NN_ACT_COUNT, "nn_activation_layer_new: kind %d is not an activation",
             (int)act.kind);
  nn_activation_layer *a = nn_xcalloc(1, sizeof *a, "nn_activation_layer");
  a->base.ops = &ACTIVATION_OPS;
  a->act = act;
  nn_layer_name(&a->base, "nn_activation_layer_new", name, nn_activation_name(act.kind));
  return &a->base;
}
