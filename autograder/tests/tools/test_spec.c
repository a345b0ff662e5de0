/* The model spec format of `nn summary` (tools/nn/spec.h): a spec parses into its layers
 * (every kind of layer, the chapters' calculators chaining their shapes), totals in each
 * framework, errors that name the file and the line and say what was expected, the
 * printed table's totals, and the example files of docs/models/. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_activation_layer.h"
#include "nn_dense.h"
#include "nn_model.h"
#include "spec.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

static nn_status parse(const char *text, nn_model_spec *spec, nn_error *err) {
  /* an exact-size copy, so AddressSanitizer sees any read past the end */
  size_t len = strlen(text);
  char *copy = malloc(len + 1);
  memcpy(copy, text, len + 1);
  nn_status st = nn_model_spec_parse(copy, "m.txt", spec, err);
  free(copy);
  return st;
}

static const char *CNN = "# the seeds' CNN\n"
                         "input 1 28 28\n"
                         "conv2d 32 kernel=3 activation=relu   # 320\n"
                         "\n"
                         "maxpool2d 2\n"
                         "conv2d 64 kernel=3\n"
                         "maxpool2d 2\n"
                         "flatten\n"
                         "dense 10";

Test(spec, parses_and_totals_the_cnn) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse(CNN, &spec, &err), &err, "parse");
  cr_assert_eq(spec.count, 7);
  cr_assert_str_eq(spec.layers[1].name, "conv2d");
  cr_assert_eq(spec.layers[1].conv.filters, 32);
  cr_assert_eq(spec.layers[1].conv.kernel, 3);
  cr_assert_eq(spec.layers[1].line, 3);
  cr_assert_str_eq(spec.layers[1].activation, "relu");
  cr_assert_eq(spec.layers[6].line, 9);
  nn_calc calcs[6];
  nn_spec_totals t;
  for (int fw = 0; fw < 2; fw++) {
    calc_ok(nn_model_spec_calc(&spec, fw, calcs, &t, &err), &err, "calc");
    cr_assert_eq(t.params, 34826);
    cr_assert_eq(t.trainable, 34826);
    cr_assert_eq(calcs[0].params, 320);
    cr_assert_eq(calcs[2].params, 18496);
    cr_assert_eq(calcs[5].params, 16010);
    calc_expect_shape(&t.out, 1, 10, 0, 0, "logits");
  }
  nn_model_spec_free(&spec);
}

Test(spec, every_layer_kind_parses) {
  const char *text = "input 3 32 32\n"
                     "conv2d 16 kernel=3 stride=2 padding=1 dilation=1 groups=1 bias=0\n"
                     "batchnorm\nrelu\n"
                     "depthwise2d kernel=3 multiplier=2 padding=1\n"
                     "separable2d 32 kernel=3 padding=same\n"
                     "convtranspose2d 8 kernel=3 stride=2 padding=1 output_padding=1\n"
                     "maxpool2d 3 stride=2 padding=1 ceil=1\n"
                     "avgpool2d 2\n"
                     "globalavgpool\n"
                     "dropout 0.5\n"
                     "dense 10 activation=softmax\n";
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse(text, &spec, &err), &err, "parse");
  nn_spec_totals t;
  calc_ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, "calc torch");
  calc_expect_shape(&t.out, 3, 8, 1, 10, "PyTorch keeps (C, 1, 1) and Linear acts on the last axis");
  nn_model_spec_free(&spec);
  const char *seq = "input tokens 100\nembedding 10000 64\nlstm 32 return_sequences=1 bidirectional=1\n"
                    "gru 16 reset_after=0 layers=2 return_sequences=1\nlayernorm\nmha 4 key_dim=8\n"
                    "transformer_encoder 4 ff=64\nsimple_rnn 8\n";
  calc_ok(parse(seq, &spec, &err), &err, "parse seq");
  calc_ok(nn_model_spec_calc(&spec, KERAS, NULL, &t, &err), &err, "calc keras");
  calc_expect_shape(&t.out, 1, 8, 0, 0, "SimpleRNN, last step");
  long want = 640000 + 2 * 4L * (64 * 32 + 32 * 32 + 32) + 3L * (64 * 16 + 16 * 16 + 16) +
              3L * (16 * 16 + 16 * 16 + 16) + 32 + (3 * (16 * 4 * 8 + 32) + 4 * 8 * 16 + 16) +
              (4 * 16 * 16 + 4 * 16 + 16 * 64 + 64 + 64 * 16 + 16 + 4 * 16) + (16 * 8 + 8 * 8 + 8);
  cr_assert_eq(t.params, want, "%ld, expected %ld", t.params, want);
  nn_model_spec_free(&spec);
}

static void expect_parse_error(const char *text, const char *fact1, const char *fact2) {
  nn_model_spec spec;
  nn_error err = {0};
  nn_status st = parse(text, &spec, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "parsing \"%s\": got %s (%s)", text, nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, fact1), "parsing \"%s\": the message must say \"%s\": %s", text, fact1, err.msg);
  cr_assert(!fact2 || strstr(err.msg, fact2), "parsing \"%s\": the message must say \"%s\": %s", text, fact2, err.msg);
  cr_assert_null(spec.layers, "nothing stays allocated after an error");
}

Test(spec, errors_name_the_file_and_line) {
  expect_parse_error("input 1 28 28\nconv2d 32 kernal=3\n", "m.txt:2: ", "unknown option 'kernal'");
  expect_parse_error("input 1 28 28\nconv2d 32\n", "m.txt:2: ", "expected kernel=K");
  expect_parse_error("input 1 28 28\n\n# c\nconv3d 8 kernel=3\n", "m.txt:4: ", "unknown layer 'conv3d'");
  expect_parse_error("conv2d 32 kernel=3\n", "m.txt:1: ", "expected the input shape first");
  expect_parse_error("input 1 28 x\n", "m.txt:1: ", "whole number");
  expect_parse_error("input 1 28 28\ndense\n", "m.txt:2: ", "expected UNITS");
  expect_parse_error("input 1 28 28\ndense 10 20\n", "m.txt:2: ", "extra '20'");
  expect_parse_error("input 1 28 28\nconv2d 8 kernel=3 padding=full\n", "m.txt:2: ", "valid, same or a number");
  expect_parse_error("input 1 28 28\nflatten 3\n", "m.txt:2: ", "expected nothing");
  expect_parse_error("input 784\ndropout 1.5\n", "m.txt:2: ", "[0, 1)");
  expect_parse_error("# only a comment\n\n", "m.txt: no layers", NULL);
  expect_parse_error("input 784\ninput 10\n", "m.txt:2: ", "second input");
  expect_parse_error("input 784\nlstm 8 bidirectional=maybe\n", "m.txt:2: ", "0 or 1");
  /* what a layer takes comes from its row of the table: aliases (ceil_mode, rnn, linear) work but are not listed */
  expect_parse_error("input 1 28 28\nseparable2d 8\n", "m.txt:2: ", "expected kernel=K (e.g. separable2d 64 kernel=3)");
  expect_parse_error("input 1 28 28\nmaxpool2d 2 groups=2\n", "m.txt:2: ",
                     "maxpool2d takes: stride, padding, dilation, ceil");
  expect_parse_error("input 1 28 28\navgpool2d 2 dilation=2\n", "m.txt:2: ", "avgpool2d takes: stride, padding, ceil");
  expect_parse_error("input 1 28 28\nmaxpool2d 2 stride=0\n", "m.txt:2: ", "stride=0: expected a whole number >= 1");
  expect_parse_error("input 1 28 28\ndepthwise2d 3 kernel=3\n", "m.txt:2: ",
                     "expected only options (kernel, multiplier, stride, padding, dilation, bias, activation), got '3'");
  expect_parse_error("input 10\nrelu x=1\n", "m.txt:2: ", "relu: expected nothing after it, got 'x=1'");
  expect_parse_error("input 10\ndense 3 activation=foo\n", "m.txt:2: ", "activation=foo: expected relu, sigmoid");
  expect_parse_error("input 1 28 28\nflatten bias=0\n", "m.txt:2: ", "flatten takes no options");
  /* what a hold-out run of the CLI found accepted silently, or refused without saying why */
  expect_parse_error("input 99999999999 28 28\n", "m.txt:1: ", "99999999999 is too large; a size is at most 536870911");
  expect_parse_error("input 1 28 28\ndense 4000000000\n", "m.txt:2: ", "4000000000 is too large");
  expect_parse_error("input 1 28 28\nconv2d 8 kernel=3 kernel=5\n", "m.txt:2: ",
                     "kernel=5 sets what kernel=3 already set");
  expect_parse_error("input 1 9 9\nmaxpool2d 3 ceil=1 ceil_mode=0\n", "m.txt:2: ", "ceil_mode=0 sets what ceil=1");
  expect_parse_error("input 100\ndropout nan\n", "m.txt:2: ", "[0, 1)");
  expect_parse_error("input 1 28 28\nmaxpool2d 2 stride=-1\n", "m.txt:2: ", "stride=-1: expected a whole number >= 1");
}

/* The residual blocks' words: ResNet-50's first stage is torchvision's layer1, 215,808 params
 * (75,008 + 70,400 + 70,400); the inverted block at stride 2 halves H and W and has no shortcut. */
Test(spec, residual_block_words_count_like_torchvision) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input 64 56 56\nbottleneck 256 width=64\nbottleneck 256\nbottleneck 256\n", &spec, &err), &err,
          "parse");
  nn_spec_totals t;
  calc_ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, "calc torch");
  cr_assert_eq(t.params, 215808, "ResNet-50 layer1: %ld params, torchvision 215,808", t.params);
  calc_expect_shape(&t.out, 3, 256, 56, 56, "the bottlenecks keep 56 x 56");
  nn_model_spec_free(&spec);
  calc_ok(parse("input 24 56 56\ninvertedresidual 32 stride=2 width=144\nbasicblock 64 stride=2\n", &spec, &err),
          &err, "parse");
  calc_ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, "calc torch");
  long inverted = 24 * 144 + 9 * 144 + 144 * 32 + 2 * (2 * 144 + 32); /* 10,000 */
  long basic = 9 * 32 * 64 + 9 * 64 * 64 + 32 * 64 + 3 * 2 * 64;     /* with the projection */
  cr_assert_eq(t.params, inverted + basic, "%ld params, expected %ld + %ld", t.params, inverted, basic);
  calc_expect_shape(&t.out, 3, 64, 14, 14, "two stride-2 blocks: 56 -> 28 -> 14");
  nn_model_spec_free(&spec);
  expect_parse_error("input 8 9 9\nbottleneck 16 groups=2\n", "m.txt:2: ", "bottleneck takes: stride, width");
  calc_ok(parse("input 8 9 9\nbasicblock 0\n", &spec, &err), &err, "parse"); /* parses; the count refuses it */
  cr_assert_neq(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), NN_OK, "basicblock 0 was counted");
  cr_assert(strstr(err.msg, "BasicBlock: out channels 0") && strstr(err.msg, "must be at least 1"), "%s", err.msg);
  nn_model_spec_free(&spec);
}

Test(spec, a_byte_order_mark_is_skipped) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("\xEF\xBB\xBFinput 1 28 28\nflatten\n", &spec, &err), &err, "parse with a UTF-8 BOM");
  cr_assert_eq(spec.count, 2);
  nn_model_spec_free(&spec);
}

/* A product of sizes that overflows a long must be refused, never printed wrapped. */
Test(spec, a_flatten_too_large_for_an_int_is_refused) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input 536870911 536870911 536870911\nflatten\ndense 10\n", &spec, &err), &err, "parse");
  nn_spec_totals t;
  nn_status st = nn_model_spec_calc(&spec, TORCH, NULL, &t, &err);
  cr_assert_eq(st, NN_ERR_ARG, "got %s", err.msg);
  cr_assert(strstr(err.msg, "m.txt:2: Flatten:") && strstr(err.msg, "more values than an int holds (2147483647"),
            "%s", err.msg);
  nn_model_spec_free(&spec);
}

Test(spec, aliases_and_defaults_come_from_the_table) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input seq 10 8\nrnn 4 return_sequences=1\nlstm 4 bias=0\nlinear 5\n"
           "transformer_encoder 1 dim_feedforward=32\n", &spec, &err), &err, "parse");
  cr_assert_eq(spec.layers[1].rnn.kind, NN_RNN_SIMPLE, "rnn is simple_rnn");
  cr_assert(spec.layers[1].rnn.return_sequences);
  cr_assert_eq(spec.layers[1].rnn.num_layers, 1, "one layer unless layers= says more");
  cr_assert_eq(spec.layers[2].rnn.kind, NN_RNN_LSTM);
  cr_assert(spec.layers[2].rnn.no_bias, "bias=0 clears the bias");
  cr_assert(spec.layers[3].bias, "dense (linear) keeps its bias unless bias=0");
  cr_assert_eq(spec.layers[4].ff, 32, "dim_feedforward is ff");
  nn_model_spec_free(&spec);
  calc_ok(parse("input 3 9 9\nmaxpool2d 3 ceil_mode=1\nconv2d 4 kernel=3\n", &spec, &err), &err, "parse");
  cr_assert(spec.layers[1].pool.ceil_mode, "ceil_mode is ceil");
  cr_assert_eq(spec.layers[1].pool.stride, 0, "no stride=: 0, the calculator's \"= kernel\"");
  cr_assert_eq(spec.layers[2].conv.stride, 1);
  cr_assert_eq(spec.layers[2].conv.groups, 1);
  nn_model_spec_free(&spec);
}

Test(spec, calc_errors_name_the_line) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input 1 5 5\nconv2d 8 kernel=3\nconv2d 8 kernel=5\n", &spec, &err), &err, "parse");
  nn_spec_totals t;
  nn_status st = nn_model_spec_calc(&spec, TORCH, NULL, &t, &err);
  cr_assert_eq(st, NN_ERR_ARG);
  cr_assert(strstr(err.msg, "m.txt:3: Conv2d: kernel 5 is larger than the padded input 3"), "%s", err.msg);
  nn_model_spec_free(&spec);
}

Test(spec, print_has_the_totals) {
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input 3 32 32\nconv2d 16 kernel=3\nbatchnorm\nflatten\ndense 10\n", &spec, &err), &err, "parse");
  for (int fw = 0; fw < 2; fw++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    calc_ok(nn_model_spec_print(&spec, fw, f, &err), &err, "print");
    fclose(f);
    /* conv 448, bn 64 (Keras) or 32 (PyTorch), dense 16*30*30*10 + 10 = 144,010 */
    if (fw == KERAS) {
      cr_assert(strstr(buf, "Total params: 144,522\n"), "%s", buf);
      cr_assert(strstr(buf, "Trainable params: 144,490\n"), "%s", buf);
      cr_assert(strstr(buf, "Non-trainable params: 32\n"), "%s", buf);
      cr_assert(strstr(buf, "(None, 30, 30, 16)"), "%s", buf);
    } else {
      cr_assert(strstr(buf, "Total params: 144,490\n"), "%s", buf);
      cr_assert(strstr(buf, "Buffers (state_dict, not parameters): 33\n"), "%s", buf);
      cr_assert(strstr(buf, "(N, 16, 30, 30)"), "%s", buf);
    }
    free(buf);
  }
  nn_model_spec_free(&spec);
}

Test(spec, load_reads_the_example_files) {
  struct { const char *path; long keras, pytorch; } files[] = {
      {"docs/models/cnn_mnist.txt", 34826, 34826},
      {"docs/models/mlp_mnist.txt", 407050, 407050},
      {"docs/models/lstm.txt", 314368 + 2570, 315392 + 2570},
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    nn_model_spec spec;
    nn_error err = {0};
    calc_ok(nn_model_spec_load(files[i].path, &spec, &err), &err, files[i].path);
    nn_spec_totals t;
    calc_ok(nn_model_spec_calc(&spec, KERAS, NULL, &t, &err), &err, files[i].path);
    cr_assert_eq(t.params, files[i].keras, "%s: Keras %ld", files[i].path, t.params);
    calc_ok(nn_model_spec_calc(&spec, TORCH, NULL, &t, &err), &err, files[i].path);
    cr_assert_eq(t.params, files[i].pytorch, "%s: PyTorch %ld", files[i].path, t.params);
    nn_model_spec_free(&spec);
  }
  nn_model_spec spec;
  nn_error err = {0};
  cr_assert_eq(nn_model_spec_load("docs/models/no-such-file.txt", &spec, &err), NN_ERR_IO, "%s", err.msg);
}

/* The lines of text, as an array (free the text, then the array). */
static char **lines_of(char *text, int *n) {
  char **lines = calloc(strlen(text) + 1, sizeof *lines);
  *n = 0;
  for (char *p = strtok(text, "\n"); p; p = strtok(NULL, "\n")) lines[(*n)++] = p;
  return lines;
}

/* One printer for both: the 784-512-10 MLP built (nn_model_summary) and written as a spec
 * (nn_model_spec_print, PyTorch's conventions, the course's) give the same header, the same
 * shapes and counts row for row (the spec has an input row first), and the same totals. */
Test(spec, print_and_a_built_models_summary_are_one_table) {
  nn_rng rng = nn_rng_new(1);
  nn_model *m = nn_model_new("mlp", 1, (int[]){784});
  nn_model_add(m, &nn_dense_new("dense1", 784, 512, NN_INIT_HE, &rng)->base);
  nn_model_add(m, nn_activation_layer_new("relu1", nn_activation_of(NN_ACT_RELU)));
  nn_model_add(m, &nn_dense_new("dense2", 512, 10, NN_INIT_XAVIER, &rng)->base);
  char *built = NULL, *written = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&built, &len);
  nn_model_summary(m, f);
  fclose(f);
  nn_model_spec spec;
  nn_error err = {0};
  calc_ok(parse("input 784\ndense 512\nrelu\ndense 10\n", &spec, &err), &err, "parse");
  f = open_memstream(&written, &len);
  calc_ok(nn_model_spec_print(&spec, TORCH, f, &err), &err, "print");
  fclose(f);
  cr_assert(strstr(written, "Total params: 407,050\n"), "%s", written);
  int nb, nw; /* (lines_of cuts the texts into lines) */
  char **b = lines_of(built, &nb), **w = lines_of(written, &nw);
  cr_assert_eq(nb + 1, nw, "the spec's table has its input row more: %d lines and %d", nb, nw);
  for (int i = 1; i < 4; i++) cr_assert_str_eq(b[i], w[i], "header line %d", i);
  for (int i = 4; i < 4 + m->count; i++) /* the name column is 1 + 34 wide; then shape, params, trainable */
    cr_assert_str_eq(b[i] + 36, w[i + 1] + 36, "row %d: %s vs %s", i - 3, b[i], w[i + 1]);
  for (int i = 4 + m->count; i < nb; i++) cr_assert_str_eq(b[i], w[i + 1], "the totals' line %d", i);
  free(b), free(w), free(built), free(written);
  nn_model_spec_free(&spec);
  nn_model_free(m);
}
