/* The progress bar's line, and the plot's data and script files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_plot.h"
#include "nn_progress.h"

Test(progress, line_shows_bar_count_percent_eta_and_note) {
  nn_progress p;
  nn_progress_begin(&p, "epoch 1", 200);
  nn_progress_update(&p, 50, "loss %.3f", 0.5);
  char line[256];
  nn_progress_format(&p, 2.0, line, sizeof line);
  /* 50/200 is 25 %: 7 of 30 '=' then '>'; eta = 2 s * 150/50 = 6 s */
  cr_assert_str_eq(line, "epoch 1 [=======>                      ] 50/200  25%   2.0s  eta 6.0s  loss 0.500");
}

Test(progress, quiet_when_stdout_is_not_a_terminal) {
  /* Criterion runs tests with stdout redirected, as CI does. */
  nn_progress p;
  nn_progress_begin(&p, "x", 10);
  cr_assert(!p.enabled || isatty(1));
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s was not written", path);
  static char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

Test(plot, writes_data_and_script_and_a_png_when_gnuplot_exists) {
  char dir[] = "/tmp/nn-plot-XXXXXX", png[128], dat[128], gp[128];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(png, sizeof png, "%s/loss.png", dir);
  snprintf(dat, sizeof dat, "%s/loss.dat", dir);
  snprintf(gp, sizeof gp, "%s/loss.gp", dir);
  float train[3] = {2.0f, 1.0f, 0.5f}, epochs[3] = {1, 2, 3};
  nn_series s[2] = {{.label = "train \"loss\"", .x = epochs, .y = train, .n = 3},
                    {.label = "test", .y = train, .n = 2, .points = true}};
  nn_plot_style style = {.title = "Loss", .xlabel = "epoch", .ylabel = "loss"};
  nn_error err = {0};
  nn_status st = nn_plot_lines(png, &style, s, 2, &err);
  char *data = slurp(dat);
  cr_assert(strstr(data, "# train \"loss\"\n1 2\n2 1\n3 0.5\n\n\n# test\n0 2\n1 1\n"), "data file:\n%s", data);
  char *script = slurp(gp);
  cr_assert(strstr(script, "index 0 using 1:2 with lines"), "series 0 is a line:\n%s", script);
  cr_assert(strstr(script, "index 1 using 1:2 with points"), "series 1 (.points = true) is a scatter:\n%s", script);
  cr_assert(strstr(script, "title \"train \\\"loss\\\"\""), "quotes in labels must be escaped:\n%s", script);
  if (nn_plot_available()) {
    cr_assert_eq(st, NN_OK, "%s", err.msg);
    FILE *f = fopen(png, "rb");
    unsigned char sig[8] = {0};
    cr_assert_not_null(f, "gnuplot is installed but %s was not made", png);
    cr_assert_eq(fread(sig, 1, 8, f), 8);
    fclose(f);
    cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0, "%s is not a PNG", png);
  } else {
    cr_assert_eq(st, NN_ERR_UNSUPPORTED);
    cr_assert(strstr(err.msg, "gnuplot not found"), "%s", err.msg);
  }
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(plot, no_gnuplot_is_a_note_not_a_crash) {
  setenv("PATH", "/nonexistent", 1); /* this test's own process: gnuplot cannot be found */
  cr_assert(!nn_plot_available());
  char dir[] = "/tmp/nn-plot-XXXXXX", png[128];
  cr_assert_not_null(mkdtemp(dir));
  snprintf(png, sizeof png, "%s/curve.png", dir);
  float y[2] = {1, 2};
  nn_series s = {.label = "y", .y = y, .n = 2};
  nn_error err = {0};
  nn_status st = nn_plot_lines(png, NULL, &s, 1, &err);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "/bin/rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(st, NN_ERR_UNSUPPORTED);
  cr_assert(strstr(err.msg, "apt-get install gnuplot-nox"), "%s", err.msg);
}
