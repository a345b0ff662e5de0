/* libFuzzer target: nn_nsmc_parse (the NSMC review TSV) on arbitrary bytes must
 * return a status, never crash, leak or read out of bounds; a parsed set must be
 * well formed (labels 0/1, one document per review). */
#include <stdint.h>
#include <string.h>

#include "nn_nsmc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nn_nsmc d;
  if (nn_nsmc_parse(data, size, "fuzz", &d, NULL) != NN_OK) return 0;
  for (int i = 0; i < d.n; i++) {
    if (d.labels[i] != 0 && d.labels[i] != 1) __builtin_trap();
    if (!d.docs[i]) __builtin_trap();
    (void)strlen(d.docs[i]); /* each document is a terminated string inside the set */
  }
  nn_nsmc_free(&d);
  return 0;
}
