/* nn_sampling.c: random under- and over-sampling to equal class counts. */
#include "nn_sampling.h"

#include <stdlib.h>

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
