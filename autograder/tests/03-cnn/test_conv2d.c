/* Conv2d: a forward by hand, im2col by hand, im2col + GEMM against the naive
 * seven-loop convolution, col2im as the adjoint of im2col, backward accumulation,
 * finite-difference checks (every input and parameter) with stride, padding and
 * dilation, 'same' padding, shapes and parameter counts against nn_shapes, and
 * the aborts on bad inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "nn_conv2d.h"
#include "nn_gradcheck.h"
#include "nn_im2col.h"
#include "nn_parallel.h"
#include "nn_shapes.h"

/* A layer named "conv1" from cfg, with biases drawn from N(0, 1) (they start at 0). */
static nn_conv2d *make(nn_conv2d_config cfg, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_conv2d *c = nn_conv2d_new("conv1", &cfg, &rng);
  if (c->has_bias) nn_rng_fill_normal(&rng, c->b.data, c->F, 0.f, 1.f);
  return c;
}

/* y for input x, shaped by the layer's out_shape: (N, F, Ho, Wo). */
static nn_tensor output_for(nn_conv2d *c, const nn_tensor *x) {
  int out[NN_MAX_DIMS];
  int nd = c->base.ops->out_shape(&c->base, x->shape + 1, x->ndim - 1, out);
  cr_assert_eq(nd, 3, "out_shape gave %d axes, expected (F, Ho, Wo)", nd);
  return nn_tensor_new(4, (int[]){x->shape[0], out[0], out[1], out[2]}, NN_CPU);
}

static void free_layer(nn_conv2d *c) { c->base.ops->free(&c->base); }

Test(conv2d, forward_by_hand) {
  /* x (1, 1, 3, 3) = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], W (1, 1, 2, 2) = [[1, 2], [-1, 0.5]], b = 0.5,
   * stride 1, valid: y is 2x2, each entry the window times W plus b:
   *   y[0][0] = 1*1 + 2*2 - 1*4 + 0.5*5 + 0.5 =  4
   *   y[0][1] = 1*2 + 2*3 - 1*5 + 0.5*6 + 0.5 =  6.5   (one step right adds 1 + 2 - 1 + 0.5 = 2.5)
   *   y[1][0] = 1*4 + 2*5 - 1*7 + 0.5*8 + 0.5 = 11.5   (one step down adds 3 * 2.5 = 7.5)
   *   y[1][1] = 1*5 + 2*6 - 1*8 + 0.5*9 + 0.5 = 14 */
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 1, .filters = 1, .kernel = 2}, 1);
  memcpy(c->W.data, (float[]){1, 2, -1, 0.5f}, 4 * sizeof(float));
  c->b.data[0] = 0.5f;
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 3, 3}, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9});
  nn_tensor y = output_for(c, &x), y_naive = output_for(c, &x);
  cr_assert(y.shape[2] == 2 && y.shape[3] == 2, "y is %s, expected (1, 1, 2, 2)", nn_shape_str(&y).s);
  nn_conv2d_forward(c, &x, &y);
  nn_conv2d_forward_naive(c, &x, &y_naive);
  const float want[4] = {4, 6.5f, 11.5f, 14};
  for (int i = 0; i < 4; i++) {
    cr_assert_float_eq(y.data[i], want[i], 1e-5f, "im2col + GEMM: y[%d][%d] = %g, expected %g", i / 2, i % 2,
                       y.data[i], want[i]);
    cr_assert_float_eq(y_naive.data[i], want[i], 1e-5f, "naive: y[%d][%d] = %g, expected %g", i / 2, i % 2,
                       y_naive.data[i], want[i]);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y_naive);
  free_layer(c);
}

Test(im2col, by_hand_with_padding_1) {
  /* x (1, 2, 2) = [[1, 2], [3, 4]], 3x3 kernel, padding 1, stride 1: Ho = Wo = (2 + 2 - 3) + 1 = 2.
   * Padded, x is the 4x4 P below; row (i, j) of cols, column (oh, ow), is P[oh + i][ow + j]:
   *   0 0 0 0      (0,0): 0 0 0 1   (0,1): 0 0 1 2   (0,2): 0 0 2 0
   *   0 1 2 0      (1,0): 0 1 0 3   (1,1): 1 2 3 4   (1,2): 2 0 4 0
   *   0 3 4 0      (2,0): 0 3 0 0   (2,1): 3 4 0 0   (2,2): 4 0 0 0
   *   0 0 0 0 */
  const float x[4] = {1, 2, 3, 4};
  const float want[9][4] = {{0, 0, 0, 1}, {0, 0, 1, 2}, {0, 0, 2, 0}, {0, 1, 0, 3}, {1, 2, 3, 4},
                            {2, 0, 4, 0}, {0, 3, 0, 0}, {3, 4, 0, 0}, {4, 0, 0, 0}};
  nn_conv_geom g = nn_conv_geom_make(1, 2, 2, 3, 3, 1, 1, 1, 1);
  cr_assert(g.Ho == 2 && g.Wo == 2, "Ho x Wo = %d x %d, expected 2 x 2", g.Ho, g.Wo);
  float cols[9][4];
  memset(cols, 0x7f, sizeof cols); /* garbage: im2col must write every entry, padding included */
  nn_im2col(x, &g, &cols[0][0]);
  for (int r = 0; r < 9; r++)
    for (int p = 0; p < 4; p++)
      cr_assert_eq(cols[r][p], want[r][p], "cols[(i=%d, j=%d)][(oh=%d, ow=%d)] = %g, expected %g", r / 3, r % 3,
                   p / 2, p % 2, cols[r][p], want[r][p]);
}

typedef struct {
  int N, C, H, W, F, kh, kw, stride;
  nn_pad_mode pad;
  int padding, dilation;
} conv_case;

static nn_conv2d_config config_of(const conv_case *k) {
  return (nn_conv2d_config){.in_channels = k->C, .filters = k->F, .kh = k->kh, .kw = k->kw, .stride = k->stride,
                            .pad = k->pad, .padding = k->padding, .dilation = k->dilation};
}

Test(im2col, gemm_matches_the_naive_conv) {
  const conv_case cases[] = {
      {2, 3, 7, 9, 4, 3, 3, 1, NN_PAD_VALID, 0, 1},    /* plain 3x3, odd sizes */
      {2, 3, 9, 7, 4, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1}, /* stride 2, padding 1 */
      {1, 3, 11, 10, 4, 3, 3, 1, NN_PAD_EXPLICIT, 2, 2}, /* dilation 2 */
      {2, 2, 8, 7, 5, 4, 4, 1, NN_PAD_SAME, 0, 1},     /* even kernel, 'same': the extra zero below/right */
      {1, 3, 13, 9, 4, 5, 3, 2, NN_PAD_EXPLICIT, 1, 2}, /* 5x3 kernel, stride 2, padding 1, dilation 2 */
      {3, 4, 5, 5, 3, 1, 1, 1, NN_PAD_VALID, 0, 1},    /* 1x1: a per-pixel Dense */
      {2, 1, 6, 6, 2, 3, 3, 3, NN_PAD_EXPLICIT, 1, 1}, /* stride 3 */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const conv_case *t = &cases[k];
    nn_conv2d *c = make(config_of(t), 100 + k);
    nn_tensor x = nn_tensor_randn(4, (int[]){t->N, t->C, t->H, t->W}, 200 + k);
    nn_tensor y = output_for(c, &x), y_naive = output_for(c, &x);
    nn_conv2d_forward(c, &x, &y);
    nn_conv2d_forward_naive(c, &x, &y_naive);
    double max_err = 0;
    long at = 0;
    for (long i = 0; i < nn_numel(&y); i++) {
      double e = fabs((double)y.data[i] - y_naive.data[i]);
      if (e > max_err) max_err = e, at = i;
    }
    cr_log_info("%s on x %s -> y %s: max |im2col+GEMM - naive| = %.3g", c->base.name, nn_shape_str(&x).s,
                nn_shape_str(&y).s, max_err);
    cr_assert(max_err < 1e-4, "case %zu: x %s, kernel %dx%d, stride %d, pad %s %d, dilation %d: y[%ld] = %g by "
              "im2col + GEMM but %g by the naive loops (max error %.3g)", k, nn_shape_str(&x).s, t->kh, t->kw,
              t->stride, nn_pad_mode_name(t->pad), t->padding, t->dilation, at, y.data[at], y_naive.data[at],
              max_err);
    nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y_naive);
    free_layer(c);
  }
}

Test(im2col, col2im_is_the_adjoint) {
  /* <im2col(x), c> = <x, col2im(c)> for random x and c, summed in double */
  const nn_conv_geom geoms[] = {
      nn_conv_geom_make(2, 5, 6, 3, 3, 1, 1, 1, 1),
      nn_conv_geom_make(3, 9, 7, 3, 3, 2, 1, 0, 1),
      nn_conv_geom_make(2, 9, 9, 3, 2, 1, 2, 1, 2),
      nn_conv_geom_make(1, 7, 8, 2, 4, 3, 0, 2, 1),
  };
  for (size_t k = 0; k < sizeof geoms / sizeof geoms[0]; k++) {
    const nn_conv_geom *g = &geoms[k];
    long nx = (long)g->C * g->H * g->W, nc = nn_conv_geom_rows(g) * nn_conv_geom_cols(g);
    nn_tensor x = nn_tensor_randn(1, (int[]){(int)nx}, 300 + k), c = nn_tensor_randn(1, (int[]){(int)nc}, 400 + k);
    nn_tensor cols = nn_tensor_new(1, (int[]){(int)nc}, NN_CPU), back = nn_tensor_new(1, (int[]){(int)nx}, NN_CPU);
    nn_tensor_fill(&back, 1.f); /* col2im adds: start from 1 and take it off again */
    nn_im2col(x.data, g, cols.data);
    nn_col2im(c.data, g, back.data);
    double lhs = 0, rhs = 0, scale = 0;
    for (long i = 0; i < nc; i++)
      lhs += (double)cols.data[i] * c.data[i], scale += fabs((double)cols.data[i] * c.data[i]);
    for (long i = 0; i < nx; i++) rhs += (double)x.data[i] * (back.data[i] - 1.0);
    cr_assert(fabs(lhs - rhs) <= 1e-5 * scale, "geometry %zu (x (%d, %d, %d), kernel %dx%d, stride %d, padding "
              "(%d, %d), dilation %d): <im2col(x), c> = %.9g but <x, col2im(c)> = %.9g", k, g->C, g->H, g->W, g->KH,
              g->KW, g->stride, g->pad_h, g->pad_w, g->dilation, lhs, rhs);
    nn_tensor_free(&x), nn_tensor_free(&c), nn_tensor_free(&cols), nn_tensor_free(&back);
  }
}

Test(conv2d, backward_accumulates) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 2, .filters = 3, .kernel = 3, .stride = 2,
                                         .pad = NN_PAD_EXPLICIT, .padding = 1}, 5);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, 2, 6, 5}, 6), y = output_for(c, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 7), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_conv2d_forward(c, &x, &y);
  nn_conv2d_backward(c, &dy, &dx);
  nn_tensor dW1 = nn_tensor_to(&c->dW, NN_CPU), db1 = nn_tensor_to(&c->db, NN_CPU), dx1 = nn_tensor_to(&dx, NN_CPU);
  nn_conv2d_backward(c, &dy, &dx); /* backward adds: a second call doubles every gradient */
  const struct { const char *name; const nn_tensor *once, *twice; } g[] = {
      {"dW", &dW1, &c->dW}, {"db", &db1, &c->db}, {"dx", &dx1, &dx}};
  for (int k = 0; k < 3; k++) {
    double norm = 0;
    for (long i = 0; i < nn_numel(g[k].once); i++) norm += fabs(g[k].once->data[i]);
    cr_assert(norm > 0, "%s is all zeros after one backward", g[k].name);
    for (long i = 0; i < nn_numel(g[k].once); i++)
      cr_assert_float_eq(g[k].twice->data[i], 2 * g[k].once->data[i], 1e-5f * (1 + fabsf(g[k].once->data[i])),
                         "a second backward must add: %s[%ld] = %g, expected 2 x %g", g[k].name, i,
                         g[k].twice->data[i], g[k].once->data[i]);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  nn_tensor_free(&dW1), nn_tensor_free(&db1), nn_tensor_free(&dx1);
  free_layer(c);
}

/* Every element of x, W and b against central differences. y is linear in each one of
 * them, so (L(v + h) - L(v - h)) / 2h is exact for any h: h = 0.1 only divides the float
 * rounding of the forward pass by more than 1e-2 would. */
static void gradcheck(const conv_case *t, bool no_bias, uint64_t seed) {
  nn_conv2d_config cfg = config_of(t);
  cfg.no_bias = no_bias;
  nn_conv2d *c = make(cfg, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){t->N, t->C, t->H, t->W}, seed + 1);
  nn_gradcheck r = nn_gradcheck_layer(&c->base, &x, 0.1, seed + 2);
  long want = nn_numel(&x) + nn_numel(&c->W) + (no_bias ? 0 : t->F);
  cr_assert_eq(r.checked, want, "checked %ld elements, expected x (%ld) + W (%ld)%s", r.checked, nn_numel(&x),
               nn_numel(&c->W), no_bias ? "" : " + b");
  cr_log_info("gradcheck %s on %s: worst relative error %.2g (%s[%ld])", c->base.name, nn_shape_str(&x).s,
              r.max_rel, r.name, r.index);
  cr_assert(r.max_rel < 1e-3, "kernel %dx%d, stride %d, pad %s %d, dilation %d on x %s: %s[%ld]: analytic %g, "
            "numeric %g (relative error %.2g)", t->kh, t->kw, t->stride, nn_pad_mode_name(t->pad), t->padding,
            t->dilation, nn_shape_str(&x).s, r.name, r.index, r.analytic, r.numeric, r.max_rel);
  nn_tensor_free(&x);
  free_layer(c);
}

Test(conv2d, gradcheck_stride_1_padding_1) {
  gradcheck(&(conv_case){2, 2, 5, 5, 3, 3, 3, 1, NN_PAD_EXPLICIT, 1, 1}, false, 11);
}

Test(conv2d, gradcheck_stride_2) {
  gradcheck(&(conv_case){2, 2, 7, 6, 2, 3, 3, 2, NN_PAD_VALID, 0, 1}, false, 21);
}

Test(conv2d, gradcheck_dilation_2_padding_2) {
  gradcheck(&(conv_case){1, 2, 7, 7, 2, 3, 3, 1, NN_PAD_EXPLICIT, 2, 2}, false, 31);
}

Test(conv2d, gradcheck_same_3x2_kernel_no_bias) {
  gradcheck(&(conv_case){2, 1, 5, 4, 3, 3, 2, 1, NN_PAD_SAME, 0, 1}, true, 41);
}

Test(conv2d, same_padding_keeps_h_and_w) {
  const conv_case cases[] = {
      {1, 2, 7, 6, 3, 3, 3, 1, NN_PAD_SAME, 0, 1},
      {1, 2, 7, 6, 3, 4, 4, 1, NN_PAD_SAME, 0, 1}, /* even: 1 zero above/left, 2 below/right */
      {1, 2, 9, 8, 3, 5, 2, 1, NN_PAD_SAME, 0, 2}, /* dilation 2 */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const conv_case *t = &cases[k];
    nn_conv2d *c = make(config_of(t), 50 + k);
    int out[NN_MAX_DIMS];
    c->base.ops->out_shape(&c->base, (int[]){t->C, t->H, t->W}, 3, out);
    cr_assert(out[0] == t->F && out[1] == t->H && out[2] == t->W, "'same' with a %dx%d kernel, dilation %d on "
              "(N, %d, %d, %d) gives (N, %d, %d, %d), expected (N, %d, %d, %d)", t->kh, t->kw, t->dilation, t->C,
              t->H, t->W, out[0], out[1], out[2], t->F, t->H, t->W);
    free_layer(c);
  }
}

Test(conv2d, same_padding_with_stride_2_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  /* "padding 'same' works with stride 1 only (as PyTorch's)" */
  nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 1, .filters = 4, .kernel = 3, .stride = 2,
                                               .pad = NN_PAD_SAME}, &rng);
}

/* out_shape and the parameter count of a layer on (C, H, W), and what nn_shapes
 * (the `nn exam` calculator) says for the same layer. */
static void check_seed_layer(int C, int H, int W, int F, long params, int Ho) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = C, .filters = F, .kernel = 3}, 9);
  int out[NN_MAX_DIMS];
  int nd = c->base.ops->out_shape(&c->base, (int[]){C, H, W}, 3, out);
  cr_assert(nd == 3 && out[0] == F && out[1] == Ho && out[2] == Ho, "Conv2d(%d -> %d, 3x3) on (N, %d, %d, %d) "
            "gives (N, %d, %d, %d), expected (N, %d, %d, %d)", C, F, C, H, W, out[0], out[1], out[2], F, Ho, Ho);
  cr_assert_eq(nn_layer_param_count(&c->base), params, "Conv2d(%d -> %d, 3x3) has %ld params, expected "
               "3*3*%d*%d + %d = %ld", C, F, nn_layer_param_count(&c->base), C, F, F, params);
  nn_shape in = nn_shape_image(C, H, W);
  nn_conv_opts o = nn_conv_opts_default(F, 3);
  nn_calc calc;
  nn_error err;
  cr_assert_eq(nn_calc_conv2d(&in, &o, NN_PYTORCH, &calc, &err), NN_OK, "nn_calc_conv2d: %s", err.msg);
  cr_assert(calc.params == params && calc.out.dim[0] == out[0] && calc.out.dim[1] == out[1] &&
                calc.out.dim[2] == out[2],
            "the layer and nn_shapes disagree: %ld params and (%d, %d, %d) vs %ld and (%d, %d, %d)", params, out[0],
            out[1], out[2], calc.params, calc.out.dim[0], calc.out.dim[1], calc.out.dim[2]);
  free_layer(c);
}

Test(conv2d, seed_cnn_shapes_and_parameter_counts) {
  check_seed_layer(1, 28, 28, 32, 320, 26);     /* (3*3*1 + 1) * 32 = 320 */
  check_seed_layer(32, 13, 13, 64, 18496, 11);  /* (3*3*32 + 1) * 64 = 18,496, after a 2x2 max pool */
}

Test(conv2d, he_init_statistics) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 32, .filters = 64, .kernel = 3}, 3);
  double sum = 0, sq = 0, fan_in = 32 * 3 * 3;
  long n = nn_numel(&c->W);
  for (long i = 0; i < n; i++) sum += c->W.data[i], sq += (double)c->W.data[i] * c->W.data[i];
  double var = sq / n - (sum / n) * (sum / n);
  cr_assert(fabs(var - 2 / fan_in) < 0.05 * 2 / fan_in, "He init: variance %g, expected 2 / (3*3*32) = %g", var,
            2 / fan_in);
  free_layer(c);
}

Test(conv2d, workspace_is_allocated_once) {
  /* per thread: im2col (C*KH*KW, Ho*Wo) = (18, 36), a partial dW (F, C*KH*KW) = (3, 18) and db (3) */
  const long per_thread = 2L * 3 * 3 * 6 * 6 + 3L * 2 * 3 * 3 + 3;
  nn_set_threads(2);
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 2, .filters = 3, .kernel = 3}, 4);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, 2, 8, 8}, 1), y = output_for(c, &x);
  nn_conv2d_forward(c, &x, &y);
  const float *first = c->cols;
  cr_assert_eq(c->cols_cap, 2 * per_thread, "on 2 threads the workspace holds %ld floats, expected 2 x (C*KH*KW x "
               "Ho*Wo + F x C*KH*KW + F) = %ld", c->cols_cap, 2 * per_thread);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 2);
  nn_conv2d_backward(c, &dy, NULL);
  nn_conv2d_forward(c, &x, &y);
  cr_assert(c->cols == first, "the same input size must reuse the workspace");
  nn_tensor small = nn_tensor_randn(4, (int[]){1, 2, 5, 5}, 3), ys = output_for(c, &small);
  nn_conv2d_forward(c, &small, &ys);
  cr_assert(c->cols == first && c->cols_cap == 2 * per_thread, "a smaller input must reuse the workspace");
  nn_set_threads(3);
  nn_conv2d_forward(c, &x, &y);
  cr_assert_eq(c->cols_cap, 3 * per_thread, "after nn_set_threads(3) the workspace holds %ld floats, expected "
               "3 x %ld", c->cols_cap, per_thread);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&small), nn_tensor_free(&ys);
  free_layer(c);
}

/* The images of a batch spread over the threads (a batch this large: a tiny one stays on
 * one thread). 5 images on 1, 2 and 3 threads (an uneven split): y and dx are the same bits, since each image is the same computation
 * on whichever thread; dW and db add the threads' partial sums, so only their rounding
 * may differ. */
Test(conv2d, any_number_of_threads_gives_the_one_thread_answer) {
  const nn_conv2d_config cfg = {.in_channels = 8, .filters = 8, .kernel = 3, .stride = 2, .pad = NN_PAD_EXPLICIT,
                                .padding = 1};
  /* 5 x 8 filters x (8*3*3) x (8*8 positions) = 184,320 multiply-adds >= NN_PARALLEL_MIN_WORK */
  nn_tensor x = nn_tensor_randn(4, (int[]){5, 8, 16, 15}, 31), y[3], dx[3], dW[3], db[3];
  for (int k = 0; k < 3; k++) {
    nn_set_threads(k + 1);
    nn_conv2d *c = make(cfg, 30);
    y[k] = output_for(c, &x), dx[k] = nn_tensor_new(4, x.shape, NN_CPU);
    nn_tensor dy = nn_tensor_randn(4, y[k].shape, 32);
    nn_conv2d_forward(c, &x, &y[k]);
    nn_conv2d_backward(c, &dy, &dx[k]);
    dW[k] = nn_tensor_to(&c->dW, NN_CPU), db[k] = nn_tensor_to(&c->db, NN_CPU);
    nn_tensor_free(&dy);
    free_layer(c);
  }
  for (int k = 1; k < 3; k++) {
    const struct { const char *name; const nn_tensor *got, *want; float tol; } g[] = {
        {"y", &y[k], &y[0], 0.f}, {"dx", &dx[k], &dx[0], 0.f}, {"dW", &dW[k], &dW[0], 1e-5f}, {"db", &db[k], &db[0], 1e-5f}};
    for (int m = 0; m < 4; m++)
      for (long i = 0; i < nn_numel(g[m].want); i++)
        cr_assert_float_eq(g[m].got->data[i], g[m].want->data[i], g[m].tol * (1 + fabsf(g[m].want->data[i])),
                           "on %d threads %s[%ld] = %.9g, on 1 thread %.9g", k + 1, g[m].name, i, g[m].got->data[i],
                           g[m].want->data[i]);
  }
  for (int k = 0; k < 3; k++) nn_tensor_free(&y[k]), nn_tensor_free(&dx[k]), nn_tensor_free(&dW[k]), nn_tensor_free(&db[k]);
  nn_tensor_free(&x);
}

Test(conv2d, kernel_larger_than_the_padded_input_aborts, .signal = SIGABRT) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 1, .filters = 4, .kernel = 5, .pad = NN_PAD_EXPLICIT,
                                         .padding = 1}, 1);
  int out[NN_MAX_DIMS];
  /* "conv1: Conv2d(1 -> 4, 5x5, padding 1) on (N, 1, 2, 2), along H: conv: kernel 5 is larger than the
   * padded input 4 (2 + 2*1); use padding or a smaller kernel" */
  c->base.ops->out_shape(&c->base, (int[]){1, 2, 2}, 3, out);
}

Test(conv2d, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 1, .filters = 32, .kernel = 3}, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){2, 3, 28, 28}, NN_CPU), y = nn_tensor_new(4, (int[]){2, 32, 26, 26}, NN_CPU);
  /* "nn_conv2d_forward: conv1: Conv2d(1 -> 32, 3x3) takes (N, 1, H, W) inputs, got (2, 3, 28, 28)" */
  nn_conv2d_forward(c, &x, &y);
}

Test(conv2d, gpu_input_with_cpu_weights_aborts, .signal = SIGABRT) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 1, .filters = 2, .kernel = 3}, 1);
  float host[2 * 16];
  nn_tensor x = {.data = host, .shape = {2, 1, 4, 4}, .ndim = 4, .device = NN_GPU}; /* labelled GPU; never read */
  nn_tensor y = nn_tensor_new(4, (int[]){2, 2, 2, 2}, NN_CPU);
  /* x on the GPU, the weights on the CPU: a mix, refused before x's data is touched */
  nn_conv2d_forward(c, &x, &y);
}
