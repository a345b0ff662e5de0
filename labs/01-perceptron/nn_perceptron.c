/* nn_perceptron.c: the perceptron rule; see nn_perceptron.h. */
#include "nn_perceptron.h"

#include <stdlib.h>

#include "nn_gemm.h"
#include "nn_rng.h"

nn_perceptron nn_perceptron_new(int D) {
  NN_REQUIRE(D >= 1, "nn_perceptron_new: D = %d, expected at least 1 input", D);
  return (nn_perceptron){.w = nn_tensor_new(1, (int[]){D}, NN_CPU), .b = 0.f};
}

void nn_perceptron_free(nn_perceptron *p) { nn_tensor_free(&p->w); }

static void require_inputs(const char *fn, const nn_perceptron *p, const nn_tensor *X) {
  NN_REQUIRE(X->device == NN_CPU && p->w.device == NN_CPU, "%s: X and w must be on the CPU", fn);
  NN_REQUIRE(X->ndim == 2 && X->shape[1] == p->w.shape[0],
             "%s: X is %s but w is %s; X must be (N, %d)", fn, nn_shape_str(X).s,
             nn_shape_str(&p->w).s, p->w.shape[0]);
}

int nn_perceptron_predict_one(const nn_perceptron *p, const float *x) {
  int D = p->w.shape[0];
  float z = p->b;
  for (int d = 0; d < D; d++) z += p->w.data[d] * x[d];
  return z > 0.f;
}

void nn_perceptron_predict(const nn_perceptron *p, const nn_tensor *X, int *yhat) {
  require_inputs("nn_perceptron_predict", p, X);
  int N = X->shape[0], D = X->shape[1];
  float *z = nn_xmalloc((size_t)N * sizeof *z, "perceptron scores (N)");
  nn_sgemm(false, false, N, 1, D, 1.f, X->data, p->w.data, 0.f, z, NN_CPU); /* z = X w */
  for (int i = 0; i < N; i++) yhat[i] = z[i] + p->b > 0.f;
  free(z);
}

int nn_perceptron_update(nn_perceptron *p, const float *x, int y, float lr) {
  NN_REQUIRE(y == 0 || y == 1, "nn_perceptron_update: label y = %d, expected 0 or 1", y);
  int yhat = nn_perceptron_predict_one(p, x);
  if (yhat == y) return 0;
  int D = p->w.shape[0];
  /* TODO(lab 01-perceptron): write this part of nn_perceptron_update. */
  /* HINT: a mistake was made (yhat != y), so y - yhat is +1 for a missed positive and -1 for a false alarm. Rosenblatt's rule moves w by lr (y - yhat) x and b by lr (y - yhat) (b is the weight of an input that is always 1). Work out how much the score w.x + b of this same x changes: why does that turn the decision towards y? */
  NN_LAB_STUB("01-perceptron", "nn_perceptron_update");
  return 1;
}

int nn_perceptron_fit(nn_perceptron *p, const nn_tensor *X, const int *y,
                      const nn_perceptron_options *opt, int *mistakes) {
  require_inputs("nn_perceptron_fit", p, X);
  NN_REQUIRE(opt->lr > 0.f && opt->max_epochs >= 1,
             "nn_perceptron_fit: lr = %g, max_epochs = %d; expected lr > 0 and max_epochs >= 1",
             opt->lr, opt->max_epochs);
  int N = X->shape[0], D = X->shape[1];
  int *order = nn_xmalloc((size_t)N * sizeof *order, "perceptron epoch order (N)");
  nn_rng rng = nn_rng_new(opt->seed);
  int epoch = 0, wrong = 1;
  /* ANCHOR: perceptron_epochs */
  while (wrong > 0 && epoch < opt->max_epochs) {
    nn_rng_permutation(&rng, order, N);
    wrong = 0;
    for (int k = 0; k < N; k++) {
      int i = order[k];
      wrong += nn_perceptron_update(p, X->data + (long)i * D, y[i], opt->lr);
    }
    if (mistakes) mistakes[epoch] = wrong;
    epoch++;
  }
  /* ANCHOR_END: perceptron_epochs */
  free(order);
  return epoch;
}
