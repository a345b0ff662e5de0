/* nn_normalize.h: per-channel normalisation of images, torchvision's transforms.Normalize.
 *
 * For x: (N, C, H, W) and one mean and one std per channel c,
 *
 *   x[n, c, h, w] = (x[n, c, h, w] - mean[c]) / std[c]
 *
 * Why per channel: in colour photos the channels differ (CIFAR-10's blue is darker
 * than its red and spreads more), and the first convolution's weights are shared
 * over positions, not over channels. Normalised, each channel enters with mean 0 and
 * std 1, so no channel's weights need a step size of their own (the argument of
 * chapter 01's StandardScaler, per channel instead of per column), and the zeros that
 * padding and pad-and-crop bring in are the average colour, not black.
 *
 * The statistics come from the TRAINING images only, and the same numbers normalise
 * train and test (as for every scaler: test images must not shape the inputs):
 *
 *   mean[c] = 1/M sum x[:, c],  std[c] = sqrt(1/M sum (x[:, c] - mean[c])^2),  M = N H W
 *
 * over every pixel of every image: the POPULATION std (/M, numpy's default, ddof 0; the
 * sample std's /(M - 1) differs by 1 part in 10^8 at M = 51,200,000). Published for
 * CIFAR-10's 50,000 training images (in [0, 1]):
 *   mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616).
 * Some code uses std (0.2023, 0.1994, 0.2010) instead: that is the MEAN of each image's
 * own std, which misses how much images differ from each other, so it is smaller.
 * Sums are in double: 51 million floats added in float would lose the last digits.
 */
#ifndef NN_NORMALIZE_H
#define NN_NORMALIZE_H

#include "nn_tensor.h"

/* mean, std: (C) each, the caller's arrays, of x: (N, C, H, W) on the CPU, as above. */
void nn_channel_mean_std(const nn_tensor *x, float *mean, float *std);

/* x[:, c] = (x[:, c] - mean[c]) / std[c] in place, for x: (N, C, H, W) on the CPU and
 * mean, std of length C. C must be x's channel count (a programming error: aborts with
 * both). A std[c] <= 0 (or NaN) is refused with NN_ERR_ARG naming the channel, and x is
 * left as it was: a constant channel (std 0) cannot be scaled to std 1, and torchvision
 * refuses it too. */
nn_status nn_normalize(nn_tensor *x, int C, const float *mean, const float *std, nn_error *err);

#endif
