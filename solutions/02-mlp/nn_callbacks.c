/* nn_callbacks.c: EarlyStopping, ModelCheckpoint and CosineAnnealing. */
#include "nn_callbacks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double nn_logs_get(const nn_epoch_logs *logs, const char *monitor) {
  if (strcmp(monitor, "loss") == 0) return logs->loss;
  if (strcmp(monitor, "accuracy") == 0) return logs->accuracy;
  if (strcmp(monitor, "val_loss") == 0) return logs->val_loss;
  if (strcmp(monitor, "val_accuracy") == 0) return logs->val_accuracy;
  nn_panic("callback monitor '%s': the monitors are loss, accuracy, val_loss, val_accuracy", monitor);
}

static bool maximize(const char *monitor) { return strstr(monitor, "accuracy") != NULL; }

bool nn_monitor_improved(const char *monitor, double now, double best, double min_delta) {
  if (isnan(best)) return true; /* the first epoch always improves on nothing */
  return maximize(monitor) ? now > best + min_delta : now < best - min_delta;
}

/* The monitor's value, or an error a student can act on when the epoch has none. */
static bool monitored(const char *who, const char *monitor, const nn_epoch_logs *logs, double *value,
                      nn_error *err) {
  *value = nn_logs_get(logs, monitor);
  if (isnan(*value)) {
    nn_fail(err, NN_ERR_ARG, "%s monitors %s, but fit has no validation data: set validation_split "
            "(or val_X) in the fit options, or monitor \"loss\"", who, monitor);
    return false;
  }
  if (*value < 0) {
    nn_fail(err, NN_ERR_ARG, "%s monitors %s, which a regression loss does not measure; monitor a loss", who,
            monitor);
    return false;
  }
  return true;
}

/* ---- EarlyStopping */

static void snapshot_free(nn_early_stopping *es) {
  for (int i = 0; i < es->snapshot_count; i++) nn_tensor_free(&es->snapshot[i]);
  free(es->snapshot);
  free(es->state);
  es->snapshot = NULL, es->state = NULL, es->snapshot_count = 0;
}

static void es_begin(nn_callback *cb, nn_model *m) {
  nn_early_stopping *es = (nn_early_stopping *)cb;
  es->best = NAN, es->best_epoch = -1, es->wait = 0, es->stopped_epoch = -1;
  snapshot_free(es);
  if (!es->restore_best) return;
  es->state = nn_model_state(m, &es->snapshot_count); /* params and BatchNorm statistics, as a checkpoint */
  es->snapshot = nn_xcalloc((size_t)es->snapshot_count + 1, sizeof *es->snapshot, "EarlyStopping snapshot");
  for (int i = 0; i < es->snapshot_count; i++) {
    const nn_tensor *t = es->state[i].tensor;
    es->snapshot[i] = nn_tensor_new(t->ndim, t->shape, t->device);
  }
}

/* ANCHOR: early_stopping */
static bool es_epoch_end(nn_callback *cb, nn_model *m, const nn_epoch_logs *logs, nn_error *err) {
  nn_early_stopping *es = (nn_early_stopping *)cb;
  (void)m; /* es->state, taken in es_begin, is m's params and buffers */
  double now;
  if (!monitored("EarlyStopping", es->monitor, logs, &now, err)) return true;
  if (nn_monitor_improved(es->monitor, now, es->best, es->min_delta)) {
    es->best = now, es->best_epoch = logs->epoch, es->wait = 0;
    for (int i = 0; i < es->snapshot_count; i++) nn_tensor_copy(&es->snapshot[i], es->state[i].tensor);
    return false;
  }
  if (++es->wait < es->patience) return false;
  es->stopped_epoch = logs->epoch;
  return true;
}
/* ANCHOR_END: early_stopping */

static void es_end(nn_callback *cb, nn_model *m) {
  nn_early_stopping *es = (nn_early_stopping *)cb;
  (void)m;
  if (es->best_epoch >= 0)
    for (int i = 0; i < es->snapshot_count; i++) nn_tensor_copy(es->state[i].tensor, &es->snapshot[i]);
  snapshot_free(es);
}

nn_early_stopping nn_early_stopping_make(const char *monitor, int patience, bool restore_best) {
  nn_epoch_logs probe = {0};
  (void)nn_logs_get(&probe, monitor ? monitor : "val_loss"); /* an unknown monitor aborts now, not epochs later */
  NN_REQUIRE(patience >= 1, "nn_early_stopping_make: patience is %d; it is a number of epochs >= 1", patience);
  return (nn_early_stopping){.base = {"EarlyStopping", es_begin, es_epoch_end, es_end},
                             .monitor = monitor ? monitor : "val_loss",
                             .patience = patience,
                             .restore_best = restore_best,
                             .stopped_epoch = -1};
}

/* ---- ModelCheckpoint */

static void ck_begin(nn_callback *cb, nn_model *m) {
  (void)m;
  nn_model_checkpoint *ck = (nn_model_checkpoint *)cb;
  ck->best = NAN, ck->best_epoch = -1, ck->saves = 0;
}

static bool ck_epoch_end(nn_callback *cb, nn_model *m, const nn_epoch_logs *logs, nn_error *err) {
  nn_model_checkpoint *ck = (nn_model_checkpoint *)cb;
  if (ck->best_only) {
    double now;
    if (!monitored("ModelCheckpoint", ck->monitor, logs, &now, err)) return true;
    if (!nn_monitor_improved(ck->monitor, now, ck->best, 0.0)) return false;
    ck->best = now, ck->best_epoch = logs->epoch;
  }
  if (nn_model_save(m, ck->path, err) != NN_OK) return true; /* the last good file is still there */
  ck->saves++;
  return false;
}

nn_model_checkpoint nn_model_checkpoint_make(const char *path, const char *monitor, bool best_only) {
  NN_REQUIRE(path && *path, "nn_model_checkpoint_make: the path is empty");
  nn_epoch_logs probe = {0};
  (void)nn_logs_get(&probe, monitor ? monitor : "val_loss");
  return (nn_model_checkpoint){.base = {"ModelCheckpoint", ck_begin, ck_epoch_end, NULL},
                               .path = path,
                               .monitor = monitor ? monitor : "val_loss",
                               .best_only = best_only,
                               .best_epoch = -1};
}

/* ---- CosineAnnealing */

static void cos_begin(nn_callback *cb, nn_model *m) { m->opt.cfg.lr = ((nn_cosine_annealing *)cb)->lr0; }

static bool cos_epoch_end(nn_callback *cb, nn_model *m, const nn_epoch_logs *logs, nn_error *err) {
  (void)err;
  const nn_cosine_annealing *c = (const nn_cosine_annealing *)cb;
  const double pi = 3.14159265358979323846;
  int done = logs->epoch + 1 < c->epochs ? logs->epoch + 1 : c->epochs; /* past E it stays at 0 */
  m->opt.cfg.lr = (float)(c->lr0 * (1 + cos(pi * done / c->epochs)) / 2);
  return false; /* it never stops training */
}

nn_cosine_annealing nn_cosine_annealing_make(float lr0, int epochs) {
  NN_REQUIRE(lr0 > 0 && epochs >= 1, "nn_cosine_annealing_make: lr0 is %g and epochs %d; expected lr0 > 0 and "
             "epochs >= 1", (double)lr0, epochs);
  return (nn_cosine_annealing){.base = {"CosineAnnealing", cos_begin, cos_epoch_end, NULL}, .lr0 = lr0,
                               .epochs = epochs};
}
