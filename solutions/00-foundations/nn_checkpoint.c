/* nn_checkpoint.c: the atomic writer and the careful reader. */
#include "nn_checkpoint.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[4] = {'N', 'N', 'C', 'K'};
enum { MAX_NAME = 255, MAX_FILE_BYTES = 1 << 30 };

/* ---- writing: a FILE plus a running CRC of everything written so far */
typedef struct {
  FILE *f;
  uLong crc;
  bool failed;
} writer;

static void put(writer *w, const void *bytes, size_t n) {
  if (w->failed || n == 0) return;
  if (fwrite(bytes, 1, n, w->f) != n) w->failed = true;
  w->crc = crc32(w->crc, bytes, (uInt)n);
}
static void put_u16(writer *w, uint16_t v) { put(w, (uint8_t[]){v & 255, v >> 8}, 2); }
static void put_u32(writer *w, uint32_t v) {
  put(w, (uint8_t[]){v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24}, 4);
}

/* Floats go out as their IEEE-754 bits, little-endian, whatever the host. */
static void put_floats(writer *w, const float *x, long n) {
  for (long i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &x[i], 4);
    put_u32(w, bits);
  }
}

static void put_tensor(writer *w, const char *name, const nn_tensor *t) {
  put_u16(w, (uint16_t)strlen(name));
  put(w, name, strlen(name));
  put_u32(w, (uint32_t)t->ndim);
  for (int d = 0; d < t->ndim; d++) put_u32(w, (uint32_t)t->shape[d]);
  nn_tensor host = t->device == NN_CPU ? *t : nn_tensor_to(t, NN_CPU);
  put_floats(w, host.data, nn_numel(&host));
  if (t->device != NN_CPU) nn_tensor_free(&host);
}

static nn_status write_all(writer *w, const nn_named_tensor *items, int count) {
  put(w, MAGIC, 4);
  put_u32(w, NN_CHECKPOINT_VERSION);
  put_u32(w, (uint32_t)count);
  for (int i = 0; i < count; i++) put_tensor(w, items[i].name, items[i].tensor);
  uint32_t crc = (uint32_t)w->crc;
  put_u32(w, crc);
  return w->failed ? NN_ERR_IO : NN_OK;
}

/* ANCHOR: atomic_save */
nn_status nn_checkpoint_save(const char *path, const nn_named_tensor *items, int count,
                             nn_error *err) {
  NN_REQUIRE(path && (items || count == 0) && count >= 0, "nn_checkpoint_save: NULL path or items");
  for (int i = 0; i < count; i++) {
    NN_REQUIRE(items[i].name && strlen(items[i].name) <= MAX_NAME && items[i].tensor,
               "nn_checkpoint_save: item %d needs a name of 1..%d bytes and a tensor", i, MAX_NAME);
  }
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
    return nn_fail(err, NN_ERR_ARG, "%s: path too long", path);
  writer w = {.f = fopen(tmp, "wb"), .crc = crc32(0L, Z_NULL, 0)};
  if (!w.f) return nn_fail(err, NN_ERR_IO, "%s: cannot create (%s)", tmp, strerror(errno));
  nn_status st = write_all(&w, items, count);
  int saved_errno = errno;
  /* Data must be on disk before the rename makes it the checkpoint. */
  if (st == NN_OK && (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0)) st = NN_ERR_IO, saved_errno = errno;
  if (fclose(w.f) != 0 && st == NN_OK) st = NN_ERR_IO, saved_errno = errno;
  if (st == NN_OK && rename(tmp, path) != 0) st = NN_ERR_IO, saved_errno = errno;
  if (st != NN_OK) {
    remove(tmp);
    return nn_fail(err, NN_ERR_IO, "%s: checkpoint not saved (%s); the previous file, if any, is unchanged",
                   path, strerror(saved_errno));
  }
  return NN_OK;
}
/* ANCHOR_END: atomic_save */
/* ---- reading: parse from a buffer, never past its end */
typedef struct {
  const uint8_t *p, *end;
  const char *path;
} reader;

static bool take(reader *r, void *out, size_t n) {
  if ((size_t)(r->end - r->p) < n) return false;
  memcpy(out, r->p, n);
  r->p += n;
  return true;
}
static bool take_u16(reader *r, uint16_t *v) {
  uint8_t b[2];
  if (!take(r, b, 2)) return false;
  *v = (uint16_t)(b[0] | b[1] << 8);
  return true;
}
static bool take_u32(reader *r, uint32_t *v) {
  uint8_t b[4];
  if (!take(r, b, 4)) return false;
  *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
  return true;
}

/* One tensor record as found in the file; data still points into the buffer. */
typedef struct {
  char name[MAX_NAME + 1];
  nn_tensor shape; /* shape and ndim only */
  const uint8_t *data;
} record;

static nn_status read_record(reader *r, record *rec, nn_error *err) {
  uint16_t name_len = 0;
  uint32_t ndim = 0;
  if (!take_u16(r, &name_len) || name_len > MAX_NAME || !take(r, rec->name, name_len))
    return nn_fail(err, NN_ERR_FORMAT, "%s: bad tensor name record", r->path);
  rec->name[name_len] = '\0';
  if (!take_u32(r, &ndim) || ndim < 1 || ndim > NN_MAX_DIMS)
    return nn_fail(err, NN_ERR_FORMAT, "%s: tensor '%s' has ndim %u, expected 1..%d", r->path,
                   rec->name, ndim, NN_MAX_DIMS);
  rec->shape = (nn_tensor){.ndim = (int)ndim};
  uint64_t numel = 1;
  for (uint32_t d = 0; d < ndim; d++) {
    uint32_t dim = 0;
    if (!take_u32(r, &dim) || dim == 0 || dim > (1u << 30))
      return nn_fail(err, NN_ERR_FORMAT, "%s: tensor '%s' has a bad shape", r->path, rec->name);
    rec->shape.shape[d] = (int)dim;
    numel *= dim;
  }
  if (numel > (uint64_t)(r->end - r->p) / 4)
    return nn_fail(err, NN_ERR_FORMAT, "%s: tensor '%s' %s needs %llu bytes, only %zu left",
                   r->path, rec->name, nn_shape_str(&rec->shape).s, (unsigned long long)numel * 4,
                   (size_t)(r->end - r->p));
  rec->data = r->p;
  r->p += numel * 4;
  return NN_OK;
}

static nn_status read_file(const char *path, uint8_t **buf, size_t *len, nn_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return nn_fail(err, NN_ERR_IO, "%s: cannot open checkpoint (%s)", path, strerror(errno));
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size < 0 || size > MAX_FILE_BYTES || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return nn_fail(err, NN_ERR_IO, "%s: cannot read checkpoint size", path);
  }
  *buf = malloc((size_t)size + 1);
  if (!*buf) {
    fclose(f);
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %ld bytes", path, size);
  }
  *len = fread(*buf, 1, (size_t)size, f);
  fclose(f);
  if (*len != (size_t)size) {
    free(*buf);
    return nn_fail(err, NN_ERR_IO, "%s: read %zu of %ld bytes", path, *len, size);
  }
  return NN_OK;
}

static nn_status check_header(const char *path, const uint8_t *buf, size_t len, uint32_t *count,
                              nn_error *err) {
  if (len < 16 || memcmp(buf, MAGIC, 4) != 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: not a libnn checkpoint (no NNCK magic)", path);
  reader r = {buf + 4, buf + len, path};
  uint32_t version = 0, stored_crc = 0;
  take_u32(&r, &version);
  take_u32(&r, count);
  if (version != NN_CHECKPOINT_VERSION)
    return nn_fail(err, NN_ERR_FORMAT, "%s: checkpoint version %u, this libnn reads version %d", path,
                   version, NN_CHECKPOINT_VERSION);
  reader tail = {buf + len - 4, buf + len, path};
  take_u32(&tail, &stored_crc);
  uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(len - 4));
  if (crc != stored_crc)
    return nn_fail(err, NN_ERR_FORMAT, "%s: CRC mismatch (file says %08x, contents give %08x): "
                   "the file is corrupt or was cut short", path, stored_crc, crc);
  return NN_OK;
}

/* Find every requested tensor and check its shape; fills found[i]. */
static nn_status match_all(const char *path, reader *r, uint32_t count, const nn_named_tensor *items,
                           int n_items, record *found, nn_error *err) {
  for (int i = 0; i < n_items; i++) found[i].data = NULL;
  for (uint32_t k = 0; k < count; k++) {
    record rec;
    nn_status st = read_record(r, &rec, err);
    if (st) return st;
    for (int i = 0; i < n_items; i++)
      if (strcmp(rec.name, items[i].name) == 0) found[i] = rec;
  }
  for (int i = 0; i < n_items; i++) {
    if (!found[i].data)
      return nn_fail(err, NN_ERR_FORMAT, "%s: no tensor named '%s' in this checkpoint", path, items[i].name);
    if (!nn_same_shape(&found[i].shape, items[i].tensor))
      return nn_fail(err, NN_ERR_FORMAT, "%s: tensor '%s' is %s in the file but %s in the model", path,
                     items[i].name, nn_shape_str(&found[i].shape).s, nn_shape_str(items[i].tensor).s);
  }
  return NN_OK;
}

static void copy_in(const record *rec, nn_tensor *t) {
  nn_tensor host = t->device == NN_CPU ? *t : nn_tensor_new(t->ndim, t->shape, NN_CPU);
  reader r = {rec->data, rec->data + nn_numel(t) * 4, ""};
  for (long i = 0; i < nn_numel(t); i++) {
    uint32_t bits = 0;
    take_u32(&r, &bits);
    memcpy(&host.data[i], &bits, 4);
  }
  if (t->device != NN_CPU) {
    nn_tensor_copy(t, &host);
    nn_tensor_free(&host);
  }
}

nn_status nn_checkpoint_load(const char *path, const nn_named_tensor *items, int count,
                             nn_error *err) {
  NN_REQUIRE(path && (items || count == 0) && count >= 0, "nn_checkpoint_load: NULL path or items");
  uint8_t *buf = NULL;
  size_t len = 0;
  uint32_t n_file = 0;
  nn_status st = read_file(path, &buf, &len, err);
  if (st) return st;
  record *found = nn_xcalloc((size_t)count + 1, sizeof *found, "checkpoint records");
  st = check_header(path, buf, len, &n_file, err);
  if (st == NN_OK) {
    reader r = {buf + 12, buf + len - 4, path};
    st = match_all(path, &r, n_file, items, count, found, err);
    if (st == NN_OK && r.p != r.end)
      st = nn_fail(err, NN_ERR_FORMAT, "%s: %zu unexpected bytes after the last tensor", path,
                   (size_t)(r.end - r.p));
  }
  if (st == NN_OK)
    for (int i = 0; i < count; i++) copy_in(&found[i], items[i].tensor);
  free(found);
  free(buf);
  return st;
}
