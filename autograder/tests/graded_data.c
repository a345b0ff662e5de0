/* graded_data.c: data sets for graded accuracy tests (graded_data.h). */
#include "graded_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"
#include "nn_idx.h"
#include "nn_rng.h"

/* A drawn variant keeps a random three quarters of the test rows, in a random order
 * (checker side). Three quarters, not a half: the reference's accuracy on a half of MNIST's
 * 2,000 test images spreads by 0.5 points, and an unlucky half put it under the band. */
static void draw_test_half(nn_grade *g, graded_split *test) {
  uint64_t seed = nn_grade_seed(g, 0); /* drawn in every mode, so that later draws agree */
  if (nn_grade_public(g) || nn_grade_mode_is_worker(g)) return;
  nn_rng rng = nn_rng_new(seed);
  int n = test->n, keep = 3 * n / 4 > 0 ? 3 * n / 4 : n;
  long row = nn_numel(&test->X) / n;
  int *order = nn_xmalloc((size_t)n * sizeof *order, "test order");
  nn_rng_permutation(&rng, order, n);
  int shape[4] = {keep, test->X.shape[1], test->X.shape[2], test->X.shape[3]};
  nn_tensor X = nn_tensor_new(test->X.ndim, shape, NN_CPU);
  int *y = nn_xmalloc((size_t)keep * sizeof *y, "test labels");
  for (int i = 0; i < keep; i++) {
    memcpy(X.data + (long)i * row, test->X.data + (long)order[i] * row, (size_t)row * sizeof(float));
    y[i] = test->y[order[i]];
  }
  nn_tensor_free(&test->X), free(test->y), free(order);
  test->X = X, test->y = y, test->n = keep;
}

void graded_share(nn_grade *g, graded_split *train, graded_split *test) {
  draw_test_half(g, test);
  long n_train = train->n;
  input_tensor(g, "the training inputs", &train->X);
  input_ints(g, "the training labels", &train->y, &n_train);
  input_tensor(g, "the test inputs", &test->X);
  train->n = (int)n_train, test->n = test->X.shape[0];
}

void graded_mnist(nn_grade *g, const char *dir, graded_split *train, graded_split *test) {
  memset(train, 0, sizeof *train), memset(test, 0, sizeof *test);
  if (!nn_grade_mode_is_worker(g)) {
    nn_error err = {0};
    if (nn_mnist_load(dir, "train", &train->X, &train->y, &err) != NN_OK ||
        nn_mnist_load(dir, "t10k", &test->X, &test->y, &err) != NN_OK)
      nn_panic("graded_mnist: %s", err.msg); /* the course's own bundled data: an autograder error */
    train->n = train->X.shape[0], test->n = test->X.shape[0];
  }
  graded_share(g, train, test);
}

double graded_accuracy(nn_grade *g, const graded_split *test, int *predictions) {
  answer(g, "the predicted classes", predictions, test->n);
  if (!nn_grade_judges(g)) return 0;
  long right = 0;
  for (int i = 0; i < test->n; i++) right += predictions[i] == test->y[i];
  return (double)right / test->n;
}

void graded_expect_accuracy(nn_grade *g, const graded_split *test, int *predictions, float first_last_loss[2],
                            double band) {
  double acc = graded_accuracy(g, test, predictions);
  answer(g, "the first and last epoch's training loss", first_last_loss, 2);
  expect(g, acc >= band, "test accuracy %.2f%% on %d images, expected >= %g%% (train loss %.3f -> %.3f)", 100 * acc,
         test->n, 100 * band, first_last_loss[0], first_last_loss[1]);
  expect(g, first_last_loss[1] < first_last_loss[0], "the training loss did not fall: %g -> %g", first_last_loss[0],
         first_last_loss[1]);
  nn_grade_note(g, "test accuracy %.2f%% on %d images (needs %g%%); train loss %.3f -> %.3f", 100 * acc, test->n,
                100 * band, first_last_loss[0], first_last_loss[1]);
}

void graded_split_free(graded_split *s) {
  nn_tensor_free(&s->X);
  free(s->y);
  s->y = NULL;
}
