/* nn_shapes.c: output shapes and parameter counts in Keras' and PyTorch's conventions.
 * The formulas are in nn_shapes.h beside each function; the code follows them
 * line for line and writes each one out, worked, for `nn exam`. */
#include "nn_shapes.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_file.h"

/* ---- small helpers */

static void say(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *dst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, NN_FORMULA_MAX, fmt, ap);
  va_end(ap);
}

/* 34826 -> "34,826" */
static const char *commas(long v, char *buf, size_t n) {
  char digits[32];
  snprintf(digits, sizeof digits, "%ld", v < 0 ? -v : v);
  size_t len = strlen(digits), o = 0;
  if (v < 0 && o + 1 < n) buf[o++] = '-';
  for (size_t i = 0; i < len && o + 1 < n; i++) {
    if (i > 0 && (len - i) % 3 == 0 && o + 1 < n) buf[o++] = ',';
    if (o + 1 < n) buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

static const char *pick(nn_framework fw, const char *keras, const char *pytorch) {
  return fw == NN_KERAS ? keras : pytorch;
}

static void calc_clear(nn_calc *c) { memset(c, 0, sizeof *c); }

/* A layer without parameters: shape only. */
static void no_params(nn_calc *c, const char *what) { say(c->formula, "%s has no parameters = 0", what); }

/* The shape as the framework prints it, for messages: the returned struct lives
 * until the end of the full expression (C11 6.2.4), long enough for a printf. */
#define shape_str(shape, fw) (nn_shape_format((shape), (fw)).s)

/* ---- frameworks */

const char *nn_framework_name(nn_framework fw) { return fw == NN_KERAS ? "keras" : "pytorch"; }

nn_status nn_framework_parse(const char *name, nn_framework *fw, nn_error *err) {
  if (name && (!strcasecmp(name, "keras") || !strcasecmp(name, "tf") || !strcasecmp(name, "tensorflow"))) {
    *fw = NN_KERAS;
    return NN_OK;
  }
  if (name && (!strcasecmp(name, "pytorch") || !strcasecmp(name, "torch"))) {
    *fw = NN_PYTORCH;
    return NN_OK;
  }
  return nn_fail(err, NN_ERR_ARG, "unknown framework '%s'; use keras or pytorch", name ? name : "");
}

/* ---- shapes */

nn_shape nn_shape_vector(int d) { return (nn_shape){.dim = {d}, .ndim = 1}; }
nn_shape nn_shape_seq(int t, int d) { return (nn_shape){.dim = {t, d}, .ndim = 2}; }
nn_shape nn_shape_signal(int c, int l) { return (nn_shape){.dim = {c, l}, .ndim = 2, .channels_first = true}; }
nn_shape nn_shape_image(int c, int h, int w) {
  return (nn_shape){.dim = {c, h, w}, .ndim = 3, .channels_first = true};
}
nn_shape nn_shape_tokens(int t) { return (nn_shape){.dim = {t}, .ndim = 1}; }

long nn_shape_numel(const nn_shape *s) {
  long n = 1;
  for (int i = 0; i < s->ndim; i++) n *= s->dim[i];
  return n;
}

nn_shape_fmt nn_shape_format(const nn_shape *s, nn_framework fw) {
  nn_shape_fmt f;
  int order[NN_SHAPE_MAX], n = s->ndim < 0 ? 0 : s->ndim > NN_SHAPE_MAX ? NN_SHAPE_MAX : s->ndim;
  for (int i = 0; i < n; i++) order[i] = i;
  if (fw == NN_KERAS && s->channels_first && n > 1) { /* (C, H, W) -> (H, W, C) */
    for (int i = 0; i < n - 1; i++) order[i] = i + 1;
    order[n - 1] = 0;
  }
  size_t o = (size_t)snprintf(f.s, sizeof f.s, "(%s", fw == NN_KERAS ? "None" : "N");
  for (int i = 0; i < n && o < sizeof f.s; i++)
    o += (size_t)snprintf(f.s + o, sizeof f.s - o, ", %d", s->dim[order[i]]);
  if (o < sizeof f.s) snprintf(f.s + o, sizeof f.s - o, ")");
  return f;
}

/* The feature axis: channels of an image or signal, else the last axis. */
static int feature_axis(const nn_shape *s) { return s->channels_first ? 0 : s->ndim - 1; }

static nn_status check_shape(const char *who, const nn_shape *in, nn_framework fw, nn_error *err) {
  if (in->ndim < 1 || in->ndim > NN_SHAPE_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: the input has %d axes; give 1 to %d (without the batch axis)", who,
                   in->ndim, NN_SHAPE_MAX);
  for (int i = 0; i < in->ndim; i++)
    if (in->dim[i] < 1)
      return nn_fail(err, NN_ERR_ARG, "%s: input %s has a size %d; every size must be at least 1", who,
                     shape_str(in, fw), in->dim[i]);
  return NN_OK;
}

/* ---- convolution */

const char *nn_pad_mode_name(nn_pad_mode mode) {
  switch (mode) {
  case NN_PAD_VALID: return "valid";
  case NN_PAD_SAME: return "same";
  case NN_PAD_EXPLICIT: return "explicit";
  }
  return "?";
}

nn_conv_opts nn_conv_opts_default(int filters, int kernel) {
  return (nn_conv_opts){.filters = filters, .kernel = kernel, .stride = 1, .pad = NN_PAD_VALID, .dilation = 1,
                        .groups = 1};
}

/* Checks shared by conv, transposed conv and pooling. */
static nn_status check_window(const char *who, int L, int k, int s, int d, nn_error *err) {
  if (L < 1) return nn_fail(err, NN_ERR_ARG, "%s: input size %d must be at least 1", who, L);
  if (k < 1) return nn_fail(err, NN_ERR_ARG, "%s: kernel %d must be at least 1", who, k);
  if (s < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: stride %d must be at least 1 (1 moves the window one step at a time)",
                   who, s);
  if (d < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: dilation %d must be at least 1 (1 is an ordinary kernel)", who, d);
  return NN_OK;
}

/* Counts are computed in long (64 bits). `approx` is the same count in double: past
 * 1e18 the long arithmetic could overflow, so the sizes are refused first. */
static nn_status too_many(const char *who, double approx, nn_error *err) {
  if (approx <= 1e18) return NN_OK;
  return nn_fail(err, NN_ERR_ARG, "%s: about %.3g parameters, more than a 64-bit count holds; use smaller sizes", who,
                 approx);
}

/* A size computed in long, where int could overflow, must still fit an int. */
static nn_status fit_len(const char *who, long v, nn_len *out, nn_error *err) {
  if (v > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: the output size %ld does not fit an int; use smaller sizes", who, v);
  out->len = (int)v;
  return NN_OK;
}

static nn_status conv_len(const char *who, int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                          nn_error *err) {
  int k = o->kernel, s = o->stride, d = o->dilation;
  nn_status st = check_window(who, L, k, s, d, err);
  if (st != NN_OK) return st;
  long ke = (long)d * (k - 1) + 1; /* the span of the dilated kernel */
  if (o->pad == NN_PAD_SAME) {
    if (fw == NN_KERAS) {
      out->len = (int)(((long)L + s - 1) / s);
      say(out->formula, "same: ceil(%d / %d) = %d", L, s, out->len);
      return NN_OK;
    }
    if (s != 1)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: PyTorch's padding='same' works only with stride 1 (got stride %d); give the padding "
                     "as a number (padding=%ld) or use Keras' 'same', which gives ceil(L / s)",
                     who, s, (ke - 1) / 2);
    out->len = L;
    say(out->formula, "same, stride 1: out = L = %d (zeros %ld left, %ld right)", L, (ke - 1) / 2,
        ke - 1 - (ke - 1) / 2);
    return NN_OK;
  }
  int p = o->pad == NN_PAD_EXPLICIT ? o->padding : 0;
  if (p < 0) return nn_fail(err, NN_ERR_ARG, "%s: padding %d must be 0 or more", who, p);
  long padded = (long)L + 2L * p;
  if (ke > padded) {
    if (d == 1)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: kernel %d is larger than the padded input %ld (%d + 2*%d); use padding or a smaller kernel",
                     who, k, padded, L, p);
    return nn_fail(err, NN_ERR_ARG,
                   "%s: kernel %d with dilation %d spans %ld, larger than the padded input %ld (%d + 2*%d); use "
                   "padding, a smaller kernel or a smaller dilation",
                   who, k, d, ke, padded, L, p);
  }
  if ((st = fit_len(who, (padded - ke) / s + 1, out, err)) != NN_OK) return st;
  if (d == 1)
    say(out->formula, "floor((%d + 2*%d - %d) / %d) + 1 = %d", L, p, k, s, out->len);
  else
    say(out->formula, "floor((%d + 2*%d - %d*(%d-1) - 1) / %d) + 1 = %d", L, p, d, k, s, out->len);
  return NN_OK;
}

nn_status nn_conv_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err) {
  memset(out, 0, sizeof *out);
  return conv_len(pick(fw, "Conv", "conv"), L, o, fw, out, err);
}

static nn_status convt_len(const char *who, int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                           nn_error *err) {
  int k = o->kernel, s = o->stride, d = o->dilation, op = o->output_padding;
  nn_status st = check_window(who, L, k, s, d, err);
  if (st != NN_OK) return st;
  long ke = (long)d * (k - 1) + 1;
  if (fw == NN_PYTORCH) {
    if (o->pad == NN_PAD_SAME)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: PyTorch's ConvTranspose has no padding='same'; give padding as a number (with an odd "
                     "kernel, padding=(k-1)/2 = %d and output_padding=stride-1 = %d give L*stride)",
                     who, (k - 1) / 2, s - 1);
    int p = o->pad == NN_PAD_EXPLICIT ? o->padding : 0;
    if (p < 0) return nn_fail(err, NN_ERR_ARG, "%s: padding %d must be 0 or more", who, p);
    int lim = s > d ? s : d;
    if (op < 0 || op >= lim)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: output_padding %d must be at least 0 and smaller than stride %d or dilation %d "
                     "(PyTorch's rule); it only picks among the sizes a stride-%d conv maps to one size",
                     who, op, s, d, s);
    long full = (long)(L - 1) * s + (ke - 1) + op + 1, v = full - 2L * p;
    if (v < 1)
      return nn_fail(err, NN_ERR_ARG, "%s: padding %d crops the output to %ld; use padding at most %ld", who, p, v,
                     (full - 1) / 2);
    if ((st = fit_len(who, v, out, err)) != NN_OK) return st;
    say(out->formula, "(%d-1)*%d - 2*%d + %d*(%d-1) + %d + 1 = %d", L, s, p, d, k, op, out->len);
    return NN_OK;
  }
  if (o->pad == NN_PAD_EXPLICIT)
    return nn_fail(err, NN_ERR_ARG,
                   "%s: Keras' Conv2DTranspose takes padding 'valid' or 'same', not a number; crop afterwards "
                   "(Cropping2D) or compute with framework pytorch",
                   who);
  if (op < 0 || (op > 0 && op >= s))
    return nn_fail(err, NN_ERR_ARG, "%s: output_padding %d must be at least 0 and smaller than the stride %d", who,
                   op, s);
  if (op == 0) { /* Keras' output_padding=None */
    if (o->pad == NN_PAD_SAME) {
      if ((st = fit_len(who, (long)L * s, out, err)) != NN_OK) return st;
      say(out->formula, "same: %d * %d = %d", L, s, out->len);
    } else {
      long extra = ke - s > 0 ? ke - s : 0;
      if ((st = fit_len(who, (long)L * s + extra, out, err)) != NN_OK) return st;
      say(out->formula, "valid: %d*%d + max(%ld - %d, 0) = %d", L, s, ke, s, out->len);
    }
    return NN_OK;
  }
  long pad = o->pad == NN_PAD_SAME ? ke / 2 : 0, v = (long)(L - 1) * s + ke - 2 * pad + op;
  if (v < 1) return nn_fail(err, NN_ERR_ARG, "%s: the output would have size %ld", who, v);
  if ((st = fit_len(who, v, out, err)) != NN_OK) return st;
  say(out->formula, "(%d-1)*%d + %ld - 2*%ld + %d = %d", L, s, ke, pad, op, out->len);
  return NN_OK;
}

nn_status nn_conv_transpose_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err) {
  memset(out, 0, sizeof *out);
  return convt_len(pick(fw, "Conv2DTranspose", "ConvTranspose2d"), L, o, fw, out, err);
}

/* Writes "H: ...; W: ..." or one line when both axes agree. */
static void spatial_formula(char *dst, const nn_len *h, const nn_len *w, bool two_d) {
  if (!two_d)
    say(dst, "L: %s", h->formula);
  else if (!strcmp(h->formula, w->formula))
    say(dst, "H = W: %s", h->formula);
  else
    say(dst, "H: %s; W: %s", h->formula, w->formula);
}

static nn_status conv_common(const char *who, int n_spatial, const nn_shape *in, const nn_conv_opts *o,
                             nn_framework fw, bool transpose, nn_calc *c, nn_error *err) {
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim != n_spatial + 1)
    return nn_fail(err, NN_ERR_ARG, "%s needs %s input; got %s: %s", who,
                   n_spatial == 2 ? "an image (C, H, W)" : "a signal (C, L)", shape_str(in, fw),
                   in->ndim == 1 ? "reshape it first, or use a Dense layer" : "use the layer of matching rank");
  int cin = in->dim[0], cout = o->filters, g = o->groups, k = o->kernel;
  if (cout < 1) return nn_fail(err, NN_ERR_ARG, "%s: filters %d must be at least 1", who, cout);
  if (g < 1) return nn_fail(err, NN_ERR_ARG, "%s: groups %d must be at least 1 (1 is an ordinary convolution)", who, g);
  if (cin % g || cout % g)
    return nn_fail(err, NN_ERR_ARG,
                   "%s: groups %d must divide both the input channels %d and the filters %d; each group maps "
                   "%d/g channels to %d/g",
                   who, g, cin, cout, cin, cout);
  nn_len lh, lw = {0};
  st = transpose ? convt_len(who, in->dim[1], o, fw, &lh, err) : conv_len(who, in->dim[1], o, fw, &lh, err);
  if (st != NN_OK) return st;
  if (n_spatial == 2) {
    st = transpose ? convt_len(who, in->dim[2], o, fw, &lw, err) : conv_len(who, in->dim[2], o, fw, &lw, err);
    if (st != NN_OK) return st;
  }
  c->out = n_spatial == 2 ? nn_shape_image(cout, lh.len, lw.len) : nn_shape_signal(cout, lh.len);
  spatial_formula(c->shape_formula, &lh, &lw, n_spatial == 2);
  if ((st = too_many(who, (double)k * k * cin * cout + cout, err)) != NN_OK) return st;

  long kk = n_spatial == 2 ? (long)k * k : k, b = o->no_bias ? 0 : cout;
  char ks[32];
  if (n_spatial == 2) snprintf(ks, sizeof ks, "%d*%d", k, k);
  else snprintf(ks, sizeof ks, "%d", k);
  if (transpose) { /* weight (C_in, C_out/g, k, k): each input channel feeds C_out/g outputs */
    c->params = kk * cin * (cout / g) + b;
    char cout_s[32];
    if (g == 1) snprintf(cout_s, sizeof cout_s, "%d", cout);
    else snprintf(cout_s, sizeof cout_s, "(%d/%d)", cout, g);
    if (o->no_bias) say(c->formula, "%s*%d*%s = %ld", ks, cin, cout_s, c->params);
    else say(c->formula, "%s*%d*%s + %d = %ld", ks, cin, cout_s, cout, c->params);
  } else {
    c->params = (kk * (cin / g) + (o->no_bias ? 0 : 1)) * cout;
    char cin_s[32];
    if (g == 1) snprintf(cin_s, sizeof cin_s, "%d", cin);
    else snprintf(cin_s, sizeof cin_s, "(%d/%d)", cin, g);
    if (o->no_bias) say(c->formula, "%s*%s * %d = %ld", ks, cin_s, cout, c->params);
    else say(c->formula, "(%s*%s + 1) * %d = %ld", ks, cin_s, cout, c->params);
  }
  c->trainable = c->params;
  return NN_OK;
}

nn_status nn_calc_conv1d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  return conv_common(pick(fw, "Conv1D", "Conv1d"), 1, in, o, fw, false, c, err);
}

nn_status nn_calc_conv2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  return conv_common(pick(fw, "Conv2D", "Conv2d"), 2, in, o, fw, false, c, err);
}

nn_status nn_calc_conv_transpose2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c,
                                   nn_error *err) {
  return conv_common(pick(fw, "Conv2DTranspose", "ConvTranspose2d"), 2, in, o, fw, true, c, err);
}

/* Depthwise = grouped conv with groups = C and filters = C*m. */
nn_status nn_calc_depthwise_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o, nn_framework fw,
                                   nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "DepthwiseConv2D", "Conv2d(groups=C)");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (multiplier < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: depth_multiplier %d must be at least 1", who, multiplier);
  if (!in->channels_first || in->ndim != 3)
    return nn_fail(err, NN_ERR_ARG, "%s needs an image (C, H, W); got %s", who, shape_str(in, fw));
  if ((long)in->dim[0] * multiplier > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: %d channels x depth_multiplier %d is too many", who, in->dim[0], multiplier);
  nn_conv_opts g = *o;
  g.groups = in->dim[0];
  g.filters = in->dim[0] * multiplier;
  st = conv_common(who, 2, in, &g, fw, false, c, err);
  if (st != NN_OK) return st;
  int C = in->dim[0], k = o->kernel;
  if (o->no_bias)
    say(c->formula, "%d*%d * (%d*%d) = %ld", k, k, C, multiplier, c->params);
  else
    say(c->formula, "(%d*%d + 1) * (%d*%d) = %ld", k, k, C, multiplier, c->params);
  return NN_OK;
}

nn_status nn_calc_separable_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o, nn_framework fw,
                                   nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "SeparableConv2D", "Conv2d(groups=C)+Conv2d(1x1)");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (multiplier < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: depth_multiplier %d must be at least 1", who, multiplier);
  if (!in->channels_first || in->ndim != 3)
    return nn_fail(err, NN_ERR_ARG, "%s needs an image (C, H, W); got %s", who, shape_str(in, fw));
  if (o->filters < 1) return nn_fail(err, NN_ERR_ARG, "%s: filters %d must be at least 1", who, o->filters);
  if ((long)in->dim[0] * multiplier > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: %d channels x depth_multiplier %d is too many", who, in->dim[0], multiplier);
  nn_conv_opts dw = *o;
  dw.groups = in->dim[0];
  dw.filters = in->dim[0] * multiplier;
  dw.no_bias = true;
  nn_calc d;
  st = conv_common(who, 2, in, &dw, fw, false, &d, err);
  if (st != NN_OK) return st;
  int C = in->dim[0], k = o->kernel, F = o->filters;
  if ((st = too_many(who, (double)C * multiplier * (k * (double)k + F + 1), err)) != NN_OK) return st;
  long depth = d.params, point = ((long)C * multiplier + (o->no_bias ? 0 : 1)) * F;
  *c = d;
  c->out = nn_shape_image(F, d.out.dim[1], d.out.dim[2]);
  c->params = c->trainable = depth + point;
  if (o->no_bias)
    say(c->formula, "%d*%d*%d*%d + %d*%d*%d = %ld + %ld = %ld", k, k, C, multiplier, C, multiplier, F, depth, point,
        c->params);
  else
    say(c->formula, "%d*%d*%d*%d + (%d*%d + 1)*%d = %ld + %ld = %ld", k, k, C, multiplier, C, multiplier, F, depth,
        point, c->params);
  return NN_OK;
}

/* ---- dense */

nn_status nn_calc_dense(const nn_shape *in, int units, bool bias, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "Dense", "Linear");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (units < 1) return nn_fail(err, NN_ERR_ARG, "%s: units %d must be at least 1", who, units);
  /* Both act on the LAST axis as the framework lays it out: Keras' last axis of
   * (H, W, C) is C; PyTorch's last axis of (C, H, W) is W. */
  int axis = (fw == NN_KERAS && in->channels_first) ? 0 : in->ndim - 1;
  int d = in->dim[axis];
  c->out = *in;
  c->out.dim[axis] = units;
  c->params = c->trainable = (long)d * units + (bias ? units : 0);
  if (bias) say(c->formula, "%d*%d + %d = %ld", d, units, units, c->params);
  else say(c->formula, "%d*%d = %ld", d, units, c->params);
  if (in->ndim > 1)
    say(c->shape_formula, "acts on the last axis (%d) of %s, the same weights at every position", d,
        shape_str(in, fw));
  return NN_OK;
}

/* ---- pooling */

nn_pool_opts nn_pool_opts_default(nn_pool_kind kind, int kernel) {
  return (nn_pool_opts){.kind = kind, .kernel = kernel, .stride = kernel, .pad = NN_PAD_VALID, .dilation = 1};
}

static nn_status pool_len(const char *who, int L, const nn_pool_opts *o, nn_framework fw, nn_len *out,
                          nn_error *err) {
  int k = o->kernel, s = o->stride == 0 ? o->kernel : o->stride, d = o->dilation;
  if (o->stride < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: stride %d must be at least 1 (or 0 for the default, = kernel)", who,
                   o->stride);
  nn_status st = check_window(who, L, k, s, d, err);
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
      say(out->formula, "same: ceil(%d / %d) = %d", L, s, out->len);
      return NN_OK;
    }
    if (k > L)
      return nn_fail(err, NN_ERR_ARG, "%s: pool size %d is larger than the input %d; use padding='same' or a smaller pool",
                     who, k, L);
    out->len = (L - k) / s + 1;
    say(out->formula, "floor((%d - %d) / %d) + 1 = %d", L, k, s, out->len);
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
    if ((st = fit_len(who, num / s + 1, out, err)) != NN_OK) return st;
    if (d == 1) say(out->formula, "floor((%d + 2*%d - %d) / %d) + 1 = %d", L, p, k, s, out->len);
    else say(out->formula, "floor(%s) + 1 = %d", lead, out->len);
    return NN_OK;
  }
  long len = (num + s - 1) / s + 1;
  if (d == 1) snprintf(lead, sizeof lead, "ceil((%d + 2*%d - %d) / %d) + 1", L, p, k, s);
  else snprintf(lead, sizeof lead, "ceil((%d + 2*%d - %d*(%d-1) - 1) / %d) + 1", L, p, d, k, s);
  if ((len - 1) * s >= (long)L + p) { /* the last window would start in the right padding: PyTorch drops it */
    say(out->formula, "%s = %ld, minus 1 as the last window would start in the padding ((%ld-1)*%d >= %d + %d) = %ld",
        lead, len, len, s, L, p, len - 1);
    len--;
  } else {
    say(out->formula, "%s = %ld", lead, len);
  }
  if ((st = fit_len(who, len, out, err)) != NN_OK) return st;
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
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim != n_spatial + 1)
    return nn_fail(err, NN_ERR_ARG, "%s needs %s input; got %s", who,
                   n_spatial == 2 ? "an image (C, H, W)" : "a signal (C, L)", shape_str(in, fw));
  nn_len lh, lw = {0};
  if ((st = pool_len(who, in->dim[1], o, fw, &lh, err)) != NN_OK) return st;
  if (n_spatial == 2 && (st = pool_len(who, in->dim[2], o, fw, &lw, err)) != NN_OK) return st;
  c->out = n_spatial == 2 ? nn_shape_image(in->dim[0], lh.len, lw.len) : nn_shape_signal(in->dim[0], lh.len);
  spatial_formula(c->shape_formula, &lh, &lw, n_spatial == 2);
  no_params(c, "pooling");
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
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim < 2)
    return nn_fail(err, NN_ERR_ARG, "%s needs an image (C, H, W) or a signal (C, L); got %s", who, shape_str(in, fw));
  int C = in->dim[0];
  if (fw == NN_KERAS) {
    c->out = nn_shape_vector(C);
    say(c->shape_formula, "one number per channel: %s -> (None, %d)", shape_str(in, fw), C);
  } else {
    c->out = in->ndim == 3 ? nn_shape_image(C, 1, 1) : nn_shape_signal(C, 1);
    say(c->shape_formula, "one number per channel, axes kept: %s -> %s (flatten for (N, %d))", shape_str(in, fw),
        shape_str(&c->out, fw), C);
  }
  no_params(c, "global pooling");
  return NN_OK;
}

nn_status nn_calc_flatten(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  calc_clear(c);
  nn_status st = check_shape("Flatten", in, fw, err);
  if (st != NN_OK) return st;
  if (nn_shape_numel(in) > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "Flatten: %s has %ld values, more than an int holds; use smaller sizes",
                   shape_str(in, fw), nn_shape_numel(in));
  c->out = nn_shape_vector((int)nn_shape_numel(in));
  if (in->ndim == 3)
    say(c->shape_formula, "%d*%d*%d = %d", in->dim[0], in->dim[1], in->dim[2], c->out.dim[0]);
  else if (in->ndim == 2)
    say(c->shape_formula, "%d*%d = %d", in->dim[0], in->dim[1], c->out.dim[0]);
  no_params(c, "Flatten");
  return NN_OK;
}

/* ---- normalization, embedding */

nn_status nn_calc_batchnorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "BatchNormalization", in->ndim == 3 ? "BatchNorm2d" : "BatchNorm1d");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  long F = in->dim[feature_axis(in)];
  c->out = *in;
  if (fw == NN_KERAS) {
    c->params = 4 * F, c->trainable = 2 * F, c->non_trainable = 2 * F;
    say(c->formula, "4 * %ld = %ld (gamma, beta trainable: %ld; moving_mean, moving_variance non-trainable: %ld)", F,
        c->params, 2 * F, 2 * F);
  } else {
    c->params = c->trainable = 2 * F, c->buffers = 2 * F + 1;
    say(c->formula,
        "2 * %ld = %ld (weight, bias); buffers 2 * %ld + 1 = %ld (running_mean, running_var, num_batches_tracked)", F,
        c->params, F, c->buffers);
  }
  return NN_OK;
}

nn_status nn_calc_layernorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "LayerNormalization", "LayerNorm");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  long D = in->dim[feature_axis(in)];
  c->out = *in;
  c->params = c->trainable = 2 * D;
  say(c->formula, "2 * %ld = %ld (%s)", D, c->params, pick(fw, "gamma, beta", "weight, bias"));
  return NN_OK;
}

nn_status nn_calc_embedding(const nn_shape *in, int vocab, int dim, nn_framework fw, nn_calc *c, nn_error *err) {
  calc_clear(c);
  nn_status st = check_shape("Embedding", in, fw, err);
  if (st != NN_OK) return st;
  if (in->ndim != 1)
    return nn_fail(err, NN_ERR_ARG, "Embedding needs token ids (T); got %s", shape_str(in, fw));
  if (vocab < 1) return nn_fail(err, NN_ERR_ARG, "Embedding: vocabulary size %d must be at least 1", vocab);
  if (dim < 1) return nn_fail(err, NN_ERR_ARG, "Embedding: dimension %d must be at least 1", dim);
  c->out = nn_shape_seq(in->dim[0], dim);
  c->params = c->trainable = (long)vocab * dim;
  say(c->formula, "%d * %d = %ld (one %d-vector per token id)", vocab, dim, c->params, dim);
  return NN_OK;
}

/* ---- recurrent */

const char *nn_rnn_kind_name(nn_rnn_kind kind) {
  switch (kind) {
  case NN_RNN_SIMPLE: return "simple_rnn";
  case NN_RNN_LSTM: return "lstm";
  case NN_RNN_GRU: return "gru";
  }
  return "?";
}

nn_rnn_opts nn_rnn_opts_default(nn_rnn_kind kind, int units) {
  return (nn_rnn_opts){.kind = kind, .units = units, .num_layers = 1};
}

/* One direction of one layer, input size D: G * (D*H + H*H + nb*H). */
static long rnn_layer_params(int G, long D, long H, int nb) { return G * (D * H + H * H + nb * H); }

nn_status nn_calc_rnn(const nn_shape *in, const nn_rnn_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  static const char *names[2][3] = {{"SimpleRNN", "LSTM", "GRU"}, {"RNN", "LSTM", "GRU"}};
  const char *who = (unsigned)o->kind <= NN_RNN_GRU ? names[fw == NN_PYTORCH][o->kind] : "RNN";
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if ((unsigned)o->kind > NN_RNN_GRU) return nn_fail(err, NN_ERR_ARG, "RNN: unknown kind %d", (int)o->kind);
  if (in->ndim != 2)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, D); got %s (an Embedding gives one)", who,
                   shape_str(in, fw));
  if (o->units < 1) return nn_fail(err, NN_ERR_ARG, "%s: units %d must be at least 1", who, o->units);
  if (o->num_layers < 1) return nn_fail(err, NN_ERR_ARG, "%s: num_layers %d must be at least 1", who, o->num_layers);
  if (o->units > INT_MAX / 2) return nn_fail(err, NN_ERR_ARG, "%s: units %d is too large", who, o->units);
  /* a (C, L) signal from Conv1d: Keras reads it as (L, C), time first */
  int T = in->channels_first ? in->dim[1] : in->dim[0], D = in->channels_first ? in->dim[0] : in->dim[1];
  int G = o->kind == NN_RNN_LSTM ? 4 : o->kind == NN_RNN_GRU ? 3 : 1;
  int nb; /* bias vectors per gate */
  if (o->no_bias) nb = 0;
  else if (fw == NN_PYTORCH) nb = 2; /* b_ih and b_hh */
  else if (o->kind == NN_RNN_GRU && !o->keras_reset_before) nb = 2; /* reset_after=True: input and recurrent bias */
  else nb = 1;
  int dirs = o->bidirectional ? 2 : 1, H = o->units;
  st = too_many(who, (double)dirs * o->num_layers * G * ((double)D + 2.0 * H + (double)H * dirs + 2.0) * H, err);
  if (st != NN_OK) return st;
  long first = rnn_layer_params(G, D, H, nb), rest = rnn_layer_params(G, (long)H * dirs, H, nb);
  c->params = c->trainable = dirs * (first + (o->num_layers - 1) * rest);

  char g[8] = "", bias[16] = "", mul[8] = "";
  if (G > 1) snprintf(g, sizeof g, "%d * ", G);
  if (nb == 1) snprintf(bias, sizeof bias, " + %d", H);
  else if (nb == 2) snprintf(bias, sizeof bias, " + 2*%d", H);
  if (dirs == 2) snprintf(mul, sizeof mul, "2 * ");
  if (o->num_layers == 1) {
    say(c->formula, "%s%s(%d*%d + %d*%d%s) = %ld", mul, g, D, H, H, H, bias, c->params);
  } else {
    char din[16];
    if (dirs == 2) snprintf(din, sizeof din, "(2*%d)", H);
    else snprintf(din, sizeof din, "%d", H);
    say(c->formula, "%s(%s(%d*%d + %d*%d%s) + %d * %s(%s*%d + %d*%d%s)) = %ld", mul, g, D, H, H, H, bias,
        o->num_layers - 1, g, din, H, H, H, bias, c->params);
  }
  bool seq = fw == NN_PYTORCH || o->return_sequences;
  c->out = seq ? nn_shape_seq(T, H * dirs) : nn_shape_vector(H * dirs);
  if (fw == NN_PYTORCH)
    say(c->shape_formula, "output (N, T, %s%d) with batch_first=True (the last step is output[:, -1]); h_n (%d, N, %d)",
        dirs == 2 ? "2*" : "", H, o->num_layers * dirs, H);
  else if (seq)
    say(c->shape_formula, "return_sequences=True: (None, %d, %s%d)", T, dirs == 2 ? "2*" : "", H);
  else
    say(c->shape_formula, "the last step only: (None, %s%d)", dirs == 2 ? "2*" : "", H);
  return NN_OK;
}

/* ---- attention */

static void divisors(int n, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  for (int d = 1; d <= n && o + 12 < len; d++)
    if (n % d == 0) o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? ", " : "", d);
}

nn_status nn_calc_mha(const nn_shape *query, const nn_shape *value, const nn_mha_opts *o, nn_framework fw, nn_calc *c,
                      nn_error *err) {
  const char *who = pick(fw, "MultiHeadAttention", "MultiheadAttention");
  calc_clear(c);
  nn_status st = check_shape(who, query, fw, err);
  if (st != NN_OK) return st;
  if (value && (st = check_shape(who, value, fw, err)) != NN_OK) return st;
  if (query->ndim != 2 || query->channels_first)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, D) as the query; got %s", who, shape_str(query, fw));
  if (value && (value->ndim != 2 || value->channels_first))
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (S, D) as the value; got %s", who, shape_str(value, fw));
  int h = o->num_heads, T = query->dim[0], Dq = query->dim[1], Dv = value ? value->dim[1] : Dq;
  long b = o->no_bias ? 0 : 1;
  if (h < 1) return nn_fail(err, NN_ERR_ARG, "%s: num_heads %d must be at least 1", who, h);
  if (fw == NN_KERAS) {
    if (o->key_dim < 1)
      return nn_fail(err, NN_ERR_ARG,
                     "MultiHeadAttention: key_dim %d must be at least 1; Keras needs it (the size of each head, "
                     "often D / num_heads = %d / %d)",
                     o->key_dim, Dq, h);
    long kd = o->key_dim, vd = o->value_dim > 0 ? o->value_dim : kd, Do = o->output_dim > 0 ? o->output_dim : Dq;
    st = too_many(who, ((double)Dq + 2.0 * Dv + 3.0) * h * (double)(kd + vd) + ((double)h * vd + 1) * Do, err);
    if (st != NN_OK) return st;
    if (o->value_dim < 0 || o->output_dim < 0)
      return nn_fail(err, NN_ERR_ARG, "MultiHeadAttention: value_dim and output_shape must be at least 1 (or 0 for the default)");
    long q = (long)Dq * h * kd + b * h * kd, k = (long)Dv * h * kd + b * h * kd, v = (long)Dv * h * vd + b * h * vd,
         out = h * vd * Do + b * Do;
    c->params = c->trainable = q + k + v + out;
    if (b)
      say(c->formula, "query %d*%d*%ld + %d*%ld, key %d*%d*%ld + %d*%ld, value %d*%d*%ld + %d*%ld, output %d*%ld*%ld + %ld = %ld",
          Dq, h, kd, h, kd, Dv, h, kd, h, kd, Dv, h, vd, h, vd, h, vd, Do, Do, c->params);
    else
      say(c->formula, "query %d*%d*%ld, key %d*%d*%ld, value %d*%d*%ld, output %d*%ld*%ld = %ld", Dq, h, kd, Dv, h, kd,
          Dv, h, vd, h, vd, Do, c->params);
    c->out = nn_shape_seq(T, (int)Do);
    say(c->shape_formula, "(None, %d, %ld): back to the query's size %s", T, Do,
        o->output_dim > 0 ? "(output_shape given)" : "by the output projection");
    return NN_OK;
  }
  long E = o->embed_dim > 0 ? o->embed_dim : Dq;
  if (o->embed_dim < 0) return nn_fail(err, NN_ERR_ARG, "MultiheadAttention: embed_dim %d must be at least 1", o->embed_dim);
  if (E != Dq)
    return nn_fail(err, NN_ERR_ARG,
                   "MultiheadAttention: the query has %d features but embed_dim is %ld; they must be equal "
                   "(project the input to embed_dim first)",
                   Dq, E);
  if (E % h) {
    char ds[128];
    divisors((int)E, ds, sizeof ds);
    return nn_fail(err, NN_ERR_ARG,
                   "MultiheadAttention: embed_dim %ld is not divisible by num_heads %d; each head gets embed_dim / "
                   "num_heads features, so pick num_heads among %s",
                   E, h, ds);
  }
  long kdim = o->kdim > 0 ? o->kdim : Dv, vdim = o->vdim > 0 ? o->vdim : Dv;
  if ((st = too_many(who, (double)E * (2.0 * E + kdim + vdim + 4), err)) != NN_OK) return st;
  if (o->kdim < 0 || o->vdim < 0)
    return nn_fail(err, NN_ERR_ARG, "MultiheadAttention: kdim and vdim must be at least 1 (or 0 for embed_dim)");
  if (kdim == E && vdim == E) {
    c->params = c->trainable = 3 * E * E + 3 * E * b + E * E + E * b;
    if (b)
      say(c->formula, "in_proj 3*%ld*%ld + 3*%ld, out_proj %ld*%ld + %ld = %ld", E, E, E, E, E, E, c->params);
    else
      say(c->formula, "in_proj 3*%ld*%ld, out_proj %ld*%ld = %ld", E, E, E, E, c->params);
  } else {
    c->params = c->trainable = E * E + E * kdim + E * vdim + 3 * E * b + E * E + E * b;
    say(c->formula, "q_proj %ld*%ld + k_proj %ld*%ld + v_proj %ld*%ld%s, out_proj %ld*%ld%s = %ld", E, E, E, kdim, E,
        vdim, b ? " + 3*E" : "", E, E, b ? " + E" : "", c->params);
  }
  c->out = nn_shape_seq(T, (int)E);
  say(c->shape_formula, "(N, %d, %ld) with batch_first=True; %d heads of %ld", T, E, h, E / h);
  return NN_OK;
}

nn_status nn_calc_transformer_encoder(const nn_shape *in, int nhead, int dim_feedforward, nn_framework fw, nn_calc *c,
                                      nn_error *err) {
  const char *who = pick(fw, "TransformerEncoder block", "TransformerEncoderLayer");
  calc_clear(c);
  nn_status st = check_shape(who, in, fw, err);
  if (st != NN_OK) return st;
  if (in->ndim != 2 || in->channels_first)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, d_model); got %s", who, shape_str(in, fw));
  long d = in->dim[1], ff = dim_feedforward == 0 ? 2048 : dim_feedforward;
  if (nhead < 1) return nn_fail(err, NN_ERR_ARG, "%s: nhead %d must be at least 1", who, nhead);
  if (dim_feedforward < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: dim_feedforward %d must be at least 1 (0 for PyTorch's 2048)", who,
                   dim_feedforward);
  if (d % nhead) {
    char ds[128];
    divisors((int)d, ds, sizeof ds);
    return nn_fail(err, NN_ERR_ARG,
                   "%s: d_model %ld is not divisible by nhead %d; each head gets d_model / nhead features, so pick "
                   "nhead among %s",
                   who, d, nhead, ds);
  }
  if ((st = too_many(who, (double)d * (4.0 * d + 2.0 * ff + 9) + ff, err)) != NN_OK) return st;
  long attn = 4 * d * d + 4 * d, lin1 = d * ff + ff, lin2 = ff * d + d, norms = 4 * d;
  c->params = c->trainable = attn + lin1 + lin2 + norms;
  say(c->formula,
      "attention (4*%ld*%ld + 4*%ld) + linear1 (%ld*%ld + %ld) + linear2 (%ld*%ld + %ld) + 2 LayerNorms (4*%ld) = "
      "%ld + %ld + %ld + %ld = %ld",
      d, d, d, d, ff, ff, ff, d, d, d, attn, lin1, lin2, norms, c->params);
  c->out = *in;
  say(c->shape_formula, "same as the input: %s (residual connections keep d_model = %ld)", shape_str(in, fw), d);
  return NN_OK;
}

/* ---- framework defaults that differ. Sources: keras 3 source (keras/src/...), keras.io,
 * tensorflow.org r2.x API pages for tf.keras (Keras 2), and PyTorch's signatures (torch 1.13
 * and 2.x docs). */

static const nn_framework_default DEFAULTS[] = {
    {"leaky_relu_slope", "LeakyReLU negative slope (the layer)", 0.3, 0.3, 0.01,
     "keras.layers.LeakyReLU(negative_slope=0.3)", "torch.nn.LeakyReLU(negative_slope=0.01)",
     "y = x for x >= 0, slope*x below. The Keras LAYER keeps 0.3 in Keras 2 (alpha=0.3) and Keras 3 "
     "(negative_slope=0.3); the Keras 3 FUNCTION keras.activations.leaky_relu (activation='leaky_relu') and "
     "tf.nn.leaky_relu use 0.2. PyTorch uses 0.01, 30x smaller than the layer's."},
    {"leaky_relu_fn_slope", "leaky_relu as a function / activation string", 0.2, 0.2, 0.01,
     "keras.activations.leaky_relu(x, negative_slope=0.2)", "torch.nn.functional.leaky_relu(x, 0.01)",
     "Keras 3's activation='leaky_relu' calls the function, default 0.2 (Keras 2 had no such string; "
     "tf.nn.leaky_relu alpha=0.2). PyTorch's functional form has the layer's 0.01."},
    {"rmsprop_rho", "RMSprop decay of the squared-gradient average", 0.9, 0.9, 0.99,
     "keras.optimizers.RMSprop(rho=0.9)", "torch.optim.RMSprop(alpha=0.99)",
     "v = rho*v + (1-rho)*g^2; Keras calls it rho (0.9), PyTorch alpha (0.99): PyTorch's average remembers "
     "about 100 steps, Keras' about 10."},
    {"rmsprop_eps", "RMSprop epsilon", 1e-7, 1e-7, 1e-8, "keras.optimizers.RMSprop(epsilon=1e-7)",
     "torch.optim.RMSprop(eps=1e-8)",
     "Not only the value: Keras divides by sqrt(v + eps), PyTorch by sqrt(v) + eps."},
    {"rmsprop_lr", "RMSprop learning rate", 0.001, 0.001, 0.01, "keras.optimizers.RMSprop(learning_rate=0.001)",
     "torch.optim.RMSprop(lr=0.01)", "PyTorch's default step is 10x Keras'."},
    {"adagrad_initial_accumulator", "Adagrad initial accumulator", 0.1, 0.1, 0.0,
     "keras.optimizers.Adagrad(initial_accumulator_value=0.1)", "torch.optim.Adagrad(initial_accumulator_value=0)",
     "The sum of squared gradients starts at 0.1 in Keras, 0 in PyTorch, so PyTorch's first steps are larger "
     "(the first is lr * g / (|g| + eps), about lr per weight)."},
    {"adagrad_eps", "Adagrad epsilon", 1e-7, 1e-7, 1e-10, "keras.optimizers.Adagrad(epsilon=1e-7)",
     "torch.optim.Adagrad(eps=1e-10)", "Keras adds it inside the square root, PyTorch outside."},
    {"adagrad_lr", "Adagrad learning rate", 0.001, 0.001, 0.01, "keras.optimizers.Adagrad(learning_rate=0.001)",
     "torch.optim.Adagrad(lr=0.01)", "PyTorch's default step is 10x Keras'."},
    {"adam_eps", "Adam epsilon", 1e-7, 1e-7, 1e-8, "keras.optimizers.Adam(epsilon=1e-7)", "torch.optim.Adam(eps=1e-8)",
     "m_hat / (sqrt(v_hat) + eps): both add it outside the square root; only the value differs. The learning "
     "rate (0.001) and betas (0.9, 0.999) agree."},
    {"adamw_weight_decay", "AdamW weight decay", 0.004, 0.004, 0.01, "keras.optimizers.AdamW(weight_decay=0.004)",
     "torch.optim.AdamW(weight_decay=0.01)",
     "Decoupled decay w -= lr * wd * w each step; PyTorch's default is 2.5x Keras'."},
    {"sgd_lr", "SGD learning rate", 0.01, 0.01, 0.001, "keras.optimizers.SGD(learning_rate=0.01)",
     "torch.optim.SGD(lr=1e-3)",
     "Keras defaults to 0.01. PyTorch 1.x had no default (lr was required); recent 2.x releases default to "
     "1e-3. Always pass it."},
    {"batchnorm_momentum", "BatchNorm momentum of the running statistics", 0.99, 0.99, 0.1,
     "keras.layers.BatchNormalization(momentum=0.99)", "torch.nn.BatchNorm2d(momentum=0.1)",
     "Opposite meanings: Keras moving = momentum*moving + (1-momentum)*batch (0.99 weighs the OLD value); "
     "PyTorch running = (1-momentum)*running + momentum*batch (0.1 weighs the NEW value). Keras 0.99 is PyTorch "
     "0.01; PyTorch's 0.1 is Keras 0.9: PyTorch's running statistics follow the batches 10x faster."},
    {"batchnorm_eps", "BatchNorm epsilon", 1e-3, 1e-3, 1e-5, "keras.layers.BatchNormalization(epsilon=1e-3)",
     "torch.nn.BatchNorm2d(eps=1e-5)", "(x - mean) / sqrt(var + eps); Keras' is 100x larger."},
    {"batchnorm_unbiased_running_var", "BatchNorm running variance is unbiased (1 = n/(n-1))", 0, 0, 1,
     "keras.layers.BatchNormalization: moving_variance from the biased batch variance",
     "torch.nn.BatchNorm2d: running_var from the unbiased batch variance",
     "Both normalize a training batch with the biased variance (divide by n). PyTorch stores var * n/(n-1) "
     "in running_var; Keras stores the biased one in moving_variance."},
    {"layernorm_eps", "LayerNorm epsilon", 1e-3, 1e-3, 1e-5, "keras.layers.LayerNormalization(epsilon=1e-3)",
     "torch.nn.LayerNorm(eps=1e-5)", "As BatchNorm: Keras 1e-3, PyTorch 1e-5."},
    {"transformer_dim_feedforward", "Transformer encoder feed-forward size", 0, 0, 2048,
     "no built-in layer (KerasHub's TransformerEncoder needs intermediate_dim)",
     "torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048)",
     "PyTorch's 2048 is the paper's value for d_model 512 (4x); it stays 2048 for any d_model unless you pass "
     "it, so a small model gets a huge feed-forward. 0 here: Keras has no default."},
    {"lstm_forget_bias", "LSTM forget-gate bias at init", 1, 1, 0, "keras.layers.LSTM(unit_forget_bias=True)",
     "torch.nn.LSTM: biases ~ U(-1/sqrt(H), 1/sqrt(H))",
     "Keras starts the forget gate's bias at 1 (remember by default, Jozefowicz et al. 2015); PyTorch draws "
     "every bias at random around 0. (0 here means no constant.)"},
    {"gru_reset_after", "GRU applies the reset gate after the recurrent matmul (reset_after)", 1, 1, 1,
     "keras.layers.GRU(reset_after=True)", "torch.nn.GRU (always reset after: r * (W_hn h + b_hn))",
     "Since TF 2 Keras' default matches PyTorch (and cuDNN): two bias vectors per gate, so a GRU has "
     "3*(D*H + H*H + 2H) parameters in both. reset_after=False (TF 1, Keras 2 without cuDNN) has one: 3*(D*H + H*H + H)."},
    {"rnn_bias_vectors", "bias vectors per gate in SimpleRNN / LSTM", 1, 1, 2, "keras.layers.LSTM: one bias",
     "torch.nn.LSTM: b_ih and b_hh",
     "PyTorch keeps two (the cuDNN layout); their sum acts as one, so LSTM(256) on 50 inputs has 4*256 = 1,024 "
     "more parameters in PyTorch: 315,392 vs 314,368."},
    {"ce_from_logits", "cross-entropy takes logits (1) or probabilities (0)", 0, 0, 1,
     "keras.losses.SparseCategoricalCrossentropy(from_logits=False)", "torch.nn.CrossEntropyLoss (logits)",
     "Keras expects softmax outputs unless from_logits=True; PyTorch's CrossEntropyLoss applies log_softmax "
     "itself, so the model must NOT end in softmax."},
};
enum { N_DEFAULTS = sizeof DEFAULTS / sizeof DEFAULTS[0] };

const nn_framework_default *nn_framework_defaults(int *count) {
  if (count) *count = N_DEFAULTS;
  return DEFAULTS;
}

const nn_framework_default *nn_framework_default_find(const char *key) {
  for (int i = 0; key && i < N_DEFAULTS; i++)
    if (!strcmp(DEFAULTS[i].key, key)) return &DEFAULTS[i];
  return NULL;
}

/* ---- the spec format */

typedef struct {
  const char *word;
  nn_spec_kind kind;
} keyword;

static const keyword KEYWORDS[] = {
    {"input", NN_SPEC_INPUT},           {"dense", NN_SPEC_DENSE},
    {"linear", NN_SPEC_DENSE},          {"conv1d", NN_SPEC_CONV1D},
    {"conv2d", NN_SPEC_CONV2D},         {"depthwise2d", NN_SPEC_DEPTHWISE2D},
    {"separable2d", NN_SPEC_SEPARABLE2D}, {"convtranspose2d", NN_SPEC_CONVT2D},
    {"maxpool1d", NN_SPEC_MAXPOOL1D},   {"maxpool2d", NN_SPEC_MAXPOOL2D},
    {"avgpool1d", NN_SPEC_AVGPOOL1D},   {"avgpool2d", NN_SPEC_AVGPOOL2D},
    {"globalavgpool", NN_SPEC_GLOBALAVG}, {"globalmaxpool", NN_SPEC_GLOBALMAX},
    {"flatten", NN_SPEC_FLATTEN},       {"batchnorm", NN_SPEC_BATCHNORM},
    {"layernorm", NN_SPEC_LAYERNORM},   {"embedding", NN_SPEC_EMBEDDING},
    {"simple_rnn", NN_SPEC_RNN},        {"rnn", NN_SPEC_RNN},
    {"lstm", NN_SPEC_RNN},              {"gru", NN_SPEC_RNN},
    {"mha", NN_SPEC_MHA},               {"transformer_encoder", NN_SPEC_TRANSFORMER},
    {"dropout", NN_SPEC_DROPOUT},
};
static const char *ACTIVATIONS[] = {"relu", "sigmoid", "tanh", "softmax", "gelu", "leaky_relu", "elu",
                                    "selu", "silu", "swish", "softplus", "linear"};
enum { N_KEYWORDS = sizeof KEYWORDS / sizeof KEYWORDS[0], N_ACTIVATIONS = sizeof ACTIVATIONS / sizeof ACTIVATIONS[0] };

#define MAX_TOKENS 16
typedef struct {
  const char *path;
  int line;
  char *tok[MAX_TOKENS];
  int n;
} line_ctx;

/* "path:line: " then the message. */
static nn_status line_fail(const line_ctx *lc, nn_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static nn_status line_fail(const line_ctx *lc, nn_error *err, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nn_fail(err, NN_ERR_FORMAT, "%s:%d: %s", lc->path, lc->line, msg);
}

static bool parse_int(const char *s, int *v) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (*end || errno || x < INT_MIN / 4 || x > INT_MAX / 4) return false;
  *v = (int)x;
  return true;
}

static bool parse_bool(const char *s, bool *v) {
  if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) return *v = true, true;
  if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) return *v = false, true;
  return false;
}

static bool is_activation(const char *w) {
  for (int i = 0; i < N_ACTIVATIONS; i++)
    if (!strcmp(w, ACTIVATIONS[i])) return true;
  return false;
}

/* The options each kind takes, for "unknown option" messages. */
static const char *options_of(nn_spec_kind k) {
  switch (k) {
  case NN_SPEC_DENSE: return "bias, activation";
  case NN_SPEC_CONV1D:
  case NN_SPEC_CONV2D: return "kernel, stride, padding, dilation, groups, bias, activation";
  case NN_SPEC_DEPTHWISE2D:
  case NN_SPEC_SEPARABLE2D: return "kernel, multiplier, stride, padding, dilation, bias, activation";
  case NN_SPEC_CONVT2D: return "kernel, stride, padding, output_padding, dilation, groups, bias, activation";
  case NN_SPEC_MAXPOOL1D:
  case NN_SPEC_MAXPOOL2D: return "stride, padding, dilation, ceil";
  case NN_SPEC_AVGPOOL1D:
  case NN_SPEC_AVGPOOL2D: return "stride, padding, ceil";
  case NN_SPEC_RNN: return "layers, bidirectional, return_sequences, reset_after, bias";
  case NN_SPEC_MHA: return "key_dim, value_dim, embed_dim, kdim, vdim, output_dim, bias";
  case NN_SPEC_TRANSFORMER: return "ff";
  default: return "none";
  }
}

/* padding=valid|same|P */
static bool parse_padding(const char *v, nn_pad_mode *mode, int *p) {
  if (!strcasecmp(v, "valid")) return *mode = NN_PAD_VALID, *p = 0, true;
  if (!strcasecmp(v, "same")) return *mode = NN_PAD_SAME, *p = 0, true;
  if (parse_int(v, p)) return *mode = NN_PAD_EXPLICIT, true;
  return false;
}

/* The positional arguments a kind needs: how many and what they are called. */
static int positional_count(nn_spec_kind k, const char **what) {
  switch (k) {
  case NN_SPEC_DENSE: *what = "UNITS (e.g. dense 10)"; return 1;
  case NN_SPEC_CONV1D: *what = "FILTERS (e.g. conv1d 32 kernel=3)"; return 1;
  case NN_SPEC_CONV2D: *what = "FILTERS (e.g. conv2d 32 kernel=3)"; return 1;
  case NN_SPEC_SEPARABLE2D: *what = "FILTERS (e.g. separable2d 64 kernel=3)"; return 1;
  case NN_SPEC_CONVT2D: *what = "FILTERS (e.g. convtranspose2d 16 kernel=3 stride=2)"; return 1;
  case NN_SPEC_MAXPOOL1D:
  case NN_SPEC_MAXPOOL2D:
  case NN_SPEC_AVGPOOL1D:
  case NN_SPEC_AVGPOOL2D: *what = "the pool size (e.g. maxpool2d 2)"; return 1;
  case NN_SPEC_EMBEDDING: *what = "VOCAB DIM (e.g. embedding 10000 64)"; return 2;
  case NN_SPEC_RNN: *what = "UNITS (e.g. lstm 256)"; return 1;
  case NN_SPEC_MHA: *what = "HEADS (e.g. mha 8 key_dim=64)"; return 1;
  case NN_SPEC_TRANSFORMER: *what = "NHEAD (e.g. transformer_encoder 8 ff=2048)"; return 1;
  default: *what = "nothing"; return 0;
  }
}

static nn_status parse_input(const line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  int v[3], first = 1;
  const char *form = NULL;
  if (lc->n >= 2 && (!strcmp(lc->tok[1], "seq") || !strcmp(lc->tok[1], "tokens"))) form = lc->tok[1], first = 2;
  int count = lc->n - first;
  for (int i = 0; i < count && i < 3; i++)
    if (!parse_int(lc->tok[first + i], &v[i]))
      return line_fail(lc, err, "input: expected a whole number, got '%s' (e.g. input 1 28 28)", lc->tok[first + i]);
  if (form && !strcmp(form, "seq")) {
    if (count != 2) return line_fail(lc, err, "input seq: expected T D (e.g. input seq 100 50)");
    l->input = nn_shape_seq(v[0], v[1]);
  } else if (form) {
    if (count != 1) return line_fail(lc, err, "input tokens: expected T (e.g. input tokens 100)");
    l->input = nn_shape_tokens(v[0]);
  } else if (count == 3) {
    l->input = nn_shape_image(v[0], v[1], v[2]);
  } else if (count == 2) {
    l->input = nn_shape_signal(v[0], v[1]);
  } else if (count == 1) {
    l->input = nn_shape_vector(v[0]);
  } else {
    return line_fail(lc, err,
                     "input: expected C H W, C L, D, seq T D or tokens T (one example's shape without N, e.g. "
                     "input 1 28 28)");
  }
  for (int i = 0; i < l->input.ndim; i++)
    if (l->input.dim[i] < 1) return line_fail(lc, err, "input: size %d must be at least 1", l->input.dim[i]);
  return NN_OK;
}

static nn_status parse_line(line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  const char *w = lc->tok[0];
  memset(l, 0, sizeof *l);
  l->line = lc->line;
  snprintf(l->name, sizeof l->name, "%s", w);
  int kw = -1;
  for (int i = 0; i < N_KEYWORDS; i++)
    if (!strcmp(w, KEYWORDS[i].word)) kw = i;
  if (kw < 0) {
    if (is_activation(w)) {
      if (lc->n > 1) return line_fail(lc, err, "%s: expected nothing after it, got '%s'", w, lc->tok[1]);
      l->kind = NN_SPEC_ACTIVATION;
      snprintf(l->activation, sizeof l->activation, "%s", w);
      return NN_OK;
    }
    return line_fail(lc, err,
                     "unknown layer '%s'; expected one of input, dense, conv1d, conv2d, depthwise2d, separable2d, "
                     "convtranspose2d, maxpool1d, maxpool2d, avgpool1d, avgpool2d, globalavgpool, globalmaxpool, "
                     "flatten, batchnorm, layernorm, embedding, simple_rnn, lstm, gru, mha, transformer_encoder, "
                     "dropout, or an activation (relu, sigmoid, tanh, softmax, ...)",
                     w);
  }
  nn_spec_kind k = l->kind = KEYWORDS[kw].kind;
  if (k == NN_SPEC_INPUT) return parse_input(lc, l, err);
  if (k == NN_SPEC_DROPOUT) {
    char *end = NULL;
    if (lc->n != 2 || (l->rate = strtod(lc->tok[1], &end), *end) || l->rate < 0 || l->rate >= 1)
      return line_fail(lc, err, "dropout: expected RATE, a number in [0, 1) (e.g. dropout 0.5)");
    return NN_OK;
  }

  /* defaults */
  l->bias = true;
  l->conv = nn_conv_opts_default(0, 0);
  l->multiplier = 1;
  l->pool = nn_pool_opts_default(k == NN_SPEC_AVGPOOL1D || k == NN_SPEC_AVGPOOL2D ? NN_POOL_AVG : NN_POOL_MAX, 0);
  l->pool.stride = 0;
  if (k == NN_SPEC_RNN) {
    nn_rnn_kind rk = !strcmp(w, "lstm") ? NN_RNN_LSTM : !strcmp(w, "gru") ? NN_RNN_GRU : NN_RNN_SIMPLE;
    l->rnn = nn_rnn_opts_default(rk, 0);
  }

  const char *what;
  int npos = positional_count(k, &what), pos[2] = {0, 0}, seen = 0;
  bool have_kernel = false;
  for (int i = 1; i < lc->n; i++) {
    char *t = lc->tok[i], *eq = strchr(t, '=');
    if (!eq) {
      if (seen >= npos)
        return npos ? line_fail(lc, err, "%s: expected only %s, got an extra '%s'", w, what, t)
                    : !strcmp(options_of(k), "none")
                        ? line_fail(lc, err, "%s: expected nothing after it, got '%s'", w, t)
                        : line_fail(lc, err, "%s: expected only options (%s), got '%s'", w, options_of(k), t);
      if (!parse_int(t, &pos[seen]))
        return line_fail(lc, err, "%s: expected %s, got '%s'", w, what, t);
      seen++;
      continue;
    }
    *eq = '\0';
    const char *key = t, *val = eq + 1;
    int iv = 0;
    bool bv = false, ok = true, known = true;
    bool conv = k == NN_SPEC_CONV1D || k == NN_SPEC_CONV2D || k == NN_SPEC_DEPTHWISE2D || k == NN_SPEC_SEPARABLE2D ||
                k == NN_SPEC_CONVT2D;
    bool pool = k >= NN_SPEC_MAXPOOL1D && k <= NN_SPEC_AVGPOOL2D;
    if (!strcmp(key, "activation") && (conv || k == NN_SPEC_DENSE)) {
      if (!is_activation(val)) ok = false;
      else snprintf(l->activation, sizeof l->activation, "%s", val);
    } else if (!strcmp(key, "bias") && (conv || k == NN_SPEC_DENSE || k == NN_SPEC_RNN || k == NN_SPEC_MHA)) {
      ok = parse_bool(val, &bv);
      l->bias = bv, l->conv.no_bias = !bv, l->rnn.no_bias = !bv, l->mha.no_bias = !bv;
    } else if (!strcmp(key, "kernel") && conv) {
      ok = parse_int(val, &l->conv.kernel), have_kernel = true;
    } else if (!strcmp(key, "stride") && (conv || pool)) {
      ok = parse_int(val, &iv), l->conv.stride = iv, l->pool.stride = iv;
      if (ok && pool && iv == 0) ok = false; /* 0 is the calculator's "default", not a stride */
    } else if (!strcmp(key, "padding") && (conv || pool)) {
      ok = parse_padding(val, &l->conv.pad, &l->conv.padding);
      l->pool.pad = l->conv.pad, l->pool.padding = l->conv.padding;
    } else if (!strcmp(key, "dilation") && (conv || k == NN_SPEC_MAXPOOL1D || k == NN_SPEC_MAXPOOL2D)) {
      ok = parse_int(val, &iv), l->conv.dilation = iv, l->pool.dilation = iv;
    } else if (!strcmp(key, "groups") && (k == NN_SPEC_CONV1D || k == NN_SPEC_CONV2D || k == NN_SPEC_CONVT2D)) {
      ok = parse_int(val, &l->conv.groups);
    } else if (!strcmp(key, "output_padding") && k == NN_SPEC_CONVT2D) {
      ok = parse_int(val, &l->conv.output_padding);
    } else if (!strcmp(key, "multiplier") && (k == NN_SPEC_DEPTHWISE2D || k == NN_SPEC_SEPARABLE2D)) {
      ok = parse_int(val, &l->multiplier);
    } else if ((!strcmp(key, "ceil") || !strcmp(key, "ceil_mode")) && pool) {
      ok = parse_bool(val, &l->pool.ceil_mode);
    } else if (!strcmp(key, "layers") && k == NN_SPEC_RNN) {
      ok = parse_int(val, &l->rnn.num_layers);
    } else if (!strcmp(key, "bidirectional") && k == NN_SPEC_RNN) {
      ok = parse_bool(val, &l->rnn.bidirectional);
    } else if (!strcmp(key, "return_sequences") && k == NN_SPEC_RNN) {
      ok = parse_bool(val, &l->rnn.return_sequences);
    } else if (!strcmp(key, "reset_after") && k == NN_SPEC_RNN) {
      ok = parse_bool(val, &bv), l->rnn.keras_reset_before = !bv;
    } else if (k == NN_SPEC_MHA && !strcmp(key, "key_dim")) {
      ok = parse_int(val, &l->mha.key_dim);
    } else if (k == NN_SPEC_MHA && !strcmp(key, "value_dim")) {
      ok = parse_int(val, &l->mha.value_dim);
    } else if (k == NN_SPEC_MHA && !strcmp(key, "embed_dim")) {
      ok = parse_int(val, &l->mha.embed_dim);
    } else if (k == NN_SPEC_MHA && !strcmp(key, "kdim")) {
      ok = parse_int(val, &l->mha.kdim);
    } else if (k == NN_SPEC_MHA && !strcmp(key, "vdim")) {
      ok = parse_int(val, &l->mha.vdim);
    } else if (k == NN_SPEC_MHA && !strcmp(key, "output_dim")) {
      ok = parse_int(val, &l->mha.output_dim);
    } else if (k == NN_SPEC_TRANSFORMER && (!strcmp(key, "ff") || !strcmp(key, "dim_feedforward"))) {
      ok = parse_int(val, &l->ff);
    } else {
      known = false;
    }
    if (!known)
      return !strcmp(options_of(k), "none")
                 ? line_fail(lc, err, "%s: unknown option '%s'; %s takes no options", w, key, w)
                 : line_fail(lc, err, "%s: unknown option '%s'; %s takes: %s", w, key, w, options_of(k));
    if (!ok) {
      const char *hint = !strcmp(key, "padding")          ? "valid, same or a number"
                         : !strcmp(key, "activation")     ? "relu, sigmoid, tanh, softmax, gelu, ..."
                         : !strcmp(key, "stride") && pool ? "a whole number >= 1"
                         : (!strcmp(key, "bias") || !strcmp(key, "ceil") || !strcmp(key, "ceil_mode") ||
                            !strcmp(key, "bidirectional") || !strcmp(key, "return_sequences") ||
                            !strcmp(key, "reset_after"))
                             ? "0 or 1"
                             : "a whole number";
      return line_fail(lc, err, "%s: %s=%s: expected %s", w, key, val, hint);
    }
  }
  if (seen < npos) return line_fail(lc, err, "%s: expected %s", w, what);
  bool needs_kernel = k == NN_SPEC_CONV1D || k == NN_SPEC_CONV2D || k == NN_SPEC_DEPTHWISE2D ||
                      k == NN_SPEC_SEPARABLE2D || k == NN_SPEC_CONVT2D;
  if (needs_kernel && !have_kernel)
    return line_fail(lc, err, "%s: expected kernel=K (e.g. %s kernel=3)", w,
                     k == NN_SPEC_DEPTHWISE2D ? "depthwise2d" : k == NN_SPEC_CONV1D ? "conv1d 32" : "conv2d 32");
  switch (k) {
  case NN_SPEC_DENSE: l->units = pos[0]; break;
  case NN_SPEC_CONV1D:
  case NN_SPEC_CONV2D:
  case NN_SPEC_SEPARABLE2D:
  case NN_SPEC_CONVT2D: l->units = l->conv.filters = pos[0]; break;
  case NN_SPEC_MAXPOOL1D:
  case NN_SPEC_MAXPOOL2D:
  case NN_SPEC_AVGPOOL1D:
  case NN_SPEC_AVGPOOL2D: l->pool.kernel = pos[0]; break;
  case NN_SPEC_EMBEDDING: l->vocab = pos[0], l->units = pos[1]; break;
  case NN_SPEC_RNN: l->units = l->rnn.units = pos[0]; break;
  case NN_SPEC_MHA: l->mha.num_heads = pos[0]; break;
  case NN_SPEC_TRANSFORMER: l->nhead = pos[0]; break;
  default: break;
  }
  return NN_OK;
}

static int tokenize(char *s, char **tok, int max) {
  int n = 0;
  for (char *p = s; *p;) {
    while (*p && isspace((unsigned char)*p)) p++;
    if (!*p) break;
    if (n == max) return max + 1;
    tok[n++] = p;
    while (*p && !isspace((unsigned char)*p)) p++;
    if (*p) *p++ = '\0';
  }
  return n;
}

void nn_model_spec_free(nn_model_spec *spec) {
  if (!spec) return;
  free(spec->layers);
  spec->layers = NULL;
  spec->count = spec->cap = 0;
}

nn_status nn_model_spec_parse(const char *text, const char *path, nn_model_spec *spec, nn_error *err) {
  memset(spec, 0, sizeof *spec);
  snprintf(spec->path, sizeof spec->path, "%s", path ? path : "spec");
  line_ctx lc = {.path = spec->path};
  const char *p = text;
  char buf[512];
  nn_status st = NN_OK;
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    lc.line++;
    if (len >= sizeof buf) {
      st = line_fail(&lc, err, "line is %zu characters long; a layer fits in %zu", len, sizeof buf - 1);
      goto fail;
    }
    memcpy(buf, p, len);
    buf[len] = '\0';
    p = nl ? nl + 1 : NULL;
    char *hash = strchr(buf, '#');
    if (hash) *hash = '\0';
    for (char *q = buf; *q; q++) *q = (char)tolower((unsigned char)*q);
    lc.n = tokenize(buf, lc.tok, MAX_TOKENS);
    if (lc.n == 0) continue;
    if (lc.n > MAX_TOKENS) {
      st = line_fail(&lc, err, "more than %d words on one line", MAX_TOKENS);
      goto fail;
    }
    nn_spec_layer l;
    if ((st = parse_line(&lc, &l, err)) != NN_OK) goto fail;
    if (spec->count == 0 && l.kind != NN_SPEC_INPUT) {
      st = line_fail(&lc, err, "expected the input shape first (e.g. input 1 28 28), got '%s'", l.name);
      goto fail;
    }
    if (spec->count > 0 && l.kind == NN_SPEC_INPUT) {
      st = line_fail(&lc, err, "a second input line; a spec is one chain with one input");
      goto fail;
    }
    if (spec->count == spec->cap) {
      int cap = spec->cap ? 2 * spec->cap : 16;
      nn_spec_layer *grown = realloc(spec->layers, (size_t)cap * sizeof *grown);
      if (!grown) {
        st = nn_fail(err, NN_ERR_MEMORY, "%s: out of memory at line %d", spec->path, lc.line);
        goto fail;
      }
      spec->layers = grown, spec->cap = cap;
    }
    spec->layers[spec->count++] = l;
  }
  if (spec->count == 0) {
    st = nn_fail(err, NN_ERR_FORMAT, "%s: no layers; expected an input line first (e.g. input 1 28 28)", spec->path);
    goto fail;
  }
  return NN_OK;
fail:
  nn_model_spec_free(spec);
  return st;
}

nn_status nn_model_spec_load(const char *path, nn_model_spec *spec, nn_error *err) {
  uint8_t *data = NULL;
  size_t len = 0;
  memset(spec, 0, sizeof *spec);
  nn_status st = nn_file_read(path, 1 << 20, &data, &len, err);
  if (st != NN_OK) return st;
  if (memchr(data, '\0', len)) {
    free(data);
    return nn_fail(err, NN_ERR_FORMAT, "%s: not a text file (it has a NUL byte)", path);
  }
  st = nn_model_spec_parse((const char *)data, path, spec, err);
  free(data);
  return st;
}

nn_status nn_spec_layer_calc(const nn_spec_layer *l, const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  calc_clear(c);
  switch (l->kind) {
  case NN_SPEC_INPUT: return nn_fail(err, NN_ERR_ARG, "the input line has no calculation");
  case NN_SPEC_DENSE: return nn_calc_dense(in, l->units, l->bias, fw, c, err);
  case NN_SPEC_CONV1D: return nn_calc_conv1d(in, &l->conv, fw, c, err);
  case NN_SPEC_CONV2D: return nn_calc_conv2d(in, &l->conv, fw, c, err);
  case NN_SPEC_DEPTHWISE2D: return nn_calc_depthwise_conv2d(in, l->multiplier, &l->conv, fw, c, err);
  case NN_SPEC_SEPARABLE2D: return nn_calc_separable_conv2d(in, l->multiplier, &l->conv, fw, c, err);
  case NN_SPEC_CONVT2D: return nn_calc_conv_transpose2d(in, &l->conv, fw, c, err);
  case NN_SPEC_MAXPOOL1D:
  case NN_SPEC_AVGPOOL1D: return nn_calc_pool1d(in, &l->pool, fw, c, err);
  case NN_SPEC_MAXPOOL2D:
  case NN_SPEC_AVGPOOL2D: return nn_calc_pool2d(in, &l->pool, fw, c, err);
  case NN_SPEC_GLOBALAVG: return nn_calc_global_pool(in, NN_POOL_AVG, fw, c, err);
  case NN_SPEC_GLOBALMAX: return nn_calc_global_pool(in, NN_POOL_MAX, fw, c, err);
  case NN_SPEC_FLATTEN: return nn_calc_flatten(in, fw, c, err);
  case NN_SPEC_BATCHNORM: return nn_calc_batchnorm(in, fw, c, err);
  case NN_SPEC_LAYERNORM: return nn_calc_layernorm(in, fw, c, err);
  case NN_SPEC_EMBEDDING: return nn_calc_embedding(in, l->vocab, l->units, fw, c, err);
  case NN_SPEC_RNN: return nn_calc_rnn(in, &l->rnn, fw, c, err);
  case NN_SPEC_MHA: return nn_calc_mha(in, NULL, &l->mha, fw, c, err);
  case NN_SPEC_TRANSFORMER: return nn_calc_transformer_encoder(in, l->nhead, l->ff, fw, c, err);
  case NN_SPEC_DROPOUT:
  case NN_SPEC_ACTIVATION: {
    nn_status st = check_shape(l->name, in, fw, err);
    if (st != NN_OK) return st;
    c->out = *in;
    no_params(c, l->kind == NN_SPEC_DROPOUT ? "Dropout" : "an activation");
    return NN_OK;
  }
  }
  return nn_fail(err, NN_ERR_ARG, "unknown layer kind %d", (int)l->kind);
}

nn_status nn_model_spec_calc(const nn_model_spec *spec, nn_framework fw, nn_calc *calcs, nn_spec_totals *t,
                             nn_error *err) {
  memset(t, 0, sizeof *t);
  if (spec->count < 1 || spec->layers[0].kind != NN_SPEC_INPUT)
    return nn_fail(err, NN_ERR_ARG, "%s: the spec has no input line", spec->path);
  nn_shape cur = spec->layers[0].input;
  for (int i = 1; i < spec->count; i++) {
    nn_calc c;
    nn_error e = {0};
    if (nn_spec_layer_calc(&spec->layers[i], &cur, fw, &c, &e) != NN_OK)
      return nn_fail(err, NN_ERR_ARG, "%s:%d: %s", spec->path, spec->layers[i].line, e.msg);
    if ((double)t->params + c.params + t->buffers + c.buffers > 1e18)
      return nn_fail(err, NN_ERR_ARG, "%s:%d: the model has more parameters than a 64-bit count holds", spec->path,
                     spec->layers[i].line);
    if (calcs) calcs[i - 1] = c;
    t->params += c.params, t->trainable += c.trainable, t->non_trainable += c.non_trainable, t->buffers += c.buffers;
    cur = c.out;
  }
  t->out = cur;
  return NN_OK;
}

/* The framework's class name for a layer of the spec. */
static const char *type_name(const nn_spec_layer *l, const nn_shape *in, nn_framework fw) {
  bool k = fw == NN_KERAS;
  switch (l->kind) {
  case NN_SPEC_INPUT: return k ? "InputLayer" : "Input";
  case NN_SPEC_DENSE: return k ? "Dense" : "Linear";
  case NN_SPEC_CONV1D: return k ? "Conv1D" : "Conv1d";
  case NN_SPEC_CONV2D: return k ? "Conv2D" : "Conv2d";
  case NN_SPEC_DEPTHWISE2D: return k ? "DepthwiseConv2D" : "Conv2d";
  case NN_SPEC_SEPARABLE2D: return k ? "SeparableConv2D" : "Conv2d+Conv2d";
  case NN_SPEC_CONVT2D: return k ? "Conv2DTranspose" : "ConvTranspose2d";
  case NN_SPEC_MAXPOOL1D: return k ? "MaxPooling1D" : "MaxPool1d";
  case NN_SPEC_MAXPOOL2D: return k ? "MaxPooling2D" : "MaxPool2d";
  case NN_SPEC_AVGPOOL1D: return k ? "AveragePooling1D" : "AvgPool1d";
  case NN_SPEC_AVGPOOL2D: return k ? "AveragePooling2D" : "AvgPool2d";
  case NN_SPEC_GLOBALAVG:
    return k ? (in->ndim == 3 ? "GlobalAveragePooling2D" : "GlobalAveragePooling1D")
             : (in->ndim == 3 ? "AdaptiveAvgPool2d" : "AdaptiveAvgPool1d");
  case NN_SPEC_GLOBALMAX:
    return k ? (in->ndim == 3 ? "GlobalMaxPooling2D" : "GlobalMaxPooling1D")
             : (in->ndim == 3 ? "AdaptiveMaxPool2d" : "AdaptiveMaxPool1d");
  case NN_SPEC_FLATTEN: return "Flatten";
  case NN_SPEC_BATCHNORM: return k ? "BatchNormalization" : in->ndim == 3 ? "BatchNorm2d" : "BatchNorm1d";
  case NN_SPEC_LAYERNORM: return k ? "LayerNormalization" : "LayerNorm";
  case NN_SPEC_EMBEDDING: return "Embedding";
  case NN_SPEC_RNN:
    if (k && l->rnn.bidirectional) return "Bidirectional";
    return l->rnn.kind == NN_RNN_LSTM ? "LSTM" : l->rnn.kind == NN_RNN_GRU ? "GRU" : k ? "SimpleRNN" : "RNN";
  case NN_SPEC_MHA: return k ? "MultiHeadAttention" : "MultiheadAttention";
  case NN_SPEC_TRANSFORMER: return k ? "TransformerEncoder" : "TransformerEncoderLayer";
  case NN_SPEC_DROPOUT: return "Dropout";
  case NN_SPEC_ACTIVATION: return k ? "Activation" : NULL;
  }
  return "?";
}

/* PyTorch's module for an activation name. */
static const char *torch_activation(const char *a) {
  static const char *map[][2] = {{"relu", "ReLU"},         {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"},
                                 {"softmax", "Softmax"},   {"gelu", "GELU"},       {"leaky_relu", "LeakyReLU"},
                                 {"elu", "ELU"},           {"selu", "SELU"},       {"silu", "SiLU"},
                                 {"swish", "SiLU"},        {"softplus", "Softplus"}, {"linear", "Identity"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(a, map[i][0])) return map[i][1];
  return a;
}

static void table_row(FILE *out, const char *name, const char *shape, long params, long trainable) {
  char p[32], t[32];
  fprintf(out, " %-34s %-22s %12s %12s\n", name, shape, commas(params, p, sizeof p), commas(trainable, t, sizeof t));
}

nn_status nn_model_spec_print(const nn_model_spec *spec, nn_framework fw, FILE *out, nn_error *err) {
  nn_calc *calcs = calloc((size_t)(spec->count > 1 ? spec->count - 1 : 1), sizeof *calcs);
  if (!calcs) return nn_fail(err, NN_ERR_MEMORY, "%s: out of memory", spec->path);
  nn_spec_totals t;
  nn_status st = nn_model_spec_calc(spec, fw, calcs, &t, err);
  if (st != NN_OK) {
    free(calcs);
    return st;
  }
  const char *rule = "==================================================================================";
  fprintf(out, "Model: \"%s\" in %s conventions (%s)\n", spec->path, fw == NN_KERAS ? "Keras'" : "PyTorch's",
          fw == NN_KERAS ? "channels last: (None, H, W, C)" : "channels first: (N, C, H, W)");
  fprintf(out, "%s\n %-34s %-22s %12s %12s\n%s\n", rule, "Layer (type)", "Output shape", "Params", "Trainable", rule);
  table_row(out, fw == NN_KERAS ? "input (InputLayer)" : "Input", nn_shape_format(&spec->layers[0].input, fw).s, 0, 0);
  int counts[NN_SPEC_ACTIVATION + 1] = {0};
  nn_shape cur = spec->layers[0].input;
  int row = 1;
  for (int i = 1; i < spec->count; i++) {
    const nn_spec_layer *l = &spec->layers[i];
    const nn_calc *c = &calcs[i - 1];
    char name[112];
    const char *type = type_name(l, &cur, fw);
    if (!type) type = torch_activation(l->activation);
    if (fw == NN_KERAS) {
      int n = counts[l->kind]++;
      char base[40];
      snprintf(base, sizeof base, "%s", l->kind == NN_SPEC_ACTIVATION ? "activation" : l->name);
      if (n) snprintf(name, sizeof name, "%s_%d (%s)", base, n, type);
      else snprintf(name, sizeof name, "%s (%s)", base, type);
    } else {
      snprintf(name, sizeof name, "%s-%d", type, row++);
    }
    table_row(out, name, nn_shape_format(&c->out, fw).s, c->params, c->trainable);
    /* PyTorch has no activation= argument: the activation is a module of its own. */
    if (fw == NN_PYTORCH && l->activation[0] && l->kind != NN_SPEC_ACTIVATION) {
      snprintf(name, sizeof name, "%s-%d", torch_activation(l->activation), row++);
      table_row(out, name, nn_shape_format(&c->out, fw).s, 0, 0);
    }
    cur = c->out;
  }
  char a[32], b[32], c3[32], d[32];
  fprintf(out, "%s\n", rule);
  fprintf(out, "Total params: %s\n", commas(t.params, a, sizeof a));
  fprintf(out, "Trainable params: %s\n", commas(t.trainable, b, sizeof b));
  fprintf(out, "Non-trainable params: %s\n", commas(t.non_trainable, c3, sizeof c3));
  if (fw == NN_PYTORCH)
    fprintf(out, "Buffers (state_dict, not parameters): %s\n", commas(t.buffers, d, sizeof d));
  fprintf(out, "%s\n", rule);
  free(calcs);
  return NN_OK;
}
