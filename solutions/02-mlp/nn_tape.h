/* nn_tape.h: a training step written as ordinary code, recorded, then played backwards.
 *
 * A chain of layers (nn_model) cannot say "apply this cell T times", "two inputs", "add
 * the KL term to the encoder's output" or "run the discriminator on a real and a fake
 * batch". A tape can: you call layers on tensors in any order, and every call is
 * written down; nn_tape_backward then walks the record last-to-first, each call's
 * backward adding into the gradients of what it was given (the chain rule, with sums
 * where a value was used twice). This is PyTorch's autograd and micrograd's backward()
 * without the graph objects: the record is a list.
 *
 *   nn_tape *tape = nn_tape_new(NN_CPU);
 *   nn_tape_start(tape, true);                          training step: arena reset, empty record
 *   nn_tensor *x = nn_tape_input(tape, &batch, false);  no gradient wanted for the data
 *   nn_tensor *h = nn_tape_layer(tape, dense1, x);
 *   h = nn_tape_layer(tape, relu, h);
 *   nn_tensor *z = nn_tape_layer(tape, dense2, h);
 *   double loss = nn_tape_loss(tape, nn_loss_of(NN_LOSS_SPARSE_CE), z, &(nn_target){.labels = y});
 *   nn_tape_backward(tape);                             dW, db of both layers += ...
 *   nn_optim_step(&opt);
 *
 * What the tape gives back are tensors in its arena (nn_arena.h): valid until the next
 * nn_tape_start, never freed by the caller. Every value has a gradient dL/dv, made (as
 * zeros) when first asked for by nn_tape_grad: before backward, a caller adds a loss's
 * gradient into an output's (nn_tape_loss does); after it, nn_tape_grad(tape, x) of an
 * input given with needs_grad is dL/dx (a saliency map, a GAN generator's signal).
 *
 * What gets a gradient: a value needs one when an input that asked for it, or a layer
 * whose parameters train (not frozen, at least one parameter), is upstream of it. A call
 * whose output needs none is skipped by backward, so a frozen feature extractor at the
 * bottom of a network costs nothing going back (PyTorch's requires_grad rule).
 *
 * Parameter gradients ADD (the layers' backward); zero them once per step
 * (nn_optim_zero_grad). One layer called twice gets the sum of both calls' shares: that
 * is how an RNN cell's weights learn from every time step (chapter 04).
 */
#ifndef NN_TAPE_H
#define NN_TAPE_H

#include "nn_arena.h"
#include "nn_layer.h"
#include "nn_loss.h"

typedef struct nn_tape nn_tape;

/* A tape whose values and scratch live on `device` (NN_GPU needs nn_cuda_available()). */
nn_tape *nn_tape_new(nn_device device);
void nn_tape_free(nn_tape *t);
nn_device nn_tape_device(const nn_tape *t);
nn_arena *nn_tape_arena(nn_tape *t);

/* Forget the record and every value (the arena is reset); later calls run in training
 * mode (Dropout drops, BatchNorm uses the batch's statistics) or evaluation mode. */
void nn_tape_start(nn_tape *t, bool training);
/* Change the mode of the calls that follow (a GAN step may want its D in eval mode). */
void nn_tape_set_training(nn_tape *t, bool training);

/* x copied onto the tape (from either device onto the tape's): the start of a computation.
 * needs_grad: nn_tape_grad(t, returned) will be dL/dx after backward. */
nn_tensor *nn_tape_input(nn_tape *t, const nn_tensor *x, bool needs_grad);
/* y = l(x), recorded; x must be a value of this tape. y's shape is l's out_shape of x's. */
nn_tensor *nn_tape_layer(nn_tape *t, nn_layer *l, const nn_tensor *x);
/* a + b element-wise (one shape), recorded: a residual connection, two branches merged. */
nn_tensor *nn_tape_add(nn_tape *t, const nn_tensor *a, const nn_tensor *b);

/* dL/dv for a value of this tape: zeros when first asked for, then whatever was added. */
nn_tensor *nn_tape_grad(nn_tape *t, const nn_tensor *v);
/* The mean loss of pred against target; adds dloss/dpred into pred's gradient, so several
 * loss terms on several outputs add up. pred: a value of this tape. */
double nn_tape_loss(nn_tape *t, const nn_loss *loss, const nn_tensor *pred, const nn_target *target);
/* Every recorded call, last first: each adds into its inputs' gradients and its layer's
 * parameter gradients. Once per record. */
void nn_tape_backward(nn_tape *t);

/* How many calls are recorded (for messages and tests). */
int nn_tape_calls(const nn_tape *t);

#endif
