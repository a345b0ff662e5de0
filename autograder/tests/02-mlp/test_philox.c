/* Philox4x32-10 (nn_philox.h) against the published known answers, and the bits and the
 * uniform numbers Dropout draws from it.
 *
 * The known answers are Random123's, tests/kat_vectors of github.com/DEShawResearch/random123
 * (v1.14.0), the three "philox4x32 10" lines: counter (4 words), key (2 words), then the
 * output (4 words):
 *   philox4x32 10 00000000 00000000 00000000 00000000 00000000 00000000   6627e8d5 e169c58d bc57ac4c 9b00dbd8
 *   philox4x32 10 ffffffff ffffffff ffffffff ffffffff ffffffff ffffffff   408f276d 41c83b0e a20bc7c6 6d5451fd
 *   philox4x32 10 243f6a88 85a308d3 13198a2e 03707344 a4093822 299f31d0   d16cfe09 94fdcceb 5001e420 24126ea1
 * (the last: the hex digits of pi). Not graded: no lab region is in nn_philox.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "nn_philox.h"

static void expect_kat(const char *name, nn_philox4x32 ctr, uint32_t k0, uint32_t k1, nn_philox4x32 want) {
  nn_philox4x32 got = nn_philox4x32_10(ctr, k0, k1);
  for (int w = 0; w < 4; w++)
    cr_expect_eq(got.v[w], want.v[w], "%s: word %d is %08x, Random123's kat_vectors say %08x", name, w, got.v[w],
                 want.v[w]);
}

Test(philox, random123_known_answers) {
  expect_kat("counter 0, key 0", (nn_philox4x32){{0, 0, 0, 0}}, 0, 0,
             (nn_philox4x32){{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}});
  expect_kat("counter ffffffff.., key ffffffff..", (nn_philox4x32){{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
             0xffffffff, 0xffffffff, (nn_philox4x32){{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}});
  expect_kat("the digits of pi", (nn_philox4x32){{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, 0xa4093822,
             0x299f31d0, (nn_philox4x32){{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}});
}

/* bits(seed, step, i) is word 0 of philox((lo i, hi i, lo step, hi step), (lo seed, hi seed)) */
Test(philox, bits_place_index_step_and_seed_as_documented) {
  uint64_t seed = 0x299f31d0a4093822ull, step = 0x0370734413198a2eull, i = 0x85a308d3243f6a88ull;
  cr_expect_eq(nn_philox_bits(seed, step, i), 0xd16cfe09u, "the pi vector as (seed, step, i): %08x",
               nn_philox_bits(seed, step, i));
  cr_expect_eq(nn_philox_bits(0, 0, 0), 0x6627e8d5u);
  cr_expect_eq(nn_philox_bits(UINT64_MAX, UINT64_MAX, UINT64_MAX), 0x408f276du);
}

/* u = (bits >> 8) 2^-24: in [0, 1), a multiple of 2^-24, and its mean and a bucket's share
 * are those of a uniform (2^16 numbers: the mean within 5 std of 1/2) */
Test(philox, uniform_is_in_0_1_and_uniform) {
  enum { N = 1 << 16, BUCKETS = 16 };
  cr_expect_eq(nn_philox_uniform(0, 0, 0), (float)(0x6627e8d5u >> 8) / 16777216.f);
  double sum = 0;
  long bucket[BUCKETS] = {0};
  for (uint64_t i = 0; i < N; i++) {
    float u = nn_philox_uniform(42, 7, i);
    cr_assert(u >= 0.f && u < 1.f, "u[%lu] = %g is outside [0, 1)", (unsigned long)i, u);
    cr_assert_eq(u * 16777216.f, (float)(long)(u * 16777216.f), "u[%lu] = %g is not a multiple of 2^-24",
                 (unsigned long)i, u);
    sum += u;
    bucket[(int)(u * BUCKETS)]++;
  }
  double mean = sum / N, std = sqrt(1.0 / 12 / N);
  cr_expect(fabs(mean - 0.5) < 5 * std, "the mean of %d uniforms is %g; expected 0.5 within %g", N, mean, 5 * std);
  double share = (double)N / BUCKETS, bstd = sqrt(share * (1 - 1.0 / BUCKETS));
  for (int b = 0; b < BUCKETS; b++)
    cr_expect(fabs(bucket[b] - share) < 5 * bstd, "[%d/16, %d/16) got %ld of %d; expected %.0f within %.0f", b,
              b + 1, bucket[b], N, share, 5 * bstd);
  /* another step, another seed: other numbers */
  cr_expect_neq(nn_philox_bits(42, 7, 0), nn_philox_bits(42, 8, 0));
  cr_expect_neq(nn_philox_bits(42, 7, 0), nn_philox_bits(43, 7, 0));
}
