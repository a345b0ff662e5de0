/* nn perceptron | logreg | softmax: chapter 01's demos on toy and real data.
 *
 *   perceptron  AND, OR, XOR and a 2-D toy set; the learned line as a picture
 *   logreg      breast cancer: perceptron vs logistic regression, with and without
 *               scaling, 5-fold cross-validation, the ROC curve
 *   softmax     softmax regression on iris and the 8x8 digits, confusion matrix
 * Pictures go to build/ch01/. Every number comes from a seeded run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_csv.h"
#include "nn_logistic.h"
#include "nn_metrics.h"
#include "nn_perceptron.h"
#include "nn_plot.h"
#include "nn_progress.h"
#include "nn_rng.h"
#include "nn_sampling.h"
#include "nn_scaler.h"
#include "nn_softmax_reg.h"
#include "nn_split.h"

#define OUT_DIR "build/ch01"

static void make_out_dir(void) {
  mkdir("build", 0755);
  mkdir(OUT_DIR, 0755);
}

static void say_plot(nn_status st, const char *png, const nn_error *err) {
  if (st == NN_OK)
    printf("   picture: %s\n", png);
  else
    printf("   note: %s\n", err->msg);
}

/* A bundled table as X (N, D) and class ids y (N); prints the error and returns false. */
static bool load_table(const char *path, int num_classes, nn_tensor *X, int **y) {
  nn_table t;
  nn_error err = {0};
  if (nn_csv_load(path, &(nn_csv_options){.target = "target"}, &t, &err) != NN_OK ||
      nn_table_labels(&t, path, num_classes, y, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
    nn_table_free(&t);
    return false;
  }
  *X = nn_tensor_to(&t.x, NN_CPU);
  nn_table_free(&t);
  return true;
}

/* ---- nn perceptron */

static void truth_table(const char *name, const int y[4]) {
  static const float corners[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, corners);
  nn_perceptron p = nn_perceptron_new(2);
  int mistakes[100];
  nn_perceptron_options opt = {.lr = 1.f, .max_epochs = 100, .seed = 1};
  int epochs = nn_perceptron_fit(&p, &X, y, &opt, mistakes);
  int yhat[4];
  nn_perceptron_predict(&p, &X, yhat);
  int right = 0;
  for (int i = 0; i < 4; i++) right += yhat[i] == y[i];
  printf("   %-4s %s after %3d epochs: %d/4 right, w = (%g, %g), b = %g\n", name,
         mistakes[epochs - 1] == 0 ? "converged" : "FAILED   ", epochs, right, p.w.data[0], p.w.data[1],
         p.b);
  nn_perceptron_free(&p);
  nn_tensor_free(&X);
}

/* Two clouds of 100 points, N((-0.8,-0.8), 0.5^2) -> 0 and N((1.2,0.8), 0.5^2) -> 1. */
static void toy_clouds(nn_tensor *X, int *y, nn_rng *rng) {
  *X = nn_tensor_new(2, (int[]){200, 2}, NN_CPU);
  for (int i = 0; i < 200; i++) {
    y[i] = i % 2;
    X->data[2 * i] = nn_rng_normal(rng, y[i] ? 1.2f : -0.8f, 0.5f);
    X->data[2 * i + 1] = nn_rng_normal(rng, y[i] ? 0.8f : -0.8f, 0.5f);
  }
}

/* The points of each class as dots and the line w0 x0 + w1 x1 + b = 0 across them. */
static void plot_boundary(const nn_tensor *X, const int *y, const nn_perceptron *p) {
  int N = X->shape[0], count[2] = {0, 0};
  float *px[2], *py[2], lx[2] = {-3.f, 3.5f}, ly[2];
  for (int c = 0; c < 2; c++) px[c] = malloc(N * sizeof(float)), py[c] = malloc(N * sizeof(float));
  for (int i = 0; i < N; i++) {
    int c = y[i];
    px[c][count[c]] = X->data[2 * i], py[c][count[c]++] = X->data[2 * i + 1];
  }
  for (int k = 0; k < 2; k++) ly[k] = -(p->w.data[0] * lx[k] + p->b) / p->w.data[1]; /* x1 on the line */
  nn_series s[3] = {{.label = "class 0", .x = px[0], .y = py[0], .n = count[0], .points = true},
                    {.label = "class 1", .x = px[1], .y = py[1], .n = count[1], .points = true},
                    {.label = "w . x + b = 0", .x = lx, .y = ly, .n = 2}};
  nn_plot_style style = {.title = "The perceptron's line after training", .xlabel = "x0", .ylabel = "x1"};
  nn_error err = {0};
  say_plot(nn_plot_lines(OUT_DIR "/boundary.png", &style, s, 3, &err), OUT_DIR "/boundary.png", &err);
  for (int c = 0; c < 2; c++) free(px[c]), free(py[c]);
}

int cmd_perceptron(int argc, char **argv) {
  if (!demo_cpu_only_options("perceptron", argc, argv)) return 2;
  make_out_dir();
  printf("The perceptron rule on the three truth tables of two inputs:\n");
  truth_table("AND", (int[]){0, 0, 0, 1});
  truth_table("OR", (int[]){0, 1, 1, 1});
  truth_table("XOR", (int[]){0, 1, 1, 0});
  printf("   XOR puts (0,1) and (1,0) on one side and (0,0), (1,1) on the other: no line does that,\n"
         "   so the rule never stops moving. A hidden layer (chapter 02) bends the boundary.\n\n");
  nn_rng rng = nn_rng_new(7);
  nn_tensor X;
  int y[200], mistakes[50];
  toy_clouds(&X, y, &rng);
  nn_perceptron p = nn_perceptron_new(2);
  int epochs = nn_perceptron_fit(&p, &X, y, &(nn_perceptron_options){.lr = 1.f, .max_epochs = 50, .seed = 1},
                                 mistakes);
  printf("Two clouds of 100 points each: mistakes per epoch");
  for (int e = 0; e < epochs; e++) printf(" %d", mistakes[e]);
  printf("\n   %s after %d epochs\n", mistakes[epochs - 1] == 0 ? "separated" : "not separated", epochs);
  plot_boundary(&X, y, &p);
  nn_perceptron_free(&p);
  nn_tensor_free(&X);
  return 0;
}

/* ---- nn logreg: breast cancer, 569 tumours x 30 measurements, 0 = malignant, 1 = benign */

#define BREAST_CANCER "datasets/tabular/breast_cancer.csv.gz"
static const nn_gd_options LOGREG = {.lr = 0.1f, .epochs = 100, .batch = 32, .lambda = 1e-3f, .seed = 1};

typedef struct {
  nn_tensor X_train, X_test;
  int *y_train, *y_test;
} split_data;

static split_data split_rows(const nn_tensor *X, const int *y, const nn_split *s) {
  return (split_data){nn_take_rows(X, s->train, s->n_train), nn_take_rows(X, s->test, s->n_test),
                      nn_take_labels(y, X->shape[0], s->train, s->n_train),
                      nn_take_labels(y, X->shape[0], s->test, s->n_test)};
}

static void split_free(split_data *d) {
  nn_tensor_free(&d->X_train), nn_tensor_free(&d->X_test);
  free(d->y_train), free(d->y_test);
}

/* Standardise both parts with the train part's mean and std: the test rows must
 * not shape the scaling, or their statistics leak into training. */
static void standardize(split_data *d) {
  nn_scaler sc = nn_standard_scaler_fit(&d->X_train);
  nn_scaler_transform(&sc, &d->X_train, &d->X_train);
  nn_scaler_transform(&sc, &d->X_test, &d->X_test);
  nn_scaler_free(&sc);
}

static void print_scores(const char *model, const char *scaling, const int *y, const int *yhat,
                         const float *score, int n, double seconds) {
  char auc[16] = "     -"; /* the perceptron gives a class, not a score to rank by */
  if (score) snprintf(auc, sizeof auc, "%6.3f", nn_roc_auc(y, score, n));
  printf("   %-20s %-8s %8.1f%% %9.3f %7.3f %6.3f %s %7.0f ms\n", model, scaling,
         100 * nn_accuracy(y, yhat, n), nn_precision(y, yhat, n), nn_recall(y, yhat, n), nn_f1(y, yhat, n), auc,
         1e3 * seconds);
}

static void run_perceptron(const split_data *d, const char *scaling) {
  double t0 = nn_seconds();
  nn_perceptron p = nn_perceptron_new(d->X_train.shape[1]);
  nn_perceptron_fit(&p, &d->X_train, d->y_train, &(nn_perceptron_options){.lr = 1.f, .max_epochs = 100, .seed = 1},
                    NULL);
  int n = d->X_test.shape[0], *yhat = malloc(n * sizeof(int));
  nn_perceptron_predict(&p, &d->X_test, yhat);
  print_scores("perceptron", scaling, d->y_test, yhat, NULL, n, nn_seconds() - t0);
  free(yhat);
  nn_perceptron_free(&p);
}

/* Fits logistic regression on the train part; p (n_test) gets the test probabilities. */
static void run_logistic(const split_data *d, const char *scaling, float *p, float *history) {
  double t0 = nn_seconds();
  nn_logistic m = nn_logistic_new(d->X_train.shape[1]);
  nn_logistic_fit(&m, &d->X_train, d->y_train, &LOGREG, history);
  int n = d->X_test.shape[0], *yhat = malloc(n * sizeof(int));
  nn_logistic_predict_proba(&m, &d->X_test, p);
  nn_logistic_predict(&m, &d->X_test, yhat);
  print_scores("logistic regression", scaling, d->y_test, yhat, p, n, nn_seconds() - t0);
  free(yhat);
  nn_logistic_free(&m);
}

static void plot_roc(const int *y, const float *p, int n) {
  float *fpr = malloc((n + 1) * sizeof(float)), *tpr = malloc((n + 1) * sizeof(float));
  int points = nn_roc_curve(y, p, n, fpr, tpr, NULL);
  float diag[2] = {0, 1};
  char label[64];
  snprintf(label, sizeof label, "logistic regression (AUC %.3f)", nn_roc_auc(y, p, n));
  nn_series s[2] = {{.label = label, .x = fpr, .y = tpr, .n = points},
                    {.label = "chance", .x = diag, .y = diag, .n = 2}};
  nn_plot_style style = {.title = "ROC curve, breast cancer test set", .xlabel = "false positive rate",
                         .ylabel = "true positive rate"};
  nn_error err = {0};
  say_plot(nn_plot_lines(OUT_DIR "/roc.png", &style, s, 2, &err), OUT_DIR "/roc.png", &err);
  free(fpr), free(tpr);
}

/* Stratified 5-fold CV of scaled logistic regression; the scaler is refitted inside each fold. */
static void cross_validate(const nn_tensor *X, const int *y) {
  enum { K = 5 };
  int N = X->shape[0], *fold = malloc(N * sizeof(int));
  nn_rng rng = nn_rng_new(42);
  nn_stratified_kfold(y, N, 2, K, &rng, fold);
  printf("\n5-fold stratified cross-validation, logistic regression (scaler fitted per fold):\n   fold ");
  double acc[K], mean = 0, var = 0;
  for (int k = 0; k < K; k++) {
    nn_split s = {.train = malloc(N * sizeof(int)), .test = malloc(N * sizeof(int))};
    for (int i = 0; i < N; i++) {
      if (fold[i] == k) s.test[s.n_test++] = i;
      else s.train[s.n_train++] = i;
    }
    split_data d = split_rows(X, y, &s);
    standardize(&d);
    nn_logistic m = nn_logistic_new(X->shape[1]);
    nn_logistic_fit(&m, &d.X_train, d.y_train, &LOGREG, NULL);
    int *yhat = malloc(s.n_test * sizeof(int));
    nn_logistic_predict(&m, &d.X_test, yhat);
    acc[k] = nn_accuracy(d.y_test, yhat, s.n_test);
    mean += acc[k] / K;
    printf(" %d: %.1f%%", k + 1, 100 * acc[k]);
    free(yhat), nn_logistic_free(&m), split_free(&d), nn_split_free(&s);
  }
  for (int k = 0; k < K; k++) var += (acc[k] - mean) * (acc[k] - mean) / (K - 1);
  printf("\n   mean %.1f%% +- %.1f%% (sample std over the folds)\n", 100 * mean, 100 * sqrt(var));
  free(fold);
}

int cmd_logreg(int argc, char **argv) {
  if (!demo_cpu_only_options("logreg", argc, argv)) return 2;
  make_out_dir();
  nn_tensor X;
  int *y;
  if (!load_table(BREAST_CANCER, 2, &X, &y)) return 1;
  nn_rng rng = nn_rng_new(42);
  nn_split s = nn_train_test_split(X.shape[0], 0.2, y, 2, &rng);
  printf("Breast cancer: %d tumours x %d features; stratified split %d train / %d test (seed 42)\n\n",
         X.shape[0], X.shape[1], s.n_train, s.n_test);
  printf("   %-20s %-8s %9s %9s %7s %6s %6s %10s\n", "model", "scaling", "accuracy", "precision", "recall",
         "F1", "AUC", "time");
  split_data raw = split_rows(&X, y, &s), scaled = split_rows(&X, y, &s);
  standardize(&scaled);
  float *p = malloc(s.n_test * sizeof(float)), history[100];
  run_perceptron(&raw, "none");
  run_perceptron(&scaled, "standard");
  run_logistic(&raw, "none", p, NULL);
  run_logistic(&scaled, "standard", p, history);
  float lo = INFINITY, lo_positive = INFINITY, hi = -INFINITY; /* the span of the raw features */
  for (long i = 0; i < nn_numel(&X); i++) {
    float v = X.data[i];
    lo = fminf(lo, v), hi = fmaxf(hi, v);
    if (v > 0) lo_positive = fminf(lo_positive, v);
  }
  printf("   (positive class: 1 = benign; the features span %g (the smallest above 0: %.2g) to %.0f, so\n"
         "   unscaled gradient steps are dominated by the largest columns)\n", lo, lo_positive, hi);
  plot_roc(scaled.y_test, p, s.n_test);
  nn_series curve = {.label = "mean training loss", .y = history, .n = LOGREG.epochs};
  nn_plot_style style = {.title = "Logistic regression, breast cancer (scaled)", .xlabel = "epoch",
                         .ylabel = "binary cross-entropy", .log_y = true};
  nn_error err = {0};
  say_plot(nn_plot_lines(OUT_DIR "/logreg_loss.png", &style, &curve, 1, &err), OUT_DIR "/logreg_loss.png", &err);
  cross_validate(&X, y);
  free(p), split_free(&raw), split_free(&scaled), nn_split_free(&s), nn_tensor_free(&X), free(y);
  return 0;
}

/* ---- nn softmax: iris (150 x 4, 3 species) and digits (1797 x 64 pixels 0..16, 10 digits) */

static void print_confusion(const int *cm, int C) {
  printf("   true \\ predicted");
  for (int p = 0; p < C; p++) printf("%5d", p);
  printf("\n");
  for (int t = 0; t < C; t++) {
    printf("   %17d", t);
    for (int p = 0; p < C; p++) printf("%5d", cm[t * C + p]);
    printf("\n");
  }
}

static void softmax_on(const char *name, const char *path, int C, const nn_gd_options *opt, bool show_cm) {
  nn_tensor X;
  int *y;
  if (!load_table(path, C, &X, &y)) return;
  nn_rng rng = nn_rng_new(42);
  nn_split s = nn_train_test_split(X.shape[0], 0.2, y, C, &rng);
  split_data d = split_rows(&X, y, &s);
  standardize(&d);
  double t0 = nn_seconds();
  nn_softmax_reg m = nn_softmax_reg_new(X.shape[1], C);
  nn_softmax_reg_fit(&m, &d.X_train, d.y_train, opt, NULL);
  int *yhat = malloc(s.n_test * sizeof(int)), *cm = malloc(C * C * sizeof(int));
  nn_softmax_reg_predict(&m, &d.X_test, yhat);
  double seconds = nn_seconds() - t0;
  nn_confusion_matrix(d.y_test, yhat, s.n_test, C, cm);
  printf("%s: %d x %d, %d classes, %d train / %d test: test accuracy %.1f%%, macro F1 %.3f (%.0f ms)\n", name,
         X.shape[0], X.shape[1], C, s.n_train, s.n_test, 100 * nn_accuracy(d.y_test, yhat, s.n_test),
         nn_prf_multiclass(d.y_test, yhat, s.n_test, C, NN_MACRO).f1, 1e3 * seconds);
  if (show_cm) print_confusion(cm, C);
  free(yhat), free(cm), nn_softmax_reg_free(&m), split_free(&d), nn_split_free(&s);
  nn_tensor_free(&X), free(y);
}

int cmd_softmax(int argc, char **argv) {
  if (!demo_cpu_only_options("softmax", argc, argv)) return 2;
  printf("Softmax regression: one weight row per class, p = softmax(W x + b), cross-entropy loss.\n\n");
  softmax_on("iris", "datasets/tabular/iris.csv.gz", 3,
             &(nn_gd_options){.lr = 0.1f, .epochs = 200, .batch = 16, .lambda = 1e-3f, .seed = 1}, false);
  softmax_on("digits", "datasets/tabular/digits.csv.gz", 10,
             &(nn_gd_options){.lr = 0.1f, .epochs = 50, .batch = 32, .lambda = 1e-3f, .seed = 1}, true);
  return 0;
}

/* ---- nn imbalance: a rare class, and four ways to train on it */

/* Logistic regression on (X, y), tested on d's test part: accuracy, and precision, recall
 * and F1 of the rare class (malignant, label 0), the numbers imbalance hurts. */
static void imbalance_row(const char *how, const nn_tensor *X, const int *y, const split_data *d) {
  nn_logistic m = nn_logistic_new(X->shape[1]);
  nn_logistic_fit(&m, X, y, &LOGREG, NULL);
  int n = d->X_test.shape[0], *yhat = malloc(n * sizeof(int)), cm[4];
  nn_logistic_predict(&m, &d->X_test, yhat);
  nn_confusion_matrix(d->y_test, yhat, n, 2, cm);
  nn_class_report rare = nn_class_report_from_cm(cm, 2, 0);
  int rare_rows = 0;
  for (int i = 0; i < X->shape[0]; i++) rare_rows += y[i] == 0;
  printf("   %-26s %5d %6d %8.1f%% %9.3f %7.3f %6.3f\n", how, X->shape[0], rare_rows, 100 * nn_accuracy(d->y_test, yhat, n),
         rare.precision, rare.recall, rare.f1);
  free(yhat);
  nn_logistic_free(&m);
}

int cmd_imbalance(int argc, char **argv) {
  if (!demo_cpu_only_options("imbalance", argc, argv)) return 2;
  nn_tensor X;
  int *y;
  if (!load_table(BREAST_CANCER, 2, &X, &y)) return 1;
  nn_rng rng = nn_rng_new(42);
  nn_split s = nn_train_test_split(X.shape[0], 0.2, y, 2, &rng);
  split_data d = split_rows(&X, y, &s);
  /* the training part made rare: every benign tumour, every 10th malignant one */
  int n = d.X_train.shape[0], kept = 0, seen_malignant = 0, *rows = malloc(n * sizeof(int));
  for (int i = 0; i < n; i++)
    if (d.y_train[i] == 1 || seen_malignant++ % 10 == 0) rows[kept++] = i;
  nn_tensor X_rare = nn_take_rows(&d.X_train, rows, kept);
  int *y_rare = nn_take_labels(d.y_train, n, rows, kept);
  nn_scaler sc = nn_standard_scaler_fit(&X_rare); /* the training rows one has, rare class and all */
  nn_scaler_transform(&sc, &X_rare, &X_rare), nn_scaler_transform(&sc, &d.X_test, &d.X_test);
  printf("Breast cancer with the malignant class made rare in training: every benign tumour and every\n"
         "10th malignant one (%d rows); the test set keeps its real mix. Logistic regression, scaled.\n\n", kept);
  printf("   %-26s %5s %6s %9s   malignant: %s\n", "training set", "rows", "rare", "accuracy", "precision recall     F1");
  imbalance_row("as it is", &X_rare, y_rare, &d);
  const struct {
    const char *how;
    int *(*resample)(const int *y, int n, int C, nn_rng *rng, int *m); /* row indices, from nn_sampling.h */
  } samplers[] = {{"random under-sampling", nn_undersample}, {"random over-sampling", nn_oversample}};
  for (int k = 0; k < 2; k++) {
    int m, *idx = samplers[k].resample(y_rare, kept, 2, &rng, &m);
    nn_tensor Xk = nn_take_rows(&X_rare, idx, m);
    int *yk = nn_take_labels(y_rare, kept, idx, m);
    imbalance_row(samplers[k].how, &Xk, yk, &d);
    free(idx), free(yk), nn_tensor_free(&Xk);
  }
  nn_tensor Xs;
  int *ys;
  nn_error err = {0};
  if (nn_smote(&X_rare, y_rare, 2, 5, &rng, &Xs, &ys, &err) != NN_OK) {
    fprintf(stderr, "nn imbalance: %s\n", err.msg);
    return 1;
  }
  imbalance_row("SMOTE (k = 5)", &Xs, ys, &d);
  free(ys), nn_tensor_free(&Xs);
  printf("\n   Trained as it is, the model misses more of the rare class: its recall is what suffers,\n"
         "   and accuracy does not show it. Each resampling gives that class the same weight in the\n"
         "   loss, trading some precision for recall; the test set is never resampled.\n");
  nn_scaler_free(&sc), free(rows), free(y_rare), nn_tensor_free(&X_rare);
  split_free(&d), nn_split_free(&s), free(y), nn_tensor_free(&X);
  return 0;
}
