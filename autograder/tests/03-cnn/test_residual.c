/* ResidualBlock (ResNet's BasicBlock): parameter counts against torchvision, output
 * shapes, an identity block with zero convolutions by hand (y = relu(x), and the
 * gradient highway dx = dy [x > 0]), finite-difference checks of the whole block
 * (identity and projection, training and eval mode), backward accumulation, no
 * reallocation for a smaller batch, out_shape, the summary row, and the aborts. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation_layer.h"
#include "nn_gradcheck.h"
#include "nn_model.h"
#include "nn_residual.h"
#include "nn_rng.h"

static nn_residual *make(int in, int out, int stride, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  return nn_residual_new("block1", &(nn_residual_config){in, out, stride}, &rng);
}

/* y for input x, shaped by the block's out_shape. */
static nn_tensor output_for(nn_residual *r, const nn_tensor *x) {
  int out[NN_MAX_DIMS];
  int nd = r->base.ops->out_shape(&r->base, x->shape + 1, x->ndim - 1, out);
  cr_assert_eq(nd, 3, "out_shape gave %d axes, expected (C, Ho, Wo)", nd);
  return nn_tensor_new(4, (int[]){x->shape[0], out[0], out[1], out[2]}, NN_CPU);
}

static void free_layer(nn_residual *r) { r->base.ops->free(&r->base); }

/* Every BatchNorm's gamma and beta away from 1 and 0 (and running statistics away from 0 and 1). */
static void randomize_batchnorms(nn_residual *r, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_batchnorm *bns[3] = {r->bn1, r->bn2, r->proj_bn};
  for (int i = 0; i < 3; i++) {
    if (!bns[i]) continue;
    nn_rng_fill_uniform(&rng, bns[i]->gamma.data, bns[i]->C, 0.5f, 1.5f);
    nn_rng_fill_normal(&rng, bns[i]->beta.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_normal(&rng, bns[i]->running_mean.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_uniform(&rng, bns[i]->running_var.data, bns[i]->C, 0.5f, 2.f);
  }
}

Test(residual, param_counts_match_torchvision) {
  /* torchvision BasicBlock(64, 64): conv1 3*3*64*64 = 36,864, bn1 2*64 = 128, conv2 36,864, bn2 128: 73,984.
   * BasicBlock(64, 128, stride 2) with downsample: 3*3*64*128 = 73,728 + 256 + 3*3*128*128 = 147,456 + 256
   * + 1x1 conv 64*128 = 8,192 + 256 = 230,144 (both checked with torch: sum(p.numel() for p in parameters())).
   * Buffers: 2 running statistics of out values per BatchNorm: 2*2*64 = 256 and 3*2*128 = 768. */
  nn_residual *a = make(64, 64, 1, 1), *b = make(64, 128, 2, 1);
  cr_assert_null(a->proj, "BasicBlock(64, 64) has an identity shortcut, no projection");
  cr_assert_not_null(b->proj, "BasicBlock(64, 128, stride 2) needs the projection");
  cr_assert_eq(nn_layer_param_count(&a->base), 73984, "BasicBlock(64, 64): %ld params, torchvision 73,984",
               nn_layer_param_count(&a->base));
  cr_assert_eq(nn_layer_param_count(&b->base), 230144, "BasicBlock(64, 128, 2): %ld params, torchvision 230,144",
               nn_layer_param_count(&b->base));
  cr_assert_eq(nn_layer_buffer_count(&a->base), 256);
  cr_assert_eq(nn_layer_buffer_count(&b->base), 768);
  nn_param p[NN_MAX_LAYER_PARAMS];
  const char *want[] = {"block1.conv1.W", "block1.bn1.gamma", "block1.bn1.beta", "block1.conv2.W",
                        "block1.bn2.gamma", "block1.bn2.beta", "block1.proj.W", "block1.proj_bn.gamma",
                        "block1.proj_bn.beta"};
  int count = b->base.ops->params(&b->base, p, NN_MAX_LAYER_PARAMS);
  cr_assert_eq(count, 9);
  for (int i = 0; i < count; i++) cr_assert_str_eq(p[i].name, want[i]);
  cr_assert_eq(nn_layer_buffers(&b->base, p, NN_MAX_LAYER_PARAMS), 6);
  cr_assert_str_eq(p[5].name, "block1.proj_bn.running_var");
  free_layer(a), free_layer(b);
}

Test(residual, output_shapes) {
  /* stride 1 keeps (H, W); stride 2 halves it, rounding up: floor((H + 2 - 3) / 2) + 1 = floor((H - 1) / 2) + 1 */
  struct { int in, out, stride, H, W, Ho, Wo; } cases[] = {
      {4, 4, 1, 6, 5, 6, 5}, {4, 8, 2, 6, 6, 3, 3}, {4, 8, 2, 7, 5, 4, 3}, {3, 5, 1, 4, 4, 4, 4}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    nn_residual *r = make(cases[i].in, cases[i].out, cases[i].stride, 2);
    nn_tensor x = nn_tensor_randn(4, (int[]){2, cases[i].in, cases[i].H, cases[i].W}, 3);
    nn_tensor y = output_for(r, &x);
    cr_assert(y.shape[1] == cases[i].out && y.shape[2] == cases[i].Ho && y.shape[3] == cases[i].Wo,
              "case %zu: y is %s, expected (2, %d, %d, %d)", i, nn_shape_str(&y).s, cases[i].out, cases[i].Ho,
              cases[i].Wo);
    nn_residual_forward(r, &x, &y, true); /* runs, and the sublayers agree with out_shape */
    for (long k = 0; k < nn_numel(&y); k++)
      cr_assert(y.data[k] >= 0.f, "y[%ld] = %g: the block ends in a ReLU", k, y.data[k]);
    nn_tensor_free(&x), nn_tensor_free(&y), free_layer(r);
  }
}

Test(residual, identity_block_with_zero_convolutions_is_relu_and_passes_the_gradient_through) {
  /* conv1 = conv2 = 0: a1 = 0, bn1 of a constant channel gives beta = 0, relu 0, a2 = 0, b2 = 0, so
   *   y = relu(0 + x) = relu(x):  x = [1, -2, 3, -4 | 0.5, -0.5, 2, -1] -> [1, 0, 3, 0 | 0.5, 0, 2, 0]
   * and backward: the main branch ends in conv1, whose dx = W^T (...) = 0, so only the shortcut
   * carries dy back: dx = dy [x > 0] = [1, 0, 1, 0 | 1, 0, 1, 0] for dy = 1. */
  nn_residual *r = make(1, 1, 1, 4);
  nn_tensor_fill(&r->conv1->W, 0.f), nn_tensor_fill(&r->conv2->W, 0.f);
  nn_tensor x = nn_tensor_from(4, (int[]){2, 1, 2, 2}, (float[]){1, -2, 3, -4, 0.5f, -0.5f, 2, -1});
  nn_tensor y = output_for(r, &x);
  nn_residual_forward(r, &x, &y, true);
  for (int i = 0; i < 8; i++) {
    float want = x.data[i] > 0 ? x.data[i] : 0.f;
    cr_assert_float_eq(y.data[i], want, 1e-6f, "y[%d] = %g, expected relu(%g) = %g", i, y.data[i], x.data[i], want);
  }
  nn_tensor dy = nn_tensor_new(4, y.shape, NN_CPU), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_tensor_fill(&dy, 1.f);
  nn_residual_backward(r, &dy, &dx);
  for (int i = 0; i < 8; i++) {
    float want = x.data[i] > 0 ? 1.f : 0.f;
    cr_assert_float_eq(dx.data[i], want, 1e-6f, "dx[%d] = %g, expected dy [x > 0] = %g: the shortcut carries dy "
                       "back unchanged", i, dx.data[i], want);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(r);
}

/* Gradcheck of the whole block: every input element and every parameter.
 * With softplus in place of the two ReLUs: ReLU's kink at 0 makes a central difference
 * wrong whenever a pre-activation lies within h of 0 (the slope jumps inside [v - h, v + h]),
 * and after BatchNorm many sit near 0, so a ReLU block fails for reasons that are not
 * bugs. The wiring checked here (the sum, the shortcut, the order of the sublayers) is the
 * same for any activation; ReLU's own derivative is checked in chapter 02, and the
 * identity test above runs the block's real ReLUs forward and backward. h = 1e-2: the
 * forward is float, and a smaller h drowns the difference in rounding. */
static void check_block(int in, int out, int stride, int H, bool training, uint64_t seed) {
  nn_residual *r = make(in, out, stride, seed);
  randomize_batchnorms(r, seed + 1);
  ((nn_activation_layer *)r->relu1)->act = nn_activation_of(NN_ACT_SOFTPLUS);
  ((nn_activation_layer *)r->relu2)->act = nn_activation_of(NN_ACT_SOFTPLUS);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, in, H, H}, seed + 2);
  nn_gradcheck g = training ? nn_gradcheck_layer_training(&r->base, &x, 1e-2, seed + 3)
                            : nn_gradcheck_layer(&r->base, &x, 1e-2, seed + 3);
  cr_assert(g.max_rel < 2e-2, "%s block (%d -> %d, stride %d), %s mode: %s[%ld]: analytic %g, numeric %g (rel %g)",
            r->proj ? "projection" : "identity", in, out, stride, training ? "training" : "eval", g.name, g.index,
            g.analytic, g.numeric, g.max_rel);
  cr_assert_eq(g.checked, nn_numel(&x) + nn_layer_param_count(&r->base), "checked %ld values", g.checked);
  nn_tensor_free(&x), free_layer(r);
}

Test(residual, gradcheck_identity_training, .timeout = 20) { check_block(2, 2, 1, 4, true, 21); }
Test(residual, gradcheck_projection_training, .timeout = 20) { check_block(2, 3, 2, 5, true, 22); }
Test(residual, gradcheck_identity_eval, .timeout = 20) { check_block(2, 2, 1, 4, false, 23); }
Test(residual, gradcheck_projection_eval, .timeout = 20) { check_block(2, 3, 2, 5, false, 24); }

Test(residual, backward_accumulates_into_dx_and_the_params) {
  /* dx starting at 1 ends at 1 + the gradient; the params' grads double over two backward passes. */
  nn_residual *r = make(2, 3, 2, 5);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, 2, 4, 4}, 6), y = output_for(r, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 7);
  nn_tensor dx0 = nn_tensor_new(4, x.shape, NN_CPU), dx1 = nn_tensor_new(4, x.shape, NN_CPU);
  nn_residual_forward(r, &x, &y, true);
  nn_residual_backward(r, &dy, &dx0);
  float dW1 = r->conv1->dW.data[0], dgamma = r->proj_bn->dgamma.data[0];
  nn_tensor_fill(&dx1, 1.f);
  nn_residual_backward(r, &dy, &dx1);
  for (long i = 0; i < nn_numel(&x); i++)
    cr_assert_float_eq(dx1.data[i], 1.f + dx0.data[i], 1e-5f, "dx[%ld] = %g, expected 1 + %g: backward must ADD to dx",
                       i, dx1.data[i], dx0.data[i]);
  cr_assert_float_eq(r->conv1->dW.data[0], 2 * dW1, 1e-5f, "conv1.dW did not accumulate");
  cr_assert_float_eq(r->proj_bn->dgamma.data[0], 2 * dgamma, 1e-5f, "proj_bn.dgamma did not accumulate");
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx0), nn_tensor_free(&dx1);
  free_layer(r);
}

Test(residual, a_smaller_batch_reuses_the_activations) {
  /* The internals are sized once for the largest batch: a batch of 2 after one of 4 allocates nothing. */
  nn_residual *r = make(2, 2, 1, 8);
  nn_tensor x4 = nn_tensor_randn(4, (int[]){4, 2, 3, 3}, 9), y4 = output_for(r, &x4);
  nn_tensor x2 = nn_tensor_randn(4, (int[]){2, 2, 3, 3}, 10), y2 = output_for(r, &x2);
  nn_residual_forward(r, &x4, &y4, true);
  const float *a1 = r->a1.data, *dsum = r->dsum.data;
  long cap = r->cap;
  nn_residual_forward(r, &x2, &y2, true);
  cr_assert(r->a1.data == a1 && r->dsum.data == dsum && r->cap == cap, "a smaller batch reallocated the internals");
  cr_assert_eq(r->a1.shape[0], 2, "the internals hold %d rows, expected the batch's 2", r->a1.shape[0]);
  nn_tensor_free(&x4), nn_tensor_free(&y4), nn_tensor_free(&x2), nn_tensor_free(&y2), free_layer(r);
}

Test(residual, summary_row_and_out_shape_in_a_model) {
  nn_rng rng = nn_rng_new(11);
  nn_model *m = nn_model_new("resnet", 3, (int[]){64, 8, 8});
  nn_model_add(m, &nn_residual_new("block1", &(nn_residual_config){64, 64, 1}, &rng)->base);
  nn_model_add(m, &nn_residual_new("block2", &(nn_residual_config){64, 128, 2}, &rng)->base);
  int out[NN_MAX_DIMS];
  cr_assert_eq(nn_model_out_shape(m, out), 3);
  cr_assert(out[0] == 128 && out[1] == 4 && out[2] == 4, "out shape (%d, %d, %d), expected (128, 4, 4)", out[0],
            out[1], out[2]);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  nn_model_summary(m, f);
  fclose(f);
  cr_assert(strstr(text, "block1 (ResidualBlock)"), "no row for block1 in:\n%s", text);
  cr_assert(strstr(text, "(N, 64, 8, 8)") && strstr(text, "73,984"), "block1's row is not (N, 64, 8, 8), 73,984:\n%s",
            text);
  cr_assert(strstr(text, "(N, 128, 4, 4)") && strstr(text, "230,144"), "block2's row is not (N, 128, 4, 4), "
            "230,144:\n%s", text);
  cr_assert(strstr(text, "Total params: 304,128 "), "the total is not 73,984 + 230,144 = 304,128:\n%s", text);
  cr_assert(strstr(text, "Buffers: 1,024 "), "no \"Buffers: 1,024\" (256 + 768) line in:\n%s", text);
  free(text), nn_model_free(m);
}

Test(residual, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 8, 2, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 3, 6, 6}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 8, 3, 3}, NN_CPU);
  nn_residual_forward(r, &x, &y, true); /* "takes (N, 4, H, W) inputs, got (1, 3, 6, 6)" */
}

Test(residual, y_of_the_wrong_shape_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 8, 2, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 4, 6, 6}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 8, 6, 6}, NN_CPU);
  nn_residual_forward(r, &x, &y, true); /* stride 2 gives (2, 8, 3, 3) */
}

Test(residual, backward_before_forward_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 4, 1, 1);
  nn_tensor dy = nn_tensor_new(4, (int[]){1, 4, 3, 3}, NN_CPU);
  nn_residual_backward(r, &dy, NULL);
}
