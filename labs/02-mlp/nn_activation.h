/* nn_activation.h: element-wise activations, and the row-wise softmax.
 *
 * An activation applies one scalar function f to every element:
 *
 *   y = f(x),   dx += dy * f'(x)          x, y, dy, dx: one shape, any shape
 *
 * Without it a stack of Dense layers is one linear map, however deep. Which f
 * is a choice of the model, so it is data: a kind plus its one parameter,
 * named by a string ("relu", "gelu_tanh") in model summaries and configs.
 *
 *   kind         f(x)                                        f'(x)
 *   sigmoid      1 / (1 + e^-x)                              y (1 - y)
 *   tanh         (e^x - e^-x) / (e^x + e^-x)                 1 - y^2
 *   relu         max(x, 0)                                   [x > 0]
 *   leaky_relu   x > 0 ? x : alpha x        (alpha = 0.01)   x > 0 ? 1 : alpha
 *   elu          x > 0 ? x : alpha (e^x - 1) (alpha = 1)     x > 0 ? 1 : y + alpha
 *   softplus     log(1 + e^x)                                sigmoid(x)
 *   gelu         x Phi(x) = x/2 (1 + erf(x / sqrt 2))        Phi(x) + x phi(x)
 *   gelu_tanh    x/2 (1 + tanh(u)),                          1/2 (1 + t) + x/2 (1 - t^2) u'
 *                u = sqrt(2/pi) (x + 0.044715 x^3)           t = tanh u, u' = sqrt(2/pi)(1 + 3 0.044715 x^2)
 *   silu         x sigmoid(x)  (Swish, SiLU)                 s (1 + x (1 - s)),  s = sigmoid(x)
 *   selu         lambda (x > 0 ? x : alpha (e^x - 1))        x > 0 ? lambda : y + lambda alpha
 *                lambda = 1.0507009873554805, alpha = 1.6732632423543772 (Klambauer et al. 2017,
 *                the constants that keep activations at mean 0, variance 1; not settable)
 *   relu6        min(max(x, 0), 6)  (MobileNet)              [0 < x < 6]
 *
 * Phi and phi are the standard normal CDF and density. At the kink x = 0 ReLU's
 * derivative is taken as 0 and LeakyReLU's as alpha, as PyTorch does; ReLU6's is 0 at
 * both kinks, 0 and 6 (PyTorch's hardtanh backward). gelu_tanh
 * is PyTorch's GELU(approximate='tanh') (GPT-2's); it differs from gelu by < 5e-4.
 * Both are computed without 1 + (something near -1), which for x << 0 would
 * lose every digit: Phi(x) = erfc(-x / sqrt 2) / 2 and (1 + tanh u)/2 = sigmoid(2u).
 *
 * Backward takes y = f(x) as well as x: sigmoid', tanh' and ELU' are cheapest
 * from y. Forward may write y over x (y == x); backward then needs the x it
 * was computed from, except for sigmoid and tanh, which read only y.
 *
 * Every op here runs on NN_CPU and on NN_GPU (nn_activation.cu, same formulas):
 * it runs where its tensors are, and all tensors of one call must be on one
 * device, else it aborts naming the function and both devices.
 */
#ifndef NN_ACTIVATION_H
#define NN_ACTIVATION_H

#include "nn_tensor.h"

typedef enum {
  NN_ACT_SIGMOID = 0,
  NN_ACT_TANH,
  NN_ACT_RELU,
  NN_ACT_LEAKY_RELU,
  NN_ACT_ELU,
  NN_ACT_SOFTPLUS,
  NN_ACT_GELU,      /* the exact, erf form */
  NN_ACT_GELU_TANH, /* the tanh approximation */
  NN_ACT_SILU,      /* x sigmoid(x): Swish with beta 1 */
  NN_ACT_SELU,      /* self-normalising: fixed lambda and alpha */
  NN_ACT_RELU6,     /* ReLU capped at 6 */
  NN_ACT_COUNT      /* how many kinds there are; not a kind */
} nn_activation_kind;

typedef struct {
  nn_activation_kind kind;
  float alpha; /* LeakyReLU's negative slope, ELU's saturation -alpha; ignored by the others */
} nn_activation;

/* The kind with its default alpha (LeakyReLU 0.01, ELU 1). Prefer this to
 * (nn_activation){kind}, whose alpha 0 turns LeakyReLU into ReLU. */
nn_activation nn_activation_of(nn_activation_kind kind);

/* "relu", "leaky_relu", "gelu_tanh", ...: the name the parser reads. */
const char *nn_activation_name(nn_activation_kind kind);

/* *act = the named kind with its default alpha. An unknown name returns
 * NN_ERR_ARG and an err->msg that lists the known names. */
nn_status nn_activation_parse(const char *name, nn_activation *act, nn_error *err);

/* y = f(x) element-wise; y == x is allowed. */
void nn_activation_forward(const nn_activation *act, const nn_tensor *x, nn_tensor *y);
/* dx += dy * f'(x), with y = f(x) from the forward; nothing is zeroed. */
void nn_activation_backward(const nn_activation *act, const nn_tensor *x, const nn_tensor *y,
                            const nn_tensor *dy, nn_tensor *dx);

/* Softmax over the last dim: each row of C logits becomes probabilities.
 *
 *   y_i = e^(x_i - m) / sum_j e^(x_j - m),   m = max_j x_j        x, y: (N, C)
 *
 * Subtracting m changes nothing mathematically and keeps every e^ in (0, 1],
 * so logits of 1000 do not overflow. Any ndim works: (N, T, C) is N*T rows.
 * The Jacobian dy_i/dx_k = y_i ([i == k] - y_k) gives, per row,
 *
 *   dx_k += y_k (dy_k - sum_j dy_j y_j)
 *
 * which needs only y. For the last layer of a classifier use nn_softmax_xent
 * (chapter 01): its gradient y - onehot is both simpler and exact. */
void nn_softmax_forward(const nn_tensor *x, nn_tensor *y);
void nn_softmax_backward(const nn_tensor *y, const nn_tensor *dy, nn_tensor *dx);

#endif
