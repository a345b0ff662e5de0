/* nn_dropout.h: inverted dropout (Srivastava et al. 2014), a regulariser.
 *
 * In training, each element is kept with probability 1 - p and scaled up so
 * the expected output equals the input; in evaluation it is the identity:
 *
 *   training:  y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)      x, y, m: same shape
 *   eval:      y = x
 *   backward:  dx += dy * m / (1 - p)   (training)    dx += dy   (eval)
 *
 * The mask is never stored: forward keeps, in its call, the state of the layer's
 * RNG before drawing it, and backward replays the same draws. That keeps a call's
 * record to a few bytes at the price of drawing twice.
 * CPU only so far: the mask is replayed from an nn_rng, which has no GPU twin;
 * a GPU tensor aborts, naming the function.
 */
#ifndef NN_DROPOUT_H
#define NN_DROPOUT_H

#include <stdint.h>

#include "nn_layer.h"
#include "nn_rng.h"

typedef struct {
  nn_layer base;
  float p;              /* the probability of dropping an element, 0 <= p < 1 */
  nn_rng rng;           /* the stream the masks are drawn from; each call moves it on */
} nn_dropout;

nn_dropout *nn_dropout_new(const char *name, float p, uint64_t seed);

/* In training (c->training) it keeps where its mask's draws began in c, in c's arena. */
void nn_dropout_forward(nn_dropout *d, nn_call *c, const nn_tensor *x, nn_tensor *y);
void nn_dropout_backward(nn_dropout *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
