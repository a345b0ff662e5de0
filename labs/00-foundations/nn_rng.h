/* nn_rng.h: the course's one random number generator, PCG32 (O'Neill, 2014).
 *
 * 64-bit state, 32-bit output:  state = state * 6364136223846793005 + inc
 *                               out   = rotr32(((state >> 18) ^ state) >> 27, state >> 59)
 * Small, fast, statistically good, and every run with the same seed gives the
 * same numbers on every machine, which is what tests and experiments need.
 * There is no global generator: pass an nn_rng * to whatever needs randomness.
 */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

typedef struct {
  uint64_t state;
  uint64_t inc;        /* stream selector, always odd */
  float spare_normal;  /* Box-Muller makes normals in pairs; the second waits here */
  int has_spare;
} nn_rng;

/* Seed with the stream of PCG's reference demo (54), so the first outputs of
 * nn_rng_new(42) can be checked against the published ones. */
nn_rng nn_rng_new(uint64_t seed);
nn_rng nn_rng_new_stream(uint64_t seed, uint64_t stream);

uint32_t nn_rng_u32(nn_rng *r);
/* Uniform integer in [0, n), without modulo bias. n >= 1. */
uint32_t nn_rng_below(nn_rng *r, uint32_t n);
/* Uniform float in [lo, hi): 24 random bits, so every value is exact in float. */
float nn_rng_uniform(nn_rng *r, float lo, float hi);
/* Normal(mean, std^2) by the Box-Muller transform. */
float nn_rng_normal(nn_rng *r, float mean, float std);

void nn_rng_fill_uniform(nn_rng *r, float *x, long n, float lo, float hi);
void nn_rng_fill_normal(nn_rng *r, float *x, long n, float mean, float std);
/* Fisher-Yates: every permutation of a[0..n) equally likely. */
void nn_rng_shuffle(nn_rng *r, int *a, int n);
/* a = a random permutation of 0..n-1, e.g. the order of one training epoch. */
void nn_rng_permutation(nn_rng *r, int *a, int n);

#endif
