/* nn_philox.h: Philox4x32-10, a counter-based random number generator (Salmon, Moraes, Dror,
 * Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3"): the generator of cuRAND's
 * curand_init(Philox4_32_10) and of PyTorch's CUDA dropout.
 *
 * A stream RNG (nn_rng) has a state that each draw moves on, so draw i needs the i draws
 * before it: one thread, in order. A counter-based RNG has no state: its output is a pure
 * function of a counter and a key,
 *
 *   bits = philox(counter, key)       counter: 4 x 32 bits, key: 2 x 32 bits, bits: 4 x 32
 *
 * so any thread on any device can compute number i on its own, and computing it twice gives
 * it twice. Dropout uses that: the mask of a call is recomputed in backward, not stored, and
 * is the same on the CPU and the GPU (nn_dropout.h).
 *
 * One round mixes the four words with two 32 x 32 -> 64-bit products (their high and low
 * halves: "PHILOX" is product, HI, LO, XOR):
 *
 *   (hi0, lo0) = M0 * c0      (hi1, lo1) = M1 * c2
 *   c <- (hi1 ^ c1 ^ k0,  lo1,  hi0 ^ c3 ^ k1,  lo0)
 *
 * and between rounds the key moves on by a Weyl sequence, k0 += W0, k1 += W1. Ten rounds
 * (the "-10"), the first with the key as given. The constants are the paper's:
 *   M0 = 0xD2511F53, M1 = 0xCD9E8D57   multipliers chosen (by search) for fast avalanche
 *   W0 = 0x9E3779B9, W1 = 0xBB67AE85   the golden ratio and sqrt(3) - 1, times 2^32
 * Checked against Random123's published known answers (test_philox.c).
 *
 * Every function is static inline and NN_HOST_DEVICE, so the C library and the CUDA
 * kernels compile the very same code: this file is the one definition of the bits.
 */
#ifndef NN_PHILOX_H
#define NN_PHILOX_H

#include <stdint.h>

/* __host__ __device__ under nvcc: the function exists on both sides; nothing in C */
#ifdef __CUDACC__
#define NN_HOST_DEVICE __host__ __device__
#else
#define NN_HOST_DEVICE
#endif

enum { NN_PHILOX_ROUNDS = 10 };
#define NN_PHILOX_M0 0xD2511F53u
#define NN_PHILOX_M1 0xCD9E8D57u
#define NN_PHILOX_W0 0x9E3779B9u
#define NN_PHILOX_W1 0xBB67AE85u

typedef struct {
  uint32_t v[4];
} nn_philox4x32;

/* Philox4x32-10 of counter c under key (k0, k1). */
static inline NN_HOST_DEVICE nn_philox4x32 nn_philox4x32_10(nn_philox4x32 c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < NN_PHILOX_ROUNDS; r++) {
    if (r > 0) k0 += NN_PHILOX_W0, k1 += NN_PHILOX_W1; /* the key schedule: rounds 2..10 */
    uint64_t p0 = (uint64_t)NN_PHILOX_M0 * c.v[0], p1 = (uint64_t)NN_PHILOX_M1 * c.v[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0, hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    nn_philox4x32 next = {{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    c = next;
  }
  return c;
}

/* The 32 random bits of number i of stream `step` under `seed`:
 *   bits(seed, step, i) = word 0 of philox((lo i, hi i, lo step, hi step), (lo seed, hi seed))
 * (cuRAND and PyTorch use all four words, four numbers a call; one a call keeps the index
 * plain, at four times the arithmetic.) */
static inline NN_HOST_DEVICE uint32_t nn_philox_bits(uint64_t seed, uint64_t step, uint64_t i) {
  nn_philox4x32 c = {{(uint32_t)i, (uint32_t)(i >> 32), (uint32_t)step, (uint32_t)(step >> 32)}};
  return nn_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32)).v[0];
}

/* A uniform float in [0, 1) from those bits: the top 24 bits times 2^-24. Exact on every
 * device (a float holds 24 bits; times a power of two rounds nothing), so the CPU and the
 * GPU compare the same float with p. */
static inline NN_HOST_DEVICE float nn_philox_uniform(uint64_t seed, uint64_t step, uint64_t i) {
  return (float)(nn_philox_bits(seed, step, i) >> 8) * 0x1p-24f;
}

#endif
