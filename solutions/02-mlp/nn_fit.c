/* nn_fit.c: epochs of shuffled mini-batches, validation, callbacks, history. */
#include "nn_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_batches.h"
#include "nn_progress.h"
#include "nn_rng.h"

nn_fit_options nn_fit_defaults(void) {
  return (nn_fit_options){.epochs = 10, .batch_size = 32, .shuffle = true, .seed = 42, .verbose = 1};
}

static nn_history history_new(int epochs) {
  nn_history h = {.status = NN_OK};
  double **cols[] = {&h.loss, &h.accuracy, &h.val_loss, &h.val_accuracy, &h.seconds};
  for (int i = 0; i < 5; i++) *cols[i] = nn_xcalloc((size_t)epochs, sizeof(double), "nn_history");
  return h;
}

void nn_history_free(nn_history *h) {
  free(h->loss), free(h->accuracy), free(h->val_loss), free(h->val_accuracy), free(h->seconds);
  memset(h, 0, sizeof *h);
}

/* The examples one epoch trains on, and where their batches are gathered. */
typedef struct {
  const nn_tensor *X, *Y;
  const int *y;
  int N;        /* training examples: the first N of X */
  int *order;   /* (N) this epoch's order */
  nn_tensor xb, Yb; /* (batch, ...in), (batch, ...out): the batch, gathered */
  int *yb;      /* (batch) */
} train_set;

static long row_len(const nn_tensor *t) { return nn_numel(t) / t->shape[0]; }

static nn_tensor rows_like(const nn_tensor *t, int n) {
  int shape[NN_MAX_DIMS];
  memcpy(shape, t->shape, sizeof shape);
  shape[0] = n;
  return nn_tensor_new(t->ndim, shape, NN_CPU);
}

/* Gather the examples order[start..start+n) into the batch buffers. */
static void gather(train_set *s, int start, int n) {
  long D = row_len(s->X), DY = s->Y ? row_len(s->Y) : 0;
  s->xb.shape[0] = n;
  if (s->Y) s->Yb.shape[0] = n;
  for (int j = 0; j < n; j++) {
    int r = s->order[start + j];
    memcpy(s->xb.data + j * D, s->X->data + r * D, sizeof(float) * (size_t)D);
    if (s->Y) memcpy(s->Yb.data + j * DY, s->Y->data + r * DY, sizeof(float) * (size_t)DY);
    if (s->y) s->yb[j] = s->y[r];
  }
}

/* ANCHOR: train_epoch */
/* One pass over the training set; the mean loss and accuracy of its batches. */
static void train_epoch(nn_model *m, train_set *s, int batch, const nn_fit_options *o, nn_rng *aug_rng,
                        nn_progress *bar, double *loss, double *accuracy) {
  double loss_sum = 0;
  long correct = 0;
  int batches = nn_batches_per_epoch(s->N, batch, false); /* the last batch may be smaller */
  for (int b = 0; b < batches; b++) {
    int start = b * batch, n = s->N - start < batch ? s->N - start : batch, right = 0;
    gather(s, start, n);
    if (o->augment) o->augment(&s->xb, aug_rng, o->augment_ctx);
    loss_sum += nn_model_train_batch(m, &s->xb, s->y ? s->yb : NULL, s->Y ? &s->Yb : NULL, &right) * n;
    correct += right;
    nn_progress_update(bar, b + 1, "loss %.4f", loss_sum / (start + n));
  }
  *loss = loss_sum / s->N;
  *accuracy = nn_loss_classifies(m->loss) ? (double)correct / s->N : -1.0;
}
/* ANCHOR_END: train_epoch */

static void print_epoch(const nn_epoch_logs *l, int epochs, bool labels) {
  printf("Epoch %d/%d  %.1fs  loss %.4f", l->epoch + 1, epochs, l->seconds, l->loss);
  if (labels) printf("  accuracy %.4f", l->accuracy);
  if (!isnan(l->val_loss)) printf("  val_loss %.4f", l->val_loss);
  if (labels && !isnan(l->val_accuracy)) printf("  val_accuracy %.4f", l->val_accuracy);
  printf("\n");
  fflush(stdout);
}

nn_history nn_model_fit(nn_model *m, const nn_tensor *X, const int *y, const nn_tensor *Y,
                        const nn_fit_options *o) {
  nn_fit_options opt = o ? *o : nn_fit_defaults();
  NN_REQUIRE(m->compiled, "nn_model_fit: %s is not compiled; call nn_model_compile first", m->name);
  NN_REQUIRE(opt.epochs >= 1 && opt.batch_size >= 1, "nn_model_fit: epochs = %d and batch_size = %d must be >= 1",
             opt.epochs, opt.batch_size);
  NN_REQUIRE(opt.validation_split >= 0 && opt.validation_split < 1,
             "nn_model_fit: validation_split is %g; it is a fraction in [0, 1)", opt.validation_split);
  NN_REQUIRE(X->ndim >= 2 && X->device == NN_CPU, "nn_model_fit: X is %s; it needs (N, ...) on the CPU",
             nn_shape_str(X).s);
  int N = X->shape[0];

  /* Keras' validation_split: the last examples, cut before any shuffling. */
  int n_train = N;
  nn_tensor vX = {0}, vY = {0};
  const nn_tensor *val_X = opt.val_X, *val_Y = opt.val_Y;
  const int *val_y = opt.val_y;
  if (!val_X && opt.validation_split > 0) {
    n_train = (int)floor(N * (1.0 - opt.validation_split));
    NN_REQUIRE(n_train >= 1 && n_train < N, "nn_model_fit: validation_split %g of %d examples leaves %d to train "
               "and %d to validate; both need >= 1", opt.validation_split, N, n_train, N - n_train);
    vX = *X, vX.data += (long)n_train * row_len(X), vX.shape[0] = N - n_train, val_X = &vX;
    if (Y) vY = *Y, vY.data += (long)n_train * row_len(Y), vY.shape[0] = N - n_train, val_Y = &vY;
    if (y) val_y = y + n_train;
  }

  train_set s = {.X = X, .Y = Y, .y = y, .N = n_train};
  int batch = opt.batch_size < n_train ? opt.batch_size : n_train;
  s.order = nn_xcalloc((size_t)n_train, sizeof(int), "nn_model_fit order");
  for (int i = 0; i < n_train; i++) s.order[i] = i;
  s.xb = rows_like(X, batch);
  if (Y) s.Yb = rows_like(Y, batch);
  s.yb = nn_xcalloc((size_t)batch, sizeof(int), "nn_model_fit labels");
  nn_rng rng = nn_rng_new(opt.seed), aug_rng = nn_rng_new_stream(opt.seed, 2);

  nn_history h = history_new(opt.epochs);
  for (int c = 0; c < opt.n_callbacks; c++)
    if (opt.callbacks[c]->on_train_begin) opt.callbacks[c]->on_train_begin(opt.callbacks[c], m);

  for (int e = 0; e < opt.epochs && !h.stopped; e++) {
    double t0 = nn_seconds();
    if (opt.shuffle) nn_rng_shuffle(&rng, s.order, n_train);
    nn_progress bar;
    char label[32];
    snprintf(label, sizeof label, "epoch %d/%d", e + 1, opt.epochs);
    nn_progress_begin(&bar, label, (n_train + batch - 1) / batch);
    bar.enabled = bar.enabled && opt.verbose > 0;
    nn_epoch_logs logs = {.epoch = e, .val_loss = NAN, .val_accuracy = NAN};
    train_epoch(m, &s, batch, &opt, &aug_rng, &bar, &logs.loss, &logs.accuracy);
    nn_progress_end(&bar);
    if (val_X) {
      nn_eval v = nn_model_evaluate(m, val_X, val_y, val_Y, 256);
      logs.val_loss = v.loss, logs.val_accuracy = v.accuracy;
    }
    logs.seconds = nn_seconds() - t0;
    h.loss[e] = logs.loss, h.accuracy[e] = logs.accuracy, h.seconds[e] = logs.seconds;
    h.val_loss[e] = logs.val_loss, h.val_accuracy[e] = logs.val_accuracy;
    h.epochs = e + 1;
    if (opt.verbose > 0) print_epoch(&logs, opt.epochs, nn_loss_classifies(m->loss));
    for (int c = 0; c < opt.n_callbacks && !h.stopped; c++) {
      nn_callback *cb = opt.callbacks[c];
      if (cb->on_epoch_end && cb->on_epoch_end(cb, m, &logs, &h.err)) h.stopped = true;
      h.status = h.err.code;
    }
  }

  for (int c = 0; c < opt.n_callbacks; c++)
    if (opt.callbacks[c]->on_train_end) opt.callbacks[c]->on_train_end(opt.callbacks[c], m);
  if (h.status != NN_OK && opt.verbose > 0) fprintf(stderr, "nn_model_fit: stopped: %s\n", h.err.msg);
  nn_tensor_free(&s.xb), nn_tensor_free(&s.Yb);
  free(s.order), free(s.yb);
  return h;
}
