/* nn xor | mnist | fashion | activations: chapter 02's demos, multi-layer perceptrons.
 *
 *   xor          a 2-2-1 network learns XOR, which no single perceptron can
 *   mnist        784-512-10 on the bundled MNIST sample (8,000 train / 2,000 test)
 *   fashion      the same network on the Fashion-MNIST sample
 *   activations  sigmoid+SGD vs ReLU+SGD vs ReLU+Adam: three loss curves, one picture;
 *                then every activation on the same deep net
 *   optimizers   the seven optimizers on one MLP: a table and the loss curves
 * Pictures go to build/ch02/. Every number comes from a seeded run.
 * Options: --epochs N, --gpu (train on the GPU when there is one), --no-augment (mnist, fashion). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_activation_layer.h"
#include "nn_augment.h"
#include "nn_batches.h"
#include "nn_csv.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_fit.h"
#include "nn_flatten.h"
#include "nn_idx.h"
#include "nn_linreg.h"
#include "nn_metrics.h"
#include "nn_model.h"
#include "nn_perceptron.h"
#include "nn_plot.h"
#include "nn_progress.h"
#include "nn_rng.h"
#include "nn_scaler.h"
#include "nn_split.h"

#define OUT_DIR "build/ch02"

static void make_out_dir(void) {
  mkdir("build", 0755);
  mkdir(OUT_DIR, 0755);
}

enum { MAX_CURVE = 64 }; /* epochs drawn per curve */

/* x = 1, 2, ..., MAX_CURVE: a curve's epoch numbers. */
static void epoch_numbers(float *x) {
  for (int i = 0; i < MAX_CURVE; i++) x[i] = (float)(i + 1);
}

static void say_plot(nn_status st, const char *png, const nn_error *err) {
  if (st == NN_OK)
    printf("   picture: %s\n", png);
  else
    printf("   note: %s\n", err->msg);
}

/* --epochs N and --gpu, the options every demo here takes. */
typedef struct {
  int epochs; /* 0: the demo's own */
  bool gpu;
  bool no_augment; /* mnist, fashion: train on the images as they are */
} demo_options;

static bool parse_options(const char *cmd, int argc, char **argv, demo_options *o) {
  *o = (demo_options){0};
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--gpu")) {
      o->gpu = true;
    } else if (!strcmp(argv[i], "--no-augment")) {
      o->no_augment = true;
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
      o->epochs = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: nn %s [--epochs N] [--gpu] [--no-augment]\n", cmd);
      return false;
    }
  }
  o->gpu = demo_device(o->gpu) == NN_GPU;
  return true;
}

/* ---- nn xor */

static nn_model *xor_net(nn_rng *rng) {
  nn_model *m = nn_model_new("xor", 1, (int[]){2});
  nn_model_add(m, &nn_dense_new("hidden", 2, 2, NN_INIT_XAVIER, rng)->base);
  nn_model_add(m, nn_activation_layer_new(NULL, nn_activation_of(NN_ACT_TANH)));
  nn_model_add(m, &nn_dense_new("out", 2, 1, NN_INIT_XAVIER, rng)->base);
  return m;
}

int cmd_xor(int argc, char **argv) {
  demo_options o;
  if (!parse_options("xor", argc, argv, &o)) return 2;
  static const float corners[8] = {0, 0, 0, 1, 1, 0, 1, 1};
  static const int y[4] = {0, 1, 1, 0};
  nn_tensor X = nn_tensor_from(2, (int[]){4, 2}, corners);

  printf("== XOR with one perceptron (chapter 01)\n");
  nn_perceptron p = nn_perceptron_new(2);
  nn_perceptron_fit(&p, &X, y, &(nn_perceptron_options){.lr = 1.f, .max_epochs = 100, .seed = 1}, NULL);
  int pred[4];
  nn_perceptron_predict(&p, &X, pred);
  printf("   after 100 epochs it gets %.0f%% right: no line separates {01, 10} from {00, 11}\n",
         100 * nn_accuracy(y, pred, 4));
  nn_perceptron_free(&p);

  printf("== XOR with a 2-2-1 network: Dense(2) tanh Dense(1), BCE on the logit, Adam lr 0.05\n");
  nn_rng rng = nn_rng_new(7);
  nn_model *m = xor_net(&rng);
  nn_optim_config cfg = nn_optim_defaults(NN_ADAM);
  cfg.lr = 0.05f;
  nn_model_compile(m, NN_LOSS_BCE, NN_ADAM, &cfg);
  if (o.gpu) nn_model_to(m, NN_GPU);
  nn_model_summary(m, stdout);
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = o.epochs ? o.epochs : 500, fo.batch_size = 4, fo.verbose = 0;
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &X, y, NULL, &fo);
  for (int e = 0; e < h.epochs; e += h.epochs / 5) printf("   epoch %4d  loss %.4f\n", e + 1, h.loss[e]);
  printf("   epoch %4d  loss %.4f   (%.2f s)\n", h.epochs, h.loss[h.epochs - 1], nn_seconds() - t0);
  nn_tensor z = nn_tensor_new(2, (int[]){4, 1}, NN_CPU);
  nn_model_predict(m, &X, &z, 4);
  for (int i = 0; i < 4; i++)
    printf("   x = (%g, %g)  p(1) = %.3f  want %d\n", corners[2 * i], corners[2 * i + 1], 1 / (1 + exp(-z.data[i])),
           y[i]);
  printf("   The two tanh units draw two lines; the output unit combines the half-planes,\n"
         "   which is what a single line cannot do.\n");
  nn_eval e = nn_model_evaluate(m, &X, y, NULL, 4);
  printf("   accuracy %.0f%%\n", 100 * e.accuracy);
  nn_tensor_free(&z), nn_history_free(&h), nn_model_free(m), nn_tensor_free(&X);
  return e.accuracy == 1.0 ? 0 : 1;
}

/* ---- nn mnist, nn fashion */

/* Dense layers sizes[0] -> ... -> sizes[n-1] with `act` between them, none after the last
 * (logits, or a regression's real number). */
static void add_dense_stack(nn_model *m, const int *sizes, int n, nn_activation act, nn_rng *rng) {
  bool relu_like = act.kind != NN_ACT_SIGMOID && act.kind != NN_ACT_TANH;
  for (int i = 0; i + 1 < n; i++) {
    char dname[32], aname[32];
    snprintf(dname, sizeof dname, "dense%d", i + 1);
    bool last = i + 2 == n;
    /* He for ReLU (keeps the variance of ReLU outputs), Xavier for sigmoid/tanh and the output */
    nn_init init = relu_like && !last ? NN_INIT_HE : NN_INIT_XAVIER;
    nn_model_add(m, &nn_dense_new(dname, sizes[i], sizes[i + 1], init, rng)->base);
    if (last) break;
    snprintf(aname, sizeof aname, "%s%d", nn_activation_name(act.kind), i + 1);
    nn_model_add(m, nn_activation_layer_new(aname, act));
  }
}

/* Flatten a 28 x 28 image, then the Dense stack: sizes[0] = 784 inputs ... sizes[n-1] logits. */
static nn_model *mlp(const char *name, const int *sizes, int n, nn_activation act, nn_rng *rng) {
  nn_model *m = nn_model_new(name, 3, (int[]){1, 28, 28});
  nn_model_add(m, nn_flatten_new("flatten"));
  add_dense_stack(m, sizes, n, act, rng);
  return m;
}

static int image_demo(const char *cmd, const char *dir, const char *what, const char *const *class_names,
                      int argc, char **argv) {
  demo_options o;
  if (!parse_options(cmd, argc, argv, &o)) return 2;
  demo_images d;
  if (!demo_load_images(dir, &d)) return 1;
  printf("== %s: %d train / %d test images from %s\n", what, d.X_train.shape[0], d.X_test.shape[0], dir);
  nn_rng rng = nn_rng_new(42);
  nn_model *m = mlp(cmd, (int[]){784, 512, 10}, 3, nn_activation_of(NN_ACT_RELU), &rng);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  if (o.gpu) nn_model_to(m, NN_GPU);
  nn_model_summary(m, stdout);
  printf("   Adam lr 1e-3, batch 64, the last 10%% of the training images held out for validation,\n"
         "   %s%s\n", o.no_augment ? "the images as they are (--no-augment)"
                                    : "every training image shifted by up to 1 pixel each epoch (nn_augment.h)",
         o.gpu ? ", on the GPU" : "");

  nn_early_stopping es = nn_early_stopping_make("val_loss", 3, true);
  nn_model_checkpoint ck = nn_model_checkpoint_make(OUT_DIR "/best.ckpt", "val_accuracy", true);
  nn_callback *cbs[] = {&es.base, &ck.base};
  nn_fit_options fo = nn_fit_defaults();
  int shift = 1;
  fo.epochs = o.epochs ? o.epochs : 20, fo.batch_size = 64, fo.validation_split = 0.1;
  fo.callbacks = cbs, fo.n_callbacks = 2;
  if (!o.no_augment) fo.augment = nn_augment_random_shift, fo.augment_ctx = &shift;
  make_out_dir();
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &d.X_train, d.y_train, NULL, &fo);
  double train_s = nn_seconds() - t0;
  if (h.stopped && h.status == NN_OK)
    printf("   EarlyStopping: val_loss last improved at epoch %d; stopped after epoch %d, best weights restored\n",
           es.best_epoch + 1, es.stopped_epoch + 1);
  else if (h.status == NN_OK)
    printf("   EarlyStopping: patience never ran out; the best epoch (%d, val_loss %.4f) is the one kept\n",
           es.best_epoch + 1, es.best);
  printf("   ModelCheckpoint: %d saves; %s holds epoch %d (val_accuracy %.4f)\n", ck.saves, ck.path,
         ck.best_epoch + 1, ck.best);

  nn_eval test = nn_model_evaluate(m, &d.X_test, d.y_test, NULL, 256);
  printf("   test: loss %.4f  accuracy %.2f%%   (training took %.1f s)\n", test.loss, 100 * test.accuracy,
         train_s);
  int *pred = nn_xcalloc((size_t)d.X_test.shape[0], sizeof(int), "predictions");
  nn_model_predict_classes(m, &d.X_test, pred, 256);
  int cm[100];
  nn_confusion_matrix(d.y_test, pred, d.X_test.shape[0], 10, cm);
  printf("   per class (recall):");
  for (int c = 0; c < 10; c++) {
    int row = 0;
    for (int k = 0; k < 10; k++) row += cm[c * 10 + k];
    printf("%s %s %.0f%%", c ? "," : "", class_names[c], 100.0 * cm[c * 10 + c] / (row ? row : 1));
  }
  printf("\n");

  float loss[MAX_CURVE], val_loss[MAX_CURVE], epoch_x[MAX_CURVE];
  epoch_numbers(epoch_x);
  int n = h.epochs < MAX_CURVE ? h.epochs : MAX_CURVE;
  for (int e = 0; e < n; e++) loss[e] = (float)h.loss[e], val_loss[e] = (float)h.val_loss[e];
  nn_series s[2] = {{"train loss", epoch_x, loss, n, false}, {"validation loss", epoch_x, val_loss, n, false}};
  char png[64], title[96];
  snprintf(png, sizeof png, OUT_DIR "/%s_loss.png", cmd);
  snprintf(title, sizeof title, "%s, 784-512-10 ReLU, Adam", what);
  nn_error err = {0};
  say_plot(nn_plot_lines(png, &(nn_plot_style){title, "epoch", "cross-entropy", true}, s, 2, &err), png, &err);

  free(pred), nn_history_free(&h), nn_model_free(m), demo_free_images(&d);
  return 0;
}

int cmd_mnist(int argc, char **argv) {
  static const char *const digits[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return image_demo("mnist", "datasets/mnist-10k", "MNIST", digits, argc, argv);
}

int cmd_fashion(int argc, char **argv) {
  static const char *const clothes[10] = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                          "sandal",  "shirt",   "sneaker",  "bag",   "boot"};
  return image_demo("fashion", "datasets/fashion-mnist-10k", "Fashion-MNIST", clothes, argc, argv);
}

/* ---- nn activations: why ReLU and Adam */

/* What one comparison run measured. */
typedef struct {
  double loss, accuracy, seconds; /* final train loss, test accuracy, training time */
} run_result;

/* Fit m for `epochs` (batch 64, quiet) on the training images and test it; the
 * per-epoch train loss goes to curve (MAX_CURVE floats) unless NULL. */
static run_result train_and_test(nn_model *m, const demo_images *d, int epochs, bool gpu, float *curve) {
  if (gpu) nn_model_to(m, NN_GPU);
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = 64, fo.verbose = 0;
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &d->X_train, d->y_train, NULL, &fo);
  run_result r = {.loss = h.loss[h.epochs - 1], .seconds = nn_seconds() - t0};
  r.accuracy = nn_model_evaluate(m, &d->X_test, d->y_test, NULL, 256).accuracy;
  for (int e = 0; curve && e < h.epochs && e < MAX_CURVE; e++) curve[e] = (float)h.loss[e];
  nn_history_free(&h);
  return r;
}

/* Mean |dW| of the first Dense layer over one batch: how much signal reaches the bottom. */
static double first_layer_grad(nn_model *m, const nn_tensor *X, const int *y) {
  nn_tensor xb = *X;
  xb.shape[0] = 256;
  nn_model_gradients(m, &xb, y, NULL, NULL); /* no step: training starts from the same weights */
  nn_param *W = &m->params[0];
  double s = 0;
  long n = nn_numel(W->grad);
  nn_tensor g = nn_tensor_to(W->grad, NN_CPU);
  for (long i = 0; i < n; i++) s += fabs(g.data[i]);
  nn_tensor_free(&g);
  return s / n;
}

int cmd_activations(int argc, char **argv) {
  demo_options o;
  if (!parse_options("activations", argc, argv, &o)) return 2;
  demo_images d;
  if (!demo_load_images("datasets/mnist-10k", &d)) return 1;
  const int sizes[] = {784, 128, 128, 128, 128, 10};
  struct {
    const char *label;
    nn_activation_kind act;
    nn_optim_kind opt;
    float lr;
  } runs[3] = {{"sigmoid + SGD", NN_ACT_SIGMOID, NN_SGD, 0.05f},
               {"ReLU + SGD", NN_ACT_RELU, NN_SGD, 0.05f},
               {"ReLU + Adam", NN_ACT_RELU, NN_ADAM, 1e-3f}};
  int epochs = o.epochs ? o.epochs : 10, table_epochs = o.epochs ? o.epochs : 5;
  float curves[3][MAX_CURVE], epoch_x[MAX_CURVE];
  epoch_numbers(epoch_x);
  printf("== MNIST, 784-128-128-128-128-10, batch 64, %d epochs, the same seed for each run\n", epochs);
  printf("   %-14s %14s %12s %12s\n", "run", "mean |dW1| at 0", "final loss", "test acc");
  for (int r = 0; r < 3; r++) {
    nn_rng rng = nn_rng_new(42);
    nn_model *m = mlp("deep", sizes, 6, nn_activation_of(runs[r].act), &rng);
    nn_optim_config cfg = nn_optim_defaults(runs[r].opt);
    cfg.lr = runs[r].lr;
    nn_model_compile(m, NN_LOSS_SPARSE_CE, runs[r].opt, &cfg);
    if (o.gpu) nn_model_to(m, NN_GPU);
    double g0 = first_layer_grad(m, &d.X_train, d.y_train);
    run_result res = train_and_test(m, &d, epochs, false, curves[r]);
    printf("   %-14s %14.2e %12.4f %11.2f%%\n", runs[r].label, g0, res.loss, 100 * res.accuracy);
    nn_model_free(m);
  }
  printf("   Sigmoid's slope is at most 1/4, so each layer shrinks the gradient on its way down:\n"
         "   the first layer of the sigmoid net gets far less signal and SGD barely moves it.\n"
         "   ReLU passes the gradient unchanged where it is active; Adam rescales every step.\n");
  printf("\n   Every activation, the same deep net with Adam (lr 1e-3), %d epochs:\n", table_epochs);
  printf("   %-12s %12s %12s %10s\n", "activation", "final loss", "test acc", "seconds");
  for (int k = 0; k < NN_ACT_COUNT; k++) {
    nn_rng rng = nn_rng_new(42);
    nn_model *m = mlp("deep", sizes, 6, nn_activation_of((nn_activation_kind)k), &rng);
    nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
    run_result res = train_and_test(m, &d, table_epochs, o.gpu, NULL);
    printf("   %-12s %12.4f %11.2f%% %10.1f\n", nn_activation_name((nn_activation_kind)k), res.loss,
           100 * res.accuracy, res.seconds);
    nn_model_free(m);
  }
  make_out_dir();
  nn_series s[3];
  for (int r = 0; r < 3; r++) s[r] = (nn_series){runs[r].label, epoch_x, curves[r], epochs < MAX_CURVE ? epochs : MAX_CURVE, false};
  nn_error err = {0};
  say_plot(nn_plot_lines(OUT_DIR "/activations.png",
                         &(nn_plot_style){"MNIST, 4 hidden layers of 128", "epoch", "train loss", true}, s, 3, &err),
           OUT_DIR "/activations.png", &err);
  demo_free_images(&d);
  return 0;
}

/* ---- nn optimizers: the seven update rules on one problem */

int cmd_optimizers(int argc, char **argv) {
  demo_options o;
  if (!parse_options("optimizers", argc, argv, &o)) return 2;
  demo_images d;
  if (!demo_load_images("datasets/mnist-10k", &d)) return 1;
  int epochs = o.epochs ? o.epochs : 10;
  const int sizes[] = {784, 128, 10};
  /* Each at PyTorch's default lr, except plain SGD, momentum and Nesterov, whose
   * default 1e-3 is far too timid for this problem: 0.05 and 0.01 are the usual picks. */
  struct {
    nn_optim_kind kind;
    float lr;
  } runs[] = {{NN_SGD, 0.05f},     {NN_MOMENTUM, 0.01f}, {NN_NESTEROV, 0.01f}, {NN_ADAGRAD, 1e-2f},
              {NN_RMSPROP, 1e-3f}, {NN_ADAM, 1e-3f},     {NN_ADAMW, 1e-3f}};
  enum { RUNS = sizeof runs / sizeof runs[0] };
  float curves[RUNS][MAX_CURVE], epoch_x[MAX_CURVE];
  epoch_numbers(epoch_x);
  nn_series s[RUNS];
  printf("== MNIST, 784-128-10 ReLU, batch 64, %d epochs, the same initial weights for each optimizer\n", epochs);
  printf("   %-10s %8s %12s %12s %10s\n", "optimizer", "lr", "final loss", "test acc", "seconds");
  for (int r = 0; r < RUNS; r++) {
    nn_rng rng = nn_rng_new(42);
    nn_model *m = mlp("opt", sizes, 3, nn_activation_of(NN_ACT_RELU), &rng);
    nn_optim_config cfg = nn_optim_defaults(runs[r].kind);
    cfg.lr = runs[r].lr;
    nn_model_compile(m, NN_LOSS_SPARSE_CE, runs[r].kind, &cfg);
    run_result res = train_and_test(m, &d, epochs, o.gpu, curves[r]);
    s[r] = (nn_series){nn_optim_name(runs[r].kind), epoch_x, curves[r], epochs < MAX_CURVE ? epochs : MAX_CURVE, false};
    printf("   %-10s %8g %12.4f %11.2f%% %10.1f\n", nn_optim_name(runs[r].kind), runs[r].lr, res.loss,
           100 * res.accuracy, res.seconds);
    nn_model_free(m);
  }
  make_out_dir();
  nn_error err = {0};
  say_plot(nn_plot_lines(OUT_DIR "/optimizers.png",
                         &(nn_plot_style){"MNIST, 784-128-10 ReLU", "epoch", "train loss", true}, s, RUNS, &err),
           OUT_DIR "/optimizers.png", &err);
  demo_free_images(&d);
  return 0;
}

/* ---- nn regression: where the course's notes begin deep learning, a number to predict */

#define DIABETES "datasets/tabular/diabetes.csv.gz"

/* The Dense stack with ReLU between on vectors of sizes[0]; no activation after the last:
 * a regression output is any real number. */
static nn_model *regressor(const char *name, const int *sizes, int n, nn_rng *rng) {
  nn_model *m = nn_model_new(name, 1, (int[]){sizes[0]});
  add_dense_stack(m, sizes, n, nn_activation_of(NN_ACT_RELU), rng);
  return m;
}

static void print_scores(const char *model, const float *y, const float *yhat, int n) {
  printf("   %-48s %9.1f %7.2f %7.2f %7.3f\n", model, nn_mse(y, yhat, n), nn_rmse(y, yhat, n), nn_mae(y, yhat, n),
         nn_r2(y, yhat, n));
}

/* A model trained on standardised targets predicts in those units: back to the original ones. */
static void predict_in_units(nn_model *m, const nn_tensor *X, const nn_scaler *y_scale, float *yhat) {
  int n = X->shape[0];
  nn_tensor out = nn_tensor_new(2, (int[]){n, 1}, NN_CPU);
  nn_model_predict(m, X, &out, 256);
  nn_scaler_inverse_transform(y_scale, &out, &out);
  memcpy(yhat, out.data, sizeof *yhat * (size_t)n);
  nn_tensor_free(&out);
}

static nn_history fit_regressor(nn_model *m, const nn_tensor *X, const nn_tensor *Y, int epochs, int batch) {
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = batch, fo.verbose = 0;
  return nn_model_fit(m, X, NULL, Y, &fo);
}

int cmd_regression(int argc, char **argv) {
  demo_options o;
  if (!parse_options("regression", argc, argv, &o)) return 2;
  nn_table t;
  nn_error err = {0};
  if (nn_csv_load(DIABETES, &(nn_csv_options){.target = "target"}, &t, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
    return 1;
  }
  int N = t.rows, D = t.features;
  nn_rng rng = nn_rng_new(42);
  nn_split s = nn_train_test_split(N, 0.2, NULL, 0, &rng);
  nn_tensor X_train = nn_take_rows(&t.x, s.train, s.n_train), X_test = nn_take_rows(&t.x, s.test, s.n_test);
  nn_tensor Y_train = nn_tensor_new(2, (int[]){s.n_train, 1}, NN_CPU), Y_test = nn_tensor_new(2, (int[]){s.n_test, 1}, NN_CPU);
  for (int i = 0; i < s.n_train; i++) Y_train.data[i] = t.y.data[s.train[i]];
  for (int i = 0; i < s.n_test; i++) Y_test.data[i] = t.y.data[s.test[i]];
  nn_scaler x_scale = nn_standard_scaler_fit(&X_train), y_scale = nn_standard_scaler_fit(&Y_train);
  nn_scaler_transform(&x_scale, &X_train, &X_train), nn_scaler_transform(&x_scale, &X_test, &X_test);
  nn_tensor Ys_train = nn_tensor_new(2, Y_train.shape, NN_CPU); /* the targets the networks train on */
  nn_scaler_transform(&y_scale, &Y_train, &Ys_train);
  const float *y = Y_test.data;
  int n = s.n_test;
  float *mean = nn_xmalloc(sizeof(float) * (size_t)n * 4, "nn regression: predictions");
  float *linear = mean + n, *gd = linear + n, *net = gd + n;

  float lo = t.y.data[0], hi = t.y.data[0];
  for (int i = 1; i < N; i++) lo = fminf(lo, t.y.data[i]), hi = fmaxf(hi, t.y.data[i]);
  printf("== Regression on the diabetes data: %d patients x %d features; the target is the disease's\n"
         "   progression a year later (%g to %g). Split 80/20 (seed 42): %d train / %d test; features\n"
         "   standardised with the training rows' mean and std.\n", N, D, lo, hi, s.n_train, n);
  printf("   %-48s %9s %7s %7s %7s\n", "model (test set)", "MSE", "RMSE", "MAE", "R^2");
  double y_bar = y_scale.shift[0];
  for (int i = 0; i < n; i++) mean[i] = (float)y_bar;
  print_scores("the training mean, for every patient", y, mean, n);

  nn_linreg ne;
  if (nn_linreg_fit(&X_train, Y_train.data, 0, &ne, &err) != NN_OK) {
    fprintf(stderr, "nn regression: %s\n", err.msg);
    return 1;
  }
  nn_linreg_predict(&ne, &X_test, linear);
  print_scores("linear, normal equations (closed form)", y, linear, n);

  /* The same linear model, Dense(D -> 1), by full-batch gradient descent on the MSE */
  int gd_epochs = o.epochs ? o.epochs : 2000;
  nn_model *lin = regressor("linear", (int[]){D, 1}, 2, &rng);
  nn_optim_config sgd = nn_optim_defaults(NN_SGD);
  sgd.lr = 0.1f;
  nn_model_compile(lin, NN_LOSS_MSE, NN_SGD, &sgd);
  if (o.gpu) nn_model_to(lin, NN_GPU);
  nn_history h_gd = fit_regressor(lin, &X_train, &Ys_train, gd_epochs, s.n_train); /* one batch: all rows */
  predict_in_units(lin, &X_test, &y_scale, gd);
  char label[64];
  snprintf(label, sizeof label, "linear, gradient descent (%d full-batch steps)", gd_epochs);
  print_scores(label, y, gd, n);
  double gap = 0;
  for (int i = 0; i < n; i++) gap = fmax(gap, fabs((double)gd[i] - linear[i]));

  int net_epochs = o.epochs ? o.epochs : 200, batch = 32;
  nn_model *mlp_r = regressor("mlp", (int[]){D, 32, 1}, 3, &rng);
  nn_model_compile(mlp_r, NN_LOSS_MSE, NN_ADAM, NULL);
  if (o.gpu) nn_model_to(mlp_r, NN_GPU);
  nn_history h_net = fit_regressor(mlp_r, &X_train, &Ys_train, net_epochs, batch);
  predict_in_units(mlp_r, &X_test, &y_scale, net);
  snprintf(label, sizeof label, "MLP %d-32-1 ReLU, Adam, %d epochs of batch %d", D, net_epochs, batch);
  print_scores(label, y, net, n);

  int steps = nn_batches_per_epoch(s.n_train, batch, false), last = s.n_train - (steps - 1) * batch;
  printf("   Gradient descent walks down to the normal equations' answer: their test predictions\n"
         "   differ by %.2f at most. An epoch of %d rows at batch %d is %d steps (the last of %d row%s).\n",
         gap, s.n_train, batch, steps, last, last == 1 ? "" : "s");
  printf("   R^2 is the share of the target's variance a model explains: 0 for the mean, 1 for a\n"
         "   perfect fit. On %d patients the MLP has no more to find than the line does.\n", s.n_train);

  make_out_dir();
  float diag[2] = {lo, hi};
  nn_series series[3] = {{"linear (normal equations)", y, linear, n, true},
                         {"MLP 10-32-1", y, net, n, true},
                         {"perfect: predicted = true", diag, diag, 2, false}};
  say_plot(nn_plot_lines(OUT_DIR "/regression.png",
                         &(nn_plot_style){"diabetes, test set: predicted vs true", "true progression",
                                          "predicted", false},
                         series, 3, &err),
           OUT_DIR "/regression.png", &err);

  nn_history_free(&h_gd), nn_history_free(&h_net), nn_model_free(lin), nn_model_free(mlp_r), nn_linreg_free(&ne);
  nn_scaler_free(&x_scale), nn_scaler_free(&y_scale), free(mean);
  nn_tensor_free(&X_train), nn_tensor_free(&X_test), nn_tensor_free(&Y_train), nn_tensor_free(&Y_test);
  nn_tensor_free(&Ys_train), nn_split_free(&s), nn_table_free(&t);
  return 0;
}
