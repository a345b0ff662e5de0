/* nn_sgemm: every backend against a double-precision reference.
 *
 *   C = alpha * op(A) @ op(B) + beta * C,  op(A): (M, K), op(B): (K, N), C: (M, N)
 *
 * Shapes are odd on purpose: not multiples of the blocked kernel's MR, NR, MC, KC
 * or NC, so every edge sliver and partial tile is exercised, with all four
 * (ta, tb), alpha != 1, beta = 0 over a C full of NaN, and beta = 1 (how backward
 * accumulates dW). Float error is bounded by the magnitude of the terms, so the
 * tolerance of C[i][j] is (K + 2) * FLT_EPSILON * (|alpha| sum_p |a_ip||b_pj| + |beta c_ij|).
 * GPU backends are in the suite gemm_gpu and are skipped without a GPU.
 */
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graded.h"
#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_parallel.h"
#include "nn_rng.h"
#include "nn_tensor.h"

typedef struct { int M, N, K; } gemm_shape;
static const gemm_shape SHAPES[] = {
    {1, 1, 1}, {7, 5, 3}, {33, 65, 17}, {100, 1, 300}, {1, 257, 129},
    {13, 1031, 7},   /* N > 2 NC: three column panels, the last 7 wide */
    {155, 301, 513}, /* M > 2 MC, K > 2 KC: every loop of the blocked kernel has an edge */
};
enum { N_SHAPES = sizeof SHAPES / sizeof SHAPES[0] };

/* alpha and beta of the calls each case makes, and what C holds before the call. */
typedef struct { float alpha, beta; bool nan_c; } gemm_scale;
static const gemm_scale SCALES[] = {
    {1.5f, 0.f, true},   /* beta = 0 must ignore C, even NaN */
    {-0.5f, 1.f, false}, /* accumulate: C += -0.5 A B */
    {1.f, 0.25f, false},
};
enum { N_SCALES = sizeof SCALES / sizeof SCALES[0] };

/* One problem with its answer: A, B as stored for (ta, tb); C0 is C before the call.
 * ab = op(A) @ op(B) and abs_ab = |op(A)| @ |op(B)|, both (M, N), in double. */
typedef struct {
  int M, N, K;
  bool ta, tb;
  float *A, *B, *C0;
  double *ab, *abs_ab;
} gemm_case;

/* op(X)[r][c] for an operand that is (rows, cols), stored (cols, rows) when t. */
static double at(const float *X, bool t, int rows, int cols, int r, int c) {
  return t ? X[(long)c * rows + r] : X[(long)r * cols + c];
}

/* ab and abs_ab, from op(A), op(B) copied out in double: O(MNK) in cache-friendly order. */
static void reference(gemm_case *c) {
  double *a = nn_xcalloc((size_t)c->M * c->K, sizeof *a, "op(A) in double");
  double *b = nn_xcalloc((size_t)c->K * c->N, sizeof *b, "op(B) in double");
  for (int i = 0; i < c->M; i++)
    for (int p = 0; p < c->K; p++) a[(long)i * c->K + p] = at(c->A, c->ta, c->M, c->K, i, p);
  for (int p = 0; p < c->K; p++)
    for (int j = 0; j < c->N; j++) b[(long)p * c->N + j] = at(c->B, c->tb, c->K, c->N, p, j);
  for (int i = 0; i < c->M; i++)
    for (int p = 0; p < c->K; p++) {
      double a_ip = a[(long)i * c->K + p];
      double *ab = c->ab + (long)i * c->N, *abs_ab = c->abs_ab + (long)i * c->N;
      const double *b_p = b + (long)p * c->N;
      for (int j = 0; j < c->N; j++) ab[j] += a_ip * b_p[j], abs_ab[j] += fabs(a_ip * b_p[j]);
    }
  free(a), free(b);
}

static float *random_floats(nn_rng *rng, long n) {
  float *x = nn_xmalloc((size_t)n * sizeof *x, "random operand");
  nn_rng_fill_uniform(rng, x, n, -1.f, 1.f);
  return x;
}

static gemm_case case_new(gemm_shape s, bool ta, bool tb, uint64_t seed) {
  nn_rng rng = nn_rng_new(seed);
  gemm_case c = {s.M, s.N, s.K, ta, tb, NULL, NULL, NULL, NULL, NULL};
  c.A = random_floats(&rng, (long)s.M * s.K);
  c.B = random_floats(&rng, (long)s.K * s.N);
  c.C0 = random_floats(&rng, (long)s.M * s.N);
  c.ab = nn_xcalloc((size_t)s.M * s.N, sizeof *c.ab, "reference C");
  c.abs_ab = nn_xcalloc((size_t)s.M * s.N, sizeof *c.abs_ab, "reference |A||B|");
  reference(&c);
  return c;
}

static void case_free(gemm_case *c) {
  free(c->A), free(c->B), free(c->C0), free(c->ab), free(c->abs_ab);
}

/* C before the call: C0, or NaN everywhere when the scale says so. */
static float *c_before(const gemm_case *c, gemm_scale s) {
  long n = (long)c->M * c->N;
  float *C = nn_xmalloc((size_t)n * sizeof *C, "C");
  for (long i = 0; i < n; i++) C[i] = s.nan_c ? NAN : c->C0[i];
  return C;
}

/* C = backend(A, B, C) on the backend's own device, copied back into host C. */
static void run_backend(nn_gemm_backend b, const gemm_case *c, gemm_scale s, float *C) {
  if (nn_gemm_device(b) == NN_CPU) {
    nn_sgemm_with(b, c->ta, c->tb, c->M, c->N, c->K, s.alpha, c->A, c->B, s.beta, C);
    return;
  }
  nn_tensor hA = nn_tensor_from(1, (int[]){c->M * c->K}, c->A);
  nn_tensor hB = nn_tensor_from(1, (int[]){c->K * c->N}, c->B);
  nn_tensor hC = nn_tensor_from(1, (int[]){c->M * c->N}, C);
  nn_tensor dA = nn_tensor_to(&hA, NN_GPU), dB = nn_tensor_to(&hB, NN_GPU);
  nn_tensor dC = nn_tensor_to(&hC, NN_GPU);
  nn_sgemm_with(b, c->ta, c->tb, c->M, c->N, c->K, s.alpha, dA.data, dB.data, s.beta, dC.data);
  nn_tensor_copy(&hC, &dC);
  for (long i = 0; i < (long)c->M * c->N; i++) C[i] = hC.data[i];
  nn_tensor_free(&hA), nn_tensor_free(&hB), nn_tensor_free(&hC);
  nn_tensor_free(&dA), nn_tensor_free(&dB), nn_tensor_free(&dC);
}

/* Fails on the element of C furthest outside its tolerance, naming it and the case. C must
 * have come through an answer (check_c) so that the checker judges the worker's C.
 * laid_out: the operands were surrounded by NaN (judge_batched), another way to get one. */
static void judge_c(nn_grade *g, const char *who, const gemm_case *c, gemm_scale s, const float *C,
                    bool laid_out) {
  long worst = -1;
  double worst_excess = 0, worst_tol = 0, want_worst = 0;
  for (long e = 0; e < (long)c->M * c->N; e++) {
    double c0 = s.nan_c ? 0 : c->C0[e];
    double want = s.alpha * c->ab[e] + s.beta * c0;
    double terms = fabs(s.alpha) * c->abs_ab[e] + fabs(s.beta * c0);
    double tol = (c->K + 2) * FLT_EPSILON * terms + 1e-30; /* 1e-30: a C that must be exactly 0 */
    double excess = isnan(C[e]) ? INFINITY : fabs(C[e] - want) / tol;
    if (excess > 1 && excess > worst_excess)
      worst = e, worst_excess = excess, worst_tol = tol, want_worst = want;
  }
  /* where a NaN in C may have come from */
  const char *nan_hint = worst < 0 || !isnan(C[worst]) ? ""
                         : laid_out && s.nan_c ? "; C's items held NaN before the call (beta = 0 must ignore it), "
                                                 "and every float outside them is NaN (a wrong ld or stride reads one)"
                         : laid_out ? "; every float outside the matrices is NaN: a wrong ld or stride reads one"
                         : s.nan_c  ? "; C held NaN before the call: beta = 0 must ignore it"
                                    : "";
  expect(g, worst < 0, "%s: C[%ld][%ld] = %.6g, expected %.6g (M=%d, N=%d, K=%d, ta=%d, tb=%d, alpha=%g, "
         "beta=%g; tolerance %.2g)%s",
         who, worst / c->N, worst % c->N, C[worst], want_worst, c->M, c->N, c->K, c->ta,
         c->tb, s.alpha, s.beta, worst_tol, nan_hint);
}

/* The code under test's C, answered (the checker goes on with the worker's C), then judged. */
static void check_c(nn_grade *g, const char *who, const gemm_case *c, gemm_scale s, float *C) {
  answer(g, who, C, (long)c->M * c->N);
  judge_c(g, who, c, s, C, false);
}

/* Every shape x (ta, tb) x scale, for one backend: the public shapes, or four drawn ones
 * (up to 300 x 300 x 600, so the blocked kernel's edges fall elsewhere). */
static void check_backend(nn_grade *g, nn_gemm_backend b) {
  char who[64];
  snprintf(who, sizeof who, "nn_sgemm %s", nn_gemm_name(b));
  int n_shapes = nn_grade_public(g) ? N_SHAPES : 4;
  for (int i = 0; i < n_shapes; i++) {
    gemm_shape shape = nn_grade_public(g) ? SHAPES[i]
                                          : (gemm_shape){nn_grade_size(g, 0, 1, 300), nn_grade_size(g, 0, 1, 300),
                                                         nn_grade_size(g, 0, 1, 600)};
    for (int t = 0; t < 4; t++) {
      gemm_case c = case_new(shape, t & 1, t >> 1, nn_grade_seed(g, 1000 + 4 * i + t));
      for (int k = 0; k < N_SCALES; k++) {
        float *C = c_before(&c, SCALES[k]);
        run_backend(b, &c, SCALES[k], C);
        check_c(g, who, &c, SCALES[k], C);
        free(C);
      }
      case_free(&c);
    }
  }
}

GRADED_TEST(gemm, naive_matches_double_reference) { check_backend(g, NN_GEMM_NAIVE); }
GRADED_TEST(gemm, blocked_matches_double_reference) { check_backend(g, NN_GEMM_BLOCKED); }
Test(gemm, openblas_matches_double_reference) {
  if (!nn_gemm_available(NN_GEMM_OPENBLAS))
    cr_skip_test("openblas: libnn was built without OpenBLAS");
  check_backend(nn_grade_here(), NN_GEMM_OPENBLAS);
}

GRADED_TEST(gemm, nn_sgemm_on_cpu_matches_naive) {
  for (int t = 0; t < 4; t++) {
    gemm_case c = case_new(SHAPES[2], t & 1, t >> 1, 77 + t); /* 33 x 65 x 17 */
    gemm_scale s = {0.75f, 0.5f, false};
    float *C = c_before(&c, s), *C_naive = c_before(&c, s);
    nn_sgemm(c.ta, c.tb, c.M, c.N, c.K, s.alpha, c.A, c.B, s.beta, C, NN_CPU);
    nn_sgemm_with(NN_GEMM_NAIVE, c.ta, c.tb, c.M, c.N, c.K, s.alpha, c.A, c.B, s.beta, C_naive);
    check_c(g, "nn_sgemm (NN_CPU)", &c, s, C);
    answer(g, "the naive backend's C", C_naive, (long)c.M * c.N);
    for (long e = 0; e < (long)c.M * c.N; e++) {
      double tol = 2 * (c.K + 2) * FLT_EPSILON * (s.alpha * c.abs_ab[e] + fabs(s.beta * c.C0[e]));
      expect(g, fabs(C[e] - C_naive[e]) <= tol, "nn_sgemm (NN_CPU): C[%ld][%ld] = %.6g, naive gives %.6g "
             "(M=%d, N=%d, K=%d, ta=%d, tb=%d)", e / c.N, e % c.N, C[e], C_naive[e], c.M, c.N, c.K, c.ta, c.tb);
    }
    free(C), free(C_naive), case_free(&c);
  }
}

/* Outside a layer's loop over images, nn_sgemm spreads a product this large over the
 * threads: slabs of C's rows when M >= N, of its columns when M < N (nn_gemm_openblas.c).
 * Every (ta, tb) and scale, on 1, 2 and 3 threads (3 cuts 301 and 47 unevenly). */
GRADED_TEST(gemm, nn_sgemm_spread_over_threads_matches_double_reference) {
  static const gemm_shape spread[] = {{301, 47, 129}, {47, 301, 129}}; /* by rows; by columns */
  for (int threads = 1; threads <= 3; threads++) {
    nn_set_threads(threads);
    for (int i = 0; i < 2; i++)
      for (int t = 0; t < 4; t++) {
        gemm_case c = case_new(spread[i], t & 1, t >> 1, 500 + 4 * i + t);
        for (int k = 0; k < N_SCALES; k++) {
          float *C = c_before(&c, SCALES[k]);
          nn_sgemm(c.ta, c.tb, c.M, c.N, c.K, SCALES[k].alpha, c.A, c.B, SCALES[k].beta, C, NN_CPU);
          char who[64];
          snprintf(who, sizeof who, "nn_sgemm (NN_CPU) on %d threads", threads);
          check_c(g, who, &c, SCALES[k], C);
          free(C);
        }
        case_free(&c);
      }
  }
}

/* M = 0 or N = 0: nothing to write. K = 0: op(A) @ op(B) is all zeros, so C = beta * C. */
Test(gemm, zero_sizes_are_no_ops) {
  for (int b = 0; b < NN_GEMM_BACKENDS; b++) {
    if (!nn_gemm_available(b) || nn_gemm_device(b) != NN_CPU) continue;
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4] = {9, 9, 9, 9};
    nn_sgemm_with(b, false, false, 0, 2, 2, 1.f, A, B, 0.f, C);
    nn_sgemm_with(b, false, false, 2, 0, 2, 1.f, A, B, 0.f, C);
    for (int i = 0; i < 4; i++)
      cr_assert_eq(C[i], 9.f, "nn_sgemm %s with M = 0 or N = 0 wrote C[%d] = %g; it must not touch C",
                   nn_gemm_name(b), i, C[i]);
    nn_sgemm_with(b, false, false, 2, 2, 0, 1.f, A, B, 0.5f, C);
    for (int i = 0; i < 4; i++)
      cr_assert_eq(C[i], 4.5f, "nn_sgemm %s with K = 0, beta = 0.5: C[%d] = %g, expected 0.5 * 9 = 4.5",
                   nn_gemm_name(b), i, C[i]);
    C[1] = NAN;
    nn_sgemm_with(b, false, false, 2, 2, 0, 1.f, A, B, 0.f, C);
    for (int i = 0; i < 4; i++)
      cr_assert_eq(C[i], 0.f, "nn_sgemm %s with K = 0, beta = 0: C[%d] = %g, expected 0",
                   nn_gemm_name(b), i, C[i]);
  }
}

Test(gemm, negative_m_aborts, .signal = SIGABRT) {
  float A[1] = {1}, B[1] = {1}, C[1] = {0};
  nn_sgemm(false, false, -1, 1, 1, 1.f, A, B, 0.f, C, NN_CPU);
}

Test(gemm, negative_k_aborts, .signal = SIGABRT) {
  float A[1] = {1}, B[1] = {1}, C[1] = {0};
  nn_sgemm_with(NN_GEMM_BLOCKED, false, false, 1, 1, -3, 1.f, A, B, 0.f, C);
}

/* ---- leading dimensions and strided batches (nn_sgemm_strided_batched)
 *
 * A batch is `batch` ordinary gemm_cases (same M, N, K, ta, tb) laid out in one buffer per
 * operand: item b's stored rows ld floats apart, item b starting stride floats after item
 * b-1's start. Every other float is a signalling NaN: a backend that reads one (a wrong ld
 * or stride) poisons its C with NaN, and one that writes one (C's padding), even with
 * beta * C, changes its bits (arithmetic on a signalling NaN returns a quiet one). */
typedef struct {
  int lda, ldb, ldc;
  long stride_a, stride_b, stride_c;
  int batch;
} gemm_layout;

typedef struct {
  gemm_layout l;
  gemm_case *items; /* l.batch of them */
  float *A, *B;     /* the items' A and B laid out, outside_value() between them */
  long len_a, len_b, len_c;
} batched_case;

/* The floats a laid-out operand spans: up to the end of its last item's last row. */
static long span(int rows, int cols, int ld, long stride, int batch) {
  long n = rows == 0 || cols == 0 ? 0 : (batch - 1) * stride + (long)(rows - 1) * ld + cols;
  return n > 0 ? n : 1;
}

static float outside_value(void) {
  uint32_t bits = 0x7fa00000u; /* exponent all ones, quiet bit 0, payload not 0 */
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

static bool is_outside_value(float x) {
  float want = outside_value();
  return memcmp(&x, &want, sizeof x) == 0;
}

/* n floats of outside_value() */
static float *outside_floats(long n) {
  float *x = nn_xmalloc((size_t)n * sizeof *x, "laid-out operand");
  float v = outside_value();
  for (long i = 0; i < n; i++) memcpy(&x[i], &v, sizeof v);
  return x;
}

/* big[r*ld + c] = x[r*cols + c] for x: (rows, cols); and back. */
static void lay_out(float *big, const float *x, int rows, int cols, int ld) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) big[(long)r * ld + c] = x[(long)r * cols + c];
}
static void take_out(float *x, const float *big, int rows, int cols, int ld) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) x[(long)r * cols + c] = big[(long)r * ld + c];
}

/* Stride 0 makes every item share item 0's operand: copy it in, redo the reference. */
static void share_operands(gemm_case *c, const gemm_case *first, bool share_a, bool share_b) {
  if (!share_a && !share_b) return;
  if (share_a) memcpy(c->A, first->A, (size_t)c->M * c->K * sizeof *c->A);
  if (share_b) memcpy(c->B, first->B, (size_t)c->K * c->N * sizeof *c->B);
  memset(c->ab, 0, (size_t)c->M * c->N * sizeof *c->ab);
  memset(c->abs_ab, 0, (size_t)c->M * c->N * sizeof *c->abs_ab);
  reference(c);
}

static batched_case batched_new(gemm_shape s, bool ta, bool tb, gemm_layout l, uint64_t seed) {
  batched_case bc = {.l = l};
  int a_rows = ta ? s.K : s.M, a_cols = ta ? s.M : s.K, b_rows = tb ? s.N : s.K, b_cols = tb ? s.K : s.N;
  bc.len_a = span(a_rows, a_cols, l.lda, l.stride_a, l.batch);
  bc.len_b = span(b_rows, b_cols, l.ldb, l.stride_b, l.batch);
  bc.len_c = span(s.M, s.N, l.ldc, l.stride_c, l.batch);
  bc.A = outside_floats(bc.len_a), bc.B = outside_floats(bc.len_b);
  bc.items = nn_xcalloc((size_t)l.batch, sizeof *bc.items, "batch items");
  for (int b = 0; b < l.batch; b++) {
    gemm_case *c = &bc.items[b];
    *c = case_new(s, ta, tb, seed + 7919 * (uint64_t)b);
    if (b > 0) share_operands(c, &bc.items[0], l.stride_a == 0, l.stride_b == 0);
    lay_out(bc.A + b * l.stride_a, c->A, a_rows, a_cols, l.lda);
    lay_out(bc.B + b * l.stride_b, c->B, b_rows, b_cols, l.ldb);
  }
  return bc;
}

static void batched_free(batched_case *bc) {
  for (int b = 0; b < bc->l.batch; b++) case_free(&bc->items[b]);
  free(bc->items), free(bc->A), free(bc->B);
}

/* C before the call, laid out: each item's c_before, outside_value() between them. */
static float *batched_c_before(const batched_case *bc, gemm_scale s) {
  float *C = outside_floats(bc->len_c);
  for (int b = 0; b < bc->l.batch; b++) {
    const gemm_case *c = &bc->items[b];
    float *C_b = c_before(c, s);
    lay_out(C + b * bc->l.stride_c, C_b, c->M, c->N, bc->l.ldc);
    free(C_b);
  }
  return C;
}

/* n host floats as a tensor on dev (a copy). */
static nn_tensor floats_on(const float *x, long n, nn_device dev) {
  nn_tensor h = nn_tensor_from(1, (int[]){(int)n}, x);
  if (dev == NN_CPU) return h;
  nn_tensor d = nn_tensor_to(&h, dev);
  nn_tensor_free(&h);
  return d;
}

/* One nn_sgemm_strided_batched_with call on the backend's own device; C is host memory. */
static void run_batched(nn_gemm_backend b, const batched_case *bc, gemm_scale s, float *C) {
  const gemm_case *c = &bc->items[0];
  const gemm_layout *l = &bc->l;
  if (nn_gemm_device(b) == NN_CPU) {
    nn_sgemm_strided_batched_with(b, c->ta, c->tb, c->M, c->N, c->K, s.alpha, bc->A, l->lda, l->stride_a,
                                  bc->B, l->ldb, l->stride_b, s.beta, C, l->ldc, l->stride_c, l->batch);
    return;
  }
  nn_tensor dA = floats_on(bc->A, bc->len_a, NN_GPU), dB = floats_on(bc->B, bc->len_b, NN_GPU);
  nn_tensor dC = floats_on(C, bc->len_c, NN_GPU), hC = nn_tensor_new(1, (int[]){(int)bc->len_c}, NN_CPU);
  nn_sgemm_strided_batched_with(b, c->ta, c->tb, c->M, c->N, c->K, s.alpha, dA.data, l->lda, l->stride_a,
                                dB.data, l->ldb, l->stride_b, s.beta, dC.data, l->ldc, l->stride_c, l->batch);
  nn_tensor_copy(&hC, &dC);
  memcpy(C, hC.data, (size_t)bc->len_c * sizeof *C);
  nn_tensor_free(&dA), nn_tensor_free(&dB), nn_tensor_free(&dC), nn_tensor_free(&hC);
}

/* Each item of the laid-out C against its reference, and every float of C outside the
 * items still outside_value(), bit for bit. C must have come through an answer. */
static void judge_batched(nn_grade *g, const char *who, const batched_case *bc, gemm_scale s,
                          const float *C) {
  const gemm_layout *l = &bc->l;
  const gemm_case *c0 = &bc->items[0];
  bool *inside = nn_xcalloc((size_t)bc->len_c, sizeof *inside, "C's items");
  float *C_b = nn_xmalloc(((size_t)c0->M * c0->N + 1) * sizeof *C_b, "one item of C");
  for (int b = 0; b < l->batch; b++) {
    char item_who[256];
    snprintf(item_who, sizeof item_who, "%s, item %d of %d (lda=%d, ldb=%d, ldc=%d, stride_a=%ld, "
             "stride_b=%ld, stride_c=%ld)", who, b, l->batch, l->lda, l->ldb, l->ldc, l->stride_a,
             l->stride_b, l->stride_c);
    take_out(C_b, C + b * l->stride_c, c0->M, c0->N, l->ldc);
    judge_c(g, item_who, &bc->items[b], s, C_b, true);
    for (int i = 0; i < c0->M; i++)
      for (int j = 0; j < c0->N; j++) inside[b * l->stride_c + (long)i * l->ldc + j] = true;
  }
  long touched = -1;
  for (long e = 0; e < bc->len_c && touched < 0; e++)
    if (!inside[e] && !is_outside_value(C[e])) touched = e;
  expect(g, touched < 0, "%s: C[%ld] = %g lies outside every item of C (M=%d, N=%d, ldc=%d, stride_c=%ld, "
         "batch=%d) but was written; the call must not touch it", who, touched, C[touched], c0->M, c0->N,
         l->ldc, l->stride_c, l->batch);
  free(C_b), free(inside);
}

/* Every scale on one laid-out batch: C answered whole (padding too), then judged. */
static void check_batched(nn_grade *g, nn_gemm_backend b, const char *who, const batched_case *bc) {
  for (int k = 0; k < N_SCALES; k++) {
    float *C = batched_c_before(bc, SCALES[k]);
    run_batched(b, bc, SCALES[k], C);
    answer(g, "C, laid out with ldc and stride_c", C, bc->len_c);
    judge_batched(g, who, bc, SCALES[k], C);
    free(C);
  }
}

/* The layout of a batch whose rows are `pad` (A), pad + 1 (B) and pad + 2 (C) floats longer
 * than stored, and whose items are `gap` floats apart beyond their padded size. */
static gemm_layout padded_layout(gemm_shape s, bool ta, bool tb, int pad, int gap, int batch) {
  gemm_layout l = {.lda = (ta ? s.M : s.K) + pad, .ldb = (tb ? s.K : s.N) + pad + 1, .ldc = s.N + pad + 2,
                   .batch = batch};
  l.stride_a = (long)(ta ? s.K : s.M) * l.lda + gap;
  l.stride_b = (long)(tb ? s.N : s.K) * l.ldb + gap;
  l.stride_c = (long)s.M * l.ldc + gap;
  return l;
}

/* Public cases; at grade time the same count with drawn sizes, pads, gaps and batches. */
typedef struct { gemm_shape shape; int pad, gap, batch; } ld_case;
static const ld_case LD_CASES[] = {
    {{7, 5, 3}, 2, 0, 1},      /* one product, rows 2..4 floats longer than stored */
    {{33, 65, 17}, 3, 11, 4},  /* 4 items, 11 NaN floats after each padded item */
    {{1, 257, 129}, 1, 0, 3},  /* M = 1: a vector times a matrix, 3 times */
    {{155, 301, 513}, 5, 1, 2}, /* every loop of the blocked kernel has an edge, in both items */
};
enum { N_LD_CASES = sizeof LD_CASES / sizeof LD_CASES[0] };

/* Every case x (ta, tb) x scale on one backend, through nn_sgemm_strided_batched_with. */
static void check_backend_batched(nn_grade *g, nn_gemm_backend b) {
  char who[64];
  snprintf(who, sizeof who, "nn_sgemm_strided_batched %s", nn_gemm_name(b));
  for (int i = 0; i < N_LD_CASES; i++) {
    const ld_case *pc = &LD_CASES[i];
    gemm_shape shape = {nn_grade_size(g, pc->shape.M, 1, 200), nn_grade_size(g, pc->shape.N, 1, 200),
                        nn_grade_size(g, pc->shape.K, 1, 600)};
    int pad = nn_grade_size(g, pc->pad, 1, 9), gap = nn_grade_size(g, pc->gap, 0, 9);
    int batch = nn_grade_size(g, pc->batch, 1, 3);
    for (int t = 0; t < 4; t++) {
      bool ta = t & 1, tb = t >> 1;
      batched_case bc = batched_new(shape, ta, tb, padded_layout(shape, ta, tb, pad, gap, batch),
                                    nn_grade_seed(g, 3000 + 4 * i + t));
      check_batched(g, b, who, &bc);
      batched_free(&bc);
    }
  }
}

GRADED_TEST(gemm, naive_with_leading_dims_and_batches) { check_backend_batched(g, NN_GEMM_NAIVE); }
GRADED_TEST(gemm, blocked_with_leading_dims_and_batches) { check_backend_batched(g, NN_GEMM_BLOCKED); }
Test(gemm, openblas_with_leading_dims_and_batches) {
  if (!nn_gemm_available(NN_GEMM_OPENBLAS))
    cr_skip_test("openblas: libnn was built without OpenBLAS");
  check_backend_batched(nn_grade_here(), NN_GEMM_OPENBLAS);
}

/* Attention's heads, in place: H heads of size d side by side in the rows of wider matrices,
 * one call for all of them.
 *   scores_h = Q_h K_h^T   Q_h, K_h: (T, d) slices of qkv: (T, 3*H*d), lda = ldb = 3*H*d,
 *                          heads d floats apart; scores: (H, T, T), stride_c = T*T
 *   y_h = P_h V_h          P: (H, T, T); V_h a (T, d) slice of qkv; y_h written into the
 *                          columns h*d.. of y: (T, H*d), ldc = H*d, stride_c = d */
static void check_attention_heads(nn_grade *g, nn_gemm_backend b) {
  enum { T = 19, H = 4, d = 8 };
  char who[64];
  snprintf(who, sizeof who, "attention heads, nn_sgemm_strided_batched %s", nn_gemm_name(b));
  gemm_layout scores = {.lda = 3 * H * d, .ldb = 3 * H * d, .ldc = T, .stride_a = d, .stride_b = d,
                        .stride_c = (long)T * T, .batch = H};
  batched_case qk = batched_new((gemm_shape){T, T, d}, false, true, scores, 4000);
  check_batched(g, b, who, &qk);
  batched_free(&qk);
  gemm_layout heads = {.lda = T, .ldb = 3 * H * d, .ldc = H * d, .stride_a = (long)T * T, .stride_b = d,
                       .stride_c = d, .batch = H};
  batched_case pv = batched_new((gemm_shape){T, d, T}, false, false, heads, 4100);
  check_batched(g, b, who, &pv);
  batched_free(&pv);
}

Test(gemm, attention_heads_in_one_call_on_every_cpu_backend) {
  for (int b = 0; b < NN_GEMM_BACKENDS; b++)
    if (nn_gemm_available(b) && nn_gemm_device(b) == NN_CPU) check_attention_heads(nn_grade_here(), b);
}

/* The entry points layers call, nn_sgemm_ld and nn_sgemm_strided_batched on NN_CPU, on 1, 2 and
 * 3 threads: a batch of 5 is shared out over the threads, one of 2 runs item after item (each
 * product spread over the threads by OpenBLAS's slabs). */
Test(gemm, nn_sgemm_ld_and_strided_batched_on_cpu_match_double_reference) {
  nn_grade *g = nn_grade_here();
  static const gemm_shape shapes[] = {{301, 47, 129}, {47, 301, 129}};
  for (int threads = 1; threads <= 3; threads++) {
    nn_set_threads(threads);
    char who[64];
    for (int i = 0; i < 2; i++)
      for (int t = 0; t < 4; t++) {
        gemm_shape sh = shapes[i];
        bool ta = t & 1, tb = t >> 1;
        gemm_scale s = SCALES[t % N_SCALES];
        batched_case one = batched_new(sh, ta, tb, padded_layout(sh, ta, tb, 3, 0, 1), 600 + t);
        float *C = batched_c_before(&one, s);
        nn_sgemm_ld(ta, tb, sh.M, sh.N, sh.K, s.alpha, one.A, one.l.lda, one.B, one.l.ldb, s.beta, C,
                    one.l.ldc, NN_CPU);
        snprintf(who, sizeof who, "nn_sgemm_ld (NN_CPU) on %d threads", threads);
        judge_batched(g, who, &one, s, C);
        free(C), batched_free(&one);
        for (int batch = 2; batch <= 5; batch += 3) {
          batched_case bc = batched_new(sh, ta, tb, padded_layout(sh, ta, tb, 1, 2, batch), 700 + t);
          const gemm_layout *l = &bc.l;
          C = batched_c_before(&bc, s);
          nn_sgemm_strided_batched(ta, tb, sh.M, sh.N, sh.K, s.alpha, bc.A, l->lda, l->stride_a, bc.B, l->ldb,
                                   l->stride_b, s.beta, C, l->ldc, l->stride_c, batch, NN_CPU);
          snprintf(who, sizeof who, "nn_sgemm_strided_batched (NN_CPU) on %d threads", threads);
          judge_batched(g, who, &bc, s, C);
          free(C), batched_free(&bc);
        }
      }
  }
}

/* stride 0: every item multiplies the same A (or B), as a layer's shared weights would. */
Test(gemm, stride_zero_shares_one_operand) {
  gemm_shape sh = {9, 14, 11};
  for (int b = 0; b < NN_GEMM_BACKENDS; b++) {
    if (!nn_gemm_available(b) || nn_gemm_device(b) != NN_CPU) continue;
    char who[64];
    snprintf(who, sizeof who, "nn_sgemm_strided_batched %s", nn_gemm_name(b));
    for (int shared = 0; shared < 2; shared++) {
      gemm_layout l = padded_layout(sh, false, true, 2, 1, 3);
      if (shared == 0) l.stride_a = 0;
      else l.stride_b = 0;
      batched_case bc = batched_new(sh, false, true, l, 800 + shared);
      check_batched(nn_grade_here(), b, who, &bc);
      batched_free(&bc);
    }
  }
}

/* The zero sizes of zero_sizes_are_no_ops, in a padded batch of 2: M = 0 or N = 0 touch
 * nothing, K = 0 gives C_b = beta * C_b (A and B may then be NULL), padding untouched. */
Test(gemm, zero_sizes_in_a_batch) {
  for (int b = 0; b < NN_GEMM_BACKENDS; b++) {
    if (!nn_gemm_available(b) || nn_gemm_device(b) != NN_CPU) continue;
    /* C: two (2, 2) items with ldc = 3, stride_c = 7: [c c . c c . . | c c . c c], 8 in the
     * items, outside_value() elsewhere */
    float C[13];
    bool item[13];
    for (int i = 0; i < 13; i++) {
      item[i] = i % 7 != 2 && i % 7 != 5 && i % 7 != 6;
      C[i] = item[i] ? 8.f : outside_value();
    }
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    nn_sgemm_strided_batched_with(b, false, false, 0, 2, 2, 1.f, A, 2, 0, B, 2, 0, 0.f, C, 3, 7, 2);
    nn_sgemm_strided_batched_with(b, false, false, 2, 0, 2, 1.f, A, 2, 0, B, 2, 0, 0.f, C, 3, 7, 2);
    nn_sgemm_strided_batched_with(b, false, false, 2, 2, 0, 1.f, NULL, 0, 5, NULL, 2, 5, 0.5f, C, 3, 7, 2);
    for (int i = 0; i < 13; i++)
      cr_assert(item[i] ? C[i] == 4.f : is_outside_value(C[i]), "nn_sgemm_strided_batched %s, zero sizes: "
                "C[%d] = %g, expected %s (M = 0 and N = 0 write nothing, K = 0 with beta = 0.5 halves C's "
                "items, the floats between them stay untouched)", nn_gemm_name(b), i, C[i],
                item[i] ? "4" : "it untouched");
  }
}

/* Arguments that break the contract abort (and name the function and the numbers). */
Test(gemm, lda_shorter_than_a_stored_row_aborts, .signal = SIGABRT) {
  float A[12] = {0}, B[12] = {0}, C[12] = {0}; /* A stored (K, M) = (3, 4): lda must be >= 4 */
  nn_sgemm_ld(true, false, 4, 2, 3, 1.f, A, 3, B, 2, 0.f, C, 2, NN_CPU);
}

Test(gemm, ldb_shorter_than_a_stored_row_aborts, .signal = SIGABRT) {
  float A[12] = {0}, B[12] = {0}, C[12] = {0}; /* B stored (N, K) = (2, 3): ldb must be >= 3 */
  nn_sgemm_strided_batched_with(NN_GEMM_NAIVE, false, true, 4, 2, 3, 1.f, A, 3, 0, B, 2, 0, 0.f, C, 2, 0, 1);
}

Test(gemm, ldc_shorter_than_n_aborts, .signal = SIGABRT) {
  float A[12] = {0}, B[12] = {0}, C[12] = {0};
  nn_sgemm_ld(false, false, 2, 3, 2, 1.f, A, 2, B, 3, 0.f, C, 2, NN_CPU);
}

Test(gemm, batch_zero_aborts, .signal = SIGABRT) {
  float A[4] = {0}, B[4] = {0}, C[4] = {0};
  nn_sgemm_strided_batched(false, false, 2, 2, 1, 1.f, A, 1, 2, B, 2, 2, 0.f, C, 2, 4, 0, NN_CPU);
}

Test(gemm, negative_stride_aborts, .signal = SIGABRT) {
  float A[8] = {0}, B[8] = {0}, C[8] = {0};
  nn_sgemm_strided_batched(false, false, 2, 2, 1, 1.f, A + 4, 1, -2, B, 2, 2, 0.f, C, 2, 4, 2, NN_CPU);
}

Test(gemm, overlapping_items_of_c_abort, .signal = SIGABRT) {
  float A[8] = {0}, B[8] = {0}, C[8] = {0}; /* (2, 2) items of C 3 floats apart share a float */
  nn_sgemm_strided_batched(false, false, 2, 2, 1, 1.f, A, 1, 2, B, 2, 2, 0.f, C, 2, 3, 2, NN_CPU);
}

/* ---- GPU: the same checks on device pointers; skipped, never passed, without a GPU. */
GRADED_TEST(gemm_gpu, cublas_matches_double_reference) {
  nn_grade_need_gpu(g);
  check_backend(g, NN_GEMM_CUBLAS);
}

GRADED_TEST(gemm_gpu, tiled_matches_double_reference) {
  nn_grade_need_gpu(g);
  check_backend(g, NN_GEMM_TILED);
}

/* nn_sgemm on NN_GPU (device pointers, cuBLAS) against NN_CPU on the same numbers. */
Test(gemm_gpu, nn_sgemm_gpu_agrees_with_cpu) {
  if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe());
  for (int t = 0; t < 4; t++) {
    gemm_case c = case_new(SHAPES[6], t & 1, t >> 1, 99 + t); /* 155 x 301 x 513 */
    gemm_scale s = {1.f, 1.f, false};
    float *C_cpu = c_before(&c, s);
    nn_sgemm(c.ta, c.tb, c.M, c.N, c.K, s.alpha, c.A, c.B, s.beta, C_cpu, NN_CPU);
    nn_tensor A = nn_tensor_from(1, (int[]){c.M * c.K}, c.A);
    nn_tensor B = nn_tensor_from(1, (int[]){c.K * c.N}, c.B);
    nn_tensor C = nn_tensor_from(1, (int[]){c.M * c.N}, c.C0);
    nn_tensor dA = nn_tensor_to(&A, NN_GPU), dB = nn_tensor_to(&B, NN_GPU);
    nn_tensor dC = nn_tensor_to(&C, NN_GPU);
    nn_sgemm(c.ta, c.tb, c.M, c.N, c.K, s.alpha, dA.data, dB.data, s.beta, dC.data, NN_GPU);
    nn_tensor_copy(&C, &dC);
    long worst = 0; /* the element with the largest error relative to its tolerance */
    double worst_excess = 0, max_err = 0;
    for (long e = 0; e < (long)c.M * c.N; e++) {
      double tol = 2 * (c.K + 2) * FLT_EPSILON * (c.abs_ab[e] + fabs(c.C0[e]));
      double err = fabs(C.data[e] - C_cpu[e]), excess = isnan(err) ? INFINITY : err / tol;
      if (excess > worst_excess) worst = e, worst_excess = excess;
      if (err > max_err || isnan(err)) max_err = err; /* a NaN sticks */
    }
    cr_assert(worst_excess <= 1, "nn_sgemm: GPU C[%ld][%ld] = %.6g, CPU %.6g (M=%d, N=%d, K=%d, ta=%d, "
              "tb=%d); max |GPU - CPU| = %.2g, over its tolerance by %.1fx", worst / c.N, worst % c.N,
              C.data[worst], C_cpu[worst], c.M, c.N, c.K, c.ta, c.tb, max_err, worst_excess);
    free(C_cpu), case_free(&c);
    nn_tensor_free(&A), nn_tensor_free(&B), nn_tensor_free(&C);
    nn_tensor_free(&dA), nn_tensor_free(&dB), nn_tensor_free(&dC);
  }
}

GRADED_TEST(gemm_gpu, cublas_with_leading_dims_and_batches) {
  nn_grade_need_gpu(g);
  check_backend_batched(g, NN_GEMM_CUBLAS);
}

GRADED_TEST(gemm_gpu, tiled_with_leading_dims_and_batches) {
  nn_grade_need_gpu(g);
  check_backend_batched(g, NN_GEMM_TILED);
}

Test(gemm_gpu, attention_heads_in_one_call_on_every_gpu_backend) {
  if (!nn_cuda_available()) cr_skip_test("gpu: %s", nn_cuda_describe());
  check_attention_heads(nn_grade_here(), NN_GEMM_CUBLAS);
  check_attention_heads(nn_grade_here(), NN_GEMM_TILED);
}
