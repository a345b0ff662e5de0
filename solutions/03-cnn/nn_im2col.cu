/* nn_im2col.cu: im2col and col2im on the GPU, one image per launch (nn_im2col.h).
 *
 *   cols[(c*KH + i)*KW + j][oh*Wo + ow] = x[c][ih][iw]   (0 outside x)
 *   ih = oh*s - pad_h + i*d        iw = ow*s - pad_w + j*d
 *
 * im2col: one thread per entry of cols. Consecutive threads take consecutive ow,
 * so a warp writes 32 consecutive floats of cols (and, at stride 1, reads 32
 * consecutive pixels of a row of x).
 *
 * col2im: one thread per PIXEL of x, not per entry of cols. A thread per entry
 * would add into a pixel that other threads add into too (overlapping windows),
 * which needs atomicAdd, whose order (and so rounding) changes from run to run.
 * Instead each pixel finds the entries that read it and sums them: for kernel
 * offset (i, j) the pixel (ih, iw) is read by window (oh, ow) when
 *   oh*s = ih + pad_h - i*d   and   ow*s = iw + pad_w - j*d,
 * which has an answer only when the right side is a multiple of s in [0, (Ho-1)*s].
 * It adds them in the CPU's order, (i, j) row-major, onto x's old value: the same
 * float additions as nn_col2im, so the same bits.
 */
#include <cuda_runtime.h>

extern "C" {
#include "nn_common.h"
#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
}

enum { BLOCK = 256 };

static unsigned blocks_for(long total) { return (unsigned)((total + BLOCK - 1) / BLOCK); }

/* k: the flat index of one entry of cols (K, P), K = C*KH*KW rows, P = Ho*Wo columns */
__global__ void im2col_kernel(const float *x, nn_conv_geom g, float *cols, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  /* BEGIN SOLUTION */
  /* HINT: thread k owns one entry of cols (K, P), P = Ho*Wo: its row is a kernel tap (c, i, j) and its column an output position (oh, ow), each flattened row-major (j and ow fastest). Undo the flattening, find the pixel (ih, iw) that tap reads at that position (the formula in the header above), and copy it, or 0 in the padding. One write per thread, no loop: why does it matter that neighbouring threads take neighbouring ow? */
  /* HINT2: r = k / P and p = k % P; oh = p / Wo, ow = p % Wo; j = r % KW, i = (r / KW) % KH, c = r / (KW KH); ih = oh stride - pad_h + i dilation, iw likewise from ow, pad_w and j; cols[k] is x at (c*H + ih)*W + iw when 0 <= ih < H and 0 <= iw < W, else 0 */
  long P = (long)g.Ho * g.Wo;
  int r = (int)(k / P), p = (int)(k % P);
  int oh = p / g.Wo, ow = p % g.Wo;
  int j = r % g.KW, i = (r / g.KW) % g.KH, c = r / (g.KW * g.KH);
  int ih = oh * g.stride - g.pad_h + i * g.dilation, iw = ow * g.stride - g.pad_w + j * g.dilation;
  bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
  cols[k] = inside ? x[((long)c * g.H + ih) * g.W + iw] : 0.f;
  /* END SOLUTION */
}

extern "C" void nn_im2col_cuda(const float *x, const nn_conv_geom *g, float *cols) {
  long total = nn_conv_geom_rows(g) * nn_conv_geom_cols(g);
  if (total <= 0) return;
  im2col_kernel<<<blocks_for(total), BLOCK>>>(x, *g, cols, total);
  NN_CUDA_CHECK(cudaGetLastError());
}

/* The window index o (oh or ow) with o*s == at, or -1 when none of 0..n-1 is. */
__device__ static int window_at(int at, int s, int n) {
  if (at < 0 || at % s != 0) return -1;
  int o = at / s;
  return o < n ? o : -1;
}

/* k: the flat index of one pixel of x (C, H, W) */
__global__ void col2im_kernel(const float *cols, nn_conv_geom g, float *x, long total) {
  long k = (long)blockIdx.x * blockDim.x + threadIdx.x;
  if (k >= total) return;
  int iw = (int)(k % g.W), ih = (int)(k / g.W % g.H), c = (int)(k / ((long)g.W * g.H));
  long P = (long)g.Ho * g.Wo;
  float sum = x[k]; /* starting from x's value: the CPU's additions, in its order */
  /* BEGIN SOLUTION */
  /* HINT: a gather: thread k owns pixel (c, ih, iw) of x and sums every entry of cols that im2col copied from it, so no two threads write one float (no atomics) and the additions keep the CPU's order, kernel tap (i, j) row-major. Tap (i, j) put this pixel in window (oh, ow) when oh*s = ih + pad_h - i*d and ow*s = iw + pad_w - j*d: only when each right side is a multiple of s inside the output (the header above); window_at finds that window or says there is none */
  /* HINT2: for i < KH: oh = window_at(ih + pad_h - i*dilation, stride, Ho), next i when it is -1; for j < KW: ow likewise from iw, pad_w and Wo, next j when -1; add the entry of row (c*KH + i)*KW + j, column oh*Wo + ow of cols (rows P long) to sum; at the end x[k] = sum, which started at x[k]: col2im adds */
  for (int i = 0; i < g.KH; i++) {
    int oh = window_at(ih + g.pad_h - i * g.dilation, g.stride, g.Ho);
    if (oh < 0) continue; /* no window puts kernel row i on this pixel */
    for (int j = 0; j < g.KW; j++) {
      int ow = window_at(iw + g.pad_w - j * g.dilation, g.stride, g.Wo);
      if (ow < 0) continue;
      sum += cols[(((long)c * g.KH + i) * g.KW + j) * P + (long)oh * g.Wo + ow];
    }
  }
  x[k] = sum;
  /* END SOLUTION */
}

extern "C" void nn_col2im_cuda(const float *cols, const nn_conv_geom *g, float *x) {
  long total = (long)g->C * g->H * g->W;
  if (total <= 0) return;
  col2im_kernel<<<blocks_for(total), BLOCK>>>(cols, *g, x, total);
  NN_CUDA_CHECK(cudaGetLastError());
}
