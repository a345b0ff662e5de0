/* nn_conv_transpose2d.h: the transposed convolution (ConvTranspose2d), the upsampling
 * layer of decoders (chapter 06), as one nn_sgemm + col2im per image.
 *
 * Each input pixel stamps a copy of the kernel, scaled by its value, into the output,
 * the stamps s pixels apart (stride s), then p rows and columns are cropped off each
 * border (padding p):
 *
 *   y[n][o][h*s - p + i*d][w*s - p + j*d] += x[n][c][h][w] * W[c][o][i][j]     (+ b[o] everywhere)
 *
 *   x: (N, C_in, H, W)   W: (C_in, C_out, KH, KW)   b: (C_out)   y: (N, C_out, Ho, Wo)
 *   Ho = (H - 1)*s - 2p + d*(KH - 1) + op + 1       (nn_conv_shapes.h: nn_conv_transpose_out_len)
 *
 * as PyTorch's nn.ConvTranspose2d(C_in, C_out, k, stride=s, padding=p, output_padding=op,
 * dilation=d). W is stored (C_in, C_out, KH, KW), as in PyTorch: an (C_in, C_out*KH*KW)
 * matrix whose row c is the stamp of input channel c. output_padding op adds op rows
 * below and columns right of the output (so 0 <= op < max(s, d), PyTorch's rule): a
 * stride-s Conv2d maps s different sizes to one, and op says which one to go back to.
 *
 * Why "transposed": this layer is the adjoint of the Conv2d(C_out -> C_in, same k, s, p, d)
 * that maps y's size back to x's. With W shared (the same numbers, read as that conv's
 * (F = C_in, C = C_out, KH, KW) weight), <ConvT(x), z> = <x, Conv2d(z)> for every x and z:
 * ConvT's forward is Conv2d's backward-data and ConvT's backward-data is Conv2d's forward.
 * In matrices, with g that conv's geometry (nn_im2col.h; its input is y, its output x),
 * per image:
 *
 *   cols = W^T @ x_n     (C_out*KH*KW, H*W)        y_n = col2im(cols) + b      forward
 *   cols = im2col(dy_n)  (C_out*KH*KW, H*W)        dx_n += W @ cols            backward
 *   dW += x_n @ cols^T   (C_in, C_out*KH*KW)       db[o] += sum of dy_n[o]
 *
 * Parameters: C_in*C_out*KH*KW + C_out, e.g. ConvTranspose2d(64 -> 32, 4x4) has
 * 64*32*4*4 + 32 = 32,800 (as nn_calc_conv_transpose2d counts).
 * Initialisation: He (W ~ N(0, 2 / fan_in)) or Glorot (U(-a, a), a = sqrt(6 / (fan_in +
 * fan_out))), b = 0, with PyTorch's (and Keras') fans for a transposed weight:
 * fan_in = C_out*KH*KW (W.size(1) times the kernel), fan_out = C_in*KH*KW.
 *
 * Memory: a call borrows one workspace of C_out*KH*KW x H*W floats (one image) from its
 * arena. Backward reads the call's x (the caller keeps it alive), as Conv2d does.
 *
 * Devices: the layer runs where its weights are (nn_layer_to moves W, b and their grads);
 * x, y, dy, dx and the call's arena must be there too, else it aborts naming both devices.
 * On the GPU the products are cuBLAS and the rest Conv2d's kernels (im2col, col2im, the
 * bias add, the bias grad: nn_cnn_cuda.h), the images one after another through one
 * workspace in the GPU arena.
 */
#ifndef NN_CONV_TRANSPOSE2D_H
#define NN_CONV_TRANSPOSE2D_H

#include "nn_im2col.h"
#include "nn_layer.h"
#include "nn_rng.h"

/* Zero is a sensible default for every field but in_channels, out_channels and kernel:
 *   (nn_conv_transpose2d_config){.in_channels = 64, .out_channels = 32, .kernel = 4, .stride = 2,
 *                                .padding = 1}       ConvTranspose2d(64, 32, 4, 2, 1): 7x7 -> 14x14 */
typedef struct {
  int in_channels;    /* C_in */
  int out_channels;   /* C_out: Keras filters */
  int kernel;         /* k: a k x k kernel */
  int kh, kw;         /* a kh x kw kernel instead, when both are set */
  int stride;         /* s; 0 means 1 */
  int padding;        /* p >= 0: rows / columns cropped off each border of the output */
  int output_padding; /* op: 0 <= op < max(s, d), added below and right */
  int dilation;       /* d; 0 means 1 */
  bool no_bias;       /* PyTorch bias=False */
  bool xavier;        /* Glorot uniform instead of He normal */
} nn_conv_transpose2d_config;

typedef struct {
  nn_layer base;
  int C_in, C_out, KH, KW, stride, padding, output_padding, dilation;
  bool has_bias;
  nn_tensor W, b, dW, db; /* W, dW: (C_in, C_out, KH, KW); b, db: (C_out), empty without bias */
  char W_name[48], b_name[48]; /* "up1.W", "up1.b" */
} nn_conv_transpose2d;

/* A ConvTranspose2d layer named `name` ("up1"), weights drawn from rng. Aborts on a
 * setting PyTorch refuses (output_padding >= max(stride, dilation), negative padding). */
nn_conv_transpose2d *nn_conv_transpose2d_new(const char *name, const nn_conv_transpose2d_config *cfg, nn_rng *rng);

/* The geometry of the adjoint Conv2d for an input of H x W: that conv reads y
 * (C_out, Ho, Wo) and gives x's (C_in, H, W) windows, so .C = C_out, .H = Ho, .W = Wo,
 * .Ho = H, .Wo = W. Aborts with the layer's name when the sizes do not work out. */
nn_conv_geom nn_conv_transpose2d_geom(const nn_conv_transpose2d *t, int H, int W);

/* x: (N, C_in, H, W) -> y: (N, C_out, Ho, Wo) through nn_sgemm + col2im. */
void nn_conv_transpose2d_forward(nn_conv_transpose2d *t, nn_call *c, const nn_tensor *x, nn_tensor *y);
/* dW += ..., db += ..., dx += ... (dx may be NULL), from dy: (N, C_out, Ho, Wo). */
void nn_conv_transpose2d_backward(nn_conv_transpose2d *t, const nn_call *c, const nn_tensor *dy, nn_tensor *dx);
/* The floats a forward or a backward borrows from its call's arena: one image's
 * (C_out*KH*KW, H*W) columns, g being the adjoint convolution's geometry. */
long nn_conv_transpose2d_workspace_floats(const nn_conv_geom *g);

/* The same y as nn_conv_transpose2d_forward, by the definition: every input pixel
 * stamps its scaled kernel into y (seven nested loops, no workspace). The readable
 * reference the fast path is tested against; CPU only. */
void nn_conv_transpose2d_forward_naive(const nn_conv_transpose2d *t, const nn_tensor *x, nn_tensor *y);

#endif
