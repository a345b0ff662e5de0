/* graded_local.c: a GRADED_TEST under Criterion (make test). One process, solutions/:
 * every expect() is an assertion, answers and inputs do nothing. The body runs for the
 * public variant and one fixed draw, so a variant that the grade would draw is proved on
 * the reference here too (`make test` fails if a drawn size breaks the test itself). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "graded_internal.h"

enum { LOCAL_VARIANTS = 2 }; /* variant 0 and one draw */

static void local_finish(nn_grade *g, grade_outcome outcome, const char *message) {
  if (outcome == GRADE_SKIPPED) cr_skip_test("%s", message);
  if (g->variant == 0) cr_assert_fail("%s", message);
  cr_assert_fail("%s [variant %d: sizes and seeds drawn from %#llx, as a grade would]", message, g->variant,
                 (unsigned long long)g->seed);
}

void nn_graded_run_local(nn_graded_fn fn, const char *suite, const char *name) {
  char test[300];
  snprintf(test, sizeof test, "%s::%s", suite, name);
  uint64_t name_hash = 1469598103934665603ull; /* FNV-1a: each test its own draws */
  for (const char *c = test; *c; c++) name_hash = (name_hash ^ (unsigned char)*c) * 1099511628211ull;
  for (int v = 0; v < LOCAL_VARIANTS; v++) {
    nn_grade g = {.mode = NN_GRADE_LOCAL, .test = test, .variant = v, .seed = v ? nn_grade_mix(name_hash + (uint64_t)v) : 0,
                  .in_fd = -1, .out_fd = -1, .finish = local_finish};
    fn(&g);
  }
}

nn_grade *nn_grade_here(void) {
  static nn_grade here = {.mode = NN_GRADE_LOCAL, .test = "(a Criterion test)", .in_fd = -1, .out_fd = -1,
                          .finish = local_finish};
  return &here;
}
