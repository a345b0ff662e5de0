/* nn_param.h: what an optimizer sees of a model, one (value, grad) pair per tensor.
 *
 * A layer lists its parameters as nn_params; the optimizer updates `value` from
 * `grad` (same shape). Neither is owned here: the layer allocates and frees both.
 * `name` ("dense1.W") is for messages and checkpoints; the layer owns the string.
 */
#ifndef NN_PARAM_H
#define NN_PARAM_H

#include "nn_tensor.h"

typedef struct {
  const char *name;
  nn_tensor *value, *grad;
} nn_param;

#endif
