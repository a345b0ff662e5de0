/* Resampling: class counts after under- and over-sampling, valid indices, no
 * duplicates when under-sampling, every original kept when over-sampling, determinism. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "nn_sampling.h"

/* 60 of class 0, 25 of class 1, none of class 2, 15 of class 3 (C = 4, n = 100), shuffled. */
static void labels(int *y) {
  for (int i = 0; i < 100; i++) y[i] = i < 60 ? 0 : i < 85 ? 1 : 3;
  nn_rng r = nn_rng_new(99);
  nn_rng_shuffle(&r, y, 100);
}

static void count_classes(const int *y, const int *idx, int m, int *count) {
  memset(count, 0, 4 * sizeof(int));
  for (int j = 0; j < m; j++) {
    cr_assert(idx[j] >= 0 && idx[j] < 100, "index %d at position %d is not in 0..99", idx[j], j);
    count[y[idx[j]]]++;
  }
}

Test(sampling, undersample_gives_min_count_per_class_without_duplicates) {
  int y[100], count[4], m = 0, seen[100] = {0};
  labels(y);
  nn_rng rng = nn_rng_new(1);
  int *idx = nn_undersample(y, 100, 4, &rng, &m);
  cr_assert_eq(m, 45, "3 classes present, smallest has 15: 45 indices, got %d", m);
  count_classes(y, idx, m, count);
  cr_assert(count[0] == 15 && count[1] == 15 && count[2] == 0 && count[3] == 15,
            "class counts %d/%d/%d/%d, expected 15/15/0/15 (the absent class 2 is ignored)", count[0], count[1],
            count[2], count[3]);
  for (int j = 0; j < m; j++)
    cr_assert_eq(seen[idx[j]]++, 0, "index %d drawn twice: under-sampling is without replacement", idx[j]);
  free(idx);
}

Test(sampling, oversample_gives_max_count_per_class_and_keeps_every_original) {
  int y[100], count[4], m = 0, seen[100] = {0};
  labels(y);
  nn_rng rng = nn_rng_new(2);
  int *idx = nn_oversample(y, 100, 4, &rng, &m);
  cr_assert_eq(m, 180, "3 classes present, largest has 60: 180 indices, got %d", m);
  count_classes(y, idx, m, count);
  cr_assert(count[0] == 60 && count[1] == 60 && count[2] == 0 && count[3] == 60,
            "class counts %d/%d/%d/%d, expected 60/60/0/60", count[0], count[1], count[2], count[3]);
  for (int j = 0; j < m; j++) seen[idx[j]]++;
  for (int i = 0; i < 100; i++)
    cr_assert(seen[i] >= 1, "example %d (class %d) was dropped; over-sampling keeps all", i, y[i]);
  for (int i = 0; i < 100; i++)
    if (y[i] == 0) cr_assert_eq(seen[i], 1, "majority example %d appears %d times, expected once", i, seen[i]);
  free(idx);
}

Test(sampling, same_seed_same_indices_other_seed_other_indices) {
  int y[100], ma, mb, mc;
  labels(y);
  nn_rng a = nn_rng_new(5), b = nn_rng_new(5), c = nn_rng_new(6);
  int *ia = nn_oversample(y, 100, 4, &a, &ma), *ib = nn_oversample(y, 100, 4, &b, &mb),
      *ic = nn_oversample(y, 100, 4, &c, &mc);
  cr_assert(ma == mb && memcmp(ia, ib, (size_t)ma * sizeof(int)) == 0, "seed 5 twice gave different indices");
  cr_assert(memcmp(ia, ic, (size_t)ma * sizeof(int)) != 0, "seeds 5 and 6 gave the same indices");
  free(ia);
  free(ib);
  free(ic);
  nn_rng d = nn_rng_new(5), e = nn_rng_new(5);
  int *ud = nn_undersample(y, 100, 4, &d, &ma), *ue = nn_undersample(y, 100, 4, &e, &mb);
  cr_assert(ma == mb && memcmp(ud, ue, (size_t)ma * sizeof(int)) == 0, "under-sampling: seed 5 twice differed");
  free(ud);
  free(ue);
}

Test(sampling, label_out_of_range_aborts, .signal = SIGABRT) {
  int y[3] = {0, 1, 2}, m;
  nn_rng rng = nn_rng_new(1);
  nn_undersample(y, 3, 2, &rng, &m);
}
