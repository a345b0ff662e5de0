/* nn_image.c: stb_image decodes, stb_image_write encodes; we convert layouts.
 *
 * stb keeps pixels interleaved, (H, W, C) with values 0..255; the course keeps
 * them channels-first, (C, H, W) floats in [0, 1]:
 *   tensor[c][h][w] = stb[(h*W + w)*C + c] / 255
 */
#include "nn_image.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "nn_file.h"

/* Far above any photo of the course (640x427), far below what would exhaust
 * memory: a corrupt header claiming 100000 x 100000 pixels is refused, and so
 * is a small file that inflates to more than 40 megapixels (a PNG "bomb"). */
enum { MAX_SIDE = 16384, MAX_PIXELS = 40 << 20, MAX_FILE_BYTES = 256 << 20 };

/* PNG and JPEG by their signatures. stb_image also guesses at TGA, which has
 * no signature at all, so nearly any bytes would pass for a (huge) TGA. */
static bool png_or_jpeg(const uint8_t *b, size_t len) {
  static const uint8_t PNG[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, JPEG[3] = {0xff, 0xd8, 0xff};
  return (len >= 8 && memcmp(b, PNG, 8) == 0) || (len >= 3 && memcmp(b, JPEG, 3) == 0);
}

/* Every chunk of a PNG (4-byte big-endian length, 4-byte type, data, 4-byte CRC)
 * lies inside the file. stb_image trusts the lengths and grows its buffer to
 * what an IDAT chunk claims, so a 50-byte file could ask for 2 GB. */
static bool png_chunks_fit(const uint8_t *b, size_t len) {
  size_t at = 8;
  while (at + 12 <= len) {
    uint32_t n = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
    if (n > len - at - 12) return false;
    if (memcmp(b + at + 4, "IEND", 4) == 0) return true;
    at += 12 + (size_t)n;
  }
  return false; /* no IEND: the file was cut short */
}

nn_status nn_image_decode(const uint8_t *bytes, size_t len, const char *name, int channels,
                          nn_tensor *image, nn_error *err) {
  NN_REQUIRE(bytes && name && image, "nn_image_decode: NULL bytes, name or image");
  NN_REQUIRE(channels >= 0 && channels <= 4 && channels != 2,
             "nn_image_decode: channels is %d; use 0 (as stored), 1, 3 or 4", channels);
  *image = (nn_tensor){0};
  int W = 0, H = 0, stored = 0;
  if (!png_or_jpeg(bytes, len))
    return nn_fail(err, NN_ERR_FORMAT, "%s: not an image the course reads: its first bytes are neither "
                   "a PNG nor a JPEG signature", name);
  if (len > (size_t)MAX_FILE_BYTES || !stbi_info_from_memory(bytes, (int)len, &W, &H, &stored))
    return nn_fail(err, NN_ERR_FORMAT, "%s: not an image stb_image can read (%s); expected PNG or JPEG",
                   name, len > (size_t)MAX_FILE_BYTES ? "too large" : stbi_failure_reason());
  if (W < 1 || H < 1 || W > MAX_SIDE || H > MAX_SIDE || (long)W * H > MAX_PIXELS)
    return nn_fail(err, NN_ERR_FORMAT, "%s: the header says %d x %d pixels; the course reads 1 to %d per side "
                   "and at most %d megapixels", name, W, H, MAX_SIDE, MAX_PIXELS >> 20);
  if (bytes[0] == 0x89 && !png_chunks_fit(bytes, len))
    return nn_fail(err, NN_ERR_FORMAT, "%s: not an image the course can read: a PNG chunk claims more bytes than "
                   "the file holds (cut short or corrupt)", name);
  int C = channels ? channels : stored;
  uint8_t *pixels = stbi_load_from_memory(bytes, (int)len, &W, &H, &stored, C);
  if (!pixels)
    return nn_fail(err, NN_ERR_FORMAT, "%s: cannot decode (%s)", name, stbi_failure_reason());
  *image = nn_tensor_new(4, (int[]){1, C, H, W}, NN_CPU);
  for (int c = 0; c < C; c++)
    for (long i = 0; i < (long)H * W; i++)
      image->data[c * (long)H * W + i] = pixels[i * C + c] / 255.f;
  stbi_image_free(pixels);
  return NN_OK;
}

nn_status nn_image_load(const char *path, int channels, nn_tensor *image, nn_error *err) {
  NN_REQUIRE(path && image, "nn_image_load: NULL path or image");
  *image = (nn_tensor){0};
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_status st = nn_file_read(path, MAX_FILE_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_image_decode(bytes, len, path, channels, image, err);
  free(bytes);
  return st;
}

/* ---- writing: (C, H, W) floats -> interleaved bytes -> PNG in memory -> file */

typedef struct {
  uint8_t *data;
  size_t len, capacity;
  bool failed;
} byte_buffer;

/* stb_image_write hands the encoded PNG over in pieces through this callback. */
static void append(void *context, void *piece, int size) {
  byte_buffer *b = context;
  if (b->failed || size <= 0) return;
  if (b->len + (size_t)size > b->capacity) {
    size_t cap = b->capacity ? 2 * b->capacity : 1 << 16;
    while (cap < b->len + (size_t)size) cap *= 2;
    uint8_t *bigger = realloc(b->data, cap);
    if (!bigger) {
      b->failed = true;
      return;
    }
    b->data = bigger, b->capacity = cap;
  }
  memcpy(b->data + b->len, piece, (size_t)size);
  b->len += (size_t)size;
}

static uint8_t to_byte(float v) {
  if (!(v > 0.f)) return 0; /* also NaN */
  if (v >= 1.f) return 255;
  return (uint8_t)(v * 255.f + 0.5f);
}

/* pixels (H, W, C) bytes from planes (C, H, W) floats */
static void interleave(const float *planes, int C, int H, int W, uint8_t *pixels) {
  for (int c = 0; c < C; c++)
    for (long i = 0; i < (long)H * W; i++) pixels[i * C + c] = to_byte(planes[c * (long)H * W + i]);
}

static nn_status write_pixels(const char *path, const uint8_t *pixels, int C, int H, int W,
                              nn_error *err) {
  byte_buffer png = {0};
  if (!stbi_write_png_to_func(append, &png, W, H, C, pixels, W * C) || png.failed) {
    free(png.data);
    return nn_fail(err, NN_ERR_MEMORY, "%s: PNG encoding failed (%d x %d x %d)", path, W, H, C);
  }
  nn_status st = nn_file_write_atomic(path, png.data, png.len, err);
  free(png.data);
  return st;
}

static void check_image_shape(const char *fn, const nn_tensor *t, int first_channel_dim) {
  int C = t->shape[first_channel_dim];
  NN_REQUIRE(t->device == NN_CPU, "%s: the tensor is on the GPU; copy it with nn_tensor_to(t, NN_CPU)", fn);
  NN_REQUIRE(C == 1 || C == 3 || C == 4, "%s: tensor %s has %d channels; PNG takes 1, 3 or 4", fn,
             nn_shape_str(t).s, C);
}

nn_status nn_image_write_png(const char *path, const nn_tensor *image, nn_error *err) {
  NN_REQUIRE(path && image, "nn_image_write_png: NULL path or image");
  bool batched = image->ndim == 4;
  NN_REQUIRE(image->ndim == 3 || (batched && image->shape[0] == 1),
             "nn_image_write_png: image is %s; expected (C, H, W) or (1, C, H, W)", nn_shape_str(image).s);
  check_image_shape("nn_image_write_png", image, batched ? 1 : 0);
  int C = image->shape[batched], H = image->shape[batched + 1], W = image->shape[batched + 2];
  uint8_t *pixels = nn_xmalloc((size_t)C * H * W, "nn_image_write_png pixels");
  interleave(image->data, C, H, W, pixels);
  nn_status st = write_pixels(path, pixels, C, H, W, err);
  free(pixels);
  return st;
}

/* ANCHOR: image_grid */
nn_status nn_image_write_grid(const char *path, const nn_tensor *batch, int columns, nn_error *err) {
  NN_REQUIRE(path && batch && batch->ndim == 4, "nn_image_write_grid: batch must be (N, C, H, W)");
  NN_REQUIRE(columns >= 1, "nn_image_write_grid: columns is %d; need at least 1", columns);
  check_image_shape("nn_image_write_grid", batch, 1);
  int N = batch->shape[0], C = batch->shape[1], H = batch->shape[2], W = batch->shape[3];
  int rows = nn_ceil_div(N, columns), cols = N < columns ? N : columns;
  /* Tiles of H x W with a 1-pixel gap between them: the grid is (C, GH, GW). */
  int GH = rows * (H + 1) - 1, GW = cols * (W + 1) - 1;
  nn_tensor grid = nn_tensor_new(3, (int[]){C, GH, GW}, NN_CPU);
  for (int n = 0; n < N; n++) {
    int top = (n / columns) * (H + 1), left = (n % columns) * (W + 1);
    const float *x_n = batch->data + (long)n * C * H * W;
    for (int c = 0; c < C; c++)
      for (int h = 0; h < H; h++)
        memcpy(&grid.data[((long)c * GH + top + h) * GW + left], &x_n[((long)c * H + h) * W],
               (size_t)W * sizeof(float));
  }
  nn_status st = nn_image_write_png(path, &grid, err);
  nn_tensor_free(&grid);
  return st;
}
/* ANCHOR_END: image_grid */
