/* nn_augment.h: data augmentation, new training examples from old ones.
 *
 * A digit moved two pixels to the left is still the same digit, but to a
 * fully connected layer it is a different input: every weight sees another
 * pixel. Showing each training image at a random small shift every epoch
 * teaches the network that shifts do not matter, which 8,000 images alone
 * cannot. It changes only training batches; evaluation sees the images as
 * they are. (Chapter 03's convolutions build this into the architecture.)
 *
 * Each transform is applied per image of x (N, C, H, W), to all of its
 * channels alike, in place (no allocation, so it can run on every batch):
 *
 *   shift (dy, dx)    y[h][w] = x[h - dy][w - dx], 0 outside: the picture
 *                     moves dy down and dx right; pixels that come in from
 *                     outside are 0 (the background of MNIST).
 *   flip              y[h][w] = x[h][W - 1 - w]: the mirror image, left for
 *                     right. Right for clothes, photos, CIFAR; wrong for
 *                     digits and letters, whose mirror is another symbol.
 *   crop (pad P,      pad x with P zeros on every side, (H + 2P, W + 2P), and
 *        oy, ox)      cut an H x W window at row oy, column ox, 0 <= oy, ox <= 2P:
 *                     y[h][w] = xpad[h + oy][w + ox] = x[h + oy - P][w + ox - P].
 *                     That is the shift (dy, dx) = (P - oy, P - ox), so it
 *                     needs no padded copy. The CIFAR recipe (pad 4, crop 32).
 *
 * The random versions draw per image, in this order (a seed fixes them all):
 *   random shift    dy, then dx, each nn_rng_below(rng, 2 max_shift + 1) - max_shift
 *   random flip     u = nn_rng_uniform(rng, 0, 1); flip when u < p (a draw even when p is 0 or 1)
 *   random crop     oy, then ox, each nn_rng_below(rng, 2 pad + 1)
 * A random crop with pad P and a random shift with max_shift P give the same
 * distribution of images: two names for one idea.
 *
 * As a fit hook (nn_fit_options.augment, nn_fit.h), one transform:
 *   int shift = 2;
 *   opts.augment = nn_augment_random_shift, opts.augment_ctx = &shift;
 * or several, in the order shift, crop, flip:
 *   nn_augment_config aug = {.crop_pad = 4, .flip_p = 0.5f};
 *   opts.augment = nn_augment_apply, opts.augment_ctx = &aug;
 */
#ifndef NN_AUGMENT_H
#define NN_AUGMENT_H

#include "nn_rng.h"
#include "nn_tensor.h"

/* ---- one image n of x (N, C, H, W) on the CPU, in place */

/* Move image n by (dy, dx); |dy| >= H or |dx| >= W leaves it all 0. */
void nn_shift_image(nn_tensor *x, int n, int dy, int dx);
/* Mirror image n left to right. Twice is the identity. */
void nn_flip_image(nn_tensor *x, int n);
/* Image n padded by pad zeros, cropped back to H x W at (oy, ox), 0 <= oy, ox <= 2 pad. */
void nn_crop_image(nn_tensor *x, int n, int pad, int oy, int ox);

/* ---- every image of x, with random parameters (the draws above) */

/* max_shift >= 0. */
void nn_random_shift(nn_tensor *x, int max_shift, nn_rng *rng);
/* 0 <= p <= 1: the probability that an image is mirrored. */
void nn_random_flip(nn_tensor *x, float p, nn_rng *rng);
/* pad >= 0 (pad 0 changes nothing but still draws). */
void nn_random_crop(nn_tensor *x, int pad, nn_rng *rng);

/* ---- fit hooks: void (*)(nn_tensor *x, nn_rng *rng, void *ctx) */

/* ctx points to the int max_shift. */
void nn_augment_random_shift(nn_tensor *x, nn_rng *rng, void *ctx);
/* ctx points to the float p. */
void nn_augment_random_flip(nn_tensor *x, nn_rng *rng, void *ctx);
/* ctx points to the int pad. */
void nn_augment_random_crop(nn_tensor *x, nn_rng *rng, void *ctx);

/* Several transforms on one batch; a field left 0 is off. */
typedef struct {
  int max_shift; /* random shift by up to this many pixels */
  int crop_pad;  /* random crop after padding by this many zeros */
  float flip_p;  /* random horizontal flip with this probability */
} nn_augment_config;

/* ctx points to an nn_augment_config: shift, then crop, then flip, each only when on. */
void nn_augment_apply(nn_tensor *x, nn_rng *rng, void *ctx);

#endif
