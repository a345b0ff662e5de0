/* graded_gradcheck.h: a finite-difference gradient check a grade can trust.
 *
 * nn_gradcheck_layer returns its own verdict (the worst relative error), which a worker could
 * simply make up. Here the analytic gradients the code under test computes (dx and every
 * parameter's gradient, after one backward of L = sum r y) are ANSWERS: the checker puts them
 * in place of its own and compares them with the finite differences of the reference's
 * forward. In make test this is nn_gradcheck_layer_with, unchanged.
 *
 *   nn_gradcheck r = graded_gradcheck(g, &d->base, &x, 1e-2, 42, false);
 *   expect(g, r.max_rel < 1e-3, "%s: analytic %g, numeric %g", nn_gradcheck_where(&r).s, r.analytic, r.numeric);
 */
#ifndef GRADED_GRADCHECK_H
#define GRADED_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "graded.h"
#include "nn_gradcheck.h"

/* training: every forward in training mode (nn_gradcheck_layer_training), else eval. */
nn_gradcheck graded_gradcheck(nn_grade *g, nn_layer *l, const nn_tensor *x, double h, uint64_t seed, bool training);

#endif
