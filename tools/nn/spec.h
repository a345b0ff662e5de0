/* spec.h: a model spec, `nn summary`'s text format: a chain of layers, one a line, whose
 * output shapes and parameter counts the chapters' calculators work out (nn_shapes.h
 * lists them). Examples: the .txt files of docs/models/.
 *
 *   # the seeds' CNN                      '#' starts a comment; blank lines are skipped;
 *   input 1 28 28                         upper or lower case. The first line is the input:
 *   conv2d 32 kernel=3 activation=relu      C H W, C L, D, seq T D or tokens T (no N)
 *   maxpool2d 2                           then each layer: its keyword, its positional
 *   flatten                               arguments, its key=value options
 *   dense 10
 *
 * Which layers there are, with their arguments and options, is the table KINDS in
 * spec.c: one row per kind of layer (its keywords, how its arguments are read, its
 * calculator, its class name in each framework). Adding a layer to the format is adding
 * a row there; the messages (what a layer takes, which layers there are) come from it. */
#ifndef NN_SPEC_H
#define NN_SPEC_H

#include <stdio.h>

#include "later_shapes.h"
#include "nn_conv_shapes.h"
#include "nn_pool_shapes.h"
#include "nn_shapes.h"

/* A kind of layer: a row of spec.c's table. */
typedef struct nn_spec_kind nn_spec_kind;

/* One line of a spec: its kind, and the arguments that kind's row read into it (each
 * row reads the fields its calculator takes; the others stay at their defaults). */
typedef struct {
  const nn_spec_kind *kind;
  int line;               /* 1-based line in the spec file */
  char name[32];          /* the keyword as written ("conv2d", "lstm", "relu") */
  char activation[16];    /* activation=A, or the activation layer's own name; "" when none */
  nn_shape input;         /* the input line */
  int units;              /* dense units, embedding dim */
  int vocab;              /* embedding */
  bool bias;              /* dense: bias=0 clears it */
  nn_conv_opts conv;      /* convolutions; conv.filters = FILTERS */
  int multiplier;         /* depthwise / separable depth_multiplier */
  nn_block_kind block;    /* basicblock, bottleneck, invertedresidual: OUT in units, conv.stride */
  int width;              /* their 3x3's channels; 0: the kind's default */
  nn_pool_opts pool;      /* pooling */
  nn_rnn_opts rnn;        /* simple_rnn, lstm, gru */
  nn_mha_opts mha;        /* mha */
  int nhead, ff;          /* transformer_encoder */
  double rate;            /* dropout */
} nn_spec_layer;

typedef struct {
  nn_spec_layer *layers;  /* layers[0] is the input line */
  int count, cap;
  char path[256];         /* for messages */
} nn_model_spec;

/* Parse a spec from text: one layer per line, '#' starts a comment, blank lines skipped;
 * the first layer must be `input`. `path` names the source in messages:
 *   "cnn.txt:4: conv2d: unknown option 'kernal'; conv2d takes: kernel, stride, ...".
 * On error nothing is left allocated in *spec. */
nn_status nn_model_spec_parse(const char *text, const char *path, nn_model_spec *spec, nn_error *err);
/* Read the file, then parse it. */
nn_status nn_model_spec_load(const char *path, nn_model_spec *spec, nn_error *err);
void nn_model_spec_free(nn_model_spec *spec);

/* One layer of the spec on `in` (not the input line); c->out is its output. */
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
