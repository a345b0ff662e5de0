/* libFuzzer target for the CSV parser: any bytes (an exact buffer, no '\0'
 * after it), parsed with no target, with a target, and with a target plus
 * ignored columns; every table it returns is freed.
 *   make fuzz   or   build/fuzz/fuzz_csv -max_total_time=60 autograder/fuzz/corpus/csv */
#include <stdint.h>

#include "nn_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const nn_csv_options variants[] = {
      {.target = NULL, .ignore = NULL},
      {.target = "target", .ignore = NULL},
      {.target = "target", .ignore = "time, id"},
  };
  for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
    nn_table table;
    nn_error err;
    if (nn_csv_parse((const char *)data, size, "fuzz", &variants[i], &table, &err) == NN_OK)
      nn_table_free(&table);
  }
  return 0;
}
