/* spec.c: the model spec format of spec.h: parse, load, calculate, print.
 *
 * A line is a keyword, then positional whole numbers, then key=value options. How each
 * kind of layer reads them, what it computes with, and what the frameworks call it is
 * one row of KINDS below; the parser, the messages and the printed table are the same
 * code for every row. */
#include "spec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_batchnorm_shapes.h"
#include "nn_dense_shapes.h"
#include "nn_file.h"
#include "nn_summary.h"

/* ---- one line, tokenized, and its messages */

#define MAX_TOKENS 16
typedef struct {
  const char *path;
  int line;
  char *tok[MAX_TOKENS];
  int n;
} line_ctx;

/* "path:line: " then the message. */
static nn_status line_fail(const line_ctx *lc, nn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static nn_status line_fail(const line_ctx *lc, nn_error *err, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return nn_fail(err, NN_ERR_FORMAT, "%s:%d: %s", lc->path, lc->line, msg);
}

/* The largest size a spec takes: products of a few of them still fit in a long. */
enum { SPEC_INT_MAX = INT_MAX / 4 }; /* 536,870,911 */

static bool parse_int(const char *s, int *v) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (*end || errno || x < -SPEC_INT_MAX || x > SPEC_INT_MAX) return false;
  *v = (int)x;
  return true;
}

/* A whole number parse_int refuses only for its size: the message then states the limit. */
static bool too_large(const char *s) {
  size_t digits = strspn(s + (*s == '-' || *s == '+'), "0123456789");
  return digits > 0 && s[digits + (*s == '-' || *s == '+')] == '\0';
}

static bool parse_bool(const char *s, bool *v) {
  if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes")) return *v = true, true;
  if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no")) return *v = false, true;
  return false;
}

/* padding=valid|same|P */
static bool parse_padding(const char *v, nn_pad_mode *mode, int *p) {
  if (!strcasecmp(v, "valid")) return *mode = NN_PAD_VALID, *p = 0, true;
  if (!strcasecmp(v, "same")) return *mode = NN_PAD_SAME, *p = 0, true;
  if (parse_int(v, p)) return *mode = NN_PAD_EXPLICIT, true;
  return false;
}

/* w is one of the space-separated words of list */
static bool word_in(const char *list, const char *w) {
  size_t n = strlen(w);
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, " ");
    if (len == n && !strncmp(p, w, n)) return true;
    p += len;
    p += strspn(p, " ");
  }
  return false;
}

/* ---- activations: a layer of their own (relu) or a layer's activation=relu */

static const struct {
  const char *word;  /* in a spec, and Keras' activation='...' */
  const char *torch; /* PyTorch's module */
} ACTIVATIONS[] = {{"relu", "ReLU"},   {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"},         {"softmax", "Softmax"},
                   {"gelu", "GELU"},   {"leaky_relu", "LeakyReLU"}, {"elu", "ELU"},     {"selu", "SELU"},
                   {"silu", "SiLU"},   {"swish", "SiLU"},      {"softplus", "Softplus"}, {"relu6", "ReLU6"},
                   {"gelu_tanh", "GELU"}, {"linear", "Identity"}};
enum { N_ACTIVATIONS = sizeof ACTIVATIONS / sizeof ACTIVATIONS[0] };

static int activation_index(const char *w) {
  for (int i = 0; i < N_ACTIVATIONS; i++)
    if (!strcmp(w, ACTIVATIONS[i].word)) return i;
  return -1;
}

/* ---- how a row reads its arguments */

/* An option's value, and what a bad one is told to be. */
typedef enum {
  OPT_INT,        /* int: a whole number */
  OPT_STRIDE,     /* int: a whole number >= 1 (the calculators read 0 as "= kernel": a spec leaves stride out) */
  OPT_BOOL,       /* bool: 0 or 1 (true/false, yes/no) */
  OPT_NOT_BOOL,   /* bool, stored negated: bias=0 sets no_bias */
  OPT_PADDING,    /* nn_pad_mode at `at`, int padding at `at2`: valid, same or a number */
  OPT_ACTIVATION, /* char[16]: an activation's name */
} option_type;

/* key=value: the value, read as `type`, goes to the field of nn_spec_layer at offset `at`
 * (offsetof, through AT below, so each row names the field it sets). */
typedef struct {
  const char *key;
  option_type type;
  size_t at, at2;
  bool alias; /* accepted, but not listed in messages (ceil_mode for ceil) */
} spec_option;

#define AT(field) offsetof(nn_spec_layer, field)
_Static_assert(offsetof(nn_spec_layer, kind) == 0, "a row's pos[] uses offset 0 for 'no argument'");
#define MAX_OPTIONS 10

struct nn_spec_kind {
  const char *words;   /* its keywords, as messages list them ("simple_rnn lstm gru"); NULL for
                          the activation row, whose keywords are ACTIVATIONS */
  const char *aliases; /* keywords it takes too, not listed ("linear" for dense) */
  /* The framework's class name for the printed table; "%d" in it is the spatial rank (2 on
   * an image (C, H, W), else 1). NULL: type() names it. */
  const char *keras, *pytorch;
  const char *(*type)(const nn_spec_layer *l, nn_framework fw);
  /* Its own grammar (input, dropout, an activation); NULL: the generic one, below */
  nn_status (*parse)(const line_ctx *lc, nn_spec_layer *l, nn_error *err);
  /* The generic grammar: defaults (init), the positional whole numbers (what they are, for
   * messages, and where each goes: offsets into nn_spec_layer, 0 for none: offset 0 is
   * .kind, never an argument), the key=value options in the order messages list them, and
   * whether kernel=K must be given (the example a message shows). */
  void (*init)(nn_spec_layer *l);
  const char *args;
  size_t pos[2];
  spec_option options[MAX_OPTIONS];
  const char *kernel_example;
  /* Its output shape and counts on `in`, from the chapters' calculators; NULL for input */
  nn_status (*calc)(const nn_spec_layer *l, const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);
};

/* ---- what the rows call */

static nn_status parse_input(const line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  int v[3], first = 1;
  const char *form = NULL;
  if (lc->n >= 2 && (!strcmp(lc->tok[1], "seq") || !strcmp(lc->tok[1], "tokens"))) form = lc->tok[1], first = 2;
  int count = lc->n - first;
  for (int i = 0; i < count && i < 3; i++)
    if (!parse_int(lc->tok[first + i], &v[i]))
      return too_large(lc->tok[first + i])
                 ? line_fail(lc, err, "input: %s is too large; a size is at most %d", lc->tok[first + i], SPEC_INT_MAX)
                 : line_fail(lc, err, "input: expected a whole number, got '%s' (e.g. input 1 28 28)",
                             lc->tok[first + i]);
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

static nn_status parse_dropout(const line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  char *end = NULL;
  if (lc->n != 2 || (l->rate = strtod(lc->tok[1], &end), *end) || !(l->rate >= 0 && l->rate < 1)) /* NaN fails */
    return line_fail(lc, err, "dropout: expected RATE, a number in [0, 1) (e.g. dropout 0.5)");
  return NN_OK;
}

static nn_status parse_activation(const line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  if (lc->n > 1) return line_fail(lc, err, "%s: expected nothing after it, got '%s'", lc->tok[0], lc->tok[1]);
  snprintf(l->activation, sizeof l->activation, "%s", lc->tok[0]);
  return NN_OK;
}

static void init_dense(nn_spec_layer *l) { l->bias = true; }
static void init_conv(nn_spec_layer *l) { l->conv = nn_conv_opts_default(0, 0), l->multiplier = 1; }
/* stride 0: "= kernel", unless stride= is given */
static void init_maxpool(nn_spec_layer *l) { l->pool = nn_pool_opts_default(NN_POOL_MAX, 0), l->pool.stride = 0; }
static void init_avgpool(nn_spec_layer *l) { l->pool = nn_pool_opts_default(NN_POOL_AVG, 0), l->pool.stride = 0; }
static void init_rnn(nn_spec_layer *l) {
  nn_rnn_kind k = !strcmp(l->name, "lstm") ? NN_RNN_LSTM : !strcmp(l->name, "gru") ? NN_RNN_GRU : NN_RNN_SIMPLE;
  l->rnn = nn_rnn_opts_default(k, 0);
}

static void init_block(nn_spec_layer *l) {
  l->conv = nn_conv_opts_default(0, 0);
  l->block = !strcmp(l->name, "bottleneck") ? NN_BLOCK_BOTTLENECK
             : !strcmp(l->name, "invertedresidual") ? NN_BLOCK_INVERTED : NN_BLOCK_BASIC;
}

/* torchvision's class names; Keras has no such layer (keras.applications builds them of layers) */
static const char *type_block(const nn_spec_layer *l, nn_framework fw __attribute__((unused))) {
  return nn_block_kind_name(l->block);
}

static const char *type_rnn(const nn_spec_layer *l, nn_framework fw) {
  if (fw == NN_KERAS && l->rnn.bidirectional) return "Bidirectional";
  if (l->rnn.kind == NN_RNN_LSTM) return "LSTM";
  if (l->rnn.kind == NN_RNN_GRU) return "GRU";
  return fw == NN_KERAS ? "SimpleRNN" : "RNN";
}

static const char *type_activation(const nn_spec_layer *l, nn_framework fw) {
  int i = activation_index(l->activation);
  return fw == NN_KERAS ? "Activation" : i < 0 ? l->activation : ACTIVATIONS[i].torch;
}

/* One calculator each: the chapters' nn_calc_* on the fields its row read. */
#define CALC(name)                                                                                        \
  static nn_status name(const nn_spec_layer *l __attribute__((unused)), const nn_shape *in, nn_framework fw, \
                        nn_calc *c, nn_error *err)
CALC(calc_dense) { return nn_calc_dense(in, l->units, l->bias, fw, c, err); }
CALC(calc_conv1d) { return nn_calc_conv1d(in, &l->conv, fw, c, err); }
CALC(calc_conv2d) { return nn_calc_conv2d(in, &l->conv, fw, c, err); }
CALC(calc_depthwise) { return nn_calc_depthwise_conv2d(in, l->multiplier, &l->conv, fw, c, err); }
CALC(calc_separable) { return nn_calc_separable_conv2d(in, l->multiplier, &l->conv, fw, c, err); }
CALC(calc_convt2d) { return nn_calc_conv_transpose2d(in, &l->conv, fw, c, err); }
CALC(calc_pool1d) { return nn_calc_pool1d(in, &l->pool, fw, c, err); }
CALC(calc_pool2d) { return nn_calc_pool2d(in, &l->pool, fw, c, err); }
CALC(calc_globalavg) { return nn_calc_global_pool(in, NN_POOL_AVG, fw, c, err); }
CALC(calc_globalmax) { return nn_calc_global_pool(in, NN_POOL_MAX, fw, c, err); }
CALC(calc_flatten) { return nn_calc_flatten(in, fw, c, err); }
CALC(calc_batchnorm) { return nn_calc_batchnorm(in, fw, c, err); }
CALC(calc_layernorm) { return nn_calc_layernorm(in, fw, c, err); }
CALC(calc_embedding) { return nn_calc_embedding(in, l->vocab, l->units, fw, c, err); }
CALC(calc_rnn) { return nn_calc_rnn(in, &l->rnn, fw, c, err); }
CALC(calc_mha) { return nn_calc_mha(in, NULL, &l->mha, fw, c, err); } /* self-attention: key = value = query */
CALC(calc_transformer) { return nn_calc_transformer_encoder(in, l->nhead, l->ff, fw, c, err); }
CALC(calc_block) { return nn_calc_block(in, l->block, l->units, l->conv.stride, l->width, fw, c, err); }
CALC(calc_elementwise) { return nn_calc_elementwise(l->name, in, fw, c, err); }

/* ---- the table: one row per kind of layer */

#define KERNEL {"kernel", OPT_INT, AT(conv.kernel), 0, false}
#define STRIDE {"stride", OPT_INT, AT(conv.stride), 0, false}
#define PADDING {"padding", OPT_PADDING, AT(conv.pad), AT(conv.padding), false}
#define DILATION {"dilation", OPT_INT, AT(conv.dilation), 0, false}
#define GROUPS {"groups", OPT_INT, AT(conv.groups), 0, false}
#define MULTIPLIER {"multiplier", OPT_INT, AT(multiplier), 0, false}
#define CONV_BIAS {"bias", OPT_NOT_BOOL, AT(conv.no_bias), 0, false}
#define ACTIVATION {"activation", OPT_ACTIVATION, AT(activation), 0, false}
#define POOL_STRIDE {"stride", OPT_STRIDE, AT(pool.stride), 0, false}
#define POOL_PADDING {"padding", OPT_PADDING, AT(pool.pad), AT(pool.padding), false}
#define POOL_CEIL {"ceil", OPT_BOOL, AT(pool.ceil_mode), 0, false}, {"ceil_mode", OPT_BOOL, AT(pool.ceil_mode), 0, true}

static const nn_spec_kind KINDS[] = {
    /* input C H W | C L | D | seq T D | tokens T: the first line, and only there */
    {.words = "input", .keras = "InputLayer", .pytorch = "Input", .parse = parse_input},
    {.words = "dense", .aliases = "linear", .keras = "Dense", .pytorch = "Linear", .init = init_dense,
     .args = "UNITS (e.g. dense 10)", .pos = {AT(units)},
     .options = {{"bias", OPT_BOOL, AT(bias), 0, false}, ACTIVATION}, .calc = calc_dense},
    {.words = "conv1d", .keras = "Conv1D", .pytorch = "Conv1d", .init = init_conv,
     .args = "FILTERS (e.g. conv1d 32 kernel=3)", .pos = {AT(conv.filters)},
     .options = {KERNEL, STRIDE, PADDING, DILATION, GROUPS, CONV_BIAS, ACTIVATION},
     .kernel_example = "conv1d 32 kernel=3", .calc = calc_conv1d},
    {.words = "conv2d", .keras = "Conv2D", .pytorch = "Conv2d", .init = init_conv,
     .args = "FILTERS (e.g. conv2d 32 kernel=3)", .pos = {AT(conv.filters)},
     .options = {KERNEL, STRIDE, PADDING, DILATION, GROUPS, CONV_BIAS, ACTIVATION},
     .kernel_example = "conv2d 32 kernel=3", .calc = calc_conv2d},
    {.words = "depthwise2d", .keras = "DepthwiseConv2D", .pytorch = "Conv2d", .init = init_conv,
     .options = {KERNEL, MULTIPLIER, STRIDE, PADDING, DILATION, CONV_BIAS, ACTIVATION},
     .kernel_example = "depthwise2d kernel=3", .calc = calc_depthwise},
    {.words = "separable2d", .keras = "SeparableConv2D", .pytorch = "Conv2d+Conv2d", .init = init_conv,
     .args = "FILTERS (e.g. separable2d 64 kernel=3)", .pos = {AT(conv.filters)},
     .options = {KERNEL, MULTIPLIER, STRIDE, PADDING, DILATION, CONV_BIAS, ACTIVATION},
     .kernel_example = "separable2d 64 kernel=3", .calc = calc_separable},
    {.words = "convtranspose2d", .keras = "Conv2DTranspose", .pytorch = "ConvTranspose2d", .init = init_conv,
     .args = "FILTERS (e.g. convtranspose2d 16 kernel=3 stride=2)", .pos = {AT(conv.filters)},
     .options = {KERNEL, STRIDE, PADDING, {"output_padding", OPT_INT, AT(conv.output_padding), 0, false}, DILATION,
                 GROUPS, CONV_BIAS, ACTIVATION},
     .kernel_example = "convtranspose2d 16 kernel=3", .calc = calc_convt2d},
    /* the residual blocks of nn_residual.h, counted layer by layer (nn_calc_block) */
    {.words = "basicblock bottleneck invertedresidual", .type = type_block, .init = init_block,
     .args = "OUT channels (e.g. bottleneck 256 stride=2)", .pos = {AT(units)},
     .options = {STRIDE, {"width", OPT_INT, AT(width), 0, false}}, .calc = calc_block},
    {.words = "maxpool1d", .keras = "MaxPooling1D", .pytorch = "MaxPool1d", .init = init_maxpool,
     .args = "the pool size (e.g. maxpool2d 2)", .pos = {AT(pool.kernel)},
     .options = {POOL_STRIDE, POOL_PADDING, {"dilation", OPT_INT, AT(pool.dilation), 0, false}, POOL_CEIL},
     .calc = calc_pool1d},
    {.words = "maxpool2d", .keras = "MaxPooling2D", .pytorch = "MaxPool2d", .init = init_maxpool,
     .args = "the pool size (e.g. maxpool2d 2)", .pos = {AT(pool.kernel)},
     .options = {POOL_STRIDE, POOL_PADDING, {"dilation", OPT_INT, AT(pool.dilation), 0, false}, POOL_CEIL},
     .calc = calc_pool2d},
    {.words = "avgpool1d", .keras = "AveragePooling1D", .pytorch = "AvgPool1d", .init = init_avgpool,
     .args = "the pool size (e.g. maxpool2d 2)", .pos = {AT(pool.kernel)},
     .options = {POOL_STRIDE, POOL_PADDING, POOL_CEIL}, .calc = calc_pool1d},
    {.words = "avgpool2d", .keras = "AveragePooling2D", .pytorch = "AvgPool2d", .init = init_avgpool,
     .args = "the pool size (e.g. maxpool2d 2)", .pos = {AT(pool.kernel)},
     .options = {POOL_STRIDE, POOL_PADDING, POOL_CEIL}, .calc = calc_pool2d},
    {.words = "globalavgpool", .keras = "GlobalAveragePooling%dD", .pytorch = "AdaptiveAvgPool%dd",
     .calc = calc_globalavg},
    {.words = "globalmaxpool", .keras = "GlobalMaxPooling%dD", .pytorch = "AdaptiveMaxPool%dd",
     .calc = calc_globalmax},
    {.words = "flatten", .keras = "Flatten", .pytorch = "Flatten", .calc = calc_flatten},
    {.words = "batchnorm", .keras = "BatchNormalization", .pytorch = "BatchNorm%dd", .calc = calc_batchnorm},
    {.words = "layernorm", .keras = "LayerNormalization", .pytorch = "LayerNorm", .calc = calc_layernorm},
    {.words = "embedding", .keras = "Embedding", .pytorch = "Embedding",
     .args = "VOCAB DIM (e.g. embedding 10000 64)", .pos = {AT(vocab), AT(units)}, .calc = calc_embedding},
    {.words = "simple_rnn lstm gru", .aliases = "rnn", .type = type_rnn, .init = init_rnn,
     .args = "UNITS (e.g. lstm 256)", .pos = {AT(rnn.units)},
     .options = {{"layers", OPT_INT, AT(rnn.num_layers), 0, false},
                 {"bidirectional", OPT_BOOL, AT(rnn.bidirectional), 0, false},
                 {"return_sequences", OPT_BOOL, AT(rnn.return_sequences), 0, false},
                 {"reset_after", OPT_NOT_BOOL, AT(rnn.keras_reset_before), 0, false},
                 {"bias", OPT_NOT_BOOL, AT(rnn.no_bias), 0, false}},
     .calc = calc_rnn},
    {.words = "mha", .keras = "MultiHeadAttention", .pytorch = "MultiheadAttention",
     .args = "HEADS (e.g. mha 8 key_dim=64)", .pos = {AT(mha.num_heads)},
     .options = {{"key_dim", OPT_INT, AT(mha.key_dim), 0, false}, {"value_dim", OPT_INT, AT(mha.value_dim), 0, false},
                 {"embed_dim", OPT_INT, AT(mha.embed_dim), 0, false}, {"kdim", OPT_INT, AT(mha.kdim), 0, false},
                 {"vdim", OPT_INT, AT(mha.vdim), 0, false}, {"output_dim", OPT_INT, AT(mha.output_dim), 0, false},
                 {"bias", OPT_NOT_BOOL, AT(mha.no_bias), 0, false}},
     .calc = calc_mha},
    {.words = "transformer_encoder", .keras = "TransformerEncoder", .pytorch = "TransformerEncoderLayer",
     .args = "NHEAD (e.g. transformer_encoder 8 ff=2048)", .pos = {AT(nhead)},
     .options = {{"ff", OPT_INT, AT(ff), 0, false}, {"dim_feedforward", OPT_INT, AT(ff), 0, true}},
     .calc = calc_transformer},
    /* dropout RATE, 0 <= RATE < 1 */
    {.words = "dropout", .keras = "Dropout", .pytorch = "Dropout", .parse = parse_dropout, .calc = calc_elementwise},
    /* relu, sigmoid, ...: any word of ACTIVATIONS; the last row */
    {.type = type_activation, .parse = parse_activation, .calc = calc_elementwise},
};
enum { N_KINDS = sizeof KINDS / sizeof KINDS[0] };
static const nn_spec_kind *const INPUT = &KINDS[0], *const AN_ACTIVATION = &KINDS[N_KINDS - 1];

/* ---- the generic grammar: KEYWORD [positional ...] [key=value ...] */

static int n_positional(const nn_spec_kind *k) { return (k->pos[0] != 0) + (k->pos[1] != 0); }

/* "kernel, stride, padding, ...", or "none" */
static const char *options_list(const nn_spec_kind *k, char *buf, size_t n) {
  size_t o = 0;
  buf[0] = '\0';
  for (int i = 0; i < MAX_OPTIONS && k->options[i].key; i++)
    if (!k->options[i].alias && o < n) o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", k->options[i].key);
  return o ? buf : "none";
}

static const spec_option *option_of(const nn_spec_kind *k, const char *key) {
  for (int i = 0; i < MAX_OPTIONS && k->options[i].key; i++)
    if (!strcmp(k->options[i].key, key)) return &k->options[i];
  return NULL;
}

static bool set_option(nn_spec_layer *l, const spec_option *o, const char *val) {
  char *f = (char *)l + o->at;
  int v;
  bool b;
  switch (o->type) {
  case OPT_INT: return parse_int(val, (int *)f);
  case OPT_STRIDE: return parse_int(val, &v) && v >= 1 && (*(int *)f = v, true);
  case OPT_BOOL: return parse_bool(val, (bool *)f);
  case OPT_NOT_BOOL: return parse_bool(val, &b) && (*(bool *)f = !b, true);
  case OPT_PADDING: return parse_padding(val, (nn_pad_mode *)f, (int *)((char *)l + o->at2));
  case OPT_ACTIVATION:
    if (activation_index(val) < 0) return false;
    snprintf(f, sizeof l->activation, "%s", val);
    return true;
  }
  return false;
}

static const char *expected_value(option_type t) {
  switch (t) {
  case OPT_PADDING: return "valid, same or a number";
  case OPT_ACTIVATION: return "relu, sigmoid, tanh, softmax, gelu, ...";
  case OPT_STRIDE: return "a whole number >= 1";
  case OPT_BOOL:
  case OPT_NOT_BOOL: return "0 or 1";
  case OPT_INT: break;
  }
  return "a whole number";
}

static nn_status parse_args(const line_ctx *lc, const nn_spec_kind *k, nn_spec_layer *l, nn_error *err) {
  const char *w = lc->tok[0], *what = k->args ? k->args : "nothing";
  char buf[160];
  const char *opts = options_list(k, buf, sizeof buf);
  bool no_options = !strcmp(opts, "none"), have_kernel = false;
  int npos = n_positional(k), pos[2] = {0, 0}, seen = 0, n_given = 0;
  const spec_option *given[MAX_TOKENS]; /* the options set so far: one given twice is refused */
  const char *given_key[MAX_TOKENS], *given_val[MAX_TOKENS]; /* the key=value each was set by */
  for (int i = 1; i < lc->n; i++) {
    char *t = lc->tok[i], *eq = strchr(t, '=');
    if (!eq) {
      if (seen >= npos)
        return npos         ? line_fail(lc, err, "%s: expected only %s, got an extra '%s'", w, what, t)
               : no_options ? line_fail(lc, err, "%s: expected nothing after it, got '%s'", w, t)
                            : line_fail(lc, err, "%s: expected only options (%s), got '%s'", w, opts, t);
      if (!parse_int(t, &pos[seen]))
        return too_large(t) ? line_fail(lc, err, "%s: %s is too large; a size is at most %d", w, t, SPEC_INT_MAX)
                            : line_fail(lc, err, "%s: expected %s, got '%s'", w, what, t);
      seen++;
      continue;
    }
    *eq = '\0';
    const char *key = t, *val = eq + 1;
    const spec_option *o = option_of(k, key);
    if (!o)
      return no_options ? line_fail(lc, err, "%s: unknown option '%s'; %s takes no options", w, key, w)
                        : line_fail(lc, err, "%s: unknown option '%s'; %s takes: %s", w, key, w, opts);
    for (int g = 0; g < n_given; g++) /* by field, so an alias (ceil_mode for ceil) counts too */
      if (given[g]->at == o->at)
        return line_fail(lc, err, "%s: %s=%s sets what %s=%s already set; give it once", w, key, val,
                         given_key[g], given_val[g]);
    given[n_given] = o, given_key[n_given] = key, given_val[n_given++] = val;
    if (!set_option(l, o, val))
      return line_fail(lc, err, "%s: %s=%s: expected %s", w, key, val, expected_value(o->type));
    if (!strcmp(key, "kernel")) have_kernel = true;
  }
  if (seen < npos) return line_fail(lc, err, "%s: expected %s", w, what);
  if (k->kernel_example && !have_kernel)
    return line_fail(lc, err, "%s: expected kernel=K (e.g. %s)", w, k->kernel_example);
  for (int i = 0; i < npos; i++) *(int *)((char *)l + k->pos[i]) = pos[i];
  return NN_OK;
}

static const nn_spec_kind *kind_of(const char *w) {
  for (int i = 0; i < N_KINDS; i++)
    if (KINDS[i].words && (word_in(KINDS[i].words, w) || word_in(KINDS[i].aliases, w))) return &KINDS[i];
  return activation_index(w) >= 0 ? AN_ACTIVATION : NULL;
}

static nn_status parse_line(line_ctx *lc, nn_spec_layer *l, nn_error *err) {
  const char *w = lc->tok[0];
  memset(l, 0, sizeof *l);
  l->line = lc->line;
  snprintf(l->name, sizeof l->name, "%s", w);
  const nn_spec_kind *k = l->kind = kind_of(w);
  if (!k) {
    char known[512];
    size_t o = 0;
    for (int i = 0; i < N_KINDS && o < sizeof known; i++)
      for (const char *p = KINDS[i].words; p && *p && o < sizeof known; p += strspn(p, " ")) {
        size_t len = strcspn(p, " ");
        o += (size_t)snprintf(known + o, sizeof known - o, "%s%.*s", o ? ", " : "", (int)len, p);
        p += len;
      }
    return line_fail(lc, err, "unknown layer '%s'; expected one of %s, or an activation (%s, %s, %s, %s, ...)", w,
                     known, ACTIVATIONS[0].word, ACTIVATIONS[1].word, ACTIVATIONS[2].word, ACTIVATIONS[3].word);
  }
  if (k->parse) return k->parse(lc, l, err);
  if (k->init) k->init(l);
  return parse_args(lc, k, l, err);
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

/* ---- the spec */

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
  if (p && !strncmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a UTF-8 byte-order mark (Windows editors write one) */
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
    if (spec->count == 0 && l.kind != INPUT) {
      st = line_fail(&lc, err, "expected the input shape first (e.g. input 1 28 28), got '%s'", l.name);
      goto fail;
    }
    if (spec->count > 0 && l.kind == INPUT) {
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
  if (!l->kind || !l->kind->calc) return nn_fail(err, NN_ERR_ARG, "the input line has no calculation");
  return l->kind->calc(l, in, fw, c, err);
}

nn_status nn_model_spec_calc(const nn_model_spec *spec, nn_framework fw, nn_calc *calcs, nn_spec_totals *t,
                             nn_error *err) {
  memset(t, 0, sizeof *t);
  if (spec->count < 1 || spec->layers[0].kind != INPUT)
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

/* ---- the printed table */

/* The framework's class name for a layer on `in`, into buf. */
static const char *type_name(const nn_spec_layer *l, const nn_shape *in, nn_framework fw, char *buf, size_t n) {
  const nn_spec_kind *k = l->kind;
  if (k->type) return k->type(l, fw);
  const char *name = fw == NN_KERAS ? k->keras : k->pytorch;
  if (!strchr(name, '%')) return name;
  snprintf(buf, n, name, in->ndim == 3 ? 2 : 1);
  return buf;
}

nn_status nn_model_spec_print(const nn_model_spec *spec, nn_framework fw, FILE *out, nn_error *err) {
  nn_calc *calcs = calloc((size_t)(spec->count > 1 ? spec->count - 1 : 1), sizeof *calcs);
  if (!calcs) return nn_fail(err, NN_ERR_MEMORY, "%s: out of memory", spec->path);
  nn_spec_totals t;
  nn_status st = nn_model_spec_calc(spec, fw, calcs, &t, err); /* every error before any output */
  if (st != NN_OK) {
    free(calcs);
    return st;
  }
  char title[sizeof spec->path + 96];
  snprintf(title, sizeof title, "Model: \"%s\" in %s conventions (%s)", spec->path,
           fw == NN_KERAS ? "Keras'" : "PyTorch's",
           fw == NN_KERAS ? "channels last: (None, H, W, C)" : "channels first: (N, C, H, W)");
  nn_summary s;
  nn_summary_begin(&s, out, fw, title);
  nn_summary_row(&s, fw == NN_KERAS ? "input (InputLayer)" : "Input", &spec->layers[0].input, 0, 0, 0);
  int counts[N_KINDS] = {0}; /* Keras numbers the layers of a kind: dense, dense_1, ... */
  nn_shape cur = spec->layers[0].input;
  int row = 1;
  for (int i = 1; i < spec->count; i++) {
    const nn_spec_layer *l = &spec->layers[i];
    const nn_calc *c = &calcs[i - 1];
    char name[112], tbuf[40];
    const char *type = type_name(l, &cur, fw, tbuf, sizeof tbuf);
    if (fw == NN_KERAS) {
      int n = counts[l->kind - KINDS]++;
      const char *base = l->kind == AN_ACTIVATION ? "activation" : l->name;
      if (n) snprintf(name, sizeof name, "%s_%d (%s)", base, n, type);
      else snprintf(name, sizeof name, "%s (%s)", base, type);
    } else {
      snprintf(name, sizeof name, "%s-%d", type, row++);
    }
    nn_summary_row(&s, name, &c->out, c->params, c->trainable, c->buffers);
    /* PyTorch has no activation= argument: the activation is a module of its own. */
    if (fw == NN_PYTORCH && l->activation[0] && l->kind != AN_ACTIVATION) {
      int a = activation_index(l->activation);
      snprintf(name, sizeof name, "%s-%d", a < 0 ? l->activation : ACTIVATIONS[a].torch, row++);
      nn_summary_row(&s, name, &c->out, 0, 0, 0);
    }
    cur = c->out;
  }
  nn_summary_end(&s);
  free(calcs);
  return NN_OK;
}
