/* nn_shapes.c: shapes, frameworks, and the checks and formula writing every
 * calculator shares (nn_shapes.h). The calculators live beside their layers. */
#include "nn_shapes.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

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
  for (int i = 0; i < s->ndim; i++)
    if (__builtin_mul_overflow(n, (long)s->dim[i], &n)) return LONG_MAX; /* saturate: never wrap */
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

/* ---- what every calculator uses */

nn_status nn_shape_check(const char *who, const nn_shape *in, nn_framework fw, nn_error *err) {
  if (in->ndim < 1 || in->ndim > NN_SHAPE_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: the input has %d axes; give 1 to %d (without the batch axis)", who,
                   in->ndim, NN_SHAPE_MAX);
  for (int i = 0; i < in->ndim; i++)
    if (in->dim[i] < 1)
      return nn_fail(err, NN_ERR_ARG, "%s: input %s has a size %d; every size must be at least 1", who,
                     nn_shape_format(in, fw).s, in->dim[i]);
  return NN_OK;
}

int nn_shape_feature_axis(const nn_shape *s) { return s->channels_first ? 0 : s->ndim - 1; }

void nn_formula(char *dst, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, NN_FORMULA_MAX, fmt, ap);
  va_end(ap);
}

nn_status nn_count_check(const char *who, double approx, nn_error *err) {
  if (approx <= 1e18) return NN_OK;
  return nn_fail(err, NN_ERR_ARG, "%s: about %.3g parameters, more than a 64-bit count holds; use smaller sizes", who,
                 approx);
}

nn_status nn_len_check_window(const char *who, int L, int k, int s, int d, nn_error *err) {
  if (L < 1) return nn_fail(err, NN_ERR_ARG, "%s: input size %d must be at least 1", who, L);
  if (k < 1) return nn_fail(err, NN_ERR_ARG, "%s: kernel %d must be at least 1", who, k);
  if (s < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: stride %d must be at least 1 (1 moves the window one step at a time)",
                   who, s);
  if (d < 1)
    return nn_fail(err, NN_ERR_ARG, "%s: dilation %d must be at least 1 (1 is an ordinary kernel)", who, d);
  return NN_OK;
}

nn_status nn_len_fit(const char *who, long v, nn_len *out, nn_error *err) {
  if (v > INT_MAX)
    return nn_fail(err, NN_ERR_ARG, "%s: the output size %ld does not fit an int; use smaller sizes", who, v);
  out->len = (int)v;
  return NN_OK;
}

void nn_len_formula(char *dst, const nn_len *h, const nn_len *w) {
  if (!w)
    nn_formula(dst, "L: %s", h->formula);
  else if (!strcmp(h->formula, w->formula))
    nn_formula(dst, "H = W: %s", h->formula);
  else
    nn_formula(dst, "H: %s; W: %s", h->formula, w->formula);
}
