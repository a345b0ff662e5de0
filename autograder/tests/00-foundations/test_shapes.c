/* The shape and parameter calculator (nn_shapes.h): every layer against values
 * worked by hand from the frameworks' documented formulas, in both conventions,
 * plus the spec parser behind `nn summary` and the messages for bad settings.
 *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

/* ---- helpers: run a calculation, fail with its message if it fails */

static void ok(nn_status st, const nn_error *err, const char *what) {
  cr_assert_eq(st, NN_OK, "%s: %s: %s", what, nn_status_name(st), err->msg);
}

static void expect_shape(const nn_shape *s, int ndim, int d0, int d1, int d2, const char *what) {
  int want[3] = {d0, d1, d2};
  cr_assert_eq(s->ndim, ndim, "%s: %d axes, expected %d", what, s->ndim, ndim);
  for (int i = 0; i < ndim; i++)
    cr_assert_eq(s->dim[i], want[i], "%s: axis %d is %d, expected %d", what, i, s->dim[i], want[i]);
}

static void expect_params(const nn_calc *c, long params, const char *what) {
  cr_assert_eq(c->params, params, "%s: %ld params, expected %ld (formula: %s)", what, c->params, params, c->formula);
  cr_assert(strstr(c->formula, "= ") != NULL, "%s: the formula '%s' has no '= result'", what, c->formula);
  char tail[32];
  snprintf(tail, sizeof tail, "%ld", params);
  cr_assert(strstr(c->formula, tail) != NULL, "%s: the formula '%s' does not show the result %ld", what, c->formula,
            params);
}

static void expect_error(nn_status st, const nn_error *err, const char *fact1, const char *fact2) {
  cr_assert_eq(st, NN_ERR_ARG, "expected NN_ERR_ARG, got %s (%s)", nn_status_name(st), err->msg);
  cr_assert(strstr(err->msg, fact1), "the message must say \"%s\": %s", fact1, err->msg);
  cr_assert(!fact2 || strstr(err->msg, fact2), "the message must say \"%s\": %s", fact2, err->msg);
}

static int conv_len(int L, int k, int s, nn_pad_mode pad, int p, int d, nn_framework fw) {
  nn_conv_opts o = nn_conv_opts_default(1, k);
  o.stride = s, o.pad = pad, o.padding = p, o.dilation = d;
  nn_len len;
  nn_error err = {0};
  ok(nn_conv_out_len(L, &o, fw, &len, &err), &err, "nn_conv_out_len");
  cr_assert(strstr(len.formula, "= ") != NULL, "no worked formula: '%s'", len.formula);
  return len.len;
}

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
  ok(nn_framework_parse("Keras", &fw, &err), &err, "Keras");
  cr_assert_eq(fw, KERAS);
  ok(nn_framework_parse("torch", &fw, &err), &err, "torch");
  cr_assert_eq(fw, TORCH);
  expect_error(nn_framework_parse("jax", &fw, &err), &err, "'jax'", "keras or pytorch");
  cr_assert_str_eq(nn_framework_name(TORCH), "pytorch");
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
  expect_error(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "padding='same'", "stride 1");
}

Test(conv_len, worked_formula) {
  nn_conv_opts o = nn_conv_opts_default(32, 3);
  nn_len len;
  nn_error err = {0};
  ok(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "conv");
  cr_assert_str_eq(len.formula, "floor((28 + 2*0 - 3) / 1) + 1 = 26");
  o.dilation = 2;
  ok(nn_conv_out_len(28, &o, TORCH, &len, &err), &err, "conv");
  cr_assert_str_eq(len.formula, "floor((28 + 2*0 - 2*(3-1) - 1) / 1) + 1 = 24");
}

Test(conv_len, bad_settings_say_what_to_change) {
  nn_conv_opts o = nn_conv_opts_default(32, 5);
  nn_calc c;
  nn_error err = {0};
  nn_shape small = nn_shape_image(1, 3, 3);
  nn_status st = nn_calc_conv2d(&small, &o, TORCH, &c, &err);
  expect_error(st, &err, "Conv2d: kernel 5 is larger than the padded input 3 (3 + 2*0); use padding or a smaller kernel",
               NULL);
  o.kernel = 3, o.dilation = 3; /* spans 7 */
  nn_shape five = nn_shape_image(1, 5, 5);
  expect_error(nn_calc_conv2d(&five, &o, KERAS, &c, &err), &err, "Conv2D", "spans 7");
  o = nn_conv_opts_default(32, 3);
  o.stride = 0;
  expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "stride 0", "at least 1");
  o = nn_conv_opts_default(32, 3);
  o.dilation = 0;
  expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "dilation 0", NULL);
  o = nn_conv_opts_default(32, 3);
  o.pad = NN_PAD_EXPLICIT, o.padding = -1;
  expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "padding -1", NULL);
  o = nn_conv_opts_default(-4, 3);
  expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "filters -4", NULL);
  o = nn_conv_opts_default(32, 3);
  nn_shape neg = nn_shape_image(1, -28, 28);
  expect_error(nn_calc_conv2d(&neg, &o, TORCH, &c, &err), &err, "-28", "at least 1");
  o.groups = 3; /* 1 input channel */
  expect_error(nn_calc_conv2d(&five, &o, TORCH, &c, &err), &err, "groups 3", "divide");
  nn_shape vec = nn_shape_vector(784);
  o = nn_conv_opts_default(32, 3);
  expect_error(nn_calc_conv2d(&vec, &o, TORCH, &c, &err), &err, "image (C, H, W)", "(N, 784)");
}

/* ---- dense and conv parameter counts */

Test(params, the_seeds_cnn) {
  nn_error err = {0};
  nn_calc c1, p1, c2, p2, f, d;
  nn_shape in = nn_shape_image(1, 28, 28);
  nn_conv_opts o32 = nn_conv_opts_default(32, 3), o64 = nn_conv_opts_default(64, 3);
  nn_pool_opts pool = nn_pool_opts_default(NN_POOL_MAX, 2);
  for (int fw = 0; fw < 2; fw++) {
    ok(nn_calc_conv2d(&in, &o32, fw, &c1, &err), &err, "conv1");
    ok(nn_calc_pool2d(&c1.out, &pool, fw, &p1, &err), &err, "pool1");
    ok(nn_calc_conv2d(&p1.out, &o64, fw, &c2, &err), &err, "conv2");
    ok(nn_calc_pool2d(&c2.out, &pool, fw, &p2, &err), &err, "pool2");
    ok(nn_calc_flatten(&p2.out, fw, &f, &err), &err, "flatten");
    ok(nn_calc_dense(&f.out, 10, true, fw, &d, &err), &err, "dense");
    expect_params(&c1, 320, "Conv2d(1, 32, 3)");
    cr_assert_str_eq(c1.formula, "(3*3*1 + 1) * 32 = 320");
    expect_shape(&c1.out, 3, 32, 26, 26, "conv1");
    expect_shape(&p1.out, 3, 32, 13, 13, "pool1");
    expect_params(&c2, 18496, "Conv2d(32, 64, 3)");
    expect_shape(&c2.out, 3, 64, 11, 11, "conv2");
    expect_shape(&p2.out, 3, 64, 5, 5, "pool2 (floor)");
    expect_shape(&f.out, 1, 1600, 0, 0, "flatten");
    expect_params(&d, 16010, "Dense(10) on 1600");
    cr_assert_eq(c1.params + c2.params + d.params, 34826);
    cr_assert_eq(p1.params + p2.params + f.params, 0);
  }
  cr_assert_str_eq(nn_shape_format(&c1.out, KERAS).s, "(None, 26, 26, 32)");
}

Test(params, dense) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_vector(784);
  ok(nn_calc_dense(&in, 512, true, KERAS, &c, &err), &err, "dense");
  expect_params(&c, 401920, "Dense(512) on 784");
  cr_assert_str_eq(c.formula, "784*512 + 512 = 401920");
  ok(nn_calc_dense(&in, 512, false, TORCH, &c, &err), &err, "dense");
  expect_params(&c, 401408, "Linear(784, 512, bias=False)");
  nn_shape h = nn_shape_vector(512);
  ok(nn_calc_dense(&h, 10, true, TORCH, &c, &err), &err, "dense");
  expect_params(&c, 5130, "Linear(512, 10)");
  /* on a feature map: Keras' last axis is C, PyTorch's is W */
  nn_shape img = nn_shape_image(32, 26, 20);
  ok(nn_calc_dense(&img, 10, true, KERAS, &c, &err), &err, "dense on image");
  expect_params(&c, 330, "Dense(10) on (26, 20, 32)");
  expect_shape(&c.out, 3, 10, 26, 20, "Keras Dense on an image");
  ok(nn_calc_dense(&img, 10, true, TORCH, &c, &err), &err, "dense on image");
  expect_params(&c, 210, "Linear(20, 10) on (32, 26, 20)");
  expect_shape(&c.out, 3, 32, 26, 10, "PyTorch Linear on an image");
  expect_error(nn_calc_dense(&in, 0, true, TORCH, &c, &err), &err, "units 0", NULL);
}

Test(params, conv_bias_groups_depthwise) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(64, 16, 16);
  nn_conv_opts o = nn_conv_opts_default(128, 3);
  o.groups = 4;
  ok(nn_calc_conv2d(&in, &o, TORCH, &c, &err), &err, "grouped");
  expect_params(&c, 18560, "Conv2d(64, 128, 3, groups=4)"); /* 3*3*16*128 + 128 */
  o = nn_conv_opts_default(32, 3);
  o.no_bias = true;
  nn_shape one = nn_shape_image(1, 28, 28);
  ok(nn_calc_conv2d(&one, &o, KERAS, &c, &err), &err, "no bias");
  expect_params(&c, 288, "Conv2D(32, 3, use_bias=False)");
  nn_shape in32 = nn_shape_image(32, 28, 28);
  o = nn_conv_opts_default(0, 3);
  for (int fw = 0; fw < 2; fw++) {
    ok(nn_calc_depthwise_conv2d(&in32, 1, &o, fw, &c, &err), &err, "depthwise");
    expect_params(&c, 320, "DepthwiseConv2D(3) on 32 channels"); /* (3*3 + 1) * 32 */
    ok(nn_calc_depthwise_conv2d(&in32, 2, &o, fw, &c, &err), &err, "depthwise m=2");
    expect_params(&c, 640, "depth_multiplier 2");
    expect_shape(&c.out, 3, 64, 26, 26, "depthwise m=2");
  }
  o = nn_conv_opts_default(64, 3);
  ok(nn_calc_separable_conv2d(&in32, 1, &o, KERAS, &c, &err), &err, "separable");
  expect_params(&c, 3*3*32 + (32 + 1) * 64, "SeparableConv2D(64, 3) on 32"); /* 288 + 2112 = 2400 */
  expect_shape(&c.out, 3, 64, 26, 26, "separable");
  nn_shape sig = nn_shape_signal(8, 100);
  o = nn_conv_opts_default(16, 5);
  o.stride = 2;
  ok(nn_calc_conv1d(&sig, &o, TORCH, &c, &err), &err, "conv1d");
  expect_params(&c, 656, "Conv1d(8, 16, 5)"); /* (5*8 + 1) * 16 */
  expect_shape(&c.out, 2, 16, 48, 0, "Conv1d stride 2 on 100");
  cr_assert_str_eq(nn_shape_format(&c.out, KERAS).s, "(None, 48, 16)");
}

/* ---- transposed conv */

Test(conv_transpose, pytorch_sizes_and_params) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(16, 14, 14);
  nn_conv_opts o = nn_conv_opts_default(8, 3);
  o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1, o.output_padding = 1;
  ok(nn_calc_conv_transpose2d(&in, &o, TORCH, &c, &err), &err, "convT");
  expect_shape(&c.out, 3, 8, 28, 28, "(14-1)*2 - 2 + 2 + 1 + 1");
  expect_params(&c, 1160, "ConvTranspose2d(16, 8, 3)"); /* 3*3*16*8 + 8 */
  cr_assert(strstr(c.shape_formula, "(14-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 28"), "%s", c.shape_formula);
  nn_shape in3 = nn_shape_image(3, 5, 5);
  o = nn_conv_opts_default(6, 4);
  o.groups = 3;
  ok(nn_calc_conv_transpose2d(&in3, &o, TORCH, &c, &err), &err, "convT groups");
  expect_params(&c, 102, "ConvTranspose2d(3, 6, 4, groups=3)"); /* 4*4*3*(6/3) + 6 */
  expect_shape(&c.out, 3, 6, 8, 8, "(5-1) + 3 + 1");
  nn_len len;
  o = nn_conv_opts_default(1, 3);
  o.dilation = 2;
  ok(nn_conv_transpose_out_len(5, &o, TORCH, &len, &err), &err, "dilated");
  cr_assert_eq(len.len, 9);
  o = nn_conv_opts_default(1, 2);
  o.stride = 3;
  ok(nn_conv_transpose_out_len(4, &o, TORCH, &len, &err), &err, "k < s");
  cr_assert_eq(len.len, 11); /* (4-1)*3 + 2 */
  o.output_padding = 3;      /* must be < max(stride, dilation) = 3 */
  expect_error(nn_conv_transpose_out_len(4, &o, TORCH, &len, &err), &err, "output_padding 3", "smaller than stride 3");
}

Test(conv_transpose, keras_sizes) {
  nn_error err = {0};
  nn_len len;
  nn_conv_opts o = nn_conv_opts_default(1, 3);
  o.stride = 2;
  ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "valid");
  cr_assert_eq(len.len, 29); /* 14*2 + max(3-2, 0) */
  o.pad = NN_PAD_SAME;
  ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "same");
  cr_assert_eq(len.len, 28); /* 14*2 */
  o.output_padding = 1;
  ok(nn_conv_transpose_out_len(14, &o, KERAS, &len, &err), &err, "same + output_padding");
  cr_assert_eq(len.len, 28); /* (14-1)*2 + 3 - 2*1 + 1 */
  o = nn_conv_opts_default(1, 2);
  o.stride = 3;
  ok(nn_conv_transpose_out_len(4, &o, KERAS, &len, &err), &err, "k < s");
  cr_assert_eq(len.len, 12, "Keras gives L*s + max(k - s, 0) = 12 where PyTorch gives 11"); 
  o.pad = NN_PAD_EXPLICIT, o.padding = 1;
  expect_error(nn_conv_transpose_out_len(4, &o, KERAS, &len, &err), &err, "'valid' or 'same'", NULL);
}

/* ---- pooling */

static int pool_len(int L, int k, int s, int p, bool ceil_mode, nn_framework fw) {
  nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, k);
  o.stride = s, o.ceil_mode = ceil_mode;
  if (p) o.pad = NN_PAD_EXPLICIT, o.padding = p;
  nn_len len;
  nn_error err = {0};
  ok(nn_pool_out_len(L, &o, fw, &len, &err), &err, "nn_pool_out_len");
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
  ok(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "ceil drop");
  cr_assert(strstr(len.formula, "padding") && strstr(len.formula, "= 2"), "%s", len.formula);
  o = nn_pool_opts_default(NN_POOL_AVG, 3); /* AvgPool2d(3, 2, 1) on 28: 14, ceil 15 */
  o.stride = 2, o.pad = NN_PAD_EXPLICIT, o.padding = 1;
  ok(nn_pool_out_len(28, &o, TORCH, &len, &err), &err, "avg");
  cr_assert_eq(len.len, 14);
  o.ceil_mode = true;
  ok(nn_pool_out_len(28, &o, TORCH, &len, &err), &err, "avg ceil");
  cr_assert_eq(len.len, 15);
  o = nn_pool_opts_default(NN_POOL_MAX, 2); /* MaxPool2d(2, stride=1, dilation=2) on 6: 4 */
  o.stride = 1, o.dilation = 2;
  ok(nn_pool_out_len(6, &o, TORCH, &len, &err), &err, "dilated max");
  cr_assert_eq(len.len, 4);
}

Test(pool, keras_same_valid_and_refusals) {
  cr_assert_eq(pool_len(5, 2, 2, 0, false, KERAS), 2);
  nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, 2);
  o.pad = NN_PAD_SAME;
  nn_len len;
  nn_error err = {0};
  ok(nn_pool_out_len(5, &o, KERAS, &len, &err), &err, "same");
  cr_assert_eq(len.len, 3);
  expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "no padding='same'", NULL);
  o = nn_pool_opts_default(NN_POOL_MAX, 2);
  o.ceil_mode = true;
  expect_error(nn_pool_out_len(5, &o, KERAS, &len, &err), &err, "ceil_mode is PyTorch's", "same");
  o = nn_pool_opts_default(NN_POOL_MAX, 3);
  o.pad = NN_PAD_EXPLICIT, o.padding = 2;
  expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "padding 2", "half");
  o = nn_pool_opts_default(NN_POOL_MAX, 7);
  expect_error(nn_pool_out_len(5, &o, TORCH, &len, &err), &err, "kernel 7", "larger than the padded input 5");
  o.stride = -1;
  expect_error(nn_pool_out_len(9, &o, TORCH, &len, &err), &err, "stride -1", NULL);
}

Test(pool, global_and_flatten) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(64, 7, 7);
  ok(nn_calc_global_pool(&in, NN_POOL_AVG, KERAS, &c, &err), &err, "gap keras");
  expect_shape(&c.out, 1, 64, 0, 0, "GlobalAveragePooling2D");
  ok(nn_calc_global_pool(&in, NN_POOL_AVG, TORCH, &c, &err), &err, "gap torch");
  expect_shape(&c.out, 3, 64, 1, 1, "AdaptiveAvgPool2d(1)");
  cr_assert_eq(c.params, 0);
  ok(nn_calc_flatten(&in, TORCH, &c, &err), &err, "flatten");
  expect_shape(&c.out, 1, 64 * 49, 0, 0, "flatten");
  cr_assert_str_eq(c.shape_formula, "64*7*7 = 3136");
}

/* ---- normalization, embedding */

Test(norm, batchnorm_four_c_vs_two_c_plus_buffers) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(32, 26, 26);
  ok(nn_calc_batchnorm(&in, KERAS, &c, &err), &err, "bn keras");
  expect_params(&c, 128, "Keras BatchNormalization on 32 channels");
  cr_assert_eq(c.trainable, 64);
  cr_assert_eq(c.non_trainable, 64);
  cr_assert_eq(c.buffers, 0);
  ok(nn_calc_batchnorm(&in, TORCH, &c, &err), &err, "bn torch");
  expect_params(&c, 64, "BatchNorm2d(32)");
  cr_assert_eq(c.trainable, 64);
  cr_assert_eq(c.non_trainable, 0);
  cr_assert_eq(c.buffers, 65, "running_mean 32 + running_var 32 + num_batches_tracked 1");
  nn_shape vec = nn_shape_vector(512);
  ok(nn_calc_batchnorm(&vec, KERAS, &c, &err), &err, "bn1d");
  cr_assert_eq(c.params, 2048);
}

Test(norm, layernorm_and_embedding) {
  nn_error err = {0};
  nn_calc c;
  nn_shape seq = nn_shape_seq(100, 64);
  for (int fw = 0; fw < 2; fw++) {
    ok(nn_calc_layernorm(&seq, fw, &c, &err), &err, "ln");
    expect_params(&c, 128, "LayerNorm(64)");
  }
  nn_shape tok = nn_shape_tokens(100);
  ok(nn_calc_embedding(&tok, 10000, 64, KERAS, &c, &err), &err, "embedding");
  expect_params(&c, 640000, "Embedding(10000, 64)");
  expect_shape(&c.out, 2, 100, 64, 0, "embedding");
  expect_error(nn_calc_embedding(&tok, 0, 64, KERAS, &c, &err), &err, "vocabulary size 0", NULL);
}

/* ---- recurrent */

static long rnn(nn_rnn_kind kind, int D, int H, nn_framework fw, int layers, bool bi, bool reset_before) {
  nn_rnn_opts o = nn_rnn_opts_default(kind, H);
  o.num_layers = layers, o.bidirectional = bi, o.keras_reset_before = reset_before;
  nn_shape in = nn_shape_seq(100, D);
  nn_calc c;
  nn_error err = {0};
  ok(nn_calc_rnn(&in, &o, fw, &c, &err), &err, "rnn");
  cr_assert_eq(c.trainable, c.params);
  return c.params;
}

Test(rnn, lstm_keras_one_bias_pytorch_two) {
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, KERAS, 1, false, false), 314368); /* 4*(50*256 + 256*256 + 256) */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 1, false, false), 315392); /* 4*(... + 2*256) */
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_LSTM, 256);
  nn_shape in = nn_shape_seq(100, 50);
  nn_calc c;
  nn_error err = {0};
  ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "lstm");
  cr_assert_str_eq(c.formula, "4 * (50*256 + 256*256 + 256) = 314368");
  expect_shape(&c.out, 1, 256, 0, 0, "Keras LSTM, last step");
  ok(nn_calc_rnn(&in, &o, TORCH, &c, &err), &err, "lstm");
  cr_assert_str_eq(c.formula, "4 * (50*256 + 256*256 + 2*256) = 315392");
  expect_shape(&c.out, 2, 100, 256, 0, "PyTorch LSTM output");
  o.return_sequences = true;
  ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "lstm seq");
  expect_shape(&c.out, 2, 100, 256, 0, "return_sequences");
}

Test(rnn, gru_reset_after_and_simple_rnn) {
  /* Keras reset_after=True (default): input and recurrent bias, like PyTorch */
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, KERAS, 1, false, false), 236544); /* 3*(12800 + 65536 + 512) */
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, TORCH, 1, false, false), 236544);
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, KERAS, 1, false, true), 235776); /* reset_after=False: 3*(... + 256) */
  cr_assert_eq(rnn(NN_RNN_SIMPLE, 50, 128, KERAS, 1, false, false), 22912); /* 6400 + 16384 + 128 */
  cr_assert_eq(rnn(NN_RNN_SIMPLE, 50, 128, TORCH, 1, false, false), 23040); /* + 2*128 */
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_GRU, 256);
  o.no_bias = true;
  nn_shape in = nn_shape_seq(10, 50);
  nn_calc c;
  nn_error err = {0};
  ok(nn_calc_rnn(&in, &o, TORCH, &c, &err), &err, "gru no bias");
  cr_assert_eq(c.params, 235008);
}

Test(rnn, bidirectional_and_stacked) {
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 1, true, false), 630784);  /* 2 * 315392 */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 2, false, false), 841728); /* + 4*(256*256 + 256*256 + 512) */
  /* layer 2 takes 2*256 inputs: 2 * (315392 + 4*(512*256 + 256*256 + 512)) */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 2, true, false), 2207744);
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, KERAS, 2, true, false), 2 * (314368 + 4L * (512 * 256 + 256 * 256 + 256)));
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_LSTM, 64);
  o.bidirectional = true;
  nn_shape in = nn_shape_seq(20, 8);
  nn_calc c;
  nn_error err = {0};
  ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "bi");
  expect_shape(&c.out, 1, 128, 0, 0, "Bidirectional concatenates");
  o.num_layers = 0;
  expect_error(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "num_layers 0", NULL);
  nn_shape img = nn_shape_image(1, 28, 28);
  o = nn_rnn_opts_default(NN_RNN_LSTM, 64);
  expect_error(nn_calc_rnn(&img, &o, TORCH, &c, &err), &err, "sequence (T, D)", NULL);
}

/* ---- attention */

Test(attention, pytorch_multihead) {
  nn_error err = {0};
  nn_calc c;
  nn_shape q = nn_shape_seq(10, 512);
  nn_mha_opts o = {.num_heads = 8};
  ok(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "mha");
  expect_params(&c, 1050624, "MultiheadAttention(512, 8)"); /* 4*512^2 + 4*512 */
  cr_assert_str_eq(c.formula, "in_proj 3*512*512 + 3*512, out_proj 512*512 + 512 = 1050624");
  expect_shape(&c.out, 2, 10, 512, 0, "mha");
  nn_shape q64 = nn_shape_seq(10, 64);
  o = (nn_mha_opts){.num_heads = 4, .kdim = 32, .vdim = 16};
  ok(nn_calc_mha(&q64, NULL, &o, TORCH, &c, &err), &err, "kdim/vdim");
  cr_assert_eq(c.params, 11520); /* 64*64 + 64*32 + 64*16 + 3*64 + 64*64 + 64 */
  o = (nn_mha_opts){.num_heads = 4, .no_bias = true};
  ok(nn_calc_mha(&q64, NULL, &o, TORCH, &c, &err), &err, "no bias");
  cr_assert_eq(c.params, 16384);
  o = (nn_mha_opts){.num_heads = 6};
  expect_error(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "embed_dim 512 is not divisible by num_heads 6",
               "1, 2, 4, 8");
  o = (nn_mha_opts){.num_heads = 8, .embed_dim = 256};
  expect_error(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "512 features but embed_dim is 256", NULL);
}

Test(attention, keras_multihead) {
  nn_error err = {0};
  nn_calc c;
  nn_shape q = nn_shape_seq(8, 16);
  nn_mha_opts o = {.num_heads = 2, .key_dim = 2};
  ok(nn_calc_mha(&q, NULL, &o, KERAS, &c, &err), &err, "keras mha");
  /* q, k, v: 16*2*2 + 2*2 = 68 each; output 2*2*16 + 16 = 80 */
  expect_params(&c, 3 * 68 + 80, "MultiHeadAttention(2, key_dim=2) on 16");
  expect_shape(&c.out, 2, 8, 16, 0, "back to the query's 16");
  nn_shape q512 = nn_shape_seq(10, 512);
  o = (nn_mha_opts){.num_heads = 8, .key_dim = 64};
  ok(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "keras 8x64");
  cr_assert_eq(c.params, 1050624, "key_dim = 512/8 gives PyTorch's count");
  nn_shape v = nn_shape_seq(20, 32);
  o = (nn_mha_opts){.num_heads = 4, .key_dim = 8, .value_dim = 16, .output_dim = 10};
  ok(nn_calc_mha(&q, &v, &o, KERAS, &c, &err), &err, "cross attention");
  /* q 16*4*8 + 32, k 32*4*8 + 32, v 32*4*16 + 64, out 4*16*10 + 10 */
  cr_assert_eq(c.params, (16 * 32 + 32) + (32 * 32 + 32) + (32 * 64 + 64) + (64 * 10 + 10));
  expect_shape(&c.out, 2, 8, 10, 0, "output_shape");
  o = (nn_mha_opts){.num_heads = 8};
  expect_error(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "key_dim 0", "512 / 8");
  o = (nn_mha_opts){.num_heads = 0, .key_dim = 8};
  expect_error(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "num_heads 0", NULL);
}

Test(attention, transformer_encoder_layer) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_seq(10, 512);
  for (int fw = 0; fw < 2; fw++) {
    ok(nn_calc_transformer_encoder(&in, 8, 0, fw, &c, &err), &err, "encoder");
    /* in_proj 3*512*512 + 3*512 = 787,968; out_proj 512*512 + 512 = 262,656;
       linear1 512*2048 + 2048 = 1,050,624; linear2 2048*512 + 512 = 1,049,088; 2 LayerNorms 4*512 = 2,048 */
    long by_hand = (3L * 512 * 512 + 3 * 512) + (512L * 512 + 512) + (512L * 2048 + 2048) + (2048L * 512 + 512) + 4 * 512;
    cr_assert_eq(by_hand, 3152384);
    expect_params(&c, 3152384, "TransformerEncoderLayer(512, 8)");
    expect_shape(&c.out, 2, 10, 512, 0, "encoder keeps the shape");
  }
  nn_shape small = nn_shape_seq(10, 64);
  ok(nn_calc_transformer_encoder(&small, 4, 256, TORCH, &c, &err), &err, "small");
  cr_assert_eq(c.params, 49984);
  expect_error(nn_calc_transformer_encoder(&in, 7, 0, TORCH, &c, &err), &err, "not divisible by nhead 7", NULL);
}

/* ---- defaults that differ */

Test(defaults, the_table_has_the_known_differences) {
  int n = 0;
  const nn_framework_default *d = nn_framework_defaults(&n);
  cr_assert(n >= 12, "only %d entries", n);
  for (int i = 0; i < n; i++) {
    cr_assert(d[i].key && d[i].what && d[i].keras_api && d[i].pytorch_api && d[i].explain, "entry %d incomplete", i);
    cr_assert(nn_framework_default_find(d[i].key) == &d[i], "%s: find gives another entry", d[i].key);
  }
  struct { const char *key; double keras, pytorch; } want[] = {
      {"leaky_relu_slope", 0.3, 0.01}, {"rmsprop_rho", 0.9, 0.99},   {"adagrad_initial_accumulator", 0.1, 0},
      {"batchnorm_momentum", 0.99, 0.1}, {"batchnorm_eps", 1e-3, 1e-5}, {"adam_eps", 1e-7, 1e-8},
      {"transformer_dim_feedforward", 0, 2048}, {"batchnorm_unbiased_running_var", 0, 1},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const nn_framework_default *e = nn_framework_default_find(want[i].key);
    cr_assert_not_null(e, "no entry %s", want[i].key);
    cr_assert_float_eq(e->keras, want[i].keras, 1e-12, "%s: keras %g", want[i].key, e->keras);
    cr_assert_float_eq(e->pytorch, want[i].pytorch, 1e-12, "%s: pytorch %g", want[i].key, e->pytorch);
  }
  cr_assert(strstr(nn_framework_default_find("batchnorm_momentum")->explain, "OLD"));
  cr_assert_null(nn_framework_default_find("no_such_key"));
}

/* ---- the spec parser */

static nn_status parse(const char *text, nn_model_spec *spec, nn_error *err) {
  /* an exact-size copy, so AddressSanitizer sees any read past the end */
  size_t len = strlen(text);
  char *copy = malloc(len + 1);
  memcpy(copy, text, len + 1);
  nn_status st = nn_model_spec_parse(copy, "m.txt", spec, err);
  free(copy);
  return st;
}

static const char *CNN = "# the seeds' CNN\n"
                         "input 1 28 28\n"
                         "conv2d 32 kernel=3 activation=relu   # 320\n"
                         "\n"
                         "maxpool2d 2\n"
                         "conv2d 64 kernel=3\n"
                         "maxpool2d 2\n"
                         "flatten\n"
                         "dense 10";

Test(spec, parses_and_totals_the_cnn) {
  nn_model_spec spec;
  nn_error err = {0};
  ok(parse(CNN, &spec, &err), &err, "parse");
  cr_assert_eq(spec.count, 7);
  cr_assert_eq(spec.layers[1].kind, NN_SPEC_CONV2D);
  cr_assert_eq(spec.layers[1].line, 3);
  cr_assert_str_eq(spec.layers[1].activation, "relu");
  cr_assert_eq(spec.layers[6].line, 9);
  nn_calc calcs[6];
  nn_spec_totals t;
  for (int fw = 0; fw < 2; fw++) {
    ok(nn_model_spec_calc(&spec, fw, calcs, &t, &err), &err, "calc");
    cr_assert_eq(t.params, 34826);
    cr_assert_eq(t.trainable, 34826);
    cr_assert_eq(calcs[0].params, 320);
    cr_assert_eq(calcs[2].params, 18496);
    cr_assert_eq(calcs[5].params, 16010);
    expect_shape(&t.out, 1, 10, 0, 0, "logits");
  }
  nn_model_spec_free(&spec);
}

Test(spec, every_layer_kind_parses) {
  const char *text = "input 3 32 32\n"
                     "conv2d 16 kernel=3 stride=2 padding=1 dilation=1 groups=1 bias=0\n"
                     "batchnorm\nrelu\n"
                     "depthwise2d kernel=3 multiplier=2 padding=1\n"
                     "separable2d 32 kernel=3 padding=same\n"
                     "convtranspose2d 8 kernel=3 stride=2 padding=1 output_padding=1\n"
                     "maxpool2d 3 stride=2 padding=1 ceil=1\n"
                     "avgpool2d 2\n"
                     "globalavgpool\n"
                     "dropout 0.5\n"
                     "dense 10 activation=softmax\n";
  nn_model_spec spec;
  nn_error err = {0};
  ok(parse(text, &spec, &err), &err, "parse");
  nn_spec_totals t;
  ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, "calc torch");
  expect_shape(&t.out, 3, 8, 1, 10, "PyTorch keeps (C, 1, 1) and Linear acts on the last axis");
  nn_model_spec_free(&spec);
  const char *seq = "input tokens 100\nembedding 10000 64\nlstm 32 return_sequences=1 bidirectional=1\n"
                    "gru 16 reset_after=0 layers=2 return_sequences=1\nlayernorm\nmha 4 key_dim=8\n"
                    "transformer_encoder 4 ff=64\nsimple_rnn 8\n";
  ok(parse(seq, &spec, &err), &err, "parse seq");
  ok(nn_model_spec_calc(&spec, KERAS, NULL, &t, &err), &err, "calc keras");
  expect_shape(&t.out, 1, 8, 0, 0, "SimpleRNN, last step");
  long want = 640000 + 2 * 4L * (64 * 32 + 32 * 32 + 32) + 3L * (64 * 16 + 16 * 16 + 16) +
              3L * (16 * 16 + 16 * 16 + 16) + 32 + (3 * (16 * 4 * 8 + 32) + 4 * 8 * 16 + 16) +
              (4 * 16 * 16 + 4 * 16 + 16 * 64 + 64 + 64 * 16 + 16 + 4 * 16) + (16 * 8 + 8 * 8 + 8);
  cr_assert_eq(t.params, want, "%ld, expected %ld", t.params, want);
  nn_model_spec_free(&spec);
}

static void expect_parse_error(const char *text, const char *fact1, const char *fact2) {
  nn_model_spec spec;
  nn_error err = {0};
  nn_status st = parse(text, &spec, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "parsing \"%s\": got %s (%s)", text, nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, fact1), "parsing \"%s\": the message must say \"%s\": %s", text, fact1, err.msg);
  cr_assert(!fact2 || strstr(err.msg, fact2), "parsing \"%s\": the message must say \"%s\": %s", text, fact2, err.msg);
  cr_assert_null(spec.layers, "nothing stays allocated after an error");
}

Test(spec, errors_name_the_file_and_line) {
  expect_parse_error("input 1 28 28\nconv2d 32 kernal=3\n", "m.txt:2: ", "unknown option 'kernal'");
  expect_parse_error("input 1 28 28\nconv2d 32\n", "m.txt:2: ", "expected kernel=K");
  expect_parse_error("input 1 28 28\n\n# c\nconv3d 8 kernel=3\n", "m.txt:4: ", "unknown layer 'conv3d'");
  expect_parse_error("conv2d 32 kernel=3\n", "m.txt:1: ", "expected the input shape first");
  expect_parse_error("input 1 28 x\n", "m.txt:1: ", "whole number");
  expect_parse_error("input 1 28 28\ndense\n", "m.txt:2: ", "expected UNITS");
  expect_parse_error("input 1 28 28\ndense 10 20\n", "m.txt:2: ", "extra '20'");
  expect_parse_error("input 1 28 28\nconv2d 8 kernel=3 padding=full\n", "m.txt:2: ", "valid, same or a number");
  expect_parse_error("input 1 28 28\nflatten 3\n", "m.txt:2: ", "expected nothing");
  expect_parse_error("input 784\ndropout 1.5\n", "m.txt:2: ", "[0, 1)");
  expect_parse_error("# only a comment\n\n", "m.txt: no layers", NULL);
  expect_parse_error("input 784\ninput 10\n", "m.txt:2: ", "second input");
  expect_parse_error("input 784\nlstm 8 bidirectional=maybe\n", "m.txt:2: ", "0 or 1");
}

Test(spec, calc_errors_name_the_line) {
  nn_model_spec spec;
  nn_error err = {0};
  ok(parse("input 1 5 5\nconv2d 8 kernel=3\nconv2d 8 kernel=5\n", &spec, &err), &err, "parse");
  nn_spec_totals t;
  nn_status st = nn_model_spec_calc(&spec, TORCH, NULL, &t, &err);
  cr_assert_eq(st, NN_ERR_ARG);
  cr_assert(strstr(err.msg, "m.txt:3: Conv2d: kernel 5 is larger than the padded input 3"), "%s", err.msg);
  nn_model_spec_free(&spec);
}

Test(spec, print_has_the_totals) {
  nn_model_spec spec;
  nn_error err = {0};
  ok(parse("input 3 32 32\nconv2d 16 kernel=3\nbatchnorm\nflatten\ndense 10\n", &spec, &err), &err, "parse");
  for (int fw = 0; fw < 2; fw++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ok(nn_model_spec_print(&spec, fw, f, &err), &err, "print");
    fclose(f);
    /* conv 448, bn 64 (Keras) or 32 (PyTorch), dense 16*30*30*10 + 10 = 144,010 */
    if (fw == KERAS) {
      cr_assert(strstr(buf, "Total params: 144,522\n"), "%s", buf);
      cr_assert(strstr(buf, "Trainable params: 144,490\n"), "%s", buf);
      cr_assert(strstr(buf, "Non-trainable params: 32\n"), "%s", buf);
      cr_assert(strstr(buf, "(None, 30, 30, 16)"), "%s", buf);
    } else {
      cr_assert(strstr(buf, "Total params: 144,490\n"), "%s", buf);
      cr_assert(strstr(buf, "Buffers (state_dict, not parameters): 33\n"), "%s", buf);
      cr_assert(strstr(buf, "(N, 16, 30, 30)"), "%s", buf);
    }
    free(buf);
  }
  nn_model_spec_free(&spec);
}

Test(spec, load_reads_the_example_files) {
  struct { const char *path; long keras, pytorch; } files[] = {
      {"docs/models/cnn_mnist.txt", 34826, 34826},
      {"docs/models/mlp_mnist.txt", 407050, 407050},
      {"docs/models/lstm.txt", 314368 + 2570, 315392 + 2570},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    nn_model_spec spec;
    nn_error err = {0};
    ok(nn_model_spec_load(files[i].path, &spec, &err), &err, files[i].path);
    nn_spec_totals t;
    ok(nn_model_spec_calc(&spec, KERAS, NULL, &t, &err), &err, files[i].path);
    cr_assert_eq(t.params, files[i].keras, "%s: Keras %ld", files[i].path, t.params);
    ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, files[i].path);
    cr_assert_eq(t.params, files[i].pytorch, "%s: PyTorch %ld", files[i].path, t.params);
    nn_model_spec_free(&spec);
  }
  nn_model_spec spec;
  nn_error err = {0};
  cr_assert_eq(nn_model_spec_load("docs/models/no-such-file.txt", &spec, &err), NN_ERR_IO, "%s", err.msg);
}
