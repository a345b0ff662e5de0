/* nn_tfidf.h: documents -> sparse feature rows, a bag of words or TF-IDF.
 *
 * Fit on the training documents: tokenize (nn_tokenize.h), count every token and
 * the documents it occurs in (nn_vocab.h), keep the tokens seen at least
 * min_count times (at most max_features of them, the most frequent), and compute
 * one idf per kept token. Transform any documents with that vocabulary: row i of
 * X (N, D) describes document i; tokens not in the vocabulary are ignored, so a
 * word first seen at test time adds nothing. Fitting on the test set as well
 * would leak its vocabulary and document frequencies into the model.
 *
 *   NN_COUNTS (a bag of words, scikit-learn's CountVectorizer):
 *       x_ij = tf_ij = how often token j occurs in document i
 *   NN_TFIDF (scikit-learn's TfidfVectorizer with its defaults: smooth_idf, norm="l2"):
 *       idf_j = ln((1 + n) / (1 + df_j)) + 1     n training documents, df_j of them contain j
 *       x_ij  = tf_ij idf_j / || (tf_ik idf_k)_k ||_2      every non-empty row has unit L2 norm
 *
 * idf: a token in every document ("the", "영화") gets idf = 1, the lowest; a rare
 * one up to ln((1 + n) / 2) + 1. The +1 inside is one extra document that holds
 * every token once (no division by zero); the +1 outside keeps such tokens
 * instead of zeroing them. The L2 norm makes long and short reviews comparable:
 * the row says which tokens, in what proportion, not how many.
 * Rows are CSR (nn_sparse.h); a document with no known token is an empty row.
 */
#ifndef NN_TFIDF_H
#define NN_TFIDF_H

#include "nn_sparse.h"
#include "nn_tokenize.h"
#include "nn_vocab.h"

typedef enum { NN_COUNTS, NN_TFIDF } nn_weighting;

typedef struct {
  nn_tokenizer tokenizer;
  nn_weighting weighting;
  long min_count;   /* keep tokens counted at least this often in training (0 or 1: all) */
  int max_features; /* keep at most this many, the most frequent (0: no limit) */
} nn_tfidf_options;

typedef struct {
  nn_tfidf_options opt;
  nn_vocab vocab; /* fitted: D = vocab.size tokens, ids by descending count */
  float *idf;     /* (D) for NN_TFIDF; NULL for NN_COUNTS */
  int n_docs;     /* training documents */
} nn_tfidf;

/* Learn the vocabulary and the idf from docs[0..n) ('\0'-terminated UTF-8). */
nn_tfidf nn_tfidf_fit(const nn_tfidf_options *opt, const char *const *docs, int n);
/* Features of docs[0..n): a new CSR (n, D) the caller frees with nn_csr_free. */
nn_csr nn_tfidf_transform(const nn_tfidf *v, const char *const *docs, int n);
void nn_tfidf_free(nn_tfidf *v);

/* The two steps of the weighting, by themselves (formulas above):
 * idf (D) from df (D) and the number of training documents n_docs. */
void nn_tfidf_idf(const int *df, int D, int n_docs, float *idf);
/* X (N, D) of raw counts becomes TF-IDF in place: each value times its column's
 * idf, then each non-empty row divided by its L2 norm. */
void nn_tfidf_weight(nn_csr *X, const float *idf);

#endif
