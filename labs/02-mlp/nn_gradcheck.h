/* nn_gradcheck.h: prove a layer's backward pass with finite differences.
 *
 * Take a random projection of the output as the loss, L = sum_i r_i y_i with
 * r ~ N(0, 1) (seeded), so dL/dy = r. Run backward with dy = r to get the
 * analytic gradients of every input element and every parameter, then nudge
 * each of them by +-h and measure
 *
 *   numeric = (L(v + h) - L(v - h)) / 2h          L summed in double
 *
 * The worst relative error |analytic - numeric| / max(|analytic|, |numeric|, 1e-2)
 * is reported with where it happened. The forward pass runs in float, so h is
 * float-sized (1e-3 for most layers): a smaller h drowns in rounding.
 */
#ifndef NN_GRADCHECK_H
#define NN_GRADCHECK_H

#include <stdint.h>

#include "nn_layer.h"

typedef struct {
  double max_rel;        /* the worst relative error */
  char name[64];         /* where: "x" or a parameter's name ("dense1.W") */
  long index;            /* which element of it (flat) */
  int ndim, shape[NN_MAX_DIMS]; /* the shape of that tensor, to say where as indices */
  double analytic, numeric;
  long checked;          /* how many elements were compared */
} nn_gradcheck;

/* Where the worst error was, as a name and an index per axis: "conv1.W[1, 0, 2, 2]".
 * "element 46 of conv1.W" makes the reader unravel (F, C, KH, KW) by hand. */
typedef struct { char s[128]; } nn_gradcheck_text;
nn_gradcheck_text nn_gradcheck_where(const nn_gradcheck *r);

/* Check layer l on input x (N, ...): every element of x and of every parameter, with
 * every forward in eval mode (dropout off, BatchNorm on its running statistics). */
nn_gradcheck nn_gradcheck_layer(nn_layer *l, const nn_tensor *x, double h, uint64_t seed);
/* The same with every forward in training mode: BatchNorm normalises with the batch's
 * own mean and variance, so each output depends on every example of the batch, and
 * that is the backward to check. (Dropout would draw a new mask each time: not for it.) */
nn_gradcheck nn_gradcheck_layer_training(nn_layer *l, const nn_tensor *x, double h, uint64_t seed);

/* Both, with a look at the analytic gradients before they are compared: hook(ctx, name, grad,
 * n) is called for dx ("x") and then for each parameter's gradient, after the backward pass,
 * and may change them. An autograder uses it to put a student's gradients in the place of
 * its own and compare them with the finite differences of its own forward. */
typedef void (*nn_gradcheck_hook)(void *ctx, const char *name, float *grad, long n);
nn_gradcheck nn_gradcheck_layer_with(nn_layer *l, const nn_tensor *x, double h, uint64_t seed, bool training,
                                     nn_gradcheck_hook hook, void *ctx);

#endif
