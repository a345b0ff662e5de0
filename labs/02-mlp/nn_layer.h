/* nn_layer.h: what every layer of the course is, seen from a model.
 *
 * A layer is a small struct that starts with an nn_layer (its ops table and
 * name) and holds its parameters, their gradients and its buffers: nothing of any
 * one call. What a forward keeps for its backward (its input x, a dropout mask,
 * BatchNorm's normalised x) lives in an nn_call, one per call, so one layer can be
 * applied several times in a step (an RNN cell over T steps, one discriminator on a
 * real and a fake batch) and each backward goes back through its own call, the
 * parameter gradients adding up. PyTorch keeps the same per call in its autograd
 * graph (ctx.save_for_backward); llm.c passes it to every backward by hand.
 *
 *   forward   y = f(x)                      x: (N, ...in)   y: (N, ...out)
 *             records x and y in the call (the caller keeps both alive until
 *             backward) and whatever else backward needs, in the call's arena
 *   backward  dx += (dy/dx)^T dy and every parameter grad += its share, for the
 *             call's x; it ADDS, so a caller zeroes grads once per step
 *             (nn_optim_zero_grad); dx may be NULL (an input that needs no gradient)
 *   params    lists (value, grad) pairs for the optimizer and checkpoints
 *   buffers   (optional, NULL for none) lists the tensors a layer keeps that no
 *             optimizer moves but a checkpoint must hold: BatchNorm's running mean
 *             and variance (PyTorch's "buffers", Keras' non-trainable weights);
 *             grad is NULL in each
 *   out_shape the output shape for an input shape, so the model can allocate y
 *             and `nn summary` can print shapes without running anything
 *
 * A call by hand, as the tests make them:
 *
 *   nn_arena *ws = nn_arena_new(NN_CPU);
 *   nn_call c = {.arena = ws, .training = true};
 *   l->ops->forward(l, &c, &x, &y);
 *   l->ops->backward(l, &c, &dy, &dx);       dx += ..., dW += ... for this x
 */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include <stddef.h>

#include "nn_arena.h"
#include "nn_param.h"
#include "nn_tensor.h"

typedef struct nn_layer nn_layer;

/* One application of a layer: what its forward saw and kept for its backward. */
typedef struct {
  bool training;        /* set by the caller: Dropout drops, BatchNorm uses batch statistics */
  nn_arena *arena;      /* set by the caller: scratch and saved tensors (valid until its reset) */
  const nn_tensor *x;   /* set by forward: the input, for backward */
  const nn_tensor *y;   /* set by forward: the output */
  void *saved;          /* set by forward: the layer's own record, in the arena (NULL: none) */
  const nn_layer *layer;       /* set by forward: whose call it is */
  unsigned long generation;    /* set by forward: the arena's generation, so a reset is caught */
} nn_call;

typedef struct {
  const char *kind; /* "Dense" */
  void (*forward)(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y);
  void (*backward)(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);
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

/* l->name <- name, or fallback when name is NULL; a name too long for it (31 characters)
 * panics, naming fn: names are the checkpoint's keys ("dense1.W"), so a silent cut could
 * make two layers one. */
void nn_layer_name(nn_layer *l, const char *fn, const char *name, const char *fallback);

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

/* A forward's first step: c is l's call on x giving y (c->saved NULL until the layer keeps
 * something). Panics on a NULL call, naming fn. */
void nn_call_begin(nn_call *c, const nn_layer *l, const char *fn, const nn_tensor *x, const nn_tensor *y);
/* A layer runs where its weights are: t (what: "x", "dy", ...) must be on `weights`, the
 * device of l's parameters, else a panic naming fn, the tensor, the layer and what to move. */
void nn_layer_require_device(const char *fn, const nn_layer *l, const char *what, const nn_tensor *t,
                             nn_device weights);
/* The call's arena, or a panic naming the layer and what it needed the arena for. */
nn_arena *nn_call_arena(const nn_call *c, const char *fn, const char *what);
/* Backward's first check: c went through l's forward, and its arena has not been reset since
 * (what the forward saved there would be gone). Panics naming fn otherwise. */
void nn_call_require_forward(const nn_call *c, const char *fn, const nn_layer *l);

/* dst += src element-wise, on the device both are on (same element count): the
 * backward of layers that pass dy straight through (Flatten; Dropout in eval). */
void nn_add_into(nn_tensor *dst, const nn_tensor *src);

#endif
