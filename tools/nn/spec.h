/* spec.h: a model spec, `nn summary`'s text format: one layer per line, the shapes and
 * parameter counts of each worked out by the chapters' calculators (nn_shapes.h lists them).
 * Examples: the .txt files of docs/models/. */
#ifndef NN_SPEC_H
#define NN_SPEC_H

#include <stdio.h>

#include "later_shapes.h"
#include "nn_conv_shapes.h"
#include "nn_pool_shapes.h"
#include "nn_shapes.h"

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
