/* nn_nsmc.c: NSMC's TSV, checked line by line; the reviews stay in one buffer,
 * each cut off by a '\0' where its tab was. */
#include "nn_nsmc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_file.h"
#include "nn_text.h"

/* The full ratings_train.txt is 14.6 MB; 256 MiB bounds what a .gz may inflate to. */
#define MAX_NSMC_BYTES ((size_t)256 << 20)
#define HEADER "id\tdocument\tlabel"

/* At most 32 bytes of s[0..len) for a message, cut at a character boundary. */
static int shown_len(const char *s, size_t len) {
  size_t n = len < 32 ? len : 32;
  while (n > 0 && n < len && ((uint8_t)s[n] & 0xc0) == 0x80) n--;
  return (int)n;
}

/* The first invalid UTF-8 sequence of s[0..len), as an offset, or -1. */
static long first_invalid_utf8(const char *s, size_t len) {
  for (size_t i = 0; i < len;) {
    uint32_t cp;
    int k = nn_utf8_decode((const uint8_t *)s + i, len - i, &cp);
    if (!k) return (long)i;
    i += (size_t)k;
  }
  return -1;
}

/* One data line, line[0..len) without its line end, at line number `lineno`
 * and byte `at` of the file. Cuts the document out with a '\0'. */
static nn_status parse_line(char *line, size_t len, size_t lineno, size_t at, const char *name, nn_nsmc *out,
                            nn_error *err) {
  char *tab1 = memchr(line, '\t', len);
  char *tab2 = tab1 ? memchr(tab1 + 1, '\t', len - (size_t)(tab1 + 1 - line)) : NULL;
  char *tab3 = tab2 ? memchr(tab2 + 1, '\t', len - (size_t)(tab2 + 1 - line)) : NULL;
  if (!tab2 || tab3) {
    int fields = 1 + (tab1 != NULL) + (tab2 != NULL);
    for (char *t = tab3; t; t = memchr(t + 1, '\t', len - (size_t)(t + 1 - line))) fields++;
    return nn_fail(err, NN_ERR_FORMAT,
                   "%s: line %zu: %d tab-separated field%s, expected 3 (id<TAB>document<TAB>label): \"%.*s\"%s",
                   name, lineno, fields, fields == 1 ? "" : "s", shown_len(line, len), line, len > 32 ? "..." : "");
  }
  size_t id_len = (size_t)(tab1 - line), doc_len = (size_t)(tab2 - tab1 - 1);
  size_t label_len = len - (size_t)(tab2 + 1 - line);
  const char *label = tab2 + 1;
  bool id_ok = id_len >= 1 && id_len <= 18;
  for (size_t i = 0; i < id_len; i++) id_ok = id_ok && line[i] >= '0' && line[i] <= '9';
  if (!id_ok)
    return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu: the id \"%.*s\" is not a number (1 to 18 digits)", name, lineno,
                   shown_len(line, id_len), line);
  if (label_len != 1 || (label[0] != '0' && label[0] != '1'))
    return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu: the label \"%.*s\" is neither 0 (negative) nor 1 (positive)",
                   name, lineno, shown_len(label, label_len), label);
  long bad = first_invalid_utf8(tab1 + 1, doc_len);
  if (bad >= 0) {
    size_t byte = at + (size_t)(tab1 + 1 - line) + (size_t)bad;
    return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu: invalid UTF-8 at byte %zu (0x%02x); NSMC is UTF-8: if this "
                   "file is CP949/EUC-KR, convert it: iconv -f cp949 -t utf-8 %s", name, lineno, byte,
                   (uint8_t)tab1[1 + bad], name);
  }
  int i = out->n++;
  out->ids[i] = strtol(line, NULL, 10);
  out->labels[i] = label[0] - '0';
  *tab2 = '\0';
  out->docs[i] = tab1 + 1;
  return NN_OK;
}

/* Room for one review per line. */
static nn_status allocate(nn_nsmc *out, size_t lines, const char *name, nn_error *err) {
  if (lines > (size_t)INT32_MAX)
    return nn_fail(err, NN_ERR_FORMAT, "%s: %zu lines, more than an int counts", name, lines);
  out->docs = malloc(lines * sizeof *out->docs);
  out->labels = malloc(lines * sizeof *out->labels);
  out->ids = malloc(lines * sizeof *out->ids);
  if (!out->docs || !out->labels || !out->ids)
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %zu reviews", name, lines);
  return NN_OK;
}

/* text[0..len) is the file from byte `base` on (after a byte order mark). */
static nn_status parse_lines(char *text, size_t len, size_t base, const char *name, nn_nsmc *out, nn_error *err) {
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  nn_status st = allocate(out, lines, name, err);
  size_t lineno = 0;
  for (size_t at = 0; st == NN_OK && at < len;) {
    char *line = text + at;
    char *nl = memchr(line, '\n', len - at);
    size_t n = nl ? (size_t)(nl - line) : len - at;
    size_t next = at + n + (nl != NULL);
    if (n > 0 && line[n - 1] == '\r') n--;
    line[n] = '\0'; /* the '\r' or '\n' (or the buffer's closing '\0') */
    lineno++;
    if (lineno == 1) {
      if (n != strlen(HEADER) || memcmp(line, HEADER, n) != 0)
        st = nn_fail(err, NN_ERR_FORMAT, "%s: line 1 is \"%.*s\"%s, expected the header id<TAB>document<TAB>label "
                     "(is this NSMC's ratings_train.txt or ratings_test.txt?)", name, shown_len(line, n), line,
                     n > 32 ? "..." : "");
    } else if (n == 0) {
      if (next < len)
        st = nn_fail(err, NN_ERR_FORMAT, "%s: line %zu is empty; every line is id<TAB>document<TAB>label", name,
                     lineno);
    } else {
      st = parse_line(line, n, lineno, base + at, name, out, err);
    }
    at = next;
  }
  if (st == NN_OK && lineno == 0)
    st = nn_fail(err, NN_ERR_FORMAT, "%s: the file is empty; expected the header id<TAB>document<TAB>label, "
                 "then one review per line", name);
  else if (st == NN_OK && out->n == 0)
    st = nn_fail(err, NN_ERR_FORMAT, "%s: no reviews after the header; the file is cut short", name);
  return st;
}

nn_status nn_nsmc_parse(const uint8_t *bytes, size_t len, const char *name, nn_nsmc *out, nn_error *err) {
  NN_REQUIRE((bytes || len == 0) && name && out, "nn_nsmc_parse: NULL bytes, name or out");
  *out = (nn_nsmc){0};
  size_t start = len >= 3 && memcmp(bytes, "\xef\xbb\xbf", 3) == 0 ? 3 : 0; /* a UTF-8 byte order mark */
  const uint8_t *nul = len ? memchr(bytes, 0, len) : NULL;
  if (nul)
    return nn_fail(err, NN_ERR_FORMAT, "%s: a NUL byte at byte %zu; NSMC is UTF-8 text: is this file UTF-16 "
                   "(iconv -f utf-16 -t utf-8 %s) or not NSMC at all?", name, (size_t)(nul - bytes), name);
  size_t n = len - start;
  out->text = malloc(n + 1);
  if (!out->text) return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %zu bytes", name, n);
  if (n) memcpy(out->text, bytes + start, n);
  out->text[n] = '\0';
  nn_status st = parse_lines(out->text, n, start, name, out, err);
  if (st != NN_OK) nn_nsmc_free(out);
  return st;
}

nn_status nn_nsmc_load(const char *dir, const char *split, nn_nsmc *out, nn_error *err) {
  NN_REQUIRE(dir && split && out, "nn_nsmc_load: NULL dir, split or out");
  NN_REQUIRE(strcmp(split, "train") == 0 || strcmp(split, "test") == 0,
             "nn_nsmc_load: split \"%s\", expected \"train\" or \"test\"", split);
  *out = (nn_nsmc){0};
  char path[4096];
  int w = snprintf(path, sizeof path, "%s/ratings_%s.txt", dir, split);
  if (w < 0 || (size_t)w + 3 >= sizeof path)
    return nn_fail(err, NN_ERR_ARG, "nn_nsmc_load: the folder name is too long (%zu bytes)", strlen(dir));
  if (access(path, F_OK) != 0) {
    strcat(path, ".gz");
    if (access(path, F_OK) != 0)
      return nn_fail(err, NN_ERR_IO, "%s/ratings_%s.txt: not found (nor .txt.gz); get NSMC with `make data` "
                     "(only it: SETS=nsmc tools/fetch-data), which puts it in datasets/full/nsmc/", dir, split);
  }
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_status st = nn_file_read(path, MAX_NSMC_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_nsmc_parse(bytes, len, path, out, err);
  free(bytes);
  return st;
}

void nn_nsmc_free(nn_nsmc *d) {
  if (!d) return;
  free(d->docs);
  free(d->labels);
  free(d->ids);
  free(d->text);
  *d = (nn_nsmc){0};
}
