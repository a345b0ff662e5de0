/* The convolution calculator (nn_conv_shapes.h), which `nn summary`, `nn exam` and this
 * chapter's conv layers use: output sizes in each padding mode and framework, parameter
 * counts of Conv1d/Conv2d (grouped, no bias), depthwise, separable and transposed
 * convolutions against values worked by hand, the seeds' CNN through the chapters'
 * calculators, and the messages for bad settings. *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_conv_shapes.h"
#include "nn_dense_shapes.h"
#include "nn_pool_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

static int conv_len(int L, int k, int s, nn_pad_mode pad, int p, int d, nn_framework fw) {
  nn_conv_opts o = nn_conv_opts_default(1, k);
  o.stride = s, o.pad = pad, o.padding = p, o.dilation = d;
  nn_len len;
  nn_error err = {0};
  calc_ok(nn_conv_out_len(L, &o, fw, &len, &err), &err, "nn_conv_out_len");
  cr_assert(strstr(len.formula, "= ") != NULL, "no worked formula: '%s'", len.formula);
  return len.len;
}

/* ---- conv output sizes */

Test(conv_len, valid_stride_padding_dilation) {
  /* floor((L + 2p - d*(k-1) - 1) / s) + 1 */
  cr_assert_eq(conv_len(28, 3, 1, NN_PAD_VALID, 0, 1, TORCH), 26);
  cr_assert_eq(conv_len(28, 3, 2, NN_PAD_EXPLICIT, 1, 1, TORCH), 14);   /* (28+2-3)/2+1 = 14 */
  cr_assert_eq(conv_len(7, 3, 1, NN_PAD_VALID, 0, 2, TORCH), 3);        /* k_eff 5: 7-5+1 */
  cr_assert_eq(conv_len(32, 5, 1, NN_PAD_EXPLICIT, 2, 1, KERAS), 32);
  cr_assert_eq(conv_len(227, 11, 4, NN_PAD_VALID, 0, 1, TORCH), 55);     /* AlexNet conv1 */
  cr_assert_eq(conv_len(224, 7, 2, NN_PAD_EXPLICIT, 3, 1, TORCH), 112);  /* ResNet stem */
  cr_assert_eq(conv_len(13, 3, 1, NN_PAD_VALID, 0, 1, KERAS), 11);
  cr_assert_eq(conv_len(100, 5, 2, NN_PAD_VALID, 0, 1, TORCH), 48);      /* Conv1d(8, 16, 5, stride=2) */
}

Test(conv_len, same_in_each_framework) {
  cr_assert_eq(conv_len(28, 3, 1, NN_PAD_SAME, 0, 1, KERAS), 28);
  cr_assert_eq(conv_len(28, 3, 2, NN_PAD_SAME, 0, 1, KERAS), 14); /* ceil(28/2) */
  cr_assert_eq(conv_len(7, 3, 2, NN_PAD_SAME, 0, 1, KERAS), 4);   /* ceil(7/2) */
  cr_assert_eq(conv_len(10, 4, 1, NN_PAD_SAME, 0, 1, TORCH), 10); /* even kernel: PyTorch pads 1 left, 2 right */
  nn_conv_opts o = nn_conv_opts_default(1, 3);
  o.pad = NN_PAD_SAME, o.stride = 2;
  nn_len len;
  nn_error err = {0};
  calc_expect_error(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "padding='same'", "stride 1");
}

Test(conv_len, worked_formula) {
  nn_conv_opts o = nn_conv_opts_default(32, 3);
  nn_len len;
  nn_error err = {0};
  calc_ok(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "conv");
  cr_assert_str_eq(len.formula, "floor((28 + 2*0 - 3) / 1) + 1 = 26");
  o.dilation = 2;
  calc_ok(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "conv");
  cr_assert_str_eq(len.formula, "floor((28 + 2*0 - 2*(3-1) - 1) / 1) + 1 = 24");
}

Test(conv_len, bad_settings_say_what_to_change) {
  nn_conv_opts o = nn_conv_opts_default(32, 5);
  nn_calc c;
  nn_error err = {0};
  nn_shape small = nn_shape_image(1, 3, 3);
  nn_status st = nn_calc_conv2d(&small, &o, TORCH, &c, &err);
  calc_expect_error(st, &err, "Conv2d: kernel 5 is larger than the padded input 3 (3 + 2*0); use padding or a smaller kernel",
               NULL);
  o.kernel = 3, o.dilation = 3; /* spans 7 */
  nn_shape five = nn_shape_image(1, 5, 5);
  calc_expect_error(nn_calc_conv2d(&five, &o, KERAS, &c, &err), &err, "Conv2D", "spans 7");
  o = nn_conv_opts_default(32, 3);
  o.stride = 0;
  calc_expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "stride 0", "at least 1");
  o = nn_conv_opts_default(32, 3);
  o.dilation = 0;
  calc_expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "dilation 0", NULL);
  o = nn_conv_opts_default(32, 3);
  o.pad = NN_PAD_EXPLICIT, o.padding = -1;
  calc_expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "padding -1", NULL);
  o = nn_conv_opts_default(-4, 3);
  calc_expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "filters -4", NULL);
  o = nn_conv_opts_default(32, 3);
  nn_shape neg = nn_shape_image(1, -28, 28);
  calc_expect_error(nn_calc_conv2d(&neg, &o, TORCH, &c, &err), &err, "-28", "at least 1");
  o.groups = 3; /* 1 input channel */
  calc_expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "groups 3", "divide");
  nn_shape vec = nn_shape_vector(784);
  o = nn_conv_opts_default(32, 3);
  calc_expect_error(nn_calc_conv2d(&vec, &o, TORCH, &c, &err), &err, "image (C, H, W)", "(N, 784)");
}

/* ---- parameter counts */

Test(params, the_seeds_cnn) {
  nn_error err = {0};
  nn_calc c1, p1, c2, p2, f, d;
  nn_shape in = nn_shape_image(1, 28, 28);
  nn_conv_opts o32 = nn_conv_opts_default(32, 3), o64 = nn_conv_opts_default(64, 3);
  nn_pool_opts pool = nn_pool_opts_default(NN_POOL_MAX, 2);
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_calc_conv2d(&in, &o32, fw, &c1, &err), &err, "conv1");
    calc_ok(nn_calc_pool2d(&c1.out, &pool, fw, &p1, &err), &err, "pool1");
    calc_ok(nn_calc_conv2d(&p1.out, &o64, fw, &c2, &err), &err, "conv2");
    calc_ok(nn_calc_pool2d(&c2.out, &pool, fw, &p2, &err), &err, "pool2");
    calc_ok(nn_calc_flatten(&p2.out, fw, &f, &err), &err, "flatten");
    calc_ok(nn_calc_dense(&f.out, 10, true, fw, &d, &err), &err, "dense");
    calc_expect_params(&c1, 320, "Conv2d(1, 32, 3)");
    cr_assert_str_eq(c1.formula, "(3*3*1 + 1) * 32 = 320");
    calc_expect_shape(&c1.out, 3, 32, 26, 26, "conv1");
    calc_expect_shape(&p1.out, 3, 32, 13, 13, "pool1");
    calc_expect_params(&c2, 18496, "Conv2d(32, 64, 3)");
    calc_expect_shape(&c2.out, 3, 64, 11, 11, "conv2");
    calc_expect_shape(&p2.out, 3, 64, 5, 5, "pool2 (floor)");
    calc_expect_shape(&f.out, 1, 1600, 0, 0, "flatten");
    calc_expect_params(&d, 16010, "Dense(10) on 1600");
    cr_assert_eq(c1.params + c2.params + d.params, 34826);
    cr_assert_eq(p1.params + p2.params + f.params, 0);
  }
  cr_assert_str_eq(nn_shape_format(&c1.out, KERAS).s, "(None, 26, 26, 32)");
}

Test(params, conv_bias_groups_depthwise) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(64, 16, 16);
  nn_conv_opts o = nn_conv_opts_default(128, 3);
  o.groups = 4;
  calc_ok(nn_calc_conv2d(&in, &o, TORCH, &c, &err), &err, "grouped");
  calc_expect_params(&c, 18560, "Conv2d(64, 128, 3, groups=4)"); /* 3*3*16*128 + 128 */
  o = nn_conv_opts_default(32, 3);
  o.no_bias = true;
  nn_shape one = nn_shape_image(1, 28, 28);
  calc_ok(nn_calc_conv2d(&one, &o, KERAS, &c, &err), &err, "no bias");
  calc_expect_params(&c, 288, "Conv2D(32, 3, use_bias=False)");
  nn_shape in32 = nn_shape_image(32, 28, 28);
  o = nn_conv_opts_default(0, 3);
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_calc_depthwise_conv2d(&in32, 1, &o, fw, &c, &err), &err, "depthwise");
    calc_expect_params(&c, 320, "DepthwiseConv2D(3) on 32 channels"); /* (3*3 + 1) * 32 */
    calc_ok(nn_calc_depthwise_conv2d(&in32, 2, &o, fw, &c, &err), &err, "depthwise m=2");
    calc_expect_params(&c, 640, "depth_multiplier 2");
    calc_expect_shape(&c.out, 3, 64, 26, 26, "depthwise m=2");
  }
  o = nn_conv_opts_default(64, 3);
  calc_ok(nn_calc_separable_conv2d(&in32, 1, &o, KERAS, &c, &err), &err, "separable");
  calc_expect_params(&c, 3*3*32 + (32 + 1) * 64, "SeparableConv2D(64, 3) on 32"); /* 288 + 2112 = 2400 */
  calc_expect_shape(&c.out, 3, 64, 26, 26, "separable");
  nn_shape sig = nn_shape_signal(8, 100);
  o = nn_conv_opts_default(16, 5);
  o.stride = 2;
  calc_ok(nn_calc_conv1d(&sig, &o, TORCH, &c, &err), &err, "conv1d");
  calc_expect_params(&c, 656, "Conv1d(8, 16, 5)"); /* (5*8 + 1) * 16 */
  calc_expect_shape(&c.out, 2, 16, 48, 0, "Conv1d stride 2 on 100");
  cr_assert_str_eq(nn_shape_format(&c.out, KERAS).s, "(None, 48, 16)");
}

/* ---- transposed conv */

Test(conv_transpose, pytorch_sizes_and_params) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(16, 14, 14);
  nn_conv_opts o = nn_conv_opts_default(8, 3);
  o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1, o.output_padding = 1;
  calc_ok(nn_calc_conv_transpose2d(&in, &o, TORCH, &c, &err), &err, "convT");
  calc_expect_shape(&c.out, 3, 8, 28, 28, "(14-1)*2 - 2 + 2 + 1 + 1");
  calc_expect_params(&c, 1160, "ConvTranspose2d(16, 8, 3)"); /* 3*3*16*8 + 8 */
  cr_assert(strstr(c.shape_formula, "(14-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 28"), "%s", c.shape_formula);
  nn_shape in3 = nn_shape_image(3, 5, 5);
  o = nn_conv_opts_default(6, 4);
  o.groups = 3;
  calc_ok(nn_calc_conv_transpose2d(&in3, &o, TORCH, &c, &err), &err, "convT groups");
  calc_expect_params(&c, 102, "ConvTranspose2d(3, 6, 4, groups=3)"); /* 4*4*3*(6/3) + 6 */
  calc_expect_shape(&c.out, 3, 6, 8, 8, "(5-1) + 3 + 1");
  nn_len len;
  o = nn_conv_opts_default(1, 3);
  o.dilation = 2;
  calc_ok(nn_conv_transpose_out_len(5, &o, TORCH, &len, &err), &err, "dilated");
  cr_assert_eq(len.len, 9);
  o = nn_conv_opts_default(1, 2);
  o.stride = 3;
  calc_ok(nn_conv_transpose_out_len(4, &o, TORCH, &len, &err), &err, "k < s");
  cr_assert_eq(len.len, 11); /* (4-1)*3 + 2 */
  o.output_padding = 3;      /* must be < max(stride, dilation) = 3 */
  calc_expect_error(nn_conv_transpose_out_len(4, &o, TORCH, &len, &err), &err, "output_padding 3", "smaller than stride 3");
}

Test(conv_transpose, keras_sizes) {
  nn_error err = {0};
  nn_len len;
  nn_conv_opts o = nn_conv_opts_default(1, 3);
  o.stride = 2;
  calc_ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "valid");
  cr_assert_eq(len.len, 29); /* 14*2 + max(3-2, 0) */
  o.pad = NN_PAD_SAME;
  calc_ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "same");
  cr_assert_eq(len.len, 28); /* 14*2 */
  o.output_padding = 1;
  calc_ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "same + output_padding");
  cr_assert_eq(len.len, 28); /* (14-1)*2 + 3 - 2*1 + 1 */
  o = nn_conv_opts_default(1, 2);
  o.stride = 3;
  calc_ok(nn_conv_transpose_out_len(4, &o, KERAS, &len, &err), &err, "k < s");
  cr_assert_eq(len.len, 12, "Keras gives L*s + max(k - s, 0) = 12 where PyTorch gives 11"); 
  o.pad = NN_PAD_EXPLICIT, o.padding = 1;
  calc_expect_error(nn_conv_transpose_out_len(4, &o, KERAS, &len, &err), &err, "'valid' or 'same'", NULL);
}
