/* nn_layer.h: what every layer of the course is, seen from a model.
 *
 * A layer is a small struct that starts with an nn_layer (its ops table and
 * name) and keeps its own parameters, their gradients and what its backward
 * pass needs. The model owns the activations between layers: it allocates them
 * once for the largest batch and hands each layer its input x and output y, so
 * no layer allocates while training (STYLE.md 3).
 *
 *   forward   y = f(x)                      x: (N, ...in)   y: (N, ...out)
 *             keeps a pointer to x: the model keeps x alive until backward
 *   backward  dx += (dy/dx)^T dy and every parameter grad += its share;
 *             it ADDS, so a caller zeroes grads once per step (nn_optim_zero_grad)
 *             dx may be NULL (the first layer's input needs no gradient)
 *   params    lists (value, grad) pairs for the optimizer and checkpoints
 *   buffers   (optional, NULL for none) lists the tensors a layer keeps that no
 *             optimizer moves but a checkpoint must hold: BatchNorm's running mean
 *             and variance (PyTorch's "buffers", Keras' non-trainable weights);
 *             grad is NULL in each
 *   out_shape the output shape for an input shape, so the model can allocate y
 *             and `nn summary` can print shapes without running anything
 */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include <stddef.h>

#include "nn_param.h"
#include "nn_tensor.h"

typedef struct nn_layer nn_layer;

typedef struct {
  const char *kind; /* "Dense" */
  void (*forward)(nn_layer *l, const nn_tensor *x, nn_tensor *y, bool training);
  void (*backward)(nn_layer *l, const nn_tensor *dy, nn_tensor *dx);
  int (*params)(nn_layer *l, nn_param *out, int max);
  /* in: the input shape without N; writes the output shape without N, returns its ndim */
  int (*out_shape)(const nn_layer *l, const int *in, int in_ndim, int *out);
  void (*free)(nn_layer *l);
  int (*buffers)(nn_layer *l, nn_param *out, int max); /* may be NULL */
} nn_layer_ops;

/* The most (value, grad) pairs or buffers one layer lists: a residual block lists its
 * convolutions' and batch norms' together. */
enum { NN_MAX_LAYER_PARAMS = 32 };

struct nn_layer {
  const nn_layer_ops *ops;
  char name[32]; /* "dense1": parameters are named "dense1.W", "dense1.b" */
  bool frozen;   /* Keras trainable = False: nn_model_compile leaves its params out of the
                  * optimizer, so they keep their values (transfer learning). A training
                  * step's backward stops at the lowest layer that is not frozen; a
                  * frozen layer above that one still runs, to pass dx on */
};

/* The number of parameters (values, not tensors) of a layer: what `nn summary` prints.
 * As PyTorch counts: buffers are not parameters. */
long nn_layer_param_count(nn_layer *l);
/* The layer's buffers into out (at most max); 0 when it has none. */
int nn_layer_buffers(nn_layer *l, nn_param *out, int max);
/* The number of values in the layer's buffers (Keras' "non-trainable params" of BatchNorm). */
long nn_layer_buffer_count(nn_layer *l);

/* Move every parameter of l, value and grad, and every buffer to `device` (a new tensor there, the
 * old one freed; a tensor already there stays). Generic: it goes through the
 * params op, so it works for every layer. The layer's forward and backward then
 * take tensors on that device. An optimizer made before the move keeps its state
 * on the old device: make it after. NN_GPU needs nn_cuda_available(). */
void nn_layer_to(nn_layer *l, nn_device device);

/* dst += src element-wise, on the device both are on (same element count): the
 * backward of layers that pass dy straight through (Flatten; Dropout in eval). */
void nn_add_into(nn_tensor *dst, const nn_tensor *src);

#endif
