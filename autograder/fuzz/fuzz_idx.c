/* libFuzzer target for the IDX parser: any bytes, read as an images file and
 * as a labels file, converted as the loaders would, then freed. A crash, an
 * out-of-bounds read (ASan) or undefined behaviour (UBSan) is a bug.
 *   make fuzz   or   build/fuzz/fuzz_idx -max_total_time=60 autograder/fuzz/corpus/idx */
#include <stdint.h>
#include <stdlib.h>

#include "nn_idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nn_idx_view view;
  nn_error err;
  if (nn_idx_parse(data, size, "fuzz", NN_IDX_MAGIC_IMAGES, &view, &err) == NN_OK) {
    nn_tensor images;
    if (nn_idx_view_to_images(&view, "fuzz", &images, &err) == NN_OK) nn_tensor_free(&images);
  }
  if (nn_idx_parse(data, size, "fuzz", NN_IDX_MAGIC_LABELS, &view, &err) == NN_OK) {
    int *labels = NULL, count = 0;
    if (nn_idx_view_to_labels(&view, "fuzz", 10, &labels, &count, &err) == NN_OK) free(labels);
  }
  return 0;
}
