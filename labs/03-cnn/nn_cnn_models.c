/* nn_cnn_models.c: the seeds' CNN family. */
#include "nn_cnn_models.h"

#include "nn_activation_layer.h"
#include "nn_batchnorm.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_dropout.h"
#include "nn_flatten.h"
#include "nn_pool.h"

enum { DROPOUT_SEED = 7 }; /* the dropout masks' Philox key (nn_philox.h): the same masks on CPU and GPU */

nn_model *nn_mnist_cnn(int f1, int f2, float dropout, nn_rng *rng) {
  NN_REQUIRE(f1 >= 1 && f2 >= 1 && dropout >= 0 && dropout < 1 && rng, "nn_mnist_cnn: %d and %d filters, "
             "dropout %g; expected filters >= 1, dropout in [0, 1) and an rng", f1, f2, (double)dropout);
  nn_model *m = nn_model_new("cnn", 3, (int[]){1, 28, 28});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = f1, .kernel = 3}, rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = f1, .filters = f2, .kernel = 3}, rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu2", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool2", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  if (dropout > 0) nn_model_add(m, &nn_dropout_new("dropout", dropout, DROPOUT_SEED)->base);
  nn_model_add(m, &nn_dense_new("dense", f2 * 5 * 5, 10, NN_INIT_XAVIER, rng)->base);
  return m;
}

void nn_add_resnet_stem(nn_model *m, int in_channels, int filters, nn_rng *rng) {
  NN_REQUIRE(m && rng && in_channels >= 1 && filters >= 1, "nn_add_resnet_stem: %d -> %d channels; expected a "
             "model, an rng and at least 1 channel in and out", in_channels, filters);
  nn_conv2d_config conv = {.in_channels = in_channels, .filters = filters, .kernel = 3, .pad = NN_PAD_EXPLICIT,
                           .padding = 1, .no_bias = true};
  nn_model_add(m, &nn_conv2d_new("stem", &conv, rng)->base);
  nn_model_add(m, &nn_batchnorm_new("stem_bn", filters)->base);
  nn_model_add(m, nn_activation_layer_new("stem_relu", nn_activation_of(NN_ACT_RELU)));
}
