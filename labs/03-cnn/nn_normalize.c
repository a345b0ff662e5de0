/* nn_normalize.c: per-channel mean and std of images, and x = (x - mean) / std. */
#include "nn_normalize.h"

#include <math.h>
#include <stdlib.h>

/* Abort unless x holds images (N, C, H, W) on the CPU; `fn` names the caller. */
static void require_images(const nn_tensor *x, const char *fn) {
  NN_REQUIRE(x && x->ndim == 4 && x->device == NN_CPU && x->shape[0] >= 1,
             "%s: x is %s; it needs images (N, C, H, W), N >= 1, on the CPU", fn, x ? nn_shape_str(x).s : "NULL");
}

/* ANCHOR: channel_mean_std */
void nn_channel_mean_std(const nn_tensor *x, float *mean, float *std) {
  require_images(x, "nn_channel_mean_std");
  NN_REQUIRE(mean && std, "nn_channel_mean_std: NULL mean or std");
  const int N = x->shape[0], C = x->shape[1];
  const long S = (long)x->shape[2] * x->shape[3]; /* pixels of one (H, W) plane */
  const double M = (double)N * S;                 /* values per channel */
  double *mu = nn_xcalloc((size_t)C, sizeof *mu, "channel means");
  double *var = nn_xcalloc((size_t)C, sizeof *var, "channel variances");
  /* two passes, the mean first: sum (x - mean)^2 is exactly 0 for a constant channel and
   * never negative, where E[x^2] - mean^2 can come out either way by rounding */
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      const float *p = x->data + ((long)n * C + c) * S; /* plane (n, c) */
      for (long s = 0; s < S; s++) mu[c] += p[s];
    }
  for (int c = 0; c < C; c++) mu[c] /= M;
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      const float *p = x->data + ((long)n * C + c) * S;
      for (long s = 0; s < S; s++) var[c] += (p[s] - mu[c]) * (p[s] - mu[c]);
    }
  for (int c = 0; c < C; c++) {
    mean[c] = (float)mu[c];
    std[c] = (float)sqrt(var[c] / M); /* population: / M, not / (M - 1) */
  }
  free(mu), free(var);
}
/* ANCHOR_END: channel_mean_std */

nn_status nn_normalize(nn_tensor *x, int C, const float *mean, const float *std, nn_error *err) {
  require_images(x, "nn_normalize");
  NN_REQUIRE(mean && std, "nn_normalize: NULL mean or std");
  NN_REQUIRE(C == x->shape[1], "nn_normalize: %d means and stds for x %s, which has %d channels", C,
             nn_shape_str(x).s, x->shape[1]);
  for (int c = 0; c < C; c++) {
    if (std[c] > 0.f) continue; /* NaN fails this test too */
    if (std[c] == 0.f)
      return nn_fail(err, NN_ERR_ARG, "nn_normalize: std[%d] is 0, the std of a channel whose pixels all have "
                     "one value: no scaling gives it std 1; leave channel %d out, or unscaled", c, c);
    return nn_fail(err, NN_ERR_ARG, "nn_normalize: std[%d] is %g; each channel is divided by its std, which must "
                   "be > 0", c, std[c]);
  }
  const int N = x->shape[0];
  const long S = (long)x->shape[2] * x->shape[3];
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      float *p = x->data + ((long)n * C + c) * S;
      for (long s = 0; s < S; s++) p[s] = (p[s] - mean[c]) / std[c];
    }
  return NN_OK;
}
