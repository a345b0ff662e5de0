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

/* Fails on the element of C furthest outside its tolerance, naming it and the case. C is
 * the code under test's answer: the checker goes on with the worker's C. */
static void check_c(nn_grade *g, const char *who, const gemm_case *c, gemm_scale s, float *C) {
  answer(g, who, C, (long)c->M * c->N);
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
  expect(g, worst < 0, "%s: C[%ld][%ld] = %.6g, expected %.6g (M=%d, N=%d, K=%d, ta=%d, tb=%d, alpha=%g, "
         "beta=%g; tolerance %.2g)%s",
         who, worst / c->N, worst % c->N, C[worst], want_worst, c->M, c->N, c->K, c->ta,
         c->tb, s.alpha, s.beta, worst_tol,
         s.nan_c && isnan(C[worst]) ? "; C held NaN before the call: beta = 0 must ignore it" : "");
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
