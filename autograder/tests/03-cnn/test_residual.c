/* ResidualBlock (ResNet's BasicBlock): parameter counts against torchvision, output
 * shapes, an identity block with zero convolutions by hand (y = relu(x), and the
 * gradient highway dx = dy [x > 0]), finite-difference checks of the whole block
 * (identity and projection, training and eval mode), backward accumulation, no
 * allocation in a second step of the same or a smaller batch, out_shape, the summary
 * row, and the aborts.
 *
 * Graded tests (GRADED): the drawn variants draw the channels, the input's size and the
 * seeds (an identity block keeps in = out and stride 1; a projection block changes the
 * channels and has stride 2). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "graded_gradcheck.h"
#include "nn_activation_layer.h"
#include "nn_gradcheck.h"
#include "nn_model.h"
#include "nn_residual.h"
#include "nn_rng.h"

/* A block named "block1"; its convolutions' W drawn here from seed, the test's numbers whatever
 * the constructor draws: conv1 and conv2 He's N(0, 2 / fan_in); the 1x1 projection's entries
 * +-[0.5, 1.5] sqrt(2 / in), away from 0. (A BatchNorm follows it, which undoes the scale of
 * each filter: a filter of only `in` weights can come out near 0, where the normalisation
 * bends within h and finite differences are wrong for reasons that are no bug.) */
static nn_residual *make(int in, int out, int stride, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_residual_config cfg = {.in_channels = in, .out_channels = out, .stride = stride};
  nn_residual *r = nn_residual_new("block1", &cfg, &rng);
  nn_rng_fill_normal(&rng, r->conv1->W.data, (long)out * in * 9, 0.f, sqrtf(2.f / (float)(in * 9)));
  nn_rng_fill_normal(&rng, r->conv2->W.data, (long)out * out * 9, 0.f, sqrtf(2.f / (float)(out * 9)));
  if (r->proj)
    for (long i = 0; i < (long)out * in; i++)
      r->proj->W.data[i] = nn_rng_uniform(&rng, 0.5f, 1.5f) * (nn_rng_below(&rng, 2) ? 1.f : -1.f) *
                           sqrtf(2.f / (float)in);
  return r;
}

/* y for input x, shaped by the block's out_shape (the code under test's: answered, and it
 * must be the reference's). */
static nn_tensor output_for(nn_grade *g, nn_residual *r, const nn_tensor *x) {
  int out[NN_MAX_DIMS] = {0};
  int nd = r->base.ops->out_shape(&r->base, x->shape + 1, x->ndim - 1, out);
  int want[4] = {nd, out[0], out[1], out[2]}, got[4] = {nd, out[0], out[1], out[2]};
  answer(g, "out_shape: its axes and (C, Ho, Wo)", got, 4);
  expect(g, memcmp(got, want, sizeof got) == 0, "out_shape of x %s gave %d axes (%d, %d, %d), expected 3 axes "
         "(%d, %d, %d)", nn_shape_str(x).s, got[0], got[1], got[2], got[3], want[1], want[2], want[3]);
  return nn_tensor_new(4, (int[]){x->shape[0], out[0], out[1], out[2]}, NN_CPU);
}

static void free_layer(nn_residual *r) { r->base.ops->free(&r->base); }

/* One application of the block: its record (the activations between its sublayers and their
 * calls) comes from ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws, bool training) { return (nn_call){.arena = ws, .training = training}; }

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
    nn_tensor y = output_for(nn_grade_here(), r, &x);
    cr_assert(y.shape[1] == cases[i].out && y.shape[2] == cases[i].Ho && y.shape[3] == cases[i].Wo,
              "case %zu: y is %s, expected (2, %d, %d, %d)", i, nn_shape_str(&y).s, cases[i].out, cases[i].Ho,
              cases[i].Wo);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call c = call_on(ws, true);
    nn_residual_forward(r, &c, &x, &y); /* runs, and the sublayers agree with out_shape */
    for (long k = 0; k < nn_numel(&y); k++)
      cr_assert(y.data[k] >= 0.f, "y[%ld] = %g: the block ends in a ReLU", k, y.data[k]);
    nn_arena_free(ws);
    nn_tensor_free(&x), nn_tensor_free(&y), free_layer(r);
  }
}

GRADED_TEST(residual, identity_block_with_zero_convolutions_is_relu_and_passes_the_gradient_through) {
  /* conv1 = conv2 = 0: a1 = 0, bn1 of a constant channel gives beta = 0, relu 0, a2 = 0, b2 = 0, so
   *   y = relu(0 + x) = relu(x):  x = [1, -2, 3, -4 | 0.5, -0.5, 2, -1] -> [1, 0, 3, 0 | 0.5, 0, 2, 0]
   * and backward: the main branch ends in conv1, whose dx = W^T (...) = 0, so only the shortcut
   * carries dy back: dx = dy [x > 0] = [1, 0, 1, 0 | 1, 0, 1, 0] for dy = 1.
   * Drawn: (N, C, H, W), x (away from 0) and dy random; y = relu(x), dx = dy [x > 0]. */
  int N = nn_grade_size(g, 2, 2, 3), C = nn_grade_size(g, 1, 1, 3); /* N >= 2: bn1 trains on each channel */
  int H = nn_grade_size(g, 2, 1, 5), W = nn_grade_size(g, 2, 1, 5);
  uint64_t seed = nn_grade_seed(g, 4);
  nn_residual *r = make(C, C, 1, seed);
  nn_tensor_fill(&r->conv1->W, 0.f), nn_tensor_fill(&r->conv2->W, 0.f);
  nn_tensor_fill(&r->bn1->beta, 0.f), nn_tensor_fill(&r->bn2->beta, 0.f);
  nn_tensor x = nn_tensor_from(4, (int[]){2, 1, 2, 2}, (float[]){1, -2, 3, -4, 0.5f, -0.5f, 2, -1});
  if (!nn_grade_public(g)) {
    nn_tensor_free(&x);
    x = nn_tensor_randn(4, (int[]){N, C, H, W}, seed + 1);
    for (long i = 0; i < nn_numel(&x); i++) x.data[i] += x.data[i] >= 0 ? 0.1f : -0.1f; /* no 0: its slope is moot */
  }
  nn_tensor y = output_for(g, r, &x);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws, true);
  nn_residual_forward(r, &c, &x, &y);
  answer(g, "y", y.data, nn_numel(&y));
  for (long i = 0; i < nn_numel(&x); i++) {
    float want = x.data[i] > 0 ? x.data[i] : 0.f;
    expect_near(g, y.data[i], want, 1e-6, "y%s = %g, expected relu(%g) = %g", nn_grade_where(i, 4, y.shape).s,
                y.data[i], x.data[i], want);
  }
  nn_tensor dy = nn_tensor_new(4, y.shape, NN_CPU), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_tensor_fill(&dy, 1.f);
  if (!nn_grade_public(g)) {
    nn_tensor_free(&dy);
    dy = nn_tensor_randn(4, y.shape, seed + 2);
  }
  nn_residual_backward(r, &c, &dy, &dx);
  answer(g, "dx", dx.data, nn_numel(&dx));
  for (long i = 0; i < nn_numel(&x); i++) {
    float want = x.data[i] > 0 ? dy.data[i] : 0.f;
    expect_near(g, dx.data[i], want, 1e-6, "dx%s = %g, expected dy [x > 0] = %g: the shortcut carries dy "
                "back unchanged", nn_grade_where(i, 4, dx.shape).s, dx.data[i], want);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(r);
}

/* Gradcheck of the whole block: every input element and every parameter.
 * With softplus in place of the two ReLUs: ReLU's kink at 0 makes a central difference
 * wrong whenever a pre-activation lies within h of 0 (the slope jumps inside [v - h, v + h]),
 * and after BatchNorm many sit near 0, so a ReLU block fails for reasons that are not
 * bugs. The wiring checked here (the sum, the shortcut, the order of the sublayers) is the
 * same for any activation; ReLU's own derivative is checked in chapter 02, and the
 * identity test above runs the block's real ReLUs forward and backward. h = 1e-2: the
 * forward is float, and a smaller h drowns the difference in rounding. The analytic
 * gradients are the answers (graded_gradcheck.h). */
static nn_residual *softplus_block(int in, int out, int stride, uint64_t seed) {
  nn_residual *r = make(in, out, stride, seed);
  randomize_batchnorms(r, seed + 1);
  ((nn_activation_layer *)r->relu1)->act = nn_activation_of(NN_ACT_SOFTPLUS);
  ((nn_activation_layer *)r->relu2)->act = nn_activation_of(NN_ACT_SOFTPLUS);
  return r;
}

static void check_block(nn_grade *g, int in, int out, int stride, int H, bool training, uint64_t seed) {
  nn_residual *r = softplus_block(in, out, stride, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, in, H, H}, seed + 2);
  nn_gradcheck r_check = graded_gradcheck(g, &r->base, &x, 1e-2, seed + 3, training);
  expect(g, r_check.max_rel < 2e-2, "%s block (%d -> %d, stride %d), %s mode: %s: analytic %g, numeric %g (rel %g)",
         r->proj ? "projection" : "identity", in, out, stride, training ? "training" : "eval",
         nn_gradcheck_where(&r_check).s, r_check.analytic, r_check.numeric, r_check.max_rel);
  long params = (long)in * out * 9 + (long)out * out * 9 + 4L * out + (r->proj ? (long)in * out + 2L * out : 0);
  expect(g, r_check.checked == nn_numel(&x) + params, "checked %ld values, expected x's %ld and %ld params",
         r_check.checked, nn_numel(&x), params);
  nn_tensor_free(&x), free_layer(r);
}

/* The drawn variants: the channels (identity: in = out, 1 to 3; projection: in 1 to 3, out
 * in + 1 to 4, stride 2), N (2 or 3), H (3 to 6) and the seeds. Finite differences of this
 * block are no test there: with batch statistics of a few values per channel a channel can
 * come out nearly constant, where BatchNorm bends within h, and the public variant's margin
 * (2e-2) is missed for some draws on the reference itself. So there every gradient of one
 * backward (dx and each sublayer's parameters, after the same forward) is answered and must
 * be the reference's on the same block and inputs (the public variant proves the reference's
 * by finite differences). */
static void answer_gradient(nn_grade *g, const char *what, nn_tensor *grad) {
  answer_tensor_close(g, what, grad, 1e-3);
}

static void check_drawn_block(nn_grade *g, bool projection, int in, int out, int H, bool training, uint64_t seed) {
  if (nn_grade_public(g)) {
    check_block(g, in, out, projection ? 2 : 1, H, training, seed);
    return;
  }
  in = nn_grade_size(g, in, 1, 3);
  out = projection ? nn_grade_size(g, out, in + 1, 4) : in;
  int N = nn_grade_size(g, 2, 2, 3);
  H = nn_grade_size(g, H, 3, 6);
  seed = nn_grade_seed(g, seed);
  nn_residual *r = softplus_block(in, out, projection ? 2 : 1, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){N, in, H, H}, seed + 2), y = output_for(g, r, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, seed + 3), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_conv2d *convs[3] = {r->conv1, r->conv2, r->proj};
  nn_batchnorm *bns[3] = {r->bn1, r->bn2, r->proj_bn};
  for (int i = 0; i < 3; i++)
    if (convs[i]) nn_tensor_fill(&convs[i]->dW, 0.f), nn_tensor_fill(&bns[i]->dgamma, 0.f), nn_tensor_fill(&bns[i]->dbeta, 0.f);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws, training);
  nn_residual_forward(r, &c, &x, &y);
  nn_residual_backward(r, &c, &dy, &dx);
  answer_gradient(g, "dx (your backward)", &dx);
  const char *names[3][3] = {{"dconv1.W", "dbn1.gamma", "dbn1.beta"}, {"dconv2.W", "dbn2.gamma", "dbn2.beta"},
                             {"dproj.W", "dproj_bn.gamma", "dproj_bn.beta"}};
  for (int i = 0; i < (projection ? 3 : 2); i++) {
    answer_gradient(g, names[i][0], &convs[i]->dW);
    answer_gradient(g, names[i][1], &bns[i]->dgamma);
    answer_gradient(g, names[i][2], &bns[i]->dbeta);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx), free_layer(r);
}

GRADED_TEST(residual, gradcheck_identity_training, .timeout = 20) { check_drawn_block(g, false, 2, 2, 4, true, 21); }
GRADED_TEST(residual, gradcheck_projection_training, .timeout = 20) { check_drawn_block(g, true, 2, 3, 5, true, 22); }
GRADED_TEST(residual, gradcheck_identity_eval, .timeout = 20) { check_drawn_block(g, false, 2, 2, 4, false, 23); }
GRADED_TEST(residual, gradcheck_projection_eval, .timeout = 20) { check_drawn_block(g, true, 2, 3, 5, false, 24); }

/* ---- the bottleneck (ResNet-50) and the inverted residual (MobileNetV2) */

/* A block of any kind named "block1", every BatchNorm moved off its defaults, and (softplus)
 * every ReLU and ReLU6 made softplus for finite differences (see softplus_block). */
static nn_residual *kind_block(nn_block_kind kind, int in, int out, int stride, int width, bool softplus,
                               uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_residual_config cfg = {.in_channels = in, .out_channels = out, .stride = stride, .kind = kind, .width = width};
  nn_residual *r = nn_residual_new("block1", &cfg, &rng);
  nn_batchnorm *bns[4] = {r->bn1, r->bn2, r->bn3, r->proj_bn};
  for (int i = 0; i < 4; i++) {
    if (!bns[i]) continue;
    nn_rng_fill_uniform(&rng, bns[i]->gamma.data, bns[i]->C, 0.5f, 1.5f);
    nn_rng_fill_normal(&rng, bns[i]->beta.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_normal(&rng, bns[i]->running_mean.data, bns[i]->C, 0.f, 0.5f);
    nn_rng_fill_uniform(&rng, bns[i]->running_var.data, bns[i]->C, 0.5f, 2.f);
  }
  nn_layer *acts[3] = {r->relu1, r->relu_mid, r->relu2};
  for (int i = 0; i < 3 && softplus; i++)
    if (acts[i]) ((nn_activation_layer *)acts[i])->act = nn_activation_of(NN_ACT_SOFTPLUS);
  return r;
}

/* The layer's count against torchvision's and against nn_calc_block (the calculator of
 * `nn summary`), from the formulas; then the sublayers each kind must have. */
Test(residual, bottleneck_and_inverted_counts_match_torchvision_and_the_calculator) {
  /* torch, the blocks built of nn.Conv2d(bias=False) + nn.BatchNorm2d as torchvision builds them:
   *   Bottleneck 256 -> 256, width 64: 256*64 + 128 + 9*64*64 + 128 + 64*256 + 512 = 70,400
   *   Bottleneck 64 -> 256 (ResNet-50's first), width 64, + the projection 64*256 + 512 = 75,008
   *   InvertedResidual 24 -> 24, width 144 (t = 6): 24*144 + 288 + 9*144 + 288 + 144*24 + 48 = 8,832
   *   InvertedResidual 32 -> 16, t = 1 (MobileNetV2's first): no expansion, 9*32 + 64 + 32*16 + 32 = 896 */
  struct { nn_block_kind kind; int in, out, stride, width; long params; } known[] = {
      {NN_BLOCK_BOTTLENECK, 256, 256, 1, 0, 70400}, {NN_BLOCK_BOTTLENECK, 64, 256, 1, 64, 75008},
      {NN_BLOCK_INVERTED, 24, 24, 1, 0, 8832},      {NN_BLOCK_INVERTED, 32, 16, 1, 32, 896}};
  for (int k = 0; k < 4; k++) {
    nn_residual *r = kind_block(known[k].kind, known[k].in, known[k].out, known[k].stride, known[k].width, false, 1);
    cr_assert_eq(nn_layer_param_count(&r->base), known[k].params, "%s(%d -> %d, width %d): %ld params, torchvision "
                 "%ld", nn_block_kind_name(known[k].kind), known[k].in, known[k].out, r->width,
                 nn_layer_param_count(&r->base), known[k].params);
    free_layer(r);
  }
  /* drawn sizes: the layer's tensors against the calculator's formulas, in both conventions' trainable count */
  nn_rng rng = nn_rng_new(7);
  for (int k = 0; k < 30; k++) {
    nn_block_kind kind = (nn_block_kind)(k % 3);
    int in = 1 + (int)nn_rng_below(&rng, 12), out = 1 + (int)nn_rng_below(&rng, 12);
    int stride = 1 + (int)nn_rng_below(&rng, 2), width = (int)nn_rng_below(&rng, 3) * (1 + (int)nn_rng_below(&rng, 8));
    if (k % 5 == 0) out = in, stride = 1; /* the identity shortcut too */
    nn_residual *r = kind_block(kind, in, out, stride, width, false, 2);
    nn_calc calc;
    nn_error err;
    nn_shape x = nn_shape_image(in, 9, 8);
    for (int fw = 0; fw < 2; fw++) {
      nn_framework f = fw ? NN_KERAS : NN_PYTORCH;
      cr_assert(nn_calc_block(&x, kind, out, stride, width, f, &calc, &err) == NN_OK, "%s", err.msg);
      cr_assert_eq(calc.trainable, nn_layer_param_count(&r->base), "%s(%d -> %d, stride %d, width %d): the layer has "
                   "%ld params, the calculator %ld trainable (%s)", nn_block_kind_name(kind), in, out, stride, width,
                   nn_layer_param_count(&r->base), calc.trainable, calc.formula);
    }
    int shape[3] = {in, 9, 8}, o[3];
    r->base.ops->out_shape(&r->base, shape, 3, o);
    cr_assert(o[0] == calc.out.dim[0] && o[1] == calc.out.dim[1] && o[2] == calc.out.dim[2], "%s stride %d on "
              "(%d, 9, 8): the layer gives (%d, %d, %d), the calculator %s", nn_block_kind_name(kind), stride, in,
              o[0], o[1], o[2], nn_shape_format(&calc.out, NN_PYTORCH).s);
    free_layer(r);
  }
}

Test(residual, each_kind_has_its_sublayers) {
  nn_residual *b = kind_block(NN_BLOCK_BOTTLENECK, 8, 16, 2, 0, false, 3);
  cr_assert(b->width == 4 && b->conv1->KH == 1 && b->conv2->KH == 3 && b->conv2->stride == 2 && b->conv3->KH == 1 &&
            b->conv3->F == 16 && b->proj && b->relu_mid && b->relu2 && b->n_main == 8,
            "Bottleneck(8 -> 16, stride 2): width 16/4 = 4; 1x1, 3x3 stride 2, 1x1 to 16, a projection, "
            "8 sublayers in the main branch (got width %d, %d)", b->width, b->n_main);
  nn_param p[NN_MAX_LAYER_PARAMS];
  int n = b->base.ops->params(&b->base, p, NN_MAX_LAYER_PARAMS);
  cr_assert(n == 12 && !strcmp(p[6].name, "block1.conv3.W") && !strcmp(p[9].name, "block1.proj.W"),
            "%d params; the 7th %s, the 10th %s", n, p[6].name, p[9].name);
  nn_residual *v = kind_block(NN_BLOCK_INVERTED, 8, 8, 1, 0, false, 3), *w = kind_block(NN_BLOCK_INVERTED, 8, 12, 2,
                                                                                          0, false, 3);
  cr_assert(v->width == 48 && v->conv2->groups == 48 && v->identity && !v->proj && !v->relu2 &&
            ((nn_activation_layer *)v->relu1)->act.kind == NN_ACT_RELU6, "InvertedResidual(8 -> 8): width 6*8, "
            "a depthwise 3x3, identity shortcut, no ReLU after the sum, ReLU6 inside");
  cr_assert(!w->identity && !w->proj, "InvertedResidual(8 -> 12, stride 2) has no shortcut at all");
  free_layer(b), free_layer(v), free_layer(w);
}

/* Gradcheck (finite differences, public) or every gradient answered against the reference's
 * (drawn: the channels, width, N and H drawn) of a block of `kind`. */
static void check_kind_block(nn_grade *g, nn_block_kind kind, int in, int out, int stride, int width, bool training,
                             uint64_t seed) {
  int N = 2, H = 4;
  if (!nn_grade_public(g)) {
    in = nn_grade_size(g, in, 1, 4);
    out = in == out ? in : nn_grade_size(g, out, 1, 5);
    width = nn_grade_size(g, width, 1, 6), N = nn_grade_size(g, 2, 2, 3), H = nn_grade_size(g, H, 3, 6);
    seed = nn_grade_seed(g, seed);
  }
  nn_residual *r = kind_block(kind, in, out, stride, width, true, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){N, in, H, H}, seed + 2);
  if (nn_grade_public(g)) {
    /* h = 1e-2 and 4e-2 relative, not the basic block's 2e-2: three BatchNorms in float, and a
     * depthwise weight that scales a whole channel of the expanded activations, leave the
     * reference's own central differences up to 3.2e-2 off on these blocks (measured over
     * h = 2e-3 .. 2e-2: smaller h drowns in float rounding, larger in the curvature). A wrong
     * wiring (a shortcut's dsum lost, a stage skipped, the order reversed) is off by order 1. */
    nn_gradcheck c = graded_gradcheck(g, &r->base, &x, 1e-2, seed + 3, training);
    expect(g, c.max_rel < 4e-2, "%s(%d -> %d, stride %d, width %d), %s mode: %s: analytic %g, numeric %g (rel %g)",
           nn_block_kind_name(kind), in, out, stride, r->width, training ? "training" : "eval",
           nn_gradcheck_where(&c).s, c.analytic, c.numeric, c.max_rel);
    expect(g, c.checked == nn_numel(&x) + nn_layer_param_count(&r->base), "checked %ld values, expected x's %ld "
           "and %ld params", c.checked, nn_numel(&x), nn_layer_param_count(&r->base));
  } else {
    nn_tensor y = output_for(g, r, &x), dy = nn_tensor_randn(4, y.shape, seed + 3), dx = nn_tensor_new(4, x.shape,
                                                                                                       NN_CPU);
    nn_param p[NN_MAX_LAYER_PARAMS];
    int n = r->base.ops->params(&r->base, p, NN_MAX_LAYER_PARAMS);
    for (int i = 0; i < n; i++) nn_tensor_fill(p[i].grad, 0.f);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call c = call_on(ws, training);
    nn_residual_forward(r, &c, &x, &y);
    nn_residual_backward(r, &c, &dy, &dx);
    answer_gradient(g, "dx (your backward)", &dx);
    for (int i = 0; i < n; i++) answer_gradient(g, p[i].name, p[i].grad);
    nn_arena_free(ws);
    nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  }
  nn_tensor_free(&x), free_layer(r);
}

GRADED_TEST(residual, gradcheck_bottleneck_and_inverted_blocks, .timeout = 20) {
  check_kind_block(g, NN_BLOCK_BOTTLENECK, 3, 4, 2, 2, true, 31); /* 1x1, 3x3 stride 2, 1x1, projection */
  check_kind_block(g, NN_BLOCK_BOTTLENECK, 4, 4, 1, 2, false, 32); /* identity, eval */
  check_kind_block(g, NN_BLOCK_INVERTED, 3, 3, 1, 6, true, 33);    /* expand, depthwise, project, + x */
  check_kind_block(g, NN_BLOCK_INVERTED, 2, 3, 2, 4, true, 34);    /* stride 2: no shortcut */
  check_kind_block(g, NN_BLOCK_INVERTED, 2, 3, 2, 4, false, 35);   /* the same, eval */
}

GRADED_TEST(residual, backward_accumulates_into_dx_and_the_params) {
  /* dx starting at 1 ends at 1 + the gradient; the params' grads double over two backward passes.
   * Drawn: a projection block's channels, x's size, the seeds. */
  int in = nn_grade_size(g, 2, 1, 3), out = nn_grade_size(g, 3, in + 1, 4);
  int N = nn_grade_size(g, 2, 2, 3), H = nn_grade_size(g, 4, 2, 6), W = nn_grade_size(g, 4, 2, 6);
  uint64_t seed = nn_grade_seed(g, 5);
  nn_residual *r = make(in, out, 2, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){N, in, H, W}, seed + 1), y = output_for(g, r, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, seed + 2);
  nn_tensor dx0 = nn_tensor_new(4, x.shape, NN_CPU), dx1 = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws, true);
  nn_residual_forward(r, &call, &x, &y);
  nn_residual_backward(r, &call, &dy, &dx0);
  answer(g, "dx after one backward", dx0.data, nn_numel(&dx0));
  nn_tensor dW1 = nn_tensor_to(&r->conv1->dW, NN_CPU), dgamma = nn_tensor_to(&r->proj_bn->dgamma, NN_CPU);
  answer(g, "conv1.dW after one backward", dW1.data, nn_numel(&dW1));
  answer(g, "proj_bn.dgamma after one backward", dgamma.data, nn_numel(&dgamma));
  nn_tensor_fill(&dx1, 1.f);
  nn_residual_backward(r, &call, &dy, &dx1); /* the same call again */
  answer(g, "1 + dx of the second backward", dx1.data, nn_numel(&dx1));
  answer(g, "conv1.dW after two backwards", r->conv1->dW.data, nn_numel(&r->conv1->dW));
  answer(g, "proj_bn.dgamma after two backwards", r->proj_bn->dgamma.data, out);
  double norm = 0;
  for (long i = 0; i < nn_numel(&x); i++) norm += fabs(dx0.data[i]);
  expect(g, norm > 0, "dx is all zeros after one backward");
  nn_tensor ones = nn_tensor_new(4, x.shape, NN_CPU); /* what dx held before the backward */
  nn_tensor_fill(&ones, 1.f);
  double *want = malloc((size_t)(nn_numel(&x) + nn_numel(&dW1)) * sizeof *want), *want_dW = want + nn_numel(&x);
  for (long i = 0; i < nn_numel(&x); i++) want[i] = 1.0 + dx0.data[i];
  for (long i = 0; i < nn_numel(&dW1); i++) want_dW[i] = 2.0 * dW1.data[i];
  for (long i = 0; i < nn_numel(&x); i++)
    expect_near(g, dx1.data[i], 1.f + dx0.data[i], 1e-5 * (1 + fabsf(dx0.data[i])), "dx%s = %g, expected 1 + %g: "
                "backward must ADD to dx%s", nn_grade_where(i, 4, dx1.shape).s, dx1.data[i], dx0.data[i],
                nn_grade_diagnose(dx1.data, want, ones.data, nn_numel(&x), 4, dx1.shape).s);
  for (long i = 0; i < nn_numel(&dW1); i++)
    expect_near(g, r->conv1->dW.data[i], 2 * dW1.data[i], 1e-5 * (1 + fabsf(dW1.data[i])), "conv1.dW%s = %g after "
                "two backwards, expected 2 x %g: it did not accumulate%s",
                nn_grade_where_as(i, 4, dW1.shape, "(f, c, kh, kw)").s, r->conv1->dW.data[i], dW1.data[i],
                nn_grade_diagnose(r->conv1->dW.data, want_dW, dW1.data, nn_numel(&dW1), 4, dW1.shape).s);
  free(want), nn_tensor_free(&ones);
  for (int c = 0; c < out; c++)
    expect_near(g, r->proj_bn->dgamma.data[c], 2 * dgamma.data[c], 1e-5 * (1 + fabsf(dgamma.data[c])),
                "proj_bn.dgamma[%d] = %g after two backwards, expected 2 x %g: it did not accumulate", c,
                r->proj_bn->dgamma.data[c], dgamma.data[c]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx0), nn_tensor_free(&dx1);
  nn_tensor_free(&dW1), nn_tensor_free(&dgamma);
  nn_arena_free(ws);
  free_layer(r);
}

/* One training step of r on x in the arena ws, reset first: forward, then backward of dy = 1;
 * returns the step's call, whose record lives until the next reset. */
static nn_call residual_step(nn_residual *r, nn_arena *ws, const nn_tensor *x, nn_tensor *y) {
  nn_arena_reset(ws);
  nn_call c = call_on(ws, true);
  nn_residual_forward(r, &c, x, y);
  nn_tensor dy = nn_tensor_new(4, y->shape, NN_CPU), dx = nn_tensor_new(4, x->shape, NN_CPU);
  nn_tensor_fill(&dy, 1.f);
  nn_residual_backward(r, &c, &dy, &dx);
  nn_tensor_free(&dy), nn_tensor_free(&dx);
  return c;
}

Test(residual, a_smaller_batch_reuses_the_activations) {
  /* The block owns no activations: a call keeps them (and their gradients, and its sublayers'
   * workspaces) in its arena, which a reset between steps sizes to the largest step. A second
   * step of the same batch, or a smaller one, allocates nothing. The batch of 4 needs more than
   * the arena's first block (its six activations alone are 6 x 32 KiB), so the first step grows it. */
  nn_residual *r = make(8, 8, 1, 8);
  nn_tensor x4 = nn_tensor_randn(4, (int[]){4, 8, 16, 16}, 9), y4 = output_for(nn_grade_here(), r, &x4);
  nn_tensor x2 = nn_tensor_randn(4, (int[]){2, 8, 16, 16}, 10), y2 = output_for(nn_grade_here(), r, &x2);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = residual_step(r, ws, &x4, &y4);
  nn_residual_saved *s = c.saved;
  cr_assert_not_null(s, "the forward kept no record in its call");
  cr_assert(s->act[0].shape[0] == 4 && s->sum.shape[0] == 4 && s->main[0].x == &x4 && s->relu2.y == &y4,
            "the record of a batch of 4 holds %d rows of act[0] (conv1's output), %d of sum; its conv1 call's x and "
            "relu2 call's y must be the block's", s->act[0].shape[0], s->sum.shape[0]);
  nn_arena_reset(ws);
  long first = nn_arena_allocations(ws);
  cr_assert(first > 1, "the first step of a batch of 4 fits the arena's first block (%ld allocations): the test "
            "shows nothing", first);
  residual_step(r, ws, &x4, &y4);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a second step of the same batch allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  c = residual_step(r, ws, &x2, &y2);
  s = c.saved;
  cr_assert_eq(s->act[0].shape[0], 2, "the record holds %d rows, expected the batch's 2", s->act[0].shape[0]);
  cr_assert_eq(s->sum.shape[0], 2, "the record's sum holds %d rows, expected the batch's 2", s->sum.shape[0]);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a step of a smaller batch after one of 4 allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  nn_arena_free(ws);
  nn_tensor_free(&x4), nn_tensor_free(&y4), nn_tensor_free(&x2), nn_tensor_free(&y2), free_layer(r);
}

Test(residual, summary_row_and_out_shape_in_a_model) {
  nn_rng rng = nn_rng_new(11);
  nn_model *m = nn_model_new("resnet", 3, (int[]){64, 8, 8});
  nn_model_add(m, &nn_residual_new("block1", &(nn_residual_config){.in_channels = 64, .out_channels = 64,
                                                                   .stride = 1}, &rng)->base);
  nn_model_add(m, &nn_residual_new("block2", &(nn_residual_config){.in_channels = 64, .out_channels = 128,
                                                                   .stride = 2}, &rng)->base);
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
  cr_assert(strstr(text, "Total params: 304,128\n"), "the total is not 73,984 + 230,144 = 304,128:\n%s", text);
  cr_assert(strstr(text, "Buffers (state_dict, not parameters): 1,024\n"),
            "no \"Buffers (state_dict, not parameters): 1,024\" (256 + 768) line in:\n%s", text);
  free(text), nn_model_free(m);
}

Test(residual, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 8, 2, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 3, 6, 6}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 8, 3, 3}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_residual_forward(r, &c, &x, &y); /* "takes (N, 4, H, W) inputs, got (1, 3, 6, 6)" */
}

Test(residual, y_of_the_wrong_shape_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 8, 2, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 4, 6, 6}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 8, 6, 6}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true);
  nn_residual_forward(r, &c, &x, &y); /* stride 2 gives (2, 8, 3, 3) */
}

Test(residual, backward_before_forward_aborts, .signal = SIGABRT) {
  nn_residual *r = make(4, 4, 1, 1);
  nn_tensor dy = nn_tensor_new(4, (int[]){1, 4, 3, 3}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU), true); /* a call that had no forward */
  nn_residual_backward(r, &c, &dy, NULL);
}
