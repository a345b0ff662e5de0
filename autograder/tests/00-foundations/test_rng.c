/* PCG32 against the published reference outputs, and the distributions' moments. */
#include <criterion/criterion.h>
#include <math.h>

#include "nn_rng.h"

Test(rng, pcg32_matches_the_reference_demo) {
  /* pcg32-demo, pcg32_srandom_r(&rng, 42, 54), round 1 */
  const uint32_t want[6] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
  nn_rng r = nn_rng_new(42);
  for (int i = 0; i < 6; i++) {
    uint32_t got = nn_rng_u32(&r);
    cr_assert_eq(got, want[i], "output %d is 0x%08x, expected 0x%08x", i, got, want[i]);
  }
}

Test(rng, same_seed_same_numbers_other_seed_other_numbers) {
  nn_rng a = nn_rng_new(7), b = nn_rng_new(7), c = nn_rng_new(8);
  int differ = 0;
  for (int i = 0; i < 100; i++) {
    uint32_t x = nn_rng_u32(&a);
    cr_assert_eq(x, nn_rng_u32(&b));
    differ += x != nn_rng_u32(&c);
  }
  cr_assert_gt(differ, 95);
}

Test(rng, uniform_stays_in_range_with_the_right_mean) {
  nn_rng r = nn_rng_new(1);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; i++) {
    float u = nn_rng_uniform(&r, -2.f, 3.f);
    cr_assert(u >= -2.f && u < 3.f, "uniform(-2, 3) gave %g", u);
    sum += u;
  }
  /* mean 0.5, std of the mean 5/sqrt(12 n) = 0.0032 */
  cr_assert(fabs(sum / n - 0.5) < 0.02, "mean of uniform(-2, 3) is %g, expected 0.5", sum / n);
}

Test(rng, normal_has_mean_and_std_asked_for) {
  nn_rng r = nn_rng_new(2);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; i++) {
    double z = nn_rng_normal(&r, 1.f, 2.f);
    sum += z;
    sq += z * z;
  }
  double mean = sum / n, std = sqrt(sq / n - mean * mean);
  cr_assert(fabs(mean - 1.0) < 0.03, "mean %g, expected 1", mean);
  cr_assert(fabs(std - 2.0) < 0.03, "std %g, expected 2", std);
}

Test(rng, below_is_unbiased_and_in_range) {
  nn_rng r = nn_rng_new(3);
  int count[3] = {0};
  for (int i = 0; i < 30000; i++) {
    uint32_t k = nn_rng_below(&r, 3);
    cr_assert_lt(k, 3u);
    count[k]++;
  }
  for (int k = 0; k < 3; k++) cr_assert(abs(count[k] - 10000) < 400, "value %d drawn %d times of 30000", k, count[k]);
}

Test(rng, permutation_holds_each_index_once) {
  nn_rng r = nn_rng_new(4);
  int p[1000], seen[1000] = {0}, moved = 0;
  nn_rng_permutation(&r, p, 1000);
  for (int i = 0; i < 1000; i++) {
    cr_assert(p[i] >= 0 && p[i] < 1000);
    cr_assert_eq(seen[p[i]]++, 0, "index %d appears twice", p[i]);
    moved += p[i] != i;
  }
  cr_assert_gt(moved, 950, "only %d of 1000 indices moved", moved);
}
