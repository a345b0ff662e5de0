/* nn_cnn_nocuda.c: stands in for chapter 03's .cu files when the library is built
 * without CUDA (see nn_nocuda.c). No GPU tensor exists then, so no correct program
 * gets here; one that does stops with a message instead of a segfault. */
#include "nn_cnn_cuda.h"
#include "nn_common.h"

#define NO_CUDA(fn) nn_panic("%s: libnn was built without CUDA (no nvcc or no cuBLAS, or NO_CUDA=1); " \
                             "a tensor claims to be on the GPU", fn)

void nn_im2col_cuda(const float *x, const nn_conv_geom *g, float *cols) {
  (void)x, (void)g, (void)cols;
  NO_CUDA("nn_im2col_cuda");
}
void nn_col2im_cuda(const float *cols, const nn_conv_geom *g, float *x) {
  (void)cols, (void)g, (void)x;
  NO_CUDA("nn_col2im_cuda");
}

void nn_conv2d_bias_add_cuda(float *y, const float *b, int N, int F, int P) {
  (void)y, (void)b, (void)N, (void)F, (void)P;
  NO_CUDA("nn_conv2d_bias_add_cuda");
}
void nn_conv2d_bias_grad_cuda(const float *dy, float *db, int N, int F, int P) {
  (void)dy, (void)db, (void)N, (void)F, (void)P;
  NO_CUDA("nn_conv2d_bias_grad_cuda");
}

void nn_maxpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, int *argmax, long planes) {
  (void)g, (void)x, (void)y, (void)argmax, (void)planes;
  NO_CUDA("nn_maxpool_forward_cuda");
}
void nn_maxpool_backward_cuda(const nn_pool_window *g, const float *dy, const int *argmax, float *dx, long planes) {
  (void)g, (void)dy, (void)argmax, (void)dx, (void)planes;
  NO_CUDA("nn_maxpool_backward_cuda");
}
void nn_avgpool_forward_cuda(const nn_pool_window *g, const float *x, float *y, long planes) {
  (void)g, (void)x, (void)y, (void)planes;
  NO_CUDA("nn_avgpool_forward_cuda");
}
void nn_avgpool_backward_cuda(const nn_pool_window *g, const float *dy, float *dx, long planes) {
  (void)g, (void)dy, (void)dx, (void)planes;
  NO_CUDA("nn_avgpool_backward_cuda");
}
void nn_global_avgpool_forward_cuda(const float *x, float *y, long planes, long plane) {
  (void)x, (void)y, (void)planes, (void)plane;
  NO_CUDA("nn_global_avgpool_forward_cuda");
}
void nn_global_avgpool_backward_cuda(const float *dy, float *dx, long planes, long plane) {
  (void)dy, (void)dx, (void)planes, (void)plane;
  NO_CUDA("nn_global_avgpool_backward_cuda");
}

void nn_batchnorm_forward_train_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y, int N,
                                     long S) {
  (void)bn, (void)saved, (void)x, (void)y, (void)N, (void)S;
  NO_CUDA("nn_batchnorm_forward_train_cuda");
}
void nn_batchnorm_forward_eval_cuda(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y, int N,
                                    long S) {
  (void)bn, (void)saved, (void)x, (void)y, (void)N, (void)S;
  NO_CUDA("nn_batchnorm_forward_eval_cuda");
}
void nn_batchnorm_backward_cuda(nn_batchnorm *bn, const nn_batchnorm_saved *saved, const float *dy, float *dx,
                                int N, long S) {
  (void)bn, (void)saved, (void)dy, (void)dx, (void)N, (void)S;
  NO_CUDA("nn_batchnorm_backward_cuda");
}

void nn_se_scale_forward_cuda(const float *x, const float *e, float *y, long planes, long plane) {
  (void)x, (void)e, (void)y, (void)planes, (void)plane;
  NO_CUDA("nn_se_scale_forward_cuda");
}
void nn_se_gate_grad_cuda(const float *dy, const float *x, float *de, long planes, long plane) {
  (void)dy, (void)x, (void)de, (void)planes, (void)plane;
  NO_CUDA("nn_se_gate_grad_cuda");
}
void nn_se_scale_backward_cuda(const float *dy, const float *e, const float *ds, float *dx, long planes,
                               long plane) {
  (void)dy, (void)e, (void)ds, (void)dx, (void)planes, (void)plane;
  NO_CUDA("nn_se_scale_backward_cuda");
}
