/* calc_expect.h: the checks every shape-calculator test makes (nn_shapes.h's nn_calc):
 * a calculation succeeded, gave this shape, counted these parameters with a formula that
 * shows the result, or failed with a message that names the facts. Each fails the
 * Criterion test with what it got and what was expected. */
#ifndef CALC_EXPECT_H
#define CALC_EXPECT_H

#include "nn_shapes.h"

/* st is NN_OK, else the test fails with err's message; what names the calculation. */
void calc_ok(nn_status st, const nn_error *err, const char *what);
/* s has ndim axes d0, d1, d2 (the first ndim of them). */
void calc_expect_shape(const nn_shape *s, int ndim, int d0, int d1, int d2, const char *what);
/* c counted `params`, and its formula ends "= <that number>". */
void calc_expect_params(const nn_calc *c, long params, const char *what);
/* st is NN_ERR_ARG and err's message contains fact1 (and fact2, unless NULL). */
void calc_expect_error(nn_status st, const nn_error *err, const char *fact1, const char *fact2);

#endif
