/* The perceptron: it learns AND and OR (lines exist), it never learns XOR (no
 * line exists), and on a separable toy set it converges within Novikoff's bound
 * of (R / gamma)^2 updates. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>

#include "nn_perceptron.h"
#include "nn_rng.h"

static const float BOOL_X[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
static const int AND_Y[4] = {0, 0, 0, 1}, OR_Y[4] = {0, 1, 1, 1}, XOR_Y[4] = {0, 1, 1, 0};

enum { MAX_EPOCHS = 100 };

/* The perceptron fitted on the four rows of a truth table; *epochs and mistakes[] from fit. */
static nn_perceptron fit_table(const int *y, int *epochs, int *mistakes) {
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, &BOOL_X[0][0]);
  nn_perceptron p = nn_perceptron_new(2);
  nn_perceptron_options opt = {.lr = 1.f, .max_epochs = MAX_EPOCHS, .seed = 1};
  *epochs = nn_perceptron_fit(&p, &X, y, &opt, mistakes);
  nn_tensor_free(&X);
  return p;
}

/* Converged in a few epochs, and the line w . x + b = 0 has every 1 strictly on
 * its positive side and every 0 on the other (or on it: step(0) = 0). */
static void check_learns(const char *name, const int *y) {
  int epochs, mistakes[MAX_EPOCHS];
  nn_perceptron p = fit_table(y, &epochs, mistakes);
  cr_assert(epochs <= 10 && mistakes[epochs - 1] == 0,
            "%s: after %d epochs the last made %d mistakes; a separable table of 4 rows must "
            "converge within 10 epochs (check the sign of the update: w += lr (y - yhat) x)",
            name, epochs, mistakes[epochs - 1]);
  for (int i = 0; i < 4; i++) {
    float z = p.w.data[0] * BOOL_X[i][0] + p.w.data[1] * BOOL_X[i][1] + p.b;
    cr_assert(y[i] ? z > 0.f : z <= 0.f,
              "%s(%g, %g) = %d but w . x + b = %g with w = (%g, %g), b = %g is on the wrong side",
              name, BOOL_X[i][0], BOOL_X[i][1], y[i], z, p.w.data[0], p.w.data[1], p.b);
  }
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, &BOOL_X[0][0]);
  int yhat[4];
  nn_perceptron_predict(&p, &X, yhat);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(yhat[i], y[i], "%s: nn_perceptron_predict gives %d for row %d, expected %d", name,
                 yhat[i], i, y[i]);
  nn_tensor_free(&X);
  nn_perceptron_free(&p);
}

Test(perceptron, learns_and) { check_learns("AND", AND_Y); }
Test(perceptron, learns_or) { check_learns("OR", OR_Y); }

Test(perceptron, never_learns_xor) {
  int epochs, mistakes[MAX_EPOCHS];
  nn_perceptron p = fit_table(XOR_Y, &epochs, mistakes);
  cr_assert_eq(epochs, MAX_EPOCHS, "XOR: fit stopped after %d epochs, but no line separates XOR, "
               "so every epoch must make a mistake and all %d must run", epochs, MAX_EPOCHS);
  cr_assert(mistakes[MAX_EPOCHS - 1] > 0, "XOR: the last epoch made no mistake");
  nn_perceptron_free(&p);
}

/* The first update from w = 0, b = 0 on a missed positive x = (2, -1), lr = 0.5:
 * w = 0.5 x = (1, -0.5), b = 0.5. Then a false positive x = (1, 0): z = 1.5 > 0,
 * w -= 0.5 x -> (0.5, -0.5), b -> 0. */
Test(perceptron, update_by_hand) {
  nn_perceptron p = nn_perceptron_new(2);
  cr_assert_eq(nn_perceptron_update(&p, (float[]){2, -1}, 1, 0.5f), 1, "(2, -1) with w = 0 is a mistake");
  cr_assert(p.w.data[0] == 1.f && p.w.data[1] == -0.5f && p.b == 0.5f,
            "after a missed positive x = (2, -1), lr = 0.5: w = (%g, %g), b = %g; expected (1, -0.5), 0.5",
            p.w.data[0], p.w.data[1], p.b);
  cr_assert_eq(nn_perceptron_update(&p, (float[]){1, 0}, 0, 0.5f), 1, "(1, 0) scores 1.5 > 0: a mistake");
  cr_assert(p.w.data[0] == 0.5f && p.w.data[1] == -0.5f && p.b == 0.f,
            "after a false positive x = (1, 0), lr = 0.5: w = (%g, %g), b = %g; expected (0.5, -0.5), 0",
            p.w.data[0], p.w.data[1], p.b);
  cr_assert_eq(nn_perceptron_update(&p, (float[]){1, 0}, 1, 0.5f), 0,
               "(1, 0) with y = 1 now scores 0.5 > 0: right, so no update and 0 returned");
  cr_assert(p.w.data[0] == 0.5f && p.b == 0.f, "a right prediction must not move w, b");
  nn_perceptron_free(&p);
}

/* Novikoff (1962): if some unit u = (w*, b*) / |(w*, b*)| has y' u . (x, 1) >= gamma > 0
 * for every example (y' = 2y - 1) and |(x, 1)| <= R, the perceptron from w = 0 makes at
 * most (R / gamma)^2 updates, whatever the order and the learning rate. Points in
 * [-1, 1]^2 closer than 0.1 to the line x0 - 2 x1 + 0.3 = 0 are left out, for a margin. */
Test(perceptron, separable_toy_converges_within_novikoff_bound) {
  enum { N = 200 };
  const double ws[3] = {1, -2, 0.3}, norm = sqrt(1 + 4 + 0.09);
  float x[N][2];
  int y[N];
  nn_rng rng = nn_rng_new(7);
  double R = 0, gamma = INFINITY;
  for (int i = 0; i < N;) {
    float a = nn_rng_uniform(&rng, -1.f, 1.f), b = nn_rng_uniform(&rng, -1.f, 1.f);
    double s = ws[0] * a + ws[1] * b + ws[2];
    if (fabs(s) < 0.1) continue;
    x[i][0] = a, x[i][1] = b, y[i] = s > 0;
    R = fmax(R, sqrt((double)a * a + (double)b * b + 1));
    gamma = fmin(gamma, fabs(s) / norm);
    i++;
  }
  nn_tensor X = nn_tensor_from(2, (int[]){N, 2}, &x[0][0]);
  nn_perceptron p = nn_perceptron_new(2);
  int mistakes[1000];
  nn_perceptron_options opt = {.lr = 0.1f, .max_epochs = 1000, .seed = 3};
  int epochs = nn_perceptron_fit(&p, &X, y, &opt, mistakes);
  long updates = 0;
  for (int e = 0; e < epochs; e++) updates += mistakes[e];
  double bound = (R / gamma) * (R / gamma);
  cr_assert(mistakes[epochs - 1] == 0, "a separable set must converge: %d epochs, %d mistakes in the last",
            epochs, mistakes[epochs - 1]);
  cr_assert(updates <= bound, "%ld updates, more than Novikoff's bound (R/gamma)^2 = %.0f", updates, bound);
  int yhat[N], wrong = 0;
  nn_perceptron_predict(&p, &X, yhat);
  for (int i = 0; i < N; i++) wrong += yhat[i] != y[i];
  cr_assert_eq(wrong, 0, "after convergence %d of %d training points are still misclassified", wrong, N);
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
