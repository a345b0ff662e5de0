/* later_shapes.c: the calculators of chapters 04 and 05's layers (later_shapes.h), each
 * formula written out, worked, for `nn exam`. They move beside their layers when those
 * chapters land. */
#include "later_shapes.h"

#include <limits.h>
#include <string.h>

static const char *pick(nn_framework fw, const char *keras, const char *pytorch) {
  return fw == NN_KERAS ? keras : pytorch;
}

/* The shape as the framework prints it, for messages: the returned struct lives
 * until the end of the full expression (C11 6.2.4), long enough for a printf. */
#define shape_str(shape, fw) (nn_shape_format((shape), (fw)).s)

/* ---- normalization, embedding */

nn_status nn_calc_layernorm(const nn_shape *in, nn_framework fw, nn_calc *c, nn_error *err) {
  const char *who = pick(fw, "LayerNormalization", "LayerNorm");
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  long D = in->dim[nn_shape_feature_axis(in)];
  c->out = *in;
  c->params = c->trainable = 2 * D;
  nn_formula(c->formula, "2 * %ld = %ld (%s)", D, c->params, pick(fw, "gamma, beta", "weight, bias"));
  return NN_OK;
}

nn_status nn_calc_embedding(const nn_shape *in, int vocab, int dim, nn_framework fw, nn_calc *c, nn_error *err) {
  *c = (nn_calc){0};
  nn_status st = nn_shape_check("Embedding", in, fw, err);
  if (st != NN_OK) return st;
  if (in->ndim != 1)
    return nn_fail(err, NN_ERR_ARG, "Embedding needs token ids (T); got %s", shape_str(in, fw));
  if (vocab < 1) return nn_fail(err, NN_ERR_ARG, "Embedding: vocabulary size %d must be at least 1", vocab);
  if (dim < 1) return nn_fail(err, NN_ERR_ARG, "Embedding: dimension %d must be at least 1", dim);
  c->out = nn_shape_seq(in->dim[0], dim);
  c->params = c->trainable = (long)vocab * dim;
  nn_formula(c->formula, "%d * %d = %ld (one %d-vector per token id)", vocab, dim, c->params, dim);
  return NN_OK;
}

/* ---- recurrent */

const char *nn_rnn_kind_name(nn_rnn_kind kind) {
  switch (kind) {
  case NN_RNN_SIMPLE: return "simple_rnn";
  case NN_RNN_LSTM: return "lstm";
  case NN_RNN_GRU: return "gru";
  }
  return "?";
}

nn_rnn_opts nn_rnn_opts_default(nn_rnn_kind kind, int units) {
  return (nn_rnn_opts){.kind = kind, .units = units, .num_layers = 1};
}

/* One direction of one layer, input size D: G * (D*H + H*H + nb*H). */
static long rnn_layer_params(int G, long D, long H, int nb) { return G * (D * H + H * H + nb * H); }

nn_status nn_calc_rnn(const nn_shape *in, const nn_rnn_opts *o, nn_framework fw, nn_calc *c, nn_error *err) {
  static const char *names[2][3] = {{"SimpleRNN", "LSTM", "GRU"}, {"RNN", "LSTM", "GRU"}};
  const char *who = (unsigned)o->kind <= NN_RNN_GRU ? names[fw == NN_PYTORCH][o->kind] : "RNN";
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if ((unsigned)o->kind > NN_RNN_GRU) return nn_fail(err, NN_ERR_ARG, "RNN: unknown kind %d", (int)o->kind);
  if (in->ndim != 2)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, D); got %s (an Embedding gives one)", who,
                   shape_str(in, fw));
  if (o->units < 1) return nn_fail(err, NN_ERR_ARG, "%s: units %d must be at least 1", who, o->units);
  if (o->num_layers < 1) return nn_fail(err, NN_ERR_ARG, "%s: num_layers %d must be at least 1", who, o->num_layers);
  if (o->units > INT_MAX / 2) return nn_fail(err, NN_ERR_ARG, "%s: units %d is too large", who, o->units);
  /* a (C, L) signal from Conv1d: Keras reads it as (L, C), time first */
  int T = in->channels_first ? in->dim[1] : in->dim[0], D = in->channels_first ? in->dim[0] : in->dim[1];
  int G = o->kind == NN_RNN_LSTM ? 4 : o->kind == NN_RNN_GRU ? 3 : 1;
  int nb; /* bias vectors per gate */
  if (o->no_bias) nb = 0;
  else if (fw == NN_PYTORCH) nb = 2; /* b_ih and b_hh */
  else if (o->kind == NN_RNN_GRU && !o->keras_reset_before) nb = 2; /* reset_after=True: input and recurrent bias */
  else nb = 1;
  int dirs = o->bidirectional ? 2 : 1, H = o->units;
  st = nn_count_check(who, (double)dirs * o->num_layers * G * ((double)D + 2.0 * H + (double)H * dirs + 2.0) * H, err);
  if (st != NN_OK) return st;
  long first = rnn_layer_params(G, D, H, nb), rest = rnn_layer_params(G, (long)H * dirs, H, nb);
  c->params = c->trainable = dirs * (first + (o->num_layers - 1) * rest);

  char g[8] = "", bias[16] = "", mul[8] = "";
  if (G > 1) snprintf(g, sizeof g, "%d * ", G);
  if (nb == 1) snprintf(bias, sizeof bias, " + %d", H);
  else if (nb == 2) snprintf(bias, sizeof bias, " + 2*%d", H);
  if (dirs == 2) snprintf(mul, sizeof mul, "2 * ");
  if (o->num_layers == 1) {
    nn_formula(c->formula, "%s%s(%d*%d + %d*%d%s) = %ld", mul, g, D, H, H, H, bias, c->params);
  } else {
    char din[16];
    if (dirs == 2) snprintf(din, sizeof din, "(2*%d)", H);
    else snprintf(din, sizeof din, "%d", H);
    nn_formula(c->formula, "%s(%s(%d*%d + %d*%d%s) + %d * %s(%s*%d + %d*%d%s)) = %ld", mul, g, D, H, H, H, bias,
               o->num_layers - 1, g, din, H, H, H, bias, c->params);
  }
  bool seq = fw == NN_PYTORCH || o->return_sequences;
  c->out = seq ? nn_shape_seq(T, H * dirs) : nn_shape_vector(H * dirs);
  if (fw == NN_PYTORCH)
    nn_formula(c->shape_formula, "output (N, T, %s%d) with batch_first=True (the last step is output[:, -1]); h_n (%d, N, %d)",
               dirs == 2 ? "2*" : "", H, o->num_layers * dirs, H);
  else if (seq)
    nn_formula(c->shape_formula, "return_sequences=True: (None, %d, %s%d)", T, dirs == 2 ? "2*" : "", H);
  else
    nn_formula(c->shape_formula, "the last step only: (None, %s%d)", dirs == 2 ? "2*" : "", H);
  return NN_OK;
}

/* ---- attention */

static void divisors(int n, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = '\0';
  for (int d = 1; d <= n && o + 12 < len; d++)
    if (n % d == 0) o += (size_t)snprintf(buf + o, len - o, "%s%d", o ? ", " : "", d);
}

nn_status nn_calc_mha(const nn_shape *query, const nn_shape *value, const nn_mha_opts *o, nn_framework fw, nn_calc *c,
                      nn_error *err) {
  const char *who = pick(fw, "MultiHeadAttention", "MultiheadAttention");
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, query, fw, err);
  if (st != NN_OK) return st;
  if (value && (st = nn_shape_check(who, value, fw, err)) != NN_OK) return st;
  if (query->ndim != 2 || query->channels_first)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, D) as the query; got %s", who, shape_str(query, fw));
  if (value && (value->ndim != 2 || value->channels_first))
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (S, D) as the value; got %s", who, shape_str(value, fw));
  int h = o->num_heads, T = query->dim[0], Dq = query->dim[1], Dv = value ? value->dim[1] : Dq;
  long b = o->no_bias ? 0 : 1;
  if (h < 1) return nn_fail(err, NN_ERR_ARG, "%s: num_heads %d must be at least 1", who, h);
  if (fw == NN_KERAS) {
    if (o->key_dim < 1)
      return nn_fail(err, NN_ERR_ARG,
                     "MultiHeadAttention: key_dim %d must be at least 1; Keras needs it (the size of each head, "
                     "often D / num_heads = %d / %d)",
                     o->key_dim, Dq, h);
    long kd = o->key_dim, vd = o->value_dim > 0 ? o->value_dim : kd, Do = o->output_dim > 0 ? o->output_dim : Dq;
    st = nn_count_check(who, ((double)Dq + 2.0 * Dv + 3.0) * h * (double)(kd + vd) + ((double)h * vd + 1) * Do, err);
    if (st != NN_OK) return st;
    if (o->value_dim < 0 || o->output_dim < 0)
      return nn_fail(err, NN_ERR_ARG, "MultiHeadAttention: value_dim and output_shape must be at least 1 (or 0 for the default)");
    long q = (long)Dq * h * kd + b * h * kd, k = (long)Dv * h * kd + b * h * kd, v = (long)Dv * h * vd + b * h * vd,
         out = h * vd * Do + b * Do;
    c->params = c->trainable = q + k + v + out;
    if (b)
      nn_formula(c->formula, "query %d*%d*%ld + %d*%ld, key %d*%d*%ld + %d*%ld, value %d*%d*%ld + %d*%ld, output %d*%ld*%ld + %ld = %ld",
                 Dq, h, kd, h, kd, Dv, h, kd, h, kd, Dv, h, vd, h, vd, h, vd, Do, Do, c->params);
    else
      nn_formula(c->formula, "query %d*%d*%ld, key %d*%d*%ld, value %d*%d*%ld, output %d*%ld*%ld = %ld", Dq, h, kd, Dv, h, kd,
                 Dv, h, vd, h, vd, Do, c->params);
    c->out = nn_shape_seq(T, (int)Do);
    nn_formula(c->shape_formula, "(None, %d, %ld): back to the query's size %s", T, Do,
               o->output_dim > 0 ? "(output_shape given)" : "by the output projection");
    return NN_OK;
  }
  long E = o->embed_dim > 0 ? o->embed_dim : Dq;
  if (o->embed_dim < 0) return nn_fail(err, NN_ERR_ARG, "MultiheadAttention: embed_dim %d must be at least 1", o->embed_dim);
  if (E != Dq)
    return nn_fail(err, NN_ERR_ARG,
                   "MultiheadAttention: the query has %d features but embed_dim is %ld; they must be equal "
                   "(project the input to embed_dim first)",
                   Dq, E);
  if (E % h) {
    char ds[128];
    divisors((int)E, ds, sizeof ds);
    return nn_fail(err, NN_ERR_ARG,
                   "MultiheadAttention: embed_dim %ld is not divisible by num_heads %d; each head gets embed_dim / "
                   "num_heads features, so pick num_heads among %s",
                   E, h, ds);
  }
  long kdim = o->kdim > 0 ? o->kdim : Dv, vdim = o->vdim > 0 ? o->vdim : Dv;
  if ((st = nn_count_check(who, (double)E * (2.0 * E + kdim + vdim + 4), err)) != NN_OK) return st;
  if (o->kdim < 0 || o->vdim < 0)
    return nn_fail(err, NN_ERR_ARG, "MultiheadAttention: kdim and vdim must be at least 1 (or 0 for embed_dim)");
  if (kdim == E && vdim == E) {
    c->params = c->trainable = 3 * E * E + 3 * E * b + E * E + E * b;
    if (b)
      nn_formula(c->formula, "in_proj 3*%ld*%ld + 3*%ld, out_proj %ld*%ld + %ld = %ld", E, E, E, E, E, E, c->params);
    else
      nn_formula(c->formula, "in_proj 3*%ld*%ld, out_proj %ld*%ld = %ld", E, E, E, E, c->params);
  } else {
    c->params = c->trainable = E * E + E * kdim + E * vdim + 3 * E * b + E * E + E * b;
    nn_formula(c->formula, "q_proj %ld*%ld + k_proj %ld*%ld + v_proj %ld*%ld%s, out_proj %ld*%ld%s = %ld", E, E, E, kdim, E,
               vdim, b ? " + 3*E" : "", E, E, b ? " + E" : "", c->params);
  }
  c->out = nn_shape_seq(T, (int)E);
  nn_formula(c->shape_formula, "(N, %d, %ld) with batch_first=True; %d heads of %ld", T, E, h, E / h);
  return NN_OK;
}

nn_status nn_calc_transformer_encoder(const nn_shape *in, int nhead, int dim_feedforward, nn_framework fw, nn_calc *c,
                                      nn_error *err) {
  const char *who = pick(fw, "TransformerEncoder block", "TransformerEncoderLayer");
  *c = (nn_calc){0};
  nn_status st = nn_shape_check(who, in, fw, err);
  if (st != NN_OK) return st;
  if (in->ndim != 2 || in->channels_first)
    return nn_fail(err, NN_ERR_ARG, "%s needs a sequence (T, d_model); got %s", who, shape_str(in, fw));
  long d = in->dim[1], ff = dim_feedforward == 0 ? 2048 : dim_feedforward;
  if (nhead < 1) return nn_fail(err, NN_ERR_ARG, "%s: nhead %d must be at least 1", who, nhead);
  if (dim_feedforward < 0)
    return nn_fail(err, NN_ERR_ARG, "%s: dim_feedforward %d must be at least 1 (0 for PyTorch's 2048)", who,
                   dim_feedforward);
  if (d % nhead) {
    char ds[128];
    divisors((int)d, ds, sizeof ds);
    return nn_fail(err, NN_ERR_ARG,
                   "%s: d_model %ld is not divisible by nhead %d; each head gets d_model / nhead features, so pick "
                   "nhead among %s",
                   who, d, nhead, ds);
  }
  if ((st = nn_count_check(who, (double)d * (4.0 * d + 2.0 * ff + 9) + ff, err)) != NN_OK) return st;
  long attn = 4 * d * d + 4 * d, lin1 = d * ff + ff, lin2 = ff * d + d, norms = 4 * d;
  c->params = c->trainable = attn + lin1 + lin2 + norms;
  nn_formula(c->formula,
             "attention (4*%ld*%ld + 4*%ld) + linear1 (%ld*%ld + %ld) + linear2 (%ld*%ld + %ld) + 2 LayerNorms (4*%ld) = "
             "%ld + %ld + %ld + %ld = %ld",
             d, d, d, d, ff, ff, ff, d, d, d, attn, lin1, lin2, norms, c->params);
  c->out = *in;
  nn_formula(c->shape_formula, "same as the input: %s (residual connections keep d_model = %ld)", shape_str(in, fw), d);
  return NN_OK;
}
