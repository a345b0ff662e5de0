/* nn summary SPEC_FILE [--framework pytorch|keras]: a model's per-layer output shapes and
 * parameter counts, as torchinfo or Keras' model.summary() would print them, from a
 * text spec (one layer per line; the format is in spec.h and docs/models/). PyTorch's
 * conventions by default, (N, C, H, W) as the course's tensors and `nn exam`. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "spec.h"

/* To stdout with status 0 when asked for (--help), else to stderr with status 2. */
static int usage_to(FILE *out) {
  fprintf(out,
          "usage: nn summary SPEC_FILE [--framework pytorch|keras]   (default pytorch: (N, C, H, W))\n"
          "  SPEC_FILE: one layer per line, '#' comments, e.g.\n"
          "    input 1 28 28\n"
          "    conv2d 32 kernel=3 activation=relu\n"
          "    maxpool2d 2\n"
          "    flatten\n"
          "    dense 10\n"
          "  examples: docs/models/*.txt\n");
  return out == stdout ? 0 : 2;
}

static int summary_usage(void) { return usage_to(stderr); }

int cmd_summary(int argc, char **argv) {
  const char *path = NULL;
  nn_framework fw = NN_PYTORCH; /* the course's layout, as nn exam's default */
  nn_error err = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = NULL;
    if (!strcmp(a, "--framework") || !strcmp(a, "-f")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "nn summary: %s needs a value: keras or pytorch\n", a);
        return summary_usage();
      }
      val = argv[++i];
    } else if (!strncmp(a, "--framework=", 12)) {
      val = a + 12;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      return usage_to(stdout);
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "nn summary: unknown option '%s'\n", a);
      return summary_usage();
    } else if (path) {
      fprintf(stderr, "nn summary: one spec file at a time ('%s' and '%s')\n", path, a);
      return summary_usage();
    } else {
      path = a;
    }
    if (val && nn_framework_parse(val, &fw, &err) != NN_OK) {
      fprintf(stderr, "nn summary: %s\n", err.msg);
      return summary_usage();
    }
  }
  if (!path) return summary_usage();

  nn_model_spec spec;
  if (nn_model_spec_load(path, &spec, &err) != NN_OK) {
    fprintf(stderr, "nn summary: %s\n", err.msg);
    return 1;
  }
  nn_status st = nn_model_spec_print(&spec, fw, stdout, &err);
  nn_model_spec_free(&spec);
  if (st != NN_OK) {
    fprintf(stderr, "nn summary: %s\n", err.msg);
    return 1;
  }
  return 0;
}
