/* nn_vocab.c: an open-addressing table of ids over a growing pool of strings. */
#include "nn_vocab.h"

#include <stdlib.h>
#include <string.h>

#include "nn_common.h"

uint64_t nn_fnv1a64(const char *s, size_t len) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
  return h;
}

static bool same_token(const nn_vocab *v, int id, const char *tok, int len, uint64_t h) {
  return v->hash[id] == h && v->len[id] == len && memcmp(v->bytes + v->offset[id], tok, (size_t)len) == 0;
}

/* The slot that holds tok, or the empty slot where it would go. */
static int probe(const nn_vocab *v, const char *tok, int len, uint64_t h) {
  size_t mask = (size_t)v->nslots - 1;
  size_t i = (size_t)h & mask;
  while (v->slots[i] >= 0 && !same_token(v, v->slots[i], tok, len, h)) i = (i + 1) & mask;
  return (int)i;
}

/* A new table of nslots slots holding ids 0..size-1. */
static void rebuild_table(nn_vocab *v, int nslots) {
  free(v->slots);
  v->slots = nn_xmalloc((size_t)nslots * sizeof *v->slots, "nn_vocab: hash table");
  for (int i = 0; i < nslots; i++) v->slots[i] = -1;
  v->nslots = nslots;
  size_t mask = (size_t)nslots - 1;
  for (int id = 0; id < v->size; id++) {
    size_t i = (size_t)v->hash[id] & mask;
    while (v->slots[i] >= 0) i = (i + 1) & mask;
    v->slots[i] = id;
  }
}

static void grow_ids(nn_vocab *v) {
  if (v->size < v->cap) return;
  NN_REQUIRE(v->cap < (1 << 29), "nn_vocab_add: more than %d tokens", v->cap);
  v->cap = v->cap ? 2 * v->cap : 1024;
  size_t n = (size_t)v->cap;
  v->count = realloc(v->count, n * sizeof *v->count);
  v->df = realloc(v->df, n * sizeof *v->df);
  v->offset = realloc(v->offset, n * sizeof *v->offset);
  v->len = realloc(v->len, n * sizeof *v->len);
  v->hash = realloc(v->hash, n * sizeof *v->hash);
  v->last_doc = realloc(v->last_doc, n * sizeof *v->last_doc);
  NN_REQUIRE(v->count && v->df && v->offset && v->len && v->hash && v->last_doc,
             "nn_vocab_add: out of memory for %d tokens", v->cap);
}

/* Copy tok into the string pool; returns its offset. */
static size_t store_string(nn_vocab *v, const char *tok, int len) {
  size_t need = v->bytes_used + (size_t)len + 1;
  if (need > v->bytes_cap) {
    size_t cap = v->bytes_cap ? v->bytes_cap : 1 << 16;
    while (cap < need) cap *= 2;
    char *bigger = realloc(v->bytes, cap);
    NN_REQUIRE(bigger, "nn_vocab_add: out of memory for %zu bytes of tokens", cap);
    v->bytes = bigger;
    v->bytes_cap = cap;
  }
  size_t at = v->bytes_used;
  memcpy(v->bytes + at, tok, (size_t)len);
  v->bytes[at + (size_t)len] = '\0';
  v->bytes_used = need;
  return at;
}

int nn_vocab_add(nn_vocab *v, const char *tok, int len) {
  NN_REQUIRE(v && (tok || len == 0) && len >= 0, "nn_vocab_add: NULL vocabulary or token, or len %d", len);
  if (2 * (v->size + 1) > v->nslots) rebuild_table(v, v->nslots ? 2 * v->nslots : 2048);
  uint64_t h = nn_fnv1a64(tok, (size_t)len);
  int slot = probe(v, tok, len, h);
  int id = v->slots[slot];
  if (id < 0) {
    grow_ids(v);
    id = v->size++;
    v->offset[id] = store_string(v, tok, len);
    v->len[id] = len;
    v->hash[id] = h;
    v->count[id] = 0;
    v->df[id] = 0;
    v->last_doc[id] = -1;
    v->slots[slot] = id;
  }
  v->count[id]++;
  if (v->last_doc[id] != v->docs) {
    v->df[id]++;
    v->last_doc[id] = v->docs;
  }
  return id;
}

void nn_vocab_add_document(nn_vocab *v, const nn_tokens *t) {
  NN_REQUIRE(v && t, "nn_vocab_add_document: NULL vocabulary or tokens");
  for (int i = 0; i < t->count; i++) nn_vocab_add(v, nn_token(t, i), t->len[i]);
  v->docs++;
}

int nn_vocab_find(const nn_vocab *v, const char *tok, int len) {
  NN_REQUIRE(v && (tok || len == 0) && len >= 0, "nn_vocab_find: NULL vocabulary or token, or len %d", len);
  if (v->size == 0) return -1;
  return v->slots[probe(v, tok, len, nn_fnv1a64(tok, (size_t)len))];
}

const char *nn_vocab_token(const nn_vocab *v, int id) {
  NN_REQUIRE(v && id >= 0 && id < v->size, "nn_vocab_token: id %d, the vocabulary has %d tokens", id,
             v ? v->size : 0);
  return v->bytes + v->offset[id];
}

/* ---- pruning: sort the kept ids, then move every per-id array into the new order */
typedef struct {
  long count;
  const char *s;
  int len, id;
} ranked;

/* Descending count; ties by bytes, a prefix before the longer token. */
static int by_count_then_bytes(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  int n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->s, b->s, (size_t)n);
  if (c) return c;
  return (a->len > b->len) - (a->len < b->len);
}

void nn_vocab_prune(nn_vocab *v, long min_count, int max_size) {
  NN_REQUIRE(v && max_size >= 0, "nn_vocab_prune: NULL vocabulary or max_size %d < 0", max_size);
  ranked *r = nn_xmalloc((size_t)(v->size ? v->size : 1) * sizeof *r, "nn_vocab_prune: ranking");
  int kept = 0;
  for (int id = 0; id < v->size; id++)
    if (v->count[id] >= min_count) r[kept++] = (ranked){v->count[id], v->bytes + v->offset[id], v->len[id], id};
  qsort(r, (size_t)kept, sizeof *r, by_count_then_bytes);
  if (max_size > 0 && kept > max_size) kept = max_size;

  nn_vocab out = {0};
  out.docs = v->docs;
  for (int i = 0; i < kept; i++) { /* re-adding in rank order gives ids 0..kept-1 */
    int id = r[i].id;
    int nid = nn_vocab_add(&out, v->bytes + v->offset[id], v->len[id]);
    out.count[nid] = v->count[id];
    out.df[nid] = v->df[id];
    out.last_doc[nid] = v->last_doc[id];
  }
  free(r);
  nn_vocab_free(v);
  *v = out;
}

void nn_vocab_free(nn_vocab *v) {
  if (!v) return;
  free(v->count);
  free(v->df);
  free(v->bytes);
  free(v->offset);
  free(v->len);
  free(v->hash);
  free(v->last_doc);
  free(v->slots);
  *v = (nn_vocab){0};
}
