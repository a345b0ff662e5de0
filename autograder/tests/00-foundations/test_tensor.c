/* Tensor basics: shapes, reshape with -1, fill, copy, CPU <-> GPU round trip. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_cuda.h"
#include "nn_tensor.h"

/* A shape of ndim dimensions: public[] in the public variant, else each drawn from 1..hi. */
static void draw_shape(nn_grade *g, int ndim, const int *public, int hi, int *shape) {
  for (int d = 0; d < ndim; d++) shape[d] = nn_grade_size(g, public[d], 1, hi);
}

GRADED_TEST(tensor, new_is_zero_filled_with_its_shape) {
  int s[4];
  draw_shape(g, 4, (int[]){2, 3, 4, 5}, 7, s);
  long want = (long)s[0] * s[1] * s[2] * s[3];
  nn_tensor t = nn_tensor_new(4, s, NN_CPU);
  long numel = nn_numel(&t), bytes = (long)nn_tensor_bytes(&t);
  answer(g, "nn_numel", &numel, 1);
  answer(g, "nn_tensor_bytes", &bytes, 1);
  expect(g, numel == want, "nn_numel of (%d, %d, %d, %d) is %ld, expected %ld", s[0], s[1], s[2], s[3], numel, want);
  expect(g, bytes == 4 * want, "nn_tensor_bytes of (%d, %d, %d, %d) is %ld, expected %ld floats of 4 bytes",
         s[0], s[1], s[2], s[3], bytes, want);
  float *zeros = calloc((size_t)want, sizeof *zeros);
  memcpy(zeros, t.data, (size_t)want * sizeof *zeros);
  answer(g, "data", zeros, want);
  for (long i = 0; i < want; i++) expect(g, zeros[i] == 0.f, "data[%ld] = %g, expected 0", i, zeros[i]);
  free(zeros);
  nn_tensor_free(&t);
  int freed = t.data == NULL;
  answer(g, "data is NULL after nn_tensor_free", &freed, 1);
  expect(g, freed, "nn_tensor_free must set data to NULL");
}

Test(tensor, nchw_element_lies_where_the_formula_says) {
  /* (n, c, h, w) of (N, C, H, W) is at ((n*C + c)*H + h)*W + w */
  float v[2 * 3 * 2 * 2];
  for (int i = 0; i < 24; i++) v[i] = (float)i;
  nn_tensor t = nn_tensor_from(4, (int[]){2, 3, 2, 2}, v);
  int n = 1, c = 2, h = 1, w = 0;
  cr_assert_eq(t.data[((n * 3 + c) * 2 + h) * 2 + w], 22.f);
  nn_tensor_free(&t);
}

/* The tensor's ndim and shape, as the answer of a reshape. */
static void answer_shape(nn_grade *g, const char *what, nn_tensor *t) {
  int shape[5] = {t->ndim, t->shape[0], t->shape[1], t->shape[2], t->shape[3]};
  answer(g, what, shape, 5);
  t->ndim = shape[0];
  for (int d = 0; d < 4; d++) t->shape[d] = shape[1 + d];
}

GRADED_TEST(tensor, reshape_keeps_data_and_infers_minus_one) {
  int s[4]; /* (N, C, H, W) */
  draw_shape(g, 4, (int[]){64, 1, 28, 28}, 12, s);
  int CHW = s[1] * s[2] * s[3];
  nn_tensor t = nn_tensor_new(4, s, NN_CPU);
  long marked = nn_grade_public(g) ? 100 : nn_grade_size(g, 0, 0, s[0] * CHW - 1);
  t.data[marked] = 7.f;
  float *before = t.data;
  nn_tensor_reshape(&t, 2, (int[]){-1, CHW});
  int moved = t.data != before;
  answer_shape(g, "the shape after reshape(-1, C*H*W)", &t);
  answer(g, "the data moved", &moved, 1);
  expect(g, t.ndim == 2, "reshape(-1, %d) of (%d, %d, %d, %d): ndim = %d, expected 2", CHW, s[0], s[1], s[2], s[3], t.ndim);
  expect(g, t.shape[0] == s[0] && t.shape[1] == CHW, "reshape(-1, %d) of (%d, %d, %d, %d): (%d, %d), expected (%d, %d)",
         CHW, s[0], s[1], s[2], s[3], t.shape[0], t.shape[1], s[0], CHW);
  expect(g, !moved, "reshape must not move the data");
  float kept = t.data[marked];
  answer(g, "the marked value", &kept, 1);
  expect(g, kept == 7.f, "after reshape, data[%ld] = %g, expected 7 (the value written before)", marked, kept);
  nn_tensor_reshape(&t, 3, (int[]){s[0], -1, s[3]});
  answer_shape(g, "the shape after reshape(N, -1, W)", &t);
  expect(g, t.ndim == 3 && t.shape[1] == s[1] * s[2], "reshape(%d, -1, %d): shape[1] = %d, expected %d", s[0], s[3],
         t.shape[1], s[1] * s[2]);
  nn_tensor_free(&t);
}

Test(tensor, reshape_to_a_different_count_aborts, .signal = SIGABRT) {
  nn_tensor t = nn_tensor_new(2, (int[]){3, 4}, NN_CPU);
  nn_tensor_reshape(&t, 2, (int[]){5, 2});
}

Test(tensor, zero_dim_aborts, .signal = SIGABRT) { nn_tensor_new(2, (int[]){3, 0}, NN_CPU); }

GRADED_TEST(tensor, fill_and_copy) {
  int s[2];
  draw_shape(g, 2, (int[]){3, 5}, 40, s);
  int n = s[0] * s[1];
  float value = nn_grade_public(g) ? 2.5f : (float)nn_grade_size(g, 0, -100, 100) / 8;
  nn_tensor a = nn_tensor_new(2, s, NN_CPU);
  nn_tensor b = nn_tensor_new(1, (int[]){n}, NN_CPU);
  nn_tensor_fill(&a, value);
  answer(g, "the filled tensor", a.data, n);
  for (int i = 0; i < n; i++) expect(g, a.data[i] == value, "fill: data[%d] = %g, expected %g", i, a.data[i], value);
  a.data[n - 1] = -1.f;
  nn_tensor_copy(&b, &a);
  answer(g, "the copy", b.data, n);
  for (int i = 0; i < n; i++)
    expect(g, b.data[i] == a.data[i], "copy: data[%d] = %g, expected %g (the fill's %g, then data[%d] = -1)", i,
           b.data[i], a.data[i], value, n - 1);
  nn_tensor_free(&a);
  nn_tensor_free(&b);
}

Test(tensor, shape_str_for_messages) {
  nn_tensor t = nn_tensor_new(4, (int[]){64, 1, 28, 28}, NN_CPU);
  cr_assert_str_eq(nn_shape_str(&t).s, "(64, 1, 28, 28)");
  nn_tensor_free(&t);
}

Test(tensor_gpu, round_trip_through_the_gpu) {
  if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe());
  float v[6] = {1, -2, 3.5f, 4, 5, 6};
  nn_tensor h = nn_tensor_from(2, (int[]){2, 3}, v);
  nn_tensor d = nn_tensor_to(&h, NN_GPU);
  cr_assert_eq(d.device, NN_GPU);
  nn_tensor d2 = nn_tensor_new(2, (int[]){3, 2}, NN_GPU);
  nn_tensor_copy(&d2, &d);
  nn_tensor back = nn_tensor_to(&d2, NN_CPU);
  for (int i = 0; i < 6; i++) cr_assert_eq(back.data[i], v[i], "data[%d] = %g after CPU->GPU->GPU->CPU, expected %g", i, back.data[i], v[i]);
  nn_tensor_fill(&d, 3.f);
  nn_tensor_copy(&h, &d);
  cr_assert_eq(h.data[5], 3.f);
  nn_tensor_free(&h); nn_tensor_free(&d); nn_tensor_free(&d2); nn_tensor_free(&back);
}
