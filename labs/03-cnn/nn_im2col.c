/* nn_im2col.c: the windows of an image as columns, and back (adding). */
#include "nn_im2col.h"

#include <string.h>

#include "nn_cnn_cuda.h"
#include "nn_conv_shapes.h"

static void check_geom(const char *fn, const void *a, const void *b, const nn_conv_geom *g) {
  NN_REQUIRE(a && b && g, "%s: NULL image, columns or geometry", fn);
  NN_REQUIRE(g->C >= 1 && g->H >= 1 && g->W >= 1 && g->KH >= 1 && g->KW >= 1 && g->stride >= 1 &&
                 g->dilation >= 1 && g->pad_h >= 0 && g->pad_w >= 0 && g->Ho >= 1 && g->Wo >= 1,
             "%s: x (%d, %d, %d), kernel %dx%d, stride %d, padding (%d, %d), dilation %d, output %dx%d: sizes, "
             "stride and dilation must be at least 1 and padding at least 0 (nn_conv_geom_make fills a geometry)",
             fn, g->C, g->H, g->W, g->KH, g->KW, g->stride, g->pad_h, g->pad_w, g->dilation, g->Ho, g->Wo);
}

/* One axis through nn_conv_out_len, the calculator `nn exam` uses, so the two never disagree. */
static int out_len(int L, int K, int stride, int pad, int dilation, const char *axis) {
  nn_conv_opts o = nn_conv_opts_default(1, K);
  o.stride = stride, o.dilation = dilation, o.pad = NN_PAD_EXPLICIT, o.padding = pad;
  nn_len len;
  nn_error err;
  NN_REQUIRE(nn_conv_out_len(L, &o, NN_PYTORCH, &len, &err) == NN_OK, "nn_conv_geom_make: along %s: %s", axis,
             err.msg);
  return len.len;
}

nn_conv_geom nn_conv_geom_make(int C, int H, int W, int KH, int KW, int stride, int pad_h, int pad_w,
                               int dilation) {
  NN_REQUIRE(C >= 1, "nn_conv_geom_make: x (%d, %d, %d) needs at least 1 channel", C, H, W);
  return (nn_conv_geom){.C = C, .H = H, .W = W, .KH = KH, .KW = KW, .stride = stride, .pad_h = pad_h,
                        .pad_w = pad_w, .dilation = dilation,
                        .Ho = out_len(H, KH, stride, pad_h, dilation, "H"),
                        .Wo = out_len(W, KW, stride, pad_w, dilation, "W")};
}

/* ANCHOR: valid_range */
/* The outputs ow whose input column iw = ow*s - before lies in [0, W): ow in [*lo, *hi), where
 * before = pad - j*d is how far left of the image window column j starts. */
static void valid_range(int before, int s, int W, int Wo, int *lo, int *hi) {
  int first = before > 0 ? (before + s - 1) / s : 0;      /* smallest ow with ow*s >= before */
  int last = (W - 1 + before) >= 0 ? (W - 1 + before) / s : -1; /* largest ow with ow*s - before <= W - 1 */
  *lo = first < Wo ? first : Wo;
  *hi = last + 1 < Wo ? last + 1 : Wo;
  if (*hi < *lo) *hi = *lo;
}
/* ANCHOR_END: valid_range */

void nn_im2col(const float *x, const nn_conv_geom *g, float *cols) {
  check_geom("nn_im2col", x, cols, g);
  const int H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo, s = g->stride, d = g->dilation;
  for (int c = 0; c < g->C; c++)
    for (int i = 0; i < g->KH; i++)
      for (int j = 0; j < g->KW; j++) {
        const float *x_c = x + (long)c * H * W;                            /* channel c: (H, W) */
        float *row = cols + (((long)c * g->KH + i) * g->KW + j) * Ho * Wo; /* row (c, i, j): (Ho, Wo) */
        /* TODO(lab 03-cnn): write this part of nn_im2col. */
        /* HINT: row (c, i, j) of cols is an (Ho, Wo) picture of what kernel tap (i, j) of channel c sees at every output position: entry (oh, ow) is the pixel ih = oh*s - pad_h + i*d, iw = ow*s - pad_w + j*d of the H x W image x_c, or 0 where that falls in the padding. C*KH*KW such rows make the K of the GEMM, so the convolution becomes one matrix product */
        NN_LAB_STUB("03-cnn", "nn_im2col");
      }
}

void nn_col2im(const float *cols, const nn_conv_geom *g, float *x) {
  check_geom("nn_col2im", cols, x, g);
  const int H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo, s = g->stride, d = g->dilation;
  for (int c = 0; c < g->C; c++)
    for (int i = 0; i < g->KH; i++)
      for (int j = 0; j < g->KW; j++) {
        float *x_c = x + (long)c * H * W;
        const float *row = cols + (((long)c * g->KH + i) * g->KW + j) * Ho * Wo;
        /* TODO(lab 03-cnn): write this part of nn_col2im. */
        /* HINT: the adjoint of nn_im2col: every entry that im2col copied from a pixel goes back ADDED into that pixel, so a pixel under several windows collects several gradients, and x keeps what it held. Entry (oh, ow) of row (c, i, j) came from ih = oh*s - pad_h + i*d, iw = ow*s - pad_w + j*d; an entry that im2col took from the padding has no pixel: its gradient goes nowhere */
        NN_LAB_STUB("03-cnn", "nn_col2im");
      }
}

/* ---- the device switch */

void nn_im2col_on(const float *x, const nn_conv_geom *g, float *cols, nn_device device) {
  switch (device) {
  case NN_CPU: nn_im2col(x, g, cols); break;
  case NN_GPU:
    check_geom("nn_im2col_on", x, cols, g);
    nn_im2col_cuda(x, g, cols);
    break;
  }
}

void nn_col2im_on(const float *cols, const nn_conv_geom *g, float *x, nn_device device) {
  switch (device) {
  case NN_CPU: nn_col2im(cols, g, x); break;
  case NN_GPU:
    check_geom("nn_col2im_on", cols, x, g);
    nn_col2im_cuda(cols, g, x);
    break;
  }
}
