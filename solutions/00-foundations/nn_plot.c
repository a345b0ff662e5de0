/* nn_plot.c: write the data and the script, then let gnuplot draw the PNG. */
#include "nn_plot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nn_plot_available(void) { return system("command -v gnuplot >/dev/null 2>&1") == 0; }

/* "build/loss.png" -> "build/loss.dat": the path with its extension replaced. */
static nn_status sibling_path(const char *png, const char *ext, char *out, size_t size,
                              nn_error *err) {
  const char *dot = strrchr(png, '.');
  size_t stem = dot && !strchr(dot, '/') ? (size_t)(dot - png) : strlen(png);
  if (stem + strlen(ext) + 1 > size)
    return nn_fail(err, NN_ERR_ARG, "nn_plot_lines: path '%s' is too long", png);
  snprintf(out, size, "%.*s%s", (int)stem, png, ext);
  return NN_OK;
}

/* gnuplot strings are in double quotes; keep a label from ending one early. */
static void put_quoted(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static nn_status write_data(const char *path, const nn_series *series, int count, nn_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return nn_fail(err, NN_ERR_IO, "%s: cannot write the plot data (%s)", path, strerror(errno));
  for (int s = 0; s < count; s++) {
    fprintf(f, "# %s\n", series[s].label ? series[s].label : "");
    for (int i = 0; i < series[s].n; i++)
      fprintf(f, "%.9g %.9g\n", series[s].x ? series[s].x[i] : (float)i, series[s].y[i]);
    fputs("\n\n", f); /* two blank lines end a gnuplot data block */
  }
  if (fclose(f) != 0) return nn_fail(err, NN_ERR_IO, "%s: write failed (%s)", path, strerror(errno));
  return NN_OK;
}

static nn_status write_script(const char *gp, const char *dat, const char *png,
                              const nn_plot_style *style, const nn_series *series, int count,
                              nn_error *err) {
  FILE *f = fopen(gp, "w");
  if (!f) return nn_fail(err, NN_ERR_IO, "%s: cannot write the plot script (%s)", gp, strerror(errno));
  fputs("set terminal pngcairo size 800,500 noenhanced\nset output ", f);
  put_quoted(f, png);
  fputs("\nset grid\nset key below\n", f);
  if (style && style->title) fputs("set title ", f), put_quoted(f, style->title), fputc('\n', f);
  if (style && style->xlabel) fputs("set xlabel ", f), put_quoted(f, style->xlabel), fputc('\n', f);
  if (style && style->ylabel) fputs("set ylabel ", f), put_quoted(f, style->ylabel), fputc('\n', f);
  if (style && style->log_y) fputs("set logscale y\n", f);
  fputs("plot ", f);
  for (int s = 0; s < count; s++) {
    put_quoted(f, dat);
    fprintf(f, " index %d using 1:2 %s title ", s,
            series[s].points ? "with points pointtype 7 pointsize 0.7" : "with lines linewidth 2");
    put_quoted(f, series[s].label ? series[s].label : "");
    fputs(s + 1 < count ? ", \\\n     " : "\n", f);
  }
  if (fclose(f) != 0) return nn_fail(err, NN_ERR_IO, "%s: write failed (%s)", gp, strerror(errno));
  return NN_OK;
}

nn_status nn_plot_lines(const char *png_path, const nn_plot_style *style,
                        const nn_series *series, int count, nn_error *err) {
  NN_REQUIRE(png_path && series && count > 0, "nn_plot_lines: need a path and at least one series");
  for (int s = 0; s < count; s++)
    NN_REQUIRE(series[s].y && series[s].n >= 0, "nn_plot_lines: series %d has no y values", s);
  char dat[1024], gp[1024], cmd[1200];
  nn_status st;
  if ((st = sibling_path(png_path, ".dat", dat, sizeof dat, err))) return st;
  if ((st = sibling_path(png_path, ".gp", gp, sizeof gp, err))) return st;
  if ((st = write_data(dat, series, count, err))) return st;
  if ((st = write_script(gp, dat, png_path, style, series, count, err))) return st;
  if (!nn_plot_available())
    return nn_fail(err, NN_ERR_UNSUPPORTED,
                   "gnuplot not found: wrote %s and %s; apt-get install gnuplot-nox to get %s", dat,
                   gp, png_path);
  if (strchr(gp, '\'')) return nn_fail(err, NN_ERR_ARG, "nn_plot_lines: no quotes in paths please: %s", gp);
  snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>&1", gp);
  if (system(cmd) != 0)
    return nn_fail(err, NN_ERR_IO, "gnuplot failed on %s (run `gnuplot %s` to see why)", gp, gp);
  return NN_OK;
}
