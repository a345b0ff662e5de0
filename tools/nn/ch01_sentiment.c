/* nn sentiment: Korean movie reviews (NSMC) classified by logistic regression on
 * bag-of-words and TF-IDF features, words vs character bigrams.
 *
 * NSMC is not bundled: `make data` fetches it into datasets/full/nsmc/, or point
 * NN_NSMC_DIR at a folder holding ratings_train.txt and ratings_test.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "demo_data.h"
#include "nn_metrics.h"
#include "nn_nsmc.h"
#include "nn_progress.h"
#include "nn_sparse_logreg.h"
#include "nn_tfidf.h"

enum { TOP = 8 };

static const char *nsmc_dir(void) {
  const char *env = getenv("NN_NSMC_DIR");
  if (env && *env) return env;
  return "datasets/full/nsmc";
}

typedef struct {
  const char *name;
  nn_tokenizer tokenizer;
  nn_weighting weighting;
  float lr; /* TF-IDF rows have unit length, so their logits are small: a larger step */
} setup;

/* Fit the vocabulary (and idf) on train, train 20 epochs, score test; prints one row. */
static void run(const setup *s, const nn_nsmc *train, const nn_nsmc *test, bool show_tokens) {
  double t0 = nn_seconds();
  nn_tfidf v = nn_tfidf_fit(&(nn_tfidf_options){.tokenizer = s->tokenizer, .weighting = s->weighting, .min_count = 2},
                            train->docs, train->n);
  nn_csr Xtr = nn_tfidf_transform(&v, train->docs, train->n), Xte = nn_tfidf_transform(&v, test->docs, test->n);
  double t1 = nn_seconds();
  nn_logistic m = nn_logistic_new(v.vocab.size);
  nn_sparse_logreg_fit(&m, &Xtr, train->labels,
                       &(nn_gd_options){.lr = s->lr, .epochs = 20, .batch = 128, .seed = 1}, NULL);
  int *yhat = malloc(test->n * sizeof(int));
  nn_sparse_logreg_predict(&m, &Xte, yhat);
  printf("   %-28s %8.1f%% %6.3f %8d %7.2f s %6.2f s\n", s->name, 100 * nn_accuracy(test->labels, yhat, test->n),
         nn_f1(test->labels, yhat, test->n), v.vocab.size, t1 - t0, nn_seconds() - t1);
  if (show_tokens) {
    int ids[2 * TOP];
    nn_sparse_logreg_extremes(&m, TOP, ids, ids + TOP);
    printf("      most positive:");
    for (int i = 0; i < TOP; i++) printf(" %s", nn_vocab_token(&v.vocab, ids[i]));
    printf("\n      most negative:");
    for (int i = 0; i < TOP; i++) printf(" %s", nn_vocab_token(&v.vocab, ids[TOP + i]));
    printf("\n");
  }
  free(yhat), nn_logistic_free(&m), nn_csr_free(&Xtr), nn_csr_free(&Xte), nn_tfidf_free(&v);
}

int cmd_sentiment(int argc, char **argv) {
  if (!demo_cpu_only_options("sentiment", argc, argv)) return 2;
  const char *dir = nsmc_dir();
  nn_nsmc train, test;
  nn_error err = {0};
  nn_status st = nn_nsmc_load(dir, "train", &train, &err);
  if (st != NN_OK) {
    fprintf(stderr, "nn sentiment: %s\n   (NSMC is not bundled: `make data` fetches it, or set NN_NSMC_DIR)\n",
            err.msg);
    return st == NN_ERR_IO ? NN_EXIT_NO_DATA : 1; /* absent (or unreadable) vs a broken file */
  }
  if (nn_nsmc_load(dir, "test", &test, &err) != NN_OK) {
    fprintf(stderr, "nn sentiment: %s\n", err.msg);
    nn_nsmc_free(&train);
    return 1;
  }
  printf("NSMC movie reviews from %s: %d train, %d test (label 1 = positive)\n\n", dir, train.n, test.n);
  printf("   %-28s %9s %6s %8s %9s %8s\n", "features", "accuracy", "F1", "vocab", "vectorize", "train");
  const nn_tokenizer words = {NN_TOKENS_WORDS, 0}, bigrams = {NN_TOKENS_CHAR_NGRAMS, 2};
  const setup setups[4] = {{"words, bag of words", words, NN_COUNTS, 0.5f},
                           {"words, TF-IDF", words, NN_TFIDF, 5.f},
                           {"char bigrams, bag of words", bigrams, NN_COUNTS, 0.5f},
                           {"char bigrams, TF-IDF", bigrams, NN_TFIDF, 5.f}};
  for (int i = 0; i < 4; i++) run(&setups[i], &train, &test, i == 3);
  printf("\n   Korean glues particles to words (영화가, 영화는, 영화를 are three 'words'), so\n"
         "   character bigrams share what words split apart.\n");
  nn_nsmc_free(&train), nn_nsmc_free(&test);
  return 0;
}
