/* nn_layer.c: what all layers share. */
#include "nn_layer.h"

#include <stdio.h>
#include <string.h>

#include "nn_mlp_cuda.h"

void nn_layer_name(nn_layer *l, const char *fn, const char *name, const char *fallback) {
  const char *chosen = name ? name : fallback;
  NN_REQUIRE(chosen && strlen(chosen) < sizeof l->name, "%s: the layer name \"%s\" is %zu characters; at most %zu "
             "(it names the layer's tensors in checkpoints)", fn, chosen ? chosen : "(null)",
             chosen ? strlen(chosen) : 0, sizeof l->name - 1);
  snprintf(l->name, sizeof l->name, "%s", chosen);
}

static long count_values(const nn_param *p, int count) {
  long total = 0;
  for (int i = 0; i < count; i++) total += nn_numel(p[i].value);
  return total;
}

long nn_layer_param_count(nn_layer *l) {
  nn_param p[NN_MAX_LAYER_PARAMS];
  return count_values(p, l->ops->params(l, p, NN_MAX_LAYER_PARAMS));
}

int nn_layer_buffers(nn_layer *l, nn_param *out, int max) {
  return l->ops->buffers ? l->ops->buffers(l, out, max) : 0;
}

long nn_layer_buffer_count(nn_layer *l) {
  nn_param p[NN_MAX_LAYER_PARAMS];
  return count_values(p, nn_layer_buffers(l, p, NN_MAX_LAYER_PARAMS));
}

/* *t = a copy of it on `device`; the old one is freed */
static void move_tensor(nn_tensor *t, nn_device device) {
  if (t->device == device) return;
  nn_tensor moved = nn_tensor_to(t, device);
  nn_tensor_free(t);
  *t = moved;
}

void nn_layer_to(nn_layer *l, nn_device device) {
  NN_REQUIRE(l, "nn_layer_to: the layer is NULL");
  NN_REQUIRE(device == NN_CPU || device == NN_GPU, "nn_layer_to: device %d is neither NN_CPU nor NN_GPU",
             (int)device);
  nn_param p[NN_MAX_LAYER_PARAMS];
  int count = l->ops->params(l, p, NN_MAX_LAYER_PARAMS);
  for (int i = 0; i < count; i++) {
    move_tensor(p[i].value, device);
    move_tensor(p[i].grad, device);
  }
  count = nn_layer_buffers(l, p, NN_MAX_LAYER_PARAMS);
  for (int i = 0; i < count; i++) move_tensor(p[i].value, device);
}

void nn_add_into(nn_tensor *dst, const nn_tensor *src) {
  NN_REQUIRE(dst && src, "nn_add_into: dst or src is NULL");
  NN_REQUIRE(nn_numel(dst) == nn_numel(src), "nn_add_into: dst is %s but src is %s; they need the same "
             "number of elements", nn_shape_str(dst).s, nn_shape_str(src).s);
  NN_REQUIRE(dst->device == src->device, "nn_add_into: dst is on the %s but src on the %s",
             nn_device_name(dst->device), nn_device_name(src->device));
  long n = nn_numel(dst);
  switch (dst->device) {
  case NN_CPU:
    for (long i = 0; i < n; i++) dst->data[i] += src->data[i];
    break;
  case NN_GPU: nn_add_into_cuda(dst->data, src->data, n); break;
  }
}

void nn_call_begin(nn_call *c, const nn_layer *l, const char *fn, const nn_tensor *x, const nn_tensor *y) {
  NN_REQUIRE(c, "%s: %s: the call is NULL; make one as nn_call c = {.arena = ws, .training = ...}", fn,
             l ? l->name : "?");
  c->layer = l, c->x = x, c->y = y, c->saved = NULL;
  c->generation = c->arena ? nn_arena_generation(c->arena) : 0;
}

void nn_layer_require_device(const char *fn, const nn_layer *l, const char *what, const nn_tensor *t,
                             nn_device weights) {
  NN_REQUIRE(t->device == weights, "%s: %s is on the %s but %s's weights are on the %s; move the layer "
             "(nn_layer_to) or the tensor (nn_tensor_to)", fn, what, nn_device_name(t->device), l->name,
             nn_device_name(weights));
}

nn_arena *nn_call_arena(const nn_call *c, const char *fn, const char *what) {
  NN_REQUIRE(c && c->arena, "%s: the call has no arena for %s; make the call as "
             "nn_call c = {.arena = ws, .training = ...} with ws = nn_arena_new(device)", fn, what);
  return c->arena;
}

void nn_call_require_forward(const nn_call *c, const char *fn, const nn_layer *l) {
  NN_REQUIRE(c, "%s: the call is NULL", fn);
  NN_REQUIRE(c->x && c->layer, "%s: %s: this call has had no forward pass to go back through", fn, l->name);
  NN_REQUIRE(c->layer == l, "%s: %s: this call went through the forward of %s, not this layer's", fn, l->name,
             c->layer->name);
  NN_REQUIRE(!c->arena || nn_arena_generation(c->arena) == c->generation, "%s: %s: the call's arena was reset "
             "(nn_arena_reset) after its forward pass, so what the forward kept for backward is gone; reset once "
             "per step, before the forward", fn, l->name);
}
