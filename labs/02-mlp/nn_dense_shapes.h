/* nn_dense_shapes.h: the output shape and parameter count of an MLP's layers, in Keras'
 * and PyTorch's conventions: Dense (Linear), Flatten, and the elementwise layers
 * (activations, Dropout). The calculator `nn exam` and `nn summary` use; nn_dense.h,
 * nn_flatten.h, nn_activation_layer.h and nn_dropout.h are the layers, and
 * autograder/tests/02-mlp/test_dense_shapes.c proves they agree. Shapes, frameworks and
 * nn_calc: nn_shapes.h.
 *
 *   nn_shape in = nn_shape_vector(784);
 *   nn_calc c;
 *   nn_calc_dense(&in, 512, true, NN_PYTORCH, &c, &err);      c.params == 401920,
 *                                                              c.formula "784*512 + 512 = 401920" */
#ifndef NN_DENSE_SHAPES_H
#define NN_DENSE_SHAPES_H

#include "nn_shapes.h"

/* Dense (Keras) / Linear (PyTorch) on the last axis of `in` (D_in):
 *   params = D_in*units + units (bias), out = in with the last axis set to units.
 * Same in both; Keras stores W as (D_in, units), PyTorch as (units, D_in). On a feature
 * map the frameworks' last axes differ: Keras' (H, W, C) ends in C, PyTorch's (C, H, W) in W. */
nn_status nn_calc_dense(const nn_shape *in, int units, bool bias, nn_framework fw, nn_calc *c,
                        nn_error *err);

/* Flatten: (C, H, W) -> (C*H*W), 0 params. The count agrees; the ORDER does not:
 * Keras flattens (H, W, C), PyTorch (C, H, W), so weights do not port as they are. */
nn_status nn_calc_flatten(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

/* An elementwise layer (an activation, Dropout): the output shape is the input's, 0 params.
 * who names it in messages and in the formula ("Dropout has no parameters = 0"). */
nn_status nn_calc_elementwise(const char *who, const nn_shape *in, nn_framework fw, nn_calc *c,
                              nn_error *err);

#endif
