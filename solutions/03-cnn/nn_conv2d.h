/* nn_conv2d.h: the 2-D convolution layer (Conv2d), as im2col + one GEMM per image.
 *
 *   y[n][f][oh][ow] = b[f] + sum_{c,i,j} W[f][c][i][j] * x[n][c][oh*s - p_h + i*d][ow*s - p_w + j*d]
 *
 *   x: (N, C, H, W)   W: (F, C, KH, KW)   b: (F)   y: (N, F, Ho, Wo)
 *   Ho = floor((H + 2p - d*(KH-1) - 1) / s) + 1       (nn_conv_shapes.h: nn_conv_out_len)
 *
 * (strictly a cross-correlation, as in every framework: the kernel is not flipped).
 * W is stored (F, C, KH, KW) as in PyTorch, which is also an (F, C*KH*KW) matrix
 * whose row f is filter f. With cols = im2col(x_n): (C*KH*KW, Ho*Wo) (nn_im2col.h),
 * one image is one matrix product:
 *
 *   y_n (F, Ho*Wo) = W (F, C*KH*KW) @ cols (C*KH*KW, Ho*Wo) + b      (b[f] on row f)
 *
 * Backward, from dy_n: (F, Ho*Wo), per image, adding:
 *
 *   dW += dy_n @ cols^T   (F, C*KH*KW)        db[f] += sum over row f of dy_n
 *   dcols = W^T @ dy_n    (C*KH*KW, Ho*Wo)    dx_n += col2im(dcols)
 *
 * Parameters: F*C*KH*KW + F, e.g. Conv2d(1 -> 32, 3x3) has 3*3*1*32 + 32 = 320.
 *
 * Groups (PyTorch's groups=G): the C input channels and F filters split into G groups
 * of C/G and F/G; filter f sees only the C/G channels of its group, so W is
 * (F, C/G, KH, KW) and the parameters drop G-fold: F*(C/G)*KH*KW + F. im2col's rows are
 * ordered (c, i, j), c outermost, so group g's rows of cols are one block of K/G rows,
 * and its filters one block of F/G rows of W and of y_n: a grouped conv is G smaller
 * products on the same cols,
 *
 *   y_n[g] (F/G, P) = W[g] (F/G, K/G) @ cols[g] (K/G, P),   K = C*KH*KW, P = Ho*Wo.
 *
 * G = C is depthwise (one KxK filter per channel, F = C*m for a depth multiplier m);
 * a depthwise conv followed by a 1x1 conv is MobileNet's depthwise-separable conv,
 * 9C + C*F weights instead of 9*C*F for a 3x3 (nn_residual.h: the inverted block).
 * 1x1 convolutions (KH = KW = 1) are a Dense layer applied at every pixel: they mix
 * channels, never neighbours, and are how bottlenecks shrink and grow the channel count.
 * Initialisation: He (W ~ N(0, 2 / fan_in), fan_in = C*KH*KW) for ReLU networks,
 * or Glorot (U(-a, a), a = sqrt(6 / (fan_in + fan_out)), fan_out = F*KH*KW); b = 0.
 *
 * Padding: valid (none), explicit p (p zeros on each side), or same: Ho = H, Wo = W,
 * stride 1 only, as PyTorch's padding='same'; d*(K-1) zeros in all, the extra one of an
 * even kernel at the bottom / right.
 *
 * Threads: the images of a batch are independent, so the CPU spreads them over
 * libnn's threads (nn_parallel.h), each thread with its own cols; backward gives each
 * thread its own partial dW and db, added into dW and db after the loop (adding into
 * one dW from two threads at once would lose updates).
 *
 * Memory: a call borrows its workspace from its arena (nn_arena.h), so a training step
 * allocates nothing and the layer owns no buffer at all. A CPU forward keeps every
 * image's im2col columns (C*KH*KW x Ho*Wo floats each) in the call when the batch's fit
 * NN_CONV2D_KEEP_FLOATS, and backward reads them instead of redoing im2col; above that,
 * forward keeps none and backward recomputes them from the call's x. Backward also
 * borrows, per thread, a buffer for dcols and a partial dW and db.
 *
 * Devices: the layer runs where its weights are (nn_layer_to). On the GPU the same
 * steps run as kernels (im2col, col2im and the bias sums: nn_im2col.cu, nn_conv2d.cu)
 * and cuBLAS (nn_sgemm with NN_GPU), and the workspace comes from a GPU arena. x, y,
 * dy, dx and the call's arena must be on the weights' device: a mix aborts, saying
 * what to move.
 */
#ifndef NN_CONV2D_H
#define NN_CONV2D_H

#include "nn_im2col.h"
#include "nn_layer.h"
#include "nn_rng.h"
#include "nn_conv_shapes.h" /* nn_pad_mode, nn_conv_out_len */

/* Zero is a sensible default for every field but in_channels, filters and kernel:
 *   (nn_conv2d_config){.in_channels = 1, .filters = 32, .kernel = 3}   Conv2d(1, 32, 3) */
typedef struct {
  int in_channels; /* C */
  int filters;     /* F: PyTorch out_channels, Keras filters */
  int kernel;      /* k: a k x k kernel */
  int kh, kw;      /* a kh x kw kernel instead, when both are set */
  int stride;      /* s; 0 means 1 */
  nn_pad_mode pad; /* NN_PAD_VALID (0), NN_PAD_SAME (stride 1), NN_PAD_EXPLICIT */
  int padding;     /* p >= 0 zeros on each side, with NN_PAD_EXPLICIT */
  int dilation;    /* d; 0 means 1 */
  int groups;      /* G dividing in_channels and filters; 0 means 1; G = in_channels: depthwise */
  bool no_bias;    /* PyTorch bias=False, Keras use_bias=False */
  bool xavier;     /* Glorot uniform instead of He normal */
} nn_conv2d_config;

typedef struct {
  nn_layer base;
  int C, F, KH, KW, stride, dilation, groups;
  nn_pad_mode pad;
  int padding;
  bool has_bias;
  nn_tensor W, b, dW, db; /* W, dW: (F, C/G, KH, KW); b, db: (F), empty when has_bias is false */
  double keep_floats;     /* a CPU forward keeps its columns up to this many (NN_CONV2D_KEEP_FLOATS; 0: never) */
  char W_name[48], b_name[48]; /* "conv1.W", "conv1.b": the params' names */
} nn_conv2d;

/* A Conv2d layer named `name` ("conv1"), weights drawn from rng. */
nn_conv2d *nn_conv2d_new(const char *name, const nn_conv2d_config *cfg, nn_rng *rng);

/* The geometry of one image of height H and width W (padding resolved, Ho and Wo from
 * nn_conv_out_len); aborts with the layer's name when the kernel does not fit. */
nn_conv_geom nn_conv2d_geom(const nn_conv2d *c, int H, int W);

/* x: (N, C, H, W) -> y: (N, F, Ho, Wo) through im2col + nn_sgemm, on the weights' device.
 * The im2col buffers come from the call's arena (nn_layer.h), which must be on that device. */
void nn_conv2d_forward(nn_conv2d *c, nn_call *call, const nn_tensor *x, nn_tensor *y);
/* dW += ..., db += ..., dx += ... (dx may be NULL), from dy: (N, F, Ho, Wo), for call's x. */
void nn_conv2d_backward(nn_conv2d *c, const nn_call *call, const nn_tensor *dy, nn_tensor *dx);
/* A CPU forward keeps its N images' im2col columns in its call (for backward) when they are
 * at most this many floats (64 MB; the layer's keep_floats, which a test may lower); above,
 * backward recomputes them. */
#define NN_CONV2D_KEEP_FLOATS (16.0 * 1024 * 1024)
/* The floats a forward (backward false) or a backward borrows from its call's arena for N
 * images of geometry g on `threads` threads. CPU forward: the N images' columns
 * N x (C*KH*KW, Ho*Wo) when they fit NN_CONV2D_KEEP_FLOATS, else one (C*KH*KW, Ho*Wo) per
 * thread; CPU backward: per thread that buffer and a partial dW and db; GPU: one buffer. */
long nn_conv2d_workspace_floats(const nn_conv2d *c, const nn_conv_geom *g, int N, int threads, bool backward);

/* The same y as nn_conv2d_forward, by the definition: seven nested loops, no
 * workspace. The readable reference the fast path is tested against; CPU only. */
void nn_conv2d_forward_naive(const nn_conv2d *c, const nn_tensor *x, nn_tensor *y);

#endif
