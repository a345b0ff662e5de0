/* nn_vocab.h: the vocabulary, token <-> id with counts, by a hash map we write.
 *
 * Ids: a token gets the next id (0, 1, 2, ...) the first time it is added;
 * nn_vocab_prune then drops the rare ones and renumbers the rest by descending
 * count, ties by the token's bytes (memcmp, a prefix first), so the same corpus
 * always gives the same ids and id 0 is the most frequent token.
 *
 * Hash map by open addressing with linear probing:
 *   h(s) = FNV-1a 64-bit:  h = 14695981039346656037;  for each byte c: h = (h ^ c) * 1099511628211
 *   slots: nslots ints, a power of two, each -1 (empty) or a token id;
 *   a token lives in slot h & (nslots - 1), or, when that is taken, in the next
 *   free one after it (wrapping around); a lookup walks the same slots and stops at
 *   its token or at an empty slot (then the token is absent).
 * The table doubles when more than half full; at load a <= 1/2 a hit probes about
 * (1 + 1/(1-a))/2 <= 1.5 slots and a miss (1 + 1/(1-a)^2)/2 <= 2.5 (Knuth, TAOCP
 * vol. 3, 6.4). Each id keeps its hash, so growing never rehashes the strings.
 * Nothing is ever deleted from a table: pruning builds a new one.
 */
#ifndef NN_VOCAB_H
#define NN_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "nn_tokenize.h"

typedef struct {
  int size;    /* tokens, ids 0..size-1 */
  long *count; /* (size) occurrences counted */
  int *df;     /* (size) document frequency: documents that contain the token */
  int docs;    /* documents counted by nn_vocab_add_document */
  /* the token strings, each '\0'-terminated, at bytes + offset[id], len[id] bytes */
  char *bytes;
  size_t bytes_used, bytes_cap;
  size_t *offset;
  int *len;
  uint64_t *hash;     /* (size) h(token), kept for growing the table */
  int *last_doc;      /* (size) the document that last raised df, so df counts it once */
  int cap;            /* room in the per-id arrays */
  int *slots;         /* (nslots) the hash table */
  int nslots;
} nn_vocab;

/* Start from (nn_vocab){0}; every array grows as needed. */
void nn_vocab_free(nn_vocab *v);

/* Count one occurrence of tok[0..len) in document number v->docs (the current one):
 * count += 1, and df += 1 the first time in that document. Returns its id. */
int nn_vocab_add(nn_vocab *v, const char *tok, int len);
/* Count every token of one document, then v->docs += 1. */
void nn_vocab_add_document(nn_vocab *v, const nn_tokens *t);
/* The id of tok[0..len), or -1 when it is not in the vocabulary. */
int nn_vocab_find(const nn_vocab *v, const char *tok, int len);
/* Token `id` as a '\0'-terminated string. */
const char *nn_vocab_token(const nn_vocab *v, int id);

/* FNV-1a 64-bit of s[0..len) (above), for tests and for anyone who needs it. */
uint64_t nn_fnv1a64(const char *s, size_t len);

/* Keep the tokens counted at least min_count times, at most max_size of them (the
 * most frequent; 0 = no limit), and renumber them by descending count then bytes.
 * Counts and df stay with their tokens. */
void nn_vocab_prune(nn_vocab *v, long min_count, int max_size);

#endif
