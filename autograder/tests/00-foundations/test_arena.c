/* The arena: aligned bump allocation, reset, and a step that stops allocating once it has
 * been seen (nn_arena.h). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "nn_arena.h"

Test(arena, hands_out_aligned_disjoint_memory) {
  nn_arena *a = nn_arena_new(NN_CPU);
  char *p = nn_arena_alloc(a, 3), *q = nn_arena_alloc(a, 100);
  cr_assert((uintptr_t)p % 64 == 0 && (uintptr_t)q % 64 == 0, "blocks must be 64-byte aligned: %p %p", (void *)p,
            (void *)q);
  cr_assert(q >= p + 3, "the second block (%p) overlaps the first (%p, 3 bytes)", (void *)q, (void *)p);
  memset(p, 1, 3), memset(q, 2, 100);
  cr_assert(p[2] == 1, "writing the second block changed the first");
  cr_assert_eq(nn_arena_used(a), 64 + 128, "3 and 100 bytes, each rounded up to 64: 192 used, got %zu",
               nn_arena_used(a));
  nn_arena_free(a);
}

Test(arena, tensor_has_the_shape_and_zeros_are_zero) {
  nn_arena *a = nn_arena_new(NN_CPU);
  nn_tensor t = nn_arena_tensor(a, 3, (int[]){2, 3, 4});
  cr_assert(t.ndim == 3 && t.shape[0] == 2 && t.shape[1] == 3 && t.shape[2] == 4 && t.device == NN_CPU,
            "nn_arena_tensor gave %s", nn_shape_str(&t).s);
  for (long i = 0; i < nn_numel(&t); i++) t.data[i] = 7.f; /* dirty the memory, then reuse it */
  nn_arena_reset(a);
  nn_tensor z = nn_arena_zeros(a, 2, (int[]){4, 6});
  cr_assert(z.data == t.data, "after a reset the arena hands out the same memory again");
  for (long i = 0; i < nn_numel(&z); i++) cr_assert(z.data[i] == 0.f, "zeros[%ld] = %g", i, z.data[i]);
  int *record = nn_arena_record(a, 10 * sizeof(int));
  for (int i = 0; i < 10; i++) cr_assert(record[i] == 0, "a record is zeroed: [%d] = %d", i, record[i]);
  nn_arena_free(a);
}

/* A "step" of uneven requests, far larger than the first block. */
static void step(nn_arena *a, int scale) {
  nn_arena_reset(a);
  for (int i = 1; i <= 40; i++) {
    float *f = nn_arena_floats(a, (long)i * 1000 * scale);
    f[0] = f[(long)i * 1000 * scale - 1] = 1.f; /* both ends are ours */
  }
}

Test(arena, a_repeated_step_allocates_only_the_first_time) {
  nn_arena *a = nn_arena_new(NN_CPU);
  step(a, 1);
  long first = nn_arena_allocations(a);
  cr_assert(first >= 1, "the first step must allocate");
  step(a, 1); /* the reset before it merged the first step's blocks into one */
  long second = nn_arena_allocations(a);
  for (int i = 0; i < 5; i++) step(a, 1);
  cr_assert_eq(nn_arena_allocations(a), second, "steps 3 to 7 allocated %ld blocks; a step the arena has seen "
               "must allocate none", nn_arena_allocations(a) - second);
  step(a, 2); /* a larger step spills, and the reset after it grows the block once more */
  step(a, 2);
  long grown = nn_arena_allocations(a);
  cr_assert(grown > second, "a step twice as large must have allocated");
  step(a, 2), step(a, 1), step(a, 2);
  cr_assert_eq(nn_arena_allocations(a), grown, "after one larger step, the same or smaller steps must not "
               "allocate (%ld blocks more)", nn_arena_allocations(a) - grown);
  nn_arena_free(a);
}
