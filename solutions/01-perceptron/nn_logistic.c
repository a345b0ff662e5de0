/* nn_logistic.c: sigmoid, binary cross-entropy, logistic regression; see nn_logistic.h. */
#include "nn_logistic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_batches.h"
#include "nn_gemm.h"

float nn_sigmoid(float z) {
  /* BEGIN SOLUTION */
  /* HINT: sigma(z) = 1 / (1 + e^-z) = e^z / (1 + e^z): one number, two forms. For which sign of z does each form's e^ stay at most 1? Use that form on that side, and z = +-1000 gives 0 or 1, never inf or NaN */
  /* HINT2: for z >= 0 return 1 over (1 + expf(-z)); for z < 0 compute e = expf(z) once and return e over (1 + e). expf, not exp: float in, float out; z = 0 gives exactly 0.5 */
  if (z >= 0.f) return 1.f / (1.f + expf(-z));
  float e = expf(z);
  return e / (1.f + e);
  /* END SOLUTION */
}

double nn_bce_with_logits(const float *z, const int *y, int n, float *dz) {
  NN_REQUIRE(n >= 1, "nn_bce_with_logits: n = %d, expected at least 1 example", n);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(y[i] == 0 || y[i] == 1, "nn_bce_with_logits: y[%d] = %d, expected 0 or 1", i, y[i]);
    double zi = z[i];
    /* ANCHOR: bce_stable */
    sum += fmax(zi, 0.) - zi * y[i] + log1p(exp(-fabs(zi))); /* -y log p - (1-y) log(1-p) */
    /* ANCHOR_END: bce_stable */
  }
  if (dz) {
    /* BEGIN SOLUTION */
    /* HINT: the loss is the MEAN over n of -y log p - (1 - y) log(1 - p), p = sigmoid(z). Through the sigmoid, its derivative by z_i collapses to p_i - y_i (chapter 01 section 3): no log and no division by p (1 - p) are left. The mean divides it by n. dz may hold another gradient already: add to it */
    /* HINT2: for each i < n add (nn_sigmoid of z[i], minus y[i] converted to float) divided by n into dz[i]; nn_sigmoid is the stable one */
    for (int i = 0; i < n; i++) dz[i] += (nn_sigmoid(z[i]) - (float)y[i]) / (float)n;
    /* END SOLUTION */
  }
  return sum / n;
}

nn_logistic nn_logistic_new(int D) {
  NN_REQUIRE(D >= 1, "nn_logistic_new: D = %d, expected at least 1 input", D);
  return (nn_logistic){.w = nn_tensor_new(1, (int[]){D}, NN_CPU),
                       .dw = nn_tensor_new(1, (int[]){D}, NN_CPU)};
}

void nn_logistic_free(nn_logistic *m) {
  nn_tensor_free(&m->w);
  nn_tensor_free(&m->dw);
}

void nn_logistic_zero_grad(nn_logistic *m) {
  nn_tensor_fill(&m->dw, 0.f);
  m->db = 0.f;
}

static void require_inputs(const char *fn, const nn_logistic *m, const nn_tensor *X) {
  NN_REQUIRE(X->device == NN_CPU, "%s: X must be on the CPU", fn);
  NN_REQUIRE(X->ndim == 2 && X->shape[1] == m->w.shape[0] && X->shape[0] >= 1,
             "%s: X is %s but w is %s; X must be (N, %d) with N >= 1", fn, nn_shape_str(X).s,
             nn_shape_str(&m->w).s, m->w.shape[0]);
}

/* z (N) = X w + b */
static void logits(const nn_logistic *m, const nn_tensor *X, float *z) {
  int N = X->shape[0], D = X->shape[1];
  nn_sgemm(false, false, N, 1, D, 1.f, X->data, m->w.data, 0.f, z, NN_CPU);
  for (int i = 0; i < N; i++) z[i] += m->b;
}

double nn_logistic_loss_grad(nn_logistic *m, const nn_tensor *X, const int *y, float lambda,
                             float *work) {
  require_inputs("nn_logistic_loss_grad", m, X);
  int n = X->shape[0], D = X->shape[1];
  float *z = work, *dz = work + n;
  logits(m, X, z);
  memset(dz, 0, (size_t)n * sizeof *dz);
  double loss = nn_bce_with_logits(z, y, n, dz);
  double w2 = 0;
  for (int d = 0; d < D; d++) w2 += (double)m->w.data[d] * m->w.data[d];
  /* ANCHOR: logistic_grad */
  /* dw += X^T dz + lambda w   (X stored (n, D) is X^T's (K, M)),   db += sum_i dz_i */
  nn_sgemm(true, false, D, 1, n, 1.f, X->data, dz, 1.f, m->dw.data, NN_CPU);
  for (int d = 0; d < D; d++) m->dw.data[d] += lambda * m->w.data[d];
  for (int i = 0; i < n; i++) m->db += dz[i];
  /* ANCHOR_END: logistic_grad */
  return loss + 0.5 * lambda * w2;
}

void nn_gd_options_check(const char *fn, const nn_gd_options *opt) {
  NN_REQUIRE(opt && opt->lr > 0.f && opt->epochs >= 1 && opt->batch >= 0 && opt->lambda >= 0.f,
             "%s: lr = %g, epochs = %d, batch = %d, lambda = %g; expected lr > 0, epochs >= 1, "
             "batch >= 0 (0 = full batch), lambda >= 0",
             fn, opt ? opt->lr : 0., opt ? opt->epochs : 0, opt ? opt->batch : 0, opt ? opt->lambda : 0.);
}

void nn_logistic_sgd_step(nn_logistic *m, float lr) {
  for (int d = 0; d < m->w.shape[0]; d++) m->w.data[d] -= lr * m->dw.data[d];
  m->b -= lr * m->db;
}

double nn_logistic_fit(nn_logistic *m, const nn_tensor *X, const int *y, const nn_gd_options *opt,
                       float *history) {
  require_inputs("nn_logistic_fit", m, X);
  nn_gd_options_check("nn_logistic_fit", opt);
  int N = X->shape[0], B = opt->batch == 0 || opt->batch > N ? N : opt->batch;
  float *work = nn_xmalloc((size_t)2 * B * sizeof *work, "logits and dL/dz (2B)");
  nn_batches it = nn_batches_new(X, y, N, opt->batch, opt->seed);
  double epoch_loss = 0;
  for (int e = 0; e < opt->epochs; e++) {
    double sum = 0;
    nn_batch b;
    for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);) {
      nn_logistic_zero_grad(m);
      sum += b.n * nn_logistic_loss_grad(m, &b.X, b.y, opt->lambda, work);
      nn_logistic_sgd_step(m, opt->lr);
    }
    epoch_loss = sum / N;
    if (history) history[e] = (float)epoch_loss;
  }
  nn_batches_free(&it);
  free(work);
  return epoch_loss;
}

void nn_logistic_predict_proba(const nn_logistic *m, const nn_tensor *X, float *p) {
  require_inputs("nn_logistic_predict_proba", m, X);
  logits(m, X, p);
  for (int i = 0; i < X->shape[0]; i++) p[i] = nn_sigmoid(p[i]);
}

void nn_logistic_predict(const nn_logistic *m, const nn_tensor *X, int *yhat) {
  require_inputs("nn_logistic_predict", m, X);
  int N = X->shape[0];
  float *z = nn_xmalloc((size_t)N * sizeof *z, "logits (N)");
  logits(m, X, z);
  for (int i = 0; i < N; i++) yhat[i] = z[i] > 0.f; /* sigmoid(z) > 0.5 */
  free(z);
}
