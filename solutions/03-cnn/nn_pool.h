/* nn_pool.h: pooling layers, the CNN's way to shrink an image and keep what matters.
 *
 * MaxPool2d and AvgPool2d slide a k x k window with stride s over each (H, W)
 * plane of x, after p padded cells on each side, and reduce each window to one
 * number. Channels and examples never mix:
 *
 *   x: (N, C, H, W)  ->  y: (N, C, Ho, Wo)
 *   Ho = floor((H + 2p - k) / s) + 1,  Wo = floor((W + 2p - k) / s) + 1
 *
 * The sizes come from nn_pool_out_len (nn_pool_shapes.h), the calculator `nn exam`
 * and `nn summary` use, so a layer and a drill never disagree. The rules are
 * PyTorch's (nn.MaxPool2d(k, s, p), nn.AvgPool2d(k, s, p)): stride 0 means
 * "= kernel" (both frameworks' default), 0 <= p <= k/2, and the window must fit
 * the padded input. (28, 28) with k = 2 -> (14, 14); (26, 26) -> (13, 13);
 * (11, 11) -> (5, 5): floor drops the last row and column.
 *
 * MaxPool2d:  y[i,j] = max over the window of x           padded cells never win
 *   backward: dx[argmax(i,j)] += dy[i,j]                   the others get nothing
 * Only the window's maximum moved y, so only it gets the gradient. Forward keeps
 * where each maximum was (argmax: h*W + w within its plane, as PyTorch's
 * return_indices); backward routes dy there, and a cell that is the maximum of
 * two overlapping windows (k > s) receives both. Ties go to the first maximum in
 * row-major window order, as PyTorch; a NaN wins, as PyTorch, so a diverging
 * network shows it. The argmax (N*C*Ho*Wo ints) belongs to the call, not the layer:
 * it comes from the call's arena, so a pool applied twice keeps two.
 *
 * AvgPool2d:  y[i,j] = (1 / k^2) * sum over the window of x   (padded cells count as 0)
 *   backward: dx[h,w] += dy[i,j] / k^2 for every real cell of window (i, j)
 * The divisor is always k^2: PyTorch's default count_include_pad=True. (With
 * count_include_pad=False a border window would divide by its real cells only;
 * Keras' AveragePooling2D(padding='same') does that.)
 *
 * GlobalAvgPool2d: (N, C, H, W) -> (N, C),  y[n,c] = mean of x[n,c,:,:],
 *   backward: dx[n,c,h,w] += dy[n,c] / (H*W)
 * Keras' GlobalAveragePooling2D; in PyTorch nn.AdaptiveAvgPool2d(1) then flatten.
 * It replaces Flatten + a big Dense at the end of a CNN (ResNet does that).
 *
 * None has parameters, so a pooling layer runs where its x is: CPU or GPU (nn_pool.cu),
 * with x, y, dy and dx all on one device (a mix aborts, naming the function). The
 * argmax lives on that device too.
 */
#ifndef NN_POOL_H
#define NN_POOL_H

#include "nn_layer.h"
#include "nn_pool_shapes.h"

/* The sizes of one plane and its window: x plane (H, W) -> y plane (Ho, Wo), a k x k
 * window moved by s, p padded cells each side. What the math of one plane needs,
 * on the CPU (nn_pool.c) and the GPU (nn_pool.cu). */
typedef struct {
  int H, W, Ho, Wo;
  int k, s, p;
} nn_pool_window;

typedef struct {
  nn_layer base;
  nn_pool_kind kind;       /* NN_POOL_MAX or NN_POOL_AVG */
  int kernel;              /* k: the window is k x k */
  int stride;              /* s >= 1 (the constructor turns 0 into k) */
  int padding;             /* p cells each side, 0 <= p <= k/2 */
} nn_pool2d;

/* MaxPool2d(kernel, stride, padding): stride 0 means stride = kernel. Aborts on
 * settings PyTorch refuses (kernel < 1, stride < 0, padding < 0 or > kernel/2). */
nn_pool2d *nn_maxpool2d_new(const char *name, int kernel, int stride, int padding);
/* AvgPool2d(kernel, stride, padding), count_include_pad = true: divides by kernel^2. */
nn_pool2d *nn_avgpool2d_new(const char *name, int kernel, int stride, int padding);
/* GlobalAvgPool2d: (N, C, H, W) -> (N, C). */
nn_layer *nn_global_avgpool2d_new(const char *name);

/* x: (N, C, H, W), y: (N, C, Ho, Wo), both on the CPU or both on the GPU. MaxPool keeps in
 * the call, as c->saved, where each max came from: (N, C, Ho, Wo) ints, h*W + w in its
 * plane, in the call's arena (on x's device). */
void nn_pool2d_forward(nn_pool2d *p, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* dy: (N, C, Ho, Wo) of call c's y; dx (may be NULL): x's shape, ADDED to. */
void nn_pool2d_backward(nn_pool2d *p, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);

#endif
