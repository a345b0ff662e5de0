/* The summary table (nn_summary.h) that nn_model_summary and `nn summary` print: the rows
 * as columns, the totals as the rows' sums (non-trainable = params - trainable), shapes in
 * the framework's layout, and the Buffers line in PyTorch's conventions only. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_summary.h"

/* The table of two rows (a BatchNorm counted Keras' way, a large conv) in fw's conventions. */
static char *two_rows(nn_framework fw) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  nn_shape img = nn_shape_image(16, 8, 8);
  nn_summary s;
  nn_summary_begin(&s, f, fw, "Model: \"t\"");
  nn_summary_row(&s, "bn (BatchNorm)", &img, 64, 32, 33);
  nn_summary_row(&s, "conv (Conv2d)", &img, 1234567, 1234567, 0);
  nn_summary_end(&s);
  fclose(f);
  return buf;
}

Test(summary, totals_are_the_rows_sums) {
  for (int fw = 0; fw < 2; fw++) {
    char *t = two_rows((nn_framework)fw);
    cr_assert(!strncmp(t, "Model: \"t\"\n====", 15), "the title, then a rule:\n%s", t);
    cr_assert(strstr(t, "\n Layer (type)                       Output shape                 Params    Trainable\n"),
              "no column header:\n%s", t);
    cr_assert(strstr(t, "\nTotal params: 1,234,631\n"), "64 + 1,234,567 = 1,234,631:\n%s", t);
    cr_assert(strstr(t, "\nTrainable params: 1,234,599\n"), "32 + 1,234,567 = 1,234,599:\n%s", t);
    cr_assert(strstr(t, "\nNon-trainable params: 32\n"), "1,234,631 - 1,234,599 = 32:\n%s", t);
    free(t);
  }
}

Test(summary, shapes_and_buffers_follow_the_framework) {
  char *t = two_rows(NN_PYTORCH);
  cr_assert(strstr(t, "\n conv (Conv2d)                      (N, 16, 8, 8)             1,234,567    1,234,567\n"),
            "the conv row, PyTorch's (N, C, H, W):\n%s", t);
  cr_assert(strstr(t, "\nBuffers (state_dict, not parameters): 33\n"), "the buffers, apart:\n%s", t);
  free(t);
  t = two_rows(NN_KERAS);
  cr_assert(strstr(t, "\n conv (Conv2d)                      (None, 8, 8, 16)          1,234,567    1,234,567\n"),
            "the conv row, Keras' (None, H, W, C):\n%s", t);
  cr_assert_null(strstr(t, "Buffers"), "Keras counts no buffers (its moving statistics are params):\n%s", t);
  free(t);
}
