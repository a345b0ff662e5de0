/* Resampling: class counts after under- and over-sampling, valid indices, no
 * duplicates when under-sampling, every original kept when over-sampling, determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
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

/* ---- SMOTE */

/* Class 1 (4 points on the corners of a unit square, far from class 0) grows to 10 rows:
 * the originals first and unchanged, then 6 new rows of class 1, each on the segment
 * between a class-1 point and one of its k = 2 nearest class-1 neighbours. */
Test(smote, new_rows_lie_between_a_point_and_one_of_its_neighbours) {
  enum { N0 = 10, N1 = 4, D = 2, K = 2 };
  float data[(N0 + N1) * D];
  int y[N0 + N1];
  nn_rng rng = nn_rng_new(9);
  for (int i = 0; i < N0; i++) data[2 * i] = 10.f + (float)i, data[2 * i + 1] = -5.f, y[i] = 0;
  const float corners[N1][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (int i = 0; i < N1; i++) data[2 * (N0 + i)] = corners[i][0], data[2 * (N0 + i) + 1] = corners[i][1], y[N0 + i] = 1;
  nn_tensor X = nn_tensor_from(2, (int[]){N0 + N1, D}, data), X_out;
  int *y_out;
  nn_error err = {0};
  cr_assert_eq(nn_smote(&X, y, 2, K, &rng, &X_out, &y_out, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(X_out.shape[0], 2 * N0, "two classes of %d rows: %d, got %d", N0, 2 * N0, X_out.shape[0]);
  cr_assert_eq(memcmp(X_out.data, data, sizeof data), 0, "the originals come first, unchanged");
  for (int r = N0 + N1; r < 2 * N0; r++) {
    cr_assert_eq(y_out[r], 1, "row %d is class %d; only class 1 grows", r, y_out[r]);
    float px = X_out.data[2 * r], py = X_out.data[2 * r + 1];
    /* in the unit square, and on an edge of it: each corner's 2 nearest are its two edge
     * neighbours (distance 1), never the opposite corner (distance sqrt 2) */
    bool on_edge = (fabsf(px) < 1e-6f || fabsf(px - 1) < 1e-6f || fabsf(py) < 1e-6f || fabsf(py - 1) < 1e-6f);
    cr_assert(px >= 0 && px <= 1 && py >= 0 && py <= 1 && on_edge,
              "row %d = (%g, %g) is not on a segment from a corner to one of its 2 nearest corners", r, px, py);
  }
  free(y_out), nn_tensor_free(&X_out), nn_tensor_free(&X);
}

/* Whether p lies on the segment x_i + u (x_j - x_i), u in [0, 1], for some member i of the
 * class and one of i's k nearest other members j (by the test's own search, in double). */
static bool on_a_neighbour_segment(const float *X, int D, const int *members, int count, int k, const float *p) {
  for (int a = 0; a < count; a++) {
    const float *xi = X + (long)members[a] * D;
    double d_i[64]; /* squared distance from i to each member */
    for (int b = 0; b < count; b++) {
      d_i[b] = 0;
      for (int d = 0; d < D; d++) d_i[b] += ((double)X[(long)members[b] * D + d] - xi[d]) * ((double)X[(long)members[b] * D + d] - xi[d]);
    }
    for (int b = 0; b < count; b++) {
      if (b == a) continue;
      int closer = 0; /* members nearer to i than b (ties: lower index first), i itself left out */
      for (int c = 0; c < count; c++)
        if (c != a && c != b && (d_i[c] < d_i[b] || (d_i[c] == d_i[b] && c < b))) closer++;
      if (closer >= k) continue; /* b is not among i's k nearest */
      const float *xj = X + (long)members[b] * D;
      double u = -1, best = 0; /* the u that puts x_i + u (x_j - x_i) nearest p */
      for (int d = 0; d < D; d++) best += ((double)xj[d] - xi[d]) * ((double)xj[d] - xi[d]);
      if (best == 0) continue;
      double dot = 0;
      for (int d = 0; d < D; d++) dot += ((double)p[d] - xi[d]) * ((double)xj[d] - xi[d]);
      u = dot / best;
      if (u < -1e-6 || u > 1 + 1e-6) continue;
      double miss = 0;
      for (int d = 0; d < D; d++) {
        double q = xi[d] + u * ((double)xj[d] - xi[d]) - p[d];
        miss += q * q;
      }
      if (miss <= 1e-9 * (1 + best)) return true;
    }
  }
  return false;
}

/* Graded (the lab's nearest): every new row lies between a member of its class and one of
 * that member's k nearest others. Public: the unit square's corners (k = 2: the two edge
 * neighbours, never the opposite corner); drawn: two classes of random points in D = 2..3,
 * the minority of 3..8 rows, k 1..3. A wrong neighbour search draws rows across the class or
 * towards a far point: off every such segment. */
GRADED_TEST(smote, new_rows_lie_between_a_row_and_one_of_its_k_nearest) {
  int D = nn_grade_size(g, 2, 2, 3), n0 = nn_grade_size(g, 10, 9, 16), n1 = nn_grade_size(g, 4, 3, 8);
  int k = nn_grade_size(g, 2, 1, 3), n = n0 + n1;
  nn_tensor X = nn_tensor_new(2, (int[]){n, D}, NN_CPU);
  int *y = malloc(sizeof *y * (size_t)n), members[8];
  nn_rng data = nn_rng_new(nn_grade_seed(g, 21));
  nn_rng_fill_normal(&data, X.data, (long)n * D, 0.f, 1.f);
  for (int i = 0; i < n; i++) y[i] = i >= n0, X.data[(long)i * D] += i < n0 ? 10.f : 0.f; /* class 0 far away */
  if (nn_grade_public(g)) {
    const float corners[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
    for (int i = 0; i < 4; i++) X.data[(long)(n0 + i) * D] = corners[i][0], X.data[(long)(n0 + i) * D + 1] = corners[i][1];
  }
  for (int i = 0; i < n1; i++) members[i] = n0 + i;
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 22));
  nn_tensor X_out = {0};
  int *y_out = NULL;
  nn_error err = {0};
  int status = nn_smote(&X, y, 2, k, &rng, &X_out, &y_out, &err);
  answer(g, "nn_smote's status (0: NN_OK)", &status, 1);
  expect(g, status == NN_OK, "nn_smote refused two classes of %d and %d rows: %s", n0, n1, err.msg);
  nn_tensor out = nn_tensor_new(2, (int[]){2 * n0, D}, NN_CPU); /* the rows nn_smote must give */
  if (status == NN_OK && X_out.ndim == 2 && X_out.shape[0] == 2 * n0 && X_out.shape[1] == D)
    memcpy(out.data, X_out.data, nn_tensor_bytes(&out));
  answer(g, "the rows of X_out", out.data, nn_numel(&out));
  expect(g, memcmp(out.data, X.data, nn_tensor_bytes(&X)) == 0, "the first %d rows of X_out must be X, unchanged", n);
  for (int r = n; r < 2 * n0; r++) {
    const float *p = out.data + (long)r * D;
    expect(g, on_a_neighbour_segment(X.data, D, members, n1, k, p), "new row %d = (%g, %g%s) is on no segment from a "
           "class-1 row to one of its k = %d nearest class-1 rows", r, p[0], p[1], D > 2 ? ", ..." : "", k);
    int copy = -1; /* a row counted among its own neighbours gives x_i + u (x_i - x_i) = x_i: a copy */
    for (int i = 0; i < n1 && copy < 0; i++)
      if (memcmp(p, X.data + (long)members[i] * D, sizeof(float) * (size_t)D) == 0) copy = members[i];
    expect(g, copy < 0, "new row %d is a copy of row %d: is a row among its own nearest neighbours?", r, copy);
  }
  free(y), free(y_out), nn_tensor_free(&X), nn_tensor_free(&X_out), nn_tensor_free(&out);
}

/* Whether p lies on the segment from xa to xb (in double, as on_a_neighbour_segment), at
 * least a fraction `margin` of it from either end (a row next to a point is on every segment
 * from that point). */
static bool on_the_segment(const float *xa, const float *xb, int D, const float *p, double margin) {
  double len2 = 0, dot = 0, miss = 0;
  for (int d = 0; d < D; d++) {
    len2 += ((double)xb[d] - xa[d]) * ((double)xb[d] - xa[d]);
    dot += ((double)p[d] - xa[d]) * ((double)xb[d] - xa[d]);
  }
  double u = dot / len2;
  if (len2 == 0 || u < margin - 1e-6 || u > 1 - margin + 1e-6) return false;
  for (int d = 0; d < D; d++) {
    double q = xa[d] + u * ((double)xb[d] - xa[d]) - p[d];
    miss += q * q;
  }
  return miss <= 1e-9 * (1 + len2);
}

/* Graded (the lab's nearest where random points cannot look: a tie, and every one of the k
 * nearest). Class 1 is five points of an integer grid, scale s, no three on a line:
 *   H (0, 0), A (4s, 0), B (0, 4s), A2 (6s, -s), B2 (-s, 6s).
 * H's two nearest tie (A and B, 4s away); A's nearest is A2 (s sqrt 5), then H; B's is B2,
 * then H; A2's is A, then H; B2's is B, then H. With k = 1 the segments are H-(the lower row
 * of A and B), A-A2 and B-B2: a tie broken towards the higher row draws H towards the other,
 * a segment no row may be on. With k = 2, H-A2, H-B2 and H-(the higher of A and B) are
 * second-nearest draws, 4 in 10 of them (98 % of those more than 1 % of the way from either
 * end), and a search that hands back the nearest k times never draws one. Drawn: s, the
 * offset, the rows class 1 takes and which plays which part. Each run makes n0 - 5 >= 40 new
 * rows: a right search draws no second-nearest in 40 with chance 0.61^40, 3e-9. */
GRADED_TEST(smote, draws_towards_each_of_the_k_nearest_ties_to_the_lower_row) {
  enum { D = 2, N1 = 5, H = 0, A = 1, B = 2, A2 = 3, B2 = 4 };
  const int s = nn_grade_size(g, 1, 1, 3), n0 = nn_grade_size(g, 45, 45, 60), n = n0 + N1;
  const float ox = (float)nn_grade_size(g, 0, -5, 5), oy = (float)nn_grade_size(g, 0, -5, 5);
  const float at[N1][D] = {{0, 0}, {4.f * s, 0}, {0, 4.f * s}, {6.f * s, (float)-s}, {(float)-s, 6.f * s}};
  int row_of[N1] = {1, 2, 3, 4, 5}, *y = malloc(sizeof *y * (size_t)n), members[N1];
  int order[128]; /* which rows class 1 takes: the first N1 of a shuffle of 0..n-1, in row order */
  for (int i = 0; i < n; i++) order[i] = i;
  if (!nn_grade_public(g)) {
    nn_rng pick = nn_rng_new(nn_grade_seed(g, 23));
    nn_rng_shuffle(&pick, order, n);
    nn_rng_shuffle(&pick, row_of, N1); /* which role each of them plays */
    int rows[N1];
    for (int r = 0; r < N1; r++) rows[r] = order[r];
    for (int a = 0; a < N1; a++) /* sort the rows: row_of[role] becomes a rank, then a row */
      for (int b = a + 1; b < N1; b++)
        if (rows[b] < rows[a]) { int t = rows[a]; rows[a] = rows[b]; rows[b] = t; }
    for (int r = 0; r < N1; r++) row_of[r] = rows[row_of[r] - 1];
  }
  nn_tensor X = nn_tensor_new(2, (int[]){n, D}, NN_CPU);
  for (int i = 0; i < n; i++) y[i] = 0, X.data[(long)i * D] = 100.f + (float)i, X.data[(long)i * D + 1] = -50.f;
  for (int r = 0; r < N1; r++) {
    y[row_of[r]] = 1;
    X.data[(long)row_of[r] * D] = ox + at[r][0], X.data[(long)row_of[r] * D + 1] = oy + at[r][1];
  }
  for (int i = 0, m = 0; i < n; i++)
    if (y[i] == 1) members[m++] = i;
  const int high = row_of[A] > row_of[B] ? A : B; /* the tie's loser: H must never be drawn to it at k = 1 */
  const int second[3][2] = {{H, A2}, {H, B2}, {H, high}}; /* k = 2's second-nearest segments */
  for (int k = 1; k <= 2; k++) {
    nn_rng rng = nn_rng_new(nn_grade_seed(g, 24 + k));
    nn_tensor X_out = {0};
    int *y_out = NULL;
    nn_error err = {0};
    int status = nn_smote(&X, y, 2, k, &rng, &X_out, &y_out, &err);
    answer(g, "nn_smote's status (0: NN_OK)", &status, 1);
    expect(g, status == NN_OK, "k = %d: nn_smote refused two classes of %d and %d rows: %s", k, n0, N1, err.msg);
    nn_tensor out = nn_tensor_new(2, (int[]){2 * n0, D}, NN_CPU);
    if (status == NN_OK && X_out.ndim == 2 && X_out.shape[0] == 2 * n0 && X_out.shape[1] == D)
      memcpy(out.data, X_out.data, nn_tensor_bytes(&out));
    answer(g, "the rows of X_out", out.data, nn_numel(&out));
    int seconds = 0;
    for (int r = n; r < 2 * n0; r++) {
      const float *p = out.data + (long)r * D;
      expect(g, on_a_neighbour_segment(X.data, D, members, N1, k, p), "k = %d: new row %d = (%g, %g) is on no "
             "segment from a class-1 row to one of its %d nearest (H = row %d at (%g, %g) is as near to row %d as to "
             "row %d: a tie goes to the lower row, %d)", k, r, p[0], p[1], k, row_of[H], ox, oy, row_of[A], row_of[B],
             row_of[A] < row_of[B] ? row_of[A] : row_of[B]);
      for (int q = 0; q < 3; q++)
        seconds += on_the_segment(X.data + (long)row_of[second[q][0]] * D, X.data + (long)row_of[second[q][1]] * D,
                                  D, p, 0.01);
    }
    if (k == 2)
      expect(g, seconds > 0, "k = 2: none of the %d new rows lies towards a second-nearest neighbour (from row %d to "
             "%d, %d or %d): does the search pick the same nearest row k times?", 2 * n0 - n, row_of[H],
             row_of[A2], row_of[B2], row_of[high]);
    free(y_out), nn_tensor_free(&X_out), nn_tensor_free(&out);
  }
  free(y), nn_tensor_free(&X);
}

Test(smote, a_class_of_one_example_is_refused_by_name) {
  nn_tensor X = nn_tensor_from(2, (int[]){4, 1}, (float[]){0, 1, 2, 9});
  int y[4] = {0, 0, 0, 1}, *y_out = NULL;
  nn_tensor X_out = {0};
  nn_rng rng = nn_rng_new(1);
  nn_error err = {0};
  cr_assert_eq(nn_smote(&X, y, 2, 5, &rng, &X_out, &y_out, &err), NN_ERR_ARG);
  cr_assert(strstr(err.msg, "class 1 has 1 example") && strstr(err.msg, "nn_oversample"), "%s", err.msg);
  cr_assert_null(y_out, "nothing is allocated after an error");
  nn_tensor_free(&X);
}

Test(smote, the_same_seed_gives_the_same_rows) {
  nn_tensor X = nn_tensor_from(2, (int[]){7, 2}, (float[]){0, 0, 1, 2, 3, 1, 2, 2, 8, 8, 9, 7, 7, 9});
  int y[7] = {0, 0, 0, 0, 1, 1, 1};
  nn_tensor A, B;
  int *ya, *yb;
  nn_rng r1 = nn_rng_new(5), r2 = nn_rng_new(5);
  nn_error err = {0};
  cr_assert_eq(nn_smote(&X, y, 2, 5, &r1, &A, &ya, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(nn_smote(&X, y, 2, 5, &r2, &B, &yb, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(A.shape[0], 8);
  cr_assert_eq(memcmp(A.data, B.data, nn_tensor_bytes(&A)), 0, "seed 5 twice gave different rows");
  free(ya), free(yb), nn_tensor_free(&A), nn_tensor_free(&B), nn_tensor_free(&X);
}
