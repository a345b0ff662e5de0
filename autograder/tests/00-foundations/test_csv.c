/* CSV loader: the bundled tables load with their known shapes and values, and
 * every malformed table is refused with the line, the column and the field.
 *
 * Known values were computed independently with python3's gzip and csv
 * modules: row and column counts, target histograms, column sums.
 * Tests run from the repository root. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "nn_csv.h"

/* Parse `text` from an exact-size copy with no '\0' after it, so that under
 * AddressSanitizer (make DEBUG=1 test) any read past len is caught. */
static nn_status parse(const char *text, const char *target, const char *ignore, nn_table *t,
                       nn_error *err) {
  size_t len = strlen(text);
  char *exact = malloc(len ? len : 1);
  memcpy(exact, text, len);
  nn_csv_options opt = {.target = target, .ignore = ignore};
  nn_status st = nn_csv_parse(exact, len, "t.csv", &opt, t, err);
  free(exact);
  return st;
}

static void expect_error(const char *text, const char *target, const char *ignore, nn_status code,
                         const char *fact1, const char *fact2) {
  nn_table t;
  nn_error err = {0};
  nn_status st = parse(text, target, ignore, &t, &err);
  cr_assert_eq(st, code, "parsing \"%s\": got %s, expected %s (message: %s)", text, nn_status_name(st),
               nn_status_name(code), err.msg);
  cr_assert(strstr(err.msg, "t.csv: "), "the message must start with the file name: %s", err.msg);
  cr_assert(strstr(err.msg, fact1), "parsing \"%s\": the message must say \"%s\": %s", text, fact1, err.msg);
  cr_assert(!fact2 || strstr(err.msg, fact2), "parsing \"%s\": the message must say \"%s\": %s", text, fact2,
            err.msg);
  cr_assert(t.x.data == NULL && t.y.data == NULL && t.feature_names == NULL && t.target_name == NULL &&
                t.rows == 0 && t.features == 0,
            "after a failure the table must be empty (nothing allocated)");
}

static double column_sum(const nn_table *t, int f) {
  double s = 0;
  for (int r = 0; r < t->rows; r++) s += t->x.data[r * t->features + f];
  return s;
}

/* ---- the bundled data */
Test(csv, iris_has_150_rows_4_features_and_50_of_each_class) {
  nn_table t;
  nn_error err = {0};
  nn_status st = nn_csv_load("datasets/tabular/iris.csv.gz", &(nn_csv_options){.target = "target"}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert(t.rows == 150 && t.features == 4, "iris is %d x %d, expected 150 x 4", t.rows, t.features);
  cr_assert(t.x.ndim == 2 && t.x.shape[0] == 150 && t.x.shape[1] == 4, "x is %s", nn_shape_str(&t.x).s);
  cr_assert(t.y.ndim == 1 && t.y.shape[0] == 150, "y is %s", nn_shape_str(&t.y).s);
  cr_assert_str_eq(t.feature_names[0], "sepal_length_cm");
  cr_assert_str_eq(t.feature_names[3], "petal_width_cm");
  cr_assert_str_eq(t.target_name, "target");
  float first[4] = {5.1f, 3.5f, 1.4f, 0.2f};
  for (int f = 0; f < 4; f++) cr_assert_float_eq(t.x.data[f], first[f], 1e-6f, "row 1, feature %d: %g", f, t.x.data[f]);
  cr_assert_eq(t.y.data[0], 0.f);
  int hist[3] = {0};
  for (int r = 0; r < 150; r++) {
    cr_assert(t.y.data[r] == 0.f || t.y.data[r] == 1.f || t.y.data[r] == 2.f, "target of row %d is %g", r, t.y.data[r]);
    hist[(int)t.y.data[r]]++;
  }
  cr_assert(hist[0] == 50 && hist[1] == 50 && hist[2] == 50, "targets %d/%d/%d, expected 50/50/50", hist[0], hist[1],
            hist[2]);
  double sums[4] = {876.5, 458.6, 563.7, 179.9};
  for (int f = 0; f < 4; f++)
    cr_assert_float_eq(column_sum(&t, f), sums[f], 1e-3, "column %d sums to %g, expected %g", f, column_sum(&t, f), sums[f]);
  nn_table_free(&t);
  cr_assert_null(t.x.data);
}

Test(csv, breast_cancer_is_569_by_30) {
  nn_table t;
  nn_error err = {0};
  nn_status st = nn_csv_load("datasets/tabular/breast_cancer.csv.gz", &(nn_csv_options){.target = "target"}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert(t.rows == 569 && t.features == 30, "breast_cancer is %d x %d, expected 569 x 30", t.rows, t.features);
  cr_assert_str_eq(t.feature_names[0], "mean_radius");
  cr_assert_float_eq(t.x.data[0], 17.99f, 1e-5f);
  cr_assert_float_eq(t.x.data[29], 0.1189f, 1e-6f, "row 1, last feature: %g", t.x.data[29]);
  int ones = 0;
  for (int r = 0; r < t.rows; r++) ones += t.y.data[r] == 1.f;
  cr_assert_eq(ones, 357, "%d rows with target 1, expected 357 (and 212 with 0)", ones);
  cr_assert_float_eq(column_sum(&t, 0), 8038.429, 1e-2, "mean_radius sums to %g", column_sum(&t, 0));
  nn_table_free(&t);
}

Test(csv, a_time_series_with_its_date_column_ignored) {
  nn_table t;
  nn_error err = {0};
  nn_status st = nn_csv_load("datasets/timeseries/nile.csv.gz", &(nn_csv_options){.ignore = "time"}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert(t.rows == 100 && t.features == 1, "nile is %d x %d, expected 100 x 1", t.rows, t.features);
  cr_assert_str_eq(t.feature_names[0], "value");
  cr_assert(t.y.data == NULL && t.target_name == NULL, "no target was asked for");
  cr_assert_eq(t.x.data[0], 1120.f);
  cr_assert_eq(t.x.data[99], 740.f);
  cr_assert_float_eq(column_sum(&t, 0), 91935.0, 1e-3);
  nn_table_free(&t);
  /* dates such as 1958-03-29 are not numbers: without ignore the load fails on line 2 */
  st = nn_csv_load("datasets/timeseries/co2_maunaloa_weekly.csv.gz", NULL, &t, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, "line 2, column 'time': '1958-03-29' is not a number"), "message was: %s", err.msg);
  st = nn_csv_load("datasets/timeseries/co2_maunaloa_weekly.csv.gz", &(nn_csv_options){.ignore = " time "}, &t, &err);
  cr_assert_eq(st, NN_OK, "%s", err.msg);
  cr_assert(t.rows == 2225 && t.features == 1, "co2 is %d x %d, expected 2225 x 1", t.rows, t.features);
  cr_assert_float_eq(column_sum(&t, 0), 756816.5, 1.0);
  nn_table_free(&t);
}

/* ---- small tables from memory */
Test(csv, blank_lines_crlf_spaces_quotes_and_a_missing_last_newline) {
  nn_table t;
  nn_error err = {0};
  const char *text = "\xef\xbb\xbf\"a\" , b ,target\r\n\r\n 1, -2.5e0 ,0\r\n   \r\n3,+4,1\r\n\n\n5,6e-1,2";
  nn_status st = parse(text, "target", NULL, &t, &err);
  cr_assert_eq(st, NN_OK, "%s", err.msg);
  cr_assert(t.rows == 3 && t.features == 2, "%d x %d, expected 3 x 2", t.rows, t.features);
  cr_assert_str_eq(t.feature_names[0], "a", "a quoted header name must be unquoted (and the BOM dropped)");
  cr_assert_str_eq(t.feature_names[1], "b");
  float x[6] = {1, -2.5f, 3, 4, 5, 0.6f}, y[3] = {0, 1, 2};
  for (int i = 0; i < 6; i++) cr_assert_float_eq(t.x.data[i], x[i], 1e-7f, "x[%d] = %g, expected %g", i, t.x.data[i], x[i]);
  for (int i = 0; i < 3; i++) cr_assert_eq(t.y.data[i], y[i]);
  nn_table_free(&t);
}

Test(csv, target_in_the_middle_and_ignored_columns) {
  nn_table t;
  nn_error err = {0};
  cr_assert_eq(parse("id,x1,label,date,x2\n7,1,0,2020-01-01,2\n8,3,1,,4\n", "label", "id, date", &t, &err), NN_OK,
               "%s", err.msg);
  cr_assert(t.rows == 2 && t.features == 2, "%d x %d, expected 2 x 2", t.rows, t.features);
  cr_assert_str_eq(t.feature_names[1], "x2");
  cr_assert(t.x.data[0] == 1 && t.x.data[1] == 2 && t.x.data[2] == 3 && t.x.data[3] == 4);
  cr_assert(t.y.data[0] == 0 && t.y.data[1] == 1);
  nn_table_free(&t);
}

Test(csv, a_ragged_row_names_its_line) {
  expect_error("a,b,target\n1,2,0\n\n3,4\n", "target", NULL, NN_ERR_FORMAT,
               "t.csv: line 4 has 2 fields, expected 3 (as in the header)", NULL);
  expect_error("a,b\n1,2\n3,4,5\n", NULL, NULL, NN_ERR_FORMAT, "line 3 has 3 fields, expected 2", NULL);
  expect_error("a,b\n1,2,\n", NULL, NULL, NN_ERR_FORMAT, "line 2 has 3 fields, expected 2", NULL);
}

Test(csv, a_field_that_is_not_a_number_names_line_column_and_text) {
  expect_error("a,b,target\n1,2,0\n1,abc,1\n", "target", NULL, NN_ERR_FORMAT, "line 3, column 'b': 'abc' is not a number",
               NULL);
  expect_error("a,b\n1.5x,2\n", NULL, NULL, NN_ERR_FORMAT, "line 2, column 'a': '1.5x' is not a number", NULL);
  expect_error("a,b\n1,2\r\n3,4 5\n", NULL, NULL, NN_ERR_FORMAT, "line 3, column 'b': '4 5' is not a number", NULL);
  expect_error("a,b\n1,2\n3,\n", NULL, NULL, NN_ERR_FORMAT, "line 3, column 'b': empty field", NULL);
  expect_error("a,b\n1,  \n", NULL, NULL, NN_ERR_FORMAT, "line 2, column 'b': empty field", NULL);
  expect_error("a,b\ninf,2\n", NULL, NULL, NN_ERR_FORMAT, "'inf' is not a finite number", NULL);
  expect_error("a,b\n1,NaN\n", NULL, NULL, NN_ERR_FORMAT, "'NaN' is not a finite number", NULL);
  expect_error("a,b\n1,1e999\n", NULL, NULL, NN_ERR_FORMAT, "'1e999' is not a finite number", NULL);
  expect_error("a,b\n1,1e39\n", NULL, NULL, NN_ERR_FORMAT, "'1e39' is out of float32 range", NULL);
  expect_error("a,b\n\"1\",2\n", NULL, NULL, NN_ERR_FORMAT, "'\"1\"' is not a number", NULL);
}

Test(csv, a_missing_column_lists_the_columns_there_are) {
  expect_error("sepal_length,petal_width,target\n1,2,0\n", "targte", NULL, NN_ERR_ARG,
               "t.csv: no column named 'targte'; the columns are: sepal_length, petal_width, target", NULL);
  expect_error("time,value\n1,2\n", NULL, "tme", NN_ERR_ARG, "no column named 'tme'; the columns are: time, value", NULL);
  expect_error("a,b\n1,2\n", "a", "b,a", NN_ERR_ARG, "column 'a' is both the target and ignored", NULL);
  expect_error("a,b\n1,2\n", "a", "b", NN_ERR_ARG, "no features left", NULL);
  expect_error("a,b,a\n1,2,3\n", "a", NULL, NN_ERR_FORMAT, "column 'a' appears twice (columns 1 and 3)", NULL);
}

Test(csv, an_empty_file_or_a_header_alone_is_refused) {
  expect_error("", NULL, NULL, NN_ERR_FORMAT, "empty file", "header");
  expect_error("\n \r\n\n", NULL, NULL, NN_ERR_FORMAT, "empty file", NULL);
  expect_error("a,b,target\n", "target", NULL, NN_ERR_FORMAT, "no data rows after the header (line 1)", NULL);
  expect_error("\na,b\r\n\r\n", NULL, NULL, NN_ERR_FORMAT, "no data rows after the header (line 2)", NULL);
  expect_error("a,,b\n1,2,3\n", NULL, NULL, NN_ERR_FORMAT, "column 2 has no name", NULL);
}

Test(csv, a_binary_file_is_refused_as_not_text) {
  nn_table t;
  nn_error err = {0};
  const char *path = "datasets/mnist-10k/train-labels-idx1-ubyte.gz";
  cr_assert_eq(nn_csv_load(path, NULL, &t, &err), NN_ERR_FORMAT, "%s", err.msg);
  cr_assert(strstr(err.msg, "a NUL byte at byte 0; this is a binary file"), "message was: %s", err.msg);
  cr_assert(t.x.data == NULL && t.feature_names == NULL);
}

Test(csv, a_missing_file_is_an_io_error_naming_the_path) {
  nn_table t;
  nn_error err = {0};
  cr_assert_eq(nn_csv_load("/nonexistent/iris.csv", NULL, &t, &err), NN_ERR_IO);
  cr_assert(strstr(err.msg, "/nonexistent/iris.csv"), "message was: %s", err.msg);
  cr_assert(t.x.data == NULL && t.feature_names == NULL);
}

Test(csv, target_as_class_ids) {
  nn_table t;
  nn_error err = {0};
  cr_assert_eq(parse("a,target\n1,0\n2,2\n3,1\n", "target", NULL, &t, &err), NN_OK, "%s", err.msg);
  int *labels = NULL;
  cr_assert_eq(nn_table_labels(&t, "t.csv", 3, &labels, &err), NN_OK, "%s", err.msg);
  cr_assert(labels[0] == 0 && labels[1] == 2 && labels[2] == 1, "labels %d %d %d, expected 0 2 1", labels[0],
            labels[1], labels[2]);
  free(labels);
  nn_table_free(&t);
}

Test(csv, a_target_that_is_not_a_class_id_names_its_row) {
  const char *bad[2] = {"a,target\n1,0\n2,1.5\n", "a,target\n1,0\n2,3\n"};
  for (int k = 0; k < 2; k++) {
    nn_table t;
    nn_error err = {0};
    cr_assert_eq(parse(bad[k], "target", NULL, &t, &err), NN_OK, "%s", err.msg);
    int *labels = (int *)1;
    nn_status st = nn_table_labels(&t, "t.csv", 3, &labels, &err);
    cr_assert_eq(st, NN_ERR_FORMAT, "got %s", nn_status_name(st));
    cr_assert(strstr(err.msg, "t.csv: row 2 has target") && strstr(err.msg, "0..2"), "message: %s", err.msg);
    cr_assert_null(labels, "no labels after a failure");
    nn_table_free(&t);
  }
}
