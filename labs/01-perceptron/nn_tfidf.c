/* nn_tfidf.c: fit = count tokens and documents; transform = count known tokens
 * per document into CSR rows, then weight them. */
#include "nn_tfidf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nn_tfidf_idf(const int *df, int D, int n_docs, float *idf) {
  NN_REQUIRE((df && idf) || D == 0, "nn_tfidf_idf: NULL df or idf for D = %d", D);
  NN_REQUIRE(n_docs >= 0, "nn_tfidf_idf: n_docs = %d", n_docs);
  for (int j = 0; j < D; j++) {
    NN_REQUIRE(df[j] >= 0 && df[j] <= n_docs, "nn_tfidf_idf: df[%d] = %d, outside 0..n_docs = %d", j, df[j], n_docs);
    /* TODO(lab 01-perceptron): write this part of nn_tfidf_idf. */
    /* HINT: idf weighs word j by how rare it is: df[j] of the n_docs documents contain it. scikit-learn's smoothed idf (chapter 01 section 7) is ln((1 + n) / (1 + df)) + 1: the 1s in the ratio act as one extra document holding every word (no division by 0), and the + 1 keeps a word found in every document at weight 1, not 0 */
    NN_LAB_STUB("01-perceptron", "nn_tfidf_idf");
  }
}

void nn_tfidf_weight(nn_csr *X, const float *idf) {
  NN_REQUIRE(X && X->indptr && idf, "nn_tfidf_weight: NULL X or idf");
  for (int i = 0; i < X->rows; i++) {
    float *x_i = X->values + X->indptr[i];
    const int *cols = X->indices + X->indptr[i];
    int nnz_i = X->indptr[i + 1] - X->indptr[i];
    /* TODO(lab 01-perceptron): write this part of nn_tfidf_weight. */
    /* HINT: row i holds the counts tf of its nnz_i distinct words (columns cols[k]); multiply each by its word's idf, then scale the row to unit L2 length, so that a long and a short document with the same mix of words get the same vector. A row of zeros (no known word) has no direction: leave it at 0 */
    NN_LAB_STUB("01-perceptron", "nn_tfidf_weight");
  }
}

nn_tfidf nn_tfidf_fit(const nn_tfidf_options *opt, const char *const *docs, int n) {
  NN_REQUIRE(opt && (docs || n == 0) && n >= 0, "nn_tfidf_fit: NULL options or docs, or n = %d", n);
  NN_REQUIRE(opt->weighting == NN_COUNTS || opt->weighting == NN_TFIDF,
             "nn_tfidf_fit: weighting %d is neither NN_COUNTS nor NN_TFIDF", (int)opt->weighting);
  NN_REQUIRE(opt->min_count >= 0 && opt->max_features >= 0,
             "nn_tfidf_fit: min_count %ld, max_features %d; neither may be negative", opt->min_count,
             opt->max_features);
  nn_tfidf v = {.opt = *opt, .n_docs = n};
  nn_tokens t = {0};
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(docs[i], "nn_tfidf_fit: docs[%d] is NULL", i);
    nn_tokenize(&opt->tokenizer, docs[i], strlen(docs[i]), &t);
    nn_vocab_add_document(&v.vocab, &t);
  }
  nn_tokens_free(&t);
  nn_vocab_prune(&v.vocab, opt->min_count, opt->max_features);
  if (opt->weighting == NN_TFIDF) {
    int D = v.vocab.size;
    v.idf = nn_xmalloc((size_t)(D ? D : 1) * sizeof *v.idf, "nn_tfidf_fit: idf (D)");
    nn_tfidf_idf(v.vocab.df, D, n, v.idf);
  }
  return v;
}

static int ascending(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* Growing CSR arrays while the rows are counted. */
typedef struct {
  int *indices;
  float *values;
  int nnz, cap;
} entries;

static void push_entry(entries *e, int col, float value) {
  if (e->nnz == e->cap) {
    NN_REQUIRE(e->cap < (1 << 30), "nn_tfidf_transform: more than %d non-zeros", e->cap);
    e->cap = e->cap ? 2 * e->cap : 4096;
    e->indices = realloc(e->indices, (size_t)e->cap * sizeof *e->indices);
    e->values = realloc(e->values, (size_t)e->cap * sizeof *e->values);
    NN_REQUIRE(e->indices && e->values, "nn_tfidf_transform: out of memory for %d non-zeros", e->cap);
  }
  e->indices[e->nnz] = col;
  e->values[e->nnz++] = value;
}

/* The token ids of one document, sorted, become (id, count) entries of its row. */
static void count_row(int *ids, int m, entries *e) {
  qsort(ids, (size_t)m, sizeof *ids, ascending);
  for (int a = 0, b; a < m; a = b) {
    for (b = a + 1; b < m && ids[b] == ids[a]; b++) {}
    push_entry(e, ids[a], (float)(b - a));
  }
}

nn_csr nn_tfidf_transform(const nn_tfidf *v, const char *const *docs, int n) {
  NN_REQUIRE(v && (docs || n == 0) && n >= 0, "nn_tfidf_transform: NULL vectorizer or docs, or n = %d", n);
  nn_csr X = {.rows = n, .cols = v->vocab.size};
  X.indptr = nn_xcalloc((size_t)n + 1, sizeof *X.indptr, "nn_tfidf_transform: indptr");
  entries e = {0};
  nn_tokens t = {0};
  int *ids = NULL, ids_cap = 0;
  for (int i = 0; i < n; i++) {
    NN_REQUIRE(docs[i], "nn_tfidf_transform: docs[%d] is NULL", i);
    nn_tokenize(&v->opt.tokenizer, docs[i], strlen(docs[i]), &t);
    if (t.count > ids_cap) {
      ids_cap = 2 * t.count;
      ids = realloc(ids, (size_t)ids_cap * sizeof *ids);
      NN_REQUIRE(ids, "nn_tfidf_transform: out of memory for %d token ids", ids_cap);
    }
    int m = 0;
    for (int k = 0; k < t.count; k++) {
      int id = nn_vocab_find(&v->vocab, nn_token(&t, k), t.len[k]);
      if (id >= 0) ids[m++] = id; /* unseen in training: ignored */
    }
    count_row(ids, m, &e);
    X.indptr[i + 1] = e.nnz;
  }
  free(ids);
  nn_tokens_free(&t);
  X.nnz = e.nnz;
  X.indices = e.indices ? e.indices : nn_xmalloc(sizeof *X.indices, "nn_tfidf_transform: indices");
  X.values = e.values ? e.values : nn_xmalloc(sizeof *X.values, "nn_tfidf_transform: values");
  if (v->opt.weighting == NN_TFIDF) nn_tfidf_weight(&X, v->idf);
  return X;
}

void nn_tfidf_free(nn_tfidf *v) {
  if (!v) return;
  nn_vocab_free(&v->vocab);
  free(v->idf);
  *v = (nn_tfidf){0};
}
