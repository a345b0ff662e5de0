/* nn_model.c: the Sequential container, its training step, evaluation and prediction. */
#include "nn_model.h"

#include <stdlib.h>
#include <string.h>

#include "nn_checkpoint.h"
#include "nn_cuda.h"
#include "nn_regularizer.h"
#include "nn_summary.h"


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

void nn_model_compile_loss(nn_model *m, const nn_loss *loss, nn_optim_kind opt, const nn_optim_config *cfg) {
  NN_REQUIRE(m->count > 0, "nn_model_compile: %s has no layers; nn_model_add them first", m->name);
  NN_REQUIRE(loss && loss->name && loss->mean, "nn_model_compile: the loss is NULL or has no name or mean()");
  int out[NN_MAX_DIMS], out_ndim = nn_model_out_shape(m, out);
  long D = row_numel(out, out_ndim);
  if (loss->outputs == 2)
    NN_REQUIRE(out_ndim == 1 && D >= 2, "nn_model_compile: %s needs (N, C) logits with C >= 2; the last layer gives "
               "%ld outputs", loss->name, D);
  if (loss->outputs == 1)
    NN_REQUIRE(D == 1, "nn_model_compile: %s needs one logit per example; the last layer gives %ld (for C classes "
               "use sparse_ce)", loss->name, D);
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

void nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optim_kind opt, const nn_optim_config *cfg) {
  NN_REQUIRE((int)loss >= 0 && loss < NN_LOSS_COUNT, "nn_model_compile: %d is not a loss kind", (int)loss);
  nn_model_compile_loss(m, nn_loss_of(loss), opt, cfg);
}

long nn_model_param_count(const nn_model *m) {
  long total = 0;
  for (int i = 0; i < m->count; i++) total += nn_layer_param_count(m->layers[i]);
  return total;
}

/* ---- the tape the model's own steps run on */

static void free_tape(nn_model *m) {
  nn_tape_free(m->tape);
  free(m->acts), free(m->grads), free(m->act_values);
  m->tape = NULL, m->acts = m->grads = NULL, m->act_values = NULL;
}

/* The model's tape, on its device, made at the first step (and again after nn_model_to). */
static nn_tape *own_tape(nn_model *m) {
  if (!m->tape) {
    m->tape = nn_tape_new(m->device);
    m->acts = nn_xcalloc((size_t)m->count + 1, sizeof *m->acts, "nn_model acts");
    m->grads = nn_xcalloc((size_t)m->count + 1, sizeof *m->grads, "nn_model grads");
    m->act_values = nn_xcalloc((size_t)m->count + 1, sizeof *m->act_values, "nn_model act_values");
  }
  return m->tape;
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
  free_tape(m);
  m->device = device;
  if (m->compiled) { /* the optimizer's state moves by starting afresh on the new device */
    nn_optim_kind kind = m->opt.kind;
    nn_optim_config cfg = m->opt.cfg;
    nn_model_compile_loss(m, m->loss, kind, &cfg);
  }
}

void nn_model_free(nn_model *m) {
  if (!m) return;
  free_tape(m);
  if (m->compiled) nn_optim_free(&m->opt), free(m->params);
  for (int i = 0; i < m->count; i++) m->layers[i]->ops->free(m->layers[i]);
  free(m->layers);
  free(m);
}

/* ---- one batch: forward, loss, backward */

/* x: (N, ...in) as the model takes, on either device. */
static void check_input(const char *fn, const nn_model *m, const nn_tensor *x) {
  bool ok = x->ndim == m->in_ndim + 1 && x->shape[0] >= 1;
  for (int i = 0; ok && i < m->in_ndim; i++) ok = x->shape[i + 1] == m->in_shape[i];
  if (ok) return;
  nn_tensor expect = {.ndim = m->in_ndim + 1, .shape = {0}};
  for (int i = 0; i < m->in_ndim; i++) expect.shape[i + 1] = m->in_shape[i];
  char want[64];
  snprintf(want, sizeof want, "%s", nn_shape_str(&expect).s);
  NN_REQUIRE(false, "%s: x is %s but %s expects (N%s", fn, nn_shape_str(x).s, m->name, strchr(want, ','));
}

/* The target must be the kind the loss takes, and say which loss fits what was given:
 * the mix-up of int labels, one-hot rows and regression targets is the classic first bug
 * (Keras: "Shapes (32, 1) and (32, 10) are incompatible"). */
static void check_targets(const char *fn, const nn_model *m, const int *y, const nn_tensor *Y, int N) {
  const char *loss = m->loss->name;
  int out[NN_MAX_DIMS], ndim = nn_model_out_shape(m, out);
  long D = row_numel(out, ndim);
  if (m->loss->takes_labels) {
    NN_REQUIRE(y, "%s: the loss %s takes int labels y (N), and y is NULL%s", fn, loss,
               Y ? "; you gave a target tensor Y: for one-hot rows compile with categorical_ce, or pass their "
                   "classes as y" : "");
    return;
  }
  NN_REQUIRE(Y, "%s: the loss %s takes a target tensor Y, and Y is NULL%s", fn, loss,
             !y                          ? ""
             : nn_loss_classifies(m->loss) ? "; you gave int labels y: nn_to_categorical(y, N, C) makes one-hot "
                                            "rows of them, or compile with sparse_ce, which takes labels"
                                          : "; you gave int labels y: a regression loss compares the outputs with "
                                            "numbers of their shape (for classes compile with sparse_ce)");
  bool classes_for_onehot = nn_loss_classifies(m->loss) && Y->shape[0] == N && nn_numel(Y) == N && D > 1;
  NN_REQUIRE(Y->shape[0] == N && nn_numel(Y) == (long)N * D, "%s: Y is %s but the model gives %d rows of %ld outputs%s",
             fn, nn_shape_str(Y).s, N, D,
             classes_for_onehot ? "; Y looks like one class per row: pass it as int labels y with sparse_ce, or "
                                  "make one-hot rows with nn_to_categorical" : "");
}

/* acts[i] <- the value x of tape t (when the model's own tape exists to hold them). */
static void note_act(nn_model *m, int i, nn_tensor *x) {
  if (!m->acts) return;
  m->acts[i] = *x;
  m->act_values[i] = x;
}

/* The chain from layer `from` on, on tape t: x is acts[from]; returns acts[count]. */
static nn_tensor *apply_layers(nn_model *m, nn_tape *t, nn_tensor *x, int from) {
  for (int i = from; i < m->count; i++) {
    note_act(m, i, x);
    x = nn_tape_layer(t, m->layers[i], x);
  }
  note_act(m, m->count, x);
  return x;
}

nn_tensor *nn_model_apply(nn_model *m, nn_tape *t, const nn_tensor *x) {
  NN_REQUIRE(m && t && x, "nn_model_apply: the model, the tape or x is NULL");
  check_input("nn_model_apply", m, x);
  NN_REQUIRE(nn_tape_device(t) == m->device, "nn_model_apply: the tape is on the %s but %s is on the %s",
             nn_device_name(nn_tape_device(t)), m->name, nn_device_name(m->device));
  return apply_layers(m, t, (nn_tensor *)x, 0);
}

/* A step on the model's own tape: rows [start, start + n) of X as its input, the chain
 * applied in the given mode; returns the output. */
static nn_tensor *forward_rows(nn_model *m, const nn_tensor *X, int start, int n, bool training) {
  nn_tape *t = own_tape(m);
  nn_tape_start(t, training);
  nn_tensor xb = rows_of(X, start, n);
  return apply_layers(m, t, nn_tape_input(t, &xb, false), 0);
}

/* The predicted class of one row of D outputs: argmax, or z > 0 for a single output. */
static int class_of_row(const float *row, long D) {
  if (D == 1) return row[0] > 0.f;
  int best = 0;
  for (long c = 1; c < D; c++)
    if (row[c] > row[best]) best = (int)c;
  return best;
}

/* t's values on the host: t's own, or a copy in the tape's arena. */
static const float *on_host(nn_model *m, const nn_tensor *t) {
  if (t->device == NN_CPU) return t->data;
  float *host = nn_arena_record(nn_tape_arena(m->tape), nn_tensor_bytes(t));
  nn_cuda_to_host(host, t->data, nn_tensor_bytes(t));
  return host;
}

/* How many rows of the outputs z (n, D) have their class: label y[r], or the largest
 * entry of row r of Y (one-hot or soft targets); z and Y on either device. */
static int count_correct(nn_model *m, const nn_tensor *z, const int *y, const nn_tensor *Y) {
  int n = z->shape[0];
  long D = nn_numel(z) / n;
  const float *out = on_host(m, z), *target = y ? NULL : on_host(m, Y);
  int correct = 0;
  for (int r = 0; r < n; r++)
    correct += class_of_row(out + (long)r * D, D) == (y ? y[r] : class_of_row(target + (long)r * D, D));
  return correct;
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

/* The L1/L2 penalty of the trainable weight matrices ("*.W"); with add_grads, their grads get
 * its gradient. One param at a time, so a step allocates nothing for it. */
static double weight_penalty(nn_model *m, bool add_grads) {
  if (m->l1 == 0.f && m->l2 == 0.f) return 0;
  double sum = 0;
  for (int i = 0; i < m->param_count; i++) {
    const char *name = m->params[i].name;
    size_t len = strlen(name);
    if (len >= 2 && !strcmp(name + len - 2, ".W"))
      sum += nn_regularize(&m->params[i], 1, m->l1, m->l2, add_grads, nn_tape_arena(m->tape));
  }
  return sum;
}

/* ANCHOR: train_batch */
double nn_model_gradients(nn_model *m, const nn_tensor *x, const int *y, const nn_tensor *Y, int *correct) {
  NN_REQUIRE(m->compiled, "nn_model_gradients: %s is not compiled; call nn_model_compile first", m->name);
  check_input("nn_model_gradients", m, x);
  int n = x->shape[0];
  check_targets("nn_model_gradients", m, y, Y, n);

  zero_param_grads(m);                                /* backward ADDS into every grad */
  nn_tensor *z = forward_rows(m, x, 0, n, true);      /* every layer's call recorded on the tape */
  double loss = nn_tape_loss(m->tape, m->loss, z, &(nn_target){.labels = y, .Y = Y}); /* dloss/dz */
  nn_tape_backward(m->tape);                          /* the chain rule, last call first */
  loss += weight_penalty(m, true);                    /* L1/L2 on the weights, when asked */

  if (correct) *correct = nn_loss_classifies(m->loss) ? count_correct(m, z, y, Y) : 0;
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
  NN_REQUIRE(dout->shape[0] == n && nn_numel(dout) == (long)n * row_numel(shape, ndim),
             "nn_model_backward_from: dout is %s but %s gives %d rows of %ld outputs for x %s",
             nn_shape_str(dout).s, m->name, n, row_numel(shape, ndim), nn_shape_str(x).s);
  zero_param_grads(m);
  nn_tape *t = own_tape(m);
  nn_tape_start(t, false);
  /* layers below down_to run forward only; their output enters as an input that wants its
   * gradient, so the backward stops there and grads[down_to] is d(...)/d acts[down_to] */
  nn_tensor *a = nn_tape_input(t, x, false);
  for (int i = 0; i < down_to; i++) note_act(m, i, a), a = nn_tape_layer(t, m->layers[i], a);
  nn_tensor *cut = nn_tape_input(t, a, true);
  nn_tensor *z = apply_layers(m, t, cut, down_to);
  nn_tensor_copy(nn_tape_grad(t, z), dout);
  nn_tape_backward(t);
  for (int i = 0; i <= m->count; i++) /* below down_to nothing went back: no gradient */
    m->grads[i] = i >= down_to ? *nn_tape_grad(t, m->act_values[i]) : (nn_tensor){0};
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
    nn_tensor *z = forward_rows(m, X, start, n, false);
    nn_tensor Yb = Y ? rows_of(Y, start, n) : (nn_tensor){0};
    if (Y && Y->device != m->device) Yb = *nn_tape_input(m->tape, &Yb, false); /* onto the model's device */
    nn_target target = {.labels = y ? y + start : NULL, .Y = Y ? &Yb : NULL};
    loss_sum += m->loss->mean(m->loss, z, &target, NULL, nn_tape_arena(m->tape)) * n; /* no gradient wanted */
    if (nn_loss_classifies(m->loss)) correct += count_correct(m, z, y ? y + start : NULL, &Yb);
  }
  double penalty = weight_penalty(m, false); /* part of the loss, as in training; the weights do not change */
  return (nn_eval){loss_sum / N + penalty, nn_loss_classifies(m->loss) ? (double)correct / N : -1.0};
}

void nn_model_predict(nn_model *m, const nn_tensor *X, nn_tensor *out, int batch) {
  check_input("nn_model_predict", m, X);
  int N = X->shape[0], shape[NN_MAX_DIMS], ndim = nn_model_out_shape(m, shape);
  long D = row_numel(shape, ndim);
  NN_REQUIRE(out->shape[0] == N && nn_numel(out) == N * D,
             "nn_model_predict: out is %s but the model gives (%d, %ld) for X %s", nn_shape_str(out).s, N, D,
             nn_shape_str(X).s);
  if (batch < 1) batch = N;
  for (int start = 0; start < N; start += batch) {
    int n = N - start < batch ? N - start : batch;
    nn_tensor *z = forward_rows(m, X, start, n, false);
    nn_tensor ob = rows_of(out, start, n);
    nn_tensor_copy(&ob, z); /* to out's device, whichever */
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

void nn_model_summary(const nn_model *m, FILE *f) {
  char title[64];
  snprintf(title, sizeof title, "Model: \"%s\"", m->name);
  nn_summary s; /* the course's layout and counting are PyTorch's: (N, C, H, W), buffers apart */
  nn_summary_begin(&s, f, NN_PYTORCH, title);
  for (int i = 0; i < m->count; i++) {
    nn_layer *l = m->layers[i];
    nn_shape out = {0}; /* one example, no N: at most NN_MAX_DIMS - 1 axes */
    out.ndim = shape_after(m, i + 1, out.dim);
    char name[112];
    snprintf(name, sizeof name, "%s (%s)", l->name, l->ops->kind);
    long params = nn_layer_param_count(l);
    nn_summary_row(&s, name, &out, params, l->frozen ? 0 : params, nn_layer_buffer_count(l));
  }
  nn_summary_end(&s);
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
