/* nn_progress.h: a progress bar for long loops (epochs, downloads, benchmarks).
 *
 *   [=============>          ] 560/1000  56%  3.1s  eta 2.4s  loss 0.3127
 *
 * It draws only when stdout is a terminal, so logs and CI output stay clean;
 * a caller that wants a final line in a log prints it itself.
 */
#ifndef NN_PROGRESS_H
#define NN_PROGRESS_H

#include <stdbool.h>

typedef struct {
  const char *label;
  long total, done;
  double start_s, last_draw_s;
  bool enabled; /* stdout is a TTY */
  char note[96]; /* "loss 0.3127": the caller's numbers, set by nn_progress_update */
} nn_progress;

void nn_progress_begin(nn_progress *p, const char *label, long total);
/* Record that `done` of `total` steps are finished; redraws at most 10 times a
 * second. `fmt` (may be NULL) adds the caller's numbers after the bar. */
void nn_progress_update(nn_progress *p, long done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nn_progress_end(nn_progress *p);

/* The line as it would be drawn, with `elapsed_s` seconds gone (for tests). */
void nn_progress_format(const nn_progress *p, double elapsed_s, char *buf, int size);

/* Seconds on a monotonic clock, for timing anything. */
double nn_seconds(void);

#endif
