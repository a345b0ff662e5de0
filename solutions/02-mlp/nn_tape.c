/* nn_tape.c: the record of a step's calls, and backward as a walk over it, last first. */
#include "nn_tape.h"

#include <stdlib.h>
#include <string.h>

/* A value: a tensor the tape made (an input's copy, a call's output) and its gradient.
 * `value` comes first, so the nn_tensor * handed out is the value's own address. */
typedef struct {
  nn_tensor value;
  nn_tensor grad;  /* dL/dvalue; grad.data is NULL until first asked for */
  bool needs_grad; /* an input that asked for a gradient, or a training layer, is upstream */
} tape_value;

typedef enum { OP_LAYER, OP_ADD } op_kind;

/* One recorded call: out = layer(in[0]) or out = in[0] + in[1]. */
typedef struct {
  op_kind kind;
  nn_layer *layer; /* OP_LAYER */
  nn_call call;    /* OP_LAYER: what the layer's forward kept for its backward */
  tape_value *in[2], *out;
} tape_op;

struct nn_tape {
  nn_arena *arena; /* every value, gradient and call's scratch of the step */
  bool training;
  bool backward_done;
  tape_value **values; /* this step's values, in the order they were made */
  int n_values, cap_values;
  tape_op *ops; /* the record, in call order */
  int n_ops, cap_ops;
};

nn_tape *nn_tape_new(nn_device device) {
  nn_tape *t = nn_xcalloc(1, sizeof *t, "nn_tape");
  t->arena = nn_arena_new(device);
  return t;
}

void nn_tape_free(nn_tape *t) {
  if (!t) return;
  nn_arena_free(t->arena);
  free(t->values), free(t->ops);
  free(t);
}

nn_device nn_tape_device(const nn_tape *t) { return nn_arena_device(t->arena); }
nn_arena *nn_tape_arena(nn_tape *t) { return t->arena; }
int nn_tape_calls(const nn_tape *t) { return t->n_ops; }

void nn_tape_start(nn_tape *t, bool training) {
  NN_REQUIRE(t, "nn_tape_start: the tape is NULL");
  nn_arena_reset(t->arena);
  t->n_values = t->n_ops = 0;
  t->training = training;
  t->backward_done = false;
}

void nn_tape_set_training(nn_tape *t, bool training) { t->training = training; }

/* The value v is, or a panic: every tensor a tape op takes must be one the tape made this step.
 * Searched from the newest: an op's inputs are almost always the latest values. */
static tape_value *value_of(const nn_tape *t, const nn_tensor *v, const char *fn, const char *what) {
  NN_REQUIRE(v, "%s: %s is NULL", fn, what);
  for (int i = t->n_values - 1; i >= 0; i--)
    if (&t->values[i]->value == v) return t->values[i];
  nn_panic("%s: %s %s is not a value of this tape's step (give the data through nn_tape_input, and use "
           "what the tape returned since the last nn_tape_start)", fn, what, nn_shape_str(v).s);
}

/* A new value of the given shape, on the tape's device, contents to be written. */
static tape_value *new_value(nn_tape *t, int ndim, const int *shape, bool needs_grad) {
  if (t->n_values == t->cap_values) { /* grows in the first steps only: the record's length repeats */
    t->cap_values = t->cap_values ? 2 * t->cap_values : 64;
    t->values = realloc(t->values, sizeof *t->values * (size_t)t->cap_values);
    NN_REQUIRE(t->values, "nn_tape: out of memory for %d values", t->cap_values);
  }
  tape_value *v = nn_arena_record(t->arena, sizeof *v);
  v->value = nn_arena_tensor(t->arena, ndim, shape);
  v->needs_grad = needs_grad;
  t->values[t->n_values++] = v;
  return v;
}

static tape_op *new_op(nn_tape *t, op_kind kind) {
  NN_REQUIRE(!t->backward_done, "nn_tape: a call recorded after nn_tape_backward; start a new step "
             "(nn_tape_start) first");
  if (t->n_ops == t->cap_ops) {
    t->cap_ops = t->cap_ops ? 2 * t->cap_ops : 64;
    t->ops = realloc(t->ops, sizeof *t->ops * (size_t)t->cap_ops);
    NN_REQUIRE(t->ops, "nn_tape: out of memory for %d calls", t->cap_ops);
  }
  tape_op *op = &t->ops[t->n_ops++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  return op;
}

nn_tensor *nn_tape_input(nn_tape *t, const nn_tensor *x, bool needs_grad) {
  NN_REQUIRE(t && x, "nn_tape_input: the tape or x is NULL");
  tape_value *v = new_value(t, x->ndim, x->shape, needs_grad);
  nn_tensor_copy(&v->value, x); /* from either device onto the tape's */
  return &v->value;
}

/* Whether a backward through l moves something an optimizer will step. */
static bool layer_trains(nn_layer *l) { return !l->frozen && nn_layer_param_count(l) > 0; }

nn_tensor *nn_tape_layer(nn_tape *t, nn_layer *l, const nn_tensor *x) {
  NN_REQUIRE(t && l, "nn_tape_layer: the tape or the layer is NULL");
  tape_value *in = value_of(t, x, "nn_tape_layer", "x");
  int out[NN_MAX_DIMS], shape[NN_MAX_DIMS];
  int ndim = l->ops->out_shape(l, x->shape + 1, x->ndim - 1, out) + 1; /* aborts on a shape l refuses */
  shape[0] = x->shape[0];
  memcpy(shape + 1, out, sizeof(int) * (size_t)(ndim - 1));
  tape_value *y = new_value(t, ndim, shape, in->needs_grad || layer_trains(l));
  tape_op *op = new_op(t, OP_LAYER);
  op->layer = l, op->in[0] = in, op->out = y;
  op->call = (nn_call){.arena = t->arena, .training = t->training};
  l->ops->forward(l, &op->call, &in->value, &y->value);
  return &y->value;
}

nn_tensor *nn_tape_add(nn_tape *t, const nn_tensor *a, const nn_tensor *b) {
  tape_value *va = value_of(t, a, "nn_tape_add", "a"), *vb = value_of(t, b, "nn_tape_add", "b");
  NN_REQUIRE(nn_same_shape(a, b), "nn_tape_add: a is %s but b is %s; they must have one shape", nn_shape_str(a).s,
             nn_shape_str(b).s);
  tape_value *y = new_value(t, a->ndim, a->shape, va->needs_grad || vb->needs_grad);
  tape_op *op = new_op(t, OP_ADD);
  op->in[0] = va, op->in[1] = vb, op->out = y;
  nn_tensor_copy(&y->value, a); /* y = a, then y += b */
  nn_add_into(&y->value, b);
  return &y->value;
}

static nn_tensor *grad_of(nn_tape *t, tape_value *v) {
  if (!v->grad.data) v->grad = nn_arena_zeros(t->arena, v->value.ndim, v->value.shape);
  return &v->grad;
}

nn_tensor *nn_tape_grad(nn_tape *t, const nn_tensor *v) {
  NN_REQUIRE(t, "nn_tape_grad: the tape is NULL");
  return grad_of(t, value_of(t, v, "nn_tape_grad", "v"));
}

double nn_tape_loss(nn_tape *t, const nn_loss *loss, const nn_tensor *pred, const nn_target *target) {
  NN_REQUIRE(t && loss && target, "nn_tape_loss: the tape, the loss or the target is NULL");
  tape_value *p = value_of(t, pred, "nn_tape_loss", "pred");
  nn_target on_device = *target;
  if (loss->takes_labels) {
    NN_REQUIRE(target->labels, "nn_tape_loss: the loss %s takes int labels (target.labels), and they are NULL",
               loss->name);
  } else {
    NN_REQUIRE(target->Y, "nn_tape_loss: the loss %s takes a target tensor (target.Y), and it is NULL", loss->name);
    if (target->Y->device != pred->device) /* a CPU target for a GPU prediction: copied over */
      on_device.Y = nn_tape_input(t, target->Y, false);
  }
  return loss->mean(loss, pred, &on_device, p->needs_grad ? grad_of(t, p) : NULL, t->arena);
}

void nn_tape_backward(nn_tape *t) {
  NN_REQUIRE(t, "nn_tape_backward: the tape is NULL");
  NN_REQUIRE(!t->backward_done, "nn_tape_backward: this record has been played back already; a second pass "
             "would add every gradient twice (start a new step with nn_tape_start)");
  t->backward_done = true;
  for (int i = t->n_ops - 1; i >= 0; i--) {
    tape_op *op = &t->ops[i];
    if (!op->out->needs_grad || !op->out->grad.data) continue; /* nothing flows back through this call */
    switch (op->kind) {
    case OP_LAYER: {
      nn_tensor *dx = op->in[0]->needs_grad ? grad_of(t, op->in[0]) : NULL;
      op->layer->ops->backward(op->layer, &op->call, &op->out->grad, dx);
      break;
    }
    case OP_ADD: /* d(a + b)/da = d(a + b)/db = I: the gradient goes to both unchanged */
      for (int k = 0; k < 2; k++)
        if (op->in[k]->needs_grad) nn_add_into(grad_of(t, op->in[k]), &op->out->grad);
      break;
    }
  }
}
