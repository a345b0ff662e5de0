/* nn_se.c: squeeze-and-excitation, forward and backward, on the CPU. The excitation MLP
 * is two nn_dense layers and two nn_activations; this file adds the squeeze (a mean per
 * channel), the scale (a product per channel) and their backwards. */
#include "nn_se.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_activation.h"

/* x, y, dy, dx: (N, C, H, W) on the CPU; what is the tensor's name in messages. */
static void check_image(const char *fn, const nn_se *se, const char *what, const nn_tensor *t) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  NN_REQUIRE(t->device == NN_CPU, "%s: %s is on the GPU; SqueezeExcite runs on the CPU only so far (chapter 03)",
             fn, what);
  NN_REQUIRE(se->fc1->W.device == NN_CPU && se->fc2->W.device == NN_CPU, "%s: %s's weights are on the GPU "
             "(nn_layer_to); SqueezeExcite runs on the CPU only so far (chapter 03)", fn, se->base.name);
  NN_REQUIRE(t->ndim == 4 && t->shape[1] == se->C, "%s: %s: SqueezeExcite(%d, hidden %d) takes (N, %d, H, W), "
             "but %s is %s", fn, se->base.name, se->C, se->hidden, se->C, what, nn_shape_str(t).s);
}

/* Room in scratch for N rows of the ten intermediates; grown, never shrunk. Every view
 * is then set to N rows. */
static void use_batch(nn_se *se, int N) {
  nn_tensor *wide[] = {&se->s, &se->a2, &se->e, &se->de, &se->da2, &se->ds}; /* (N, C) */
  nn_tensor *narrow[] = {&se->a1, &se->z, &se->dz, &se->da1};                /* (N, hidden) */
  const int n_wide = 6, n_narrow = 4;
  if (N > se->batch_cap) {
    free(se->scratch);
    size_t floats = (size_t)N * ((size_t)n_wide * se->C + (size_t)n_narrow * se->hidden);
    se->scratch = nn_xmalloc(floats * sizeof(float), "nn_se intermediates");
    se->batch_cap = N;
  }
  float *p = se->scratch;
  for (int k = 0; k < n_wide; k++, p += (long)N * se->C)
    *wide[k] = (nn_tensor){.data = p, .shape = {N, se->C}, .ndim = 2, .device = NN_CPU};
  for (int k = 0; k < n_narrow; k++, p += (long)N * se->hidden)
    *narrow[k] = (nn_tensor){.data = p, .shape = {N, se->hidden}, .ndim = 2, .device = NN_CPU};
}

void nn_se_forward(nn_se *se, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(se, "nn_se_forward: the layer is NULL");
  check_image("nn_se_forward", se, "x", x);
  check_image("nn_se_forward", se, "y", y);
  NN_REQUIRE(nn_same_shape(x, y), "nn_se_forward: x is %s but y is %s; SqueezeExcite keeps the shape",
             nn_shape_str(x).s, nn_shape_str(y).s);
  const int N = x->shape[0], C = se->C;
  const long HW = (long)x->shape[2] * x->shape[3];
  se->x = x;
  use_batch(se, N);
  for (long nc = 0; nc < (long)N * C; nc++) { /* squeeze: s[n][c] = the mean of plane (n, c) */
    const float *plane = x->data + nc * HW;
    double sum = 0;
    for (long q = 0; q < HW; q++) sum += plane[q];
    se->s.data[nc] = (float)(sum / (double)HW);
  }
  const nn_activation relu = nn_activation_of(NN_ACT_RELU), sigmoid = nn_activation_of(NN_ACT_SIGMOID);
  nn_dense_forward(se->fc1, &se->s, &se->a1); /* excite: e = sigmoid(W2 relu(W1 s + b1) + b2) */
  nn_activation_forward(&relu, &se->a1, &se->z);
  nn_dense_forward(se->fc2, &se->z, &se->a2);
  nn_activation_forward(&sigmoid, &se->a2, &se->e);
  for (long nc = 0; nc < (long)N * C; nc++) { /* scale: plane (n, c) times e[n][c] */
    const float *x_plane = x->data + nc * HW;
    float *y_plane = y->data + nc * HW;
    for (long q = 0; q < HW; q++) y_plane[q] = x_plane[q] * se->e.data[nc];
  }
}

void nn_se_backward(nn_se *se, const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(se, "nn_se_backward: the layer is NULL");
  NN_REQUIRE(se->x, "nn_se_backward: %s has no forward pass to go back through", se->base.name);
  check_image("nn_se_backward", se, "dy", dy);
  NN_REQUIRE(nn_same_shape(dy, se->x), "nn_se_backward: dy is %s but the forward input x was %s",
             nn_shape_str(dy).s, nn_shape_str(se->x).s);
  if (dx) {
    check_image("nn_se_backward", se, "dx", dx);
    NN_REQUIRE(nn_same_shape(dx, se->x), "nn_se_backward: dx is %s but the forward input x was %s",
               nn_shape_str(dx).s, nn_shape_str(se->x).s);
  }
  const nn_tensor *x = se->x;
  const int N = x->shape[0], C = se->C;
  const long HW = (long)x->shape[2] * x->shape[3];
  for (long nc = 0; nc < (long)N * C; nc++) { /* de[n][c] = sum over the plane of dy * x */
    const float *dy_plane = dy->data + nc * HW, *x_plane = x->data + nc * HW;
    double sum = 0;
    for (long q = 0; q < HW; q++) sum += (double)dy_plane[q] * x_plane[q];
    se->de.data[nc] = (float)sum;
  }
  /* the excitation MLP backwards, each step adding into a zeroed gradient */
  const nn_activation relu = nn_activation_of(NN_ACT_RELU), sigmoid = nn_activation_of(NN_ACT_SIGMOID);
  nn_tensor_fill(&se->da2, 0.f), nn_tensor_fill(&se->dz, 0.f);
  nn_tensor_fill(&se->da1, 0.f), nn_tensor_fill(&se->ds, 0.f);
  nn_activation_backward(&sigmoid, &se->a2, &se->e, &se->de, &se->da2); /* da2 = de * e (1 - e) */
  nn_dense_backward(se->fc2, &se->da2, &se->dz);                       /* dW2, db2; dz = da2 W2 */
  nn_activation_backward(&relu, &se->a1, &se->z, &se->dz, &se->da1);   /* da1 = dz [a1 > 0] */
  nn_dense_backward(se->fc1, &se->da1, &se->ds);                       /* dW1, db1; ds = da1 W1 */
  if (!dx) return;
  for (long nc = 0; nc < (long)N * C; nc++) { /* dx += dy * e + ds / (H W): the scale, then the mean */
    const float *dy_plane = dy->data + nc * HW;
    float *dx_plane = dx->data + nc * HW;
    const float gate = se->e.data[nc], through_mean = se->ds.data[nc] / (float)HW;
    for (long q = 0; q < HW; q++) dx_plane[q] += dy_plane[q] * gate + through_mean;
  }
}

/* ---- the layer's ops table */

static void forward_op(nn_layer *l, const nn_tensor *x, nn_tensor *y, bool training) {
  (void)training; /* the same in training and evaluation */
  nn_se_forward((nn_se *)l, x, y);
}

static void backward_op(nn_layer *l, const nn_tensor *dy, nn_tensor *dx) {
  nn_se_backward((nn_se *)l, dy, dx);
}

/* fc1's (W, b), then fc2's: "se1.fc1.W", "se1.fc1.b", "se1.fc2.W", "se1.fc2.b". */
static int params_op(nn_layer *l, nn_param *out, int max) {
  nn_se *se = (nn_se *)l;
  NN_REQUIRE(max >= 4, "nn_se params: room for %d params, %s has 4", max, se->base.name);
  int n = se->fc1->base.ops->params(&se->fc1->base, out, max);
  return n + se->fc2->base.ops->params(&se->fc2->base, out + n, max - n);
}

/* One example's shape with N in front: "(N, 64, 7, 7)". */
static nn_shape_text batch_shape(const int *in, int ndim) {
  nn_shape_text s;
  size_t n = (size_t)snprintf(s.s, sizeof s.s, "(N");
  for (int i = 0; i < ndim && n < sizeof s.s; i++) n += (size_t)snprintf(s.s + n, sizeof s.s - n, ", %d", in[i]);
  if (n < sizeof s.s) snprintf(s.s + n, sizeof s.s - n, ")");
  return s;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_se *se = (const nn_se *)l;
  NN_REQUIRE(in_ndim == 3 && in[0] == se->C, "%s: SqueezeExcite(%d, hidden %d) takes (N, %d, H, W) inputs, got %s",
             l->name, se->C, se->hidden, se->C, batch_shape(in, in_ndim).s);
  memcpy(out, in, 3 * sizeof *out);
  return 3;
}

static void free_op(nn_layer *l) {
  nn_se *se = (nn_se *)l;
  se->fc1->base.ops->free(&se->fc1->base);
  se->fc2->base.ops->free(&se->fc2->base);
  free(se->scratch);
  free(se);
}

static const nn_layer_ops SE_OPS = {"SqueezeExcite", forward_op, backward_op, params_op, out_shape_op, free_op,
                                    NULL};

nn_se *nn_se_new(const char *name, const nn_se_config *cfg, nn_rng *rng) {
  NN_REQUIRE(cfg && rng, "nn_se_new: a config and an rng are needed");
  const char *nm = name ? name : "se";
  int r = cfg->reduction ? cfg->reduction : 16;
  NN_REQUIRE(cfg->channels >= 1 && r >= 1, "nn_se_new: %s: channels %d and reduction %d must be at least 1 "
             "(reduction 0 means 16)", nm, cfg->channels, cfg->reduction);
  NN_REQUIRE(strlen(nm) <= 27, "nn_se_new: the name \"%s\" is %zu characters; at most 27, so that \"%s.fc1\" "
             "fits a layer name", nm, strlen(nm), nm);
  nn_se *se = nn_xcalloc(1, sizeof *se, "nn_se");
  se->base.ops = &SE_OPS;
  snprintf(se->base.name, sizeof se->base.name, "%s", nm);
  se->C = cfg->channels;
  se->hidden = se->C / r >= 1 ? se->C / r : 1;
  char fc_name[40];
  snprintf(fc_name, sizeof fc_name, "%s.fc1", nm);
  se->fc1 = nn_dense_new(fc_name, se->C, se->hidden, NN_INIT_HE, rng);
  snprintf(fc_name, sizeof fc_name, "%s.fc2", nm);
  se->fc2 = nn_dense_new(fc_name, se->hidden, se->C, NN_INIT_XAVIER, rng);
  return se;
}
