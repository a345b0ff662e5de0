/* nn_gemm.c: nn_sgemm's dispatch, its batches on the CPU, and the two CPU backends
 * the library owns: naive (the definition) and blocked (packed and cache-blocked;
 * 0.8-0.9x single-thread OpenBLAS on a Zen3 core, see `make bench`). */
#include "nn_gemm.h"

#include <string.h>

#include "nn_cuda.h"
#include "nn_parallel.h"

/* ANCHOR: op_elements */
/* Element (i, p) of op(A), where op(A) is (M, K); A is stored (M, K), or (K, M) when
 * ta, with rows lda floats apart. */
static inline float op_a(const float *A, bool ta, int lda, int i, int p) {
  return ta ? A[(long)p * lda + i] : A[(long)i * lda + p];
}
/* Element (p, j) of op(B), where op(B) is (K, N); B is stored (K, N), or (N, K) when
 * tb, with rows ldb floats apart. */
static inline float op_b(const float *B, bool tb, int ldb, int p, int j) {
  return tb ? B[(long)j * ldb + p] : B[(long)p * ldb + j];
}
/* ANCHOR_END: op_elements */

void nn_sgemm_naive(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                    const float *B, int ldb, float beta, float *C, int ldc) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float sum = 0.f; /* C[i][j] = sum_p op(A)[i][p] * op(B)[p][j] */
      for (int p = 0; p < K; p++) sum += op_a(A, ta, lda, i, p) * op_b(B, tb, ldb, p, j);
      float *c = &C[(long)i * ldc + j];
      *c = alpha * sum + (beta == 0.f ? 0.f : beta * *c);
    }
}

/* ---- blocked: the GotoBLAS / BLIS loop nest (Goto & van de Geijn 2008; Van Zee &
 * van de Geijn 2015). Five loops around a micro-kernel, each level sized to one cache:
 *
 *   for jc in steps of NC:        columns of C and op(B)
 *     for pc in steps of KC:      pack op(B)[pc:+KC, jc:+NC] into b_pack       (stays in L3)
 *       for ic in steps of MC:    pack op(A)[ic:+MC, pc:+KC] into a_pack       (stays in L2)
 *         for jr in steps of NR:  one (KC, NR) sliver of b_pack                (stays in L1)
 *           for ir in steps of MR:  one (KC, MR) sliver of a_pack, and
 *             C[ic+ir:+MR, jc+jr:+NR] += alpha * A_sliver @ B_sliver       (in registers)
 *
 * Packing copies each block into the order the micro-kernel reads it, so all its
 * loads are contiguous. Packing is also where ta and tb are handled: the
 * micro-kernel never sees a transpose, and one kernel serves all four cases.
 * Edge slivers are padded with zeros, so the micro-kernel always computes a full
 * MR x NR tile; only the part inside C is added to C.
 */

/* Floats per SIMD register: 8 with AVX (what -march=native finds on any x86 since
 * 2011), else 4 (SSE2, the x86-64 baseline an ARCH= build targets; ARM NEON).
 * vfloat is a GCC/Clang vector extension, not intrinsics: v + w and s * v act on
 * all lanes, and the same source compiles for AVX, SSE2 and NEON. */
#ifdef __AVX__
enum { VL = 8 };
#else
enum { VL = 4 };
#endif
typedef float vfloat __attribute__((vector_size(VL * sizeof(float))));

/* Block sizes, for one AMD Zen3 core (L1d 32 KiB, L2 512 KiB, L3 32 MiB shared):
 *   MR x NR = 6 x 16: the C tile is 12 of the 16 AVX registers (6 rows x 2 x 8
 *             floats), with 2 left for a row of B and 1 for an element of A. Each
 *             step of p loads 6 + 16 floats for 96 multiply-adds. (Without AVX:
 *             6 x 8, in 12 of the 16 SSE registers.)
 *   KC = 256: a B sliver (KC x NR = 16 KiB) stays in L1 while every A sliver of
 *             the block (KC x MR = 6 KiB) streams past it.
 *   MC = 72:  the packed A block (MC x KC = 72 KiB) stays in L2, reused for each
 *             B sliver of the panel.
 *   NC = 512: the packed B panel (KC x NC = 512 KiB) stays in L2/L3, reused for
 *             each A block. Larger MC and NC measured no faster here.
 * Both buffers live on nn_sgemm_blocked's stack: 584 KiB, fixed, far below the
 * 8 MiB default stack, so the op allocates nothing and needs no global. */
enum { MR = 6, NR = 2 * VL, KC = 256, MC = 72, NC = 512 };
_Static_assert(MC % MR == 0 && NC % NR == 0, "a block holds whole slivers");

static inline int imin(int a, int b) { return a < b ? a : b; }

/* C = beta * C, C with row stride ldc; beta = 0 writes zeros, so NaN in the old C
 * does not survive. */
static void scale_c(int M, int N, float beta, float *C, int ldc) {
  if (beta == 1.f) return;
  for (int i = 0; i < M; i++) {
    float *c_i = C + (long)i * ldc;
    for (int j = 0; j < N; j++) c_i[j] = beta == 0.f ? 0.f : beta * c_i[j];
  }
}

/* One sliver of op(A), MR rows tall, stored column by column; rows past M are 0:
 *   dst[p*MR + r] = op(A)[i0 + r][p0 + p]       dst: (kc, MR) */
static void pack_a_sliver(bool ta, int M, const float *A, int lda, int i0, int p0, int kc,
                          float *dst) {
  /* BEGIN SOLUTION */
  /* HINT: the micro-kernel reads op(A) in slivers MR rows tall, column by column: column p of the sliver is MR consecutive floats of dst, so one step of its loop finds them side by side (the layout is in the comment above; op_a() hides both the transpose and lda). The last sliver can run past row M: what must its extra rows hold so that they add nothing to C? */
  /* HINT2: two loops, p over the kc columns and r over the MR rows: dst at p*MR + r gets op(A)[i0 + r][p0 + p], read with op_a, when row i0 + r is below M, and 0.f for the rows past M (never read A there: it is out of bounds) */
  for (int p = 0; p < kc; p++)
    for (int r = 0; r < MR; r++)
      dst[p * MR + r] = i0 + r < M ? op_a(A, ta, lda, i0 + r, p0 + p) : 0.f;
  /* END SOLUTION */
}

/* One sliver of op(B), NR columns wide, stored row by row; columns past N are 0:
 *   dst[p*NR + c] = op(B)[p0 + p][j0 + c]       dst: (kc, NR) */
static void pack_b_sliver(bool tb, int N, const float *B, int ldb, int p0, int j0, int kc,
                          float *dst) {
  /* BEGIN SOLUTION */
  /* HINT: pack_a_sliver's mirror for op(B): the micro-kernel reads op(B) in slivers NR columns wide, row by row, so row p of the sliver is NR consecutive floats of dst (two vector loads). The last sliver can run past column N: what must its extra columns hold? */
  /* HINT2: two loops, p over the kc rows and c over the NR columns: dst at p*NR + c gets op(B)[p0 + p][j0 + c], read with op_b, when column j0 + c is left of N, and 0.f past it */
  for (int p = 0; p < kc; p++)
    for (int c = 0; c < NR; c++)
      dst[p * NR + c] = j0 + c < N ? op_b(B, tb, ldb, p0 + p, j0 + c) : 0.f;
  /* END SOLUTION */
}

/* a_pack: op(A)[ic:+mc, pc:+kc] as ceil(mc/MR) slivers of (kc, MR), back to back. */
static void pack_a(bool ta, int M, const float *A, int lda, int ic, int pc, int mc, int kc,
                   float *a_pack) {
  for (int ir = 0; ir < mc; ir += MR) pack_a_sliver(ta, M, A, lda, ic + ir, pc, kc, a_pack + ir * kc);
}

/* b_pack: op(B)[pc:+kc, jc:+nc] as ceil(nc/NR) slivers of (kc, NR), back to back. */
static void pack_b(bool tb, int N, const float *B, int ldb, int pc, int jc, int kc, int nc,
                   float *b_pack) {
  for (int jr = 0; jr < nc; jr += NR) pack_b_sliver(tb, N, B, ldb, pc, jc + jr, kc, b_pack + jr * kc);
}

/* ab = A_sliver @ B_sliver: (MR, kc) @ (kc, NR) from packed slivers, where
 *   a[p*MR + i] = op(A)[i][p]   and   b[p*NR + j] = op(B)[p][j].
 * Step p is an outer product: the row b[p*NR : +NR] (two vfloats) times each of
 * the MR elements of a's column, added into MR x 2 vfloat accumulators that stay
 * in registers for all kc steps: 12 multiply-adds of VL lanes per 8 loads.
 * gcc -std=c11 does not fuse a*b + c into one FMA (-ffp-contract=off); Zen3
 * multiplies and adds on separate pipes, so that costs nothing here.
 * noinline: inlined into macro_kernel, gcc 12 runs out of registers and reloads
 * B from memory at every step (58 instead of 80 GFLOP/s at n = 1024). */
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float ab[restrict MR][NR]) __attribute__((noinline));
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float ab[restrict MR][NR]) {
  /* BEGIN SOLUTION */
  /* HINT: the MR x NR block of C is the sum over p of an outer product: column p of the packed A (MR values, a[i] = op(A)[i][p]) times row p of the packed B (NR = 2 VL values). Keep the block in MR x 2 vector registers (vfloat), and store it in ab once at the end */
  /* HINT2: an MR x 2 array of vfloat accumulators starting at 0; for each p: two unaligned vector loads of b's row (memcpy into two vfloats), then for each row i, a[i] times each of them added into that row's two accumulators; step a by MR and b by NR; at the end copy the accumulators into ab */
  vfloat acc[MR][2] = {0}; /* acc[i][h] = ab[i][h*VL : +VL] */
  for (int p = 0; p < kc; p++, a += MR, b += NR) {
    vfloat b_lo, b_hi; /* op(B)[p][0:VL] and op(B)[p][VL:2VL]; memcpy = an unaligned load */
    memcpy(&b_lo, b, sizeof b_lo);
    memcpy(&b_hi, b + VL, sizeof b_hi);
    for (int i = 0; i < MR; i++) { /* a[i] = op(A)[i][p], broadcast to every lane */
      acc[i][0] += a[i] * b_lo;
      acc[i][1] += a[i] * b_hi;
    }
  }
  memcpy(ab, acc, sizeof acc);
  /* END SOLUTION */
}

/* C[0:m, 0:n] += alpha * ab[0:m, 0:n], C with row stride ldc. A tile on the edge of C
 * (m < MR or n < NR) adds only its valid part; the rest came from the zero padding. */
static void add_tile(int m, int n, float alpha, float ab[MR][NR], float *C, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) C[(long)i * ldc + j] += alpha * ab[i][j];
}

/* C[0:mc, 0:nc] += alpha * a_pack @ b_pack, C with row stride ldc. jr is the outer
 * loop, so one B sliver stays in L1 while all the A slivers of the block pass it. */
static void macro_kernel(int mc, int nc, int kc, float alpha, const float *a_pack,
                         const float *b_pack, float *C, int ldc) {
  for (int jr = 0; jr < nc; jr += NR)
    for (int ir = 0; ir < mc; ir += MR) {
      float ab[MR][NR];
      micro_kernel(kc, a_pack + ir * kc, b_pack + jr * kc, ab);
      add_tile(imin(MR, mc - ir), imin(NR, nc - jr), alpha, ab, C + (long)ir * ldc + jr, ldc);
    }
}

/* ANCHOR: blocked_loops */
/* C = alpha * op(A) @ op(B) + beta * C by the five loops drawn above; lda, ldb, ldc:
 * how far apart the stored rows of A, B and C are (nn_gemm.h). */
void nn_sgemm_blocked(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                      int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  _Alignas(64) float a_pack[MC * KC]; /* MC/MR slivers of (KC, MR) */
  _Alignas(64) float b_pack[KC * NC]; /* NC/NR slivers of (KC, NR) */
  scale_c(M, N, beta, C, ldc);
  for (int jc = 0; jc < N; jc += NC)
    for (int pc = 0; pc < K; pc += KC) {
      int nc = imin(NC, N - jc), kc = imin(KC, K - pc);
      pack_b(tb, N, B, ldb, pc, jc, kc, nc, b_pack);
      for (int ic = 0; ic < M; ic += MC) {
        int mc = imin(MC, M - ic);
        pack_a(ta, M, A, lda, ic, pc, mc, kc, a_pack);
        macro_kernel(mc, nc, kc, alpha, a_pack, b_pack, C + (long)ic * ldc + jc, ldc);
      }
    }
}
/* ANCHOR_END: blocked_loops */


/* ---- the entry points: check the arguments, pick the backend, spread a batch */

/* Aborts, naming fn and the numbers, unless the arguments keep nn_gemm.h's contract. */
static void check_args(const char *fn, bool ta, bool tb, int M, int N, int K, const float *A,
                       int lda, long stride_a, const float *B, int ldb, long stride_b,
                       const float *C, int ldc, long stride_c, int batch) {
  NN_REQUIRE(M >= 0 && N >= 0 && K >= 0, "%s: M=%d, N=%d, K=%d; sizes must be >= 0", fn, M, N, K);
  NN_REQUIRE(batch >= 1, "%s: batch=%d; it must be >= 1", fn, batch);
  /* each operand as stored: rows of a_row, b_row, N floats */
  int a_row = ta ? M : K, b_row = tb ? K : N;
  NN_REQUIRE(lda >= a_row, "%s: lda=%d, but A is stored (%d, %d) (M=%d, K=%d, ta=%d): lda must be >= %d",
             fn, lda, ta ? K : M, a_row, M, K, ta, a_row);
  NN_REQUIRE(ldb >= b_row, "%s: ldb=%d, but B is stored (%d, %d) (K=%d, N=%d, tb=%d): ldb must be >= %d",
             fn, ldb, tb ? N : K, b_row, K, N, tb, b_row);
  NN_REQUIRE(ldc >= N, "%s: ldc=%d, but C is (M, N) = (%d, %d): ldc must be >= %d", fn, ldc, M, N, N);
  NN_REQUIRE(stride_a >= 0 && stride_b >= 0 && stride_c >= 0,
             "%s: stride_a=%ld, stride_b=%ld, stride_c=%ld; strides must be >= 0", fn, stride_a,
             stride_b, stride_c);
  if (batch > 1 && M > 0 && N > 0) { /* no float of C in two items: they run at once */
    bool stacked = stride_c >= (long)(M - 1) * ldc + N;
    bool side_by_side = stride_c >= N && (long)(batch - 1) * stride_c + N <= ldc;
    NN_REQUIRE(stacked || side_by_side,
               "%s: the %d items of C overlap: each is (M, N) = (%d, %d) with ldc=%d, stride_c=%ld; "
               "stride_c must be >= (M-1)*ldc + N = %ld (one after another), or >= N = %d with "
               "(batch-1)*stride_c + N <= ldc (side by side)",
               fn, batch, M, N, ldc, stride_c, (long)(M - 1) * ldc + N, N);
  }
  NN_REQUIRE((A && B) || M == 0 || N == 0 || K == 0, "%s: A or B is NULL (M=%d, N=%d, K=%d)", fn,
             M, N, K);
  NN_REQUIRE(C || M == 0 || N == 0, "%s: C is NULL (M=%d, N=%d)", fn, M, N);
}

bool nn_gemm_available(nn_gemm_backend backend) {
  switch (backend) {
  case NN_GEMM_NAIVE:
  case NN_GEMM_BLOCKED: return true;
  case NN_GEMM_OPENBLAS: return nn_openblas_available();
  case NN_GEMM_CUBLAS:
  case NN_GEMM_TILED: return nn_cuda_available();
  case NN_GEMM_BACKENDS: break;
  }
  return false;
}

nn_device nn_gemm_device(nn_gemm_backend backend) {
  return backend == NN_GEMM_CUBLAS || backend == NN_GEMM_TILED ? NN_GPU : NN_CPU;
}

const char *nn_gemm_name(nn_gemm_backend backend) {
  static const char *names[NN_GEMM_BACKENDS] = {"naive", "blocked", "openblas", "cublas", "tiled"};
  return backend >= 0 && backend < NN_GEMM_BACKENDS ? names[backend] : "?";
}

/* One product on a CPU backend. */
static void cpu_product(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K,
                        float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                        float *C, int ldc) {
  switch (backend) {
  case NN_GEMM_NAIVE: nn_sgemm_naive(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); break;
  case NN_GEMM_BLOCKED: nn_sgemm_blocked(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); break;
  case NN_GEMM_OPENBLAS: nn_sgemm_openblas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc); break;
  default: nn_panic("nn_sgemm: '%s' is not a CPU backend", nn_gemm_name(backend));
  }
}

/* Item b of a batched operand; NULL stays NULL (A and B may be when K = 0). */
static const float *item(const float *X, long stride, int b) { return X ? X + b * stride : X; }

/* The CPU backends multiply one matrix at a time. A batch of at least as many items as
 * threads is shared out, whole items to each thread (each product then stays on its
 * thread); a shorter one runs item after item, each spread over the threads as one
 * nn_sgemm is (OpenBLAS's slabs). Items of C never overlap (check_args): no races.
 * One item never enters OpenMP: an idle `omp parallel ... if (0)` still costs ~0.3 us,
 * a third of a 32 x 32 x 32 product. */
static void cpu_batch(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K, float alpha,
                      const float *A, int lda, long stride_a, const float *B, int ldb,
                      long stride_b, float beta, float *C, int ldc, long stride_c, int batch) {
  bool spread = batch > 1 && batch >= nn_threads() && !nn_in_parallel() &&
                (double)M * N * K * batch >= NN_PARALLEL_MIN_WORK;
  if (!spread) {
    for (int b = 0; b < batch; b++)
      cpu_product(backend, ta, tb, M, N, K, alpha, item(A, stride_a, b), lda, item(B, stride_b, b),
                  ldb, beta, C + b * stride_c, ldc);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch; b++)
    cpu_product(backend, ta, tb, M, N, K, alpha, item(A, stride_a, b), lda, item(B, stride_b, b),
                ldb, beta, C + b * stride_c, ldc);
}

/* Every entry point ends here; fn is its name, for the messages. */
static void sgemm(const char *fn, nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K,
                  float alpha, const float *A, int lda, long stride_a, const float *B, int ldb,
                  long stride_b, float beta, float *C, int ldc, long stride_c, int batch) {
  check_args(fn, ta, tb, M, N, K, A, lda, stride_a, B, ldb, stride_b, C, ldc, stride_c, batch);
  NN_REQUIRE(nn_gemm_available(backend), "%s: backend '%s' is not available in this build", fn,
             nn_gemm_name(backend));
  if (M == 0 || N == 0) return;
  if (nn_gemm_device(backend) == NN_CPU)
    cpu_batch(backend, ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
              stride_c, batch);
  else if (backend == NN_GEMM_CUBLAS)
    nn_sgemm_cublas(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
                    stride_c, batch);
  else
    nn_sgemm_tiled_cuda(ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C, ldc,
                        stride_c, batch);
}

static nn_gemm_backend default_backend(nn_device device) {
  if (device == NN_GPU) return NN_GEMM_CUBLAS;
  return nn_openblas_available() ? NN_GEMM_OPENBLAS : NN_GEMM_BLOCKED;
}

void nn_sgemm_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K, float alpha,
                   const float *A, const float *B, float beta, float *C) {
  sgemm("nn_sgemm", backend, ta, tb, M, N, K, alpha, A, ta ? M : K, 0, B, tb ? K : N, 0, beta, C, N,
        0, 1);
}

void nn_sgemm_strided_batched_with(nn_gemm_backend backend, bool ta, bool tb, int M, int N, int K,
                                   float alpha, const float *A, int lda, long stride_a,
                                   const float *B, int ldb, long stride_b, float beta, float *C,
                                   int ldc, long stride_c, int batch) {
  sgemm("nn_sgemm_strided_batched", backend, ta, tb, M, N, K, alpha, A, lda, stride_a, B, ldb,
        stride_b, beta, C, ldc, stride_c, batch);
}

void nn_sgemm(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, const float *B,
              float beta, float *C, nn_device device) {
  sgemm("nn_sgemm", default_backend(device), ta, tb, M, N, K, alpha, A, ta ? M : K, 0, B,
        tb ? K : N, 0, beta, C, N, 0, 1);
}

void nn_sgemm_ld(bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc, nn_device device) {
  sgemm("nn_sgemm_ld", default_backend(device), ta, tb, M, N, K, alpha, A, lda, 0, B, ldb, 0, beta,
        C, ldc, 0, 1);
}

void nn_sgemm_strided_batched(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                              int lda, long stride_a, const float *B, int ldb, long stride_b,
                              float beta, float *C, int ldc, long stride_c, int batch,
                              nn_device device) {
  sgemm("nn_sgemm_strided_batched", default_backend(device), ta, tb, M, N, K, alpha, A, lda,
        stride_a, B, ldb, stride_b, beta, C, ldc, stride_c, batch);
}
