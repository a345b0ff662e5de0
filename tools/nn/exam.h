/* exam.h: what `nn exam`'s driver (exam.c) and its problem families share.
 *
 * A family makes one problem from a random generator: the question, the answer and
 * the worked solution, step by step. Shapes and counts come from the library's shape
 * calculators; a real answer is computed in double, from the formula its steps show,
 * and checked against the library's float32 code (nn_activation, nn_loss, nn_optim,
 * nn_roc_auc), never taken from it (the metrics of a confusion matrix come from
 * nn_metrics, which divides integer counts in double). The driver picks families,
 * asks, checks and scores; it knows nothing of any formula.
 *
 *   exam_values.c   activation, loss, optimizer, metrics, rl, positional encoding
 *   exam_shapes.c   conv, pool, rnn, attention: output shapes and parameter counts,
 *                   and the framework defaults that differ (framework_defaults.h)
 */
#ifndef NN_EXAM_H
#define NN_EXAM_H

#include <stdbool.h>

#include "nn_rng.h"
#include "nn_shapes.h" /* nn_framework: NN_KERAS, NN_PYTORCH */

/* How an answer is written and checked:
 *   INT     exact; "407050", "407,050" and "407_050" are the same
 *   SHAPE   exact, every dim; "(32, 26, 26)", "32x26x26", "32 26 26", "[32, 26, 26]"
 *   REAL    within EXAM_REL_TOL of |expected|, or EXAM_ABS_TOL, whichever is larger
 *   VECTOR  as REAL, element by element, the same count */
typedef enum { EXAM_INT, EXAM_SHAPE, EXAM_REAL, EXAM_VECTOR } exam_answer_kind;

#define EXAM_REL_TOL 1e-3
#define EXAM_ABS_TOL 1e-4
enum { EXAM_MAX_VALUES = 8 };

typedef struct {
  exam_answer_kind kind;
  int n;                     /* how many values: dims of a SHAPE, length of a VECTOR, else 1 */
  double v[EXAM_MAX_VALUES]; /* INT and SHAPE hold whole numbers */
} exam_answer;

typedef struct {
  const char *topic, *family;
  char question[2048];
  exam_answer answer;
  char worked[6144]; /* the solution, one step a line */
} exam_problem;

typedef void (*exam_make_fn)(nn_rng *r, nn_framework fw, exam_problem *p);

typedef struct {
  const char *topic;    /* conv, pool, rnn, attention, activation, loss, optimizer, metrics, rl */
  const char *name;     /* conv2d_shape */
  const char *what;     /* one line for --list */
  int variants;         /* how many kinds of question the family asks */
  exam_make_fn make;
} exam_family;

/* The families of each file; *n = how many. */
const exam_family *exam_value_families(int *n);
const exam_family *exam_shape_families(int *n);

/* ---- for the families: text */
void exam_ask(exam_problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void exam_step(exam_problem *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- for the families: the answer */
void exam_answer_int(exam_problem *p, long v);
void exam_answer_shape(exam_problem *p, int n, const long *dims);
void exam_answer_real(exam_problem *p, double v);
void exam_answer_vector(exam_problem *p, int n, const double *v);
/* "(64, 13, 13)", "0.81757", "0.090031, 0.24473, 0.66524": how keys and messages write it */
void exam_answer_str(const exam_answer *a, char *buf, int size);
/* got is right for want, by the rules above. Near 0 the absolute 1e-4 decides: for a key of
 * 1.25e-07, 0 and 1.25e-07 are both right, 2e-04 is not. */
bool exam_answer_correct(const exam_answer *want, const exam_answer *got);

/* ---- for the families: nice numbers */
int exam_int(nn_rng *r, int lo, int hi);          /* uniform in [lo, hi] */
double exam_tenths(nn_rng *r, double lo, double hi); /* k / 10 in [lo, hi], one decimal */
int exam_pick(nn_rng *r, int n, const int *from); /* one of from[0..n) */

#endif
