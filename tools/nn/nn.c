/* nn: the course's command. `nn tour` is what `make` runs first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

typedef struct {
  const char *name;
  int chapter; /* the chapter whose demo it is (`nn run 02` runs them all); -1: a tool */
  const char *usage;
  int (*run)(int argc, char **argv);
} command;

static const command COMMANDS[] = {
    {"tour", -1, "a one-minute guided tour on the bundled data (what `make` runs)", cmd_tour},
    {"info", -1, "what this build has: OpenBLAS, CUDA and a GPU, gnuplot", cmd_info},
    {"perceptron", 1, "the perceptron on AND, OR, XOR and a 2-D toy set (chapter 01's demos take --gpu, and say they run on the CPU)", cmd_perceptron},
    {"logreg", 1, "breast cancer, perceptron vs logistic regression, CV, ROC", cmd_logreg},
    {"imbalance", 1, "a rare class: none vs under-, over-sampling and SMOTE, its recall on a real test set", cmd_imbalance},
    {"softmax", 1, "softmax regression on iris and the 8x8 digits", cmd_softmax},
    {"sentiment", 1, "Korean movie reviews, bag-of-words vs TF-IDF (needs make data)", cmd_sentiment},
    {"xor", 2, "a 2-2-1 network learns XOR, which one perceptron cannot (--gpu, as every demo of chapters 02-03)", cmd_xor},
    {"mnist", 2, "a 784-512-10 MLP on the MNIST sample (--epochs N, --gpu, --no-augment)", cmd_mnist},
    {"fashion", 2, "the same MLP on the Fashion-MNIST sample", cmd_fashion},
    {"activations", 2, "sigmoid+SGD vs ReLU+SGD vs ReLU+Adam, loss curves in one picture", cmd_activations},
    {"optimizers", 2, "SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW on one MLP", cmd_optimizers},
    {"regression", 2, "diabetes: a line by the normal equations and by gradient descent, and an MLP regressor", cmd_regression},
    {"cnn", 3, "the seeds' CNN on the MNIST sample, >= 98 %; its filters and feature maps (--epochs N, --no-augment, --gpu)", cmd_cnn},
    {"augment", 3, "shift, flip, pad-and-crop; with and without them on 1,000 images: the train-test gap", cmd_augment},
    {"gradcam", 3, "Grad-CAM heat maps of a small CNN on MNIST digits: where it looked", cmd_gradcam},
    {"transfer", 3, "MNIST 0-4 conv features for digits 5-9 with 25/50/200 labels: scratch, frozen, fine-tuned", cmd_transfer},
    {"resnet", 3, "a small ResNet (BatchNorm, residual blocks) on the Fashion-MNIST sample (--epochs N, --gpu)", cmd_resnet},
    {"cifar", 3, "a small ResNet on CIFAR-10's colour photos (needs make data; --epochs N, --train N, --test N, --gpu)", cmd_cifar},
    {"summary", -1, "a model spec's per-layer shapes and parameter counts (--framework keras|pytorch)", cmd_summary},
    {"exam", -1, "exam drills: shapes, parameter counts, formulas; checked, with worked solutions", cmd_exam},
};
enum { N_COMMANDS = sizeof COMMANDS / sizeof COMMANDS[0] };

static int usage(FILE *out) {
  fprintf(out, "usage: nn COMMAND [ARGS]\n\ncommands:\n");
  for (int i = 0; i < N_COMMANDS; i++) {
    char tag[16] = "";
    if (COMMANDS[i].chapter >= 0) snprintf(tag, sizeof tag, "ch %02d: ", COMMANDS[i].chapter);
    fprintf(out, "  %-11s %s%s\n", COMMANDS[i].name, tag, COMMANDS[i].usage);
  }
  fprintf(out, "  %-11s every demo of chapter NN in turn (make demo CH=NN)\n", "run NN");
  return out == stderr ? 2 : 0;
}

/* nn run 02: each demo of the chapter, in the order of the chapter's text. */
static int run_chapter(const char *arg) {
  int ch = arg && arg[0] ? atoi(arg) : -1, ran = 0, failed = 0;
  for (int i = 0; i < N_COMMANDS; i++) {
    if (COMMANDS[i].chapter != ch) continue;
    printf("\n######## nn %s\n", COMMANDS[i].name);
    fflush(stdout);
    char *argv[] = {(char *)COMMANDS[i].name, NULL};
    int rc = COMMANDS[i].run(1, argv);
    fflush(stdout);
    if (rc == NN_EXIT_NO_DATA)
      fprintf(stderr, "nn run %s: nn %s skipped: its data set is not here (make data)\n", arg, COMMANDS[i].name);
    else if (rc != 0)
      fprintf(stderr, "nn run %s: nn %s exited %d; going on with the others\n", arg, COMMANDS[i].name, rc);
    failed += rc != 0 && rc != NN_EXIT_NO_DATA, ran++;
  }
  if (ran > 0) return failed ? 1 : 0;
  {
    fprintf(stderr, "nn run: chapter '%s' has no demos; the chapters with demos are 01, 02 and 03\n", arg ? arg : "");
    return 2;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return usage(stderr);
  if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout);
  if (!strcmp(argv[1], "run")) return run_chapter(argc > 2 ? argv[2] : NULL);
  for (int i = 0; i < N_COMMANDS; i++)
    if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
  fprintf(stderr, "nn: no command '%s'\n", argv[1]);
  return usage(stderr);
}
