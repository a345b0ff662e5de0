/* nn cifar: chapter 03's small ResNet on CIFAR-10, colour photos of 10 classes.
 *
 *   stem    Conv2d(3 -> 16, 3x3, padding 1, no bias), BatchNorm, ReLU     (N, 16, 32, 32)
 *   block1  ResidualBlock(16 -> 16), identity shortcut                    (N, 16, 32, 32)
 *   block2  ResidualBlock(16 -> 32, stride 2), projection shortcut        (N, 32, 16, 16)
 *   block3  ResidualBlock(32 -> 64, stride 2), projection shortcut        (N, 64, 8, 8)
 *   gap     GlobalAvgPool2d                                               (N, 64)
 *   fc      Dense(64 -> 10): the logits
 *
 * 78,042 parameters. The head averages each 8x8 map away (ResNet's head), unlike `nn
 * resnet`'s Flatten: a CIFAR photo's object may sit anywhere in the frame, so WHERE a
 * feature fired matters less than THAT it fired.
 *
 * The inputs: each channel normalised by the training images' own mean and std
 * (nn_normalize.h; the test images by the same numbers), then every training image, each
 * epoch, padded by 4 and cropped back to 32 x 32 at a random place and mirrored with
 * probability 1/2 (the CIFAR recipe; the padding's zeros are the mean colour, since
 * normalising comes first). Adam, batch 128, the learning rate on a cosine from 2e-3
 * towards 0.
 *
 * CIFAR-10 is not bundled: `make data` (only it: SETS=cifar-10 tools/fetch-data) unpacks
 * it into datasets/full/cifar-10/cifar-10-batches-bin/. NN_CIFAR_DIR names another
 * folder holding data_batch_1.bin .. test_batch.bin; NN_DATA_DIR is fetch-data's
 * (NN_DATA_DIR/cifar-10/cifar-10-batches-bin). Without the data it says what to run and
 * exits 1, as `nn sentiment` does without NSMC.
 * Options: --epochs N (10), --train N (the first N training images: quick runs),
 * --test N (the first N test images), --gpu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_augment.h"
#include "nn_callbacks.h"
#include "nn_cifar.h"
#include "nn_cnn_models.h"
#include "nn_cuda.h"
#include "nn_dense.h"
#include "nn_fit.h"
#include "nn_metrics.h"
#include "nn_model.h"
#include "nn_normalize.h"
#include "nn_pool.h"
#include "nn_progress.h"
#include "nn_residual.h"
#include "nn_rng.h"

static nn_model *cifar_resnet(nn_rng *rng) {
  nn_model *m = nn_model_new("cifar_resnet", 3, (int[]){3, 32, 32});
  nn_add_resnet_stem(m, 3, 16, rng);
  nn_model_add(m, &nn_residual_new("block1", &(nn_residual_config){.in_channels = 16, .out_channels = 16,
                                                                    .stride = 1}, rng)->base);
  nn_model_add(m, &nn_residual_new("block2", &(nn_residual_config){.in_channels = 16, .out_channels = 32,
                                                                    .stride = 2}, rng)->base);
  nn_model_add(m, &nn_residual_new("block3", &(nn_residual_config){.in_channels = 32, .out_channels = 64,
                                                                    .stride = 2}, rng)->base);
  nn_model_add(m, nn_global_avgpool2d_new("gap"));
  nn_model_add(m, &nn_dense_new("fc", 64, NN_CIFAR_CLASSES, NN_INIT_XAVIER, rng)->base);
  return m;
}

/* NN_CIFAR_DIR, else NN_DATA_DIR/cifar-10/cifar-10-batches-bin, else the default. */
static const char *cifar_dir(char *buf, size_t cap) {
  const char *env = getenv("NN_CIFAR_DIR");
  if (env && *env) return env;
  env = getenv("NN_DATA_DIR");
  if (!env || !*env) return NN_CIFAR_DEFAULT_DIR;
  snprintf(buf, cap, "%s/cifar-10/cifar-10-batches-bin", env);
  return buf;
}

typedef struct {
  int epochs, train, test; /* 0: the defaults (10 epochs, every image) */
  bool gpu;
} cifar_options;

/* A count >= 1 after an option, or false. */
static bool count_after(int argc, char **argv, int *i, int *out) {
  if (*i + 1 >= argc || atoi(argv[*i + 1]) < 1) return false;
  *out = atoi(argv[++*i]);
  return true;
}

static bool parse_options(int argc, char **argv, cifar_options *o) {
  *o = (cifar_options){0};
  for (int i = 1; i < argc; i++) {
    bool ok = true;
    if (!strcmp(argv[i], "--gpu")) o->gpu = true;
    else if (!strcmp(argv[i], "--epochs")) ok = count_after(argc, argv, &i, &o->epochs);
    else if (!strcmp(argv[i], "--train")) ok = count_after(argc, argv, &i, &o->train);
    else if (!strcmp(argv[i], "--test")) ok = count_after(argc, argv, &i, &o->test);
    else ok = false;
    if (!ok) {
      fprintf(stderr, "usage: nn cifar [--epochs N] [--train N] [--test N] [--gpu]\n");
      return false;
    }
  }
  o->gpu = demo_device(o->gpu) == NN_GPU;
  return true;
}

/* Both splits (0), or after saying on stderr what is missing and how to get it, the exit
 * status: NN_EXIT_NO_DATA when the files are not there, 1 when they are broken. */
static int load_splits(const char *dir, const cifar_options *o, nn_tensor *X_train, int **y_train,
                        nn_tensor *X_test, int **y_test) {
  nn_error err = {0};
  nn_status st = nn_cifar_load(dir, "train", o->train, X_train, y_train, &err);
  if (st != NN_OK) {
    fprintf(stderr, "nn cifar: %s\n   (CIFAR-10 is not bundled; NN_CIFAR_DIR may name a folder holding "
            "data_batch_1.bin .. test_batch.bin)\n", err.msg);
    return st == NN_ERR_IO ? NN_EXIT_NO_DATA : 1;
  }
  if (nn_cifar_load(dir, "test", o->test, X_test, y_test, &err) != NN_OK) {
    fprintf(stderr, "nn cifar: %s\n", err.msg);
    nn_tensor_free(X_train), free(*y_train);
    return 1;
  }
  return 0;
}

/* Both splits normalised by the training images' per-channel statistics. */
static void normalize_splits(nn_tensor *X_train, nn_tensor *X_test) {
  float mean[NN_CIFAR_CHANNELS], std[NN_CIFAR_CHANNELS];
  nn_channel_mean_std(X_train, mean, std);
  printf("   per channel (R, G, B) of the training images: mean (%.4f, %.4f, %.4f), std (%.4f, %.4f, %.4f);\n"
         "   train and test normalised by them, x = (x - mean) / std\n", mean[0], mean[1], mean[2], std[0], std[1],
         std[2]);
  nn_error err = {0};
  if (nn_normalize(X_train, NN_CIFAR_CHANNELS, mean, std, &err) != NN_OK ||
      nn_normalize(X_test, NN_CIFAR_CHANNELS, mean, std, &err) != NN_OK)
    printf("   not normalised: %s\n", err.msg); /* a channel with one value everywhere */
}

/* "per class (recall): airplane 85%, ..." on the test images. */
static void print_recalls(nn_model *m, const nn_tensor *X, const int *y) {
  int n = X->shape[0], cm[NN_CIFAR_CLASSES * NN_CIFAR_CLASSES];
  int *pred = nn_xcalloc((size_t)n, sizeof(int), "predictions");
  nn_model_predict_classes(m, X, pred, 256);
  nn_confusion_matrix(y, pred, n, NN_CIFAR_CLASSES, cm);
  printf("   per class (recall):");
  for (int c = 0; c < NN_CIFAR_CLASSES; c++) {
    int row = 0;
    for (int k = 0; k < NN_CIFAR_CLASSES; k++) row += cm[c * NN_CIFAR_CLASSES + k];
    const char *sep = c == 0 ? " " : c == 5 ? ",\n                       " : ", "; /* five to a line */
    printf("%s%s %.0f%%", sep, nn_cifar_class_name(c), 100.0 * cm[c * NN_CIFAR_CLASSES + c] / (row ? row : 1));
  }
  printf("\n");
  free(pred);
}

int cmd_cifar(int argc, char **argv) {
  cifar_options o;
  if (!parse_options(argc, argv, &o)) return 2;
  char buf[4096];
  const char *dir = cifar_dir(buf, sizeof buf);
  nn_tensor X_train, X_test;
  int *y_train = NULL, *y_test = NULL;
  int rc = load_splits(dir, &o, &X_train, &y_train, &X_test, &y_test);
  if (rc != 0) return rc;
  printf("== A small ResNet on CIFAR-10: %d train / %d test images (3 x 32 x 32) from %s\n", X_train.shape[0],
         X_test.shape[0], dir);
  normalize_splits(&X_train, &X_test);
  nn_rng rng = nn_rng_new(42);
  nn_model *m = cifar_resnet(&rng);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  if (o.gpu) nn_model_to(m, NN_GPU);
  nn_model_summary(m, stdout);

  nn_fit_options fo = nn_fit_defaults();
  nn_augment_config aug = {.crop_pad = 4, .flip_p = 0.5f};
  fo.epochs = o.epochs ? o.epochs : 10, fo.batch_size = 128, fo.verbose = 1;
  fo.augment = nn_augment_apply, fo.augment_ctx = &aug;
  nn_cosine_annealing cosine = nn_cosine_annealing_make(2e-3f, fo.epochs);
  nn_callback *cbs[] = {&cosine.base};
  fo.callbacks = cbs, fo.n_callbacks = 1;
  printf("   Adam, lr 2e-3 on a cosine towards 0, batch 128, %d epochs%s; every training image padded by 4,\n"
         "   cropped back to 32 x 32 at a random place and mirrored with probability 1/2, a new draw every epoch\n",
         fo.epochs, o.gpu ? ", on the GPU" : "");
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &X_train, y_train, NULL, &fo);
  double train_s = nn_seconds() - t0;
  nn_eval test = nn_model_evaluate(m, &X_test, y_test, NULL, 256);
  printf("   train: loss %.4f  accuracy %.2f%% (last epoch, augmented)\n", h.loss[h.epochs - 1],
         100 * h.accuracy[h.epochs - 1]);
  printf("   test:  loss %.4f  accuracy %.2f%%   (training took %.1f s on the %s)\n", test.loss, 100 * test.accuracy,
         train_s, o.gpu ? "GPU" : "CPU");
  print_recalls(m, &X_test, y_test);
  nn_history_free(&h), nn_model_free(m);
  nn_tensor_free(&X_train), nn_tensor_free(&X_test), free(y_train), free(y_test);
  return 0;
}
