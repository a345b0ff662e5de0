/* nn_optim.c: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW; see nn_optim.h.
 *
 * The rules follow the papers and PyTorch's torch.optim (2.x) line for line:
 * torch/optim/sgd.py (momentum buffer v = mu v + g, no dampening), adagrad.py,
 * rmsprop.py (centered=False), adam.py, adamw.py. Each kind is one loop over the
 * n elements of one param, on the CPU, and one kernel on the GPU (nn_optim.cu);
 * nn_optim_step dispatches on each param's device.
 */
#include "nn_optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_mlp_cuda.h"

static const char *const NAMES[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"};
enum { KINDS = (int)(sizeof NAMES / sizeof NAMES[0]) };

const char *nn_optim_name(nn_optim_kind kind) {
  NN_REQUIRE((int)kind >= 0 && (int)kind < KINDS, "nn_optim_name: kind %d is not an optimizer", (int)kind);
  return NAMES[kind];
}

nn_status nn_optim_parse(const char *name, nn_optim_kind *kind, nn_error *err) {
  NN_REQUIRE(name && kind, "nn_optim_parse: name and kind must not be NULL");
  for (int k = 0; k < KINDS; k++)
    if (strcmp(name, NAMES[k]) == 0) {
      *kind = (nn_optim_kind)k;
      return NN_OK;
    }
  return nn_fail(err, NN_ERR_ARG,
                 "unknown optimizer \"%s\"; choose one of sgd, momentum, nesterov, adagrad, rmsprop, "
                 "adam, adamw (lower case)", name);
}

nn_optim_config nn_optim_defaults(nn_optim_kind kind) {
  nn_optim_config c = {.lr = 1e-3f, .momentum = 0.9f, .alpha = 0.99f, .beta1 = 0.9f,
                       .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.f};
  switch (kind) {
  case NN_SGD: c.momentum = 0.f; break;
  case NN_MOMENTUM: case NN_NESTEROV: break;
  case NN_ADAGRAD: c.lr = 1e-2f; c.eps = 1e-10f; break;
  case NN_RMSPROP: c.lr = 1e-2f; break;
  case NN_ADAM: break;
  case NN_ADAMW: c.weight_decay = 1e-2f; break;
  default: nn_panic("nn_optim_defaults: kind %d is not an optimizer", (int)kind);
  }
  return c;
}

static void check_unit(const char *field, float x, nn_optim_kind kind) {
  NN_REQUIRE(x >= 0.f && x < 1.f, "nn_optim_new: %s = %g for %s, expected 0 <= %s < 1", field, x,
             NAMES[kind], field);
}

static void check_config(nn_optim_kind kind, const nn_optim_config *c) {
  NN_REQUIRE(c->lr >= 0.f && c->eps >= 0.f && c->weight_decay >= 0.f,
             "nn_optim_new: lr = %g, eps = %g, weight_decay = %g for %s; all must be >= 0", c->lr,
             c->eps, c->weight_decay, NAMES[kind]);
  check_unit("momentum", c->momentum, kind);
  check_unit("alpha", c->alpha, kind);
  check_unit("beta1", c->beta1, kind);
  check_unit("beta2", c->beta2, kind);
  NN_REQUIRE(kind != NN_NESTEROV || c->momentum > 0.f,
             "nn_optim_new: nesterov needs momentum > 0 (got %g); with 0 it is plain sgd", c->momentum);
}

/* Aborts unless value and grad exist and agree in shape and device. */
static void check_param(const char *fn, const nn_param *p, int i) {
  const char *name = p->name ? p->name : "(unnamed)";
  NN_REQUIRE(p->value && p->grad && p->value->data && p->grad->data,
             "%s: param %d (%s) has no value or no grad tensor", fn, i, name);
  NN_REQUIRE(nn_same_shape(p->value, p->grad), "%s: param %d (%s) has value %s but grad %s; they must match",
             fn, i, name, nn_shape_str(p->value).s, nn_shape_str(p->grad).s);
  NN_REQUIRE(p->value->device == p->grad->device, "%s: param %d (%s) has value and grad on different devices",
             fn, i, name);
}

/* Which kinds keep which state: m for momentum/nesterov/adam/adamw, v for adagrad/rmsprop/adam/adamw. */
static bool uses_m(nn_optim_kind k) { return k == NN_MOMENTUM || k == NN_NESTEROV || k == NN_ADAM || k == NN_ADAMW; }
static bool uses_v(nn_optim_kind k) { return k == NN_ADAGRAD || k == NN_RMSPROP || k == NN_ADAM || k == NN_ADAMW; }

nn_optim nn_optim_new(nn_optim_kind kind, const nn_optim_config *cfg, const nn_param *params,
                      int count) {
  NN_REQUIRE((int)kind >= 0 && (int)kind < KINDS, "nn_optim_new: kind %d is not an optimizer", (int)kind);
  NN_REQUIRE(params && count >= 1, "nn_optim_new: %d params, expected at least 1", count);
  nn_optim o = {.kind = kind, .cfg = cfg ? *cfg : nn_optim_defaults(kind), .count = count};
  check_config(kind, &o.cfg);
  o.params = nn_xmalloc((size_t)count * sizeof *o.params, "nn_optim_new: the param list");
  o.m = nn_xcalloc((size_t)count, sizeof *o.m, "nn_optim_new: first-moment state");
  o.v = nn_xcalloc((size_t)count, sizeof *o.v, "nn_optim_new: second-moment state");
  for (int i = 0; i < count; i++) {
    check_param("nn_optim_new", &params[i], i);
    o.params[i] = params[i];
    const nn_tensor *w = params[i].value;
    if (uses_m(kind)) o.m[i] = nn_tensor_new(w->ndim, w->shape, w->device);
    if (uses_v(kind)) o.v[i] = nn_tensor_new(w->ndim, w->shape, w->device);
  }
  return o;
}

void nn_optim_free(nn_optim *o) {
  for (int i = 0; i < o->count; i++) {
    nn_tensor_free(&o->m[i]); /* an unused slot is {0}: free(NULL) */
    nn_tensor_free(&o->v[i]);
  }
  free(o->params);
  free(o->m);
  free(o->v);
  *o = (nn_optim){0};
}

void nn_optim_zero_grad(nn_optim *o) {
  for (int i = 0; i < o->count; i++) nn_tensor_fill(o->params[i].grad, 0.f);
}

/* ---- the rules, one param of n elements each. w, the state: updated; g: read only. */

/* PyTorch's weight_decay (L2): the gradient of f(w) + wd/2 ||w||^2. */
static inline float l2(float g, float w, float wd) { return g + wd * w; }

/* w -= lr (g + wd w) */
static void sgd_cpu(float *w, const float *g, long n, const nn_optim_config *c) {
  for (long i = 0; i < n; i++) w[i] -= c->lr * l2(g[i], w[i], c->weight_decay);
}

/* v = mu v + g;  w -= lr v            (momentum; Sutskever et al. 2013 in PyTorch's form)
 * v = mu v + g;  w -= lr (g + mu v)   (nesterov: the step looks one momentum step ahead)
 * g is g + wd w when weight_decay > 0. PyTorch's first step sets v = g: the same as v = 0 here. */
static void momentum_cpu(float *w, const float *g, float *v, long n, const nn_optim_config *c,
                         bool nesterov) {
  float lr = c->lr, mu = c->momentum, wd = c->weight_decay;
  /* TODO(lab 02-mlp): write this part of momentum_cpu. */
  /* HINT: the rule is the comment above, element by element: the velocity v is a decayed sum of past gradients (mu times the old v, plus the new gradient), and the weight steps by -lr v; Nesterov steps by -lr (g + mu v), a look one step ahead. g is the L2-decayed gradient, l2(): compute it once per element and use it in both places. Does the step use v before or after its update? */
  NN_LAB_STUB("02-mlp", "momentum_cpu");
}

/* G += g^2;  w -= lr g / (sqrt(G) + eps)   (Duchi, Hazan & Singer 2011; PyTorch lr_decay = 0) */
static void adagrad_cpu(float *w, const float *g, float *G, long n, const nn_optim_config *c) {
  for (long i = 0; i < n; i++) {
    float gi = l2(g[i], w[i], c->weight_decay);
    G[i] += gi * gi;
    w[i] -= c->lr * gi / (sqrtf(G[i]) + c->eps);
  }
}

/* s = rho s + (1 - rho) g^2;  w -= lr g / (sqrt(s) + eps)   (Hinton, Coursera lecture 6e, 2012) */
static void rmsprop_cpu(float *w, const float *g, float *s, long n, const nn_optim_config *c) {
  float rho = c->alpha;
  for (long i = 0; i < n; i++) {
    float gi = l2(g[i], w[i], c->weight_decay);
    s[i] = rho * s[i] + (1.f - rho) * gi * gi;
    w[i] -= c->lr * gi / (sqrtf(s[i]) + c->eps);
  }
}

/* Kingma & Ba 2015, Algorithm 1, at step t = 1, 2, ...:
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2
 *   mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t),  w -= lr mhat / (sqrt(vhat) + eps)
 * m and v start at 0, so early on they are biased towards 0; dividing by 1 - b^t
 * undoes it: at t = 1, mhat = g and vhat = g^2, and every weight moves by lr sign(g).
 * g is g + wd w here when wd > 0 (Adam's L2); adamw passes wd = 0. */
static void adam_cpu(float *w, const float *g, float *m, float *v, long n, const nn_optim_config *c,
                     float wd, long t) {
  float lr = c->lr, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
  /* TODO(lab 02-mlp): write this part of adam_cpu. */
  /* HINT: Algorithm 1 in the comment above, element by element, g being the L2-decayed gradient (l2()). The corrections 1 - b1^t and 1 - b2^t are the same for every element: compute them once, before the loop, with pow in double (0.999 to the power 10000 in float loses digits). eps goes outside the square root, as in PyTorch */
  NN_LAB_STUB("02-mlp", "adam_cpu");
}

/* Loshchilov & Hutter 2019 (AdamW): w -= lr wd w, then Adam on the unchanged g.
 * The decay shrinks every weight by the same factor, not scaled by 1/sqrt(vhat)
 * as L2 inside Adam would be. */
static void adamw_cpu(float *w, const float *g, float *m, float *v, long n, const nn_optim_config *c,
                      long t) {
  float shrink = 1.f - c->lr * c->weight_decay;
  for (long i = 0; i < n; i++) w[i] *= shrink;
  adam_cpu(w, g, m, v, n, c, 0.f, t);
}

static void step_cpu(nn_optim *o, int i) {
  float *w = o->params[i].value->data, *m = o->m[i].data, *v = o->v[i].data;
  const float *g = o->params[i].grad->data;
  long n = nn_numel(o->params[i].value);
  const nn_optim_config *c = &o->cfg;
  switch (o->kind) {
  case NN_SGD: sgd_cpu(w, g, n, c); break;
  case NN_MOMENTUM: momentum_cpu(w, g, m, n, c, false); break;
  case NN_NESTEROV: momentum_cpu(w, g, m, n, c, true); break;
  case NN_ADAGRAD: adagrad_cpu(w, g, v, n, c); break;
  case NN_RMSPROP: rmsprop_cpu(w, g, v, n, c); break;
  case NN_ADAM: adam_cpu(w, g, m, v, n, c, c->weight_decay, o->t); break;
  case NN_ADAMW: adamw_cpu(w, g, m, v, n, c, o->t); break;
  }
}

/* The same rules on the GPU. Adam's bias corrections are computed here, as adam_cpu does. */
static void step_gpu(nn_optim *o, int i) {
  float *w = o->params[i].value->data, *m = o->m[i].data, *v = o->v[i].data;
  const float *g = o->params[i].grad->data;
  const nn_optim_config *c = &o->cfg;
  float bc1 = (float)(1.0 - pow(c->beta1, (double)o->t)), bc2 = (float)(1.0 - pow(c->beta2, (double)o->t));
  nn_optim_step_cuda(o->kind, c, w, g, m, v, nn_numel(o->params[i].value), bc1, bc2);
}

/* The state was allocated with the param's shape and on its device; a reshape since
 * then must keep its size, and a move (nn_layer_to) needs a new optimizer. */
static void check_state(const nn_optim *o, int i) {
  const nn_param *p = &o->params[i];
  const nn_tensor *s = o->m[i].data ? &o->m[i] : o->v[i].data ? &o->v[i] : NULL;
  const char *name = p->name ? p->name : "(unnamed)";
  NN_REQUIRE(!s || nn_numel(s) == nn_numel(p->value),
             "nn_optim_step: param %d (%s) is %s now, but was %s in nn_optim_new", i, name,
             nn_shape_str(p->value).s, nn_shape_str(s).s);
  NN_REQUIRE(!s || s->device == p->value->device,
             "nn_optim_step: param %d (%s) is on the %s but its %s state is on the %s; make the optimizer "
             "after moving the model (nn_layer_to)", i, name, nn_device_name(p->value->device),
             NAMES[o->kind], nn_device_name(s->device));
}

void nn_optim_step(nn_optim *o) {
  o->t++;
  for (int i = 0; i < o->count; i++) {
    const nn_param *p = &o->params[i];
    check_param("nn_optim_step", p, i);
    check_state(o, i);
    switch (p->value->device) {
    case NN_CPU: step_cpu(o, i); break;
    case NN_GPU: step_gpu(o, i); break;
    }
  }
}
