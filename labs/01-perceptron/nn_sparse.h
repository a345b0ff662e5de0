/* nn_sparse.h: sparse matrices in CSR form, and the two products a linear model needs.
 *
 * A bag of words of 20,000 reviews over 50,000 tokens is a (20000, 50000) matrix
 * with about 40 non-zeros per row: 4 GB as dense floats, 99.9 % zeros. CSR
 * (compressed sparse row, scipy.sparse.csr_matrix's layout) keeps only the non-zeros,
 * row after row:
 *
 *   X = [ 1 0 2 ]      indptr  = [0, 2, 2, 3]     row i is entries indptr[i] .. indptr[i+1]-1
 *       [ 0 0 0 ]      indices = [0, 2, 1]        their columns, ascending within a row
 *       [ 0 3 0 ]      values  = [1, 2, 3]
 *
 * Storage is (rows + 1) + 2 nnz numbers; a product costs O(nnz), not O(rows * cols).
 * These products are not routed through nn_sgemm: a GEMM is for dense operands, and
 * densifying X to call it would cost the 4 GB above. Logistic regression needs
 *
 *   forward   z  = X w               z[i]  = sum_{k in row i} values[k] w[indices[k]]     (gather)
 *   backward  dw += X^T dz           dw[j] += sum_{i: X[i,j] != 0} X[i,j] dz[i]            (scatter)
 *
 * X^T is never built: walking the rows of X and adding values[k] * dz[i] into
 * dw[indices[k]] visits the same non-zeros as a walk down the columns would.
 * Both take an optional list of rows, so a mini-batch is a list of row numbers,
 * not a copy of the matrix.
 */
#ifndef NN_SPARSE_H
#define NN_SPARSE_H

#include "nn_tensor.h"

typedef struct {
  int rows, cols;
  int nnz;        /* stored entries */
  int *indptr;    /* (rows + 1), indptr[0] = 0, indptr[rows] = nnz, non-decreasing */
  int *indices;   /* (nnz) column of each entry, 0..cols-1, strictly ascending within a row */
  float *values;  /* (nnz) */
} nn_csr;

/* Room for nnz entries; indptr zero-filled (every row empty until the caller fills it). */
nn_csr nn_csr_new(int rows, int cols, int nnz);
void nn_csr_free(nn_csr *X);

/* The non-zeros of a CPU (rows, cols) tensor as CSR, and back: for tests and small demos. */
nn_csr nn_csr_from_dense(const nn_tensor *A);
nn_tensor nn_csr_to_dense(const nn_csr *X);

/* The rule above holds (indptr non-decreasing from 0 to nnz, columns in range and
 * ascending in each row): aborts naming the first row that breaks it. */
void nn_csr_check(const nn_csr *X, const char *who);

/* z[i] = sum_j X[r_i, j] w[j] for i < n, where r_i = rows[i], or i when rows is NULL
 * (then n must be X->rows).   w: (cols)   z: (n), overwritten. */
void nn_csr_matvec(const nn_csr *X, const int *rows, int n, const float *w, float *z);

/* dw[j] += sum_i X[r_i, j] dz[i] for i < n (r_i as above): dw += X[rows]^T dz.
 * dz: (n)   dw: (cols), accumulated, as every backward does. */
void nn_csr_matvec_t_add(const nn_csr *X, const int *rows, int n, const float *dz, float *dw);

#endif
