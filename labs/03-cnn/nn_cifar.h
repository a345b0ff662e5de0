/* nn_cifar.h: CIFAR-10's binary format (Krizhevsky, 2009), colour images of 10 classes.
 *
 * 60,000 photos of 32 x 32 pixels in colour: data_batch_1.bin .. data_batch_5.bin hold
 * 10,000 training images each (50,000), test_batch.bin 10,000 test images. `make data`
 * (only it: SETS=cifar-10 tools/fetch-data) puts them in
 * datasets/full/cifar-10/cifar-10-batches-bin/. There is no header: a file is a run
 * of records of 3,073 bytes,
 *
 *   byte 0            the label, 0..9 (airplane, automobile, bird, cat, deer, dog,
 *                     frog, horse, ship, truck)
 *   bytes 1..1024     the red plane, 32 rows of 32, row-major
 *   bytes 1025..2048  the green plane
 *   bytes 2049..3072  the blue plane
 *
 * so record r starts at byte 3073 r, and pixel (c, h, w) of it is byte
 * 1 + (c * 32 + h) * 32 + w: the pixels are already in (C, H, W) order, the layout of
 * the course's tensors and PyTorch's. (PNG and PPM interleave them per pixel, (H, W, C):
 * R G B R G B ...; so does Keras' cifar10.load_data, which transposes to (N, 32, 32, 3).)
 *
 * Loaded images are an (N, 3, 32, 32) tensor of byte / 255 in [0, 1], as MNIST's are
 * (nn_idx.h), and N int labels. Nothing in a file says how many records it should
 * have, so a file is checked as far as the format allows: its length must be a whole
 * number of records, every label 0..9, and an official batch file (nn_cifar_load) must
 * hold exactly 10,000. A file that fails is refused with a message that names it, the
 * record and its byte offset, never loaded short. Bad data returns a status
 * (nn_common.h); only a caller's mistake (NULL, a split that is neither "train" nor
 * "test") aborts.
 */
#ifndef NN_CIFAR_H
#define NN_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "nn_tensor.h"

enum {
  NN_CIFAR_CHANNELS = 3, /* red, green, blue */
  NN_CIFAR_SIDE = 32,    /* H = W = 32 */
  NN_CIFAR_PIXELS = NN_CIFAR_CHANNELS * NN_CIFAR_SIDE * NN_CIFAR_SIDE, /* 3072 */
  NN_CIFAR_RECORD = 1 + NN_CIFAR_PIXELS,                  /* 3073 bytes: label + pixels */
  NN_CIFAR_CLASSES = 10,
  NN_CIFAR_BATCH_RECORDS = 10000, /* records in each of the six official files */
  NN_CIFAR_TRAIN = 50000,         /* data_batch_1..5 */
  NN_CIFAR_TEST = 10000           /* test_batch */
};

/* Where `make data` unpacks the six files, relative to the repository root. */
#define NN_CIFAR_DEFAULT_DIR "datasets/full/cifar-10/cifar-10-batches-bin"

/* One record (NN_CIFAR_RECORD bytes) -> *label and one image (3, 32, 32) of floats in
 * [0, 1]. The label is not checked here (nn_cifar_parse does it first). */
void nn_cifar_decode_record(const uint8_t *record, float *image, int *label);

/* The records of one file already in memory (`name` for messages): images a new
 * (N, 3, 32, 32) tensor, labels a new array of N ints (free both). N is the number of
 * records, or max when 0 < max < that (the first max: a prefix for quick runs); the
 * whole file is checked either way. Errors, NN_ERR_FORMAT, nothing allocated:
 *   "x.bin: 6147 bytes is not a whole number of 3073-byte records (...): after 2 whole
 *    records, record 2 (from byte 6146) has only 1 of its 3073 bytes. The file is cut short ..."
 *   "x.bin: record 1 (byte 3073): label 12, but CIFAR-10's labels are 0..9 ..."
 * and an empty file. NN_ERR_MEMORY when the floats do not fit. */
nn_status nn_cifar_parse(const uint8_t *bytes, size_t len, const char *name, int max, nn_tensor *images,
                         int **labels, nn_error *err);

/* One batch file (plain or gzipped), any whole number of records, as nn_cifar_parse.
 * A missing file is NN_ERR_IO with a message that says how to get CIFAR-10. */
nn_status nn_cifar_load_batch(const char *path, int max, nn_tensor *images, int **labels, nn_error *err);

/* A split of the official files in dir (NN_CIFAR_DEFAULT_DIR after `make data`):
 * split "train" is data_batch_1.bin .. data_batch_5.bin in order (50,000 images),
 * "test" is test_batch.bin (10,000). max > 0 loads only the first max images (reading
 * only the files they are in); 0 loads all. Each file read must hold exactly 10,000
 * records: one cut short at a record boundary is refused, naming its record count. */
nn_status nn_cifar_load(const char *dir, const char *split, int max, nn_tensor *images, int **labels,
                        nn_error *err);

/* "airplane" .. "truck" for labels 0..9 (batches.meta.txt's order), else "?". */
const char *nn_cifar_class_name(int label);

#endif
