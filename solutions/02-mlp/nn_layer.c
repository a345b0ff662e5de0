/* nn_layer.c: what all layers share. */
#include "nn_layer.h"

enum { MAX_PARAMS = 16 };

long nn_layer_param_count(nn_layer *l) {
  nn_param p[MAX_PARAMS];
  int count = l->ops->params(l, p, MAX_PARAMS);
  long total = 0;
  for (int i = 0; i < count; i++) total += nn_numel(p[i].value);
  return total;
}
