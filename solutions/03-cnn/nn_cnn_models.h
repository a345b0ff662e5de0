/* nn_cnn_models.h: the chapter's CNN for 28x28 digits, built in one place, for the demos,
 * the benchmark and the tests; and the stem the chapter's ResNets share.
 *
 *   x (N, 1, 28, 28) -> Conv2d(1 -> f1, 3x3) -> ReLU -> MaxPool 2      (N, f1, 13, 13)
 *                    -> Conv2d(f1 -> f2, 3x3) -> ReLU -> MaxPool 2     (N, f2, 5, 5)
 *                    -> Flatten -> [Dropout p] -> Dense(f2*25 -> 10)   (N, 10) logits
 *
 * 28 -> 26 -> 13 -> 11 -> 5 (the last pooling drops a row and a column). f1 = 32, f2 = 64
 * is the seeds' CNN (Keras' MNIST example): 320 + 18,496 + 16,010 = 34,826 parameters.
 * Layers are named conv1, relu1, pool1, conv2, relu2, pool2, flatten, [dropout], dense;
 * the convolutions He-initialised, the Dense layer Glorot. Dropout has no parameters, so
 * a checkpoint fits the model with or without it; its masks come from their own seeded
 * stream, so the weights are drawn the same with or without it.
 */
#ifndef NN_CNN_MODELS_H
#define NN_CNN_MODELS_H

#include "nn_model.h"
#include "nn_rng.h"

/* f1, f2 >= 1 filters; dropout in [0, 1): 0 adds no Dropout layer. Not compiled. */
nn_model *nn_mnist_cnn(int f1, int f2, float dropout, nn_rng *rng);

/* The ResNet stem, added to m: Conv2d(in_channels -> filters, 3x3, padding 1, no bias: the
 * BatchNorm's beta is the bias), BatchNorm, ReLU, named stem, stem_bn, stem_relu.
 * (N, in_channels, H, W) -> (N, filters, H, W). For the ResNets of `nn resnet` and `nn cifar`. */
void nn_add_resnet_stem(nn_model *m, int in_channels, int filters, nn_rng *rng);

#endif
