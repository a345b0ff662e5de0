/* nn_metrics.c: confusion matrix, precision/recall/F1, ROC and AUC, regression errors. */
#include "nn_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

static void require_n(const char *fn, int n) {
  NN_REQUIRE(n >= 1, "%s: n is %d; a metric needs at least one example", fn, n);
}

static void require_labels(const char *fn, const char *which, const int *y, int n, int C) {
  NN_REQUIRE(y != NULL, "%s: %s is NULL", fn, which);
  for (int i = 0; i < n; i++)
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "%s: %s[%d] is %d, outside the classes 0..%d", fn, which, i, y[i],
               C - 1);
}

/* num / den, and 0 for 0/0 (the zero-division convention of nn_metrics.h). */
static double ratio(double num, double den) { return den == 0 ? 0 : num / den; }

void nn_confusion_matrix(const int *y_true, const int *y_pred, int n, int C, int *cm) {
  require_n("nn_confusion_matrix", n);
  NN_REQUIRE(C >= 1, "nn_confusion_matrix: C is %d; there must be at least one class", C);
  require_labels("nn_confusion_matrix", "y_true", y_true, n, C);
  require_labels("nn_confusion_matrix", "y_pred", y_pred, n, C);
  memset(cm, 0, (size_t)C * (size_t)C * sizeof(int));
  for (int i = 0; i < n; i++) cm[y_true[i] * C + y_pred[i]]++;
}

double nn_accuracy(const int *y_true, const int *y_pred, int n) {
  require_n("nn_accuracy", n);
  NN_REQUIRE(y_true && y_pred, "nn_accuracy: y_true or y_pred is NULL");
  int correct = 0;
  for (int i = 0; i < n; i++) correct += y_true[i] == y_pred[i];
  return (double)correct / n;
}

nn_class_report nn_class_report_from_cm(const int *cm, int C, int k) {
  NN_REQUIRE(cm != NULL && C >= 1, "nn_class_report_from_cm: cm is %p, C is %d", (const void *)cm, C);
  NN_REQUIRE(k >= 0 && k < C, "nn_class_report_from_cm: class %d is outside 0..%d", k, C - 1);
  nn_class_report r = {0};
  /* BEGIN SOLUTION */
  /* HINT: cm[t*C + p] counts the examples of true class t predicted as p (rows: truth, columns: prediction). For class k, TP is its diagonal cell; its false positives are the rest of column k (predicted k, but not k), its false negatives the rest of row k (k, predicted otherwise); its support is all of row k. Precision TP / (TP + FP), recall TP / (TP + FN), F1 their harmonic mean; ratio() makes a 0/0 a 0 */
  /* HINT2: one loop over j < C sums row k (cm at k*C + j) and column k (cm at j*C + k); tp is the diagonal cell, fp the column sum minus tp, fn the row sum minus tp, support the row sum; F1 = 2 tp / (2 tp + fp + fn) through ratio() needs neither precision nor recall, so no 0/0 inside it */
  int row = 0, col = 0;
  for (int j = 0; j < C; j++) {
    row += cm[k * C + j];
    col += cm[j * C + k];
  }
  r.tp = cm[k * C + k];
  r.fp = col - r.tp;
  r.fn = row - r.tp;
  r.support = row;
  r.precision = ratio(r.tp, r.tp + r.fp);
  r.recall = ratio(r.tp, r.tp + r.fn);
  r.f1 = ratio(2.0 * r.tp, 2.0 * r.tp + r.fp + r.fn);
  /* END SOLUTION */
  return r;
}

nn_prf nn_prf_from_cm(const int *cm, int C, nn_average average) {
  NN_REQUIRE(cm != NULL && C >= 1, "nn_prf_from_cm: cm is %p, C is %d", (const void *)cm, C);
  NN_REQUIRE(average == NN_MACRO || average == NN_MICRO, "nn_prf_from_cm: average is %d, not NN_MACRO or NN_MICRO",
             (int)average);
  nn_prf out = {0};
  /* BEGIN SOLUTION */
  /* HINT: macro averaging takes the mean of the C per-class precisions, recalls and F1s (nn_class_report_from_cm): every class weighs the same, a rare one as much as a common one. Micro averaging first sums TP, FP and FN over the classes and takes the ratios of those sums, so big classes dominate (single-label micro precision is the accuracy). Which would you report for a class that is 1 % of the data? */
  /* HINT2: for each class k: r = nn_class_report_from_cm(cm, C, k); add r.precision / C, r.recall / C and r.f1 / C into out, and r.tp, r.fp, r.fn into three double sums; for NN_MICRO, replace out by ratio(tp, tp + fp), ratio(tp, tp + fn) and ratio(2 tp, 2 tp + fp + fn) */
  double tp = 0, fp = 0, fn = 0;
  for (int k = 0; k < C; k++) {
    nn_class_report r = nn_class_report_from_cm(cm, C, k);
    out.precision += r.precision / C;
    out.recall += r.recall / C;
    out.f1 += r.f1 / C;
    tp += r.tp;
    fp += r.fp;
    fn += r.fn;
  }
  if (average == NN_MICRO)
    out = (nn_prf){ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)};
  /* END SOLUTION */
  return out;
}

nn_prf nn_prf_multiclass(const int *y_true, const int *y_pred, int n, int C, nn_average average) {
  NN_REQUIRE(C >= 1, "nn_prf_multiclass: C is %d; there must be at least one class", C);
  int *cm = nn_xmalloc((size_t)C * (size_t)C * sizeof(int), "nn_prf_multiclass: confusion matrix");
  nn_confusion_matrix(y_true, y_pred, n, C, cm);
  nn_prf out = nn_prf_from_cm(cm, C, average);
  free(cm);
  return out;
}

/* The 2 x 2 confusion matrix of binary labels, the positive class's row of the report. */
static nn_class_report binary_report(const char *fn, const int *y_true, const int *y_pred, int n) {
  require_n(fn, n);
  require_labels(fn, "y_true", y_true, n, 2);
  require_labels(fn, "y_pred", y_pred, n, 2);
  int cm[4];
  nn_confusion_matrix(y_true, y_pred, n, 2, cm);
  return nn_class_report_from_cm(cm, 2, 1);
}

double nn_precision(const int *y_true, const int *y_pred, int n) {
  return binary_report("nn_precision", y_true, y_pred, n).precision;
}

double nn_recall(const int *y_true, const int *y_pred, int n) {
  return binary_report("nn_recall", y_true, y_pred, n).recall;
}

double nn_f1(const int *y_true, const int *y_pred, int n) { return binary_report("nn_f1", y_true, y_pred, n).f1; }

/* ---- ROC */
typedef struct {
  float score;
  int label;
} scored;

static int by_score_descending(const void *a, const void *b) {
  float sa = ((const scored *)a)->score, sb = ((const scored *)b)->score;
  return (sa < sb) - (sa > sb);
}

/* Count the positives and negatives and check what a ROC curve needs. */
static void roc_check(const char *fn, const int *y_true, const float *score, int n, int *P, int *N) {
  require_n(fn, n);
  require_labels(fn, "y_true", y_true, n, 2);
  NN_REQUIRE(score != NULL, "%s: score is NULL", fn);
  *P = 0;
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(!isnan(score[i]), "%s: score[%d] is NaN; scores must be numbers", fn, i);
    *P += y_true[i];
  }
  *N = n - *P;
  NN_REQUIRE(*P > 0 && *N > 0, "%s: y_true has %d positives and %d negatives; a ROC curve needs both", fn, *P,
             *N);
}

/* The ROC curve in counts: after threshold i, fp[i] negatives and tp[i] positives
 * score >= threshold[i]. Point 0 is (0, 0) at +inf; one point per distinct score
 * follows. fp, tp, threshold (may be NULL): room for n + 1. Returns the number of points. */
static int roc_counts(const int *y_true, const float *score, int n, int *fp, int *tp, float *threshold) {
  scored *s = nn_xmalloc((size_t)n * sizeof *s, "ROC curve: sorted scores");
  for (int i = 0; i < n; i++) s[i] = (scored){score[i], y_true[i]};
  qsort(s, (size_t)n, sizeof *s, by_score_descending);
  int m = 0;
  fp[0] = tp[0] = 0;
  if (threshold) threshold[0] = INFINITY;
  for (int i = 0; i < n;) {
    float t = s[i].score;
    m++;
    fp[m] = fp[m - 1];
    tp[m] = tp[m - 1];
    if (threshold) threshold[m] = t;
    for (; i < n && s[i].score == t; i++) { /* a tie group is one threshold */
      tp[m] += s[i].label;
      fp[m] += 1 - s[i].label;
    }
  }
  free(s);
  return m + 1;
}

int nn_roc_curve(const int *y_true, const float *score, int n, float *fpr, float *tpr, float *threshold) {
  int P, N;
  roc_check("nn_roc_curve", y_true, score, n, &P, &N);
  NN_REQUIRE(fpr && tpr, "nn_roc_curve: fpr or tpr is NULL; each needs room for n + 1 = %d values", n + 1);
  int *fp = nn_xmalloc(2 * ((size_t)n + 1) * sizeof(int), "nn_roc_curve: counts");
  int *tp = fp + n + 1;
  int m = roc_counts(y_true, score, n, fp, tp, threshold);
  for (int i = 0; i < m; i++) {
    fpr[i] = (float)((double)fp[i] / N);
    tpr[i] = (float)((double)tp[i] / P);
  }
  free(fp);
  return m;
}

double nn_roc_auc(const int *y_true, const float *score, int n) {
  int P, N;
  roc_check("nn_roc_auc", y_true, score, n, &P, &N);
  int *fp = nn_xmalloc(2 * ((size_t)n + 1) * sizeof(int), "nn_roc_auc: counts");
  int *tp = fp + n + 1;
  int m = roc_counts(y_true, score, n, fp, tp, NULL);
  double auc = 0;
  /* BEGIN SOLUTION */
  /* HINT: roc_counts gave the curve's m points as counts: past threshold i, fp[i] of the N negatives and tp[i] of the P positives score above it, from (0, 0) to (N, P). The area under the line through them is a sum of trapezoids, one per step from point i-1 to point i: width times mean height. Sum in units of one negative x one positive, then divide by P N: the AUC is the chance that a random positive outscores a random negative */
  /* HINT2: for i = 1 .. m-1 add the width fp[i] - fp[i-1] times the mean height (tp[i] + tp[i-1]) / 2 into a double; auc is that sum over P times N, multiplied as doubles (as ints, P N overflows past 46341 of each). A vertical step (no new fp) adds 0 */
  double area = 0; /* in units of one negative x one positive */
  for (int i = 1; i < m; i++) area += (double)(fp[i] - fp[i - 1]) * (tp[i] + tp[i - 1]) / 2;
  auc = area / ((double)P * N);
  /* END SOLUTION */
  free(fp);
  return auc;
}

/* ---- regression */
static void require_regression(const char *fn, const float *y, const float *yhat, int n) {
  require_n(fn, n);
  NN_REQUIRE(y && yhat, "%s: y or yhat is NULL", fn);
}

double nn_mse(const float *y, const float *yhat, int n) {
  require_regression("nn_mse", y, yhat, n);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += ((double)y[i] - yhat[i]) * ((double)y[i] - yhat[i]);
  return sum / n;
}

double nn_mae(const float *y, const float *yhat, int n) {
  require_regression("nn_mae", y, yhat, n);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += fabs((double)y[i] - yhat[i]);
  return sum / n;
}

double nn_rmse(const float *y, const float *yhat, int n) {
  require_regression("nn_rmse", y, yhat, n);
  return sqrt(nn_mse(y, yhat, n));
}

double nn_r2(const float *y, const float *yhat, int n) {
  require_regression("nn_r2", y, yhat, n);
  double mean = 0, ss_res = 0, ss_tot = 0;
  for (int i = 0; i < n; i++) mean += y[i];
  mean /= n;
  for (int i = 0; i < n; i++) {
    ss_res += ((double)y[i] - yhat[i]) * ((double)y[i] - yhat[i]);
    ss_tot += (y[i] - mean) * (y[i] - mean);
  }
  if (ss_tot == 0) return ss_res == 0 ? 1 : 0;
  return 1 - ss_res / ss_tot;
}
