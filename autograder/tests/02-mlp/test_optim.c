/* The optimizers: two steps of each worked by hand, the L2 option against its
 * definition, convergence on a 10-D quadratic, and the bookkeeping (zero_grad,
 * grads left alone by a step, shape checks, the name parser).
 *
 * The hand-worked problem: f(w) = (w_0^2 + w_1^2) / 2, whose gradient is g = w,
 * from w = [1, -2]. Before each step the test sets grad = w (what zero_grad and a
 * backward would leave), so step 2 sees the gradient at the weights of step 1.
 * The expected values are written as the arithmetic in double, and the comments
 * carry the numbers; float arithmetic agrees to ~1e-7.
 *
 * Graded (GRADED): each test answers the weights (and grads) the code under test left.
 * In a drawn variant the start is 1..8 weights of +-[0.5, 2] and the rates are drawn; the
 * expected weights then come from model_two_steps, the rules of nn_optim.h in double. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abort_message.h"
#include "graded.h"
#include "nn_optim.h"
#include "nn_rng.h"

static const double TOL = 1e-6;

/* The kinds' names in answers: an answer's name must not come from the code under test. */
static const char *const KIND_NAMES[] = {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"};
_Static_assert(sizeof KIND_NAMES / sizeof KIND_NAMES[0] == NN_ADAMW + 1, "a name for every optimizer kind");

typedef struct {
  nn_tensor w, g;
  nn_param p;
} pair;

static pair pair_new(int n, const float *w0) {
  pair q = {.w = nn_tensor_from(1, (int[]){n}, w0), .g = nn_tensor_new(1, (int[]){n}, NN_CPU)};
  return q;
}

static void pair_free(pair *q) {
  nn_tensor_free(&q->w);
  nn_tensor_free(&q->g);
}

/* grad = scale * w: the gradient of scale * ||w||^2 / 2 */
static void set_grad(pair *q, float scale) {
  for (long i = 0; i < nn_numel(&q->w); i++) q->g.data[i] = scale * q->w.data[i];
}

/* Where the weights start: [1, -2] in public; drawn: 1..8 weights, each +-[0.5, 2]. */
enum { MAXW = 8 };
typedef struct {
  int n;
  float w0[MAXW];
} start;

static start draw_start(nn_grade *g) {
  start s = {.n = nn_grade_size(g, 2, 1, MAXW)};
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 5));
  if (nn_grade_public(g)) {
    s.w0[0] = 1.f, s.w0[1] = -2.f;
    return s;
  }
  for (int i = 0; i < s.n; i++) {
    float m = nn_rng_uniform(&rng, 0.5f, 2.f);
    s.w0[i] = nn_rng_below(&rng, 2) ? m : -m;
  }
  return s;
}

/* Two steps of `kind` with `cfg` on f = scale ||w||^2 / 2 from s: after (2 n floats) gets w
 * after step 1, then w after step 2. They are the answer `what`. */
static void two_steps(nn_grade *g, const char *what, nn_optim_kind kind, nn_optim_config cfg, const start *s,
                      float scale, float *after) {
  int n = s->n;
  pair q = pair_new(n, s->w0);
  q.p = (nn_param){"w", &q.w, &q.g};
  nn_optim o = nn_optim_new(kind, &cfg, &q.p, 1);
  for (int t = 0; t < 2; t++) {
    set_grad(&q, scale);
    nn_optim_step(&o);
    memcpy(after + t * n, q.w.data, (size_t)n * sizeof(float));
  }
  nn_optim_free(&o);
  pair_free(&q);
  answer(g, what, after, 2 * n);
}

/* The rules of nn_optim.h in double: want (2 n) = w after steps 1 and 2 of `kind` with c,
 * from s, the grad set to scale * w before each step (L2 decay adds wd w to it, AdamW
 * shrinks w by 1 - lr wd before its Adam step on that grad). */
static void model_two_steps(nn_optim_kind kind, const nn_optim_config *c, const start *s, float scale,
                            double *want) {
  double lr = c->lr, mu = c->momentum, rho = c->alpha, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
  double wd = c->weight_decay;
  for (int i = 0; i < s->n; i++) {
    double w = s->w0[i], m = 0, v = 0;
    for (int t = 1; t <= 2; t++) {
      double gi = scale * w + (kind == NN_ADAMW ? 0 : wd * w);
      switch (kind) {
      case NN_SGD: w -= lr * gi; break;
      case NN_MOMENTUM: m = mu * m + gi, w -= lr * m; break;
      case NN_NESTEROV: m = mu * m + gi, w -= lr * (gi + mu * m); break;
      case NN_ADAGRAD: v += gi * gi, w -= lr * gi / (sqrt(v) + eps); break;
      case NN_RMSPROP: v = rho * v + (1 - rho) * gi * gi, w -= lr * gi / (sqrt(v) + eps); break;
      case NN_ADAM:
      case NN_ADAMW:
        if (kind == NN_ADAMW) w *= 1 - lr * wd;
        m = b1 * m + (1 - b1) * gi, v = b2 * v + (1 - b2) * gi * gi;
        w -= lr * (m / (1 - pow(b1, t))) / (sqrt(v / (1 - pow(b2, t))) + eps);
        break;
      }
      want[(t - 1) * s->n + i] = w;
    }
  }
}

static void expect_after(nn_grade *g, const char *what, const start *s, const float *after, const double *want) {
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < s->n; i++)
      expect(g, fabs(after[t * s->n + i] - want[t * s->n + i]) < TOL,
             "%s: after step %d, w[%d] = %.9g, expected %.9g (from w[%d] = %.9g)", what, t + 1, i,
             after[t * s->n + i], want[t * s->n + i], i, s->w0[i]);
}

static nn_optim_config with_lr(nn_optim_kind kind, float lr) {
  nn_optim_config c = nn_optim_defaults(kind);
  c.lr = lr;
  return c;
}

/* Two steps of kind with c from a drawn start on f = ||w||^2 / 2, checked against the hand
 * values (public: w0 = [1, -2]) or the double model (drawn). */
static void check_two_steps(nn_grade *g, const char *what, nn_optim_kind kind, nn_optim_config c,
                            const double hand[2][2]) {
  start s = draw_start(g);
  float after[2 * MAXW];
  char name[48];
  snprintf(name, sizeof name, "%s: w after steps 1 and 2", KIND_NAMES[kind]);
  two_steps(g, name, kind, c, &s, 1.f, after);
  double want[2 * MAXW];
  if (nn_grade_public(g))
    memcpy(want, hand, 4 * sizeof(double));
  else
    model_two_steps(kind, &c, &s, 1.f, want);
  expect_after(g, what, &s, after, want);
}

/* A rate: public_value / per in public, else drawn from lo / per .. hi / per. */
static float draw_rate(nn_grade *g, int public_value, int lo, int hi, float per) {
  return (float)nn_grade_size(g, public_value, lo, hi) / per;
}

/* ---- two steps by hand (drawn: lr 0.02..0.2, 0.002..0.02 for rmsprop; weight_decay 0.02..0.3) */

/* lr 0.1, g = w: w <- w - 0.1 w = 0.9 w each step.
 * step 1: [0.9, -1.8];  step 2: 0.9 * 0.9 w0 = [0.81, -1.62] */
GRADED_TEST(sgd, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f);
  char what[64];
  snprintf(what, sizeof what, "sgd lr %g", lr);
  check_two_steps(g, what, NN_SGD, with_lr(NN_SGD, lr), (double[2][2]){{0.9, -1.8}, {0.81, -1.62}});
}

/* lr 0.1, L2 weight_decay 0.1: g + wd w = 1.1 w, so w <- w - 0.11 w = 0.89 w.
 * step 1: [0.89, -1.78];  step 2: 0.89^2 w0 = 0.7921 w0 = [0.7921, -1.5842] */
GRADED_TEST(sgd, l2_weight_decay_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f), wd = draw_rate(g, 10, 2, 30, 100.f);
  nn_optim_config c = with_lr(NN_SGD, lr);
  c.weight_decay = wd;
  char what[64];
  snprintf(what, sizeof what, "sgd lr %g, weight_decay %g", lr, wd);
  check_two_steps(g, what, NN_SGD, c, (double[2][2]){{0.89, -1.78}, {0.7921, -1.5842}});
}

/* lr 0.1, mu 0.9 (v = mu v + g; w -= lr v):
 * step 1: g = [1, -2], v = 0.9*0 + g = [1, -2], w = [1, -2] - 0.1 [1, -2] = [0.9, -1.8]
 * step 2: g = [0.9, -1.8], v = 0.9 [1, -2] + [0.9, -1.8] = [1.8, -3.6],
 *         w = [0.9, -1.8] - 0.1 [1.8, -3.6] = [0.72, -1.44]
 * (plain sgd was at [0.81, -1.62]: the remembered step 1 pushes further.) */
GRADED_TEST(momentum, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f);
  char what[64];
  snprintf(what, sizeof what, "momentum lr %g, mu 0.9", lr);
  check_two_steps(g, what, NN_MOMENTUM, with_lr(NN_MOMENTUM, lr), (double[2][2]){{0.9, -1.8}, {0.72, -1.44}});
}

/* lr 0.1, mu 0.9 (v = mu v + g; w -= lr (g + mu v)):
 * step 1: v = g = w0, w = w0 - 0.1 (w0 + 0.9 w0) = w0 - 0.19 w0 = 0.81 w0 = [0.81, -1.62]
 * step 2: g = 0.81 w0, v = 0.9 w0 + 0.81 w0 = 1.71 w0,
 *         g + mu v = 0.81 w0 + 1.539 w0 = 2.349 w0,
 *         w = 0.81 w0 - 0.2349 w0 = 0.5751 w0 = [0.5751, -1.1502] */
GRADED_TEST(nesterov, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f);
  char what[64];
  snprintf(what, sizeof what, "nesterov lr %g, mu 0.9", lr);
  check_two_steps(g, what, NN_NESTEROV, with_lr(NN_NESTEROV, lr), (double[2][2]){{0.81, -1.62}, {0.5751, -1.1502}});
}

/* lr 0.1, eps 1e-10 (G += g^2; w -= lr g / (sqrt(G) + eps)):
 * step 1: G = [1, 4], sqrt(G) = |g|, so w moves by lr sign(g): [0.9, -1.9]
 * step 2: g = [0.9, -1.9], G = [1 + 0.81, 4 + 3.61] = [1.81, 7.61],
 *         w = [0.9 - 0.1*0.9/sqrt(1.81), -1.9 + 0.1*1.9/sqrt(7.61)]
 *           = [0.9 - 0.0668965, -1.9 + 0.0688754] = [0.8331035, -1.8311246] */
GRADED_TEST(adagrad, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f);
  char what[64];
  snprintf(what, sizeof what, "adagrad lr %g", lr);
  check_two_steps(g, what, NN_ADAGRAD, with_lr(NN_ADAGRAD, lr),
                  (double[2][2]){{0.9, -1.9}, {0.9 - 0.1 * 0.9 / sqrt(1.81), -1.9 + 0.1 * 1.9 / sqrt(7.61)}});
}

/* lr 0.01, rho 0.99, eps 1e-8 (s = rho s + (1 - rho) g^2; w -= lr g / (sqrt(s) + eps)):
 * step 1: s = 0.01 [1, 4] = [0.01, 0.04], sqrt(s) = [0.1, 0.2] = 0.1 |g|,
 *         so w moves by lr / 0.1 = 0.1 sign(g): [0.9, -1.9]
 * step 2: g = [0.9, -1.9], s = 0.99 [0.01, 0.04] + 0.01 [0.81, 3.61]
 *           = [0.0099 + 0.0081, 0.0396 + 0.0361] = [0.018, 0.0757],
 *         w = [0.9 - 0.01*0.9/sqrt(0.018), -1.9 + 0.01*1.9/sqrt(0.0757)]
 *           = [0.9 - 0.0670820, -1.9 + 0.0690566] = [0.8329180, -1.8309434] */
GRADED_TEST(rmsprop, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 1000.f);
  char what[64];
  snprintf(what, sizeof what, "rmsprop lr %g, alpha 0.99", lr);
  check_two_steps(g, what, NN_RMSPROP, with_lr(NN_RMSPROP, lr),
                  (double[2][2]){{0.9, -1.9}, {0.9 - 0.01 * 0.9 / sqrt(0.018), -1.9 + 0.01 * 1.9 / sqrt(0.0757)}});
}

/* lr 0.1, b1 0.9, b2 0.999, eps 1e-8:
 * step 1: m = 0.1 g, v = 0.001 g^2; mhat = m / (1 - 0.9) = g, vhat = v / (1 - 0.999) = g^2,
 *         so w -= lr g / |g|: every weight moves by exactly lr sign(g) (up to eps): [0.9, -1.9]
 *         (without the bias correction it would move by lr 0.1 / sqrt(0.001) = 3.16 lr)
 * step 2: g = [0.9, -1.9]
 *         m = 0.9 [0.1, -0.2] + 0.1 [0.9, -1.9] = [0.18, -0.37],  mhat = m / (1 - 0.81) = m / 0.19
 *         v = 0.999 [0.001, 0.004] + 0.001 [0.81, 3.61] = [0.001809, 0.007606],
 *         vhat = v / (1 - 0.998001) = v / 0.001999
 *         w = [0.9 - 0.1 (0.18/0.19) / sqrt(0.001809/0.001999), -1.9 + 0.1 (0.37/0.19) / sqrt(0.007606/0.001999)]
 *           = [0.9 - 0.0995878, -1.9 + 0.0998335] = [0.8004122, -1.8001665] */
static double adam_step2(double m, double v, double w) { return w - 0.1 * (m / 0.19) / sqrt(v / 0.001999); }

GRADED_TEST(adam, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f);
  char what[64];
  snprintf(what, sizeof what, "adam lr %g", lr);
  check_two_steps(g, what, NN_ADAM, with_lr(NN_ADAM, lr),
                  (double[2][2]){{0.9, -1.9}, {adam_step2(0.18, 0.001809, 0.9), adam_step2(-0.37, 0.007606, -1.9)}});
}

/* lr 0.1, weight_decay 0.1 (decoupled): first w *= 1 - lr wd = 0.99, then the Adam step on g
 * (the gradient at the weights before the decay):
 * step 1: w = 0.99 [1, -2] - 0.1 sign([1, -2]) = [0.99 - 0.1, -1.98 + 0.1] = [0.89, -1.88]
 * step 2: g = [0.89, -1.88], w = 0.99 [0.89, -1.88] = [0.8811, -1.8612], then
 *         m = 0.9 [0.1, -0.2] + 0.1 [0.89, -1.88] = [0.179, -0.368]
 *         v = 0.999 [0.001, 0.004] + 0.001 [0.7921, 3.5344] = [0.0017911, 0.0075304]
 *         w = [0.8811 - 0.1 (0.179/0.19) / sqrt(0.0017911/0.001999), ...] = [0.7815719, -1.7614090] */
GRADED_TEST(adamw, two_steps_by_hand) {
  float lr = draw_rate(g, 10, 2, 20, 100.f), wd = draw_rate(g, 10, 2, 30, 100.f);
  nn_optim_config c = with_lr(NN_ADAMW, lr);
  c.weight_decay = wd;
  char what[64];
  snprintf(what, sizeof what, "adamw lr %g, weight_decay %g", lr, wd);
  check_two_steps(g, what, NN_ADAMW, c,
                  (double[2][2]){{0.89, -1.88},
                                 {adam_step2(0.179, 0.0017911, 0.8811), adam_step2(-0.368, 0.0075304, -1.8612)}});
}

/* Adam's L2 form is not AdamW: g + wd w = 1.1 w, and step 1 still moves by exactly lr sign(g),
 * [0.9, -1.9]; the decay was divided away by sqrt(vhat). AdamW's step 1 gave [0.89, -1.88].
 * Drawn: lr 0.02..0.2, weight_decay 0.02..0.3, and the start. */
GRADED_TEST(adam, l2_weight_decay_is_scaled_away_on_step_one) {
  float lr = draw_rate(g, 10, 2, 20, 100.f), wd = draw_rate(g, 10, 2, 30, 100.f);
  nn_optim_config c = with_lr(NN_ADAM, lr);
  c.weight_decay = wd;
  start s = draw_start(g);
  float a[2 * MAXW];
  two_steps(g, "adam: w after steps 1 and 2", NN_ADAM, c, &s, 1.f, a);
  for (int i = 0; i < s.n; i++) {
    double want = s.w0[i] - (s.w0[i] > 0 ? lr : -lr);
    expect(g, fabs(a[i] - want) < TOL, "adam lr %g with L2 weight_decay %g: after step 1 w[%d] = %.9g, "
           "expected %.9g = %g - lr sign(g) (g = (1 + wd) w, and mhat / sqrt(vhat) = sign(g) on step 1)", lr, wd, i,
           a[i], want, s.w0[i]);
  }
}

/* ---- L2 weight decay (every kind but adamw) is exactly g + wd w.
 * Public: lr 0.05, weight_decay 0.3 from [1, -2]; drawn: lr 0.01..0.1, weight_decay 0.05..0.5. */
GRADED_TEST(optim, l2_weight_decay_is_grad_plus_wd_w_for_every_kind) {
  const nn_optim_kind kinds[] = {NN_SGD, NN_MOMENTUM, NN_NESTEROV, NN_ADAGRAD, NN_RMSPROP, NN_ADAM};
  float lr = draw_rate(g, 5, 1, 10, 100.f), wd = draw_rate(g, 30, 5, 50, 100.f);
  start s = draw_start(g);
  for (int k = 0; k < 6; k++) {
    nn_optim_config with = with_lr(kinds[k], lr), without = with;
    with.weight_decay = wd;
    without.weight_decay = 0.f;
    float a[2 * MAXW], b[2 * MAXW];
    char what[48];
    snprintf(what, sizeof what, "%s: w with weight_decay", KIND_NAMES[kinds[k]]);
    two_steps(g, what, kinds[k], with, &s, 1.f, a); /* grad = w, decay added inside */
    snprintf(what, sizeof what, "%s: w on grad g + wd w", KIND_NAMES[kinds[k]]);
    two_steps(g, what, kinds[k], without, &s, 1.f + wd, b); /* grad = w + wd w, decay 0 */
    for (int t = 0; t < 2; t++)
      for (int i = 0; i < s.n; i++)
        expect(g, fabs(a[t * s.n + i] - b[t * s.n + i]) < TOL,
               "%s: weight_decay %g on grad g gave w[%d] = %.9g after step %d, but weight_decay 0 on grad "
               "g + %g w gave %.9g; L2 decay must act as g + wd w", nn_optim_name(kinds[k]), wd, i,
               a[t * s.n + i], t + 1, wd, b[t * s.n + i]);
  }
}

/* ---- convergence: f(w) = ||w - w*||^2 in 10-D (adamw with its default weight_decay 0.01,
 * which moves the minimum a little: still well inside 1e-3), g = 2 (w - w*), from a seeded
 * start. Drawn: 2..16 dimensions, w* in [-1, 1] and each |w0_i - w*_i| in [0.5, 1.5] (a
 * start that close to w* in some coordinate, or that far, is not what these rates are
 * for: 100,000 such draws all end below 2e-5 of the start on the reference). Every step's w
 * is the answer; f and the ratio are computed from it here. */
enum { QD = 10, QMAX = 16 };

static double quad(const float *w, const float *star, int D) {
  double f = 0;
  for (int i = 0; i < D; i++) f += ((double)w[i] - star[i]) * ((double)w[i] - star[i]);
  return f;
}

static void quad_start(nn_grade *g, uint64_t seed, int D, float *w0, float *star) {
  nn_rng rng = nn_rng_new(seed);
  if (nn_grade_public(g)) {
    nn_rng_fill_normal(&rng, w0, D, 0.f, 1.f);
    nn_rng_fill_normal(&rng, star, D, 0.f, 1.f);
    return;
  }
  nn_rng_fill_uniform(&rng, star, D, -1.f, 1.f);
  for (int i = 0; i < D; i++) {
    float d = nn_rng_uniform(&rng, 0.5f, 1.5f);
    w0[i] = star[i] + (nn_rng_below(&rng, 2) ? d : -d);
  }
}

/* `steps` steps of kind from w0; hist (steps x D) gets w after each step. */
static void quad_descend(nn_optim_kind kind, float lr, int steps, int D, const float *w0, const float *star,
                         float *hist) {
  pair q = pair_new(D, w0);
  q.p = (nn_param){"w", &q.w, &q.g};
  nn_optim_config c = with_lr(kind, lr);
  nn_optim o = nn_optim_new(kind, &c, &q.p, 1);
  for (int s = 0; s < steps; s++) {
    nn_optim_zero_grad(&o);
    for (int i = 0; i < D; i++) q.g.data[i] += 2.f * (q.w.data[i] - star[i]);
    nn_optim_step(&o);
    memcpy(hist + (long)s * D, q.w.data, (size_t)D * sizeof(float));
  }
  nn_optim_free(&o);
  pair_free(&q);
}

GRADED_TEST(optim, every_kind_reduces_a_10d_quadratic_1000x) {
  const struct { nn_optim_kind kind; float lr; int steps; } runs[] = {
      {NN_SGD, 0.1f, 50},       {NN_MOMENTUM, 0.05f, 100}, {NN_NESTEROV, 0.05f, 100}, {NN_ADAGRAD, 0.5f, 100},
      {NN_RMSPROP, 0.01f, 500}, {NN_ADAM, 0.05f, 200},     {NN_ADAMW, 0.05f, 200}};
  int D = nn_grade_size(g, QD, 2, QMAX);
  float w0[QMAX], star[QMAX];
  quad_start(g, nn_grade_seed(g, 7), D, w0, star);
  double f0 = quad(w0, star, D);
  for (int r = 0; r < 7; r++) {
    float *hist = malloc((size_t)runs[r].steps * D * sizeof *hist);
    quad_descend(runs[r].kind, runs[r].lr, runs[r].steps, D, w0, star, hist);
    char what[48];
    snprintf(what, sizeof what, "%s: w after every step", KIND_NAMES[runs[r].kind]);
    answer(g, what, hist, (long)runs[r].steps * D);
    int at = -1;
    for (int s = 0; s < runs[r].steps && at < 0; s++)
      if (quad(hist + (long)s * D, star, D) <= f0 / 1000) at = s + 1;
    double ratio = quad(hist + (long)(runs[r].steps - 1) * D, star, D) / f0;
    free(hist);
    expect(g, ratio <= 1e-3, "%s, lr %g: f(w) = ||w - w*||^2 in %d-D fell only to %.3g of its start in %d steps "
           "(first <= 1e-3 at step %d), expected <= 1e-3", nn_optim_name(runs[r].kind), runs[r].lr, D, ratio,
           runs[r].steps, at);
  }
}

/* ---- bookkeeping: several params, grads zeroed by zero_grad and never by step.
 * Public: W (2, 3) and b (3) by hand; drawn: W (1..5, 1..6) and b in [-5, 5], grads
 * +-[0.25, 1] with dW[0] and db[0] > 0. W, b and the grads are the answers. */
GRADED_TEST(optim, zero_grad_zeroes_and_step_leaves_grads_alone) {
  int R = nn_grade_size(g, 2, 1, 5), C = nn_grade_size(g, 3, 1, 6), n = R * C;
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 8));
  nn_tensor W = nn_tensor_new(2, (int[]){R, C}, NN_CPU), dW = nn_tensor_new(2, (int[]){R, C}, NN_CPU);
  nn_tensor b = nn_tensor_new(1, (int[]){C}, NN_CPU), db = nn_tensor_new(1, (int[]){C}, NN_CPU);
  if (nn_grade_public(g)) {
    memcpy(W.data, (float[]){1, 2, 3, 4, 5, 6}, 6 * sizeof(float));
    memcpy(dW.data, (float[]){.5f, -.5f, .25f, -.25f, 1, -1}, 6 * sizeof(float));
    memcpy(b.data, (float[]){0, 1, -1}, 3 * sizeof(float));
    memcpy(db.data, (float[]){2, -2, 0}, 3 * sizeof(float));
  } else {
    nn_rng_fill_uniform(&rng, W.data, n, -5.f, 5.f);
    nn_rng_fill_uniform(&rng, b.data, C, -5.f, 5.f);
    for (int i = 0; i < n + C; i++) {
      float m = nn_rng_uniform(&rng, 0.25f, 1.f), *at = i < n ? dW.data + i : db.data + (i - n);
      *at = i == 0 || i == n || nn_rng_below(&rng, 2) ? m : -m;
    }
  }
  float *dW0 = malloc((size_t)n * sizeof *dW0), *db0 = malloc((size_t)C * sizeof *db0);
  memcpy(dW0, dW.data, (size_t)n * sizeof *dW0), memcpy(db0, db.data, (size_t)C * sizeof *db0);
  nn_param ps[2] = {{"dense1.W", &W, &dW}, {"dense1.b", &b, &db}};
  char what[48];
  for (int k = 0; k < 7; k++) {
    nn_optim o = nn_optim_new((nn_optim_kind)k, NULL, ps, 2);
    float W_before = W.data[0], b_before = b.data[0];
    nn_optim_step(&o);
    nn_optim_step(&o);
    snprintf(what, sizeof what, "%s: dW after two steps", KIND_NAMES[k]);
    answer(g, what, dW.data, n);
    snprintf(what, sizeof what, "%s: db after two steps", KIND_NAMES[k]);
    answer(g, what, db.data, C);
    snprintf(what, sizeof what, "%s: W after two steps", KIND_NAMES[k]);
    answer(g, what, W.data, n);
    snprintf(what, sizeof what, "%s: b after two steps", KIND_NAMES[k]);
    answer(g, what, b.data, C);
    expect(g, memcmp(dW.data, dW0, (size_t)n * sizeof *dW0) == 0 && memcmp(db.data, db0, (size_t)C * sizeof *db0) == 0,
           "%s: nn_optim_step changed a grad (dW[0] = %g, db[0] = %g, were %g and %g); a step reads grads, "
           "only zero_grad clears them", nn_optim_name((nn_optim_kind)k), dW.data[0], db.data[0], dW0[0], db0[0]);
    expect(g, W.data[0] < W_before && b.data[0] < b_before, "%s: W[0] went %g -> %g and b[0] %g -> %g; "
           "both grads are positive there, so both must decrease (every param is stepped)",
           nn_optim_name((nn_optim_kind)k), W_before, W.data[0], b_before, b.data[0]);
    nn_optim_free(&o);
  }
  nn_optim o = nn_optim_new(NN_SGD, NULL, ps, 2);
  nn_optim_zero_grad(&o);
  answer(g, "dW after zero_grad", dW.data, n);
  answer(g, "db after zero_grad", db.data, C);
  for (int i = 0; i < n; i++) expect(g, dW.data[i] == 0.f, "after zero_grad dW[%d] = %g, expected 0", i, dW.data[i]);
  for (int i = 0; i < C; i++) expect(g, db.data[i] == 0.f, "after zero_grad db[%d] = %g, expected 0", i, db.data[i]);
  nn_optim_free(&o);
  free(dW0), free(db0);
  nn_tensor_free(&W), nn_tensor_free(&dW), nn_tensor_free(&b), nn_tensor_free(&db);
}

/* PyTorch's defaults (torch.optim, 2.x). */
Test(optim, defaults_are_pytorchs) {
  nn_optim_config a = nn_optim_defaults(NN_ADAM), r = nn_optim_defaults(NN_RMSPROP),
                  g = nn_optim_defaults(NN_ADAGRAD), w = nn_optim_defaults(NN_ADAMW);
  cr_assert(a.lr == 1e-3f && a.beta1 == 0.9f && a.beta2 == 0.999f && a.eps == 1e-8f && a.weight_decay == 0.f,
            "adam defaults: lr %g, betas %g/%g, eps %g, wd %g; expected 1e-3, 0.9/0.999, 1e-8, 0", a.lr, a.beta1,
            a.beta2, a.eps, a.weight_decay);
  cr_assert(w.lr == 1e-3f && w.weight_decay == 1e-2f, "adamw defaults: lr %g, wd %g; expected 1e-3, 1e-2", w.lr,
            w.weight_decay);
  cr_assert(r.lr == 1e-2f && r.alpha == 0.99f && r.eps == 1e-8f, "rmsprop defaults: lr %g, alpha %g, eps %g; "
            "expected 1e-2, 0.99, 1e-8", r.lr, r.alpha, r.eps);
  cr_assert(g.lr == 1e-2f && g.eps == 1e-10f, "adagrad defaults: lr %g, eps %g; expected 1e-2, 1e-10", g.lr, g.eps);
}

Test(optim, names_round_trip_and_unknown_is_an_actionable_error) {
  for (int k = 0; k < 7; k++) {
    nn_optim_kind got = NN_SGD;
    nn_error err = {0};
    const char *name = nn_optim_name((nn_optim_kind)k);
    cr_assert_eq(nn_optim_parse(name, &got, &err), NN_OK, "parsing \"%s\" failed: %s", name, err.msg);
    cr_assert_eq((int)got, k, "\"%s\" parsed to kind %d, expected %d", name, (int)got, k);
  }
  nn_optim_kind got = NN_ADAM;
  nn_error err = {0};
  cr_assert_eq(nn_optim_parse("Adamm", &got, &err), NN_ERR_ARG, "\"Adamm\" must be NN_ERR_ARG");
  cr_assert_eq((int)got, NN_ADAM, "a failed parse must leave *kind alone");
  cr_assert(strstr(err.msg, "\"Adamm\"") && strstr(err.msg, "rmsprop") && strstr(err.msg, "adamw"),
            "the message must quote the bad name and list the valid ones: \"%s\"", err.msg);
}

Test(optim, beta1_of_one_aborts, .signal = SIGABRT) {
  nn_tensor w = nn_tensor_new(1, (int[]){2}, NN_CPU), g = nn_tensor_new(1, (int[]){2}, NN_CPU);
  nn_optim_config c = nn_optim_defaults(NN_ADAM);
  c.beta1 = 1.f; /* 1 - b1^t = 0: mhat would be m / 0 */
  nn_optim_new(NN_ADAM, &c, &(nn_param){"w", &w, &g}, 1);
}

Test(optim, reshaped_param_aborts_in_step, .signal = SIGABRT) {
  nn_tensor w = nn_tensor_new(1, (int[]){4}, NN_CPU), g = nn_tensor_new(1, (int[]){4}, NN_CPU);
  nn_param p = {"w", &w, &g};
  nn_optim o = nn_optim_new(NN_ADAM, NULL, &p, 1);
  w.shape[0] = g.shape[0] = 3; /* the state is still 4 long */
  nn_optim_step(&o);
}

/* value (2, 3) with grad (3, 2): aborts, and the message names the param and both shapes. */
static void mismatched_value_and_grad(void *ctx) {
  (void)ctx;
  nn_tensor w = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), g = nn_tensor_new(2, (int[]){3, 2}, NN_CPU);
  nn_optim_new(NN_MOMENTUM, NULL, &(nn_param){"dense1.W", &w, &g}, 1);
}

Test(optim, mismatched_value_and_grad_abort_naming_both_shapes) {
  char msg[1024];
  cr_assert(nn_abort_message(mismatched_value_and_grad, NULL, msg, sizeof msg),
            "nn_optim_new with value (2, 3) and grad (3, 2) must abort");
  cr_assert(strstr(msg, "(2, 3)") && strstr(msg, "(3, 2)") && strstr(msg, "dense1.W"),
            "the message must name the param and both shapes: \"%s\"", msg);
}
