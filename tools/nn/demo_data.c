/* demo_data.c: loading the demos' image sets. */
#include "demo_data.h"

#include <stdio.h>
#include <stdlib.h>

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

void demo_free_images(demo_images *d) {
  nn_tensor_free(&d->X_train), nn_tensor_free(&d->X_test);
  free(d->y_train), free(d->y_test);
  *d = (demo_images){0};
}
