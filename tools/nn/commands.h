/* commands.h: the subcommands of build/nn; each is `int cmd_X(int argc, char **argv)`. */
#ifndef NN_COMMANDS_H
#define NN_COMMANDS_H

/* A demo's exit status when its data set is not on this machine (not bundled, and no `make
 * data` yet): `nn run` reports the demo as skipped, not failed. 77 is what test runners
 * (automake, tools/runtests) read as "skipped". */
enum { NN_EXIT_NO_DATA = 77 };

int cmd_tour(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_perceptron(int argc, char **argv);
int cmd_logreg(int argc, char **argv);
int cmd_imbalance(int argc, char **argv);
int cmd_softmax(int argc, char **argv);
int cmd_sentiment(int argc, char **argv);
int cmd_xor(int argc, char **argv);
int cmd_mnist(int argc, char **argv);
int cmd_fashion(int argc, char **argv);
int cmd_activations(int argc, char **argv);
int cmd_optimizers(int argc, char **argv);
int cmd_regression(int argc, char **argv);
int cmd_cnn(int argc, char **argv);
int cmd_augment(int argc, char **argv);
int cmd_gradcam(int argc, char **argv);
int cmd_transfer(int argc, char **argv);
int cmd_resnet(int argc, char **argv);
int cmd_cifar(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_exam(int argc, char **argv);

#endif
