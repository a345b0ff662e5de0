/* graded_data.h: the data of a graded accuracy test.
 *
 * The checker (and make test) loads a data set; the worker, which may open no file, gets the
 * training images and labels and the test images through the pipe, never the test labels.
 * It answers its predictions, and the checker scores them against the labels it kept.
 * In a drawn variant the checker sends a random three quarters of the test split, shuffled,
 * so predictions remembered from another run fit nothing.
 *
 *   graded_split train, test;
 *   graded_mnist(g, "datasets/mnist-10k", &train, &test);
 *   if (!nn_grade_is_checker(g)) { ...fit on train.X, train.y...; predict test.X into pred }
 *   double acc = graded_accuracy(g, &test, pred);     // answers pred; 0 in the worker
 *   expect(g, acc >= 0.94, "test accuracy %.2f%%, expected >= 94%%", 100 * acc);
 */
#ifndef GRADED_DATA_H
#define GRADED_DATA_H

#include "graded.h"
#include "nn_tensor.h"

typedef struct {
  nn_tensor X; /* (n, ...) */
  int *y;      /* (n): NULL for the test split in the worker */
  int n;
} graded_split;

/* An MNIST-style folder (nn_mnist_load): dir's train and t10k splits. */
void graded_mnist(nn_grade *g, const char *dir, graded_split *train, graded_split *test);
/* For a test that loads with its own loader: call it with train and test loaded in the
 * checker and make test (X and y set), and with nothing loaded in the worker; it draws the
 * variant's test rows and sends train and test.X to the worker. */
void graded_share(nn_grade *g, graded_split *train, graded_split *test);
/* Answers the n predictions (a class per test row) and returns the accuracy against the
 * test labels (in the checker and make test; 0 in the worker, which judges nothing). */
double graded_accuracy(nn_grade *g, const graded_split *test, int *predictions);
/* An accuracy test's verdict on a trained model: answers the predictions and the first and last
 * epoch's training loss, and expects accuracy >= band and a loss that fell. */
void graded_expect_accuracy(nn_grade *g, const graded_split *test, int *predictions, float first_last_loss[2],
                            double band);
void graded_split_free(graded_split *s);

#endif
