/* The words a failed graded test adds (graded.h): where an element is, as an index per axis,
 * and what kind of wrong a whole answer is. Hand-made arrays, one for each kind, and arrays
 * that fit no kind: those must get no words, for a wrong diagnosis misleads more than none. */
#include <math.h>
#include <string.h>

#include "graded.h"

/* The diagnosis of got against want (n values of shape), which must contain `words` ("" : none). */
static void expect_diagnosis(const float *got, const double *want, const float *before, long n, int ndim,
                             const int *shape, const char *words) {
  nn_grade_text t = nn_grade_diagnose(got, want, before, n, ndim, shape);
  if (!*words)
    cr_assert_str_eq(t.s, "", "expected no diagnosis, got \"%s\"", t.s);
  else
    cr_assert(strstr(t.s, words), "expected a diagnosis with \"%s\", got \"%s\"", words, t.s);
}

Test(graded_feedback, where_names_each_axis) {
  cr_assert_str_eq(nn_grade_where(46, 4, (int[]){2, 3, 4, 5}).s, "[0, 2, 1, 1] (n, c, h, w)");
  cr_assert_str_eq(nn_grade_where(119, 4, (int[]){2, 3, 4, 5}).s, "[1, 2, 3, 4] (n, c, h, w)");
  cr_assert_str_eq(nn_grade_where(3 * 20 + 17, 2, (int[]){5, 20}).s, "[3, 17] (row, col)");
  cr_assert_str_eq(nn_grade_where(7, 3, (int[]){2, 2, 3}).s, "[1, 0, 1]");
  cr_assert_str_eq(nn_grade_where(5, 1, (int[]){9}).s, "[5]");
  cr_assert_str_eq(nn_grade_where(9, 1, (int[]){9}).s, "[9]", "out of range: the flat index, as it was");
  cr_assert_str_eq(nn_grade_where_as(46, 4, (int[]){2, 3, 4, 5}, "(f, c, kh, kw)").s, "[0, 2, 1, 1] (f, c, kh, kw)");
  cr_assert_str_eq(nn_grade_where_as(3, 2, (int[]){2, 2}, NULL).s, "[1, 1]");
}

Test(graded_feedback, all_zeros) {
  const double want[4] = {1, -2, 0, 3};
  expect_diagnosis((float[]){0, 0, 0, 0}, want, NULL, 4, 2, (int[]){2, 2}, "all its values are 0: never written?");
}

Test(graded_feedback, transposed) {
  /* want (2, 3) = [[1, 2, 3], [4, 5, 6]]; its transpose (3, 2) = [[1, 4], [2, 5], [3, 6]] */
  const double want[6] = {1, 2, 3, 4, 5, 6};
  expect_diagnosis((float[]){1, 4, 2, 5, 3, 6}, want, NULL, 6, 2, (int[]){2, 3},
                   "the expected (2, 3) matrix transposed (read as (3, 2)");
  const double square[4] = {1, 2, 3, 4};
  expect_diagnosis((float[]){1, 3, 2, 4}, square, NULL, 4, 2, (int[]){2, 2}, "transposed");
  /* the same values as a 1-D array: no matrix, no transpose, only values out of place */
  expect_diagnosis((float[]){1, 4, 2, 5, 3, 6}, want, NULL, 6, 1, (int[]){6}, "but at other places");
}

Test(graded_feedback, a_constant_multiple) {
  const double want[4] = {0.5, -0.25, 0.125, 1};
  expect_diagnosis((float[]){2, -1, 0.5f, 4}, want, NULL, 4, 2, (int[]){2, 2},
                   "every value is 4 times the expected: a missing or extra normaliser such as 1/N?");
  expect_diagnosis((float[]){0.125f, -0.0625f, 0.03125f, 0.25f}, want, NULL, 4, 1, (int[]){4}, "0.25 (1/4) times");
  expect_diagnosis((float[]){-0.5f, 0.25f, -0.125f, -1}, want, NULL, 4, 1, (int[]){4}, "its sign flipped");
  /* one value is a multiple of any other: no words */
  expect_diagnosis((float[]){3}, (double[]){1}, NULL, 1, 1, (int[]){1}, "");
}

Test(graded_feedback, off_by_one_element_or_row) {
  const double want[6] = {1, 2, 3, 4, 5, 6};
  expect_diagnosis((float[]){2, 3, 4, 5, 6, 0}, want, NULL, 6, 1, (int[]){6}, "of the element after it: off by one?");
  expect_diagnosis((float[]){9, 1, 2, 3, 4, 5}, want, NULL, 6, 1, (int[]){6}, "of the element before it");
  /* want (3, 2): got holds the next row's values */
  expect_diagnosis((float[]){3, 4, 5, 6, 0, 0}, want, NULL, 6, 2, (int[]){3, 2},
                   "a row (of 2) further on: off by one row?");
}

Test(graded_feedback, the_right_values_at_the_wrong_places) {
  /* a max-pool backward that sent dy[o] to dx[o], not to the window's max */
  const double want[8] = {0, 0, 1, 0, 0, 2, 0, 3};
  expect_diagnosis((float[]){1, 2, 3, 0, 0, 0, 0, 0}, want, NULL, 8, 4, (int[]){1, 1, 2, 4},
                   "it holds the expected values, but at other places: an index computed wrong?");
  expect_diagnosis((float[]){1, 2, 4, 0, 0, 0, 0, 0}, want, NULL, 8, 4, (int[]){1, 1, 2, 4}, "");
}

Test(graded_feedback, overwritten_or_never_written_when_it_should_add) {
  /* the gradient held `before`; the call adds [1, 2, 3, 4] */
  const float before[4] = {0.5f, 0.5f, -1, 2};
  const double want[4] = {1.5, 2.5, 2, 6};
  expect_diagnosis((float[]){1, 2, 3, 4}, want, before, 4, 1, (int[]){4},
                   "overwritten (=) instead of accumulated (+=)?");
  expect_diagnosis(before, want, before, 4, 1, (int[]){4}, "still holds what it held before the call");
  /* a second call that adds what the first did: before is the increment, and overwriting is the
   * likely slip (never writing would have failed the first call already) */
  const float once[3] = {1, -2, 0.5f};
  const double twice[3] = {2, -4, 1};
  expect_diagnosis(once, twice, once, 3, 1, (int[]){3}, "overwritten (=) instead of accumulated (+=)?");
  /* the call added 3 times its part (a missing 1/N), or subtracted it */
  expect_diagnosis((float[]){3.5f, 6.5f, 8, 14}, want, before, 4, 1, (int[]){4},
                   "what it added is 3 times the expected");
  expect_diagnosis((float[]){-0.5f, -1.5f, -4, -2}, want, before, 4, 1, (int[]){4},
                   "what it added has its sign flipped");
  /* without `before` the same values are no known kind */
  expect_diagnosis((float[]){1, 2, 3, 4}, want, NULL, 4, 1, (int[]){4}, "");
}

Test(graded_feedback, nan_is_named_with_its_place) {
  const double want[4] = {1, 2, 3, 4};
  expect_diagnosis((float[]){1, 2, NAN, 4}, want, NULL, 4, 2, (int[]){2, 2}, "it holds nan at [1, 0] (row, col)");
}

Test(graded_feedback, no_kind_fits_and_close_values_get_no_words) {
  const double want[6] = {0.3, -1.2, 2, 0.7, -0.1, 1.1};
  expect_diagnosis((float[]){0.3f, -1.2f, 2, 0.9f, -0.1f, 1.1f}, want, NULL, 6, 2, (int[]){2, 3}, "");
  expect_diagnosis((float[]){1.5f, 0.2f, -0.4f, 0.9f, 3, 0}, want, NULL, 6, 2, (int[]){2, 3}, "");
  /* within float rounding of want: the caller's tolerance was tighter; no pattern is claimed */
  expect_diagnosis((float[]){0.3f, -1.2f, 2, 0.7f, -0.1f, 1.1f}, want, NULL, 6, 2, (int[]){2, 3}, "");
  /* zeros where want is zero too */
  expect_diagnosis((float[]){0, 0}, (double[]){0, 0}, NULL, 2, 1, (int[]){2}, "");
}
