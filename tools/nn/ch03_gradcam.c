/* nn gradcam: where a CNN looks when it reads a digit (Grad-CAM, nn_gradcam.h).
 *
 * Trains the seeds' CNN (Conv 32 3x3, ReLU, MaxPool 2, Conv 64 3x3, ReLU, MaxPool 2,
 * Dense 10) on the MNIST sample for a couple of epochs (or takes build/ch03/cnn.ckpt
 * when `nn cnn` left one that fits this model and scores >= 95 %), then, for the first
 * test image of each digit, the Grad-CAM of the last convolution (conv2: 64 maps of
 * 11 x 11) for the predicted class and, for contrast, for the runner-up class.
 * Writes build/ch03/gradcam.png: a grid of 3 rows of 10 (the digits; the heat maps of
 * the predicted class; of the runner-up). Options: --epochs N, --layer 0..5 (which output). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_cnn_models.h"
#include "nn_conv2d.h"
#include "nn_fit.h"
#include "nn_gradcam.h"
#include "nn_idx.h"
#include "nn_image.h"
#include "nn_model.h"
#include "nn_progress.h"

#define OUT_DIR "build/ch03"

enum {
  FEATURE_LAYER = 3, /* conv2, the last convolution: (64, 11, 11) (relu2, --layer 4, gives peakier maps) */
  SCALE = 3,         /* each 28 x 28 tile is drawn 84 x 84 */
  TILE = 28 * SCALE,
  DIGITS = 10
};

/* Image n of X (N, 1, 28, 28) as its own (1, 1, 28, 28) tensor, sharing X's memory. */
static nn_tensor image_of(const nn_tensor *X, int n) {
  nn_tensor x = *X;
  x.shape[0] = 1;
  x.data = X->data + (long)n * 28 * 28;
  return x;
}

/* The largest and second largest of 10 logits. */
static void top_two(const float *z, int *first, int *second) {
  *first = 0, *second = 1;
  if (z[1] > z[0]) *first = 1, *second = 0;
  for (int c = 2; c < 10; c++) {
    if (z[c] > z[*first]) *second = *first, *first = c;
    else if (z[c] > z[*second]) *second = c;
  }
}

/* Tile t of the grid (N, 3, TILE, TILE) <- the digit x, enlarged, gray; or, with cam, the heat map over it. */
static void draw_tile(nn_tensor *grid, int t, const nn_tensor *x, const nn_tensor *cam) {
  long plane = (long)TILE * TILE;
  nn_tensor big = nn_tensor_new(2, (int[]){TILE, TILE}, NN_CPU), src = *x;
  nn_tensor_reshape(&src, 2, (int[]){28, 28});
  nn_gradcam_resize(&src, &big);
  nn_tensor rgb = {.data = grid->data + t * 3 * plane, .ndim = 3, .shape = {3, TILE, TILE}, .device = NN_CPU};
  if (cam) {
    nn_tensor big_cam = nn_tensor_new(2, (int[]){TILE, TILE}, NN_CPU);
    nn_gradcam_resize(cam, &big_cam);
    nn_tensor img = big;
    nn_tensor_reshape(&img, 3, (int[]){1, TILE, TILE});
    nn_gradcam_overlay(&img, &big_cam, 0.5f, &rgb);
    nn_tensor_free(&big_cam);
  } else {
    for (int ch = 0; ch < 3; ch++) memcpy(rgb.data + ch * plane, big.data, sizeof(float) * (size_t)plane);
  }
  nn_tensor_free(&big);
}

/* build/ch03/cnn.ckpt into m when it fits and scores >= 95 % on the test images. */
static bool try_checkpoint(nn_model *m, const nn_tensor *X, const int *y) {
  nn_error err = {0};
  if (nn_model_load(m, OUT_DIR "/cnn.ckpt", &err) != NN_OK) return false;
  double acc = nn_model_evaluate(m, X, y, NULL, 256).accuracy;
  printf("   %s loaded: test accuracy %.2f%%%s\n", OUT_DIR "/cnn.ckpt", 100 * acc,
         acc >= 0.95 ? "" : "; too low for this demo, training afresh");
  return acc >= 0.95;
}

int cmd_gradcam(int argc, char **argv) {
  int epochs = 2, layer = FEATURE_LAYER;
  bool gpu = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--epochs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
      epochs = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--layer") && i + 1 < argc && atoi(argv[i + 1]) >= 0 && atoi(argv[i + 1]) <= 5) {
      layer = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--gpu")) {
      gpu = true;
    } else {
      fprintf(stderr, "usage: nn gradcam [--epochs N] [--layer 0..5] [--gpu]\n");
      return 2;
    }
  }
  nn_device device = demo_device(gpu); /* for the training; Grad-CAM itself runs on the CPU */
  nn_tensor X_train, X_test;
  int *y_train, *y_test;
  nn_error err = {0};
  if (nn_mnist_load("datasets/mnist-10k", "train", &X_train, &y_train, &err) != NN_OK ||
      nn_mnist_load("datasets/mnist-10k", "t10k", &X_test, &y_test, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
    return 1;
  }
  mkdir("build", 0755), mkdir(OUT_DIR, 0755);

  printf("== Grad-CAM on MNIST: which pixels made the CNN say what it said\n");
  nn_rng rng = nn_rng_new(42);
  nn_model *m = nn_mnist_cnn(32, 64, 0, &rng);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  if (!try_checkpoint(m, &X_test, y_test)) {
    nn_model_free(m);
    rng = nn_rng_new(42);
    m = nn_mnist_cnn(32, 64, 0, &rng);
    nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
    nn_fit_options fo = nn_fit_defaults();
    fo.epochs = epochs, fo.batch_size = 64, fo.verbose = 0, fo.seed = 42;
    printf("   training the seeds' CNN (34,826 params), Adam lr 1e-3, batch 64, %d epochs on %d images...\n", epochs,
           X_train.shape[0]);
    fflush(stdout);
    nn_model_to(m, device);
    double t0 = nn_seconds();
    nn_history h = nn_model_fit(m, &X_train, y_train, NULL, &fo);
    printf("   done in %.1f s (train loss %.4f)\n", nn_seconds() - t0, h.loss[h.epochs - 1]);
    nn_history_free(&h);
    nn_model_to(m, NN_CPU); /* nn_gradcam reads the activations and gradients on the host */
  }
  printf("   test accuracy %.2f%% on %d images\n", 100 * nn_model_evaluate(m, &X_test, y_test, NULL, 256).accuracy,
         X_test.shape[0]);

  /* acts[layer + 1] was shaped by the evaluation above: A for one batch */
  printf("   Grad-CAM of layer %d (%s: %d maps of %d x %d), the first test image of each digit:\n", layer,
         m->layers[layer]->name, m->acts[layer + 1].shape[1], m->acts[layer + 1].shape[2], m->acts[layer + 1].shape[3]);
  printf("   %5s %5s %7s %9s %9s\n", "digit", "pred", "z_pred", "runner-up", "z_runner");
  nn_tensor grid = nn_tensor_new(4, (int[]){3 * DIGITS, 3, TILE, TILE}, NN_CPU);
  nn_tensor_fill(&grid, 0.f); /* black, should a digit be missing from the test images */
  nn_tensor cam = nn_tensor_new(2, (int[]){28, 28}, NN_CPU), logits = nn_tensor_new(2, (int[]){1, 10}, NN_CPU);
  for (int d = 0; d < DIGITS; d++) {
    int n = 0;
    while (n < X_test.shape[0] && y_test[n] != d) n++;
    if (n == X_test.shape[0]) continue;
    nn_tensor x = image_of(&X_test, n);
    nn_model_predict(m, &x, &logits, 1);
    int pred, runner;
    top_two(logits.data, &pred, &runner);
    draw_tile(&grid, d, &x, NULL);
    float z_pred = nn_gradcam(m, &x, pred, layer, &cam);
    draw_tile(&grid, DIGITS + d, &x, &cam);
    float z_runner = nn_gradcam(m, &x, runner, layer, &cam);
    draw_tile(&grid, 2 * DIGITS + d, &x, &cam);
    printf("   %5d %5d %7.2f %9d %9.2f\n", d, pred, z_pred, runner, z_runner);
  }
  printf("   Red: where the evidence for the class lies; blue: none. z: the logits (before softmax).\n");
  int status = 0;
  if (nn_image_write_grid(OUT_DIR "/gradcam.png", &grid, DIGITS, &err) == NN_OK) {
    printf("   wrote %s: row 1 the digits, row 2 Grad-CAM of the predicted class, row 3 of the runner-up\n",
           OUT_DIR "/gradcam.png");
  } else {
    fprintf(stderr, "nn: %s\n", err.msg);
    status = 1;
  }
  nn_tensor_free(&grid), nn_tensor_free(&cam), nn_tensor_free(&logits);
  nn_model_free(m);
  nn_tensor_free(&X_train), nn_tensor_free(&X_test), free(y_train), free(y_test);
  return status;
}
