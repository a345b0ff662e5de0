/* The pooling calculator (nn_pool_shapes.h), which `nn summary`, `nn exam` and nn_pool.c
 * use: output sizes with floor and ceil_mode, padding and dilation, Keras' valid and same,
 * global pooling in each framework, and the settings each framework refuses. *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_pool_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

static int pool_len(int L, int k, int s, int p, bool ceil_mode, nn_framework fw) {
  nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, k);
  o.stride = s, o.ceil_mode = ceil_mode;
  if (p) o.pad = NN_PAD_EXPLICIT, o.padding = p;
  nn_len len;
  nn_error err = {0};
  calc_ok(nn_pool_out_len(L, &o, fw, &len, &err), &err, "nn_pool_out_len");
  return len.len;
}

Test(pool, floor_and_ceil_mode) {
  cr_assert_eq(pool_len(26, 2, 2, 0, false, TORCH), 13);
  cr_assert_eq(pool_len(11, 2, 2, 0, false, TORCH), 5);
  cr_assert_eq(pool_len(5, 2, 2, 0, false, TORCH), 2);
  cr_assert_eq(pool_len(5, 2, 2, 0, true, TORCH), 3);  /* ceil(3/2) + 1 */
  cr_assert_eq(pool_len(6, 3, 2, 0, true, TORCH), 3);
  cr_assert_eq(pool_len(6, 3, 2, 1, true, TORCH), 4);
  cr_assert_eq(pool_len(4, 2, 2, 1, true, TORCH), 3);
  /* ceil gives 3, but the 3rd window would start at 6 >= 5 + 1, in the padding: dropped */
  cr_assert_eq(pool_len(5, 3, 3, 1, true, TORCH), 2);
  cr_assert_eq(pool_len(5, 3, 3, 1, false, TORCH), 2);
  nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, 3);
  o.stride = 3, o.pad = NN_PAD_EXPLICIT, o.padding = 1, o.ceil_mode = true;
  nn_len len;
  nn_error err = {0};
  calc_ok(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "ceil drop");
  cr_assert(strstr(len.formula, "padding") && strstr(len.formula, "= 2"), "%s", len.formula);
  o = nn_pool_opts_default(NN_POOL_AVG, 3); /* AvgPool2d(3, 2, 1) on 28: 14, ceil 15 */
  o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1;
  calc_ok(nn_pool_out_len(28, &o, TORCH, &len, &err), &err, "avg");
  cr_assert_eq(len.len, 14);
  o.ceil_mode = true;
  calc_ok(nn_pool_out_len(28, &o, TORCH, &len, &err), &err, "avg ceil");
  cr_assert_eq(len.len, 15);
  o = nn_pool_opts_default(NN_POOL_MAX, 2); /* MaxPool2d(2, stride=1, dilation=2) on 6: 4 */
  o.stride = 1, o.dilation = 2;
  calc_ok(nn_pool_out_len(6, &o, TORCH, &len, &err), &err, "dilated max");
  cr_assert_eq(len.len, 4);
}

Test(pool, keras_same_valid_and_refusals) {
  cr_assert_eq(pool_len(5, 2, 2, 0, false, KERAS), 2);
  nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, 2);
  o.pad = NN_PAD_SAME;
  nn_len len;
  nn_error err = {0};
  calc_ok(nn_pool_out_len(5, &o, KERAS, &len, &err), &err, "same");
  cr_assert_eq(len.len, 3);
  calc_expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "no padding='same'", NULL);
  o = nn_pool_opts_default(NN_POOL_MAX, 2);
  o.ceil_mode = true;
  calc_expect_error(nn_pool_out_len(5, &o, KERAS, &len, &err), &err, "ceil_mode is PyTorch's", "same");
  o = nn_pool_opts_default(NN_POOL_MAX, 3);
  o.pad = NN_PAD_EXPLICIT, o.padding = 2;
  calc_expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "padding 2", "half");
  o = nn_pool_opts_default(NN_POOL_MAX, 7);
  calc_expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "kernel 7", "larger than the padded input 5");
  o.stride = -1;
  calc_expect_error(nn_pool_out_len(9, &o, TORCH, &len, &err), &err, "stride -1", NULL);
}

Test(pool, global_drops_or_keeps_the_spatial_axes) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(64, 7, 7);
  calc_ok(nn_calc_global_pool(&in, NN_POOL_AVG, KERAS, &c, &err), &err, "gap keras");
  calc_expect_shape(&c.out, 1, 64, 0, 0, "GlobalAveragePooling2D");
  calc_ok(nn_calc_global_pool(&in, NN_POOL_AVG, TORCH, &c, &err), &err, "gap torch");
  calc_expect_shape(&c.out, 3, 64, 1, 1, "AdaptiveAvgPool2d(1)");
  cr_assert_eq(c.params, 0);
}
