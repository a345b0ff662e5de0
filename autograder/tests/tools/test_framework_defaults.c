/* The table of defaults Keras and PyTorch give differently (tools/nn/framework_defaults.h),
 * which `nn exam` asks about: complete entries, found by key, with the known values. */
#include <criterion/criterion.h>
#include <string.h>

#include "framework_defaults.h"

Test(defaults, the_table_has_the_known_differences) {
  int n = 0;
  const nn_framework_default *d = nn_framework_defaults(&n);
  cr_assert(n >= 12, "only %d entries", n);
  for (int i = 0; i < n; i++) {
    cr_assert(d[i].key && d[i].what && d[i].keras_api && d[i].pytorch_api && d[i].explain, "entry %d incomplete", i);
    cr_assert(nn_framework_default_find(d[i].key) == &d[i], "%s: find gives another entry", d[i].key);
  }
  struct { const char *key; double keras, pytorch; } want[] = {
      {"leaky_relu_slope", 0.3, 0.01}, {"rmsprop_rho", 0.9, 0.99},   {"adagrad_initial_accumulator", 0.1, 0},
      {"batchnorm_momentum", 0.99, 0.1}, {"batchnorm_eps", 1e-3, 1e-5}, {"adam_eps", 1e-7, 1e-8},
      {"transformer_dim_feedforward", 0, 2048}, {"batchnorm_unbiased_running_var", 0, 1},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const nn_framework_default *e = nn_framework_default_find(want[i].key);
    cr_assert_not_null(e, "no entry %s", want[i].key);
    cr_assert_float_eq(e->keras, want[i].keras, 1e-12, "%s: keras %g", want[i].key, e->keras);
    cr_assert_float_eq(e->pytorch, want[i].pytorch, 1e-12, "%s: pytorch %g", want[i].key, e->pytorch);
  }
  cr_assert(strstr(nn_framework_default_find("batchnorm_momentum")->explain, "OLD"));
  cr_assert_null(nn_framework_default_find("no_such_key"));
}
