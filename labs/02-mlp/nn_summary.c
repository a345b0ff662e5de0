/* nn_summary.c: the summary table of nn_summary.h. */
#include "nn_summary.h"

#include <string.h>

#define RULE "=================================================================================="

/* 34826 -> "34,826" */
static const char *commas(long v, char *buf, size_t n) {
  char digits[32];
  snprintf(digits, sizeof digits, "%ld", v < 0 ? -v : v);
  size_t len = strlen(digits), o = 0;
  if (v < 0 && o + 1 < n) buf[o++] = '-';
  for (size_t i = 0; i < len && o + 1 < n; i++) {
    if (i > 0 && (len - i) % 3 == 0 && o + 1 < n) buf[o++] = ',';
    if (o + 1 < n) buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

void nn_summary_begin(nn_summary *s, FILE *f, nn_framework fw, const char *title) {
  *s = (nn_summary){.f = f, .fw = fw};
  fprintf(f, "%s\n", title);
  fprintf(f, "%s\n %-34s %-22s %12s %12s\n%s\n", RULE, "Layer (type)", "Output shape", "Params", "Trainable", RULE);
}

void nn_summary_row(nn_summary *s, const char *name, const nn_shape *out, long params, long trainable,
                    long buffers) {
  char p[32], t[32];
  fprintf(s->f, " %-34s %-22s %12s %12s\n", name, nn_shape_format(out, s->fw).s, commas(params, p, sizeof p),
          commas(trainable, t, sizeof t));
  s->params += params, s->trainable += trainable, s->buffers += buffers;
}

void nn_summary_end(nn_summary *s) {
  char a[32];
  fprintf(s->f, "%s\n", RULE);
  fprintf(s->f, "Total params: %s\n", commas(s->params, a, sizeof a));
  fprintf(s->f, "Trainable params: %s\n", commas(s->trainable, a, sizeof a));
  fprintf(s->f, "Non-trainable params: %s\n", commas(s->params - s->trainable, a, sizeof a));
  if (s->fw == NN_PYTORCH) fprintf(s->f, "Buffers (state_dict, not parameters): %s\n", commas(s->buffers, a, sizeof a));
  fprintf(s->f, "%s\n", RULE);
}
