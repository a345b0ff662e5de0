/* The calculators of the layers whose chapters are not written yet (tools/nn/later_shapes.h):
 * LayerNorm, Embedding, SimpleRNN/LSTM/GRU (one bias per gate in Keras, two in PyTorch;
 * GRU's reset_after; bidirectional and stacked), multi-head attention in each framework
 * and PyTorch's TransformerEncoderLayer, against values worked by hand. They move into
 * autograder/tests/04-rnn/ and 05-transformer/ with their calculators. *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <string.h>

#include "calc_expect.h"
#include "later_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

/* ---- normalization, embedding */

Test(norm, layernorm_and_embedding) {
  nn_error err = {0};
  nn_calc c;
  nn_shape seq = nn_shape_seq(100, 64);
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_calc_layernorm(&seq, fw, &c, &err), &err, "ln");
    calc_expect_params(&c, 128, "LayerNorm(64)");
  }
  nn_shape tok = nn_shape_tokens(100);
  calc_ok(nn_calc_embedding(&tok, 10000, 64, KERAS, &c, &err), &err, "embedding");
  calc_expect_params(&c, 640000, "Embedding(10000, 64)");
  calc_expect_shape(&c.out, 2, 100, 64, 0, "embedding");
  calc_expect_error(nn_calc_embedding(&tok, 0, 64, KERAS, &c, &err), &err, "vocabulary size 0", NULL);
}

/* ---- recurrent */

static long rnn(nn_rnn_kind kind, int D, int H, nn_framework fw, int layers, bool bi, bool reset_before) {
  nn_rnn_opts o = nn_rnn_opts_default(kind, H);
  o.num_layers = layers, o.bidirectional = bi, o.keras_reset_before = reset_before;
  nn_shape in = nn_shape_seq(100, D);
  nn_calc c;
  nn_error err = {0};
  calc_ok(nn_calc_rnn(&in, &o, fw, &c, &err), &err, "rnn");
  cr_assert_eq(c.trainable, c.params);
  return c.params;
}

Test(rnn, lstm_keras_one_bias_pytorch_two) {
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, KERAS, 1, false, false), 314368); /* 4*(50*256 + 256*256 + 256) */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 1, false, false), 315392); /* 4*(... + 2*256) */
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_LSTM, 256);
  nn_shape in = nn_shape_seq(100, 50);
  nn_calc c;
  nn_error err = {0};
  calc_ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "lstm");
  cr_assert_str_eq(c.formula, "4 * (50*256 + 256*256 + 256) = 314368");
  calc_expect_shape(&c.out, 1, 256, 0, 0, "Keras LSTM, last step");
  calc_ok(nn_calc_rnn(&in, &o, TORCH, &c, &err), &err, "lstm");
  cr_assert_str_eq(c.formula, "4 * (50*256 + 256*256 + 2*256) = 315392");
  calc_expect_shape(&c.out, 2, 100, 256, 0, "PyTorch LSTM output");
  o.return_sequences = true;
  calc_ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "lstm seq");
  calc_expect_shape(&c.out, 2, 100, 256, 0, "return_sequences");
}

Test(rnn, gru_reset_after_and_simple_rnn) {
  /* Keras reset_after=True (default): input and recurrent bias, like PyTorch */
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, KERAS, 1, false, false), 236544); /* 3*(12800 + 65536 + 512) */
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, TORCH, 1, false, false), 236544);
  cr_assert_eq(rnn(NN_RNN_GRU, 50, 256, KERAS, 1, false, true), 235776); /* reset_after=False: 3*(... + 256) */
  cr_assert_eq(rnn(NN_RNN_SIMPLE, 50, 128, KERAS, 1, false, false), 22912); /* 6400 + 16384 + 128 */
  cr_assert_eq(rnn(NN_RNN_SIMPLE, 50, 128, TORCH, 1, false, false), 23040); /* + 2*128 */
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_GRU, 256);
  o.no_bias = true;
  nn_shape in = nn_shape_seq(10, 50);
  nn_calc c;
  nn_error err = {0};
  calc_ok(nn_calc_rnn(&in, &o, TORCH, &c, &err), &err, "gru no bias");
  cr_assert_eq(c.params, 235008);
}

Test(rnn, bidirectional_and_stacked) {
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 1, true, false), 630784);  /* 2 * 315392 */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 2, false, false), 841728); /* + 4*(256*256 + 256*256 + 512) */
  /* layer 2 takes 2*256 inputs: 2 * (315392 + 4*(512*256 + 256*256 + 512)) */
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, TORCH, 2, true, false), 2207744);
  cr_assert_eq(rnn(NN_RNN_LSTM, 50, 256, KERAS, 2, true, false), 2 * (314368 + 4L * (512 * 256 + 256 * 256 + 256)));
  nn_rnn_opts o = nn_rnn_opts_default(NN_RNN_LSTM, 64);
  o.bidirectional = true;
  nn_shape in = nn_shape_seq(20, 8);
  nn_calc c;
  nn_error err = {0};
  calc_ok(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "bi");
  calc_expect_shape(&c.out, 1, 128, 0, 0, "Bidirectional concatenates");
  o.num_layers = 0;
  calc_expect_error(nn_calc_rnn(&in, &o, KERAS, &c, &err), &err, "num_layers 0", NULL);
  nn_shape img = nn_shape_image(1, 28, 28);
  o = nn_rnn_opts_default(NN_RNN_LSTM, 64);
  calc_expect_error(nn_calc_rnn(&img, &o, TORCH, &c, &err), &err, "sequence (T, D)", NULL);
}

/* ---- attention */

Test(attention, pytorch_multihead) {
  nn_error err = {0};
  nn_calc c;
  nn_shape q = nn_shape_seq(10, 512);
  nn_mha_opts o = {.num_heads = 8};
  calc_ok(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "mha");
  calc_expect_params(&c, 1050624, "MultiheadAttention(512, 8)"); /* 4*512^2 + 4*512 */
  cr_assert_str_eq(c.formula, "in_proj 3*512*512 + 3*512, out_proj 512*512 + 512 = 1050624");
  calc_expect_shape(&c.out, 2, 10, 512, 0, "mha");
  nn_shape q64 = nn_shape_seq(10, 64);
  o = (nn_mha_opts){.num_heads = 4, .kdim = 32, .vdim = 16};
  calc_ok(nn_calc_mha(&q64, NULL, &o, TORCH, &c, &err), &err, "kdim/vdim");
  cr_assert_eq(c.params, 11520); /* 64*64 + 64*32 + 64*16 + 3*64 + 64*64 + 64 */
  o = (nn_mha_opts){.num_heads = 4, .no_bias = true};
  calc_ok(nn_calc_mha(&q64, NULL, &o, TORCH, &c, &err), &err, "no bias");
  cr_assert_eq(c.params, 16384);
  o = (nn_mha_opts){.num_heads = 6};
  calc_expect_error(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "embed_dim 512 is not divisible by num_heads 6",
               "1, 2, 4, 8");
  o = (nn_mha_opts){.num_heads = 8, .embed_dim = 256};
  calc_expect_error(nn_calc_mha(&q, NULL, &o, TORCH, &c, &err), &err, "512 features but embed_dim is 256", NULL);
}

Test(attention, keras_multihead) {
  nn_error err = {0};
  nn_calc c;
  nn_shape q = nn_shape_seq(8, 16);
  nn_mha_opts o = {.num_heads = 2, .key_dim = 2};
  calc_ok(nn_calc_mha(&q, NULL, &o, KERAS, &c, &err), &err, "keras mha");
  /* q, k, v: 16*2*2 + 2*2 = 68 each; output 2*2*16 + 16 = 80 */
  calc_expect_params(&c, 3 * 68 + 80, "MultiHeadAttention(2, key_dim=2) on 16");
  calc_expect_shape(&c.out, 2, 8, 16, 0, "back to the query's 16");
  nn_shape q512 = nn_shape_seq(10, 512);
  o = (nn_mha_opts){.num_heads = 8, .key_dim = 64};
  calc_ok(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "keras 8x64");
  cr_assert_eq(c.params, 1050624, "key_dim = 512/8 gives PyTorch's count");
  nn_shape v = nn_shape_seq(20, 32);
  o = (nn_mha_opts){.num_heads = 4, .key_dim = 8, .value_dim = 16, .output_dim = 10};
  calc_ok(nn_calc_mha(&q, &v, &o, KERAS, &c, &err), &err, "cross attention");
  /* q 16*4*8 + 32, k 32*4*8 + 32, v 32*4*16 + 64, out 4*16*10 + 10 */
  cr_assert_eq(c.params, (16 * 32 + 32) + (32 * 32 + 32) + (32 * 64 + 64) + (64 * 10 + 10));
  calc_expect_shape(&c.out, 2, 8, 10, 0, "output_shape");
  o = (nn_mha_opts){.num_heads = 8};
  calc_expect_error(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "key_dim 0", "512 / 8");
  o = (nn_mha_opts){.num_heads = 0, .key_dim = 8};
  calc_expect_error(nn_calc_mha(&q512, NULL, &o, KERAS, &c, &err), &err, "num_heads 0", NULL);
}

Test(attention, transformer_encoder_layer) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_seq(10, 512);
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_calc_transformer_encoder(&in, 8, 0, fw, &c, &err), &err, "encoder");
    /* in_proj 3*512*512 + 3*512 = 787,968; out_proj 512*512 + 512 = 262,656;
       linear1 512*2048 + 2048 = 1,050,624; linear2 2048*512 + 512 = 1,049,088; 2 LayerNorms 4*512 = 2,048 */
    long by_hand = (3L * 512 * 512 + 3 * 512) + (512L * 512 + 512) + (512L * 2048 + 2048) + (2048L * 512 + 512) + 4 * 512;
    cr_assert_eq(by_hand, 3152384);
    calc_expect_params(&c, 3152384, "TransformerEncoderLayer(512, 8)");
    calc_expect_shape(&c.out, 2, 10, 512, 0, "encoder keeps the shape");
  }
  nn_shape small = nn_shape_seq(10, 64);
  calc_ok(nn_calc_transformer_encoder(&small, 4, 256, TORCH, &c, &err), &err, "small");
  cr_assert_eq(c.params, 49984);
  calc_expect_error(nn_calc_transformer_encoder(&in, 7, 0, TORCH, &c, &err), &err, "not divisible by nhead 7", NULL);
}
