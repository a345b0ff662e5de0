/* nn_im2col.h: a convolution turned into one matrix product.
 *
 * im2col copies every window a kernel sees into one column of a matrix, so the
 * whole convolution of one image becomes W (F, C*KH*KW) @ cols (C*KH*KW, Ho*Wo).
 * For one image x: (C, H, W) and output position (oh, ow):
 *
 *   cols[(c*KH + i)*KW + j][oh*Wo + ow] = x[c][ih][iw]     (0 when ih, iw fall outside x)
 *   ih = oh*s - pad_h + i*d        iw = ow*s - pad_w + j*d
 *
 * with stride s, dilation d, and pad_h, pad_w zeros above row 0 and left of
 * column 0. Zeros below and to the right need no number: a window that reads
 * past H or W reads 0, so Ho, Wo alone say how far the windows go (this is how
 * an even kernel's 'same' padding, one zero more on the right, comes out).
 *
 *   rows: C*KH*KW, ordered (c, i, j): the layout of a PyTorch weight (F, C, KH, KW)
 *   cols: Ho*Wo, ordered (oh, ow): the layout of one output channel (Ho, Wo)
 *
 * col2im is the adjoint (the transpose) of im2col: it ADDS each column entry back
 * to the pixel it was copied from, so a pixel seen by several windows collects
 * the sum. That is the backward of im2col: dx += col2im(dcols). The two satisfy
 * <im2col(x), c> = <x, col2im(c)> for every x and c.
 *
 * Memory: cols holds C*KH*KW*Ho*Wo floats, about KH*KW times the image: the
 * price of handing the work to one fast GEMM. Neither function allocates; the
 * caller (nn_conv2d) owns cols. nn_im2col and nn_col2im take host pointers;
 * nn_im2col_on and nn_col2im_on take the device the pointers live on and run
 * there (the GPU kernels are nn_im2col.cu: the same numbers, bit for bit).
 */
#ifndef NN_IM2COL_H
#define NN_IM2COL_H

#include "nn_common.h"
#include "nn_conv_shapes.h" /* nn_conv_geom_make's sizes are nn_conv_out_len's */

/* The geometry of one image's convolution: what im2col and col2im need. */
typedef struct {
  int C, H, W;      /* the input image (C, H, W) */
  int KH, KW;       /* the kernel */
  int stride;       /* s >= 1, both axes */
  int pad_h, pad_w; /* zeros above / left of the image (>= 0) */
  int dilation;     /* d >= 1: the kernel spans d*(K-1) + 1 pixels */
  int Ho, Wo;       /* the output size */
} nn_conv_geom;

/* The geometry with pad_h zeros above AND below, pad_w left AND right; Ho and Wo
 * from nn_conv_shapes' nn_conv_out_len:  Ho = floor((H + 2*pad_h - d*(KH-1) - 1) / s) + 1.
 * Aborts with nn_conv_out_len's message on a kernel larger than the padded input. */
nn_conv_geom nn_conv_geom_make(int C, int H, int W, int KH, int KW, int stride, int pad_h, int pad_w,
                               int dilation);

/* The rows and columns of cols: C*KH*KW and Ho*Wo. */
static inline long nn_conv_geom_rows(const nn_conv_geom *g) { return (long)g->C * g->KH * g->KW; }
static inline long nn_conv_geom_cols(const nn_conv_geom *g) { return (long)g->Ho * g->Wo; }

/* cols (C*KH*KW, Ho*Wo) <- the windows of x (C, H, W). Overwrites cols. */
void nn_im2col(const float *x, const nn_conv_geom *g, float *cols);
/* x (C, H, W) += each entry of cols (C*KH*KW, Ho*Wo) at the pixel im2col took it from. */
void nn_col2im(const float *cols, const nn_conv_geom *g, float *x);

/* The same on `device`: x and cols are host pointers for NN_CPU, device pointers for NN_GPU. */
void nn_im2col_on(const float *x, const nn_conv_geom *g, float *cols, nn_device device);
void nn_col2im_on(const float *cols, const nn_conv_geom *g, float *x, nn_device device);

#endif
