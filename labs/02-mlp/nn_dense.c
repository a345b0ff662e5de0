/* nn_dense.c: y = x W^T + b and its backward, as three calls to nn_sgemm.
 * On the GPU the products are cuBLAS and the bias sums two kernels (nn_dense.cu). */
#include "nn_dense.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_gemm.h"
#include "nn_mlp_cuda.h"

static const char *device_name(nn_device d) { return d == NN_GPU ? "GPU" : "CPU"; }

/* t: (N, cols) on the layer's device (where its W is) */
static void check_2d(const char *fn, const nn_dense *d, const char *what, const nn_tensor *t, int cols) {
  NN_REQUIRE(t->ndim == 2 && t->shape[1] == cols, "%s: %s is %s but the layer expects (N, %d)", fn, what,
             nn_shape_str(t).s, cols);
  NN_REQUIRE(t->device == d->W.device, "%s: %s is on the %s but %s is on the %s; move the layer (nn_layer_to) "
             "or the tensor (nn_tensor_to)", fn, what, device_name(t->device), d->base.name,
             device_name(d->W.device));
}

/* ---- the math, once per device. x: (N, in), y and dy: (N, out) */

static void dense_forward_cpu(nn_dense *d, const nn_tensor *x, nn_tensor *y, int N) {
  /* TODO(lab 02-mlp): write this part of dense_forward_cpu. */
  /* HINT: y = x W^T is nn_sgemm(false, true, N, out, in, 1, x, W, 0, y, ...); then add b to every row */
  NN_LAB_STUB("02-mlp", "dense_forward_cpu");
}

static void dense_forward_gpu(nn_dense *d, const nn_tensor *x, nn_tensor *y, int N) {
  /* TODO(lab 02-mlp): write this part of dense_forward_gpu. */
  /* HINT: the same nn_sgemm with NN_GPU (cuBLAS), then nn_dense_bias_add_cuda (nn_mlp_cuda.h) */
  NN_LAB_STUB("02-mlp", "dense_forward_gpu");
}

static void dense_backward_cpu(nn_dense *d, const nn_tensor *dy, nn_tensor *dx, int N) {
  /* TODO(lab 02-mlp): write this part of dense_backward_cpu. */
  /* HINT: dW += dy^T x (out, in), db += the column sums of dy, dx += dy W (N, in); beta = 1 accumulates */
  NN_LAB_STUB("02-mlp", "dense_backward_cpu");
}

static void dense_backward_gpu(nn_dense *d, const nn_tensor *dy, nn_tensor *dx, int N) {
  /* TODO(lab 02-mlp): write this part of dense_backward_gpu. */
  /* HINT: the CPU's three steps with NN_GPU, and nn_dense_bias_grad_cuda for db */
  NN_LAB_STUB("02-mlp", "dense_backward_gpu");
}

/* ---- entry points: checks, then the one device switch (the layer's device) */

void nn_dense_forward(nn_dense *d, const nn_tensor *x, nn_tensor *y) {
  check_2d("nn_dense_forward", d, "x", x, d->in);
  check_2d("nn_dense_forward", d, "y", y, d->out);
  NN_REQUIRE(x->shape[0] == y->shape[0], "nn_dense_forward: x is %s but y is %s; both need N rows",
             nn_shape_str(x).s, nn_shape_str(y).s);
  int N = x->shape[0];
  d->x = x;
  switch (d->W.device) {
  case NN_CPU: dense_forward_cpu(d, x, y, N); break;
  case NN_GPU: dense_forward_gpu(d, x, y, N); break;
  }
}

void nn_dense_backward(nn_dense *d, const nn_tensor *dy, nn_tensor *dx) {
  NN_REQUIRE(d->x, "nn_dense_backward: %s has no forward pass to go back through", d->base.name);
  check_2d("nn_dense_backward", d, "dy", dy, d->out);
  NN_REQUIRE(dy->shape[0] == d->x->shape[0], "nn_dense_backward: dy is %s but the forward input x was %s",
             nn_shape_str(dy).s, nn_shape_str(d->x).s);
  if (dx) {
    NN_REQUIRE(nn_same_shape(dx, d->x), "nn_dense_backward: dx is %s but x was %s", nn_shape_str(dx).s,
               nn_shape_str(d->x).s);
    check_2d("nn_dense_backward", d, "dx", dx, d->in);
  }
  NN_REQUIRE(d->x->device == d->W.device, "nn_dense_backward: the forward input x is on the %s but %s is on "
             "the %s (was the layer moved between forward and backward?)", device_name(d->x->device),
             d->base.name, device_name(d->W.device));
  int N = dy->shape[0];
  switch (d->W.device) {
  case NN_CPU: dense_backward_cpu(d, dy, dx, N); break;
  case NN_GPU: dense_backward_gpu(d, dy, dx, N); break;
  }
}

/* ---- the layer's ops table */

static void forward_op(nn_layer *l, const nn_tensor *x, nn_tensor *y, bool training) {
  (void)training; /* a Dense layer acts the same in training and evaluation */
  nn_dense_forward((nn_dense *)l, x, y);
}

static void backward_op(nn_layer *l, const nn_tensor *dy, nn_tensor *dx) {
  nn_dense_backward((nn_dense *)l, dy, dx);
}

typedef struct {
  nn_dense d;
  char W_name[48], b_name[48];
} named_dense; /* the parameter names live as long as the layer */

static int params_op(nn_layer *l, nn_param *out, int max) {
  named_dense *nd = (named_dense *)l;
  NN_REQUIRE(max >= 2, "nn_dense params: room for %d params, a Dense layer has 2", max);
  out[0] = (nn_param){nd->W_name, &nd->d.W, &nd->d.dW};
  out[1] = (nn_param){nd->b_name, &nd->d.b, &nd->d.db};
  return 2;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_dense *d = (const nn_dense *)l;
  NN_REQUIRE(in_ndim == 1 && in[0] == d->in, "%s: Dense(%d -> %d) takes (N, %d) inputs, got (N, %d%s)",
             l->name, d->in, d->out, d->in, in[0], in_ndim > 1 ? ", ...; add a Flatten before it" : "");
  out[0] = d->out;
  return 1;
}

static void free_op(nn_layer *l) {
  nn_dense *d = (nn_dense *)l;
  nn_tensor_free(&d->W), nn_tensor_free(&d->b), nn_tensor_free(&d->dW), nn_tensor_free(&d->db);
  free(l);
}

static const nn_layer_ops DENSE_OPS = {.kind = "Dense", .forward = forward_op, .backward = backward_op,
                                       .params = params_op, .out_shape = out_shape_op, .free = free_op};

nn_dense *nn_dense_new(const char *name, int in, int out, nn_init init, nn_rng *rng) {
  NN_REQUIRE(in >= 1 && out >= 1 && rng, "nn_dense_new: in = %d, out = %d (both >= 1) and an rng are needed",
             in, out);
  named_dense *nd = nn_xcalloc(1, sizeof *nd, "nn_dense");
  nn_dense *d = &nd->d;
  d->base.ops = &DENSE_OPS;
  snprintf(d->base.name, sizeof d->base.name, "%s", name ? name : "dense");
  snprintf(nd->W_name, sizeof nd->W_name, "%s.W", d->base.name);
  snprintf(nd->b_name, sizeof nd->b_name, "%s.b", d->base.name);
  d->in = in, d->out = out;
  d->W = nn_tensor_new(2, (int[]){out, in}, NN_CPU), d->dW = nn_tensor_new(2, (int[]){out, in}, NN_CPU);
  d->b = nn_tensor_new(1, (int[]){out}, NN_CPU), d->db = nn_tensor_new(1, (int[]){out}, NN_CPU);
  if (init == NN_INIT_XAVIER) {
    float a = sqrtf(6.f / (float)(in + out));
    nn_rng_fill_uniform(rng, d->W.data, nn_numel(&d->W), -a, a);
  } else {
    nn_rng_fill_normal(rng, d->W.data, nn_numel(&d->W), 0.f, sqrtf(2.f / (float)in));
  }
  return d;
}
