/* nn_residual.h: ResNet's basic block (ResNet-18/34's BasicBlock) as one layer.
 *
 *   y = relu( bn2(conv2( relu(bn1(conv1(x))) )) + shortcut(x) )
 *
 *   conv1: 3x3, stride s, padding 1, no bias     in -> out channels
 *   conv2: 3x3, stride 1, padding 1, no bias     out -> out
 *   shortcut(x) = x                              when in == out and s == 1 (identity)
 *               = bn_proj(conv_proj(x))          otherwise: 1x1, stride s, no bias, then
 *                                                BatchNorm (the projection, torchvision's
 *                                                "downsample"), so the shapes match
 *
 *   x: (N, in, H, W)  ->  y: (N, out, Ho, Wo),  Ho = floor((H - 1) / s) + 1
 *
 * The convolutions have no bias: the BatchNorm after each has beta for that.
 *
 * Why it trains deep networks: the block learns a residual F(x) = y - x, which is
 * 0 when its weights are small, so a stack of blocks starts near the identity. And
 * the sum's backward copies dy unchanged into BOTH branches:
 *
 *   d(F(x) + x)/dx = dF/dx + I    so   dx = (main branch's backward of dy) + dy
 *
 * the "+ dy" is a highway along which the gradient reaches the first layers of a
 * 100-layer network without passing through (and shrinking in) every convolution.
 *
 * Built from the course's own layers, each a sublayer named "<name>.conv1",
 * "<name>.bn1", "<name>.relu1", "<name>.conv2", "<name>.bn2", "<name>.proj",
 * "<name>.proj_bn", "<name>.relu2"; params and buffers list theirs, e.g.
 * "block1.conv1.W", "block1.bn1.running_mean". Parameters, as torchvision counts:
 *   9*in*out + 2*out + 9*out*out + 2*out  (+ in*out + 2*out with the projection)
 *   BasicBlock(64, 64) = 73,984;  BasicBlock(64, 128, stride 2) = 230,144.
 *
 * Memory: a call keeps the activations between its sublayers and their calls (its
 * nn_residual_saved), and backward borrows their gradients, each (N, out, Ho, Wo),
 * all from the call's arena: a training step allocates nothing, and a block applied
 * twice keeps two records.
 *
 * Devices: the block runs where its sublayers' weights are (nn_layer_to moves them
 * all, through params and buffers); x, y, dy, dx and the call's arena must be there
 * too, and the block's own work (the sum b2 + shortcut, dsum into both branches) runs
 * there as well.
 */
#ifndef NN_RESIDUAL_H
#define NN_RESIDUAL_H

#include "nn_batchnorm.h"
#include "nn_conv2d.h"
#include "nn_layer.h"
#include "nn_rng.h"

typedef struct {
  int in_channels;  /* of x */
  int out_channels; /* of y */
  int stride;       /* of conv1 and the projection; 0 means 1 */
} nn_residual_config;

typedef struct {
  nn_layer base;
  int in_C, out_C, stride;
  nn_conv2d *conv1, *conv2;
  nn_batchnorm *bn1, *bn2;
  nn_layer *relu1, *relu2;
  nn_conv2d *proj;       /* NULL for the identity shortcut */
  nn_batchnorm *proj_bn; /* NULL for the identity shortcut */
} nn_residual;

/* What one forward keeps for its backward (the call's c->saved, in its arena): the
 * activations between the sublayers, each (N, out, Ho, Wo),
 *   x -conv1-> a1 -bn1-> b1 -relu1-> r1 -conv2-> a2 -bn2-> b2
 *   x -proj-> p1 -proj_bn-> p2 (projection only)
 *   sum = b2 + (x or p2) -relu2-> y
 * and each sublayer's call, named as the sublayer. */
typedef struct {
  nn_tensor a1, b1, r1, a2, b2, p1, p2, sum;
  nn_call conv1, bn1, relu1, conv2, bn2, proj, proj_bn, relu2;
} nn_residual_saved;

/* A basic block named `name` ("block1"), its convolutions' weights drawn from rng (He). */
nn_residual *nn_residual_new(const char *name, const nn_residual_config *cfg, nn_rng *rng);

/* x: (N, in, H, W) on the weights' device -> y: (N, out, Ho, Wo); c->training: the BatchNorms'
 * batch statistics. */
void nn_residual_forward(nn_residual *r, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* Every sublayer's grads += ..., dx += ... (dx may be NULL), from dy: (N, out, Ho, Wo), for call c. */
void nn_residual_backward(nn_residual *r, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
