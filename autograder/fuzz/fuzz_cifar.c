/* libFuzzer target for the CIFAR-10 batch parser: any bytes, parsed whole and as a
 * one-record prefix. A crash, an out-of-bounds read (ASan) or undefined behaviour
 * (UBSan) is a bug; so is an accepted file that breaks the format's promises: a whole
 * number of 3073-byte records, labels 0..9, pixels in [0, 1], the prefix no longer than asked.
 *   make fuzz   or   build/fuzz/fuzz_cifar -max_total_time=60 autograder/fuzz/corpus/cifar */
#include <stdint.h>
#include <stdlib.h>

#include "nn_cifar.h"

static void parse(const uint8_t *data, size_t size, int max) {
  nn_tensor x;
  int *y = NULL;
  if (nn_cifar_parse(data, size, "fuzz", max, &x, &y, NULL) != NN_OK) return;
  size_t records = size / NN_CIFAR_RECORD;
  int n = x.shape[0];
  if (size % NN_CIFAR_RECORD != 0 || n < 1 || (size_t)n > records || (max > 0 && n > max)) __builtin_trap();
  for (int i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= NN_CIFAR_CLASSES) __builtin_trap();
  for (long i = 0; i < nn_numel(&x); i++)
    if (!(x.data[i] >= 0.f && x.data[i] <= 1.f)) __builtin_trap();
  nn_tensor_free(&x);
  free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  parse(data, size, 0);
  parse(data, size, 1);
  return 0;
}
