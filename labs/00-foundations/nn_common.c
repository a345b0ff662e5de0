/* nn_common.c: error reporting shared by the whole library. */
#include "nn_common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

nn_status nn_fail(nn_error *err, nn_status code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

const char *nn_device_name(nn_device device) { return device == NN_GPU ? "GPU" : "CPU"; }

const char *nn_status_name(nn_status code) {
  switch (code) {
  case NN_OK: return "NN_OK";
  case NN_ERR_IO: return "NN_ERR_IO";
  case NN_ERR_FORMAT: return "NN_ERR_FORMAT";
  case NN_ERR_MEMORY: return "NN_ERR_MEMORY";
  case NN_ERR_ARG: return "NN_ERR_ARG";
  case NN_ERR_UNSUPPORTED: return "NN_ERR_UNSUPPORTED";
  }
  return "NN_ERR_?";
}

void nn_panic(const char *fmt, ...) {
  /* The threads of one parallel loop can make the same mistake at once (a lab's stub, a
   * bad shape): the first says it and aborts; the others wait for the end that brings,
   * so the message is printed once and the process dies of that one SIGABRT. */
  static atomic_flag panicking = ATOMIC_FLAG_INIT;
  if (atomic_flag_test_and_set(&panicking))
    for (;;) pause();
  va_list ap;
  va_start(ap, fmt);
  fputs("libnn: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(stderr);
  abort();
}

void *nn_xmalloc(size_t bytes, const char *what) {
  void *p = malloc(bytes ? bytes : 1);
  if (!p) nn_panic("out of memory allocating %zu bytes for %s", bytes, what);
  return p;
}

void *nn_xcalloc(size_t count, size_t size, const char *what) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p) nn_panic("out of memory allocating %zu x %zu bytes for %s", count, size, what);
  return p;
}
