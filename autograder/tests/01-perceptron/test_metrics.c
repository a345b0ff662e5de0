/* Metrics: confusion matrix, precision/recall/F1 (binary, macro, micro), ROC and AUC,
 * MSE/MAE/R^2, each against values worked by hand in the comments. AUC is also
 * cross-checked against the Mann-Whitney count, computed here independently. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>

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

Test(metrics, binary_precision_recall_f1_by_hand) {
  double p = nn_precision(bin_true, bin_pred, 8), r = nn_recall(bin_true, bin_pred, 8),
         f = nn_f1(bin_true, bin_pred, 8);
  cr_assert_float_eq(p, 0.6, EPS, "precision = TP/(TP+FP) = 3/5 = 0.6, got %.6f", p);
  cr_assert_float_eq(r, 0.75, EPS, "recall = TP/(TP+FN) = 3/4 = 0.75, got %.6f", r);
  cr_assert_float_eq(f, 2.0 / 3.0, EPS, "F1 = 2PR/(P+R) = 2/3, got %.6f", f);
}

Test(metrics, class_report_reads_the_counts_off_the_matrix) {
  const int cm[4] = {2, 2, 1, 3}; /* the binary example */
  nn_class_report pos = nn_class_report_from_cm(cm, 2, 1), neg = nn_class_report_from_cm(cm, 2, 0);
  cr_assert(pos.tp == 3 && pos.fp == 2 && pos.fn == 1 && pos.support == 4,
            "class 1: TP %d FP %d FN %d support %d, expected 3 2 1 4", pos.tp, pos.fp, pos.fn, pos.support);
  /* class 0 as the positive one: TP = 2 (TN above), FP = 1 (FN above), FN = 2 */
  cr_assert(neg.tp == 2 && neg.fp == 1 && neg.fn == 2 && neg.support == 4,
            "class 0: TP %d FP %d FN %d support %d, expected 2 1 2 4", neg.tp, neg.fp, neg.fn, neg.support);
  cr_assert_float_eq(neg.precision, 2.0 / 3.0, EPS, "class 0 precision 2/3, got %.6f", neg.precision);
  cr_assert_float_eq(neg.recall, 0.5, EPS, "class 0 recall 2/4, got %.6f", neg.recall);
  cr_assert_float_eq(neg.f1, 4.0 / 7.0, EPS, "class 0 F1 = 4/(4+1+2) = 4/7, got %.6f", neg.f1);
}

/* 95 negatives, 5 positives, predict "negative" always:
 * accuracy 95/100 = 0.95, TP = 0 so recall 0/5 = 0, precision 0/0 -> 0, F1 0. */
Test(metrics, accuracy_lies_on_imbalanced_data) {
  int y[100], pred[100] = {0};
  for (int i = 0; i < 100; i++) y[i] = i < 5;
  double acc = nn_accuracy(y, pred, 100), p = nn_precision(y, pred, 100), r = nn_recall(y, pred, 100),
         f = nn_f1(y, pred, 100);
  cr_assert_float_eq(acc, 0.95, EPS, "accuracy %.6f, expected 0.95", acc);
  cr_assert(r == 0 && f == 0, "predicting all negative finds no positive: recall %g and F1 %g must be 0", r, f);
  cr_assert(p == 0, "precision is 0/0 here; the convention gives 0, got %g", p);
}

Test(metrics, perfect_prediction_scores_one) {
  cr_assert_float_eq(nn_f1(bin_true, bin_true, 8), 1.0, EPS);
  cr_assert_float_eq(nn_precision(bin_true, bin_true, 8), 1.0, EPS);
  cr_assert_float_eq(nn_recall(bin_true, bin_true, 8), 1.0, EPS);
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

Test(metrics, macro_and_micro_by_hand) {
  nn_prf macro = nn_prf_multiclass(mc_true, mc_pred, 10, 3, NN_MACRO);
  nn_prf micro = nn_prf_multiclass(mc_true, mc_pred, 10, 3, NN_MICRO);
  cr_assert_float_eq(macro.precision, 13.0 / 18, EPS, "macro precision %.6f, expected 13/18 = 0.722222",
                     macro.precision);
  cr_assert_float_eq(macro.recall, 11.0 / 18, EPS, "macro recall %.6f, expected 11/18 = 0.611111", macro.recall);
  cr_assert_float_eq(macro.f1, 19.0 / 30, EPS,
                     "macro F1 %.6f, expected the mean of per-class F1s (5/6 + 2/5 + 2/3)/3 = 19/30 = 0.633333",
                     macro.f1);
  cr_assert_float_eq(micro.precision, 0.7, EPS, "micro precision %.6f, expected sum TP / sum (TP+FP) = 7/10",
                     micro.precision);
  cr_assert_float_eq(micro.recall, 0.7, EPS, "micro recall %.6f, expected 7/10", micro.recall);
  cr_assert_float_eq(micro.f1, 0.7, EPS, "micro F1 %.6f, expected 7/10", micro.f1);
  double acc = nn_accuracy(mc_true, mc_pred, 10);
  cr_assert_float_eq(micro.f1, acc, EPS, "with one label per example micro F1 = accuracy (%.6f), got %.6f", acc,
                     micro.f1);
}

/* A class that is never predicted has precision 0/0 -> 0, and still counts in the macro mean.
 *   y_true 0 0 1 1 2 2, y_pred 0 0 1 1 1 1: class 2 P = 0/0 -> 0, R 0, F1 0;
 *   class 1 TP 2 FP 2 FN 0: P 1/2 R 1 F1 4/6; class 0 all 1.
 *   macro F1 = (1 + 2/3 + 0) / 3 = 5/9, macro P = (1 + 1/2 + 0) / 3 = 1/2. */
Test(metrics, never_predicted_class_scores_zero_and_counts_in_macro) {
  const int t[6] = {0, 0, 1, 1, 2, 2}, p[6] = {0, 0, 1, 1, 1, 1};
  nn_prf macro = nn_prf_multiclass(t, p, 6, 3, NN_MACRO);
  cr_assert_float_eq(macro.precision, 0.5, EPS, "macro precision %.6f, expected (1 + 1/2 + 0)/3 = 1/2",
                     macro.precision);
  cr_assert_float_eq(macro.f1, 5.0 / 9, EPS, "macro F1 %.6f, expected (1 + 2/3 + 0)/3 = 5/9", macro.f1);
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

Test(metrics, auc_by_hand_with_a_tie_equals_mann_whitney) {
  double auc = nn_roc_auc(roc_y, roc_score, 8), mw = mann_whitney(roc_y, roc_score, 8);
  cr_assert_float_eq(mw, 0.75, EPS, "reference Mann-Whitney %.6f", mw);
  cr_assert_float_eq(auc, 0.75, EPS,
                     "AUC %.6f, expected 0.75 (12/16); a tie must be one diagonal step, worth 1/2 a pair", auc);
}

Test(metrics, auc_of_a_perfect_ranking_is_one_of_constant_scores_one_half) {
  const int y[6] = {0, 1, 0, 1, 1, 0};
  const float perfect[6] = {0.1f, 0.7f, 0.3f, 0.9f, 0.8f, 0.2f}, constant[6] = {.5f, .5f, .5f, .5f, .5f, .5f};
  const float reversed[6] = {0.9f, 0.1f, 0.7f, 0.2f, 0.3f, 0.8f};
  cr_assert_float_eq(nn_roc_auc(y, perfect, 6), 1.0, EPS, "every positive above every negative: AUC 1, got %.6f",
                     nn_roc_auc(y, perfect, 6));
  cr_assert_float_eq(nn_roc_auc(y, constant, 6), 0.5, EPS, "all scores tied: AUC 0.5, got %.6f",
                     nn_roc_auc(y, constant, 6));
  cr_assert_float_eq(nn_roc_auc(y, reversed, 6), 0.0, EPS, "every positive below every negative: AUC 0, got %.6f",
                     nn_roc_auc(y, reversed, 6));
}

Test(metrics, auc_equals_mann_whitney_on_random_scores_with_ties) {
  nn_rng rng = nn_rng_new(11);
  for (int trial = 0; trial < 20; trial++) {
    int n = 50 + (int)nn_rng_below(&rng, 150), y[200];
    float s[200];
    for (int i = 0; i < n; i++) {
      y[i] = i < 3 ? i % 2 : (int)nn_rng_below(&rng, 2); /* both classes present */
      s[i] = (float)nn_rng_below(&rng, 12) / 4 + 0.5f * (float)y[i]; /* 12 levels: many ties */
    }
    double auc = nn_roc_auc(y, s, n), mw = mann_whitney(y, s, n);
    cr_assert_float_eq(auc, mw, 1e-12, "trial %d (n = %d): trapezoid AUC %.15f, Mann-Whitney %.15f", trial, n, auc,
                       mw);
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
