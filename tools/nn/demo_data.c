/* demo_data.c: loading the demos' image sets. */
#include "demo_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cuda.h"
#include "nn_idx.h"

bool demo_load_images(const char *dir, demo_images *d) {
  nn_error err = {0};
  *d = (demo_images){0};
  if (nn_mnist_load(dir, "train", &d->X_train, &d->y_train, &err) != NN_OK ||
      nn_mnist_load(dir, "t10k", &d->X_test, &d->y_test, &err) != NN_OK) {
    fprintf(stderr, "nn: %s\n   (run nn from the repository root, where datasets/ is)\n", err.msg);
    demo_free_images(d);
    return false;
  }
  return true;
}

nn_device demo_device(bool want_gpu) {
  if (!want_gpu) return NN_CPU;
  if (nn_cuda_available()) {
    printf("   --gpu: training on %s\n", nn_cuda_describe());
    return NN_GPU;
  }
  printf("   --gpu: %s; training on the CPU\n", nn_cuda_describe());
  return NN_CPU;
}

bool demo_cpu_only_options(const char *cmd, int argc, char **argv) {
  bool gpu = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--gpu") != 0) {
      fprintf(stderr, "usage: nn %s [--gpu]\n", cmd);
      return false;
    }
    gpu = true;
  }
  if (gpu)
    printf("   --gpu: training on the CPU: chapter 01's models are loops over plain arrays; tensors and "
           "their GPU path come with chapter 02\n");
  return true;
}

void demo_free_images(demo_images *d) {
  nn_tensor_free(&d->X_train), nn_tensor_free(&d->X_test);
  free(d->y_train), free(d->y_test);
  *d = (demo_images){0};
}
