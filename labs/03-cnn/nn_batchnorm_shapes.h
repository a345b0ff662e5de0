/* nn_batchnorm_shapes.h: BatchNorm's parameter count, where Keras and PyTorch count
 * differently. The calculator `nn exam` and `nn summary` use; nn_batchnorm.h is the
 * layer (PyTorch's counting: 2F parameters, 2F running statistics as buffers).
 * Shapes, frameworks and nn_calc: nn_shapes.h. */
#ifndef NN_BATCHNORM_SHAPES_H
#define NN_BATCHNORM_SHAPES_H

#include "nn_shapes.h"

/* BatchNorm over the feature axis F (channels C of an image or signal, else the last axis D);
 * the output shape is the input's:
 *   Keras BatchNormalization: gamma, beta, moving_mean, moving_variance:
 *     params = 4F, trainable 2F, non-trainable 2F
 *   PyTorch BatchNorm1d/2d: weight, bias are parameters = 2F; running_mean,
 *     running_var and num_batches_tracked (one int64) are buffers: 2F + 1. */
nn_status nn_calc_batchnorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

#endif
