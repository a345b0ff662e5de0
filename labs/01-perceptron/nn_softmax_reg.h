/* nn_softmax_reg.h: softmax (multinomial logistic) regression, C classes.
 *
 *   Z = X W^T + b,   P_ic = softmax(Z_i)_c = e^Z_ic / sum_k e^Z_ik
 *   X: (N, D)   W: (C, D)   b: (C)   Z, P: (N, C)
 *
 * Row i of P is the predicted distribution over the classes of example i.
 * Training minimises the mean cross-entropy plus L2 on W (not on b):
 *
 *   L = 1/N sum_i -log P_{i, y_i} + lambda/2 ||W||^2
 *   dL/dZ = (P - onehot(y)) / N,   dL/dW = dZ^T X + lambda W,   dL/db = sum_i dZ_i
 *
 * -log P_iy = logsumexp(Z_i) - Z_iy, and logsumexp is taken after subtracting
 * m = max_c Z_ic (softmax(z) = softmax(z - m)): every e^ is then at most 1 and
 * cannot overflow, and the largest term is exactly 1 so the sum cannot be 0.
 * With C = 2 this is logistic regression with w = W_1 - W_0.
 */
#ifndef NN_SOFTMAX_REG_H
#define NN_SOFTMAX_REG_H

#include "nn_logistic.h" /* nn_gd_options */
#include "nn_tensor.h"

/* mean cross-entropy of logits z (n, C) against y (n) in 0..C-1; ADDS dL/dz = (softmax(z) - onehot(y)) / n into dz (n, C) (dz may be NULL) */
double nn_softmax_xent(const float *z, const int *y, int n, int C, float *dz);

typedef struct {
  nn_tensor W, dW; /* (C, D) weights, one row per class, and their gradient */
  nn_tensor b, db; /* (C) */
} nn_softmax_reg;

/* W = 0, b = 0 (the loss is convex: no symmetry to break), gradients 0. */
nn_softmax_reg nn_softmax_reg_new(int D, int C);
void nn_softmax_reg_free(nn_softmax_reg *m);
/* dW = 0, db = 0: once per step, before nn_softmax_reg_loss_grad. */
void nn_softmax_reg_zero_grad(nn_softmax_reg *m);

/* L of the batch X (n, D), y (n) in 0..C-1, returned; ADDS dL/dW into m->dW and
 * dL/db into m->db. work: 2 n C floats of scratch (the logits Z, then dL/dZ). */
double nn_softmax_reg_loss_grad(nn_softmax_reg *m, const nn_tensor *X, const int *y, float lambda,
                                float *work);

/* Gradient descent on X (N, D), y (N) from the current W, b. history (opt->epochs
 * floats, or NULL) receives each epoch's mean training loss, taken batch by batch
 * as the epoch goes. Returns the last epoch's. */
double nn_softmax_reg_fit(nn_softmax_reg *m, const nn_tensor *X, const int *y,
                          const nn_gd_options *opt, float *history);

/* P (N, C) = softmax(X W^T + b) for X (N, D). */
void nn_softmax_reg_predict_proba(const nn_softmax_reg *m, const nn_tensor *X, float *P);
/* yhat (N) = argmax_c Z_ic (the first of equal maxima). */
void nn_softmax_reg_predict(const nn_softmax_reg *m, const nn_tensor *X, int *yhat);

#endif
