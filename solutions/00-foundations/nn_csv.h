/* nn_csv.h: numeric tables with a header row (the scikit-learn sets, time series).
 *
 *   sepal_length,sepal_width,petal_length,petal_width,target      <- header: names
 *   5.1,3.5,1.4,0.2,0                                             <- one row per example
 *
 * Every field must be a number (strtod's syntax: 5, -0.25, 1e-3), except in the
 * columns listed in `ignore` (a date column, an id). The column named `target`
 * becomes y; every other column becomes a feature in x. Blank lines are
 * skipped and CRLF line ends are accepted, as pandas.read_csv does; so are
 * spaces around a field, a header name in double quotes ("a", which may not
 * hold a comma) and a UTF-8 byte order mark before the header. Empty fields,
 * inf and nan are refused: a missing value must be filled in, not guessed. A
 * row with the wrong number of fields or a field that is not a number is an
 * error that names the file, the line, the column and the field, never a
 * silently short table. Errors: NN_ERR_FORMAT for the text, NN_ERR_ARG for an
 * option naming a column that is not there; on error *table is all zeros.
 */
#ifndef NN_CSV_H
#define NN_CSV_H

#include <stddef.h>

#include "nn_tensor.h"

typedef struct {
  const char *target; /* column name for y, or NULL for no target (all columns -> x) */
  const char *ignore; /* comma-separated column names to skip, e.g. "time"; or NULL */
} nn_csv_options;

typedef struct {
  nn_tensor x;           /* (rows, features) */
  nn_tensor y;           /* (rows); y.data is NULL when there is no target */
  int rows, features;
  char **feature_names;  /* features names, in column order */
  char *target_name;     /* NULL when there is no target */
} nn_table;

/* Parse `len` bytes of CSV text (`name` for messages) into a new *table. */
nn_status nn_csv_parse(const char *text, size_t len, const char *name, const nn_csv_options *options,
                       nn_table *table, nn_error *err);
/* Read `path` (plain or .gz) and parse it. */
nn_status nn_csv_load(const char *path, const nn_csv_options *options, nn_table *table,
                      nn_error *err);
void nn_table_free(nn_table *table);

/* The target column as class ids for a classifier: a new array of table->rows
 * ints (free it). Every y must be a whole number in 0..num_classes-1; the first
 * that is not is reported with its row, e.g. "iris.csv.gz: row 17 has target 3.5;
 * a class id must be a whole number 0..2". */
nn_status nn_table_labels(const nn_table *table, const char *name, int num_classes, int **labels,
                          nn_error *err);

#endif
