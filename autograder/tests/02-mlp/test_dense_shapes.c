/* The library's own Dense layer agrees with the calculator of chapter 00
 * (nn_shapes.h), which `nn summary` and `nn exam` use: the same output shape and
 * parameter count, layer by layer and for the 784-512-10 model of the chapter. */
#include <criterion/criterion.h>

#include "nn_activation_layer.h"
#include "nn_dense.h"
#include "nn_model.h"
#include "nn_shapes.h"

Test(dense_shapes, layers_agree_with_the_calculator) {
  nn_rng rng = nn_rng_new(7);
  int sizes[][2] = {{784, 512}, {512, 10}, {1600, 10}, {1, 1}, {3, 7}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    int in = sizes[i][0], units = sizes[i][1];
    nn_dense *d = nn_dense_new("d", in, units, NN_INIT_HE, &rng);
    int out[NN_MAX_DIMS];
    int ndim = d->base.ops->out_shape(&d->base, (int[]){in}, 1, out);
    nn_shape s = nn_shape_vector(in);
    for (int fw = 0; fw < 2; fw++) {
      nn_calc c;
      nn_error err = {0};
      cr_assert_eq(nn_calc_dense(&s, units, true, (nn_framework)fw, &c, &err), NN_OK, "%s", err.msg);
      cr_assert_eq(nn_layer_param_count(&d->base), c.params, "Dense(%d -> %d): the layer has %ld, the calculator %ld",
                   in, units, nn_layer_param_count(&d->base), c.params);
      cr_assert(ndim == c.out.ndim && out[0] == c.out.dim[0], "Dense(%d -> %d): out (%d) vs calculator (%d)", in, units,
                out[0], c.out.dim[0]);
    }
    d->base.ops->free(&d->base);
  }
}

Test(dense_shapes, mlp_784_512_10_agrees_with_the_calculator) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("mlp", 1, (int[]){784});
  nn_model_add(m, &nn_dense_new("dense1", 784, 512, NN_INIT_HE, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dense_new("dense2", 512, 10, NN_INIT_XAVIER, &rng)->base);

  nn_model_spec spec;
  nn_error err = {0};
  const char *text = "input 784\ndense 512 activation=relu\ndense 10\n";
  cr_assert_eq(nn_model_spec_parse(text, "mlp", &spec, &err), NN_OK, "%s", err.msg);
  for (int fw = 0; fw < 2; fw++) {
    nn_spec_totals t;
    cr_assert_eq(nn_model_spec_calc(&spec, (nn_framework)fw, NULL, &t, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(nn_model_param_count(m), t.params, "%s: the model has %ld params, the calculator %ld",
                 nn_framework_name((nn_framework)fw), nn_model_param_count(m), t.params);
    cr_assert_eq(t.params, 401920 + 5130);
    int out[NN_MAX_DIMS];
    cr_assert_eq(nn_model_out_shape(m, out), t.out.ndim);
    cr_assert_eq(out[0], t.out.dim[0]);
  }
  nn_model_spec_free(&spec);
  nn_model_free(m);
}
