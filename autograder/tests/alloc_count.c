/* alloc_count.c: counting wrappers around glibc's allocator (alloc_count.h). */
#include "alloc_count.h"

#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <stdatomic.h>
#include <stddef.h>

static atomic_long calls;
static atomic_bool counting;

#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
bool nn_alloc_count_works(void) { return false; }
#else
bool nn_alloc_count_works(void) { return true; }

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

/* A call from inside OpenBLAS is the BLAS's own business, not the library's: OpenBLAS's
 * small-matrix kernels (sgemm_small_kernel_*, 0.3.21) malloc a packing buffer per call. */
static bool from_openblas(void *caller) {
  Dl_info info;
  return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "openblas");
}

static void note(void *caller) {
  if (atomic_load_explicit(&counting, memory_order_relaxed) && !from_openblas(caller)) atomic_fetch_add(&calls, 1);
}

void *malloc(size_t n) {
  note(__builtin_return_address(0));
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  note(__builtin_return_address(0));
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  note(__builtin_return_address(0));
  return __libc_realloc(p, n);
}
int posix_memalign(void **out, size_t align, size_t n) {
  note(__builtin_return_address(0));
  void *p = __libc_memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
#endif

void nn_alloc_count_start(void) {
  atomic_store(&calls, 0);
  atomic_store(&counting, true);
}

long nn_alloc_count_stop(void) {
  atomic_store(&counting, false);
  return atomic_load(&calls);
}
