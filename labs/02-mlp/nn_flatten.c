/* nn_flatten.c: a copy forward, an add backward, on whichever device x is. */
#include "nn_flatten.h"

#include <stdio.h>
#include <stdlib.h>

static void check(const char *fn, const nn_tensor *a, const nn_tensor *b) {
  NN_REQUIRE(nn_numel(a) == nn_numel(b) && a->shape[0] == b->shape[0] && b->ndim == 2,
             "%s: %s and %s must hold the same N rows, the second as (N, features)", fn, nn_shape_str(a).s,
             nn_shape_str(b).s);
  NN_REQUIRE(a->device == b->device, "%s: %s is on the %s but %s on the %s; Flatten keeps one device", fn,
             nn_shape_str(a).s, nn_device_name(a->device), nn_shape_str(b).s,
             nn_device_name(b->device));
}

static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  (void)l;
  nn_call_begin(c, l, "nn_flatten forward", x, y);
  check("nn_flatten forward", x, y);
  nn_tensor_copy(y, x); /* memcpy, or a device-to-device copy */
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_call_require_forward(c, "nn_flatten backward", l);
  if (!dx) return;
  check("nn_flatten backward", dx, dy);
  nn_add_into(dx, dy);
}

static int params_op(nn_layer *l, nn_param *out, int max) {
  (void)l, (void)out, (void)max;
  return 0;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  (void)l;
  out[0] = 1;
  for (int i = 0; i < in_ndim; i++) out[0] *= in[i];
  return 1;
}

static void free_op(nn_layer *l) { free(l); }

static const nn_layer_ops FLATTEN_OPS = {.kind = "Flatten", .forward = forward_op, .backward = backward_op,
                                         .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_layer *nn_flatten_new(const char *name) {
  nn_layer *l = nn_xcalloc(1, sizeof *l, "nn_flatten");
  l->ops = &FLATTEN_OPS;
  nn_layer_name(l, "nn_flatten_new", name, "flatten");
  return l;
}
