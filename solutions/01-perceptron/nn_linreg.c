/* nn_linreg.c: the normal equations, solved by Cholesky; see nn_linreg.h. */
#include "nn_linreg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* G = A^T A and r = A^T y for A = [X 1]: G[j][k] = sum_i a_ij a_ik, in double */
static void normal_equations(const nn_tensor *X, const float *y, double *G, double *r) {
  int N = X->shape[0], D = X->shape[1], P = D + 1;
  memset(G, 0, sizeof *G * (size_t)P * P);
  memset(r, 0, sizeof *r * (size_t)P);
  for (int i = 0; i < N; i++) {
    const float *x = X->data + (long)i * D; /* row i of A is (x[0], ..., x[D-1], 1) */
    /* BEGIN SOLUTION */
    /* HINT: A = [X 1] is (N, P), P = D + 1: row i of A is a_i = (x[0], ..., x[D-1], 1), the 1 standing for the bias. G = A^T A and r = A^T y are sums over the rows: row i adds its outer product a_i a_i^T to G and a_i y_i to r, in double. G is symmetric, so fill only its lower triangle (column k up to row j): the loop after this one mirrors it up */
    /* HINT2: for j = 0 .. P-1: a_j is x[j] for j < D and 1.0 for j = D; r[j] gains a_j times y[i]; for k = 0 .. j, G at j*P + k gains a_j times a_k (a_k found the same way) */
    for (int j = 0; j < P; j++) {
      double a_j = j < D ? x[j] : 1.0;
      r[j] += a_j * y[i];
      for (int k = 0; k <= j; k++) G[j * P + k] += a_j * (k < D ? x[k] : 1.0);
    }
    /* END SOLUTION */
  }
  for (int j = 0; j < P; j++) /* the upper triangle mirrors the lower */
    for (int k = j + 1; k < P; k++) G[j * P + k] = G[k * P + j];
}

/* G = L L^T in place (L in the lower triangle); false when a pivot is not positive
 * (relative to the diagonal's size), which is what a singular G gives in floating point. */
static bool cholesky(double *G, int P) {
  for (int j = 0; j < P; j++) {
    double d = G[j * P + j], scale = fabs(d);
    for (int k = 0; k < j; k++) d -= G[j * P + k] * G[j * P + k];
    if (!(d > 1e-12 * (scale > 1 ? scale : 1))) return false;
    G[j * P + j] = sqrt(d);
    for (int i = j + 1; i < P; i++) {
      double s = G[i * P + j];
      for (int k = 0; k < j; k++) s -= G[i * P + k] * G[j * P + k];
      G[i * P + j] = s / G[j * P + j];
    }
  }
  return true;
}

/* L L^T theta = r: forward (L z = r), then back (L^T theta = z), in place in r */
static void cholesky_solve(const double *L, int P, double *r) {
  for (int i = 0; i < P; i++) {
    for (int k = 0; k < i; k++) r[i] -= L[i * P + k] * r[k];
    r[i] /= L[i * P + i];
  }
  for (int i = P - 1; i >= 0; i--) {
    for (int k = i + 1; k < P; k++) r[i] -= L[k * P + i] * r[k];
    r[i] /= L[i * P + i];
  }
}

nn_status nn_linreg_fit(const nn_tensor *X, const float *y, double l2, nn_linreg *m, nn_error *err) {
  NN_REQUIRE(X && X->ndim == 2 && X->device == NN_CPU && y && m,
             "nn_linreg_fit: X is %s; expected a CPU matrix (N, D), targets y and a model", X ? nn_shape_str(X).s : "NULL");
  NN_REQUIRE(l2 >= 0, "nn_linreg_fit: l2 = %g; expected >= 0", l2);
  int N = X->shape[0], D = X->shape[1], P = D + 1;
  *m = (nn_linreg){.D = D};
  double *G = nn_xmalloc(sizeof *G * (size_t)P * P + sizeof *G * (size_t)P, "nn_linreg_fit: A^T A and A^T y");
  double *r = G + (size_t)P * P;
  normal_equations(X, y, G, r);
  for (int j = 0; j < D; j++) G[j * P + j] += l2 * N; /* ridge: not the bias */
  if (!cholesky(G, P)) {
    free(G);
    return nn_fail(err, NN_ERR_ARG, "nn_linreg_fit: X^T X is singular for X %s: a column is constant, or a copy or "
                   "sum of others%s; drop it, or give l2 > 0 (ridge)", nn_shape_str(X).s,
                   N < P ? ", and there are fewer rows than columns + 1" : "");
  }
  cholesky_solve(G, P, r);
  m->w = nn_xmalloc(sizeof *m->w * (size_t)D, "nn_linreg_fit: w");
  memcpy(m->w, r, sizeof *m->w * (size_t)D);
  m->b = r[D];
  free(G);
  return NN_OK;
}

void nn_linreg_predict(const nn_linreg *m, const nn_tensor *X, float *yhat) {
  NN_REQUIRE(m && m->w && X && X->ndim == 2 && X->shape[1] == m->D && yhat,
             "nn_linreg_predict: X is %s but the model was fitted on %d features", X ? nn_shape_str(X).s : "NULL",
             m ? m->D : -1);
  int N = X->shape[0], D = m->D;
  for (int i = 0; i < N; i++) {
    double s = m->b;
    for (int j = 0; j < D; j++) s += m->w[j] * X->data[(long)i * D + j];
    yhat[i] = (float)s;
  }
}

void nn_linreg_free(nn_linreg *m) {
  if (!m) return;
  free(m->w);
  m->w = NULL;
}
