/* nn_gemm_openblas.c: the OpenBLAS backend of nn_sgemm (built when OpenBLAS is found).
 *
 * OpenBLAS runs on the calling thread only; the threads are libnn's (nn_parallel.h).
 * A product big enough to share, called outside a parallel loop, is cut into one slab
 * per thread: the rows of C when M >= N, else its columns, each slab one cblas_sgemm.
 * Inside a layer's loop over images (or nn_gemm.c's over a batch) each call stays on its
 * thread. lda, ldb, ldc are cblas_sgemm's own: row-major, the stored row lengths or more. */
#include <cblas.h>
#include <pthread.h>

#include "nn_gemm.h"
#include "nn_parallel.h"

bool nn_openblas_available(void) { return true; }

/* OpenBLAS's own pool, sized to the cores at load time, set to 1 thread before the first
 * product: with it and OpenMP's both awake, 2 cores would have 3 busy threads. */
static pthread_once_t one_thread_once = PTHREAD_ONCE_INIT;
static void use_one_thread(void) { openblas_set_num_threads(1); }

/* Below this many multiply-adds a product is done before a second thread would start. */
enum { SHARE_MIN_MACS = 1 << 18, SLAB_ALIGN = 16 };

void nn_sgemm_openblas(bool ta, bool tb, int M, int N, int K, float alpha, const float *A,
                       int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  pthread_once(&one_thread_once, use_one_thread);
  const CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  const bool share = !nn_in_parallel() && nn_threads() > 1 && (double)M * N * K >= SHARE_MIN_MACS;
  if (!share) { /* BLAS wants ld >= 1 even for an empty row (K = 0) */
    cblas_sgemm(CblasRowMajor, opa, opb, M, N, K, alpha, A, lda > 0 ? lda : 1, B, ldb > 0 ? ldb : 1, beta, C,
                ldc > 0 ? ldc : 1);
    return;
  }
  const bool by_rows = M >= N;
  const int len = by_rows ? M : N;
#pragma omp parallel
  {
    /* This thread's slab [lo, hi) of C's rows (or columns), cut on multiples of 16. */
    int T = nn_threads(), t = nn_thread_index();
    int step = (len / T + SLAB_ALIGN - 1) / SLAB_ALIGN * SLAB_ALIGN;
    int lo = t * step < len ? t * step : len, hi = t == T - 1 || lo + step > len ? len : lo + step;
    if (hi > lo && by_rows) /* rows lo..hi of op(A) and of C */
      cblas_sgemm(CblasRowMajor, opa, opb, hi - lo, N, K, alpha, ta ? A + lo : A + (long)lo * lda, lda, B, ldb,
                  beta, C + (long)lo * ldc, ldc);
    else if (hi > lo) /* columns lo..hi of op(B) and of C */
      cblas_sgemm(CblasRowMajor, opa, opb, M, hi - lo, K, alpha, A, lda, tb ? B + (long)lo * ldb : B + lo, ldb,
                  beta, C + lo, ldc);
  }
}
