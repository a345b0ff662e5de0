/* nn_common.c: error reporting shared by the whole library. */
#include "nn_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
