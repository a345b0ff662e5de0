/* framework_defaults.c: the table of framework_defaults.h. Sources: keras 3 source
 * (keras/src/...), keras.io, tensorflow.org r2.x API pages for tf.keras (Keras 2), and
 * PyTorch's signatures (torch 1.13 and 2.x docs). */
#include "framework_defaults.h"

#include <string.h>

static const nn_framework_default DEFAULTS[] = {
    {"leaky_relu_slope", "LeakyReLU negative slope (the layer)", 0.3, 0.3, 0.01,
     "keras.layers.LeakyReLU(negative_slope=0.3)", "torch.nn.LeakyReLU(negative_slope=0.01)",
     "y = x for x >= 0, slope*x below. The Keras LAYER keeps 0.3 in Keras 2 (alpha=0.3) and Keras 3 "
     "(negative_slope=0.3); the Keras 3 FUNCTION keras.activations.leaky_relu (activation='leaky_relu') and "
     "tf.nn.leaky_relu use 0.2. PyTorch uses 0.01, 30x smaller than the layer's."},
    {"leaky_relu_fn_slope", "leaky_relu as a function / activation string", 0.2, 0.2, 0.01,
     "keras.activations.leaky_relu(x, negative_slope=0.2)", "torch.nn.functional.leaky_relu(x, 0.01)",
     "Keras 3's activation='leaky_relu' calls the function, default 0.2 (Keras 2 had no such string; "
     "tf.nn.leaky_relu alpha=0.2). PyTorch's functional form has the layer's 0.01."},
    {"rmsprop_rho", "RMSprop decay of the squared-gradient average", 0.9, 0.9, 0.99,
     "keras.optimizers.RMSprop(rho=0.9)", "torch.optim.RMSprop(alpha=0.99)",
     "v = rho*v + (1-rho)*g^2; Keras calls it rho (0.9), PyTorch alpha (0.99): PyTorch's average remembers "
     "about 100 steps, Keras' about 10."},
    {"rmsprop_eps", "RMSprop epsilon", 1e-7, 1e-7, 1e-8, "keras.optimizers.RMSprop(epsilon=1e-7)",
     "torch.optim.RMSprop(eps=1e-8)",
     "Not only the value: Keras divides by sqrt(v + eps), PyTorch by sqrt(v) + eps."},
    {"rmsprop_lr", "RMSprop learning rate", 0.001, 0.001, 0.01, "keras.optimizers.RMSprop(learning_rate=0.001)",
     "torch.optim.RMSprop(lr=0.01)", "PyTorch's default step is 10x Keras'."},
    {"adagrad_initial_accumulator", "Adagrad initial accumulator", 0.1, 0.1, 0.0,
     "keras.optimizers.Adagrad(initial_accumulator_value=0.1)", "torch.optim.Adagrad(initial_accumulator_value=0)",
     "The sum of squared gradients starts at 0.1 in Keras, 0 in PyTorch, so PyTorch's first steps are larger "
     "(the first is lr * g / (|g| + eps), about lr per weight)."},
    {"adagrad_eps", "Adagrad epsilon", 1e-7, 1e-7, 1e-10, "keras.optimizers.Adagrad(epsilon=1e-7)",
     "torch.optim.Adagrad(eps=1e-10)", "Keras adds it inside the square root, PyTorch outside."},
    {"adagrad_lr", "Adagrad learning rate", 0.001, 0.001, 0.01, "keras.optimizers.Adagrad(learning_rate=0.001)",
     "torch.optim.Adagrad(lr=0.01)", "PyTorch's default step is 10x Keras'."},
    {"adam_eps", "Adam epsilon", 1e-7, 1e-7, 1e-8, "keras.optimizers.Adam(epsilon=1e-7)", "torch.optim.Adam(eps=1e-8)",
     "m_hat / (sqrt(v_hat) + eps): both add it outside the square root; only the value differs. The learning "
     "rate (0.001) and betas (0.9, 0.999) agree."},
    {"adamw_weight_decay", "AdamW weight decay", 0.004, 0.004, 0.01, "keras.optimizers.AdamW(weight_decay=0.004)",
     "torch.optim.AdamW(weight_decay=0.01)",
     "Decoupled decay w -= lr * wd * w each step; PyTorch's default is 2.5x Keras'."},
    {"sgd_lr", "SGD learning rate", 0.01, 0.01, 0.001, "keras.optimizers.SGD(learning_rate=0.01)",
     "torch.optim.SGD(lr=1e-3)",
     "Keras defaults to 0.01. PyTorch 1.x had no default (lr was required); recent 2.x releases default to "
     "1e-3. Always pass it."},
    {"batchnorm_momentum", "BatchNorm momentum of the running statistics", 0.99, 0.99, 0.1,
     "keras.layers.BatchNormalization(momentum=0.99)", "torch.nn.BatchNorm2d(momentum=0.1)",
     "Opposite meanings: Keras moving = momentum*moving + (1-momentum)*batch (0.99 weighs the OLD value); "
     "PyTorch running = (1-momentum)*running + momentum*batch (0.1 weighs the NEW value). Keras 0.99 is PyTorch "
     "0.01; PyTorch's 0.1 is Keras 0.9: PyTorch's running statistics follow the batches 10x faster."},
    {"batchnorm_eps", "BatchNorm epsilon", 1e-3, 1e-3, 1e-5, "keras.layers.BatchNormalization(epsilon=1e-3)",
     "torch.nn.BatchNorm2d(eps=1e-5)", "(x - mean) / sqrt(var + eps); Keras' is 100x larger."},
    {"batchnorm_unbiased_running_var", "BatchNorm running variance is unbiased (1 = n/(n-1))", 0, 0, 1,
     "keras.layers.BatchNormalization: moving_variance from the biased batch variance",
     "torch.nn.BatchNorm2d: running_var from the unbiased batch variance",
     "Both normalize a training batch with the biased variance (divide by n). PyTorch stores var * n/(n-1) "
     "in running_var; Keras stores the biased one in moving_variance."},
    {"layernorm_eps", "LayerNorm epsilon", 1e-3, 1e-3, 1e-5, "keras.layers.LayerNormalization(epsilon=1e-3)",
     "torch.nn.LayerNorm(eps=1e-5)", "As BatchNorm: Keras 1e-3, PyTorch 1e-5."},
    {"transformer_dim_feedforward", "Transformer encoder feed-forward size", 0, 0, 2048,
     "no built-in layer (KerasHub's TransformerEncoder needs intermediate_dim)",
     "torch.nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048)",
     "PyTorch's 2048 is the paper's value for d_model 512 (4x); it stays 2048 for any d_model unless you pass "
     "it, so a small model gets a huge feed-forward. 0 here: Keras has no default."},
    {"lstm_forget_bias", "LSTM forget-gate bias at init", 1, 1, 0, "keras.layers.LSTM(unit_forget_bias=True)",
     "torch.nn.LSTM: biases ~ U(-1/sqrt(H), 1/sqrt(H))",
     "Keras starts the forget gate's bias at 1 (remember by default, Jozefowicz et al. 2015); PyTorch draws "
     "every bias at random around 0. (0 here means no constant.)"},
    {"gru_reset_after", "GRU applies the reset gate after the recurrent matmul (reset_after)", 1, 1, 1,
     "keras.layers.GRU(reset_after=True)", "torch.nn.GRU (always reset after: r * (W_hn h + b_hn))",
     "Since TF 2 Keras' default matches PyTorch (and cuDNN): two bias vectors per gate, so a GRU has "
     "3*(D*H + H*H + 2H) parameters in both. reset_after=False (TF 1, Keras 2 without cuDNN) has one: 3*(D*H + H*H + H)."},
    {"rnn_bias_vectors", "bias vectors per gate in SimpleRNN / LSTM", 1, 1, 2, "keras.layers.LSTM: one bias",
     "torch.nn.LSTM: b_ih and b_hh",
     "PyTorch keeps two (the cuDNN layout); their sum acts as one, so LSTM(256) on 50 inputs has 4*256 = 1,024 "
     "more parameters in PyTorch: 315,392 vs 314,368."},
    {"ce_from_logits", "cross-entropy takes logits (1) or probabilities (0)", 0, 0, 1,
     "keras.losses.SparseCategoricalCrossentropy(from_logits=False)", "torch.nn.CrossEntropyLoss (logits)",
     "Keras expects softmax outputs unless from_logits=True; PyTorch's CrossEntropyLoss applies log_softmax "
     "itself, so the model must NOT end in softmax."},
};
enum { N_DEFAULTS = sizeof DEFAULTS / sizeof DEFAULTS[0] };

const nn_framework_default *nn_framework_defaults(int *count) {
  if (count) *count = N_DEFAULTS;
  return DEFAULTS;
}

const nn_framework_default *nn_framework_default_find(const char *key) {
  for (int i = 0; key && i < N_DEFAULTS; i++)
    if (!strcmp(DEFAULTS[i].key, key)) return &DEFAULTS[i];
  return NULL;
}
