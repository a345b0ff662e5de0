/* nn_dense.c: y = x W^T + b and its backward, as three calls to nn_sgemm.
 * On the GPU the products are cuBLAS and the bias sums two kernels (nn_dense.cu). */
#include "nn_dense.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_gemm.h"
#include "nn_mlp_cuda.h"

/* t: (..., cols) on the layer's device (where its W is); returns its rows, numel / cols */
static int check_rows(const char *fn, const nn_dense *d, const char *what, const nn_tensor *t, int cols) {
  NN_REQUIRE(t->ndim >= 2 && t->shape[t->ndim - 1] == cols, "%s: %s is %s but %s expects (N, %d)%s", fn, what,
             nn_shape_str(t).s, d->base.name, cols,
             t->ndim > 2 ? " or more dims ending in that one (a Flatten before it?)" : "");
  NN_REQUIRE(t->device == d->W.device, "%s: %s is on the %s but %s is on the %s; move the layer (nn_layer_to) "
             "or the tensor (nn_tensor_to)", fn, what, nn_device_name(t->device), d->base.name,
             nn_device_name(d->W.device));
  return (int)(nn_numel(t) / cols);
}

/* y's leading dims must be x's: (N, T, in) -> (N, T, out) */
static bool same_rows(const nn_tensor *x, const nn_tensor *y) {
  if (x->ndim != y->ndim) return false;
  for (int i = 0; i + 1 < x->ndim; i++)
    if (x->shape[i] != y->shape[i]) return false;
  return true;
}

/* ---- the math, once per device. x: (N, in), y and dy: (N, out); N counts rows: N*T for (N, T, in) */

static void dense_forward_cpu(nn_dense *d, const nn_tensor *x, nn_tensor *y, int N) {
  /* BEGIN SOLUTION */
  /* HINT: y (N, out) = x (N, in) @ W^T (in, out): one matrix product (nn_sgemm); W is stored (out, in), so which operand is transposed? Then b on every row of y */
  /* HINT2: nn_sgemm(false, true, N, out, in, 1, x->data, d->W.data, 0, y->data, NN_CPU): W transposed, beta 0 overwrites y; then y[n*out + j] += b[j] for every row n */
  nn_sgemm(false, true, N, d->out, d->in, 1.f, x->data, d->W.data, 0.f, y->data, NN_CPU);
  for (int n = 0; n < N; n++)
    for (int j = 0; j < d->out; j++) y->data[(long)n * d->out + j] += d->b.data[j];
  /* END SOLUTION */
}

static void dense_forward_gpu(nn_dense *d, const nn_tensor *x, nn_tensor *y, int N) {
  /* BEGIN SOLUTION */
  /* HINT: the same nn_sgemm with NN_GPU (cuBLAS), then nn_dense_bias_add_cuda (nn_mlp_cuda.h) */
  /* HINT2: dense_forward_cpu's nn_sgemm with NN_GPU as its last argument (x, W and y are device pointers); the CPU bias loop would read GPU memory, so nn_dense_bias_add_cuda(y->data, d->b.data, N, d->out) adds b to every row instead */
  nn_sgemm(false, true, N, d->out, d->in, 1.f, x->data, d->W.data, 0.f, y->data, NN_GPU);
  nn_dense_bias_add_cuda(y->data, d->b.data, N, d->out);
  /* END SOLUTION */
}

static void dense_backward_cpu(nn_dense *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx, int N) {
  /* BEGIN SOLUTION */
  /* HINT: the forward was y = x W^T + b, with x = c->x, the input this call saw. Each gradient has the shape of what it differentiates: dW (out, in), db (out), dx (N, in); write dW and dx as products of dy (N, out) with x or W and let the shapes choose the transposes (chapter 02 section 2); db sums dy over the batch. All three ADD into what they hold; dx is NULL for a first layer */
  /* HINT2: dW: nn_sgemm(true, false, out, in, N, 1, dy, x, 1, dW, NN_CPU), beta 1 adds; db[j] += dy[n*out + j] for every row n; dx, only when it is not NULL: nn_sgemm(false, false, N, in, out, 1, dy, W, 1, dx, NN_CPU). The pointers are the tensors' .data, and c->x for x */
  nn_sgemm(true, false, d->out, d->in, N, 1.f, dy->data, c->x->data, 1.f, d->dW.data, NN_CPU);
  for (int n = 0; n < N; n++)
    for (int j = 0; j < d->out; j++) d->db.data[j] += dy->data[(long)n * d->out + j];
  if (dx) nn_sgemm(false, false, N, d->in, d->out, 1.f, dy->data, d->W.data, 1.f, dx->data, NN_CPU);
  /* END SOLUTION */
}

static void dense_backward_gpu(nn_dense *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx, int N) {
  /* BEGIN SOLUTION */
  /* HINT: the CPU's three steps with NN_GPU, and nn_dense_bias_grad_cuda for db */
  /* HINT2: dense_backward_cpu's two nn_sgemm calls with NN_GPU last; db with nn_dense_bias_grad_cuda(dy->data, d->db.data, N, d->out), which adds dy's column sums on the device; dx still only when it is not NULL */
  nn_sgemm(true, false, d->out, d->in, N, 1.f, dy->data, c->x->data, 1.f, d->dW.data, NN_GPU);
  nn_dense_bias_grad_cuda(dy->data, d->db.data, N, d->out);
  if (dx) nn_sgemm(false, false, N, d->in, d->out, 1.f, dy->data, d->W.data, 1.f, dx->data, NN_GPU);
  /* END SOLUTION */
}

/* ---- entry points: checks, then the one device switch (the layer's device) */

void nn_dense_forward(nn_dense *d, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_call_begin(c, &d->base, "nn_dense_forward", x, y); /* nn_call c = {0} is enough for Dense */
  int N = check_rows("nn_dense_forward", d, "x", x, d->in);
  check_rows("nn_dense_forward", d, "y", y, d->out);
  NN_REQUIRE(same_rows(x, y), "nn_dense_forward: x is %s but y is %s; y must be x's shape with its last dim %d",
             nn_shape_str(x).s, nn_shape_str(y).s, d->out);
  switch (d->W.device) {
  case NN_CPU: dense_forward_cpu(d, x, y, N); break;
  case NN_GPU: dense_forward_gpu(d, x, y, N); break;
  }
}

void nn_dense_backward(nn_dense *d, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_call_require_forward(c, "nn_dense_backward", &d->base);
  int N = check_rows("nn_dense_backward", d, "dy", dy, d->out);
  NN_REQUIRE(same_rows(c->x, dy), "nn_dense_backward: dy is %s but the forward input x was %s",
             nn_shape_str(dy).s, nn_shape_str(c->x).s);
  if (dx) {
    NN_REQUIRE(nn_same_shape(dx, c->x), "nn_dense_backward: dx is %s but x was %s", nn_shape_str(dx).s,
               nn_shape_str(c->x).s);
    check_rows("nn_dense_backward", d, "dx", dx, d->in);
  }
  NN_REQUIRE(c->x->device == d->W.device, "nn_dense_backward: the forward input x is on the %s but %s is on "
             "the %s (was the layer moved between forward and backward?)", nn_device_name(c->x->device),
             d->base.name, nn_device_name(d->W.device));
  switch (d->W.device) {
  case NN_CPU: dense_backward_cpu(d, c, dy, dx, N); break;
  case NN_GPU: dense_backward_gpu(d, c, dy, dx, N); break;
  }
}

/* ---- the layer's ops table */

/* a Dense layer acts the same in training and evaluation */
static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_dense_forward((nn_dense *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_dense_backward((nn_dense *)l, c, dy, dx);
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
  if (in[in_ndim - 1] != d->in) {
    char got[64];
    int n = snprintf(got, sizeof got, "(N");
    for (int i = 0; i < in_ndim && n < (int)sizeof got; i++) n += snprintf(got + n, sizeof got - (size_t)n, ", %d", in[i]);
    if (n < (int)sizeof got) snprintf(got + n, sizeof got - (size_t)n, ")");
    long numel = 1;
    for (int i = 0; i < in_ndim; i++) numel *= in[i];
    nn_panic("%s: Dense(%d -> %d) takes (N, %d) inputs (or more dims ending in %d), got %s%s", l->name, d->in,
             d->out, d->in, d->in, got, in_ndim > 1 && numel == d->in ? "; add a Flatten before it" : "");
  }
  for (int i = 0; i < in_ndim; i++) out[i] = in[i];
  out[in_ndim - 1] = d->out; /* (N, T, in) -> (N, T, out) */
  return in_ndim;
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
  nn_layer_name(&d->base, "nn_dense_new", name, "dense");
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
