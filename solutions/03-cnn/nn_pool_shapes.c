/* nn_pool_shapes.c: pooling's output sizes, in Keras' and PyTorch's conventions. The
 * formulas are in nn_pool_shapes.h beside each function; the code follows them line for
 * line and writes each one out, worked, for `nn exam`. */
#include "nn_pool_shapes.h"

#include <string.h>

static const char *pick(nn_framework fw, const char *keras, const char *pytorch) {
  return fw == NN_KERAS ? keras : pytorch;
}

/* The shape as the framework prints it, for messages (see nn_conv_shapes.c). */
#define shape_str(shape, fw) (nn_shape_format((shape), (fw)).s)

nn_pool_opts nn_pool_opts_default(nn_pool_kind kind, int kernel) {
  return (nn_pool_opts){.kind = kind, .kernel = kernel, .stride = kernel, .pad = NN_PAD_VALID, .dilation = 1};
}

static nn_status pool_len(const char *who, int L, const nn_pool_opts *o, nn_framework fw, nn_len *out,
                          nn_error *err) {
  int k = o->kernel, s = o->stride == 0 ? o->kernel : o->stride, d = o->dilation;
  if (o->stride < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: stride %d must be at least 1 (or 0 for the default, = kernel)", who,
                   o->stride);
  nn_status st = nn_len_check_window(who, L, k, s, d, err);
  if (st != NN_OK) return st;
  if (fw == NN_KERAS) {
    if (o->ceil_mode)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: ceil_mode is PyTorch's; in Keras use padding='same', which gives ceil(L / s)", who);
    if (o->pad == NN_PAD_EXPLICIT)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: Keras pooling takes padding 'valid' or 'same', not a number; add ZeroPadding first", who);
    if (d != 1) return nn_fail(err, NN_ERR_ARG, "%s: Keras pooling has no dilation; drop it", who);
    if (o->pad == NN_PAD_SAME) {
      out->len = (int)(((long)L + s - 1) / s);
      nn_formula(out->formula, "same: ceil(%d / %d) = %d", L, s, out->len);
      return NN_OK;
    }
    if (k > L)
      return nn_fail(err, NN_ERR_ARG, "%s: pool size %d is larger than the input %d; use padding='same' or a smaller pool",
                     who, k, L);
    out->len = (L - k) / s + 1;
    nn_formula(out->formula, "floor((%d - %d) / %d) + 1 = %d", L, k, s, out->len);
    return NN_OK;
  }
  if (o->pad == NN_PAD_SAME)
    return nn_fail(err, NN_ERR_ARG, "%s: PyTorch pooling has no padding='same'; give padding=%d (at most kernel/2)",
                   who, k / 2);
  if (d != 1 && o->kind == NN_POOL_AVG)
    return nn_fail(err, NN_ERR_ARG, "%s: AvgPool has no dilation in PyTorch (MaxPool has); drop it", who);
  int p = o->pad == NN_PAD_EXPLICIT ? o->padding : 0;
  if (p < 0) return nn_fail(err, NN_ERR_ARG, "%s: padding %d must be 0 or more", who, p);
  if (p > k / 2)
    return nn_fail(err, NN_ERR_ARG, "%s: padding %d must be at most half the kernel (%d/2 = %d), PyTorch's rule", who,
                   p, k, k / 2);
  long num = (long)L + 2L * p - (long)d * (k - 1) - 1;
  if (num < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: kernel %d is larger than the padded input %ld (%d + 2*%d); use a smaller kernel",
                   who, k, (long)L + 2L * p, L, p);
  char lead[96];
  if (d == 1) snprintf(lead, sizeof lead, "(%d + 2*%d - %d) / %d", L, p, k, s);
  else snprintf(lead, sizeof lead, "(%d + 2*%d - %d*(%d-1) - 1) / %d", L, p, d, k, s);
  if (!o->ceil_mode) {
    if ((st = nn_len_fit(who, num / s + 1, out, err)) != NN_OK) return st;
    if (d == 1) nn_formula(out->formula, "floor((%d + 2*%d - %d) / %d) + 1 = %d", L, p, k, s, out->len);
    else nn_formula(out->formula, "floor(%s) + 1 = %d", lead, out->len);
    return NN_OK;
  }
  long len = (num + s - 1) / s + 1;
  if (d == 1) snprintf(lead, sizeof lead, "ceil((%d + 2*%d - %d) / %d) + 1", L, p, k, s);
  else snprintf(lead, sizeof lead, "ceil((%d + 2*%d - %d*(%d-1) - 1) / %d) + 1", L, p, d, k, s);
  if ((len - 1) * s >= (long)L + p) { /* the last window would start in the right padding: PyTorch drops it */
    nn_formula(out->formula, "%s = %ld, minus 1 as the last window would start in the padding ((%ld-1)*%d >= %d + %d) = %ld",
               lead, len, len, s, L, p, len - 1);
    len--;
  } else {
    nn_formula(out->formula, "%s = %ld", lead, len);
  }
  if ((st = nn_len_fit(who, len, out, err)) != NN_OK) return st;
  return NN_OK;
}

nn_status nn_pool_out_len(int L, const nn_pool_opts *o, nn_framework fw, nn_len *out, nn_error *err) {
  memset(out, 0, sizeof *out);
  return pool_len(pick(fw, o->kind == NN_POOL_MAX ? "MaxPooling" : "AveragePooling",
                       o->kind == NN_POOL_MAX ? "MaxPool" : "AvgPool"),
                  L, o, fw, out, err);
}

static nn_status pool_common(int n_spatial, const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c,
                             nn_error *err) {
  static const char *names[2][2][2] = {
      {{"MaxPooling1D", "AveragePooling1D"}, {"MaxPooling2D", "AveragePooling2D"}},
      {{"MaxPool1d", "AvgPool1d"}, {"MaxPool2d", "AvgPool2d"}}};
  const char *who = names[fw == NN_PYTORCH][n_spatial == 2][o->kind == NN_POOL_AVG];
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim != n_spatial + 1)
    return nn_fail(err, NN_ERR_ARG, "%s needs %s input; got %s", who,
                   n_spatial == 2 ? "an image (C, H, W)" : "a signal (C, L)", shape_str(in, fw));
  nn_len lh, lw = {0};
  if ((st = pool_len(who, in->dim[1], o, fw, &lh, err)) != NN_OK) return st;
  if (n_spatial == 2 && (st = pool_len(who, in->dim[2], o, fw, &lw, err)) != NN_OK) return st;
  c->out = n_spatial == 2 ? nn_shape_image(in->dim[0], lh.len, lw.len) : nn_shape_signal(in->dim[0], lh.len);
  nn_len_formula(c->shape_formula, &lh, n_spatial == 2 ? &lw : NULL);
  nn_formula(c->formula, "pooling has no parameters = 0");
  return NN_OK;
}

nn_status nn_calc_pool2d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  return pool_common(2, in, o, fw, c, err);
}

nn_status nn_calc_pool1d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  return pool_common(1, in, o, fw, c, err);
}

nn_status nn_calc_global_pool(const nn_shape *in, nn_pool_kind kind, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = kind == NN_POOL_MAX ? pick(fw, "GlobalMaxPooling", "AdaptiveMaxPool(1)")
                                        : pick(fw, "GlobalAveragePooling", "AdaptiveAvgPool(1)");
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim < 2)
    return nn_fail(err, NN_ERR_ARG, "%s needs an image (C, H, W) or a signal (C, L); got %s", who, shape_str(in, fw));
  int C = in->dim[0];
  if (fw == NN_KERAS) {
    c->out = nn_shape_vector(C);
    nn_formula(c->shape_formula, "one number per channel: %s -> (None, %d)", shape_str(in, fw), C);
  } else {
    c->out = in->ndim == 3 ? nn_shape_image(C, 1, 1) : nn_shape_signal(C, 1);
    nn_formula(c->shape_formula, "one number per channel, axes kept: %s -> %s (flatten for (N, %d))", shape_str(in, fw),
               shape_str(&c->out, fw), C);
  }
  nn_formula(c->formula, "global pooling has no parameters = 0");
  return NN_OK;
}
