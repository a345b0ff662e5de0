/* nn_optim.h: the optimizers, one struct for all of them.
 *
 * Each step reads every param's grad g and updates its value w, element by
 * element (lr = learning rate, t = steps taken, counting this one):
 *
 *   sgd       w -= lr g
 *   momentum  v = mu v + g;                    w -= lr v            (PyTorch SGD, momentum=mu)
 *   nesterov  v = mu v + g;                    w -= lr (g + mu v)   (PyTorch SGD, nesterov=True)
 *   adagrad   G += g^2;                        w -= lr g / (sqrt(G) + eps)       (Duchi et al. 2011)
 *   rmsprop   s = rho s + (1 - rho) g^2;       w -= lr g / (sqrt(s) + eps)       (Hinton 2012)
 *   adam      m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,                   (Kingma & Ba 2015)
 *             mhat = m / (1 - b1^t),  vhat = v / (1 - b2^t),  w -= lr mhat / (sqrt(vhat) + eps)
 *   adamw     w -= lr wd w, then the adam step on g                    (Loshchilov & Hutter 2019)
 *
 * weight_decay (wd) of every kind but adamw is PyTorch's L2 form: g is replaced by
 * g + wd w before the rule above (the stored grad is not changed). For adamw it is
 * the decoupled decay, and g is left alone.
 *
 * The state (v, G, s, m) starts at 0 and is allocated once, in nn_optim_new, with
 * each param's shape, on each param's device. A step does NOT zero the grads
 * (backward adds into them): call nn_optim_zero_grad before the next backward.
 *
 * Devices: each param is updated where it lives, by a loop on NN_CPU or by one
 * kernel per kind on NN_GPU (nn_optim.cu, the same arithmetic), so a model on
 * the GPU never copies its weights. Move the model (nn_layer_to) BEFORE making
 * its optimizer: a step whose state sits on another device than its param aborts.
 *
 *   nn_optim opt = nn_optim_new(NN_ADAM, NULL, params, count);  // NULL: PyTorch's defaults
 *   for (...) { nn_optim_zero_grad(&opt); forward; backward; nn_optim_step(&opt); }
 *   nn_optim_free(&opt);
 */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "nn_common.h"
#include "nn_param.h"

typedef enum {
  NN_SGD,
  NN_MOMENTUM,
  NN_NESTEROV,
  NN_ADAGRAD,
  NN_RMSPROP,
  NN_ADAM,
  NN_ADAMW
} nn_optim_kind;

typedef struct {
  float lr;           /* step size */
  float momentum;     /* mu of momentum and nesterov */
  float alpha;        /* rho of rmsprop (PyTorch names it alpha) */
  float beta1, beta2; /* adam, adamw: decay of the first and second moment */
  float eps;          /* adagrad, rmsprop, adam, adamw: added to the root, never 0/0 */
  float weight_decay; /* L2 (g += wd w), decoupled for adamw (w -= lr wd w) */
} nn_optim_config;

typedef struct {
  nn_optim_kind kind;
  nn_optim_config cfg;
  nn_param *params; /* a copy of the list given to nn_optim_new (the tensors are the caller's) */
  int count;
  nn_tensor *m;     /* per param: momentum's v, adam's m; unused kinds leave them empty */
  nn_tensor *v;     /* per param: adagrad's G, rmsprop's s, adam's v */
  long t;           /* steps taken, for adam's bias correction */
} nn_optim;

/* PyTorch's defaults for `kind`:
 *   sgd, momentum, nesterov  lr 1e-3; momentum 0.9 (PyTorch's default is 0, plain sgd)
 *   adagrad                  lr 1e-2, eps 1e-10
 *   rmsprop                  lr 1e-2, alpha 0.99, eps 1e-8
 *   adam                     lr 1e-3, betas 0.9 / 0.999, eps 1e-8
 *   adamw                    as adam, weight_decay 1e-2 (0 for every other kind)
 * Start from these and change the fields you need. */
nn_optim_config nn_optim_defaults(nn_optim_kind kind);

/* An optimizer for params[0..count), whose value and grad must have the same shape
 * and device. cfg NULL means nn_optim_defaults(kind). Aborts, naming the field and
 * its value, unless lr >= 0, eps >= 0, weight_decay >= 0, and momentum, alpha,
 * beta1, beta2 in [0, 1) (momentum > 0 for nesterov). The list is copied; the
 * tensors must outlive the optimizer. */
nn_optim nn_optim_new(nn_optim_kind kind, const nn_optim_config *cfg, const nn_param *params,
                      int count);
/* One update of every param from its grad, as in the table above; grads are left as they are. */
void nn_optim_step(nn_optim *o);
/* grad = 0 for every param. */
void nn_optim_zero_grad(nn_optim *o);
void nn_optim_free(nn_optim *o);

/* "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw". */
const char *nn_optim_name(nn_optim_kind kind);
/* The kind named `name` (one of the above, lower case). NN_ERR_ARG, with a message
 * listing the valid names, for anything else. */
nn_status nn_optim_parse(const char *name, nn_optim_kind *kind, nn_error *err);

#endif
