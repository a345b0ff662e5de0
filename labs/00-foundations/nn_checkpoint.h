/* nn_checkpoint.h: save and load named tensors (a model's weights) safely.
 *
 * File layout, all integers little-endian:
 *   "NNCK"                      magic, 4 bytes
 *   u32 version (= 1), u32 count
 *   count times:  u16 name_len, name bytes (no NUL), u32 ndim, ndim x u32 shape,
 *                 numel x f32 data
 *   u32 crc32                   of every byte before it (zlib's CRC-32)
 *
 * Saving writes PATH.tmp, flushes it to disk (fsync) and renames it over PATH.
 * rename() is atomic, so a crash or a full disk leaves either the old
 * checkpoint or the new one, never half of one. Loading checks the magic, the
 * version, the CRC, every name and every shape BEFORE it writes into any
 * tensor, so a bad file leaves the model as it was.
 */
#ifndef NN_CHECKPOINT_H
#define NN_CHECKPOINT_H

#include "nn_tensor.h"

#define NN_CHECKPOINT_VERSION 1

typedef struct {
  const char *name; /* "dense1.W" */
  nn_tensor *tensor;
} nn_named_tensor;

nn_status nn_checkpoint_save(const char *path, const nn_named_tensor *items, int count,
                             nn_error *err);
/* Fill each items[i].tensor (CPU or GPU) from the tensor of the same name in the
 * file; the shapes must match. Tensors in the file that are not asked for are ignored. */
nn_status nn_checkpoint_load(const char *path, const nn_named_tensor *items, int count,
                             nn_error *err);

#endif
