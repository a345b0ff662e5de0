/* Metrics: confusion matrix, precision/recall/F1 (binary, macro, micro), ROC and AUC,
 * MSE/MAE/R^2, each against values worked by hand in the comments. AUC is also
 * cross-checked against the Mann-Whitney count, computed here independently.
 *
 * Graded variants: random labels, confusion matrices and scores of drawn sizes and class
 * counts, against counts and ratios the test computes itself (naive_report below) and the
 * Mann-Whitney count. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "graded.h"
#include "nn_metrics.h"
#include "nn_rng.h"

#define EPS 1e-12

/* P(score of a random positive > score of a random negative), a tie counting 1/2:
 * every (positive, negative) pair, O(P N). */
static double mann_whitney(const int *y, const float *s, int n) {
  double wins = 0;
  long pairs = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (y[i] == 1 && y[j] == 0) {
        wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
        pairs++;
      }
  return wins / pairs;
}

/* ---- the drawn variants' reference: counts straight from the labels */
static double ratio(double num, double den) { return den == 0 ? 0 : num / den; }

/* Class k's TP, FP, FN, support and P, R, F1 of a C x C confusion matrix, by its definition. */
static nn_class_report naive_report(const int *cm, int C, int k) {
  nn_class_report r = {.tp = cm[k * C + k]};
  for (int j = 0; j < C; j++) {
    if (j == k) continue;
    r.fp += cm[j * C + k];
    r.fn += cm[k * C + j];
  }
  r.support = r.tp + r.fn;
  r.precision = ratio(r.tp, r.tp + r.fp);
  r.recall = ratio(r.tp, r.tp + r.fn);
  r.f1 = ratio(2.0 * r.tp, 2.0 * r.tp + r.fp + r.fn);
  return r;
}

/* The confusion matrix (C x C, row = true) of labels, counted here. */
static void naive_cm(const int *y_true, const int *y_pred, int n, int C, int *cm) {
  for (int k = 0; k < C * C; k++) cm[k] = 0;
  for (int i = 0; i < n; i++) cm[y_true[i] * C + y_pred[i]]++;
}

/* Macro: the mean of the C per-class values; micro: the ratios of the pooled counts. */
static nn_prf naive_prf(const int *y_true, const int *y_pred, int n, int C, nn_average average) {
  int *cm = malloc((size_t)C * C * sizeof *cm);
  naive_cm(y_true, y_pred, n, C, cm);
  nn_prf macro = {0};
  double tp = 0, fp = 0, fn = 0;
  for (int k = 0; k < C; k++) {
    nn_class_report r = naive_report(cm, C, k);
    macro.precision += r.precision / C, macro.recall += r.recall / C, macro.f1 += r.f1 / C;
    tp += r.tp, fp += r.fp, fn += r.fn;
  }
  free(cm);
  if (average == NN_MACRO) return macro;
  return (nn_prf){ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)};
}

/* n labels uniform in 0..C-1. */
static void random_labels(nn_rng *rng, int *y, int n, int C) {
  for (int i = 0; i < n; i++) y[i] = (int)nn_rng_below(rng, (uint32_t)C);
}

/* ---- binary
 *   i       0 1 2 3 4 5 6 7
 *   y_true  1 1 0 1 0 0 1 0
 *   y_pred  1 0 0 1 1 1 1 0
 *           TP FN TN TP FP FP TP TN   ->  TP = 3, FN = 1, FP = 2, TN = 2
 *   accuracy  = (3 + 2) / 8 = 0.625
 *   precision = 3 / (3 + 2) = 0.6      recall = 3 / (3 + 1) = 0.75
 *   F1 = 2 * 0.6 * 0.75 / 1.35 = 2/3   = 2 TP / (2 TP + FP + FN) = 6 / 9 */
static const int bin_true[8] = {1, 1, 0, 1, 0, 0, 1, 0};
static const int bin_pred[8] = {1, 0, 0, 1, 1, 1, 1, 0};

Test(metrics, binary_confusion_matrix_by_hand) {
  int cm[4];
  nn_confusion_matrix(bin_true, bin_pred, 8, 2, cm);
  /* row = true, column = predicted: [[TN, FP], [FN, TP]] */
  const int want[4] = {2, 2, 1, 3};
  for (int i = 0; i < 4; i++)
    cr_assert_eq(cm[i], want[i], "cm[%d][%d] (true %d, predicted %d) is %d, expected %d", i / 2, i % 2, i / 2,
                 i % 2, cm[i], want[i]);
  cr_assert_float_eq(nn_accuracy(bin_true, bin_pred, 8), 0.625, EPS);
}

/* The drawn variant: n in 4..60 random 0/1 labels and predictions, with one TP, one FP
 * and one FN planted. */
GRADED_TEST(metrics, binary_precision_recall_f1_by_hand) {
  enum { MAX_N = 60 };
  int n = nn_grade_size(g, 8, 4, MAX_N);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int t[MAX_N], p[MAX_N];
  for (int i = 0; i < n; i++) {
    t[i] = nn_grade_public(g) ? bin_true[i] : (int)nn_rng_below(&rng, 2);
    p[i] = nn_grade_public(g) ? bin_pred[i] : (int)nn_rng_below(&rng, 2);
  }
  if (!nn_grade_public(g)) t[0] = 1, p[0] = 1, t[1] = 0, p[1] = 1, t[2] = 1, p[2] = 0;
  double prf[3] = {nn_precision(t, p, n), nn_recall(t, p, n), nn_f1(t, p, n)};
  answer(g, "nn_precision, nn_recall, nn_f1", prf, 3);
  if (nn_grade_public(g)) {
    expect_near(g, prf[0], 0.6, EPS, "precision = TP/(TP+FP) = 3/5 = 0.6, got %.6f", prf[0]);
    expect_near(g, prf[1], 0.75, EPS, "recall = TP/(TP+FN) = 3/4 = 0.75, got %.6f", prf[1]);
    expect_near(g, prf[2], 2.0 / 3.0, EPS, "F1 = 2PR/(P+R) = 2/3, got %.6f", prf[2]);
    return;
  }
  int cm[4];
  naive_cm(t, p, n, 2, cm);
  nn_class_report r = naive_report(cm, 2, 1);
  expect_near(g, prf[0], r.precision, EPS, "precision = TP/(TP+FP) = %d/%d = %.6f, got %.6f (n = %d)", r.tp,
              r.tp + r.fp, r.precision, prf[0], n);
  expect_near(g, prf[1], r.recall, EPS, "recall = TP/(TP+FN) = %d/%d = %.6f, got %.6f (n = %d)", r.tp, r.tp + r.fn,
              r.recall, prf[1], n);
  expect_near(g, prf[2], r.f1, EPS, "F1 = 2TP/(2TP+FP+FN) = %d/%d = %.6f, got %.6f (n = %d)", 2 * r.tp,
              2 * r.tp + r.fp + r.fn, r.f1, prf[2], n);
}

/* nn_class_report_from_cm for class k: its counts and ratios as answers. */
static nn_class_report report_answered(nn_grade *g, const int *cm, int C, int k) {
  nn_class_report r = nn_class_report_from_cm(cm, C, k);
  int counts[4] = {r.tp, r.fp, r.fn, r.support};
  double ratios[3] = {r.precision, r.recall, r.f1};
  answer(g, "the report's TP, FP, FN, support", counts, 4);
  answer(g, "the report's precision, recall, F1", ratios, 3);
  return (nn_class_report){counts[0], counts[1], counts[2], counts[3], ratios[0], ratios[1], ratios[2]};
}

/* The drawn variant: a C x C matrix (C in 2..6) of counts 0..9, one class's column all 0
 * (never predicted: precision 0/0), every class's report against naive_report. */
static void class_report_drawn(nn_grade *g) {
  enum { MAX_C = 6 };
  int C = nn_grade_size(g, 0, 2, MAX_C);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int cm[MAX_C * MAX_C], never = (int)nn_rng_below(&rng, (uint32_t)C);
  for (int k = 0; k < C * C; k++) cm[k] = k % C == never ? 0 : (int)nn_rng_below(&rng, 10);
  for (int k = 0; k < C; k++) {
    nn_class_report got = report_answered(g, cm, C, k), want = naive_report(cm, C, k);
    expect(g, got.tp == want.tp && got.fp == want.fp && got.fn == want.fn && got.support == want.support,
           "class %d of a %d x %d matrix: TP %d FP %d FN %d support %d, expected %d %d %d %d (TP = cm[k][k], "
           "FP = column k - TP, FN = row k - TP)", k, C, C, got.tp, got.fp, got.fn, got.support, want.tp, want.fp,
           want.fn, want.support);
    expect_near(g, got.precision, want.precision, EPS, "class %d precision %d/%d = %.6f, got %.6f%s", k, want.tp,
                want.tp + want.fp, want.precision, got.precision, k == never ? " (never predicted: 0/0 is 0)" : "");
    expect_near(g, got.recall, want.recall, EPS, "class %d recall %d/%d = %.6f, got %.6f", k, want.tp,
                want.tp + want.fn, want.recall, got.recall);
    expect_near(g, got.f1, want.f1, EPS, "class %d F1 2TP/(2TP+FP+FN) = %.6f, got %.6f", k, want.f1, got.f1);
  }
}

GRADED_TEST(metrics, class_report_reads_the_counts_off_the_matrix) {
  if (!nn_grade_public(g)) {
    class_report_drawn(g);
    return;
  }
  const int cm[4] = {2, 2, 1, 3}; /* the binary example */
  nn_class_report pos = report_answered(g, cm, 2, 1), neg = report_answered(g, cm, 2, 0);
  expect(g, pos.tp == 3 && pos.fp == 2 && pos.fn == 1 && pos.support == 4,
         "class 1: TP %d FP %d FN %d support %d, expected 3 2 1 4", pos.tp, pos.fp, pos.fn, pos.support);
  /* class 0 as the positive one: TP = 2 (TN above), FP = 1 (FN above), FN = 2 */
  expect(g, neg.tp == 2 && neg.fp == 1 && neg.fn == 2 && neg.support == 4,
         "class 0: TP %d FP %d FN %d support %d, expected 2 1 2 4", neg.tp, neg.fp, neg.fn, neg.support);
  expect_near(g, neg.precision, 2.0 / 3.0, EPS, "class 0 precision 2/3, got %.6f", neg.precision);
  expect_near(g, neg.recall, 0.5, EPS, "class 0 recall 2/4, got %.6f", neg.recall);
  expect_near(g, neg.f1, 4.0 / 7.0, EPS, "class 0 F1 = 4/(4+1+2) = 4/7, got %.6f", neg.f1);
}

/* 95 negatives, 5 positives, predict "negative" always:
 * accuracy 95/100 = 0.95, TP = 0 so recall 0/5 = 0, precision 0/0 -> 0, F1 0.
 * The drawn variant: n in 20..200 with 1..n/10 positives at random places. */
GRADED_TEST(metrics, accuracy_lies_on_imbalanced_data) {
  enum { MAX_N = 200 };
  int n = nn_grade_size(g, 100, 20, MAX_N), P = nn_grade_size(g, 5, 1, n / 10);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int y[MAX_N], pred[MAX_N] = {0}, order[MAX_N];
  nn_rng_permutation(&rng, order, n);
  for (int i = 0; i < n; i++) y[nn_grade_public(g) ? i : order[i]] = i < P;
  double v[4] = {nn_accuracy(y, pred, n), nn_precision(y, pred, n), nn_recall(y, pred, n), nn_f1(y, pred, n)};
  answer(g, "nn_accuracy, nn_precision, nn_recall, nn_f1", v, 4);
  expect_near(g, v[0], (double)(n - P) / n, EPS, "accuracy %.6f, expected %d/%d = %.6f", v[0], n - P, n,
              (double)(n - P) / n);
  expect(g, v[2] == 0 && v[3] == 0, "predicting all negative finds no positive: recall %g and F1 %g must be 0", v[2],
         v[3]);
  expect(g, v[1] == 0, "precision is 0/0 here; the convention gives 0, got %g", v[1]);
}

/* The drawn variant: n in 2..60 random labels, one positive planted. */
GRADED_TEST(metrics, perfect_prediction_scores_one) {
  enum { MAX_N = 60 };
  int n = nn_grade_size(g, 8, 2, MAX_N);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int y[MAX_N];
  for (int i = 0; i < n; i++) y[i] = nn_grade_public(g) ? bin_true[i] : (int)nn_rng_below(&rng, 2);
  y[0] = 1;
  double v[3] = {nn_f1(y, y, n), nn_precision(y, y, n), nn_recall(y, y, n)};
  answer(g, "nn_f1, nn_precision, nn_recall", v, 3);
  expect_near(g, v[0], 1.0, EPS, "F1 of a perfect prediction (n = %d) is %.6f, expected 1", n, v[0]);
  expect_near(g, v[1], 1.0, EPS, "precision of a perfect prediction (n = %d) is %.6f, expected 1", n, v[1]);
  expect_near(g, v[2], 1.0, EPS, "recall of a perfect prediction (n = %d) is %.6f, expected 1", n, v[2]);
}

/* ---- three classes
 *   y_true  0 0 0 0 0 0 1 1 2 2
 *   y_pred  0 0 0 0 0 1 1 0 2 1
 *   cm = [[5, 1, 0],        column sums 6, 3, 1
 *         [1, 1, 0],
 *         [0, 1, 1]]
 *   class 0: TP 5 FP 1 FN 1  P 5/6  R 5/6  F1 10/12 = 5/6
 *   class 1: TP 1 FP 2 FN 1  P 1/3  R 1/2  F1 2/5
 *   class 2: TP 1 FP 0 FN 1  P 1    R 1/2  F1 2/3
 *   macro P  = (5/6 + 1/3 + 1) / 3   = 13/18
 *   macro R  = (5/6 + 1/2 + 1/2) / 3 = 11/18
 *   macro F1 = (5/6 + 2/5 + 2/3) / 3 = 19/30
 *   micro P = R = F1 = sum TP / n = 7/10 = accuracy */
static const int mc_true[10] = {0, 0, 0, 0, 0, 0, 1, 1, 2, 2};
static const int mc_pred[10] = {0, 0, 0, 0, 0, 1, 1, 0, 2, 1};

Test(metrics, three_class_confusion_matrix_by_hand) {
  int cm[9];
  nn_confusion_matrix(mc_true, mc_pred, 10, 3, cm);
  const int want[9] = {5, 1, 0, 1, 1, 0, 0, 1, 1};
  for (int i = 0; i < 9; i++)
    cr_assert_eq(cm[i], want[i], "cm[%d][%d] (true %d, predicted %d) is %d, expected %d", i / 3, i % 3, i / 3,
                 i % 3, cm[i], want[i]);
}

/* nn_prf_multiclass's precision, recall and F1 as an answer. */
static nn_prf prf_answered(nn_grade *g, const char *what, const int *t, const int *p, int n, int C, nn_average a) {
  nn_prf r = nn_prf_multiclass(t, p, n, C, a);
  double v[3] = {r.precision, r.recall, r.f1};
  answer(g, what, v, 3);
  return (nn_prf){v[0], v[1], v[2]};
}

/* The drawn variant: n in 10..80 random labels and predictions of C in 2..6 classes. */
GRADED_TEST(metrics, macro_and_micro_by_hand) {
  enum { MAX_N = 80 };
  int n = nn_grade_size(g, 10, 10, MAX_N), C = nn_grade_size(g, 3, 2, 6);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int t[MAX_N], p[MAX_N];
  for (int i = 0; nn_grade_public(g) && i < n; i++) t[i] = mc_true[i], p[i] = mc_pred[i];
  if (!nn_grade_public(g)) random_labels(&rng, t, n, C), random_labels(&rng, p, n, C);
  nn_prf macro = prf_answered(g, "macro precision, recall, F1", t, p, n, C, NN_MACRO);
  nn_prf micro = prf_answered(g, "micro precision, recall, F1", t, p, n, C, NN_MICRO);
  double acc = nn_accuracy(t, p, n);
  answer(g, "nn_accuracy", &acc, 1);
  if (nn_grade_public(g)) {
    expect_near(g, macro.precision, 13.0 / 18, EPS, "macro precision %.6f, expected 13/18 = 0.722222",
                macro.precision);
    expect_near(g, macro.recall, 11.0 / 18, EPS, "macro recall %.6f, expected 11/18 = 0.611111", macro.recall);
    expect_near(g, macro.f1, 19.0 / 30, EPS,
                "macro F1 %.6f, expected the mean of per-class F1s (5/6 + 2/5 + 2/3)/3 = 19/30 = 0.633333", macro.f1);
    expect_near(g, micro.precision, 0.7, EPS, "micro precision %.6f, expected sum TP / sum (TP+FP) = 7/10",
                micro.precision);
    expect_near(g, micro.recall, 0.7, EPS, "micro recall %.6f, expected 7/10", micro.recall);
    expect_near(g, micro.f1, 0.7, EPS, "micro F1 %.6f, expected 7/10", micro.f1);
    expect_near(g, acc, 0.7, EPS, "accuracy %.6f, expected 7/10", acc);
  } else {
    nn_prf want = naive_prf(t, p, n, C, NN_MACRO), want_micro = naive_prf(t, p, n, C, NN_MICRO);
    int right = 0;
    for (int i = 0; i < n; i++) right += t[i] == p[i];
    expect_near(g, macro.precision, want.precision, EPS, "macro precision %.6f, expected the mean of the %d "
                "per-class precisions %.6f (n = %d)", macro.precision, C, want.precision, n);
    expect_near(g, macro.recall, want.recall, EPS, "macro recall %.6f, expected the mean of the %d per-class "
                "recalls %.6f (n = %d)", macro.recall, C, want.recall, n);
    expect_near(g, macro.f1, want.f1, EPS, "macro F1 %.6f, expected the mean of the %d per-class F1s %.6f (not the "
                "F1 of macro P and R; n = %d)", macro.f1, C, want.f1, n);
    expect_near(g, micro.precision, want_micro.precision, EPS, "micro precision %.6f, expected sum TP / sum (TP+FP) "
                "= %.6f (n = %d, C = %d)", micro.precision, want_micro.precision, n, C);
    expect_near(g, micro.recall, want_micro.recall, EPS, "micro recall %.6f, expected sum TP / sum (TP+FN) = %.6f",
                micro.recall, want_micro.recall);
    expect_near(g, micro.f1, want_micro.f1, EPS, "micro F1 %.6f, expected %.6f", micro.f1, want_micro.f1);
    expect_near(g, acc, (double)right / n, EPS, "accuracy %.6f, expected %d/%d", acc, right, n);
  }
  expect_near(g, micro.f1, acc, EPS, "with one label per example micro F1 = accuracy (%.6f), got %.6f", acc,
              micro.f1);
}

/* A class that is never predicted has precision 0/0 -> 0, and still counts in the macro mean.
 *   y_true 0 0 1 1 2 2, y_pred 0 0 1 1 1 1: class 2 P = 0/0 -> 0, R 0, F1 0;
 *   class 1 TP 2 FP 2 FN 0: P 1/2 R 1 F1 4/6; class 0 all 1.
 *   macro F1 = (1 + 2/3 + 0) / 3 = 5/9, macro P = (1 + 1/2 + 0) / 3 = 1/2.
 * The drawn variant: C in 3..6, n in 6..40; one class k occurs in y_true but never in y_pred. */
GRADED_TEST(metrics, never_predicted_class_scores_zero_and_counts_in_macro) {
  enum { MAX_N = 40 };
  int n = nn_grade_size(g, 6, 6, MAX_N), C = nn_grade_size(g, 3, 3, 6);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int t[MAX_N] = {0, 0, 1, 1, 2, 2}, p[MAX_N] = {0, 0, 1, 1, 1, 1}, k = 2;
  if (!nn_grade_public(g)) {
    k = (int)nn_rng_below(&rng, (uint32_t)C);
    random_labels(&rng, t, n, C);
    for (int i = 0; i < n; i++) p[i] = (k + 1 + (int)nn_rng_below(&rng, (uint32_t)C - 1)) % C; /* never k */
    t[0] = k;
  }
  nn_prf macro = prf_answered(g, "macro precision, recall, F1", t, p, n, C, NN_MACRO);
  nn_prf want = nn_grade_public(g) ? (nn_prf){0.5, (1 + 1 + 0) / 3.0, 5.0 / 9} : naive_prf(t, p, n, C, NN_MACRO);
  expect_near(g, macro.precision, want.precision, EPS, "macro precision %.6f, expected %.6f: class %d, never "
              "predicted, has precision 0/0 = 0 and still counts in the mean of %d", macro.precision, want.precision,
              k, C);
  expect_near(g, macro.recall, want.recall, EPS, "macro recall %.6f, expected %.6f (class %d: recall 0)",
              macro.recall, want.recall, k);
  expect_near(g, macro.f1, want.f1, EPS, "macro F1 %.6f, expected %.6f (class %d: F1 0, counted in the mean of %d)",
              macro.f1, want.f1, k, C);
}

/* ---- ROC and AUC
 *   score  0.9  0.85  0.8  0.4  0.4  0.4  0.2  0.1
 *   y      1    0     1    1    0    1    0    0          P = 4, N = 4
 *   thresholds and (FPR, TPR):
 *     +inf (0, 0)  0.9 (0, 1/4)  0.85 (1/4, 1/4)  0.8 (1/4, 2/4)
 *     0.4 (2/4, 1): the tie 1,0,1 enters at once, one diagonal step
 *     0.2 (3/4, 1)  0.1 (1, 1)
 *   trapezoids: 0 + 1/4*1/4 + 0 + 1/4*(2/4+1)/2 + 1/4*1 + 1/4*1 = 1/16 + 3/16 + 4/16 + 4/16 = 12/16 = 0.75
 *   Mann-Whitney: positive 0.9 beats 4 negatives, 0.8 beats 3 (not 0.85), each 0.4 beats 2 and
 *   ties 1 (2.5 each): (4 + 3 + 2.5 + 2.5) / 16 = 0.75. */
static const float roc_score[8] = {0.9f, 0.85f, 0.8f, 0.4f, 0.4f, 0.4f, 0.2f, 0.1f};
static const int roc_y[8] = {1, 0, 1, 1, 0, 1, 0, 0};

Test(metrics, roc_curve_by_hand_with_a_tie) {
  float fpr[9], tpr[9], thr[9];
  int m = nn_roc_curve(roc_y, roc_score, 8, fpr, tpr, thr);
  const float want_f[7] = {0, 0, .25f, .25f, .5f, .75f, 1}, want_t[7] = {0, .25f, .25f, .5f, 1, 1, 1};
  const float want_thr[7] = {INFINITY, 0.9f, 0.85f, 0.8f, 0.4f, 0.2f, 0.1f};
  cr_assert_eq(m, 7, "8 scores with one 3-way tie give 6 thresholds plus (0, 0): 7 points, got %d", m);
  for (int i = 0; i < 7; i++) {
    cr_assert(fpr[i] == want_f[i] && tpr[i] == want_t[i], "point %d is (%g, %g), expected (%g, %g)", i, fpr[i],
              tpr[i], want_f[i], want_t[i]);
    cr_assert(thr[i] == want_thr[i], "threshold %d is %g, expected %g", i, thr[i], want_thr[i]);
  }
}

/* The drawn variant: n in 6..40 labels with both classes, scores on 2..8 levels (ties),
 * the first negative and the first positive tied. */
GRADED_TEST(metrics, auc_by_hand_with_a_tie_equals_mann_whitney) {
  enum { MAX_N = 40 };
  int n = nn_grade_size(g, 8, 6, MAX_N), levels = nn_grade_size(g, 0, 2, 8);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int y[MAX_N];
  float s[MAX_N];
  for (int i = 0; nn_grade_public(g) && i < n; i++) y[i] = roc_y[i], s[i] = roc_score[i];
  for (int i = 0; !nn_grade_public(g) && i < n; i++) {
    y[i] = i < 2 ? i % 2 : (int)nn_rng_below(&rng, 2);
    s[i] = i == 1 ? s[0] : (float)nn_rng_below(&rng, (uint32_t)levels) / 4;
  }
  double auc = nn_roc_auc(y, s, n), mw = mann_whitney(y, s, n);
  answer(g, "nn_roc_auc", &auc, 1);
  if (nn_grade_public(g)) {
    expect_near(g, mw, 0.75, EPS, "reference Mann-Whitney %.6f", mw);
    expect_near(g, auc, 0.75, EPS,
                "AUC %.6f, expected 0.75 (12/16); a tie must be one diagonal step, worth 1/2 a pair", auc);
  } else {
    expect_near(g, auc, mw, EPS, "AUC %.6f of %d scores on %d levels, expected the Mann-Whitney %.6f; a tie must be "
                "one diagonal step, worth 1/2 a pair", auc, n, levels, mw);
  }
}

/* The drawn variant: n in 4..40 random labels; perfect scores put every positive in
 * [1, 1.9) and every negative in [0, 0.9), reversed the other way round. */
GRADED_TEST(metrics, auc_of_a_perfect_ranking_is_one_of_constant_scores_one_half) {
  enum { MAX_N = 40 };
  int n = nn_grade_size(g, 6, 4, MAX_N);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 0));
  int y[MAX_N] = {0, 1, 0, 1, 1, 0};
  float perfect[MAX_N] = {0.1f, 0.7f, 0.3f, 0.9f, 0.8f, 0.2f}, constant[MAX_N];
  float reversed[MAX_N] = {0.9f, 0.1f, 0.7f, 0.2f, 0.3f, 0.8f};
  float c = nn_grade_public(g) ? .5f : nn_rng_uniform(&rng, -2.f, 2.f);
  for (int i = 0; i < n; i++) {
    if (!nn_grade_public(g)) {
      y[i] = i < 2 ? i % 2 : (int)nn_rng_below(&rng, 2);
      float u = nn_rng_uniform(&rng, 0.f, 0.9f);
      perfect[i] = (float)y[i] + u, reversed[i] = (float)(1 - y[i]) + u;
    }
    constant[i] = c;
  }
  double v[3] = {nn_roc_auc(y, perfect, n), nn_roc_auc(y, constant, n), nn_roc_auc(y, reversed, n)};
  answer(g, "nn_roc_auc of perfect, constant and reversed scores", v, 3);
  expect_near(g, v[0], 1.0, EPS, "every positive above every negative: AUC 1, got %.6f (n = %d)", v[0], n);
  expect_near(g, v[1], 0.5, EPS, "all scores tied: AUC 0.5, got %.6f (n = %d)", v[1], n);
  expect_near(g, v[2], 0.0, EPS, "every positive below every negative: AUC 0, got %.6f (n = %d)", v[2], n);
}

/* 20 trials of n in 50..199 scores on 12 levels (public), or on 2..30 levels from a drawn seed. */
GRADED_TEST(metrics, auc_equals_mann_whitney_on_random_scores_with_ties) {
  int levels = nn_grade_size(g, 12, 2, 30);
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 11));
  for (int trial = 0; trial < 20; trial++) {
    int n = 50 + (int)nn_rng_below(&rng, 150), y[200];
    float s[200];
    for (int i = 0; i < n; i++) {
      y[i] = i < 3 ? i % 2 : (int)nn_rng_below(&rng, 2); /* both classes present */
      s[i] = (float)nn_rng_below(&rng, (uint32_t)levels) / 4 + 0.5f * (float)y[i]; /* few levels: many ties */
    }
    double auc = nn_roc_auc(y, s, n), mw = mann_whitney(y, s, n);
    answer(g, "nn_roc_auc of a trial", &auc, 1);
    expect_near(g, auc, mw, 1e-12, "trial %d (n = %d, %d levels): trapezoid AUC %.15f, Mann-Whitney %.15f", trial, n,
                levels, auc, mw);
  }
}

Test(metrics, roc_curve_is_monotone_from_origin_to_one_one) {
  nn_rng rng = nn_rng_new(5);
  int y[100];
  float s[100], fpr[101], tpr[101];
  for (int i = 0; i < 100; i++) {
    y[i] = i % 3 == 0;
    s[i] = (float)nn_rng_below(&rng, 20);
  }
  int m = nn_roc_curve(y, s, 100, fpr, tpr, NULL);
  cr_assert(m >= 2 && m <= 21, "%d points for at most 20 distinct scores", m);
  cr_assert(fpr[0] == 0 && tpr[0] == 0, "the curve starts at (%g, %g), expected (0, 0)", fpr[0], tpr[0]);
  cr_assert(fpr[m - 1] == 1 && tpr[m - 1] == 1, "the curve ends at (%g, %g), expected (1, 1)", fpr[m - 1],
            tpr[m - 1]);
  for (int i = 1; i < m; i++)
    cr_assert(fpr[i] >= fpr[i - 1] && tpr[i] >= tpr[i - 1] && (fpr[i] > fpr[i - 1] || tpr[i] > tpr[i - 1]),
              "point %d (%g, %g) does not move up or right from (%g, %g)", i, fpr[i], tpr[i], fpr[i - 1],
              tpr[i - 1]);
}

/* ---- regression (scikit-learn's documentation example)
 *   y    = 3   -0.5  2  7        yhat = 2.5  0  2  8
 *   errors 0.5 -0.5  0 -1        MSE = (0.25 + 0.25 + 0 + 1) / 4 = 0.375   MAE = 2 / 4 = 0.5
 *   mean(y) = 2.875, SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875
 *   R^2 = 1 - 1.5 / 29.1875 = 0.948608137... */
Test(metrics, mse_mae_r2_by_hand) {
  const float y[4] = {3, -0.5f, 2, 7}, yhat[4] = {2.5f, 0, 2, 8};
  cr_assert_float_eq(nn_mse(y, yhat, 4), 0.375, EPS, "MSE %.6f, expected 0.375", nn_mse(y, yhat, 4));
  cr_assert_float_eq(nn_mae(y, yhat, 4), 0.5, EPS, "MAE %.6f, expected 0.5", nn_mae(y, yhat, 4));
  cr_assert_float_eq(nn_r2(y, yhat, 4), 1 - 1.5 / 29.1875, EPS, "R^2 %.9f, expected 0.948608137", nn_r2(y, yhat, 4));
  /* RMSE = sqrt(0.375) = 0.612372436, in the target's units */
  cr_assert_float_eq(nn_rmse(y, yhat, 4), sqrt(0.375), EPS, "RMSE %.9f, expected sqrt(0.375) = 0.612372436", nn_rmse(y, yhat, 4));
  /* residuals (1, 3): MAE 2, MSE 5, RMSE sqrt 5 = 2.236: the three are different numbers */
  const float t[2] = {0, 0}, r[2] = {1, 3};
  cr_assert_float_eq(nn_mae(t, r, 2), 2.0, EPS);
  cr_assert_float_eq(nn_mse(t, r, 2), 5.0, EPS);
  cr_assert_float_eq(nn_rmse(t, r, 2), sqrt(5.0), EPS);
}

Test(metrics, r2_of_the_mean_is_zero_and_worse_is_negative) {
  const float y[4] = {1, 2, 3, 6}, mean[4] = {3, 3, 3, 3}, bad[4] = {6, 3, 2, 1};
  /* SS_tot = 4 + 1 + 0 + 9 = 14; bad: SS_res = 25 + 1 + 1 + 25 = 52 -> 1 - 52/14 = -19/7 */
  cr_assert_float_eq(nn_r2(y, mean, 4), 0.0, EPS, "predicting the mean: R^2 %.6f, expected 0", nn_r2(y, mean, 4));
  cr_assert_float_eq(nn_r2(y, bad, 4), -19.0 / 7, EPS, "R^2 %.6f, expected 1 - 52/14 = -19/7", nn_r2(y, bad, 4));
}

Test(metrics, r2_of_a_constant_target) {
  const float y[3] = {2, 2, 2}, off[3] = {2, 2, 3};
  cr_assert_eq(nn_r2(y, y, 3), 1.0, "SS_tot = 0 and a perfect fit: R^2 must be 1, got %g", nn_r2(y, y, 3));
  cr_assert_eq(nn_r2(y, off, 3), 0.0, "SS_tot = 0 and SS_res > 0: R^2 must be 0 (not -inf), got %g",
               nn_r2(y, off, 3));
}

/* ---- mistakes abort, naming the function */
Test(metrics, empty_input_aborts, .signal = SIGABRT) { nn_accuracy(bin_true, bin_pred, 0); }
Test(metrics, f1_of_empty_input_aborts, .signal = SIGABRT) { nn_f1(bin_true, bin_pred, 0); }
Test(metrics, mse_of_empty_input_aborts, .signal = SIGABRT) { nn_mse(NULL, NULL, 0); }
Test(metrics, label_out_of_range_aborts, .signal = SIGABRT) {
  int cm[9];
  nn_confusion_matrix(mc_true, mc_pred, 10, 2, cm); /* labels go up to 2, C = 2 */
}
Test(metrics, binary_metric_of_a_label_two_aborts, .signal = SIGABRT) { nn_precision(mc_true, mc_pred, 10); }
Test(metrics, auc_with_one_class_aborts, .signal = SIGABRT) {
  const int y[3] = {1, 1, 1};
  const float s[3] = {.1f, .2f, .3f};
  nn_roc_auc(y, s, 3);
}
Test(metrics, auc_of_a_nan_score_aborts, .signal = SIGABRT) {
  const int y[2] = {0, 1};
  const float s[2] = {NAN, .2f};
  nn_roc_auc(y, s, 2);
}
