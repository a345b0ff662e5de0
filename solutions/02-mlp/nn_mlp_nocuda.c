/* nn_mlp_nocuda.c: stands in for chapter 02's .cu files when the library is built
 * without CUDA (see nn_nocuda.c). No GPU tensor exists then, so no correct program
 * gets here; one that does stops with a message instead of a segfault. */
#include "nn_common.h"
#include "nn_mlp_cuda.h"

#define NO_CUDA(fn) nn_panic("%s: libnn was built without CUDA (no nvcc or no cuBLAS, or NO_CUDA=1); " \
                             "a tensor claims to be on the GPU", fn)

void nn_activation_forward_cuda(nn_activation act, const float *x, float *y, long n) {
  (void)act, (void)x, (void)y, (void)n;
  NO_CUDA("nn_activation_forward_cuda");
}
void nn_activation_backward_cuda(nn_activation act, const float *x, const float *y, const float *dy, float *dx,
                                 long n) {
  (void)act, (void)x, (void)y, (void)dy, (void)dx, (void)n;
  NO_CUDA("nn_activation_backward_cuda");
}
void nn_softmax_forward_cuda(const float *x, float *y, long rows, int C) {
  (void)x, (void)y, (void)rows, (void)C;
  NO_CUDA("nn_softmax_forward_cuda");
}
void nn_softmax_backward_cuda(const float *y, const float *dy, float *dx, long rows, int C) {
  (void)y, (void)dy, (void)dx, (void)rows, (void)C;
  NO_CUDA("nn_softmax_backward_cuda");
}

double nn_regression_loss_cuda(nn_regression_loss kind, const float *pred, const float *target, long M,
                               double delta, float *dpred, nn_arena *scratch) {
  (void)kind, (void)pred, (void)target, (void)M, (void)delta, (void)dpred, (void)scratch;
  NO_CUDA("nn_regression_loss_cuda");
}
double nn_bce_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)dz, (void)scratch;
  NO_CUDA("nn_bce_loss_cuda");
}
double nn_binary_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)dz, (void)scratch;
  NO_CUDA("nn_binary_hinge_loss_cuda");
}
double nn_squared_hinge_loss_cuda(const float *z, const int *y, int N, float *dz, nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)dz, (void)scratch;
  NO_CUDA("nn_squared_hinge_loss_cuda");
}
double nn_regularize_cuda(const float *w, float *g, long n, float l1, float l2, nn_arena *scratch) {
  (void)w, (void)g, (void)n, (void)l1, (void)l2, (void)scratch;
  NO_CUDA("nn_regularize_cuda");
}
double nn_focal_loss_cuda(const float *z, const int *y, int N, double alpha, double gamma, float *dz,
                          nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)alpha, (void)gamma, (void)dz, (void)scratch;
  NO_CUDA("nn_focal_loss_cuda");
}
double nn_sparse_ce_loss_cuda(const float *z, const int *y, int N, int C, float *dz, nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)C, (void)dz, (void)scratch;
  NO_CUDA("nn_sparse_ce_loss_cuda");
}
double nn_multi_hinge_loss_cuda(const float *z, const int *y, int N, int C, float *dz, nn_arena *scratch) {
  (void)z, (void)y, (void)N, (void)C, (void)dz, (void)scratch;
  NO_CUDA("nn_multi_hinge_loss_cuda");
}
double nn_categorical_ce_loss_cuda(const float *z, const float *t, int N, int C, float *dz, int *bad_row,
                                   nn_arena *scratch) {
  (void)z, (void)t, (void)N, (void)C, (void)dz, (void)bad_row, (void)scratch;
  NO_CUDA("nn_categorical_ce_loss_cuda");
}

void nn_dense_bias_add_cuda(float *y, const float *b, int N, int out) {
  (void)y, (void)b, (void)N, (void)out;
  NO_CUDA("nn_dense_bias_add_cuda");
}
void nn_dense_bias_grad_cuda(const float *dy, float *db, int N, int out) {
  (void)dy, (void)db, (void)N, (void)out;
  NO_CUDA("nn_dense_bias_grad_cuda");
}

void nn_optim_step_cuda(nn_optim_kind kind, const nn_optim_config *c, float *w, const float *g, float *m, float *v,
                        long n, float bc1, float bc2) {
  (void)kind, (void)c, (void)w, (void)g, (void)m, (void)v, (void)n, (void)bc1, (void)bc2;
  NO_CUDA("nn_optim_step_cuda");
}

void nn_dropout_apply_cuda(uint64_t seed, uint64_t step, float p, float keep_scale, const float *in, float *out,
                           long n, bool accumulate) {
  (void)seed, (void)step, (void)p, (void)keep_scale, (void)in, (void)out, (void)n, (void)accumulate;
  NO_CUDA("nn_dropout_apply_cuda");
}

void nn_add_into_cuda(float *dst, const float *src, long n) {
  (void)dst, (void)src, (void)n;
  NO_CUDA("nn_add_into_cuda");
}
