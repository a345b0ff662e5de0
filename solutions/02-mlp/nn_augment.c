/* nn_augment.c: random shifts, flips and crops of images, in place. */
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

/* One (H, W) plane mirrored: each row's cells w and W-1-w swap places. */
/* ANCHOR: flip_plane */
static void flip_plane(float *p, int H, int W) {
  for (int h = 0; h < H; h++) {
    float *row = p + (long)h * W;
    for (int w = 0; w < W / 2; w++) {
      float t = row[w];
      row[w] = row[W - 1 - w];
      row[W - 1 - w] = t;
    }
  }
}
/* ANCHOR_END: flip_plane */

/* Abort unless x holds images on the CPU; `fn` names the caller. */
static void require_images(const nn_tensor *x, const char *fn) {
  NN_REQUIRE(x && x->ndim == 4 && x->device == NN_CPU, "%s: x is %s; it needs images (N, C, H, W) on the CPU", fn,
             x ? nn_shape_str(x).s : "NULL");
}

static void require_image_index(const nn_tensor *x, int n, const char *fn) {
  require_images(x, fn);
  NN_REQUIRE(n >= 0 && n < x->shape[0], "%s: image %d of x %s does not exist", fn, n, nn_shape_str(x).s);
}

/* Channel c of image n: an (H, W) plane. */
static float *plane(nn_tensor *x, int n, int c) {
  return x->data + ((long)n * x->shape[1] + c) * x->shape[2] * x->shape[3];
}

void nn_shift_image(nn_tensor *x, int n, int dy, int dx) {
  require_image_index(x, n, "nn_shift_image");
  for (int c = 0; c < x->shape[1]; c++) shift_plane(plane(x, n, c), x->shape[2], x->shape[3], dy, dx);
}

void nn_flip_image(nn_tensor *x, int n) {
  require_image_index(x, n, "nn_flip_image");
  for (int c = 0; c < x->shape[1]; c++) flip_plane(plane(x, n, c), x->shape[2], x->shape[3]);
}

/* ANCHOR: crop_image */
void nn_crop_image(nn_tensor *x, int n, int pad, int oy, int ox) {
  require_image_index(x, n, "nn_crop_image");
  NN_REQUIRE(pad >= 0 && oy >= 0 && oy <= 2 * pad && ox >= 0 && ox <= 2 * pad,
             "nn_crop_image: offset (%d, %d) with pad %d; each must be in 0..2*pad = 0..%d", oy, ox, pad, 2 * pad);
  /* window (oy, ox) of the padded image: y[h][w] = x[h + oy - pad][w + ox - pad], a shift by (pad - oy, pad - ox) */
  nn_shift_image(x, n, pad - oy, pad - ox);
}
/* ANCHOR_END: crop_image */

void nn_random_shift(nn_tensor *x, int max_shift, nn_rng *rng) {
  require_images(x, "nn_random_shift");
  NN_REQUIRE(max_shift >= 0, "nn_random_shift: max_shift is %d; it must be >= 0", max_shift);
  for (int n = 0; n < x->shape[0]; n++) {
    int dy = (int)nn_rng_below(rng, 2 * max_shift + 1) - max_shift;
    int dx = (int)nn_rng_below(rng, 2 * max_shift + 1) - max_shift;
    nn_shift_image(x, n, dy, dx);
  }
}

void nn_random_flip(nn_tensor *x, float p, nn_rng *rng) {
  require_images(x, "nn_random_flip");
  NN_REQUIRE(p >= 0.f && p <= 1.f, "nn_random_flip: p is %g; it is a probability in [0, 1]", p);
  for (int n = 0; n < x->shape[0]; n++)
    if (nn_rng_uniform(rng, 0.f, 1.f) < p) nn_flip_image(x, n);
}

void nn_random_crop(nn_tensor *x, int pad, nn_rng *rng) {
  require_images(x, "nn_random_crop");
  NN_REQUIRE(pad >= 0, "nn_random_crop: pad is %d; it must be >= 0", pad);
  for (int n = 0; n < x->shape[0]; n++) {
    int oy = (int)nn_rng_below(rng, 2 * pad + 1);
    int ox = (int)nn_rng_below(rng, 2 * pad + 1);
    nn_crop_image(x, n, pad, oy, ox);
  }
}

void nn_augment_random_shift(nn_tensor *x, nn_rng *rng, void *ctx) {
  NN_REQUIRE(ctx, "nn_augment_random_shift: augment_ctx must point to the int max_shift");
  nn_random_shift(x, *(const int *)ctx, rng);
}

void nn_augment_random_flip(nn_tensor *x, nn_rng *rng, void *ctx) {
  NN_REQUIRE(ctx, "nn_augment_random_flip: augment_ctx must point to the float p");
  nn_random_flip(x, *(const float *)ctx, rng);
}

void nn_augment_random_crop(nn_tensor *x, nn_rng *rng, void *ctx) {
  NN_REQUIRE(ctx, "nn_augment_random_crop: augment_ctx must point to the int pad");
  nn_random_crop(x, *(const int *)ctx, rng);
}

void nn_augment_apply(nn_tensor *x, nn_rng *rng, void *ctx) {
  NN_REQUIRE(ctx, "nn_augment_apply: augment_ctx must point to an nn_augment_config");
  const nn_augment_config *a = ctx;
  NN_REQUIRE(a->max_shift >= 0 && a->crop_pad >= 0 && a->flip_p >= 0.f && a->flip_p <= 1.f,
             "nn_augment_apply: max_shift %d, crop_pad %d, flip_p %g; the sizes must be >= 0, p in [0, 1]",
             a->max_shift, a->crop_pad, a->flip_p);
  if (a->max_shift > 0) nn_random_shift(x, a->max_shift, rng);
  if (a->crop_pad > 0) nn_random_crop(x, a->crop_pad, rng);
  if (a->flip_p > 0.f) nn_random_flip(x, a->flip_p, rng);
}
