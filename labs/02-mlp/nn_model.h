/* nn_model.h: a Sequential model, the Keras workflow in plain C.
 *
 *   nn_model *m = nn_model_new("mlp", 1, (int[]){784});          input (N, 784)
 *   nn_model_add(m, &nn_dense_new("dense1", 784, 512, NN_INIT_HE, &rng)->base);
 *   nn_model_add(m, nn_activation_layer_new(NULL, nn_activation_of(NN_ACT_RELU)));
 *   nn_model_add(m, &nn_dense_new("dense2", 512, 10, NN_INIT_XAVIER, &rng)->base);
 *   nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);          NULL: PyTorch's defaults
 *   nn_model_summary(m, stdout);
 *   nn_history h = nn_model_fit(m, &X, y, NULL, &fit_options);      nn_fit.h
 *   nn_eval e = nn_model_evaluate(m, &X_test, y_test, NULL, 256);
 *
 * The model is a chain: layer i maps acts[i] to acts[i+1]. It is a builder on a tape
 * (nn_tape.h): a step records each layer's call on the model's own tape, whose arena
 * holds the activations and their gradients, so after the first step a training step
 * allocates nothing. A step is
 *
 *   zero every grad;  acts[i+1] = layer_i(acts[i])  for i = 0..L-1   (forward, recorded)
 *   loss = L(acts[L], targets), grads[L] = dloss/dacts[L]
 *   grads[i] += layer_i'(grads[i+1])  for i = L-1..0                  (backward: the tape played back)
 *   every param -= optimizer(grad)
 *
 * nn_model_apply runs the chain on any tape: two models in one step (a GAN's generator
 * feeding its discriminator), a model inside a larger computation.
 *
 * The last layer gives LOGITS (no softmax or sigmoid layer at the end): the
 * classification losses take logits, because log(softmax(z)) computed in one
 * piece is exact where softmax rounded to 0 would give log 0 = -inf.
 *
 * Targets: the classification losses (sparse CE, BCE, hinges, focal) take
 * int labels y (N); the regression losses (MSE, MAE, Huber, log-cosh) take a
 * tensor Y with the output's shape. Pass the one the loss needs, NULL for the
 * other; the wrong one aborts with a message saying which is needed.
 */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <stdio.h>

#include "nn_checkpoint.h"
#include "nn_layer.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_tape.h"

typedef struct {
  char name[32];
  int in_shape[NN_MAX_DIMS - 1], in_ndim; /* one example's shape, without N */
  nn_layer **layers;
  int count, cap;
  nn_device device;

  /* set by nn_model_compile */
  bool compiled;
  const nn_loss *loss; /* a row of nn_loss.h's table, or a loss of the caller's own */
  nn_optim opt;
  nn_param *params; /* the (value, grad) pairs the optimizer moves: every layer's but the frozen ones' */
  int param_count;

  /* set by the caller, 0 unless: L1 and L2 penalties on every trainable weight matrix (the
   * params named "*.W": Dense's and the convolutions' kernels, not biases or BatchNorm), added
   * to the loss that training and evaluate report (Keras' kernel_regularizer; nn_regularizer.h) */
  float l1, l2;

  nn_tape *tape; /* the model's own steps (train, evaluate, predict), on its device */
  /* After a step on the model's tape: acts[0] is the batch, acts[i + 1] what layer i gave,
   * (n, ...) views into the tape's arena until its next step. grads[i] = dloss/dacts[i],
   * filled by nn_model_backward_from only. */
  nn_tensor *acts, *grads;
  nn_tensor **act_values; /* the tape's values behind acts (nn_tape_grad takes those) */
} nn_model;

/* An empty model for examples of shape in_shape (without N): in_ndim 1 for
 * vectors (784), 3 for images (1, 28, 28). */
nn_model *nn_model_new(const char *name, int in_ndim, const int *in_shape);
/* Append a layer; the model owns it from now on (nn_model_free frees it).
 * Aborts when the layer does not take the previous layer's output shape. */
void nn_model_add(nn_model *m, nn_layer *layer);
/* Choose the loss and the optimizer; cfg NULL: nn_optim_defaults(opt). Call
 * after the last nn_model_add, before training. Compiling again starts a fresh
 * optimizer (its state back to 0), as Keras does. */
void nn_model_compile(nn_model *m, nn_loss_kind loss, nn_optim_kind opt, const nn_optim_config *cfg);
/* The same with a loss given as a table row (nn_loss.h): one of the library's
 * (nn_loss_of(kind)) or the caller's own. The loss must outlive the model. */
void nn_model_compile_loss(nn_model *m, const nn_loss *loss, nn_optim_kind opt, const nn_optim_config *cfg);
/* Move every parameter and buffer to `device` (NN_GPU needs nn_cuda_available()). */
void nn_model_to(nn_model *m, nn_device device);
void nn_model_free(nn_model *m);

/* The output shape of one example (without N) into out; returns its ndim. */
int nn_model_out_shape(const nn_model *m, int *out);
long nn_model_param_count(const nn_model *m);
/* Keras' model.summary(): one row per layer (name, type, output shape, params, trainable),
 * then the totals, as nn_summary.h prints them (`nn summary` prints a spec the same way), in
 * the course's conventions, PyTorch's: shapes (N, C, H, W), buffers (BatchNorm's running
 * statistics) counted apart from the parameters; a frozen layer's are non-trainable. */
void nn_model_summary(const nn_model *m, FILE *f);

/* The chain applied on tape t to x (n, ...in), a value of t: every layer's call recorded
 * there, in t's mode. Returns the output (n, ...out), a value of t. The model needs no
 * compile; its layers must be on t's device. m->acts are set to this forward's values. */
nn_tensor *nn_model_apply(nn_model *m, nn_tape *t, const nn_tensor *x);

/* One optimizer step on one batch x (n, ...in), on either device; y or Y as the loss
 * needs. Returns the batch's mean loss; *correct (may be NULL) gets how many
 * labels the logits got right (classification losses only). */
double nn_model_train_batch(nn_model *m, const nn_tensor *x, const int *y, const nn_tensor *Y, int *correct);
/* The first half of a step: every param's grad for the batch,
 * without moving any param or the optimizer's state. To look at gradients (how much
 * reaches the first layer), or to check them against finite differences. The backward
 * stops at the lowest layer that is not frozen: the frozen layers under it keep grads 0. */
double nn_model_gradients(nn_model *m, const nn_tensor *x, const int *y, const nn_tensor *Y, int *correct);
/* Backward from a gradient the caller gives, not a loss's: PyTorch's `out = model(x);
 * out.backward(dout)`. Runs the forward on x (n, ...in) in eval mode (dropout off, as a
 * prediction does), sets grads[L] = dout (n, ...out, on either device), then the backward of
 * layers L-1 down to `down_to` (0: every layer). Afterwards, with z the outputs,
 *   m->acts[i]  = what layers 0..i-1 made of x                       for 0 <= i <= L
 *   m->grads[i] = d(sum of dout * z) / d acts[i]                      for down_to <= i <= L
 * (grads[0], with down_to 0, is the gradient with respect to the input x: a saliency map).
 * dout = 1 at class c of each row, 0 elsewhere, gives d z_c / d acts[i], what Grad-CAM
 * (nn_gradcam.h) and saliency maps look at. Every param grad is zeroed and then gets the
 * backward's share; no param moves; the model needs no nn_model_compile. */
void nn_model_backward_from(nn_model *m, const nn_tensor *x, const nn_tensor *dout, int down_to);

/* What evaluate measures: the mean loss and, for classification, the accuracy. */
typedef struct {
  double loss;
  double accuracy; /* -1 for the regression losses */
} nn_eval;

/* The loss (and accuracy) over X (N, ...in) in batches of `batch`, in eval mode
 * (dropout off), without changing any parameter. */
nn_eval nn_model_evaluate(nn_model *m, const nn_tensor *X, const int *y, const nn_tensor *Y, int batch);
/* The model's outputs (logits for classifiers) for X (N, ...in) into out (N, ...out),
 * a CPU tensor the caller allocated. */
void nn_model_predict(nn_model *m, const nn_tensor *X, nn_tensor *out, int batch);
/* argmax of each row of the outputs (a single output: z > 0 is class 1) into
 * classes (N). */
void nn_model_predict_classes(nn_model *m, const nn_tensor *X, int *classes, int batch);

/* Every parameter and every buffer (BatchNorm's running statistics) with its name
 * ("dense1.W"), layer by layer: what a checkpoint holds and EarlyStopping keeps. The
 * tensors are the model's own; the caller frees the array (free). */
nn_named_tensor *nn_model_state(const nn_model *m, int *count);

/* Save or load every parameter and buffer, by name ("dense1.W"), as an nn_checkpoint:
 * atomic, checked, and a bad file leaves the model as it was. */
nn_status nn_model_save(const nn_model *m, const char *path, nn_error *err);
nn_status nn_model_load(nn_model *m, const char *path, nn_error *err);
/* Load only the params and buffers of layers 0..n_layers-1, by name, from a checkpoint of
 * another model with the same first layers: transfer learning's "take the trained feature
 * layers, keep my own head". Tensors in the file that those layers do not name (the old
 * head's) are ignored; each of theirs must be in the file with its shape, else nothing is
 * changed and err says which. PyTorch: load_state_dict(state, strict=False) with the head's
 * entries left out; Keras: layer.set_weights(old_layer.get_weights()) layer by layer. */
nn_status nn_model_load_layers(nn_model *m, int n_layers, const char *path, nn_error *err);

#endif
