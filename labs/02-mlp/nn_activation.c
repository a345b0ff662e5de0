/* nn_activation.c: element-wise activations and the row-wise softmax; see nn_activation.h.
 * The CPU loops are here; the GPU kernels, same formulas, in nn_activation.cu. */
#include "nn_activation.h"

#include <math.h>
#include <string.h>

#include "nn_logistic.h"
#include "nn_mlp_cuda.h"
#include "nn_parallel.h"

static const char *const NAMES[NN_ACT_COUNT] = {
    [NN_ACT_SIGMOID] = "sigmoid",       [NN_ACT_TANH] = "tanh",
    [NN_ACT_RELU] = "relu",             [NN_ACT_LEAKY_RELU] = "leaky_relu",
    [NN_ACT_ELU] = "elu",               [NN_ACT_SOFTPLUS] = "softplus",
    [NN_ACT_GELU] = "gelu",             [NN_ACT_GELU_TANH] = "gelu_tanh",
    [NN_ACT_SILU] = "silu",             [NN_ACT_SELU] = "selu",
    [NN_ACT_RELU6] = "relu6",
};

static const float SQRT_2_OVER_PI = 0.7978845608028654f; /* sqrt(2/pi), GELU tanh form */
static const float GELU_CUBIC = 0.044715f;
static const float INV_SQRT_2 = 0.7071067811865476f;    /* 1/sqrt 2: Phi(x) = (1 + erf(x/sqrt 2))/2 */
static const float INV_SQRT_2PI = 0.3989422804014327f;  /* 1/sqrt(2 pi): phi(x) = e^(-x^2/2)/sqrt(2 pi) */
static const float SELU_LAMBDA = 1.0507009873554805f;   /* Klambauer et al. 2017: the fixed point */
static const float SELU_ALPHA = 1.6732632423543772f;    /* of mean 0, variance 1 */

static void require_kind(const char *fn, nn_activation_kind kind) {
  NN_REQUIRE((int)kind >= 0 && kind < NN_ACT_COUNT, "%s: activation kind %d is not one of the %d kinds",
             fn, (int)kind, (int)NN_ACT_COUNT);
}

nn_activation nn_activation_of(nn_activation_kind kind) {
  require_kind("nn_activation_of", kind);
  float alpha = kind == NN_ACT_LEAKY_RELU ? 0.01f : kind == NN_ACT_ELU ? 1.f : 0.f;
  return (nn_activation){.kind = kind, .alpha = alpha};
}

const char *nn_activation_name(nn_activation_kind kind) {
  require_kind("nn_activation_name", kind);
  return NAMES[kind];
}

nn_status nn_activation_parse(const char *name, nn_activation *act, nn_error *err) {
  NN_REQUIRE(act, "nn_activation_parse: act is NULL");
  for (int k = 0; name && k < NN_ACT_COUNT; k++)
    if (strcmp(name, NAMES[k]) == 0) {
      *act = nn_activation_of((nn_activation_kind)k);
      return NN_OK;
    }
  char known[256] = "";
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    if (k) strcat(known, ", ");
    strcat(known, NAMES[k]);
  }
  return nn_fail(err, NN_ERR_ARG, "unknown activation \"%s\"; the known ones are: %s (lower "
                 "case, as written)", name ? name : "(null)", known);
}

/* ---- forward: y = f(x), n elements */

/* log(1 + e^x) = log(1 + e^-|x|) + max(x, 0): e^ of a positive number is never formed */
static float softplus(float x) { return log1pf(expf(-fabsf(x))) + fmaxf(x, 0.f); }

/* Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2: erfc has no 1 - 0.99... to cancel
 * for x << 0, where 1 + erf loses every digit of Phi below 1e-7 */
static float Phi(float x) { return 0.5f * erfcf(-x * INV_SQRT_2); }

/* 1/2 (1 + tanh u) = sigmoid(2u), the same cancellation avoided the same way */
static float gelu_tanh_gate(float x) {
  return nn_sigmoid(2.f * SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
}

static void forward_cpu(const nn_activation *act, const float *x, float *y, long n) {
  float a = act->alpha;
  switch (act->kind) {
  case NN_ACT_SIGMOID: for (long i = 0; i < n; i++) y[i] = nn_sigmoid(x[i]); return;
  case NN_ACT_TANH: for (long i = 0; i < n; i++) y[i] = tanhf(x[i]); return;
  case NN_ACT_RELU: for (long i = 0; i < n; i++) y[i] = x[i] > 0.f ? x[i] : 0.f; return;
  case NN_ACT_LEAKY_RELU: for (long i = 0; i < n; i++) y[i] = x[i] > 0.f ? x[i] : a * x[i]; return;
  case NN_ACT_ELU: /* expm1: e^x - 1 without cancellation near 0 */
    for (long i = 0; i < n; i++) y[i] = x[i] > 0.f ? x[i] : a * expm1f(x[i]);
    return;
  case NN_ACT_SOFTPLUS: for (long i = 0; i < n; i++) y[i] = softplus(x[i]); return;
  case NN_ACT_GELU: for (long i = 0; i < n; i++) y[i] = x[i] * Phi(x[i]); return;
  case NN_ACT_GELU_TANH: for (long i = 0; i < n; i++) y[i] = x[i] * gelu_tanh_gate(x[i]); return;
  case NN_ACT_SILU: for (long i = 0; i < n; i++) y[i] = x[i] * nn_sigmoid(x[i]); return;
  case NN_ACT_SELU:
    for (long i = 0; i < n; i++) y[i] = SELU_LAMBDA * (x[i] > 0.f ? x[i] : SELU_ALPHA * expm1f(x[i]));
    return;
  case NN_ACT_RELU6: for (long i = 0; i < n; i++) y[i] = fminf(fmaxf(x[i], 0.f), 6.f); return;
  case NN_ACT_COUNT: break;
  }
  nn_panic("nn_activation_forward: activation kind %d is not one of the %d kinds", (int)act->kind,
           (int)NN_ACT_COUNT);
}

/* ---- backward: dx += dy * f'(x), n elements. The lab writes three of them. */

static void sigmoid_backward_cpu(const float *y, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    /* TODO(lab 02-mlp): write this part of sigmoid_backward_cpu. */
    /* HINT: the chain rule: dx = dy sigmoid'(x), and sigmoid'(x) = sigmoid(x) (1 - sigmoid(x)). Backward is given y = sigmoid(x), the forward's output, so it needs no exp. dx may already hold a gradient (another use of x): add to it, do not overwrite */
    NN_LAB_STUB("02-mlp", "sigmoid_backward_cpu");
  }
}

static void tanh_backward_cpu(const float *y, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    /* TODO(lab 02-mlp): write this part of tanh_backward_cpu. */
    /* HINT: dx = dy tanh'(x), with tanh'(x) = 1 - tanh(x)^2, and y[i] already holds tanh(x[i]): no tanhf needed. Add into dx, do not overwrite */
    NN_LAB_STUB("02-mlp", "tanh_backward_cpu");
  }
}

static void relu_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    /* TODO(lab 02-mlp): write this part of relu_backward_cpu. */
    /* HINT: relu'(x) = 1 for x > 0, else 0: the gradient passes where the input was positive and stops elsewhere; at the kink x = 0 take 0, as PyTorch does. Add into dx, do not overwrite */
    NN_LAB_STUB("02-mlp", "relu_backward_cpu");
  }
}

/* leaky_relu'(x) = 1 for x > 0, else alpha (alpha at the kink, as PyTorch) */
static void leaky_relu_backward_cpu(float alpha, const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) dx[i] += x[i] > 0.f ? dy[i] : alpha * dy[i];
}

/* elu'(x) = 1 for x > 0, else alpha e^x = y + alpha (y = alpha (e^x - 1)) */
static void elu_backward_cpu(float alpha, const float *x, const float *y, const float *dy, float *dx,
                             long n) {
  for (long i = 0; i < n; i++) dx[i] += x[i] > 0.f ? dy[i] : dy[i] * (y[i] + alpha);
}

/* softplus'(x) = e^x / (1 + e^x) = sigmoid(x) */
static void softplus_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) dx[i] += dy[i] * nn_sigmoid(x[i]);
}

/* gelu'(x) = d/dx [x Phi(x)] = Phi(x) + x phi(x) */
static void gelu_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    float phi = INV_SQRT_2PI * expf(-0.5f * x[i] * x[i]);
    dx[i] += dy[i] * (Phi(x[i]) + x[i] * phi);
  }
}

/* gelu_tanh'(x) = 1/2 (1 + t) + x/2 (1 - t^2) u' = s + 2 x s (1 - s) u',   t = tanh u, s = (1 + t)/2,
 * u = sqrt(2/pi) (x + c x^3),  u' = sqrt(2/pi) (1 + 3 c x^2),  c = 0.044715 */
static void gelu_tanh_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    float s = gelu_tanh_gate(x[i]), du = SQRT_2_OVER_PI * (1.f + 3.f * GELU_CUBIC * x[i] * x[i]);
    dx[i] += dy[i] * (s + 2.f * x[i] * s * (1.f - s) * du);
  }
}

/* silu'(x) = s + x s (1 - s) = s (1 + x (1 - s)),  s = sigmoid(x) */
static void silu_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) {
    float s = nn_sigmoid(x[i]);
    dx[i] += dy[i] * s * (1.f + x[i] * (1.f - s));
  }
}

/* selu'(x) = lambda for x > 0, else lambda alpha e^x = y + lambda alpha */
static void selu_backward_cpu(const float *x, const float *y, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) dx[i] += x[i] > 0.f ? SELU_LAMBDA * dy[i] : dy[i] * (y[i] + SELU_LAMBDA * SELU_ALPHA);
}

/* relu6'(x) = 1 on (0, 6), 0 outside and at both kinks */
static void relu6_backward_cpu(const float *x, const float *dy, float *dx, long n) {
  for (long i = 0; i < n; i++) dx[i] += x[i] > 0.f && x[i] < 6.f ? dy[i] : 0.f;
}

static void backward_cpu(const nn_activation *act, const float *x, const float *y, const float *dy,
                         float *dx, long n) {
  switch (act->kind) {
  case NN_ACT_SIGMOID: sigmoid_backward_cpu(y, dy, dx, n); return;
  case NN_ACT_TANH: tanh_backward_cpu(y, dy, dx, n); return;
  case NN_ACT_RELU: relu_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_LEAKY_RELU: leaky_relu_backward_cpu(act->alpha, x, dy, dx, n); return;
  case NN_ACT_ELU: elu_backward_cpu(act->alpha, x, y, dy, dx, n); return;
  case NN_ACT_SOFTPLUS: softplus_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_GELU: gelu_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_GELU_TANH: gelu_tanh_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_SILU: silu_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_SELU: selu_backward_cpu(x, y, dy, dx, n); return;
  case NN_ACT_RELU6: relu6_backward_cpu(x, dy, dx, n); return;
  case NN_ACT_COUNT: break;
  }
  nn_panic("nn_activation_backward: activation kind %d is not one of the %d kinds", (int)act->kind,
           (int)NN_ACT_COUNT);
}

/* ---- the element-wise loops in chunks over libnn's threads: each element alone, so the
 * same bits on any number of threads. A large activation (a conv layer's (64, 32, 26, 26)
 * is 1.4M values) is memory-bound work a second core nearly halves. */

enum { CHUNK = 1 << 14 };

static void forward_cpu_parallel(const nn_activation *act, const float *x, float *y, long n) {
  const long chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n >= 4 * NN_PARALLEL_MIN_WORK)
  for (long k = 0; k < chunks; k++) {
    long lo = k * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
    forward_cpu(act, x + lo, y + lo, len);
  }
}

static void backward_cpu_parallel(const nn_activation *act, const float *x, const float *y, const float *dy,
                                  float *dx, long n) {
  const long chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) if (n >= 4 * NN_PARALLEL_MIN_WORK)
  for (long k = 0; k < chunks; k++) {
    long lo = k * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
    backward_cpu(act, x + lo, y + lo, dy + lo, dx + lo, len);
  }
}

/* ---- entry points: checks, then the one device switch */

static void require_same(const char *fn, const char *an, const nn_tensor *a, const char *bn,
                         const nn_tensor *b) {
  NN_REQUIRE(a && b, "%s: %s or %s is NULL", fn, an, bn);
  NN_REQUIRE(nn_same_shape(a, b), "%s: %s is %s but %s is %s; they must have the same shape", fn, an,
             nn_shape_str(a).s, bn, nn_shape_str(b).s);
  NN_REQUIRE(a->device == b->device, "%s: %s is on the %s but %s on the %s", fn, an,
             nn_device_name(a->device), bn, nn_device_name(b->device));
}

void nn_activation_forward(const nn_activation *act, const nn_tensor *x, nn_tensor *y) {
  NN_REQUIRE(act, "nn_activation_forward: act is NULL");
  require_kind("nn_activation_forward", act->kind);
  require_same("nn_activation_forward", "x", x, "y", y);
  switch (x->device) {
  case NN_CPU: forward_cpu_parallel(act, x->data, y->data, nn_numel(x)); break;
  case NN_GPU: nn_activation_forward_cuda(*act, x->data, y->data, nn_numel(x)); break;
  }
}

void nn_activation_backward(const nn_activation *act, const nn_tensor *x, const nn_tensor *y,
                            const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(act, "nn_activation_backward: act is NULL");
  require_kind("nn_activation_backward", act->kind);
  require_same("nn_activation_backward", "x", x, "y", y);
  require_same("nn_activation_backward", "x", x, "dy", dy);
  require_same("nn_activation_backward", "x", x, "dx", dx);
  switch (x->device) {
  case NN_CPU: backward_cpu_parallel(act, x->data, y->data, dy->data, dx->data, nn_numel(x)); break;
  case NN_GPU: nn_activation_backward_cuda(*act, x->data, y->data, dy->data, dx->data, nn_numel(x)); break;
  }
}

/* ---- softmax over the last dim: rows of C */

static void softmax_forward_cpu(const float *x, float *y, long rows, int C) {
  for (long r = 0; r < rows; r++) {
    const float *x_r = x + r * C;
    float *y_r = y + r * C;
    float m = x_r[0], s = 0.f;
    for (int c = 1; c < C; c++) m = x_r[c] > m ? x_r[c] : m;
    /* ANCHOR: softmax_stable */
    for (int c = 0; c < C; c++) s += y_r[c] = expf(x_r[c] - m); /* each in (0, 1], s in [1, C] */
    for (int c = 0; c < C; c++) y_r[c] /= s;
    /* ANCHOR_END: softmax_stable */
  }
}

static void softmax_backward_cpu(const float *y, const float *dy, float *dx, long rows, int C) {
  for (long r = 0; r < rows; r++) {
    const float *y_r = y + r * C, *dy_r = dy + r * C;
    float *dx_r = dx + r * C;
    /* ANCHOR: softmax_backward */
    float dot = 0.f; /* sum_j dy_j y_j */
    for (int c = 0; c < C; c++) dot += dy_r[c] * y_r[c];
    for (int c = 0; c < C; c++) dx_r[c] += y_r[c] * (dy_r[c] - dot);
    /* ANCHOR_END: softmax_backward */
  }
}

/* rows * C = numel; C = the last dim, at least 1 */
static int last_dim(const char *fn, const nn_tensor *t) {
  NN_REQUIRE(t->ndim >= 1 && t->shape[t->ndim - 1] >= 1, "%s: %s has no last dim to take the softmax over",
             fn, nn_shape_str(t).s);
  return t->shape[t->ndim - 1];
}

void nn_softmax_forward(const nn_tensor *x, nn_tensor *y) {
  require_same("nn_softmax_forward", "x", x, "y", y);
  int C = last_dim("nn_softmax_forward", x);
  switch (x->device) {
  case NN_CPU: softmax_forward_cpu(x->data, y->data, nn_numel(x) / C, C); break;
  case NN_GPU: nn_softmax_forward_cuda(x->data, y->data, nn_numel(x) / C, C); break;
  }
}

void nn_softmax_backward(const nn_tensor *y, const nn_tensor *dy, nn_tensor *dx) {
  require_same("nn_softmax_backward", "y", y, "dy", dy);
  require_same("nn_softmax_backward", "y", y, "dx", dx);
  int C = last_dim("nn_softmax_backward", y);
  switch (y->device) {
  case NN_CPU: softmax_backward_cpu(y->data, dy->data, dx->data, nn_numel(y) / C, C); break;
  case NN_GPU: nn_softmax_backward_cuda(y->data, dy->data, dx->data, nn_numel(y) / C, C); break;
  }
}
