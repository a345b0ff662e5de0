/* Mini-batches: each epoch visits every example exactly once, in a new seeded
 * order, with rows and labels that belong together; the full batch is the data
 * as it is. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "nn_batches.h"

enum { N = 10, D = 3 };

/* Row i of X is (i, 10 i, 100 i) and y[i] = i, so a batch shows where its rows came from. */
static nn_tensor make_x(int *y) {
  nn_tensor X = nn_tensor_new(2, (int[]){N, D}, NN_CPU);
  for (int i = 0; i < N; i++) {
    y[i] = i;
    for (int d = 0; d < D; d++) X.data[i * D + d] = (float)i * (d == 0 ? 1 : d == 1 ? 10 : 100);
  }
  return X;
}

Test(batches, an_epoch_visits_every_example_once_with_its_row) {
  int y[N];
  nn_tensor X = make_x(y);
  nn_batches it = nn_batches_new(&X, y, N, 4, 7);
  for (int epoch = 0; epoch < 3; epoch++) {
    int seen[N] = {0}, sizes[3], count = 0;
    nn_batch b;
    for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);) {
      cr_assert_lt(count, 3, "10 examples in batches of 4 make 3 batches, got more");
      sizes[count++] = b.n;
      for (int k = 0; k < b.n; k++) {
        int i = b.y[k];
        cr_assert_eq(b.rows[k], i, "batch row %d: index %d but label %d", k, b.rows[k], i);
        cr_assert_eq(b.X.data[k * D + 2], 100.f * i, "batch row %d holds X row %g, expected X row %d", k,
                     b.X.data[k * D] , i);
        seen[i]++;
      }
    }
    cr_assert(count == 3 && sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2,
              "epoch %d: %d batches, expected sizes 4, 4, 2", epoch, count);
    for (int i = 0; i < N; i++) cr_assert_eq(seen[i], 1, "epoch %d visited example %d %d times", epoch, i, seen[i]);
  }
  nn_batches_free(&it);
  nn_tensor_free(&X);
}

/* The first rows of epoch 1 and 2 of a seed, as one number, to compare orders. */
static void first_orders(uint64_t seed, int out[2][N]) {
  int y[N];
  nn_tensor X = make_x(y);
  nn_batches it = nn_batches_new(&X, y, N, 3, seed);
  for (int e = 0; e < 2; e++) {
    nn_batch b;
    int k = 0;
    for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);)
      for (int j = 0; j < b.n; j++) out[e][k++] = b.rows[j];
  }
  nn_batches_free(&it);
  nn_tensor_free(&X);
}

Test(batches, orders_are_seeded_and_change_every_epoch) {
  int a[2][N], b[2][N], c[2][N];
  first_orders(1, a), first_orders(1, b), first_orders(2, c);
  cr_assert(memcmp(a, b, sizeof a) == 0, "the same seed must give the same orders");
  cr_assert(memcmp(a[0], a[1], sizeof a[0]) != 0, "epoch 2 must be shuffled afresh");
  cr_assert(memcmp(a, c, sizeof a) != 0, "seeds 1 and 2 gave the same orders");
}

Test(batches, the_full_batch_is_the_data_as_it_is) {
  int y[N];
  nn_tensor X = make_x(y);
  nn_batches it = nn_batches_new(&X, y, N, 0, 1);
  nn_batch b;
  nn_batches_shuffle(&it);
  cr_assert(nn_batches_next(&it, &b));
  cr_assert(b.n == N && b.X.data == X.data && b.y == y && b.rows == NULL,
            "batch 0 must be one batch holding X and y themselves (n = %d)", b.n);
  cr_assert(!nn_batches_next(&it, &b), "the full batch is the only batch of the epoch");
  nn_batches_free(&it);
  nn_tensor_free(&X);
}

Test(batches, rows_only_for_data_held_elsewhere) {
  int y[N];
  for (int i = 0; i < N; i++) y[i] = i;
  nn_batches it = nn_batches_new(NULL, y, N, 5, 3);
  nn_batch b;
  int total = 0;
  for (nn_batches_shuffle(&it); nn_batches_next(&it, &b);) {
    cr_assert_null(b.X.data, "without X a batch has no rows to copy");
    for (int k = 0; k < b.n; k++) cr_assert_eq(b.y[k], b.rows[k], "label and row index disagree");
    total += b.n;
  }
  cr_assert_eq(total, N);
  nn_batches_free(&it);
}

Test(batches, x_that_does_not_match_count_aborts, .signal = SIGABRT) {
  int y[N];
  nn_tensor X = make_x(y);
  nn_batches_new(&X, y, N + 1, 4, 1);
}

/* The notes' numbers: 60,000 images at batch 128 take 469 steps (the last of 96), 468 with
 * drop_last; a validation split of 0.2 leaves 48,000, 1,500 steps of 32. */
Test(batches, steps_per_epoch_by_hand) {
  cr_assert_eq(nn_batches_per_epoch(60000, 128, false), 469);
  cr_assert_eq(nn_batches_per_epoch(60000, 128, true), 468);
  cr_assert_eq(nn_batches_per_epoch(48000, 32, false), 1500);
  cr_assert_eq(nn_batches_per_epoch(48000, 32, true), 1500, "32 divides 48,000: drop_last drops nothing");
  cr_assert_eq(nn_batches_per_epoch(10, 0, false), 1, "batch 0 is the full batch");
  cr_assert_eq(nn_batches_per_epoch(10, 64, true), 1, "a batch larger than N is the full batch");
  /* and it is what the iterator does: count the batches of one epoch */
  int y[1000] = {0}, count = 0;
  nn_batches it = nn_batches_new(NULL, y, 1000, 64, 1);
  nn_batches_shuffle(&it);
  nn_batch b;
  while (nn_batches_next(&it, &b)) count++;
  nn_batches_free(&it);
  cr_assert_eq(count, nn_batches_per_epoch(1000, 64, false), "the iterator gave %d batches, the count says %d", count,
               nn_batches_per_epoch(1000, 64, false));
}
