/* nn_common.h: devices, status codes and the two kinds of error.
 *
 * A programming error (wrong shape, NULL, wrong device) is a bug in the caller:
 * NN_REQUIRE aborts with a message naming the function and the shapes.
 * A user or data error (missing file, corrupt IDX, ragged CSV) is not a bug:
 * the function returns an nn_status and fills an nn_error with a message that
 * says what is wrong and what to do. Nothing half-written is left behind.
 */
#ifndef NN_COMMON_H
#define NN_COMMON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { NN_CPU = 0, NN_GPU = 1 } nn_device;

typedef enum {
  NN_OK = 0,
  NN_ERR_IO,          /* file missing, unreadable, disk full */
  NN_ERR_FORMAT,      /* the bytes are not what the format says */
  NN_ERR_MEMORY,      /* allocation failed */
  NN_ERR_ARG,         /* a bad value from the user (a column name that is not there) */
  NN_ERR_UNSUPPORTED  /* a feature this build lacks (no GPU, no OpenBLAS) */
} nn_status;

/* Where a data error is described. Callers that do not care may pass NULL. */
typedef struct {
  nn_status code;
  char msg[512];
} nn_error;

/* Record an error (printf-style message) and return its code, so a loader can
 * write `return nn_fail(err, NN_ERR_FORMAT, "%s: ...", path);`. */
nn_status nn_fail(nn_error *err, nn_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "NN_ERR_FORMAT" etc., for tests and messages. */
const char *nn_status_name(nn_status code);
/* "CPU" or "GPU", for messages. */
const char *nn_device_name(nn_device device);

/* Print "libnn: <message>" to stderr and abort(): for programming errors. */
void nn_panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define NN_REQUIRE(cond, ...) \
  do {                        \
    if (!(cond)) nn_panic(__VA_ARGS__); \
  } while (0)

/* malloc/calloc that panic with the size and purpose when memory runs out.
 * For the library's own buffers; loaders use plain malloc and return
 * NN_ERR_MEMORY, because a corrupt header must not kill the program. */
void *nn_xmalloc(size_t bytes, const char *what);
void *nn_xcalloc(size_t count, size_t size, const char *what);

/* What tools/mklabs puts where a lab's solution region was: the program stops
 * and says which function of which lab is still to be written. */
#define NN_LAB_STUB(lab, fn) \
  nn_panic("lab %s: %s is not written yet (the TODO in %s)", lab, fn, __FILE__)

static inline int nn_ceil_div(int a, int b) { return (a + b - 1) / b; }

#endif
