/* nn info: the optional parts this build found, so a student knows what runs where. */
#include <stdio.h>

#include "commands.h"
#include "nn_cuda.h"
#include "nn_gemm.h"
#include "nn_parallel.h"
#include "nn_plot.h"

int cmd_info(int argc, char **argv) {
  (void)argc, (void)argv;
  printf("libnn build\n");
  printf("  %s OpenBLAS   %s\n", nn_openblas_available() ? "✓" : "✗",
         nn_openblas_available() ? "nn_sgemm uses cblas_sgemm on CPU" : "nn_sgemm uses the blocked kernel");
  printf("  ✓ threads    %d (libnn's OpenMP pool; OMP_NUM_THREADS=n chooses)\n", nn_threads());
  printf("  %s GPU        %s\n", nn_cuda_available() ? "✓" : "✗", nn_cuda_describe());
  printf("  %s gnuplot    %s\n", nn_plot_available() ? "✓" : "✗",
         nn_plot_available() ? "charts are PNG files" : "charts are .dat + .gp only (apt-get install gnuplot-nox)");
  printf("GEMM backends:");
  for (int b = 0; b < NN_GEMM_BACKENDS; b++)
    if (nn_gemm_available((nn_gemm_backend)b)) printf(" %s", nn_gemm_name((nn_gemm_backend)b));
  printf("\n");
  return 0;
}
