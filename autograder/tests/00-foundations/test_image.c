/* Images: PNG/JPEG decode into (1, C, H, W), PNG write and read back, the grid
 * of a batch, and files that are not images. Known values: the pixel sums of
 * camera.png and chelsea.png as decoded by an independent decoder (the PGM/PPM
 * copies in ../shared/datasets/images, made from the same PNGs). */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_file.h"
#include "nn_image.h"

static char dir[64];
static void make_dir(void) {
  strcpy(dir, "/tmp/nn-image-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}
static void remove_dir(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}
TestSuite(image, .init = make_dir, .fini = remove_dir);

/* sum of round(255 * value): the byte sum of the decoded pixels */
static long byte_sum(const nn_tensor *t) {
  long sum = 0;
  for (long i = 0; i < nn_numel(t); i++) sum += lroundf(t->data[i] * 255.f);
  return sum;
}

static void assert_shape(const nn_tensor *t, int n, int c, int h, int w, const char *what) {
  cr_assert(t->ndim == 4 && t->shape[0] == n && t->shape[1] == c && t->shape[2] == h && t->shape[3] == w,
            "%s: tensor is %s, expected (%d, %d, %d, %d)", what, nn_shape_str(t).s, n, c, h, w);
}

Test(image, gray_png_decodes_to_known_pixels) {
  nn_tensor img;
  nn_error err = {0};
  nn_status st = nn_image_load("datasets/images/camera.png", 0, &img, &err);
  cr_assert_eq(st, NN_OK, "camera.png: %s", err.msg);
  assert_shape(&img, 1, 1, 512, 512, "camera.png");
  cr_assert_eq(byte_sum(&img), 33832495L, "camera.png: pixel byte sum %ld, expected 33832495", byte_sum(&img));
  cr_assert_float_eq(img.data[0], 200.f / 255.f, 1e-6f, "camera.png (0, 0) = %g, expected 200/255", img.data[0]);
  nn_tensor_free(&img);
}

Test(image, rgb_png_is_channels_first) {
  nn_tensor img;
  nn_error err = {0};
  cr_assert_eq(nn_image_load("datasets/images/chelsea.png", 0, &img, &err), NN_OK, "%s", err.msg);
  assert_shape(&img, 1, 3, 300, 451, "chelsea.png");
  long plane = 300L * 451;
  /* the first pixel is (R, G, B) = (143, 120, 104): one value in each plane */
  cr_assert_float_eq(img.data[0], 143.f / 255.f, 1e-6f, "R(0, 0) = %g, expected 143/255", img.data[0] * 255);
  cr_assert_float_eq(img.data[plane], 120.f / 255.f, 1e-6f, "G(0, 0) = %g, expected 120/255: is the tensor (C, H, W)?",
                     img.data[plane] * 255);
  cr_assert_float_eq(img.data[2 * plane], 104.f / 255.f, 1e-6f, "B(0, 0) = %g, expected 104/255", img.data[2 * plane] * 255);
  cr_assert_eq(byte_sum(&img), 46802357L, "chelsea.png: byte sum %ld, expected 46802357", byte_sum(&img));
  nn_tensor_free(&img);
}

Test(image, jpeg_decodes_and_channels_convert) {
  nn_tensor rgb, gray, rgba;
  nn_error err = {0};
  cr_assert_eq(nn_image_load("datasets/images/china.jpg", 0, &rgb, &err), NN_OK, "%s", err.msg);
  assert_shape(&rgb, 1, 3, 427, 640, "china.jpg");
  cr_assert_eq(nn_image_load("datasets/images/china.jpg", 1, &gray, &err), NN_OK, "%s", err.msg);
  assert_shape(&gray, 1, 1, 427, 640, "china.jpg as gray");
  cr_assert_eq(nn_image_load("datasets/images/camera.png", 4, &rgba, &err), NN_OK, "%s", err.msg);
  assert_shape(&rgba, 1, 4, 512, 512, "camera.png as RGBA");
  long plane = 512L * 512;
  cr_assert_eq(rgba.data[7], rgba.data[plane + 7], "gray -> RGBA: R and G differ");
  cr_assert_eq(rgba.data[3 * plane + 7], 1.f, "gray -> RGBA: alpha is %g, expected 1 (opaque)", rgba.data[3 * plane + 7]);
  nn_tensor_free(&rgb), nn_tensor_free(&gray), nn_tensor_free(&rgba);
}

Test(image, png_write_then_read_gives_the_same_bytes) {
  char path[128];
  snprintf(path, sizeof path, "%s/x.png", dir);
  nn_tensor x = nn_tensor_new(3, (int[]){3, 5, 7}, NN_CPU);
  for (long i = 0; i < nn_numel(&x); i++) x.data[i] = (float)((i * 37) % 256) / 255.f;
  x.data[0] = -0.5f, x.data[1] = 1.7f; /* clamped to 0 and 1 */
  nn_error err = {0};
  cr_assert_eq(nn_image_write_png(path, &x, &err), NN_OK, "%s", err.msg);
  nn_tensor back;
  cr_assert_eq(nn_image_load(path, 0, &back, &err), NN_OK, "%s", err.msg);
  assert_shape(&back, 1, 3, 5, 7, "read back");
  cr_assert_eq(back.data[0], 0.f, "-0.5 must be written as 0, read back %g", back.data[0]);
  cr_assert_eq(back.data[1], 1.f, "1.7 must be written as 255, read back %g", back.data[1] * 255);
  for (long i = 2; i < nn_numel(&x); i++)
    cr_assert_float_eq(back.data[i], x.data[i], 1e-6f, "element %ld: wrote %g, read %g", i, x.data[i] * 255,
                       back.data[i] * 255);
  char tmp[160];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  cr_assert_neq(access(tmp, F_OK), 0, "%s was left behind", tmp);
  nn_tensor_free(&x), nn_tensor_free(&back);
}

Test(image, grid_places_each_image_with_a_one_pixel_gap) {
  /* 3 images of (1, 2, 2), 2 columns -> rows = 2, grid 5 x 5:
   *   a a . b b
   *   a a . b b
   *   . . . . .
   *   c c . . .
   *   c c . . .          a = 0.2, b = 0.6, c = 1.0, gaps and the empty slot 0 */
  nn_tensor batch = nn_tensor_new(4, (int[]){3, 1, 2, 2}, NN_CPU);
  const float value[3] = {0.2f, 0.6f, 1.f};
  for (int n = 0; n < 3; n++)
    for (int i = 0; i < 4; i++) batch.data[n * 4 + i] = value[n];
  char path[128];
  snprintf(path, sizeof path, "%s/grid.png", dir);
  nn_error err = {0};
  cr_assert_eq(nn_image_write_grid(path, &batch, 2, &err), NN_OK, "%s", err.msg);
  nn_tensor grid;
  cr_assert_eq(nn_image_load(path, 0, &grid, &err), NN_OK, "%s", err.msg);
  assert_shape(&grid, 1, 1, 5, 5, "grid of 3 (1, 2, 2) images, 2 columns");
  const char *expect[5] = {"aa.bb", "aa.bb", ".....", "cc...", "cc..."};
  for (int h = 0; h < 5; h++)
    for (int w = 0; w < 5; w++) {
      char k = expect[h][w];
      float want = k == 'a' ? 0.2f : k == 'b' ? 0.6f : k == 'c' ? 1.f : 0.f;
      cr_assert_float_eq(grid.data[h * 5 + w], want, 0.5f / 255, "grid (%d, %d) = %g, expected %g", h, w,
                         grid.data[h * 5 + w], want);
    }
  nn_tensor_free(&batch), nn_tensor_free(&grid);
}

Test(image, bytes_that_are_not_an_image_are_refused) {
  const uint8_t text[] = "sepal_length,sepal_width\n5.1,3.5\n";
  nn_tensor img = {.data = (float *)1};
  nn_error err = {0};
  nn_status st = nn_image_decode(text, sizeof text - 1, "iris.csv", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "got %s (%s), expected NN_ERR_FORMAT", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "iris.csv") && strstr(err.msg, "not an image"), "message: %s", err.msg);
  cr_assert_null(img.data, "a failed decode must leave no tensor");
}

Test(image, a_png_cut_short_is_refused) {
  uint8_t *png;
  size_t len;
  nn_error err = {0};
  cr_assert_eq(nn_file_read("datasets/images/camera.png", 1 << 24, &png, &len, &err), NN_OK, "%s", err.msg);
  nn_tensor img;
  nn_status st = nn_image_decode(png, 4000, "camera.png", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "4000 of %zu bytes: got %s, expected NN_ERR_FORMAT", len, nn_status_name(st));
  cr_assert(strstr(err.msg, "camera.png"), "message does not name the file: %s", err.msg);
  cr_assert_null(img.data);
  free(png);
}

Test(image, a_header_claiming_a_huge_image_is_refused_before_decoding) {
  /* A PNG signature and an IHDR chunk for 20000 x 20000 gray pixels (400 MB decoded). */
  const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                         0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 0, 0, 0, 0, 0, 0, 0, 0};
  nn_tensor img;
  nn_error err = {0};
  nn_status st = nn_image_decode(png, sizeof png, "huge.png", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "got %s (%s)", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "20000 x 20000"), "message should give the size the header claims: %s", err.msg);
}

Test(image, more_than_40_megapixels_is_refused_even_within_the_side_limit) {
  /* IHDR for 9000 x 9000: each side is allowed, 81 megapixels are not */
  const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                         0, 0, 0x23, 0x28, 0, 0, 0x23, 0x28, 8, 0, 0, 0, 0, 0, 0, 0, 0};
  nn_tensor img;
  nn_error err = {0};
  nn_status st = nn_image_decode(png, sizeof png, "bomb.png", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "got %s (%s)", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "9000 x 9000") && strstr(err.msg, "megapixels"), "message: %s", err.msg);
}

Test(image, bytes_without_a_png_or_jpeg_signature_are_refused_at_once) {
  /* Found by the fuzzer: stb_image takes these 67 bytes for a TGA (a format with no
   * signature) and decodes a huge image from them. */
  uint8_t bytes[67] = {0x89, 0x00, 0x02};
  memset(bytes + 3, 0x18, 44);
  nn_tensor img;
  nn_error err = {0};
  nn_status st = nn_image_decode(bytes, sizeof bytes, "odd.bin", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "got %s (%s)", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "neither a PNG nor a JPEG"), "message: %s", err.msg);
}

Test(image, a_png_chunk_that_claims_more_bytes_than_the_file_is_refused) {
  /* Found by the fuzzer: stb_image grows its buffer to an IDAT chunk's claimed length
   * (here 2 GB) before it looks at the data. */
  uint8_t *png;
  size_t len;
  nn_error err = {0};
  cr_assert_eq(nn_file_read("datasets/images/camera.png", 1 << 24, &png, &len, &err), NN_OK, "%s", err.msg);
  uint8_t *idat = NULL;
  for (size_t i = 4; i + 4 <= len && !idat; i++)
    if (memcmp(png + i, "IDAT", 4) == 0) idat = png + i;
  cr_assert(idat, "camera.png has no IDAT chunk");
  idat[-4] = 0x7f, idat[-3] = 0xff, idat[-2] = 0xff, idat[-1] = 0xff;
  nn_tensor img;
  nn_status st = nn_image_decode(png, len, "camera.png", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "got %s (%s)", nn_status_name(st), err.msg);
  cr_assert(strstr(err.msg, "chunk claims more bytes"), "message: %s", err.msg);
  cr_assert_null(img.data);
  free(png);
}

Test(image, a_missing_file_names_the_path) {
  nn_tensor img;
  nn_error err = {0};
  nn_status st = nn_image_load("datasets/images/no-such.png", 0, &img, &err);
  cr_assert_eq(st, NN_ERR_IO, "got %s", nn_status_name(st));
  cr_assert(strstr(err.msg, "datasets/images/no-such.png"), "message: %s", err.msg);
}

Test(image, a_failed_write_leaves_the_old_file) {
  char path[128], tmp[160];
  snprintf(path, sizeof path, "%s/keep.png", dir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(path, "wb");
  fputs("old", f);
  fclose(f);
  cr_assert_eq(mkdir(tmp, 0700), 0); /* path.tmp cannot be created as a file */
  nn_tensor x = nn_tensor_new(3, (int[]){1, 2, 2}, NN_CPU);
  nn_error err = {0};
  nn_status st = nn_image_write_png(path, &x, &err);
  cr_assert_eq(st, NN_ERR_IO, "got %s", nn_status_name(st));
  char old[8] = {0};
  f = fopen(path, "rb");
  cr_assert_eq(fread(old, 1, 7, f), 3);
  fclose(f);
  cr_assert_str_eq(old, "old", "the previous file was changed by a failed write");
  nn_tensor_free(&x);
}

Test(image, two_channels_abort, .signal = SIGABRT) {
  nn_tensor x = nn_tensor_new(3, (int[]){2, 4, 4}, NN_CPU);
  nn_image_write_png("/tmp/never.png", &x, NULL);
}
