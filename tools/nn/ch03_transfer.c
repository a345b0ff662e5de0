/* nn transfer: transfer learning, measured. A CNN's convolutions learn edges and
 * strokes on one task with plenty of labels (MNIST digits, 8,000 images); a second
 * task has few labels (the first N Fashion-MNIST training images), tested on its
 * 2,000 test images. Runs from the same seed and the same epochs:
 *
 *   (a) scratch     every weight random, all trained on the N images
 *   (b) frozen      conv1 and conv2 loaded from the MNIST model (nn_model_load_layers)
 *                   and frozen (Keras trainable=False); only a new head is trained
 *   (c) fine-tuned  (b), then every layer unfrozen and trained at a 10x lower lr
 *   (r) control     conv1 and conv2 left random and frozen; only the head is trained:
 *                   what (b) owes to the source's features rather than to training less
 *
 * (a) is also trained for (c)'s extra epochs, so each comparison has had the same
 * passes over the data. Every run repeats from 3 seeds; the table gives the mean and
 * the spread, and a gain counts only when every seed shows it. By default 100 and
 * then 500 labels. What it measured on the bundled samples: MNIST's features gave a
 * mean +3 points with 100 labels that the seeds' spread does not confirm, and none
 * with 500; the other way (--reverse) they cost 2 points. Their edge over random
 * frozen features is clear (+3 to +9 points): the features did transfer, but a CNN
 * this small learns its own from 100 images about as well.
 * Options: --labels N (50..5000), --epochs E (default 10), --reverse (Fashion -> MNIST). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "nn_activation_layer.h"
#include "nn_conv2d.h"
#include "nn_dense.h"
#include "nn_fit.h"
#include "nn_flatten.h"
#include "nn_idx.h"
#include "nn_model.h"
#include "nn_pool.h"
#include "nn_progress.h"

#define OUT_DIR "build/ch03"
#define FEATURES_CKPT OUT_DIR "/transfer_features.ckpt"

enum {
  FEATURE_LAYERS = 6, /* conv1 relu1 pool1 conv2 relu2 pool2: what moves from task to task */
  F1 = 16, F2 = 32,   /* filters of conv1 and conv2 */
  SEED = 7
};

/* The feature layers, then a head of its own name: flatten, Dense(F2*5*5 -> 10). */
static nn_model *cnn(const char *name, const char *head, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_model *m = nn_model_new(name, 3, (int[]){1, 28, 28});
  nn_model_add(m, &nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = F1, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = F1, .filters = F2, .kernel = 3}, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu2", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool2", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &nn_dense_new(head, F2 * 5 * 5, 10, NN_INIT_XAVIER, &rng)->base);
  return m;
}

typedef struct {
  nn_tensor X_train, X_test;
  int *y_train, *y_test;
} image_data;

static bool load(const char *dir, image_data *d) {
  nn_error err = {0};
  *d = (image_data){0};
  if (nn_mnist_load(dir, "train", &d->X_train, &d->y_train, &err) == NN_OK &&
      nn_mnist_load(dir, "t10k", &d->X_test, &d->y_test, &err) == NN_OK)
    return true;
  fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
  return false;
}

static void free_data(image_data *d) {
  nn_tensor_free(&d->X_train), nn_tensor_free(&d->X_test);
  free(d->y_train), free(d->y_test);
}

/* Fit m for `epochs` on the first n training images; returns the seconds it took. */
static double fit(nn_model *m, const image_data *d, int n, int epochs) {
  nn_tensor X = d->X_train;
  X.shape[0] = n;
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = 32, fo.verbose = 0, fo.seed = SEED;
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &X, d->y_train, NULL, &fo);
  nn_history_free(&h);
  return nn_seconds() - t0;
}

static double test_accuracy(nn_model *m, const image_data *d) {
  return nn_model_evaluate(m, &d->X_test, d->y_test, NULL, 256).accuracy;
}

static void set_features_frozen(nn_model *m, bool frozen) {
  for (int i = 0; i < FEATURE_LAYERS; i++) m->layers[i]->frozen = frozen;
}

/* Step 1: the features, learned on every training image of the source task, saved to FEATURES_CKPT. */
static bool pretrain(const char *dir, const char *task, int epochs) {
  image_data src;
  if (!load(dir, &src)) return false;
  nn_model *m = cnn("source_cnn", "source_head", SEED);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  double s = fit(m, &src, src.X_train.shape[0], epochs);
  printf("   1. %s: %d images, %d epochs, %.1f s: test accuracy %.2f%%\n", task, src.X_train.shape[0], epochs, s,
         100 * test_accuracy(m, &src));
  nn_error err = {0};
  bool ok = nn_model_save(m, FEATURES_CKPT, &err) == NN_OK;
  if (ok)
    printf("      saved to %s (source_head is in it too; it will be left out)\n", FEATURES_CKPT);
  else
    fprintf(stderr, "nn: %s\n", err.msg);
  nn_model_free(m), free_data(&src);
  return ok;
}

enum { RUNS = 5, SEEDS = 3 };
static const char *const RUN_NAMES[RUNS] = {
    "(a) from scratch", "(r) random conv frozen, head trained", "(b) source conv frozen, head trained",
    "(a) from scratch, trained on", "(c) = (b), then all layers at lr 1e-4"};

/* The five runs from one seed: test accuracies and seconds into acc[RUNS], sec[RUNS]. */
static bool runs_for_seed(const image_data *d, int labels, int epochs, int tune_epochs, uint64_t seed, double *acc,
                          double *sec) {
  nn_model *scratch = cnn("scratch", "target_head", seed); /* (a), then (a) trained on */
  nn_model_compile(scratch, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[0] = fit(scratch, d, labels, epochs), acc[0] = test_accuracy(scratch, d);
  sec[3] = sec[0] + fit(scratch, d, labels, tune_epochs), acc[3] = test_accuracy(scratch, d);
  nn_model_free(scratch);

  nn_model *random = cnn("random", "target_head", seed); /* (r): what a head gets from features nobody trained */
  set_features_frozen(random, true);
  nn_model_compile(random, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[1] = fit(random, d, labels, epochs), acc[1] = test_accuracy(random, d);
  nn_model_free(random);

  nn_model *m = cnn("transfer", "target_head", seed); /* (b): the same start, the source's conv1 and conv2 */
  nn_error err = {0};
  if (nn_model_load_layers(m, FEATURE_LAYERS, FEATURES_CKPT, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n", err.msg);
    nn_model_free(m);
    return false;
  }
  set_features_frozen(m, true);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[2] = fit(m, d, labels, epochs), acc[2] = test_accuracy(m, d);

  set_features_frozen(m, false); /* (c): every layer, lr 1e-4, so the features adjust gently */
  nn_optim_config low = nn_optim_defaults(NN_ADAM);
  low.lr = 1e-4f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, &low);
  sec[4] = sec[2] + fit(m, d, labels, tune_epochs), acc[4] = test_accuracy(m, d);
  nn_model_free(m);
  return true;
}

/* Step 2 for one number of labels: the five runs from SEEDS seeds, a table, the gains. */
static bool compare(const image_data *d, const char *task, int labels, int epochs) {
  int tune_epochs = epochs / 2 > 0 ? epochs / 2 : 1;
  printf("   2. %s: the first %d training images, tested on %d; seeds %d..%d\n", task, labels, d->X_test.shape[0],
         SEED, SEED + SEEDS - 1);
  fflush(stdout);
  double acc[SEEDS][RUNS], sec[SEEDS][RUNS], mean[RUNS] = {0}, lo[RUNS], hi[RUNS];
  for (int k = 0; k < SEEDS; k++)
    if (!runs_for_seed(d, labels, epochs, tune_epochs, SEED + (uint64_t)k, acc[k], sec[k])) return false;
  printf("   %-40s %6s %10s %15s %8s\n", "run", "epochs", "test acc", "(min..max)", "seconds");
  for (int r = 0; r < RUNS; r++) {
    double s = 0;
    lo[r] = 1, hi[r] = 0;
    for (int k = 0; k < SEEDS; k++) {
      mean[r] += acc[k][r] / SEEDS, s += sec[k][r] / SEEDS;
      lo[r] = acc[k][r] < lo[r] ? acc[k][r] : lo[r], hi[r] = acc[k][r] > hi[r] ? acc[k][r] : hi[r];
    }
    printf("   %-40s %6d %9.2f%% %6.2f..%5.2f%% %8.1f\n", RUN_NAMES[r], r < 3 ? epochs : epochs + tune_epochs,
           100 * mean[r], 100 * lo[r], 100 * hi[r], s);
  }
  /* A gain counts when every seed of the one beats every seed of the other. */
  printf("   gain of (b) over (a), %d epochs each: %+.2f points (%s)\n", epochs, 100 * (mean[2] - mean[0]),
         lo[2] > hi[0] ? "on every seed" : hi[2] < lo[0] ? "a loss on every seed" : "the seeds overlap: no clear gain");
  printf("   gain of (c) over (a), %d epochs each: %+.2f points (%s)\n", epochs + tune_epochs,
         100 * (mean[4] - mean[3]),
         lo[4] > hi[3] ? "on every seed" : hi[4] < lo[3] ? "a loss on every seed" : "the seeds overlap: no clear gain");
  printf("   (b) over (r), trained vs random frozen features: %+.2f points\n", 100 * (mean[2] - mean[1]));
  return true;
}

int cmd_transfer(int argc, char **argv) {
  int labels = 0, epochs = 10;
  bool reverse = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--labels") && i + 1 < argc && atoi(argv[i + 1]) >= 50 && atoi(argv[i + 1]) <= 5000) {
      labels = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
      epochs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--reverse")) {
      reverse = true;
    } else {
      fprintf(stderr, "usage: nn transfer [--labels N (50..5000)] [--epochs E] [--reverse]\n");
      return 2;
    }
  }
  const char *mnist = "datasets/mnist-10k", *fashion = "datasets/fashion-mnist-10k";
  const char *src_dir = reverse ? fashion : mnist, *dst_dir = reverse ? mnist : fashion;
  const char *src_name = reverse ? "Fashion-MNIST" : "MNIST", *dst_name = reverse ? "MNIST" : "Fashion-MNIST";
  mkdir("build", 0755), mkdir(OUT_DIR, 0755);
  printf("== Transfer learning: %s's conv features for %s with few labels\n", src_name, dst_name);
  printf("   Conv %d 3x3, ReLU, MaxPool 2, Conv %d 3x3, ReLU, MaxPool 2 | Flatten, Dense 10; Adam, batch 32\n", F1, F2);
  fflush(stdout);
  double t0 = nn_seconds();
  if (!pretrain(src_dir, src_name, 2)) return 1;
  image_data d;
  if (!load(dst_dir, &d)) return 1;
  const int defaults[2] = {100, 500};
  bool ok = true;
  for (int i = 0; ok && i < (labels ? 1 : 2); i++) ok = compare(&d, dst_name, labels ? labels : defaults[i], epochs);
  printf("   (a) trains every layer; (r) and (b) train the head alone, on random or on %s's features;\n"
         "   (c) then fine-tunes all at lr 1e-4. %.0f s in all (times vary with the machine's load).\n",
         src_name, nn_seconds() - t0);
  free_data(&d);
  return ok ? 0 : 1;
}
