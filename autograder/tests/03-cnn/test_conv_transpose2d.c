/* ConvTranspose2d: the "stamps" by hand (stride 2, no overlap; stride 1, overlapping),
 * values PyTorch computed, the fast path against the naive stamping loops, the adjoint
 * identity <ConvT(x), z> = <x, Conv2d(z)> with shared weights, output sizes against the
 * formula and nn_shapes, finite-difference checks (every input and parameter) over
 * stride, padding, output_padding and dilation, backward accumulation, the parameter
 * count, the init, the workspace, and the aborts on bad inputs. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#include "nn_conv2d.h"
#include "nn_conv_transpose2d.h"
#include "nn_gradcheck.h"
#include "nn_conv_shapes.h"

typedef struct {
  int N, C_in, H, W, C_out, kh, kw, stride, padding, output_padding, dilation;
} convt_case;

static nn_conv_transpose2d_config config_of(const convt_case *k) {
  return (nn_conv_transpose2d_config){.in_channels = k->C_in, .out_channels = k->C_out, .kh = k->kh, .kw = k->kw,
                                      .stride = k->stride, .padding = k->padding,
                                      .output_padding = k->output_padding, .dilation = k->dilation};
}

/* A layer named "up1" from cfg, with biases drawn from N(0, 1) (they start at 0). */
static nn_conv_transpose2d *make(nn_conv_transpose2d_config cfg, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_conv_transpose2d *t = nn_conv_transpose2d_new("up1", &cfg, &rng);
  if (t->has_bias) nn_rng_fill_normal(&rng, t->b.data, t->C_out, 0.f, 1.f);
  return t;
}

/* y for input x, shaped by the layer's out_shape: (N, C_out, Ho, Wo). */
static nn_tensor output_for(nn_conv_transpose2d *t, const nn_tensor *x) {
  int out[NN_MAX_DIMS];
  int nd = t->base.ops->out_shape(&t->base, x->shape + 1, x->ndim - 1, out);
  cr_assert_eq(nd, 3, "out_shape gave %d axes, expected (C_out, Ho, Wo)", nd);
  return nn_tensor_new(4, (int[]){x->shape[0], out[0], out[1], out[2]}, NN_CPU);
}

static void free_layer(nn_conv_transpose2d *t) { t->base.ops->free(&t->base); }

/* One application of a layer: its workspace comes from ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws) { return (nn_call){.arena = ws, .training = true}; }

/* Runs the layer (fast and naive) on x and compares both with want (numel floats). */
static void check_forward(nn_conv_transpose2d *t, const nn_tensor *x, const float *want, long numel, float tol) {
  nn_tensor y = output_for(t, x), y_naive = output_for(t, x);
  cr_assert_eq(nn_numel(&y), numel, "y is %s: %ld values, expected %ld", nn_shape_str(&y).s, nn_numel(&y), numel);
  nn_tensor_fill(&y, 1e9f); /* garbage: forward must overwrite every value, not add to it */
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_conv_transpose2d_forward(t, &c, x, &y);
  nn_conv_transpose2d_forward_naive(t, x, &y_naive);
  for (long i = 0; i < numel; i++) {
    cr_assert_float_eq(y.data[i], want[i], tol, "GEMM + col2im: y[%ld] = %g, expected %g (y %s)", i, y.data[i],
                       want[i], nn_shape_str(&y).s);
    cr_assert_float_eq(y_naive.data[i], want[i], tol, "naive: y[%ld] = %g, expected %g", i, y_naive.data[i],
                       want[i]);
  }
  nn_arena_free(ws);
  nn_tensor_free(&y), nn_tensor_free(&y_naive);
}

Test(conv_transpose2d, stamps_by_hand_stride_2) {
  /* x (1, 1, 2, 2) = [[1, 2], [3, 4]], K (1, 1, 2, 2) = [[1, 10], [100, 1000]], b = 0.5, stride 2:
   * Ho = (2-1)*2 - 0 + 1*(2-1) + 0 + 1 = 4. Each pixel x[h][w] stamps x[h][w] * K at (2h, 2w);
   * stride 2 = kernel 2, so the stamps tile y without overlapping:
   *      1   10 |    2   20         +0.5 everywhere:    1.5    10.5    2.5    20.5
   *    100 1000 |  200 2000                           100.5  1000.5  200.5  2000.5
   *    ---------+----------                             3.5    30.5    4.5    40.5
   *      3   30 |    4   40                           300.5  3000.5  400.5  4000.5
   *    300 3000 |  400 4000 */
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 1, .kernel = 2,
                                                             .stride = 2}, 1);
  memcpy(t->W.data, (float[]){1, 10, 100, 1000}, 4 * sizeof(float));
  t->b.data[0] = 0.5f;
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  const float want[16] = {1.5f,   10.5f,   2.5f,   20.5f,   100.5f, 1000.5f, 200.5f, 2000.5f,
                          3.5f,   30.5f,   4.5f,   40.5f,   300.5f, 3000.5f, 400.5f, 4000.5f};
  check_forward(t, &x, want, 16, 1e-4f);
  nn_tensor_free(&x);
  free_layer(t);
}

Test(conv_transpose2d, overlapping_stamps_add_by_hand_stride_1) {
  /* The same x and K, no bias, stride 1: Ho = (2-1)*1 + 1 + 1 = 3. The stamps sit one pixel
   * apart and overlap; where they do, they add:
   *   y[0][0] = 1*1                                  =    1
   *   y[0][1] = 1*10 + 2*1                           =   12
   *   y[0][2] = 2*10                                 =   20
   *   y[1][0] = 1*100 + 3*1                          =  103
   *   y[1][1] = 1*1000 + 2*100 + 3*10 + 4*1          = 1234   (all four stamps)
   *   y[1][2] = 2*1000 + 4*10                        = 2040
   *   y[2][0] = 3*100 = 300, y[2][1] = 3*1000 + 4*100 = 3400, y[2][2] = 4*1000 = 4000 */
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 1, .kernel = 2,
                                                             .no_bias = true}, 1);
  memcpy(t->W.data, (float[]){1, 10, 100, 1000}, 4 * sizeof(float));
  nn_tensor x = nn_tensor_from(4, (int[]){1, 1, 2, 2}, (float[]){1, 2, 3, 4});
  const float want[9] = {1, 12, 20, 103, 1234, 2040, 300, 3400, 4000};
  check_forward(t, &x, want, 9, 1e-3f);
  nn_tensor_free(&x);
  free_layer(t);
}

/* The inputs the PyTorch reference used: value i of a tensor is ((i*a) % m - off) / div. */
static void fill_pattern(float *v, long n, int a, int m, int off, float div) {
  for (long i = 0; i < n; i++) v[i] = (float)((i * a) % m - off) / div;
}

/* x[i] = ((7i) % 11 - 5) / 4, W[i] = ((5i) % 13 - 6) / 8, b[o] = (o - 1) / 4, and y from
 *   torch.nn.functional.conv_transpose2d(x, W, b, stride=s, padding=p, output_padding=op,
 *                                        dilation=d)       (PyTorch 1.13, float64)
 * Every value is a multiple of 1/32, exact in float. */
static void check_against_torch(const convt_case *k, const float *want, long numel) {
  nn_conv_transpose2d *t = make(config_of(k), 1);
  fill_pattern(t->W.data, nn_numel(&t->W), 5, 13, 6, 8);
  for (int o = 0; o < k->C_out; o++) t->b.data[o] = (float)(o - 1) / 4;
  nn_tensor x = nn_tensor_new(4, (int[]){k->N, k->C_in, k->H, k->W}, NN_CPU);
  fill_pattern(x.data, nn_numel(&x), 7, 11, 5, 4);
  check_forward(t, &x, want, numel, 1e-5f);
  nn_tensor_free(&x);
  free_layer(t);
}

Test(conv_transpose2d, matches_torch_stride_2_padding_1_output_padding_1) {
  /* ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1) on (1, 2, 2, 3) -> (1, 2, 4, 6) */
  const float want[48] = {
      -0.40625, -0.8125,  -0.1875,  1,       -0.3125,  -1.25,    -0.8125,  0.1875,   -0.03125, -0.40625,
      -0.28125, -0.03125, -0.09375, 1.1875,  -0.21875, 0.9375,   -0.34375, -1.59375, 0.40625,  -1.5625,
      -0.21875, 0.4375,   -0.84375, 1.15625, 1.6875,   0.03125,  -0.375,   -0.3125,  -0.375,   0.3125,
      1.15625,  -0.71875, -0.21875, -0.375,  -0.21875, 0.84375,  -0.375,   -0.3125,  -0.375,   -0.3125,
      -0.375,   0.40625,  -1.09375, 0.1875,  0.03125,  -0.8125,  1.15625,  -0.09375};
  check_against_torch(&(convt_case){1, 2, 2, 3, 2, 3, 3, 2, 1, 1, 1}, want, 48);
}

Test(conv_transpose2d, matches_torch_2x3_kernel_dilation_2_output_padding_1) {
  /* ConvTranspose2d(1, 2, (2, 3), stride=1, padding=1, output_padding=1, dilation=2) on (1, 1, 3, 3)
   * -> (1, 2, 4, 6). output_padding 1 >= stride 1 is allowed because dilation is 2. */
  const float want[48] = {
      -0.4375, 0.15625,  -0.28125, 0.46875,  -0.125,   -0.625,   -0.5,    0.46875,  -0.1875,  -0.625,
      0.125,   -1.125,   -0.375,   0.28125,  -0.21875, 0.59375,  -0.0625, -0.8125,  -0.25,    0.375,
      -0.25,   0.375,    -0.25,    -1,       -0.0625,  0.65625,  0.09375, -1.0625,  -0.15625, 0.46875,
      0,       -0.15625, 0.3125,   -0.84375, -0.1875,  0.8125,   0,       0.78125,  0.15625,  -0.9375,
      -0.09375, 0.28125, 0,        0.625,    0,        -1,       0,       0.375};
  check_against_torch(&(convt_case){1, 1, 3, 3, 2, 2, 3, 1, 1, 1, 2}, want, 48);
}

static const convt_case CASES[] = {
    /* N C_in H W C_out kh kw s p op d */
    {2, 3, 4, 5, 2, 3, 3, 1, 0, 0, 1},  /* stride 1: a 'full' convolution */
    {2, 3, 4, 3, 4, 4, 4, 2, 1, 0, 1},  /* the DCGAN upsampler: k 4, s 2, p 1 doubles H and W */
    {1, 2, 5, 4, 3, 3, 3, 2, 1, 1, 1},  /* k 3, s 2, p 1, op 1: also doubles */
    {2, 2, 3, 4, 2, 3, 2, 3, 0, 2, 1},  /* stride 3, 3x2 kernel, output_padding 2 */
    {1, 2, 4, 4, 2, 3, 3, 1, 2, 0, 2},  /* dilation 2, padding 2 */
    {1, 3, 3, 5, 2, 2, 3, 2, 3, 1, 3},  /* everything at once; padding 3 = d*(KH-1) crops all of H's overhang */
    {3, 4, 2, 2, 5, 1, 1, 1, 0, 0, 1},  /* 1x1: a per-pixel Dense */
};
enum { N_CASES = sizeof CASES / sizeof CASES[0] };

Test(conv_transpose2d, gemm_matches_the_naive_stamps) {
  for (int k = 0; k < N_CASES; k++) {
    const convt_case *c = &CASES[k];
    nn_conv_transpose2d *t = make(config_of(c), 100 + k);
    nn_tensor x = nn_tensor_randn(4, (int[]){c->N, c->C_in, c->H, c->W}, 200 + k);
    nn_tensor y = output_for(t, &x), y_naive = output_for(t, &x);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call call = call_on(ws);
    nn_conv_transpose2d_forward(t, &call, &x, &y);
    nn_conv_transpose2d_forward_naive(t, &x, &y_naive);
    double max_err = 0;
    long at = 0;
    for (long i = 0; i < nn_numel(&y); i++) {
      double e = fabs((double)y.data[i] - y_naive.data[i]);
      if (e > max_err) max_err = e, at = i;
    }
    cr_assert(max_err < 1e-4, "case %d: x %s, kernel %dx%d, stride %d, padding %d, output_padding %d, dilation %d: "
              "y[%ld] = %g by GEMM + col2im but %g by the naive stamps", k, nn_shape_str(&x).s, c->kh, c->kw,
              c->stride, c->padding, c->output_padding, c->dilation, at, y.data[at], y_naive.data[at]);
    nn_arena_free(ws);
    nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y_naive);
    free_layer(t);
  }
}

Test(conv_transpose2d, is_the_adjoint_of_conv2d) {
  /* With W shared, ConvTranspose2d(C_in -> C_out) and Conv2d(C_out -> C_in) (same k, s, p, d,
   * no bias) satisfy <ConvT(x), z> = <x, Conv2d(z)> for every x and z (summed in double).
   * output_padding is < stride here, so that Conv2d maps z's size back to exactly x's. */
  for (int k = 0; k < N_CASES; k++) {
    const convt_case *c = &CASES[k];
    if (c->output_padding >= c->stride) continue;
    nn_conv_transpose2d_config cfg = config_of(c);
    cfg.no_bias = true;
    nn_conv_transpose2d *t = make(cfg, 300 + k);
    nn_rng rng = nn_rng_new(1);
    nn_conv2d *conv = nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = c->C_out, .filters = c->C_in,
                                    .kh = c->kh, .kw = c->kw, .stride = c->stride, .pad = NN_PAD_EXPLICIT,
                                    .padding = c->padding, .dilation = c->dilation, .no_bias = true}, &rng);
    /* ConvT's (C_in, C_out, KH, KW) is Conv2d's (F = C_in, C = C_out, KH, KW): the same floats */
    memcpy(conv->W.data, t->W.data, (size_t)nn_numel(&t->W) * sizeof(float));
    nn_tensor x = nn_tensor_randn(4, (int[]){c->N, c->C_in, c->H, c->W}, 400 + k), y = output_for(t, &x);
    nn_tensor z = nn_tensor_randn(4, y.shape, 500 + k), back = nn_tensor_new(4, x.shape, NN_CPU);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call ct = call_on(ws), cc = call_on(ws);
    nn_conv_transpose2d_forward(t, &ct, &x, &y);
    nn_conv2d_forward(conv, &cc, &z, &back); /* aborts if Conv2d does not map z's size to x's */
    double lhs = 0, rhs = 0, scale = 0;
    for (long i = 0; i < nn_numel(&y); i++) lhs += (double)y.data[i] * z.data[i], scale += fabs(y.data[i] * z.data[i]);
    for (long i = 0; i < nn_numel(&x); i++) rhs += (double)x.data[i] * back.data[i];
    cr_assert(fabs(lhs - rhs) <= 1e-5 * scale, "case %d (x %s, kernel %dx%d, stride %d, padding %d, output_padding "
              "%d, dilation %d): <ConvT(x), z> = %.9g but <x, Conv2d(z)> = %.9g", k, nn_shape_str(&x).s, c->kh,
              c->kw, c->stride, c->padding, c->output_padding, c->dilation, lhs, rhs);
    nn_arena_free(ws);
    nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&z), nn_tensor_free(&back);
    conv->base.ops->free(&conv->base);
    free_layer(t);
  }
}

/* Ho = (H - 1) s - 2p + d (k - 1) + op + 1, written out here, then compared with the layer's
 * out_shape and with nn_shapes' nn_calc_conv_transpose2d (the `nn exam` calculator). */
static int formula(int L, int k, int s, int p, int op, int d) { return (L - 1) * s - 2 * p + d * (k - 1) + op + 1; }

Test(conv_transpose2d, output_shapes_follow_the_formula) {
  const convt_case shapes[] = {
      /* N C_in H W C_out kh kw s p op d */
      {1, 64, 7, 7, 32, 4, 4, 2, 1, 0, 1},    /* 7 -> 14: (7-1)*2 - 2 + 3 + 1 = 14 */
      {1, 64, 7, 7, 32, 3, 3, 2, 1, 1, 1},    /* 7 -> 14: (7-1)*2 - 2 + 2 + 1 + 1 = 14 */
      {1, 64, 7, 7, 32, 3, 3, 2, 1, 0, 1},    /* 7 -> 13: without output_padding */
      {1, 8, 5, 9, 4, 3, 3, 1, 0, 0, 1},      /* stride 1: grows by k - 1 = 2 */
      {1, 8, 5, 9, 4, 5, 3, 3, 2, 2, 1},      /* 5x3 kernel, stride 3, padding 2, op 2 */
      {1, 8, 6, 6, 4, 3, 3, 1, 0, 1, 2},      /* op 1 < dilation 2 with stride 1 */
      {1, 8, 4, 4, 4, 3, 3, 2, 1, 1, 3},      /* dilation 3: (4-1)*2 - 2 + 3*2 + 1 + 1 = 12 */
      {1, 100, 1, 1, 512, 4, 4, 1, 0, 0, 1},  /* a DCGAN generator's first layer: 1x1 -> 4x4 */
  };
  for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
    const convt_case *c = &shapes[k];
    nn_conv_transpose2d *t = make(config_of(c), 60 + k);
    int out[NN_MAX_DIMS];
    int nd = t->base.ops->out_shape(&t->base, (int[]){c->C_in, c->H, c->W}, 3, out);
    int Ho = formula(c->H, c->kh, c->stride, c->padding, c->output_padding, c->dilation);
    int Wo = formula(c->W, c->kw, c->stride, c->padding, c->output_padding, c->dilation);
    cr_assert(nd == 3 && out[0] == c->C_out && out[1] == Ho && out[2] == Wo, "case %zu: kernel %dx%d, stride %d, "
              "padding %d, output_padding %d, dilation %d on (N, %d, %d, %d) gives (N, %d, %d, %d), expected "
              "(N, %d, %d, %d)", k, c->kh, c->kw, c->stride, c->padding, c->output_padding, c->dilation, c->C_in,
              c->H, c->W, out[0], out[1], out[2], c->C_out, Ho, Wo);
    if (c->kh == c->kw) { /* nn_shapes takes square kernels */
      nn_shape in = nn_shape_image(c->C_in, c->H, c->W);
      nn_conv_opts o = nn_conv_opts_default(c->C_out, c->kh);
      o.stride = c->stride, o.pad = NN_PAD_EXPLICIT, o.padding = c->padding, o.dilation = c->dilation;
      o.output_padding = c->output_padding;
      nn_calc calc;
      nn_error err;
      cr_assert_eq(nn_calc_conv_transpose2d(&in, &o, NN_PYTORCH, &calc, &err), NN_OK, "nn_calc: %s", err.msg);
      cr_assert(calc.out.dim[0] == out[0] && calc.out.dim[1] == out[1] && calc.out.dim[2] == out[2] &&
                    calc.params == nn_layer_param_count(&t->base),
                "case %zu: the layer and nn_shapes disagree: (%d, %d, %d), %ld params vs (%d, %d, %d), %ld", k,
                out[0], out[1], out[2], nn_layer_param_count(&t->base), calc.out.dim[0], calc.out.dim[1],
                calc.out.dim[2], calc.params);
    }
    free_layer(t);
  }
}

/* Every element of x, W and b against central differences. y is linear in each, so the
 * difference is exact for any h: h = 0.1 only divides the forward's float rounding less. */
static void gradcheck(const convt_case *c, bool no_bias, uint64_t seed) {
  nn_conv_transpose2d_config cfg = config_of(c);
  cfg.no_bias = no_bias;
  nn_conv_transpose2d *t = make(cfg, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){c->N, c->C_in, c->H, c->W}, seed + 1);
  nn_gradcheck r = nn_gradcheck_layer(&t->base, &x, 0.1, seed + 2);
  long want = nn_numel(&x) + nn_numel(&t->W) + (no_bias ? 0 : c->C_out);
  cr_assert_eq(r.checked, want, "checked %ld elements, expected x (%ld) + W (%ld)%s", r.checked, nn_numel(&x),
               nn_numel(&t->W), no_bias ? "" : " + b");
  cr_log_info("gradcheck %s on %s: worst relative error %.2g (%s)", t->base.name, nn_shape_str(&x).s, r.max_rel,
              nn_gradcheck_where(&r).s);
  cr_assert(r.max_rel < 1e-3, "kernel %dx%d, stride %d, padding %d, output_padding %d, dilation %d on x %s: "
            "%s: analytic %g, numeric %g (relative error %.2g)", c->kh, c->kw, c->stride, c->padding,
            c->output_padding, c->dilation, nn_shape_str(&x).s, nn_gradcheck_where(&r).s, r.analytic, r.numeric,
            r.max_rel);
  nn_tensor_free(&x);
  free_layer(t);
}

Test(conv_transpose2d, gradcheck_stride_1) { gradcheck(&CASES[0], false, 11); }
Test(conv_transpose2d, gradcheck_stride_2_padding_1_output_padding_1) { gradcheck(&CASES[2], false, 21); }
Test(conv_transpose2d, gradcheck_stride_3_3x2_kernel_no_bias) { gradcheck(&CASES[3], true, 31); }
Test(conv_transpose2d, gradcheck_dilation_3_padding_3) { gradcheck(&CASES[5], false, 41); }
Test(conv_transpose2d, gradcheck_output_padding_1_at_stride_1_dilation_2) {
  gradcheck(&(convt_case){2, 2, 3, 3, 2, 2, 3, 1, 1, 1, 2}, false, 51);
}

Test(conv_transpose2d, backward_accumulates) {
  nn_conv_transpose2d *t = make(config_of(&CASES[2]), 5);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, CASES[2].C_in, 4, 3}, 6), y = output_for(t, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 7), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call c = call_on(ws);
  nn_conv_transpose2d_forward(t, &c, &x, &y);
  nn_conv_transpose2d_backward(t, &c, &dy, &dx);
  nn_tensor dW1 = nn_tensor_to(&t->dW, NN_CPU), db1 = nn_tensor_to(&t->db, NN_CPU), dx1 = nn_tensor_to(&dx, NN_CPU);
  nn_conv_transpose2d_backward(t, &c, &dy, &dx); /* backward adds: a second backward doubles every gradient */
  const struct { const char *name; const nn_tensor *once, *twice; } g[] = {
      {"dW", &dW1, &t->dW}, {"db", &db1, &t->db}, {"dx", &dx1, &dx}};
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
  nn_arena_free(ws);
  free_layer(t);
}

Test(conv_transpose2d, parameter_count) {
  /* C_in*C_out*KH*KW + C_out: ConvTranspose2d(64, 32, 4) has 64*32*4*4 + 32 = 32,800, as
   * sum(p.numel() for p in torch.nn.ConvTranspose2d(64, 32, 4).parameters()) says;
   * (2, 3, (3, 2)) without bias: 2*3*3*2 = 36 */
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 64, .out_channels = 32, .kernel = 4}, 1);
  cr_assert_eq(nn_layer_param_count(&t->base), 32800, "ConvTranspose2d(64 -> 32, 4x4) has %ld params, expected "
               "64*32*4*4 + 32 = 32,800", nn_layer_param_count(&t->base));
  cr_assert(t->W.shape[0] == 64 && t->W.shape[1] == 32 && t->W.shape[2] == 4 && t->W.shape[3] == 4,
            "W is %s, expected PyTorch's (C_in, C_out, KH, KW) = (64, 32, 4, 4)", nn_shape_str(&t->W).s);
  nn_param p[4];
  int n = t->base.ops->params(&t->base, p, 4);
  cr_assert(n == 2 && !strcmp(p[0].name, "up1.W") && !strcmp(p[1].name, "up1.b"), "params are %d: %s, %s", n,
            p[0].name, n > 1 ? p[1].name : "-");
  free_layer(t);
  t = make((nn_conv_transpose2d_config){.in_channels = 2, .out_channels = 3, .kh = 3, .kw = 2, .no_bias = true}, 1);
  cr_assert_eq(nn_layer_param_count(&t->base), 36, "ConvTranspose2d(2 -> 3, 3x2, no bias) has %ld params, "
               "expected 2*3*3*2 = 36", nn_layer_param_count(&t->base));
  free_layer(t);
}

Test(conv_transpose2d, he_init_uses_pytorchs_fan_in) {
  /* PyTorch's fan_in of a (C_in, C_out, KH, KW) weight is W.size(1) * KH * KW = C_out*KH*KW:
   * torch.nn.init._calculate_fan_in_and_fan_out(ConvTranspose2d(64, 32, 4).weight) = (512, 1024) */
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 64, .out_channels = 32, .kernel = 4}, 3);
  double sum = 0, sq = 0, fan_in = 32 * 4 * 4;
  long n = nn_numel(&t->W);
  for (long i = 0; i < n; i++) sum += t->W.data[i], sq += (double)t->W.data[i] * t->W.data[i];
  double var = sq / n - (sum / n) * (sum / n);
  cr_assert(fabs(var - 2 / fan_in) < 0.05 * 2 / fan_in, "He init: variance %g, expected 2 / (32*4*4) = %g", var,
            2 / fan_in);
  free_layer(t);
}

/* The bytes of `floats` floats as an arena hands them out: rounded up to its 64-byte alignment. */
static size_t arena_bytes(long floats) { return ((size_t)floats * sizeof(float) + 63) / 64 * 64; }

/* One training step of t on x (forward, then backward without dx) in the arena ws, reset first;
 * returns the bytes the forward borrowed, and in *step the bytes of the whole step. */
static size_t convt_step(nn_conv_transpose2d *t, nn_arena *ws, const nn_tensor *x, size_t *step) {
  nn_arena_reset(ws);
  nn_tensor y = output_for(t, x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 2);
  nn_call c = call_on(ws);
  size_t before = nn_arena_used(ws);
  nn_conv_transpose2d_forward(t, &c, x, &y);
  size_t forward = nn_arena_used(ws) - before;
  nn_conv_transpose2d_backward(t, &c, &dy, NULL);
  *step = nn_arena_used(ws) - before;
  nn_tensor_free(&y), nn_tensor_free(&dy);
  return forward;
}

/* The layer owns no workspace: a call borrows one image's C_out*KH*KW x H*W floats from its
 * arena, and a training step that resets the arena allocates nothing after the first step of
 * its size, for the same input or a smaller one. x (2, 3, 20, 20) makes the workspace 100 KiB,
 * larger than the arena's first block. */
Test(conv_transpose2d, workspace_grows_only) {
  nn_conv_transpose2d *t = make(config_of(&CASES[1]), 4);
  nn_tensor x = nn_tensor_randn(4, (int[]){2, CASES[1].C_in, 20, 20}, 1);
  nn_tensor small = nn_tensor_randn(4, (int[]){1, CASES[1].C_in, 3, 4}, 3);
  long cap = (long)CASES[1].C_out * 4 * 4 * 20 * 20, cap_small = (long)CASES[1].C_out * 4 * 4 * 3 * 4;
  nn_arena *ws = nn_arena_new(NN_CPU);
  size_t step, forward = convt_step(t, ws, &x, &step);
  cr_assert_eq(forward, arena_bytes(cap), "a forward borrowed %zu bytes from its arena, expected C_out*KH*KW x H*W "
               "= %ld floats (%zu bytes)", forward, cap, arena_bytes(cap));
  cr_assert_eq(step, 2 * arena_bytes(cap), "forward and backward borrowed %zu bytes, expected a workspace each: "
               "2 x %zu", step, arena_bytes(cap));
  nn_arena_reset(ws);
  long first = nn_arena_allocations(ws);
  cr_assert(first >= 1, "the first step allocated nothing");
  convt_step(t, ws, &x, &step);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a second step of the same input size allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  forward = convt_step(t, ws, &small, &step);
  cr_assert_eq(forward, arena_bytes(cap_small), "on a (1, %d, 3, 4) input a forward borrowed %zu bytes, expected "
               "%ld floats", CASES[1].C_in, forward, cap_small);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a step of a smaller input allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&small);
  free_layer(t);
}

Test(conv_transpose2d, wrong_channel_count_aborts, .signal = SIGABRT) {
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 4, .out_channels = 2, .kernel = 2,
                                                             .stride = 2}, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 3, 5, 5}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 2, 10, 10}, NN_CPU);
  /* "nn_conv_transpose2d_forward: up1: ConvTranspose2d(4 -> 2, 2x2, stride 2) takes (N, 4, H, W) inputs,
   * got (1, 3, 5, 5)" */
  nn_call c = call_on(nn_arena_new(NN_CPU));
  nn_conv_transpose2d_forward(t, &c, &x, &y);
}

Test(conv_transpose2d, wrong_output_shape_aborts, .signal = SIGABRT) {
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 2, .kernel = 2,
                                                             .stride = 2}, 1);
  nn_tensor x = nn_tensor_new(4, (int[]){1, 1, 5, 5}, NN_CPU), y = nn_tensor_new(4, (int[]){1, 2, 9, 9}, NN_CPU);
  nn_call c = call_on(nn_arena_new(NN_CPU));
  /* "... y is (1, 2, 9, 9) but up1 (ConvTranspose2d(1 -> 2, 2x2, stride 2)) gives (1, 2, 10, 10) ..." */
  nn_conv_transpose2d_forward(t, &c, &x, &y);
}

Test(conv_transpose2d, output_padding_equal_to_stride_aborts, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  /* "output_padding 2 must be at least 0 and smaller than stride 2 or dilation 1 (PyTorch's rule)" */
  nn_conv_transpose2d_new("up1", &(nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 1, .kernel = 3,
                                                               .stride = 2, .output_padding = 2}, &rng);
}

Test(conv_transpose2d, padding_that_crops_everything_aborts, .signal = SIGABRT) {
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 1, .kernel = 3,
                                                             .padding = 2}, 1);
  int out[NN_MAX_DIMS];
  /* (1-1)*1 - 2*2 + 2 + 1 = -1: "padding 2 crops the output to -1; use padding at most 1" */
  t->base.ops->out_shape(&t->base, (int[]){1, 1, 1}, 3, out);
}

/* x labelled GPU, the weights on the CPU: stopped at the check, before any CUDA call, so this runs
 * everywhere (the GPU path itself: test_gpu_cnn.c's conv_transpose2d_gpu tests). */
Test(conv_transpose2d, x_on_the_gpu_and_weights_on_the_cpu_aborts, .signal = SIGABRT) {
  nn_conv_transpose2d *t = make((nn_conv_transpose2d_config){.in_channels = 1, .out_channels = 2, .kernel = 2,
                                                             .stride = 2}, 1);
  float host[2 * 4], out[2 * 2 * 16];
  nn_tensor x = {.data = host, .shape = {2, 1, 2, 2}, .ndim = 4, .device = NN_GPU}; /* labelled GPU; never read */
  nn_tensor y = {.data = out, .shape = {2, 2, 4, 4}, .ndim = 4, .device = NN_GPU};
  nn_call c = call_on(nn_arena_new(NN_CPU));
  /* "nn_conv_transpose2d_forward: x is on the GPU but up1's weights are on the CPU; move the layer
   * (nn_layer_to) or the tensor (nn_tensor_to)" */
  nn_conv_transpose2d_forward(t, &c, &x, &y);
}
