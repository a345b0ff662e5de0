/* Tensor basics: shapes, reshape with -1, fill, copy, CPU <-> GPU round trip. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>

#include "nn_cuda.h"
#include "nn_tensor.h"

Test(tensor, new_is_zero_filled_with_its_shape) {
  nn_tensor t = nn_tensor_new(4, (int[]){2, 3, 4, 5}, NN_CPU);
  cr_assert_eq(t.ndim, 4);
  cr_assert_eq(nn_numel(&t), 120, "nn_numel of (2, 3, 4, 5) is %ld, expected 120", nn_numel(&t));
  cr_assert_eq(nn_tensor_bytes(&t), 480);
  for (int i = 0; i < 120; i++) cr_assert_eq(t.data[i], 0.f, "data[%d] = %g, expected 0", i, t.data[i]);
  nn_tensor_free(&t);
  cr_assert_null(t.data);
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

Test(tensor, reshape_keeps_data_and_infers_minus_one) {
  nn_tensor t = nn_tensor_new(4, (int[]){64, 1, 28, 28}, NN_CPU);
  t.data[100] = 7.f;
  float *before = t.data;
  nn_tensor_reshape(&t, 2, (int[]){-1, 784});
  cr_assert_eq(t.ndim, 2);
  cr_assert_eq(t.shape[0], 64, "reshape(-1, 784) of (64, 1, 28, 28): shape[0] = %d, expected 64", t.shape[0]);
  cr_assert_eq(t.shape[1], 784);
  cr_assert_eq(t.data, before, "reshape must not move the data");
  cr_assert_eq(t.data[100], 7.f);
  nn_tensor_reshape(&t, 3, (int[]){8, -1, 49});
  cr_assert_eq(t.shape[1], 128, "reshape(8, -1, 49): shape[1] = %d, expected 128", t.shape[1]);
  nn_tensor_free(&t);
}

Test(tensor, reshape_to_a_different_count_aborts, .signal = SIGABRT) {
  nn_tensor t = nn_tensor_new(2, (int[]){3, 4}, NN_CPU);
  nn_tensor_reshape(&t, 2, (int[]){5, 2});
}

Test(tensor, zero_dim_aborts, .signal = SIGABRT) { nn_tensor_new(2, (int[]){3, 0}, NN_CPU); }

Test(tensor, fill_and_copy) {
  nn_tensor a = nn_tensor_new(2, (int[]){3, 5}, NN_CPU);
  nn_tensor b = nn_tensor_new(1, (int[]){15}, NN_CPU);
  nn_tensor_fill(&a, 2.5f);
  for (int i = 0; i < 15; i++) cr_assert_eq(a.data[i], 2.5f, "fill: data[%d] = %g, expected 2.5", i, a.data[i]);
  a.data[14] = -1.f;
  nn_tensor_copy(&b, &a);
  cr_assert_eq(b.data[0], 2.5f);
  cr_assert_eq(b.data[14], -1.f);
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
