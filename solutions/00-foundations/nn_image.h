/* nn_image.h: PNG/JPEG in, PNG out, through stb_image and stb_image_write.
 *
 * An image is a (1, C, H, W) tensor of floats in [0, 1]: pixel / 255, channels
 * first as everywhere in the course (stb stores H, W, C interleaved; the
 * loader transposes). C is 1 (gray), 3 (RGB) or 4 (RGBA).
 */
#ifndef NN_IMAGE_H
#define NN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "nn_tensor.h"

/* Decode PNG/JPEG/BMP/GIF/... bytes (`name` for messages) into a new tensor.
 * channels: 0 keeps what the file has; 1, 3 or 4 converts (stb's rules). */
nn_status nn_image_decode(const uint8_t *bytes, size_t len, const char *name, int channels,
                          nn_tensor *image, nn_error *err);
nn_status nn_image_load(const char *path, int channels, nn_tensor *image, nn_error *err);

/* Write a (C, H, W) or (1, C, H, W) CPU tensor as PNG; values are clamped to
 * [0, 1] and rounded to 0..255. Written atomically (path.tmp, then rename). */
nn_status nn_image_write_png(const char *path, const nn_tensor *image, nn_error *err);

/* Write a batch (N, C, H, W) as one PNG grid, `columns` images per row with a
 * one-pixel gap: how the course shows 64 digits, or a GAN's samples, at once. */
nn_status nn_image_write_grid(const char *path, const nn_tensor *batch, int columns,
                              nn_error *err);

#endif
