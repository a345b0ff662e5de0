/* nn_dense_shapes.c: the MLP layers' shapes and counts (nn_dense_shapes.h), each
 * formula written out, worked, for `nn exam`. */
#include "nn_dense_shapes.h"

#include <limits.h>

nn_status nn_calc_dense(const nn_shape *in, int units, bool bias, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = fw == NN_KERAS ? "Dense" : "Linear";
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if (units < 1) return nn_fail(err, NN_ERR_ARG, "%s: units %d must be at least 1", who, units);
  /* Both act on the LAST axis as the framework lays it out: Keras' last axis of
   * (H, W, C) is C; PyTorch's last axis of (C, H, W) is W. */
  int axis = (fw == NN_KERAS && in->channels_first) ? 0 : in->ndim - 1;
  int d = in->dim[axis];
  c->out = *in;
  c->out.dim[axis] = units;
  c->params = c->trainable = (long)d * units + (bias ? units : 0);
  if (bias) nn_formula(c->formula, "%d*%d + %d = %ld", d, units, units, c->params);
  else nn_formula(c->formula, "%d*%d = %ld", d, units, c->params);
  if (in->ndim > 1)
    nn_formula(c->shape_formula, "acts on the last axis (%d) of %s, the same weights at every position", d,
               nn_shape_format(in, fw).s);
  return NN_OK;
}

nn_status nn_calc_flatten(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  *c = (nn_calc){0};
  nn_status st = nn_shape_check("Flatten", in, fw, err);
  if (st != NN_OK) return st;
  if (nn_shape_numel(in) > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "Flatten: %s has more values than an int holds (%d at most); use smaller sizes",
                   nn_shape_format(in, fw).s, INT_MAX);
  c->out = nn_shape_vector((int)nn_shape_numel(in));
  if (in->ndim == 3)
    nn_formula(c->shape_formula, "%d*%d*%d = %d", in->dim[0], in->dim[1], in->dim[2], c->out.dim[0]);
  else if (in->ndim == 2)
    nn_formula(c->shape_formula, "%d*%d = %d", in->dim[0], in->dim[1], c->out.dim[0]);
  nn_formula(c->formula, "Flatten has no parameters = 0");
  return NN_OK;
}

nn_status nn_calc_elementwise(const char *who, const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  c->out = *in;
  nn_formula(c->formula, "%s has no parameters = 0", who);
  return NN_OK;
}
