/* spec.c: the model spec format of spec.h: parse, load, calculate, print. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_batchnorm_shapes.h"
#include "nn_dense_shapes.h"
#include "nn_file.h"

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
  *c = (nn_calc){0};
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
  case NN_SPEC_ACTIVATION: return nn_calc_elementwise(l->name, in, fw, c, err);
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
