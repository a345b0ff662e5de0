/* nn cnn | augment: chapter 03's first demos, a convolutional network and data augmentation.
 *
 *   cnn      the seeds' CNN (Conv 32 3x3, ReLU, MaxPool 2, Conv 64 3x3, ReLU, MaxPool 2,
 *            Flatten, Dense 10; 34,826 parameters) on the MNIST sample (8,000 train /
 *            2,000 test), trained with random 1-pixel shifts, dropout 0.3 before the
 *            Dense layer and Adam at lr 2e-3 decayed along a cosine: >= 98 % on the
 *            test images. Saves build/ch03/cnn.ckpt (`nn gradcam` reuses it), draws the
 *            32 learned 3x3 filters of conv1 (filters.png) and what they make of one
 *            test digit (feature_maps.png), and the loss curve (cnn_loss.png).
 *   augment  shift, flip and pad-and-crop on Fashion-MNIST images (augment_grid.png),
 *            then a small CNN trained on only 1,000 MNIST and 1,000 Fashion-MNIST
 *            images, with and without augmentation: the train-test gap, which
 *            augmentation shrinks.
 * Pictures go to build/ch03/. Every number comes from a seeded run.
 * Options: --epochs N; cnn also --no-augment (the images as they are). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_augment.h"
#include "nn_cnn_models.h"
#include "nn_conv2d.h"
#include "nn_fit.h"
#include "nn_idx.h"
#include "nn_image.h"
#include "nn_model.h"
#include "nn_plot.h"
#include "nn_progress.h"

#define OUT_DIR "build/ch03"

static void make_out_dir(void) {
  mkdir("build", 0755);
  mkdir(OUT_DIR, 0755);
}

static void say_written(nn_status st, const char *path, const nn_error *err) {
  if (st == NN_OK)
    printf("   picture: %s\n", path);
  else
    printf("   note: %s\n", err->msg);
}

/* --epochs N, --gpu (and, where allowed, --no-augment). */
typedef struct {
  int epochs; /* 0: the demo's own */
  bool no_augment;
  nn_device device; /* where the models train: the GPU with --gpu when there is one */
} demo_options;

static bool parse_options(const char *cmd, bool takes_no_augment, int argc, char **argv, demo_options *o) {
  *o = (demo_options){0};
  bool gpu = false;
  for (int i = 1; i < argc; i++) {
    if (takes_no_augment && !strcmp(argv[i], "--no-augment")) {
      o->no_augment = true;
    } else if (!strcmp(argv[i], "--gpu")) {
      gpu = true;
    } else if (!strcmp(argv[i], "--epochs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
      o->epochs = atoi(argv[++i]);
    } else {
      fprintf(stderr, "usage: nn %s [--epochs N] [--gpu]%s\n", cmd, takes_no_augment ? " [--no-augment]" : "");
      return false;
    }
  }
  o->device = demo_device(gpu);
  return true;
}

/* x (N, C, H, W) -> (N, C, s H, s W), each pixel an s x s block (nearest neighbour). */
static nn_tensor enlarge(const nn_tensor *x, int s) {
  int N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
  nn_tensor y = nn_tensor_new(4, (int[]){N, C, s * H, s * W}, NN_CPU);
  for (long p = 0; p < (long)N * C; p++)
    for (int h = 0; h < s * H; h++)
      for (int w = 0; w < s * W; w++) y.data[(p * s * H + h) * s * W + w] = x->data[(p * H + h / s) * W + w / s];
  return y;
}

/* conv1's F filters (F, 1, 3, 3) as one picture: gray is 0, white the largest |w|, black
 * its negative (one scale for all, so the filters can be compared), each 16x larger. */
static void draw_filters(const nn_conv2d *conv1, const char *path) {
  const nn_tensor *W = &conv1->W;
  long n = nn_numel(W);
  float top = 0;
  for (long i = 0; i < n; i++) top = fmaxf(top, fabsf(W->data[i]));
  nn_tensor shown = nn_tensor_new(4, W->shape, NN_CPU);
  for (long i = 0; i < n; i++) shown.data[i] = 0.5f + 0.5f * W->data[i] / (top > 0 ? top : 1);
  nn_tensor big = enlarge(&shown, 16);
  nn_error err = {0};
  say_written(nn_image_write_grid(path, &big, 8, &err), path, &err);
  nn_tensor_free(&shown), nn_tensor_free(&big);
}

/* What conv1 + ReLU make of one digit: the digit (its 1-pixel border cut, 26 x 26), then
 * the F maps (26 x 26), each scaled to its own maximum, 3x larger. */
static void draw_feature_maps(nn_conv2d *conv1, const nn_tensor *digit, const char *path) {
  int F = conv1->F;
  nn_tensor maps = nn_tensor_new(4, (int[]){1, F, 26, 26}, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU); /* the forward's im2col workspace */
  nn_call c = {.arena = ws, .training = false};
  nn_conv2d_forward(conv1, &c, digit, &maps);
  nn_arena_free(ws);
  nn_tensor tiles = nn_tensor_new(4, (int[]){F + 1, 1, 26, 26}, NN_CPU);
  for (int h = 0; h < 26; h++)
    for (int w = 0; w < 26; w++) tiles.data[h * 26 + w] = digit->data[(h + 1) * 28 + w + 1];
  for (int f = 0; f < F; f++) {
    const float *map = maps.data + f * 26 * 26;
    float *tile = tiles.data + (f + 1) * 26 * 26, top = 0;
    for (int p = 0; p < 26 * 26; p++) tile[p] = fmaxf(map[p], 0.f), top = fmaxf(top, tile[p]); /* ReLU */
    for (int p = 0; p < 26 * 26 && top > 0; p++) tile[p] /= top;
  }
  nn_tensor big = enlarge(&tiles, 3);
  nn_error err = {0};
  say_written(nn_image_write_grid(path, &big, 11, &err), path, &err);
  nn_tensor_free(&maps), nn_tensor_free(&tiles), nn_tensor_free(&big);
}

/* ---- nn cnn */

int cmd_cnn(int argc, char **argv) {
  demo_options o;
  if (!parse_options("cnn", true, argc, argv, &o)) return 2;
  demo_images d;
  if (!demo_load_images("datasets/mnist-10k", &d)) return 1;
  printf("== The seeds' CNN on MNIST: %d train / %d test images\n", d.X_train.shape[0], d.X_test.shape[0]);
  nn_rng rng = nn_rng_new(42);
  const float dropout = 0.3f, lr = 2e-3f;
  nn_model *m = nn_mnist_cnn(32, 64, dropout, &rng);
  nn_optim_config cfg = nn_optim_defaults(NN_ADAM);
  cfg.lr = lr;
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, &cfg);
  nn_model_to(m, o.device);
  nn_model_summary(m, stdout);

  int epochs = o.epochs ? o.epochs : 15, shift = 1;
  nn_cosine_annealing sched = nn_cosine_annealing_make(lr, epochs);
  nn_callback *cbs[] = {&sched.base};
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = 64, fo.callbacks = cbs, fo.n_callbacks = 1;
  if (!o.no_augment) fo.augment = nn_augment_random_shift, fo.augment_ctx = &shift;
  printf("   Adam, lr %g decayed to 0 along a cosine over %d epochs, batch 64, dropout %g before the Dense layer,\n"
         "   %s\n", lr, epochs, dropout,
         o.no_augment ? "the images as they are (--no-augment)"
                      : "every training image shifted by up to 1 pixel each epoch (nn_augment.h)");
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &d.X_train, d.y_train, NULL, &fo);
  double train_s = nn_seconds() - t0;
  nn_eval test = nn_model_evaluate(m, &d.X_test, d.y_test, NULL, 250);
  printf("   test: loss %.4f  accuracy %.2f%%   (training took %.1f s, %.1f s an epoch)\n", test.loss,
         100 * test.accuracy, train_s, train_s / h.epochs);
  nn_model_to(m, NN_CPU); /* the checkpoint and the pictures read the weights on the host */

  make_out_dir();
  nn_error err = {0};
  if (nn_model_save(m, OUT_DIR "/cnn.ckpt", &err) == NN_OK)
    printf("   checkpoint: %s (nn gradcam uses it)\n", OUT_DIR "/cnn.ckpt");
  else
    printf("   note: %s\n", err.msg);
  nn_conv2d *conv1 = (nn_conv2d *)m->layers[0];
  printf("   conv1's 32 filters, 3x3 each, drawn 48x48 (gray 0, white positive, black negative):\n");
  draw_filters(conv1, OUT_DIR "/filters.png");
  nn_tensor digit = d.X_test;
  digit.shape[0] = 1;
  printf("   test digit 0 (a %d) and its 32 feature maps after conv1 + ReLU, each scaled to its maximum:\n",
         d.y_test[0]);
  draw_feature_maps(conv1, &digit, OUT_DIR "/feature_maps.png");
  printf("   A filter with a light and a dark side is an edge detector: its map lights up along one\n"
         "   side of the strokes only. Others answer the whole stroke, or the background around it.\n");

  enum { MAX_CURVE = 64 };
  float loss[MAX_CURVE], epoch_x[MAX_CURVE];
  int n = h.epochs < MAX_CURVE ? h.epochs : MAX_CURVE;
  for (int e = 0; e < n; e++) loss[e] = (float)h.loss[e], epoch_x[e] = (float)(e + 1);
  nn_series s = {"train loss", epoch_x, loss, n, false};
  if (n >= 2) /* a curve needs two points */
    say_written(nn_plot_lines(OUT_DIR "/cnn_loss.png",
                              &(nn_plot_style){"The seeds' CNN on MNIST", "epoch", "cross-entropy", true}, &s, 1, &err),
                OUT_DIR "/cnn_loss.png", &err);
  nn_history_free(&h), nn_model_free(m), demo_free_images(&d);
  return 0;
}

/* ---- nn augment */

/* The augment grid: rows of the same COLS images, original, shifted, flipped, cropped. */
static void draw_augment_grid(const nn_tensor *X, const char *path) {
  enum { COLS = 8, ROWS = 4, PLANE = 28 * 28 };
  nn_tensor grid = nn_tensor_new(4, (int[]){ROWS * COLS, 1, 28, 28}, NN_CPU);
  for (int r = 0; r < ROWS; r++) memcpy(grid.data + r * COLS * PLANE, X->data, sizeof(float) * COLS * PLANE);
  nn_tensor row = grid;
  row.shape[0] = COLS;
  nn_rng rng = nn_rng_new(3);
  row.data = grid.data + 1 * COLS * PLANE;
  nn_random_shift(&row, 4, &rng);
  row.data = grid.data + 2 * COLS * PLANE;
  nn_random_flip(&row, 1.f, &rng);
  row.data = grid.data + 3 * COLS * PLANE;
  nn_random_crop(&row, 4, &rng);
  nn_tensor big = enlarge(&grid, 2);
  nn_error err = {0};
  say_written(nn_image_write_grid(path, &big, COLS, &err), path, &err);
  nn_tensor_free(&grid), nn_tensor_free(&big);
}

/* What one run of the over-fitting experiment measured. */
typedef struct {
  double train_acc, test_acc, seconds;
} gap_result;

/* A small CNN (16 and 32 filters) trained on the first n training images for `epochs`,
 * with aug (or none); its accuracy on those n images (as they are) and on the test set. */
static gap_result small_cnn_gap(const demo_images *d, int n, int epochs, nn_augment_config *aug, nn_device device) {
  nn_rng rng = nn_rng_new(42);
  nn_model *m = nn_mnist_cnn(16, 32, 0.f, &rng);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  nn_model_to(m, device);
  nn_tensor X = d->X_train;
  X.shape[0] = n;
  nn_fit_options fo = nn_fit_defaults();
  fo.epochs = epochs, fo.batch_size = 32, fo.verbose = 0;
  if (aug) fo.augment = nn_augment_apply, fo.augment_ctx = aug;
  double t0 = nn_seconds();
  nn_history h = nn_model_fit(m, &X, d->y_train, NULL, &fo);
  gap_result r = {.seconds = nn_seconds() - t0};
  r.train_acc = nn_model_evaluate(m, &X, d->y_train, NULL, 250).accuracy;
  r.test_acc = nn_model_evaluate(m, &d->X_test, d->y_test, NULL, 250).accuracy;
  nn_history_free(&h), nn_model_free(m);
  return r;
}

int cmd_augment(int argc, char **argv) {
  demo_options o;
  if (!parse_options("augment", false, argc, argv, &o)) return 2;
  demo_images sets[2];
  if (!demo_load_images("datasets/mnist-10k", &sets[0])) return 1;
  if (!demo_load_images("datasets/fashion-mnist-10k", &sets[1])) return demo_free_images(&sets[0]), 1;
  make_out_dir();
  printf("== Data augmentation (nn_augment.h)\n"
         "   rows: 8 Fashion-MNIST test images; shifted by up to 4 pixels; mirrored; padded by 4 and\n"
         "   cropped back to 28 x 28 at a random place (which is a shift by up to 4 under another name)\n");
  draw_augment_grid(&sets[1].X_test, OUT_DIR "/augment_grid.png");

  enum { SUBSET = 1000 };
  int epochs = o.epochs ? o.epochs : 40;
  /* Digits: a shift keeps a digit a digit; a mirror does not (a mirrored 2 is no digit at all).
   * Clothes: a mirrored shirt is a shirt; Fashion-MNIST's items are centred, so a small crop. */
  nn_augment_config digits_aug = {.max_shift = 1}, clothes_aug = {.crop_pad = 1, .flip_p = 0.5f};
  struct {
    const char *data, *label;
    demo_images *d;
    nn_augment_config *aug;
  } runs[4] = {{"MNIST", "as they are", &sets[0], NULL},
               {"MNIST", "random shift by up to 1", &sets[0], &digits_aug},
               {"Fashion", "as they are", &sets[1], NULL},
               {"Fashion", "flip p 0.5 + pad-1 crop", &sets[1], &clothes_aug}};
  printf("\n   A small CNN (Conv 16, Conv 32, Dense 10) trained on only the first %d training images,\n"
         "   %d epochs, Adam lr 1e-3, batch 32; tested on the %d test images of the same set:\n", SUBSET, epochs,
         sets[0].X_test.shape[0]);
  printf("   %-8s %-26s %10s %10s %8s %8s\n", "data", "training images", "train acc", "test acc", "gap", "seconds");
  for (int r = 0; r < 4; r++) {
    gap_result g = small_cnn_gap(runs[r].d, SUBSET, epochs, runs[r].aug, o.device);
    printf("   %-8s %-26s %9.2f%% %9.2f%% %7.2f%% %8.1f\n", runs[r].data, runs[r].label, 100 * g.train_acc,
           100 * g.test_acc, 100 * (g.train_acc - g.test_acc), g.seconds);
  }
  printf("   Without augmentation the network learns its 1,000 images by heart: train accuracy near\n"
         "   100 %%, far above test. Augmentation shows it new variants every epoch, so it cannot\n"
         "   memorise them, and the train-test gap shrinks. On the digits the test accuracy rises too:\n"
         "   shifted digits are digits the test set has. On the centred clothes it does not: the\n"
         "   harder training set costs about what it gains in %d epoch%s. Augmentation is a\n"
         "   regulariser, not free accuracy; it pays most when data are few and variants are real.\n",
         epochs, epochs == 1 ? "" : "s");
  demo_free_images(&sets[0]), demo_free_images(&sets[1]);
  return 0;
}
