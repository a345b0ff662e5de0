/* later_shapes.h: the shape and parameter calculators of layers whose chapters are not
 * written yet: LayerNorm, Embedding and RNN/LSTM/GRU (chapter 04), multi-head attention
 * and the Transformer encoder layer (chapter 05), in Keras' and PyTorch's conventions.
 * `nn exam` and `nn summary` use them today; each moves into its chapter's solutions/
 * folder, beside its layer, when that chapter brings the layer (as chapter 02's Dense
 * and chapter 03's convolution did: nn_dense_shapes.h, nn_conv_shapes.h), with its
 * tests (autograder/tests/tools/test_later_shapes.c). Shapes, frameworks and nn_calc:
 * nn_shapes.h. */
#ifndef NN_LATER_SHAPES_H
#define NN_LATER_SHAPES_H

#include "nn_shapes.h"

/* ---- normalization, embedding -------------------------------------------- */

/* LayerNorm over the last axis D (Keras LayerNormalization(axis=-1), PyTorch
 * nn.LayerNorm(D)): gamma and beta, params = 2D, no buffers. On an image the
 * axis is C (Keras' channels-last -1); PyTorch's LayerNorm([C, H, W]) would be 2*C*H*W. */
nn_status nn_calc_layernorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err);

/* Embedding(vocab, dim) on token ids (T): out (T, dim), params = vocab * dim. */
nn_status nn_calc_embedding(const nn_shape *in, int vocab, int dim, nn_framework fw, nn_calc *c,
                            nn_error *err);

/* ---- recurrent ----------------------------------------------------------- */

typedef enum { NN_RNN_SIMPLE = 0, NN_RNN_LSTM, NN_RNN_GRU } nn_rnn_kind;

/* "simple_rnn", "lstm", "gru" */
const char *nn_rnn_kind_name(nn_rnn_kind kind);

typedef struct {
  nn_rnn_kind kind;
  int units;             /* H, the hidden size (> 0) */
  int num_layers;        /* stacked layers (>= 1); layer 2 on takes H*dirs as its input */
  bool bidirectional;    /* Keras Bidirectional(...), PyTorch bidirectional=True: params x2 */
  bool return_sequences; /* Keras: out (T, H*dirs) instead of (H*dirs). PyTorch's output
                            is always the sequence; this flag is ignored there */
  bool keras_reset_before; /* Keras GRU reset_after=False (TF1 / CuDNN-less style);
                              the default (false) is reset_after=True, 2 bias vectors */
  bool no_bias;          /* Keras use_bias=False, PyTorch bias=False */
} nn_rnn_opts;

/* kind, units; 1 layer, one direction, last step only, GRU reset_after=True, bias on. */
nn_rnn_opts nn_rnn_opts_default(nn_rnn_kind kind, int units);

/* SimpleRNN / LSTM / GRU on a sequence (T, D). With gates G = 1, 4, 3:
 *   Keras:   G * (D*H + H*H + H)        one bias vector per gate
 *            GRU reset_after=True (default): 3 * (D*H + H*H + 2H)   (input and recurrent bias)
 *   PyTorch: G * (D*H + H*H + 2H)       two biases, b_ih and b_hh
 *   bidirectional: x2; layer l >= 2 has D = H * (2 if bidirectional else 1).
 *   LSTM(256) on D = 50: Keras 4*(50*256 + 256*256 + 256) = 314,368;
 *                        PyTorch 4*(50*256 + 256*256 + 2*256) = 315,392. */
nn_status nn_calc_rnn(const nn_shape *in, const nn_rnn_opts *o, nn_framework fw, nn_calc *c,
                      nn_error *err);

/* ---- attention ----------------------------------------------------------- */

typedef struct {
  int num_heads;  /* h >= 1 */
  int key_dim;    /* Keras: per-head size of query and key (required there); PyTorch: unused */
  int value_dim;  /* Keras: per-head size of value; 0 = key_dim */
  int embed_dim;  /* PyTorch: E; 0 = the query's last axis; must equal it, h must divide it */
  int kdim, vdim; /* PyTorch: key/value feature sizes; 0 = E (self-attention) */
  int output_dim; /* Keras output_shape; 0 = the query's last axis */
  bool no_bias;   /* Keras use_bias=False, PyTorch bias=False */
} nn_mha_opts;

/* Keras MultiHeadAttention(num_heads=h, key_dim=kd, value_dim=vd) on query (T, Dq),
 * key (S, Dk), value (S, Dv) (key = value = query by default):
 *   query dense Dq*h*kd + h*kd, key dense Dk*h*kd + h*kd, value dense Dv*h*vd + h*vd,
 *   output dense h*vd*Do + Do, Do = output_dim or Dq.       out (T, Do)
 * PyTorch nn.MultiheadAttention(E, h) (E % h == 0, head size E/h):
 *   in_proj_weight 3E x E + in_proj_bias 3E, out_proj E x E + E = 4E^2 + 4E;
 *   with kdim/vdim: E*E + E*kdim + E*vdim + 3E + E*E + E.   out (T, E)
 * value may be NULL (self-attention: key = value = query). */
nn_status nn_calc_mha(const nn_shape *query, const nn_shape *value, const nn_mha_opts *o,
                      nn_framework fw, nn_calc *c, nn_error *err);

/* PyTorch nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048) on (T, d_model):
 *   self-attention 4d^2 + 4d, linear1 d*ff + ff, linear2 ff*d + d, 2 LayerNorms 4d.
 *   (512, 8): 1,050,624 + 1,050,624 + 1,049,088 + 2,048 = 3,152,384.
 * Keras has no such layer; with NN_KERAS the same block is counted as built from
 * MultiHeadAttention(nhead, key_dim=d/nhead) + Dense(ff) + Dense(d) + 2 LayerNormalization,
 * which gives the same total. dim_feedforward 0 = 2048 (PyTorch's default). */
nn_status nn_calc_transformer_encoder(const nn_shape *in, int nhead, int dim_feedforward,
                                      nn_framework fw, nn_calc *c, nn_error *err);

#endif
