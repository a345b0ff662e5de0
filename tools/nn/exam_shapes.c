/* exam_shapes.c: `nn exam` problems on shapes and parameter counts: convolution,
 * transposed convolution, pooling, BatchNorm, small CNNs and MLPs, RNN/LSTM/GRU,
 * Embedding, multi-head attention and the Transformer encoder layer, plus the
 * framework defaults that differ between Keras and PyTorch.
 *
 * Every count and every output size is the chapters' calculators' (nn_calc_*,
 * nn_conv_out_len, nn_pool_out_len; nn_shapes.h lists where each lives) and the defaults
 * table's (framework_defaults.h): the same calculators `nn summary` uses.
 * Computed here, because no calculator gives a number for them: where the batch axis
 * goes (PyTorch RNNs without batch_first put T first), the shape of an RNN's h_n,
 * and the attention score tensor Q K^T, (N, heads, T_q, T_k).
 *
 * Shapes are asked WITH the batch axis, in the framework's order: PyTorch
 * (N, C, H, W), Keras channels last (N, H, W, C).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exam.h"
#include "framework_defaults.h"
#include "later_shapes.h"
#include "nn_batchnorm_shapes.h"
#include "nn_conv_shapes.h"
#include "nn_dense_shapes.h"
#include "nn_pool_shapes.h"

typedef struct { char s[512]; } text;

static void must(nn_status st, const nn_error *err) {
  if (st != NN_OK) nn_panic("nn exam: a generated problem is not valid: %s", err->msg);
}

static int pick(nn_rng *r, int n, const int *from) { return exam_pick(r, n, from); }
#define PICK(r, arr) pick((r), (int)(sizeof(arr) / sizeof(arr)[0]), (arr))

static const char *fw_title(nn_framework fw) { return fw == NN_KERAS ? "Keras" : "PyTorch"; }

/* ---- shapes with the batch axis, in the framework's order */

static int batch_dims(int N, const nn_shape *s, nn_framework fw, long *out) {
  int n = 0;
  out[n++] = N;
  if (fw == NN_KERAS && s->channels_first && s->ndim > 1) {
    for (int i = 1; i < s->ndim; i++) out[n++] = s->dim[i];
    out[n++] = s->dim[0];
  } else {
    for (int i = 0; i < s->ndim; i++) out[n++] = s->dim[i];
  }
  return n;
}

static text dims_txt(int n, const long *d) {
  text t = {"("};
  for (int i = 0; i < n; i++) {
    size_t used = strlen(t.s);
    snprintf(t.s + used, sizeof t.s - used, "%s%ld", i ? ", " : "", d[i]);
  }
  strncat(t.s, ")", sizeof t.s - strlen(t.s) - 1);
  return t;
}

static text shape_txt(int N, const nn_shape *s, nn_framework fw) {
  long d[NN_SHAPE_MAX + 1];
  return dims_txt(batch_dims(N, s, fw, d), d);
}

/* one example's shape as the framework prints it: "(N, 16, 32, 32)", "(None, 32, 32, 16)" */
#define FMT(shape, fw) (nn_shape_format((shape), (fw)).s)

static void answer_batch_shape(exam_problem *p, int N, const nn_shape *s, nn_framework fw) {
  long d[NN_SHAPE_MAX + 1];
  exam_answer_shape(p, batch_dims(N, s, fw, d), d);
}

static const char *layout(const nn_shape *s, nn_framework fw) {
  if (!s->channels_first) return "";
  if (s->ndim == 3) return fw == NN_KERAS ? " (N, H, W, C)" : " (N, C, H, W)";
  return fw == NN_KERAS ? " (N, L, C)" : " (N, C, L)";
}

/* ---- layers as the framework writes them */

static text conv_layer(nn_framework fw, int nd, bool transposed, int cin, const nn_conv_opts *o, const char *extra) {
  text t;
  size_t n;
  if (fw == NN_PYTORCH) {
    n = (size_t)snprintf(t.s, sizeof t.s, "nn.%s%dd(%d, %d, kernel_size=%d", transposed ? "ConvTranspose" : "Conv",
                         nd, cin, o->filters, o->kernel);
    if (o->stride != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", stride=%d", o->stride);
    if (o->pad == NN_PAD_EXPLICIT && o->padding > 0)
      n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", padding=%d", o->padding);
    if (o->pad == NN_PAD_SAME) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", padding='same'");
    if (o->output_padding) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", output_padding=%d", o->output_padding);
    if (o->dilation != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", dilation=%d", o->dilation);
    if (o->groups != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", groups=%d", o->groups);
    if (o->no_bias) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", bias=False");
  } else {
    n = (size_t)snprintf(t.s, sizeof t.s, "layers.Conv%dD%s(%d, %d", nd, transposed ? "Transpose" : "", o->filters,
                         o->kernel);
    if (o->stride != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", strides=%d", o->stride);
    if (o->pad == NN_PAD_SAME) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", padding='same'");
    if (o->output_padding) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", output_padding=%d", o->output_padding);
    if (o->dilation != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", dilation_rate=%d", o->dilation);
    if (o->groups != 1) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", groups=%d", o->groups);
    if (o->no_bias) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", use_bias=False");
  }
  snprintf(t.s + n, sizeof t.s - n, "%s)", extra ? extra : "");
  return t;
}

static text pool_layer(nn_framework fw, int nd, const nn_pool_opts *o) {
  text t;
  bool mx = o->kind == NN_POOL_MAX;
  size_t n;
  if (fw == NN_PYTORCH) {
    n = (size_t)snprintf(t.s, sizeof t.s, "nn.%s%dd(%d", mx ? "MaxPool" : "AvgPool", nd, o->kernel);
    if (o->stride && o->stride != o->kernel) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", stride=%d", o->stride);
    if (o->padding) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", padding=%d", o->padding);
    if (o->ceil_mode) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", ceil_mode=True");
  } else {
    n = (size_t)snprintf(t.s, sizeof t.s, "layers.%s%dD(%d", mx ? "MaxPooling" : "AveragePooling", nd, o->kernel);
    if (o->stride && o->stride != o->kernel) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", strides=%d", o->stride);
    if (o->pad == NN_PAD_SAME) n += (size_t)snprintf(t.s + n, sizeof t.s - n, ", padding='same'");
  }
  snprintf(t.s + n, sizeof t.s - n, ")");
  return t;
}

static text dense_layer(nn_framework fw, int in, int units, const char *act) {
  text t;
  if (fw == NN_PYTORCH) snprintf(t.s, sizeof t.s, "nn.Linear(%d, %d)", in, units);
  else if (act) snprintf(t.s, sizeof t.s, "layers.Dense(%d, activation='%s')", units, act);
  else snprintf(t.s, sizeof t.s, "layers.Dense(%d)", units);
  return t;
}

/* ==== conv ==== */

static void conv_rule(exam_problem *p, const nn_conv_opts *o, nn_framework fw) {
  if (o->pad == NN_PAD_SAME && fw == NN_KERAS) exam_step(p, "padding='same': out = ceil(L / stride) per axis");
  else exam_step(p, "per spatial axis: out = floor((L + 2p - d(k - 1) - 1) / s) + 1");
}

/* 0: valid, stride 1; 1: padding (PyTorch p, Keras 'same') and a stride; 2: stride 2, valid; 3: dilation 2 */
enum { CONV_SHAPE_VARIANTS = 4 };

static void conv_shape_problem(nn_rng *r, nn_framework fw, exam_problem *p, int nd) {
  static const int batch[] = {1, 8, 16, 32, 64}, chans[] = {1, 3, 16, 32}, filters[] = {8, 16, 32, 64, 128},
                   kernels[] = {3, 5, 7}, sizes2[] = {28, 32, 31, 64, 57, 224}, sizes1[] = {100, 128, 99, 50, 64};
  int variant = (int)nn_rng_below(r, CONV_SHAPE_VARIANTS);
  int N = PICK(r, batch), C = PICK(r, chans), H = nd == 2 ? PICK(r, sizes2) : PICK(r, sizes1);
  int W = nd == 2 && nn_rng_below(r, 3) == 0 ? PICK(r, sizes2) : H;
  nn_conv_opts o = nn_conv_opts_default(PICK(r, filters), PICK(r, kernels));
  switch (variant) {
  case 1:
    o.stride = exam_int(r, 1, 2);
    if (fw == NN_KERAS) o.pad = NN_PAD_SAME;
    else o.pad = NN_PAD_EXPLICIT, o.padding = exam_int(r, 1, o.kernel / 2);
    break;
  case 2: o.stride = exam_int(r, 2, 3); break;
  case 3:
    o.kernel = 3, o.dilation = 2;
    if (fw == NN_PYTORCH && nn_rng_below(r, 2)) o.pad = NN_PAD_EXPLICIT, o.padding = 2;
    break;
  default: break;
  }
  nn_shape in = nd == 2 ? nn_shape_image(C, H, W) : nn_shape_signal(C, H);
  nn_calc c;
  nn_error err;
  must(nd == 2 ? nn_calc_conv2d(&in, &o, fw, &c, &err) : nn_calc_conv1d(&in, &o, fw, &c, &err), &err);
  exam_ask(p, "%s is applied to a batch of shape %s%s. What is the output shape, batch axis included?",
           conv_layer(fw, nd, false, C, &o, NULL).s, shape_txt(N, &in, fw).s, layout(&in, fw));
  conv_rule(p, &o, fw);
  nn_len lh, lw;
  must(nn_conv_out_len(H, &o, fw, &lh, &err), &err);
  if (nd == 1) {
    exam_step(p, "L: %s", lh.formula);
  } else if (W == H) {
    exam_step(p, "H = W: %s", lh.formula);
  } else {
    must(nn_conv_out_len(W, &o, fw, &lw, &err), &err);
    exam_step(p, "H: %s", lh.formula);
    exam_step(p, "W: %s", lw.formula);
  }
  exam_step(p, "channels: the number of filters, %d; the batch axis stays %d", o.filters, N);
  exam_step(p, "output %s%s", shape_txt(N, &c.out, fw).s, layout(&c.out, fw));
  answer_batch_shape(p, N, &c.out, fw);
}

static void make_conv2d_shape(nn_rng *r, nn_framework fw, exam_problem *p) { conv_shape_problem(r, fw, p, 2); }
static void make_conv1d_shape(nn_rng *r, nn_framework fw, exam_problem *p) { conv_shape_problem(r, fw, p, 1); }

/* PyTorch 0: k4 s2 p1, 1: k3 s2 p1 output_padding 1, 2: k 2/3/5, s 1/2, p 0;
 * Keras   0: s2 'same', 1: k3 s2 'valid', 2: k 2/3/5, s1 'valid' */
enum { CONVT_VARIANTS = 3 };

static void make_convtranspose_shape(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int batch[] = {1, 8, 16, 64}, chans[] = {16, 32, 64, 128}, filters[] = {3, 16, 32, 64},
                   sizes[] = {4, 7, 8, 14, 16}, k3[] = {2, 3, 5};
  int variant = (int)nn_rng_below(r, CONVT_VARIANTS), N = PICK(r, batch), C = PICK(r, chans), H = PICK(r, sizes);
  nn_conv_opts o = nn_conv_opts_default(PICK(r, filters), 4);
  if (fw == NN_PYTORCH) {
    if (variant == 0) o.kernel = 4, o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1;
    if (variant == 1) o.kernel = 3, o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1, o.output_padding = 1;
    if (variant == 2) o.kernel = PICK(r, k3), o.stride = exam_int(r, 1, 2);
  } else {
    if (variant == 0) o.kernel = exam_int(r, 3, 5), o.stride = 2, o.pad = NN_PAD_SAME;
    if (variant == 1) o.kernel = 3, o.stride = 2;
    if (variant == 2) o.kernel = PICK(r, k3), o.stride = 1;
  }
  nn_shape in = nn_shape_image(C, H, H);
  nn_calc c;
  nn_error err;
  nn_len lh;
  must(nn_calc_conv_transpose2d(&in, &o, fw, &c, &err), &err);
  must(nn_conv_transpose_out_len(H, &o, fw, &lh, &err), &err);
  exam_ask(p, "%s is applied to a batch of shape %s%s. What is the output shape, batch axis included?",
           conv_layer(fw, 2, true, C, &o, NULL).s, shape_txt(N, &in, fw).s, layout(&in, fw));
  if (fw == NN_PYTORCH)
    exam_step(p, "transposed conv, per axis: out = (L - 1) s - 2p + d(k - 1) + output_padding + 1");
  else if (o.pad == NN_PAD_SAME)
    exam_step(p, "transposed conv with padding='same': out = L * s (the inverse of a 'same' conv's ceil(L / s))");
  else
    exam_step(p, "transposed conv with padding='valid': out = L * s + max(k - s, 0)");
  exam_step(p, "H = W: %s", lh.formula);
  exam_step(p, "channels: %d filters", o.filters);
  exam_step(p, "output %s%s", shape_txt(N, &c.out, fw).s, layout(&c.out, fw));
  answer_batch_shape(p, N, &c.out, fw);
}

/* 0: Conv2d, 1: Conv2d without bias, 2: Conv1d, 3: depthwise, 4: separable, 5: transposed */
enum { CONV_PARAM_VARIANTS = 6 };

static void make_conv_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int chans[] = {1, 3, 16, 32, 64}, filters[] = {8, 16, 32, 64, 128}, kernels[] = {1, 3, 5},
                   mult[] = {1, 2};
  int variant = (int)nn_rng_below(r, CONV_PARAM_VARIANTS), C = PICK(r, chans);
  if (variant >= 3 && C == 1) C = 3; /* a depthwise conv of one channel is an ordinary conv */
  nn_conv_opts o = nn_conv_opts_default(PICK(r, filters), PICK(r, kernels));
  if (variant >= 3 && o.kernel == 1) o.kernel = 3;
  if (variant == 1) o.no_bias = true;
  nn_shape in = variant == 2 ? nn_shape_signal(C, 100) : nn_shape_image(C, 32, 32);
  nn_calc c;
  nn_error err;
  const char *count = fw == NN_KERAS ? "How many parameters does model.summary() list for it?"
                                     : "How many parameters does it have (sum(p.numel() for p in layer.parameters()))?";
  switch (variant) {
  case 0:
  case 1:
  case 2:
    must(variant == 2 ? nn_calc_conv1d(&in, &o, fw, &c, &err) : nn_calc_conv2d(&in, &o, fw, &c, &err), &err);
    exam_ask(p, "%s on inputs of shape %s. %s", conv_layer(fw, variant == 2 ? 1 : 2, false, C, &o, NULL).s,
             FMT(&in, fw), count);
    exam_step(p, "params = (k%s * C_in + %s) * C_out: one %s kernel per (input, output) channel pair%s",
              variant == 2 ? "" : "*k", o.no_bias ? "0" : "1", variant == 2 ? "k" : "k x k",
              o.no_bias ? ", no bias" : ", one bias per filter");
    break;
  case 3: {
    int m = PICK(r, mult);
    must(nn_calc_depthwise_conv2d(&in, m, &o, fw, &c, &err), &err);
    if (fw == NN_KERAS)
      exam_ask(p, "layers.DepthwiseConv2D(%d%s) on inputs of shape %s. %s", o.kernel,
               m == 2 ? ", depth_multiplier=2" : "", FMT(&in, fw), count);
    else
      exam_ask(p, "nn.Conv2d(%d, %d, kernel_size=%d, groups=%d), a depthwise convolution. %s", C, C * m, o.kernel, C,
               count);
    exam_step(p, "depthwise: one k x k filter per input channel (x multiplier %d), each sees one channel", m);
    break;
  }
  case 4:
    must(nn_calc_separable_conv2d(&in, 1, &o, fw, &c, &err), &err);
    if (fw == NN_KERAS)
      exam_ask(p, "layers.SeparableConv2D(%d, %d) on inputs of shape %s. %s", o.filters, o.kernel,
               FMT(&in, fw), count);
    else
      exam_ask(p, "A depthwise-separable convolution: nn.Conv2d(%d, %d, kernel_size=%d, groups=%d, bias=False) "
               "followed by nn.Conv2d(%d, %d, kernel_size=1). How many parameters do the two have together?",
               C, C, o.kernel, C, C, o.filters);
    exam_step(p, "depthwise k*k*C (no bias) + pointwise 1x1: C*F + F");
    break;
  default:
    must(nn_calc_conv_transpose2d(&in, &o, fw, &c, &err), &err);
    exam_ask(p, "%s on inputs of shape %s. %s", conv_layer(fw, 2, true, C, &o, NULL).s, FMT(&in, fw), count);
    exam_step(p, "transposed conv: weight (C_in, C_out, k, k) + C_out biases: the same count as a conv C_out -> C_in "
              "plus the bias");
  }
  exam_step(p, "%s", c.formula);
  exam_answer_int(p, c.params);
}

/* Keras 0: Total, 1: trainable, 2: non-trainable; PyTorch 0: parameters(), 1: buffers, 2: state_dict values */
enum { BN_VARIANTS = 3 };

static void make_batchnorm_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int chans[] = {16, 32, 64, 128, 256};
  int variant = (int)nn_rng_below(r, BN_VARIANTS), C = PICK(r, chans);
  nn_shape in = nn_shape_image(C, 16, 16);
  nn_calc c;
  nn_error err;
  must(nn_calc_batchnorm(&in, fw, &c, &err), &err);
  long v;
  if (fw == NN_KERAS) {
    static const char *what[] = {"Total params", "Trainable params", "Non-trainable params"};
    exam_ask(p, "layers.BatchNormalization() follows a Conv2D with %d filters. What does model.summary() list "
             "as its %s?", C, what[variant]);
    exam_step(p, "%s", c.formula);
    v = variant == 0 ? c.params : variant == 1 ? c.trainable : c.non_trainable;
    exam_step(p, "%s = %ld", what[variant], v);
  } else {
    static const char *what[] = {"sum(p.numel() for p in bn.parameters())",
                                 "the number of values in its buffers (bn.buffers())",
                                 "the number of values in bn.state_dict()"};
    exam_ask(p, "nn.BatchNorm2d(%d). What is %s?", C, what[variant]);
    exam_step(p, "%s", c.formula);
    v = variant == 0 ? c.params : variant == 1 ? c.buffers : c.params + c.buffers;
    if (variant == 0) exam_step(p, "parameters: weight (gamma) and bias (beta), %ld", c.params);
    if (variant == 1)
      exam_step(p, "buffers: running_mean %d + running_var %d + num_batches_tracked 1 = %ld", C, C, c.buffers);
    if (variant == 2) exam_step(p, "state_dict = parameters %ld + buffers %ld = %ld", c.params, c.buffers, v);
  }
  exam_answer_int(p, v);
}

/* ---- small models */

/* 0: CNN total, 1: the Linear's in_features (the flattened size), 2: MLP total, 3: CNN with BatchNorm total */
enum { MODEL_VARIANTS = 4 };

typedef struct {
  nn_shape x;
  long total;
} chain;

static void chain_step(exam_problem *p, chain *ch, const char *layer, nn_status st, const nn_calc *c,
                       const nn_error *err, nn_framework fw) {
  must(st, err);
  ch->x = c->out;
  ch->total += c->params;
  if (c->params) exam_step(p, "%-44s %s -> %s", layer, c->formula, FMT(&c->out, fw));
  else exam_step(p, "%-44s 0 params -> %s", layer, FMT(&c->out, fw));
}

static void make_model_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, MODEL_VARIANTS);
  nn_calc c;
  nn_error err;
  chain ch = {.total = 0};
  bool keras = fw == NN_KERAS;
  const char *count = keras ? "What is the Total params line of model.summary()?"
                            : "How many parameters does it have (sum(p.numel() for p in model.parameters()))?";
  if (variant == 2) {
    static const int ins[] = {784, 3072, 100, 20}, hidden[] = {32, 64, 128, 256, 512}, outs[] = {10, 1, 3};
    int D = PICK(r, ins), layers = exam_int(r, 2, 3), width[4], out = PICK(r, outs);
    for (int i = 0; i < layers - 1; i++) width[i] = PICK(r, hidden);
    width[layers - 1] = out;
    ch.x = nn_shape_vector(D);
    exam_ask(p, "An MLP on inputs of %d features:\n\n", D);
    if (keras) exam_ask(p, "    keras.Sequential([keras.Input((%d,)),\n", D);
    else exam_ask(p, "    nn.Sequential(\n");
    int prev = D;
    for (int i = 0; i < layers; i++) {
      bool last = i == layers - 1;
      exam_ask(p, "        %s,%s\n", dense_layer(fw, prev, width[i], last ? NULL : "relu").s,
               !keras && !last ? " nn.ReLU()," : "");
      prev = width[i];
    }
    exam_ask(p, "    %s\n\n%s", keras ? "])" : ")", count);
    exam_step(p, "Dense/Linear(in, out): in*out weights + out biases; activations have none");
    prev = D;
    for (int i = 0; i < layers; i++) {
      text l = dense_layer(fw, prev, width[i], NULL);
      chain_step(p, &ch, l.s, nn_calc_dense(&ch.x, width[i], true, fw, &c, &err), &c, &err, fw);
      prev = width[i];
    }
    exam_step(p, "total = %ld", ch.total);
    exam_answer_int(p, ch.total);
    return;
  }
  static const int in_c[] = {1, 3}, in_s[] = {28, 32}, f1s[] = {8, 16, 32}, f2s[] = {16, 32, 64}, k1s[] = {3, 5};
  int C = PICK(r, in_c), S = PICK(r, in_s), f1 = PICK(r, f1s), f2 = PICK(r, f2s), k1 = PICK(r, k1s), classes = 10;
  bool bn = variant == 3;
  nn_conv_opts o1 = nn_conv_opts_default(f1, k1), o2 = nn_conv_opts_default(f2, 3);
  nn_pool_opts pool = nn_pool_opts_default(NN_POOL_MAX, 2);
  /* the flattened size comes from the calculator first: PyTorch's Linear must name it */
  nn_shape x = nn_shape_image(C, S, S);
  long flat;
  {
    nn_calc t1, t2, t3, t4; /* a calc is cleared first: never pass its own .out as the input */
    must(nn_calc_conv2d(&x, &o1, fw, &t1, &err), &err);
    must(nn_calc_pool2d(&t1.out, &pool, fw, &t2, &err), &err);
    must(nn_calc_conv2d(&t2.out, &o2, fw, &t3, &err), &err);
    must(nn_calc_pool2d(&t3.out, &pool, fw, &t4, &err), &err);
    flat = nn_shape_numel(&t4.out);
  }
  const char *relu = keras ? ", activation='relu'" : NULL;
  text conv1 = conv_layer(fw, 2, false, C, &o1, relu), conv2 = conv_layer(fw, 2, false, f1, &o2, relu);
  text pl = pool_layer(fw, 2, &pool), bnl, lin;
  snprintf(bnl.s, sizeof bnl.s, keras ? "layers.BatchNormalization()" : "nn.BatchNorm2d(%d)", f1);
  if (keras) snprintf(lin.s, sizeof lin.s, "layers.Dense(%d)", classes);
  else if (variant == 1) snprintf(lin.s, sizeof lin.s, "nn.Linear(?, %d)", classes);
  else snprintf(lin.s, sizeof lin.s, "nn.Linear(%ld, %d)", flat, classes);
  exam_ask(p, "A small CNN on images of shape %s%s:\n\n", FMT(&x, fw), keras ? " (channels last)" : "");
  if (keras) {
    exam_ask(p, "    keras.Sequential([keras.Input((%d, %d, %d)),\n        %s,\n", S, S, C, conv1.s);
    if (bn) exam_ask(p, "        %s,\n", bnl.s);
    exam_ask(p, "        %s,\n        %s,\n        %s,\n        layers.Flatten(),\n        %s])\n\n", pl.s, conv2.s,
             pl.s, lin.s);
  } else {
    exam_ask(p, "    nn.Sequential(\n        %s,%s%s%s nn.ReLU(), %s,\n", conv1.s, bn ? " " : "", bn ? bnl.s : "", bn ? "," : "", pl.s);
    exam_ask(p, "        %s, nn.ReLU(), %s,\n        nn.Flatten(),\n        %s)\n\n", conv2.s, pl.s, lin.s);
  }
  if (variant == 1)
    exam_ask(p, "%s", keras ? "How many features does Flatten() hand to the Dense layer?"
                            : "What must ? (in_features of the Linear layer) be?");
  else
    exam_ask(p, "%s", count);
  ch.x = x;
  exam_step(p, "conv: (k*k*C_in + 1)*C_out; pooling, ReLU and Flatten have no parameters");
  chain_step(p, &ch, conv1.s, nn_calc_conv2d(&ch.x, &o1, fw, &c, &err), &c, &err, fw);
  if (bn) {
    chain_step(p, &ch, bnl.s, nn_calc_batchnorm(&ch.x, fw, &c, &err), &c, &err, fw);
    if (keras) exam_step(p, "  (Keras' Total counts BatchNorm's moving mean and variance: %ld non-trainable)",
                         c.non_trainable);
    else exam_step(p, "  (running_mean and running_var are buffers, not parameters)");
  }
  chain_step(p, &ch, pl.s, nn_calc_pool2d(&ch.x, &pool, fw, &c, &err), &c, &err, fw);
  chain_step(p, &ch, conv2.s, nn_calc_conv2d(&ch.x, &o2, fw, &c, &err), &c, &err, fw);
  chain_step(p, &ch, pl.s, nn_calc_pool2d(&ch.x, &pool, fw, &c, &err), &c, &err, fw);
  chain_step(p, &ch, "Flatten", nn_calc_flatten(&ch.x, fw, &c, &err), &c, &err, fw);
  exam_step(p, "  flatten: %s", c.shape_formula);
  if (variant == 1) {
    exam_answer_int(p, flat);
    return;
  }
  if (!keras) snprintf(lin.s, sizeof lin.s, "nn.Linear(%ld, %d)", flat, classes);
  chain_step(p, &ch, lin.s, nn_calc_dense(&ch.x, classes, true, fw, &c, &err), &c, &err, fw);
  exam_step(p, "total = %ld", ch.total);
  exam_answer_int(p, ch.total);
}

/* ==== pool ==== */

/* 0: k x k, stride k; 1: k3 s2 (overlapping); 2: PyTorch padding or ceil_mode, Keras 'same';
 * 3: 1-D average pooling; 4: global average pooling */
enum { POOL_VARIANTS = 5 };

static void make_pool_shape(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int batch[] = {1, 8, 32, 64}, chans[] = {3, 16, 64, 96, 256}, s0[] = {28, 27, 32, 15, 224, 55},
                   s1[] = {55, 27, 13, 32, 31}, odd[] = {7, 13, 15, 27, 31}, len1[] = {100, 99, 50, 128};
  int variant = (int)nn_rng_below(r, POOL_VARIANTS), N = PICK(r, batch), C = PICK(r, chans);
  nn_calc c;
  nn_error err;
  nn_len l;
  if (variant == 4) {
    nn_shape in = nn_shape_image(C, exam_int(r, 4, 14), 0);
    in.dim[2] = in.dim[1];
    must(nn_calc_global_pool(&in, NN_POOL_AVG, fw, &c, &err), &err);
    exam_ask(p, "%s is applied to a batch of shape %s%s. What is the output shape, batch axis included?",
             fw == NN_KERAS ? "layers.GlobalAveragePooling2D()" : "nn.AdaptiveAvgPool2d(1)", shape_txt(N, &in, fw).s,
             layout(&in, fw));
    exam_step(p, "%s", c.shape_formula);
    exam_step(p, "output %s", shape_txt(N, &c.out, fw).s);
    answer_batch_shape(p, N, &c.out, fw);
    return;
  }
  bool one_d = variant == 3;
  nn_pool_opts o = nn_pool_opts_default(one_d ? NN_POOL_AVG : NN_POOL_MAX, exam_int(r, 2, 3));
  int H = variant == 0 ? PICK(r, s0) : variant == 1 ? PICK(r, s1) : variant == 2 ? PICK(r, odd) : PICK(r, len1);
  if (variant == 1) o.kernel = 3, o.stride = 2;
  if (variant == 2) {
    if (fw == NN_KERAS) o.pad = NN_PAD_SAME, o.stride = 2;
    else if (nn_rng_below(r, 2)) o.kernel = 3, o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1;
    else o.kernel = 2, o.ceil_mode = true;
  }
  if (one_d) o = nn_pool_opts_default(NN_POOL_AVG, exam_int(r, 2, 4));
  nn_shape in = one_d ? nn_shape_signal(C, H) : nn_shape_image(C, H, H);
  must(one_d ? nn_calc_pool1d(&in, &o, fw, &c, &err) : nn_calc_pool2d(&in, &o, fw, &c, &err), &err);
  must(nn_pool_out_len(H, &o, fw, &l, &err), &err);
  exam_ask(p, "%s is applied to a batch of shape %s%s. What is the output shape, batch axis included?",
           pool_layer(fw, one_d ? 1 : 2, &o).s, shape_txt(N, &in, fw).s, layout(&in, fw));
  if (!o.stride || o.stride == o.kernel) exam_step(p, "the stride defaults to the kernel size, %d", o.kernel);
  if (o.pad == NN_PAD_SAME) exam_step(p, "padding='same': out = ceil(L / s)");
  else if (o.ceil_mode) exam_step(p, "ceil_mode=True: out = ceil((L + 2p - k) / s) + 1 (a last partial window counts)");
  else exam_step(p, "per axis: out = floor((L + 2p - k) / s) + 1");
  exam_step(p, "%s: %s", one_d ? "L" : "H = W", l.formula);
  exam_step(p, "channels unchanged (%d): pooling works on each channel alone", C);
  exam_step(p, "output %s%s", shape_txt(N, &c.out, fw).s, layout(&c.out, fw));
  answer_batch_shape(p, N, &c.out, fw);
}

/* 0: conv + pool, 1: (conv + pool) twice */
enum { FEATURE_MAP_VARIANTS = 2 };

static void make_feature_map(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int batch[] = {1, 16, 32}, chans[] = {1, 3}, sizes[] = {28, 32, 64, 96}, f[] = {16, 32, 64};
  int blocks = 1 + (int)nn_rng_below(r, FEATURE_MAP_VARIANTS), N = PICK(r, batch), C = PICK(r, chans);
  nn_shape x = nn_shape_image(C, PICK(r, sizes), 0), in;
  x.dim[2] = x.dim[1], in = x;
  nn_pool_opts pool = nn_pool_opts_default(NN_POOL_MAX, 2);
  nn_conv_opts o[2];
  for (int b = 0; b < blocks; b++) {
    o[b] = nn_conv_opts_default(PICK(r, f), exam_int(r, 1, 2) * 2 + 1);
    if (nn_rng_below(r, 2)) { /* keep the size: Keras 'same', PyTorch padding = k // 2 */
      if (fw == NN_KERAS) o[b].pad = NN_PAD_SAME;
      else o[b].pad = NN_PAD_EXPLICIT, o[b].padding = o[b].kernel / 2;
    }
  }
  exam_ask(p, "A batch of shape %s%s goes through", shape_txt(N, &in, fw).s, layout(&in, fw));
  int cin = C;
  for (int b = 0; b < blocks; b++) {
    exam_ask(p, "%s %s, %s", b ? "," : "", conv_layer(fw, 2, false, cin, &o[b], NULL).s, pool_layer(fw, 2, &pool).s);
    cin = o[b].filters;
  }
  exam_ask(p, ". What is the output shape, batch axis included?");
  nn_calc c;
  nn_error err;
  for (int b = 0; b < blocks; b++) {
    must(nn_calc_conv2d(&x, &o[b], fw, &c, &err), &err);
    exam_step(p, "conv %dx%d%s: %s -> %s", o[b].kernel, o[b].kernel,
              o[b].pad == NN_PAD_VALID ? " (valid)" : ", size kept", c.shape_formula, shape_txt(N, &c.out, fw).s);
    x = c.out;
    must(nn_calc_pool2d(&x, &pool, fw, &c, &err), &err);
    exam_step(p, "pool 2: %s -> %s", c.shape_formula, shape_txt(N, &c.out, fw).s);
    x = c.out;
  }
  answer_batch_shape(p, N, &x, fw);
}

/* ==== rnn ==== */

static const char *rnn_name(nn_rnn_kind k, nn_framework fw) {
  static const char *names[2][3] = {{"SimpleRNN", "LSTM", "GRU"}, {"RNN", "LSTM", "GRU"}};
  return names[fw == NN_PYTORCH][k];
}

/* 0: SimpleRNN, 1: LSTM, 2: GRU, 3: bidirectional, 4: two stacked layers */
enum { RNN_PARAM_VARIANTS = 5 };

static void make_rnn_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int ds[] = {8, 10, 16, 32, 50, 64, 100}, hs[] = {16, 20, 32, 64, 128, 256};
  int variant = (int)nn_rng_below(r, RNN_PARAM_VARIANTS), D = PICK(r, ds), H = PICK(r, hs), T = exam_int(r, 2, 10) * 10;
  nn_rnn_kind kind = variant <= 2 ? (nn_rnn_kind)variant : (nn_rnn_kind)(1 + nn_rng_below(r, 2));
  nn_rnn_opts o = nn_rnn_opts_default(kind, H);
  o.bidirectional = variant == 3, o.num_layers = variant == 4 ? 2 : 1;
  nn_shape in = nn_shape_seq(T, D);
  nn_calc c;
  nn_error err;
  must(nn_calc_rnn(&in, &o, fw, &c, &err), &err);
  const char *name = rnn_name(kind, fw);
  if (fw == NN_PYTORCH) {
    exam_ask(p, "nn.%s(input_size=%d, hidden_size=%d%s%s, batch_first=True). How many parameters does it have?", name,
             D, H, o.num_layers == 2 ? ", num_layers=2" : "", o.bidirectional ? ", bidirectional=True" : "");
  } else if (variant == 4) {
    exam_ask(p, "layers.%s(%d, return_sequences=True) followed by layers.%s(%d), on inputs of shape %s. How many "
             "parameters do the two have together?", name, H, name, H, FMT(&in, fw));
  } else {
    char l[64];
    snprintf(l, sizeof l, "layers.%s(%d)", name, H);
    exam_ask(p, "%s%s%s on inputs of shape %s. How many parameters does model.summary() list for it?",
             o.bidirectional ? "layers.Bidirectional(" : "", l, o.bidirectional ? ")" : "", FMT(&in, fw));
  }
  int G = kind == NN_RNN_LSTM ? 4 : kind == NN_RNN_GRU ? 3 : 1;
  exam_step(p, "%s has %d gate%s; each has W (D x H), U (H x H) and its bias%s", name, G, G > 1 ? "s" : "",
            fw == NN_PYTORCH ? "es b_ih and b_hh (2H)" : kind == NN_RNN_GRU ? "es (2H: reset_after=True)" : " (H)");
  const nn_framework_default *d = nn_framework_default_find(kind == NN_RNN_GRU ? "gru_reset_after" : "rnn_bias_vectors");
  if (d) exam_step(p, "(%s)", d->explain);
  if (o.bidirectional) exam_step(p, "bidirectional: a forward and a backward copy, x2");
  if (o.num_layers == 2) exam_step(p, "the second layer's input is the first layer's output, %d features", H);
  exam_step(p, "%s", c.formula);
  exam_answer_int(p, c.params);
}

/* PyTorch 0: output (batch_first), 1: output (T, N, H) without batch_first, 2: h_n, 3: bidirectional output;
 * Keras   0: last step, 1: return_sequences, 2: Bidirectional last step, 3: Bidirectional sequences */
enum { RNN_SHAPE_VARIANTS = 4 };

static void make_rnn_shape(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int batch[] = {8, 16, 32, 64}, ds[] = {10, 32, 50, 100}, hs[] = {20, 32, 64, 128};
  int variant = (int)nn_rng_below(r, RNN_SHAPE_VARIANTS), N = PICK(r, batch), D = PICK(r, ds), H = PICK(r, hs);
  int T = exam_int(r, 1, 10) * 5;
  nn_rnn_kind kind = (nn_rnn_kind)nn_rng_below(r, 3);
  nn_rnn_opts o = nn_rnn_opts_default(kind, H);
  nn_shape in = nn_shape_seq(T, D);
  nn_calc c;
  nn_error err;
  const char *name = rnn_name(kind, fw);
  long dims[4];
  int n = 0;
  if (fw == NN_KERAS) {
    o.return_sequences = variant == 1 || variant == 3, o.bidirectional = variant >= 2;
    must(nn_calc_rnn(&in, &o, fw, &c, &err), &err);
    char l[96];
    snprintf(l, sizeof l, "layers.%s(%d%s)", name, H, o.return_sequences ? ", return_sequences=True" : "");
    exam_ask(p, "%s%s%s gets a batch of %d sequences of %d steps with %d features, shape (%d, %d, %d). What is "
             "its output shape, batch axis included?", o.bidirectional ? "layers.Bidirectional(" : "", l,
             o.bidirectional ? ")" : "", N, T, D, N, T, D);
    exam_step(p, "%s", c.shape_formula);
    if (o.bidirectional) exam_step(p, "Bidirectional concatenates the two directions: 2 * %d = %d", H, 2 * H);
    n = batch_dims(N, &c.out, fw, dims);
  } else {
    o.bidirectional = variant == 3 || (variant == 2 && nn_rng_below(r, 2));
    o.num_layers = variant == 2 ? exam_int(r, 1, 3) : 1;
    must(nn_calc_rnn(&in, &o, fw, &c, &err), &err);
    int dirs = o.bidirectional ? 2 : 1;
    char args[96];
    snprintf(args, sizeof args, "%d, %d%s%s%s", D, H, o.num_layers > 1 ? ", num_layers=" : "",
             o.num_layers > 1 ? (o.num_layers == 2 ? "2" : "3") : "", o.bidirectional ? ", bidirectional=True" : "");
    if (variant == 1) {
      exam_ask(p, "nn.%s(%s) (batch_first left at its default) gets input of shape (%d, %d, %d): %d sequences of "
               "%d steps with %d features. What is the shape of its output (the first value it returns)?", name,
               args, T, N, D, N, T, D);
      exam_step(p, "batch_first=False is the default: input and output are (T, N, features)");
      dims[0] = T, dims[1] = N, dims[2] = (long)H * dirs, n = 3;
    } else if (variant == 2) {
      exam_ask(p, "nn.%s(%s, batch_first=True) gets input of shape (%d, %d, %d). What is the shape of h_n, the "
               "final hidden state it returns%s?", name, args, N, T, D, kind == NN_RNN_LSTM ? " (in (h_n, c_n))" : "");
      exam_step(p, "h_n is (num_layers * num_directions, N, H) whatever batch_first says");
      dims[0] = (long)o.num_layers * dirs, dims[1] = N, dims[2] = H, n = 3;
    } else {
      exam_ask(p, "nn.%s(%s, batch_first=True) gets input of shape (%d, %d, %d). What is the shape of its output "
               "(the first value it returns)?", name, args, N, T, D);
      exam_step(p, "%s", c.shape_formula);
      if (o.bidirectional) exam_step(p, "bidirectional: both directions concatenated, 2 * %d = %d", H, 2 * H);
      n = batch_dims(N, &c.out, fw, dims);
    }
  }
  exam_step(p, "output %s", dims_txt(n, dims).s);
  exam_answer_shape(p, n, dims);
}

/* 0: Embedding params, 1: Embedding output shape, 2: Embedding + LSTM + Dense total */
enum { EMBED_VARIANTS = 3 };

static void make_embedding(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int vocab[] = {1000, 5000, 10000, 20000}, dims[] = {16, 32, 50, 64, 100, 128}, ts[] = {20, 50, 100, 200},
                   batch[] = {16, 32, 64}, hs[] = {32, 64, 128};
  int variant = (int)nn_rng_below(r, EMBED_VARIANTS), V = PICK(r, vocab), D = PICK(r, dims), T = PICK(r, ts),
      N = PICK(r, batch);
  nn_shape in = nn_shape_tokens(T);
  nn_calc c;
  nn_error err;
  must(nn_calc_embedding(&in, V, D, fw, &c, &err), &err);
  char emb[64];
  snprintf(emb, sizeof emb, fw == NN_KERAS ? "layers.Embedding(%d, %d)" : "nn.Embedding(%d, %d)", V, D);
  if (variant == 0) {
    exam_ask(p, "%s: how many parameters does it have?", emb);
    exam_step(p, "a lookup table, vocab x dim: %s", c.formula);
    exam_answer_int(p, c.params);
  } else if (variant == 1) {
    exam_ask(p, "%s gets a batch of token ids of shape (%d, %d). What is the output shape?", emb, N, T);
    exam_step(p, "each id becomes its row of the table: (N, T) -> (N, T, %d)", D);
    exam_step(p, "output %s", shape_txt(N, &c.out, fw).s);
    answer_batch_shape(p, N, &c.out, fw);
  } else {
    int H = PICK(r, hs);
    nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_LSTM, H);
    nn_calc lstm, dense;
    must(nn_calc_rnn(&c.out, &o, fw, &lstm, &err), &err);
    nn_shape h = nn_shape_vector(H);
    must(nn_calc_dense(&h, 1, true, fw, &dense, &err), &err);
    if (fw == NN_KERAS)
      exam_ask(p, "A sentiment model on sequences of %d token ids: %s, layers.LSTM(%d), layers.Dense(1, "
               "activation='sigmoid'). What is the Total params line of model.summary()?", T, emb, H);
    else
      exam_ask(p, "A sentiment model on sequences of %d token ids: %s, nn.LSTM(%d, %d, batch_first=True), "
               "nn.Linear(%d, 1) on the last step. How many parameters in all?", T, emb, D, H, H);
    exam_step(p, "Embedding: %s", c.formula);
    exam_step(p, "LSTM: %s", lstm.formula);
    exam_step(p, "Dense: %s", dense.formula);
    exam_step(p, "total = %ld + %ld + %ld = %ld", c.params, lstm.params, dense.params,
              c.params + lstm.params + dense.params);
    exam_answer_int(p, c.params + lstm.params + dense.params);
  }
}

/* ==== attention ==== */

static int heads_for(nn_rng *r, int E) {
  static const int hs[] = {2, 4, 8};
  int h;
  do h = PICK(r, hs);
  while (E % h);
  return h;
}

/* 0: self-attention scores, 1: cross-attention scores, 2: per-head Q, 3: MHA output, 4: head size */
enum { ATTN_SHAPE_VARIANTS = 5 };

static void make_attention_shapes(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int es[] = {64, 128, 256, 512}, ts[] = {10, 16, 20, 50, 128}, batch[] = {2, 4, 8, 32};
  int variant = (int)nn_rng_below(r, ATTN_SHAPE_VARIANTS), E = PICK(r, es), h = heads_for(r, E), T = PICK(r, ts),
      S = PICK(r, ts), N = PICK(r, batch), dk = E / h;
  char layer[128];
  if (fw == NN_KERAS) snprintf(layer, sizeof layer, "layers.MultiHeadAttention(num_heads=%d, key_dim=%d)", h, dk);
  else snprintf(layer, sizeof layer, "nn.MultiheadAttention(%d, %d, batch_first=True)", E, h);
  long dims[4];
  int n = 4;
  switch (variant) {
  case 0:
    exam_ask(p, "Self-attention with %s on a batch of shape (%d, %d, %d) (N, T, d_model). What is the shape of the "
             "attention scores Q K^T / sqrt(d_k), one T x T matrix per head?", layer, N, T, E);
    exam_step(p, "Q and K per head: (N, h, T, d_k) with d_k = %d / %d = %d", E, h, dk);
    exam_step(p, "Q K^T multiplies (T, d_k) by (d_k, T) for each (n, head): (N, h, T, T)");
    dims[0] = N, dims[1] = h, dims[2] = T, dims[3] = T;
    break;
  case 1:
    if (S == T) S = T == 10 ? 20 : 10;
    exam_ask(p, "Cross-attention with %s: the queries come from a batch of shape (%d, %d, %d), the keys and values "
             "from (%d, %d, %d). What is the shape of the attention scores Q K^T, one matrix per head?", layer, N, T,
             E, N, S, E);
    exam_step(p, "Q: (N, h, T_q, d_k) = (%d, %d, %d, %d); K: (N, h, T_k, d_k) = (%d, %d, %d, %d)", N, h, T, dk, N, h,
              S, dk);
    exam_step(p, "Q K^T: (N, h, T_q, T_k); softmax runs over T_k, the keys");
    dims[0] = N, dims[1] = h, dims[2] = T, dims[3] = S;
    break;
  case 2:
    exam_ask(p, "%s on a batch of shape (%d, %d, %d). After the query projection, Q is split into heads and "
             "transposed to (N, heads, T, head size). What is that shape?", layer, N, T, E);
    exam_step(p, "head size d_k = d_model / heads = %d / %d = %d", E, h, dk);
    exam_step(p, "(N, T, d_model) -> (N, T, h, d_k) -> (N, h, T, d_k)");
    dims[0] = N, dims[1] = h, dims[2] = T, dims[3] = dk;
    break;
  case 3: {
    nn_shape q = nn_shape_seq(T, E);
    nn_mha_opts o = {.num_heads = h, .key_dim = dk};
    nn_calc c;
    nn_error err;
    must(nn_calc_mha(&q, NULL, &o, fw, &c, &err), &err);
    exam_ask(p, "Self-attention with %s on a batch of shape (%d, %d, %d). What is the shape of its output (the "
             "attended values, not the weights)?", layer, N, T, E);
    exam_step(p, "heads concatenated: (N, T, h * d_k) = (N, T, %d); the output projection keeps it", h * dk);
    exam_step(p, "%s", c.shape_formula);
    n = batch_dims(N, &c.out, fw, dims);
    break;
  }
  default:
    exam_ask(p, "A Transformer with d_model = %d and %d heads. What is the size d_k of each head (the sqrt(d_k) in "
             "the softmax's scale)?", E, h);
    exam_step(p, "d_k = d_model / heads = %d / %d = %d", E, h, dk);
    exam_answer_int(p, dk);
    return;
  }
  exam_step(p, "shape %s", dims_txt(n, dims).s);
  exam_answer_shape(p, n, dims);
}

/* 0: self-attention, 1: without biases, 2: cross-attention with other key/value sizes */
enum { MHA_VARIANTS = 3 };

static void make_mha_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int es[] = {32, 64, 128, 256, 512}, kv[] = {16, 32, 48, 100}, kds[] = {16, 32, 64};
  int variant = (int)nn_rng_below(r, MHA_VARIANTS), E = PICK(r, es), h = heads_for(r, E), T = 10;
  nn_mha_opts o = {.num_heads = h, .no_bias = variant == 1};
  nn_shape q = nn_shape_seq(T, E), v = q;
  if (fw == NN_KERAS) o.key_dim = nn_rng_below(r, 2) ? E / h : PICK(r, kds);
  if (variant == 2) {
    int K = PICK(r, kv);
    v = nn_shape_seq(T, K);
    if (fw == NN_PYTORCH) o.kdim = K, o.vdim = K;
  }
  nn_calc c;
  nn_error err;
  must(nn_calc_mha(&q, variant == 2 ? &v : NULL, &o, fw, &c, &err), &err);
  if (fw == NN_KERAS) {
    exam_ask(p, "layers.MultiHeadAttention(num_heads=%d, key_dim=%d%s) called with a query of shape %s", h, o.key_dim,
             o.no_bias ? ", use_bias=False" : "", FMT(&q, fw));
    if (variant == 2) exam_ask(p, " and key = value of shape %s", FMT(&v, fw));
    else exam_ask(p, " as query, key and value");
    exam_ask(p, ". How many parameters does it have?");
    exam_step(p, "four Dense projections: query D_q -> h*key_dim, key D_k -> h*key_dim, value D_v -> h*value_dim, "
              "output h*value_dim -> D_q (value_dim = key_dim by default)");
  } else {
    exam_ask(p, "nn.MultiheadAttention(embed_dim=%d, num_heads=%d%s", E, h, o.no_bias ? ", bias=False" : "");
    if (variant == 2) exam_ask(p, ", kdim=%d, vdim=%d", o.kdim, o.vdim);
    exam_ask(p, "). How many parameters does it have?");
    exam_step(p, "Q, K, V projections E x E (x E x kdim, E x vdim when those differ) with E biases each, then the "
              "output projection E x E + E; num_heads splits E and adds nothing");
  }
  exam_step(p, "%s", c.formula);
  exam_answer_int(p, c.params);
}

/* 0: one encoder layer, 1: its feed-forward block, 2: the LayerNorms of a stack */
enum { TRANSFORMER_VARIANTS = 3 };

static void make_transformer_params(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int ds[] = {64, 128, 256, 512}, stacks[] = {2, 4, 6, 12};
  int variant = (int)nn_rng_below(r, TRANSFORMER_VARIANTS), d = PICK(r, ds), h = heads_for(r, d);
  bool default_ff = fw == NN_PYTORCH && nn_rng_below(r, 3) == 0;
  int ff = default_ff ? 2048 : 4 * d;
  nn_shape x = nn_shape_seq(10, d);
  nn_calc c;
  nn_error err;
  if (variant == 0) {
    must(nn_calc_transformer_encoder(&x, h, default_ff ? 0 : ff, fw, &c, &err), &err);
    if (fw == NN_PYTORCH)
      exam_ask(p, "nn.TransformerEncoderLayer(d_model=%d, nhead=%d%s). How many parameters does it have?", d, h,
               default_ff ? "" : (ff == 4 * d ? ", dim_feedforward=4*d_model" : ""));
    else
      exam_ask(p, "A Transformer encoder block in Keras with d_model = %d: layers.MultiHeadAttention(num_heads=%d, "
               "key_dim=%d), then layers.Dense(%d, activation='relu') and layers.Dense(%d), and two "
               "layers.LayerNormalization(). How many parameters in all?", d, h, d / h, ff, d);
    if (default_ff) {
      const nn_framework_default *df = nn_framework_default_find("transformer_dim_feedforward");
      exam_step(p, "dim_feedforward not given: %g (%s)", df ? df->pytorch : 2048.0, df ? df->explain : "");
    }
    if (ff == 4 * d && fw == NN_PYTORCH && !default_ff) exam_step(p, "dim_feedforward = 4 * %d = %d", d, ff);
    exam_step(p, "%s", c.formula);
    exam_answer_int(p, c.params);
  } else if (variant == 1) {
    nn_calc l1, l2;
    must(nn_calc_dense(&x, ff, true, fw, &l1, &err), &err);
    must(nn_calc_dense(&l1.out, d, true, fw, &l2, &err), &err);
    exam_ask(p, "The feed-forward block of a Transformer layer with d_model = %d and a hidden size of %d: %s then %s. "
             "How many parameters does it have?", d, ff, dense_layer(fw, d, ff, "relu").s, dense_layer(fw, ff, d, NULL).s);
    exam_step(p, "first: %s", l1.formula);
    exam_step(p, "second: %s", l2.formula);
    exam_step(p, "total = %ld", l1.params + l2.params);
    exam_answer_int(p, l1.params + l2.params);
  } else {
    int L = PICK(r, stacks);
    must(nn_calc_layernorm(&x, fw, &c, &err), &err);
    exam_ask(p, "A stack of %d Transformer encoder layers with d_model = %d has two LayerNorms per layer. How many "
             "parameters do all the LayerNorms hold together?", L, d);
    exam_step(p, "one LayerNorm(%d): %s", d, c.formula);
    exam_step(p, "%d layers * 2 * %ld = %ld", L, c.params, 2L * L * c.params);
    exam_answer_int(p, 2L * L * c.params);
  }
}

/* ==== the framework defaults that differ (nn_framework_defaults) ==== */

/* One question on a key of `keys`: "what is the default ... in Keras?". Epsilons are
 * asked as a power of ten, since 1e-7 and 1e-8 are both within any absolute tolerance. */
static void defaults_problem(nn_rng *r, nn_framework fw, exam_problem *p, int n, const char *const *keys) {
  const nn_framework_default *d;
  double v;
  do {
    d = nn_framework_default_find(keys[nn_rng_below(r, (uint32_t)n)]);
    NN_REQUIRE(d, "nn exam: a key of the exam is missing from nn_framework_defaults()");
    v = fw == NN_KERAS ? d->keras : d->pytorch;
  } while (v == 0 && !strcmp(d->key, "transformer_dim_feedforward")); /* Keras has no such default */
  bool eps = strstr(d->key, "eps") != NULL;
  exam_ask(p, "Framework defaults: what is the default %s in %s%s?", d->what, fw_title(fw),
           eps ? ", as a power of ten (give k in 10^k)" : "");
  exam_step(p, "Keras:   %s", d->keras_api);
  exam_step(p, "PyTorch: %s", d->pytorch_api);
  exam_step(p, "%s", d->explain);
  if (eps) {
    long k = lround(log10(v));
    exam_step(p, "%s: %g = 10^%ld", fw_title(fw), v, k);
    exam_answer_int(p, k);
  } else if (v == floor(v) && v >= 1) {
    exam_answer_int(p, (long)v);
  } else {
    exam_answer_real(p, v);
  }
}

static const char *const OPTIM_KEYS[] = {"rmsprop_rho",  "rmsprop_eps", "rmsprop_lr", "adagrad_initial_accumulator",
                                         "adagrad_eps",  "adagrad_lr",  "adam_eps",   "adamw_weight_decay",
                                         "sgd_lr"};
static const char *const NORM_KEYS[] = {"batchnorm_momentum", "batchnorm_eps"};
static const char *const ATTN_KEYS[] = {"layernorm_eps", "transformer_dim_feedforward"};
#define N_OF(a) ((int)(sizeof(a) / sizeof(a)[0]))

static void make_optim_defaults(nn_rng *r, nn_framework fw, exam_problem *p) {
  defaults_problem(r, fw, p, N_OF(OPTIM_KEYS), OPTIM_KEYS);
}
static void make_norm_defaults(nn_rng *r, nn_framework fw, exam_problem *p) {
  defaults_problem(r, fw, p, N_OF(NORM_KEYS), NORM_KEYS);
}
static void make_attn_defaults(nn_rng *r, nn_framework fw, exam_problem *p) {
  defaults_problem(r, fw, p, N_OF(ATTN_KEYS), ATTN_KEYS);
}

static const exam_family FAMILIES[] = {
    {"conv", "conv2d_shape", "Conv2d/Conv2D output shape: valid, padding or 'same', stride, dilation",
     CONV_SHAPE_VARIANTS, make_conv2d_shape},
    {"conv", "conv1d_shape", "Conv1d/Conv1D output shape, the same four cases", CONV_SHAPE_VARIANTS,
     make_conv1d_shape},
    {"conv", "convtranspose_shape", "ConvTranspose2d/Conv2DTranspose output shape", CONVT_VARIANTS,
     make_convtranspose_shape},
    {"conv", "conv_params", "parameters of Conv2d, no bias, Conv1d, depthwise, separable, transposed",
     CONV_PARAM_VARIANTS, make_conv_params},
    {"conv", "batchnorm_params", "BatchNorm: Keras total/trainable/non-trainable, PyTorch params/buffers",
     BN_VARIANTS, make_batchnorm_params},
    {"conv", "model_params", "a small CNN's total and flattened size, an MLP's total, a CNN with BatchNorm",
     MODEL_VARIANTS, make_model_params},
    {"conv", "norm_defaults", "BatchNorm momentum and eps: the framework defaults that differ", N_OF(NORM_KEYS),
     make_norm_defaults},
    {"pool", "pool_shape", "max/avg pooling output: default stride, overlapping, padding/ceil/'same', 1-D, global",
     POOL_VARIANTS, make_pool_shape},
    {"pool", "feature_map_shape", "the shape after one or two conv + pool blocks", FEATURE_MAP_VARIANTS,
     make_feature_map},
    {"rnn", "rnn_params", "parameters of SimpleRNN, LSTM, GRU, bidirectional, two stacked layers",
     RNN_PARAM_VARIANTS, make_rnn_params},
    {"rnn", "rnn_shape", "RNN output shapes: return_sequences, Bidirectional, batch_first, h_n",
     RNN_SHAPE_VARIANTS, make_rnn_shape},
    {"rnn", "embedding", "Embedding parameters and output shape; Embedding + LSTM + Dense total", EMBED_VARIANTS,
     make_embedding},
    {"attention", "attention_shapes", "Q K^T score shapes (self and cross), per-head Q, output, head size",
     ATTN_SHAPE_VARIANTS, make_attention_shapes},
    {"attention", "mha_params", "multi-head attention parameters: self, no bias, cross with other sizes",
     MHA_VARIANTS, make_mha_params},
    {"attention", "transformer_params", "a Transformer encoder layer, its feed-forward block, its LayerNorms",
     TRANSFORMER_VARIANTS, make_transformer_params},
    {"attention", "attention_defaults", "LayerNorm eps and dim_feedforward defaults", N_OF(ATTN_KEYS),
     make_attn_defaults},
    {"optimizer", "optim_defaults", "optimizer defaults that differ: RMSprop rho, Adagrad's accumulator, eps, lr",
     N_OF(OPTIM_KEYS), make_optim_defaults},
};

const exam_family *exam_shape_families(int *n) {
  *n = (int)(sizeof FAMILIES / sizeof FAMILIES[0]);
  return FAMILIES;
}
