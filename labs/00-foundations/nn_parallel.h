/* nn_parallel.h: how libnn uses more than one core.
 *
 * One thread pool for the whole library: OpenMP's. A layer spreads its batch over the
 * threads (`#pragma omp parallel for` over the images or the (n, c) planes, each thread
 * with its own workspace); nn_sgemm, called outside such a loop, spreads the rows of C;
 * OpenBLAS itself always runs on the calling thread. Two pools (OpenBLAS's and ours)
 * would fight over the cores: on 2 cores PyTorch is fastest the same way, its OpenMP
 * pool with BLAS on 1 thread (bench_cnn prints both).
 *
 * Threads: OMP_NUM_THREADS when set, else one per core; nn_set_threads changes it.
 * A given thread count gives the same bits every run (static schedules; per-thread
 * partial gradients added in thread order). Another count may change the last bits of
 * a summed gradient, as PyTorch's results do.
 *
 * Built without OpenMP (clang's fuzzers), the pragmas are ignored and everything
 * runs on one thread; these functions then say 1 and 0.
 */
#ifndef NN_PARALLEL_H
#define NN_PARALLEL_H

#include <stdbool.h>

/* A loop with less work than this (multiply-adds, or cells touched) runs on one thread
 * (`#pragma omp parallel for if (work >= NN_PARALLEL_MIN_WORK)`): waking a second thread
 * costs microseconds, more than a small layer's whole forward (PyTorch's grain size is
 * the same idea). */
enum { NN_PARALLEL_MIN_WORK = 1 << 15 };

/* The threads a parallel loop started now would use (>= 1). */
int nn_threads(void);
/* Use n >= 1 threads from now on, for every layer and nn_sgemm (omp_set_num_threads). */
void nn_set_threads(int n);
/* Inside a parallel loop: this thread's number, 0 .. nn_threads() - 1; outside: 0. */
int nn_thread_index(void);
/* True inside a parallel loop: nested work (nn_sgemm) then stays on its thread. */
bool nn_in_parallel(void);

#endif
