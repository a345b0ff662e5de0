/* exam_values.c: `nn exam` problems whose answer is a number: activations, softmax,
 * losses, one optimizer step, metrics, attention weights, positional encodings and
 * reinforcement-learning updates.
 *
 * Every key is computed in double from the formula its worked steps show, and the
 * steps print that same number. The library computes the same in float32
 * (nn_activation_forward, nn_softmax_forward, the nn_*_loss functions, nn_optim_step
 * on a one-element parameter, nn_roc_auc), and each key is checked against it: they
 * must agree within a tenth of the answer tolerance, or the drill and the library
 * have drifted apart and nn exam aborts, naming the family. The float32 result is
 * never the key: its round-off can flip the sign of an answer near 0 (RMSProp from
 * w = 1 with g = 0.8 lands at 1.25e-07; float32 gave -4.8e-07). The metrics keys
 * come from nn_class_report_from_cm / nn_prf_from_cm, which divide integer counts
 * in double. Two families compute here only, because their chapter does not exist
 * yet: the sinusoidal positional encoding (chapter 05, Transformer) and the
 * Q-learning / TD / return updates (chapter 07, RL).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exam.h"
#include "framework_defaults.h"
#include "nn_activation.h"
#include "nn_batches.h"
#include "nn_loss.h"
#include "nn_metrics.h"
#include "nn_optim.h"

/* "[0.8, 0.3, 0.6]": the given numbers (%g: they are nice) or results (%.4g) */
typedef struct { char s[256]; } text;

static text list_fmt(int n, const double *v, const char *fmt) {
  text t = {"["};
  for (int i = 0; i < n; i++) {
    size_t used = strlen(t.s);
    snprintf(t.s + used, sizeof t.s - used, fmt, i ? ", " : "", v[i]);
  }
  strncat(t.s, "]", sizeof t.s - strlen(t.s) - 1);
  return t;
}
static text list_g(int n, const double *v) { return list_fmt(n, v, "%s%g"); }
static text list_4(int n, const double *v) { return list_fmt(n, v, "%s%.4g"); }

/* a number inside a worked formula: negatives in parentheses, so "0.1 * (-0.8)" and
 * "(-1.6)^2" read right; 5 significant digits */
static text num(double v) {
  text t;
  if (fabs(v) < 5e-12) v = 0;
  snprintf(t.s, sizeof t.s, v < 0 ? "(%.5g)" : "%.5g", v);
  return t;
}
#define N(v) (num(v).s)

static const char *fw_name(nn_framework fw) { return fw == NN_KERAS ? "Keras" : "PyTorch"; }
static nn_framework other(nn_framework fw) { return fw == NN_KERAS ? NN_PYTORCH : NN_KERAS; }

/* n distinct tenths in [lo, hi] */
static void distinct_tenths(nn_rng *r, int n, double lo, double hi, double *v) {
  for (int i = 0; i < n; i++) {
    bool again;
    do {
      v[i] = exam_tenths(r, lo, hi);
      again = false;
      for (int j = 0; j < i; j++) again |= v[j] == v[i];
    } while (again);
  }
}

/* a nonzero tenth in [lo, hi] with |v| >= min_abs */
static double nonzero_tenth(nn_rng *r, double lo, double hi, double min_abs) {
  double v;
  do v = exam_tenths(r, lo, hi);
  while (fabs(v) < min_abs - 1e-9);
  return v;
}

/* ---- the library, in float32, on a handful of numbers: the keys' cross-check */

static double activation_of(nn_activation act, double x) {
  float xf = (float)x;
  nn_tensor t = nn_tensor_from(1, (int[]){1}, &xf), y = nn_tensor_new(1, (int[]){1}, NN_CPU);
  nn_activation_forward(&act, &t, &y);
  double v = y.data[0];
  nn_tensor_free(&t), nn_tensor_free(&y);
  return v;
}

static void softmax_of(int n, const double *z, double *p) {
  float zf[EXAM_MAX_VALUES] = {0};
  for (int i = 0; i < n; i++) zf[i] = (float)z[i];
  nn_tensor t = nn_tensor_from(2, (int[]){1, n}, zf), y = nn_tensor_new(2, (int[]){1, n}, NN_CPU);
  nn_softmax_forward(&t, &y);
  for (int i = 0; i < n; i++) p[i] = y.data[i];
  nn_tensor_free(&t), nn_tensor_free(&y);
}

static nn_tensor tensor_of(int rows, int cols, const double *v) {
  float f[32];
  for (int i = 0; i < rows * cols; i++) f[i] = (float)v[i];
  return rows == 1 ? nn_tensor_from(1, (int[]){cols}, f) : nn_tensor_from(2, (int[]){rows, cols}, f);
}

/* The key (double) against the library's float32 result: within a tenth of what the answer
 * check accepts (exam.h), so a float32 answer would be marked right with room to spare. A
 * larger gap is a drill that no longer computes what the library does: a bug, so it aborts. */
static void check_library(const exam_problem *p, double key, double lib) {
  double tol = 0.1 * fmax(EXAM_ABS_TOL, EXAM_REL_TOL * fabs(key));
  NN_REQUIRE(fabs(lib - key) <= tol,
             "nn exam %s: the key %.9g (double) and the library's %.9g (float32) differ by more than %g",
             p->family, key, lib, tol);
}

/* ---- the keys, in double: the formulas the worked steps show */

/* SELU's fixed point (Klambauer et al. 2017), as nn_activation.c's float constants */
static const double SELU_LAMBDA = 1.0507009873554804934, SELU_ALPHA = 1.6732632423543772848;
static const double PI = 3.14159265358979323846;

/* f(x) of one activation; alpha: LeakyReLU's slope, ELU's alpha */
static double activation_value(nn_activation_kind kind, double alpha, double x) {
  switch (kind) {
  case NN_ACT_SIGMOID: return 1 / (1 + exp(-x));
  case NN_ACT_TANH: return tanh(x);
  case NN_ACT_RELU: return x > 0 ? x : 0;
  case NN_ACT_LEAKY_RELU: return x > 0 ? x : alpha * x;
  case NN_ACT_ELU: return x > 0 ? x : alpha * expm1(x);
  case NN_ACT_SOFTPLUS: return log1p(exp(-fabs(x))) + fmax(x, 0); /* ln(1 + e^x), e^x never large */
  case NN_ACT_GELU: return x * 0.5 * erfc(-x / sqrt(2));            /* x Phi(x) */
  case NN_ACT_GELU_TANH: return x / 2 * (1 + tanh(sqrt(2 / PI) * (x + 0.044715 * x * x * x)));
  case NN_ACT_SILU: return x / (1 + exp(-x));
  case NN_ACT_SELU: return SELU_LAMBDA * (x > 0 ? x : SELU_ALPHA * expm1(x));
  case NN_ACT_RELU6: return fmin(fmax(x, 0), 6);
  case NN_ACT_COUNT: break;
  }
  nn_panic("nn exam: activation kind %d is not one of the %d kinds", (int)kind, (int)NN_ACT_COUNT);
}

/* p = e^(z - max z) / sum e^(z - max z) */
static void softmax_value(int n, const double *z, double *p) {
  double m = z[0], s = 0;
  for (int i = 1; i < n; i++) m = fmax(m, z[i]);
  for (int i = 0; i < n; i++) p[i] = exp(z[i] - m), s += p[i];
  for (int i = 0; i < n; i++) p[i] /= s;
}

/* softmax_value, checked element by element against nn_softmax_forward */
static void softmax_checked(const exam_problem *p, int n, const double *z, double *prob) {
  double lib[EXAM_MAX_VALUES];
  softmax_value(n, z, prob);
  softmax_of(n, z, lib);
  for (int i = 0; i < n; i++) check_library(p, prob[i], lib[i]);
}

static double mean_of(int n, const double *v) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s / n;
}

/* ==== activation ==== */

/* sigmoid, tanh, relu, leaky_relu (the framework's default slope), elu, softplus, gelu, gelu_tanh,
 * silu, selu, relu6 */
enum { ACT_VARIANTS = NN_ACT_COUNT };

/* The framework defaults that differ come from framework_defaults.h's table: LeakyReLU's slope
 * (Keras 0.3, PyTorch 0.01), RMSprop's rho, Adagrad's accumulator, the epsilons, ... */
static const nn_framework_default *default_entry(const char *key) {
  const nn_framework_default *d = nn_framework_default_find(key);
  NN_REQUIRE(d, "nn exam: nn_framework_defaults() has no \"%s\" entry", key);
  return d;
}
static double fw_default(const char *key, nn_framework fw) {
  const nn_framework_default *d = default_entry(key);
  return fw == NN_KERAS ? d->keras : d->pytorch;
}
static double leaky_default(nn_framework fw) { return fw_default("leaky_relu_slope", fw); }

static void make_activation(nn_rng *r, nn_framework fw, exam_problem *p) {
  nn_activation_kind kind = (nn_activation_kind)nn_rng_below(r, NN_ACT_COUNT);
  nn_activation act = nn_activation_of(kind);
  bool negative_side = kind == NN_ACT_RELU || kind == NN_ACT_LEAKY_RELU || kind == NN_ACT_ELU ||
                       kind == NN_ACT_SELU || kind == NN_ACT_RELU6;
  double x = negative_side && nn_rng_below(r, 4) ? -nonzero_tenth(r, 0.1, 3, 0.1) : nonzero_tenth(r, -3, 3, 0.1);
  if (kind == NN_ACT_RELU6 && nn_rng_below(r, 3) == 0) x = nonzero_tenth(r, 6.1, 9, 0.1); /* past the cap */
  const char *pretty[NN_ACT_COUNT] = {
      [NN_ACT_SIGMOID] = "sigmoid(x) = 1 / (1 + e^-x)",
      [NN_ACT_TANH] = "tanh(x)",
      [NN_ACT_RELU] = "ReLU(x) = max(0, x)",
      [NN_ACT_LEAKY_RELU] = fw == NN_KERAS ? "keras.layers.LeakyReLU() (default arguments)"
                                             : "torch.nn.LeakyReLU() (default arguments)",
      [NN_ACT_ELU] = fw == NN_KERAS ? "keras.layers.ELU() (default alpha)" : "torch.nn.ELU() (default alpha)",
      [NN_ACT_SOFTPLUS] = "softplus(x) = ln(1 + e^x)",
      [NN_ACT_GELU] = "GELU(x) = x Phi(x), exact (erf) form",
      [NN_ACT_GELU_TANH] = "GELU, tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
      [NN_ACT_SILU] = "SiLU(x) = x sigmoid(x) (Swish)",
      [NN_ACT_SELU] = fw == NN_KERAS ? "keras.activations.selu" : "torch.nn.SELU()",
      [NN_ACT_RELU6] = "ReLU6(x) = min(max(0, x), 6)",
  };
  double alpha = kind == NN_ACT_LEAKY_RELU ? leaky_default(fw) : act.alpha; /* ELU's 1 */
  if (kind == NN_ACT_LEAKY_RELU) act.alpha = (float)alpha;
  double y = activation_value(kind, alpha, x);
  check_library(p, y, activation_of(act, x));
  exam_ask(p, "What is %s at x = %g?", pretty[kind], x);
  switch (kind) {
  case NN_ACT_SIGMOID:
    exam_step(p, "sigmoid(x) = 1 / (1 + e^-x)");
    exam_step(p, "e^-x = e^%g = %.5g", -x, exp(-x));
    exam_step(p, "1 / (1 + %.5g) = %.5g", exp(-x), y);
    break;
  case NN_ACT_TANH:
    exam_step(p, "tanh(x) = (e^x - e^-x) / (e^x + e^-x)");
    exam_step(p, "e^%g = %.5g, e^%g = %.5g", x, exp(x), -x, exp(-x));
    exam_step(p, "(%.5g - %.5g) / (%.5g + %.5g) = %.5g", exp(x), exp(-x), exp(x), exp(-x), y);
    break;
  case NN_ACT_RELU: exam_step(p, "max(0, %g) = %g", x, y); break;
  case NN_ACT_LEAKY_RELU:
    exam_step(p, "%s's LeakyReLU default negative slope is %g (%s's is %g)", fw_name(fw), leaky_default(fw),
              fw_name(other(fw)), leaky_default(other(fw)));
    if (x > 0) exam_step(p, "x > 0, so f(x) = x = %g", y);
    else exam_step(p, "x < 0, so f(x) = slope * x = %g * %s = %.5g", leaky_default(fw), N(x), y);
    break;
  case NN_ACT_ELU:
    exam_step(p, "ELU(x) = x for x > 0, alpha (e^x - 1) otherwise; the default alpha is 1.0 in PyTorch and Keras");
    if (x > 0) exam_step(p, "x > 0, so f(x) = x = %g", y);
    else exam_step(p, "1 * (e^%g - 1) = %.5g - 1 = %.5g", x, exp(x), y);
    break;
  case NN_ACT_SOFTPLUS:
    exam_step(p, "e^%g = %.5g", x, exp(x));
    exam_step(p, "ln(1 + %.5g) = %.5g", exp(x), y);
    break;
  case NN_ACT_GELU:
    exam_step(p, "Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF");
    exam_step(p, "x / sqrt 2 = %.5g, erf(%.5g) = %.5g, Phi(%g) = %.5g", x / sqrt(2), x / sqrt(2), erf(x / sqrt(2)), x,
              0.5 * (1 + erf(x / sqrt(2))));
    exam_step(p, "x Phi(x) = %s * %.5g = %.5g", N(x), 0.5 * (1 + erf(x / sqrt(2))), y);
    exam_step(p, "(the default of torch.nn.GELU() and keras.activations.gelu: approximate is off)");
    break;
  case NN_ACT_GELU_TANH: {
    double u = sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x);
    exam_step(p, "u = sqrt(2/pi) (x + 0.044715 x^3) = 0.79788 * (%g + %s) = %.5g", x, N(0.044715 * x * x * x), u);
    exam_step(p, "tanh(u) = %.5g", tanh(u));
    exam_step(p, "x/2 (1 + tanh u) = %s * %.5g = %.5g", N(x / 2), 1 + tanh(u), y);
    exam_step(p, "(PyTorch: nn.GELU(approximate='tanh'); Keras: gelu(x, approximate=True))");
    break;
  }
  case NN_ACT_SILU:
    exam_step(p, "sigmoid(%g) = 1 / (1 + e^%g) = %.5g", x, -x, 1 / (1 + exp(-x)));
    exam_step(p, "x sigmoid(x) = %s * %.5g = %.5g", N(x), 1 / (1 + exp(-x)), y);
    break;
  case NN_ACT_SELU:
    exam_step(p, "SELU(x) = lambda x for x > 0, lambda alpha (e^x - 1) otherwise, with the fixed "
                 "lambda = 1.0507 and alpha = 1.6733 (the same in PyTorch and Keras)");
    if (x > 0) exam_step(p, "x > 0, so f(x) = 1.0507 * %g = %.5g", x, y);
    else exam_step(p, "1.0507 * 1.6733 * (e^%g - 1) = 1.7581 * %.5g = %.5g", x, exp(x) - 1, y);
    break;
  case NN_ACT_RELU6: exam_step(p, "min(max(0, %g), 6) = %g", x, y); break;
  default: break;
  }
  exam_answer_real(p, y);
}

/* 0: the layer's default slope; 1: the output at a negative x with it; 2: the slope of the
 * function form (Keras activation='leaky_relu', torch.nn.functional.leaky_relu) */
enum { LEAKY_VARIANTS = 3 };

static void make_leaky_default(nn_rng *r, nn_framework fw, exam_problem *p) {
  nn_activation act = nn_activation_of(NN_ACT_LEAKY_RELU);
  act.alpha = (float)leaky_default(fw);
  const char *layer = fw == NN_KERAS ? "keras.layers.LeakyReLU()" : "torch.nn.LeakyReLU()";
  int variant = (int)nn_rng_below(r, LEAKY_VARIANTS);
  if (variant == 2) {
    const nn_framework_default *d = default_entry("leaky_relu_fn_slope");
    double slope = fw_default("leaky_relu_fn_slope", fw);
    act.alpha = (float)slope;
    check_library(p, slope, -activation_of(act, -1.0));
    exam_ask(p, "%s: what is the slope for x < 0?", fw == NN_KERAS ? "layers.Dense(64, activation='leaky_relu')"
                                                                 : "torch.nn.functional.leaky_relu(x) with no slope given");
    exam_step(p, "%s", fw == NN_KERAS ? d->keras_api : d->pytorch_api);
    exam_step(p, "%s", d->explain);
    exam_step(p, "(the layer %s uses %g)", layer, leaky_default(fw));
    exam_answer_real(p, slope);
    return;
  }
  if (variant == 0) {
    exam_ask(p, "%s, created with no arguments: what is its slope for x < 0?", layer);
    double slope = leaky_default(fw);
    check_library(p, slope, -activation_of(act, -1.0));
    exam_step(p, "f(-1) = %g, so the slope is %g", -slope, slope);
    exam_step(p, "%s: negative_slope = %g; %s: %g. The same model ported without stating it changes.",
              fw_name(fw), leaky_default(fw), fw_name(other(fw)), leaky_default(other(fw)));
    exam_answer_real(p, slope);
    return;
  }
  double x = -(double)exam_int(r, 1, 10);
  double y = activation_value(NN_ACT_LEAKY_RELU, leaky_default(fw), x);
  check_library(p, y, activation_of(act, x));
  exam_ask(p, "%s, created with no arguments, is applied to x = %g. What is the output?", layer, x);
  exam_step(p, "%s's default negative slope is %g (%s's is %g)", fw_name(fw), leaky_default(fw), fw_name(other(fw)),
            leaky_default(other(fw)));
  exam_step(p, "x < 0, so f(x) = %g * %s = %.5g", leaky_default(fw), N(x), y);
  exam_answer_real(p, y);
}

/* 0: softmax of 3 logits; 1: one probability of 4 logits; 2: softmax with temperature T */
enum { SOFTMAX_VARIANTS = 3 };

static void softmax_steps(exam_problem *p, int n, const double *z, const double *prob) {
  double m = z[0], e[EXAM_MAX_VALUES], d[EXAM_MAX_VALUES], s = 0;
  for (int i = 1; i < n; i++) m = fmax(m, z[i]);
  for (int i = 0; i < n; i++) d[i] = z[i] - m, e[i] = exp(d[i]), s += e[i];
  exam_step(p, "p_i = e^(z_i - m) / sum_j e^(z_j - m), m = max z = %g (subtracting m changes nothing)", m);
  exam_step(p, "z - m = %s", list_g(n, d).s);
  exam_step(p, "e^(z - m) = %s, sum = %.5g", list_4(n, e).s, s);
  exam_step(p, "p = %s (sums to 1)", list_4(n, prob).s);
}

static void make_softmax(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  int variant = (int)nn_rng_below(r, SOFTMAX_VARIANTS);
  double z[4], prob[4];
  if (variant == 0) {
    distinct_tenths(r, 3, -2, 3, z);
    softmax_checked(p, 3, z, prob);
    exam_ask(p, "Softmax of the logits z = %s: give the 3 probabilities.", list_g(3, z).s);
    softmax_steps(p, 3, z, prob);
    exam_answer_vector(p, 3, prob);
  } else if (variant == 1) {
    for (int i = 0; i < 4; i++) z[i] = exam_int(r, -2, 3);
    int k = exam_int(r, 0, 3);
    softmax_checked(p, 4, z, prob);
    exam_ask(p, "A classifier gives the logits z = %s for classes 0..3. What probability does softmax give "
             "class %d?", list_g(4, z).s, k);
    softmax_steps(p, 4, z, prob);
    exam_step(p, "p_%d = %.5g", k, prob[k]);
    exam_answer_real(p, prob[k]);
  } else {
    static const int temps10[] = {5, 20}; /* T = 0.5 or 2 */
    double T = exam_pick(r, 2, temps10) / 10.0, zt[3];
    distinct_tenths(r, 3, -2, 2, z);
    for (int i = 0; i < 3; i++) zt[i] = z[i] / T;
    softmax_checked(p, 3, zt, prob);
    exam_ask(p, "Softmax with temperature T = %g, p = softmax(z / T), of the logits z = %s: give the 3 "
             "probabilities.", T, list_g(3, z).s);
    exam_step(p, "z / T = %s (T < 1 sharpens, T > 1 flattens)", list_g(3, zt).s);
    softmax_steps(p, 3, zt, prob);
    exam_answer_vector(p, 3, prob);
  }
}

/* ==== loss ==== */

/* 0: MSE, 1: MAE, 2: Huber (delta 1) */
enum { REGRESSION_VARIANTS = 3 };

static void make_regression_loss(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, REGRESSION_VARIANTS), n = exam_int(r, 3, 4);
  double yhat[4] = {0}, y[4] = {0}, res[4] = {0}, per[4] = {0};
  for (int i = 0; i < n; i++) {
    yhat[i] = exam_tenths(r, -1, 3);
    y[i] = exam_tenths(r, -1, 3);
    res[i] = yhat[i] - y[i];
  }
  nn_tensor tp = tensor_of(1, n, yhat), tt = tensor_of(1, n, y);
  static const char *names[] = {"mean squared error (MSE)", "mean absolute error (MAE)",
                                "Huber loss with delta = 1 (mean over the elements)"};
  for (int i = 0; i < n; i++) {
    double a = fabs(res[i]);
    per[i] = variant == 0 ? a * a : variant == 1 ? a : a <= 1 ? a * a / 2 : a - 0.5;
  }
  double L = mean_of(n, per);
  check_library(p, L, variant == 0   ? nn_mse_loss(&tp, &tt, NULL)
                      : variant == 1 ? nn_mae_loss(&tp, &tt, NULL)
                                     : nn_huber_loss(&tp, &tt, 1.f, NULL));
  nn_tensor_free(&tp), nn_tensor_free(&tt);
  exam_ask(p, "Predictions %s, targets %s. What is the %s?", list_g(n, yhat).s, list_g(n, y).s, names[variant]);
  exam_step(p, "r = prediction - target = %s", list_g(n, res).s);
  if (variant == 0) exam_step(p, "r^2 = %s", list_4(n, per).s);
  if (variant == 1) exam_step(p, "|r| = %s", list_4(n, per).s);
  if (variant == 2) {
    exam_step(p, "per element: r^2 / 2 where |r| <= 1, else 1 * (|r| - 1/2)");
    exam_step(p, "= %s", list_4(n, per).s);
    exam_step(p, "(%s: %s, delta = 1.0 by default)", fw_name(fw),
              fw == NN_KERAS ? "keras.losses.Huber()" : "torch.nn.HuberLoss()");
  }
  exam_step(p, "mean over %d elements = %.5g", n, L);
  exam_answer_real(p, L);
}

/* 0: from probabilities (N = 3), 1: from logits (N = 2) */
enum { BCE_VARIANTS = 2 };

static void make_bce(nn_rng *r, nn_framework fw, exam_problem *p) {
  int from_logits = (int)nn_rng_below(r, BCE_VARIANTS), n = from_logits ? 2 : 3, y[3];
  double given[3], z[3], prob[3], per[3];
  for (int i = 0; i < n; i++) {
    y[i] = (int)nn_rng_below(r, 2);
    given[i] = from_logits ? nonzero_tenth(r, -2, 2, 0.1) : exam_tenths(r, 0.1, 0.9);
    /* the library's BCE takes logits: z = ln(p / (1 - p)) is the logit of a probability */
    z[i] = from_logits ? given[i] : log(given[i] / (1 - given[i]));
    prob[i] = from_logits ? 1 / (1 + exp(-z[i])) : given[i];
    per[i] = -(y[i] ? log(prob[i]) : log(1 - prob[i]));
  }
  double L = mean_of(n, per);
  nn_tensor tz = tensor_of(1, n, z);
  check_library(p, L, nn_bce_loss(&tz, y, NULL));
  nn_tensor_free(&tz);
  double yd[3] = {y[0], y[1], y[2]};
  if (from_logits)
    exam_ask(p, "A binary classifier outputs the logits z = %s for labels y = %s. What is the mean binary "
             "cross-entropy (natural log; %s)?", list_g(n, z).s, list_g(n, yd).s,
             fw == NN_KERAS ? "BinaryCrossentropy(from_logits=True)" : "nn.BCEWithLogitsLoss()");
  else
    exam_ask(p, "A binary classifier outputs the probabilities p = %s for labels y = %s. What is the mean "
             "binary cross-entropy (natural log; %s)?", list_g(n, given).s, list_g(n, yd).s,
             fw == NN_KERAS ? "BinaryCrossentropy(), from_logits=False by default" : "nn.BCELoss()");
  exam_step(p, "BCE = -(y ln p + (1 - y) ln(1 - p)) per example, then the mean");
  if (from_logits) exam_step(p, "p = sigmoid(z) = %s", list_4(n, prob).s);
  for (int i = 0; i < n; i++)
    exam_step(p, "y = %d: -ln(%s) = -ln(%.4g) = %.5g", y[i], y[i] ? "p" : "1 - p", y[i] ? prob[i] : 1 - prob[i],
              per[i]);
  exam_step(p, "mean = %.5g", L);
  exam_answer_real(p, L);
}

/* 0: one row of logits, 1: the mean over two rows, 2: from probabilities, 3: label smoothing 0.1 */
enum { CE_VARIANTS = 4 };

/* logsumexp(z) - z_label of 3 logits, with its steps */
static double ce_row_steps(exam_problem *p, const double *z, int label) {
  double m = fmax(z[0], fmax(z[1], z[2])), s = 0;
  for (int c = 0; c < 3; c++) s += exp(z[c] - m);
  double ce = m + log(s) - z[label];
  exam_step(p, "logsumexp(z) = m + ln sum e^(z - m) = %g + ln %.5g = %.5g", m, s, m + log(s));
  exam_step(p, "CE = logsumexp(z) - z_y = %.5g - %s = %.5g", m + log(s), N(z[label]), ce);
  return ce;
}

/* -sum_c t_c log softmax(z)_c = logsumexp(z) - sum_c t_c z_c, of 3 logits (t sums to 1) */
static double soft_ce(const double *z, const double *t) {
  double m = fmax(z[0], fmax(z[1], z[2])), s = 0, tz = 0;
  for (int c = 0; c < 3; c++) s += exp(z[c] - m), tz += t[c] * z[c];
  return m + log(s) - tz;
}

static void make_ce(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, CE_VARIANTS);
  const char *api = fw == NN_KERAS ? "SparseCategoricalCrossentropy(from_logits=True)" : "nn.CrossEntropyLoss()";
  double z[6];
  int y[2];
  if (variant == 0 || variant == 1) {
    int rows = variant + 1;
    for (int i = 0; i < 3 * rows; i++) z[i] = exam_tenths(r, -2, 3);
    for (int i = 0; i < rows; i++) y[i] = (int)nn_rng_below(r, 3);
    nn_tensor t = tensor_of(rows, 3, z);
    if (rows == 1) nn_tensor_reshape(&t, 2, (int[]){1, 3});
    double lib = nn_sparse_ce_loss(&t, y, NULL), ce[2];
    nn_tensor_free(&t);
    if (rows == 1)
      exam_ask(p, "Logits z = %s over 3 classes, true class y = %d (counting from 0). What is the "
               "cross-entropy loss (natural log; %s)?", list_g(3, z).s, y[0], api);
    else
      exam_ask(p, "A batch of two examples, logits %s and %s, true classes %d and %d. What is the mean "
               "cross-entropy (natural log; %s)?", list_g(3, z).s, list_g(3, z + 3).s, y[0], y[1], api);
    exam_step(p, "CE = -ln softmax(z)_y = logsumexp(z) - z_y");
    for (int i = 0; i < rows; i++) {
      if (rows > 1) exam_step(p, "example %d:", i + 1);
      ce[i] = ce_row_steps(p, z + 3 * i, y[i]);
    }
    double L = mean_of(rows, ce);
    check_library(p, L, lib);
    if (rows > 1) exam_step(p, "mean of the two = %.5g", L);
    exam_answer_real(p, L);
    return;
  }
  /* probabilities that sum to 1, in tenths, none 0 */
  int a = exam_int(r, 1, 7), b = exam_int(r, 1, 8 - a), label = (int)nn_rng_below(r, 3);
  double prob[3] = {a / 10.0, b / 10.0, (10 - a - b) / 10.0};
  for (int c = 0; c < 3; c++) z[c] = log(prob[c]); /* logits whose softmax is prob */
  nn_tensor t = tensor_of(1, 3, z);
  nn_tensor_reshape(&t, 2, (int[]){1, 3});
  if (variant == 2) {
    double L = -log(prob[label]);
    check_library(p, L, nn_sparse_ce_loss(&t, &label, NULL));
    exam_ask(p, "A model outputs the probabilities p = %s (after softmax) and the true class is %d "
             "(counting from 0). What is the cross-entropy loss (natural log)?", list_g(3, prob).s, label);
    exam_step(p, "CE = -ln p_y: only the probability of the true class counts");
    exam_step(p, "-ln %g = %.5g", prob[label], L);
    exam_answer_real(p, L);
  } else {
    double eps = 0.1, target[3];
    for (int c = 0; c < 3; c++) target[c] = (c == label ? 1 - eps : 0) + eps / 3;
    nn_tensor tt = tensor_of(1, 3, target);
    nn_tensor_reshape(&tt, 2, (int[]){1, 3});
    double L = -(target[0] * log(prob[0]) + target[1] * log(prob[1]) + target[2] * log(prob[2]));
    check_library(p, L, nn_categorical_ce_loss(&t, &tt, NULL));
    /* Keras' CategoricalCrossentropy takes probabilities (from_logits=False); PyTorch's
     * CrossEntropyLoss takes logits, so in its wording the question gives the logits ln p. */
    if (fw == NN_KERAS)
      exam_ask(p, "A model outputs the probabilities p = %s over 3 classes; the true class is %d (counting from 0). "
               "With label smoothing 0.1 (CategoricalCrossentropy(label_smoothing=0.1)), what is the cross-entropy "
               "(natural log)?", list_g(3, prob).s, label);
    else
      exam_ask(p, "A model outputs the logits z = ln p = %s over 3 classes (its softmax is p = %s); the true class "
               "is %d (counting from 0). What does nn.CrossEntropyLoss(label_smoothing=0.1) give (natural log)?",
               list_4(3, z).s, list_g(3, prob).s, label);
    exam_step(p, "smoothed target t = (1 - 0.1) onehot + 0.1 / 3 = %s", list_4(3, target).s);
    exam_step(p, "CE = -sum_c t_c ln p_c = -(%.4g ln %g + %.4g ln %g + %.4g ln %g)", target[0], prob[0], target[1],
              prob[1], target[2], prob[2]);
    exam_step(p, "ln p = [%.4g, %.4g, %.4g]; CE = %.5g", log(prob[0]), log(prob[1]), log(prob[2]), L);
    if (fw != NN_KERAS) { /* the classic slip: probabilities into a loss that applies softmax itself */
      nn_tensor probs = tensor_of(1, 3, prob);
      nn_tensor_reshape(&probs, 2, (int[]){1, 3});
      double twice = soft_ce(prob, target);
      check_library(p, twice, nn_categorical_ce_loss(&probs, &tt, NULL));
      exam_step(p, "(fed p instead of z, CrossEntropyLoss would softmax it a second time and give %.5g)", twice);
      nn_tensor_free(&probs);
    }
    nn_tensor_free(&tt);
    exam_answer_real(p, L);
  }
  nn_tensor_free(&t);
}

/* ==== optimizer: one weight, a step or two ==== */

/* nn_optim_step in float32: w after each of `steps` steps from w0 with the grads g[];
 * state0 > 0 presets adagrad's accumulator G (Keras starts it at 0.1, PyTorch and the
 * library at 0). */
static void optim_run(nn_optim_kind kind, const nn_optim_config *cfg, double w0, int steps, const double *g,
                      double state0, double *w_after) {
  float wf = (float)w0, zero = 0.f;
  nn_tensor w = nn_tensor_from(1, (int[]){1}, &wf), dw = nn_tensor_from(1, (int[]){1}, &zero);
  nn_param prm = {.name = "w", .value = &w, .grad = &dw};
  nn_optim o = nn_optim_new(kind, cfg, &prm, 1);
  if (state0 > 0) o.v[0].data[0] = (float)state0;
  for (int s = 0; s < steps; s++) {
    dw.data[0] = (float)g[s];
    nn_optim_step(&o);
    w_after[s] = w.data[0];
  }
  nn_optim_free(&o);
  nn_tensor_free(&w), nn_tensor_free(&dw);
}

/* An optimizer's settings, in double: 0.1 is 0.1, not the float 0.100000001 */
typedef struct {
  double lr, momentum, rho, beta1, beta2, eps, weight_decay;
  double G0; /* AdaGrad's accumulator at the start */
} optim_rule;

/* The library's update rules (nn_optim.c) in double, on one weight: w after each of `steps`
 * steps from w0 with the grads g[]. weight_decay is the L2 form, g + wd w, except in AdamW,
 * which shrinks w by lr wd w before its Adam step. Each w is checked against optim_run's.
 *   sgd       w -= lr g
 *   momentum  v = mu v + g;  w -= lr v           nesterov: w -= lr (g + mu v)
 *   adagrad   G += g^2;  w -= lr g / (sqrt(G) + eps)
 *   rmsprop   s = rho s + (1 - rho) g^2;  w -= lr g / (sqrt(s) + eps)
 *   adam      m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2;
 *             w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
static void optim_steps(const exam_problem *p, nn_optim_kind kind, optim_rule c, double w0, int steps,
                        const double *g, double *w_after) {
  double w = w0, m = 0, v = kind == NN_ADAGRAD ? c.G0 : 0;
  for (int t = 1; t <= steps; t++) {
    double gt = kind == NN_ADAMW ? g[t - 1] : g[t - 1] + c.weight_decay * w;
    switch (kind) {
    case NN_SGD: w -= c.lr * gt; break;
    case NN_MOMENTUM: m = c.momentum * m + gt, w -= c.lr * m; break;
    case NN_NESTEROV: m = c.momentum * m + gt, w -= c.lr * (gt + c.momentum * m); break;
    case NN_ADAGRAD: v += gt * gt, w -= c.lr * gt / (sqrt(v) + c.eps); break;
    case NN_RMSPROP: v = c.rho * v + (1 - c.rho) * gt * gt, w -= c.lr * gt / (sqrt(v) + c.eps); break;
    case NN_ADAM:
    case NN_ADAMW: {
      if (kind == NN_ADAMW) w -= c.lr * c.weight_decay * w;
      m = c.beta1 * m + (1 - c.beta1) * gt, v = c.beta2 * v + (1 - c.beta2) * gt * gt;
      double mhat = m / (1 - pow(c.beta1, t)), vhat = v / (1 - pow(c.beta2, t));
      w -= c.lr * mhat / (sqrt(vhat) + c.eps);
      break;
    }
    }
    w_after[t - 1] = w;
  }
  nn_optim_config f = nn_optim_defaults(kind);
  f.lr = (float)c.lr, f.momentum = (float)c.momentum, f.alpha = (float)c.rho, f.beta1 = (float)c.beta1;
  f.beta2 = (float)c.beta2, f.eps = (float)c.eps, f.weight_decay = (float)c.weight_decay;
  double lib[2];
  optim_run(kind, &f, w0, steps, g, c.G0, lib);
  for (int s = 0; s < steps; s++) check_library(p, w_after[s], lib[s]);
}

static void ask_grads(exam_problem *p, int steps, double w0, const double *g) {
  if (steps == 1) exam_ask(p, " The weight is w = %g and its gradient g = %g. What is w after one step?", w0, g[0]);
  else
    exam_ask(p, " The weight starts at w = %g; the gradient is g1 = %g at the first step and g2 = %g at the "
             "second. What is w after two steps?", w0, g[0], g[1]);
}

/* 0: sgd, 1: sgd with L2 weight decay, 2: momentum (2 steps), 3: nesterov (2 steps) */
enum { SGD_VARIANTS = 4 };

static void make_optim_sgd(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, SGD_VARIANTS), steps = variant >= 2 ? 2 : 1;
  double w0 = nonzero_tenth(r, -2, 2, 0.1), g[2] = {nonzero_tenth(r, -2, 2, 0.5), nonzero_tenth(r, -2, 2, 0.5)};
  double w[2];
  static const nn_optim_kind kinds[] = {NN_SGD, NN_SGD, NN_MOMENTUM, NN_NESTEROV};
  optim_steps(p, kinds[variant], (optim_rule){.lr = 0.1, .momentum = 0.9, .weight_decay = variant == 1 ? 0.1 : 0},
              w0, steps, g, w);
  const char *k = fw == NN_KERAS ? "keras.optimizers.SGD" : "torch.optim.SGD";
  switch (variant) {
  case 0:
    exam_ask(p, "Plain SGD (%s), learning rate 0.1.", k);
    ask_grads(p, 1, w0, g);
    exam_step(p, "w <- w - lr g = %g - 0.1 * %s = %.5g", w0, N(g[0]), w[0]);
    break;
  case 1:
    exam_ask(p, "SGD with learning rate 0.1 and weight decay 0.1 (%s).",
             fw == NN_KERAS ? "keras.optimizers.SGD(weight_decay=0.1); for plain SGD the decoupled "
                                "and the L2 forms give the same step"
                              : "torch.optim.SGD(weight_decay=0.1), the L2 form");
    ask_grads(p, 1, w0, g);
    exam_step(p, "g' = g + wd w = %g + 0.1 * %s = %.5g", g[0], N(w0), g[0] + 0.1 * w0);
    exam_step(p, "w <- w - lr g' = %g - 0.1 * %s = %.5g", w0, N(g[0] + 0.1 * w0), w[0]);
    break;
  default: {
    bool nesterov = variant == 3;
    exam_ask(p, "SGD with %smomentum 0.9, learning rate 0.1, velocity starting at 0 (%s(momentum=0.9%s)).",
             nesterov ? "Nesterov " : "", k, nesterov ? ", nesterov=True" : "");
    ask_grads(p, 2, w0, g);
    double v1 = g[0], v2 = 0.9 * v1 + g[1];
    exam_step(p, "PyTorch's form: v <- mu v + g, then w <- w - lr %s", nesterov ? "(g + mu v)" : "v");
    exam_step(p, "step 1: v = 0.9 * 0 + %s = %g", N(g[0]), v1);
    if (nesterov) exam_step(p, "        w = %g - 0.1 * (%g + 0.9 * %s) = %.5g", w0, g[0], N(v1), w[0]);
    else exam_step(p, "        w = %g - 0.1 * %s = %.5g", w0, N(v1), w[0]);
    exam_step(p, "step 2: v = 0.9 * %s + %s = %.5g", N(v1), N(g[1]), v2);
    if (nesterov) exam_step(p, "        w = %.5g - 0.1 * (%g + 0.9 * %s) = %.5g", w[0], g[1], N(v2), w[1]);
    else exam_step(p, "        w = %.5g - 0.1 * %s = %.5g", w[0], N(v2), w[1]);
    if (fw == NN_KERAS)
      exam_step(p, "(Keras keeps v' = mu v' - lr g and adds it to w: v' = -lr v, the same steps at a fixed lr)");
  }
  }
  exam_answer_real(p, w[steps - 1]);
}

/* 0: adagrad (2 steps), 1: rmsprop (1 step), 2: rmsprop (2 steps) */
enum { ADAPTIVE_VARIANTS = 3 };

static void make_optim_adaptive(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, ADAPTIVE_VARIANTS), steps = variant == 1 ? 1 : 2;
  double w0 = nonzero_tenth(r, -2, 2, 0.1), g[2] = {nonzero_tenth(r, -2, 2, 0.5), nonzero_tenth(r, -2, 2, 0.5)};
  double w[2];
  bool keras = fw == NN_KERAS;
  if (variant == 0) {
    double G0 = fw_default("adagrad_initial_accumulator", fw), eps = fw_default("adagrad_eps", fw);
    optim_steps(p, NN_ADAGRAD, (optim_rule){.lr = 0.1, .eps = eps, .G0 = G0}, w0, 2, g, w);
    exam_ask(p, "AdaGrad (%s) with learning rate 0.1 and the framework's other defaults (the accumulator G "
             "starts at %g, eps = %g).", keras ? "keras.optimizers.Adagrad" : "torch.optim.Adagrad", G0, eps);
    ask_grads(p, 2, w0, g);
    double G1 = G0 + g[0] * g[0], G2 = G1 + g[1] * g[1];
    exam_step(p, "G <- G + g^2, w <- w - lr g / (sqrt(G) + eps)");
    exam_step(p, "step 1: G = %g + %s^2 = %.5g, w = %g - 0.1 * %s / (%.5g + %g) = %.5g", G0, N(g[0]), G1, w0, N(g[0]),
              sqrt(G1), eps, w[0]);
    exam_step(p, "step 2: G = %.5g + %s^2 = %.5g, w = %.5g - 0.1 * %s / (%.5g + %g) = %.5g", G1, N(g[1]), G2, w[0],
              N(g[1]), sqrt(G2), eps, w[1]);
    exam_step(p, "(%s)", default_entry("adagrad_initial_accumulator")->explain);
  } else {
    double rho = fw_default("rmsprop_rho", fw), eps = fw_default("rmsprop_eps", fw);
    optim_steps(p, NN_RMSPROP, (optim_rule){.lr = 0.1, .rho = rho, .eps = eps}, w0, steps, g, w);
    exam_ask(p, "RMSProp (%s) with learning rate 0.1 and the framework's default decay %s = %g; s starts at 0.",
             keras ? "keras.optimizers.RMSprop" : "torch.optim.RMSprop", keras ? "rho" : "alpha", rho);
    ask_grads(p, steps, w0, g);
    exam_step(p, "s <- rho s + (1 - rho) g^2, w <- w - lr g / (sqrt(s) + eps), rho = %g", rho);
    double s1 = (1 - rho) * g[0] * g[0], s2 = rho * s1 + (1 - rho) * g[1] * g[1];
    exam_step(p, "step 1: s = %g * %s^2 = %.5g, sqrt(s) = %.5g, w = %g - 0.1 * %s / (%.5g + %g) = %.5g", 1 - rho,
              N(g[0]), s1, sqrt(s1), w0, N(g[0]), sqrt(s1), eps, w[0]);
    if (steps == 2)
      exam_step(p, "step 2: s = %g * %.5g + %g * %s^2 = %.5g, w = %.5g - 0.1 * %s / (%.5g + %g) = %.5g", rho, s1,
                1 - rho, N(g[1]), s2, w[0], N(g[1]), sqrt(s2), eps, w[1]);
    exam_step(p, "(the first step is 1 / sqrt(1 - rho) = %.4g times lr: RMSProp has no bias correction)",
              1 / sqrt(1 - rho));
    exam_step(p, "(%s)", default_entry("rmsprop_rho")->explain);
    if (keras) exam_step(p, "(%s With these numbers the difference is far below the tolerance.)",
                         default_entry("rmsprop_eps")->explain);
  }
  exam_answer_real(p, w[steps - 1]);
}

/* 0: adam t = 1, 1: adam t = 2, 2: adamw t = 1 */
enum { ADAM_VARIANTS = 3 };

/* ==== steps per epoch: nn_batches_per_epoch, the count every fit of the course runs */

/* 0: N / B, the last batch kept; 1: drop_last; 2: the size of the last batch; 3: after a
 * validation split (Keras' validation_split, the notes' 60,000 * 0.8 / 32 = 1,500) */
enum { STEPS_VARIANTS = 4 };

static void make_steps_per_epoch(nn_rng *r, nn_framework fw, exam_problem *p) {
  static const int SIZES[] = {1000, 1797, 5000, 8000, 10000, 50000, 60000};
  static const int BATCHES[] = {16, 32, 64, 100, 128, 256};
  int N = SIZES[nn_rng_below(r, 7)], B = BATCHES[nn_rng_below(r, 6)], variant = (int)nn_rng_below(r, STEPS_VARIANTS);
  const char *loader = fw == NN_KERAS ? "model.fit(x, y, batch_size=%d)" : "DataLoader(ds, batch_size=%d)";
  char how[96];
  snprintf(how, sizeof how, loader, B);
  if (variant == 3) {
    double split = nn_rng_below(r, 2) ? 0.2 : 0.1;
    int train = (int)(N * (1 - split)); /* Keras takes the last split of the rows as they are */
    int steps = nn_batches_per_epoch(train, B, false);
    exam_ask(p, "%d examples, model.fit(x, y, batch_size=%d, validation_split=%g): how many steps (batches) does "
             "one epoch of training take?", N, B, split);
    exam_step(p, "validation_split=%g holds out the last %g of the rows: %d * %g = %d examples train", split, split, N,
              1 - split, train);
    exam_step(p, "steps = ceil(%d / %d) = %d (the last batch smaller when %d does not divide %d)", train, B, steps, B,
              train);
    exam_answer_int(p, steps);
    return;
  }
  bool drop_last = variant == 1;
  int steps = nn_batches_per_epoch(N, B, drop_last), last = N - (nn_batches_per_epoch(N, B, false) - 1) * B;
  if (variant == 2) {
    exam_ask(p, "%d examples, %s: how many examples are in the last batch of an epoch?", N, how);
    exam_step(p, "%d = %d * %d + %d: %d full batches, then the rest", N, N / B, B, N % B, N / B);
    exam_step(p, "the last batch has %d examples%s", last, N % B ? "" : " (B divides N: every batch is full)");
    exam_answer_int(p, last);
    return;
  }
  if (drop_last)
    exam_ask(p, "%d examples, DataLoader(ds, batch_size=%d, drop_last=True): how many steps per epoch?", N, B);
  else
    exam_ask(p, "%d examples, %s: how many steps (batches) per epoch?", N, how);
  exam_step(p, "%d / %d = %.4g", N, B, (double)N / B);
  if (drop_last) exam_step(p, "drop_last skips the partial batch: floor = %d", steps);
  else exam_step(p, "the partial batch of %d counts as a step: ceil = %d (PyTorch's drop_last=False, Keras)", last, steps);
  exam_answer_int(p, steps);
}

static void make_optim_adam(nn_rng *r, nn_framework fw, exam_problem *p) {
  int variant = (int)nn_rng_below(r, ADAM_VARIANTS), steps = variant == 1 ? 2 : 1;
  double w0 = nonzero_tenth(r, -2, 2, 0.5), g[2] = {nonzero_tenth(r, -2, 2, 0.5), nonzero_tenth(r, -2, 2, 0.5)};
  double w[2], eps = fw_default("adam_eps", fw);
  bool keras = fw == NN_KERAS;
  optim_steps(p, variant == 2 ? NN_ADAMW : NN_ADAM,
              (optim_rule){.lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = eps, .weight_decay = variant == 2 ? 0.1 : 0},
              w0, steps, g, w);
  if (variant == 2)
    exam_ask(p, "AdamW (%s) with learning rate 0.1, weight_decay 0.1 (the default is %g), betas 0.9 / 0.999, "
             "eps %g, moments starting at 0.", keras ? "keras.optimizers.AdamW" : "torch.optim.AdamW",
             fw_default("adamw_weight_decay", fw), eps);
  else
    exam_ask(p, "Adam (%s) with learning rate 0.1, betas 0.9 / 0.999, eps %g, moments starting at 0.",
             keras ? "keras.optimizers.Adam" : "torch.optim.Adam", eps);
  ask_grads(p, steps, w0, g);
  exam_step(p, "m <- 0.9 m + 0.1 g, v <- 0.999 v + 0.001 g^2, mhat = m / (1 - 0.9^t), vhat = v / (1 - 0.999^t)");
  exam_step(p, "w <- w - lr mhat / (sqrt(vhat) + eps)");
  double m1 = 0.1 * g[0], v1 = 0.001 * g[0] * g[0];
  double wd = variant == 2 ? w0 - 0.1 * 0.1 * w0 : w0;
  if (variant == 2) exam_step(p, "AdamW decays first, outside the moments: w = %g - 0.1 * 0.1 * %s = %.5g", w0, N(w0), wd);
  exam_step(p, "t = 1: m = %.5g, v = %.5g, mhat = %.5g / 0.1 = %g, vhat = %.5g / 0.001 = %.5g", m1, v1, m1, g[0], v1,
            g[0] * g[0]);
  exam_step(p, "       w = %.5g - 0.1 * %s / (%g + %g) = %.5g (bias correction: the first step is lr * sign(g))", wd,
            N(g[0]), fabs(g[0]), eps, w[0]);
  if (steps == 2) {
    double m2 = 0.9 * m1 + 0.1 * g[1], v2 = 0.999 * v1 + 0.001 * g[1] * g[1];
    double mh = m2 / (1 - 0.81), vh = v2 / (1 - 0.999 * 0.999);
    exam_step(p, "t = 2: m = 0.9 * %s + 0.1 * %s = %.5g, v = 0.999 * %.5g + 0.001 * %s^2 = %.5g", N(m1), N(g[1]), m2, v1,
              N(g[1]), v2);
    exam_step(p, "       mhat = %.5g / 0.19 = %.5g, vhat = %.5g / 0.001999 = %.5g, sqrt(vhat) = %.5g", m2, mh, v2, vh,
              sqrt(vh));
    exam_step(p, "       w = %.5g - 0.1 * %s / (%.5g + %g) = %.5g", w[0], N(mh), sqrt(vh), eps, w[1]);
  }
  exam_step(p, "(eps: %s)", default_entry("adam_eps")->explain);
  exam_answer_real(p, w[steps - 1]);
}

/* ==== metrics ==== */

/* y_true, y_pred for a C x C matrix of counts: row t, column p, cm[t*C + p] copies of (t, p) */
static int labels_of(const int *counts, int C, int *y_true, int *y_pred) {
  int n = 0;
  for (int t = 0; t < C; t++)
    for (int q = 0; q < C; q++)
      for (int k = 0; k < counts[t * C + q]; k++) y_true[n] = t, y_pred[n] = q, n++;
  return n;
}

static void ask_matrix(exam_problem *p, const int *cm, int C) {
  exam_ask(p, "\n\n            ");
  for (int q = 0; q < C; q++) exam_ask(p, " pred %d", q);
  for (int t = 0; t < C; t++) {
    exam_ask(p, "\n    true %d  ", t);
    for (int q = 0; q < C; q++) exam_ask(p, " %6d", cm[t * C + q]);
  }
  exam_ask(p, "\n\n");
}

/* 0: precision, 1: recall, 2: F1, 3: accuracy, 4: specificity; of the positive class 1 */
enum { BINARY_METRIC_VARIANTS = 5 };

static void make_metrics_binary(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  int variant = (int)nn_rng_below(r, BINARY_METRIC_VARIANTS);
  int counts[4] = {exam_int(r, 10, 60), exam_int(r, 1, 20), exam_int(r, 1, 20), exam_int(r, 5, 40)};
  int y_true[200], y_pred[200], cm[4];
  int n = labels_of(counts, 2, y_true, y_pred);
  nn_confusion_matrix(y_true, y_pred, n, 2, cm);
  nn_class_report pos = nn_class_report_from_cm(cm, 2, 1), neg = nn_class_report_from_cm(cm, 2, 0);
  int TN = cm[0], FP = cm[1], FN = cm[2], TP = cm[3];
  static const char *names[] = {"precision", "recall", "F1 score", "accuracy", "specificity (recall of class 0)"};
  exam_ask(p, "A binary classifier's confusion matrix on %d examples (rows: true class, columns: predicted; "
           "class 1 is positive):", n);
  ask_matrix(p, cm, 2);
  exam_ask(p, "What is its %s?", names[variant]);
  exam_step(p, "TN = %d, FP = %d (true 0, predicted 1), FN = %d (true 1, predicted 0), TP = %d", TN, FP, FN, TP);
  double v = 0;
  switch (variant) {
  case 0: v = pos.precision; exam_step(p, "precision = TP / (TP + FP) = %d / %d = %.5g", TP, TP + FP, v); break;
  case 1: v = pos.recall; exam_step(p, "recall = TP / (TP + FN) = %d / %d = %.5g", TP, TP + FN, v); break;
  case 2:
    v = pos.f1;
    exam_step(p, "P = %d / %d = %.5g, R = %d / %d = %.5g", TP, TP + FP, pos.precision, TP, TP + FN, pos.recall);
    exam_step(p, "F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN) = %d / %d = %.5g", 2 * TP, 2 * TP + FP + FN, v);
    break;
  case 3:
    v = nn_accuracy(y_true, y_pred, n);
    exam_step(p, "accuracy = (TP + TN) / n = %d / %d = %.5g", TP + TN, n, v);
    break;
  case 4: v = neg.recall; exam_step(p, "specificity = TN / (TN + FP) = %d / %d = %.5g", TN, TN + FP, v); break;
  }
  exam_answer_real(p, v);
}

/* 0: macro precision, 1: macro recall, 2: macro F1, 3: micro F1, 4: one class's precision */
enum { MULTICLASS_VARIANTS = 5 };

static void make_metrics_multiclass(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  int variant = (int)nn_rng_below(r, MULTICLASS_VARIANTS), counts[9];
  for (int t = 0; t < 3; t++)
    for (int q = 0; q < 3; q++) counts[t * 3 + q] = t == q ? exam_int(r, 5, 20) : exam_int(r, 0, 5);
  int y_true[200], y_pred[200], cm[9];
  int n = labels_of(counts, 3, y_true, y_pred);
  nn_confusion_matrix(y_true, y_pred, n, 3, cm);
  nn_class_report rep[3];
  for (int k = 0; k < 3; k++) rep[k] = nn_class_report_from_cm(cm, 3, k);
  nn_prf macro = nn_prf_from_cm(cm, 3, NN_MACRO), micro = nn_prf_from_cm(cm, 3, NN_MICRO);
  int k = exam_int(r, 0, 2);
  static const char *names[] = {"macro-averaged precision", "macro-averaged recall", "macro-averaged F1",
                                "micro-averaged F1"};
  exam_ask(p, "A 3-class confusion matrix (rows: true class, columns: predicted):");
  ask_matrix(p, cm, 3);
  if (variant == 4) exam_ask(p, "What is the precision of class %d?", k);
  else exam_ask(p, "What is the %s?", names[variant]);
  double v;
  if (variant == 4) {
    v = rep[k].precision;
    exam_step(p, "precision_%d = TP / (column %d's sum) = %d / %d = %.5g", k, k, rep[k].tp, rep[k].tp + rep[k].fp, v);
  } else if (variant == 3) {
    v = micro.f1;
    exam_step(p, "micro: pool the counts; with one label per example micro P = micro R = micro F1 = accuracy");
    exam_step(p, "= trace / n = %d / %d = %.5g", cm[0] + cm[4] + cm[8], n, v);
  } else {
    for (int c = 0; c < 3; c++)
      exam_step(p, "class %d: TP = %d, FP = %d, FN = %d -> P = %.4g, R = %.4g, F1 = %.4g", c, rep[c].tp, rep[c].fp,
                rep[c].fn, rep[c].precision, rep[c].recall, rep[c].f1);
    v = variant == 0 ? macro.precision : variant == 1 ? macro.recall : macro.f1;
    exam_step(p, "macro = the plain mean of the three %s = %.5g", variant == 0 ? "precisions"
                                                                    : variant == 1 ? "recalls" : "F1s", v);
    if (variant == 2) exam_step(p, "(the mean of the per-class F1s, scikit-learn's; not the F1 of macro P and R)");
  }
  exam_answer_real(p, v);
}

/* 0: distinct scores, 1: one positive tied with one negative */
enum { AUC_VARIANTS = 2 };

static void make_roc_auc(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  int variant = (int)nn_rng_below(r, AUC_VARIANTS), P = exam_int(r, 2, 4), N = exam_int(r, 2, 4), n = P + N;
  int y[8], order[8];
  double s[8] = {0};
  distinct_tenths(r, n, 0.1, 0.9, s);
  nn_rng_permutation(r, order, n);
  for (int i = 0; i < n; i++) y[order[i]] = i < P; /* P positives at random places */
  if (variant == 1) { /* a positive takes a negative's score */
    int a = -1, b = -1;
    for (int i = 0; i < n; i++) {
      if (y[i] && a < 0) a = i;
      if (!y[i] && b < 0) b = i;
    }
    s[a] = s[b];
  }
  float sf[8];
  for (int i = 0; i < n; i++) sf[i] = (float)s[i];
  double lib = nn_roc_auc(y, sf, n), yd[8] = {0};
  for (int i = 0; i < n; i++) yd[i] = y[i];
  exam_ask(p, "Scores %s for labels %s (1 = positive). What is the ROC-AUC?", list_g(n, s).s, list_g(n, yd).s);
  exam_step(p, "AUC = P(a random positive scores above a random negative), a tie counting 1/2");
  double wins = 0;
  for (int i = 0; i < n; i++) {
    if (!y[i]) continue;
    double w = 0;
    for (int j = 0; j < n; j++)
      if (!y[j]) w += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
    exam_step(p, "positive with score %g is above %g of the %d negatives", s[i], w, N);
    wins += w;
  }
  double auc = wins / (P * N);
  check_library(p, auc, lib);
  exam_step(p, "AUC = %g / (%d * %d) = %.5g", wins, P, N, auc);
  exam_answer_real(p, auc);
}

/* ==== attention: the weights of one query, and the positional encoding ==== */

/* 0: the weights softmax(q k^T / sqrt d), 1: the output sum_j w_j v_j */
enum { ATTN_WEIGHT_VARIANTS = 2 };

static void make_attention_weights(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  int variant = (int)nn_rng_below(r, ATTN_WEIGHT_VARIANTS), d = 4;
  double q[4], k[3][4], v[3], score[3], w[3];
  for (int i = 0; i < d; i++) q[i] = exam_int(r, -1, 2);
  for (int j = 0; j < 3; j++) {
    for (int i = 0; i < d; i++) k[j][i] = exam_int(r, -1, 2);
    v[j] = exam_int(r, -2, 4);
  }
  for (int j = 0; j < 3; j++) {
    double dot = 0;
    for (int i = 0; i < d; i++) dot += q[i] * k[j][i];
    score[j] = dot / sqrt((double)d);
  }
  softmax_checked(p, 3, score, w); /* the dot products are here until chapter 05 */
  exam_ask(p, "Scaled dot-product attention, one query q = %s and three keys k1 = %s, k2 = %s, k3 = %s (d_k = 4)",
           list_g(4, q).s, list_g(4, k[0]).s, list_g(4, k[1]).s, list_g(4, k[2]).s);
  if (variant == 0) exam_ask(p, ". Give the 3 attention weights softmax(q k^T / sqrt(d_k)).");
  else exam_ask(p, ", with scalar values v = %s. What is the output sum_j w_j v_j?", list_g(3, v).s);
  exam_step(p, "q . k_j = %g, %g, %g; divided by sqrt(4) = 2: scores %s", score[0] * 2, score[1] * 2, score[2] * 2,
            list_g(3, score).s);
  softmax_steps(p, 3, score, w);
  if (variant == 0) {
    exam_answer_vector(p, 3, w);
    return;
  }
  double out = w[0] * v[0] + w[1] * v[1] + w[2] * v[2];
  exam_step(p, "output = %.4g * %s + %.4g * %s + %.4g * %s = %.5g", w[0], N(v[0]), w[1], N(v[1]), w[2], N(v[2]), out);
  exam_answer_real(p, out);
}

/* 0: an even column (sin), 1: an odd column (cos). Computed here: the library has no
 * Transformer until chapter 05. PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(same). */
enum { PE_VARIANTS = 2 };

static void make_positional_encoding(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  static const int dims[] = {4, 8, 16};
  int odd = (int)nn_rng_below(r, PE_VARIANTS), d = exam_pick(r, 3, dims), pos = exam_int(r, 1, 20);
  int i = exam_int(r, 0, d / 2 - 1), col = 2 * i + odd;
  double denom = pow(10000.0, 2.0 * i / d), angle = pos / denom, v = odd ? cos(angle) : sin(angle);
  exam_ask(p, "Sinusoidal positional encoding of the Transformer, d_model = %d: PE(pos, 2i) = sin(pos / "
           "10000^(2i/d_model)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)). What is PE(%d, %d) (radians, "
           "columns counted from 0)?", d, pos, col);
  exam_step(p, "column %d is %s, so 2i = %d and it is the %s", col, odd ? "odd" : "even", 2 * i, odd ? "cos" : "sin");
  exam_step(p, "10000^(%d/%d) = %.5g", 2 * i, d, denom);
  exam_step(p, "angle = %d / %.5g = %.5g rad", pos, denom, angle);
  exam_step(p, "%s(%.5g) = %.5g", odd ? "cos" : "sin", angle, v);
  exam_answer_real(p, v);
}

/* ==== rl: computed here until chapter 07 (RL) gives the library its own ==== */

/* 0: Q-learning, 1: Q-learning at a terminal state, 2: SARSA, 3: TD(0) on V */
enum { Q_VARIANTS = 4 };

static void make_q_update(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  static const int alphas10[] = {1, 2, 5}, gammas100[] = {90, 50, 99};
  int variant = (int)nn_rng_below(r, Q_VARIANTS);
  double alpha = exam_pick(r, 3, alphas10) / 10.0, gamma = exam_pick(r, 3, gammas100) / 100.0;
  double q = exam_tenths(r, 0, 5), rew = exam_int(r, -1, 5), next[3];
  for (int a = 0; a < 3; a++) next[a] = exam_tenths(r, 0, 5);
  int a2 = exam_int(r, 0, 2);
  double best = fmax(next[0], fmax(next[1], next[2]));
  double boot = variant == 0 ? best : variant == 1 ? 0 : variant == 2 ? next[a2] : next[0];
  double target = rew + gamma * boot, delta = target - q, updated = q + alpha * delta;
  switch (variant) {
  case 0:
  case 1:
    exam_ask(p, "Q-learning with alpha = %g, gamma = %g. The agent is in s, takes a, gets reward r = %g and lands "
             "in s'%s. Q(s, a) = %g; Q(s', .) = %s. What is Q(s, a) after the update?",
             alpha, gamma, rew, variant == 1 ? ", a terminal state" : "", q, list_g(3, next).s);
    exam_step(p, "Q(s, a) <- Q(s, a) + alpha (r + gamma max_a' Q(s', a') - Q(s, a))");
    if (variant == 0) exam_step(p, "max_a' Q(s', a') = %g; target = %g + %g * %g = %.5g", best, rew, gamma, best, target);
    else exam_step(p, "s' is terminal: no future, target = r = %g (Q(s', .) is ignored)", rew);
    break;
  case 2:
    exam_ask(p, "SARSA with alpha = %g, gamma = %g. From s the agent takes a, gets r = %g, lands in s' and there "
             "picks a' = %d. Q(s, a) = %g; Q(s', .) = %s for actions 0, 1, 2. What is Q(s, a) after the update?",
             alpha, gamma, rew, a2, q, list_g(3, next).s);
    exam_step(p, "SARSA bootstraps from the action taken: target = r + gamma Q(s', a')");
    exam_step(p, "target = %g + %g * %g = %.5g (Q-learning would use the max, %g)", rew, gamma, next[a2], target, best);
    break;
  default:
    exam_ask(p, "TD(0) with alpha = %g, gamma = %g: V(s) = %g, the agent gets r = %g and moves to s' with "
             "V(s') = %g. What is V(s) after the update?", alpha, gamma, q, rew, next[0]);
    exam_step(p, "V(s) <- V(s) + alpha (r + gamma V(s') - V(s))");
    exam_step(p, "target = %g + %g * %g = %.5g", rew, gamma, next[0], target);
  }
  exam_step(p, "TD error = %.5g - %g = %.5g", target, q, delta);
  exam_step(p, "new value = %g + %g * %s = %.5g", q, alpha, N(delta), updated);
  exam_answer_real(p, updated);
}

/* 0: G_0, 1: G_1 (from the second step), 2: an endless constant reward */
enum { RETURN_VARIANTS = 3 };

static void make_discounted_return(nn_rng *r, nn_framework fw, exam_problem *p) {
  (void)fw;
  static const int gammas10[] = {5, 8, 9};
  int variant = (int)nn_rng_below(r, RETURN_VARIANTS), n = exam_int(r, 3, 5);
  double gamma = exam_pick(r, 3, gammas10) / 10.0, rew[5] = {0};
  if (variant == 2) {
    double c = exam_int(r, 1, 5);
    double G = c / (1 - gamma);
    exam_ask(p, "An agent receives reward %g at every step, forever, discounted by gamma = %g. What is its "
             "return G = sum_k gamma^k r_k?", c, gamma);
    exam_step(p, "a geometric series: G = r (1 + gamma + gamma^2 + ...) = r / (1 - gamma)");
    exam_step(p, "= %g / %g = %.5g", c, 1 - gamma, G);
    exam_answer_real(p, G);
    return;
  }
  for (int k = 0; k < n; k++) rew[k] = exam_int(r, -1, 3);
  int from = variant;
  exam_ask(p, "An episode gives the rewards r_0..r_%d = %s, then ends. With gamma = %g, what is the return %s = "
           "sum_k gamma^k r_(t+k) from t = %d?", n - 1, list_g(n, rew).s, gamma, from ? "G_1" : "G_0", from);
  double G = 0, gk = 1;
  char terms[512] = "";
  for (int k = from; k < n; k++, gk *= gamma) {
    G += gk * rew[k];
    size_t used = strlen(terms);
    if (k - from < 2) snprintf(terms + used, sizeof terms - used, "%s%g * %s", k > from ? " + " : "", gk, N(rew[k]));
    else snprintf(terms + used, sizeof terms - used, " + %g^%d * %s", gamma, k - from, N(rew[k]));
  }
  exam_step(p, "G_%d = %s", from, terms);
  exam_step(p, "= %.5g", G);
  exam_step(p, "(backwards is quicker: G_t = r_t + gamma G_(t+1), from G_%d = r_%d = %g)", n - 1, n - 1, rew[n - 1]);
  exam_answer_real(p, G);
}

static const exam_family FAMILIES[] = {
    {"activation", "activation_value", "f(x) of sigmoid, tanh, ReLU, LeakyReLU, ELU, softplus, GELU, GELU-tanh",
     ACT_VARIANTS, make_activation},
    {"activation", "leaky_default", "default LeakyReLU slopes, layer and function, and what they do to x < 0",
     LEAKY_VARIANTS, make_leaky_default},
    {"activation", "softmax", "softmax of a vector: all probabilities, one class's, with a temperature",
     SOFTMAX_VARIANTS, make_softmax},
    {"loss", "regression_loss", "MSE, MAE, Huber of a small vector", REGRESSION_VARIANTS, make_regression_loss},
    {"loss", "bce", "binary cross-entropy from probabilities or from logits", BCE_VARIANTS, make_bce},
    {"loss", "cross_entropy", "cross-entropy: one row, a batch of two, from probabilities, label smoothing",
     CE_VARIANTS, make_ce},
    {"optimizer", "sgd_step", "SGD, SGD + weight decay, momentum and Nesterov over two steps", SGD_VARIANTS,
     make_optim_sgd},
    {"optimizer", "adaptive_step", "AdaGrad (two steps), RMSProp (one and two steps), framework defaults",
     ADAPTIVE_VARIANTS, make_optim_adaptive},
    {"optimizer", "adam_step", "Adam at t = 1 and t = 2 (bias correction), AdamW", ADAM_VARIANTS, make_optim_adam},
    {"optimizer", "steps_per_epoch", "steps per epoch: the last partial batch, drop_last, a validation split",
     STEPS_VARIANTS, make_steps_per_epoch},
    {"metrics", "binary_metrics", "precision, recall, F1, accuracy, specificity from a 2x2 confusion matrix",
     BINARY_METRIC_VARIANTS, make_metrics_binary},
    {"metrics", "multiclass_metrics", "macro P/R/F1, micro F1, one class's precision from a 3x3 matrix",
     MULTICLASS_VARIANTS, make_metrics_multiclass},
    {"metrics", "roc_auc", "ROC-AUC of a few scores, with and without a tie", AUC_VARIANTS, make_roc_auc},
    {"attention", "attention_weights", "softmax(q k^T / sqrt d) of one query, and the weighted sum of values",
     ATTN_WEIGHT_VARIANTS, make_attention_weights},
    {"attention", "positional_encoding", "sinusoidal PE(pos, 2i) = sin(...), PE(pos, 2i+1) = cos(...)", PE_VARIANTS,
     make_positional_encoding},
    {"rl", "td_update", "Q-learning, at a terminal state, SARSA, TD(0)", Q_VARIANTS, make_q_update},
    {"rl", "discounted_return", "G = sum gamma^k r_k of an episode, from t = 0 or 1, and r / (1 - gamma)",
     RETURN_VARIANTS, make_discounted_return},
};

const exam_family *exam_value_families(int *n) {
  *n = (int)(sizeof FAMILIES / sizeof FAMILIES[0]);
  return FAMILIES;
}
