/* nn_loss.c: regression and classification losses; see nn_loss.h for the formulas.
 * The CPU loops are here; the GPU kernels, same formulas, in nn_loss.cu. */
#include "nn_loss.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_arena.h"
#include "nn_cuda.h"
#include "nn_mlp_cuda.h"

/* ---- argument checks, shared by the entries */

static void require_grad(const char *fn, const nn_tensor *x, const nn_tensor *dx) {
  if (!dx) return;
  NN_REQUIRE(nn_same_shape(x, dx) && dx->device == x->device,
             "%s: the gradient is %s on the %s but the prediction is %s on the %s; they must match", fn,
             nn_shape_str(dx).s, nn_device_name(dx->device), nn_shape_str(x).s, nn_device_name(x->device));
}

static void require_same(const char *fn, const nn_tensor *pred, const nn_tensor *target,
                         const nn_tensor *dpred) {
  NN_REQUIRE(nn_same_shape(pred, target) && nn_numel(pred) >= 1 && (pred->ndim == 1 || pred->ndim == 2),
             "%s: pred is %s, target is %s; expected the same shape, (N, D) or (N), not empty", fn,
             nn_shape_str(pred).s, nn_shape_str(target).s);
  NN_REQUIRE(pred->device == target->device, "%s: pred is on the %s but target on the %s; move both to one "
             "device (nn_tensor_to)", fn, nn_device_name(pred->device), nn_device_name(target->device));
  require_grad(fn, pred, dpred);
}

/* logits (N) or (N, 1), y in {0, 1}; returns N */
static int require_binary(const char *fn, const nn_tensor *z, const int *y, const nn_tensor *dz) {
  NN_REQUIRE((z->ndim == 1 || (z->ndim == 2 && z->shape[1] == 1)) && z->shape[0] >= 1,
             "%s: logits are %s; expected (N) or (N, 1), N >= 1", fn, nn_shape_str(z).s);
  NN_REQUIRE(y, "%s: labels y are NULL", fn);
  int N = z->shape[0];
  for (int i = 0; i < N; i++)
    NN_REQUIRE(y[i] == 0 || y[i] == 1, "%s: label y[%d] = %d (row %d of logits %s); expected 0 or 1", fn,
               i, y[i], i, nn_shape_str(z).s);
  require_grad(fn, z, dz);
  return N;
}

/* logits (N, C), C >= 2 */
static void require_classes(const char *fn, const nn_tensor *z, const nn_tensor *dz) {
  NN_REQUIRE(z->ndim == 2 && z->shape[0] >= 1 && z->shape[1] >= 2,
             "%s: logits are %s; expected (N, C) with N >= 1 and C >= 2", fn, nn_shape_str(z).s);
  require_grad(fn, z, dz);
}

static void require_labels(const char *fn, const nn_tensor *z, const int *y) {
  NN_REQUIRE(y, "%s: labels y are NULL", fn);
  int N = z->shape[0], C = z->shape[1];
  for (int i = 0; i < N; i++)
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "%s: label y[%d] = %d (row %d of logits %s); expected a class in 0..%d",
               fn, i, y[i], i, nn_shape_str(z).s, C - 1);
}

/* The arena a table row's mean() lends the GPU path (its labels and its sum), on pred's device. */
static void require_scratch(const char *fn, const nn_tensor *pred, const nn_arena *scratch) {
  NN_REQUIRE(!scratch || nn_arena_device(scratch) == pred->device,
             "%s: the scratch arena is on the %s but the prediction on the %s; give an arena of its device", fn,
             nn_device_name(nn_arena_device(scratch)), nn_device_name(pred->device));
}

/* After a switch on the device: a device that is neither (a corrupt tensor). */
static _Noreturn void bad_device(const char *fn, nn_device d) {
  nn_panic("%s: the tensors claim device %d, which is neither NN_CPU nor NN_GPU", fn, (int)d);
}

/* ---- regression: one loop, the per-element term l(r) and dl/dr given by `term` */

typedef double (*elem_term)(double r, double delta, double *dl_dr);

static double mse_term(double r, double delta, double *g) {
  (void)delta;
  *g = 2 * r;
  return r * r;
}

static double mae_term(double r, double delta, double *g) {
  (void)delta;
  *g = (r > 0) - (r < 0); /* sign(r), 0 at r = 0 */
  return fabs(r);
}

static double huber_term(double r, double delta, double *g) {
  if (fabs(r) <= delta) {
    *g = r;
    return 0.5 * r * r;
  }
  *g = r > 0 ? delta : -delta;
  return delta * (fabs(r) - 0.5 * delta);
}

static const double LN2 = 0.69314718055994530942;

static double log_cosh_term(double r, double delta, double *g) {
  (void)delta;
  *g = tanh(r);
  return fabs(r) + log1p(exp(-2 * fabs(r))) - LN2;
}

/* mean over M elements of term(p - t); dp += dl/dr / M */
static double regression_cpu(const float *p, const float *t, long M, double delta, float *dp,
                             elem_term term) {
  double sum = 0, g;
  for (long k = 0; k < M; k++) {
    sum += term((double)p[k] - t[k], delta, &g);
    if (dp) dp[k] += (float)(g / M);
  }
  return sum / M;
}

/* term: the CPU's per-element function; kind: the same loss for the GPU kernel */
static double regression(const char *fn, const nn_tensor *pred, const nn_tensor *target, double delta,
                         nn_tensor *dpred, elem_term term, nn_regression_loss kind, nn_arena *scratch) {
  require_same(fn, pred, target, dpred);
  require_scratch(fn, pred, scratch);
  float *dp = dpred ? dpred->data : NULL;
  switch (pred->device) {
  case NN_CPU: return regression_cpu(pred->data, target->data, nn_numel(pred), delta, dp, term);
  case NN_GPU: return nn_regression_loss_cuda(kind, pred->data, target->data, nn_numel(pred), delta, dp, scratch);
  }
  bad_device(fn, pred->device);
}

double nn_mse_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred) {
  return regression("nn_mse_loss", pred, target, 0, dpred, mse_term, NN_REGRESSION_MSE, NULL);
}

double nn_mae_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred) {
  return regression("nn_mae_loss", pred, target, 0, dpred, mae_term, NN_REGRESSION_MAE, NULL);
}

static double huber_on(const nn_tensor *pred, const nn_tensor *target, float delta, nn_tensor *dpred,
                       nn_arena *scratch) {
  NN_REQUIRE(delta > 0.f, "nn_huber_loss: delta = %g, expected > 0", delta);
  return regression("nn_huber_loss", pred, target, delta, dpred, huber_term, NN_REGRESSION_HUBER, scratch);
}

double nn_huber_loss(const nn_tensor *pred, const nn_tensor *target, float delta, nn_tensor *dpred) {
  return huber_on(pred, target, delta, dpred, NULL);
}

double nn_log_cosh_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred) {
  return regression("nn_log_cosh_loss", pred, target, 0, dpred, log_cosh_term, NN_REGRESSION_LOG_COSH, NULL);
}

/* ---- binary classification */

/* 1 / (1 + e^-x) in double, never forming e^(large) */
static double sigmoid_d(double x) {
  if (x >= 0) return 1 / (1 + exp(-x));
  double e = exp(x);
  return e / (1 + e);
}

/* Chapter 01's nn_bce_with_logits, on doubles: l = max(z, 0) - z y + log1p(e^-|z|),
 * dz += (sigmoid(z) - y) / N. Not called: nn_logistic.o also holds logistic regression,
 * whose nn_sgemm drags cuBLAS into every program that links a loss (~0.15 s per start). */
static double bce_cpu(const float *z, const int *y, int N, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    double z_i = z[i];
    sum += fmax(z_i, 0) - z_i * y[i] + log1p(exp(-fabs(z_i)));
    if (dz) dz[i] += (float)((sigmoid_d(z_i) - y[i]) / N);
  }
  return sum / N;
}

/* t = 2y - 1: mean max(0, 1 - t z); dz -= t [1 - t z > 0] / N */
static double binary_hinge_cpu(const float *z, const int *y, int N, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    double t = 2 * y[i] - 1, m = 1 - t * z[i];
    if (m <= 0) continue;
    sum += m;
    if (dz) dz[i] -= (float)(t / N);
  }
  return sum / N;
}

/* t = 2y - 1, m = max(0, 1 - t z): mean m^2;  dz -= 2 t m / N */
static double squared_hinge_cpu(const float *z, const int *y, int N, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    double t = 2 * y[i] - 1, m = 1 - t * z[i];
    if (m <= 0) continue;
    sum += m * m;
    if (dz) dz[i] -= (float)(2 * t * m / N);
  }
  return sum / N;
}

/* The losses that read logits z (N) and labels y only, as (name, CPU loop, GPU launcher):
 * one device switch serves them all. */
typedef struct {
  const char *fn;
  double (*cpu)(const float *z, const int *y, int N, float *dz);
  double (*gpu)(const float *z, const int *y, int N, float *dz, nn_arena *scratch);
} binary_loss;

static const binary_loss BCE = {"nn_bce_loss", bce_cpu, nn_bce_loss_cuda};
static const binary_loss BINARY_HINGE = {"nn_binary_hinge_loss", binary_hinge_cpu, nn_binary_hinge_loss_cuda};
static const binary_loss SQUARED_HINGE = {"nn_squared_hinge_loss", squared_hinge_cpu, nn_squared_hinge_loss_cuda};

static double binary_on(const binary_loss *l, const nn_tensor *logits, const int *y, nn_tensor *dlogits,
                        nn_arena *scratch) {
  int N = require_binary(l->fn, logits, y, dlogits);
  require_scratch(l->fn, logits, scratch);
  float *dz = dlogits ? dlogits->data : NULL;
  switch (logits->device) {
  case NN_CPU: return l->cpu(logits->data, y, N, dz);
  case NN_GPU: return l->gpu(logits->data, y, N, dz, scratch);
  }
  bad_device(l->fn, logits->device);
}

double nn_bce_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits) {
  return binary_on(&BCE, logits, y, dlogits, NULL);
}
double nn_binary_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits) {
  return binary_on(&BINARY_HINGE, logits, y, dlogits, NULL);
}
double nn_squared_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits) {
  return binary_on(&SQUARED_HINGE, logits, y, dlogits, NULL);
}

/* s = 2y - 1, p_t = sigmoid(s z): l = -alpha_t (1 - p_t)^gamma log p_t,
 * dl/dz = alpha_t s (1 - p_t)^gamma [gamma p_t log p_t - (1 - p_t)] */
static double focal_cpu(const float *z, const int *y, int N, double alpha, double gamma, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    double s = 2 * y[i] - 1, sz = s * z[i], a_t = y[i] ? alpha : 1 - alpha;
    double log_pt = -(fmax(-sz, 0) + log1p(exp(-fabs(sz)))); /* -softplus(-s z) */
    double pt = sigmoid_d(sz), q = sigmoid_d(-sz);            /* q = 1 - p_t, exact near p_t = 1 */
    double w = pow(q, gamma);
    sum += -a_t * w * log_pt;
    if (dz) dz[i] += (float)(a_t * s * w * (gamma * pt * log_pt - q) / N);
  }
  return sum / N;
}

static double focal_on(const nn_tensor *logits, const int *y, float alpha, float gamma,
                     nn_tensor *dlogits, nn_arena *scratch) {
  int N = require_binary("nn_focal_loss", logits, y, dlogits);
  NN_REQUIRE(alpha >= 0.f && alpha <= 1.f && gamma >= 0.f,
             "nn_focal_loss: alpha = %g, gamma = %g; expected alpha in [0, 1] and gamma >= 0", alpha, gamma);
  require_scratch("nn_focal_loss", logits, scratch);
  float *dz = dlogits ? dlogits->data : NULL;
  switch (logits->device) {
  case NN_CPU: return focal_cpu(logits->data, y, N, alpha, gamma, dz);
  case NN_GPU: return nn_focal_loss_cuda(logits->data, y, N, alpha, gamma, dz, scratch);
  }
  bad_device("nn_focal_loss", logits->device);
}

double nn_focal_loss(const nn_tensor *logits, const int *y, float alpha, float gamma,
                     nn_tensor *dlogits) {
  return focal_on(logits, y, alpha, gamma, dlogits, NULL);
}

/* ---- multi-class */

/* m = max_c z_c and s = sum_c e^(z_c - m), in [1, C]: logsumexp(z) = m + log s */
static double row_logsumexp(const float *z, int C, double *m_out, double *s_out) {
  double m = z[0], s = 0;
  for (int c = 1; c < C; c++) m = z[c] > m ? z[c] : m;
  for (int c = 0; c < C; c++) s += exp(z[c] - m);
  *m_out = m, *s_out = s;
  return m + log(s);
}

static double sparse_ce_cpu(const float *z, const int *y, int N, int C, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    const float *z_i = z + (long)i * C;
    double m, s;
    sum += row_logsumexp(z_i, C, &m, &s) - z_i[y[i]]; /* -log softmax(z_i)_y */
    if (!dz) continue;
    float *dz_i = dz + (long)i * C;
    /* BEGIN SOLUTION */
    /* HINT: L_i = logsumexp(z_i) - z_iy, so dL_i/dz_ic is softmax(z_i)_c minus 1 in the label's column only (chapter 02 section 4: the prediction minus the one-hot truth); the batch mean divides it by N. The m and s of row_logsumexp give softmax without an overflowing e^. Add into dz_i: it may hold a gradient already */
    /* HINT2: for each class c < C: e^(z_i[c] - m) / s, minus 1 when c is y[i], divided by N, computed in double and added into dz_i[c] as a float */
    for (int c = 0; c < C; c++) dz_i[c] += (float)((exp(z_i[c] - m) / s - (c == y[i])) / N);
    /* END SOLUTION */
  }
  return sum / N;
}

/* l_i = logsumexp(z_i) - sum_c t_ic z_ic;  dz_i += (softmax(z_i) - t_i) / N */
static double categorical_ce_cpu(const float *z, const float *t, int N, int C, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    const float *z_i = z + (long)i * C, *t_i = t + (long)i * C;
    double m, s, tz = 0;
    double lse = row_logsumexp(z_i, C, &m, &s);
    for (int c = 0; c < C; c++) tz += (double)t_i[c] * z_i[c];
    sum += lse - tz;
    if (!dz) continue;
    float *dz_i = dz + (long)i * C;
    /* BEGIN SOLUTION */
    /* HINT: t_i is a distribution over the C classes (one-hot, or soft: label smoothing, distillation); L_i = logsumexp(z_i) - sum_c t_ic z_ic, whose derivative by z_ic is softmax(z_i)_c - t_ic: sparse_ce_cpu's gradient with the one-hot row replaced by t_i. Mean over N; add into dz_i */
    /* HINT2: for each class c < C: e^(z_i[c] - m) / s minus t_i[c], divided by N, computed in double and added into dz_i[c] as a float; on one-hot rows it must give sparse_ce_cpu's numbers exactly */
    for (int c = 0; c < C; c++) dz_i[c] += (float)((exp(z_i[c] - m) / s - t_i[c]) / N);
    /* END SOLUTION */
  }
  return sum / N;
}

/* Aborts unless t_i, row i of a target (C values in host memory), is a distribution. */
static void require_distribution_row(const char *fn, const float *t_i, int i, int C) {
  double total = 0;
  for (int c = 0; c < C; c++) {
    float v = t_i[c];
    NN_REQUIRE(v >= 0.f, "%s: target[%d][%d] = %g; a target row is a distribution, entries >= 0", fn, i, c, v);
    total += v;
  }
  NN_REQUIRE(fabs(total - 1) <= 1e-3, "%s: target row %d sums to %g; expected 1 (one-hot or a distribution; "
             "integer labels go to nn_sparse_ce_loss)", fn, i, total);
}

static void require_distributions(const char *fn, const nn_tensor *t) {
  int N = t->shape[0], C = t->shape[1];
  for (int i = 0; i < N; i++) require_distribution_row(fn, t->data + (long)i * C, i, C);
}

/* The GPU kernel found row i of the GPU target t not a distribution: copy that row
 * to the host and abort with the CPU's message. (Only on the way to an abort does
 * this allocate.) */
static _Noreturn void abort_on_gpu_target_row(const char *fn, const nn_tensor *t, int i) {
  int C = t->shape[1];
  float *row = nn_xmalloc((size_t)C * sizeof(float), "nn_categorical_ce_loss: a target row for the message");
  nn_cuda_to_host(row, t->data + (long)i * C, (size_t)C * sizeof(float));
  require_distribution_row(fn, row, i, C);
  free(row);
  nn_panic("%s: target row %d is not a distribution (entries >= 0, summing to 1 within 1e-3)", fn, i);
}

static double categorical_ce_on(const nn_tensor *logits, const nn_tensor *target, nn_tensor *dlogits,
                                nn_arena *scratch) {
  const char *fn = "nn_categorical_ce_loss";
  require_classes(fn, logits, dlogits);
  NN_REQUIRE(nn_same_shape(logits, target) && logits->device == target->device,
             "%s: logits are %s, target is %s; expected the same shape (N, C) on the same device", fn,
             nn_shape_str(logits).s, nn_shape_str(target).s);
  require_scratch(fn, logits, scratch);
  int N = logits->shape[0], C = logits->shape[1], bad_row;
  float *dz = dlogits ? dlogits->data : NULL;
  switch (logits->device) {
  case NN_CPU:
    require_distributions(fn, target);
    return categorical_ce_cpu(logits->data, target->data, N, C, dz);
  case NN_GPU: { /* the kernel checks the rows as it goes; dz is already changed when it aborts */
    double loss = nn_categorical_ce_loss_cuda(logits->data, target->data, N, C, dz, &bad_row, scratch);
    if (bad_row >= 0) abort_on_gpu_target_row(fn, target, bad_row);
    return loss;
  }
  }
  bad_device(fn, logits->device);
}

double nn_categorical_ce_loss(const nn_tensor *logits, const nn_tensor *target, nn_tensor *dlogits) {
  return categorical_ce_on(logits, target, dlogits, NULL);
}

/* l_i = sum_{j != y} max(0, z_j - z_y + 1); each positive margin adds 1/N to dz_j and -1/N to dz_y */
static double multi_hinge_cpu(const float *z, const int *y, int N, int C, float *dz) {
  double sum = 0;
  for (int i = 0; i < N; i++) {
    const float *z_i = z + (long)i * C;
    int y_i = y[i];
    for (int j = 0; j < C; j++) {
      double margin = (double)z_i[j] - z_i[y_i] + 1;
      if (j == y_i || margin <= 0) continue;
      sum += margin;
      if (dz) {
        dz[(long)i * C + j] += 1.f / N;
        dz[(long)i * C + y_i] -= 1.f / N;
      }
    }
  }
  return sum / N;
}

/* The losses that read logits z (N, C) and labels y in 0..C-1, as the binary ones above. */
typedef struct {
  const char *fn;
  double (*cpu)(const float *z, const int *y, int N, int C, float *dz);
  double (*gpu)(const float *z, const int *y, int N, int C, float *dz, nn_arena *scratch);
} multiclass_loss;

static const multiclass_loss SPARSE_CE = {"nn_sparse_ce_loss", sparse_ce_cpu, nn_sparse_ce_loss_cuda};
static const multiclass_loss MULTI_HINGE = {"nn_multi_hinge_loss", multi_hinge_cpu, nn_multi_hinge_loss_cuda};

static double multiclass_on(const multiclass_loss *l, const nn_tensor *logits, const int *y, nn_tensor *dlogits,
                            nn_arena *scratch) {
  require_classes(l->fn, logits, dlogits);
  require_labels(l->fn, logits, y);
  require_scratch(l->fn, logits, scratch);
  int N = logits->shape[0], C = logits->shape[1];
  float *dz = dlogits ? dlogits->data : NULL;
  switch (logits->device) {
  case NN_CPU: return l->cpu(logits->data, y, N, C, dz);
  case NN_GPU: return l->gpu(logits->data, y, N, C, dz, scratch);
  }
  bad_device(l->fn, logits->device);
}

double nn_sparse_ce_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits) {
  return multiclass_on(&SPARSE_CE, logits, y, dlogits, NULL);
}
double nn_multi_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits) {
  return multiclass_on(&MULTI_HINGE, logits, y, dlogits, NULL);
}

/* ---- the table: each row's mean() reads the target its loss takes */

static double sparse_ce_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                             nn_arena *scratch) {
  (void)l;
  return multiclass_on(&SPARSE_CE, z, t->labels, dz, scratch);
}
static double bce_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz, nn_arena *scratch) {
  (void)l;
  return binary_on(&BCE, z, t->labels, dz, scratch);
}
static double focal_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                         nn_arena *scratch) {
  (void)l;
  return focal_on(z, t->labels, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, dz, scratch);
}
static double binary_hinge_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                                nn_arena *scratch) {
  (void)l;
  return binary_on(&BINARY_HINGE, z, t->labels, dz, scratch);
}
static double squared_hinge_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                                 nn_arena *scratch) {
  (void)l;
  return binary_on(&SQUARED_HINGE, z, t->labels, dz, scratch);
}
static double multi_hinge_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                               nn_arena *scratch) {
  (void)l;
  return multiclass_on(&MULTI_HINGE, z, t->labels, dz, scratch);
}
static double mse_mean(const nn_loss *l, const nn_tensor *p, const nn_target *t, nn_tensor *dp, nn_arena *scratch) {
  (void)l;
  return regression("nn_mse_loss", p, t->Y, 0, dp, mse_term, NN_REGRESSION_MSE, scratch);
}
static double mae_mean(const nn_loss *l, const nn_tensor *p, const nn_target *t, nn_tensor *dp, nn_arena *scratch) {
  (void)l;
  return regression("nn_mae_loss", p, t->Y, 0, dp, mae_term, NN_REGRESSION_MAE, scratch);
}
static double huber_mean(const nn_loss *l, const nn_tensor *p, const nn_target *t, nn_tensor *dp,
                         nn_arena *scratch) {
  (void)l;
  return huber_on(p, t->Y, 1.f, dp, scratch);
}
static double categorical_ce_mean(const nn_loss *l, const nn_tensor *z, const nn_target *t, nn_tensor *dz,
                                  nn_arena *scratch) {
  (void)l;
  return categorical_ce_on(z, t->Y, dz, scratch);
}
static double log_cosh_mean(const nn_loss *l, const nn_tensor *p, const nn_target *t, nn_tensor *dp,
                            nn_arena *scratch) {
  (void)l;
  return regression("nn_log_cosh_loss", p, t->Y, 0, dp, log_cosh_term, NN_REGRESSION_LOG_COSH, scratch);
}

static const nn_loss LOSSES[NN_LOSS_COUNT] = {
    [NN_LOSS_SPARSE_CE] = {"sparse_ce", true, 2, sparse_ce_mean},
    [NN_LOSS_BCE] = {"bce", true, 1, bce_mean},
    [NN_LOSS_FOCAL] = {"focal", true, 1, focal_mean},
    [NN_LOSS_BINARY_HINGE] = {"binary_hinge", true, 1, binary_hinge_mean},
    [NN_LOSS_MULTI_HINGE] = {"multi_hinge", true, 2, multi_hinge_mean},
    [NN_LOSS_MSE] = {"mse", false, 0, mse_mean},
    [NN_LOSS_MAE] = {"mae", false, 0, mae_mean},
    [NN_LOSS_HUBER] = {"huber", false, 0, huber_mean},
    [NN_LOSS_LOG_COSH] = {"log_cosh", false, 0, log_cosh_mean},
    [NN_LOSS_CATEGORICAL_CE] = {"categorical_ce", false, 2, categorical_ce_mean},
    [NN_LOSS_SQUARED_HINGE] = {"squared_hinge", true, 1, squared_hinge_mean},
};

const nn_loss *nn_loss_of(nn_loss_kind kind) {
  NN_REQUIRE((int)kind >= 0 && kind < NN_LOSS_COUNT, "nn_loss_of: %d is not a loss kind (0..%d)", (int)kind,
             NN_LOSS_COUNT - 1);
  return &LOSSES[kind];
}

const char *nn_loss_name(nn_loss_kind kind) { return nn_loss_of(kind)->name; }

bool nn_loss_takes_labels(nn_loss_kind kind) { return nn_loss_of(kind)->takes_labels; }

bool nn_loss_classifies(const nn_loss *loss) { return loss->outputs != 0; }

nn_tensor nn_to_categorical(const int *y, int N, int C) {
  NN_REQUIRE(y && N >= 1 && C >= 2, "nn_to_categorical: y %s, N = %d, C = %d; expected labels, N >= 1, C >= 2",
             y ? "given" : "NULL", N, C);
  nn_tensor t = nn_tensor_new(2, (int[]){N, C}, NN_CPU); /* zeros */
  for (int i = 0; i < N; i++) {
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "nn_to_categorical: label y[%d] = %d; expected a class in 0..%d", i, y[i],
               C - 1);
    t.data[(long)i * C + y[i]] = 1.f;
  }
  return t;
}

nn_status nn_loss_parse(const char *name, nn_loss_kind *kind, nn_error *err) {
  for (int k = 0; k < NN_LOSS_COUNT; k++)
    if (name && strcmp(name, LOSSES[k].name) == 0) return *kind = (nn_loss_kind)k, NN_OK;
  char known[256];
  int n = 0;
  for (int k = 0; k < NN_LOSS_COUNT; k++)
    n += snprintf(known + n, sizeof known - (size_t)n, "%s%s", k ? ", " : "", LOSSES[k].name);
  return nn_fail(err, NN_ERR_ARG, "unknown loss '%s'; the losses are %s", name ? name : "(null)", known);
}
