/* Grad-CAM: the map by hand on a conv -> global average pool -> dense model (where
 * alpha_k = V[c][k] / (h w)), nn_model_backward_from against finite differences,
 * the bilinear resize by hand (values from PyTorch), the [0, 1] range, the jet
 * colormap and the overlay by hand, and the aborts on a layer that has no feature maps.
 *
 * Graded tests (GRADED): the drawn variant of the by-hand tests draws the conv -> gap ->
 * dense model's sizes and weights, where the same algebra gives the cam: a 1x1 conv of one
 * input channel makes A_k = w_k x, so sum_k alpha_k A_k = (sum_k V[c][k] w_k) x / (h w). */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_flatten.h"
#include "nn_gradcam.h"
#include "nn_model.h"
#include "nn_pool.h"

/* Conv2d(1 -> K, 1x1, W = w, b = 0) -> GlobalAvgPool -> Dense(K -> D, W = V (D, K), b = 0),
 * on (1, H, W) images: A_k = w_k x. */
static nn_model *cam_net_of(int K, int D, int H, int W, const float *w, const float *V) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("cam", 3, (int[]){1, H, W});
  nn_conv2d *c = nn_conv2d_new("conv", &(nn_conv2d_config){.in_channels = 1, .filters = K, .kernel = 1}, &rng);
  memcpy(c->W.data, w, (size_t)K * sizeof(float));
  nn_tensor_fill(&c->b, 0.f);
  nn_dense *d = nn_dense_new("dense", K, D, NN_INIT_XAVIER, &rng);
  memcpy(d->W.data, V, (size_t)D * K * sizeof(float)); /* W: (out, in), row c is V[c] */
  nn_tensor_fill(&d->b, 0.f);
  nn_model_add(m, &c->base);
  nn_model_add(m, nn_global_avgpool2d_new("gap"));
  nn_model_add(m, &d->base);
  return m;
}

/* The public model: K = 2, w = [1, -1], V = [[2, 1], [-1, 3]], on (1, 2, 2): A_0 = x, A_1 = -x. */
static nn_model *cam_net(void) { return cam_net_of(2, 2, 2, 2, (float[]){1, -1}, (float[]){2, 1, -1, 3}); }

/* A drawn model for class c and its x: K filters, D classes, (H, W) planes; w_k = +-[0.5, 1.5],
 * V ~ N(0, 1) with row c set so that s = sum_k V[c][k] w_k has the sign asked for (and
 * |s| >= 0.5); x from 0.5 to 2, so the cam is relu(s x / (h w)). */
typedef struct {
  int K, D, H, W, c;
  float *w, *V, s;
  nn_tensor x;
} cam_case;

static cam_case draw_cam_case(nn_grade *g, bool positive) {
  cam_case t;
  t.K = nn_grade_size(g, 2, 2, 4), t.D = nn_grade_size(g, 2, 2, 4);
  t.H = nn_grade_size(g, 2, 2, 5), t.W = nn_grade_size(g, 2, 2, 5);
  t.c = nn_grade_size(g, 0, 0, t.D - 1);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 1));
  t.w = malloc((size_t)t.K * sizeof *t.w), t.V = malloc((size_t)t.D * t.K * sizeof *t.V);
  for (int k = 0; k < t.K; k++) t.w[k] = nn_rng_uniform(&rng, 0.5f, 1.5f) * (nn_rng_below(&rng, 2) ? 1.f : -1.f);
  nn_rng_fill_normal(&rng, t.V, (long)t.D * t.K, 0.f, 1.f);
  float *row = t.V + t.c * t.K, s = 0;
  for (int k = 0; k < t.K; k++) s += row[k] * t.w[k];
  if ((s > 0) != positive)
    for (int k = 0; k < t.K; k++) row[k] = -row[k], s = -s;
  if (fabsf(s) < 0.5f) row[0] += ((positive ? 0.5f : -0.5f) - s) / t.w[0];
  t.s = 0;
  for (int k = 0; k < t.K; k++) t.s += row[k] * t.w[k];
  t.x = nn_tensor_new(4, (int[]){1, 1, t.H, t.W}, NN_CPU); /* 0.5 to 2 in even steps, shuffled */
  int *perm = malloc((size_t)t.H * t.W * sizeof *perm);
  nn_rng_permutation(&rng, perm, t.H * t.W);
  for (int i = 0; i < t.H * t.W; i++) t.x.data[i] = 0.5f + 1.5f * (float)perm[i] / (float)(t.H * t.W - 1);
  free(perm);
  return t;
}

static void cam_case_free(cam_case *t) { free(t->w), free(t->V), nn_tensor_free(&t->x); }

/* The drawn by-hand test: d z_c / d A, the raw map, z_c and the scaled map of a model where
 * they are known: dA_k = V[c][k] / (h w) everywhere, the map s x / (h w), z_c = s mean(x),
 * and the scaled map (x - min x) / (max x - min x) (the input is as large as the maps). */
static void check_drawn_cam(nn_grade *g) {
  cam_case t = draw_cam_case(g, true);
  nn_model *m = cam_net_of(t.K, t.D, t.H, t.W, t.w, t.V);
  const int hw = t.H * t.W;
  nn_tensor dz = nn_tensor_new(2, (int[]){1, t.D}, NN_CPU);
  dz.data[t.c] = 1.f;
  nn_model_backward_from(m, &t.x, &dz, 1);
  answer(g, "d z_c / d A (through the global average pool)", m->grads[1].data, (long)t.K * hw);
  for (int i = 0; i < t.K * hw; i++) {
    float want = t.V[t.c * t.K + i / hw] / (float)hw;
    expect_near(g, m->grads[1].data[i], want, 1e-6 * (1 + fabsf(want)), "d z_%d / d A[%d] = %g, expected V[%d][%d] "
                "/ (h w) = %g (%d maps of %dx%d)", t.c, i, m->grads[1].data[i], t.c, i / hw, want, t.K, t.H, t.W);
  }
  nn_tensor small = nn_tensor_new(2, (int[]){t.H, t.W}, NN_CPU);
  nn_tensor_fill(&small, 5.f); /* nn_gradcam_map overwrites its map (nn_gradcam.h): the 5s must not show */
  nn_gradcam_map(&m->acts[1], &m->grads[1], &small);
  answer(g, "the map of nn_gradcam_map", small.data, hw);
  double lo = INFINITY, hi = -INFINITY, mean = 0;
  for (int i = 0; i < hw; i++) lo = fmin(lo, t.x.data[i]), hi = fmax(hi, t.x.data[i]), mean += t.x.data[i] / hw;
  for (int i = 0; i < hw; i++) {
    double want = t.s * t.x.data[i] / hw;
    expect_near(g, small.data[i], want, 1e-5 * (1 + fabs(want)), "cam[%d] = %g before scaling, expected relu(sum_k "
                "alpha_k A_k) = %g (alpha_k = V[%d][k] / %d, A_k = w_k x)", i, small.data[i], want, t.c, hw);
  }
  nn_tensor cam = nn_tensor_new(2, (int[]){t.H, t.W}, NN_CPU);
  float z = nn_gradcam(m, &t.x, t.c, 0, &cam);
  answer(g, "z_c of nn_gradcam", &z, 1);
  answer(g, "the cam of nn_gradcam", cam.data, hw);
  expect_near(g, z, t.s * mean, 1e-5 * (1 + fabs(t.s * mean)), "nn_gradcam returned z_%d = %g, expected %g", t.c, z,
              t.s * mean);
  for (int i = 0; i < hw; i++) {
    double want = (t.x.data[i] - lo) / (hi - lo);
    expect_near(g, cam.data[i], want, 1e-5, "cam[%d] = %g, expected %g (the map scaled to [0, 1])", i, cam.data[i],
                want);
  }
  nn_tensor_free(&dz), nn_tensor_free(&small), nn_tensor_free(&cam), nn_model_free(m), cam_case_free(&t);
}

GRADED_TEST(gradcam, the_cam_of_conv_gap_dense_by_hand) {
  if (!nn_grade_public(g)) {
    check_drawn_cam(g);
    return;
  }
  /* x = [[1, 2], [3, 4]]: A_0 = x, A_1 = -x, their means 2.5 and -2.5,
   * z_0 = 2 * 2.5 + 1 * (-2.5) = 2.5. d z_0 / d A_k[i][j] = V[0][k] / (h w) = V[0][k] / 4 everywhere:
   * alpha = (2/4, 1/4) = (0.5, 0.25); cam = relu(0.5 x - 0.25 x) = 0.25 x = [[0.25, 0.5], [0.75, 1]].
   * The input is 2x2 like the maps, so the resize changes nothing, and (cam - 0.25) / 0.75 = [[0, 1/3], [2/3, 1]]. */
  nn_model *m = cam_net();
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  nn_tensor dz = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 0});
  nn_model_backward_from(m, &x, &dz, 1);
  answer(g, "d z_c / d A (through the global average pool)", m->grads[1].data, 8);
  for (int i = 0; i < 8; i++) {
    float want = i < 4 ? 0.5f : 0.25f;
    expect_near(g, m->grads[1].data[i], want, 1e-6, "d z_0 / d A[%d] = %g, expected V[0][%d] / 4 = %g", i,
                m->grads[1].data[i], i / 4, want);
  }
  nn_tensor small = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  nn_tensor_fill(&small, 5.f); /* nn_gradcam_map overwrites its map (nn_gradcam.h): the 5s must not show */
  nn_gradcam_map(&m->acts[1], &m->grads[1], &small);
  answer(g, "the map of nn_gradcam_map", small.data, 4);
  const float raw[4] = {0.25f, 0.5f, 0.75f, 1.f};
  for (int i = 0; i < 4; i++)
    expect_near(g, small.data[i], raw[i], 1e-6, "cam[%d] = %g before scaling, expected 0.25 x = %g", i,
                small.data[i], raw[i]);

  nn_tensor cam = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  float z = nn_gradcam(m, &x, 0, 0, &cam);
  answer(g, "z_c of nn_gradcam", &z, 1);
  answer(g, "the cam of nn_gradcam", cam.data, 4);
  expect_near(g, z, 2.5f, 1e-6, "nn_gradcam returned z_0 = %g, expected 2.5", z);
  const float scaled[4] = {0.f, 1.f / 3, 2.f / 3, 1.f};
  for (int i = 0; i < 4; i++)
    expect_near(g, cam.data[i], scaled[i], 1e-6, "cam[%d] = %g, expected %g", i, cam.data[i], scaled[i]);
  nn_tensor_free(&x), nn_tensor_free(&dz), nn_tensor_free(&small), nn_tensor_free(&cam), nn_model_free(m);
}

GRADED_TEST(gradcam, no_evidence_for_a_class_gives_an_all_zero_map) {
  /* Class 1: alpha = (V[1][0], V[1][1]) / 4 = (-0.25, 0.75); sum_k alpha_k A_k = -0.25 x - 0.75 x = -x < 0
   * everywhere (x > 0), so relu leaves 0 and the map stays 0 (max == min). z_1 = -2.5 - 7.5 = -10.
   * Drawn: a model where s = sum_k V[c][k] w_k < 0, so the map is relu(s x / (h w)) = 0 and z_c = s mean(x). */
  cam_case t = {0};
  nn_model *m;
  float z_want;
  if (nn_grade_public(g)) {
    m = cam_net(), t.H = t.W = 2, t.c = 1, z_want = -10.f;
    t.x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  } else {
    t = draw_cam_case(g, false);
    m = cam_net_of(t.K, t.D, t.H, t.W, t.w, t.V);
    double mean = 0;
    for (int i = 0; i < t.H * t.W; i++) mean += t.x.data[i] / (t.H * t.W);
    z_want = (float)(t.s * mean);
  }
  nn_tensor cam = nn_tensor_new(2, (int[]){t.H, t.W}, NN_CPU);
  nn_tensor_fill(&cam, 7.f);
  float z = nn_gradcam(m, &t.x, t.c, 0, &cam);
  answer(g, "z_c of nn_gradcam", &z, 1);
  answer(g, "the cam of nn_gradcam", cam.data, t.H * t.W);
  expect_near(g, z, z_want, 1e-5 * (1 + fabsf(z_want)), "z_%d = %g, expected %g", t.c, z, z_want);
  for (int i = 0; i < t.H * t.W; i++)
    expect(g, cam.data[i] == 0.f, "cam[%d] = %g, expected 0: class %d has no positive evidence (sum_k alpha_k A_k "
           "< 0 everywhere)", i, cam.data[i], t.c);
  nn_tensor_free(&cam), nn_model_free(m), cam_case_free(&t);
}

/* A small random CNN on (1, H, W): conv(1 -> 3, 3x3) relu maxpool(2) conv(3 -> 2, 1x1) flatten
 * dense(2 * floor((H - 2) / 2) * floor((W - 2) / 2) -> D). */
static nn_model *small_cnn_of(int H, int W, int D, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("small", 3, (int[]){1, H, W});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 3, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = 3, .filters = 2, .kernel = 1}, &rng)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("dense", 2 * ((H - 2) / 2) * ((W - 2) / 2), D, NN_INIT_XAVIER, &rng)->base);
  return m;
}

/* The public one, on (1, 6, 6): dense(8 -> 4). */
static nn_model *small_cnn(uint64_t seed) { return small_cnn_of(6, 6, 4, seed); }

/* sum(dout * z) for z = layers[from..] applied to a (the output of layers[from - 1]), in double. */
static double projected_output(nn_model *m, int from, const nn_tensor *a, const nn_tensor *dout) {
  nn_tensor cur = nn_tensor_to(a, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU); /* the layers' scratch: im2col, the max-pool's argmax */
  for (int i = from; i < m->count; i++) {
    int shape[NN_MAX_DIMS] = {cur.shape[0]};
    int nd = m->layers[i]->ops->out_shape(m->layers[i], cur.shape + 1, cur.ndim - 1, shape + 1);
    nn_tensor next = nn_tensor_new(nd + 1, shape, NN_CPU);
    nn_call c = {.arena = ws, .training = false};
    m->layers[i]->ops->forward(m->layers[i], &c, &cur, &next);
    nn_arena_reset(ws); /* no backward: the call is done with */
    nn_tensor_free(&cur);
    cur = next;
  }
  nn_arena_free(ws);
  double s = 0;
  for (long i = 0; i < nn_numel(&cur); i++) s += (double)dout->data[i] * cur.data[i];
  nn_tensor_free(&cur);
  return s;
}

Test(model, backward_from_matches_finite_differences_at_every_feature_map_cell) {
  /* dout random (2 images, 4 logits); grads[1] (conv1's output, (2, 3, 4, 4)) must be d sum(dout * z) / d acts[1].
   * Every one of its 96 cells nudged by +-h in the forward of layers 1..5 (relu, maxpool, conv, flatten, dense),
   * the difference taken in double. (Before the ReLU: its zeros would tie in the max-pool.) */
  nn_model *m = small_cnn(5);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, 1, 6, 6}, 6), dout = nn_tensor_randn(2, (int[]){2, 4}, 7);
  nn_model_backward_from(m, &x, &dout, 1);
  nn_tensor A = nn_tensor_to(&m->acts[1], NN_CPU), dA = nn_tensor_to(&m->grads[1], NN_CPU);
  cr_assert_eq(nn_numel(&A), 96, "acts[2] is %s, expected (2, 3, 4, 4)", nn_shape_str(&A).s);
  const double h = 1e-2; /* every layer after A is piecewise linear: a larger h costs no accuracy, only kinks */
  long checked = 0;
  for (long i = 0; i < nn_numel(&A); i++) {
    float keep = A.data[i];
    if (fabsf(keep) < 2e-2f) continue; /* too near relu's kink to difference */
    A.data[i] = keep + (float)h;
    double up = projected_output(m, 1, &A, &dout);
    A.data[i] = keep - (float)h;
    double down = projected_output(m, 1, &A, &dout);
    A.data[i] = keep;
    double numeric = (up - down) / (2 * h); /* the float forward's rounding leaves ~1e-4 here: hence the floor 0.1 */
    double rel = fabs(numeric - dA.data[i]) / fmax(fmax(fabs(numeric), fabs(dA.data[i])), 0.1);
    checked++;
    cr_assert(rel < 1e-3, "d/dA[%ld]: analytic %g, numeric %g", i, dA.data[i], numeric);
  }
  cr_assert(checked >= 90, "only %ld of 96 cells were checked", checked);
  nn_tensor_free(&A), nn_tensor_free(&dA), nn_tensor_free(&x), nn_tensor_free(&dout), nn_model_free(m);
}

Test(model, backward_from_moves_no_param) {
  nn_model *m = small_cnn(5);
  nn_conv2d *c1 = (nn_conv2d *)m->layers[0];
  nn_tensor W = nn_tensor_to(&c1->W, NN_CPU);
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, 6, 6}, 6), dout = nn_tensor_randn(2, (int[]){1, 4}, 7);
  nn_model_backward_from(m, &x, &dout, 0);
  cr_assert(memcmp(W.data, c1->W.data, nn_tensor_bytes(&W)) == 0, "conv1.W changed");
  double g = 0;
  for (long i = 0; i < nn_numel(&c1->dW); i++) g += fabs(c1->dW.data[i]);
  cr_assert(g > 0, "down_to = 0: the backward must reach conv1 (its dW is all 0)");
  nn_tensor_free(&W), nn_tensor_free(&x), nn_tensor_free(&dout), nn_model_free(m);
}

Test(gradcam, resize_2x2_to_4x4_by_hand) {
  /* align_corners = False: output X looks at (X + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (past the
   * last centre: the last cell), so each axis weighs the second cell by w = (0, 0.25, 0.75, 1). src = [[0, 1], [2, 3]]
   * is x + 2y, so dst[Y][X] = w[X] + 2 w[Y]. The same as
   * torch.nn.functional.interpolate(torch.tensor([[[[0., 1], [2, 3]]]]), size=(4, 4), mode="bilinear",
   * align_corners=False): [[0, .25, .75, 1], [.5, .75, 1.25, 1.5], [1.5, 1.75, 2.25, 2.5], [2, 2.25, 2.75, 3]]. */
  nn_tensor src = nn_tensor_from(2, (int[]){2, 2}, (float[]){0, 1, 2, 3}), dst = nn_tensor_new(2, (int[]){4, 4}, NN_CPU);
  nn_gradcam_resize(&src, &dst);
  const float want[16] = {0, .25f, .75f, 1, .5f, .75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3};
  for (int i = 0; i < 16; i++)
    cr_assert_float_eq(dst.data[i], want[i], 1e-6f, "dst[%d][%d] = %g, expected %g", i / 4, i % 4, dst.data[i],
                       want[i]);
  nn_tensor_free(&src), nn_tensor_free(&dst);
}

Test(gradcam, resize_3x3_to_2x2_by_hand) {
  /* Shrinking: X looks at (X + 0.5) * 1.5 - 0.5 = 0.25, 1.75. src = [[0, 1, 2], [3, 4, 5], [6, 7, 8]] = x + 3y,
   * so dst = [[0.25 + 0.75, 1.75 + 0.75], [0.25 + 5.25, 1.75 + 5.25]] = [[1, 2.5], [5.5, 7]]
   * (torch.nn.functional.interpolate(..., size=(2, 2), mode="bilinear", align_corners=False) agrees). */
  nn_tensor src = nn_tensor_from(2, (int[]){3, 3}, (float[]){0, 1, 2, 3, 4, 5, 6, 7, 8});
  nn_tensor dst = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  nn_gradcam_resize(&src, &dst);
  const float want[4] = {1, 2.5f, 5.5f, 7};
  for (int i = 0; i < 4; i++) cr_assert_float_eq(dst.data[i], want[i], 1e-5f, "dst[%d] = %g, expected %g", i, dst.data[i], want[i]);
  nn_tensor_free(&src), nn_tensor_free(&dst);
}

Test(gradcam, normalize_by_hand) {
  nn_tensor t = nn_tensor_from(2, (int[]){1, 4}, (float[]){2, 4, 3, 6});
  nn_gradcam_normalize(&t); /* (v - 2) / 4 */
  const float want[4] = {0, 0.5f, 0.25f, 1};
  for (int i = 0; i < 4; i++) cr_assert_float_eq(t.data[i], want[i], 1e-6f, "[%d] = %g, expected %g", i, t.data[i], want[i]);
  nn_tensor_free(&t);
}

/* Every class's map at every layer with feature maps (conv1, relu1, pool1, conv2): each spans
 * [0, 1] (or is all 0), and at least half have some positive evidence. Drawn: the input's
 * size (6 to 9 on a side), the number of classes (2 to 5), the weights and x; there each map
 * must also be the reference's (how many have evidence depends on the weights: as few as a
 * quarter for some draws, so there at least one must). */
GRADED_TEST(gradcam, the_cam_of_a_cnn_spans_0_to_1_at_the_input_size) {
  int H = nn_grade_size(g, 6, 6, 9), W = nn_grade_size(g, 6, 6, 9), D = nn_grade_size(g, 4, 2, 5);
  nn_model *m = small_cnn_of(H, W, D, nn_grade_seed(g, 11));
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, H, W}, nn_grade_seed(g, 12)), cam = nn_tensor_new(2, (int[]){H, W}, NN_CPU);
  int nonzero = 0;
  for (int c = 0; c < D; c++)
    for (int layer = 0; layer <= 3; layer++) { /* conv1, relu1, pool1 and conv2 all give feature maps */
      nn_gradcam(m, &x, c, layer, &cam);
      if (nn_grade_public(g))
        answer(g, "the cam of nn_gradcam", cam.data, (long)H * W);
      else
        answer_tensor_close(g, "the cam of nn_gradcam", &cam, 1e-3);
      float lo = INFINITY, hi = -INFINITY;
      for (int i = 0; i < H * W; i++) lo = fminf(lo, cam.data[i]), hi = fmaxf(hi, cam.data[i]);
      expect(g, lo == 0.f && (hi == 1.f || hi == 0.f), "class %d, layer %d: cam spans [%g, %g]; expected [0, 1] (or "
             "all 0)", c, layer, lo, hi);
      nonzero += hi == 1.f;
    }
  expect(g, nn_grade_public(g) ? 2 * nonzero >= 4 * D : nonzero >= 1, "only %d of %d maps had any positive evidence",
         nonzero, 4 * D);
  nn_tensor_free(&x), nn_tensor_free(&cam), nn_model_free(m);
}

Test(gradcam, a_layer_out_of_range_aborts, .signal = SIGABRT) {
  nn_model *m = small_cnn(1);
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, 6, 6}, 2), cam = nn_tensor_new(2, (int[]){6, 6}, NN_CPU);
  nn_gradcam(m, &x, 0, 9, &cam); /* small has layers 0..5 */
}

Test(gradcam, a_layer_without_feature_maps_aborts, .signal = SIGABRT) {
  nn_model *m = small_cnn(1);
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, 6, 6}, 2), cam = nn_tensor_new(2, (int[]){6, 6}, NN_CPU);
  nn_gradcam(m, &x, 0, 4, &cam); /* flatten gives (N, 8) */
}

Test(gradcam, a_class_out_of_range_aborts, .signal = SIGABRT) {
  nn_model *m = small_cnn(1);
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, 6, 6}, 2), cam = nn_tensor_new(2, (int[]){6, 6}, NN_CPU);
  nn_gradcam(m, &x, 4, 3, &cam); /* 4 logits: classes 0..3 */
}

Test(colormap, jet_by_hand) {
  /* clamp(1.5 - |4t - k|) with k = 3, 2, 1 for r, g, b:
   *   t = 0:    (1.5-3, 1.5-2, 1.5-1) -> (0, 0, 0.5)   dark blue
   *   t = 0.25: (1.5-2, 1.5-1, 1.5-0) -> (0, 0.5, 1)
   *   t = 0.5:  (1.5-1, 1.5-0, 1.5-1) -> (0.5, 1, 0.5)
   *   t = 1:    (1.5-1, 1.5-2, 1.5-3) -> (0.5, 0, 0)   dark red */
  const float t[4] = {0, 0.25f, 0.5f, 1}, want[4][3] = {{0, 0, .5f}, {0, .5f, 1}, {.5f, 1, .5f}, {.5f, 0, 0}};
  for (int i = 0; i < 4; i++) {
    float rgb[3];
    nn_colormap_jet(t[i], rgb);
    for (int ch = 0; ch < 3; ch++)
      cr_assert_float_eq(rgb[ch], want[i][ch], 1e-6f, "jet(%g)[%d] = %g, expected %g", t[i], ch, rgb[ch], want[i][ch]);
  }
}

Test(colormap, overlay_by_hand) {
  /* A gray 1x2 image (0.2, 0.8), cam (1, 0), opacity 0.5: 0.5 * gray + 0.5 * jet(cam):
   *   pixel 0: 0.5 * 0.2 + 0.5 * (0.5, 0, 0) = (0.35, 0.1, 0.1);  pixel 1: 0.5 * 0.8 + 0.5 * (0, 0, 0.5) = (0.4, 0.4, 0.65) */
  nn_tensor img = nn_tensor_from(4, (int[]){1, 1, 1, 2}, (float[]){0.2f, 0.8f});
  nn_tensor cam = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 0}), rgb = nn_tensor_new(3, (int[]){3, 1, 2}, NN_CPU);
  nn_gradcam_overlay(&img, &cam, 0.5f, &rgb);
  const float want[6] = {0.35f, 0.4f, 0.1f, 0.4f, 0.1f, 0.65f}; /* (3, 1, 2): R plane, G plane, B plane */
  for (int i = 0; i < 6; i++) cr_assert_float_eq(rgb.data[i], want[i], 1e-6f, "rgb[%d] = %g, expected %g", i, rgb.data[i], want[i]);
  nn_tensor_free(&img), nn_tensor_free(&cam), nn_tensor_free(&rgb);
}
