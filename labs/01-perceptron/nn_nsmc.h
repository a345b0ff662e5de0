/* nn_nsmc.h: the Naver Sentiment Movie Corpus (NSMC), Korean movie reviews labelled 0/1.
 *
 * NSMC v1.0 (Lucy Park, 2016, https://github.com/e9t/nsmc, CC0) holds 200,000 reviews
 * from Naver Movies, at most 140 characters each: ratings_train.txt (150,000) and
 * ratings_test.txt (50,000), each half positive (rating 9..10, label 1) and half
 * negative (rating 1..4, label 0). `make data` fetches them into datasets/full/nsmc/;
 * a folder with the same two file names (such as the 20,000 / 5,000 nsmc-mini
 * sample) loads the same way.
 *
 * Format: UTF-8, one review per line, fields separated by tabs, no quoting:
 *     id<TAB>document<TAB>label          (the header line, exactly this)
 *     9976970<TAB>아 더빙.. 진짜 짜증나네요 목소리<TAB>0
 * id: Naver's review number; document: the review, possibly empty (NSMC has a few);
 * label: 0 or 1. A "\r\n" line end and a UTF-8 byte order mark are accepted.
 * Errors name the file and the line ("ratings_train.txt: line 57: ...").
 */
#ifndef NN_NSMC_H
#define NN_NSMC_H

#include <stddef.h>
#include <stdint.h>

#include "nn_common.h"

typedef struct {
  int n;             /* reviews */
  const char **docs; /* (n) the reviews, '\0'-terminated UTF-8 */
  int *labels;       /* (n) 0 = negative, 1 = positive */
  long *ids;         /* (n) Naver's review ids */
  char *text;        /* the bytes docs point into */
} nn_nsmc;

/* Parse `len` bytes of one NSMC file (`name` for messages) into *out.
 * Errors (NN_ERR_FORMAT): a wrong header, a line without exactly three fields, an
 * id that is not a number, a label other than 0 or 1, invalid UTF-8 (CP949/EUC-KR
 * is the usual culprit: iconv -f cp949 -t utf-8), a NUL byte, no reviews at all.
 * On error *out is empty. */
nn_status nn_nsmc_parse(const uint8_t *bytes, size_t len, const char *name, nn_nsmc *out, nn_error *err);

/* dir/ratings_<split>.txt (or .txt.gz), split "train" or "test". A missing file
 * is NN_ERR_IO with a message that says how to get it (make data). */
nn_status nn_nsmc_load(const char *dir, const char *split, nn_nsmc *out, nn_error *err);
void nn_nsmc_free(nn_nsmc *d);

#endif
