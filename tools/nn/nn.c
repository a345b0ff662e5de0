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
    {"xor", "ch 02: a 2-2-1 network learns XOR, which one perceptron cannot", cmd_xor},
    {"mnist", "ch 02: a 784-512-10 MLP on the MNIST sample (--epochs N, --gpu, --no-augment)", cmd_mnist},
    {"fashion", "ch 02: the same MLP on the Fashion-MNIST sample", cmd_fashion},
    {"activations", "ch 02: sigmoid+SGD vs ReLU+SGD vs ReLU+Adam, loss curves in one picture", cmd_activations},
    {"optimizers", "ch 02: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW on one MLP", cmd_optimizers},
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
