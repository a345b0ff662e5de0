/* nn_sparse_logreg.c: nn_logistic's model trained through the two CSR products. */
#include "nn_sparse_logreg.h"

#include <stdlib.h>
#include <string.h>

#include "nn_batches.h"

static void require_inputs(const char *fn, const nn_logistic *m, const nn_csr *X) {
  NN_REQUIRE(m && X && X->indptr, "%s: NULL model or X", fn);
  NN_REQUIRE(m->w.ndim == 1 && X->cols == m->w.shape[0] && X->rows >= 1,
             "%s: X is (%d, %d) but w is %s; X must be (N, %d) with N >= 1", fn, X->rows, X->cols,
             nn_shape_str(&m->w).s, m->w.shape[0]);
}

/* z (n) = X[rows] w + b */
static void logits(const nn_logistic *m, const nn_csr *X, const int *rows, int n, float *z) {
  nn_csr_matvec(X, rows, n, m->w.data, z);
  for (int i = 0; i < n; i++) z[i] += m->b;
}

double nn_sparse_logreg_loss_grad(nn_logistic *m, const nn_csr *X, const int *rows, int n,
                                  const int *y, float lambda, float *work) {
  require_inputs("nn_sparse_logreg_loss_grad", m, X);
  NN_REQUIRE(y && work && n >= 1, "nn_sparse_logreg_loss_grad: NULL y or work, or n = %d", n);
  int D = X->cols;
  float *z = work, *dz = work + n;
  logits(m, X, rows, n, z);
  memset(dz, 0, (size_t)n * sizeof *dz);
  double loss = nn_bce_with_logits(z, y, n, dz);
  double w2 = 0;
  for (int d = 0; d < D; d++) w2 += (double)m->w.data[d] * m->w.data[d];
  /* ANCHOR: sparse_logreg_grad */
  /* dw += X^T dz + lambda w   (the scatter visits only the batch's non-zeros),   db += sum_i dz_i */
  nn_csr_matvec_t_add(X, rows, n, dz, m->dw.data);
  for (int d = 0; d < D; d++) m->dw.data[d] += lambda * m->w.data[d];
  for (int i = 0; i < n; i++) m->db += dz[i];
  /* ANCHOR_END: sparse_logreg_grad */
  return loss + 0.5 * lambda * w2;
}

double nn_sparse_logreg_fit(nn_logistic *m, const nn_csr *X, const int *y, const nn_gd_options *opt,
                            float *history) {
  require_inputs("nn_sparse_logreg_fit", m, X);
  nn_gd_options_check("nn_sparse_logreg_fit", opt);
  NN_REQUIRE(y, "nn_sparse_logreg_fit: NULL y");
  int N = X->rows, B = opt->batch == 0 || opt->batch > N ? N : opt->batch;
  float *work = nn_xmalloc((size_t)2 * B * sizeof *work, "logits and dL/dz (2B)");
  nn_batches it = nn_batches_new(NULL, y, N, opt->batch, opt->seed); /* a batch is a list of rows */
  double epoch_loss = 0;
  for (int e = 0; e < opt->epochs; e++) {
    double sum = 0;
    nn_batch b;
    for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);) {
      nn_logistic_zero_grad(m);
      sum += b.n * nn_sparse_logreg_loss_grad(m, X, b.rows, b.n, b.y, opt->lambda, work);
      nn_logistic_sgd_step(m, opt->lr);
    }
    epoch_loss = sum / N;
    if (history) history[e] = (float)epoch_loss;
  }
  nn_batches_free(&it);
  free(work);
  return epoch_loss;
}

void nn_sparse_logreg_predict_proba(const nn_logistic *m, const nn_csr *X, float *p) {
  require_inputs("nn_sparse_logreg_predict_proba", m, X);
  NN_REQUIRE(p, "nn_sparse_logreg_predict_proba: NULL p");
  logits(m, X, NULL, X->rows, p);
  for (int i = 0; i < X->rows; i++) p[i] = nn_sigmoid(p[i]);
}

void nn_sparse_logreg_predict(const nn_logistic *m, const nn_csr *X, int *yhat) {
  require_inputs("nn_sparse_logreg_predict", m, X);
  NN_REQUIRE(yhat, "nn_sparse_logreg_predict: NULL yhat");
  float *z = nn_xmalloc((size_t)X->rows * sizeof *z, "logits (N)");
  logits(m, X, NULL, X->rows, z);
  for (int i = 0; i < X->rows; i++) yhat[i] = z[i] > 0.f; /* sigmoid(z) > 0.5 */
  free(z);
}

typedef struct {
  float w;
  int id;
} weighted;

/* Largest weight first; ties by id. */
static int by_weight_desc(const void *pa, const void *pb) {
  const weighted *a = pa, *b = pb;
  if (a->w != b->w) return a->w > b->w ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

/* Smallest weight first; ties by id. */
static int by_weight_asc(const void *pa, const void *pb) {
  const weighted *a = pa, *b = pb;
  if (a->w != b->w) return a->w < b->w ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

void nn_sparse_logreg_extremes(const nn_logistic *m, int k, int *top, int *bottom) {
  NN_REQUIRE(m && m->w.ndim == 1, "nn_sparse_logreg_extremes: NULL model");
  int D = m->w.shape[0];
  NN_REQUIRE(k >= 0 && k <= D, "nn_sparse_logreg_extremes: k = %d of D = %d weights", k, D);
  weighted *r = nn_xmalloc((size_t)D * sizeof *r, "nn_sparse_logreg_extremes: ranking (D)");
  for (int j = 0; j < D; j++) r[j] = (weighted){m->w.data[j], j};
  qsort(r, (size_t)D, sizeof *r, by_weight_desc);
  for (int i = 0; top && i < k; i++) top[i] = r[i].id;
  qsort(r, (size_t)D, sizeof *r, by_weight_asc);
  for (int i = 0; bottom && i < k; i++) bottom[i] = r[i].id;
  free(r);
}
