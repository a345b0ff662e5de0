/* IDX loader: the bundled MNIST and Fashion-MNIST subsets load with their known
 * counts, label histograms and first-image pixel sums; every kind of corrupt
 * file is refused with its own status and a message that names the facts.
 *
 * Known values were computed independently with python3's gzip and struct
 * modules from the same files: per-class counts of the label bytes, and the sum
 * of the 784 pixel bytes of image 0 (bytes 16..799 of the unpacked images file).
 * Tests run from the repository root. */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_file.h"
#include "nn_idx.h"

static char dir[64];

static void make_dir(void) {
  strcpy(dir, "/tmp/nn-idx-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}
static void remove_dir(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(idx, .init = make_dir, .fini = remove_dir);

/* ---- the bundled data */
typedef struct {
  const char *dir, *split;
  int count;
  int histogram[10];
  long first_image_sum; /* sum of the 784 bytes of image 0 */
  int first_labels[4];
} split_facts;

static void check_split(split_facts want) {
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  nn_status st = nn_mnist_load(want.dir, want.split, &x, &y, &err);
  cr_assert_eq(st, NN_OK, "nn_mnist_load(%s, %s): %s: %s", want.dir, want.split, nn_status_name(st), err.msg);
  cr_assert(x.ndim == 4 && x.shape[0] == want.count && x.shape[1] == 1 && x.shape[2] == 28 && x.shape[3] == 28,
            "%s/%s images are %s, expected (%d, 1, 28, 28)", want.dir, want.split, nn_shape_str(&x).s, want.count);
  cr_assert_eq(x.device, NN_CPU);
  long sum = 0;
  for (int i = 0; i < 784; i++) sum += lroundf(x.data[i] * 255.f);
  cr_assert_eq(sum, want.first_image_sum, "%s/%s: image 0's pixels sum to %ld (x255), expected %ld",
               want.dir, want.split, sum, want.first_image_sum);
  for (long i = 0; i < nn_numel(&x); i++)
    if (!(x.data[i] >= 0.f && x.data[i] <= 1.f)) cr_assert_fail("pixel %ld is %g, outside [0, 1]", i, x.data[i]);
  int hist[10] = {0};
  for (int i = 0; i < want.count; i++) hist[y[i]]++;
  for (int k = 0; k < 10; k++)
    cr_assert_eq(hist[k], want.histogram[k], "%s/%s: %d labels of class %d, expected %d", want.dir,
                 want.split, hist[k], k, want.histogram[k]);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(y[i], want.first_labels[i], "%s/%s: label %d is %d, expected %d", want.dir, want.split, i,
                 y[i], want.first_labels[i]);
  nn_tensor_free(&x);
  free(y);
}

Test(idx, mnist_10k_train) {
  check_split((split_facts){"datasets/mnist-10k", "train", 8000,
                            {801, 902, 793, 826, 784, 690, 811, 856, 755, 782}, 24575, {0, 1, 1, 4}});
}
Test(idx, mnist_10k_test) {
  check_split((split_facts){"datasets/mnist-10k", "t10k", 2000,
                            {200, 225, 198, 206, 196, 173, 203, 214, 189, 196}, 35367, {4, 1, 9, 1}});
}
Test(idx, fashion_mnist_10k_train) {
  check_split((split_facts){"datasets/fashion-mnist-10k", "train", 8000,
                            {800, 800, 800, 800, 800, 800, 800, 800, 800, 800}, 46166, {9, 0, 0, 3}});
}
Test(idx, fashion_mnist_10k_test) {
  check_split((split_facts){"datasets/fashion-mnist-10k", "t10k", 2000,
                            {200, 200, 200, 200, 200, 200, 200, 200, 200, 200}, 83940, {9, 2, 1, 1}});
}

/* ---- corrupt files, built in memory: magic, dims (big-endian), then elements */
typedef struct {
  uint8_t bytes[256];
  size_t len;
} idx_file;

static void put_be32(idx_file *f, uint32_t v) {
  uint8_t b[4] = {v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255};
  memcpy(f->bytes + f->len, b, 4);
  f->len += 4;
}
/* An IDX file with `ndim` dims and `elements` bytes of value i % 7. */
static idx_file idx_make(uint32_t magic, int ndim, const uint32_t *dims, size_t elements) {
  idx_file f = {.len = 0};
  put_be32(&f, magic);
  for (int d = 0; d < ndim; d++) put_be32(&f, dims[d]);
  cr_assert_leq(f.len + elements, sizeof f.bytes);
  for (size_t i = 0; i < elements; i++) f.bytes[f.len++] = (uint8_t)(i % 7);
  return f;
}
static void write_file(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot create %s", path);
  cr_assert_eq(fwrite(bytes, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

static void expect_parse_error(idx_file f, uint32_t magic, const char *what, const char *fact1,
                               const char *fact2) {
  nn_idx_view view = {.ndim = -7};
  nn_error err = {0};
  nn_status st = nn_idx_parse(f.bytes, f.len, "x.idx", magic, &view, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "%s: got %s, expected NN_ERR_FORMAT (message: %s)", what, nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "x.idx: "), "%s: the message must start with the file name: %s", what, err.msg);
  cr_assert(strstr(err.msg, fact1), "%s: the message must say '%s': %s", what, fact1, err.msg);
  cr_assert(!fact2 || strstr(err.msg, fact2), "%s: the message must say '%s': %s", what, fact2, err.msg);
  cr_assert(view.elements == NULL && view.ndim == 0, "%s: a failed parse must leave the view empty", what);
}

Test(idx, parse_a_tiny_valid_file) {
  idx_file f = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){2, 3, 3}, 18);
  nn_idx_view view;
  nn_error err = {0};
  cr_assert_eq(nn_idx_parse(f.bytes, f.len, "x.idx", NN_IDX_MAGIC_IMAGES, &view, &err), NN_OK, "%s", err.msg);
  cr_assert(view.ndim == 3 && view.dims[0] == 2 && view.dims[1] == 3 && view.dims[2] == 3);
  cr_assert_eq(view.elements, f.bytes + 16, "elements must point just after the 16-byte header");
  nn_tensor x;
  cr_assert_eq(nn_idx_view_to_images(&view, "x.idx", &x, &err), NN_OK, "%s", err.msg);
  cr_assert(x.ndim == 4 && x.shape[0] == 2 && x.shape[1] == 1 && x.shape[2] == 3 && x.shape[3] == 3,
            "a (2, 3, 3) IDX became %s, expected (2, 1, 3, 3)", nn_shape_str(&x).s);
  cr_assert_float_eq(x.data[17], (17 % 7) / 255.f, 1e-7f, "pixel 17 is %g, expected 3/255", x.data[17]);
  nn_tensor_free(&x);
}

Test(idx, truncated_data_is_refused_not_loaded_short) {
  /* header: 3 images of 3x3 = 27 bytes; only 20 follow */
  idx_file f = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){3, 3, 3}, 20);
  expect_parse_error(f, NN_IDX_MAGIC_IMAGES, "truncated", "(3, 3, 3) = 27 elements", "cut short");
  /* cut inside the header */
  f.len = 10;
  expect_parse_error(f, NN_IDX_MAGIC_IMAGES, "cut in the header", "10 bytes", "header");
  f.len = 3;
  expect_parse_error(f, NN_IDX_MAGIC_IMAGES, "3 bytes", "3 bytes, too short", NULL);
  expect_parse_error((idx_file){.len = 0}, NN_IDX_MAGIC_LABELS, "empty", "0 bytes", NULL);
}

Test(idx, trailing_bytes_are_refused) {
  idx_file f = idx_make(NN_IDX_MAGIC_LABELS, 1, (uint32_t[]){5}, 7);
  expect_parse_error(f, NN_IDX_MAGIC_LABELS, "trailing", "2 unexpected bytes from byte 13", "(5) = 5 elements");
}

Test(idx, a_labels_file_passed_as_images_names_both_magics) {
  idx_file f = idx_make(NN_IDX_MAGIC_LABELS, 1, (uint32_t[]){5}, 5);
  expect_parse_error(f, NN_IDX_MAGIC_IMAGES, "labels as images", "IDX magic 0x00000801, expected 0x00000803 (images",
                     "this is a labels file");
  idx_file g = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){1, 2, 2}, 4);
  expect_parse_error(g, NN_IDX_MAGIC_LABELS, "images as labels", "IDX magic 0x00000803, expected 0x00000801 (labels",
                     "this is an images file");
}

Test(idx, wrong_dims_type_and_not_idx_at_all) {
  idx_file f = idx_make(0x00000802, 2, (uint32_t[]){2, 9}, 18);
  expect_parse_error(f, NN_IDX_MAGIC_IMAGES, "ndim 2", "byte 3, the number of dims, is 2, expected 3", "0x00000802");
  idx_file g = idx_make(0x00000d03, 3, (uint32_t[]){1, 1, 1}, 4); /* 0x0d: float32 */
  expect_parse_error(g, NN_IDX_MAGIC_IMAGES, "type 0x0d", "element type 0x0d at byte 2", "0x08");
  idx_file h = {.bytes = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a}, .len = 8};
  expect_parse_error(h, NN_IDX_MAGIC_IMAGES, "a PNG", "IDX magic 0x89504e47", "not one");
}

Test(idx, zero_huge_and_overflowing_dims_are_refused) {
  idx_file zero = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){0, 28, 28}, 0);
  expect_parse_error(zero, NN_IDX_MAGIC_IMAGES, "dim 0", "dim 0 (at byte 4) is 0", NULL);
  idx_file huge = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){1, 0x80000000u, 1}, 0);
  expect_parse_error(huge, NN_IDX_MAGIC_IMAGES, "dim 2^31", "dim 1 (at byte 8) is 2147483648", NULL);
  /* (2^31-1)^3 overflows 64 bits; the product saturates and the file is "cut short" */
  idx_file over = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){INT_MAX, INT_MAX, INT_MAX}, 4);
  expect_parse_error(over, NN_IDX_MAGIC_IMAGES, "overflow", "cut short", "(2147483647, 2147483647, 2147483647)");
}

Test(idx, a_label_out_of_range_is_reported_with_its_index) {
  char path[128];
  snprintf(path, sizeof path, "%s/labels.idx", dir);
  idx_file f = idx_make(NN_IDX_MAGIC_LABELS, 1, (uint32_t[]){3}, 0);
  uint8_t labels[] = {3, 10, 1};
  memcpy(f.bytes + f.len, labels, 3);
  write_file(path, f.bytes, f.len + 3);
  int *y = (int *)1, count = -1;
  nn_error err = {0};
  cr_assert_eq(nn_idx_load_labels(path, 10, &y, &count, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, "label 10 at index 1 (byte 9) is not below 10"), "message was: %s", err.msg);
  cr_assert(y == NULL && count == 0, "after a failure labels must be NULL and count 0");
  cr_assert_eq(nn_idx_load_labels(path, 11, &y, &count, &err), NN_OK, "with 11 classes: %s", err.msg);
  cr_assert(count == 3 && y[0] == 3 && y[1] == 10 && y[2] == 1);
  free(y);
}

Test(idx, image_and_label_counts_must_agree) {
  char path[128];
  idx_file images = idx_make(NN_IDX_MAGIC_IMAGES, 3, (uint32_t[]){2, 3, 3}, 18);
  idx_file labels = idx_make(NN_IDX_MAGIC_LABELS, 1, (uint32_t[]){3}, 3);
  /* plain (not gzipped) files under the .gz names: nn_file_read passes them through */
  snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
  write_file(path, images.bytes, images.len);
  snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte.gz", dir);
  write_file(path, labels.bytes, labels.len);
  nn_tensor x;
  int *y = (int *)1;
  nn_error err = {0};
  cr_assert_eq(nn_mnist_load(dir, "train", &x, &y, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, "2 images but") && strstr(err.msg, "3 labels"), "message was: %s", err.msg);
  cr_assert(x.data == NULL && y == NULL, "a failed nn_mnist_load must leave nothing allocated");
}

Test(idx, a_gz_cut_short_is_a_format_error) {
  uint8_t *gz = NULL, *data = (uint8_t *)1;
  size_t len = 0;
  FILE *in = fopen("datasets/mnist-10k/train-images-idx3-ubyte.gz", "rb");
  cr_assert_not_null(in, "datasets/mnist-10k/train-images-idx3-ubyte.gz is missing (run from the repo root)");
  gz = malloc(500);
  cr_assert_eq(fread(gz, 1, 500, in), 500);
  fclose(in);
  char path[128];
  snprintf(path, sizeof path, "%s/cut.gz", dir);
  write_file(path, gz, 500);
  free(gz);
  nn_error err = {0};
  cr_assert_eq(nn_file_read(path, 1 << 30, &data, &len, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, path) && strstr(err.msg, "cut short"), "message was: %s", err.msg);
  cr_assert(data == NULL && len == 0, "a failed read must leave *data NULL");
  nn_tensor x;
  cr_assert_eq(nn_idx_load_images(path, &x, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert_null(x.data);
}

Test(idx, a_missing_file_is_an_io_error_naming_the_path) {
  nn_tensor x;
  int *y = (int *)1, count = -1;
  nn_error err = {0};
  cr_assert_eq(nn_idx_load_images("/nonexistent/train-images-idx3-ubyte.gz", &x, &err), NN_ERR_IO);
  cr_assert(strstr(err.msg, "/nonexistent/train-images-idx3-ubyte.gz"), "message was: %s", err.msg);
  cr_assert_null(x.data);
  cr_assert_eq(nn_mnist_load("/nonexistent", "train", &x, &y, &err), NN_ERR_IO);
  cr_assert(strstr(err.msg, "/nonexistent/train-images-idx3-ubyte.gz"), "message was: %s", err.msg);
  cr_assert(x.data == NULL && y == NULL);
  cr_assert_eq(nn_idx_load_labels("/nonexistent/l.gz", 10, &y, &count, &err), NN_ERR_IO);
  cr_assert(y == NULL && count == 0);
}
