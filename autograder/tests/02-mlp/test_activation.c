/* Element-wise activations and the row-wise softmax: hand-worked values of every
 * forward, each backward against central differences of the function written here
 * in double precision, accumulation, shape errors, and the names.
 *
 *   dx += dy * f'(x)  elementwise;   softmax:  dx_k += y_k (dy_k - sum_j dy_j y_j)
 *
 * Graded (GRADED): the gradchecks of sigmoid, tanh and ReLU, and the accumulation. Each
 * answers the y and dx the code under test computed; the references here come from the
 * inputs alone, so the grader's checker judges the answers against them.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "graded.h"
#include "nn_activation.h"
#include "nn_parallel.h"
#include "nn_rng.h"

/* |a - n| / max(|a|, |n|, 1e-3): relative, except that values near 0 are compared
 * absolutely (a float derivative near 0 is good to about 1e-7, not to 1e-4 of itself). */
static const double PI = 3.14159265358979323846;

static double rel_error(double a, double n) { return fabs(a - n) / fmax(fmax(fabs(a), fabs(n)), 1e-3); }

/* ---- the definitions, in double */
static double f_ref(nn_activation act, double x) {
  double a = act.alpha;
  switch (act.kind) {
  case NN_ACT_SIGMOID: return 1 / (1 + exp(-x));
  case NN_ACT_TANH: return tanh(x);
  case NN_ACT_RELU: return x > 0 ? x : 0;
  case NN_ACT_LEAKY_RELU: return x > 0 ? x : a * x;
  case NN_ACT_ELU: return x > 0 ? x : a * (exp(x) - 1);
  case NN_ACT_SOFTPLUS: return log1p(exp(-fabs(x))) + fmax(x, 0);
  case NN_ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
  case NN_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / PI) * (x + 0.044715 * x * x * x)));
  case NN_ACT_SILU: return x / (1 + exp(-x));
  case NN_ACT_SELU: return 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (exp(x) - 1));
  case NN_ACT_RELU6: return fmin(fmax(x, 0), 6);
  case NN_ACT_COUNT: break;
  }
  cr_assert_fail("f_ref: kind %d", (int)act.kind);
  return 0;
}

static nn_tensor vec(int n, const float *v) { return nn_tensor_from(1, (int[]){n}, v); }

/* ---- forward by hand */
typedef struct {
  nn_activation_kind kind;
  float alpha; /* < 0: the default */
  float x;
  double want;
  const char *why;
} hand_case;

Test(activation, forward_by_hand) {
  const double e = exp(1.0);
  hand_case cases[] = {
      {NN_ACT_SIGMOID, -1, 0.f, 0.5, "1 / (1 + e^0)"},
      {NN_ACT_SIGMOID, -1, 2.f, 1 / (1 + exp(-2.0)), "1 / (1 + e^-2)"},
      {NN_ACT_SIGMOID, -1, -100.f, 3.720075976020836e-44, "e^-100 / (1 + e^-100), finite"},
      {NN_ACT_TANH, -1, 0.f, 0.0, "tanh 0"},
      {NN_ACT_TANH, -1, 1.f, (e - 1 / e) / (e + 1 / e), "(e - 1/e) / (e + 1/e)"},
      {NN_ACT_RELU, -1, -2.f, 0.0, "max(-2, 0)"},
      {NN_ACT_RELU, -1, 3.f, 3.0, "max(3, 0)"},
      {NN_ACT_LEAKY_RELU, -1, -2.f, -0.02, "0.01 x -2 (default alpha 0.01)"},
      {NN_ACT_LEAKY_RELU, -1, 3.f, 3.0, "x for x > 0"},
      {NN_ACT_LEAKY_RELU, 0.2f, -1.f, -0.2, "0.2 x -1 (alpha 0.2)"},
      {NN_ACT_ELU, -1, -1.f, 1 / e - 1, "e^-1 - 1 (default alpha 1)"},
      {NN_ACT_ELU, -1, 2.f, 2.0, "x for x > 0"},
      {NN_ACT_ELU, 0.5f, -1.f, 0.5 * (1 / e - 1), "0.5 (e^-1 - 1) (alpha 0.5)"},
      {NN_ACT_SOFTPLUS, -1, 0.f, log(2.0), "ln 2"},
      {NN_ACT_SOFTPLUS, -1, 1.f, log(1 + e), "ln(1 + e)"},
      {NN_ACT_SOFTPLUS, -1, 1000.f, 1000.0, "1000 + ln(1 + e^-1000); e^1000 overflows"},
      {NN_ACT_SOFTPLUS, -1, -1000.f, 0.0, "ln(1 + e^-1000)"},
      {NN_ACT_GELU, -1, 0.f, 0.0, "0 Phi(0)"},
      {NN_ACT_GELU, -1, 1.f, 0.8413447460685429, "1 Phi(1)"},
      {NN_ACT_GELU, -1, -1.f, -0.15865525393145707, "-1 Phi(-1)"},
      {NN_ACT_GELU_TANH, -1, 1.f, 0.8411919906082768, "1/2 (1 + tanh(sqrt(2/pi) 1.044715))"},
      {NN_ACT_GELU_TANH, -1, -1.f, -0.15880800939172324, "-1/2 (1 - tanh(sqrt(2/pi) 1.044715))"},
      {NN_ACT_SILU, -1, 1.f, 1 / (1 + 1 / e), "1 sigmoid(1) = 0.7310585786"},
      {NN_ACT_SILU, -1, -2.f, -2 / (1 + e * e), "-2 sigmoid(-2) = -0.2384058440"},
      {NN_ACT_SELU, -1, 1.f, 1.0507009873554805, "lambda 1"},
      {NN_ACT_SELU, -1, -1.f, 1.0507009873554805 * 1.6732632423543772 * (1 / e - 1),
       "lambda alpha (e^-1 - 1) = -1.1113307378"},
      {NN_ACT_RELU6, -1, -1.f, 0.0, "min(max(-1, 0), 6)"},
      {NN_ACT_RELU6, -1, 3.5f, 3.5, "min(max(3.5, 0), 6)"},
      {NN_ACT_RELU6, -1, 7.f, 6.0, "min(max(7, 0), 6): capped"},
  };
  int n = (int)(sizeof cases / sizeof cases[0]);
  for (int k = 0; k < n; k++) {
    hand_case c = cases[k];
    nn_activation act = nn_activation_of(c.kind);
    if (c.alpha >= 0.f) act.alpha = c.alpha;
    nn_tensor x = vec(1, &c.x), y = vec(1, (float[]){-7.f});
    nn_activation_forward(&act, &x, &y);
    float got = y.data[0];
    cr_assert(isfinite(got) && fabs(got - c.want) <= 1e-6 * fmax(1, fabs(c.want)),
              "%s(%g) = %.9g, expected %.9g = %s", nn_activation_name(c.kind), c.x, got, c.want, c.why);
    nn_tensor_free(&x), nn_tensor_free(&y);
  }
}

/* Forward writes every element of a 4-D tensor, and y == x (in place) works. */
Test(activation, forward_any_shape_and_in_place) {
  nn_rng rng = nn_rng_new(3);
  int shape[4] = {2, 3, 2, 2};
  nn_tensor x = nn_tensor_new(4, shape, NN_CPU), y = nn_tensor_new(4, shape, NN_CPU);
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_activation act = nn_activation_of((nn_activation_kind)k);
    nn_rng_fill_uniform(&rng, x.data, 24, -3.f, 3.f);
    nn_activation_forward(&act, &x, &y);
    nn_activation_forward(&act, &x, &x);
    for (int i = 0; i < 24; i++)
      cr_assert_eq(x.data[i], y.data[i], "%s in place: element %d is %.9g, out of place %.9g",
                   nn_activation_name(act.kind), i, x.data[i], y.data[i]);
  }
  nn_tensor_free(&x), nn_tensor_free(&y);
}

/* The kinds' names in answers: an answer's name must not come from the code under test. */
static const char *const KIND_NAMES[] = {"sigmoid", "tanh", "relu", "leaky_relu", "elu",  "softplus",
                                         "gelu",    "gelu_tanh", "silu", "selu",    "relu6"};
_Static_assert(sizeof KIND_NAMES / sizeof KIND_NAMES[0] == NN_ACT_COUNT, "a name for every activation kind");

/* ---- gradient check: for x of shape (2, 3, 4) (drawn: (1..5, 1..5, 2..8)) and a random
 * dy, dx[i] must be dy[i] f'(x[i]) with f' the central difference of f_ref, h = 1e-5 in
 * double (truncation error ~h^2 f''' ~ 1e-10). |x| > 1e-2 keeps x +/- h off the kinks of
 * ReLU, LeakyReLU and ELU (alpha != 1). x spans [-5, 5] plus +/-12, where sigmoid
 * and tanh saturate and 1 - y^2 in float must still be right to 1e-7. y and dx are the
 * answers; the references come from x and dy alone. dy ~ N(0, 1) in public, uniform in
 * [-1, 1] when drawn: 1 - y^2 in float is off by up to 8.9e-8 (tanh at x = -4.679, every
 * float with |x| in [0.01, 5] tried), so the 1e-7 above holds for |dy| <= 1 only. */
static void gradcheck(nn_grade *g, nn_activation act, uint64_t seed) {
  const char *name = nn_activation_name(act.kind);
  int shape[3] = {nn_grade_size(g, 2, 1, 5), nn_grade_size(g, 3, 1, 5), nn_grade_size(g, 4, 2, 8)};
  int n = shape[0] * shape[1] * shape[2];
  nn_rng rng = nn_rng_new(nn_grade_seed(g, seed));
  nn_tensor x = nn_tensor_new(3, shape, NN_CPU), y = nn_tensor_new(3, shape, NN_CPU);
  nn_tensor dy = nn_tensor_new(3, shape, NN_CPU), dx = nn_tensor_new(3, shape, NN_CPU);
  nn_rng_fill_uniform(&rng, x.data, n, -5.f, 5.f);
  for (int i = 0; i < n; i++)
    if (fabsf(x.data[i]) < 1e-2f) x.data[i] += x.data[i] < 0.f ? -0.1f : 0.1f;
  x.data[0] = -12.f, x.data[1] = 12.f;
  if (nn_grade_public(g))
    nn_rng_fill_normal(&rng, dy.data, n, 0.f, 1.f);
  else
    nn_rng_fill_uniform(&rng, dy.data, n, -1.f, 1.f);
  nn_activation_forward(&act, &x, &y);
  answer(g, "y (your forward)", y.data, n);
  for (int i = 0; i < n; i++) {
    double want = f_ref(act, x.data[i]);
    expect(g, rel_error(y.data[i], want) < 1e-5, "%s forward at x%s = %.7g: got %.9g, expected %.9g", name,
           nn_grade_where(i, 3, shape).s, x.data[i], y.data[i], want);
  }
  nn_activation_backward(&act, &x, &y, &dy, &dx);
  answer(g, "dx (your backward)", dx.data, n);
  const double h = 1e-5;
  for (int i = 0; i < n; i++) {
    double xi = x.data[i];
    double numeric = dy.data[i] * (f_ref(act, xi + h) - f_ref(act, xi - h)) / (2 * h);
    expect(g, rel_error(dx.data[i], numeric) < 1e-4,
           "%s backward, dx%s of (%d, %d, %d) (x = %.7g, dy = %.7g): analytic %.9g, numeric %.9g "
           "(relative error %.2g)", name, nn_grade_where(i, 3, shape).s, shape[0], shape[1], shape[2], x.data[i],
           dy.data[i], dx.data[i], numeric, rel_error(dx.data[i], numeric));
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
}

static nn_activation with_alpha(nn_activation_kind kind, float alpha) {
  nn_activation a = nn_activation_of(kind);
  a.alpha = alpha;
  return a;
}

GRADED_TEST(activation, gradcheck_sigmoid) { gradcheck(g, nn_activation_of(NN_ACT_SIGMOID), 21); }
GRADED_TEST(activation, gradcheck_tanh) { gradcheck(g, nn_activation_of(NN_ACT_TANH), 22); }
GRADED_TEST(activation, gradcheck_relu) { gradcheck(g, nn_activation_of(NN_ACT_RELU), 23); }
GRADED_TEST(activation, gradcheck_leaky_relu) {
  gradcheck(g, nn_activation_of(NN_ACT_LEAKY_RELU), 24);
  gradcheck(g, with_alpha(NN_ACT_LEAKY_RELU, 0.2f), 25);
}
GRADED_TEST(activation, gradcheck_elu) {
  gradcheck(g, nn_activation_of(NN_ACT_ELU), 26);
  gradcheck(g, with_alpha(NN_ACT_ELU, 0.7f), 27);
}
GRADED_TEST(activation, gradcheck_softplus) { gradcheck(g, nn_activation_of(NN_ACT_SOFTPLUS), 28); }
GRADED_TEST(activation, gradcheck_gelu) { gradcheck(g, nn_activation_of(NN_ACT_GELU), 29); }
GRADED_TEST(activation, gradcheck_gelu_tanh) { gradcheck(g, nn_activation_of(NN_ACT_GELU_TANH), 30); }
GRADED_TEST(activation, gradcheck_silu) { gradcheck(g, nn_activation_of(NN_ACT_SILU), 32); }
GRADED_TEST(activation, gradcheck_selu) { gradcheck(g, nn_activation_of(NN_ACT_SELU), 33); }
GRADED_TEST(activation, gradcheck_relu6) { gradcheck(g, nn_activation_of(NN_ACT_RELU6), 34); }

/* ReLU6's two kinks take derivative 0, as PyTorch's hardtanh backward: at 0 and at 6. */
Test(activation, relu6_is_flat_at_both_kinks_and_one_between) {
  nn_activation act = nn_activation_of(NN_ACT_RELU6);
  float xs[5] = {-1.f, 0.f, 3.f, 6.f, 7.f}, want[5] = {0, 0, 1, 0, 0};
  nn_tensor x = vec(5, xs), y = nn_tensor_new(1, (int[]){5}, NN_CPU), dy = vec(5, (float[]){1, 1, 1, 1, 1});
  nn_tensor dx = nn_tensor_new(1, (int[]){5}, NN_CPU);
  nn_activation_forward(&act, &x, &y);
  nn_activation_backward(&act, &x, &y, &dy, &dx);
  for (int i = 0; i < 5; i++)
    cr_assert_eq(dx.data[i], want[i], "relu6'(%g) = %g, expected %g", xs[i], dx.data[i], want[i]);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
}

/* Graded: ReLU's kink takes derivative 0, as PyTorch's and TensorFlow's, so a unit that is
 * exactly 0 (a ReLU of a ReLU, a zero-padded input) passes no gradient: dx = dy [x > 0],
 * 0 at x = 0 and at x = -0, dy at the smallest positive float. The gradcheck keeps x off
 * the kink, so only this test sees it. x: (4, 5) in public, drawn (1..6, 2..9), a third of it
 * exactly 0 or -0 (where: drawn), a third +/-1e-45 or 1, the rest random; dx starts at 0. */
GRADED_TEST(activation, relu_kink_takes_derivative_0) {
  int shape[2] = {nn_grade_size(g, 4, 1, 6), nn_grade_size(g, 5, 2, 9)}, n = shape[0] * shape[1];
  nn_activation act = nn_activation_of(NN_ACT_RELU);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 35));
  nn_tensor x = nn_tensor_new(2, shape, NN_CPU), y = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, shape, NN_CPU), dx = nn_tensor_new(2, shape, NN_CPU);
  const float special[6] = {0.f, -0.f, 0.f, 1e-45f, -1e-45f, 1.f};
  nn_rng_fill_uniform(&rng, x.data, n, -2.f, 2.f);
  nn_rng_fill_normal(&rng, dy.data, n, 0.f, 1.f);
  for (int i = 0; i < n; i++) {
    uint32_t pick = nn_rng_below(&rng, 9); /* 0..2: 0 or -0 (a third); 3..5: +/-1e-45 or 1; 6..8: random */
    if (pick < 6) x.data[i] = special[pick];
  }
  x.data[0] = 0.f, dy.data[0] = 1.f, x.data[n - 1] = 1.f, dy.data[n - 1] = 1.f; /* a kink and a slope, always */
  nn_activation_forward(&act, &x, &y);
  nn_activation_backward(&act, &x, &y, &dy, &dx);
  answer(g, "dx (your ReLU backward)", dx.data, n);
  for (int i = 0; i < n; i++) {
    float want = x.data[i] > 0.f ? dy.data[i] : 0.f;
    expect(g, dx.data[i] == want, "relu backward, dx%s = %.7g at x = %g (dy = %.7g): expected %.7g%s",
           nn_grade_where(i, 2, shape).s, dx.data[i], x.data[i], dy.data[i], want,
           x.data[i] == 0.f ? " (relu'(0) is 0: the gradient stops at the kink, as in PyTorch)" : "");
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
}

/* Backward adds: with dx = 0.5 beforehand, two calls give 0.5 + 2 g, g = one call on
 * dx = 0. x is (3, 4) in public, drawn (1..6, 1..9); g and dx are both answers. */
GRADED_TEST(activation, backward_accumulates) {
  int shape[2] = {nn_grade_size(g, 3, 1, 6), nn_grade_size(g, 4, 1, 9)}, n = shape[0] * shape[1];
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 31));
  nn_tensor x = nn_tensor_new(2, shape, NN_CPU), y = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, shape, NN_CPU), once = nn_tensor_new(2, shape, NN_CPU);
  nn_tensor dx = nn_tensor_new(2, shape, NN_CPU);
  double want[6 * 9];
  float before[6 * 9];
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_activation act = nn_activation_of((nn_activation_kind)k);
    nn_rng_fill_uniform(&rng, x.data, n, -3.f, 3.f);
    nn_rng_fill_normal(&rng, dy.data, n, 0.f, 1.f);
    nn_activation_forward(&act, &x, &y);
    nn_tensor_fill(&once, 0.f);
    nn_activation_backward(&act, &x, &y, &dy, &once);
    nn_tensor_fill(&dx, 0.5f);
    nn_activation_backward(&act, &x, &y, &dy, &dx);
    nn_activation_backward(&act, &x, &y, &dy, &dx);
    char what[48];
    snprintf(what, sizeof what, "%s: dx after one call on dx = 0", KIND_NAMES[k]);
    answer(g, what, once.data, n);
    snprintf(what, sizeof what, "%s: dx after two calls on dx = 0.5", KIND_NAMES[k]);
    answer(g, what, dx.data, n);
    /* for the feedback: what right code leaves after two calls, and after the first */
    for (int i = 0; i < n; i++) want[i] = 0.5 + 2.0 * once.data[i], before[i] = 0.5f + once.data[i];
    for (int i = 0; i < n; i++)
      expect_near(g, dx.data[i], 0.5f + 2 * once.data[i], 1e-5,
                  "%s: dx%s = %.7g after two calls on dx = 0.5, expected 0.5 + 2 x %.7g "
                  "(backward adds into dx, never overwrites it)%s", nn_activation_name(act.kind),
                  nn_grade_where(i, 2, shape).s, dx.data[i], once.data[i],
                  nn_grade_diagnose(dx.data, want, before, n, 2, shape).s);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&once), nn_tensor_free(&dx);
}

/* ---- shape and device errors */
Test(activation, forward_shape_mismatch_aborts, .signal = SIGABRT) {
  nn_activation act = nn_activation_of(NN_ACT_RELU);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){3, 2}, NN_CPU);
  nn_activation_forward(&act, &x, &y); /* (2, 3) into (3, 2) */
}

Test(activation, backward_shape_mismatch_aborts, .signal = SIGABRT) {
  nn_activation act = nn_activation_of(NN_ACT_TANH);
  nn_tensor x = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), y = nn_tensor_new(2, (int[]){2, 3}, NN_CPU);
  nn_tensor dy = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), dx = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_activation_backward(&act, &x, &y, &dy, &dx); /* dx (2, 4) for x (2, 3) */
}

/* x claims to be on the GPU, y is on the CPU: the op must stop at its checks, before
 * its device switch (no CUDA call is made, so this runs with or without a GPU).
 * test_gpu.c compares the GPU path with this file's CPU one. */
Test(activation, tensors_on_two_devices_abort, .signal = SIGABRT) {
  nn_activation act = nn_activation_of(NN_ACT_RELU);
  float v[2] = {1.f, -1.f}, w[2];
  nn_tensor x = {.data = v, .shape = {2}, .ndim = 1, .device = NN_GPU};
  nn_tensor y = {.data = w, .shape = {2}, .ndim = 1, .device = NN_CPU};
  nn_activation_forward(&act, &x, &y);
}

/* ---- names */
Test(activation, names_round_trip) {
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    const char *name = nn_activation_name((nn_activation_kind)k);
    nn_activation act = {.kind = NN_ACT_COUNT, .alpha = -1.f};
    nn_error err = {0};
    nn_status s = nn_activation_parse(name, &act, &err);
    cr_assert(s == NN_OK && act.kind == (nn_activation_kind)k,
              "parse(\"%s\") gave %s, kind %d; expected NN_OK, kind %d", name, nn_status_name(s),
              (int)act.kind, k);
    cr_assert_eq(act.alpha, nn_activation_of((nn_activation_kind)k).alpha, "parse(\"%s\"): alpha %g", name,
                 act.alpha);
  }
  cr_assert_float_eq(nn_activation_of(NN_ACT_LEAKY_RELU).alpha, 0.01f, 1e-9f, "LeakyReLU's default slope");
  cr_assert_float_eq(nn_activation_of(NN_ACT_ELU).alpha, 1.f, 1e-9f, "ELU's default alpha");
}

Test(activation, unknown_name_lists_the_known_ones) {
  nn_activation act = nn_activation_of(NN_ACT_TANH);
  nn_error err = {0};
  nn_status s = nn_activation_parse("ReLu", &act, &err);
  cr_assert_eq(s, NN_ERR_ARG, "parse(\"ReLu\") gave %s, expected NN_ERR_ARG", nn_status_name(s));
  cr_assert_eq(err.code, NN_ERR_ARG, "err.code is %s", nn_status_name(err.code));
  cr_assert(strstr(err.msg, "ReLu"), "the message should quote the bad name: \"%s\"", err.msg);
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    const char *name = nn_activation_name((nn_activation_kind)k);
    cr_assert(strstr(err.msg, name), "the message should list \"%s\": \"%s\"", name, err.msg);
  }
  cr_assert_eq(act.kind, NN_ACT_TANH, "a failed parse must leave *act as it was");
  cr_assert_eq(nn_activation_parse("gelu_tanh ", &act, NULL), NN_ERR_ARG, "a trailing space is not a name");
}

/* ---- softmax */

/* Rows [0, ln 2, ln 3] -> [1, 2, 3]/6;  [1000, 1000, 999] -> [1, 1, 1/e]/(2 + 1/e), where
 * e^1000 overflows a float;  [-1000, 0, 1000] -> [0, e^-1000, 1]. */
Test(softmax, forward_by_hand_and_large_logits) {
  float v[9] = {0.f, logf(2.f), logf(3.f), 1000.f, 1000.f, 999.f, -1000.f, 0.f, 1000.f};
  nn_tensor x = nn_tensor_from(2, (int[]){3, 3}, v), y = nn_tensor_new(2, (int[]){3, 3}, NN_CPU);
  nn_softmax_forward(&x, &y);
  double z = 2 + exp(-1.0);
  double want[9] = {1 / 6., 2 / 6., 3 / 6., 1 / z, 1 / z, exp(-1.0) / z, 0, 0, 1};
  for (int i = 0; i < 9; i++)
    cr_assert(isfinite(y.data[i]) && fabs(y.data[i] - want[i]) < 1e-6,
              "softmax row %d, column %d: got %.9g, expected %.9g (subtract the row's max before e^)", i / 3,
              i % 3, y.data[i], want[i]);
  nn_tensor_free(&x), nn_tensor_free(&y);
}

/* Logits of scale 100 in a (5, 10) tensor: every probability finite, every row sums to 1. */
Test(softmax, rows_sum_to_one) {
  nn_rng rng = nn_rng_new(41);
  nn_tensor x = nn_tensor_new(2, (int[]){5, 10}, NN_CPU), y = nn_tensor_new(2, (int[]){5, 10}, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, 50, 0.f, 100.f);
  nn_softmax_forward(&x, &y);
  for (int r = 0; r < 5; r++) {
    double s = 0;
    for (int c = 0; c < 10; c++) {
      float p = y.data[r * 10 + c];
      cr_assert(isfinite(p) && p >= 0.f && p <= 1.f, "softmax[%d][%d] = %g, expected a probability", r, c, p);
      s += p;
    }
    cr_assert(fabs(s - 1) < 1e-5, "softmax row %d sums to %.9g, expected 1", r, s);
  }
  nn_tensor_free(&x), nn_tensor_free(&y);
}

/* L = sum_{r,c} dy_rc softmax(x_r)_c, in double, for x (2, 3, 5): 6 rows of 5. */
enum { SR = 6, SC = 5 };

static double softmax_loss_ref(const double *x, const float *dy) {
  double L = 0;
  for (int r = 0; r < SR; r++) {
    const double *x_r = x + r * SC;
    double m = x_r[0], s = 0;
    for (int c = 1; c < SC; c++) m = fmax(m, x_r[c]);
    for (int c = 0; c < SC; c++) s += exp(x_r[c] - m);
    for (int c = 0; c < SC; c++) L += dy[r * SC + c] * exp(x_r[c] - m) / s;
  }
  return L;
}

Test(softmax, gradcheck) {
  nn_rng rng = nn_rng_new(42);
  int shape[3] = {2, 3, SC};
  nn_tensor x = nn_tensor_new(3, shape, NN_CPU), y = nn_tensor_new(3, shape, NN_CPU);
  nn_tensor dy = nn_tensor_new(3, shape, NN_CPU), dx = nn_tensor_new(3, shape, NN_CPU);
  nn_rng_fill_normal(&rng, x.data, SR * SC, 0.f, 2.f);
  nn_rng_fill_normal(&rng, dy.data, SR * SC, 0.f, 1.f);
  nn_softmax_forward(&x, &y);
  nn_softmax_backward(&y, &dy, &dx);
  double xd[SR * SC], h = 1e-5;
  for (int i = 0; i < SR * SC; i++) xd[i] = x.data[i];
  for (int i = 0; i < SR * SC; i++) {
    double keep = xd[i];
    xd[i] = keep + h;
    double up = softmax_loss_ref(xd, dy.data);
    xd[i] = keep - h;
    double down = softmax_loss_ref(xd, dy.data);
    xd[i] = keep;
    double numeric = (up - down) / (2 * h);
    cr_assert(rel_error(dx.data[i], numeric) < 1e-4,
              "softmax backward, row %d, column %d: analytic %.9g, numeric %.9g (relative error %.2g); "
              "dx_k = y_k (dy_k - sum_j dy_j y_j)", i / SC, i % SC, dx.data[i], numeric,
              rel_error(dx.data[i], numeric));
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
}

Test(softmax, backward_accumulates) {
  nn_rng rng = nn_rng_new(43);
  nn_tensor y = nn_tensor_new(2, (int[]){2, 4}, NN_CPU), dy = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_tensor g = nn_tensor_new(2, (int[]){2, 4}, NN_CPU), dx = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_rng_fill_normal(&rng, dy.data, 8, 0.f, 1.f);
  nn_rng_fill_normal(&rng, g.data, 8, 0.f, 1.f);
  nn_softmax_forward(&g, &y);
  nn_tensor_fill(&g, 0.f);
  nn_softmax_backward(&y, &dy, &g);
  nn_tensor_fill(&dx, -1.f);
  nn_softmax_backward(&y, &dy, &dx);
  nn_softmax_backward(&y, &dy, &dx);
  for (int i = 0; i < 8; i++)
    cr_assert_float_eq(dx.data[i], -1.f + 2 * g.data[i], 1e-6f,
                       "softmax: dx[%d] = %.7g after two calls on dx = -1, expected -1 + 2 x %.7g", i,
                       dx.data[i], g.data[i]);
  nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&g), nn_tensor_free(&dx);
}

Test(softmax, shape_mismatch_aborts, .signal = SIGABRT) {
  nn_tensor y = nn_tensor_new(2, (int[]){2, 4}, NN_CPU), dy = nn_tensor_new(2, (int[]){2, 4}, NN_CPU);
  nn_tensor dx = nn_tensor_new(2, (int[]){4, 2}, NN_CPU);
  nn_softmax_backward(&y, &dy, &dx); /* dx (4, 2) for y (2, 4) */
}

/* A large tensor goes over libnn's threads in chunks: every element must be what one thread
 * gives, forward and backward, for every kind (the chunks' seams included). */
Test(activation, large_tensors_on_two_threads_equal_one_thread) {
  const long n = 300001; /* above the parallel threshold, and not a whole number of chunks */
  nn_tensor x = nn_tensor_randn(1, (int[]){(int)n}, 5), dy = nn_tensor_randn(1, (int[]){(int)n}, 6);
  nn_tensor y1 = nn_tensor_new(1, (int[]){(int)n}, NN_CPU), y2 = nn_tensor_new(1, (int[]){(int)n}, NN_CPU);
  nn_tensor dx1 = nn_tensor_new(1, (int[]){(int)n}, NN_CPU), dx2 = nn_tensor_new(1, (int[]){(int)n}, NN_CPU);
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_activation act = nn_activation_of((nn_activation_kind)k);
    nn_tensor_fill(&dx1, 0.5f), nn_tensor_fill(&dx2, 0.5f); /* backward adds into what is there */
    nn_set_threads(1);
    nn_activation_forward(&act, &x, &y1);
    nn_activation_backward(&act, &x, &y1, &dy, &dx1);
    nn_set_threads(2);
    nn_activation_forward(&act, &x, &y2);
    nn_activation_backward(&act, &x, &y2, &dy, &dx2);
    cr_assert(memcmp(y1.data, y2.data, (size_t)n * sizeof(float)) == 0, "%s forward on 2 threads differs from 1",
              nn_activation_name((nn_activation_kind)k));
    cr_assert(memcmp(dx1.data, dx2.data, (size_t)n * sizeof(float)) == 0, "%s backward on 2 threads differs from 1",
              nn_activation_name((nn_activation_kind)k));
  }
  nn_tensor_free(&x), nn_tensor_free(&dy), nn_tensor_free(&y1), nn_tensor_free(&y2);
  nn_tensor_free(&dx1), nn_tensor_free(&dx2);
}
