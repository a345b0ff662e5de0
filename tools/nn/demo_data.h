/* demo_data.h: what the demos share: an image set's train and test halves, as IDX files. */
#ifndef NN_DEMO_DATA_H
#define NN_DEMO_DATA_H

#include <stdbool.h>

#include "nn_tensor.h"

typedef struct {
  nn_tensor X_train, X_test; /* (N, 1, 28, 28) in [0, 1] */
  int *y_train, *y_test;
} demo_images;

/* dir/train-* and dir/t10k-* (datasets/mnist-10k, datasets/fashion-mnist-10k); false, after
 * saying why on stderr (and that nn runs from the repository root), when one is missing or bad. */
bool demo_load_images(const char *dir, demo_images *d);
void demo_free_images(demo_images *d);

/* Where a demo trains: the GPU when --gpu asked for it and there is one (a build with CUDA,
 * or the emulation of CUDA_EMU=1), else the CPU. With --gpu it prints which, or why not the
 * GPU; without, nothing: the CPU is every demo's default. */
nn_device demo_device(bool want_gpu);
/* The options of a demo whose models have no GPU path (chapter 01's): only --gpu, which
 * it answers by saying so; false, after the usage line, for anything else. */
bool demo_cpu_only_options(const char *cmd, int argc, char **argv);

#endif
