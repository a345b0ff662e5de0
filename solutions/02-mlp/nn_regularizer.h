/* nn_regularizer.h: L1 and L2 penalties on the weights, added to the loss.
 *
 *   penalty = l1 sum_i |w_i| + l2 sum_i w_i^2        dpenalty/dw_i = l1 sign(w_i) + 2 l2 w_i
 *
 * Keras' kernel_regularizer=regularizers.L1(l1), L2(l2) or L1L2(l1, l2) is exactly this,
 * added to the loss it reports. PyTorch has no regularizer object: its optimizers'
 * weight_decay = wd adds wd w to the gradient (nn_optim.h), the gradient of (wd / 2) sum w^2,
 * so Keras' L2(l2) is PyTorch's weight_decay = 2 l2, and an L1 term is written into the loss
 * by hand (l1 * sum(p.abs())).
 *
 * What they do: L2 pulls each weight towards 0 in proportion to its size, so every weight
 * shrinks and none becomes exactly 0. L1 pulls with the same force l1 whatever the size, so
 * the small weights, which the data hardly needs, are pushed to 0 and the model turns sparse
 * (sign(0) = 0: a weight at 0 feels no pull). L1 + L2 (the elastic net) has both.
 *
 * The sums run in double. Params may live on either device; on the GPU the sum comes back
 * through `scratch` (an arena on that device, or NULL for CUDA's pool), as a loss's does.
 */
#ifndef NN_REGULARIZER_H
#define NN_REGULARIZER_H

#include "nn_arena.h"
#include "nn_param.h"

/* The penalty of params[0..count); with add_grads, its gradient is added into each grad.
 * l1, l2 >= 0. */
double nn_regularize(const nn_param *params, int count, float l1, float l2, bool add_grads, nn_arena *scratch);

#endif
