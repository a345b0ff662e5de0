/* nn_scaler.c: standard and min-max scaling, fitted per column. */
#include "nn_scaler.h"

#include <math.h>
#include <stdlib.h>

static void require_matrix(const char *fn, const nn_tensor *x) {
  NN_REQUIRE(x && x->data && x->ndim == 2 && x->device == NN_CPU,
             "%s: x is %s; expected a CPU matrix (N, D)", fn, x ? nn_shape_str(x).s : "NULL");
}

static nn_scaler scaler_new(const nn_tensor *x, const char *what) {
  nn_scaler s = {.N = x->shape[0], .D = x->shape[1]};
  s.shift = nn_xmalloc(2 * (size_t)s.D * sizeof(float), what);
  s.scale = s.shift + s.D;
  return s;
}

nn_scaler nn_standard_scaler_fit(const nn_tensor *x) {
  require_matrix("nn_standard_scaler_fit", x);
  nn_scaler s = scaler_new(x, "nn_standard_scaler_fit: shift and scale");
  int N = s.N, D = s.D;
  for (int d = 0; d < D; d++) {
    double mean = 0, var = 0;
    for (int i = 0; i < N; i++) mean += x->data[(long)i * D + d];
    mean /= N;
    for (int i = 0; i < N; i++) {
      double dev = x->data[(long)i * D + d] - mean;
      var += dev * dev;
    }
    double std = sqrt(var / N);
    s.shift[d] = (float)mean;
    s.scale[d] = std > 0 ? (float)std : 1.f;
  }
  return s;
}

nn_scaler nn_minmax_scaler_fit(const nn_tensor *x) {
  require_matrix("nn_minmax_scaler_fit", x);
  nn_scaler s = scaler_new(x, "nn_minmax_scaler_fit: shift and scale");
  int N = s.N, D = s.D;
  for (int d = 0; d < D; d++) {
    float lo = x->data[d], hi = x->data[d];
    for (int i = 1; i < N; i++) {
      float v = x->data[(long)i * D + d];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    s.shift[d] = lo;
    s.scale[d] = hi > lo ? (float)((double)hi - lo) : 1.f;
  }
  return s;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The q-quantile of sorted v[0..n): linear between the two values around position q (n - 1). */
static double quantile_of_sorted(const double *v, int n, double q) {
  double pos = q * (n - 1);
  int lo = (int)floor(pos), hi = lo + 1 < n ? lo + 1 : lo;
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

nn_scaler nn_robust_scaler_fit(const nn_tensor *x) {
  require_matrix("nn_robust_scaler_fit", x);
  nn_scaler s = scaler_new(x, "nn_robust_scaler_fit: shift and scale");
  int N = s.N, D = s.D;
  double *col = nn_xmalloc((size_t)N * sizeof *col, "nn_robust_scaler_fit: a column to sort");
  for (int d = 0; d < D; d++) {
    for (int i = 0; i < N; i++) col[i] = x->data[(long)i * D + d];
    qsort(col, (size_t)N, sizeof *col, compare_doubles);
    double iqr = quantile_of_sorted(col, N, 0.75) - quantile_of_sorted(col, N, 0.25);
    s.shift[d] = (float)quantile_of_sorted(col, N, 0.5);
    s.scale[d] = iqr > 0 ? (float)iqr : 1.f; /* a column whose middle half is one value */
  }
  free(col);
  return s;
}

static void require_fits(const char *fn, const nn_scaler *s, const nn_tensor *x, const nn_tensor *out) {
  NN_REQUIRE(s && s->shift, "%s: the scaler is not fitted (NULL or freed)", fn);
  require_matrix(fn, x);
  require_matrix(fn, out);
  NN_REQUIRE(x->shape[1] == s->D, "%s: x is %s but the scaler was fitted on (%d, %d): D must match", fn,
             nn_shape_str(x).s, s->N, s->D);
  NN_REQUIRE(nn_same_shape(x, out), "%s: x is %s but out is %s; they must have the same shape", fn,
             nn_shape_str(x).s, nn_shape_str(out).s);
}

void nn_scaler_transform(const nn_scaler *s, const nn_tensor *x, nn_tensor *out) {
  require_fits("nn_scaler_transform", s, x, out);
  int M = x->shape[0], D = s->D;
  for (int i = 0; i < M; i++)
    for (int d = 0; d < D; d++) {
      long at = (long)i * D + d;
      out->data[at] = (x->data[at] - s->shift[d]) / s->scale[d];
    }
}

void nn_scaler_inverse_transform(const nn_scaler *s, const nn_tensor *x, nn_tensor *out) {
  require_fits("nn_scaler_inverse_transform", s, x, out);
  int M = x->shape[0], D = s->D;
  for (int i = 0; i < M; i++)
    for (int d = 0; d < D; d++) {
      long at = (long)i * D + d;
      out->data[at] = x->data[at] * s->scale[d] + s->shift[d];
    }
}

void nn_scaler_free(nn_scaler *s) {
  free(s->shift); /* scale lives in the same block */
  *s = (nn_scaler){0};
}
