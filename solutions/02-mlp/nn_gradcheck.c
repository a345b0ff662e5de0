/* nn_gradcheck.c: analytic gradients from backward, numeric ones from forward. */
#include "nn_gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_rng.h"

enum { MAX_PARAMS = NN_MAX_LAYER_PARAMS };

typedef struct {
  nn_layer *l;
  nn_tensor x, y, r; /* a private copy of the input, the output, the projection */
  bool training;     /* every forward in training mode (BatchNorm's batch statistics) or eval */
  nn_arena *arena;   /* each forward's scratch, reset before it */
} probe;

/* L = sum_i r_i y_i of a fresh forward pass, in double. */
static double loss(probe *p) {
  nn_arena_reset(p->arena);
  nn_call c = {.arena = p->arena, .training = p->training};
  p->l->ops->forward(p->l, &c, &p->x, &p->y);
  double L = 0;
  for (long i = 0; i < nn_numel(&p->y); i++) L += (double)p->r.data[i] * p->y.data[i];
  return L;
}

/* Compare grad[i] with the central difference of L in value->data[i], for every i. */
static void compare(probe *p, const char *name, nn_tensor *value, const float *grad, double h, nn_gradcheck *worst) {
  float *v = value->data;
  for (long i = 0; i < nn_numel(value); i++) {
    float saved = v[i];
    v[i] = saved + (float)h;
    double up = loss(p);
    v[i] = saved - (float)h;
    double down = loss(p);
    v[i] = saved;
    double numeric = (up - down) / (2 * h), analytic = grad[i];
    double scale = fmax(fmax(fabs(analytic), fabs(numeric)), 1e-2);
    double rel = fabs(analytic - numeric) / scale;
    worst->checked++;
    if (rel > worst->max_rel) {
      worst->max_rel = rel, worst->index = i, worst->analytic = analytic, worst->numeric = numeric;
      snprintf(worst->name, sizeof worst->name, "%s", name);
      worst->ndim = value->ndim;
      memcpy(worst->shape, value->shape, sizeof worst->shape);
    }
  }
}

/* The flat index unravelled, row-major: the last axis moves fastest. */
nn_gradcheck_text nn_gradcheck_where(const nn_gradcheck *r) {
  long at[NN_MAX_DIMS], rest = r->index;
  for (int d = r->ndim - 1; d >= 0; d--) at[d] = rest % r->shape[d], rest /= r->shape[d];
  nn_gradcheck_text t; /* a 63-byte name and 4 indices fit */
  int len = snprintf(t.s, sizeof t.s, "%s[", r->name);
  for (int d = 0; d < r->ndim; d++) len += snprintf(t.s + len, sizeof t.s - len, "%s%ld", d ? ", " : "", at[d]);
  snprintf(t.s + len, sizeof t.s - len, "]");
  return t;
}

nn_gradcheck nn_gradcheck_layer_with(nn_layer *l, const nn_tensor *x, double h, uint64_t seed, bool training,
                                     nn_gradcheck_hook hook, void *ctx) {
  NN_REQUIRE(l && x && h > 0, "nn_gradcheck_layer: NULL layer or x, or h <= 0");
  int out[NN_MAX_DIMS], shape[NN_MAX_DIMS];
  int out_ndim = l->ops->out_shape(l, x->shape + 1, x->ndim - 1, out);
  shape[0] = x->shape[0];
  memcpy(shape + 1, out, (size_t)out_ndim * sizeof(int));
  probe p = {.l = l, .x = nn_tensor_to(x, NN_CPU), .y = nn_tensor_new(out_ndim + 1, shape, NN_CPU),
             .r = nn_tensor_new(out_ndim + 1, shape, NN_CPU), .training = training, .arena = nn_arena_new(NN_CPU)};
  nn_rng rng = nn_rng_new(seed);
  nn_rng_fill_normal(&rng, p.r.data, nn_numel(&p.r), 0.f, 1.f);
  nn_tensor dx = nn_tensor_new(x->ndim, x->shape, NN_CPU);
  nn_param params[MAX_PARAMS];
  int count = l->ops->params(l, params, MAX_PARAMS);
  for (int k = 0; k < count; k++) nn_tensor_fill(params[k].grad, 0.f);

  nn_call c = {.arena = p.arena, .training = training};
  l->ops->forward(l, &c, &p.x, &p.y); /* analytic: backward of L = sum r y, so dy = r */
  l->ops->backward(l, &c, &p.r, &dx);
  if (hook) {
    hook(ctx, "x", dx.data, nn_numel(&dx));
    for (int k = 0; k < count; k++) hook(ctx, params[k].name, params[k].grad->data, nn_numel(params[k].grad));
  }
  nn_gradcheck worst = {.max_rel = 0};
  compare(&p, "x", &p.x, dx.data, h, &worst);
  for (int k = 0; k < count; k++) compare(&p, params[k].name, params[k].value, params[k].grad->data, h, &worst);
  nn_tensor_free(&p.x), nn_tensor_free(&p.y), nn_tensor_free(&p.r), nn_tensor_free(&dx);
  nn_arena_free(p.arena);
  return worst;
}

nn_gradcheck nn_gradcheck_layer(nn_layer *l, const nn_tensor *x, double h, uint64_t seed) {
  return nn_gradcheck_layer_with(l, x, h, seed, false, NULL, NULL);
}

nn_gradcheck nn_gradcheck_layer_training(nn_layer *l, const nn_tensor *x, double h, uint64_t seed) {
  return nn_gradcheck_layer_with(l, x, h, seed, true, NULL, NULL);
}
