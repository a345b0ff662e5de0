/* nn_sparse_logreg.h: binary logistic regression on sparse rows (bag of words, TF-IDF).
 *
 * The same model, loss and options as nn_logistic.h, with X a CSR matrix (N, D):
 *
 *   z = X w + b                     by the CSR gather, nn_csr_matvec     z: (n)
 *   L = 1/n sum_i bce(z_i, y_i) + lambda/2 ||w||^2                      (nn_bce_with_logits)
 *   dz_i = (sigmoid(z_i) - y_i) / n
 *   dw  += X^T dz + lambda w        by the CSR scatter, nn_csr_matvec_t_add   dw: (D)
 *   db  += sum_i dz_i
 *
 * A step costs O(nnz of the batch + D): the products touch only the batch's
 * non-zeros, the L2 term and the update all D weights. With D in the tens of
 * thousands a batch of a few hundred rows keeps the two in balance.
 */
#ifndef NN_SPARSE_LOGREG_H
#define NN_SPARSE_LOGREG_H

#include "nn_logistic.h"
#include "nn_sparse.h"

/* L of the rows r_i (rows[i], or i when rows is NULL; then n = X->rows) of X, with
 * y (n) their labels in {0, 1} in the same order, returned; ADDS dL/dw into m->dw
 * and dL/db into m->db. work: 2n floats of scratch (the logits z, then dL/dz). */
double nn_sparse_logreg_loss_grad(nn_logistic *m, const nn_csr *X, const int *rows, int n,
                                  const int *y, float lambda, float *work);

/* Gradient descent on X (N, D), y (N) from the current w, b, with nn_gd_options
 * (lr, epochs, batch: 0 = full batch, lambda, seed for the order of each epoch).
 * history (opt->epochs floats, or NULL) receives each epoch's mean training loss,
 * taken batch by batch. Returns the last epoch's. */
double nn_sparse_logreg_fit(nn_logistic *m, const nn_csr *X, const int *y, const nn_gd_options *opt,
                            float *history);

/* p (N) = sigmoid(X w + b);  yhat (N) = [z > 0]. */
void nn_sparse_logreg_predict_proba(const nn_logistic *m, const nn_csr *X, float *p);
void nn_sparse_logreg_predict(const nn_logistic *m, const nn_csr *X, int *yhat);

/* The k features with the largest weights, largest first, into top[0..k), and the
 * k with the smallest, smallest first, into bottom[0..k) (either may be NULL): for a
 * bag of words, the tokens that push a review most towards positive and negative.
 * Equal weights come in the order of their ids. k <= D. */
void nn_sparse_logreg_extremes(const nn_logistic *m, int k, int *top, int *bottom);

#endif
