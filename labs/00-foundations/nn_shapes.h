/* nn_shapes.h: output shapes and parameter counts, in Keras' and PyTorch's conventions.
 *
 * One calculator for `nn summary` (a model's per-layer table) and `nn exam`
 * (drills with worked answers). Nothing here allocates a tensor: it is the
 * arithmetic a student does on paper before building a model.
 *
 *   nn_shape in = nn_shape_image(1, 28, 28);                   (C, H, W), the course's layout
 *   nn_conv_opts o = nn_conv_opts_default(32, 3);              32 filters, 3x3, stride 1, valid
 *   nn_calc c;
 *   if (nn_calc_conv2d(&in, &o, NN_KERAS, &c, &err) != NN_OK) puts(err.msg);
 *   c.params == 320, c.formula "(3*3*1 + 1) * 32 = 320", c.out is (32, 26, 26),
 *   nn_shape_format(&c.out, NN_KERAS) prints "(None, 26, 26, 32)".
 *
 * Layouts. The course and PyTorch keep images as (N, C, H, W) and 1-D signals
 * as (N, C, L); Keras is channels-last: (N, H, W, C) and (N, L, C). An nn_shape
 * is one example's shape WITHOUT N, always in the course's order; its
 * `channels_first` flag says whether dim[0] is a channel axis, and
 * nn_shape_format reorders it for Keras. Sequences are (N, T, D) everywhere
 * (PyTorch's RNNs with batch_first=True; their default is (T, N, D)).
 *
 * Counts. Keras' summary() counts every weight, trainable or not: BatchNorm's
 * moving mean and variance are "non-trainable params". PyTorch's
 * sum(p.numel() for p in m.parameters()) counts parameters only; running
 * statistics are buffers (state_dict has them, parameters() does not). So an
 * nn_calc keeps params = trainable + non_trainable (Keras' Total) and, apart,
 * buffers (PyTorch's).
 *
 * Bad settings (stride 0, a kernel larger than the padded input, heads that do
 * not divide embed_dim) return NN_ERR_ARG with a message that says what to change.
 *
 * API READY */
#ifndef NN_SHAPES_H
#define NN_SHAPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "nn_common.h"

typedef enum { NN_KERAS = 0, NN_PYTORCH = 1 } nn_framework;

/* "keras", "pytorch" */
const char *nn_framework_name(nn_framework fw);
/* "keras"/"tf"/"tensorflow" or "pytorch"/"torch" (any case); else NN_ERR_ARG. */
nn_status nn_framework_parse(const char *name, nn_framework *fw, nn_error *err);

/* ---- shapes -------------------------------------------------------------- */

#define NN_SHAPE_MAX 4
typedef struct {
  int dim[NN_SHAPE_MAX]; /* one example, no N, course order: (C, H, W), (C, L), (T, D), (D) */
  int ndim;
  bool channels_first;   /* dim[0] is channels: Keras prints it last */
} nn_shape;

nn_shape nn_shape_vector(int d);                /* (D) */
nn_shape nn_shape_seq(int t, int d);            /* (T, D): a sequence; same in both frameworks */
nn_shape nn_shape_signal(int c, int l);         /* (C, L): Conv1d's input; Keras (L, C) */
nn_shape nn_shape_image(int c, int h, int w);   /* (C, H, W); Keras (H, W, C) */
nn_shape nn_shape_tokens(int t);                /* (T): token ids, Embedding's input */
long nn_shape_numel(const nn_shape *s);         /* product of dims */

/* The shape WITH the batch axis, as the framework prints it:
 *   Keras   (C, H, W) -> "(None, 26, 26, 32)"  channels last, None for the batch
 *   PyTorch (C, H, W) -> "(N, 32, 26, 26)"     channels first */
typedef struct { char s[64]; } nn_shape_fmt;
nn_shape_fmt nn_shape_format(const nn_shape *s, nn_framework fw);

/* ---- one calculation's answer ------------------------------------------- */

#define NN_FORMULA_MAX 256
typedef struct {
  nn_shape out;                        /* output shape, no N, course order */
  long params;                         /* Keras' "Total params" of the layer; PyTorch's
                                          sum(p.numel() for p in layer.parameters()) */
  long trainable;                      /* params updated by the optimizer */
  long non_trainable;                  /* Keras only: BatchNorm moving_mean/moving_variance */
  long buffers;                        /* PyTorch only: running_mean, running_var, num_batches_tracked */
  char formula[NN_FORMULA_MAX];        /* the count worked out: "(3*3*1 + 1) * 32 = 320" */
  char shape_formula[NN_FORMULA_MAX];  /* the output size worked out, "" when trivial */
} nn_calc;

/* One spatial axis worked out. */
typedef struct {
  int len;
  char formula[NN_FORMULA_MAX]; /* "floor((28 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 26" */
} nn_len;

/* ---- convolution --------------------------------------------------------- */

typedef enum {
  NN_PAD_VALID = 0, /* no padding (Keras "valid", PyTorch padding=0) */
  NN_PAD_SAME,      /* Keras "same": out = ceil(L / s); PyTorch padding="same": stride 1 only */
  NN_PAD_EXPLICIT   /* p zeros each side (PyTorch padding=p; Keras needs ZeroPadding first) */
} nn_pad_mode;

/* "valid", "same", "explicit" */
const char *nn_pad_mode_name(nn_pad_mode mode);

typedef struct {
  int filters;        /* C_out: Keras filters, PyTorch out_channels (> 0) */
  int kernel;         /* k: k x k for 2-D, k for 1-D (> 0) */
  int stride;         /* s >= 1 */
  nn_pad_mode pad;
  int padding;        /* p >= 0, zeros on EACH side, used when pad == NN_PAD_EXPLICIT */
  int dilation;       /* d >= 1: the kernel spans d*(k-1) + 1 inputs */
  int groups;         /* g >= 1 dividing C_in and C_out; C_in: depthwise */
  bool no_bias;       /* Keras use_bias=False, PyTorch bias=False */
  int output_padding; /* transposed conv only: 0 <= op < max(s, d) (PyTorch's rule) */
} nn_conv_opts;

/* filters, kernel; stride 1, valid, dilation 1, groups 1, bias on. */
nn_conv_opts nn_conv_opts_default(int filters, int kernel);

/* Convolution output length along one axis (Conv1d/Conv2d, both frameworks):
 *   valid / explicit: out = floor((L + 2p - d*(k-1) - 1) / s) + 1      (PyTorch's docs)
 *   same (Keras):     out = ceil(L / s)  (padding is split, the extra zero on the right)
 *   same (PyTorch):   out = L; stride > 1 is an error there ("same" is stride 1 only)
 * Errors: s < 1, d < 1, p < 0, L < 1, or d*(k-1)+1 > L + 2p. */
nn_status nn_conv_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err);

/* Transposed convolution output length along one axis:
 *   PyTorch (padding p): out = (L-1)*s - 2p + d*(k-1) + output_padding + 1
 *   Keras, output_padding 0 (Keras' None):
 *     valid: out = L*s + max(d*(k-1)+1 - s, 0)      (= (L-1)*s + d*(k-1)+1 when k_eff >= s)
 *     same:  out = L*s
 *   Keras, output_padding op > 0: (L-1)*s + k_eff - 2*pad + op, pad = 0 (valid) or k_eff/2 (same)
 * Errors: s < 1, d < 1, p < 0, output_padding outside [0, max(s, d)), out < 1. */
nn_status nn_conv_transpose_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                                    nn_error *err);

/* Dense (Keras) / Linear (PyTorch) on the last axis of `in` (D_in):
 *   params = D_in*units + units (bias), out = in with the last axis set to units.
 * Same in both; Keras stores W as (D_in, units), PyTorch as (units, D_in). */
nn_status nn_calc_dense(const nn_shape *in, int units, bool bias, nn_framework fw, nn_calc *c,
                        nn_error *err);

/* Conv1d on (C_in, L), Conv2d on (C_in, H, W) (channels_first input; a vector is an error):
 *   params = k^n * (C_in/g) * C_out + C_out (bias),  n = 1 or 2, g = groups
 *   Conv2d(32, 3) on 1 channel: (3*3*1 + 1) * 32 = 320
 *   Keras: Conv2D(filters, k, groups=g); depthwise is DepthwiseConv2D (nn_calc_depthwise_conv2d).
 *   PyTorch: Conv2d(C_in, C_out, k, groups=g); groups=C_in is depthwise. */
nn_status nn_calc_conv1d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);
nn_status nn_calc_conv2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);

/* Depthwise conv, one k x k filter per input channel, depth_multiplier m (Keras
 * DepthwiseConv2D(k, depth_multiplier=m); PyTorch Conv2d(C, C*m, k, groups=C)):
 *   params = k*k*C*m + C*m (bias); out channels C*m. o->filters is ignored. */
nn_status nn_calc_depthwise_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o,
                                   nn_framework fw, nn_calc *c, nn_error *err);

/* Separable conv = depthwise (multiplier m, no bias) + pointwise 1x1 to o->filters (bias):
 *   params = k*k*C*m + C*m*filters + filters   (Keras SeparableConv2D; in PyTorch
 *   two Conv2d: (C, C*m, k, groups=C, bias=False) and (C*m, filters, 1)). */
nn_status nn_calc_separable_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o,
                                   nn_framework fw, nn_calc *c, nn_error *err);

/* ConvTranspose2d (PyTorch) / Conv2DTranspose (Keras) on (C_in, H, W):
 *   params = C_in * (C_out/g) * k*k + C_out (bias)
 *   (PyTorch weight (C_in, C_out/g, k, k); Keras kernel (k, k, C_out, C_in): same count)
 *   output size: nn_conv_transpose_out_len per axis. */
nn_status nn_calc_conv_transpose2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw,
                                   nn_calc *c, nn_error *err);

/* ---- pooling, flatten ---------------------------------------------------- */

typedef enum { NN_POOL_MAX = 0, NN_POOL_AVG } nn_pool_kind;

typedef struct {
  nn_pool_kind kind;
  int kernel;      /* k >= 1 (pool_size) */
  int stride;      /* s >= 1; 0 means "= kernel", both frameworks' default (None) */
  nn_pad_mode pad; /* Keras valid/same; PyTorch valid/explicit (p <= k/2) */
  int padding;     /* p, PyTorch only, each side */
  int dilation;    /* d >= 1, PyTorch MaxPool only */
  bool ceil_mode;  /* PyTorch only: round the division up */
} nn_pool_opts;

/* kind, kernel; stride = kernel, valid, dilation 1, floor. */
nn_pool_opts nn_pool_opts_default(nn_pool_kind kind, int kernel);

/* Pooling output length along one axis:
 *   floor: out = floor((L + 2p - d*(k-1) - 1) / s) + 1
 *   ceil_mode (PyTorch): out = ceil((L + 2p - d*(k-1) - 1) / s) + 1, minus 1 when the
 *     last window would start in the right padding, i.e. when (out-1)*s >= L + p
 *   Keras same: ceil(L / s); Keras valid: floor((L - k) / s) + 1
 * Errors: k < 1, s < 0, p > k/2 (PyTorch), ceil_mode or explicit padding with Keras,
 * same with PyTorch, or a window larger than the padded input. */
nn_status nn_pool_out_len(int L, const nn_pool_opts *o, nn_framework fw, nn_len *out, nn_error *err);

/* MaxPool2d/AvgPool2d (PyTorch), MaxPooling2D/AveragePooling2D (Keras) on (C, H, W);
 * MaxPool1d etc. on (C, L). 0 params. */
nn_status nn_calc_pool2d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);
nn_status nn_calc_pool1d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);

/* Global average/max pooling over every spatial axis of (C, H, W) or (C, L), 0 params:
 *   Keras GlobalAveragePooling2D -> (C)            (keepdims=False, the default)
 *   PyTorch AdaptiveAvgPool2d(1) -> (C, 1, 1)      (flatten it for (C)) */
nn_status nn_calc_global_pool(const nn_shape *in, nn_pool_kind kind, nn_framework fw, nn_calc *c,
                              nn_error *err);

/* Flatten: (C, H, W) -> (C*H*W), 0 params. The count agrees; the ORDER does not:
 * Keras flattens (H, W, C), PyTorch (C, H, W), so weights do not port as they are. */
nn_status nn_calc_flatten(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

/* ---- normalization, embedding -------------------------------------------- */

/* BatchNorm over the feature axis F (channels C of an image or signal, else the last axis D):
 *   Keras BatchNormalization: gamma, beta, moving_mean, moving_variance:
 *     params = 4F, trainable 2F, non-trainable 2F
 *   PyTorch BatchNorm1d/2d: weight, bias are parameters = 2F; running_mean,
 *     running_var and num_batches_tracked (one int64) are buffers: 2F + 1. */
nn_status nn_calc_batchnorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

/* LayerNorm over the last axis D (Keras LayerNormalization(axis=-1), PyTorch
 * nn.LayerNorm(D)): gamma and beta, params = 2D, no buffers. On an image the
 * axis is C (Keras' channels-last -1); PyTorch's LayerNorm([C, H, W]) would be 2*C*H*W. */
nn_status nn_calc_layernorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

/* Embedding(vocab, dim) on token ids (T): out (T, dim), params = vocab * dim. */
nn_status nn_calc_embedding(const nn_shape *in, int vocab, int dim, nn_framework fw, nn_calc *c,
                            nn_error *err);

/* ---- recurrent ----------------------------------------------------------- */

typedef enum { NN_RNN_SIMPLE = 0, NN_RNN_LSTM, NN_RNN_GRU } nn_rnn_kind;

/* "simple_rnn", "lstm", "gru" */
const char *nn_rnn_kind_name(nn_rnn_kind kind);

typedef struct {
  nn_rnn_kind kind;
  int units;             /* H, the hidden size (> 0) */
  int num_layers;        /* stacked layers (>= 1); layer 2 on takes H*dirs as its input */
  bool bidirectional;    /* Keras Bidirectional(...), PyTorch bidirectional=True: params x2 */
  bool return_sequences; /* Keras: out (T, H*dirs) instead of (H*dirs). PyTorch's output
                            is always the sequence; this flag is ignored there */
  bool keras_reset_before; /* Keras GRU reset_after=False (TF1 / CuDNN-less style);
                              the default (false) is reset_after=True, 2 bias vectors */
  bool no_bias;          /* Keras use_bias=False, PyTorch bias=False */
} nn_rnn_opts;

/* kind, units; 1 layer, one direction, last step only, GRU reset_after=True, bias on. */
nn_rnn_opts nn_rnn_opts_default(nn_rnn_kind kind, int units);

/* SimpleRNN / LSTM / GRU on a sequence (T, D). With gates G = 1, 4, 3:
 *   Keras:   G * (D*H + H*H + H)        one bias vector per gate
 *            GRU reset_after=True (default): 3 * (D*H + H*H + 2H)   (input and recurrent bias)
 *   PyTorch: G * (D*H + H*H + 2H)       two biases, b_ih and b_hh
 *   bidirectional: x2; layer l >= 2 has D = H * (2 if bidirectional else 1).
 *   LSTM(256) on D = 50: Keras 4*(50*256 + 256*256 + 256) = 314,368;
 *                        PyTorch 4*(50*256 + 256*256 + 2*256) = 315,392. */
nn_status nn_calc_rnn(const nn_shape *in, const nn_rnn_opts *o, nn_framework fw, nn_calc *c,
                      nn_error *err);

/* ---- attention ----------------------------------------------------------- */

typedef struct {
  int num_heads;  /* h >= 1 */
  int key_dim;    /* Keras: per-head size of query and key (required there); PyTorch: unused */
  int value_dim;  /* Keras: per-head size of value; 0 = key_dim */
  int embed_dim;  /* PyTorch: E; 0 = the query's last axis; must equal it, h must divide it */
  int kdim, vdim; /* PyTorch: key/value feature sizes; 0 = E (self-attention) */
  int output_dim; /* Keras output_shape; 0 = the query's last axis */
  bool no_bias;   /* Keras use_bias=False, PyTorch bias=False */
} nn_mha_opts;

/* Keras MultiHeadAttention(num_heads=h, key_dim=kd, value_dim=vd) on query (T, Dq),
 * key (S, Dk), value (S, Dv) (key = value = query by default):
 *   query dense Dq*h*kd + h*kd, key dense Dk*h*kd + h*kd, value dense Dv*h*vd + h*vd,
 *   output dense h*vd*Do + Do, Do = output_dim or Dq.       out (T, Do)
 * PyTorch nn.MultiheadAttention(E, h) (E % h == 0, head size E/h):
 *   in_proj_weight 3E x E + in_proj_bias 3E, out_proj E x E + E = 4E^2 + 4E;
 *   with kdim/vdim: E*E + E*kdim + E*vdim + 3E + E*E + E.   out (T, E)
 * value may be NULL (self-attention: key = value = query). */
nn_status nn_calc_mha(const nn_shape *query, const nn_shape *value, const nn_mha_opts *o,
                      nn_framework fw, nn_calc *c, nn_error *err);

/* PyTorch nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048) on (T, d_model):
 *   self-attention 4d^2 + 4d, linear1 d*ff + ff, linear2 ff*d + d, 2 LayerNorms 4d.
 *   (512, 8): 1,050,624 + 1,050,624 + 1,049,088 + 2,048 = 3,152,384.
 * Keras has no such layer; with NN_KERAS the same block is counted as built from
 * MultiHeadAttention(nhead, key_dim=d/nhead) + Dense(ff) + Dense(d) + 2 LayerNormalization,
 * which gives the same total. dim_feedforward 0 = 2048 (PyTorch's default). */
nn_status nn_calc_transformer_encoder(const nn_shape *in, int nhead, int dim_feedforward,
                                      nn_framework fw, nn_calc *c, nn_error *err);

/* ---- framework defaults that differ -------------------------------------- */

typedef struct {
  const char *key;          /* "leaky_relu_slope": short, stable, for exam topics */
  const char *what;         /* "LeakyReLU negative slope" */
  double keras;             /* Keras 3 (keras 3.x, the one TF 2.16+ installs) */
  double keras2;            /* tf.keras / Keras 2.x, where it differs; else = keras */
  double pytorch;           /* PyTorch 2.x */
  const char *keras_api;    /* "keras.layers.LeakyReLU(negative_slope=0.2)" */
  const char *pytorch_api;  /* "torch.nn.LeakyReLU(negative_slope=0.01)" */
  const char *explain;      /* one or two sentences: what it means, how to convert */
} nn_framework_default;

/* The table of defaults that differ (static data); *count gets its length. */
const nn_framework_default *nn_framework_defaults(int *count);
/* The entry with that key, or NULL. */
const nn_framework_default *nn_framework_default_find(const char *key);

/* ---- a model spec: `nn summary`'s text format ----------------------------- */

typedef enum {
  NN_SPEC_INPUT = 0,   /* input C H W | input C L | input D   (shape without N, course order)
                          input seq T D | input tokens T */
  NN_SPEC_DENSE,       /* dense UNITS [bias=0] [activation=A] */
  NN_SPEC_CONV1D,      /* conv1d FILTERS kernel=K [stride=S] [padding=valid|same|P] [dilation=D]
                          [groups=G] [bias=0] [activation=A] */
  NN_SPEC_CONV2D,      /* conv2d FILTERS kernel=K ... as conv1d */
  NN_SPEC_DEPTHWISE2D, /* depthwise2d kernel=K [multiplier=M] ... */
  NN_SPEC_SEPARABLE2D, /* separable2d FILTERS kernel=K [multiplier=M] ... */
  NN_SPEC_CONVT2D,     /* convtranspose2d FILTERS kernel=K [stride=S] [padding=...]
                          [output_padding=P] [dilation=D] [bias=0] */
  NN_SPEC_MAXPOOL1D,   /* maxpool1d K [stride=S] [padding=same|P] [ceil=1] */
  NN_SPEC_MAXPOOL2D,   /* maxpool2d K ... */
  NN_SPEC_AVGPOOL1D,   /* avgpool1d K ... */
  NN_SPEC_AVGPOOL2D,   /* avgpool2d K ... */
  NN_SPEC_GLOBALAVG,   /* globalavgpool */
  NN_SPEC_GLOBALMAX,   /* globalmaxpool */
  NN_SPEC_FLATTEN,     /* flatten */
  NN_SPEC_BATCHNORM,   /* batchnorm */
  NN_SPEC_LAYERNORM,   /* layernorm */
  NN_SPEC_EMBEDDING,   /* embedding VOCAB DIM */
  NN_SPEC_RNN,         /* simple_rnn|lstm|gru UNITS [layers=L] [bidirectional=1]
                          [return_sequences=1] [reset_after=0] [bias=0] */
  NN_SPEC_MHA,         /* mha HEADS [key_dim=K] [value_dim=V] [embed_dim=E] */
  NN_SPEC_TRANSFORMER, /* transformer_encoder NHEAD [ff=2048] */
  NN_SPEC_DROPOUT,     /* dropout RATE: shape unchanged, 0 params */
  NN_SPEC_ACTIVATION   /* relu|sigmoid|tanh|softmax|gelu|...: shape unchanged, 0 params */
} nn_spec_kind;

typedef struct {
  nn_spec_kind kind;
  int line;               /* 1-based line in the spec file */
  char name[32];          /* the keyword as written ("conv2d", "lstm", "relu") */
  char activation[16];    /* activation=A, "" when none */
  nn_shape input;         /* NN_SPEC_INPUT */
  int units;              /* dense units, embedding dim, conv filters */
  int vocab;              /* embedding */
  nn_conv_opts conv;      /* conv kinds; conv.filters = FILTERS */
  int multiplier;         /* depthwise / separable depth_multiplier */
  nn_pool_opts pool;      /* pool kinds */
  nn_rnn_opts rnn;        /* NN_SPEC_RNN */
  nn_mha_opts mha;        /* NN_SPEC_MHA */
  int nhead, ff;          /* NN_SPEC_TRANSFORMER */
  bool bias;              /* dense: bias=0 clears it */
  double rate;            /* dropout */
} nn_spec_layer;

typedef struct {
  nn_spec_layer *layers;  /* layers[0] is the input line */
  int count, cap;
  char path[256];         /* for messages */
} nn_model_spec;

/* Parse a spec from text: one layer per line, '#' starts a comment, blank lines skipped;
 * the first layer must be `input`. `path` names the source in messages:
 *   "cnn.txt:4: conv2d: expected kernel=K (e.g. conv2d 32 kernel=3), got 'kernal=3'".
 * On error nothing is left allocated in *spec. */
nn_status nn_model_spec_parse(const char *text, const char *path, nn_model_spec *spec, nn_error *err);
/* Read the file, then parse it. */
nn_status nn_model_spec_load(const char *path, nn_model_spec *spec, nn_error *err);
void nn_model_spec_free(nn_model_spec *spec);

/* One layer of the spec on `in` (layer kinds other than INPUT); c->out is its output. */
nn_status nn_spec_layer_calc(const nn_spec_layer *l, const nn_shape *in, nn_framework fw, nn_calc *c,
                             nn_error *err);

/* Totals over the model; calcs (may be NULL) gets one nn_calc per layer (count - 1, the
 * input line excluded). Errors name the file and the line: "cnn.txt:5: Conv2d: kernel 3 ...". */
typedef struct {
  long params, trainable, non_trainable, buffers;
  nn_shape out;
} nn_spec_totals;
nn_status nn_model_spec_calc(const nn_model_spec *spec, nn_framework fw, nn_calc *calcs,
                             nn_spec_totals *t, nn_error *err);

/* Print the Keras/torchinfo-like table: layer, output shape, params, trainable, then totals. */
nn_status nn_model_spec_print(const nn_model_spec *spec, nn_framework fw, FILE *out, nn_error *err);

#endif
