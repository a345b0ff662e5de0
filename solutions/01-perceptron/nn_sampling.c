/* nn_sampling.c: random under- and over-sampling to equal class counts. */
#include "nn_sampling.h"

#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

/* The examples of each class, grouped: members[start[c] .. start[c+1]) are the
 * indices i with y[i] = c, in index order. start: (C + 1), members: (n). */
typedef struct {
  int *start, *members;
} by_class;

static by_class group_by_class(const char *fn, const int *y, int n, int C, nn_rng *rng, int *m) {
  NN_REQUIRE(y && n >= 1 && C >= 1, "%s: y is %s, n is %d, C is %d; expected labels (n >= 1) and C >= 1", fn,
             y ? "given" : "NULL", n, C);
  NN_REQUIRE(rng && m, "%s: rng and m must not be NULL", fn);
  by_class g;
  g.start = nn_xcalloc((size_t)C + 1, sizeof(int), "resampling: class starts");
  g.members = nn_xmalloc((size_t)n * sizeof(int), "resampling: class members");
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(y[i] >= 0 && y[i] < C, "%s: y[%d] is %d, outside the classes 0..%d", fn, i, y[i], C - 1);
    g.start[y[i] + 1]++;
  }
  for (int c = 0; c < C; c++) g.start[c + 1] += g.start[c];
  int *fill = nn_xmalloc((size_t)C * sizeof(int), "resampling: class cursor");
  for (int c = 0; c < C; c++) fill[c] = g.start[c];
  for (int i = 0; i < n; i++) g.members[fill[y[i]]++] = i;
  free(fill);
  return g;
}

static void by_class_free(by_class *g) {
  free(g->start);
  free(g->members);
}

int *nn_undersample(const int *y, int n, int C, nn_rng *rng, int *m) {
  by_class g = group_by_class("nn_undersample", y, n, C, rng, m);
  int target = n, present = 0;
  for (int c = 0; c < C; c++) {
    int count = g.start[c + 1] - g.start[c];
    if (count > 0 && count < target) target = count;
    present += count > 0;
  }
  int *out = nn_xmalloc((size_t)present * (size_t)target * sizeof(int), "nn_undersample: indices");
  int k = 0;
  for (int c = 0; c < C; c++) {
    int *members = g.members + g.start[c], count = g.start[c + 1] - g.start[c];
    if (count == 0) continue;
    nn_rng_shuffle(rng, members, count); /* a uniform subset: the first `target` of a shuffle */
    for (int j = 0; j < target; j++) out[k++] = members[j];
  }
  nn_rng_shuffle(rng, out, k);
  by_class_free(&g);
  *m = k;
  return out;
}

int *nn_oversample(const int *y, int n, int C, nn_rng *rng, int *m) {
  by_class g = group_by_class("nn_oversample", y, n, C, rng, m);
  int target = 0, present = 0;
  for (int c = 0; c < C; c++) {
    int count = g.start[c + 1] - g.start[c];
    if (count > target) target = count;
    present += count > 0;
  }
  int *out = nn_xmalloc((size_t)present * (size_t)target * sizeof(int), "nn_oversample: indices");
  int k = 0;
  for (int c = 0; c < C; c++) {
    const int *members = g.members + g.start[c];
    int count = g.start[c + 1] - g.start[c];
    if (count == 0) continue;
    for (int j = 0; j < count; j++) out[k++] = members[j];
    for (int j = count; j < target; j++) out[k++] = members[nn_rng_below(rng, (uint32_t)count)];
  }
  nn_rng_shuffle(rng, out, k);
  by_class_free(&g);
  *m = k;
  return out;
}

/* ---- SMOTE */

static double squared_distance(const float *a, const float *b, int D) {
  double s = 0;
  for (int d = 0; d < D; d++) s += ((double)a[d] - b[d]) * ((double)a[d] - b[d]);
  return s;
}

/* The k nearest other members of i's class into near[0..k), nearest first (ties: lower index);
 * members: (count) row indices of the class. A selection by k passes: k is small. */
static void nearest(const nn_tensor *X, const int *members, int count, int i, int k, int *near) {
  int D = X->shape[1];
  const float *xi = X->data + (long)i * D;
  /* BEGIN SOLUTION */
  /* HINT: k passes, each a selection (k is small: no sort, no allocation): pass r picks the member of the class nearest to xi that is neither i itself nor already chosen in near[0 .. r). Nearest = least squared_distance (the square root changes no order). Ties go to the member that comes first in members: which comparison, < or <=, keeps the first? */
  /* HINT2: for r < k: best = -1; for each j < count, cand = members[j], skipped when it is i or one of near[0 .. r); its distance is squared_distance(xi, row cand of X, D), row cand starting at X->data + cand*D; cand becomes best when best < 0 or its distance is strictly less than best's; then near[r] = best */
  for (int r = 0; r < k; r++) {
    int best = -1;
    double best_d = 0;
    for (int j = 0; j < count; j++) {
      int cand = members[j];
      bool taken = cand == i;
      for (int q = 0; q < r && !taken; q++) taken = near[q] == cand;
      if (taken) continue;
      double d = squared_distance(xi, X->data + (long)cand * D, D);
      if (best < 0 || d < best_d) best = cand, best_d = d;
    }
    near[r] = best;
  }
  /* END SOLUTION */
}

nn_status nn_smote(const nn_tensor *X, const int *y, int C, int k, nn_rng *rng, nn_tensor *X_out, int **y_out,
                   nn_error *err) {
  NN_REQUIRE(X && X->ndim == 2 && X->device == NN_CPU && X_out && y_out && k >= 1,
             "nn_smote: X is %s, k is %d; expected a CPU matrix (n, D), outputs and k >= 1",
             X ? nn_shape_str(X).s : "NULL", k);
  int n = X->shape[0], D = X->shape[1], m;
  by_class g = group_by_class("nn_smote", y, n, C, rng, &m);
  int target = 0, present = 0;
  for (int c = 0; c < C; c++) {
    int count = g.start[c + 1] - g.start[c];
    target = count > target ? count : target;
    present += count > 0;
  }
  for (int c = 0; c < C; c++) {
    int count = g.start[c + 1] - g.start[c];
    if (count == 1 && target > 1) {
      by_class_free(&g);
      return nn_fail(err, NN_ERR_ARG, "nn_smote: class %d has 1 example, so no neighbour to draw a new one towards; "
                     "over-sample it (nn_oversample) or collect more", c);
    }
  }
  m = present * target;
  *X_out = nn_tensor_new(2, (int[]){m, D}, NN_CPU);
  *y_out = nn_xmalloc((size_t)m * sizeof **y_out, "nn_smote: labels");
  memcpy(X_out->data, X->data, sizeof(float) * (size_t)n * D);
  memcpy(*y_out, y, sizeof(int) * (size_t)n);
  int *near = nn_xmalloc((size_t)k * sizeof *near, "nn_smote: neighbours");
  int row = n;
  for (int c = 0; c < C; c++) {
    const int *members = g.members + g.start[c];
    int count = g.start[c + 1] - g.start[c], kc = k < count - 1 ? k : count - 1;
    for (int s = count; s < target && count > 0; s++, row++) {
      int i = members[nn_rng_below(rng, (uint32_t)count)];
      nearest(X, members, count, i, kc, near);
      int j = near[nn_rng_below(rng, (uint32_t)kc)];
      float u = nn_rng_uniform(rng, 0.f, 1.f);
      const float *xi = X->data + (long)i * D, *xj = X->data + (long)j * D;
      float *out = X_out->data + (long)row * D;
      for (int d = 0; d < D; d++) out[d] = xi[d] + u * (xj[d] - xi[d]);
      (*y_out)[row] = c;
    }
  }
  free(near);
  by_class_free(&g);
  return NN_OK;
}
