/* nn_fit.h: the training loop, Keras' model.fit(x, y, ...).
 *
 *   nn_fit_options o = nn_fit_defaults();
 *   o.epochs = 10, o.batch_size = 64, o.validation_split = 0.1;
 *   nn_history h = nn_model_fit(m, &X, y, NULL, &o);    X: (N, ...in), y: (N)
 *   ... h.loss[e], h.val_accuracy[e] for e < h.epochs ...
 *   nn_history_free(&h);
 *
 * Each epoch visits the training examples in a fresh random order (seeded),
 * batch_size at a time, one optimizer step per batch (nn_model_train_batch);
 * then it evaluates the validation set in eval mode and calls the callbacks.
 *
 * validation_split = f holds out the LAST floor-free share of X (Keras: the split
 * is taken before shuffling, at int(N * (1 - f))), so shuffle your data first
 * when it is sorted by class. val_X (with val_y or val_Y) gives a validation set
 * instead, as Keras' validation_data.
 *
 * The train loss and accuracy of an epoch are the means over its batches, taken
 * while the weights were still moving (as Keras reports them); the validation
 * numbers come from the weights at the end of the epoch.
 */
#ifndef NN_FIT_H
#define NN_FIT_H

#include <stdint.h>

#include "nn_callbacks.h"
#include "nn_model.h"
#include "nn_rng.h"

typedef struct {
  int epochs;              /* 10 */
  int batch_size;          /* 32, Keras' default */
  double validation_split; /* 0: none; else in (0, 1) */
  const nn_tensor *val_X;  /* validation data instead of a split (val_y or val_Y as the loss needs) */
  const int *val_y;
  const nn_tensor *val_Y;
  bool shuffle;            /* true: a new order every epoch */
  uint64_t seed;           /* of the shuffling */
  int verbose;             /* 0 silent; 1 a progress bar (on a terminal) and a line per epoch */
  nn_callback **callbacks; /* run in order after every epoch */
  int n_callbacks;
  /* Changes each training batch in place before the step (nn_augment.h), or NULL.
   * Its rng is the fit's own stream, so a seeded fit stays reproducible. */
  void (*augment)(nn_tensor *x, nn_rng *rng, void *ctx);
  void *augment_ctx;
} nn_fit_options;

nn_fit_options nn_fit_defaults(void);

/* One entry per epoch run; val_* NAN without validation, accuracy -1 for regression. */
typedef struct {
  int epochs;     /* epochs run: fewer than asked when a callback stopped training */
  double *loss, *accuracy, *val_loss, *val_accuracy, *seconds;
  bool stopped;   /* a callback stopped training */
  nn_status status; /* NN_OK, or why a callback ended training (err says) */
  nn_error err;
} nn_history;

nn_history nn_model_fit(nn_model *m, const nn_tensor *X, const int *y, const nn_tensor *Y,
                        const nn_fit_options *o);
void nn_history_free(nn_history *h);

#endif
