/* nn_softmax_reg.c: softmax cross-entropy and softmax regression; see nn_softmax_reg.h. */
#include "nn_softmax_reg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_batches.h"
#include "nn_gemm.h"

static float row_max(const float *z, int C) {
  float m = z[0];
  for (int c = 1; c < C; c++) m = z[c] > m ? z[c] : m;
  return m;
}

double nn_softmax_xent(const float *z, const int *y, int n, int C, float *dz) {
  NN_REQUIRE(n >= 1 && C >= 1, "nn_softmax_xent: n = %d, C = %d; expected at least 1 of each", n, C);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "nn_softmax_xent: y[%d] = %d, expected a class in 0..%d", i,
               y[i], C - 1);
    const float *z_i = z + (long)i * C;
    /* ANCHOR: logsumexp */
    double m = row_max(z_i, C), s = 0; /* s = sum_c e^(z_ic - m), in [1, C] */
    for (int c = 0; c < C; c++) s += exp(z_i[c] - m);
    sum += m + log(s) - z_i[y[i]]; /* -log softmax(z_i)_y = logsumexp(z_i) - z_iy */
    /* ANCHOR_END: logsumexp */
    if (dz) {
      float *dz_i = dz + (long)i * C;
      /* BEGIN SOLUTION */
      /* HINT: L_i = logsumexp(z_i) - z_iy (the line above); its derivative by z_ic is softmax(z_i)_c minus 1 in the label's column only (chapter 01 section 4: the prediction minus the one-hot truth), and the mean divides it by n. The m and s above give softmax without an overflowing e^: use them. Add into dz_i */
      /* HINT2: for each class c < C: softmax is e^(z_i[c] - m) / s, in double; subtract 1 when c is y[i]; divide by n; add the result into dz_i[c] as a float */
      for (int c = 0; c < C; c++) dz_i[c] += (float)((exp(z_i[c] - m) / s - (c == y[i])) / n);
      /* END SOLUTION */
    }
  }
  return sum / n;
}

nn_softmax_reg nn_softmax_reg_new(int D, int C) {
  NN_REQUIRE(D >= 1 && C >= 2, "nn_softmax_reg_new: D = %d, C = %d; expected D >= 1 and C >= 2", D, C);
  return (nn_softmax_reg){.W = nn_tensor_new(2, (int[]){C, D}, NN_CPU),
                          .dW = nn_tensor_new(2, (int[]){C, D}, NN_CPU),
                          .b = nn_tensor_new(1, (int[]){C}, NN_CPU),
                          .db = nn_tensor_new(1, (int[]){C}, NN_CPU)};
}

void nn_softmax_reg_free(nn_softmax_reg *m) {
  nn_tensor_free(&m->W), nn_tensor_free(&m->dW);
  nn_tensor_free(&m->b), nn_tensor_free(&m->db);
}

void nn_softmax_reg_zero_grad(nn_softmax_reg *m) {
  nn_tensor_fill(&m->dW, 0.f);
  nn_tensor_fill(&m->db, 0.f);
}

static void require_inputs(const char *fn, const nn_softmax_reg *m, const nn_tensor *X) {
  NN_REQUIRE(X->device == NN_CPU, "%s: X must be on the CPU", fn);
  NN_REQUIRE(X->ndim == 2 && X->shape[1] == m->W.shape[1] && X->shape[0] >= 1,
             "%s: X is %s but W is %s; X must be (N, %d) with N >= 1", fn, nn_shape_str(X).s,
             nn_shape_str(&m->W).s, m->W.shape[1]);
}

/* Z (N, C) = X W^T + b */
static void logits(const nn_softmax_reg *m, const nn_tensor *X, float *Z) {
  int N = X->shape[0], D = X->shape[1], C = m->W.shape[0];
  nn_sgemm(false, true, N, C, D, 1.f, X->data, m->W.data, 0.f, Z, NN_CPU);
  for (int i = 0; i < N; i++)
    for (int c = 0; c < C; c++) Z[(long)i * C + c] += m->b.data[c];
}

double nn_softmax_reg_loss_grad(nn_softmax_reg *m, const nn_tensor *X, const int *y, float lambda,
                                float *work) {
  require_inputs("nn_softmax_reg_loss_grad", m, X);
  int n = X->shape[0], D = X->shape[1], C = m->W.shape[0];
  long CD = (long)C * D;
  float *Z = work, *dZ = work + (long)n * C;
  logits(m, X, Z);
  memset(dZ, 0, (size_t)n * C * sizeof *dZ);
  double loss = nn_softmax_xent(Z, y, n, C, dZ);
  double W2 = 0;
  for (long k = 0; k < CD; k++) W2 += (double)m->W.data[k] * m->W.data[k];
  /* ANCHOR: softmax_reg_grad */
  /* dW (C, D) += dZ^T X + lambda W   (dZ stored (n, C) is dZ^T's (K, M)),   db += sum_i dZ_i */
  nn_sgemm(true, false, C, D, n, 1.f, dZ, X->data, 1.f, m->dW.data, NN_CPU);
  for (long k = 0; k < CD; k++) m->dW.data[k] += lambda * m->W.data[k];
  for (int i = 0; i < n; i++)
    for (int c = 0; c < C; c++) m->db.data[c] += dZ[(long)i * C + c];
  /* ANCHOR_END: softmax_reg_grad */
  return loss + 0.5 * lambda * W2;
}

/* W -= lr dW, b -= lr db */
static void sgd_step(nn_softmax_reg *m, float lr) {
  long CD = nn_numel(&m->W);
  for (long k = 0; k < CD; k++) m->W.data[k] -= lr * m->dW.data[k];
  for (int c = 0; c < m->b.shape[0]; c++) m->b.data[c] -= lr * m->db.data[c];
}

double nn_softmax_reg_fit(nn_softmax_reg *m, const nn_tensor *X, const int *y,
                          const nn_gd_options *opt, float *history) {
  require_inputs("nn_softmax_reg_fit", m, X);
  nn_gd_options_check("nn_softmax_reg_fit", opt);
  int N = X->shape[0], C = m->W.shape[0], B = opt->batch == 0 || opt->batch > N ? N : opt->batch;
  float *work = nn_xmalloc((size_t)2 * B * C * sizeof *work, "logits and dL/dZ (2 B C)");
  nn_batches it = nn_batches_new(X, y, N, opt->batch, opt->seed);
  double epoch_loss = 0;
  for (int e = 0; e < opt->epochs; e++) {
    double sum = 0;
    nn_batch b;
    for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);) {
      nn_softmax_reg_zero_grad(m);
      sum += b.n * nn_softmax_reg_loss_grad(m, &b.X, b.y, opt->lambda, work);
      sgd_step(m, opt->lr);
    }
    epoch_loss = sum / N;
    if (history) history[e] = (float)epoch_loss;
  }
  nn_batches_free(&it);
  free(work);
  return epoch_loss;
}

void nn_softmax_reg_predict_proba(const nn_softmax_reg *m, const nn_tensor *X, float *P) {
  require_inputs("nn_softmax_reg_predict_proba", m, X);
  int N = X->shape[0], C = m->W.shape[0];
  logits(m, X, P);
  for (int i = 0; i < N; i++) {
    float *p_i = P + (long)i * C, mx = row_max(p_i, C), s = 0.f;
    for (int c = 0; c < C; c++) s += p_i[c] = expf(p_i[c] - mx);
    for (int c = 0; c < C; c++) p_i[c] /= s;
  }
}

void nn_softmax_reg_predict(const nn_softmax_reg *m, const nn_tensor *X, int *yhat) {
  require_inputs("nn_softmax_reg_predict", m, X);
  int N = X->shape[0], C = m->W.shape[0];
  float *Z = nn_xmalloc((size_t)N * C * sizeof *Z, "logits (N, C)");
  logits(m, X, Z);
  for (int i = 0; i < N; i++) {
    const float *z_i = Z + (long)i * C;
    int best = 0;
    for (int c = 1; c < C; c++) best = z_i[c] > z_i[best] ? c : best;
    yhat[i] = best;
  }
  free(Z);
}
