/* nn_dropout.c: keep with probability 1 - p, scale by 1 / (1 - p), replay for backward. */
#include "nn_dropout.h"

#include <stdio.h>
#include <stdlib.h>

/* a and b (named an, bn) have one shape and are on the CPU: the mask is replayed
 * from an nn_rng, which has no GPU twin yet */
static void check_same(const char *fn, const char *an, const nn_tensor *a, const char *bn, const nn_tensor *b) {
  NN_REQUIRE(nn_same_shape(a, b), "%s: %s is %s and %s is %s; they must have the same shape", fn, an,
             nn_shape_str(a).s, bn, nn_shape_str(b).s);
  NN_REQUIRE(a->device == NN_CPU, "%s: %s is on the GPU; Dropout runs on the CPU only so far (chapter 02)", fn, an);
  NN_REQUIRE(b->device == NN_CPU, "%s: %s is on the GPU; Dropout runs on the CPU only so far (chapter 02)", fn, bn);
}

/* out[i] (+)= in[i] * m_i / (1 - p), one draw of rng per element. */
static void apply_mask(nn_rng *rng, float p, const float *in, float *out, long n, bool accumulate) {
  float keep_scale = 1.f / (1.f - p);
  for (long i = 0; i < n; i++) {
    /* BEGIN SOLUTION */
    /* HINT: inverted dropout: each element is dropped (0) with probability p and a kept one is scaled by 1 / (1 - p) (keep_scale), so its expected value is the input's and evaluation needs no rescaling. Draw exactly one uniform number per element, in order: backward replays the same draws to get the same mask. accumulate says: add into out (backward) or overwrite it (forward) */
    /* HINT2: the mask value is keep_scale when nn_rng_uniform(rng, 0, 1) >= p, else 0 (draw even when p is 0, or the replay gets out of step); out[i] becomes in[i] times the mask value, plus the old out[i] only when accumulate */
    float m = nn_rng_uniform(rng, 0.f, 1.f) >= p ? keep_scale : 0.f;
    out[i] = (accumulate ? out[i] : 0.f) + in[i] * m;
    /* END SOLUTION */
  }
}

/* What a training call keeps: where its mask's draws began. */
typedef struct {
  nn_rng mask_rng;
} dropout_saved;

void nn_dropout_forward(nn_dropout *d, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_call_begin(c, &d->base, "nn_dropout_forward", x, y);
  check_same("nn_dropout_forward", "x", x, "y", y);
  long n = nn_numel(x);
  if (!c->training || d->p == 0.f) {
    for (long i = 0; i < n; i++) y->data[i] = x->data[i];
    return;
  }
  dropout_saved *s = nn_arena_record(nn_call_arena(c, "nn_dropout_forward", "its mask's RNG state"), sizeof *s);
  s->mask_rng = d->rng; /* backward replays the draws from here */
  c->saved = s;
  apply_mask(&d->rng, d->p, x->data, y->data, n, false);
}

void nn_dropout_backward(nn_dropout *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_call_require_forward(c, "nn_dropout_backward", &d->base);
  check_same("nn_dropout_backward", "dy", dy, "x", c->x); /* the mask's draws are one per element of x */
  if (!dx) return;
  check_same("nn_dropout_backward", "dy", dy, "dx", dx);
  long n = nn_numel(dy);
  const dropout_saved *s = c->saved;
  if (!s) { /* eval, or p = 0: the identity */
    for (long i = 0; i < n; i++) dx->data[i] += dy->data[i];
    return;
  }
  nn_rng replay = s->mask_rng;
  apply_mask(&replay, d->p, dy->data, dx->data, n, true);
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
  d->rng = nn_rng_new(seed);
  return d;
}
