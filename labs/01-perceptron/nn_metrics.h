/* nn_metrics.h: how good is a classifier or a regressor, in numbers.
 *
 * Labels are `const int *` with values 0..C-1 (binary: 0 = negative, 1 = positive),
 * scores `const float *` (a probability or any number that is larger for "more
 * positive"), regression targets and predictions `const float *`. n >= 1 always.
 * Values come back as double: they are reports, not training data.
 *
 * The confusion matrix is where every classification metric starts. For C classes
 * it is C x C, row = true class, column = predicted class (scikit-learn's layout):
 *
 *                     predicted 0   predicted 1
 *        true 0    [      TN            FP      ]
 *        true 1    [      FN            TP      ]
 *
 * For class k:  TP = cm[k][k]   FP = (column k) - TP   FN = (row k) - TP
 *   precision_k = TP / (TP + FP)     of what we called k, how much was k
 *   recall_k    = TP / (TP + FN)     of what was k, how much we found
 *   F1_k        = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)   (harmonic mean)
 *   accuracy    = trace(cm) / n
 *
 * Zero division: a ratio whose denominator is 0 is 0 (precision when class k is
 * never predicted, recall when it never occurs, F1 when TP = FP = FN = 0). This is
 * scikit-learn's default (zero_division="warn": it warns, then gives 0); we do not warn.
 *
 * Averages over C classes:
 *   macro: the plain mean of the C per-class values; every class counts the same,
 *          so a rare class done badly pulls it down. Macro-F1 is the mean of the
 *          per-class F1s (scikit-learn's), not the F1 of macro-P and macro-R.
 *          All C classes are averaged, also one that occurs in neither y_true nor
 *          y_pred (it scores 0), as scikit-learn with labels=range(C).
 *   micro: pool the counts first, P = sum TP / sum (TP + FP), R = sum TP / sum (TP + FN).
 *          With one label per example, sum (TP + FP) = sum (TP + FN) = n, so
 *          micro P = micro R = micro F1 = accuracy.
 *
 * Accuracy lies on imbalanced data: with 95 negatives and 5 positives, predicting
 * "negative" always scores 0.95, yet recall and F1 of the positive class are 0.
 */
#ifndef NN_METRICS_H
#define NN_METRICS_H

/* cm (C*C ints, caller-owned): cm[t*C + p] = #{i : y_true[i] = t, y_pred[i] = p}.
 * Aborts when a label is outside 0..C-1. */
void nn_confusion_matrix(const int *y_true, const int *y_pred, int n, int C, int *cm);

/* Fraction of i with y_pred[i] == y_true[i]. */
double nn_accuracy(const int *y_true, const int *y_pred, int n);

/* One class's row of a classification report. support = #{true class k} (row sum). */
typedef struct {
  int tp, fp, fn, support;
  double precision, recall, f1;
} nn_class_report;

/* Precision, recall and F1 of class k, read off the confusion matrix cm (C x C). */
nn_class_report nn_class_report_from_cm(const int *cm, int C, int k);

typedef enum { NN_MACRO, NN_MICRO } nn_average;
typedef struct {
  double precision, recall, f1;
} nn_prf;

/* Macro or micro averaged precision, recall and F1 from cm (C x C). */
nn_prf nn_prf_from_cm(const int *cm, int C, nn_average average);
/* The same from labels 0..C-1 (builds the confusion matrix). */
nn_prf nn_prf_multiclass(const int *y_true, const int *y_pred, int n, int C, nn_average average);

/* Binary metrics of the positive class 1; labels must be 0 or 1. */
double nn_precision(const int *y_true, const int *y_pred, int n);
double nn_recall(const int *y_true, const int *y_pred, int n);
double nn_f1(const int *y_true, const int *y_pred, int n);

/* ROC curve of binary labels y_true (0/1) against scores.
 * Sort by score, descending; each distinct score t is one threshold ("predict 1
 * when score >= t"), so tied scores enter together and make one diagonal step.
 *   TPR = TP / P   (recall)          FPR = FP / N   (false alarms among negatives)
 * Points start at (0, 0) (threshold +inf: nothing predicted positive) and end at
 * (1, 1) (the lowest score: everything positive); none are dropped (scikit-learn's
 * roc_curve with drop_intermediate=False). fpr, tpr and threshold (which may be
 * NULL) need room for n + 1 values; threshold[0] = +inf. Returns the number of points.
 * y_true must hold both classes (otherwise TPR or FPR is 0/0) and no score may be NaN. */
int nn_roc_curve(const int *y_true, const float *score, int n, float *fpr, float *tpr,
                 float *threshold);

/* Area under the ROC curve by the trapezoid rule over the points above:
 *   AUC = sum_i (FPR_i - FPR_{i-1}) (TPR_i + TPR_{i-1}) / 2
 * It equals the Mann-Whitney probability that a random positive scores above a random
 * negative, a tie counting 1/2: 1 for a perfect ranking, 0.5 for constant scores.
 * Computed from the integer counts (FP, TP), so it is exact up to one division. */
double nn_roc_auc(const int *y_true, const float *score, int n);

/* Regression, y the targets and yhat the predictions:
 *   MSE = 1/n sum (y - yhat)^2     MAE = 1/n sum |y - yhat|
 *   RMSE = sqrt(MSE): the MSE back in the target's units (Keras' RootMeanSquaredError)
 *   R^2 = 1 - SS_res / SS_tot,  SS_res = sum (y - yhat)^2,  SS_tot = sum (y - mean(y))^2
 * R^2 is 1 for a perfect fit, 0 for always predicting mean(y), negative for worse.
 * When y is constant (SS_tot = 0) R^2 is 1 if the fit is perfect, else 0, as
 * scikit-learn's r2_score (force_finite=True) does, instead of -inf or NaN. */
double nn_mse(const float *y, const float *yhat, int n);
double nn_mae(const float *y, const float *yhat, int n);
double nn_rmse(const float *y, const float *yhat, int n);
double nn_r2(const float *y, const float *yhat, int n);

#endif
