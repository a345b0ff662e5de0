/* nn_conv_shapes.h: a convolution's output size and parameter count, in Keras' and
 * PyTorch's conventions: Conv1d, Conv2d (grouped too), depthwise, separable and
 * transposed. The calculator `nn exam` and `nn summary` use, and the one the layers of
 * this chapter size their outputs with (nn_conv2d.c, nn_im2col.c, nn_conv_transpose2d.c
 * call nn_conv_out_len / nn_conv_transpose_out_len), so a layer and a drill never
 * disagree. Shapes, frameworks and nn_calc: nn_shapes.h.
 *
 *   nn_shape in = nn_shape_image(1, 28, 28);
 *   nn_conv_opts o = nn_conv_opts_default(32, 3);              32 filters, 3x3, stride 1, valid
 *   nn_calc c;
 *   if (nn_calc_conv2d(&in, &o, NN_KERAS, &c, &err) != NN_OK) puts(err.msg);
 *   c.params == 320, c.formula "(3*3*1 + 1) * 32 = 320", c.out is (32, 26, 26).
 *
 * Bad settings (stride 0, a kernel larger than the padded input, groups that do not
 * divide the channels) return NN_ERR_ARG with a message that says what to change. */
#ifndef NN_CONV_SHAPES_H
#define NN_CONV_SHAPES_H

#include "nn_shapes.h"

typedef enum {
  NN_PAD_VALID = 0, /* no padding (Keras "valid", PyTorch padding=0) */
  NN_PAD_SAME,      /* Keras "same": out = ceil(L / s); PyTorch padding="same": stride 1 only */
  NN_PAD_EXPLICIT   /* p zeros each side (PyTorch padding=p; Keras needs ZeroPadding first) */
} nn_pad_mode;

/* "valid", "same", "explicit" */
const char *nn_pad_mode_name(nn_pad_mode mode);

typedef struct {
  int filters;        /* C_out: Keras filters, PyTorch out_channels (> 0) */
  int kernel;         /* k: k x k for 2-D, k for 1-D (> 0) */
  int stride;         /* s >= 1 */
  nn_pad_mode pad;
  int padding;        /* p >= 0, zeros on EACH side, used when pad == NN_PAD_EXPLICIT */
  int dilation;       /* d >= 1: the kernel spans d*(k-1) + 1 inputs */
  int groups;         /* g >= 1 dividing C_in and C_out; C_in: depthwise */
  bool no_bias;       /* Keras use_bias=False, PyTorch bias=False */
  int output_padding; /* transposed conv only: 0 <= op < max(s, d) (PyTorch's rule) */
} nn_conv_opts;

/* filters, kernel; stride 1, valid, dilation 1, groups 1, bias on. */
nn_conv_opts nn_conv_opts_default(int filters, int kernel);

/* Convolution output length along one axis (Conv1d/Conv2d, both frameworks):
 *   valid / explicit: out = floor((L + 2p - d*(k-1) - 1) / s) + 1      (PyTorch's docs)
 *   same (Keras):     out = ceil(L / s)  (padding is split, the extra zero on the right)
 *   same (PyTorch):   out = L; stride > 1 is an error there ("same" is stride 1 only)
 * Errors: s < 1, d < 1, p < 0, L < 1, or d*(k-1)+1 > L + 2p. */
nn_status nn_conv_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out, nn_error *err);

/* Transposed convolution output length along one axis:
 *   PyTorch (padding p): out = (L-1)*s - 2p + d*(k-1) + output_padding + 1
 *   Keras, output_padding 0 (Keras' None):
 *     valid: out = L*s + max(d*(k-1)+1 - s, 0)      (= (L-1)*s + d*(k-1)+1 when k_eff >= s)
 *     same:  out = L*s
 *   Keras, output_padding op > 0: (L-1)*s + k_eff - 2*pad + op, pad = 0 (valid) or k_eff/2 (same)
 * Errors: s < 1, d < 1, p < 0, output_padding outside [0, max(s, d)), out < 1. */
nn_status nn_conv_transpose_out_len(int L, const nn_conv_opts *o, nn_framework fw, nn_len *out,
                                    nn_error *err);

/* Conv1d on (C_in, L), Conv2d on (C_in, H, W) (channels_first input; a vector is an error):
 *   params = k^n * (C_in/g) * C_out + C_out (bias),  n = 1 or 2, g = groups
 *   Conv2d(32, 3) on 1 channel: (3*3*1 + 1) * 32 = 320
 *   Keras: Conv2D(filters, k, groups=g); depthwise is DepthwiseConv2D (nn_calc_depthwise_conv2d).
 *   PyTorch: Conv2d(C_in, C_out, k, groups=g); groups=C_in is depthwise. */
nn_status nn_calc_conv1d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);
nn_status nn_calc_conv2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);

/* Depthwise conv, one k x k filter per input channel, depth_multiplier m (Keras
 * DepthwiseConv2D(k, depth_multiplier=m); PyTorch Conv2d(C, C*m, k, groups=C)):
 *   params = k*k*C*m + C*m (bias); out channels C*m. o->filters is ignored. */
nn_status nn_calc_depthwise_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o,
                                   nn_framework fw, nn_calc *c, nn_error *err);

/* Separable conv = depthwise (multiplier m, no bias) + pointwise 1x1 to o->filters (bias):
 *   params = k*k*C*m + C*m*filters + filters   (Keras SeparableConv2D; in PyTorch
 *   two Conv2d: (C, C*m, k, groups=C, bias=False) and (C*m, filters, 1)). */
nn_status nn_calc_separable_conv2d(const nn_shape *in, int multiplier, const nn_conv_opts *o,
                                   nn_framework fw, nn_calc *c, nn_error *err);

/* ConvTranspose2d (PyTorch) / Conv2DTranspose (Keras) on (C_in, H, W):
 *   params = C_in * (C_out/g) * k*k + C_out (bias)
 *   (PyTorch weight (C_in, C_out/g, k, k); Keras kernel (k, k, C_out, C_in): same count)
 *   output size: nn_conv_transpose_out_len per axis. */
nn_status nn_calc_conv_transpose2d(const nn_shape *in, const nn_conv_opts *o, nn_framework fw,
                                   nn_calc *c, nn_error *err);

/* The residual blocks of nn_residual.h, counted from their convolutions and BatchNorms
 * (nn_calc_conv2d, nn_calc_batchnorm) on (C_in, H, W):
 *   basic       3x3 s in->out, BN, 3x3 out->out, BN (+ 1x1 s in->out, BN when the shape changes)
 *   bottleneck  1x1 in->w, BN, 3x3 s w->w, BN, 1x1 w->out, BN (+ the projection); w 0: out/4
 *   inverted    1x1 in->w, BN (none when w == in), 3x3 s depthwise w, BN, 1x1 w->out, BN;
 *               no projection; w 0: 6 in
 * all convolutions without bias, padding 1 on the 3x3; out = (out, ceil(H/s), ceil(W/s)). */
typedef enum { NN_BLOCK_BASIC = 0, NN_BLOCK_BOTTLENECK, NN_BLOCK_INVERTED } nn_block_kind;

/* "BasicBlock", "Bottleneck", "InvertedResidual" */
const char *nn_block_kind_name(nn_block_kind kind);

/* The width a block of this kind uses when its config gives 0 (out / 4, 6 * in, or out). */
int nn_block_default_width(nn_block_kind kind, int in_channels, int out_channels);

nn_status nn_calc_block(const nn_shape *in, nn_block_kind kind, int out_channels, int stride, int width,
                        nn_framework fw, nn_calc *c, nn_error *err);

#endif
