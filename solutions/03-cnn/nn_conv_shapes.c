/* nn_conv_shapes.c: convolution's output sizes and parameter counts, in Keras' and
 * PyTorch's conventions. The formulas are in nn_conv_shapes.h beside each function; the
 * code follows them line for line and writes each one out, worked, for `nn exam`. */
#include "nn_conv_shapes.h"

#include "nn_batchnorm_shapes.h"

#include <limits.h>
#include <string.h>

static const char *pick(nn_framework fw, const char *keras, const char *pytorch) {
  return fw == NN_KERAS ? keras : pytorch;
}

/* The shape as the framework prints it, for messages: the returned struct lives
 * until the end of the full expression (C11 6.2.4), long enough for a printf. */
#define shape_str(shape, fw) (nn_shape_format((shape), (fw)).s)

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

static nn_status conv_len(const char *who, int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                          nn_error *err) {
  int k = o->kernel, s = o->stride, d = o->dilation;
  nn_status st = nn_len_check_window(who, L, k, s, d, err);
  if (st != NN_OK) return st;
  long ke = (long)d * (k - 1) + 1; /* the span of the dilated kernel */
  if (o->pad == NN_PAD_SAME) {
    if (fw == NN_KERAS) {
      out->len = (int)(((long)L + s - 1) / s);
      nn_formula(out->formula, "same: ceil(%d / %d) = %d", L, s, out->len);
      return NN_OK;
    }
    if (s != 1)
      return nn_fail(err, NN_ERR_ARG,
                     "%s: PyTorch's padding='same' works only with stride 1 (got stride %d); give the padding "
                     "as a number (padding=%ld) or use Keras' 'same', which gives ceil(L / s)",
                     who, s, (ke - 1) / 2);
    out->len = L;
    nn_formula(out->formula, "same, stride 1: out = L = %d (zeros %ld left, %ld right)", L, (ke - 1) / 2,
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
  if ((st = nn_len_fit(who, (padded - ke) / s + 1, out, err)) != NN_OK) return st;
  if (d == 1)
    nn_formula(out->formula, "floor((%d + 2*%d - %d) / %d) + 1 = %d", L, p, k, s, out->len);
  else
    nn_formula(out->formula, "floor((%d + 2*%d - %d*(%d-1) - 1) / %d) + 1 = %d", L, p, d, k, s, out->len);
  return NN_OK;
}

nn_status nn_conv_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err) {
  memset(out, 0, sizeof *out);
  return conv_len(pick(fw, "Conv", "conv"), L, o, fw, out, err);
}

static nn_status convt_len(const char *who, int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                           nn_error *err) {
  int k = o->kernel, s = o->stride, d = o->dilation, op = o->output_padding;
  nn_status st = nn_len_check_window(who, L, k, s, d, err);
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
    if ((st = nn_len_fit(who, v, out, err)) != NN_OK) return st;
    nn_formula(out->formula, "(%d-1)*%d - 2*%d + %d*(%d-1) + %d + 1 = %d", L, s, p, d, k, op, out->len);
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
      if ((st = nn_len_fit(who, (long)L * s, out, err)) != NN_OK) return st;
      nn_formula(out->formula, "same: %d * %d = %d", L, s, out->len);
    } else {
      long extra = ke - s > 0 ? ke - s : 0;
      if ((st = nn_len_fit(who, (long)L * s + extra, out, err)) != NN_OK) return st;
      nn_formula(out->formula, "valid: %d*%d + max(%ld - %d, 0) = %d", L, s, ke, s, out->len);
    }
    return NN_OK;
  }
  long pad = o->pad == NN_PAD_SAME ? ke / 2 : 0, v = (long)(L - 1) * s + ke - 2 * pad + op;
  if (v < 1) return nn_fail(err, NN_ERR_ARG, "%s: the output would have size %ld", who, v);
  if ((st = nn_len_fit(who, v, out, err)) != NN_OK) return st;
  nn_formula(out->formula, "(%d-1)*%d + %ld - 2*%ld + %d = %d", L, s, ke, pad, op, out->len);
  return NN_OK;
}

nn_status nn_conv_transpose_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err) {
  memset(out, 0, sizeof *out);
  return convt_len(pick(fw, "Conv2DTranspose", "ConvTranspose2d"), L, o, fw, out, err);
}

/* Conv1d/Conv2d (n_spatial 1 or 2) and ConvTranspose2d (transpose) on `in`: checks, sizes, count. */
static nn_status conv_common(const char *who, int n_spatial, const nn_shape *in, const nn_conv_opts *o,
                             nn_framework fw, bool transpose, nn_calc *c, nn_error *err) {
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
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
  nn_len_formula(c->shape_formula, &lh, n_spatial == 2 ? &lw : NULL);
  if ((st = nn_count_check(who, (double)k * k * cin * cout + cout, err)) != NN_OK) return st;

  long kk = n_spatial == 2 ? (long)k * k : k, b = o->no_bias ? 0 : cout;
  char ks[32];
  if (n_spatial == 2) snprintf(ks, sizeof ks, "%d*%d", k, k);
  else snprintf(ks, sizeof ks, "%d", k);
  if (transpose) { /* weight (C_in, C_out/g, k, k): each input channel feeds C_out/g outputs */
    c->params = kk * cin * (cout / g) + b;
    char cout_s[32];
    if (g == 1) snprintf(cout_s, sizeof cout_s, "%d", cout);
    else snprintf(cout_s, sizeof cout_s, "(%d/%d)", cout, g);
    if (o->no_bias) nn_formula(c->formula, "%s*%d*%s = %ld", ks, cin, cout_s, c->params);
    else nn_formula(c->formula, "%s*%d*%s + %d = %ld", ks, cin, cout_s, cout, c->params);
  } else {
    c->params = (kk * (cin / g) + (o->no_bias ? 0 : 1)) * cout;
    char cin_s[32];
    if (g == 1) snprintf(cin_s, sizeof cin_s, "%d", cin);
    else snprintf(cin_s, sizeof cin_s, "(%d/%d)", cin, g);
    if (o->no_bias) nn_formula(c->formula, "%s*%s * %d = %ld", ks, cin_s, cout, c->params);
    else nn_formula(c->formula, "(%s*%s + 1) * %d = %ld", ks, cin_s, cout, c->params);
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
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
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
    nn_formula(c->formula, "%d*%d * (%d*%d) = %ld", k, k, C, multiplier, c->params);
  else
    nn_formula(c->formula, "(%d*%d + 1) * (%d*%d) = %ld", k, k, C, multiplier, c->params);
  return NN_OK;
}

nn_status nn_calc_separable_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o, nn_framework fw,
                                   nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "SeparableConv2D", "Conv2d(groups=C)+Conv2d(1x1)");
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
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
  if ((st = nn_count_check(who, (double)C * multiplier * (k * (double)k + F + 1), err)) != NN_OK) return st;
  long depth = d.params, point = ((long)C * multiplier + (o->no_bias ? 0 : 1)) * F;
  *c = d;
  c->out = nn_shape_image(F, d.out.dim[1], d.out.dim[2]);
  c->params = c->trainable = depth + point;
  if (o->no_bias)
    nn_formula(c->formula, "%d*%d*%d*%d + %d*%d*%d = %ld + %ld = %ld", k, k, C, multiplier, C, multiplier, F, depth, point,
               c->params);
  else
    nn_formula(c->formula, "%d*%d*%d*%d + (%d*%d + 1)*%d = %ld + %ld = %ld", k, k, C, multiplier, C, multiplier, F, depth,
               point, c->params);
  return NN_OK;
}

/* ---- residual blocks (nn_residual.h): the sum of their convolutions and BatchNorms */

const char *nn_block_kind_name(nn_block_kind kind) {
  switch (kind) {
  case NN_BLOCK_BASIC: return "BasicBlock";
  case NN_BLOCK_BOTTLENECK: return "Bottleneck";
  case NN_BLOCK_INVERTED: return "InvertedResidual";
  }
  return "?";
}

int nn_block_default_width(nn_block_kind kind, int in_channels, int out_channels) {
  switch (kind) {
  case NN_BLOCK_BASIC: return out_channels;                                 /* both 3x3s are out wide */
  case NN_BLOCK_BOTTLENECK: return out_channels / 4 > 0 ? out_channels / 4 : 1; /* ResNet-50's expansion 4 */
  case NN_BLOCK_INVERTED: return in_channels > INT_MAX / 6 ? INT_MAX : 6 * in_channels; /* MobileNetV2's t = 6 */
  }
  return out_channels;
}

/* The running sum of a block's layers: each conv (no bias) or BatchNorm adds its counts and
 * a term "a + b + ..." to the formula. */
typedef struct {
  nn_calc total;
  nn_shape at;        /* the main branch's shape so far */
  int terms;
  const char *prefix; /* before the next conv's term: "proj " for the shortcut's */
} block_sum;

static void add_counts(block_sum *b, const nn_calc *part, const char *what) {
  b->total.params += part->params, b->total.trainable += part->trainable;
  b->total.non_trainable += part->non_trainable, b->total.buffers += part->buffers;
  size_t n = strlen(b->total.formula);
  if (n + 32 < sizeof b->total.formula)
    snprintf(b->total.formula + n, sizeof b->total.formula - n, "%s%s %ld", b->terms++ ? " + " : "", what,
             part->params);
}

/* A conv without bias from shape `from` (k x k, stride s, groups g; 3x3 pads by 1), then its
 * BatchNorm; b->at becomes its output. */
static nn_status add_conv_bn(block_sum *b, const nn_shape *from, int out, int k, int s, int g, nn_framework fw,
                             nn_error *err) {
  nn_conv_opts o = nn_conv_opts_default(out, k);
  o.stride = s, o.groups = g, o.no_bias = true;
  if (k > 1) { /* PyTorch padding=1; Keras padding="same": ceil(L / s) both */
    if (fw == NN_KERAS) o.pad = NN_PAD_SAME;
    else o.pad = NN_PAD_EXPLICIT, o.padding = k / 2;
  }
  nn_calc conv, bn;
  nn_status st = nn_calc_conv2d(from, &o, fw, &conv, err);
  if (st == NN_OK) st = nn_calc_batchnorm(&conv.out, fw, &bn, err);
  if (st != NN_OK) return st;
  char what[32];
  snprintf(what, sizeof what, "%s%s%dx%d", b->prefix ? b->prefix : "", g > 1 ? "dw " : "", k, k);
  add_counts(b, &conv, what);
  add_counts(b, &bn, "bn");
  b->at = conv.out;
  return NN_OK;
}

nn_status nn_calc_block(const nn_shape *in, nn_block_kind kind, int out_channels, int stride, int width,
                        nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = nn_block_kind_name(kind);
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if (!in->channels_first || in->ndim != 3)
    return nn_fail(err, NN_ERR_ARG, "%s needs an image (C, H, W); got %s", who, shape_str(in, fw));
  if (kind != NN_BLOCK_BASIC && kind != NN_BLOCK_BOTTLENECK && kind != NN_BLOCK_INVERTED)
    return nn_fail(err, NN_ERR_ARG, "block kind %d is none of basic, bottleneck, inverted", (int)kind);
  if (out_channels < 1 || stride < 1 || width < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: out channels %d and stride %d must be at least 1, width %d at least 0 "
                   "(0: the kind's default)", who, out_channels, stride, width);
  const int C = in->dim[0], w = width ? width : nn_block_default_width(kind, C, out_channels);
  block_sum b = {.at = *in};
  const nn_shape x = *in;
  switch (kind) {
  case NN_BLOCK_BASIC:
    if ((st = add_conv_bn(&b, &b.at, out_channels, 3, stride, 1, fw, err)) != NN_OK) return st;
    st = add_conv_bn(&b, &b.at, out_channels, 3, 1, 1, fw, err);
    break;
  case NN_BLOCK_BOTTLENECK:
    if ((st = add_conv_bn(&b, &b.at, w, 1, 1, 1, fw, err)) != NN_OK) return st;
    if ((st = add_conv_bn(&b, &b.at, w, 3, stride, 1, fw, err)) != NN_OK) return st;
    st = add_conv_bn(&b, &b.at, out_channels, 1, 1, 1, fw, err);
    break;
  case NN_BLOCK_INVERTED:
    if (w != C && (st = add_conv_bn(&b, &b.at, w, 1, 1, 1, fw, err)) != NN_OK) return st;
    if ((st = add_conv_bn(&b, &b.at, w, 3, stride, w, fw, err)) != NN_OK) return st;
    st = add_conv_bn(&b, &b.at, out_channels, 1, 1, 1, fw, err);
    break;
  }
  if (st != NN_OK) return st;
  const nn_shape out = b.at;
  bool reshaped = C != out_channels || stride != 1;
  if (reshaped && kind != NN_BLOCK_INVERTED) { /* the projection shortcut: 1x1 stride s, BN */
    b.prefix = "proj ";
    if ((st = add_conv_bn(&b, &x, out_channels, 1, stride, 1, fw, err)) != NN_OK) return st;
  }
  *c = b.total;
  c->out = out;
  size_t n = strlen(c->formula);
  if (n + 24 < sizeof c->formula) snprintf(c->formula + n, sizeof c->formula - n, " = %ld", c->params);
  nn_formula(c->shape_formula, "ceil(%d / %d) = %d, ceil(%d / %d) = %d (the 3x3 pads 1, stride %d); %s shortcut",
             in->dim[1], stride, out.dim[1], in->dim[2], stride, out.dim[2], stride,
             !reshaped ? "identity" : kind == NN_BLOCK_INVERTED ? "no" : "a projection");
  return NN_OK;
}
