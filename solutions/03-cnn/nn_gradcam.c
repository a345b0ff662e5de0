/* nn_gradcam.c: Grad-CAM from one backward pass, a bilinear resize, the jet colormap. */
#include "nn_gradcam.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the map */

/* cam (hw) = relu(sum_k alpha_k A_k), alpha_k = mean of dA_k; A, dA: K maps of hw cells. */
static void weighted_maps(const float *A, const float *dA, int K, int hw, float *cam) {
  /* BEGIN SOLUTION */
  /* HINT: Grad-CAM weighs each of the K feature maps A_k by alpha_k, the mean over its hw cells of the gradient dA_k (how much the class score rises, on average, as map k rises), adds up the weighted maps, and keeps only the positive evidence: cam = max(0, sum_k alpha_k A_k), an (h, w) map. cam is written, not added to: what must it hold before the sum starts? */
  /* HINT2: start from cam = 0 (the map is overwritten, not added to); for each map k: alpha_k = (sum of dA_k's hw cells) / hw, then cam[i] += alpha_k * A_k[i]; at the end cam[i] = max(cam[i], 0) */
  for (int i = 0; i < hw; i++) cam[i] = 0.f;
  for (int k = 0; k < K; k++) {
    const float *A_k = A + (long)k * hw, *dA_k = dA + (long)k * hw;
    double alpha_k = 0;
    for (int i = 0; i < hw; i++) alpha_k += dA_k[i];
    alpha_k /= hw;
    for (int i = 0; i < hw; i++) cam[i] += (float)alpha_k * A_k[i];
  }
  for (int i = 0; i < hw; i++) cam[i] = fmaxf(cam[i], 0.f);
  /* END SOLUTION */
}

void nn_gradcam_map(const nn_tensor *A, const nn_tensor *dA, nn_tensor *cam) {
  NN_REQUIRE(A->ndim == 4 && A->shape[0] == 1 && nn_same_shape(A, dA),
             "nn_gradcam_map: A is %s and dA is %s; both must be one image's feature maps (1, K, h, w)",
             nn_shape_str(A).s, nn_shape_str(dA).s);
  NN_REQUIRE(cam->ndim == 2 && cam->shape[0] == A->shape[2] && cam->shape[1] == A->shape[3],
             "nn_gradcam_map: cam is %s but A %s has maps of (%d, %d)", nn_shape_str(cam).s, nn_shape_str(A).s,
             A->shape[2], A->shape[3]);
  NN_REQUIRE(A->device == NN_CPU && dA->device == NN_CPU && cam->device == NN_CPU,
             "nn_gradcam_map: A, dA and cam must be CPU tensors");
  weighted_maps(A->data, dA->data, A->shape[1], A->shape[2] * A->shape[3], cam->data);
}

/* ---- resize and scale */

/* Where output index X of n_out falls in a source of n_in cells (align_corners = False):
 * between cells *lo and *hi, *frac of the way to hi. */
static void source_index(int X, int n_in, int n_out, int *lo, int *hi, float *frac) {
  float s = ((float)X + 0.5f) * (float)n_in / (float)n_out - 0.5f;
  if (s < 0.f) s = 0.f; /* PyTorch clamps the left edge; the right edge repeats the last cell */
  *lo = (int)s;
  *hi = *lo + 1 < n_in ? *lo + 1 : n_in - 1;
  *frac = s - (float)*lo;
}

void nn_gradcam_resize(const nn_tensor *src, nn_tensor *dst) {
  NN_REQUIRE(src->ndim == 2 && dst->ndim == 2 && src->device == NN_CPU && dst->device == NN_CPU,
             "nn_gradcam_resize: src is %s and dst is %s; both must be 2-D CPU tensors (h, w) -> (H, W)",
             nn_shape_str(src).s, nn_shape_str(dst).s);
  int h = src->shape[0], w = src->shape[1], H = dst->shape[0], W = dst->shape[1];
  for (int Y = 0; Y < H; Y++) {
    int y0, y1, x0, x1;
    float fy, fx;
    source_index(Y, h, H, &y0, &y1, &fy);
    for (int X = 0; X < W; X++) {
      source_index(X, w, W, &x0, &x1, &fx);
      const float *r0 = src->data + (long)y0 * w, *r1 = src->data + (long)y1 * w;
      float top = (1 - fx) * r0[x0] + fx * r0[x1], bottom = (1 - fx) * r1[x0] + fx * r1[x1];
      dst->data[(long)Y * W + X] = (1 - fy) * top + fy * bottom;
    }
  }
}

void nn_gradcam_normalize(nn_tensor *cam) {
  long n = nn_numel(cam);
  float lo = INFINITY, hi = -INFINITY;
  for (long i = 0; i < n; i++) lo = fminf(lo, cam->data[i]), hi = fmaxf(hi, cam->data[i]);
  for (long i = 0; i < n; i++) cam->data[i] = hi > lo ? (cam->data[i] - lo) / (hi - lo) : 0.f;
}

/* ---- the whole of it, on a model */

/* The output shape (without N) of m->layers[0..layer]; returns its ndim. */
static int output_shape_of(const nn_model *m, int layer, int *shape) {
  int ndim = m->in_ndim, next[NN_MAX_DIMS];
  memcpy(shape, m->in_shape, sizeof(int) * (size_t)ndim);
  for (int i = 0; i <= layer; i++) {
    ndim = m->layers[i]->ops->out_shape(m->layers[i], shape, ndim, next);
    memcpy(shape, next, sizeof(int) * (size_t)ndim);
  }
  return ndim;
}

/* "conv1 (Conv2d) 0, relu1 (Activation) 1, ...": the layers whose output is a feature map. */
static void feature_layers_text(const nn_model *m, char *buf, size_t size) {
  int shape[NN_MAX_DIMS];
  size_t len = 0;
  buf[0] = '\0';
  for (int i = 0; i + 1 < m->count && len < size; i++)
    if (output_shape_of(m, i, shape) == 3)
      len += (size_t)snprintf(buf + len, size - len, "%s%d (%s)", len ? ", " : "", i, m->layers[i]->name);
  if (len == 0) snprintf(buf, size, "none: the model has no layer giving (N, K, h, w) before its last");
}

float nn_gradcam(nn_model *m, const nn_tensor *x, int class_index, int layer, nn_tensor *cam) {
  char qualify[512];
  feature_layers_text(m, qualify, sizeof qualify);
  NN_REQUIRE(layer >= 0 && layer + 1 < m->count,
             "nn_gradcam: layer %d is not a feature layer of %s (layers 0..%d, the last gives the logits); "
             "the layers giving feature maps are %s",
             layer, m->name, m->count - 1, qualify);
  int A_shape[NN_MAX_DIMS], out[NN_MAX_DIMS];
  NN_REQUIRE(output_shape_of(m, layer, A_shape) == 3,
             "nn_gradcam: layer %d (%s, %s) gives no feature maps (N, K, h, w); the layers giving feature maps are %s",
             layer, m->layers[layer]->name, m->layers[layer]->ops->kind, qualify);
  NN_REQUIRE(m->device == NN_CPU, "nn_gradcam: %s is on the GPU; move it with nn_model_to(m, NN_CPU)", m->name);
  NN_REQUIRE(x->ndim == 4 && x->shape[0] == 1 && cam->ndim == 2 && cam->shape[0] == x->shape[2] &&
                 cam->shape[1] == x->shape[3],
             "nn_gradcam: x is %s and cam %s; x must be one image (1, C, H, W) and cam (H, W)", nn_shape_str(x).s,
             nn_shape_str(cam).s);
  int D = output_shape_of(m, m->count - 1, out) == 1 ? out[0] : 0;
  NN_REQUIRE(class_index >= 0 && class_index < D, "nn_gradcam: class %d is out of range: %s gives %d logits (classes 0..%d)", class_index,
             m->name, D, D - 1);

  nn_tensor dz = nn_tensor_new(2, (int[]){1, D}, NN_CPU); /* dz = one-hot(c): the backward gives d z_c / d ... */
  nn_tensor_fill(&dz, 0.f);
  dz.data[class_index] = 1.f;
  nn_model_backward_from(m, x, &dz, layer + 1); /* only the layers after A: grads[layer + 1] = d z_c / d A */
  float z_c = m->acts[m->count].data[class_index];

  nn_tensor small = nn_tensor_new(2, (int[]){A_shape[1], A_shape[2]}, NN_CPU);
  nn_gradcam_map(&m->acts[layer + 1], &m->grads[layer + 1], &small);
  nn_gradcam_resize(&small, cam);
  nn_gradcam_normalize(cam);
  nn_tensor_free(&small), nn_tensor_free(&dz);
  return z_c;
}

/* ---- showing it */

static float clamp01(float v) { return v < 0.f ? 0.f : v > 1.f ? 1.f : v; }

void nn_colormap_jet(float t, float rgb[3]) {
  t = clamp01(t);
  for (int ch = 0; ch < 3; ch++) rgb[ch] = clamp01(1.5f - fabsf(4.f * t - (float)(3 - ch)));
}

void nn_gradcam_overlay(const nn_tensor *image, const nn_tensor *cam, float opacity, nn_tensor *rgb) {
  int lead = image->ndim == 4 ? 1 : 0; /* (1, C, H, W) or (C, H, W) */
  bool ok = (image->ndim == 3 || (image->ndim == 4 && image->shape[0] == 1)) && cam->ndim == 2;
  int C = ok ? image->shape[lead] : 0, H = cam->shape[0], W = cam->shape[1];
  ok = ok && (C == 1 || C == 3) && image->shape[lead + 1] == H && image->shape[lead + 2] == W;
  ok = ok && rgb->ndim >= 3 && rgb->shape[rgb->ndim - 3] == 3 && nn_numel(rgb) == 3L * H * W;
  NN_REQUIRE(ok && image->device == NN_CPU && cam->device == NN_CPU && rgb->device == NN_CPU,
             "nn_gradcam_overlay: image %s, cam %s, rgb %s; want image (1 or 3, H, W), cam (H, W), rgb (3, H, W), "
             "all on the CPU",
             nn_shape_str(image).s, nn_shape_str(cam).s, nn_shape_str(rgb).s);
  NN_REQUIRE(opacity >= 0.f && opacity <= 1.f, "nn_gradcam_overlay: opacity %g is outside [0, 1]", opacity);
  long plane = (long)H * W;
  for (long p = 0; p < plane; p++) {
    float heat[3];
    nn_colormap_jet(cam->data[p], heat);
    for (int ch = 0; ch < 3; ch++) {
      float base = image->data[(C == 3 ? ch : 0) * plane + p];
      rgb->data[ch * plane + p] = (1.f - opacity) * base + opacity * heat[ch];
    }
  }
}
