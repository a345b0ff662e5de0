/* nn_model.c: the Sequential container, its training step, evaluation and prediction. */
#include "nn_model.h"

#include <stdlib.h>
#include <string.h>

#include "nn_checkpoint.h"
#include "nn_cuda.h"
#include "nn_loss.h"


/* ---- loss kinds */

static const char *const LOSS_NAMES[NN_LOSS_COUNT] = {
    "sparse_ce", "bce", "focal", "binary_hinge", "multi_hinge", "mse", "mae", "huber", "log_cosh"};

const char *nn_loss_name(nn_loss_kind kind) {
  NN_REQUIRE((int)kind >= 0 && kind < NN_LOSS_COUNT, "nn_loss_name: %d is not a loss kind", (int)kind);
  return LOSS_NAMES[kind];
}

nn_status nn_loss_parse(const char *name, nn_loss_kind *kind, nn_error *err) {
  for (int k = 0; k < NN_LOSS_COUNT; k++)
    if (name && strcmp(name, LOSS_NAMES[k]) == 0) return *kind = (nn_loss_kind)k, NN_OK;
  return nn_fail(err, NN_ERR_ARG,
                 "unknown loss '%s'; the losses are sparse_ce, bce, focal, binary_hinge, multi_hinge, mse, mae, "
                 "huber, log_cosh",
                 name ? name : "(null)");
}

bool nn_loss_takes_labels(nn_loss_kind kind) { return kind < NN_LOSS_MSE; }

/* ---- building */

nn_model *nn_model_new(const char *name, int in_ndim, const int *in_shape) {
  NN_REQUIRE(in_ndim >= 1 && in_ndim <= NN_MAX_DIMS - 1 && in_shape,
             "nn_model_new: an example has 1 to %d dims (its shape without N), got %d", NN_MAX_DIMS - 1, in_ndim);
  nn_model *m = nn_xcalloc(1, sizeof *m, "nn_model");
  snprintf(m->name, sizeof m->name, "%s", name ? name : "model");
  m->in_ndim = in_ndim;
  for (int i = 0; i < in_ndim; i++) {
    NN_REQUIRE(in_shape[i] >= 1, "nn_model_new: input dim %d is %d; every dim must be >= 1", i, in_shape[i]);
    m->in_shape[i] = in_shape[i];
  }
  m->device = NN_CPU;
  return m;
}

/* The shape that layers[0..upto) give for one example; returns its ndim. */
static int shape_after(const nn_model *m, int upto, int *shape) {
  int ndim = m->in_ndim, next[NN_MAX_DIMS];
  memcpy(shape, m->in_shape, sizeof(int) * (size_t)ndim);
  for (int i = 0; i < upto; i++) {
    ndim = m->layers[i]->ops->out_shape(m->layers[i], shape, ndim, next);
    memcpy(shape, next, sizeof(int) * (size_t)ndim);
  }
  return ndim;
}

int nn_model_out_shape(const nn_model *m, int *out) { return shape_after(m, m->count, out); }

static long row_numel(const int *shape, int ndim) {
  long n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  return n;
}

void nn_model_add(nn_model *m, nn_layer *layer) {
  NN_REQUIRE(layer && layer->ops, "nn_model_add: the layer is NULL");
  NN_REQUIRE(!m->compiled, "nn_model_add: %s is compiled already; add every layer before nn_model_compile",
             m->name);
  for (int i = 0; i < m->count; i++)
    NN_REQUIRE(strcmp(m->layers[i]->name, layer->name) != 0,
               "nn_model_add: %s has a layer named '%s' already; names must differ (they name the checkpoint's "
               "tensors)",
               m->name, layer->name);
  int in[NN_MAX_DIMS], out[NN_MAX_DIMS];
  int ndim = shape_after(m, m->count, in);
  layer->ops->out_shape(layer, in, ndim, out); /* aborts, naming both shapes, when they do not fit */
  if (m->count == m->cap) {
    m->cap = m->cap ? 2 * m->cap : 8;
    nn_layer **grown = realloc(m->layers, sizeof *m->layers * (size_t)m->cap);
    NN_REQUIRE(grown, "nn_model_add: out of memory for %d layers", m->cap);
    m->layers = grown;
  }
  m->layers[m->count++] = layer;
}

void nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optim_kind opt, const nn_optim_config *cfg) {
  NN_REQUIRE(m->count > 0, "nn_model_compile: %s has no layers; nn_model_add them first", m->name);
  NN_REQUIRE((int)loss >= 0 && loss < NN_LOSS_COUNT, "nn_model_compile: %d is not a loss kind", (int)loss);
  int out[NN_MAX_DIMS], out_ndim = nn_model_out_shape(m, out);
  long D = row_numel(out, out_ndim);
  if (loss == NN_LOSS_SPARSE_CE || loss == NN_LOSS_MULTI_HINGE)
    NN_REQUIRE(out_ndim == 1 && D >= 2, "nn_model_compile: %s needs (N, C) logits with C >= 2; the last layer gives "
               "%ld outputs", nn_loss_name(loss), D);
  if (loss == NN_LOSS_BCE || loss == NN_LOSS_FOCAL || loss == NN_LOSS_BINARY_HINGE)
    NN_REQUIRE(D == 1, "nn_model_compile: %s needs one logit per example; the last layer gives %ld (for C classes "
               "use sparse_ce)", nn_loss_name(loss), D);
  if (m->compiled) nn_optim_free(&m->opt), free(m->params);
  m->param_count = 0;
  m->params = nn_xcalloc((size_t)m->count * NN_MAX_LAYER_PARAMS, sizeof *m->params, "nn_model params");
  for (int i = 0; i < m->count; i++) /* a frozen layer's params stay out of the optimizer's reach */
    if (!m->layers[i]->frozen)
      m->param_count += m->layers[i]->ops->params(m->layers[i], m->params + m->param_count, NN_MAX_LAYER_PARAMS);
  m->loss = loss;
  m->opt = nn_optim_new(opt, cfg, m->params, m->param_count);
  m->compiled = true;
}

long nn_model_param_count(const nn_model *m) {
  long total = 0;
  for (int i = 0; i < m->count; i++) total += nn_layer_param_count(m->layers[i]);
  return total;
}

/* ---- the buffers between layers */

static void free_buffers(nn_model *m) {
  if (!m->acts) return;
  for (int i = 0; i <= m->count; i++) nn_tensor_free(&m->acts[i]), nn_tensor_free(&m->grads[i]);
  free(m->acts), free(m->grads), free(m->host_out);
  nn_tensor_free(&m->targets);
  m->acts = m->grads = NULL, m->host_out = NULL, m->batch_cap = 0;
}

/* A tensor of n examples of shape `shape`. */
static nn_tensor batch_tensor(int n, const int *shape, int ndim, nn_device device) {
  int full[NN_MAX_DIMS] = {n};
  memcpy(full + 1, shape, sizeof(int) * (size_t)ndim);
  return nn_tensor_new(ndim + 1, full, device);
}

/* Room for batches of n examples: done once, and again only for a larger batch. */
static void ensure_capacity(nn_model *m, int n) {
  if (n <= m->batch_cap) return;
  free_buffers(m);
  m->acts = nn_xcalloc((size_t)m->count + 1, sizeof *m->acts, "nn_model acts");
  m->grads = nn_xcalloc((size_t)m->count + 1, sizeof *m->grads, "nn_model grads");
  int shape[NN_MAX_DIMS];
  for (int i = 0; i <= m->count; i++) {
    int ndim = shape_after(m, i, shape);
    m->acts[i] = batch_tensor(n, shape, ndim, m->device);
    if (i > 0) m->grads[i] = batch_tensor(n, shape, ndim, m->device); /* the input needs no gradient */
  }
  int ndim = nn_model_out_shape(m, shape);
  m->targets = batch_tensor(n, shape, ndim, m->device);
  m->host_out = nn_xcalloc((size_t)n * (size_t)row_numel(shape, ndim), sizeof(float), "nn_model host_out");
  m->batch_cap = n;
}

/* Every buffer holds the first n rows of its capacity. */
static void use_rows(nn_model *m, int n) {
  for (int i = 0; i <= m->count; i++) m->acts[i].shape[0] = n, m->grads[i].shape[0] = n;
  m->targets.shape[0] = n;
}

/* Rows [start, start + n) of t, sharing its memory. */
static nn_tensor rows_of(const nn_tensor *t, int start, int n) {
  nn_tensor v = *t;
  v.data = t->data + (long)start * (nn_numel(t) / t->shape[0]);
  v.shape[0] = n;
  return v;
}

void nn_model_to(nn_model *m, nn_device device) {
  if (device == m->device) return;
  NN_REQUIRE(device == NN_CPU || nn_cuda_available(), "nn_model_to: no GPU here (%s)", nn_cuda_describe());
  for (int i = 0; i < m->count; i++) nn_layer_to(m->layers[i], device);
  free_buffers(m);
  m->device = device;
  if (m->compiled) { /* the optimizer's state moves by starting afresh on the new device */
    nn_optim_kind kind = m->opt.kind;
    nn_optim_config cfg = m->opt.cfg;
    nn_model_compile(m, m->loss, kind, &cfg);
  }
}

void nn_model_free(nn_model *m) {
  if (!m) return;
  free_buffers(m);
  if (m->compiled) nn_optim_free(&m->opt), free(m->params);
  for (int i = 0; i < m->count; i++) m->layers[i]->ops->free(m->layers[i]);
  free(m->layers);
  free(m);
}

/* ---- one batch: forward, loss, backward */

static void check_input(const char *fn, const nn_model *m, const nn_tensor *x) {
  bool ok = x->ndim == m->in_ndim + 1 && x->device == NN_CPU && x->shape[0] >= 1;
  for (int i = 0; ok && i < m->in_ndim; i++) ok = x->shape[i + 1] == m->in_shape[i];
  if (ok) return;
  nn_tensor expect = {.ndim = m->in_ndim + 1, .shape = {0}};
  for (int i = 0; i < m->in_ndim; i++) expect.shape[i + 1] = m->in_shape[i];
  char want[64];
  snprintf(want, sizeof want, "%s", nn_shape_str(&expect).s);
  NN_REQUIRE(false, "%s: x is %s%s but %s expects (N%s", fn, nn_shape_str(x).s,
             x->device == NN_CPU ? "" : " on the GPU", m->name, strchr(want, ','));
}

static void check_targets(const char *fn, const nn_model *m, const int *y, const nn_tensor *Y, int N) {
  if (nn_loss_takes_labels(m->loss)) {
    NN_REQUIRE(y, "%s: the loss %s takes int labels y, and y is NULL", fn, nn_loss_name(m->loss));
    return;
  }
  NN_REQUIRE(Y, "%s: the loss %s takes a target tensor Y, and Y is NULL", fn, nn_loss_name(m->loss));
  int out[NN_MAX_DIMS], ndim = nn_model_out_shape(m, out);
  NN_REQUIRE(Y->shape[0] == N && nn_numel(Y) == (long)N * row_numel(out, ndim) && Y->device == NN_CPU,
             "%s: Y is %s but the model gives %d rows of %ld outputs (a CPU tensor)", fn, nn_shape_str(Y).s, N,
             row_numel(out, ndim));
}

static void forward(nn_model *m, bool training) {
  for (int i = 0; i < m->count; i++) m->layers[i]->ops->forward(m->layers[i], &m->acts[i], &m->acts[i + 1], training);
}

/* The mean loss of the batch in acts[count]; adds its gradient into dout unless NULL. */
static double batch_loss(nn_model *m, const int *y, nn_tensor *dout) {
  const nn_tensor *z = &m->acts[m->count], *Y = &m->targets;
  switch (m->loss) {
  case NN_LOSS_SPARSE_CE: return nn_sparse_ce_loss(z, y, dout);
  case NN_LOSS_BCE: return nn_bce_loss(z, y, dout);
  case NN_LOSS_FOCAL: return nn_focal_loss(z, y, NN_FOCAL_ALPHA, NN_FOCAL_GAMMA, dout);
  case NN_LOSS_BINARY_HINGE: return nn_binary_hinge_loss(z, y, dout);
  case NN_LOSS_MULTI_HINGE: return nn_multi_hinge_loss(z, y, dout);
  case NN_LOSS_MSE: return nn_mse_loss(z, Y, dout);
  case NN_LOSS_MAE: return nn_mae_loss(z, Y, dout);
  case NN_LOSS_HUBER: return nn_huber_loss(z, Y, 1.f, dout);
  case NN_LOSS_LOG_COSH: return nn_log_cosh_loss(z, Y, dout);
  case NN_LOSS_COUNT: break;
  }
  nn_panic("batch_loss: %d is not a loss kind", (int)m->loss);
}

/* The outputs of the last forward on the host: (n, D) floats. */
static const float *host_outputs(nn_model *m) {
  const nn_tensor *z = &m->acts[m->count];
  if (z->device == NN_CPU) return z->data;
  nn_cuda_to_host(m->host_out, z->data, nn_tensor_bytes(z));
  return m->host_out;
}

/* The predicted class of one row of D outputs: argmax, or z > 0 for a single output. */
static int class_of_row(const float *row, long D) {
  if (D == 1) return row[0] > 0.f;
  int best = 0;
  for (long c = 1; c < D; c++)
    if (row[c] > row[best]) best = (int)c;
  return best;
}

static int count_correct(nn_model *m, const int *y, int n) {
  long D = nn_numel(&m->acts[m->count]) / n;
  const float *out = host_outputs(m);
  int correct = 0;
  for (int r = 0; r < n; r++) correct += class_of_row(out + (long)r * D, D) == y[r];
  return correct;
}

/* acts[0] and targets <- rows [start, start + n) of X and Y. */
static void load_batch(nn_model *m, const nn_tensor *X, const nn_tensor *Y, int start, int n) {
  ensure_capacity(m, n);
  use_rows(m, n);
  nn_tensor xb = rows_of(X, start, n);
  nn_tensor_copy(&m->acts[0], &xb);
  if (Y) {
    nn_tensor yb = rows_of(Y, start, n);
    nn_tensor_copy(&m->targets, &yb);
  }
}

/* Every layer's param grads to 0, the frozen layers' too (a frozen layer between two
 * trainable ones still runs its backward, which adds into them). */
static void zero_param_grads(nn_model *m) {
  nn_param p[NN_MAX_LAYER_PARAMS];
  for (int i = 0; i < m->count; i++) {
    int k = m->layers[i]->ops->params(m->layers[i], p, NN_MAX_LAYER_PARAMS);
    for (int j = 0; j < k; j++) nn_tensor_fill(p[j].grad, 0.f);
  }
}

/* The lowest layer with params that train: the backward stops there, as PyTorch's
 * autograd stops below the last tensor with requires_grad. The frozen layers under it (a
 * pretrained feature extractor) are not visited at all, their grads left at 0: that is
 * most of a fine-tuning step's work saved. m->count when every param is frozen. */
static int lowest_trainable(const nn_model *m) {
  for (int i = 0; i < m->count; i++)
    if (!m->layers[i]->frozen && nn_layer_param_count(m->layers[i]) > 0) return i;
  return m->count;
}

/* ANCHOR: train_batch */
double nn_model_gradients(nn_model *m, const nn_tensor *x, const int *y, const nn_tensor *Y, int *correct) {
  NN_REQUIRE(m->compiled, "nn_model_gradients: %s is not compiled; call nn_model_compile first", m->name);
  check_input("nn_model_gradients", m, x);
  int n = x->shape[0];
  check_targets("nn_model_gradients", m, y, Y, n);
  load_batch(m, x, Y, 0, n);

  zero_param_grads(m); /* backward ADDS into every grad */
  for (int i = 1; i <= m->count; i++) nn_tensor_fill(&m->grads[i], 0.f);

  forward(m, true);
  double loss = batch_loss(m, y, &m->grads[m->count]); /* grads[L] = dloss/dlogits */
  const int lowest = lowest_trainable(m);                /* 0 unless layers are frozen */
  for (int i = m->count - 1; i >= lowest; i--)           /* the chain rule, last layer first */
    m->layers[i]->ops->backward(m->layers[i], &m->grads[i + 1], i > lowest ? &m->grads[i] : NULL);

  if (correct) *correct = nn_loss_takes_labels(m->loss) ? count_correct(m, y, n) : 0;
  return loss;
}

double nn_model_train_batch(nn_model *m, const nn_tensor *x, const int *y, const nn_tensor *Y, int *correct) {
  double loss = nn_model_gradients(m, x, y, Y, correct);
  nn_optim_step(&m->opt);
  return loss;
}
/* ANCHOR_END: train_batch */

void nn_model_backward_from(nn_model *m, const nn_tensor *x, const nn_tensor *dout, int down_to) {
  check_input("nn_model_backward_from", m, x);
  NN_REQUIRE(down_to >= 0 && down_to < m->count, "nn_model_backward_from: down_to is %d; %s has layers 0..%d",
             down_to, m->name, m->count - 1);
  int n = x->shape[0], shape[NN_MAX_DIMS], ndim = nn_model_out_shape(m, shape);
  NN_REQUIRE(dout->device == NN_CPU && dout->shape[0] == n && nn_numel(dout) == (long)n * row_numel(shape, ndim),
             "nn_model_backward_from: dout is %s but %s gives %d rows of %ld outputs for x %s (a CPU tensor)",
             nn_shape_str(dout).s, m->name, n, row_numel(shape, ndim), nn_shape_str(x).s);
  load_batch(m, x, NULL, 0, n);
  zero_param_grads(m);
  for (int i = 1; i <= m->count; i++) nn_tensor_fill(&m->grads[i], 0.f);
  forward(m, false);
  nn_tensor_copy(&m->grads[m->count], dout);
  for (int i = m->count - 1; i >= down_to; i--)
    m->layers[i]->ops->backward(m->layers[i], &m->grads[i + 1], i > 0 ? &m->grads[i] : NULL);
}

/* ---- evaluation and prediction, in batches, eval mode */

nn_eval nn_model_evaluate(nn_model *m, const nn_tensor *X, const int *y, const nn_tensor *Y, int batch) {
  NN_REQUIRE(m->compiled, "nn_model_evaluate: %s is not compiled; the loss comes from nn_model_compile", m->name);
  check_input("nn_model_evaluate", m, X);
  int N = X->shape[0];
  check_targets("nn_model_evaluate", m, y, Y, N);
  if (batch < 1) batch = N;
  double loss_sum = 0;
  long correct = 0;
  for (int start = 0; start < N; start += batch) {
    int n = N - start < batch ? N - start : batch;
    load_batch(m, X, Y, start, n);
    forward(m, false);
    loss_sum += batch_loss(m, y ? y + start : NULL, NULL) * n;
    if (nn_loss_takes_labels(m->loss)) correct += count_correct(m, y + start, n);
  }
  return (nn_eval){loss_sum / N, nn_loss_takes_labels(m->loss) ? (double)correct / N : -1.0};
}

void nn_model_predict(nn_model *m, const nn_tensor *X, nn_tensor *out, int batch) {
  check_input("nn_model_predict", m, X);
  int N = X->shape[0], shape[NN_MAX_DIMS], ndim = nn_model_out_shape(m, shape);
  long D = row_numel(shape, ndim);
  NN_REQUIRE(out->device == NN_CPU && out->shape[0] == N && nn_numel(out) == N * D,
             "nn_model_predict: out is %s but the model gives (%d, %ld) for X %s (a CPU tensor)",
             nn_shape_str(out).s, N, D, nn_shape_str(X).s);
  if (batch < 1) batch = N;
  for (int start = 0; start < N; start += batch) {
    int n = N - start < batch ? N - start : batch;
    load_batch(m, X, NULL, start, n);
    forward(m, false);
    nn_tensor ob = rows_of(out, start, n);
    nn_tensor_copy(&ob, &m->acts[m->count]);
  }
}

void nn_model_predict_classes(nn_model *m, const nn_tensor *X, int *classes, int batch) {
  int shape[NN_MAX_DIMS], ndim = nn_model_out_shape(m, shape);
  long D = row_numel(shape, ndim);
  nn_tensor out = nn_tensor_new(2, (int[]){X->shape[0], (int)D}, NN_CPU);
  nn_model_predict(m, X, &out, batch);
  for (int r = 0; r < X->shape[0]; r++) classes[r] = class_of_row(out.data + (long)r * D, D);
  nn_tensor_free(&out);
}

/* ---- summary and checkpoints */

/* 401920 -> "401,920" */
static const char *with_commas(long v, char *buf, int size) {
  char digits[32];
  int len = snprintf(digits, sizeof digits, "%ld", v), o = 0;
  for (int i = 0; i < len && o < size - 1; i++) {
    if (i > 0 && (len - i) % 3 == 0 && o < size - 2) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

void nn_model_summary(const nn_model *m, FILE *f) {
  fprintf(f, "Model: \"%s\"\n", m->name);
  fprintf(f, "%-28s %-20s %12s\n", "Layer (type)", "Output shape", "Params");
  fprintf(f, "%.*s\n", 62, "==============================================================");
  for (int i = 0; i < m->count; i++) {
    int shape[NN_MAX_DIMS], ndim = shape_after(m, i + 1, shape);
    char layer[64], shape_s[64], params[32];
    snprintf(layer, sizeof layer, "%s (%s)", m->layers[i]->name, m->layers[i]->ops->kind);
    int o = snprintf(shape_s, sizeof shape_s, "(N");
    for (int d = 0; d < ndim && o < (int)sizeof shape_s - 8; d++) o += snprintf(shape_s + o, sizeof shape_s - o, ", %d", shape[d]);
    snprintf(shape_s + o, sizeof shape_s - o, ")");
    fprintf(f, "%-28s %-20s %12s\n", layer, shape_s, with_commas(nn_layer_param_count(m->layers[i]), params, 32));
  }
  long frozen = 0, buffers = 0;
  for (int i = 0; i < m->count; i++) {
    if (m->layers[i]->frozen) frozen += nn_layer_param_count(m->layers[i]);
    buffers += nn_layer_buffer_count(m->layers[i]);
  }
  char total[32], trainable[32], fixed[32];
  fprintf(f, "%.*s\n", 62, "==============================================================");
  long count = nn_model_param_count(m);
  if (frozen == 0)
    fprintf(f, "Total params: %s (%.2f MB of float32), all trainable\n", with_commas(count, total, 32),
            count * 4.0 / 1e6);
  else
    fprintf(f, "Total params: %s (%.2f MB of float32): %s trainable, %s frozen\n", with_commas(count, total, 32),
            count * 4.0 / 1e6, with_commas(count - frozen, trainable, 32), with_commas(frozen, fixed, 32));
  if (buffers > 0) /* Keras adds these to its total as "non-trainable params"; PyTorch does not count them */
    fprintf(f, "Buffers: %s (BatchNorm running statistics: saved, never trained)\n", with_commas(buffers, total, 32));
}

/* The params and buffers of layers 0..n_layers-1, named, in order. */
static nn_named_tensor *state_of_first_layers(const nn_model *m, int n_layers, int *count) {
  nn_named_tensor *items = nn_xcalloc((size_t)n_layers * 2 * NN_MAX_LAYER_PARAMS + 1, sizeof *items, "named params");
  nn_param p[NN_MAX_LAYER_PARAMS];
  *count = 0;
  for (int i = 0; i < n_layers; i++) {
    int k = m->layers[i]->ops->params(m->layers[i], p, NN_MAX_LAYER_PARAMS);
    for (int j = 0; j < k; j++) items[(*count)++] = (nn_named_tensor){p[j].name, p[j].value};
    k = nn_layer_buffers(m->layers[i], p, NN_MAX_LAYER_PARAMS);
    for (int j = 0; j < k; j++) items[(*count)++] = (nn_named_tensor){p[j].name, p[j].value};
  }
  return items;
}

nn_named_tensor *nn_model_state(const nn_model *m, int *count) { return state_of_first_layers(m, m->count, count); }

nn_status nn_model_save(const nn_model *m, const char *path, nn_error *err) {
  int count;
  nn_named_tensor *items = nn_model_state(m, &count);
  nn_status s = nn_checkpoint_save(path, items, count, err);
  free(items);
  return s;
}

nn_status nn_model_load(nn_model *m, const char *path, nn_error *err) {
  int count;
  nn_named_tensor *items = nn_model_state(m, &count);
  nn_status s = nn_checkpoint_load(path, items, count, err);
  free(items);
  return s;
}

nn_status nn_model_load_layers(nn_model *m, int n_layers, const char *path, nn_error *err) {
  NN_REQUIRE(n_layers >= 0 && n_layers <= m->count, "nn_model_load_layers: n_layers is %d; %s has %d layers",
             n_layers, m->name, m->count);
  int count;
  nn_named_tensor *items = state_of_first_layers(m, n_layers, &count);
  nn_status s = nn_checkpoint_load(path, items, count, err); /* ignores the file's other tensors */
  free(items);
  return s;
}
