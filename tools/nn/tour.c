/* nn tour: what `make` shows a newcomer in under a minute.
 *   1. load the bundled MNIST sample and count its labels
 *   2. draw one digit in the terminal
 *   3. write 64 digits as one PNG grid
 *   4. time the GEMM backends and chart GFLOP/s with gnuplot
 *   5. say where to go next
 * Everything it writes goes to build/tour/. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_idx.h"
#include "nn_image.h"
#include "nn_parallel.h"
#include "nn_plot.h"
#include "nn_progress.h"
#include "nn_rng.h"
#include "nn_tensor.h"

#define OUT_DIR "build/tour"
#define MNIST_DIR "datasets/mnist-10k"

/* ---- steps 1-3: the bundled MNIST sample */

/* Ink as characters, light to dark: one character per pixel, two per column so
 * the digit is not squashed (terminal cells are about twice as tall as wide). */
static void print_digit(const float *pixels, int height, int width) {
  static const char RAMP[] = " .:-=+*#%@";
  for (int h = 0; h < height; h++) {
    printf("   ");
    for (int w = 0; w < width; w++) {
      int level = (int)(pixels[h * width + w] * 9.999f);
      printf("%c%c", RAMP[level], RAMP[level]);
    }
    printf("\n");
  }
}

static void print_histogram(const int *labels, int count) {
  int per_class[10] = {0};
  for (int i = 0; i < count; i++) per_class[labels[i]]++;
  for (int c = 0; c < 10; c++) {
    printf("   %d %5d ", c, per_class[c]);
    for (int k = 0; k < per_class[c] / 40; k++) printf("#");
    printf("\n");
  }
}

static int step_mnist(void) {
  printf("\n1. Loading the bundled MNIST sample from " MNIST_DIR "/ ...\n");
  nn_tensor images;
  int *labels;
  nn_error err = {0};
  if (nn_mnist_load(MNIST_DIR, "train", &images, &labels, &err) != NN_OK) {
    printf("   %s\n   (run the tour from the repository root, where datasets/ is)\n", err.msg);
    return 1;
  }
  int count = images.shape[0], height = images.shape[2], width = images.shape[3];
  printf("   %d training images, tensor %s: (N, C, H, W), floats in [0, 1].\n   Labels per class:\n",
         count, nn_shape_str(&images).s);
  print_histogram(labels, count);

  printf("\n2. Image 0 is labelled %d. Its %dx%d pixels, as characters:\n\n", labels[0], height, width);
  print_digit(images.data, height, width);

  printf("\n3. The first 64 images as one picture: ");
  nn_tensor first64 = nn_tensor_new(4, (int[]){64, 1, height, width}, NN_CPU);
  memcpy(first64.data, images.data, nn_tensor_bytes(&first64));
  if (nn_image_write_grid(OUT_DIR "/digits.png", &first64, 8, &err) == NN_OK)
    printf(OUT_DIR "/digits.png\n   Labels: ");
  else
    printf("\n   %s\n", err.msg);
  for (int i = 0; i < 64; i++) printf("%d%s", labels[i], i % 8 == 7 && i < 63 ? " | " : "");
  printf("\n");
  nn_tensor_free(&first64);
  nn_tensor_free(&images);
  free(labels);
  return 0;
}

/* ---- step 4: GEMM timing. GFLOP/s = 2 n^3 / seconds / 1e9 (one multiply and one add per term). */
enum { N_SIZES = 4 };
static const int SIZES[N_SIZES] = {64, 128, 256, 512};

/* Best of `reps` runs, in seconds; device pointers for GPU backends. */
static double time_gemm(nn_gemm_backend b, int n, const float *A, const float *B, float *C, int reps) {
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = nn_seconds();
    nn_sgemm_with(b, false, false, n, n, n, 1.f, A, B, 0.f, C);
    if (nn_gemm_device(b) == NN_GPU) nn_cuda_synchronize();
    double t = nn_seconds() - t0;
    if (t < best) best = t;
  }
  return best;
}

static float gflops_at(nn_gemm_backend b, int n, nn_rng *rng) {
  nn_device dev = nn_gemm_device(b);
  nn_tensor A = nn_tensor_new(2, (int[]){n, n}, NN_CPU), B = nn_tensor_new(2, (int[]){n, n}, NN_CPU);
  nn_rng_fill_uniform(rng, A.data, nn_numel(&A), -1.f, 1.f);
  nn_rng_fill_uniform(rng, B.data, nn_numel(&B), -1.f, 1.f);
  nn_tensor dA = nn_tensor_to(&A, dev), dB = nn_tensor_to(&B, dev);
  nn_tensor C = nn_tensor_new(2, (int[]){n, n}, dev);
  time_gemm(b, n, dA.data, dB.data, C.data, 1); /* warm-up: caches, thread pools, cuBLAS handle */
  double s = time_gemm(b, n, dA.data, dB.data, C.data, b == NN_GEMM_NAIVE ? 1 : 3);
  nn_tensor_free(&A), nn_tensor_free(&B), nn_tensor_free(&dA), nn_tensor_free(&dB), nn_tensor_free(&C);
  return (float)(2.0 * n * n * n / s / 1e9);
}

static void step_gemm(void) {
  printf("\n4. The matrix multiply every layer of this course calls: nn_sgemm, C = A @ B.\n");
  printf("   GFLOP/s (billions of multiply-adds x2 per second; higher is better):\n\n   %-9s", "n");
  for (int i = 0; i < N_SIZES; i++) printf("%9d", SIZES[i]);
  printf("\n");
  float x[N_SIZES], y[NN_GEMM_BACKENDS][N_SIZES];
  nn_series series[NN_GEMM_BACKENDS];
  int count = 0;
  nn_rng rng = nn_rng_new(42);
  nn_set_threads(1); /* one core each: a fair race */
  for (int i = 0; i < N_SIZES; i++) x[i] = (float)SIZES[i];
  for (int b = 0; b < NN_GEMM_BACKENDS; b++) {
    if (!nn_gemm_available((nn_gemm_backend)b)) continue;
    printf("   %-9s", nn_gemm_name((nn_gemm_backend)b));
    for (int i = 0; i < N_SIZES; i++) {
      y[count][i] = gflops_at((nn_gemm_backend)b, SIZES[i], &rng);
      printf("%9.1f", y[count][i]);
      fflush(stdout);
    }
    printf("\n");
    series[count] = (nn_series){.label = nn_gemm_name((nn_gemm_backend)b), .x = x, .y = y[count], .n = N_SIZES};
    count++;
  }
  if (!nn_openblas_available()) printf("   (no OpenBLAS in this build: apt-get install libopenblas-dev)\n");
  if (!nn_cuda_available()) printf("   (no GPU rows; %s)\n", nn_cuda_describe());
  printf("\n   Same arithmetic, very different speed: the blocked kernel keeps tiles of A and B\n"
         "   in cache while it reuses them; chapter 00's lab asks you to write it.\n");
  nn_plot_style style = {.title = "nn_sgemm backends, square n x n, 1 CPU thread",
                         .xlabel = "n", .ylabel = "GFLOP/s", .log_y = true};
  nn_error err = {0};
  if (nn_plot_lines(OUT_DIR "/gemm.png", &style, series, count, &err) == NN_OK)
    printf("   Chart: " OUT_DIR "/gemm.png (data and gnuplot script beside it)\n");
  else
    printf("   Note: %s\n", err.msg);
}

static void step_next(void) {
  printf("\n5. Where to go next\n"
         "   - read chapters/00-foundations/README.md: tensors, the RNG, GEMM, loaders\n"
         "   - make test      every test of the reference solutions (%s)\n"
         "   - make bench     blocked GEMM vs OpenBLAS, and the GPU kernels when there is a GPU\n"
         "   - ./build/nn info  what this build found (OpenBLAS, GPU, gnuplot, threads)\n",
         "ends with N passed, N failed, N skipped");
}

int cmd_tour(int argc, char **argv) {
  (void)argc, (void)argv;
  double t0 = nn_seconds();
  mkdir("build", 0755);
  mkdir(OUT_DIR, 0755);
  printf("Welcome to deep learning in C. This tour takes under a minute.\n");
  int failed = step_mnist();
  step_gemm();
  step_next();
  printf("\nTour done in %.1f s.\n", nn_seconds() - t0);
  return failed;
}
