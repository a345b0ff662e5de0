/* nn_callbacks.h: code that runs at the end of every epoch of nn_model_fit.
 *
 * Keras' callbacks, in C: a struct that starts with an nn_callback (three
 * hooks, any of them NULL) and keeps its own settings and state. fit calls
 *
 *   on_train_begin  once, before the first epoch
 *   on_epoch_end    after each epoch, with its logs; returns true to stop training.
 *                   A callback that fails (a checkpoint on a full disk) fills err,
 *                   and fit stops and reports it in the history.
 *   on_train_end    once, after the last epoch (also after a stop)
 *
 * Three come with the course:
 *
 * EarlyStopping   stop when `monitor` has not improved by more than min_delta for
 *                 `patience` epochs in a row; with restore_best, the weights of the
 *                 best epoch are put back at the end (a snapshot taken each time the
 *                 monitor improves). Overfitting shows as val_loss turning up while
 *                 loss still falls: this stops there and keeps the best model.
 * ModelCheckpoint save the model (nn_model_save: atomic, checked) after every epoch,
 *                 or with best_only only when `monitor` improved, so the file always
 *                 holds the best model so far, whatever happens to the run.
 *
 * CosineAnnealing the learning rate after epoch e of E is lr0 (1 + cos(pi (e + 1) / E)) / 2
 *                 (Loshchilov & Hutter 2017, without restarts; PyTorch's CosineAnnealingLR
 *                 with T_max = E stepped once per epoch, eta_min 0): big steps while the
 *                 loss is high, small ones at the end, where big ones only rattle around
 *                 the minimum. It starts each fit at lr0.
 *
 * monitor: "loss", "accuracy", "val_loss" or "val_accuracy"; losses improve by
 * going down, accuracies by going up. A val_ monitor needs validation data.
 *
 *   nn_early_stopping es = nn_early_stopping_make("val_loss", 3, true);
 *   nn_model_checkpoint ck = nn_model_checkpoint_make("build/best.ckpt", "val_accuracy", true);
 *   nn_callback *cbs[] = {&es.base, &ck.base};
 *   opts.callbacks = cbs, opts.n_callbacks = 2;
 */
#ifndef NN_CALLBACKS_H
#define NN_CALLBACKS_H

#include "nn_model.h"

/* What an epoch measured; val_* are NAN without validation data, accuracy is -1
 * for the regression losses. */
typedef struct {
  int epoch; /* 0-based */
  double loss, accuracy, val_loss, val_accuracy, seconds;
} nn_epoch_logs;

typedef struct nn_callback nn_callback;
struct nn_callback {
  const char *kind; /* "EarlyStopping" */
  void (*on_train_begin)(nn_callback *cb, nn_model *m);
  bool (*on_epoch_end)(nn_callback *cb, nn_model *m, const nn_epoch_logs *logs, nn_error *err);
  void (*on_train_end)(nn_callback *cb, nn_model *m);
};

/* The value of `monitor` in logs; aborts for an unknown name, listing the four. */
double nn_logs_get(const nn_epoch_logs *logs, const char *monitor);
/* True when `now` is better than `best` by more than min_delta for this monitor. */
bool nn_monitor_improved(const char *monitor, double now, double best, double min_delta);

typedef struct {
  nn_callback base;
  const char *monitor;
  double min_delta;
  int patience;
  bool restore_best;
  /* state, reset by on_train_begin */
  double best;
  int best_epoch, wait;
  int stopped_epoch;   /* the epoch it stopped after, -1 when it never stopped */
  nn_named_tensor *state; /* the model's params and buffers (nn_model_state), while fitting */
  nn_tensor *snapshot;    /* the best epoch's copy of each (restore_best) */
  int snapshot_count;
} nn_early_stopping;

nn_early_stopping nn_early_stopping_make(const char *monitor, int patience, bool restore_best);

typedef struct {
  nn_callback base;
  const char *path, *monitor;
  bool best_only;
  double best;
  int best_epoch, saves;
} nn_model_checkpoint;

nn_model_checkpoint nn_model_checkpoint_make(const char *path, const char *monitor, bool best_only);

typedef struct {
  nn_callback base;
  float lr0; /* the rate of the first epoch */
  int epochs; /* E: the rate reaches 0 after epoch E - 1 */
} nn_cosine_annealing;

/* lr0 > 0, epochs >= 1 (usually the fit's epochs). */
nn_cosine_annealing nn_cosine_annealing_make(float lr0, int epochs);

#endif
