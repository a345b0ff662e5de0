/* nn_logistic.h: binary logistic regression, and the loss it is trained on.
 *
 *   z = X w + b,   p = sigmoid(z) = 1 / (1 + e^-z)        X: (N, D)  w: (D)  z, p: (N)
 *
 * p is read as P(y = 1 | x). Training minimises the mean binary cross-entropy
 * plus an L2 penalty on w (never on b: it only shifts the line):
 *
 *   L = 1/N sum_i [ -y_i log p_i - (1 - y_i) log(1 - p_i) ] + lambda/2 ||w||^2
 *
 * Its gradient is the reason to pair the sigmoid with this loss:
 *
 *   dL/dz_i = (p_i - y_i) / N,   dL/dw = X^T dz + lambda w,   dL/db = sum_i dz_i
 *
 * The loss is computed from the logits, never from p: log(sigmoid(z)) of a
 * float p that rounded to 0 or 1 is -inf. Per example, in a form that cannot
 * overflow for any z:
 *
 *   -y log p - (1 - y) log(1 - p) = max(z, 0) - z y + log(1 + e^-|z|)
 */
#ifndef NN_LOGISTIC_H
#define NN_LOGISTIC_H

#include <stdint.h>

#include "nn_tensor.h"

/* 1 / (1 + e^-z), written so that e^(large) is never formed: finite for any z. */
float nn_sigmoid(float z);

/* mean binary cross-entropy of logits z against y in {0,1}; ADDS dL/dz_i = (sigmoid(z_i) - y_i) / n into dz (dz may be NULL) */
double nn_bce_with_logits(const float *z, const int *y, int n, float *dz);

/* Options of (mini-)batch gradient descent, for logistic and softmax regression. */
typedef struct {
  float lr;      /* step size: w -= lr dL/dw */
  int epochs;    /* passes over the training set */
  int batch;     /* examples per step; 0 (or >= N) = the full batch, one step per epoch */
  float lambda;  /* L2 strength: + lambda/2 ||w||^2 (the bias is not regularised) */
  uint64_t seed; /* the order of the examples, shuffled afresh each epoch */
} nn_gd_options;

/* Aborts, naming fn and the values, unless lr > 0, epochs >= 1, batch >= 0, lambda >= 0. */
void nn_gd_options_check(const char *fn, const nn_gd_options *opt);

typedef struct {
  nn_tensor w, dw; /* (D) weights and their gradient */
  float b, db;     /* bias and its gradient */
} nn_logistic;

/* w = 0, b = 0 (the loss is convex: no symmetry to break), gradients 0. */
nn_logistic nn_logistic_new(int D);
void nn_logistic_free(nn_logistic *m);
/* One gradient-descent step: w -= lr dw, b -= lr db (dense or sparse fits alike). */
void nn_logistic_sgd_step(nn_logistic *m, float lr);
/* dw = 0, db = 0: once per step, before nn_logistic_loss_grad. */
void nn_logistic_zero_grad(nn_logistic *m);

/* L of the batch X (n, D), y (n) in {0, 1}, returned; ADDS dL/dw into m->dw and
 * dL/db into m->db. work: 2n floats of scratch (the logits z, then dL/dz). */
double nn_logistic_loss_grad(nn_logistic *m, const nn_tensor *X, const int *y, float lambda,
                             float *work);

/* Gradient descent on X (N, D), y (N) from the current w, b. history (opt->epochs
 * floats, or NULL) receives each epoch's mean training loss, taken batch by batch
 * as the epoch goes. Returns the last epoch's. */
double nn_logistic_fit(nn_logistic *m, const nn_tensor *X, const int *y, const nn_gd_options *opt,
                       float *history);

/* p (N) = sigmoid(X w + b) for X (N, D). */
void nn_logistic_predict_proba(const nn_logistic *m, const nn_tensor *X, float *p);
/* yhat (N) = [p > 0.5], i.e. [z > 0]. */
void nn_logistic_predict(const nn_logistic *m, const nn_tensor *X, int *yhat);

#endif
