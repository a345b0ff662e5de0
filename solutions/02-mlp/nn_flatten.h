/* nn_flatten.h: (N, C, H, W) -> (N, C*H*W), the bridge from images to Dense layers.
 *
 * The bytes do not move (a tensor is row-major: element (n, c, h, w) is already at
 * n*CHW + (c*H + h)*W + w); forward copies x into the model's y, backward adds dy
 * into dx. Keras's Flatten, PyTorch's nn.Flatten(). No parameters. Runs on the
 * CPU and the GPU (x, y, dx, dy all on one device).
 */
#ifndef NN_FLATTEN_H
#define NN_FLATTEN_H

#include "nn_layer.h"

nn_layer *nn_flatten_new(const char *name);

#endif
