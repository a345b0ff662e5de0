/* nn_rng.c: PCG32 and the distributions the course draws from. */
#include "nn_rng.h"

#include <math.h>

#include "nn_common.h"

/* PCG's seeding procedure: any seed, any stream, gives a well-mixed start. */
nn_rng nn_rng_new_stream(uint64_t seed, uint64_t stream) {
  nn_rng r = {.state = 0, .inc = (stream << 1) | 1u};
  nn_rng_u32(&r);
  r.state += seed;
  nn_rng_u32(&r);
  return r;
}

nn_rng nn_rng_new(uint64_t seed) { return nn_rng_new_stream(seed, 54); }

/* ANCHOR: pcg32_step */
uint32_t nn_rng_u32(nn_rng *r) {
  uint64_t old = r->state;
  r->state = old * 6364136223846793005ULL + r->inc;
  uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
  uint32_t rot = (uint32_t)(old >> 59);
  return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}
/* ANCHOR_END: pcg32_step */

uint32_t nn_rng_below(nn_rng *r, uint32_t n) {
  NN_REQUIRE(n > 0, "nn_rng_below: n is 0; the range [0, n) is empty");
  /* Reject the few values at the top that would make some results more likely. */
  uint32_t threshold = (uint32_t)(-n) % n;
  for (;;) {
    uint32_t x = nn_rng_u32(r);
    if (x >= threshold) return x % n;
  }
}

float nn_rng_uniform(nn_rng *r, float lo, float hi) {
  float u = (float)(nn_rng_u32(r) >> 8) * (1.0f / 16777216.0f); /* [0, 1) in steps of 2^-24 */
  return lo + (hi - lo) * u;
}

float nn_rng_normal(nn_rng *r, float mean, float std) {
  if (r->has_spare) {
    r->has_spare = 0;
    return mean + std * r->spare_normal;
  }
  /* Box-Muller: u1 in (0, 1] so log(u1) is finite;
   * z0 = sqrt(-2 ln u1) cos(2 pi u2), z1 = sqrt(-2 ln u1) sin(2 pi u2) are independent N(0, 1). */
  double u1 = 1.0 - nn_rng_uniform(r, 0.f, 1.f);
  double u2 = nn_rng_uniform(r, 0.f, 1.f);
  double radius = sqrt(-2.0 * log(u1)), angle = 2.0 * 3.14159265358979323846 * u2;
  r->spare_normal = (float)(radius * sin(angle));
  r->has_spare = 1;
  return mean + std * (float)(radius * cos(angle));
}

void nn_rng_fill_uniform(nn_rng *r, float *x, long n, float lo, float hi) {
  for (long i = 0; i < n; i++) x[i] = nn_rng_uniform(r, lo, hi);
}

void nn_rng_fill_normal(nn_rng *r, float *x, long n, float mean, float std) {
  for (long i = 0; i < n; i++) x[i] = nn_rng_normal(r, mean, std);
}

void nn_rng_shuffle(nn_rng *r, int *a, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = (int)nn_rng_below(r, (uint32_t)i + 1); /* j uniform in [0, i] */
    int tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
}

void nn_rng_permutation(nn_rng *r, int *a, int n) {
  for (int i = 0; i < n; i++) a[i] = i;
  nn_rng_shuffle(r, a, n);
}
