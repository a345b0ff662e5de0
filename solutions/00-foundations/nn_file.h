/* nn_file.h: whole-file reads (gzip or plain) and atomic writes, for every loader.
 *
 * Every loader of the course reads its file in one go with nn_file_read, then
 * parses the bytes from memory. That split keeps each parser free of I/O, so a
 * fuzzer can feed it mutated bytes directly (autograder/fuzz/), and it makes
 * ".gz or not" one decision in one place: zlib's gzread inflates gzip files and
 * passes any other file through unchanged.
 */
#ifndef NN_FILE_H
#define NN_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "nn_common.h"

/* Read all of `path` (gunzipped if it is gzip) into a new buffer *data of *len
 * bytes, followed by one '\0' that *len does not count, so text parsers can
 * stop at it. More than max_bytes after inflating is an error: a corrupt or
 * hostile .gz must not inflate to all of memory. The caller frees *data.
 * Errors: NN_ERR_IO (missing, unreadable), NN_ERR_FORMAT (a .gz cut short or
 * corrupt), NN_ERR_MEMORY; on error *data is NULL. */
nn_status nn_file_read(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                       nn_error *err);

/* Write `len` bytes to `path` so that it is either the old file or the whole
 * new one, never half: write path.tmp, fsync, rename over path. */
nn_status nn_file_write_atomic(const char *path, const void *data, size_t len, nn_error *err);

#endif
