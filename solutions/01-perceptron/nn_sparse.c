/* nn_sparse.c: CSR storage and its two products, gather (X w) and scatter (X^T dz). */
#include "nn_sparse.h"

#include <stdlib.h>

nn_csr nn_csr_new(int rows, int cols, int nnz) {
  NN_REQUIRE(rows >= 0 && cols >= 0 && nnz >= 0, "nn_csr_new: rows %d, cols %d, nnz %d; none may be negative",
             rows, cols, nnz);
  nn_csr X = {rows, cols, nnz, NULL, NULL, NULL};
  X.indptr = nn_xcalloc((size_t)rows + 1, sizeof *X.indptr, "nn_csr_new: indptr");
  X.indices = nn_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *X.indices, "nn_csr_new: indices");
  X.values = nn_xmalloc((size_t)(nnz ? nnz : 1) * sizeof *X.values, "nn_csr_new: values");
  return X;
}

void nn_csr_free(nn_csr *X) {
  if (!X) return;
  free(X->indptr);
  free(X->indices);
  free(X->values);
  *X = (nn_csr){0};
}

nn_csr nn_csr_from_dense(const nn_tensor *A) {
  NN_REQUIRE(A && A->ndim == 2 && A->device == NN_CPU, "nn_csr_from_dense: A is %s, expected a CPU (rows, cols) tensor",
             A ? nn_shape_str(A).s : "NULL");
  int rows = A->shape[0], cols = A->shape[1];
  int nnz = 0;
  for (long i = 0; i < (long)rows * cols; i++) nnz += A->data[i] != 0.f;
  nn_csr X = nn_csr_new(rows, cols, nnz);
  int k = 0;
  for (int i = 0; i < rows; i++) {
    const float *a_i = A->data + (long)i * cols;
    for (int j = 0; j < cols; j++)
      if (a_i[j] != 0.f) X.indices[k] = j, X.values[k++] = a_i[j];
    X.indptr[i + 1] = k;
  }
  return X;
}

nn_tensor nn_csr_to_dense(const nn_csr *X) {
  nn_csr_check(X, "nn_csr_to_dense");
  nn_tensor A = nn_tensor_new(2, (int[]){X->rows, X->cols}, NN_CPU);
  for (int i = 0; i < X->rows; i++)
    for (int k = X->indptr[i]; k < X->indptr[i + 1]; k++) A.data[(long)i * X->cols + X->indices[k]] = X->values[k];
  return A;
}

void nn_csr_check(const nn_csr *X, const char *who) {
  NN_REQUIRE(X && X->indptr && X->indices && X->values, "%s: NULL matrix or arrays", who);
  NN_REQUIRE(X->indptr[0] == 0 && X->indptr[X->rows] == X->nnz,
             "%s: indptr[0] = %d, indptr[%d] = %d; expected 0 and nnz = %d", who, X->indptr[0], X->rows,
             X->indptr[X->rows], X->nnz);
  for (int i = 0; i < X->rows; i++) {
    NN_REQUIRE(X->indptr[i] <= X->indptr[i + 1], "%s: row %d: indptr goes down, %d then %d", who, i, X->indptr[i],
               X->indptr[i + 1]);
    for (int k = X->indptr[i]; k < X->indptr[i + 1]; k++) {
      bool ascending = k == X->indptr[i] || X->indices[k - 1] < X->indices[k];
      NN_REQUIRE(X->indices[k] >= 0 && X->indices[k] < X->cols && ascending,
                 "%s: row %d: column %d (entry %d) is out of 0..%d or not ascending", who, i, X->indices[k], k,
                 X->cols - 1);
    }
  }
}

/* The rows of a product: rows[i] when given, else i. */
static void check_rows(const nn_csr *X, const int *rows, int n, const char *who) {
  NN_REQUIRE(X && X->indptr, "%s: NULL matrix", who);
  NN_REQUIRE(rows ? n >= 0 : n == X->rows, "%s: n = %d rows of a (%d, %d) matrix; without a row list n must be %d",
             who, n, X->rows, X->cols, X->rows);
  for (int i = 0; rows && i < n; i++)
    NN_REQUIRE(rows[i] >= 0 && rows[i] < X->rows, "%s: rows[%d] = %d, outside the (%d, %d) matrix", who, i, rows[i],
               X->rows, X->cols);
}

/* ANCHOR: csr_matvec */
void nn_csr_matvec(const nn_csr *X, const int *rows, int n, const float *w, float *z) {
  check_rows(X, rows, n, "nn_csr_matvec");
  NN_REQUIRE(w && z, "nn_csr_matvec: NULL w or z (X is (%d, %d))", X->rows, X->cols);
  for (int i = 0; i < n; i++) {
    int r = rows ? rows[i] : i;
    float s = 0.f;
    for (int k = X->indptr[r]; k < X->indptr[r + 1]; k++) s += X->values[k] * w[X->indices[k]];
    z[i] = s;
  }
}
/* ANCHOR_END: csr_matvec */

void nn_csr_matvec_t_add(const nn_csr *X, const int *rows, int n, const float *dz, float *dw) {
  check_rows(X, rows, n, "nn_csr_matvec_t_add");
  NN_REQUIRE(dz && dw, "nn_csr_matvec_t_add: NULL dz or dw (X is (%d, %d))", X->rows, X->cols);
  /* BEGIN SOLUTION */
  /* HINT: dw += X^T dz, that is dw_j += sum_i X[r_i, j] dz_i (r_i = rows[i], or i). CSR has no columns to walk, and this needs none: walk X's rows as nn_csr_matvec above does, but scatter where it gathers: each stored entry (column j, value v) of row r_i sends v dz_i to dw_j. The zeros are not stored and add nothing: that is the speed */
  /* HINT2: for i < n: r = rows[i] when rows is not NULL, else i; for k from X->indptr[r] up to X->indptr[r + 1] - 1, add X->values[k] times dz[i] into dw at X->indices[k]. Add, never set: dw holds other rows' contributions */
  for (int i = 0; i < n; i++) {
    int r = rows ? rows[i] : i;
    for (int k = X->indptr[r]; k < X->indptr[r + 1]; k++) dw[X->indices[k]] += X->values[k] * dz[i];
  }
  /* END SOLUTION */
}
