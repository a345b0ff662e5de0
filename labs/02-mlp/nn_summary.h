/* nn_summary.h: the table Keras' model.summary() and torchinfo print: one row per layer
 * (name and type, output shape, parameters, trainable ones), then the totals. One printer
 * for a built model (nn_model_summary) and for a model written as a spec (`nn summary`,
 * tools/nn/spec.c), so the two always look alike.
 *
 *   Model: "cnn"
 *   ==================================================================================
 *    Layer (type)                       Output shape                 Params    Trainable
 *   ==================================================================================
 *    conv1 (Conv2d)                     (N, 32, 26, 26)                 320          320
 *    ...
 *   ==================================================================================
 *   Total params: 34,826
 *   Trainable params: 34,826
 *   Non-trainable params: 0
 *   Buffers (state_dict, not parameters): 0
 *   ==================================================================================
 *
 *   nn_summary s;
 *   nn_summary_begin(&s, stdout, NN_PYTORCH, "Model: \"cnn\"");
 *   nn_summary_row(&s, "conv1 (Conv2d)", &conv1_out, 320, 320, 0);
 *   ...
 *   nn_summary_end(&s);
 *
 * The totals are the rows' sums: Total params = sum of params, Trainable params = sum of
 * trainable, Non-trainable params = the rest (a frozen layer's; Keras' BatchNorm moving
 * statistics). Buffers are counted apart, the way PyTorch does (running statistics are in
 * the state_dict, not in parameters()): their line is printed in PyTorch's conventions only. */
#ifndef NN_SUMMARY_H
#define NN_SUMMARY_H

#include <stdio.h>

#include "nn_shapes.h"

typedef struct {
  FILE *f;
  nn_framework fw; /* how shapes are printed ("(N, 32, 26, 26)" or "(None, 26, 26, 32)"), and
                      whether the Buffers line is */
  long params, trainable, buffers; /* the sums so far */
} nn_summary;

/* Prints the title line (as given) and the table's header. */
void nn_summary_begin(nn_summary *s, FILE *f, nn_framework fw, const char *title);
/* One layer: "name (Type)", its output shape (one example, no N), its counts. */
void nn_summary_row(nn_summary *s, const char *name, const nn_shape *out, long params, long trainable,
                    long buffers);
/* Prints the totals. */
void nn_summary_end(nn_summary *s);

#endif
