/* gpu_compare.c: the CPU-vs-GPU comparison the GPU tests share (gpu_compare.h). */
#include "gpu_compare.h"

#include <math.h>
#include <stdlib.h>

nn_tensor random_tensor(nn_rng *rng, int ndim, const int *shape, float lo, float hi) {
  nn_tensor t = nn_tensor_new(ndim, shape, NN_CPU);
  nn_rng_fill_uniform(rng, t.data, nn_numel(&t), lo, hi);
  return t;
}

nn_tensor on_gpu(const nn_tensor *t) { return nn_tensor_to(t, NN_GPU); }

double max_abs(const nn_tensor *cpu) {
  double m = 0;
  for (long i = 0; i < nn_numel(cpu); i++) m = fmax(m, fabs(cpu->data[i]));
  return m;
}

/* Expects that gpu (any device) and cpu (host) hold the same values within tol. */
void expect_close(nn_grade *grade, const char *what, nn_tensor *gpu, const nn_tensor *cpu, double tol,
                  double floor) {
  expect(grade, nn_numel(gpu) == nn_numel(cpu), "%s: GPU tensor %s, CPU tensor %s", what, nn_shape_str(gpu).s,
         nn_shape_str(cpu).s);
  answer_tensor(grade, what, gpu);
  nn_tensor g = nn_tensor_to(gpu, NN_CPU);
  long n = nn_numel(cpu), at = 0;
  double worst = 0, max_err = 0;
  for (long i = 0; i < n; i++) {
    double a = g.data[i], c = cpu->data[i];
    bool same_nan = isnan(a) && isnan(c), one_nan = isnan(a) != isnan(c);
    double abs_err = same_nan ? 0 : fabs(a - c);
    double err = one_nan ? INFINITY : same_nan || a == c ? 0 : abs_err / fmax(fabs(c), floor);
    if (abs_err > max_err || one_nan) max_err = one_nan ? INFINITY : abs_err;
    if (err > worst) worst = err, at = i;
  }
  float got = g.data[at], want = cpu->data[at];
  nn_grade_text why = {""}; /* what kind of wrong the whole GPU tensor is, for a failure only */
  if (nn_grade_judges(grade) && !(worst <= tol) && n == nn_numel(&g)) {
    double *cpu_values = malloc((size_t)n * sizeof *cpu_values);
    for (long i = 0; i < n; i++) cpu_values[i] = cpu->data[i];
    why = nn_grade_diagnose(g.data, cpu_values, NULL, n, cpu->ndim, cpu->shape);
    free(cpu_values);
  }
  nn_tensor_free(&g);
  expect(grade, worst <= tol,
            "%s: GPU and CPU differ: max |GPU - CPU| = %.3g over %ld values; worst at %s: GPU %.9g, CPU %.9g "
            "(error %.3g, allowed %.0e relative to max(|CPU|, %g))%s",
            what, max_err, n, nn_grade_where(at, cpu->ndim, cpu->shape).s, got, want, worst, tol, floor, why.s);
}
