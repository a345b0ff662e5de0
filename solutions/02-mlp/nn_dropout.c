/* nn_dropout.c: keep with probability 1 - p, scale by 1 / (1 - p); backward recomputes the
 * mask from (seed, step, i) (nn_philox.h), on the CPU here and in nn_dropout.cu on the GPU. */
#include "nn_dropout.h"

#include <stdio.h>
#include <stdlib.h>

#include "nn_mlp_cuda.h"
#include "nn_philox.h"

/* a and b (named an, bn) have one shape and are on one device */
static void check_same(const char *fn, const char *an, const nn_tensor *a, const char *bn, const nn_tensor *b) {
  NN_REQUIRE(nn_same_shape(a, b), "%s: %s is %s and %s is %s; they must have the same shape", fn, an,
             nn_shape_str(a).s, bn, nn_shape_str(b).s);
  NN_REQUIRE(a->device == b->device, "%s: %s is on the %s but %s on the %s; move one (nn_tensor_to)", fn, an,
             nn_device_name(a->device), bn, nn_device_name(b->device));
}

/* out[i] (+)= in[i] * m_i / (1 - p), m_i = [u(seed, step, i) >= p]: the CPU twin of
 * nn_dropout.cu's kernel, the same bits. */
static void apply_mask(uint64_t seed, uint64_t step, float p, float keep_scale, const float *in, float *out, long n,
                       bool accumulate) {
  for (long i = 0; i < n; i++) {
    /* BEGIN SOLUTION */
    /* HINT: inverted dropout: element i is dropped (0) with probability p and a kept one is scaled by keep_scale = 1 / (1 - p), so its expected value is the input's and evaluation needs no rescaling. The mask is not stored: it is a pure function of (seed, step, i), nn_philox.h's uniform number u_i in [0, 1), kept when u_i >= p; backward calls this with the same step to get the same mask, and the GPU kernel (and the grader) compute the very same u_i. accumulate says: add into out (backward) or overwrite it (forward) */
    /* HINT2: the mask value is keep_scale when nn_philox_uniform(seed, step, (uint64_t)i) >= p, else 0; kept = in[i] times it, in a statement of its own (so no compiler fuses it with the add into one FMA, which would round differently from the GPU); out[i] becomes out[i] + kept when accumulate, else kept */
    float m = nn_philox_uniform(seed, step, (uint64_t)i) >= p ? keep_scale : 0.f;
    float kept = in[i] * m;
    out[i] = accumulate ? out[i] + kept : kept;
    /* END SOLUTION */
  }
}

/* out (+)= in * m / (1 - p) on the device both are on */
static void dropout_apply(const nn_dropout *d, uint64_t step, const nn_tensor *in, nn_tensor *out, bool accumulate) {
  long n = nn_numel(in);
  float keep_scale = 1.f / (1.f - d->p); /* computed here once, for both devices */
  switch (in->device) {
  case NN_CPU: apply_mask(d->seed, step, d->p, keep_scale, in->data, out->data, n, accumulate); break;
  case NN_GPU: nn_dropout_apply_cuda(d->seed, step, d->p, keep_scale, in->data, out->data, n, accumulate); break;
  }
}

/* What a training call keeps: the step its mask was drawn for. */
typedef struct {
  uint64_t step;
} dropout_saved;

void nn_dropout_forward(nn_dropout *d, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_call_begin(c, &d->base, "nn_dropout_forward", x, y);
  check_same("nn_dropout_forward", "x", x, "y", y);
  if (!c->training || d->p == 0.f) { /* the identity */
    if (y->data != x->data) nn_tensor_copy(y, x);
    return;
  }
  dropout_saved *s = nn_arena_record(nn_call_arena(c, "nn_dropout_forward", "its mask's step"), sizeof *s);
  s->step = d->step++; /* the next training call draws a new mask */
  c->saved = s;
  dropout_apply(d, s->step, x, y, false);
}

void nn_dropout_backward(nn_dropout *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_call_require_forward(c, "nn_dropout_backward", &d->base);
  check_same("nn_dropout_backward", "dy", dy, "x", c->x); /* the mask has one element per element of x */
  if (!dx) return;
  check_same("nn_dropout_backward", "dy", dy, "dx", dx);
  const dropout_saved *s = c->saved;
  if (!s) { /* eval, or p = 0: the identity */
    nn_add_into(dx, dy);
    return;
  }
  dropout_apply(d, s->step, dy, dx, true); /* the forward's (seed, step): its mask */
}

/* ---- the layer's ops table */

static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_dropout_forward((nn_dropout *)l, c, x, y);
}
static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_dropout_backward((nn_dropout *)l, c, dy, dx);
}
static int params_op(nn_layer *l, nn_param *out, int max) {
  (void)l, (void)out, (void)max;
  return 0; /* nothing to learn */
}
static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  (void)l;
  for (int i = 0; i < in_ndim; i++) out[i] = in[i];
  return in_ndim;
}
static void free_op(nn_layer *l) { free(l); }

static const nn_layer_ops DROPOUT_OPS = {.kind = "Dropout", .forward = forward_op, .backward = backward_op,
                                         .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_dropout *nn_dropout_new(const char *name, float p, uint64_t seed) {
  NN_REQUIRE(p >= 0.f && p < 1.f, "nn_dropout_new: p = %g; the drop probability must be in [0, 1)", p);
  nn_dropout *d = nn_xcalloc(1, sizeof *d, "nn_dropout");
  d->base.ops = &DROPOUT_OPS;
  nn_layer_name(&d->base, "nn_dropout_new", name, "dropout");
  d->p = p;
  d->seed = seed; /* d->step = 0: the first training call is t = 0 */
  return d;
}
