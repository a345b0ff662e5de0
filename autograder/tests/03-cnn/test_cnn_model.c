/* The seeds' CNN as a Sequential model of the library's layers: its summary numbers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_flatten.h"
#include "nn_model.h"
#include "nn_pool.h"

static nn_model *cnn(int f1, int f2, nn_rng *rng) {
  nn_model *m = nn_model_new("cnn", 3, (int[]){1, 28, 28});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = f1, .kernel = 3}, rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = f1, .filters = f2, .kernel = 3}, rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu2", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool2", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("dense", f2 * 25, 10, NN_INIT_XAVIER, rng)->base);
  return m;
}

/* Conv 32 3x3 -> ReLU -> MaxPool 2 -> Conv 64 3x3 -> ReLU -> MaxPool 2 -> Flatten -> Dense 10, on 28x28x1 */
static nn_model *seed_cnn(nn_rng *rng) { return cnn(32, 64, rng); }

Test(cnn_model, the_seeds_cnn_has_320_18496_16010_params_34826_in_all) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = seed_cnn(&rng);
  const long expect[8] = {320, 0, 0, 18496, 0, 0, 0, 16010};
  for (int i = 0; i < m->count; i++)
    cr_assert_eq(nn_layer_param_count(m->layers[i]), expect[i], "%s has %ld params, expected %ld", m->layers[i]->name,
                 nn_layer_param_count(m->layers[i]), expect[i]);
  cr_assert_eq(nn_model_param_count(m), 34826);
  char buf[4096] = {0};
  FILE *f = fmemopen(buf, sizeof buf - 1, "w");
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(buf, "(N, 32, 26, 26)") && strstr(buf, "(N, 32, 13, 13)") && strstr(buf, "(N, 64, 11, 11)") &&
                strstr(buf, "(N, 64, 5, 5)") && strstr(buf, "(N, 1600)") && strstr(buf, "34,826"),
            "the summary lacks a shape or the total:\n%s", buf);
  nn_model_free(m);
}
