/* The calculators of chapter 02's layers (nn_dense_shapes.h), which `nn summary` and
 * `nn exam` use: Dense against values worked by hand in both conventions, Flatten and
 * the elementwise layers; and the library's own layers agree with them: the same
 * output shape and parameter count, layer by layer and for the 784-512-10 model of
 * the chapter. *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_activation_layer.h"
#include "nn_dense.h"
#include "nn_dense_shapes.h"
#include "nn_dropout.h"
#include "nn_flatten.h"
#include "nn_model.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

/* ---- Dense, Flatten, elementwise */

Test(params, dense) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_vector(784);
  calc_ok(nn_calc_dense(&in, 512, true, KERAS, &c, &err), &err, "dense");
  calc_expect_params(&c, 401920, "Dense(512) on 784");
  cr_assert_str_eq(c.formula, "784*512 + 512 = 401920");
  calc_ok(nn_calc_dense(&in, 512, false, TORCH, &c, &err), &err, "dense");
  calc_expect_params(&c, 401408, "Linear(784, 512, bias=False)");
  nn_shape h = nn_shape_vector(512);
  calc_ok(nn_calc_dense(&h, 10, true, TORCH, &c, &err), &err, "dense");
  calc_expect_params(&c, 5130, "Linear(512, 10)");
  /* on a feature map: Keras' last axis is C, PyTorch's is W */
  nn_shape img = nn_shape_image(32, 26, 20);
  calc_ok(nn_calc_dense(&img, 10, true, KERAS, &c, &err), &err, "dense on image");
  calc_expect_params(&c, 330, "Dense(10) on (26, 20, 32)");
  calc_expect_shape(&c.out, 3, 10, 26, 20, "Keras Dense on an image");
  calc_ok(nn_calc_dense(&img, 10, true, TORCH, &c, &err), &err, "dense on image");
  calc_expect_params(&c, 210, "Linear(20, 10) on (32, 26, 20)");
  calc_expect_shape(&c.out, 3, 32, 26, 10, "PyTorch Linear on an image");
  calc_expect_error(nn_calc_dense(&in, 0, true, TORCH, &c, &err), &err, "units 0", NULL);
}

Test(flatten, one_axis_of_every_value) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(64, 7, 7);
  calc_ok(nn_calc_flatten(&in, TORCH, &c, &err), &err, "flatten");
  calc_expect_shape(&c.out, 1, 64 * 49, 0, 0, "flatten");
  cr_assert_str_eq(c.shape_formula, "64*7*7 = 3136");
  cr_assert_eq(c.params, 0);
}

Test(elementwise, keeps_the_shape_without_parameters) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(32, 26, 26);
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_calc_elementwise("Dropout", &in, fw, &c, &err), &err, "dropout");
    calc_expect_shape(&c.out, 3, 32, 26, 26, "Dropout");
    calc_expect_params(&c, 0, "Dropout");
  }
  nn_shape bad = nn_shape_vector(0);
  calc_expect_error(nn_calc_elementwise("relu", &bad, TORCH, &c, &err), &err, "relu: input (N, 0)", NULL);
}

/* ---- the layers of chapter 02 agree with their calculators */

/* The layer's out_shape for one example of shape in (no N) against the calculator's. */
static void expect_agrees(nn_layer *l, const nn_shape *in, const nn_calc *c, const char *what) {
  int out[NN_MAX_DIMS];
  int ndim = l->ops->out_shape(l, in->dim, in->ndim, out);
  cr_assert_eq(ndim, c->out.ndim, "%s: the layer gives %d axes, the calculator %d", what, ndim, c->out.ndim);
  for (int i = 0; i < ndim; i++)
    cr_assert_eq(out[i], c->out.dim[i], "%s: axis %d is %d in the layer, %d in the calculator", what, i, out[i],
                 c->out.dim[i]);
  cr_assert_eq(nn_layer_param_count(l), c->params, "%s: the layer has %ld params, the calculator %ld", what,
               nn_layer_param_count(l), c->params);
}

Test(dense_shapes, layers_agree_with_the_calculator) {
  nn_rng rng = nn_rng_new(7);
  int sizes[][2] = {{784, 512}, {512, 10}, {1600, 10}, {1, 1}, {3, 7}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    int in = sizes[i][0], units = sizes[i][1];
    nn_dense *d = nn_dense_new("d", in, units, NN_INIT_HE, &rng);
    nn_shape s = nn_shape_vector(in);
    for (int fw = 0; fw < 2; fw++) {
      nn_calc c;
      nn_error err = {0};
      calc_ok(nn_calc_dense(&s, units, true, (nn_framework)fw, &c, &err), &err, "nn_calc_dense");
      char what[64];
      snprintf(what, sizeof what, "Dense(%d -> %d)", in, units);
      expect_agrees(&d->base, &s, &c, what);
    }
    d->base.ops->free(&d->base);
  }
}

Test(dense_shapes, flatten_relu_and_dropout_agree_with_the_calculator) {
  nn_shape img = nn_shape_image(64, 5, 5);
  nn_error err = {0};
  nn_calc c;
  nn_layer *flatten = nn_flatten_new("flatten");
  calc_ok(nn_calc_flatten(&img, TORCH, &c, &err), &err, "nn_calc_flatten");
  expect_agrees(flatten, &img, &c, "Flatten on (64, 5, 5)");
  nn_layer *relu = nn_activation_layer_new("relu", nn_activation_of(NN_ACT_RELU));
  calc_ok(nn_calc_elementwise("ReLU", &img, TORCH, &c, &err), &err, "nn_calc_elementwise");
  expect_agrees(relu, &img, &c, "ReLU on (64, 5, 5)");
  nn_layer *dropout = &nn_dropout_new("dropout", 0.3f, 3)->base;
  calc_ok(nn_calc_elementwise("Dropout", &img, TORCH, &c, &err), &err, "nn_calc_elementwise");
  expect_agrees(dropout, &img, &c, "Dropout on (64, 5, 5)");
  flatten->ops->free(flatten), relu->ops->free(relu), dropout->ops->free(dropout);
}

/* The 784-512-10 MLP of the chapter, layer by layer through the calculators, as
 * `nn summary docs/models/mlp_mnist.txt` chains them. */
Test(dense_shapes, mlp_784_512_10_agrees_with_the_calculator) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("mlp", 1, (int[]){784});
  nn_model_add(m, &nn_dense_new("dense1", 784, 512, NN_INIT_HE, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dense_new("dense2", 512, 10, NN_INIT_XAVIER, &rng)->base);
  for (int fw = 0; fw < 2; fw++) {
    nn_error err = {0};
    nn_calc d1, r1, d2;
    nn_shape in = nn_shape_vector(784);
    calc_ok(nn_calc_dense(&in, 512, true, (nn_framework)fw, &d1, &err), &err, "dense1");
    calc_ok(nn_calc_elementwise("relu", &d1.out, (nn_framework)fw, &r1, &err), &err, "relu1");
    calc_ok(nn_calc_dense(&r1.out, 10, true, (nn_framework)fw, &d2, &err), &err, "dense2");
    long total = d1.params + r1.params + d2.params;
    cr_assert_eq(nn_model_param_count(m), total, "%s: the model has %ld params, the calculators %ld",
                 nn_framework_name((nn_framework)fw), nn_model_param_count(m), total);
    cr_assert_eq(total, 401920 + 5130);
    int out[NN_MAX_DIMS];
    cr_assert_eq(nn_model_out_shape(m, out), d2.out.ndim);
    cr_assert_eq(out[0], d2.out.dim[0]);
  }
  nn_model_free(m);
}
