/* calc_expect.c: the shape-calculator tests' shared checks (calc_expect.h). */
#include "calc_expect.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

void calc_ok(nn_status st, const nn_error *err, const char *what) {
  cr_assert_eq(st, NN_OK, "%s: %s: %s", what, nn_status_name(st), err->msg);
}

void calc_expect_shape(const nn_shape *s, int ndim, int d0, int d1, int d2, const char *what) {
  int want[3] = {d0, d1, d2};
  cr_assert_eq(s->ndim, ndim, "%s: %d axes, expected %d", what, s->ndim, ndim);
  for (int i = 0; i < ndim; i++)
    cr_assert_eq(s->dim[i], want[i], "%s: axis %d is %d, expected %d", what, i, s->dim[i], want[i]);
}

void calc_expect_params(const nn_calc *c, long params, const char *what) {
  cr_assert_eq(c->params, params, "%s: %ld params, expected %ld (formula: %s)", what, c->params, params, c->formula);
  cr_assert(strstr(c->formula, "= ") != NULL, "%s: the formula '%s' has no '= result'", what, c->formula);
  char tail[32];
  snprintf(tail, sizeof tail, "%ld", params);
  cr_assert(strstr(c->formula, tail) != NULL, "%s: the formula '%s' does not show the result %ld", what, c->formula,
            params);
}

void calc_expect_error(nn_status st, const nn_error *err, const char *fact1, const char *fact2) {
  cr_assert_eq(st, NN_ERR_ARG, "expected NN_ERR_ARG, got %s (%s)", nn_status_name(st), err->msg);
  cr_assert(strstr(err->msg, fact1), "the message must say \"%s\": %s", fact1, err->msg);
  cr_assert(!fact2 || strstr(err->msg, fact2), "the message must say \"%s\": %s", fact2, err->msg);
}
