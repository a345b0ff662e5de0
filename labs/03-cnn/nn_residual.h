/* nn_residual.h: the residual blocks of ResNet and MobileNetV2, each as one layer.
 *
 *   y = relu( main(x) + shortcut(x) )        main: a chain of conv -> BN (-> ReLU) stages
 *
 * Three kinds (nn_block_kind), as torchvision builds them:
 *
 *   basic (ResNet-18/34's BasicBlock):
 *     conv1 3x3 stride s  in -> out,  bn1, relu1,  conv2 3x3  out -> out,  bn2
 *   bottleneck (ResNet-50/101/152's Bottleneck; width w = out / 4 unless given):
 *     conv1 1x1  in -> w,  bn1, relu1,  conv2 3x3 stride s  w -> w,  bn2, relu_mid,
 *     conv3 1x1  w -> out,  bn3
 *     the 1x1s shrink the channels for the expensive 3x3 and grow them back: at 256 channels
 *     two 3x3 convs cost 2*9*256^2 = 1,179,648 weights, a bottleneck with w = 64
 *     256*64 + 9*64^2 + 64*256 = 69,632.
 *   inverted (MobileNetV2's InvertedResidual; width w = 6 in unless given):
 *     conv1 1x1  in -> w,  bn1, relu1 (ReLU6),    (left out when w == in, as torchvision)
 *     conv2 3x3 stride s depthwise (groups w)  w -> w,  bn2, relu_mid (ReLU6),
 *     conv3 1x1  w -> out,  bn3                    (no ReLU: the "linear bottleneck")
 *     and no ReLU after the sum either; the inverse of a bottleneck: thin at the ends,
 *     wide in the middle, where the depthwise 3x3 costs only 9w weights.
 *
 *   shortcut(x) = x                      when in == out and s == 1 (identity)
 *               = bn_proj(conv_proj(x))  otherwise, basic and bottleneck: 1x1, stride s, no
 *                                        bias, then BatchNorm (torchvision's "downsample")
 *               = none                   otherwise, inverted: y = main(x), a plain stage
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
 * "<name>.bn1", "<name>.relu1", "<name>.conv2", "<name>.bn2", ("<name>.relu_mid",
 * "<name>.conv3", "<name>.bn3"), "<name>.proj", "<name>.proj_bn", "<name>.relu2";
 * params and buffers list theirs, e.g. "block1.conv1.W", "block1.bn1.running_mean".
 * Parameters, as torchvision counts (BatchNorm: 2 per channel):
 *   basic       9*in*out + 2*out + 9*out*out + 2*out   (+ in*out + 2*out with the projection)
 *               BasicBlock(64, 64) = 73,984;  BasicBlock(64, 128, stride 2) = 230,144
 *   bottleneck  in*w + 2w + 9*w*w + 2w + w*out + 2*out  (+ in*out + 2*out)
 *               Bottleneck(256 -> 256, w 64) = 70,400;  ResNet-50's first, (64 -> 256) = 75,008
 *   inverted    in*w + 2w (when w != in) + 9w + 2w + w*out + 2*out
 *               InvertedResidual(24 -> 24, w 144) = 8,832 (MobileNetV2's third block)
 * nn_calc_block (nn_conv_shapes.h) works the same counts out from the formulas, for
 * `nn summary` (words basicblock, bottleneck, invertedresidual).
 *
 * Memory: a call keeps the activations between its sublayers and their calls (its
 * nn_residual_saved), and backward borrows their gradients, all from the call's arena:
 * a training step allocates nothing, and a block applied twice keeps two records.
 *
 * Devices: the block runs where its sublayers' weights are (nn_layer_to moves them
 * all, through params and buffers); x, y, dy, dx and the call's arena must be there
 * too, and the block's own work (the sum main + shortcut, dsum into both branches) runs
 * there as well.
 */
#ifndef NN_RESIDUAL_H
#define NN_RESIDUAL_H

#include "nn_batchnorm.h"
#include "nn_conv2d.h"
#include "nn_layer.h"
#include "nn_rng.h"

/* nn_block_kind (basic, bottleneck, inverted) is in nn_conv_shapes.h, with the calculator. */
typedef struct {
  int in_channels;     /* of x */
  int out_channels;    /* of y */
  int stride;          /* of the 3x3 (and the projection); 0 means 1 */
  nn_block_kind kind;  /* NN_BLOCK_BASIC (0), NN_BLOCK_BOTTLENECK, NN_BLOCK_INVERTED */
  int width;           /* the 3x3's channels; 0: out / 4 (bottleneck), 6 * in (inverted) */
} nn_residual_config;

/* The main branch's sublayers, at most: conv, BN, ReLU three times less the last ReLU. */
enum { NN_BLOCK_MAX_MAIN = 8 };

typedef struct {
  nn_layer base;
  nn_block_kind kind;
  int in_C, out_C, width, stride;
  nn_layer *main[NN_BLOCK_MAX_MAIN]; /* the main branch in order, n_main of them */
  int n_main;
  /* the same sublayers by name (NULL where the kind has none): the branch's convolutions and
   * BatchNorms in order, relu1 after bn1, relu_mid after bn2 (bottleneck, inverted) */
  nn_conv2d *conv1, *conv2, *conv3;
  nn_batchnorm *bn1, *bn2, *bn3;
  nn_layer *relu1, *relu_mid;
  bool identity;         /* the shortcut is x itself */
  nn_conv2d *proj;       /* the projection shortcut; NULL for identity or none */
  nn_batchnorm *proj_bn; /* NULL with proj */
  nn_layer *relu2;       /* the ReLU after the sum; NULL for the inverted block */
} nn_residual;

/* What one forward keeps for its backward (the call's c->saved, in its arena):
 *   x -main[0]-> act[0] -main[1]-> act[1] ... act[n_main - 1]   (the branch's output)
 *   x -proj-> p1 -proj_bn-> p2                                     (projection only)
 *   sum = act[n_main - 1] + (x or p2, or nothing) -relu2-> y      (inverted: sum is y)
 * and each sublayer's call. */
typedef struct {
  nn_tensor act[NN_BLOCK_MAX_MAIN], p1, p2, sum;
  nn_call main[NN_BLOCK_MAX_MAIN], proj, proj_bn, relu2;
} nn_residual_saved;

/* A block named `name` ("block1"), its convolutions' weights drawn from rng (He). */
nn_residual *nn_residual_new(const char *name, const nn_residual_config *cfg, nn_rng *rng);

/* x: (N, in, H, W) on the weights' device -> y: (N, out, Ho, Wo); c->training: the BatchNorms'
 * batch statistics. */
void nn_residual_forward(nn_residual *r, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* Every sublayer's grads += ..., dx += ... (dx may be NULL), from dy: (N, out, Ho, Wo), for call c. */
void nn_residual_backward(nn_residual *r, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
