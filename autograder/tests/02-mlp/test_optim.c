/* The optimizers: two steps of each worked by hand, the L2 option against its
 * definition, convergence on a 10-D quadratic, and the bookkeeping (zero_grad,
 * grads left alone by a step, shape checks, the name parser).
 *
 * The hand-worked problem: f(w) = (w_0^2 + w_1^2) / 2, whose gradient is g = w,
 * from w = [1, -2]. Before each step the test sets grad = w (what zero_grad and a
 * backward would leave), so step 2 sees the gradient at the weights of step 1.
 * The expected values are written as the arithmetic in double, and the comments
 * carry the numbers; float arithmetic agrees to ~1e-7. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn_optim.h"
#include "nn_rng.h"

static const double TOL = 1e-6;

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

/* Two steps of `kind` with `cfg` on f = ||w||^2 / 2 from w = [1, -2]; after[s] = w after step s+1. */
static void two_steps(nn_optim_kind kind, nn_optim_config cfg, float after[2][2]) {
  pair q = pair_new(2, (float[]){1.f, -2.f});
  q.p = (nn_param){"w", &q.w, &q.g};
  nn_optim o = nn_optim_new(kind, &cfg, &q.p, 1);
  for (int s = 0; s < 2; s++) {
    set_grad(&q, 1.f);
    nn_optim_step(&o);
    memcpy(after[s], q.w.data, sizeof after[s]);
  }
  nn_optim_free(&o);
  pair_free(&q);
}

static void expect(const char *what, float after[2][2], const double want[2][2]) {
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < 2; i++)
      cr_assert(fabs(after[s][i] - want[s][i]) < TOL, "%s: after step %d, w[%d] = %.9g, expected %.9g", what,
                s + 1, i, after[s][i], want[s][i]);
}

static nn_optim_config with_lr(nn_optim_kind kind, float lr) {
  nn_optim_config c = nn_optim_defaults(kind);
  c.lr = lr;
  return c;
}

/* ---- two steps by hand */

/* lr 0.1, g = w: w <- w - 0.1 w = 0.9 w each step.
 * step 1: [0.9, -1.8];  step 2: 0.9 * 0.9 w0 = [0.81, -1.62] */
Test(sgd, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_SGD, with_lr(NN_SGD, 0.1f), a);
  expect("sgd lr 0.1", a, (double[2][2]){{0.9, -1.8}, {0.81, -1.62}});
}

/* lr 0.1, L2 weight_decay 0.1: g + wd w = 1.1 w, so w <- w - 0.11 w = 0.89 w.
 * step 1: [0.89, -1.78];  step 2: 0.89^2 w0 = 0.7921 w0 = [0.7921, -1.5842] */
Test(sgd, l2_weight_decay_by_hand) {
  nn_optim_config c = with_lr(NN_SGD, 0.1f);
  c.weight_decay = 0.1f;
  float a[2][2];
  two_steps(NN_SGD, c, a);
  expect("sgd lr 0.1, weight_decay 0.1", a, (double[2][2]){{0.89, -1.78}, {0.7921, -1.5842}});
}

/* lr 0.1, mu 0.9 (v = mu v + g; w -= lr v):
 * step 1: g = [1, -2], v = 0.9*0 + g = [1, -2], w = [1, -2] - 0.1 [1, -2] = [0.9, -1.8]
 * step 2: g = [0.9, -1.8], v = 0.9 [1, -2] + [0.9, -1.8] = [1.8, -3.6],
 *         w = [0.9, -1.8] - 0.1 [1.8, -3.6] = [0.72, -1.44]
 * (plain sgd was at [0.81, -1.62]: the remembered step 1 pushes further.) */
Test(momentum, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_MOMENTUM, with_lr(NN_MOMENTUM, 0.1f), a);
  expect("momentum lr 0.1, mu 0.9", a, (double[2][2]){{0.9, -1.8}, {0.72, -1.44}});
}

/* lr 0.1, mu 0.9 (v = mu v + g; w -= lr (g + mu v)):
 * step 1: v = g = w0, w = w0 - 0.1 (w0 + 0.9 w0) = w0 - 0.19 w0 = 0.81 w0 = [0.81, -1.62]
 * step 2: g = 0.81 w0, v = 0.9 w0 + 0.81 w0 = 1.71 w0,
 *         g + mu v = 0.81 w0 + 1.539 w0 = 2.349 w0,
 *         w = 0.81 w0 - 0.2349 w0 = 0.5751 w0 = [0.5751, -1.1502] */
Test(nesterov, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_NESTEROV, with_lr(NN_NESTEROV, 0.1f), a);
  expect("nesterov lr 0.1, mu 0.9", a, (double[2][2]){{0.81, -1.62}, {0.5751, -1.1502}});
}

/* lr 0.1, eps 1e-10 (G += g^2; w -= lr g / (sqrt(G) + eps)):
 * step 1: G = [1, 4], sqrt(G) = |g|, so w moves by lr sign(g): [0.9, -1.9]
 * step 2: g = [0.9, -1.9], G = [1 + 0.81, 4 + 3.61] = [1.81, 7.61],
 *         w = [0.9 - 0.1*0.9/sqrt(1.81), -1.9 + 0.1*1.9/sqrt(7.61)]
 *           = [0.9 - 0.0668965, -1.9 + 0.0688754] = [0.8331035, -1.8311246] */
Test(adagrad, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_ADAGRAD, with_lr(NN_ADAGRAD, 0.1f), a);
  expect("adagrad lr 0.1", a,
         (double[2][2]){{0.9, -1.9}, {0.9 - 0.1 * 0.9 / sqrt(1.81), -1.9 + 0.1 * 1.9 / sqrt(7.61)}});
}

/* lr 0.01, rho 0.99, eps 1e-8 (s = rho s + (1 - rho) g^2; w -= lr g / (sqrt(s) + eps)):
 * step 1: s = 0.01 [1, 4] = [0.01, 0.04], sqrt(s) = [0.1, 0.2] = 0.1 |g|,
 *         so w moves by lr / 0.1 = 0.1 sign(g): [0.9, -1.9]
 * step 2: g = [0.9, -1.9], s = 0.99 [0.01, 0.04] + 0.01 [0.81, 3.61]
 *           = [0.0099 + 0.0081, 0.0396 + 0.0361] = [0.018, 0.0757],
 *         w = [0.9 - 0.01*0.9/sqrt(0.018), -1.9 + 0.01*1.9/sqrt(0.0757)]
 *           = [0.9 - 0.0670820, -1.9 + 0.0690566] = [0.8329180, -1.8309434] */
Test(rmsprop, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_RMSPROP, with_lr(NN_RMSPROP, 0.01f), a);
  expect("rmsprop lr 0.01, alpha 0.99", a,
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

Test(adam, two_steps_by_hand) {
  float a[2][2];
  two_steps(NN_ADAM, with_lr(NN_ADAM, 0.1f), a);
  expect("adam lr 0.1", a,
         (double[2][2]){{0.9, -1.9}, {adam_step2(0.18, 0.001809, 0.9), adam_step2(-0.37, 0.007606, -1.9)}});
}

/* lr 0.1, weight_decay 0.1 (decoupled): first w *= 1 - lr wd = 0.99, then the Adam step on g
 * (the gradient at the weights before the decay):
 * step 1: w = 0.99 [1, -2] - 0.1 sign([1, -2]) = [0.99 - 0.1, -1.98 + 0.1] = [0.89, -1.88]
 * step 2: g = [0.89, -1.88], w = 0.99 [0.89, -1.88] = [0.8811, -1.8612], then
 *         m = 0.9 [0.1, -0.2] + 0.1 [0.89, -1.88] = [0.179, -0.368]
 *         v = 0.999 [0.001, 0.004] + 0.001 [0.7921, 3.5344] = [0.0017911, 0.0075304]
 *         w = [0.8811 - 0.1 (0.179/0.19) / sqrt(0.0017911/0.001999), ...] = [0.7815719, -1.7614090] */
Test(adamw, two_steps_by_hand) {
  nn_optim_config c = with_lr(NN_ADAMW, 0.1f);
  c.weight_decay = 0.1f;
  float a[2][2];
  two_steps(NN_ADAMW, c, a);
  expect("adamw lr 0.1, weight_decay 0.1", a,
         (double[2][2]){{0.89, -1.88}, {adam_step2(0.179, 0.0017911, 0.8811), adam_step2(-0.368, 0.0075304, -1.8612)}});
}

/* Adam's L2 form is not AdamW: g + wd w = 1.1 w, and step 1 still moves by exactly lr sign(g),
 * [0.9, -1.9]; the decay was divided away by sqrt(vhat). AdamW's step 1 gave [0.89, -1.88]. */
Test(adam, l2_weight_decay_is_scaled_away_on_step_one) {
  nn_optim_config c = with_lr(NN_ADAM, 0.1f);
  c.weight_decay = 0.1f;
  float a[2][2];
  two_steps(NN_ADAM, c, a);
  for (int i = 0; i < 2; i++)
    cr_assert(fabs(a[0][i] - (i ? -1.9 : 0.9)) < TOL, "adam with L2 weight_decay 0.1: after step 1 w[%d] = %.9g, "
              "expected %g (g = 1.1 w, and mhat / sqrt(vhat) = sign(g) on step 1)", i, a[0][i], i ? -1.9 : 0.9);
}

/* ---- L2 weight decay (every kind but adamw) is exactly g + wd w */
Test(optim, l2_weight_decay_is_grad_plus_wd_w_for_every_kind) {
  const nn_optim_kind kinds[] = {NN_SGD, NN_MOMENTUM, NN_NESTEROV, NN_ADAGRAD, NN_RMSPROP, NN_ADAM};
  for (int k = 0; k < 6; k++) {
    nn_optim_config with = with_lr(kinds[k], 0.05f), without = with;
    with.weight_decay = 0.3f;
    without.weight_decay = 0.f;
    float a[2][2], b[2][2];
    two_steps(kinds[k], with, a); /* grad = w, decay added inside */
    pair q = pair_new(2, (float[]){1.f, -2.f});
    q.p = (nn_param){"w", &q.w, &q.g};
    nn_optim o = nn_optim_new(kinds[k], &without, &q.p, 1);
    for (int s = 0; s < 2; s++) {
      set_grad(&q, 1.3f); /* grad = w + 0.3 w, decay 0 */
      nn_optim_step(&o);
      memcpy(b[s], q.w.data, sizeof b[s]);
    }
    nn_optim_free(&o);
    pair_free(&q);
    for (int s = 0; s < 2; s++)
      for (int i = 0; i < 2; i++)
        cr_assert(fabs(a[s][i] - b[s][i]) < TOL, "%s: weight_decay 0.3 on grad g gave w[%d] = %.9g after step %d, "
                  "but weight_decay 0 on grad g + 0.3 w gave %.9g; L2 decay must act as g + wd w",
                  nn_optim_name(kinds[k]), i, a[s][i], s + 1, b[s][i]);
  }
}

/* ---- convergence: f(w) = ||w - w*||^2 in 10-D (adamw with its default weight_decay 0.01,
 * which moves the minimum a little: still well inside 1e-3), g = 2 (w - w*), from a seeded start */
enum { QD = 10 };

static double quad(const float *w, const float *star) {
  double f = 0;
  for (int i = 0; i < QD; i++) f += ((double)w[i] - star[i]) * ((double)w[i] - star[i]);
  return f;
}

/* f after `steps` steps divided by f at the start; the stopping step in *at (first f <= f0/1000). */
static double quad_ratio(nn_optim_kind kind, float lr, int steps, int *at) {
  nn_rng rng = nn_rng_new(7);
  float w0[QD], star[QD];
  nn_rng_fill_normal(&rng, w0, QD, 0.f, 1.f);
  nn_rng_fill_normal(&rng, star, QD, 0.f, 1.f);
  pair q = pair_new(QD, w0);
  q.p = (nn_param){"w", &q.w, &q.g};
  nn_optim_config c = with_lr(kind, lr);
  nn_optim o = nn_optim_new(kind, &c, &q.p, 1);
  double f0 = quad(q.w.data, star);
  *at = -1;
  for (int s = 1; s <= steps; s++) {
    nn_optim_zero_grad(&o);
    for (int i = 0; i < QD; i++) q.g.data[i] += 2.f * (q.w.data[i] - star[i]);
    nn_optim_step(&o);
    if (*at < 0 && quad(q.w.data, star) <= f0 / 1000) *at = s;
  }
  double ratio = quad(q.w.data, star) / f0;
  nn_optim_free(&o);
  pair_free(&q);
  return ratio;
}

Test(optim, every_kind_reduces_a_10d_quadratic_1000x) {
  const struct { nn_optim_kind kind; float lr; int steps; } runs[] = {
      {NN_SGD, 0.1f, 50},       {NN_MOMENTUM, 0.05f, 100}, {NN_NESTEROV, 0.05f, 100}, {NN_ADAGRAD, 0.5f, 100},
      {NN_RMSPROP, 0.01f, 500}, {NN_ADAM, 0.05f, 200},     {NN_ADAMW, 0.05f, 200}};
  for (int r = 0; r < 7; r++) {
    int at;
    double ratio = quad_ratio(runs[r].kind, runs[r].lr, runs[r].steps, &at);
    cr_assert(ratio <= 1e-3, "%s, lr %g: f(w) = ||w - w*||^2 fell only to %.3g of its start in %d steps "
              "(first <= 1e-3 at step %d), expected <= 1e-3", nn_optim_name(runs[r].kind), runs[r].lr, ratio,
              runs[r].steps, at);
  }
}

/* ---- bookkeeping: several params, grads zeroed by zero_grad and never by step */
Test(optim, zero_grad_zeroes_and_step_leaves_grads_alone) {
  nn_tensor W = nn_tensor_from(2, (int[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
  nn_tensor dW = nn_tensor_from(2, (int[]){2, 3}, (float[]){.5f, -.5f, .25f, -.25f, 1, -1});
  nn_tensor b = nn_tensor_from(1, (int[]){3}, (float[]){0, 1, -1});
  nn_tensor db = nn_tensor_from(1, (int[]){3}, (float[]){2, -2, 0});
  nn_param ps[2] = {{"dense1.W", &W, &dW}, {"dense1.b", &b, &db}};
  const float dW0[6] = {.5f, -.5f, .25f, -.25f, 1, -1}, db0[3] = {2, -2, 0};
  for (int k = 0; k < 7; k++) {
    nn_optim o = nn_optim_new((nn_optim_kind)k, NULL, ps, 2);
    float W_before = W.data[0], b_before = b.data[0];
    nn_optim_step(&o);
    nn_optim_step(&o);
    cr_assert(memcmp(dW.data, dW0, sizeof dW0) == 0 && memcmp(db.data, db0, sizeof db0) == 0,
              "%s: nn_optim_step changed a grad (dW[0] = %g, db[0] = %g, were 0.5 and 2); a step reads grads, "
              "only zero_grad clears them", nn_optim_name((nn_optim_kind)k), dW.data[0], db.data[0]);
    cr_assert(W.data[0] < W_before && b.data[0] < b_before, "%s: W[0] went %g -> %g and b[0] %g -> %g; "
              "both grads are positive there, so both must decrease (every param is stepped)",
              nn_optim_name((nn_optim_kind)k), W_before, W.data[0], b_before, b.data[0]);
    nn_optim_free(&o);
  }
  nn_optim o = nn_optim_new(NN_SGD, NULL, ps, 2);
  nn_optim_zero_grad(&o);
  for (int i = 0; i < 6; i++) cr_assert_eq(dW.data[i], 0.f, "after zero_grad dW[%d] = %g, expected 0", i, dW.data[i]);
  for (int i = 0; i < 3; i++) cr_assert_eq(db.data[i], 0.f, "after zero_grad db[%d] = %g, expected 0", i, db.data[i]);
  nn_optim_free(&o);
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

/* value (2, 3) with grad (3, 2): aborts, and the message names the param and both shapes.
 * Run in a child so that its stderr can be read here. */
Test(optim, mismatched_value_and_grad_abort_naming_both_shapes) {
  int fds[2];
  cr_assert_eq(pipe(fds), 0, "pipe failed");
  fflush(stderr);
  pid_t pid = fork();
  cr_assert(pid >= 0, "fork failed");
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    nn_tensor w = nn_tensor_new(2, (int[]){2, 3}, NN_CPU), g = nn_tensor_new(2, (int[]){3, 2}, NN_CPU);
    nn_optim_new(NN_MOMENTUM, NULL, &(nn_param){"dense1.W", &w, &g}, 1);
    _exit(0); /* not reached when the check is there */
  }
  close(fds[1]);
  char msg[1024] = {0};
  size_t len = 0;
  ssize_t got;
  while (len < sizeof msg - 1 && (got = read(fds[0], msg + len, sizeof msg - 1 - len)) > 0) len += (size_t)got;
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
            "nn_optim_new with value (2, 3) and grad (3, 2) must abort");
  cr_assert(strstr(msg, "(2, 3)") && strstr(msg, "(3, 2)") && strstr(msg, "dense1.W"),
            "the message must name the param and both shapes: \"%s\"", msg);
}
