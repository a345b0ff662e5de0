/* nn_scaler.h: put every feature on the same scale before training.
 *
 * Gradient descent on features of very different ranges (area in mm^2 next to a ratio
 * in [0, 1]) zig-zags: one learning rate is too big for one weight and too small for
 * another. A scaler is an affine map per column d of x: (N, D):
 *
 *   x'[i][d] = (x[i][d] - shift[d]) / scale[d]
 *
 *   standard: shift = mean_d,  scale = std_d = sqrt(1/N sum_i (x[i][d] - mean_d)^2)
 *             (the /N of scikit-learn's StandardScaler, not /(N-1)); columns get mean 0, std 1.
 *   min-max:  shift = min_d,   scale = max_d - min_d; columns land in [0, 1] (MinMaxScaler).
 *   robust:   shift = median_d, scale = q75_d - q25_d, the interquartile range (RobustScaler):
 *             a few outliers move a mean, a std, a min or a max, but hardly the quartiles.
 *             Quantiles interpolate linearly between sorted values (numpy's default): the
 *             q-quantile of v_0 <= ... <= v_{N-1} sits at position q (N - 1).
 * A constant column (std or range 0) gets scale 1, as scikit-learn does: it maps to 0
 * instead of dividing by zero. Statistics are computed in double, in two passes, so a
 * constant column gives exactly 0.
 *
 * Fit on the training rows only, then transform train, validation and test with those
 * numbers. Fitting on all the data before splitting lets the test rows' mean, std, min
 * and max leak into training: the model is then judged on data that shaped its inputs,
 * and the test score comes out better than what unseen data will give.
 *
 *   nn_scaler s = nn_standard_scaler_fit(&x_train);
 *   nn_scaler_transform(&s, &x_train, &x_train);     in place
 *   nn_scaler_transform(&s, &x_test, &x_test);       the train statistics, not the test's
 *   nn_scaler_free(&s);
 */
#ifndef NN_SCALER_H
#define NN_SCALER_H

#include "nn_tensor.h"

typedef struct {
  int D;               /* features */
  int N;               /* rows it was fitted on, for messages */
  float *shift, *scale; /* (D) each, owned: nn_scaler_free releases them */
} nn_scaler;

/* Fit on x: (N, D), a CPU tensor. The robust scaler sorts a copy of each column. */
nn_scaler nn_standard_scaler_fit(const nn_tensor *x);
nn_scaler nn_minmax_scaler_fit(const nn_tensor *x);
nn_scaler nn_robust_scaler_fit(const nn_tensor *x);

/* out = (x - shift) / scale, column by column. x, out: (M, D) CPU tensors of the same
 * shape, any M; out may be x (in place). Aborts when D differs from the fitted one. */
void nn_scaler_transform(const nn_scaler *s, const nn_tensor *x, nn_tensor *out);
/* out = x * scale + shift: back to the original units (e.g. a scaled regression target). */
void nn_scaler_inverse_transform(const nn_scaler *s, const nn_tensor *x, nn_tensor *out);

void nn_scaler_free(nn_scaler *s);

#endif
