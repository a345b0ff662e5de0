/* nn_shapes.h: shapes and answers for the shape and parameter calculators, in Keras' and
 * PyTorch's conventions.
 *
 * A calculator gives, for one layer on one example's shape, its output shape and its
 * parameter count, each worked out as a formula (`nn summary` prints a model's table of
 * them, `nn exam` asks and explains them). Nothing here allocates a tensor: it is the
 * arithmetic a student does on paper before building a model. This file holds what
 * every calculator shares; each layer's calculator lives beside the layer, in its chapter:
 *
 *   nn_dense_shapes.h      (02)  Dense, Flatten, activations and Dropout
 *   nn_conv_shapes.h       (03)  Conv1d/2d, depthwise, separable, transposed
 *   nn_pool_shapes.h       (03)  max/average pooling, global pooling
 *   nn_batchnorm_shapes.h  (03)  BatchNorm
 *   tools/nn/later_shapes.h      RNN/LSTM/GRU, Embedding, LayerNorm, attention, the
 *                                Transformer encoder: until chapters 04 and 05 bring them
 *
 *   nn_shape in = nn_shape_image(1, 28, 28);                   (C, H, W), the course's layout
 *   nn_conv_opts o = nn_conv_opts_default(32, 3);              32 filters, 3x3 (nn_conv_shapes.h)
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
long nn_shape_numel(const nn_shape *s);         /* product of dims; LONG_MAX when it overflows a long */

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

/* ---- what every calculator uses ------------------------------------------ */

/* `in` has 1 to NN_SHAPE_MAX axes, each at least 1; else NN_ERR_ARG naming `who`
 * (the framework's class name, "Conv2D") and the shape as the framework prints it. */
nn_status nn_shape_check(const char *who, const nn_shape *in, nn_framework fw, nn_error *err);

/* The feature axis a normalization acts on: channels of an image or signal (0), else
 * the last axis. */
int nn_shape_feature_axis(const nn_shape *s);

/* Writes a worked formula (printf-style, cut at NN_FORMULA_MAX) into dst, an
 * nn_calc's formula or shape_formula or an nn_len's formula. */
void nn_formula(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts are computed in long (64 bits); `approx` is the same count in double. Past
 * 1e18 the long arithmetic could overflow, so a calculator refuses such sizes first:
 * NN_ERR_ARG, else NN_OK. */
nn_status nn_count_check(const char *who, double approx, nn_error *err);

/* A window of k inputs (dilation d, moved by stride s) along an axis of L: each must be
 * at least 1, else NN_ERR_ARG saying which (convolution and pooling share it). */
nn_status nn_len_check_window(const char *who, int L, int k, int s, int d, nn_error *err);

/* out->len = v, a size computed in long, when it fits an int; else NN_ERR_ARG. */
nn_status nn_len_fit(const char *who, long v, nn_len *out, nn_error *err);

/* The output size of a 1-D layer ("L: ...") or a 2-D one ("H: ...; W: ...", one
 * "H = W: ..." when both axes are worked the same way) into dst; w NULL for 1-D. */
void nn_len_formula(char *dst, const nn_len *h, const nn_len *w);

#endif
