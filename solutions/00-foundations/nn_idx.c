/* nn_idx.c: check an IDX header against the bytes that follow it, then convert.
 *
 * The parser trusts nothing in the header: each dim is read only after checking
 * that the header is long enough to hold it, the element count is a 64-bit
 * product that saturates instead of wrapping, and it must equal the number of
 * bytes after the header exactly, so a file is never loaded short or padded.
 */
#include "nn_idx.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_file.h"

/* Full MNIST's training images are 47 MB unpacked; 1 GiB leaves room for
 * bigger sets while a corrupt or hostile .gz cannot inflate to all of memory. */
#define MAX_IDX_BYTES ((size_t)1 << 30)
enum { IDX_TYPE_UBYTE = 0x08 };

static uint32_t read_be32(const uint8_t *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* a * b, or UINT64_MAX when it would not fit: "more than any buffer" is all
 * the length check below needs to know. */
static uint64_t mul_saturating(uint64_t a, uint64_t b) {
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static const char *kind_of(uint32_t magic) {
  switch (magic) {
  case NN_IDX_MAGIC_IMAGES: return "images: 3 dims N, H, W";
  case NN_IDX_MAGIC_LABELS: return "labels: 1 dim N";
  }
  return "IDX";
}

/* "(8000, 28, 28)" for messages. */
static void dims_text(const uint32_t *dims, int ndim, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "(");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, i ? ", %u" : "%u", dims[i]);
  if (used < size) snprintf(buf + used, size - used, ")");
}

/* Bytes 0..3: 0x00 0x00, the element type, the number of dims. Each wrong
 * byte gets its own message, since each points to a different mistake. */
static nn_status check_magic(const uint8_t *bytes, size_t len, const char *name, uint32_t magic,
                             nn_error *err) {
  if (len < 4)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %zu bytes, too short for an IDX file (it starts with "
                   "the 4-byte magic 0x%08x, %s)", name, len, magic, kind_of(magic));
  uint32_t got = read_be32(bytes);
  if (got == magic) return NN_OK;
  if (bytes[0] != 0 || bytes[1] != 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: IDX magic 0x%08x, expected 0x%08x (%s); an IDX file "
                   "starts with two zero bytes, so this is not one (still compressed? another "
                   "format?)", name, got, magic, kind_of(magic));
  if (bytes[2] != IDX_TYPE_UBYTE)
    return nn_fail(err, NN_ERR_FORMAT, "%s: IDX magic 0x%08x, expected 0x%08x (%s): element type "
                   "0x%02x at byte 2, but only 0x08 (unsigned byte) is read", name, got, magic,
                   kind_of(magic), bytes[2]);
  const char *hint = got == NN_IDX_MAGIC_LABELS   ? "; this is a labels file"
                     : got == NN_IDX_MAGIC_IMAGES ? "; this is an images file"
                                                  : "";
  return nn_fail(err, NN_ERR_FORMAT, "%s: IDX magic 0x%08x, expected 0x%08x (%s): byte 3, the "
                 "number of dims, is %u, expected %u%s", name, got, magic, kind_of(magic), bytes[3],
                 magic & 0xffu, hint);
}

/* The dims after the magic: each 1..INT_MAX (they become int tensor dims). */
static nn_status read_dims(const uint8_t *bytes, size_t len, const char *name, int ndim,
                           uint32_t *dims, nn_error *err) {
  size_t header = 4 + 4 * (size_t)ndim;
  if (len < header)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %zu bytes, but the header of an IDX file with %d "
                   "dims is %zu bytes: the file is cut short; download it again", name, len, ndim,
                   header);
  for (int d = 0; d < ndim; d++) {
    size_t at = 4 + 4 * (size_t)d;
    dims[d] = read_be32(bytes + at);
    if (dims[d] == 0 || dims[d] > INT_MAX)
      return nn_fail(err, NN_ERR_FORMAT, "%s: dim %d (at byte %zu) is %u, expected 1..%d", name,
                     d, at, dims[d], INT_MAX);
  }
  return NN_OK;
}

nn_status nn_idx_parse(const uint8_t *bytes, size_t len, const char *name, uint32_t magic,
                       nn_idx_view *view, nn_error *err) {
  NN_REQUIRE((bytes || len == 0) && name && view, "nn_idx_parse: NULL bytes, name or view");
  NN_REQUIRE(magic >= 0x801 && magic <= 0x803, "nn_idx_parse: magic 0x%08x is not 0x00000801 "
             "(labels) .. 0x00000803 (images)", magic);
  *view = (nn_idx_view){0};
  int ndim = (int)(magic & 0xffu);
  uint32_t dims[3] = {0};
  nn_status st = check_magic(bytes, len, name, magic, err);
  if (st == NN_OK) st = read_dims(bytes, len, name, ndim, dims, err);
  if (st != NN_OK) return st;
  /* ANCHOR: idx_length_check */
  /* elements = prod(dims) bytes, exactly what follows the header */
  size_t header = 4 + 4 * (size_t)ndim, body = len - header;
  uint64_t need = 1;
  for (int d = 0; d < ndim; d++) need = mul_saturating(need, dims[d]);
  char shape[64];
  dims_text(dims, ndim, shape, sizeof shape);
  if (need > body)
    return nn_fail(err, NN_ERR_FORMAT, "%s: the header says %s = %llu elements after the %zu-byte "
                   "header, but the file ends at byte %zu with only %zu: it is cut short; "
                   "download it again", name, shape, (unsigned long long)need, header, len, body);
  if (need < body)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %llu unexpected bytes from byte %llu on, after the "
                   "last of the %s = %llu elements the header declares; not a plain IDX file",
                   name, (unsigned long long)(body - need), (unsigned long long)(header + need),
                   shape, (unsigned long long)need);
  /* ANCHOR_END: idx_length_check */
  view->ndim = ndim;
  for (int d = 0; d < ndim; d++) view->dims[d] = (int)dims[d];
  view->elements = bytes + header;
  return NN_OK;
}

nn_status nn_idx_view_to_images(const nn_idx_view *view, const char *name, nn_tensor *images,
                                nn_error *err) {
  NN_REQUIRE(view && name && images && view->ndim == 3,
             "nn_idx_view_to_images: need a parsed images view (3 dims), got %d dims",
             view ? view->ndim : -1);
  *images = (nn_tensor){0};
  int N = view->dims[0], H = view->dims[1], W = view->dims[2];
  size_t count = (size_t)N * (size_t)H * (size_t)W; /* <= len, checked by nn_idx_parse */
  float *pixels = count <= SIZE_MAX / sizeof(float) ? malloc(count * sizeof(float)) : NULL;
  if (!pixels)
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %d images of %dx%d as floats (%zu "
                   "values)", name, N, H, W, count);
  /* 0..255 -> [0, 1]: the scale every MNIST example uses */
  for (size_t i = 0; i < count; i++) pixels[i] = (float)view->elements[i] / 255.f;
  *images = (nn_tensor){.data = pixels, .shape = {N, 1, H, W}, .ndim = 4, .device = NN_CPU};
  return NN_OK;
}

nn_status nn_idx_view_to_labels(const nn_idx_view *view, const char *name, int num_classes,
                                int **labels, int *count, nn_error *err) {
  NN_REQUIRE(view && name && labels && count && view->ndim == 1,
             "nn_idx_view_to_labels: need a parsed labels view (1 dim), got %d dims",
             view ? view->ndim : -1);
  NN_REQUIRE(num_classes >= 1 && num_classes <= 256,
             "nn_idx_view_to_labels: num_classes is %d, expected 1..256 (labels are bytes)",
             num_classes);
  *labels = NULL;
  *count = 0;
  int N = view->dims[0];
  int *out = malloc((size_t)N * sizeof *out);
  if (!out) return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %d labels", name, N);
  for (int i = 0; i < N; i++) {
    out[i] = view->elements[i];
    if (out[i] >= num_classes) {
      free(out);
      return nn_fail(err, NN_ERR_FORMAT, "%s: label %d at index %d (byte %zu) is not below %d, "
                     "the number of classes", name, view->elements[i], i, (size_t)8 + (size_t)i,
                     num_classes);
    }
  }
  *labels = out;
  *count = N;
  return NN_OK;
}

nn_status nn_idx_load_images(const char *path, nn_tensor *images, nn_error *err) {
  NN_REQUIRE(path && images, "nn_idx_load_images: NULL path or images");
  *images = (nn_tensor){0};
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_idx_view view;
  nn_status st = nn_file_read(path, MAX_IDX_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_idx_parse(bytes, len, path, NN_IDX_MAGIC_IMAGES, &view, err);
  if (st == NN_OK) st = nn_idx_view_to_images(&view, path, images, err);
  free(bytes);
  return st;
}

nn_status nn_idx_load_labels(const char *path, int num_classes, int **labels, int *count,
                             nn_error *err) {
  NN_REQUIRE(path && labels && count, "nn_idx_load_labels: NULL path, labels or count");
  *labels = NULL;
  *count = 0;
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_idx_view view;
  nn_status st = nn_file_read(path, MAX_IDX_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_idx_parse(bytes, len, path, NN_IDX_MAGIC_LABELS, &view, err);
  if (st == NN_OK) st = nn_idx_view_to_labels(&view, path, num_classes, labels, count, err);
  free(bytes);
  return st;
}

nn_status nn_mnist_load(const char *dir, const char *split, nn_tensor *images, int **labels,
                        nn_error *err) {
  NN_REQUIRE(dir && split && images && labels, "nn_mnist_load: NULL dir, split, images or labels");
  *images = (nn_tensor){0};
  *labels = NULL;
  char images_path[4096], labels_path[4096];
  int n1 = snprintf(images_path, sizeof images_path, "%s/%s-images-idx3-ubyte.gz", dir, split);
  int n2 = snprintf(labels_path, sizeof labels_path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
  if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof images_path || (size_t)n2 >= sizeof labels_path)
    return nn_fail(err, NN_ERR_ARG, "%s: path too long", dir);
  int count = 0;
  nn_status st = nn_idx_load_images(images_path, images, err);
  if (st == NN_OK) st = nn_idx_load_labels(labels_path, 10, labels, &count, err);
  if (st == NN_OK && count != images->shape[0])
    st = nn_fail(err, NN_ERR_FORMAT, "%s: %d images but %s: %d labels; the two files must come "
                 "from the same split", images_path, images->shape[0], labels_path, count);
  if (st != NN_OK) {
    nn_tensor_free(images);
    free(*labels);
    *labels = NULL;
  }
  return st;
}
