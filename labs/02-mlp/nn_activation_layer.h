/* nn_activation_layer.h: an activation as a layer of a model, Keras' Activation("relu").
 *
 *   forward   y = f(x)              x, y: (N, ...), the same shape
 *   backward  dx += dy * f'(x)      f' from x and y (nn_activation.h)
 *
 * No parameters. Its call (nn_layer.h) keeps pointers to the forward's x and y (the
 * caller keeps them alive until backward), because f' needs them.
 */
#ifndef NN_ACTIVATION_LAYER_H
#define NN_ACTIVATION_LAYER_H

#include "nn_activation.h"
#include "nn_layer.h"

typedef struct {
  nn_layer base;
  nn_activation act;
} nn_activation_layer;

/* name NULL: the activation's own name ("relu"). */
nn_layer *nn_activation_layer_new(const char *name, nn_activation act);

#endif
