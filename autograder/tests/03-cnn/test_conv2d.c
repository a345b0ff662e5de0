/* Conv2d: a forward by hand, im2col by hand, im2col + GEMM against the naive
 * seven-loop convolution, col2im as the adjoint of im2col, backward accumulation,
 * finite-difference checks (every input and parameter) with stride, padding and
 * dilation, 'same' padding, shapes and parameter counts against nn_shapes, and
 * the aborts on bad inputs.
 *
 * Graded tests (GRADED): each runs with the public sizes and with sizes drawn at grade
 * time. What the code under test computes (y, cols, gradients, out_shape) is answered
 * before it is judged; what the test compares it with it computes itself, from the
 * formulas in nn_im2col.h and nn_conv2d.h, in double. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "graded_gradcheck.h"
#include "nn_conv2d.h"
#include "nn_gradcheck.h"
#include "nn_im2col.h"
#include "nn_parallel.h"
#include "nn_conv_shapes.h"

/* A layer named "conv1" from cfg, with W ~ N(0, 2 / fan_in) (He's) and b ~ N(0, 1) drawn
 * here from seed: the test's numbers, whatever the constructor draws. */
static nn_conv2d *make(nn_conv2d_config cfg, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  nn_conv2d *c = nn_conv2d_new("conv1", &cfg, &rng);
  int KH = cfg.kh > 0 && cfg.kw > 0 ? cfg.kh : cfg.kernel, KW = cfg.kh > 0 && cfg.kw > 0 ? cfg.kw : cfg.kernel;
  int groups = cfg.groups ? cfg.groups : 1;
  nn_rng_fill_normal(&rng, c->W.data, (long)cfg.filters * cfg.in_channels / groups * KH * KW, 0.f,
                     sqrtf(2.f / (float)(cfg.in_channels / groups * KH * KW)));
  if (!cfg.no_bias) nn_rng_fill_normal(&rng, c->b.data, cfg.filters, 0.f, 1.f);
  return c;
}

/* y for input x, shaped by the layer's out_shape (F, Ho, Wo): the code under test's, so it is
 * answered, and it must be the reference's (the checker's own). */
static nn_tensor output_for(nn_grade *g, nn_conv2d *c, const nn_tensor *x) {
  int out[NN_MAX_DIMS] = {0};
  int nd = c->base.ops->out_shape(&c->base, x->shape + 1, x->ndim - 1, out);
  int want[4] = {nd, out[0], out[1], out[2]}, got[4] = {nd, out[0], out[1], out[2]};
  answer(g, "out_shape: its axes and (F, Ho, Wo)", got, 4);
  expect(g, memcmp(got, want, sizeof got) == 0, "out_shape of x %s gave %d axes (%d, %d, %d), expected 3 axes "
         "(%d, %d, %d)", nn_shape_str(x).s, got[0], got[1], got[2], got[3], want[1], want[2], want[3]);
  return nn_tensor_new(4, (int[]){x->shape[0], out[0], out[1], out[2]}, NN_CPU);
}

static void free_layer(nn_conv2d *c) { c->base.ops->free(&c->base); }

/* One application of the layer: its im2col workspace comes from ws (nn_layer.h). */
static nn_call call_on(nn_arena *ws) { return (nn_call){.arena = ws, .training = true}; }

typedef struct {
  int N, C, H, W, F, kh, kw, stride;
  nn_pad_mode pad;
  int padding, dilation;
  int groups; /* 0 means 1 */
} conv_case;

static int groups_of(const conv_case *k) { return k->groups ? k->groups : 1; }

static nn_conv2d_config config_of(const conv_case *k) {
  return (nn_conv2d_config){.in_channels = k->C, .filters = k->F, .kh = k->kh, .kw = k->kw, .stride = k->stride,
                            .pad = k->pad, .padding = k->padding, .dilation = k->dilation, .groups = k->groups};
}

/* One axis by nn_conv2d.h's formulas: the zeros before the image, and the output length. */
static int pad_before(const conv_case *t, int K) {
  return t->pad == NN_PAD_EXPLICIT ? t->padding : t->pad == NN_PAD_SAME ? t->dilation * (K - 1) / 2 : 0;
}
static int out_len(const conv_case *t, int L, int K) {
  int span = t->dilation * (K - 1) + 1;
  if (t->pad == NN_PAD_SAME) return L;
  return (L + 2 * (t->pad == NN_PAD_EXPLICIT ? t->padding : 0) - span) / t->stride + 1;
}

/* A case of the drawn variant: every size, the kernel, stride, padding mode, padding and
 * dilation drawn, always legal ('same' with stride 1 only; the input at least as large as
 * the dilated kernel less the padding) and never degenerate: explicit padding at most half
 * the dilated kernel's span, as 'same' pads, and the image at least d wide, so the first
 * window sees the image. */
static conv_case draw_case(nn_grade *g, int max_N, int max_C, int max_F, int max_K, int max_extra) {
  conv_case t;
  t.N = nn_grade_size(g, 1, 1, max_N);
  t.C = nn_grade_size(g, 1, 1, max_C);
  t.F = nn_grade_size(g, 1, 1, max_F);
  t.kh = nn_grade_size(g, 1, 1, max_K);
  t.kw = nn_grade_size(g, 1, 1, max_K);
  t.dilation = nn_grade_size(g, 1, 1, 2);
  int mode = nn_grade_size(g, 0, 0, 2), stride = nn_grade_size(g, 1, 1, 3), padding = nn_grade_size(g, 0, 0, 2);
  t.pad = mode == 0 ? NN_PAD_VALID : mode == 1 ? NN_PAD_EXPLICIT : NN_PAD_SAME;
  t.stride = t.pad == NN_PAD_SAME ? 1 : stride;
  int span_h = t.dilation * (t.kh - 1) + 1, span_w = t.dilation * (t.kw - 1) + 1;
  int half_span = ((span_h < span_w ? span_h : span_w) - 1) / 2;
  t.padding = t.pad == NN_PAD_EXPLICIT ? (padding < half_span ? padding : half_span) : 0;
  int zeros = t.pad == NN_PAD_EXPLICIT ? 2 * t.padding : 0; /* 'same' pads whatever the kernel needs */
  int min_h = t.pad == NN_PAD_SAME || span_h - zeros < t.dilation ? t.dilation : span_h - zeros;
  int min_w = t.pad == NN_PAD_SAME || span_w - zeros < t.dilation ? t.dilation : span_w - zeros;
  t.H = nn_grade_size(g, 1, min_h, span_h + max_extra);
  t.W = nn_grade_size(g, 1, min_w, span_w + max_extra);
  return t;
}

/* y (N, F, Ho, Wo) of case t by the definition (nn_conv2d.h), in double, from x, W and b (NULL: no bias). */
static double *conv_by_definition(const conv_case *t, const float *x, const float *W, const float *b) {
  const int Ho = out_len(t, t->H, t->kh), Wo = out_len(t, t->W, t->kw);
  const int ph = pad_before(t, t->kh), pw = pad_before(t, t->kw), s = t->stride, d = t->dilation;
  const int Cg = t->C / groups_of(t), Fg = t->F / groups_of(t); /* filter f sees channels of group f / Fg */
  double *y = calloc((size_t)t->N * t->F * Ho * Wo, sizeof *y);
  for (int n = 0; n < t->N; n++)
    for (int f = 0; f < t->F; f++)
      for (int oh = 0; oh < Ho; oh++)
        for (int ow = 0; ow < Wo; ow++) {
          double sum = b ? b[f] : 0;
          for (int c = 0; c < Cg; c++)
            for (int i = 0; i < t->kh; i++)
              for (int j = 0; j < t->kw; j++) {
                int ih = oh * s - ph + i * d, iw = ow * s - pw + j * d, ch = f / Fg * Cg + c;
                if (ih >= 0 && ih < t->H && iw >= 0 && iw < t->W)
                  sum += (double)W[((f * Cg + c) * t->kh + i) * t->kw + j] *
                         x[(((long)n * t->C + ch) * t->H + ih) * t->W + iw];
              }
          y[(((long)n * t->F + f) * Ho + oh) * Wo + ow] = sum;
        }
  return y;
}

/* Words for a wrong y (n values) of case t: is it the convolution with each group's W (Fg, K)
 * read as (K, Fg), the product's A transposed? Else "". Only for a message: it costs a convolution. */
static const char *transposed_W_words(const conv_case *t, const float *x, const float *W, const float *b,
                                      const float *y, long n) {
  const int Fg = t->F / groups_of(t), K = t->C / groups_of(t) * t->kh * t->kw;
  float *Wt = malloc((size_t)t->F * K * sizeof *Wt);
  for (int f = 0; f < t->F; f++) /* group f / Fg's block of W, read the other way round */
    for (int k = 0; k < K; k++) Wt[(long)f * K + k] = W[(long)(f / Fg) * Fg * K + (long)k * Fg + f % Fg];
  double *yt = conv_by_definition(t, x, Wt, b);
  bool same = true;
  for (long i = 0; i < n && same; i++) same = fabs(y[i] - yt[i]) <= 1e-4 * (1 + fabs(yt[i]));
  free(Wt), free(yt);
  return same ? "; it is the convolution with W's (F, C*KH*KW) matrix read as (C*KH*KW, F): W transposed in the "
                "product?" : "";
}

/* Case t on x drawn from seed: the layer's y (im2col + GEMM) and its naive y, both answered;
 * each against the definition, and against each other. A failure says where, as (n, c, h, w). */
static void check_forward(nn_grade *g, const conv_case *t, uint64_t seed) {
  nn_conv2d *c = make(config_of(t), seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){t->N, t->C, t->H, t->W}, seed + 1);
  nn_tensor y = output_for(g, c, &x), y_naive = output_for(g, c, &x);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws);
  nn_conv2d_forward(c, &call, &x, &y);
  answer(g, "y of nn_conv2d_forward", y.data, nn_numel(&y));
  nn_conv2d_forward_naive(c, &x, &y_naive);
  answer(g, "y of nn_conv2d_forward_naive", y_naive.data, nn_numel(&y_naive));
  double *want = conv_by_definition(t, x.data, c->W.data, c->has_bias ? c->b.data : NULL);
  double max_err = 0;
  long at = 0, worst = -1;
  for (long i = 0; i < nn_numel(&y); i++) {
    double e = fabs((double)y.data[i] - y_naive.data[i]);
    if (!(e <= max_err)) max_err = e, at = i;
    if (worst < 0 && !(fabs(y.data[i] - want[i]) <= 1e-4 * (1 + fabs(want[i])))) worst = i;
  }
  char geometry[200];
  snprintf(geometry, sizeof geometry, "x %s, %d filters, kernel %dx%d, stride %d, pad %s %d, dilation %d, groups %d",
           nn_shape_str(&x).s, t->F, t->kh, t->kw, t->stride, nn_pad_mode_name(t->pad), t->padding, t->dilation,
           groups_of(t));
  const float *b = c->has_bias ? c->b.data : NULL;
  expect(g, worst < 0, "%s: y%s = %g by im2col + GEMM, expected %.7g (the sum over the window, plus b)%s%s",
         geometry, nn_grade_where(worst, 4, y.shape).s, y.data[worst < 0 ? 0 : worst], want[worst < 0 ? 0 : worst],
         nn_grade_diagnose(y.data, want, NULL, nn_numel(&y), 4, y.shape).s,
         transposed_W_words(t, x.data, c->W.data, b, y.data, nn_numel(&y)));
  expect(g, max_err < 1e-4, "%s: y%s = %g by im2col + GEMM but %g by the naive loops (max error %.3g)", geometry,
         nn_grade_where(at, 4, y.shape).s, y.data[at], y_naive.data[at], max_err);
  free(want);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y_naive);
  free_layer(c);
}

GRADED_TEST(conv2d, forward_by_hand) {
  if (!nn_grade_public(g)) { /* a drawn geometry, against the definition */
    conv_case t = draw_case(g, 3, 3, 4, 4, 5);
    check_forward(g, &t, nn_grade_seed(g, 1));
    return;
  }
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
  nn_tensor y = output_for(g, c, &x), y_naive = output_for(g, c, &x);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws);
  nn_conv2d_forward(c, &call, &x, &y);
  answer(g, "y of nn_conv2d_forward", y.data, 4);
  nn_conv2d_forward_naive(c, &x, &y_naive);
  answer(g, "y of nn_conv2d_forward_naive", y_naive.data, 4);
  const float want[4] = {4, 6.5f, 11.5f, 14};
  for (int i = 0; i < 4; i++) {
    expect_near(g, y.data[i], want[i], 1e-5, "im2col + GEMM: y[%d][%d] = %g, expected %g", i / 2, i % 2, y.data[i],
                want[i]);
    expect_near(g, y_naive.data[i], want[i], 1e-5, "naive: y[%d][%d] = %g, expected %g", i / 2, i % 2,
                y_naive.data[i], want[i]);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&y_naive);
  free_layer(c);
}

/* nn_conv_geom_make's geometry (the code under test's): its Ho, Wo answered, and they must
 * be floor((L + 2p - d*(K-1) - 1) / s) + 1. */
static nn_conv_geom make_geom(nn_grade *g, int C, int H, int W, int KH, int KW, int s, int ph, int pw, int d) {
  nn_conv_geom geom = nn_conv_geom_make(C, H, W, KH, KW, s, ph, pw, d);
  int got[2] = {geom.Ho, geom.Wo};
  int want[2] = {(H + 2 * ph - d * (KH - 1) - 1) / s + 1, (W + 2 * pw - d * (KW - 1) - 1) / s + 1};
  answer(g, "Ho, Wo of nn_conv_geom_make", got, 2);
  expect(g, got[0] == want[0] && got[1] == want[1], "nn_conv_geom_make: x (%d, %d, %d), kernel %dx%d, stride %d, "
         "padding (%d, %d), dilation %d: Ho x Wo = %d x %d, expected %d x %d", C, H, W, KH, KW, s, ph, pw, d, got[0],
         got[1], want[0], want[1]);
  return geom;
}

/* A geometry of the drawn variant: up to 3 channels, a kernel up to 4x4, stride up to 3,
 * dilation up to 2, padding up to 2 on each axis but at most half the dilated kernel's span;
 * the image at least the dilated kernel less the padding, and at least d (so the first window
 * sees the image). */
static nn_conv_geom draw_geom(nn_grade *g) {
  int C = nn_grade_size(g, 1, 1, 3), KH = nn_grade_size(g, 1, 1, 4), KW = nn_grade_size(g, 1, 1, 4);
  int s = nn_grade_size(g, 1, 1, 3), d = nn_grade_size(g, 1, 1, 2);
  int ph = nn_grade_size(g, 0, 0, d * (KH - 1) / 2 < 2 ? d * (KH - 1) / 2 : 2);
  int pw = nn_grade_size(g, 0, 0, d * (KW - 1) / 2 < 2 ? d * (KW - 1) / 2 : 2);
  int min_h = d * (KH - 1) + 1 - 2 * ph, min_w = d * (KW - 1) + 1 - 2 * pw;
  int H = nn_grade_size(g, 1, min_h < d ? d : min_h, d * (KH - 1) + 7);
  int W = nn_grade_size(g, 1, min_w < d ? d : min_w, d * (KW - 1) + 7);
  return make_geom(g, C, H, W, KH, KW, s, ph, pw, d);
}

/* cols[(c*KH + i)*KW + j][oh*Wo + ow] = x[c][oh*s - pad_h + i*d][ow*s - pad_w + j*d], 0 outside x (nn_im2col.h). */
static float im2col_entry(const float *x, const nn_conv_geom *geom, long row, long col) {
  int c = (int)(row / (geom->KH * geom->KW)), i = (int)(row / geom->KW % geom->KH), j = (int)(row % geom->KW);
  int oh = (int)(col / geom->Wo), ow = (int)(col % geom->Wo);
  int ih = oh * geom->stride - geom->pad_h + i * geom->dilation, iw = ow * geom->stride - geom->pad_w + j * geom->dilation;
  return ih >= 0 && ih < geom->H && iw >= 0 && iw < geom->W ? x[((long)c * geom->H + ih) * geom->W + iw] : 0.f;
}

GRADED_TEST(im2col, by_hand_with_padding_1) {
  if (!nn_grade_public(g)) { /* a drawn geometry and x, against the formula entry by entry */
    nn_conv_geom geom = draw_geom(g);
    long nx = (long)geom.C * geom.H * geom.W, rows = nn_conv_geom_rows(&geom), cols_n = nn_conv_geom_cols(&geom);
    nn_tensor x = nn_tensor_randn(1, (int[]){(int)nx}, nn_grade_seed(g, 1));
    float *cols = malloc((size_t)(rows * cols_n) * sizeof *cols);
    memset(cols, 0x7f, (size_t)(rows * cols_n) * sizeof *cols); /* garbage: im2col must write every entry */
    nn_im2col(x.data, &geom, cols);
    answer(g, "cols of nn_im2col", cols, rows * cols_n);
    for (long r = 0; r < rows; r++)
      for (long p = 0; p < cols_n; p++) {
        float want = im2col_entry(x.data, &geom, r, p);
        expect(g, cols[r * cols_n + p] == want, "x (%d, %d, %d), kernel %dx%d, stride %d, padding (%d, %d), "
               "dilation %d: cols[(c=%ld, i=%ld, j=%ld)][(oh=%ld, ow=%ld)] = %g, expected %g%s", geom.C, geom.H,
               geom.W, geom.KH, geom.KW, geom.stride, geom.pad_h, geom.pad_w, geom.dilation, r / (geom.KH * geom.KW),
               r / geom.KW % geom.KH, r % geom.KW, p / geom.Wo, p % geom.Wo, cols[r * cols_n + p], want,
               want == 0.f ? " (a zero of the padding)" : "");
      }
    free(cols), nn_tensor_free(&x);
    return;
  }
  /* x (1, 2, 2) = [[1, 2], [3, 4]], 3x3 kernel, padding 1, stride 1: Ho = Wo = (2 + 2 - 3) + 1 = 2.
   * Padded, x is the 4x4 P below; row (i, j) of cols, column (oh, ow), is P[oh + i][ow + j]:
   *   0 0 0 0      (0,0): 0 0 0 1   (0,1): 0 0 1 2   (0,2): 0 0 2 0
   *   0 1 2 0      (1,0): 0 1 0 3   (1,1): 1 2 3 4   (1,2): 2 0 4 0
   *   0 3 4 0      (2,0): 0 3 0 0   (2,1): 3 4 0 0   (2,2): 4 0 0 0
   *   0 0 0 0 */
  const float x[4] = {1, 2, 3, 4};
  const float want[9][4] = {{0, 0, 0, 1}, {0, 0, 1, 2}, {0, 0, 2, 0}, {0, 1, 0, 3}, {1, 2, 3, 4},
                            {2, 0, 4, 0}, {0, 3, 0, 0}, {3, 4, 0, 0}, {4, 0, 0, 0}};
  nn_conv_geom geom = make_geom(g, 1, 2, 2, 3, 3, 1, 1, 1, 1);
  float cols[9][4];
  memset(cols, 0x7f, sizeof cols); /* garbage: im2col must write every entry, padding included */
  nn_im2col(x, &geom, &cols[0][0]);
  answer(g, "cols of nn_im2col", &cols[0][0], 36);
  for (int r = 0; r < 9; r++)
    for (int p = 0; p < 4; p++)
      expect(g, cols[r][p] == want[r][p], "cols[(i=%d, j=%d)][(oh=%d, ow=%d)] = %g, expected %g", r / 3, r % 3,
             p / 2, p % 2, cols[r][p], want[r][p]);
}

/* The seven cases of the public variant, or four drawn ones. */
static const conv_case GEMM_CASES[] = {
    {2, 3, 7, 9, 4, 3, 3, 1, NN_PAD_VALID, 0, 1, 1},    /* plain 3x3, odd sizes */
    {2, 3, 9, 7, 4, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, 1}, /* stride 2, padding 1 */
    {1, 3, 11, 10, 4, 3, 3, 1, NN_PAD_EXPLICIT, 2, 2, 1}, /* dilation 2 */
    {2, 2, 8, 7, 5, 4, 4, 1, NN_PAD_SAME, 0, 1, 1},     /* even kernel, 'same': the extra zero below/right */
    {1, 3, 13, 9, 4, 5, 3, 2, NN_PAD_EXPLICIT, 1, 2, 1}, /* 5x3 kernel, stride 2, padding 1, dilation 2 */
    {3, 4, 5, 5, 3, 1, 1, 1, NN_PAD_VALID, 0, 1, 1},    /* 1x1: a per-pixel Dense */
    {2, 1, 6, 6, 2, 3, 3, 3, NN_PAD_EXPLICIT, 1, 1, 1}, /* stride 3 */
};

GRADED_TEST(im2col, gemm_matches_the_naive_conv) {
  int n_cases = nn_grade_public(g) ? (int)(sizeof GEMM_CASES / sizeof GEMM_CASES[0]) : 4;
  for (int k = 0; k < n_cases; k++) {
    conv_case t = nn_grade_public(g) ? GEMM_CASES[k] : draw_case(g, 3, 4, 5, 5, 6);
    check_forward(g, &t, nn_grade_seed(g, 100 + (uint64_t)k));
  }
}

GRADED_TEST(im2col, col2im_is_the_adjoint) {
  /* <im2col(x), c> = <x, col2im(c)> for random x and c, summed in double */
  const int geoms[4][9] = {{2, 5, 6, 3, 3, 1, 1, 1, 1}, {3, 9, 7, 3, 3, 2, 1, 0, 1}, {2, 9, 9, 3, 2, 1, 2, 1, 2},
                           {1, 7, 8, 2, 4, 3, 0, 2, 1}};
  for (int k = 0; k < 4; k++) {
    const int *a = geoms[k];
    nn_conv_geom geom = nn_grade_public(g) ? make_geom(g, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8])
                                           : draw_geom(g);
    long nx = (long)geom.C * geom.H * geom.W, nc = nn_conv_geom_rows(&geom) * nn_conv_geom_cols(&geom);
    nn_tensor x = nn_tensor_randn(1, (int[]){(int)nx}, nn_grade_seed(g, 300 + (uint64_t)k));
    nn_tensor c = nn_tensor_randn(1, (int[]){(int)nc}, nn_grade_seed(g, 400 + (uint64_t)k));
    nn_tensor cols = nn_tensor_new(1, (int[]){(int)nc}, NN_CPU), back = nn_tensor_new(1, (int[]){(int)nx}, NN_CPU);
    nn_tensor_fill(&back, 1.f); /* col2im adds: start from 1 and take it off again */
    nn_im2col(x.data, &geom, cols.data);
    answer(g, "cols of nn_im2col", cols.data, nc);
    nn_col2im(c.data, &geom, back.data);
    answer(g, "1 + nn_col2im", back.data, nx);
    double lhs = 0, rhs = 0, scale = 0;
    for (long i = 0; i < nc; i++)
      lhs += (double)cols.data[i] * c.data[i], scale += fabs((double)cols.data[i] * c.data[i]);
    for (long i = 0; i < nx; i++) rhs += (double)x.data[i] * (back.data[i] - 1.0);
    expect(g, fabs(lhs - rhs) <= 1e-5 * scale && scale > 0, "geometry %d (x (%d, %d, %d), kernel %dx%d, stride %d, "
           "padding (%d, %d), dilation %d): <im2col(x), c> = %.9g but <x, col2im(c)> = %.9g", k, geom.C, geom.H,
           geom.W, geom.KH, geom.KW, geom.stride, geom.pad_h, geom.pad_w, geom.dilation, lhs, rhs);
    nn_tensor_free(&x), nn_tensor_free(&c), nn_tensor_free(&cols), nn_tensor_free(&back);
  }
}

/* The values of t, copied to the host, as the answer `what`. */
static nn_tensor answered_copy(nn_grade *g, const char *what, const nn_tensor *t) {
  nn_tensor copy = nn_tensor_to(t, NN_CPU);
  answer(g, what, copy.data, nn_numel(&copy));
  return copy;
}

GRADED_TEST(conv2d, backward_accumulates) {
  conv_case t = {2, 2, 6, 5, 3, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, 1};
  if (!nn_grade_public(g)) t = draw_case(g, 3, 3, 4, 4, 5);
  nn_conv2d *c = make(config_of(&t), nn_grade_seed(g, 5));
  nn_tensor x = nn_tensor_randn(4, (int[]){t.N, t.C, t.H, t.W}, nn_grade_seed(g, 6)), y = output_for(g, c, &x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, nn_grade_seed(g, 7)), dx = nn_tensor_new(4, x.shape, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws);
  nn_conv2d_forward(c, &call, &x, &y);
  nn_conv2d_backward(c, &call, &dy, &dx);
  nn_tensor dW1 = answered_copy(g, "dW after one backward", &c->dW);
  nn_tensor db1 = answered_copy(g, "db after one backward", &c->db);
  nn_tensor dx1 = answered_copy(g, "dx after one backward", &dx);
  nn_conv2d_backward(c, &call, &dy, &dx); /* backward adds: a second backward doubles every gradient */
  answer(g, "dW after two backwards", c->dW.data, nn_numel(&c->dW));
  answer(g, "db after two backwards", c->db.data, nn_numel(&c->db));
  answer(g, "dx after two backwards", dx.data, nn_numel(&dx));
  const struct { const char *name, *axes; const nn_tensor *once, *twice; } grads[] = {
      {"dW", "(f, c, kh, kw)", &dW1, &c->dW}, {"db", "", &db1, &c->db}, {"dx", "(n, c, h, w)", &dx1, &dx}};
  for (int k = 0; k < 3; k++) {
    const nn_tensor *once = grads[k].once, *twice = grads[k].twice;
    long n = nn_numel(once);
    double norm = 0, *want = malloc((size_t)n * sizeof *want); /* twice what one backward gave */
    for (long i = 0; i < n; i++) norm += fabs(once->data[i]), want[i] = 2.0 * once->data[i];
    expect(g, norm > 0, "%s is all zeros after one backward", grads[k].name);
    for (long i = 0; i < n; i++)
      expect_near(g, twice->data[i], 2 * once->data[i], 1e-5f * (1 + fabsf(once->data[i])),
                  "a second backward must add: %s%s = %g, expected 2 x %g%s", grads[k].name,
                  nn_grade_where_as(i, twice->ndim, twice->shape, grads[k].axes).s, twice->data[i], once->data[i],
                  nn_grade_diagnose(twice->data, want, once->data, n, twice->ndim, twice->shape).s);
    free(want);
  }
  nn_tensor_free(&x), nn_tensor_free(&y), nn_tensor_free(&dy), nn_tensor_free(&dx);
  nn_tensor_free(&dW1), nn_tensor_free(&db1), nn_tensor_free(&dx1);
  nn_arena_free(ws);
  free_layer(c);
}

/* Every element of x, W and b against central differences. y is linear in each one of
 * them, so (L(v + h) - L(v - h)) / 2h is exact for any h: h = 0.1 only divides the float
 * rounding of the forward pass by more than 1e-2 would. The analytic gradients are the
 * answers (graded_gradcheck.h); the checker takes the differences of the reference's forward. */
static void gradcheck(nn_grade *g, const conv_case *t, bool no_bias, uint64_t seed) {
  nn_conv2d_config cfg = config_of(t);
  cfg.no_bias = no_bias;
  nn_conv2d *c = make(cfg, seed);
  nn_tensor x = nn_tensor_randn(4, (int[]){t->N, t->C, t->H, t->W}, seed + 1);
  nn_gradcheck r = graded_gradcheck(g, &c->base, &x, 0.1, seed + 2, false);
  long weights = (long)t->F * (t->C / groups_of(t)) * t->kh * t->kw; /* W: (F, C/G, kh, kw) */
  long want = nn_numel(&x) + weights + (no_bias ? 0 : t->F);
  expect(g, r.checked == want, "checked %ld elements, expected x (%ld) + W (%ld)%s", r.checked, nn_numel(&x),
         weights, no_bias ? "" : " + b");
  expect(g, r.max_rel < 1e-3, "kernel %dx%d, stride %d, pad %s %d, dilation %d, groups %d on x %s: %s: "
         "analytic %g, numeric %g (relative error %.2g)", t->kh, t->kw, t->stride, nn_pad_mode_name(t->pad),
         t->padding, t->dilation, groups_of(t), nn_shape_str(&x).s, nn_gradcheck_where(&r).s, r.analytic, r.numeric,
         r.max_rel);
  nn_tensor_free(&x);
  free_layer(c);
}

/* The drawn variants keep what each test is named for (stride, padding, dilation, kernel)
 * and draw the rest: N, C, H, W, F, the kernel where the name leaves it open, the seed. */
static conv_case draw_sizes(nn_grade *g, conv_case t, int max_N, int min_H, int min_W, int max_HW) {
  t.N = nn_grade_size(g, t.N, 1, max_N);
  t.C = nn_grade_size(g, t.C, 1, 3);
  t.H = nn_grade_size(g, t.H, min_H, max_HW);
  t.W = nn_grade_size(g, t.W, min_W, max_HW);
  t.F = nn_grade_size(g, t.F, 1, 4);
  return t;
}

GRADED_TEST(conv2d, gradcheck_stride_1_padding_1) {
  int k = nn_grade_size(g, 3, 2, 4);
  conv_case t = draw_sizes(g, (conv_case){2, 2, 5, 5, 3, k, k, 1, NN_PAD_EXPLICIT, 1, 1, 1}, 2, k - 1, k - 1, 7);
  gradcheck(g, &t, false, nn_grade_seed(g, 11));
}

GRADED_TEST(conv2d, gradcheck_stride_2) {
  int kh = nn_grade_size(g, 3, 1, 4), kw = nn_grade_size(g, 3, 1, 4);
  conv_case t = draw_sizes(g, (conv_case){2, 2, 7, 6, 2, kh, kw, 2, NN_PAD_VALID, 0, 1, 1}, 2, kh, kw, 8);
  gradcheck(g, &t, false, nn_grade_seed(g, 21));
}

GRADED_TEST(conv2d, gradcheck_dilation_2_padding_2) {
  int kh = nn_grade_size(g, 3, 2, 3), kw = nn_grade_size(g, 3, 2, 3); /* spans 3 or 5: any H >= 1 fits */
  conv_case t = draw_sizes(g, (conv_case){1, 2, 7, 7, 2, kh, kw, 1, NN_PAD_EXPLICIT, 2, 2, 1}, 2, 1, 1, 8);
  gradcheck(g, &t, false, nn_grade_seed(g, 31));
}

/* ---- grouped and depthwise convolution (groups = G): filter f sees only the C/G channels of
 * its group f / (F/G). Cases: 2 groups; depthwise (G = C = F); depthwise with multiplier 2
 * (F = 2C), MobileNet's 3x3 stride-2 depthwise step; G = C with a 1x1 kernel (a per-channel scale). */
static const conv_case GROUPED_CASES[] = {
    {2, 4, 6, 7, 6, 3, 3, 1, NN_PAD_EXPLICIT, 1, 1, 2},
    {2, 3, 6, 6, 3, 3, 3, 1, NN_PAD_SAME, 0, 1, 3},
    {1, 3, 7, 8, 6, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, 3},
    {2, 4, 5, 5, 4, 1, 1, 1, NN_PAD_VALID, 0, 1, 4},
    {2, 4, 8, 8, 4, 3, 3, 2, NN_PAD_EXPLICIT, 1, 1, 4},
};

/* A drawn grouped case: G groups of C/G channels and F/G filters, the rest as draw_case's. */
static conv_case draw_grouped(nn_grade *g, int max_N) {
  conv_case t = draw_case(g, max_N, 1, 1, 3, 4);
  t.groups = nn_grade_size(g, 1, 1, 4);
  t.C = t.groups * nn_grade_size(g, 1, 1, 2);
  t.F = t.groups * nn_grade_size(g, 1, 1, 2);
  return t;
}

GRADED_TEST(conv2d, grouped_and_depthwise_match_the_definition) {
  int n_cases = nn_grade_public(g) ? (int)(sizeof GROUPED_CASES / sizeof GROUPED_CASES[0]) : 3;
  for (int k = 0; k < n_cases; k++) {
    conv_case t = nn_grade_public(g) ? GROUPED_CASES[k] : draw_grouped(g, 3);
    check_forward(g, &t, nn_grade_seed(g, 500 + (uint64_t)k));
  }
}

GRADED_TEST(conv2d, gradcheck_grouped_and_depthwise) {
  int n_cases = nn_grade_public(g) ? (int)(sizeof GROUPED_CASES / sizeof GROUPED_CASES[0]) : 2;
  for (int k = 0; k < n_cases; k++) {
    conv_case t = nn_grade_public(g) ? GROUPED_CASES[k] : draw_grouped(g, 2);
    gradcheck(g, &t, k == 1, nn_grade_seed(g, 600 + (uint64_t)k));
  }
}

/* A grouped conv is G convolutions side by side: group k's filters on group k's channels.
 * Built here from G ungrouped layers on channel slices, it must give the same y and dW. */
Test(conv2d, grouped_is_separate_convolutions_side_by_side) {
  const int N = 2, C = 6, H = 5, W = 6, F = 4, G = 2, Cg = C / G, Fg = F / G, P = 5 * 6;
  nn_conv2d *grouped = make((nn_conv2d_config){.in_channels = C, .filters = F, .kernel = 3, .pad = NN_PAD_SAME,
                                               .groups = G}, 71);
  cr_assert(grouped->W.shape[1] == Cg, "a grouped W is (F, C/G, KH, KW) = (4, 3, 3, 3), got %s",
            nn_shape_str(&grouped->W).s);
  nn_tensor x = nn_tensor_randn(4, (int[]){N, C, H, W}, 72), y = nn_tensor_new(4, (int[]){N, F, H, W}, NN_CPU);
  nn_arena *ws = nn_arena_new(NN_CPU);
  nn_call call = call_on(ws);
  nn_conv2d_forward(grouped, &call, &x, &y);
  for (int k = 0; k < G; k++) {
    nn_conv2d *part = make((nn_conv2d_config){.in_channels = Cg, .filters = Fg, .kernel = 3, .pad = NN_PAD_SAME}, 1);
    memcpy(part->W.data, grouped->W.data + (long)k * Fg * Cg * 9, sizeof(float) * Fg * Cg * 9);
    memcpy(part->b.data, grouped->b.data + k * Fg, sizeof(float) * Fg);
    nn_tensor xk = nn_tensor_new(4, (int[]){N, Cg, H, W}, NN_CPU), yk = nn_tensor_new(4, (int[]){N, Fg, H, W}, NN_CPU);
    for (int n = 0; n < N; n++)
      memcpy(xk.data + (long)n * Cg * P, x.data + ((long)n * C + k * Cg) * P, sizeof(float) * Cg * P);
    nn_call call_k = call_on(ws);
    nn_conv2d_forward(part, &call_k, &xk, &yk);
    for (int n = 0; n < N; n++)
      for (long i = 0; i < (long)Fg * P; i++) {
        float got = y.data[((long)n * F + k * Fg) * P + i], want = yk.data[(long)n * Fg * P + i];
        cr_assert(fabsf(got - want) <= 1e-5f * (1 + fabsf(want)), "image %d, group %d, entry %ld: grouped %g, the "
                  "group's own conv %g", n, k, i, got, want);
      }
    nn_tensor_free(&xk), nn_tensor_free(&yk);
    free_layer(part);
  }
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&y);
  free_layer(grouped);
}

/* The layer's parameters against the calculator `nn summary` and `nn exam` use: grouped,
 * depthwise (multiplier m) and the two halves of a separable conv. */
Test(conv2d, grouped_and_depthwise_parameter_counts_match_the_calculator) {
  nn_rng rng = nn_rng_new(5);
  nn_shape in = nn_shape_image(32, 14, 14);
  nn_calc calc;
  nn_error err;
  struct { int F, G; } cases[] = {{64, 1}, {64, 4}, {32, 32}, {64, 32}};
  for (int k = 0; k < 4; k++) {
    nn_conv2d *c = nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 32, .filters = cases[k].F, .kernel = 3,
                                                             .groups = cases[k].G}, &rng);
    long params = nn_numel(&c->W) + nn_numel(&c->b);
    nn_conv_opts o = nn_conv_opts_default(cases[k].F, 3);
    o.groups = cases[k].G;
    cr_assert(nn_calc_conv2d(&in, &o, NN_PYTORCH, &calc, &err) == NN_OK, "%s", err.msg);
    cr_assert(params == calc.params, "Conv2d(32 -> %d, 3x3, groups %d): the layer has %ld params, nn_calc_conv2d "
              "says %ld (%s)", cases[k].F, cases[k].G, params, calc.params, calc.formula);
    if (cases[k].G == 32) { /* depthwise, multiplier F / C */
      cr_assert(nn_calc_depthwise_conv2d(&in, cases[k].F / 32, &o, NN_PYTORCH, &calc, &err) == NN_OK, "%s", err.msg);
      cr_assert(params == calc.params, "depthwise multiplier %d: the layer has %ld params, the calculator %ld",
                cases[k].F / 32, params, calc.params);
    }
    free_layer(c);
  }
  /* SeparableConv2D(64, 3) on 32 channels = depthwise 3x3 without bias + pointwise 1x1 with bias */
  nn_conv2d *dw = nn_conv2d_new("dw", &(nn_conv2d_config){.in_channels = 32, .filters = 32, .kernel = 3,
                                                          .groups = 32, .no_bias = true}, &rng);
  nn_conv2d *pw = nn_conv2d_new("pw", &(nn_conv2d_config){.in_channels = 32, .filters = 64, .kernel = 1}, &rng);
  long params = nn_numel(&dw->W) + nn_numel(&pw->W) + nn_numel(&pw->b);
  nn_conv_opts o = nn_conv_opts_default(64, 3);
  cr_assert(nn_calc_separable_conv2d(&in, 1, &o, NN_KERAS, &calc, &err) == NN_OK, "%s", err.msg);
  cr_assert(params == calc.params && params == 9 * 32 + 32 * 64 + 64, "depthwise + pointwise: %ld params, the "
            "calculator %lld, by hand 9*32 + 32*64 + 64 = 2400", params, (long long)calc.params);
  free_layer(dw), free_layer(pw);
}

Test(conv2d, groups_that_do_not_divide_the_channels_abort, .signal = SIGABRT) {
  nn_rng rng = nn_rng_new(1);
  nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 6, .filters = 8, .kernel = 3, .groups = 4}, &rng);
}

GRADED_TEST(conv2d, gradcheck_same_3x2_kernel_no_bias) {
  conv_case t = draw_sizes(g, (conv_case){2, 1, 5, 4, 3, 3, 2, 1, NN_PAD_SAME, 0, 1, 1}, 2, 1, 1, 7);
  gradcheck(g, &t, true, nn_grade_seed(g, 41));
}

Test(conv2d, same_padding_keeps_h_and_w) {
  const conv_case cases[] = {
      {1, 2, 7, 6, 3, 3, 3, 1, NN_PAD_SAME, 0, 1, 1},
      {1, 2, 7, 6, 3, 4, 4, 1, NN_PAD_SAME, 0, 1, 1}, /* even: 1 zero above/left, 2 below/right */
      {1, 2, 9, 8, 3, 5, 2, 1, NN_PAD_SAME, 0, 2, 1}, /* dilation 2 */
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
static void check_seed_layer(nn_grade *g, int C, int H, int W, int F, long params, int Ho) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = C, .filters = F, .kernel = 3}, 9);
  int out[NN_MAX_DIMS];
  int nd = c->base.ops->out_shape(&c->base, (int[]){C, H, W}, 3, out);
  expect(g, nd == 3 && out[0] == F && out[1] == Ho && out[2] == Ho, "Conv2d(%d -> %d, 3x3) on (N, %d, %d, %d) "
         "gives (N, %d, %d, %d), expected (N, %d, %d, %d)", C, F, C, H, W, out[0], out[1], out[2], F, Ho, Ho);
  expect(g, nn_layer_param_count(&c->base) == params, "Conv2d(%d -> %d, 3x3) has %ld params, expected "
         "3*3*%d*%d + %d = %ld", C, F, nn_layer_param_count(&c->base), C, F, F, params);
  nn_shape in = nn_shape_image(C, H, W);
  nn_conv_opts o = nn_conv_opts_default(F, 3);
  nn_calc calc;
  nn_error err;
  nn_status st = nn_calc_conv2d(&in, &o, NN_PYTORCH, &calc, &err);
  expect(g, st == NN_OK, "nn_calc_conv2d: %s", err.msg);
  expect(g, calc.params == params && calc.out.dim[0] == out[0] && calc.out.dim[1] == out[1] &&
                calc.out.dim[2] == out[2],
         "the layer and nn_shapes disagree: %ld params and (%d, %d, %d) vs %ld and (%d, %d, %d)", params, out[0],
         out[1], out[2], calc.params, calc.out.dim[0], calc.out.dim[1], calc.out.dim[2]);
  free_layer(c);
}

Test(conv2d, seed_cnn_shapes_and_parameter_counts) {
  check_seed_layer(nn_grade_here(), 1, 28, 28, 32, 320, 26);     /* (3*3*1 + 1) * 32 = 320 */
  check_seed_layer(nn_grade_here(), 32, 13, 13, 64, 18496, 11);  /* (3*3*32 + 1) * 64 = 18,496, after a 2x2 max pool */
}

Test(conv2d, he_init_statistics) {
  nn_rng rng = nn_rng_new(3); /* the constructor's own draw (make() draws its own W) */
  nn_conv2d *c = nn_conv2d_new("conv1", &(nn_conv2d_config){.in_channels = 32, .filters = 64, .kernel = 3}, &rng);
  double sum = 0, sq = 0, fan_in = 32 * 3 * 3;
  long n = nn_numel(&c->W);
  for (long i = 0; i < n; i++) sum += c->W.data[i], sq += (double)c->W.data[i] * c->W.data[i];
  double var = sq / n - (sum / n) * (sum / n);
  cr_assert(fabs(var - 2 / fan_in) < 0.05 * 2 / fan_in, "He init: variance %g, expected 2 / (3*3*32) = %g", var,
            2 / fan_in);
  free_layer(c);
}

/* The bytes of `floats` floats as an arena hands them out: rounded up to its 64-byte alignment. */
static size_t arena_bytes(long floats) { return ((size_t)floats * sizeof(float) + 63) / 64 * 64; }

/* One training step of c on x (forward, then backward without dx) in the arena ws, reset first;
 * returns the bytes the forward borrowed, and in *step the bytes of the whole step. */
static size_t conv_step(nn_conv2d *c, nn_arena *ws, const nn_tensor *x, size_t *step) {
  nn_arena_reset(ws);
  nn_tensor y = output_for(nn_grade_here(), c, x);
  nn_tensor dy = nn_tensor_randn(4, y.shape, 2);
  nn_call call = call_on(ws);
  size_t before = nn_arena_used(ws);
  nn_conv2d_forward(c, &call, x, &y);
  size_t forward = nn_arena_used(ws) - before;
  nn_conv2d_backward(c, &call, &dy, NULL);
  *step = nn_arena_used(ws) - before;
  nn_tensor_free(&y), nn_tensor_free(&dy);
  return forward;
}

/* The layer owns no workspace: each call borrows exactly nn_conv2d_workspace_floats from its
 * arena (a forward the batch's im2col columns, which it keeps for backward when they fit, else
 * one buffer per thread; a backward a buffer and the partial dW, db per thread), and a
 * training step that resets the arena allocates nothing after the first step of its size: not
 * for the same input, not for a smaller one; more threads need a bigger workspace, which the
 * arena grows to once. The input is large enough (one image's im2col is 127 KiB) that the
 * workspace does not fit the arena's first block by chance. */
Test(conv2d, workspace_is_allocated_once) {
  /* one image's im2col (C*KH*KW, Ho*Wo) = (36, 900); a partial dW (F, C*KH*KW) = (8, 36) and db (8) */
  const long cols = 4L * 3 * 3 * 30 * 30, grads = 8L * 4 * 3 * 3 + 8;
  nn_set_threads(2);
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 4, .filters = 8, .kernel = 3}, 4);
  nn_tensor x = nn_tensor_randn(4, (int[]){3, 4, 32, 32}, 1), small = nn_tensor_randn(4, (int[]){1, 4, 5, 5}, 3);
  nn_conv_geom geom = nn_conv2d_geom(c, 32, 32), geom_small = nn_conv2d_geom(c, 5, 5);
  cr_assert_eq(nn_conv2d_workspace_floats(c, &geom, 3, 2, false), 3 * cols, "a forward on 3 images keeps their "
               "columns: %ld floats, expected 3 x C*KH*KW x Ho*Wo = %ld",
               nn_conv2d_workspace_floats(c, &geom, 3, 2, false), 3 * cols);
  cr_assert_eq(nn_conv2d_workspace_floats(c, &geom, 3, 2, true), 2 * (cols + grads), "on 2 threads a backward's "
               "workspace holds %ld floats, expected 2 x (C*KH*KW x Ho*Wo + F x C*KH*KW + F) = %ld",
               nn_conv2d_workspace_floats(c, &geom, 3, 2, true), 2 * (cols + grads));
  c->keep_floats = 2.0 * cols; /* 3 images' columns no longer fit: one buffer per thread */
  cr_assert_eq(nn_conv2d_workspace_floats(c, &geom, 3, 2, false), 2 * cols, "a forward that keeps no columns "
               "borrows one buffer per thread: %ld floats, expected 2 x %ld",
               nn_conv2d_workspace_floats(c, &geom, 3, 2, false), cols);
  c->keep_floats = NN_CONV2D_KEEP_FLOATS;
  nn_arena *ws = nn_arena_new(NN_CPU);
  size_t step, want_forward = arena_bytes(3 * cols), want_backward = arena_bytes(2 * (cols + grads));
  size_t forward = conv_step(c, ws, &x, &step);
  cr_assert_eq(forward, want_forward, "a forward on 3 images borrowed %zu bytes from its arena, expected the %ld "
               "floats of their columns (%zu bytes)", forward, 3 * cols, want_forward);
  cr_assert_eq(step, want_forward + want_backward, "forward and backward borrowed %zu bytes, expected %zu + %zu",
               step, want_forward, want_backward);
  nn_arena_reset(ws);
  long first = nn_arena_allocations(ws);
  cr_assert(first >= 1, "the first step allocated nothing");
  conv_step(c, ws, &x, &step);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a second step of the same input size allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  forward = conv_step(c, ws, &small, &step);
  cr_assert_eq(forward, arena_bytes(nn_conv2d_workspace_floats(c, &geom_small, 1, 2, false)), "on a (1, 4, 5, 5) "
               "input a forward borrowed %zu bytes, expected nn_conv2d_workspace_floats' %ld floats", forward,
               nn_conv2d_workspace_floats(c, &geom_small, 1, 2, false));
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), first, "a step of a smaller input allocated %ld more blocks",
               nn_arena_allocations(ws) - first);
  nn_set_threads(3);
  cr_assert_eq(nn_conv2d_workspace_floats(c, &geom, 3, 3, true), 3 * (cols + grads), "on 3 threads a backward's "
               "workspace holds %ld floats, expected 3 x %ld", nn_conv2d_workspace_floats(c, &geom, 3, 3, true),
               cols + grads);
  conv_step(c, ws, &x, &step);
  cr_assert_eq(step, want_forward + arena_bytes(3 * (cols + grads)), "on 3 threads a step borrowed %zu bytes, "
               "expected the kept columns (%zu) and 3 threads' backward buffers (%zu)", step, want_forward,
               arena_bytes(3 * (cols + grads)));
  nn_arena_reset(ws);
  long grown = nn_arena_allocations(ws);
  cr_assert(grown > first, "a step on 3 threads needs more arena than on 2, yet it allocated nothing");
  conv_step(c, ws, &x, &step);
  nn_arena_reset(ws);
  cr_assert_eq(nn_arena_allocations(ws), grown, "a second step on 3 threads allocated %ld more blocks",
               nn_arena_allocations(ws) - grown);
  nn_arena_free(ws);
  nn_tensor_free(&x), nn_tensor_free(&small);
  free_layer(c);
}

/* Backward reads the columns its forward kept, or recomputes them when the batch's were too
 * large to keep: both give the same bits (y, dW, db, dx), on 1 and 2 threads. And a second
 * backward through the same call gives the same gradients again: writing dx must not clobber
 * the kept columns. */
Test(conv2d, kept_and_recomputed_columns_give_the_same_gradients) {
  const nn_conv2d_config cfg = {.in_channels = 3, .filters = 5, .kernel = 3, .stride = 1, .pad = NN_PAD_EXPLICIT,
                                .padding = 1};
  nn_tensor x = nn_tensor_randn(4, (int[]){6, 3, 9, 8}, 41), dy = nn_tensor_randn(4, (int[]){6, 5, 9, 8}, 42);
  nn_tensor y[2], dx[2], dW[2], db[2], dW2[2];
  for (int threads = 1; threads <= 2; threads++) {
    nn_set_threads(threads);
    for (int k = 0; k < 2; k++) {
      nn_conv2d *c = make(cfg, 40);
      c->keep_floats = k == 0 ? NN_CONV2D_KEEP_FLOATS : 0; /* kept, then recomputed */
      nn_arena *ws = nn_arena_new(NN_CPU);
      nn_call call = call_on(ws);
      y[k] = nn_tensor_new(4, dy.shape, NN_CPU), dx[k] = nn_tensor_new(4, x.shape, NN_CPU);
      nn_conv2d_forward(c, &call, &x, &y[k]);
      cr_assert((call.saved != NULL) == (k == 0), "the forward %s its columns", k == 0 ? "did not keep" : "kept");
      nn_conv2d_backward(c, &call, &dy, &dx[k]);
      dW[k] = nn_tensor_to(&c->dW, NN_CPU), db[k] = nn_tensor_to(&c->db, NN_CPU);
      nn_conv2d_backward(c, &call, &dy, &dx[k]); /* again: every gradient doubles */
      dW2[k] = nn_tensor_to(&c->dW, NN_CPU);
      for (long i = 0; i < nn_numel(&c->dW); i++)
        cr_assert_float_eq(dW2[k].data[i], 2 * dW[k].data[i], 1e-5 * (1 + fabsf(dW[k].data[i])), "%s columns: "
                           "the second backward's dW[%ld] = %g, expected twice the first's %g", k ? "recomputed" :
                           "kept", i, dW2[k].data[i] - dW[k].data[i], dW[k].data[i]);
      nn_arena_free(ws);
      free_layer(c);
    }
    cr_assert(memcmp(y[0].data, y[1].data, nn_tensor_bytes(&y[0])) == 0, "%d threads: y differs", threads);
    cr_assert(memcmp(dW[0].data, dW[1].data, nn_tensor_bytes(&dW[0])) == 0, "%d threads: dW differs between kept "
              "and recomputed columns", threads);
    cr_assert(memcmp(db[0].data, db[1].data, nn_tensor_bytes(&db[0])) == 0, "%d threads: db differs", threads);
    cr_assert(memcmp(dx[0].data, dx[1].data, nn_tensor_bytes(&dx[0])) == 0, "%d threads: dx differs", threads);
    for (int k = 0; k < 2; k++) {
      nn_tensor_free(&y[k]), nn_tensor_free(&dx[k]), nn_tensor_free(&dW[k]), nn_tensor_free(&db[k]);
      nn_tensor_free(&dW2[k]);
    }
  }
  nn_tensor_free(&x), nn_tensor_free(&dy);
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
    y[k] = output_for(nn_grade_here(), c, &x), dx[k] = nn_tensor_new(4, x.shape, NN_CPU);
    nn_tensor dy = nn_tensor_randn(4, y[k].shape, 32);
    nn_arena *ws = nn_arena_new(NN_CPU);
    nn_call call = call_on(ws);
    nn_conv2d_forward(c, &call, &x, &y[k]);
    nn_conv2d_backward(c, &call, &dy, &dx[k]);
    dW[k] = nn_tensor_to(&c->dW, NN_CPU), db[k] = nn_tensor_to(&c->db, NN_CPU);
    nn_tensor_free(&dy);
    nn_arena_free(ws);
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
  nn_call call = call_on(nn_arena_new(NN_CPU));
  /* "nn_conv2d_forward: conv1: Conv2d(1 -> 32, 3x3) takes (N, 1, H, W) inputs, got (2, 3, 28, 28)" */
  nn_conv2d_forward(c, &call, &x, &y);
}

Test(conv2d, gpu_input_with_cpu_weights_aborts, .signal = SIGABRT) {
  nn_conv2d *c = make((nn_conv2d_config){.in_channels = 1, .filters = 2, .kernel = 3}, 1);
  float host[2 * 16];
  nn_tensor x = {.data = host, .shape = {2, 1, 4, 4}, .ndim = 4, .device = NN_GPU}; /* labelled GPU; never read */
  nn_tensor y = nn_tensor_new(4, (int[]){2, 2, 2, 2}, NN_CPU);
  nn_call call = call_on(nn_arena_new(NN_CPU));
  /* x on the GPU, the weights on the CPU: a mix, refused before x's data is touched */
  nn_conv2d_forward(c, &call, &x, &y);
}
