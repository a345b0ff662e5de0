/* The tape (nn_tape.h): layers called many times, several inputs, shared weights, frozen
 * parts, two models trained alternately, each gradient checked against finite differences
 * of the whole computation; and a training step that allocates nothing. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"
#include "nn_activation_layer.h"
#include "nn_dense.h"
#include "nn_dropout.h"
#include "nn_model.h"
#include "nn_optim.h"
#include "nn_tape.h"

/* ---- a finite-difference check of any computation written on a tape
 *
 * build() records the computation on the tape from the problem's inputs and returns its
 * outputs; the loss is L = sum over outputs of r . out (r fixed, drawn once), so dL/dout = r.
 * Analytic gradients come from one backward; numeric ones from central differences of L,
 * summed in double, nudging every parameter element and every input element. */

enum { MAX_IN = 8, MAX_OUT = 8, MAX_LAYERS = 8 };

typedef struct problem problem;
struct problem {
  nn_tensor inputs[MAX_IN]; /* CPU tensors the check nudges */
  int n_inputs;
  nn_layer *layers[MAX_LAYERS]; /* whose parameters are checked */
  int n_layers;
  int (*build)(problem *p, nn_tape *t, nn_tensor **in, nn_tensor **out);
  nn_tensor r[MAX_OUT]; /* the projection of each output, drawn at the first run */
  int n_out;
  int T, H; /* for the recurrent problem */
};

static double run(problem *p, nn_tape *t, bool backward, nn_tensor **in_values) {
  nn_tape_start(t, true);
  nn_tensor *in[MAX_IN], *out[MAX_OUT];
  for (int i = 0; i < p->n_inputs; i++) in[i] = nn_tape_input(t, &p->inputs[i], backward);
  int n_out = p->build(p, t, in, out);
  double L = 0;
  for (int k = 0; k < n_out; k++) {
    if (!p->r[k].data) { /* first run: draw r with out's shape */
      p->r[k] = nn_tensor_randn(out[k]->ndim, out[k]->shape, 100 + (uint64_t)k);
      p->n_out = n_out;
    }
    for (long i = 0; i < nn_numel(out[k]); i++) L += (double)p->r[k].data[i] * out[k]->data[i];
    if (backward) nn_tensor_copy(nn_tape_grad(t, out[k]), &p->r[k]);
  }
  if (backward) {
    nn_tape_backward(t);
    for (int i = 0; i < p->n_inputs; i++) in_values[i] = nn_tape_grad(t, in[i]);
  }
  return L;
}

/* The worst relative error of grad against central differences of L in value[0..n). */
static double worst_error(problem *p, nn_tape *t, float *value, const float *grad, long n, const char *what) {
  const double h = 1e-3;
  double worst = 0;
  for (long i = 0; i < n; i++) {
    float saved = value[i];
    value[i] = saved + (float)h;
    double up = run(p, t, false, NULL);
    value[i] = saved - (float)h;
    double down = run(p, t, false, NULL);
    value[i] = saved;
    double numeric = (up - down) / (2 * h), analytic = grad[i];
    double rel = fabs(analytic - numeric) / fmax(fmax(fabs(analytic), fabs(numeric)), 1e-2);
    if (rel > worst) worst = rel;
    cr_assert(rel < 2e-2, "%s[%ld]: backward gives %.6f, finite differences %.6f", what, i, analytic, numeric);
  }
  return worst;
}

/* Zero every checked layer's grads, one backward, then every parameter and input checked. */
static void check_problem(problem *p) {
  nn_tape *t = nn_tape_new(NN_CPU);
  nn_param params[MAX_LAYERS * NN_MAX_LAYER_PARAMS];
  int count = 0;
  for (int l = 0; l < p->n_layers; l++) count += p->layers[l]->ops->params(p->layers[l], params + count, NN_MAX_LAYER_PARAMS);
  for (int k = 0; k < count; k++) nn_tensor_fill(params[k].grad, 0.f);
  nn_tensor *dx[MAX_IN];
  run(p, t, true, dx);
  nn_tensor grads[MAX_IN + MAX_LAYERS * NN_MAX_LAYER_PARAMS]; /* copies: the numeric runs reuse the arena */
  for (int i = 0; i < p->n_inputs; i++) grads[i] = nn_tensor_to(dx[i], NN_CPU);
  for (int k = 0; k < count; k++) grads[p->n_inputs + k] = nn_tensor_to(params[k].grad, NN_CPU);
  for (int i = 0; i < p->n_inputs; i++)
    worst_error(p, t, p->inputs[i].data, grads[i].data, nn_numel(&p->inputs[i]), "an input");
  for (int k = 0; k < count; k++)
    worst_error(p, t, params[k].value->data, grads[p->n_inputs + k].data, nn_numel(params[k].value), params[k].name);
  for (int i = 0; i < p->n_inputs + count; i++) nn_tensor_free(&grads[i]);
  for (int i = 0; i < p->n_inputs; i++) nn_tensor_free(&p->inputs[i]);
  for (int k = 0; k < p->n_out; k++) nn_tensor_free(&p->r[k]);
  nn_tape_free(t);
}

/* ---- an RNN cell unrolled over T steps: h_t = tanh(W_x x_t + W_h h_(t-1)), one W_x and one
 * W_h for every step, so their gradients are sums over the steps (backpropagation through time) */

static int build_rnn(problem *p, nn_tape *t, nn_tensor **in, nn_tensor **out) {
  nn_layer *wx = p->layers[0], *wh = p->layers[1], *tanh_layer = p->layers[2];
  nn_tensor *h = NULL;
  for (int s = 0; s < p->T; s++) {
    nn_tensor *a = nn_tape_layer(t, wx, in[s]);
    if (h) a = nn_tape_add(t, a, nn_tape_layer(t, wh, h));
    h = nn_tape_layer(t, tanh_layer, a);
    out[s] = h; /* many-to-many: every step's h is an output */
  }
  return p->T;
}

Test(tape, rnn_cell_unrolled_over_time_gradchecks) {
  nn_rng rng = nn_rng_new(1);
  problem p = {.T = 5, .build = build_rnn};
  const int N = 2, D = 3, H = 4;
  p.layers[0] = &nn_dense_new("wx", D, H, NN_INIT_XAVIER, &rng)->base;
  p.layers[1] = &nn_dense_new("wh", H, H, NN_INIT_XAVIER, &rng)->base;
  p.layers[2] = nn_activation_layer_new("tanh", nn_activation_of(NN_ACT_TANH));
  p.n_layers = 3;
  for (int s = 0; s < p.T; s++) p.inputs[s] = nn_tensor_randn(2, (int[]){N, D}, 10 + (uint64_t)s);
  p.n_inputs = p.T;
  check_problem(&p);
  for (int l = 0; l < p.n_layers; l++) p.layers[l]->ops->free(p.layers[l]);
}

/* ---- two inputs, two branches, merged: out = W_c relu(W_a x1 + W_b x2) */

static int build_two_inputs(problem *p, nn_tape *t, nn_tensor **in, nn_tensor **out) {
  nn_tensor *a = nn_tape_layer(t, p->layers[0], in[0]), *b = nn_tape_layer(t, p->layers[1], in[1]);
  out[0] = nn_tape_layer(t, p->layers[3], nn_tape_layer(t, p->layers[2], nn_tape_add(t, a, b)));
  return 1;
}

Test(tape, two_inputs_merged_gradchecks) {
  nn_rng rng = nn_rng_new(2);
  problem p = {.build = build_two_inputs};
  p.layers[0] = &nn_dense_new("a", 3, 4, NN_INIT_HE, &rng)->base;
  p.layers[1] = &nn_dense_new("b", 5, 4, NN_INIT_HE, &rng)->base;
  p.layers[2] = nn_activation_layer_new("relu", nn_activation_of(NN_ACT_RELU));
  p.layers[3] = &nn_dense_new("c", 4, 2, NN_INIT_XAVIER, &rng)->base;
  p.n_layers = 4;
  p.inputs[0] = nn_tensor_randn(2, (int[]){3, 3}, 20), p.inputs[1] = nn_tensor_randn(2, (int[]){3, 5}, 21);
  p.n_inputs = 2;
  check_problem(&p);
  for (int l = 0; l < p.n_layers; l++) p.layers[l]->ops->free(p.layers[l]);
}

/* ---- one layer shared by two branches (a Siamese pair): out = f(x1) + f(x2), then a head */

static int build_shared(problem *p, nn_tape *t, nn_tensor **in, nn_tensor **out) {
  nn_layer *f = p->layers[0], *act = p->layers[1];
  nn_tensor *u = nn_tape_layer(t, act, nn_tape_layer(t, f, in[0]));
  nn_tensor *v = nn_tape_layer(t, act, nn_tape_layer(t, f, in[1]));
  out[0] = nn_tape_add(t, u, v);
  out[1] = u; /* a second output, with a loss term of its own */
  return 2;
}

Test(tape, layer_shared_by_two_branches_gradchecks) {
  nn_rng rng = nn_rng_new(3);
  problem p = {.build = build_shared};
  p.layers[0] = &nn_dense_new("f", 4, 3, NN_INIT_XAVIER, &rng)->base;
  p.layers[1] = nn_activation_layer_new("sigmoid", nn_activation_of(NN_ACT_SIGMOID));
  p.n_layers = 2;
  p.inputs[0] = nn_tensor_randn(2, (int[]){2, 4}, 30), p.inputs[1] = nn_tensor_randn(2, (int[]){2, 4}, 31);
  p.n_inputs = 2;
  check_problem(&p);
  for (int l = 0; l < p.n_layers; l++) p.layers[l]->ops->free(p.layers[l]);
}

/* ---- frozen parts: the backward skips what leads to nothing trainable */

Test(tape, frozen_bottom_is_not_visited_and_a_frozen_middle_passes_gradients) {
  nn_rng rng = nn_rng_new(4);
  nn_dense *d1 = nn_dense_new("d1", 3, 3, NN_INIT_HE, &rng), *d2 = nn_dense_new("d2", 3, 3, NN_INIT_HE, &rng);
  nn_dense *d3 = nn_dense_new("d3", 3, 2, NN_INIT_HE, &rng);
  nn_tensor x = nn_tensor_randn(2, (int[]){4, 3}, 40);
  nn_tape *t = nn_tape_new(NN_CPU);
  nn_dense *all[] = {d1, d2, d3};
  for (int round = 0; round < 2; round++) {
    d1->base.frozen = round == 0, d2->base.frozen = round == 1; /* frozen: bottom, then middle */
    for (int i = 0; i < 3; i++) nn_tensor_fill(&all[i]->dW, 0.f), nn_tensor_fill(&all[i]->db, 0.f);
    nn_tape_start(t, true);
    nn_tensor *z = nn_tape_input(t, &x, false);
    for (int i = 0; i < 3; i++) z = nn_tape_layer(t, &all[i]->base, z);
    nn_tensor_fill(nn_tape_grad(t, z), 1.f);
    nn_tape_backward(t);
    double d1_sum = 0, d2_sum = 0;
    for (long i = 0; i < nn_numel(&d1->dW); i++) d1_sum += fabs(d1->dW.data[i]);
    for (long i = 0; i < nn_numel(&d2->dW); i++) d2_sum += fabs(d2->dW.data[i]);
    if (round == 0) {
      cr_assert(d1_sum == 0, "a frozen first layer under the trainable ones must not be visited (its dW got %g)",
                d1_sum);
      cr_assert(d2_sum > 0, "d2 trains: its dW must be non-zero");
    } else {
      cr_assert(d1_sum > 0, "d1 trains under a frozen d2: the gradient must pass through d2 to it");
    }
  }
  nn_tape_free(t);
  nn_tensor_free(&x);
  for (int i = 0; i < 3; i++) all[i]->base.ops->free(&all[i]->base);
}

/* ---- two models trained alternately: a GAN step */

/* The generator's loss, -log sigmoid(D(G(noise))) (BCE with label 1), on a fresh step. */
static double generator_loss(nn_tape *t, nn_model *G, nn_model *D, const nn_tensor *noise, const int *ones) {
  nn_tape_start(t, true);
  nn_tensor *fake = nn_model_apply(G, t, nn_tape_input(t, noise, false));
  nn_tensor *score = nn_model_apply(D, t, fake);
  return nn_tape_loss(t, nn_loss_of(NN_LOSS_BCE), score, &(nn_target){.labels = ones});
}

Test(tape, gan_step_discriminator_sums_both_batches_generator_learns_through_it) {
  nn_rng rng = nn_rng_new(5);
  const int N = 4;
  nn_model *G = nn_model_new("G", 1, (int[]){2}), *D = nn_model_new("D", 1, (int[]){3});
  nn_model_add(G, &nn_dense_new("g1", 2, 3, NN_INIT_XAVIER, &rng)->base);
  nn_model_add(D, &nn_dense_new("d1", 3, 4, NN_INIT_HE, &rng)->base);
  nn_model_add(D, nn_activation_layer_new("d_relu", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(D, &nn_dense_new("d2", 4, 1, NN_INIT_XAVIER, &rng)->base);
  /* G's loss is never used: its step's loss is D's score of its output */
  nn_model_compile(G, NN_LOSS_MSE, NN_SGD, NULL), nn_model_compile(D, NN_LOSS_BCE, NN_SGD, NULL);
  nn_tensor noise = nn_tensor_randn(2, (int[]){N, 2}, 50), real = nn_tensor_randn(2, (int[]){N, 3}, 51);
  int ones[4] = {1, 1, 1, 1}, zeros[4] = {0, 0, 0, 0};
  nn_tape *t = nn_tape_new(NN_CPU);
  nn_dense *d1 = (nn_dense *)D->layers[0], *g1 = (nn_dense *)G->layers[0];

  /* D's gradient on each batch alone, then on both in one step: the two calls' shares add */
  nn_tensor dW_alone = nn_tensor_new(2, (int[]){4, 3}, NN_CPU);
  for (int part = 0; part < 2; part++) {
    nn_optim_zero_grad(&D->opt);
    nn_tape_start(t, true);
    nn_tensor *batch = part == 0 ? nn_tape_input(t, &real, false)
                                 : nn_model_apply(G, t, nn_tape_input(t, &noise, false));
    nn_tape_loss(t, D->loss, nn_model_apply(D, t, batch), &(nn_target){.labels = part == 0 ? ones : zeros});
    nn_tape_backward(t);
    nn_add_into(&dW_alone, &d1->dW);
  }
  nn_optim_zero_grad(&D->opt), nn_optim_zero_grad(&G->opt);
  nn_tape_start(t, true);
  nn_tensor *fake = nn_model_apply(G, t, nn_tape_input(t, &noise, false));
  nn_tensor *score_real = nn_model_apply(D, t, nn_tape_input(t, &real, false));
  nn_tensor *score_fake = nn_model_apply(D, t, fake); /* D applied a second time in the step */
  nn_tape_loss(t, D->loss, score_real, &(nn_target){.labels = ones});
  nn_tape_loss(t, D->loss, score_fake, &(nn_target){.labels = zeros});
  nn_tape_backward(t);
  for (long i = 0; i < nn_numel(&dW_alone); i++)
    cr_assert_float_eq(d1->dW.data[i], dW_alone.data[i], 1e-5, "D's dW[%ld] = %g after both batches in one step, "
                       "but the two single-batch steps sum to %g", i, d1->dW.data[i], dW_alone.data[i]);
  nn_tensor g_before = nn_tensor_to(&g1->W, NN_CPU);
  nn_optim_step(&D->opt); /* D's optimizer moves D only */
  for (long i = 0; i < nn_numel(&g_before); i++)
    cr_assert(g1->W.data[i] == g_before.data[i], "D's optimizer step changed G's W[%ld]", i);

  /* G's step: its gradient reaches it only through D's input gradient */
  nn_optim_zero_grad(&G->opt), nn_optim_zero_grad(&D->opt);
  generator_loss(t, G, D, &noise, ones);
  nn_tape_backward(t);
  nn_tensor dW_g = nn_tensor_to(&g1->dW, NN_CPU);
  const double h = 1e-3;
  for (long i = 0; i < nn_numel(&g1->W); i++) {
    float saved = g1->W.data[i];
    g1->W.data[i] = saved + (float)h;
    double up = generator_loss(t, G, D, &noise, ones);
    g1->W.data[i] = saved - (float)h;
    double down = generator_loss(t, G, D, &noise, ones);
    g1->W.data[i] = saved;
    double numeric = (up - down) / (2 * h);
    cr_assert(fabs(numeric - dW_g.data[i]) <= 2e-2 * fmax(fabs(numeric), 1e-2), "G's dW[%ld] = %g through D, "
              "finite differences %g", i, dW_g.data[i], numeric);
  }
  nn_tensor_free(&dW_g), nn_tensor_free(&g_before), nn_tensor_free(&dW_alone);
  nn_tensor_free(&noise), nn_tensor_free(&real);
  nn_tape_free(t);
  nn_model_free(G), nn_model_free(D);
}

/* ---- misuse says what is wrong */

Test(tape, a_tensor_not_on_the_tape_is_refused, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(6);
  nn_dense *d = nn_dense_new("d", 2, 2, NN_INIT_HE, &rng);
  nn_tensor x = nn_tensor_randn(2, (int[]){1, 2}, 60);
  nn_tape *t = nn_tape_new(NN_CPU);
  nn_tape_start(t, true);
  nn_tape_layer(t, &d->base, &x); /* x was never given through nn_tape_input */
}

Test(tape, a_second_backward_is_refused, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(7);
  nn_dense *d = nn_dense_new("d", 2, 2, NN_INIT_HE, &rng);
  nn_tensor x = nn_tensor_randn(2, (int[]){1, 2}, 70);
  nn_tape *t = nn_tape_new(NN_CPU);
  nn_tape_start(t, true);
  nn_tensor *y = nn_tape_layer(t, &d->base, nn_tape_input(t, &x, false));
  nn_tensor_fill(nn_tape_grad(t, y), 1.f);
  nn_tape_backward(t);
  nn_tape_backward(t); /* would add every gradient twice */
}

/* ---- a training step allocates nothing once the arena has seen one */

Test(tape, mlp_training_step_allocates_nothing_after_the_first) {
  if (!nn_alloc_count_works()) cr_skip_test("malloc cannot be counted under AddressSanitizer");
  nn_rng rng = nn_rng_new(8);
  nn_model *m = nn_model_new("mlp", 1, (int[]){20});
  nn_model_add(m, &nn_dense_new("d1", 20, 32, NN_INIT_HE, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dropout_new("drop", 0.3f, 9)->base);
  nn_model_add(m, &nn_dense_new("d2", 32, 5, NN_INIT_XAVIER, &rng)->base);
  nn_model_compile(m, NN_LOSS_SPARSE_CE, NN_ADAM, NULL);
  nn_tensor x = nn_tensor_randn(2, (int[]){16, 20}, 80);
  int y[16];
  for (int i = 0; i < 16; i++) y[i] = i % 5;
  for (int i = 0; i < 3; i++) nn_model_train_batch(m, &x, y, NULL, NULL); /* the arena learns the step's size */
  int correct;
  nn_alloc_count_start();
  nn_tensor probe = nn_tensor_new(1, (int[]){4}, NN_CPU); /* the counter itself must see an allocation */
  cr_assert_eq(nn_alloc_count_stop(), 1, "the allocation counter missed nn_tensor_new's calloc");
  nn_tensor_free(&probe);
  nn_alloc_count_start();
  for (int i = 0; i < 3; i++) nn_model_train_batch(m, &x, y, NULL, &correct);
  long allocations = nn_alloc_count_stop();
  cr_assert_eq(allocations, 0, "3 training steps after the first called the allocator %ld times; a step must "
               "take all its memory from the model's arena", allocations);
  nn_tensor_free(&x);
  nn_model_free(m);
}

/* ---- a model's gradient with respect to its input (a saliency map): grads[0] with down_to 0 */

Test(tape, backward_from_gives_the_input_gradient) {
  nn_rng rng = nn_rng_new(9);
  nn_model *m = nn_model_new("one", 1, (int[]){3});
  nn_dense *d = nn_dense_new("d", 3, 2, NN_INIT_XAVIER, &rng);
  nn_model_add(m, &d->base);
  nn_tensor x = nn_tensor_randn(2, (int[]){4, 3}, 90), dout = nn_tensor_randn(2, (int[]){4, 2}, 91);
  nn_model_backward_from(m, &x, &dout, 0);
  for (int n = 0; n < 4; n++)
    for (int i = 0; i < 3; i++) {
      double want = 0; /* dx = dout W: (4, 2)(2, 3) */
      for (int j = 0; j < 2; j++) want += (double)dout.data[n * 2 + j] * d->W.data[j * 3 + i];
      cr_assert_float_eq(m->grads[0].data[n * 3 + i], want, 1e-5, "grads[0][%d][%d] = %g, expected (dout W) = %g",
                         n, i, m->grads[0].data[n * 3 + i], want);
    }
  nn_tensor_free(&x), nn_tensor_free(&dout);
  nn_model_free(m);
}
