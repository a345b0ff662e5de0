/* nn_progress.c: the bar, the ETA and a monotonic clock. */
#include "nn_progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 30 };

double nn_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void nn_progress_begin(nn_progress *p, const char *label, long total) {
  *p = (nn_progress){.label = label, .total = total > 0 ? total : 1};
  p->start_s = nn_seconds();
  p->last_draw_s = -1.0;
  p->enabled = isatty(STDOUT_FILENO);
}

/* eta = elapsed * (total - done) / done: assumes the steps take equal time. */
void nn_progress_format(const nn_progress *p, double elapsed_s, char *buf, int size) {
  long done = p->done < p->total ? p->done : p->total;
  int filled = (int)(BAR_WIDTH * done / p->total);
  char bar[BAR_WIDTH + 1];
  for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
  bar[BAR_WIDTH] = '\0';
  int n = snprintf(buf, (size_t)size, "%s [%s] %ld/%ld %3d%% %5.1fs", p->label ? p->label : "", bar,
                   done, p->total, (int)(100 * done / p->total), elapsed_s);
  if (done > 0 && done < p->total && n < size)
    n += snprintf(buf + n, (size_t)(size - n), "  eta %.1fs",
                  elapsed_s * (double)(p->total - done) / (double)done);
  if (p->note[0] && n > 0 && n < size) snprintf(buf + n, (size_t)(size - n), "  %s", p->note);
}

static void draw(nn_progress *p, double now) {
  char line[256];
  nn_progress_format(p, now - p->start_s, line, sizeof line);
  printf("\r%s\033[K", line); /* \033[K clears what a longer previous line left */
  fflush(stdout);
  p->last_draw_s = now;
}

void nn_progress_update(nn_progress *p, long done, const char *fmt, ...) {
  p->done = done;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->note, sizeof p->note, fmt, ap);
    va_end(ap);
  }
  if (!p->enabled) return;
  double now = nn_seconds();
  if (now - p->last_draw_s >= 0.1 || done >= p->total) draw(p, now);
}

void nn_progress_end(nn_progress *p) {
  if (!p->enabled) return;
  draw(p, nn_seconds());
  putchar('\n');
}
