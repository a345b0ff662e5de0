/* nn_dropout.h: inverted dropout (Srivastava et al. 2014), a regulariser.
 *
 * In training, each element is kept with probability 1 - p and scaled up so
 * the expected output equals the input; in evaluation it is the identity:
 *
 *   training:  y = x * m / (1 - p),   m_i ~ Bernoulli(1 - p)      x, y, m: same shape
 *   eval:      y = x
 *   backward:  dx += dy * m / (1 - p)   (training)    dx += dy   (eval)
 *
 * The mask is never stored, nor drawn from a stream: element i's keep-or-drop of a
 * layer's t-th training call is a pure function of (the layer's seed, t, i), a
 * counter-based RNG (nn_philox.h, Philox4x32-10, as cuRAND and PyTorch's CUDA dropout):
 *
 *   u_i = (philox_bits(seed, t, i) >> 8) * 2^-24      m_i = [u_i >= p]
 *
 * Forward keeps t in its call; backward recomputes the same m from (seed, t, i). So a
 * call's record is 8 bytes, every element is computed on its own (one GPU thread each),
 * and the CPU and the GPU draw the same mask, bit for bit (u is exact on both, compared
 * with p as a float). The layer runs where its tensors are: it has no parameters, so
 * nn_layer_to moves nothing and the layer keeps only its seed and step, on the host.
 */
#ifndef NN_DROPOUT_H
#define NN_DROPOUT_H

#include <stdint.h>

#include "nn_layer.h"

typedef struct {
  nn_layer base;
  float p;              /* the probability of dropping an element, 0 <= p < 1 */
  uint64_t seed;        /* the key of the layer's masks */
  uint64_t step;        /* t of the next mask; each training forward (p > 0) advances it */
} nn_dropout;

nn_dropout *nn_dropout_new(const char *name, float p, uint64_t seed);

/* x, y (dy, dx): one shape, on one device, either. In training (c->training) forward
 * keeps the step t of its mask in c, in c's arena (host memory on either device). */
void nn_dropout_forward(nn_dropout *d, nn_call *c, const nn_tensor *x, nn_tensor *y);
void nn_dropout_backward(nn_dropout *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
