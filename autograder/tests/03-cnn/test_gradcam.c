/* Grad-CAM: the map by hand on a conv -> global average pool -> dense model (where
 * alpha_k = V[c][k] / (h w)), nn_model_backward_from against finite differences,
 * the bilinear resize by hand (values from PyTorch), the [0, 1] range, the jet
 * colormap and the overlay by hand, and the aborts on a layer that has no feature maps. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_flatten.h"
#include "nn_gradcam.h"
#include "nn_model.h"
#include "nn_pool.h"

/* Conv2d(1 -> 2, 1x1, W = [1, -1], b = 0) -> GlobalAvgPool -> Dense(2 -> 2, V = [[2, 1], [-1, 3]], b = 0),
 * on (1, 2, 2) images: A_0 = x, A_1 = -x. */
static nn_model *cam_net(void) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("cam", 3, (int[]){1, 2, 2});
  nn_conv2d *c = nn_conv2d_new("conv", &(nn_conv2d_config){.in_channels = 1, .filters = 2, .kernel = 1}, &rng);
  memcpy(c->W.data, (float[]){1, -1}, 2 * sizeof(float));
  nn_tensor_fill(&c->b, 0.f);
  nn_dense *d = nn_dense_new("dense", 2, 2, NN_INIT_XAVIER, &rng);
  memcpy(d->W.data, (float[]){2, 1, -1, 3}, 4 * sizeof(float)); /* W: (out, in), row c is V[c] */
  nn_tensor_fill(&d->b, 0.f);
  nn_model_add(m, &c->base);
  nn_model_add(m, nn_global_avgpool2d_new("gap"));
  nn_model_add(m, &d->base);
  return m;
}

Test(gradcam, the_cam_of_conv_gap_dense_by_hand) {
  /* x = [[1, 2], [3, 4]]: A_0 = x, A_1 = -x, their means 2.5 and -2.5,
   * z_0 = 2 * 2.5 + 1 * (-2.5) = 2.5. d z_0 / d A_k[i][j] = V[0][k] / (h w) = V[0][k] / 4 everywhere:
   * alpha = (2/4, 1/4) = (0.5, 0.25); cam = relu(0.5 x - 0.25 x) = 0.25 x = [[0.25, 0.5], [0.75, 1]].
   * The input is 2x2 like the maps, so the resize changes nothing, and (cam - 0.25) / 0.75 = [[0, 1/3], [2/3, 1]]. */
  nn_model *m = cam_net();
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  nn_tensor dz = nn_tensor_from(2, (int[]){1, 2}, (float[]){1, 0});
  nn_model_backward_from(m, &x, &dz, 1);
  for (int i = 0; i < 8; i++) {
    float want = i < 4 ? 0.5f : 0.25f;
    cr_assert_float_eq(m->grads[1].data[i], want, 1e-6f, "d z_0 / d A[%d] = %g, expected V[0][%d] / 4 = %g", i,
                       m->grads[1].data[i], i / 4, want);
  }
  nn_tensor small = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  nn_gradcam_map(&m->acts[1], &m->grads[1], &small);
  const float raw[4] = {0.25f, 0.5f, 0.75f, 1.f};
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(small.data[i], raw[i], 1e-6f, "cam[%d] = %g before scaling, expected 0.25 x = %g", i,
                       small.data[i], raw[i]);

  nn_tensor cam = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  float z = nn_gradcam(m, &x, 0, 0, &cam);
  cr_assert_float_eq(z, 2.5f, 1e-6f, "nn_gradcam returned z_0 = %g, expected 2.5", z);
  const float scaled[4] = {0.f, 1.f / 3, 2.f / 3, 1.f};
  for (int i = 0; i < 4; i++)
    cr_assert_float_eq(cam.data[i], scaled[i], 1e-6f, "cam[%d] = %g, expected %g", i, cam.data[i], scaled[i]);
  nn_tensor_free(&x), nn_tensor_free(&dz), nn_tensor_free(&small), nn_tensor_free(&cam), nn_model_free(m);
}

Test(gradcam, no_evidence_for_a_class_gives_an_all_zero_map) {
  /* Class 1: alpha = (V[1][0], V[1][1]) / 4 = (-0.25, 0.75); sum_k alpha_k A_k = -0.25 x - 0.75 x = -x < 0
   * everywhere (x > 0), so relu leaves 0 and the map stays 0 (max == min). z_1 = -2.5 - 7.5 = -10. */
  nn_model *m = cam_net();
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  nn_tensor cam = nn_tensor_new(2, (int[]){2, 2}, NN_CPU);
  nn_tensor_fill(&cam, 7.f);
  float z = nn_gradcam(m, &x, 1, 0, &cam);
  cr_assert_float_eq(z, -10.f, 1e-5f, "z_1 = %g, expected -10", z);
  for (int i = 0; i < 4; i++) cr_assert_eq(cam.data[i], 0.f, "cam[%d] = %g, expected 0", i, cam.data[i]);
  nn_tensor_free(&x), nn_tensor_free(&cam), nn_model_free(m);
}

/* A small random CNN on (1, 6, 6): conv(1 -> 3, 3x3) relu maxpool(2) conv(3 -> 2, 2x2) flatten dense(8 -> 4). */
static nn_model *small_cnn(uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new("small", 3, (int[]){1, 6, 6});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 3, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = 3, .filters = 2, .kernel = 1}, &rng)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new("dense", 8, 4, NN_INIT_XAVIER, &rng)->base);
  return m;
}

/* sum(dout * z) for z = layers[from..] applied to a (the output of layers[from - 1]), in double. */
static double projected_output(nn_model *m, int from, const nn_tensor *a, const nn_tensor *dout) {
  nn_tensor cur = nn_tensor_to(a, NN_CPU);
  for (int i = from; i < m->count; i++) {
    int shape[NN_MAX_DIMS] = {cur.shape[0]};
    int nd = m->layers[i]->ops->out_shape(m->layers[i], cur.shape + 1, cur.ndim - 1, shape + 1);
    nn_tensor next = nn_tensor_new(nd + 1, shape, NN_CPU);
    m->layers[i]->ops->forward(m->layers[i], &cur, &next, false);
    nn_tensor_free(&cur);
    cur = next;
  }
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

Test(gradcam, the_cam_of_a_cnn_spans_0_to_1_at_the_input_size) {
  nn_model *m = small_cnn(11);
  nn_tensor x = nn_tensor_randn(4, (int[]){1, 1, 6, 6}, 12), cam = nn_tensor_new(2, (int[]){6, 6}, NN_CPU);
  int nonzero = 0;
  for (int c = 0; c < 4; c++)
    for (int layer = 0; layer <= 3; layer++) { /* conv1, relu1, pool1 and conv2 all give feature maps */
      nn_gradcam(m, &x, c, layer, &cam);
      float lo = INFINITY, hi = -INFINITY;
      for (int i = 0; i < 36; i++) lo = fminf(lo, cam.data[i]), hi = fmaxf(hi, cam.data[i]);
      cr_assert(lo == 0.f && (hi == 1.f || hi == 0.f), "class %d, layer %d: cam spans [%g, %g]; expected [0, 1] (or all 0)",
                c, layer, lo, hi);
      nonzero += hi == 1.f;
    }
  cr_assert(nonzero >= 8, "only %d of 16 maps had any positive evidence", nonzero);
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
