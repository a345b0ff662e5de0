/* nn_augment.c: random shifts of images, in place. */
#include "nn_augment.h"

/* One (H, W) plane moved by (dy, dx): p[h][w] = p[h - dy][w - dx], 0 outside.
 * In place: rows are visited in the direction that reads each source row before
 * it is overwritten (bottom-up when moving down), and likewise the columns. */
/* ANCHOR: shift_plane */
static void shift_plane(float *p, int H, int W, int dy, int dx) {
  for (int i = 0; i < H; i++) {
    int h = dy > 0 ? H - 1 - i : i;
    for (int j = 0; j < W; j++) {
      int w = dx > 0 ? W - 1 - j : j;
      int sh = h - dy, sw = w - dx;
      p[h * W + w] = sh >= 0 && sh < H && sw >= 0 && sw < W ? p[sh * W + sw] : 0.f;
    }
  }
}
/* ANCHOR_END: shift_plane */

void nn_random_shift(nn_tensor *x, int max_shift, nn_rng *rng) {
  NN_REQUIRE(x->ndim == 4 && x->device == NN_CPU, "nn_random_shift: x is %s; it needs images (N, C, H, W) on the CPU",
             nn_shape_str(x).s);
  NN_REQUIRE(max_shift >= 0, "nn_random_shift: max_shift is %d; it must be >= 0", max_shift);
  int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  for (int n = 0; n < N; n++) {
    int dy = (int)nn_rng_below(rng, 2 * max_shift + 1) - max_shift;
    int dx = (int)nn_rng_below(rng, 2 * max_shift + 1) - max_shift;
    for (int c = 0; c < C; c++) shift_plane(x->data + ((long)n * C + c) * H * W, H, W, dy, dx);
  }
}

void nn_augment_random_shift(nn_tensor *x, nn_rng *rng, void *ctx) {
  NN_REQUIRE(ctx, "nn_augment_random_shift: augment_ctx must point to the int max_shift");
  nn_random_shift(x, *(const int *)ctx, rng);
}
