/* nn_parallel.c: OpenMP's thread pool, or one thread when built without OpenMP. */
#include "nn_parallel.h"

#include "nn_common.h"

#ifdef _OPENMP
#include <omp.h>

int nn_threads(void) { return omp_in_parallel() ? omp_get_num_threads() : omp_get_max_threads(); }
void nn_set_threads(int n) {
  NN_REQUIRE(n >= 1, "nn_set_threads: n is %d; it must be at least 1", n);
  omp_set_num_threads(n);
}
int nn_thread_index(void) { return omp_get_thread_num(); }
bool nn_in_parallel(void) { return omp_in_parallel(); }

#else

int nn_threads(void) { return 1; }
void nn_set_threads(int n) { NN_REQUIRE(n >= 1, "nn_set_threads: n is %d; it must be at least 1", n); }
int nn_thread_index(void) { return 0; }
bool nn_in_parallel(void) { return false; }

#endif
