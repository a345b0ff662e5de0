/* nn_file.c: read through zlib, write through a temporary file and rename(). */
#include "nn_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { CHUNK = 1 << 16 };

/* Grow *data to hold at least `need` bytes plus the closing '\0'; doubling keeps
 * the total copying linear in the file size. */
static bool grow(uint8_t **data, size_t *capacity, size_t need) {
  if (need + 1 <= *capacity) return true;
  size_t cap = *capacity ? *capacity : CHUNK;
  while (cap < need + 1) cap *= 2;
  uint8_t *bigger = realloc(*data, cap);
  if (!bigger) return false;
  *data = bigger;
  *capacity = cap;
  return true;
}

/* What went wrong inside gzread, in words a student can act on. */
static nn_status gz_failure(gzFile f, const char *path, size_t len, nn_error *err) {
  int code = 0;
  const char *why = gzerror(f, &code);
  size_t n = strlen(path); /* zlib says "path: what"; the message names the path once */
  if (strncmp(why, path, n) == 0 && why[n] == ':') why += n + (why[n + 1] == ' ' ? 2 : 1);
  if (code == Z_ERRNO)
    return nn_fail(err, NN_ERR_IO, "%s: read failed after %zu bytes (%s)", path, len, strerror(errno));
  return nn_fail(err, NN_ERR_FORMAT,
                 "%s: the gzip data is cut short or corrupt after %zu bytes (zlib: %s); "
                 "download it again (make data) or check it with `gzip -t`", path, len, why);
}

static nn_status read_all(gzFile f, const char *path, size_t max_bytes, uint8_t **data,
                          size_t *len, nn_error *err) {
  size_t capacity = 0;
  for (;;) {
    if (!grow(data, &capacity, *len + CHUNK))
      return nn_fail(err, NN_ERR_MEMORY, "%s: out of memory after %zu bytes", path, *len);
    int got = gzread(f, *data + *len, CHUNK);
    if (got < 0) return gz_failure(f, path, *len, err);
    if (got == 0) break;
    *len += (size_t)got;
    if (*len > max_bytes)
      return nn_fail(err, NN_ERR_FORMAT, "%s: more than %zu bytes (after gunzip); "
                     "this is not the file the loader expects", path, max_bytes);
  }
  /* gzread returns 0 both at the end and when a .gz stops mid-stream. */
  int code = 0;
  gzerror(f, &code);
  if (code != Z_OK) return gz_failure(f, path, *len, err);
  (*data)[*len] = '\0';
  return NN_OK;
}

nn_status nn_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                       nn_error *err) {
  NN_REQUIRE(path && data && len, "nn_file_read: NULL path, data or len");
  *data = NULL;
  *len = 0;
  gzFile f = gzopen(path, "rb");
  if (!f)
    return nn_fail(err, NN_ERR_IO, "%s: cannot open (%s)", path,
                   errno ? strerror(errno) : "out of memory");
  nn_status st = read_all(f, path, max_bytes, data, len, err);
  gzclose(f);
  if (st != NN_OK) {
    free(*data);
    *data = NULL;
    *len = 0;
  }
  return st;
}

nn_status nn_file_write_atomic(const char *path, const void *data, size_t len, nn_error *err) {
  NN_REQUIRE(path && (data || len == 0), "nn_file_write_atomic: NULL path or data");
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return nn_fail(err, NN_ERR_ARG, "%s: path too long", path);
  FILE *f = fopen(tmp, "wb");
  if (!f) return nn_fail(err, NN_ERR_IO, "%s: cannot create (%s)", tmp, strerror(errno));
  bool ok = fwrite(data, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved_errno = errno;
  if (fclose(f) != 0 && ok) ok = false, saved_errno = errno;
  if (ok && rename(tmp, path) != 0) ok = false, saved_errno = errno;
  if (!ok) {
    remove(tmp);
    return nn_fail(err, NN_ERR_IO, "%s: not written (%s); the previous file, if any, is unchanged",
                   path, strerror(saved_errno));
  }
  return NN_OK;
}
