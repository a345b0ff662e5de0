/* Data augmentation (nn_augment.h): shift, horizontal flip and pad-and-crop on
 * hand-made images, crop against its definition (a padded copy, cut), the random
 * versions' draws, seeded determinism, the fit hooks, and bad input aborting. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "nn_augment.h"

/* x = [[1 2 3 4], [5 6 7 8], [9 10 11 12]]: one image (1, 1, 3, 4). */
static nn_tensor small_image(void) {
  static const float v[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  return nn_tensor_from(4, (int[]){1, 1, 3, 4}, v);
}

static nn_tensor random_images(int N, int C, int H, int W, uint64_t seed) {
  nn_tensor x = nn_tensor_new(4, (int[]){N, C, H, W}, NN_CPU);
  nn_rng rng = nn_rng_new(seed);
  nn_rng_fill_uniform(&rng, x.data, nn_numel(&x), 0.1f, 1.f); /* no zeros: a moved-in 0 is always seen */
  return x;
}

static void expect(const char *what, const nn_tensor *t, const float *want) {
  for (long i = 0; i < nn_numel(t); i++)
    cr_assert_eq(t->data[i], want[i], "%s: [%ld] = %g, expected %g", what, i, t->data[i], want[i]);
}

static bool same(const nn_tensor *a, const nn_tensor *b) {
  return nn_same_shape(a, b) && memcmp(a->data, b->data, nn_tensor_bytes(a)) == 0;
}

/* Image n of x: (C, H, W) floats. */
static float *image(const nn_tensor *x, int n) {
  return x->data + (long)n * x->shape[1] * x->shape[2] * x->shape[3];
}

Test(augment, shift_by_hand) {
  /* (dy, dx) = (1, -2): y[h][w] = x[h - 1][w + 2], 0 outside
   *   row 0 comes from row -1: all 0; row 1 from row 0 [1 2 3 4] -> [3 4 0 0]; row 2 from row 1 -> [7 8 0 0] */
  nn_tensor x = small_image();
  nn_shift_image(&x, 0, 1, -2);
  expect("shift (1, -2)", &x, (const float[]){0, 0, 0, 0, 3, 4, 0, 0, 7, 8, 0, 0});
  nn_tensor_free(&x);
}

Test(augment, flip_by_hand_even_and_odd_width) {
  /* each row reversed: [1 2 3 4] -> [4 3 2 1] */
  nn_tensor x = small_image();
  nn_flip_image(&x, 0);
  expect("flip of 3x4", &x, (const float[]){4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9});
  /* width 3: the middle column stays; two channels flip alike */
  nn_tensor z = nn_tensor_from(4, (int[]){1, 2, 1, 3}, (const float[]){1, 2, 3, 4, 5, 6});
  nn_flip_image(&z, 0);
  expect("flip of 2x1x3", &z, (const float[]){3, 2, 1, 6, 5, 4});
  nn_tensor_free(&x), nn_tensor_free(&z);
}

Test(augment, flip_twice_is_the_identity_and_touches_only_its_image) {
  nn_tensor x = random_images(3, 3, 5, 7, 1), orig = random_images(3, 3, 5, 7, 1);
  nn_flip_image(&x, 1);
  cr_assert(memcmp(image(&x, 0), image(&orig, 0), sizeof(float) * 105) == 0, "flipping image 1 changed image 0");
  cr_assert(memcmp(image(&x, 2), image(&orig, 2), sizeof(float) * 105) == 0, "flipping image 1 changed image 2");
  cr_assert(memcmp(image(&x, 1), image(&orig, 1), sizeof(float) * 105) != 0, "image 1 did not change");
  nn_flip_image(&x, 1);
  cr_assert(same(&x, &orig), "flip twice is not the identity");
  nn_tensor_free(&x), nn_tensor_free(&orig);
}

Test(augment, crop_offsets_by_hand) {
  /* pad 1: the padded image is 5 x 6; window (oy, ox) gives y[h][w] = x[h + oy - 1][w + ox - 1].
   *   (1, 1): the centre, x itself
   *   (0, 0): one row and one column of zeros at the top-left: [[0 0 0 0], [0 1 2 3], [0 5 6 7]]
   *   (2, 1): rows 1..3 of x, the last one padding: [[5 6 7 8], [9 10 11 12], [0 0 0 0]] */
  nn_tensor x = small_image(), orig = small_image();
  nn_crop_image(&x, 0, 1, 1, 1);
  cr_assert(same(&x, &orig), "the centre crop changed the image");
  nn_crop_image(&x, 0, 1, 0, 0);
  expect("crop pad 1 at (0, 0)", &x, (const float[]){0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7});
  nn_tensor_free(&x);
  x = small_image();
  nn_crop_image(&x, 0, 1, 2, 1);
  expect("crop pad 1 at (2, 1)", &x, (const float[]){5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0});
  nn_tensor_free(&x);
  /* pad 2 at (4, 0): y[h][w] = x[h + 2][w - 2]: row 0 is [0 0 9 10], the rest is below x */
  x = small_image();
  nn_crop_image(&x, 0, 2, 4, 0);
  expect("crop pad 2 at (4, 0)", &x, (const float[]){0, 0, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0});
  nn_tensor_free(&x), nn_tensor_free(&orig);
}

Test(augment, crop_equals_padding_then_cutting_a_window) {
  /* The definition, with a real padded copy: every offset of pad 2 on a 2-channel 4x5 image. */
  enum { C = 2, H = 4, W = 5, P = 2, HP = H + 2 * P, WP = W + 2 * P };
  nn_tensor orig = random_images(1, C, H, W, 3);
  float padded[C][HP][WP] = {{{0}}};
  for (int c = 0; c < C; c++)
    for (int h = 0; h < H; h++)
      for (int w = 0; w < W; w++) padded[c][h + P][w + P] = orig.data[(c * H + h) * W + w];
  for (int oy = 0; oy <= 2 * P; oy++)
    for (int ox = 0; ox <= 2 * P; ox++) {
      nn_tensor x = random_images(1, C, H, W, 3);
      nn_crop_image(&x, 0, P, oy, ox);
      for (int c = 0; c < C; c++)
        for (int h = 0; h < H; h++)
          for (int w = 0; w < W; w++)
            cr_assert_eq(x.data[(c * H + h) * W + w], padded[c][h + oy][w + ox],
                         "crop at (%d, %d): [%d][%d][%d] = %g, the padded window has %g", oy, ox, c, h, w,
                         x.data[(c * H + h) * W + w], padded[c][h + oy][w + ox]);
      nn_tensor_free(&x);
    }
  nn_tensor_free(&orig);
}

Test(augment, random_crop_draws_oy_then_ox_per_image) {
  nn_tensor x = random_images(6, 2, 6, 6, 4), want = random_images(6, 2, 6, 6, 4);
  nn_rng rng = nn_rng_new(9), replay = nn_rng_new(9);
  nn_random_crop(&x, 2, &rng);
  for (int n = 0; n < 6; n++) {
    int oy = (int)nn_rng_below(&replay, 5), ox = (int)nn_rng_below(&replay, 5);
    nn_crop_image(&want, n, 2, oy, ox);
  }
  cr_assert(same(&x, &want), "nn_random_crop is not nn_crop_image at the documented draws");
  nn_tensor_free(&x), nn_tensor_free(&want);
}

Test(augment, random_flip_p_0_p_1_and_one_half) {
  nn_tensor x = random_images(200, 1, 2, 3, 5), orig = random_images(200, 1, 2, 3, 5);
  nn_rng rng = nn_rng_new(2);
  nn_random_flip(&x, 0.f, &rng);
  cr_assert(same(&x, &orig), "p = 0 flipped an image");
  nn_random_flip(&x, 1.f, &rng);
  for (int n = 0; n < 200; n++) nn_flip_image(&orig, n);
  cr_assert(same(&x, &orig), "p = 1 left an image unflipped");
  /* p = 1/2: each image is itself or its mirror, and about half are mirrored */
  nn_tensor y = random_images(200, 1, 2, 3, 5), ref = random_images(200, 1, 2, 3, 5);
  nn_random_flip(&y, 0.5f, &rng);
  int flipped = 0;
  for (int n = 0; n < 200; n++) {
    if (memcmp(image(&y, n), image(&ref, n), sizeof(float) * 6) == 0) continue;
    nn_flip_image(&y, n);
    cr_assert(memcmp(image(&y, n), image(&ref, n), sizeof(float) * 6) == 0, "image %d is neither itself nor its mirror", n);
    flipped++;
  }
  cr_assert(flipped > 70 && flipped < 130, "p = 0.5 flipped %d of 200 images", flipped); /* 100 +- 4.2 sigma */
  nn_tensor_free(&x), nn_tensor_free(&orig), nn_tensor_free(&y), nn_tensor_free(&ref);
}

Test(augment, seeded_draws_repeat_and_other_seeds_differ) {
  nn_augment_config cfg = {.max_shift = 1, .crop_pad = 2, .flip_p = 0.5f};
  nn_tensor a = random_images(16, 3, 8, 8, 6), b = random_images(16, 3, 8, 8, 6), c = random_images(16, 3, 8, 8, 6);
  nn_rng ra = nn_rng_new(21), rb = nn_rng_new(21), rc = nn_rng_new(22);
  nn_augment_apply(&a, &ra, &cfg);
  nn_augment_apply(&b, &rb, &cfg);
  nn_augment_apply(&c, &rc, &cfg);
  cr_assert(same(&a, &b), "the same seed gave different images");
  cr_assert(!same(&a, &c), "seeds 21 and 22 gave the same 16 images");
  nn_tensor_free(&a), nn_tensor_free(&b), nn_tensor_free(&c);
}

Test(augment, apply_is_shift_then_crop_then_flip_and_hooks_read_their_ctx) {
  nn_augment_config cfg = {.max_shift = 2, .crop_pad = 1, .flip_p = 0.5f};
  nn_tensor a = random_images(8, 1, 6, 6, 7), b = random_images(8, 1, 6, 6, 7);
  nn_rng ra = nn_rng_new(3), rb = nn_rng_new(3);
  nn_augment_apply(&a, &ra, &cfg);
  int shift = 2, pad = 1;
  float p = 0.5f;
  nn_augment_random_shift(&b, &rb, &shift);
  nn_augment_random_crop(&b, &rb, &pad);
  nn_augment_random_flip(&b, &rb, &p);
  cr_assert(same(&a, &b), "nn_augment_apply differs from shift, crop, flip in that order");
  /* everything off: nothing changes */
  nn_tensor c = random_images(8, 1, 6, 6, 7), d = random_images(8, 1, 6, 6, 7);
  nn_augment_apply(&c, &ra, &(nn_augment_config){0});
  cr_assert(same(&c, &d), "an all-off config changed the images");
  nn_tensor_free(&a), nn_tensor_free(&b), nn_tensor_free(&c), nn_tensor_free(&d);
}

Test(augment, flip_with_p_above_1_aborts, .signal = SIGABRT) {
  nn_tensor x = small_image();
  nn_rng rng = nn_rng_new(1);
  nn_random_flip(&x, 1.5f, &rng);
}

Test(augment, crop_with_negative_pad_aborts, .signal = SIGABRT) {
  nn_tensor x = small_image();
  nn_rng rng = nn_rng_new(1);
  nn_random_crop(&x, -1, &rng);
}

Test(augment, crop_offset_past_2_pad_aborts, .signal = SIGABRT) {
  nn_tensor x = small_image();
  nn_crop_image(&x, 0, 1, 3, 0); /* offsets run 0..2 with pad 1 */
}

Test(augment, flip_of_a_missing_image_aborts, .signal = SIGABRT) {
  nn_tensor x = small_image();
  nn_flip_image(&x, 1);
}

Test(augment, a_batch_of_vectors_aborts, .signal = SIGABRT) {
  nn_tensor x = nn_tensor_new(2, (int[]){4, 784}, NN_CPU);
  nn_rng rng = nn_rng_new(1);
  nn_random_flip(&x, 0.5f, &rng);
}

Test(augment, a_hook_without_ctx_aborts, .signal = SIGABRT) {
  nn_tensor x = small_image();
  nn_rng rng = nn_rng_new(1);
  nn_augment_random_crop(&x, &rng, NULL);
}
