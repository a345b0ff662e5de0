/* nn transfer: transfer learning, measured. Keras' mnist_transfer_cnn recipe: a CNN
 * learns MNIST digits 0-4 (every one of them in the 8,000-image sample, about 4,000
 * images); its convolutions then serve digits 5-9, a task of the same kind (strokes,
 * loops, corners) with few labels: N training images drawn at random from the
 * sample's 5-9, N/5 of each digit, tested on every 5-9 of the 2,000 test images.
 * From the same seed, the same N images and the same epochs:
 *
 *   (a) scratch     every weight random, all trained on the N images
 *   (r) control     conv1 and conv2 left random and frozen; only the head is trained:
 *                   what (b) owes to the source's features rather than to training less
 *   (b) frozen      conv1 and conv2 loaded from the 0-4 model (nn_model_load_layers)
 *                   and frozen (Keras trainable=False); only a new head is trained
 *   (c) fine-tuned  (b), then every layer unfrozen and trained at a 10x lower lr
 *
 * (a) is also trained for (c)'s extra epochs, so each comparison has had the same
 * passes over the data. Every run repeats from 3 seeds (another draw of the N images,
 * another init, another order); the table gives the mean and the spread over the
 * seeds, and a gain counts only when each seed, compared with itself, shows it.
 * By default N = 25, 50, 200 (about a minute on 2 cores). What it measured: the
 * source's features beat training from scratch by about 4.5 points with 25 labels and
 * 3 with 50, on every seed, and not at all with 200 (nor 500): transfer pays where
 * labels are scarce. Fine-tuning (c) added little to (b) at lr 1e-4. Two variants, as
 * options: with the layers' own init (--he) the scratch network learns features of its
 * own from 50 images as well, and the gain is gone; from every MNIST digit to
 * Fashion-MNIST (--fashion) the gain is 6 points with 25 labels, 1 with 50, 0 with 200.
 * Options: --labels N (one N, 10..3000), --epochs E (default 20), --he, --fashion. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "demo_data.h"
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
  SOURCE_EPOCHS = 3,
  SEED = 7, SEEDS = 3
};

/* PyTorch's default init, which the layers' own (He for conv, Glorot for Dense) is not:
 * W ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform_ with a = sqrt(5)), std
 * 1/sqrt(3 fan_in), sqrt(6) times smaller than He's. It decides what transfer gains here
 * (see --he): from a start this small, 50 images and 40 steps leave a scratch network's
 * conv layers close to random ((a) is then barely above (r)), so ready-made features help;
 * from He's larger start the scratch network learns features of its own as well. */
static void pytorch_init(nn_tensor *W, int fan_in, nn_rng *rng) {
  float bound = 1.f / sqrtf((float)fan_in);
  nn_rng_fill_uniform(rng, W->data, nn_numel(W), -bound, bound);
}

/* The feature layers, then a head of its own name: flatten, Dense(F2*5*5 -> classes).
 * he: keep the layers' own init; else PyTorch's (biases stay 0 either way). */
static nn_model *cnn(const char *name, const char *head, int classes, bool he, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_conv2d *conv1 = nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = F1, .kernel = 3}, &rng);
  nn_conv2d *conv2 = nn_conv2d_new("conv2", &(nn_conv2d_config){.in_channels = F1, .filters = F2, .kernel = 3}, &rng);
  nn_dense *dense = nn_dense_new(head, F2 * 5 * 5, classes, NN_INIT_XAVIER, &rng);
  if (!he) {
    pytorch_init(&conv1->W, 1 * 3 * 3, &rng), pytorch_init(&conv2->W, F1 * 3 * 3, &rng);
    pytorch_init(&dense->W, F2 * 5 * 5, &rng);
  }
  nn_model *m = nn_model_new(name, 3, (int[]){1, 28, 28});
  nn_model_add(m, &conv1->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool1", 2, 0, 0)->base);
  nn_model_add(m, &conv2->base);
  nn_model_add(m, nn_activation_layer_new("relu2", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_maxpool2d_new("pool2", 2, 0, 0)->base);
  nn_model_add(m, nn_flatten_new("flatten"));
  nn_model_add(m, &dense->base);
  return m;
}

/* Images (n, 1, 28, 28) and their labels 0..classes-1. */
typedef struct {
  nn_tensor X;
  int *y, classes;
} labeled;

/* A task: its training images (the pool the N labels are drawn from) and its test images. */
typedef struct {
  labeled train, test;
} task;

static void free_labeled(labeled *s) { nn_tensor_free(&s->X), free(s->y); }
static void free_task(task *t) { free_labeled(&t->train), free_labeled(&t->test); }

/* The images of X whose label is in lo..hi, relabelled 0..hi-lo (7 -> 2 for digits 5-9). */
static labeled select_classes(const nn_tensor *X, const int *y, int lo, int hi) {
  int n = 0, size = X->shape[1] * X->shape[2] * X->shape[3];
  for (int i = 0; i < X->shape[0]; i++) n += y[i] >= lo && y[i] <= hi;
  labeled s = {nn_tensor_new(4, (int[]){n, X->shape[1], X->shape[2], X->shape[3]}, NN_CPU), malloc(sizeof(int) * n),
               hi - lo + 1};
  for (int i = 0, k = 0; i < X->shape[0]; i++)
    if (y[i] >= lo && y[i] <= hi) {
      memcpy(s.X.data + (long)k * size, X->data + (long)i * size, sizeof(float) * size);
      s.y[k++] = y[i] - lo;
    }
  return s;
}

/* The classes lo..hi of the dataset in dir (train and t10k), relabelled from 0. */
static bool load_task(const char *dir, int lo, int hi, task *t) {
  nn_tensor X_train = {0}, X_test = {0};
  int *y_train = NULL, *y_test = NULL;
  nn_error err = {0};
  bool ok = nn_mnist_load(dir, "train", &X_train, &y_train, &err) == NN_OK &&
            nn_mnist_load(dir, "t10k", &X_test, &y_test, &err) == NN_OK;
  if (ok)
    t->train = select_classes(&X_train, y_train, lo, hi), t->test = select_classes(&X_test, y_test, lo, hi);
  else
    fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
  nn_tensor_free(&X_train), nn_tensor_free(&X_test), free(y_train), free(y_test);
  return ok;
}

/* n images of the pool drawn at random, balanced: n / classes of each class (the first
 * n % classes classes one more), taken in the order of a seeded permutation. */
static labeled draw_balanced(const labeled *pool, int n, uint64_t seed) {
  int size = pool->X.shape[1] * pool->X.shape[2] * pool->X.shape[3], total = pool->X.shape[0];
  int *order = malloc(sizeof(int) * total), *taken = calloc(pool->classes, sizeof(int));
  nn_rng rng = nn_rng_new_stream(seed, 1);
  nn_rng_permutation(&rng, order, total);
  labeled s = {nn_tensor_new(4, (int[]){n, pool->X.shape[1], pool->X.shape[2], pool->X.shape[3]}, NN_CPU),
               malloc(sizeof(int) * n), pool->classes};
  int k = 0;
  for (int j = 0; j < total && k < n; j++) {
    int i = order[j], c = pool->y[i];
    if (taken[c] >= n / pool->classes + (c < n % pool->classes)) continue;
    memcpy(s.X.data + (long)k * size, pool->X.data + (long)i * size, sizeof(float) * size);
    s.y[k++] = c, taken[c]++;
  }
  s.X.shape[0] = k; /* fewer than n only when a class has too few images */
  free(order), free(taken);
  return s;
}

/* Where the models train: the GPU with --gpu when there is one (set once by cmd_transfer). */
static nn_device train_device = NN_CPU;

/* Fit m for `epochs` on s, on train_device; returns the seconds it took. */
static double fit(nn_model *m, const labeled *s, int epochs, uint64_t seed) {
  nn_model_to(m, train_device); /* an optimizer state made before moves with it */
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = 32, fo.verbose = 0, fo.seed = seed;
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &s->X, s->y, NULL, &fo);
  nn_history_free(&h);
  return nn_seconds() - t0;
}

static double accuracy(nn_model *m, const labeled *s) {
  return nn_model_evaluate(m, &s->X, s->y, NULL, 256).accuracy;
}

static void set_features_frozen(nn_model *m, bool frozen) {
  for (int i = 0; i < FEATURE_LAYERS; i++) m->layers[i]->frozen = frozen;
}

/* Step 1: the features, learned on every training image of the source task, saved to FEATURES_CKPT. */
static bool pretrain(const task *src, const char *name, bool he) {
  nn_model *m = cnn("source_cnn", "source_head", src->train.classes, he, SEED);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  double s = fit(m, &src->train, SOURCE_EPOCHS, SEED);
  printf("   1. %s: %d training images, %d epochs, %.1f s: %.2f%% of its %d test images right\n", name,
         src->train.X.shape[0], SOURCE_EPOCHS, s, 100 * accuracy(m, &src->test), src->test.X.shape[0]);
  nn_error err = {0};
  nn_model_to(m, NN_CPU); /* a checkpoint is written from the host */
  bool ok = nn_model_save(m, FEATURES_CKPT, &err) == NN_OK;
  if (ok)
    printf("      saved to %s (source_head is in it too; it will be left out)\n", FEATURES_CKPT);
  else
    fprintf(stderr, "nn: %s\n", err.msg);
  nn_model_free(m);
  return ok;
}

enum { SCRATCH, RANDOM, FROZEN, SCRATCH_LONG, TUNED, RUNS };
static const char *const RUN_NAMES[RUNS] = {
    "(a) from scratch", "(r) random conv frozen, head trained", "(b) source conv frozen, head trained",
    "(a) from scratch, trained on", "(c) = (b), then all layers at lr 1e-4"};

/* The five runs from one seed on the same N images: test accuracies and seconds into acc[RUNS], sec[RUNS]. */
static bool runs_for_seed(const labeled *train, const labeled *test, int epochs, int tune_epochs, bool he,
                          uint64_t seed, double *acc, double *sec) {
  int classes = train->classes;
  nn_model *scratch = cnn("scratch", "target_head", classes, he, seed); /* (a), then (a) trained on */
  nn_model_compile(scratch, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[SCRATCH] = fit(scratch, train, epochs, seed), acc[SCRATCH] = accuracy(scratch, test);
  sec[SCRATCH_LONG] = sec[SCRATCH] + fit(scratch, train, tune_epochs, seed + 1000);
  acc[SCRATCH_LONG] = accuracy(scratch, test);
  nn_model_free(scratch);

  nn_model *random = cnn("random", "target_head", classes, he, seed); /* (r): features nobody trained */
  set_features_frozen(random, true);
  nn_model_compile(random, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[RANDOM] = fit(random, train, epochs, seed), acc[RANDOM] = accuracy(random, test);
  nn_model_free(random);

  nn_model *m = cnn("transfer", "target_head", classes, he, seed); /* (b): the same head's init, the source's conv */
  nn_error err = {0};
  if (nn_model_load_layers(m, FEATURE_LAYERS, FEATURES_CKPT, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n", err.msg);
    nn_model_free(m);
    return false;
  }
  set_features_frozen(m, true);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  sec[FROZEN] = fit(m, train, epochs, seed), acc[FROZEN] = accuracy(m, test);

  set_features_frozen(m, false); /* (c): every layer, lr 1e-4, so the features adjust gently */
  nn_optim_config low = nn_optim_defaults(NN_ADAM);
  low.lr = 1e-4f;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, &low);
  sec[TUNED] = sec[FROZEN] + fit(m, train, tune_epochs, seed + 1000), acc[TUNED] = accuracy(m, test);
  nn_model_free(m);
  return true;
}

/* "+4.10 points (+2.95..+5.30): on every seed": the mean of run b's accuracy minus run a's,
 * seed by seed (each seed gave both the same images, init and order), and whether every seed agrees. */
static void print_gain(const char *what, int epochs, double acc[][RUNS], int b, int a) {
  double mean = 0, lo = 1, hi = -1;
  for (int k = 0; k < SEEDS; k++) {
    double g = acc[k][b] - acc[k][a];
    mean += g / SEEDS, lo = g < lo ? g : lo, hi = g > hi ? g : hi;
  }
  printf("   %-32s %2d epochs: %+6.2f points (%+.2f..%+.2f): %s\n", what, epochs, 100 * mean, 100 * lo, 100 * hi,
         lo > 0 ? "a gain on every seed" : hi < 0 ? "a loss on every seed" : "the seeds disagree: no clear gain");
}

/* Step 2 for one N: the five runs from SEEDS seeds, a table, the gains. */
static bool compare(const task *dst, const char *name, int labels, int epochs, bool he) {
  int tune_epochs = epochs / 2 > 0 ? epochs / 2 : 1;
  printf("\n   2. %s, %d labels (balanced over %d classes, drawn per seed), tested on its %d test images;"
         " seeds %d..%d\n", name, labels, dst->train.classes, dst->test.X.shape[0], SEED, SEED + SEEDS - 1);
  fflush(stdout);
  double acc[SEEDS][RUNS], sec[SEEDS][RUNS];
  for (int k = 0; k < SEEDS; k++) {
    labeled train = draw_balanced(&dst->train, labels, SEED + (uint64_t)k);
    bool ok = runs_for_seed(&train, &dst->test, epochs, tune_epochs, he, SEED + (uint64_t)k, acc[k], sec[k]);
    free_labeled(&train);
    if (!ok) return false;
  }
  printf("   %-40s %6s %9s %15s %8s\n", "run", "epochs", "test acc", "(min..max)", "seconds");
  for (int r = 0; r < RUNS; r++) {
    double mean = 0, s = 0, lo = 1, hi = 0;
    for (int k = 0; k < SEEDS; k++) {
      mean += acc[k][r] / SEEDS, s += sec[k][r] / SEEDS;
      lo = acc[k][r] < lo ? acc[k][r] : lo, hi = acc[k][r] > hi ? acc[k][r] : hi;
    }
    printf("   %-40s %6d %8.2f%% %6.2f..%6.2f%% %8.1f\n", RUN_NAMES[r],
           r == SCRATCH_LONG || r == TUNED ? epochs + tune_epochs : epochs, 100 * mean, 100 * lo, 100 * hi, s);
  }
  print_gain("(b) frozen over (a) scratch,", epochs, acc, FROZEN, SCRATCH);
  print_gain("(c) fine-tuned over (a) scratch,", epochs + tune_epochs, acc, TUNED, SCRATCH_LONG);
  print_gain("(b) over (r), source vs random,", epochs, acc, FROZEN, RANDOM);
  return true;
}

int cmd_transfer(int argc, char **argv) {
  int labels = 0, epochs = 20;
  bool fashion = false, he = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--labels") && i + 1 < argc && atoi(argv[i + 1]) >= 10 && atoi(argv[i + 1]) <= 3000) {
      labels = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
      epochs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--fashion")) {
      fashion = true;
    } else if (!strcmp(argv[i], "--he")) {
      he = true;
    } else if (!strcmp(argv[i], "--gpu")) {
      train_device = NN_GPU;
    } else {
      fprintf(stderr, "usage: nn transfer [--labels N (10..3000)] [--epochs E] [--fashion] [--he] [--gpu]\n");
      return 2;
    }
  }
  train_device = demo_device(train_device == NN_GPU);
  /* Source and target: digits 0-4 and 5-9 of one dataset, or all of MNIST and all of Fashion-MNIST. */
  const char *mnist = "datasets/mnist-10k";
  const char *src_name = fashion ? "MNIST, digits 0-9" : "MNIST, digits 0-4";
  const char *dst_name = fashion ? "Fashion-MNIST" : "MNIST, digits 5-9";
  mkdir("build", 0755), mkdir(OUT_DIR, 0755);
  printf("== Transfer learning: the conv features of %s for %s with few labels\n", src_name, dst_name);
  printf("   Conv %d 3x3, ReLU, MaxPool 2, Conv %d 3x3, ReLU, MaxPool 2 | Flatten, Dense; Adam, batch 32;\n"
         "   %s init, biases 0\n", F1, F2, he ? "He (conv) and Glorot (Dense)" : "PyTorch's default");
  fflush(stdout);
  double t0 = nn_seconds();
  task src = {0}, dst = {0};
  bool ok = load_task(mnist, 0, fashion ? 9 : 4, &src) &&
            (fashion ? load_task("datasets/fashion-mnist-10k", 0, 9, &dst) : load_task(mnist, 5, 9, &dst)) &&
            pretrain(&src, src_name, he);
  const int defaults[3] = {25, 50, 200};
  for (int i = 0; ok && i < (labels ? 1 : 3); i++)
    ok = compare(&dst, dst_name, labels ? labels : defaults[i], epochs, he);
  if (ok)
    printf("\n   (a) trains every layer; (r) and (b) train the head alone, on random conv layers or on those\n"
           "   of %s; (c) then fine-tunes all at lr 1e-4. %.0f s in all (times vary with the machine's load).\n",
           src_name, nn_seconds() - t0);
  free_task(&src), free_task(&dst);
  return ok ? 0 : 1;
}
