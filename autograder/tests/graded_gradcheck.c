/* graded_gradcheck.c: the analytic gradients of a gradcheck as answers (graded_gradcheck.h). */
#include "graded_gradcheck.h"

#include <stdio.h>

static void answer_gradient(void *g, const char *name, float *grad, long n) {
  char what[64];
  snprintf(what, sizeof what, "d%s (your backward)", name);
  answer_floats(g, what, grad, n);
}

nn_gradcheck graded_gradcheck(nn_grade *g, nn_layer *l, const nn_tensor *x, double h, uint64_t seed, bool training) {
  return nn_gradcheck_layer_with(l, x, h, seed, training, answer_gradient, g);
}
