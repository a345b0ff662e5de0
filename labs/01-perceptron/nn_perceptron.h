/* nn_perceptron.h: Rosenblatt's perceptron (1958), a line that learns from its mistakes.
 *
 *   yhat = step(w . x + b),   step(z) = 1 if z > 0 else 0          x, w: (D)
 *
 * The learning rule visits the examples one at a time and moves the line only
 * when it is wrong:
 *
 *   w += lr (y - yhat) x,    b += lr (y - yhat)          y, yhat in {0, 1}
 *
 * (y - yhat) is +1 for a missed positive and -1 for a false positive: the line
 * is pushed towards the side the example belongs on. When the two classes can
 * be split by a line, it stops moving after at most (R / gamma)^2 updates
 * (Novikoff, 1962; R the largest norm of (x, 1), gamma the margin of the best
 * separating line); when they cannot (XOR), it never stops.
 */
#ifndef NN_PERCEPTRON_H
#define NN_PERCEPTRON_H

#include <stdint.h>

#include "nn_tensor.h"

typedef struct {
  nn_tensor w; /* (D) */
  float b;
} nn_perceptron;

typedef struct {
  float lr;       /* the step of the rule; with w, b starting at 0 any lr > 0 learns the same line */
  int max_epochs; /* passes over the data at most */
  uint64_t seed;  /* the order of the examples, shuffled afresh each epoch */
} nn_perceptron_options;

/* w = 0, b = 0 for D inputs. */
nn_perceptron nn_perceptron_new(int D);
void nn_perceptron_free(nn_perceptron *p);

/* step(w . x + b) for one example x (D). */
int nn_perceptron_predict_one(const nn_perceptron *p, const float *x);
/* yhat (N) = step(X w + b) for X (N, D). */
void nn_perceptron_predict(const nn_perceptron *p, const nn_tensor *X, int *yhat);

/* The learning rule on one example x (D) with label y in {0, 1}: returns 1 when
 * x was misclassified (and w, b moved), 0 when it was right (nothing moves). */
int nn_perceptron_update(nn_perceptron *p, const float *x, int y, float lr);

/* Epochs of the rule over X (N, D), y (N) in a seeded shuffled order, until an
 * epoch makes no mistake or max_epochs have run. Returns the epochs run;
 * mistakes (max_epochs ints, or NULL) receives the mistakes of each, so
 * mistakes[epochs - 1] == 0 exactly when it converged. */
int nn_perceptron_fit(nn_perceptron *p, const nn_tensor *X, const int *y,
                      const nn_perceptron_options *opt, int *mistakes);

#endif
