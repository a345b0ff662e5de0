/* nn_batchnorm.c: BatchNorm forward (batch or running statistics) and backward, on the
 * CPU or the GPU (where gamma is; the kernels are nn_batchnorm.cu).
 *
 * Channel c of x: (N, C, S) (S = H*W, or 1 for (N, C)) is the M = N*S values
 * x[(n*C + c)*S + s]; every loop below walks one channel that way, and the channels,
 * independent of each other, spread over the threads (nn_parallel.h). */
#include "nn_batchnorm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_cnn_cuda.h"
#include "nn_cuda.h"
#include "nn_parallel.h"

/* N, C and S = the product of the axes after C: x (N, C, H, W) is (N, C, H*W). */
typedef struct { int N, C; long S; } channels_view;

static channels_view view_of(const int *shape, int ndim) {
  channels_view v = {shape[0], shape[1], 1};
  for (int d = 2; d < ndim; d++) v.S *= shape[d];
  return v;
}

/* Whether a loop over v's channels is worth a second thread (nn_parallel.h): N*C*S values. */
static bool worth_threads(channels_view v) { return (double)v.N * v.S * v.C >= NN_PARALLEL_MIN_WORK; }

/* ---- checks */

/* t must be on the device of the layer's gamma: the layer runs there. */
static void check_device(const char *fn, const nn_batchnorm *bn, const char *what, const nn_tensor *t) {
  nn_layer_require_device(fn, &bn->base, what, t, bn->gamma.device);
}

static void check_input(const char *fn, const nn_batchnorm *bn, const nn_tensor *x) {
  NN_REQUIRE(x, "%s: x is NULL", fn);
  check_device(fn, bn, "x", x);
  NN_REQUIRE(x->ndim >= 2 && x->shape[1] == bn->C, "%s: %s: BatchNorm(%d) takes (N, %d) or (N, %d, H, W) inputs, "
             "got %s", fn, bn->base.name, bn->C, bn->C, bn->C, nn_shape_str(x).s);
}

/* t (y or dy, or dx) must have x's shape. */
static void check_like_x(const char *fn, const nn_batchnorm *bn, const char *what, const nn_tensor *t,
                         const nn_tensor *x) {
  NN_REQUIRE(t, "%s: %s is NULL", fn, what);
  check_device(fn, bn, what, t);
  NN_REQUIRE(nn_same_shape(t, x), "%s: %s: %s is %s but x is %s; they must have one shape", fn, bn->base.name, what,
             nn_shape_str(t).s, nn_shape_str(x).s);
}

/* The record of one call, its arrays from the call's arena on the weights' device. */
static nn_batchnorm_saved *save_for_backward(const nn_batchnorm *bn, nn_call *c, const char *fn, long numel) {
  nn_arena *a = nn_call_arena(c, fn, "xhat and the statistics it keeps for backward");
  NN_REQUIRE(nn_arena_device(a) == bn->gamma.device, "%s: the call's arena is on the %s but %s is on the %s", fn,
             nn_device_name(nn_arena_device(a)), bn->base.name, nn_device_name(bn->gamma.device));
  nn_batchnorm_saved *s = nn_arena_record(a, sizeof *s);
  s->mean = nn_arena_floats(a, bn->C), s->var = nn_arena_floats(a, bn->C), s->inv_std = nn_arena_floats(a, bn->C);
  s->xhat = nn_arena_floats(a, numel);
  s->trained = c->training;
  return s;
}

/* ---- the math */

/* Batch statistics: mean, var (biased), inv_std per channel; xhat; y = gamma xhat + beta. */
static void forward_train_cpu(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y,
                              channels_view v) {
  const long M = (long)v.N * v.S;
  float *mean = saved->mean, *var = saved->var, *inv_std = saved->inv_std, *xhat = saved->xhat;
  const float *gamma = bn->gamma.data, *beta = bn->beta.data;
#pragma omp parallel for schedule(static) if (worth_threads(v))
  for (int c = 0; c < v.C; c++) {
    /* BEGIN SOLUTION */
    /* HINT: training mode normalises channel c with the statistics of THIS batch: its M = N*S values (every n and every spatial position s) get mean 0 and variance 1 (xhat), then the learned gamma and beta rescale and shift them. The variance is the biased one (divide by M, as PyTorch normalises); eps inside the square root keeps a constant channel finite. Why two passes (the mean, then the squares about it) rather than E[x^2] - E[x]^2 in one? */
    /* HINT2: value (n, s) of channel c is x[(n*C + c)*S + s]; mean[c] is their sum (in double) over M; var[c] is the sum of (x - mean[c])^2 over M; inv_std[c] is 1 / sqrtf(var[c] + eps); then every value i of the channel gets xhat[i] = (x[i] - mean[c]) inv_std[c] and y[i] = gamma[c] xhat[i] + beta[c]. Keep xhat: backward reads it */
    double sum = 0;
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) sum += x[((long)n * v.C + c) * v.S + s];
    mean[c] = (float)(sum / (double)M);
    double sq = 0;
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) {
        double d = x[((long)n * v.C + c) * v.S + s] - mean[c];
        sq += d * d;
      }
    var[c] = (float)(sq / (double)M);
    inv_std[c] = 1.f / sqrtf(var[c] + bn->eps);
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) {
        long i = ((long)n * v.C + c) * v.S + s;
        xhat[i] = (x[i] - mean[c]) * inv_std[c];
        y[i] = gamma[c] * xhat[i] + beta[c];
      }
    /* END SOLUTION */
  }
}

/* ANCHOR: running_update */
/* running = (1 - momentum) running + momentum batch; the variance unbiased (M / (M - 1)). */
static void update_running(nn_batchnorm *bn, const nn_batchnorm_saved *batch, long M) {
  const float mo = bn->momentum;
  for (int c = 0; c < bn->C; c++) {
    float unbiased = batch->var[c] * (float)M / (float)(M - 1);
    bn->running_mean.data[c] = (1.f - mo) * bn->running_mean.data[c] + mo * batch->mean[c];
    bn->running_var.data[c] = (1.f - mo) * bn->running_var.data[c] + mo * unbiased;
  }
}
/* ANCHOR_END: running_update */

/* The running statistics in place of the batch's: y = gamma (x - running_mean) inv_std + beta. */
static void forward_eval_cpu(nn_batchnorm *bn, nn_batchnorm_saved *saved, const float *x, float *y,
                             channels_view v) {
#pragma omp parallel for schedule(static) if (worth_threads(v))
  for (int c = 0; c < v.C; c++) {
    saved->mean[c] = bn->running_mean.data[c], saved->var[c] = bn->running_var.data[c];
    saved->inv_std[c] = 1.f / sqrtf(bn->running_var.data[c] + bn->eps);
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) {
        long i = ((long)n * v.C + c) * v.S + s;
        saved->xhat[i] = (x[i] - saved->mean[c]) * saved->inv_std[c];
        y[i] = bn->gamma.data[c] * saved->xhat[i] + bn->beta.data[c];
      }
  }
}

/* Per channel, the sums backward needs: sum(dy) and sum(dy * xhat). */
static void channel_sums(const float *xhat, const float *dy, channels_view v, int c, double *sum_dy,
                         double *sum_dy_xhat) {
  double a = 0, b = 0;
  for (int n = 0; n < v.N; n++)
    for (long s = 0; s < v.S; s++) {
      long i = ((long)n * v.C + c) * v.S + s;
      a += dy[i], b += (double)dy[i] * xhat[i];
    }
  *sum_dy = a, *sum_dy_xhat = b;
}

/* After a training forward: mean and var moved with x, hence the two correction terms. */
static void backward_train_cpu(nn_batchnorm *bn, const nn_batchnorm_saved *saved, const float *dy, float *dx,
                               channels_view v) {
  const long M = (long)v.N * v.S;
  const float *xhat = saved->xhat, *gamma = bn->gamma.data, *inv_std = saved->inv_std;
#pragma omp parallel for schedule(static) if (worth_threads(v))
  for (int c = 0; c < v.C; c++) {
    double sum_dy, sum_dy_xhat;
    channel_sums(xhat, dy, v, c, &sum_dy, &sum_dy_xhat);
    /* BEGIN SOLUTION */
    /* HINT: gamma scaled xhat and beta was added, so their gradients are sums over the channel's M values (sum_dy_xhat, sum_dy are ready). dx (when not NULL) has three paths: x moved xhat directly, and through the batch's mean and its variance; chapter 03 section 7 adds them up. Add into dgamma, dbeta and dx: never overwrite */
    /* HINT2: dgamma[c] += sum_dy_xhat; dbeta[c] += sum_dy; dx[i] += gamma[c] * inv_std[c] / M * (M * dy[i] - sum_dy - xhat[i] * sum_dy_xhat) for every i of channel c */
    bn->dgamma.data[c] += (float)sum_dy_xhat;
    bn->dbeta.data[c] += (float)sum_dy;
    if (!dx) continue;
    const double k = (double)gamma[c] * inv_std[c] / (double)M;
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) {
        long i = ((long)n * v.C + c) * v.S + s;
        dx[i] += (float)(k * ((double)M * dy[i] - sum_dy - xhat[i] * sum_dy_xhat));
      }
    /* END SOLUTION */
  }
}

/* After an eval forward: an affine map per channel, dx = dy gamma inv_std. */
static void backward_eval_cpu(nn_batchnorm *bn, const nn_batchnorm_saved *saved, const float *dy, float *dx,
                              channels_view v) {
#pragma omp parallel for schedule(static) if (worth_threads(v))
  for (int c = 0; c < v.C; c++) {
    double sum_dy, sum_dy_xhat;
    channel_sums(saved->xhat, dy, v, c, &sum_dy, &sum_dy_xhat);
    bn->dgamma.data[c] += (float)sum_dy_xhat;
    bn->dbeta.data[c] += (float)sum_dy;
    if (!dx) continue;
    const float k = bn->gamma.data[c] * saved->inv_std[c];
    for (int n = 0; n < v.N; n++)
      for (long s = 0; s < v.S; s++) {
        long i = ((long)n * v.C + c) * v.S + s;
        dx[i] += k * dy[i];
      }
  }
}

/* ---- entry points */

void nn_batchnorm_forward(nn_batchnorm *bn, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  const char *fn = "nn_batchnorm_forward";
  NN_REQUIRE(bn, "%s: the layer is NULL", fn);
  nn_call_begin(c, &bn->base, fn, x, y);
  check_input(fn, bn, x);
  check_like_x(fn, bn, "y", y, x);
  channels_view v = view_of(x->shape, x->ndim);
  const long M = (long)v.N * v.S;
  NN_REQUIRE(!c->training || M > 1, "%s: %s: x is %s, one value per channel; training needs more than one to "
             "take a variance (a batch of 2 or more), as PyTorch says", fn, bn->base.name, nn_shape_str(x).s);
  nn_batchnorm_saved *saved = save_for_backward(bn, c, fn, nn_numel(x));
  c->saved = saved;
  switch (bn->gamma.device) {
  case NN_CPU:
    if (c->training) {
      forward_train_cpu(bn, saved, x->data, y->data, v);
      update_running(bn, saved, M);
    } else {
      forward_eval_cpu(bn, saved, x->data, y->data, v);
    }
    break;
  case NN_GPU: /* the running statistics are updated inside the training kernel */
    if (c->training)
      nn_batchnorm_forward_train_cuda(bn, saved, x->data, y->data, v.N, v.S);
    else
      nn_batchnorm_forward_eval_cuda(bn, saved, x->data, y->data, v.N, v.S);
    break;
  }
}

void nn_batchnorm_backward(nn_batchnorm *bn, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  const char *fn = "nn_batchnorm_backward";
  NN_REQUIRE(bn, "%s: the layer is NULL", fn);
  nn_call_require_forward(c, fn, &bn->base);
  const nn_batchnorm_saved *saved = c->saved;
  NN_REQUIRE(c->x->device == bn->gamma.device, "%s: %s moved to the %s after its forward pass (nn_layer_to); run "
             "the forward again there first", fn, bn->base.name, nn_device_name(bn->gamma.device));
  check_like_x(fn, bn, "dy", dy, c->x);
  if (dx) check_like_x(fn, bn, "dx", dx, c->x);
  channels_view v = view_of(c->x->shape, c->x->ndim);
  float *dx_data = dx ? dx->data : NULL;
  switch (bn->gamma.device) {
  case NN_CPU:
    if (saved->trained)
      backward_train_cpu(bn, saved, dy->data, dx_data, v);
    else
      backward_eval_cpu(bn, saved, dy->data, dx_data, v);
    break;
  case NN_GPU: nn_batchnorm_backward_cuda(bn, saved, dy->data, dx_data, v.N, v.S); break; /* both: saved->trained */
  }
}

/* ---- the layer's ops table */

static void forward_op(nn_layer *l, nn_call *c, const nn_tensor *x, nn_tensor *y) {
  nn_batchnorm_forward((nn_batchnorm *)l, c, x, y);
}

static void backward_op(nn_layer *l, const nn_call *c, const nn_tensor *dy, nn_tensor *dx) {
  nn_batchnorm_backward((nn_batchnorm *)l, c, dy, dx);
}

static int params_op(nn_layer *l, nn_param *out, int max) {
  nn_batchnorm *bn = (nn_batchnorm *)l;
  NN_REQUIRE(max >= 2, "nn_batchnorm params: room for %d params, %s has 2", max, l->name);
  out[0] = (nn_param){bn->gamma_name, &bn->gamma, &bn->dgamma};
  out[1] = (nn_param){bn->beta_name, &bn->beta, &bn->dbeta};
  return 2;
}

static int buffers_op(nn_layer *l, nn_param *out, int max) {
  nn_batchnorm *bn = (nn_batchnorm *)l;
  NN_REQUIRE(max >= 2, "nn_batchnorm buffers: room for %d buffers, %s has 2", max, l->name);
  out[0] = (nn_param){bn->mean_name, &bn->running_mean, NULL};
  out[1] = (nn_param){bn->var_name, &bn->running_var, NULL};
  return 2;
}

static int out_shape_op(const nn_layer *l, const int *in, int in_ndim, int *out) {
  const nn_batchnorm *bn = (const nn_batchnorm *)l;
  NN_REQUIRE(in_ndim >= 1 && in[0] == bn->C, "%s: BatchNorm(%d) takes (N, %d) or (N, %d, H, W) inputs, got "
             "%d channels (%d axes after N)", l->name, bn->C, bn->C, bn->C, in_ndim >= 1 ? in[0] : 0, in_ndim);
  for (int d = 0; d < in_ndim; d++) out[d] = in[d];
  return in_ndim;
}

static void free_op(nn_layer *l) {
  nn_batchnorm *bn = (nn_batchnorm *)l;
  nn_tensor *all[] = {&bn->gamma, &bn->beta, &bn->dgamma, &bn->dbeta, &bn->running_mean, &bn->running_var};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nn_tensor_free(all[i]);
  free(bn);
}

static const nn_layer_ops BATCHNORM_OPS = {.kind = "BatchNorm", .forward = forward_op, .backward = backward_op,
                                           .params = params_op, .out_shape = out_shape_op, .free = free_op,
                                           .buffers = buffers_op};

nn_batchnorm *nn_batchnorm_new(const char *name, int channels) {
  const char *nm = name ? name : "batchnorm";
  NN_REQUIRE(channels >= 1, "nn_batchnorm_new: %s: channels is %d; it must be at least 1", nm, channels);
  nn_batchnorm *bn = nn_xcalloc(1, sizeof *bn, "nn_batchnorm");
  bn->base.ops = &BATCHNORM_OPS;
  nn_layer_name(&bn->base, "nn_batchnorm_new", nm, NULL);
  snprintf(bn->gamma_name, sizeof bn->gamma_name, "%s.gamma", bn->base.name);
  snprintf(bn->beta_name, sizeof bn->beta_name, "%s.beta", bn->base.name);
  snprintf(bn->mean_name, sizeof bn->mean_name, "%s.running_mean", bn->base.name);
  snprintf(bn->var_name, sizeof bn->var_name, "%s.running_var", bn->base.name);
  bn->C = channels, bn->eps = 1e-5f, bn->momentum = 0.1f;
  nn_tensor *per_channel[] = {&bn->gamma, &bn->beta, &bn->dgamma, &bn->dbeta, &bn->running_mean,
                              &bn->running_var};
  for (size_t i = 0; i < sizeof per_channel / sizeof per_channel[0]; i++)
    *per_channel[i] = nn_tensor_new(1, &bn->C, NN_CPU); /* zeros */
  nn_tensor_fill(&bn->gamma, 1.f);
  nn_tensor_fill(&bn->running_var, 1.f);
  return bn;
}
