/* What every shape and parameter calculator shares (nn_shapes.h): one example's shape
 * as each framework prints it, the framework names, and the checks and worked formulas
 * the calculators are written with. The calculators themselves are tested beside their
 * layers: autograder/tests/02-mlp/test_dense_shapes.c, 03-cnn/test_conv_shapes.c,
 * test_pool_shapes.c, test_batchnorm_shapes.c, and tools/test_later_shapes.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

/* ---- shapes */

Test(shapes, format_in_each_layout) {
  nn_shape img = nn_shape_image(32, 26, 24);
  cr_assert_str_eq(nn_shape_format(&img, KERAS).s, "(None, 26, 24, 32)");
  cr_assert_str_eq(nn_shape_format(&img, TORCH).s, "(N, 32, 26, 24)");
  nn_shape sig = nn_shape_signal(16, 100);
  cr_assert_str_eq(nn_shape_format(&sig, KERAS).s, "(None, 100, 16)");
  cr_assert_str_eq(nn_shape_format(&sig, TORCH).s, "(N, 16, 100)");
  nn_shape seq = nn_shape_seq(100, 50), vec = nn_shape_vector(1600);
  cr_assert_str_eq(nn_shape_format(&seq, KERAS).s, "(None, 100, 50)"); /* sequences agree */
  cr_assert_str_eq(nn_shape_format(&seq, TORCH).s, "(N, 100, 50)");
  cr_assert_str_eq(nn_shape_format(&vec, KERAS).s, "(None, 1600)");
  cr_assert_eq(nn_shape_numel(&img), 32L * 26 * 24);
}

Test(shapes, framework_names_parse) {
  nn_framework fw;
  nn_error err = {0};
  calc_ok(nn_framework_parse("Keras", &fw, &err), &err, "Keras");
  cr_assert_eq(fw, KERAS);
  calc_ok(nn_framework_parse("torch", &fw, &err), &err, "torch");
  cr_assert_eq(fw, TORCH);
  calc_expect_error(nn_framework_parse("jax", &fw, &err), &err, "'jax'", "keras or pytorch");
  cr_assert_str_eq(nn_framework_name(TORCH), "pytorch");
}

/* ---- what every calculator shares */

Test(shapes, check_refuses_bad_axes_naming_the_layer) {
  nn_error err = {0};
  nn_shape ok_img = nn_shape_image(3, 32, 32), bad = nn_shape_image(3, 0, 32), none = {.ndim = 0};
  calc_ok(nn_shape_check("Conv2D", &ok_img, KERAS, &err), &err, "a (3, 32, 32) image");
  calc_expect_error(nn_shape_check("Conv2D", &bad, KERAS, &err), &err, "Conv2D: input (None, 0, 32, 3) has a size 0",
               "at least 1");
  calc_expect_error(nn_shape_check("Dense", &none, TORCH, &err), &err, "Dense: the input has 0 axes", "1 to 4");
  cr_assert_eq(nn_shape_feature_axis(&ok_img), 0, "an image's features are its channels");
  nn_shape seq = nn_shape_seq(10, 64);
  cr_assert_eq(nn_shape_feature_axis(&seq), 1, "a sequence's features are its last axis");
}

Test(shapes, lengths_and_counts_are_checked) {
  nn_error err = {0};
  nn_len len = {0};
  calc_ok(nn_len_check_window("Conv", 28, 3, 1, 1, &err), &err, "a 3-window on 28");
  calc_expect_error(nn_len_check_window("Conv", 28, 3, 0, 1, &err), &err, "Conv: stride 0", "at least 1");
  calc_expect_error(nn_len_check_window("Pool", 28, 0, 1, 1, &err), &err, "Pool: kernel 0", NULL);
  calc_ok(nn_len_fit("Conv", 26, &len, &err), &err, "26 fits");
  cr_assert_eq(len.len, 26);
  calc_expect_error(nn_len_fit("Conv", 3000000000L, &len, &err), &err, "3000000000 does not fit an int", NULL);
  calc_ok(nn_count_check("LSTM", 1e12, &err), &err, "1e12 parameters");
  calc_expect_error(nn_count_check("LSTM", 2e18, &err), &err, "LSTM: about 2e+18 parameters", "64-bit");
}

Test(shapes, formulas_are_written_out) {
  nn_len h = {.len = 13}, w = {.len = 13};
  nn_formula(h.formula, "floor((%d - %d) / %d) + 1 = %d", 26, 2, 2, 13);
  nn_formula(w.formula, "floor((%d - %d) / %d) + 1 = %d", 26, 2, 2, 13);
  char out[NN_FORMULA_MAX];
  nn_len_formula(out, &h, &w);
  cr_assert_str_eq(out, "H = W: floor((26 - 2) / 2) + 1 = 13");
  nn_formula(w.formula, "floor((%d - %d) / %d) + 1 = %d", 20, 2, 2, 10);
  nn_len_formula(out, &h, &w);
  cr_assert_str_eq(out, "H: floor((26 - 2) / 2) + 1 = 13; W: floor((20 - 2) / 2) + 1 = 10");
  nn_len_formula(out, &h, NULL);
  cr_assert_str_eq(out, "L: floor((26 - 2) / 2) + 1 = 13");
}
