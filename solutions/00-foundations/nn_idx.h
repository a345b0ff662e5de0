/* nn_idx.h: the IDX format of MNIST and Fashion-MNIST (LeCun et al., 1998).
 *
 *   byte 0, 1    0x00 0x00
 *   byte 2       element type; 0x08 = unsigned byte, the only type these sets use
 *   byte 3       number of dims d
 *   d x u32      the dims, big-endian
 *   then         prod(dims) elements, row-major
 *
 * Read as one big-endian u32 the first four bytes are the "magic":
 * 0x00000803 for images (N, H, W) and 0x00000801 for labels (N).
 * A file whose header and length disagree is refused with a message that says
 * which, never loaded short.
 */
#ifndef NN_IDX_H
#define NN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "nn_tensor.h"

#define NN_IDX_MAGIC_LABELS 0x00000801u
#define NN_IDX_MAGIC_IMAGES 0x00000803u

/* A checked IDX header plus a pointer to its elements inside the caller's bytes
 * (nothing is copied). */
typedef struct {
  int ndim;
  int dims[3];
  const uint8_t *elements; /* prod(dims) bytes */
} nn_idx_view;

/* Check `bytes` (the whole file, already gunzipped) against `magic` and fill
 * *view. `name` is the file name used in messages. Errors: NN_ERR_FORMAT with
 * e.g. "train-images-idx3-ubyte.gz: IDX magic 0x00000801, expected 0x00000803 (images)". */
nn_status nn_idx_parse(const uint8_t *bytes, size_t len, const char *name, uint32_t magic,
                       nn_idx_view *view, nn_error *err);

/* The two conversions the loaders make from a parsed view, split out so that a
 * fuzzer can run them on any bytes nn_idx_parse accepts. `view` must come from
 * nn_idx_parse with the matching magic (3 dims for images, 1 for labels).
 *   images: a new (N, 1, H, W) tensor, pixel / 255 in [0, 1]
 *   labels: a new array of N ints, each checked to be below num_classes
 * On error nothing is allocated: images->data / *labels are NULL. */
nn_status nn_idx_view_to_images(const nn_idx_view *view, const char *name, nn_tensor *images,
                                nn_error *err);
nn_status nn_idx_view_to_labels(const nn_idx_view *view, const char *name, int num_classes,
                                int **labels, int *count, nn_error *err);

/* Images as a new (N, 1, H, W) tensor of floats in [0, 1] (pixel / 255). */
nn_status nn_idx_load_images(const char *path, nn_tensor *images, nn_error *err);
/* Labels as a new array of *count ints (malloc'd; free it). Every label must be
 * below num_classes (10 for MNIST); one that is not is reported with its index. */
nn_status nn_idx_load_labels(const char *path, int num_classes, int **labels, int *count,
                             nn_error *err);

/* One split of an MNIST-style folder: dir/{split}-images-idx3-ubyte.gz and
 * dir/{split}-labels-idx1-ubyte.gz, split "train" or "t10k" (the official names,
 * kept by datasets/mnist-10k and fashion-mnist-10k). Checks that both files hold
 * the same number of examples and labels 0..9. */
nn_status nn_mnist_load(const char *dir, const char *split, nn_tensor *images, int **labels,
                        nn_error *err);

#endif
