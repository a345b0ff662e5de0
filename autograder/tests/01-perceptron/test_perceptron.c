/* The perceptron: it learns AND and OR (lines exist), it never learns XOR (no
 * line exists), and on a separable toy set it converges within Novikoff's bound
 * of (R / gamma)^2 updates.
 *
 * Graded variants: the truth tables' inputs are {0, a} x {0, c} with a, c drawn from
 * {1, 1.5, 2} (still AND, OR and XOR of the two "on" bits), the learning rate from
 * 0.25..2 and the order's seed; the update rule runs on a drawn D (3..9), w, b, x; the toy
 * set has a drawn line, size and seeds. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "graded.h"
#include "nn_perceptron.h"
#include "nn_rng.h"

static const int AND_Y[4] = {0, 0, 0, 1}, OR_Y[4] = {0, 1, 1, 1}, XOR_Y[4] = {0, 1, 1, 0};

enum { MAX_EPOCHS = 100 };

/* A truth table's four rows (0, 0), (0, c), (a, 0), (a, c): a = c = 1 in the public
 * variant, else each drawn from {1, 1.5, 2}. The fit's learning rate and seed too. */
typedef struct {
  float x[4][2];
  float a, c;
  nn_perceptron_options opt;
} truth_table;

static truth_table draw_table(nn_grade *g, int max_epochs) {
  truth_table t;
  t.a = nn_grade_size(g, 2, 2, 4) / 2.f;
  t.c = nn_grade_size(g, 2, 2, 4) / 2.f;
  float lr = nn_grade_size(g, 4, 1, 8) / 4.f; /* with w, b from 0 any lr > 0 learns the same line */
  t.opt = (nn_perceptron_options){.lr = lr, .max_epochs = max_epochs, .seed = nn_grade_seed(g, 1)};
  const float rows[4][2] = {{0, 0}, {0, t.c}, {t.a, 0}, {t.a, t.c}};
  for (int i = 0; i < 4; i++) t.x[i][0] = rows[i][0], t.x[i][1] = rows[i][1];
  return t;
}

/* The perceptron fitted on the table's rows; *epochs and mistakes[] (max_epochs, zeroed
 * past the epochs run) from fit, answered with w and b. */
static nn_perceptron fit_table(nn_grade *g, const truth_table *t, const int *y, int *epochs, int *mistakes) {
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, &t->x[0][0]);
  nn_perceptron p = nn_perceptron_new(2);
  for (int e = 0; e < t->opt.max_epochs; e++) mistakes[e] = 0;
  *epochs = nn_perceptron_fit(&p, &X, y, &t->opt, mistakes);
  answer(g, "the epochs nn_perceptron_fit ran", epochs, 1);
  answer(g, "the mistakes of each epoch", mistakes, t->opt.max_epochs);
  answer(g, "w after fit", p.w.data, 2);
  answer(g, "b after fit", &p.b, 1);
  nn_tensor_free(&X);
  return p;
}

/* Novikoff's bound (R / gamma)^2 on the updates, from a line the test knows separates the
 * table: w* = (1/a, 1/c), b* = -1.5 (AND) or -0.5 (OR), 0.5 from every row. */
static double table_bound(const truth_table *t, double b_star) {
  double norm2 = 1 / ((double)t->a * t->a) + 1 / ((double)t->c * t->c) + b_star * b_star;
  double R2 = (double)t->a * t->a + (double)t->c * t->c + 1, gamma2 = 0.25 / norm2;
  return R2 / gamma2;
}

/* Converged (in the public table: within 10 epochs; in every table: within Novikoff's
 * bound), and the line w . x + b = 0 has every 1 strictly on its positive side and every
 * 0 on the other (or on it: step(0) = 0). */
static void check_learns(nn_grade *g, const char *name, const int *y, double b_star) {
  truth_table t = draw_table(g, MAX_EPOCHS);
  int epochs, mistakes[MAX_EPOCHS];
  nn_perceptron p = fit_table(g, &t, y, &epochs, mistakes);
  expect(g, epochs >= 1 && epochs <= MAX_EPOCHS, "%s: nn_perceptron_fit returned %d epochs, expected 1..%d", name,
         epochs, MAX_EPOCHS);
  long updates = 0;
  for (int e = 0; e < epochs; e++) {
    expect(g, mistakes[e] >= 0 && mistakes[e] <= 4, "%s: epoch %d made %d mistakes, expected 0..4 (4 rows)", name,
           e + 1, mistakes[e]);
    updates += mistakes[e];
  }
  if (nn_grade_public(g))
    expect(g, epochs <= 10 && mistakes[epochs - 1] == 0,
           "%s: after %d epochs the last made %d mistakes; a separable table of 4 rows must "
           "converge within 10 epochs (check the sign of the update: w += lr (y - yhat) x)",
           name, epochs, mistakes[epochs - 1]);
  expect(g, mistakes[epochs - 1] == 0,
         "%s of (0, 0), (0, %g), (%g, 0), (%g, %g), lr %g: after %d epochs the last made %d mistakes; a separable "
         "table must converge (check the sign of the update: w += lr (y - yhat) x)",
         name, t.c, t.a, t.a, t.c, t.opt.lr, epochs, mistakes[epochs - 1]);
  double bound = table_bound(&t, b_star);
  expect(g, updates <= bound, "%s of (0, 0), (0, %g), (%g, 0), (%g, %g): %ld updates, more than Novikoff's bound "
         "(R/gamma)^2 = %.0f", name, t.c, t.a, t.a, t.c, updates, bound);
  for (int i = 0; i < 4; i++) {
    float z = p.w.data[0] * t.x[i][0] + p.w.data[1] * t.x[i][1] + p.b;
    expect(g, y[i] ? z > 0.f : z <= 0.f,
           "%s(%g, %g) = %d but w . x + b = %g with w = (%g, %g), b = %g is on the wrong side",
           name, t.x[i][0], t.x[i][1], y[i], z, p.w.data[0], p.w.data[1], p.b);
  }
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, &t.x[0][0]);
  int yhat[4];
  nn_perceptron_predict(&p, &X, yhat);
  answer(g, "nn_perceptron_predict of the table", yhat, 4);
  for (int i = 0; i < 4; i++)
    expect(g, yhat[i] == y[i], "%s: nn_perceptron_predict gives %d for row %d (%g, %g), expected %d", name, yhat[i],
           i, t.x[i][0], t.x[i][1], y[i]);
  nn_tensor_free(&X);
  nn_perceptron_free(&p);
}

GRADED_TEST(perceptron, learns_and) { check_learns(g, "AND", AND_Y, -1.5); }
GRADED_TEST(perceptron, learns_or) { check_learns(g, "OR", OR_Y, -0.5); }

GRADED_TEST(perceptron, never_learns_xor) {
  int max_epochs = nn_grade_size(g, MAX_EPOCHS, 20, MAX_EPOCHS);
  truth_table t = draw_table(g, max_epochs);
  int epochs, mistakes[MAX_EPOCHS];
  nn_perceptron p = fit_table(g, &t, XOR_Y, &epochs, mistakes);
  expect(g, epochs == max_epochs, "XOR: fit stopped after %d epochs, but no line separates XOR, "
         "so every epoch must make a mistake and all %d must run", epochs, max_epochs);
  expect(g, mistakes[max_epochs - 1] > 0, "XOR: the last epoch (%d) made no mistake", max_epochs);
  nn_perceptron_free(&p);
}

/* One call of the rule: its return value, then w and b, as answers. */
static int update_answered(nn_grade *g, nn_perceptron *p, const float *x, int y, float lr) {
  int moved = nn_perceptron_update(p, x, y, lr);
  answer(g, "the value nn_perceptron_update returned", &moved, 1);
  answer(g, "w after nn_perceptron_update", p->w.data, p->w.shape[0]);
  answer(g, "b after nn_perceptron_update", &p->b, 1);
  return moved;
}

/* The drawn variant: D in 3..9, a random w, b, then three updates on random x: a mistake
 * (y is the other class than step(w . x + b)), a right prediction, another mistake. Every
 * |w . x + b| is kept >= 0.1, so the test's score in double and the code's in float agree
 * on the side. */
static void update_drawn(nn_grade *g) {
  int D = nn_grade_size(g, 2, 3, 9); /* never the public 2 */
  float lr = nn_grade_size(g, 0, 1, 16) / 8.f;
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  nn_perceptron p = nn_perceptron_new(D);
  float want_w[9], want_b = nn_rng_uniform(&rng, -1.f, 1.f), x[9];
  for (int d = 0; d < D; d++) p.w.data[d] = want_w[d] = nn_rng_uniform(&rng, -1.f, 1.f);
  p.b = want_b;
  for (int k = 0; k < 3; k++) {
    double z;
    do {
      z = want_b;
      for (int d = 0; d < D; d++) x[d] = nn_rng_uniform(&rng, -2.f, 2.f), z += (double)want_w[d] * x[d];
    } while (fabs(z) < 0.1);
    int yhat = z > 0, y = k == 1 ? yhat : 1 - yhat;
    int moved = update_answered(g, &p, x, y, lr);
    expect(g, moved == (y != yhat), "update %d: y = %d, w . x + b = %g: nn_perceptron_update returned %d, expected %d "
           "(1 for a mistake, 0 for a right prediction)", k + 1, y, z, moved, y != yhat);
    float step = lr * (float)(y - yhat);
    for (int d = 0; d < D; d++) want_w[d] += step * x[d];
    want_b += step;
    for (int d = 0; d < D; d++)
      expect_near(g, p.w.data[d], want_w[d], 1e-6 * (1 + fabsf(want_w[d])),
                  "update %d (y = %d, yhat = %d, lr = %g): w[%d] = %.7g, expected %.7g = w + lr (y - yhat) x", k + 1,
                  y, yhat, lr, d, p.w.data[d], want_w[d]);
    expect_near(g, p.b, want_b, 1e-6 * (1 + fabsf(want_b)),
                "update %d (y = %d, yhat = %d, lr = %g): b = %.7g, expected %.7g = b + lr (y - yhat)", k + 1, y, yhat,
                lr, p.b, want_b);
  }
  nn_perceptron_free(&p);
}

/* The first update from w = 0, b = 0 on a missed positive x = (2, -1), lr = 0.5:
 * w = 0.5 x = (1, -0.5), b = 0.5. Then a false positive x = (1, 0): z = 1.5 > 0,
 * w -= 0.5 x -> (0.5, -0.5), b -> 0. */
GRADED_TEST(perceptron, update_by_hand) {
  if (!nn_grade_public(g)) {
    update_drawn(g);
    return;
  }
  nn_perceptron p = nn_perceptron_new(2);
  int moved = update_answered(g, &p, (float[]){2, -1}, 1, 0.5f);
  expect(g, moved == 1, "(2, -1) with w = 0 is a mistake: nn_perceptron_update returned %d, expected 1", moved);
  expect(g, p.w.data[0] == 1.f && p.w.data[1] == -0.5f && p.b == 0.5f,
         "after a missed positive x = (2, -1), lr = 0.5: w = (%g, %g), b = %g; expected (1, -0.5), 0.5",
         p.w.data[0], p.w.data[1], p.b);
  moved = update_answered(g, &p, (float[]){1, 0}, 0, 0.5f);
  expect(g, moved == 1, "(1, 0) scores 1.5 > 0: a mistake; nn_perceptron_update returned %d, expected 1", moved);
  expect(g, p.w.data[0] == 0.5f && p.w.data[1] == -0.5f && p.b == 0.f,
         "after a false positive x = (1, 0), lr = 0.5: w = (%g, %g), b = %g; expected (0.5, -0.5), 0",
         p.w.data[0], p.w.data[1], p.b);
  moved = update_answered(g, &p, (float[]){1, 0}, 1, 0.5f);
  expect(g, moved == 0, "(1, 0) with y = 1 now scores 0.5 > 0: right, so no update and 0 returned; got %d", moved);
  expect(g, p.w.data[0] == 0.5f && p.w.data[1] == -0.5f && p.b == 0.f,
         "a right prediction must not move w, b: w = (%g, %g), b = %g, expected (0.5, -0.5), 0", p.w.data[0],
         p.w.data[1], p.b);
  nn_perceptron_free(&p);
}

/* Novikoff (1962): if some unit u = (w*, b*) / |(w*, b*)| has y' u . (x, 1) >= gamma > 0
 * for every example (y' = 2y - 1) and |(x, 1)| <= R, the perceptron from w = 0 makes at
 * most (R / gamma)^2 updates, whatever the order and the learning rate. Points in
 * [-1, 1]^2 closer than 0.1 to the line x0 - 2 x1 + 0.3 = 0 (in the line's units) are
 * left out, for a margin. The drawn variant draws the line (|w*_d| in 0.5..1.5, b* in
 * -0.5..0.5), N, the seeds and lr, and leaves out the points closer than 0.1 in distance,
 * so the bound stays under 3 / 0.1^2 = 300 updates. */
GRADED_TEST(perceptron, separable_toy_converges_within_novikoff_bound) {
  enum { MAX_N = 300, FIT_EPOCHS = 1000 };
  int N = nn_grade_size(g, 200, 20, MAX_N);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 7));
  float lr = nn_grade_public(g) ? 0.1f : nn_grade_size(g, 0, 1, 20) / 10.f;
  uint64_t fit_seed = nn_grade_seed(g, 3);
  double ws[3] = {1, -2, 0.3};
  if (!nn_grade_public(g))
    for (int d = 0; d < 3; d++) {
      double mag = d < 2 ? nn_rng_uniform(&rng, 0.5f, 1.5f) : nn_rng_uniform(&rng, 0.f, 0.5f);
      ws[d] = nn_rng_below(&rng, 2) ? mag : -mag;
    }
  const double norm = sqrt(ws[0] * ws[0] + ws[1] * ws[1] + ws[2] * ws[2]);
  const double min_s = nn_grade_public(g) ? 0.1 : 0.1 * norm; /* |s| below this is left out */
  float(*x)[2] = malloc(sizeof(float[MAX_N][2]));
  int *y = malloc(MAX_N * sizeof *y);
  double R = 0, gamma = INFINITY;
  for (int i = 0; i < N;) {
    float a = nn_rng_uniform(&rng, -1.f, 1.f), b = nn_rng_uniform(&rng, -1.f, 1.f);
    double s = ws[0] * a + ws[1] * b + ws[2];
    if (fabs(s) < min_s) continue;
    x[i][0] = a, x[i][1] = b, y[i] = s > 0;
    R = fmax(R, sqrt((double)a * a + (double)b * b + 1));
    gamma = fmin(gamma, fabs(s) / norm);
    i++;
  }
  nn_tensor X = nn_tensor_from(2, (int[]){N, 2}, &x[0][0]);
  nn_perceptron p = nn_perceptron_new(2);
  int *mistakes = calloc(FIT_EPOCHS, sizeof *mistakes);
  nn_perceptron_options opt = {.lr = lr, .max_epochs = FIT_EPOCHS, .seed = fit_seed};
  int epochs = nn_perceptron_fit(&p, &X, y, &opt, mistakes);
  answer(g, "the epochs nn_perceptron_fit ran", &epochs, 1);
  answer(g, "the mistakes of each epoch", mistakes, FIT_EPOCHS);
  expect(g, epochs >= 1 && epochs <= FIT_EPOCHS, "nn_perceptron_fit returned %d epochs, expected 1..%d", epochs,
         FIT_EPOCHS);
  long updates = 0;
  for (int e = 0; e < epochs; e++) {
    expect(g, mistakes[e] >= 0 && mistakes[e] <= N, "epoch %d made %d mistakes, expected 0..%d", e + 1, mistakes[e], N);
    updates += mistakes[e];
  }
  double bound = (R / gamma) * (R / gamma);
  expect(g, mistakes[epochs - 1] == 0, "a separable set must converge: %d epochs, %d mistakes in the last",
         epochs, mistakes[epochs - 1]);
  expect(g, updates <= bound, "%ld updates, more than Novikoff's bound (R/gamma)^2 = %.0f (N = %d, lr = %g)", updates,
         bound, N, lr);
  int *yhat = malloc(MAX_N * sizeof *yhat), wrong = 0;
  nn_perceptron_predict(&p, &X, yhat);
  answer(g, "nn_perceptron_predict of the training points", yhat, N);
  for (int i = 0; i < N; i++) wrong += yhat[i] != y[i];
  expect(g, wrong == 0, "after convergence %d of %d training points are still misclassified", wrong, N);
  free(x), free(y), free(yhat), free(mistakes);
  nn_tensor_free(&X);
  nn_perceptron_free(&p);
}

Test(perceptron, predict_by_hand) { /* w = (1, -1), b = 0: z = x0 - x1, step(0) = 0 */
  nn_perceptron p = nn_perceptron_new(2);
  p.w.data[0] = 1.f, p.w.data[1] = -1.f;
  nn_tensor X = nn_tensor_from(2, (int[]){3, 2}, (float[]){2, 1, 1, 2, 1, 1});
  int yhat[3];
  nn_perceptron_predict(&p, &X, yhat);
  cr_assert(yhat[0] == 1 && yhat[1] == 0 && yhat[2] == 0, "step(x0 - x1) of (2,1), (1,2), (1,1) = %d %d %d, "
            "expected 1 0 0 (step(0) = 0)", yhat[0], yhat[1], yhat[2]);
  cr_assert_eq(nn_perceptron_predict_one(&p, (float[]){2, 1}), 1);
  nn_tensor_free(&X);
  nn_perceptron_free(&p);
}

Test(perceptron, wrong_width_aborts, .signal = SIGABRT) {
  nn_perceptron p = nn_perceptron_new(3);
  nn_tensor X = nn_tensor_new(2, (int[]){4, 2}, NN_CPU);
  int yhat[4];
  nn_perceptron_predict(&p, &X, yhat); /* X (4, 2) for w (3) */
}
