/* CIFAR-10's binary batches (nn_cifar.h) and per-channel Normalize (nn_normalize.h).
 *
 * The loader on small files written here in CIFAR's format, whose every byte is known:
 * the tensor's shape, values (byte / 255) and layout (the R plane, then G, then B, each
 * row-major), the labels, a prefix (max), a gzipped file, the train split read across two
 * full-size batch files, and each bad input refused with a message that names the file
 * and the record or byte: a file cut inside a record, a size that is no whole number of
 * records (CIFAR-100's 3,074-byte records), an empty file, a label above 9, an official
 * batch without its 10,000 records, a missing file (which says how to get the data).
 * Normalize: the mean and population std of each channel by hand, the normalised values by
 * hand, mean 0 and std 1 per channel afterwards, std 0 for a constant channel, and std <= 0
 * or a channel count that does not match refused.
 * With the real CIFAR-10 in NN_DATA_DIR/cifar-10/cifar-10-batches-bin (`make data`), one
 * test checks its counts (50,000 / 10,000, 5,000 and 1,000 per class) and its published
 * mean and std; elsewhere it is skipped, with the reason.
 *
 * Graded (GRADED, once listed): the record decode, the lab's region. The public variant
 * decodes a record made by hand, the drawn one a record of random bytes; the test
 * computes each float itself from the record's bytes. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "graded.h"
#include "nn_cifar.h"
#include "nn_normalize.h"
#include "nn_rng.h"

/* ---- the record decode: the lab's region, graded */

/* Public: label 7; red 255 at (0, 0) and 51 at (0, 1); green 102 at (1, 0); blue 204 at
 * (31, 31); every other pixel 0. Drawn: random bytes, a random label 0..9. */
static void make_graded_record(nn_grade *g, uint8_t *rec) {
  memset(rec, 0, NN_CIFAR_RECORD);
  if (nn_grade_public(g)) {
    rec[0] = 7;
    rec[1 + 0] = 255, rec[1 + 1] = 51;   /* red plane: bytes 1..1024 */
    rec[1 + 1024 + 32] = 102;            /* green (1, 0): byte 1 + 1024 + 1 * 32 + 0 */
    rec[1 + 2048 + 31 * 32 + 31] = 204;  /* blue (31, 31): the record's last byte, 3072 */
    return;
  }
  nn_rng rng = nn_rng_new(nn_grade_seed(g, 3));
  for (int i = 1; i < NN_CIFAR_RECORD; i++) rec[i] = (uint8_t)nn_rng_below(&rng, 256);
  rec[0] = (uint8_t)nn_rng_below(&rng, 10);
}

static const char *const PLANE[3] = {"red", "green", "blue"};

GRADED_TEST(cifar, decode_record_label_then_R_G_B_planes) {
  uint8_t rec[NN_CIFAR_RECORD];
  make_graded_record(g, rec);
  float *image = malloc(NN_CIFAR_PIXELS * sizeof *image);
  for (int i = 0; i < NN_CIFAR_PIXELS; i++) image[i] = -1.f; /* a pixel left unwritten shows */
  int label = -1;
  nn_cifar_decode_record(rec, image, &label);
  answer(g, "the label", &label, 1);
  answer(g, "the image (3, 32, 32)", image, NN_CIFAR_PIXELS);
  expect(g, label == rec[0], "label %d, expected %d: the record's byte 0", label, rec[0]);
  if (nn_grade_public(g)) {
    expect_near(g, image[0], 1.0, 1e-7, "image[0, 0, 0] = %g, expected 1: red (0, 0) is byte 1 = 255", image[0]);
    expect_near(g, image[1], 0.2, 1e-7, "image[0, 0, 1] = %g, expected 51/255 = 0.2: red (0, 1) is byte 2, right "
                "after red (0, 0); the record holds the whole red plane, then the green, then the blue, not R, G, B "
                "per pixel", image[1]);
    expect_near(g, image[1024 + 32], 0.4, 1e-7, "image[1, 1, 0] = %g, expected 102/255 = 0.4: green (1, 0) is "
                "byte 1 + 1024 + 32", image[1024 + 32]);
    expect_near(g, image[3071], 0.8, 1e-7, "image[2, 31, 31] = %g, expected 204/255 = 0.8: blue (31, 31) is the "
                "record's last byte", image[3071]);
  }
  for (int c = 0; c < 3; c++)
    for (int h = 0; h < 32; h++)
      for (int w = 0; w < 32; w++) {
        int i = (c * 32 + h) * 32 + w;
        float want = rec[1 + i] / 255.f;
        expect_near(g, image[i], want, 1e-7, "image[%d, %d, %d] = %g, expected %g: %s (%d, %d) is the record's byte "
                    "1 + (%d*32 + %d)*32 + %d = %d, which is %d, / 255", c, h, w, image[i], want, PLANE[c], h, w, c,
                    h, w, 1 + i, rec[1 + i]);
      }
  free(image);
}

/* ---- the rest: plain Criterion tests, make test only (the grade build has the graded one) */
#ifndef NN_GRADING

/* ---- synthetic batches: record r has label (3 r + 1) % 10 and pixel (c, h, w) byte
 * r * 7 + c * 85 + h * 3 + w (mod 256): each plane, row and record tells itself apart */

static int label_of(int r) { return (3 * r + 1) % 10; }
static uint8_t byte_of(int r, int c, int h, int w) { return (uint8_t)(r * 7 + c * 85 + h * 3 + w); }

/* n records, as a new buffer of n * 3073 bytes. */
static uint8_t *make_records(int n) {
  uint8_t *b = malloc((size_t)n * NN_CIFAR_RECORD);
  cr_assert_not_null(b);
  for (int r = 0; r < n; r++) {
    uint8_t *rec = b + (size_t)r * NN_CIFAR_RECORD;
    rec[0] = (uint8_t)label_of(r);
    for (int c = 0; c < 3; c++)
      for (int h = 0; h < 32; h++)
        for (int w = 0; w < 32; w++) rec[1 + (c * 32 + h) * 32 + w] = byte_of(r, c, h, w);
  }
  return b;
}

static char dir[64];

static void make_dir(void) {
  strcpy(dir, "/tmp/nn-cifar-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}
static void remove_dir(void) {
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Tests that write files get a folder of their own, in a suite of their own. */
TestSuite(cifar_files, .init = make_dir, .fini = remove_dir);

/* dir/name, in a static buffer (one at a time). */
static const char *in_dir(const char *name) {
  static char path[160];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static void write_file(const char *path, const void *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot create %s", path);
  cr_assert_eq(fwrite(bytes, 1, len, f), len);
  cr_assert_eq(fclose(f), 0);
}

/* The first n records of make_records' pattern in x (N, 3, 32, 32) and y, starting at record r0. */
static void expect_records(const nn_tensor *x, const int *y, int n, int r0, const char *what) {
  cr_assert(x->ndim == 4 && x->shape[0] == n && x->shape[1] == 3 && x->shape[2] == 32 && x->shape[3] == 32,
            "%s: images are %s, expected (%d, 3, 32, 32)", what, nn_shape_str(x).s, n);
  cr_assert_eq(x->device, NN_CPU);
  for (int i = 0; i < n; i++) {
    cr_assert_eq(y[i], label_of(r0 + i), "%s: label %d is %d, expected %d", what, i, y[i], label_of(r0 + i));
    for (int c = 0; c < 3; c++)
      for (int h = 0; h < 32; h++)
        for (int w = 0; w < 32; w++) {
          float got = x->data[(((long)i * 3 + c) * 32 + h) * 32 + w], want = byte_of(r0 + i, c, h, w) / 255.f;
          if (got != want)
            cr_assert_fail("%s: x[%d, %d, %d, %d] = %g, expected byte %d of record %d / 255 = %g", what, i, c, h, w,
                           got, 1 + (c * 32 + h) * 32 + w, r0 + i, want);
        }
  }
}

/* ---- the format */

Test(cifar_files, a_record_is_the_label_then_the_R_G_B_planes_row_major) {
  uint8_t *b = make_records(3);
  write_file(in_dir("three.bin"), b, 3 * NN_CIFAR_RECORD);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  nn_status st = nn_cifar_load_batch(in_dir("three.bin"), 0, &x, &y, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  expect_records(&x, y, 3, 0, "three records");
  /* by hand, record 1 (label 4, bytes 3073..6145 of the file): its byte 1 is red (0, 0) = 7,
   * byte 2 red (0, 1) = 8, byte 33 red (1, 0) = 10, byte 1025 green (0, 0) = 92, and byte 3072
   * blue (31, 31) = 7 + 170 + 93 + 31 = 301, which is 45 as a byte (mod 256) */
  const float *x1 = x.data + NN_CIFAR_PIXELS;
  cr_assert_eq(y[1], 4);
  cr_assert_float_eq(x1[0], 7 / 255.f, 1e-7, "red (0, 0) of image 1 is %g/255, expected 7/255", x1[0] * 255);
  cr_assert_float_eq(x1[1], 8 / 255.f, 1e-7, "red (0, 1) of image 1 is %g/255, expected 8/255", x1[1] * 255);
  cr_assert_float_eq(x1[32], 10 / 255.f, 1e-7, "red (1, 0) of image 1 is %g/255, expected 10/255", x1[32] * 255);
  cr_assert_float_eq(x1[1024], 92 / 255.f, 1e-7, "green (0, 0) of image 1 is %g/255, expected 92/255", x1[1024] * 255);
  cr_assert_float_eq(x1[3071], 45 / 255.f, 1e-7, "blue (31, 31) of image 1 is %g/255, expected 45/255", x1[3071] * 255);
  nn_tensor_free(&x), free(y), free(b);
}

Test(cifar, bytes_0_and_255_become_0_and_1) {
  uint8_t *b = make_records(1);
  memset(b + 1, 0, 1024), memset(b + 1 + 1024, 255, 2048);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_parse(b, NN_CIFAR_RECORD, "x.bin", 0, &x, &y, &err), NN_OK, "%s", err.msg);
  for (int i = 0; i < NN_CIFAR_PIXELS; i++)
    cr_assert_eq(x.data[i], i < 1024 ? 0.f : 1.f, "pixel %d is %g, expected %d", i, x.data[i], i < 1024 ? 0 : 1);
  nn_tensor_free(&x), free(y), free(b);
}

Test(cifar, max_loads_a_prefix_and_0_or_more_than_there_are_loads_all) {
  uint8_t *b = make_records(5);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  const int max[3] = {2, 0, 9}, want[3] = {2, 5, 5};
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(nn_cifar_parse(b, 5 * NN_CIFAR_RECORD, "five.bin", max[i], &x, &y, &err), NN_OK, "%s", err.msg);
    char what[32];
    snprintf(what, sizeof what, "max %d of 5", max[i]);
    expect_records(&x, y, want[i], 0, what);
    nn_tensor_free(&x), free(y);
  }
  free(b);
}

Test(cifar_files, a_gzipped_batch_loads_the_same) {
  uint8_t *b = make_records(2);
  gzFile f = gzopen(in_dir("two.bin.gz"), "wb");
  cr_assert_not_null(f);
  cr_assert_eq(gzwrite(f, b, 2 * NN_CIFAR_RECORD), 2 * NN_CIFAR_RECORD);
  cr_assert_eq(gzclose(f), Z_OK);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_load_batch(in_dir("two.bin.gz"), 0, &x, &y, &err), NN_OK, "%s", err.msg);
  expect_records(&x, y, 2, 0, "two records, gzipped");
  nn_tensor_free(&x), free(y), free(b);
}

Test(cifar, class_names_in_batches_meta_order) {
  cr_assert_str_eq(nn_cifar_class_name(0), "airplane");
  cr_assert_str_eq(nn_cifar_class_name(3), "cat");
  cr_assert_str_eq(nn_cifar_class_name(9), "truck");
  cr_assert_str_eq(nn_cifar_class_name(10), "?");
}

/* ---- bad files */

/* nn_cifar_parse of bytes must fail with code, a message holding every fact, nothing allocated. */
static void expect_refused(const uint8_t *bytes, size_t len, nn_status code, const char *what,
                           const char *const *facts, int n_facts) {
  nn_tensor x = {.data = (float *)1};
  int *y = (int *)1;
  nn_error err = {0};
  nn_status st = nn_cifar_parse(bytes, len, "x.bin", 0, &x, &y, &err);
  cr_assert_eq(st, code, "%s: got %s, expected %s (message: %s)", what, nn_status_name(st), nn_status_name(code),
               err.msg);
  cr_assert(strncmp(err.msg, "x.bin: ", 7) == 0, "%s: the message must start with the file's name: %s", what, err.msg);
  for (int i = 0; i < n_facts; i++)
    cr_assert(strstr(err.msg, facts[i]), "%s: the message must say '%s': %s", what, facts[i], err.msg);
  cr_assert(x.data == NULL && y == NULL, "%s: a refused file must leave images and labels NULL", what);
}

Test(cifar, a_file_cut_inside_a_record_names_the_record_and_its_byte) {
  uint8_t *b = make_records(3);
  /* 2 whole records, then 100 bytes of record 2, which starts at byte 2 * 3073 = 6146 */
  expect_refused(b, 2 * NN_CIFAR_RECORD + 100, NN_ERR_FORMAT, "cut in record 2",
                 (const char *[]){"6246 bytes is not a whole number of 3073-byte records", "record 2 (from byte 6146)",
                                  "only 100 of its 3073 bytes", "cut short", "make data"}, 5);
  expect_refused(b, 100, NN_ERR_FORMAT, "100 bytes", (const char *[]){"record 0 (from byte 0)", "only 100"}, 2);
  free(b);
}

Test(cifar, a_size_that_is_not_a_whole_number_of_records_is_refused) {
  /* CIFAR-100's binary records are 3074 bytes (coarse label, fine label, pixels) */
  uint8_t *b = make_records(2);
  expect_refused(b, 3074, NN_ERR_FORMAT, "one CIFAR-100 record",
                 (const char *[]){"3074 bytes is not a whole number of 3073-byte records", "CIFAR-100"}, 2);
  expect_refused(b, 0, NN_ERR_FORMAT, "empty", (const char *[]){"0 bytes", "empty"}, 2);
  free(b);
}

Test(cifar, a_label_above_9_names_the_record_and_its_byte) {
  uint8_t *b = make_records(4);
  b[2 * NN_CIFAR_RECORD] = 10;
  expect_refused(b, 4 * NN_CIFAR_RECORD, NN_ERR_FORMAT, "label 10",
                 (const char *[]){"record 2 (byte 6146): label 10", "0..9", "make data"}, 3);
  b[2 * NN_CIFAR_RECORD] = 2, b[3 * NN_CIFAR_RECORD] = 255;
  expect_refused(b, 4 * NN_CIFAR_RECORD, NN_ERR_FORMAT, "label 255",
                 (const char *[]){"record 3 (byte 9219): label 255"}, 1);
  /* the whole file is checked, even when max asks for less */
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_parse(b, 4 * NN_CIFAR_RECORD, "x.bin", 1, &x, &y, &err), NN_ERR_FORMAT,
               "a bad label after the prefix must still refuse the file");
  cr_assert(x.data == NULL && y == NULL);
  free(b);
}

/* Each of the how-to facts a missing-file message must give. */
static void expect_how_to_get_cifar(const char *msg, const char *path) {
  const char *facts[] = {path, "not found", "make data", "SETS=cifar-10 tools/fetch-data", "NN_DATA_MIRROR"};
  for (int i = 0; i < 5; i++) cr_assert(strstr(msg, facts[i]), "the message must say '%s': %s", facts[i], msg);
}

Test(cifar, a_missing_file_says_how_to_get_cifar10) {
  nn_tensor x = {.data = (float *)1};
  int *y = (int *)1;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_load_batch("/nonexistent/test_batch.bin", 0, &x, &y, &err), NN_ERR_IO, "%s", err.msg);
  expect_how_to_get_cifar(err.msg, "/nonexistent/test_batch.bin");
  cr_assert(x.data == NULL && y == NULL);
  cr_assert_eq(nn_cifar_load("/nonexistent", "train", 10, &x, &y, &err), NN_ERR_IO, "%s", err.msg);
  expect_how_to_get_cifar(err.msg, "/nonexistent/data_batch_1.bin");
  cr_assert(x.data == NULL && y == NULL, "a failed nn_cifar_load must leave nothing allocated");
}

Test(cifar_files, an_official_batch_without_its_10000_records_is_refused) {
  /* 3 whole, well-formed records under an official name: cut at a record boundary */
  uint8_t *b = make_records(3);
  write_file(in_dir("test_batch.bin"), b, 3 * NN_CIFAR_RECORD);
  nn_tensor x = {.data = (float *)1};
  int *y = (int *)1;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_load(dir, "test", 2, &x, &y, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, in_dir("test_batch.bin")) && strstr(err.msg, "3 records (9219 bytes)") &&
                strstr(err.msg, "holds 10000 (30730000 bytes)") && strstr(err.msg, "make data"),
            "message was: %s", err.msg);
  cr_assert(x.data == NULL && y == NULL);
  free(b);
}

/* Two full-size batches (61 MB in /tmp): the train split takes data_batch_1 then data_batch_2,
 * reads no further file than max needs, and names the first one that is missing. */
Test(cifar_files, the_train_split_reads_the_batches_in_order, .timeout = 60) {
  uint8_t *b = make_records(NN_CIFAR_BATCH_RECORDS + 2);
  write_file(in_dir("data_batch_1.bin"), b, (size_t)NN_CIFAR_BATCH_RECORDS * NN_CIFAR_RECORD);
  /* data_batch_2 holds records 2 .. 10,001 of the pattern: its first two are told apart from batch 1's */
  write_file(in_dir("data_batch_2.bin"), b + 2 * NN_CIFAR_RECORD, (size_t)NN_CIFAR_BATCH_RECORDS * NN_CIFAR_RECORD);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  cr_assert_eq(nn_cifar_load(dir, "train", NN_CIFAR_BATCH_RECORDS + 3, &x, &y, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(x.shape[0], NN_CIFAR_BATCH_RECORDS + 3);
  /* images 9,999 and 10,000..10,002: the last of batch 1, the first three of batch 2 */
  nn_tensor tail = x;
  tail.data += (long)(NN_CIFAR_BATCH_RECORDS - 1) * NN_CIFAR_PIXELS, tail.shape[0] = 1;
  expect_records(&tail, y + NN_CIFAR_BATCH_RECORDS - 1, 1, NN_CIFAR_BATCH_RECORDS - 1, "the last image of batch 1");
  tail.data += NN_CIFAR_PIXELS, tail.shape[0] = 3;
  expect_records(&tail, y + NN_CIFAR_BATCH_RECORDS, 3, 2, "the first images of batch 2");
  nn_tensor first = x;
  first.shape[0] = 2;
  expect_records(&first, y, 2, 0, "the first images of batch 1");
  nn_tensor_free(&x), free(y);
  cr_assert_eq(nn_cifar_load(dir, "train", 0, &x, &y, &err), NN_ERR_IO, "all of train needs data_batch_3.bin");
  cr_assert(strstr(err.msg, in_dir("data_batch_3.bin")), "message was: %s", err.msg);
  free(b);
}

/* ---- Normalize */

/* x (2, 2, 1, 2): channel 0 holds 1, 2 (image 0) and 3, 4 (image 1); channel 1 holds 0, 2, 2, 0. */
static nn_tensor small_batch(void) {
  return nn_tensor_from(4, (int[]){2, 2, 1, 2}, (const float[]){1, 2, 0, 2, 3, 4, 2, 0});
}

Test(normalize, mean_and_population_std_by_hand) {
  /* channel 0: mean (1+2+3+4)/4 = 2.5, var ((1.5^2 + 0.5^2) * 2) / 4 = 1.25, std sqrt(1.25) = 1.1180340
   *            (the sample std, /3, would be 1.2909944); channel 1: mean 1, var 1, std 1 */
  nn_tensor x = small_batch();
  float mean[2], std[2];
  nn_channel_mean_std(&x, mean, std);
  cr_assert_float_eq(mean[0], 2.5f, 1e-6f, "mean[0] = %g, expected 2.5", mean[0]);
  cr_assert_float_eq(std[0], 1.1180340f, 1e-6f, "std[0] = %g, expected sqrt(1.25) = 1.1180340 (population, / M; "
                     "the sample std / (M - 1) is 1.2909944)", std[0]);
  cr_assert_float_eq(mean[1], 1.f, 1e-6f, "mean[1] = %g, expected 1", mean[1]);
  cr_assert_float_eq(std[1], 1.f, 1e-6f, "std[1] = %g, expected 1", std[1]);
  nn_tensor_free(&x);
}

Test(normalize, normalised_values_by_hand) {
  /* (x - mean) / std per channel: channel 0 by (2.5, sqrt 1.25): -1.3416408, -0.4472136, 0.4472136,
   * 1.3416408; channel 1 by (1, 1): -1, 1, 1, -1 */
  nn_tensor x = small_batch();
  float mean[2] = {2.5f, 1.f}, std[2] = {sqrtf(1.25f), 1.f};
  nn_error err = {0};
  cr_assert_eq(nn_normalize(&x, 2, mean, std, &err), NN_OK, "%s", err.msg);
  const float want[8] = {-1.3416408f, -0.4472136f, -1, 1, 0.4472136f, 1.3416408f, 1, -1};
  for (int i = 0; i < 8; i++)
    cr_assert_float_eq(x.data[i], want[i], 1e-6f, "x[%d] = %g, expected %g", i, x.data[i], want[i]);
  nn_tensor_free(&x);
}

Test(normalize, after_normalising_by_its_own_statistics_each_channel_has_mean_0_and_std_1) {
  /* (8, 3, 5, 7): channel c uniform in [c, 2 + 3c]: different means and spreads */
  nn_tensor x = nn_tensor_new(4, (int[]){8, 3, 5, 7}, NN_CPU);
  nn_rng rng = nn_rng_new(5);
  for (int n = 0; n < 8; n++)
    for (int c = 0; c < 3; c++) nn_rng_fill_uniform(&rng, x.data + (n * 3 + c) * 35, 35, (float)c, 2.f + 3.f * c);
  float mean[3], std[3], m2[3], s2[3];
  nn_channel_mean_std(&x, mean, std);
  for (int c = 0; c < 3; c++)
    cr_assert(fabsf(mean[c] - (1.f + 2.f * c)) < 0.3f && std[c] > 0.2f, "channel %d: mean %g, std %g", c, mean[c],
              std[c]);
  nn_error err = {0};
  cr_assert_eq(nn_normalize(&x, 3, mean, std, &err), NN_OK, "%s", err.msg);
  nn_channel_mean_std(&x, m2, s2);
  for (int c = 0; c < 3; c++) {
    cr_assert_float_eq(m2[c], 0.f, 1e-6f, "channel %d's mean after normalising is %g, expected 0", c, m2[c]);
    cr_assert_float_eq(s2[c], 1.f, 1e-5f, "channel %d's std after normalising is %g, expected 1", c, s2[c]);
  }
  nn_tensor_free(&x);
}

Test(normalize, a_constant_channel_has_std_exactly_0_and_is_refused) {
  nn_tensor x = nn_tensor_new(4, (int[]){3, 2, 4, 4}, NN_CPU);
  nn_rng rng = nn_rng_new(2);
  for (int n = 0; n < 3; n++) {
    nn_rng_fill_uniform(&rng, x.data + n * 32, 16, 0.f, 1.f); /* channel 0: random */
    for (int s = 0; s < 16; s++) x.data[n * 32 + 16 + s] = 0.3f; /* channel 1: all 0.3 */
  }
  float mean[2], std[2];
  nn_channel_mean_std(&x, mean, std);
  cr_assert_eq(std[1], 0.f, "std of a constant channel is %g, expected exactly 0 (two passes: the mean first)", std[1]);
  nn_tensor before = nn_tensor_from(4, x.shape, x.data);
  nn_error err = {0};
  cr_assert_eq(nn_normalize(&x, 2, mean, std, &err), NN_ERR_ARG, "std 0 must be refused");
  cr_assert(strstr(err.msg, "std[1] is 0"), "message was: %s", err.msg);
  cr_assert(memcmp(x.data, before.data, nn_tensor_bytes(&x)) == 0, "a refused normalize must leave x as it was");
  nn_tensor_free(&x), nn_tensor_free(&before);
}

Test(normalize, a_negative_or_nan_std_is_refused) {
  nn_tensor x = small_batch();
  nn_error err = {0};
  cr_assert_eq(nn_normalize(&x, 2, (float[]){0, 0}, (float[]){-0.5f, 1}, &err), NN_ERR_ARG);
  cr_assert(strstr(err.msg, "std[0] is -0.5") && strstr(err.msg, "> 0"), "message was: %s", err.msg);
  cr_assert_eq(nn_normalize(&x, 2, (float[]){0, 0}, (float[]){1, NAN}, &err), NN_ERR_ARG);
  cr_assert(strstr(err.msg, "std[1] is nan"), "message was: %s", err.msg);
  cr_assert_eq(x.data[0], 1.f, "x changed");
  nn_tensor_free(&x);
}

Test(normalize, a_channel_count_that_does_not_match_aborts, .signal = SIGABRT) {
  /* 3 means and stds (CIFAR's) for a batch of 2 channels: a programming error, it names both */
  nn_tensor x = small_batch();
  nn_normalize(&x, 3, (float[]){0.4914f, 0.4822f, 0.4465f}, (float[]){0.2470f, 0.2435f, 0.2616f}, NULL);
}

/* ---- the real CIFAR-10, where `make data` has put it */

/* NN_DATA_DIR/cifar-10/cifar-10-batches-bin (tools/fetch-data's place), else the default. */
static const char *real_dir(char *buf, size_t cap) {
  const char *env = getenv("NN_DATA_DIR");
  if (env && *env) snprintf(buf, cap, "%s/cifar-10/cifar-10-batches-bin", env);
  else snprintf(buf, cap, "%s", NN_CIFAR_DEFAULT_DIR);
  return buf;
}

static void expect_class_counts(const int *y, int n, int per_class, const char *split) {
  int count[10] = {0};
  for (int i = 0; i < n; i++) count[y[i]]++;
  for (int k = 0; k < 10; k++)
    cr_assert_eq(count[k], per_class, "%s: %d images of class %d (%s), expected %d", split, count[k], k,
                 nn_cifar_class_name(k), per_class);
}

Test(cifar, real_cifar10_has_its_counts_and_published_mean_and_std, .timeout = 120) {
  char d[4096], path[4200];
  real_dir(d, sizeof d);
  snprintf(path, sizeof path, "%s/test_batch.bin", d);
  if (access(path, R_OK) != 0)
    cr_skip_test("data: CIFAR-10 is not in %s (run `make data`, or `SETS=cifar-10 tools/fetch-data`)", d);
  nn_tensor x;
  int *y = NULL;
  nn_error err = {0};
  nn_status st = nn_cifar_load(d, "test", 0, &x, &y, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(x.shape[0], NN_CIFAR_TEST);
  expect_class_counts(y, x.shape[0], 1000, "test");
  nn_tensor_free(&x), free(y);
  st = nn_cifar_load(d, "train", 0, &x, &y, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(x.shape[0], NN_CIFAR_TRAIN);
  expect_class_counts(y, x.shape[0], 5000, "train");
  float mean[3], std[3];
  nn_channel_mean_std(&x, mean, std);
  const float pub_mean[3] = {0.4914f, 0.4822f, 0.4465f}, pub_std[3] = {0.2470f, 0.2435f, 0.2616f};
  for (int c = 0; c < 3; c++) {
    cr_assert(fabsf(mean[c] - pub_mean[c]) < 1e-3f, "train mean of channel %d is %.5f, published %.4f", c, mean[c],
              pub_mean[c]);
    cr_assert(fabsf(std[c] - pub_std[c]) < 1e-3f, "train std of channel %d is %.5f, published %.4f", c, std[c],
              pub_std[c]);
  }
  nn_tensor_free(&x), free(y);
}

#endif /* NN_GRADING */
