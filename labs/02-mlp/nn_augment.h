/* nn_augment.h: data augmentation, new training examples from old ones.
 *
 * A digit moved two pixels to the left is still the same digit, but to a
 * fully connected layer it is a different input: every weight sees another
 * pixel. Showing each training image at a random small shift every epoch
 * teaches the network that shifts do not matter, which 8,000 images alone
 * cannot. It changes only training batches; evaluation sees the images as
 * they are. (Chapter 03's convolutions build this into the architecture.)
 *
 *   random shift   each image of x (N, C, H, W) moves by (dy, dx), both drawn
 *                  uniformly from -max_shift..max_shift; pixels that come in
 *                  from outside are 0 (the background of MNIST).
 *
 *   int shift = 2;
 *   opts.augment = nn_augment_random_shift, opts.augment_ctx = &shift;   nn_fit.h
 */
#ifndef NN_AUGMENT_H
#define NN_AUGMENT_H

#include "nn_rng.h"
#include "nn_tensor.h"

/* In place, no allocation; x: (N, C, H, W) on the CPU, max_shift >= 0. Per image
 * it draws dy, then dx, each nn_rng_below(rng, 2 max_shift + 1) - max_shift. */
void nn_random_shift(nn_tensor *x, int max_shift, nn_rng *rng);

/* nn_random_shift as a fit hook (nn_fit_options.augment); ctx points to the int max_shift. */
void nn_augment_random_shift(nn_tensor *x, nn_rng *rng, void *ctx);

#endif
