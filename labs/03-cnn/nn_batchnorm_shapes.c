/* nn_batchnorm_shapes.c: BatchNorm's count in each framework (nn_batchnorm_shapes.h). */
#include "nn_batchnorm_shapes.h"

nn_status nn_calc_batchnorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = fw == NN_KERAS ? "BatchNormalization" : in->ndim == 3 ? "BatchNorm2d" : "BatchNorm1d";
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  long F = in->dim[nn_shape_feature_axis(in)];
  c->out = *in;
  if (fw == NN_KERAS) {
    c->params = 4 * F, c->trainable = 2 * F, c->non_trainable = 2 * F;
    nn_formula(c->formula,
               "4 * %ld = %ld (gamma, beta trainable: %ld; moving_mean, moving_variance non-trainable: %ld)", F,
               c->params, 2 * F, 2 * F);
  } else {
    c->params = c->trainable = 2 * F, c->buffers = 2 * F + 1;
    nn_formula(c->formula,
               "2 * %ld = %ld (weight, bias); buffers 2 * %ld + 1 = %ld (running_mean, running_var, "
               "num_batches_tracked)",
               F, c->params, F, c->buffers);
  }
  return NN_OK;
}
