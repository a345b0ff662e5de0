/* libFuzzer target: nn_image_decode on arbitrary bytes must return a status,
 * never crash, leak or read out of bounds; a decoded image must be well formed. */
#include <stdint.h>

#include "nn_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int CHANNELS[] = {0, 1, 3};
  for (int k = 0; k < 3; k++) {
    nn_tensor img;
    if (nn_image_decode(data, size, "fuzz", CHANNELS[k], &img, NULL) != NN_OK) continue;
    if (img.ndim != 4 || img.shape[0] != 1) __builtin_trap();
    nn_tensor_free(&img);
  }
  return 0;
}
