/* Scalers: hand values, mean 0 / std 1 after a standard transform, [0, 1] after
 * min-max, a constant column, the test set scaled with the train statistics. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>

#include "nn_scaler.h"

/* x: (4, 3). Column 0: 1 2 3 6 -> mean 3, var (4+1+0+9)/4 = 3.5, std sqrt(3.5) (the /N std)
 *            Column 1: 5 5 5 5 -> constant: mean 5, std 0 -> scale 1
 *            Column 2: -2 0 2 4 -> mean 1, var (9+1+1+9)/4 = 5, std sqrt(5); min -2, max 4 */
static const float X[12] = {1, 5, -2, 2, 5, 0, 3, 5, 2, 6, 5, 4};

Test(scaler, standard_fit_by_hand) {
  nn_tensor x = nn_tensor_from(2, (int[]){4, 3}, X);
  nn_scaler s = nn_standard_scaler_fit(&x);
  cr_assert_eq(s.D, 3);
  cr_assert_float_eq(s.shift[0], 3.f, 1e-6f, "mean of 1 2 3 6 is 3, got %g", s.shift[0]);
  cr_assert_float_eq(s.scale[0], sqrtf(3.5f), 1e-6f, "std (/N) of 1 2 3 6 is sqrt(3.5) = 1.8708, got %g",
                     s.scale[0]);
  cr_assert_float_eq(s.shift[2], 1.f, 1e-6f);
  cr_assert_float_eq(s.scale[2], sqrtf(5.f), 1e-6f, "std (/N) of -2 0 2 4 is sqrt(5), got %g", s.scale[2]);
  cr_assert(s.shift[1] == 5.f && s.scale[1] == 1.f,
            "a constant column (5 5 5 5) must get shift 5 and scale 1, as scikit-learn; got %g and %g", s.shift[1],
            s.scale[1]);
  nn_scaler_free(&s);
  nn_tensor_free(&x);
}

Test(scaler, standard_transform_of_train_has_mean_zero_std_one) {
  nn_tensor x = nn_tensor_from(2, (int[]){4, 3}, X);
  nn_scaler s = nn_standard_scaler_fit(&x);
  nn_scaler_transform(&s, &x, &x);
  for (int d = 0; d < 3; d++) {
    double mean = 0, sq = 0;
    for (int i = 0; i < 4; i++) mean += x.data[i * 3 + d] / 4.0;
    for (int i = 0; i < 4; i++) sq += (x.data[i * 3 + d] - mean) * (x.data[i * 3 + d] - mean) / 4.0;
    cr_assert(fabs(mean) < 1e-6, "column %d: mean %g after scaling, expected 0", d, mean);
    if (d == 1)
      for (int i = 0; i < 4; i++) cr_assert_eq(x.data[i * 3 + 1], 0.f, "the constant column must map to 0");
    else
      cr_assert(fabs(sqrt(sq) - 1) < 1e-6, "column %d: std %g after scaling, expected 1", d, sqrt(sq));
  }
  cr_assert_float_eq(x.data[0], -2 / sqrtf(3.5f), 1e-6f, "(1 - 3) / sqrt(3.5), got %g", x.data[0]);
  nn_scaler_free(&s);
  nn_tensor_free(&x);
}

Test(scaler, minmax_maps_train_to_zero_one_and_test_with_train_numbers) {
  nn_tensor x = nn_tensor_from(2, (int[]){4, 3}, X);
  nn_scaler s = nn_minmax_scaler_fit(&x);
  cr_assert(s.shift[0] == 1 && s.scale[0] == 5 && s.shift[2] == -2 && s.scale[2] == 6,
            "column 0 min 1 range 5, column 2 min -2 range 6; got %g %g, %g %g", s.shift[0], s.scale[0], s.shift[2],
            s.scale[2]);
  nn_tensor out = nn_tensor_new(2, (int[]){4, 3}, NN_CPU);
  nn_scaler_transform(&s, &x, &out);
  const float want[12] = {0, 0, 0, .2f, 0, 1 / 3.f, .4f, 0, 2 / 3.f, 1, 0, 1};
  for (int i = 0; i < 12; i++)
    cr_assert_float_eq(out.data[i], want[i], 1e-6f, "out[%d] = %g, expected %g", i, out.data[i], want[i]);
  /* A test row outside the train range maps outside [0, 1]: the train numbers, not its own. */
  nn_tensor t = nn_tensor_from(2, (int[]){1, 3}, (float[]){11, 7, 1});
  nn_scaler_transform(&s, &t, &t);
  cr_assert(fabsf(t.data[0] - 2.f) < 1e-6f && fabsf(t.data[1] - 2.f) < 1e-6f && fabsf(t.data[2] - .5f) < 1e-6f,
            "test row (11, 7, 1) must map to (2, 2, 0.5) with the train min/range, got (%g, %g, %g)", t.data[0],
            t.data[1], t.data[2]);
  nn_scaler_inverse_transform(&s, &t, &t);
  cr_assert(fabsf(t.data[0] - 11) < 1e-5f && fabsf(t.data[1] - 7) < 1e-5f && fabsf(t.data[2] - 1) < 1e-5f,
            "inverse_transform must give back (11, 7, 1), got (%g, %g, %g)", t.data[0], t.data[1], t.data[2]);
  nn_tensor_free(&t);
  nn_tensor_free(&out);
  nn_scaler_free(&s);
  nn_tensor_free(&x);
}

/* scikit-learn's RobustScaler().fit(x) on these columns gives center_ = (3, 2.5) and
 * scale_ = (2, 1): column 0 is (1, 2, 3, 4, 100), its quartiles at positions 1 and 3 of the
 * sorted column (2 and 4) and its median at 2 (3); column 1 sorted is (1, 2, 2.5, 3, 4):
 * median 2.5, quartiles 2 and 3. */
Test(scaler, robust_fit_by_hand_ignores_the_outlier) {
  nn_tensor x = nn_tensor_from(2, (int[]){5, 2}, (float[]){1, 4, 2, 1, 3, 3, 4, 2, 100, 2.5f});
  nn_scaler s = nn_robust_scaler_fit(&x);
  cr_assert_float_eq(s.shift[0], 3.f, 1e-6, "median of (1, 2, 3, 4, 100) is 3, got %g", s.shift[0]);
  cr_assert_float_eq(s.scale[0], 2.f, 1e-6, "IQR of (1, 2, 3, 4, 100) is 4 - 2 = 2, got %g", s.scale[0]);
  cr_assert_float_eq(s.shift[1], 2.5f, 1e-6, "median of (1, 2, 2.5, 3, 4) is 2.5, got %g", s.shift[1]);
  cr_assert_float_eq(s.scale[1], 1.f, 1e-6, "IQR of (1, 2, 2.5, 3, 4) is 3 - 2 = 1, got %g", s.scale[1]);
  nn_tensor out = nn_tensor_new(2, (int[]){5, 2}, NN_CPU);
  nn_scaler_transform(&s, &x, &out);
  cr_assert_float_eq(out.data[8], 48.5f, 1e-5, "the outlier 100 maps to (100 - 3) / 2 = 48.5, got %g", out.data[8]);
  cr_assert_float_eq(out.data[4], 0.f, 1e-6, "the median maps to 0");
  nn_scaler_free(&s), nn_tensor_free(&out), nn_tensor_free(&x);
}

/* Between sorted values the quartiles interpolate (numpy's default): (1, 2, 3, 4) has
 * q25 at position 0.75 (1.75), q75 at 2.25 (3.25), IQR 1.5, median 2.5. A constant
 * middle half gives scale 1, not a division by 0. */
Test(scaler, robust_quartiles_interpolate_and_a_flat_column_gets_scale_one) {
  nn_tensor x = nn_tensor_from(2, (int[]){4, 2}, (float[]){4, 7, 1, 7, 3, 7, 2, 7});
  nn_scaler s = nn_robust_scaler_fit(&x);
  cr_assert_float_eq(s.shift[0], 2.5f, 1e-6, "median %g, expected 2.5", s.shift[0]);
  cr_assert_float_eq(s.scale[0], 1.5f, 1e-6, "IQR %g, expected 3.25 - 1.75 = 1.5", s.scale[0]);
  cr_assert_float_eq(s.shift[1], 7.f, 1e-6, "median of (7, 7, 7, 7) is 7, got %g", s.shift[1]);
  cr_assert_float_eq(s.scale[1], 1.f, 1e-6, "a constant column's IQR is 0: scale 1, got %g", s.scale[1]);
  nn_scaler_free(&s), nn_tensor_free(&x);
}

Test(scaler, transform_with_other_D_aborts, .signal = SIGABRT) {
  nn_tensor x = nn_tensor_from(2, (int[]){4, 3}, X);
  nn_scaler s = nn_standard_scaler_fit(&x);
  nn_tensor other = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_scaler_transform(&s, &other, &other); /* "x is (2, 4) but the scaler was fitted on (4, 3)" */
}

Test(scaler, fit_on_a_vector_aborts, .signal = SIGABRT) {
  nn_tensor v = nn_tensor_new(1, (int[]){5}, NN_CPU);
  nn_minmax_scaler_fit(&v);
}
