/* nn_csv.c: a header of names, then rows of numbers.
 *
 * The text is never assumed to end in '\0' (a fuzzer hands over exact
 * buffers): lines and fields are spans found with memchr inside [text, text+len),
 * and a number is copied into a small terminated buffer before strtod sees it.
 * Two passes: the first counts rows and checks that each has as many fields as
 * the header, so the table is allocated once at its exact size; the second
 * converts the fields.
 */
#include "nn_csv.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_file.h"

/* digits.csv, the biggest bundled table, is 0.3 MB; 1 GiB is far beyond any
 * table this course trains on but still stops a runaway .gz. */
#define MAX_CSV_BYTES ((size_t)1 << 30)
enum {
  MAX_NUMBER_CHARS = 127, /* longer than any float32 written in full */
  SHOW = 40               /* bytes of a field or name quoted in a message */
};

/* s[0..n) inside the caller's text; not '\0'-terminated. */
typedef struct {
  const char *s;
  size_t n;
} span;

/* A message shows at most SHOW bytes of a field: "%.*s", shown(f), f.s. */
static int shown(span f) { return f.n < SHOW ? (int)f.n : SHOW; }

static span trim(span f) {
  while (f.n > 0 && (f.s[0] == ' ' || f.s[0] == '\t')) f.s++, f.n--;
  while (f.n > 0 && (f.s[f.n - 1] == ' ' || f.s[f.n - 1] == '\t')) f.n--;
  return f;
}

/* The field before the next ',' of *rest; *rest moves past that comma. */
static span cut_field(span *rest) {
  const char *comma = memchr(rest->s, ',', rest->n);
  size_t n = comma ? (size_t)(comma - rest->s) : rest->n;
  span field = {rest->s, n};
  size_t skip = comma ? n + 1 : n;
  rest->s += skip;
  rest->n -= skip;
  return field;
}

static size_t count_fields(span line) {
  size_t fields = 1;
  for (const char *c = line.s; (c = memchr(c, ',', (size_t)(line.s + line.n - c))); c++) fields++;
  return fields;
}

/* ---- lines: each without its "\n" or "\r\n"; numbered from 1 as an editor does */
typedef struct {
  const char *p, *end;
  size_t number; /* of the line last returned */
} lines;

static bool next_line(lines *it, span *line) {
  if (it->p >= it->end) return false;
  const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
  const char *stop = nl ? nl : it->end;
  *line = (span){it->p, (size_t)(stop - it->p)};
  if (line->n > 0 && line->s[line->n - 1] == '\r') line->n--;
  it->p = nl ? nl + 1 : it->end;
  it->number++;
  return true;
}

/* The next line that is not blank (only spaces, tabs or nothing): pandas skips those. */
static bool next_row(lines *it, span *line) {
  while (next_line(it, line))
    if (trim(*line).n > 0) return true;
  return false;
}

/* ---- the header: names, and what becomes of each column */
typedef enum { FEATURE, TARGET, IGNORED } role;

typedef struct {
  span *names; /* trimmed; "a" is unquoted to a */
  role *roles;
  int cols;
  size_t line; /* where the header is */
} header;

static void header_free(header *h) {
  free(h->names);
  free(h->roles);
}

/* "a, b, c" into buf, cut with "..." if it does not fit. */
static void list_columns(const header *h, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int c = 0; c < h->cols && used < size; c++)
    used += (size_t)snprintf(buf + used, size - used, "%s%.*s", c ? ", " : "", shown(h->names[c]),
                             h->names[c].s);
  if (used >= size && size > 4) strcpy(buf + size - 4, "...");
}

static nn_status read_header(lines *it, const char *name, header *h, nn_error *err) {
  span line;
  if (!next_row(it, &line))
    return nn_fail(err, NN_ERR_FORMAT, "%s: empty file; expected a header line of column names "
                   "(e.g. x1,x2,target) and then one row of numbers per example", name);
  h->line = it->number;
  size_t cols = count_fields(line);
  if (cols > INT_MAX)
    return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu has %zu columns, more than %d", name,
                   h->line, cols, INT_MAX);
  h->cols = (int)cols;
  h->names = malloc(cols * sizeof *h->names);
  h->roles = malloc(cols * sizeof *h->roles);
  if (!h->names || !h->roles)
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %zu column names", name, cols);
  for (int c = 0; c < h->cols; c++) {
    span f = trim(cut_field(&line));
    if (f.n >= 2 && f.s[0] == '"' && f.s[f.n - 1] == '"') f.s++, f.n -= 2;
    if (f.n == 0)
      return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu (the header): column %d has no name; "
                     "every column needs one", name, h->line, c + 1);
    h->names[c] = f;
    h->roles[c] = FEATURE;
  }
  return NN_OK;
}

/* The one column called want[0..n), in *index; a missing or doubled name is the
 * user's to fix, so both list what is there. */
static nn_status find_column(const header *h, span want, const char *name, int *index,
                             nn_error *err) {
  *index = -1;
  for (int c = 0; c < h->cols; c++) {
    if (h->names[c].n != want.n || memcmp(h->names[c].s, want.s, want.n) != 0) continue;
    if (*index >= 0)
      return nn_fail(err, NN_ERR_FORMAT, "%s: column '%.*s' appears twice (columns %d and %d); "
                     "rename one", name, shown(want), want.s, *index + 1, c + 1);
    *index = c;
  }
  if (*index >= 0) return NN_OK;
  char list[400];
  list_columns(h, list, sizeof list);
  return nn_fail(err, NN_ERR_ARG, "%s: no column named '%.*s'; the columns are: %s", name,
                 shown(want), want.s, list);
}

/* Mark the target and the ignored columns; the rest are features. */
static nn_status assign_roles(header *h, const nn_csv_options *opt, const char *name,
                              nn_error *err) {
  int c;
  if (opt->target) {
    nn_status st = find_column(h, (span){opt->target, strlen(opt->target)}, name, &c, err);
    if (st != NN_OK) return st;
    h->roles[c] = TARGET;
  }
  span rest = {opt->ignore, opt->ignore ? strlen(opt->ignore) : 0};
  while (rest.n > 0) {
    span want = trim(cut_field(&rest));
    if (want.n == 0) continue;
    nn_status st = find_column(h, want, name, &c, err);
    if (st != NN_OK) return st;
    if (h->roles[c] == TARGET)
      return nn_fail(err, NN_ERR_ARG, "%s: column '%s' is both the target and ignored; drop it "
                     "from one of the two", name, opt->target);
    h->roles[c] = IGNORED;
  }
  return NN_OK;
}

/* ---- rows */

/* Pass 1: how many rows, each with exactly h->cols fields. */
static nn_status count_rows(lines it, const header *h, const char *name, int *rows,
                            nn_error *err) {
  span line;
  size_t count = 0;
  while (next_row(&it, &line)) {
    size_t fields = count_fields(line);
    if (fields != (size_t)h->cols)
      return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu has %zu fields, expected %d (as in the "
                     "header)", name, it.number, fields, h->cols);
    if (++count > INT_MAX)
      return nn_fail(err, NN_ERR_FORMAT, "%s: more than %d rows", name, INT_MAX);
  }
  if (count == 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: no data rows after the header (line %zu); expected "
                   "one row of %d number%s per example", name, h->line, h->cols,
                   h->cols == 1 ? "" : "s");
  *rows = (int)count;
  return NN_OK;
}

/* strtod's syntax, the whole field, finite and within float32; NULL if fine,
 * else why not. Text like "inf" or "nan" parses but is refused: a missing
 * value written as NaN would poison every gradient it touches. */
static const char *parse_number(span field, float *out) {
  char buf[MAX_NUMBER_CHARS + 1];
  if (field.n == 0) return "empty field, expected a number";
  if (field.n > MAX_NUMBER_CHARS) return "too long for a number";
  memcpy(buf, field.s, field.n);
  buf[field.n] = '\0';
  char *end = NULL;
  double v = strtod(buf, &end);
  if (end != buf + field.n) return "not a number";
  if (!isfinite(v)) return "not a finite number";
  if (fabs(v) > FLT_MAX) return "out of float32 range";
  *out = (float)v;
  return NULL;
}

/* Pass 2: fields -> x (rows, features) and y (rows). */
static nn_status convert_rows(lines it, const header *h, const char *name, nn_table *t,
                              nn_error *err) {
  span line;
  for (int r = 0; r < t->rows && next_row(&it, &line); r++) {
    int f = 0;
    for (int c = 0; c < h->cols; c++) {
      span field = trim(cut_field(&line));
      if (h->roles[c] == IGNORED) continue;
      float *out = h->roles[c] == TARGET ? &t->y.data[r] : &t->x.data[(size_t)r * t->features + f++];
      const char *why = parse_number(field, out);
      if (why && field.n == 0)
        return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu, column '%.*s': %s", name, it.number,
                       shown(h->names[c]), h->names[c].s, why);
      if (why)
        return nn_fail(err, NN_ERR_FORMAT, "%s: line %zu, column '%.*s': '%.*s' is %s", name,
                       it.number, shown(h->names[c]), h->names[c].s, shown(field), field.s, why);
    }
  }
  return NN_OK;
}

static char *copy_span(span s) {
  char *out = malloc(s.n + 1);
  if (out) {
    memcpy(out, s.s, s.n);
    out[s.n] = '\0';
  }
  return out;
}

/* The table's arrays at their final size, and the names copied out of the text. */
static nn_status allocate_table(const header *h, int rows, const char *name, nn_table *t,
                                nn_error *err) {
  t->rows = rows;
  for (int c = 0; c < h->cols; c++) t->features += h->roles[c] == FEATURE;
  if (t->features == 0)
    return nn_fail(err, NN_ERR_ARG, "%s: every column is the target or ignored; no features left",
                   name);
  size_t cells = (size_t)rows * (size_t)t->features;
  t->x = (nn_tensor){.data = cells <= SIZE_MAX / sizeof(float) ? malloc(cells * sizeof(float)) : NULL,
                     .shape = {rows, t->features}, .ndim = 2};
  t->feature_names = calloc((size_t)t->features, sizeof *t->feature_names);
  bool ok = t->x.data && t->feature_names;
  for (int c = 0, f = 0; ok && c < h->cols; c++) {
    if (h->roles[c] == FEATURE) ok = (t->feature_names[f++] = copy_span(h->names[c])) != NULL;
    if (h->roles[c] == TARGET) {
      t->y = (nn_tensor){.data = malloc((size_t)rows * sizeof(float)), .shape = {rows}, .ndim = 1};
      t->target_name = copy_span(h->names[c]);
      ok = t->y.data && t->target_name;
    }
  }
  if (!ok)
    return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for a table of %d rows x %d features", name,
                   rows, t->features);
  return NN_OK;
}

nn_status nn_csv_parse(const char *text, size_t len, const char *name, const nn_csv_options *options,
                       nn_table *table, nn_error *err) {
  NN_REQUIRE((text || len == 0) && name && table, "nn_csv_parse: NULL text, name or table");
  *table = (nn_table){0};
  nn_csv_options none = {0};
  const nn_csv_options *opt = options ? options : &none;
  if (len == 0)
    return nn_fail(err, NN_ERR_FORMAT, "%s: empty file; expected a header line of column names "
                   "and then one row of numbers per example", name);
  /* CSV is text: a NUL byte means a binary file (an IDX, a .npy) was passed. */
  const char *nul = memchr(text, '\0', len);
  if (nul)
    return nn_fail(err, NN_ERR_FORMAT, "%s: a NUL byte at byte %zu; this is a binary file, not "
                   "CSV text", name, (size_t)(nul - text));
  /* Excel writes a UTF-8 byte order mark before the header; it is not part of a name. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) text += 3, len -= 3;
  lines it = {text, text + len, 0};
  header h = {0};
  nn_table t = {0};
  int rows = 0;
  nn_status st = read_header(&it, name, &h, err);
  if (st == NN_OK) st = assign_roles(&h, opt, name, err);
  if (st == NN_OK) st = count_rows(it, &h, name, &rows, err);
  if (st == NN_OK) st = allocate_table(&h, rows, name, &t, err);
  if (st == NN_OK) st = convert_rows(it, &h, name, &t, err);
  header_free(&h);
  if (st != NN_OK) {
    nn_table_free(&t);
    return st;
  }
  *table = t;
  return NN_OK;
}

nn_status nn_csv_load(const char *path, const nn_csv_options *options, nn_table *table,
                      nn_error *err) {
  NN_REQUIRE(path && table, "nn_csv_load: NULL path or table");
  *table = (nn_table){0};
  uint8_t *bytes = NULL;
  size_t len = 0;
  nn_status st = nn_file_read(path, MAX_CSV_BYTES, &bytes, &len, err);
  if (st == NN_OK) st = nn_csv_parse((const char *)bytes, len, path, options, table, err);
  free(bytes);
  return st;
}

void nn_table_free(nn_table *table) {
  if (!table) return;
  nn_tensor_free(&table->x);
  nn_tensor_free(&table->y);
  for (int f = 0; table->feature_names && f < table->features; f++) free(table->feature_names[f]);
  free(table->feature_names);
  free(table->target_name);
  *table = (nn_table){0};
}

nn_status nn_table_labels(const nn_table *table, const char *name, int num_classes, int **labels,
                          nn_error *err) {
  NN_REQUIRE(table && name && labels && num_classes >= 1,
             "nn_table_labels: NULL table, name or labels, or num_classes %d < 1", num_classes);
  *labels = NULL;
  if (!table->y.data)
    return nn_fail(err, NN_ERR_ARG, "%s: the table has no target column; load it with options.target set",
                   name);
  int *out = malloc((size_t)table->rows * sizeof *out);
  if (!out) return nn_fail(err, NN_ERR_MEMORY, "%s: no memory for %d labels", name, table->rows);
  for (int i = 0; i < table->rows; i++) {
    float y = table->y.data[i];
    if (!(y >= 0.f && y < (float)num_classes && y == (float)(int)y)) {
      free(out);
      /* data row i is row i + 1 after the header */
      return nn_fail(err, NN_ERR_FORMAT, "%s: row %d has target %g; a class id must be a whole number 0..%d",
                     name, i + 1, y, num_classes - 1);
    }
    out[i] = (int)y;
  }
  *labels = out;
  return NN_OK;
}
