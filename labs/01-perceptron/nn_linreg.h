/* nn_linreg.h: linear regression, y ~ X w + b, fitted in one step by the normal equations.
 *
 * The MSE (1/N) |X w + b - y|^2 is a quadratic bowl in (w, b); its gradient is zero where
 *
 *   (A^T A) theta = A^T y,     A = [X 1] (N, D+1),  theta = (w, b)     the normal equations
 *
 * A^T A is (D+1) x (D+1), symmetric and positive definite when no column of A is a
 * combination of the others: the Cholesky factorisation A^T A = L L^T then solves it with
 * two triangular solves, (D+1)^3 / 3 multiply-adds. Gradient descent on the same MSE walks
 * down to the same theta (chapter 02's `nn regression` shows both); the closed form is
 * exact, costs one pass over the data, and stops being practical only when D is in the
 * ten thousands, where the (D+1)^2 matrix no longer fits.
 *
 * l2 > 0 is ridge regression: (A^T A + l2 N I') theta = A^T y, I' the identity without the
 * bias's entry (the bias is not shrunk), the minimum of MSE + l2 |w|^2, scikit-learn's
 * Ridge(alpha = l2 N). It also makes the matrix invertible when columns repeat.
 *
 * Sums run in double: A^T A squares the data's scale (a feature of 4,000 gives entries of
 * 10^7 and more), and a float would lose the small ones.
 *
 *   nn_linreg m;
 *   if (nn_linreg_fit(&X_train, y_train, 0, &m, &err) != NN_OK) puts(err.msg);
 *   nn_linreg_predict(&m, &X_test, yhat);
 *   nn_linreg_free(&m);
 */
#ifndef NN_LINREG_H
#define NN_LINREG_H

#include "nn_tensor.h"

typedef struct {
  int D;
  double *w; /* (D), owned */
  double b;
} nn_linreg;

/* X: (N, D) CPU, y: (N) targets, l2 >= 0. NN_ERR_ARG, with the reason, when A^T A is singular
 * (a constant column, one column a copy or sum of others, fewer rows than D + 1) and l2 is 0. */
nn_status nn_linreg_fit(const nn_tensor *X, const float *y, double l2, nn_linreg *m, nn_error *err);
/* yhat[i] = X[i] . w + b for the N rows of X (N, D). */
void nn_linreg_predict(const nn_linreg *m, const nn_tensor *X, float *yhat);
void nn_linreg_free(nn_linreg *m);

#endif
