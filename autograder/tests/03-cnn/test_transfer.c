/* Transfer learning's two mechanics: frozen layers keep their weights bit for bit
 * through a whole nn_model_fit while the head learns, and nn_model_load_layers takes
 * a checkpoint's feature layers into a model with another head. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_fit.h"
#include "nn_flatten.h"
#include "nn_model.h"
#include "nn_pool.h"

/* conv1(1 -> 4, 3x3) relu1 pool1 | flatten `head`(36 -> classes): on (1, 8, 8) images.
 * Layers 0..2 are the features, 3..4 the head. */
static nn_model *net(const char *head, int classes, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("net", 3, (int[]){1, 8, 8});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 4, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new(head, 36, classes, NN_INIT_XAVIER, &rng)->base);
  return m;
}

/* 64 random images with labels from a rule the net can learn (the brighter half). */
static void toy_data(nn_tensor *X, int *y) {
  *X = nn_tensor_new(4, (int[]){64, 1, 8, 8}, NN_CPU);
  nn_rng rng = nn_rng_new(3);
  nn_rng_fill_normal(&rng, X->data, nn_numel(X), 0.f, 1.f);
  for (int n = 0; n < 64; n++) {
    float top = 0, bottom = 0;
    for (int i = 0; i < 32; i++) top += X->data[n * 64 + i], bottom += X->data[n * 64 + 32 + i];
    y[n] = top > bottom;
  }
}

static bool same_bits(const nn_tensor *a, const nn_tensor *b) {
  return nn_same_shape(a, b) && memcmp(a->data, b->data, nn_tensor_bytes(a)) == 0;
}

Test(transfer, frozen_layers_are_bit_identical_after_a_fit_and_the_head_learns) {
  nn_model *m = net("head", 2, 1);
  nn_conv2d *conv = (nn_conv2d *)m->layers[0];
  nn_dense *head = (nn_dense *)m->layers[4];
  conv->base.frozen = true;
  nn_tensor W0 = nn_tensor_to(&conv->W, NN_CPU), b0 = nn_tensor_to(&conv->b, NN_CPU);
  nn_tensor H0 = nn_tensor_to(&head->W, NN_CPU);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  cr_assert_eq(m->param_count, 2, "the optimizer holds %d tensors; only head.W and head.b may be there", m->param_count);

  nn_tensor X;
  int y[64];
  toy_data(&X, y);
  nn_fit_options o = nn_fit_defaults();
  o.epochs = 3, o.batch_size = 16, o.verbose = 0;
  nn_history h = nn_model_fit(m, &X, y, NULL, &o);
  cr_assert(same_bits(&conv->W, &W0) && same_bits(&conv->b, &b0), "the frozen conv1 changed in the fit");
  double moved = 0;
  for (long i = 0; i < nn_numel(&H0); i++) moved += fabsf(head->W.data[i] - H0.data[i]);
  cr_assert(moved > 1e-3, "head.W moved by %g in all: the head must learn", moved);
  double g = 0;
  for (long i = 0; i < nn_numel(&conv->dW); i++) g += fabsf(conv->dW.data[i]);
  cr_assert(g == 0, "conv1.dW sums to %g in absolute value: conv1 is frozen below every trainable layer, so the "
            "backward must stop above it and leave its grads 0", g);

  conv->base.frozen = false; /* fine-tuning: unfreeze, compile again, and it moves */
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  cr_assert_eq(m->param_count, 4, "after unfreezing, the optimizer holds %d tensors, expected 4", m->param_count);
  nn_history h2 = nn_model_fit(m, &X, y, NULL, &o);
  cr_assert(!same_bits(&conv->W, &W0), "unfrozen and fitted, conv1.W must move");
  nn_history_free(&h), nn_history_free(&h2);
  nn_tensor_free(&W0), nn_tensor_free(&b0), nn_tensor_free(&H0), nn_tensor_free(&X), nn_model_free(m);
}

Test(transfer, load_layers_takes_the_features_and_keeps_the_new_head) {
  char path[] = "/tmp/nn_transfer_XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
  nn_model *source = net("dense", 10, 1);  /* trained elsewhere: 10 classes */
  nn_model *target = net("head", 3, 2);    /* a new task: 3 classes, its own random start */
  nn_error err = {0};
  cr_assert_eq(nn_model_save(source, path, &err), NN_OK, "%s", err.msg);
  nn_conv2d *src_conv = (nn_conv2d *)source->layers[0], *dst_conv = (nn_conv2d *)target->layers[0];
  nn_dense *head = (nn_dense *)target->layers[4];
  nn_tensor H0 = nn_tensor_to(&head->W, NN_CPU), W0 = nn_tensor_to(&dst_conv->W, NN_CPU);
  cr_assert(!same_bits(&src_conv->W, &dst_conv->W), "the two models should start apart (different seeds)");

  /* Strict loading needs head.W, which the file lacks: it fails and changes nothing. */
  cr_assert_neq(nn_model_load(target, path, &err), NN_OK, "nn_model_load must refuse a file without head.W");
  cr_assert(same_bits(&dst_conv->W, &W0), "a refused load changed conv1.W");

  cr_assert_eq(nn_model_load_layers(target, 3, path, &err), NN_OK, "%s", err.msg);
  cr_assert(same_bits(&dst_conv->W, &src_conv->W) && same_bits(&dst_conv->b, &src_conv->b),
            "conv1 must now hold the checkpoint's weights");
  cr_assert(same_bits(&head->W, &H0), "the new head must keep its own weights");

  /* Asking for the head too (5 layers) fails, as the file has no head.W, and leaves conv1 as it was. */
  nn_model *other = net("head", 3, 4);
  nn_tensor W4 = nn_tensor_to(&((nn_conv2d *)other->layers[0])->W, NN_CPU);
  cr_assert_neq(nn_model_load_layers(other, 5, path, &err), NN_OK, "head.W is not in the file: the load must fail");
  cr_assert(strstr(err.msg, "head.W"), "the message should name the missing tensor: %s", err.msg);
  cr_assert(same_bits(&((nn_conv2d *)other->layers[0])->W, &W4), "a failed load changed conv1.W");

  unlink(path);
  nn_tensor_free(&H0), nn_tensor_free(&W0), nn_tensor_free(&W4);
  nn_model_free(source), nn_model_free(target), nn_model_free(other);
}
