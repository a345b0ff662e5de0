/* nn_regularizer.c: the L1 and L2 penalties; see nn_regularizer.h. The GPU loop is in nn_loss.cu,
 * beside the losses' reductions. */
#include "nn_regularizer.h"

#include <math.h>

#include "nn_mlp_cuda.h"

/* l1 |w| + l2 w^2 summed over n weights; g += l1 sign(w) + 2 l2 w when g is not NULL */
static double regularize_cpu(const float *w, float *g, long n, float l1, float l2) {
  double sum = 0;
  for (long i = 0; i < n; i++) {
    double wi = w[i];
    /* BEGIN SOLUTION */
    /* HINT: the penalty adds l1 |w| + l2 w^2 to sum; its derivative l1 sign(w) + 2 l2 w goes INTO g[i] (+=, when g is not NULL), with sign(0) = 0: no pull on a weight that is already 0 */
    /* HINT2: sign(wi) as (wi > 0) minus (wi < 0) gives -1, 0 or 1; sum gains l1 fabs(wi) + l2 wi^2 (in double); when g is not NULL, g[i] gains l1 sign + 2 l2 wi, as a float */
    double sign = (wi > 0) - (wi < 0);
    sum += l1 * fabs(wi) + l2 * wi * wi;
    if (g) g[i] += (float)(l1 * sign + 2 * l2 * wi);
    /* END SOLUTION */
  }
  return sum;
}

double nn_regularize(const nn_param *params, int count, float l1, float l2, bool add_grads, nn_arena *scratch) {
  NN_REQUIRE(count >= 0 && (params || count == 0), "nn_regularize: %d params and a NULL list", count);
  NN_REQUIRE(l1 >= 0.f && l2 >= 0.f, "nn_regularize: l1 = %g, l2 = %g; both must be >= 0", l1, l2);
  double sum = 0;
  for (int k = 0; k < count; k++) {
    const nn_param *p = &params[k];
    NN_REQUIRE(!add_grads || (p->grad && nn_same_shape(p->value, p->grad) && p->grad->device == p->value->device),
               "nn_regularize: %s is %s but its grad is %s; they must match", p->name, nn_shape_str(p->value).s,
               p->grad ? nn_shape_str(p->grad).s : "NULL");
    float *g = add_grads ? p->grad->data : NULL;
    long n = nn_numel(p->value);
    switch (p->value->device) {
    case NN_CPU: sum += regularize_cpu(p->value->data, g, n, l1, l2); break;
    case NN_GPU: sum += nn_regularize_cuda(p->value->data, g, n, l1, l2, scratch); break;
    }
  }
  return sum;
}
