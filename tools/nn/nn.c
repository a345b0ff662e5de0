/* nn: the course's command. `nn tour` is what `make` runs first. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

typedef struct {
  const char *name, *usage;
  int (*run)(int argc, char **argv);
} command;

static const command COMMANDS[] = {
    {"tour", "a one-minute guided tour on the bundled data (what `make` runs)", cmd_tour},
    {"info", "what this build has: OpenBLAS, CUDA and a GPU, gnuplot", cmd_info},
    {"perceptron", "ch 01: the perceptron on AND, OR, XOR and a 2-D toy set", cmd_perceptron},
    {"logreg", "ch 01: breast cancer, perceptron vs logistic regression, CV, ROC", cmd_logreg},
    {"softmax", "ch 01: softmax regression on iris and the 8x8 digits", cmd_softmax},
    {"sentiment", "ch 01: Korean movie reviews, bag-of-words vs TF-IDF (needs make data)", cmd_sentiment},
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

static int usage(FILE *out) {
  fprintf(out, "usage: nn COMMAND [ARGS]\n\ncommands:\n");
  for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].usage);
  return out == stderr ? 2 : 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout);
  for (int i = 0; i < N_COMMANDS; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
  fprintf(stderr, "nn: no command '%s'\n", argv[1]);
  return usage(stderr);
}
