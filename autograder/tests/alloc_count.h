/* alloc_count.h: how many times the process called malloc, calloc, realloc or
 * posix_memalign between two points, for the tests that a training step allocates nothing.
 *
 *   nn_alloc_count_start();
 *   ... a training step ...
 *   long n = nn_alloc_count_stop();      0 is the goal
 *
 * It works by defining those functions in the test program, counting, and passing each
 * call on to glibc's own (__libc_malloc, ...). Calls made from inside OpenBLAS are not
 * counted: its small-matrix kernels allocate per call, which no caller can change. Under AddressSanitizer (make test DEBUG=1)
 * the sanitizer owns malloc: nn_alloc_count_works() is false there and the tests skip. */
#ifndef ALLOC_COUNT_H
#define ALLOC_COUNT_H

#include <stdbool.h>

bool nn_alloc_count_works(void);
void nn_alloc_count_start(void);
long nn_alloc_count_stop(void);

#endif
