/* nn_plot.h: line charts and scatter plots (loss curves, ROC curves, decision boundaries) through gnuplot.
 *
 * nn_plot_lines("build/loss.png", ...) writes three files side by side:
 *   build/loss.dat  the numbers, one block per series (gnuplot's `index i`)
 *   build/loss.gp   the gnuplot script that draws them
 *   build/loss.png  the picture, made by running `gnuplot build/loss.gp`
 * The .dat and .gp stay, so a student can restyle the chart by hand. Without
 * gnuplot the first two are still written and the call returns
 * NN_ERR_UNSUPPORTED with a one-line note: a missing plotter never stops training.
 */
#ifndef NN_PLOT_H
#define NN_PLOT_H

#include "nn_common.h"

typedef struct {
  const char *label; /* legend entry */
  const float *x;    /* NULL: x is 0, 1, 2, ... (epochs, steps) */
  const float *y;
  int n;
  bool points; /* draw the (x, y) pairs as dots (a scatter), not joined by a line */
} nn_series;

typedef struct {
  const char *title, *xlabel, *ylabel;
  bool log_y; /* losses often read better on a log scale */
} nn_plot_style;

nn_status nn_plot_lines(const char *png_path, const nn_plot_style *style,
                        const nn_series *series, int count, nn_error *err);

/* True when a `gnuplot` program is on PATH. */
bool nn_plot_available(void);

#endif
