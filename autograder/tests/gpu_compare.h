/* gpu_compare.h: what the CPU-vs-GPU tests (test_gpu.c, test_gpu_cnn.c) share.
 *
 * A GPU op is checked against its CPU twin on the same numbers, elementwise:
 *   err = |gpu - cpu| / max(|cpu|, floor) <= tol
 * (floor keeps values near 0 from inflating the relative error; each test file's header
 * says which tol and floor each kind of op gets, and why). A failure names the tensor,
 * the max |GPU - CPU|, and the worst element on both devices.
 */
#ifndef GPU_COMPARE_H
#define GPU_COMPARE_H

#include "graded.h"
#include "nn_cuda.h"
#include "nn_rng.h"
#include "nn_tensor.h"

/* First line of every GPU test: without a GPU (or CUDA in the build) it is skipped,
 * with the reason, never passed. */
#define NEED_GPU() nn_grade_need_gpu(g)

/* A CPU tensor of the given shape, uniform in [lo, hi). */
nn_tensor random_tensor(nn_rng *rng, int ndim, const int *shape, float lo, float hi);
/* A copy of t on the GPU. */
nn_tensor on_gpu(const nn_tensor *t);
/* The largest |value| of a CPU tensor: the floor for a tensor compared as a whole. */
double max_abs(const nn_tensor *cpu);
/* Expects that gpu (either device; the code under test's answer) holds cpu's values (host:
 * the checker's own, computed on the CPU) within tol, as above. */
void expect_close(nn_grade *g, const char *what, nn_tensor *gpu, const nn_tensor *cpu, double tol, double floor);

#endif
