/* nn_cifar.c: check CIFAR-10's records, then decode them into (N, 3, 32, 32) floats.
 *
 * A batch file has no header to check, so the checks are what the format fixes: a
 * whole number of 3,073-byte records, every label 0..9, and for the six official
 * files 10,000 records each. The whole file is checked before anything is decoded,
 * even when only a prefix is wanted: a corrupt file is found on the first run, not on
 * the day someone trains on all of it.
 */
#include "nn_cifar.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_file.h"

/* An official batch is 30,730,000 bytes; 1 GiB leaves room for a file of all 60,000
 * records while a corrupt or hostile .gz cannot inflate to all of memory. */
#define MAX_CIFAR_BYTES ((size_t)1 << 30)

/* What a missing file's message tells the student to run. */
#define HOW_TO_GET_CIFAR                                                                            \
  "get CIFAR-10 (a 170 MB download) with `make data`, or only it with `SETS=cifar-10 tools/fetch-data`; " \
  "both unpack it into " NN_CIFAR_DEFAULT_DIR "/. Offline: put cifar-10-binary.tar.gz in DIR/cifar-10/ "  \
  "and run `NN_DATA_MIRROR=DIR make data`"

static const char *const CLASS_NAMES[NN_CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

const char *nn_cifar_class_name(int label) {
  return label >= 0 && label < NN_CIFAR_CLASSES ? CLASS_NAMES[label] : "?";
}

/* record: the label byte, then 3072 pixel bytes -> *label and image: (3, 32, 32) in [0, 1] */
void nn_cifar_decode_record(const uint8_t *record, float *image, int *label) {
  NN_REQUIRE(record && image && label, "nn_cifar_decode_record: NULL record, image or label");
  /* BEGIN SOLUTION */
  /* HINT: byte 0 is the label; the 3072 bytes after it are the R, G and B planes, each 32 rows of 32. In what order does an image (C, H, W) keep its floats? Scale 0..255 to [0, 1] as for MNIST. */
  /* HINT2: the label is record[0]; the 3072 pixel bytes start at record + 1, and the file's pixel (c, h, w) sits at (c*32 + h)*32 + w, the very index it has in an image (C, H, W): so one loop over the 3072 values, each divided by 255 (not 256: 255 must become 1) */
  *label = record[0];
  const uint8_t *pixels = record + 1;
  /* pixel (c, h, w) is pixels[(c*32 + h)*32 + w] and image[(c*32 + h)*32 + w]: the same order */
  for (int i = 0; i < NN_CIFAR_PIXELS; i++) image[i] = (float)pixels[i] / 255.f;
  /* END SOLUTION */
}

/* ANCHOR: cifar_check_records */
/* The file as records: its length a whole number of records and every label 0..9.
 * *count gets the number of records. */
static nn_status check_records(const uint8_t *bytes, size_t len, const char *name, size_t *count,
                               nn_error *err) {
  *count = 0;
  if (len == 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: 0 bytes, an empty file; a CIFAR-10 batch is records of %d bytes; "
                   "get it again with `make data`", name, NN_CIFAR_RECORD);
  size_t whole = len / NN_CIFAR_RECORD, rest = len % NN_CIFAR_RECORD;
  if (rest != 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %zu bytes is not a whole number of %d-byte records (1 label byte + "
                   "%d pixel bytes): after %zu whole records, record %zu (from byte %zu) has only %zu of its %d "
                   "bytes. The file is cut short, or it is not a CIFAR-10 binary batch (CIFAR-100's records "
                   "are 3074 bytes; the Python version's files are pickles); get it again with `make data`",
                   name, len, NN_CIFAR_RECORD, NN_CIFAR_PIXELS, whole, whole, whole * NN_CIFAR_RECORD, rest,
                   NN_CIFAR_RECORD);
  if (whole > INT_MAX)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %zu records, more than a tensor's %d rows", name, whole, INT_MAX);
  for (size_t r = 0; r < whole; r++) {
    unsigned label = bytes[r * NN_CIFAR_RECORD];
    if (label >= NN_CIFAR_CLASSES)
      return nn_fail(err, NN_ERR_FORMAT, "%s: record %zu (byte %zu): label %u, but CIFAR-10's labels are 0..%d. "
                     "The file is corrupt, or it is not a CIFAR-10 batch (a CIFAR-100 record starts with two "
                     "label bytes, coarse and fine); get it again with `make data`", name, r,
                     r * NN_CIFAR_RECORD, label, NN_CIFAR_CLASSES - 1);
  }
  *count = whole;
  return NN_OK;
}
/* ANCHOR_END: cifar_check_records */

/* Records 0..n-1 of checked bytes into x: (n, 3, 32, 32) floats and y: (n) labels. */
static void decode_records(const uint8_t *bytes, int n, float *x, int *y) {
  for (int r = 0; r < n; r++)
    nn_cifar_decode_record(bytes + (size_t)r * NN_CIFAR_RECORD, x + (size_t)r * NN_CIFAR_PIXELS, &y[r]);
}

/* A new (n, 3, 32, 32) tensor and n labels, or NN_ERR_MEMORY (nothing kept). */
static nn_status alloc_set(int n, const char *name, nn_tensor *images, int **labels, nn_error *err) {
  float *x = malloc((size_t)n * NN_CIFAR_PIXELS * sizeof *x);
  int *y = malloc((size_t)n * sizeof *y);
  if (!x || !y) {
    free(x), free(y);
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %d images of 3x32x32 floats (%zu MB)", name, n,
                   (size_t)n * NN_CIFAR_PIXELS * sizeof *x >> 20);
  }
  *images = (nn_tensor){.data = x, .shape = {n, NN_CIFAR_CHANNELS, NN_CIFAR_SIDE, NN_CIFAR_SIDE}, .ndim = 4,
                        .device = NN_CPU};
  *labels = y;
  return NN_OK;
}

nn_status nn_cifar_parse(const uint8_t *bytes, size_t len, const char *name, int max, nn_tensor *images,
                         int **labels, nn_error *err) {
  NN_REQUIRE((bytes || len == 0) && name && images && labels, "nn_cifar_parse: NULL bytes, name, images or labels");
  NN_REQUIRE(max >= 0, "nn_cifar_parse: max is %d; it is >= 0 (0: every record)", max);
  *images = (nn_tensor){0};
  *labels = NULL;
  size_t count;
  nn_status st = check_records(bytes, len, name, &count, err);
  if (st != NN_OK) return st;
  int n = max > 0 && (size_t)max < count ? max : (int)count;
  st = alloc_set(n, name, images, labels, err);
  if (st == NN_OK) decode_records(bytes, n, images->data, *labels);
  return st;
}

/* All of path, or a message that says how to get CIFAR-10 when it is not there. */
static nn_status read_batch(const char *path, uint8_t **bytes, size_t *len, nn_error *err) {
  *bytes = NULL;
  *len = 0;
  if (access(path, F_OK) != 0) return nn_fail(err, NN_ERR_IO, "%s: not found; " HOW_TO_GET_CIFAR, path);
  return nn_file_read(path, MAX_CIFAR_BYTES, bytes, len, err);
}

nn_status nn_cifar_load_batch(const char *path, int max, nn_tensor *images, int **labels, nn_error *err) {
  NN_REQUIRE(path && images && labels, "nn_cifar_load_batch: NULL path, images or labels");
  *images = (nn_tensor){0};
  *labels = NULL;
  uint8_t *bytes;
  size_t len;
  nn_status st = read_batch(path, &bytes, &len, err);
  if (st == NN_OK) st = nn_cifar_parse(bytes, len, path, max, images, labels, err);
  free(bytes);
  return st;
}

/* One official file, read and checked: it must hold exactly 10,000 records. */
static nn_status read_official(const char *path, uint8_t **bytes, nn_error *err) {
  size_t len, count = 0;
  nn_status st = read_batch(path, bytes, &len, err);
  if (st == NN_OK) st = check_records(*bytes, len, path, &count, err);
  if (st == NN_OK && count != NN_CIFAR_BATCH_RECORDS)
    st = nn_fail(err, NN_ERR_FORMAT, "%s: %zu records (%zu bytes), but each official CIFAR-10 batch file holds "
                 "%d (%d bytes): it is cut short, or it is another file under this name; get it again with "
                 "`make data` (or `SETS=cifar-10 tools/fetch-data`)", path, count, len, NN_CIFAR_BATCH_RECORDS,
                 NN_CIFAR_BATCH_RECORDS * NN_CIFAR_RECORD);
  if (st != NN_OK) {
    free(*bytes);
    *bytes = NULL;
  }
  return st;
}

nn_status nn_cifar_load(const char *dir, const char *split, int max, nn_tensor *images, int **labels,
                        nn_error *err) {
  NN_REQUIRE(dir && split && images && labels, "nn_cifar_load: NULL dir, split, images or labels");
  NN_REQUIRE(!strcmp(split, "train") || !strcmp(split, "test"),
             "nn_cifar_load: split \"%s\", expected \"train\" or \"test\"", split);
  NN_REQUIRE(max >= 0, "nn_cifar_load: max is %d; it is >= 0 (0: the whole split)", max);
  *images = (nn_tensor){0};
  *labels = NULL;
  const bool train = !strcmp(split, "train");
  const int total = train ? NN_CIFAR_TRAIN : NN_CIFAR_TEST;
  const int n = max > 0 && max < total ? max : total;
  char path[4096];
  if (snprintf(path, sizeof path, "%s/data_batch_1.bin", dir) >= (int)sizeof path)
    return nn_fail(err, NN_ERR_ARG, "%s: the folder name is too long", dir);
  nn_status st = NN_OK;
  /* file f holds images [10,000 f, 10,000 (f + 1)) of the split; the tensor is made once
   * the first file is there, so a missing data set costs no 600 MB allocation */
  for (int f = 0, at = 0; st == NN_OK && at < n; f++, at += NN_CIFAR_BATCH_RECORDS) {
    if (train) snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, f + 1);
    else snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    uint8_t *bytes;
    st = read_official(path, &bytes, err);
    if (st == NN_OK && f == 0) st = alloc_set(n, dir, images, labels, err);
    if (st == NN_OK) {
      int take = n - at < NN_CIFAR_BATCH_RECORDS ? n - at : NN_CIFAR_BATCH_RECORDS;
      decode_records(bytes, take, images->data + (size_t)at * NN_CIFAR_PIXELS, *labels + at);
    }
    free(bytes);
  }
  if (st != NN_OK) {
    nn_tensor_free(images);
    free(*labels);
    *labels = NULL;
  }
  return st;
}
