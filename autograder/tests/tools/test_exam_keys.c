/* `nn exam`'s answer keys (tools/nn/exam_values.c) are the double value of the formula
 * the worked steps show, not float32 round-off (issue 14: RMSProp from w = 1 with g = 0.8
 * gave the key -4.7684e-07 where the true value is 1e-8 / (0.08 + 1e-8) = 1.25e-07).
 *
 * The problems come from the families themselves (exam_value_families), by seed. The test
 * of every family reads the given numbers back out of the question text (printed with %g,
 * exactly) and recomputes the answer here, in double, independently of the generator:
 * float32 keys miss by ~1e-7 relative (2,400 to 7,000 misses per family in 3,000 problems
 * before issue 14), these must match to 1e-9. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exam.h"

/* ---- running one family */

static const exam_family *family(const char *name) {
  int n;
  const exam_family *fs = exam_value_families(&n);
  for (int i = 0; i < n; i++)
    if (!strcmp(fs[i].name, name)) return &fs[i];
  cr_assert_fail("no value family %s", name);
  return NULL;
}

static void make(const exam_family *f, uint64_t seed, nn_framework fw, exam_problem *p) {
  nn_rng r = nn_rng_new(seed);
  memset(p, 0, sizeof *p);
  p->topic = f->topic, p->family = f->name;
  f->make(&r, fw, p);
}

/* ---- reading the question */

static bool has(const exam_problem *p, const char *s) { return strstr(p->question, s) != NULL; }

static const char *after(const exam_problem *p, const char *anchor) {
  const char *at = strstr(p->question, anchor);
  cr_assert_not_null(at, "%s: no '%s' in the question:\n%s", p->family, anchor, p->question);
  return at + strlen(anchor);
}

static double num_after(const exam_problem *p, const char *anchor) {
  char *end;
  double v = strtod(after(p, anchor), &end);
  cr_assert(end != after(p, anchor), "%s: no number after '%s' in:\n%s", p->family, anchor, p->question);
  return v;
}

/* n numbers after anchor, whatever separates them ("3, 5", "0 and 1") */
static void nums_after(const exam_problem *p, const char *anchor, double *v, int n) {
  const char *s = after(p, anchor);
  for (int i = 0; i < n; i++) {
    while (*s && !strchr("-0123456789", *s)) s++;
    char *end;
    v[i] = strtod(s, &end);
    cr_assert(end != s, "%s: fewer than %d numbers after '%s' in:\n%s", p->family, n, anchor, p->question);
    s = end;
  }
}

/* the list "[0.8, -0.3, 2]" that follows anchor: how many numbers, into v */
static int list_after(const exam_problem *p, const char *anchor, double *v, int max) {
  const char *s = strchr(after(p, anchor), '[');
  cr_assert_not_null(s, "%s: no list after '%s' in:\n%s", p->family, anchor, p->question);
  int n = 0;
  for (s++; *s != ']'; n++) {
    char *end;
    cr_assert(n < max, "%s: more than %d numbers after '%s'", p->family, max, anchor);
    v[n] = strtod(s, &end);
    cr_assert(end != s, "%s: a list that is not numbers after '%s' in:\n%s", p->family, anchor, p->question);
    s = end;
    if (*s == ',') s++;
  }
  return n;
}

/* the counts of the confusion matrix the question prints, row by row */
static void matrix_of(const exam_problem *p, int C, int *cm) {
  for (int t = 0; t < C; t++) {
    char row[32];
    snprintf(row, sizeof row, "true %d", t);
    const char *s = after(p, row);
    for (int q = 0; q < C; q++) {
      char *end;
      cm[t * C + q] = (int)strtol(s, &end, 10);
      cr_assert(end != s, "%s: row %d of the matrix is short:\n%s", p->family, t, p->question);
      s = end;
    }
  }
}

/* ---- the answers, recomputed here in double */

static double sigmoid(double x) { return 1 / (1 + exp(-x)); }

static void softmax(int n, const double *z, double *out) {
  double m = z[0], s = 0;
  for (int i = 1; i < n; i++) m = fmax(m, z[i]);
  for (int i = 0; i < n; i++) s += exp(z[i] - m);
  for (int i = 0; i < n; i++) out[i] = exp(z[i] - m) / s;
}

static double logsumexp3(const double *z) {
  double m = fmax(z[0], fmax(z[1], z[2]));
  return m + log(exp(z[0] - m) + exp(z[1] - m) + exp(z[2] - m));
}

static double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

/* per class k of a C x C matrix: precision, recall, F1 */
static void prf(const int *cm, int C, int k, double *P, double *R, double *F) {
  int tp = cm[k * C + k], row = 0, col = 0;
  for (int j = 0; j < C; j++) row += cm[k * C + j], col += cm[j * C + k];
  *P = ratio(tp, col), *R = ratio(tp, row), *F = ratio(2.0 * tp, row + col);
}

/* w after `steps` optimizer steps from w0 (lr 0.1), written from the textbook rules */
typedef enum { SGD, SGD_WD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP, ADAM, ADAMW } rule;

static double optim(rule k, double w0, int steps, const double *g, double rho_or_G0, double eps) {
  double w = w0, lr = 0.1, m = 0, v = k == ADAGRAD ? rho_or_G0 : 0;
  for (int t = 1; t <= steps; t++) {
    double gt = g[t - 1];
    if (k == SGD) w = w - lr * gt;
    if (k == SGD_WD) w = w - lr * (gt + 0.1 * w);
    if (k == MOMENTUM || k == NESTEROV) {
      m = 0.9 * m + gt;
      w = w - lr * (k == NESTEROV ? gt + 0.9 * m : m);
    }
    if (k == ADAGRAD) v = v + gt * gt, w = w - lr * gt / (sqrt(v) + eps);
    if (k == RMSPROP) v = rho_or_G0 * v + (1 - rho_or_G0) * gt * gt, w = w - lr * gt / (sqrt(v) + eps);
    if (k == ADAM || k == ADAMW) {
      if (k == ADAMW) w = w - lr * 0.1 * w;
      m = 0.9 * m + 0.1 * gt, v = 0.999 * v + 0.001 * gt * gt;
      w = w - lr * (m / (1 - pow(0.9, t))) / (sqrt(v / (1 - pow(0.999, t))) + eps);
    }
  }
  return w;
}

/* The weight and gradients of an optimizer question: how many steps it asks for. */
static int grads_of(const exam_problem *p, double *w0, double *g) {
  if (has(p, "after one step")) {
    *w0 = num_after(p, "The weight is w = ");
    g[0] = num_after(p, "its gradient g = ");
    return 1;
  }
  *w0 = num_after(p, "The weight starts at w = ");
  g[0] = num_after(p, "g1 = "), g[1] = num_after(p, "g2 = ");
  return 2;
}

/* The answer to p, recomputed from its question into want[] (how many values); *variant:
 * which kind of question it was, 0..f->variants-1, so a test can see it met every kind. */
static int recompute(const exam_problem *p, nn_framework fw, double *want, int *variant) {
  bool keras = fw == NN_KERAS;
  const char *f = p->family;
  double a[8], b[8], w0, g[2];
  if (!strcmp(f, "activation_value")) {
    double x = num_after(p, " at x = "), y;
    /* SiLU's text has "sigmoid(x)" in it, SELU()'s "ELU()": they are looked for first */
    if (has(p, "SiLU")) *variant = 8, y = x * sigmoid(x);
    else if (has(p, "selu") || has(p, "SELU"))
      *variant = 9, y = 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * (exp(x) - 1));
    else if (has(p, "sigmoid(x)")) *variant = 0, y = sigmoid(x);
    else if (has(p, "tanh(x)")) *variant = 1, y = tanh(x);
    else if (has(p, "ReLU(x) = max")) *variant = 2, y = x > 0 ? x : 0;
    else if (has(p, "LeakyReLU()")) *variant = 3, y = x > 0 ? x : (keras ? 0.3 : 0.01) * x;
    else if (has(p, "ELU()")) *variant = 4, y = x > 0 ? x : exp(x) - 1;
    else if (has(p, "softplus")) *variant = 5, y = log(1 + exp(x));
    else if (has(p, "exact (erf) form")) *variant = 6, y = x * 0.5 * (1 + erf(x / sqrt(2)));
    else if (has(p, "tanh approximation"))
      *variant = 7, y = 0.5 * x * (1 + tanh(sqrt(2 / 3.141592653589793) * (x + 0.044715 * pow(x, 3))));
    else if (has(p, "ReLU6")) *variant = 10, y = fmin(fmax(x, 0), 6);
    else cr_assert_fail("activation_value: which activation is this?\n%s", p->question);
    want[0] = y;
    return 1;
  }
  if (!strcmp(f, "leaky_default")) {
    if (has(p, "is applied to x = ")) *variant = 1, want[0] = (keras ? 0.3 : 0.01) * num_after(p, "x = ");
    else if (has(p, "created with no arguments")) *variant = 0, want[0] = keras ? 0.3 : 0.01;
    else *variant = 2, want[0] = keras ? 0.2 : 0.01; /* the function form */
    return 1;
  }
  if (!strcmp(f, "softmax")) {
    int n = list_after(p, "logits z = ", a, 8);
    if (has(p, "temperature")) {
      double T = num_after(p, "temperature T = ");
      for (int i = 0; i < n; i++) a[i] /= T;
      *variant = 2, softmax(n, a, want);
      return n;
    }
    softmax(n, a, b);
    if (has(p, "What probability")) {
      *variant = 1, want[0] = b[(int)num_after(p, "softmax give class ")];
      return 1;
    }
    *variant = 0;
    memcpy(want, b, sizeof(double) * n);
    return n;
  }
  if (!strcmp(f, "regression_loss")) {
    int n = list_after(p, "Predictions ", a, 8);
    list_after(p, "targets ", b, 8);
    double s = 0;
    *variant = has(p, "(MSE)") ? 0 : has(p, "(MAE)") ? 1 : 2;
    for (int i = 0; i < n; i++) {
      double r = fabs(a[i] - b[i]);
      s += *variant == 0 ? r * r : *variant == 1 ? r : r <= 1 ? 0.5 * r * r : r - 0.5;
    }
    want[0] = s / n;
    return 1;
  }
  if (!strcmp(f, "bce")) {
    *variant = has(p, "logits z = ");
    int n = list_after(p, *variant ? "logits z = " : "probabilities p = ", a, 8);
    list_after(p, "labels y = ", b, 8);
    double s = 0;
    for (int i = 0; i < n; i++) {
      double q = *variant ? sigmoid(a[i]) : a[i];
      s -= b[i] == 1 ? log(q) : log(1 - q);
    }
    want[0] = s / n;
    return 1;
  }
  if (!strcmp(f, "cross_entropy")) {
    if (has(p, "label_smoothing")) { /* Keras words it with p, PyTorch with z = ln p and p */
      *variant = 3;
      list_after(p, keras ? "probabilities p = " : "its softmax is p = ", a, 8);
      int y = (int)num_after(p, "the true class is ");
      want[0] = 0;
      for (int c = 0; c < 3; c++) want[0] -= ((c == y ? 0.9 : 0) + 0.1 / 3) * log(a[c]);
    } else if (has(p, "(after softmax)")) {
      *variant = 2;
      list_after(p, "probabilities p = ", a, 8);
      want[0] = -log(a[(int)num_after(p, "the true class is ")]);
    } else if (has(p, "A batch of two")) {
      *variant = 1;
      list_after(p, "logits ", a, 8);
      list_after(p, "] and ", b, 8);
      double y[2];
      nums_after(p, "true classes ", y, 2); /* "true classes 0 and 2" */
      want[0] = (logsumexp3(a) - a[(int)y[0]] + logsumexp3(b) - b[(int)y[1]]) / 2;
    } else {
      *variant = 0;
      list_after(p, "Logits z = ", a, 8);
      int y = (int)num_after(p, "true class y = ");
      want[0] = logsumexp3(a) - a[y];
    }
    return 1;
  }
  if (!strcmp(f, "sgd_step")) {
    int steps = grads_of(p, &w0, g);
    *variant = has(p, "Plain SGD") ? 0 : has(p, "weight decay 0.1") ? 1 : has(p, "Nesterov") ? 3 : 2;
    static const rule rules[] = {SGD, SGD_WD, MOMENTUM, NESTEROV};
    want[0] = optim(rules[*variant], w0, steps, g, 0, 0);
    return 1;
  }
  if (!strcmp(f, "adaptive_step")) {
    int steps = grads_of(p, &w0, g);
    if (has(p, "AdaGrad")) {
      *variant = 0;
      want[0] = optim(ADAGRAD, w0, steps, g, num_after(p, "G starts at "), num_after(p, "eps = "));
    } else {
      *variant = steps; /* 1: one step, 2: two */
      double rho = num_after(p, keras ? "decay rho = " : "decay alpha = ");
      want[0] = optim(RMSPROP, w0, steps, g, rho, keras ? 1e-7 : 1e-8); /* the frameworks' default eps */
    }
    return 1;
  }
  if (!strcmp(f, "adam_step")) {
    int steps = grads_of(p, &w0, g);
    bool adamw = has(p, "AdamW");
    *variant = adamw ? 2 : steps - 1;
    want[0] = optim(adamw ? ADAMW : ADAM, w0, steps, g, 0, num_after(p, "eps "));
    return 1;
  }
  if (!strcmp(f, "steps_per_epoch")) {
    long N = (long)num_after(p, ""), B = (long)num_after(p, "batch_size=");
    if (has(p, "validation_split=")) {
      long train = (long)(N * (1 - num_after(p, "validation_split=")));
      *variant = 3, want[0] = (double)((train + B - 1) / B);
    } else if (has(p, "in the last batch")) {
      *variant = 2, want[0] = (double)(N % B ? N % B : B);
    } else if (has(p, "drop_last=True")) {
      *variant = 1, want[0] = (double)(N / B);
    } else {
      *variant = 0, want[0] = (double)((N + B - 1) / B);
    }
    return 1;
  }
  if (!strcmp(f, "binary_metrics")) {
    int cm[4];
    matrix_of(p, 2, cm);
    double TN = cm[0], FP = cm[1], FN = cm[2], TP = cm[3];
    static const char *asks[] = {"its precision?", "its recall?", "its F1 score?", "its accuracy?", "its specificity"};
    double v[] = {TP / (TP + FP), TP / (TP + FN), 2 * TP / (2 * TP + FP + FN), (TP + TN) / (TP + TN + FP + FN),
                  TN / (TN + FP)};
    *variant = -1;
    for (int i = 0; i < 5; i++)
      if (has(p, asks[i])) *variant = i, want[0] = v[i];
    cr_assert(*variant >= 0, "binary_metrics: which metric?\n%s", p->question);
    return 1;
  }
  if (!strcmp(f, "multiclass_metrics")) {
    int cm[9];
    matrix_of(p, 3, cm);
    double P[3], R[3], F[3];
    for (int k = 0; k < 3; k++) prf(cm, 3, k, &P[k], &R[k], &F[k]);
    if (has(p, "precision of class ")) {
      *variant = 4, want[0] = P[(int)num_after(p, "precision of class ")];
    } else if (has(p, "micro-averaged F1")) {
      int n = 0;
      for (int i = 0; i < 9; i++) n += cm[i];
      *variant = 3, want[0] = (double)(cm[0] + cm[4] + cm[8]) / n;
    } else {
      const double *v = has(p, "macro-averaged precision") ? P : has(p, "macro-averaged recall") ? R : F;
      *variant = v == P ? 0 : v == R ? 1 : 2;
      want[0] = (v[0] + v[1] + v[2]) / 3;
    }
    return 1;
  }
  if (!strcmp(f, "roc_auc")) {
    int n = list_after(p, "Scores ", a, 8);
    list_after(p, "for labels ", b, 8);
    double wins = 0, pairs = 0;
    *variant = 0;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        if (j > i && a[i] == a[j]) *variant = 1;
        if (b[i] != 1 || b[j] != 0) continue;
        pairs++, wins += a[i] > a[j] ? 1 : a[i] == a[j] ? 0.5 : 0;
      }
    want[0] = wins / pairs;
    return 1;
  }
  if (!strcmp(f, "attention_weights")) {
    double q[4], k[3][4], s[3], w[3];
    list_after(p, "query q = ", q, 4);
    list_after(p, "k1 = ", k[0], 4), list_after(p, "k2 = ", k[1], 4), list_after(p, "k3 = ", k[2], 4);
    for (int j = 0; j < 3; j++) s[j] = (q[0] * k[j][0] + q[1] * k[j][1] + q[2] * k[j][2] + q[3] * k[j][3]) / 2;
    softmax(3, s, w);
    if (has(p, "Give the 3 attention weights")) {
      *variant = 0;
      memcpy(want, w, sizeof w);
      return 3;
    }
    list_after(p, "values v = ", a, 3);
    *variant = 1, want[0] = w[0] * a[0] + w[1] * a[1] + w[2] * a[2];
    return 1;
  }
  if (!strcmp(f, "positional_encoding")) {
    double d = num_after(p, "d_model = "), at[2];
    nums_after(p, "What is PE(", at, 2); /* PE(pos, col) */
    int col = (int)at[1];
    double angle = at[0] / pow(10000, (col - col % 2) / d);
    *variant = col % 2, want[0] = col % 2 ? cos(angle) : sin(angle);
    return 1;
  }
  if (!strcmp(f, "td_update")) {
    double alpha = num_after(p, "alpha = "), gamma = num_after(p, "gamma = "), r = num_after(p, "r = "), q, next;
    if (has(p, "TD(0)")) {
      *variant = 3, q = num_after(p, "V(s) = "), next = num_after(p, "V(s') = ");
    } else {
      q = num_after(p, "Q(s, a) = ");
      list_after(p, "Q(s', .) = ", a, 3);
      if (has(p, "SARSA")) *variant = 2, next = a[(int)num_after(p, "picks a' = ")];
      else if (has(p, "terminal")) *variant = 1, next = 0;
      else *variant = 0, next = fmax(a[0], fmax(a[1], a[2]));
    }
    want[0] = q + alpha * (r + gamma * next - q);
    return 1;
  }
  if (!strcmp(f, "discounted_return")) {
    double gamma = num_after(p, "gamma = ");
    if (has(p, "forever")) {
      *variant = 2, want[0] = num_after(p, "receives reward ") / (1 - gamma);
      return 1;
    }
    int n = list_after(p, "rewards r_0..r_", a, 8);
    *variant = has(p, "the return G_1") ? 1 : 0;
    want[0] = 0;
    for (int k = *variant; k < n; k++) want[0] += pow(gamma, k - *variant) * a[k];
    return 1;
  }
  cr_assert_fail("family %s: the test has no recomputation for it; add one to recompute()", f);
  return 0;
}

/* ---- issue 14: the RMSProp key near 0 */

/* The first PyTorch adaptive_step problem from seed 0 up that asks RMSProp's one step from
 * w = 1 with g = 0.8 (about one seed in 3,840 does). */
static exam_problem rmsprop_w1_g08(void) {
  const exam_family *f = family("adaptive_step");
  exam_problem p;
  for (uint64_t seed = 0; seed < 1000000; seed++) {
    make(f, seed, NN_PYTORCH, &p);
    if (has(&p, "RMSProp") && has(&p, "The weight is w = 1 and its gradient g = 0.8. What is w after one step?"))
      return p;
  }
  cr_assert_fail("no seed below 1,000,000 asks RMSProp from w = 1 with g = 0.8");
  return p;
}

Test(exam_keys, rmsprop_from_w_1_with_g_0_8_is_plus_1_25e_07) {
  exam_problem p = rmsprop_w1_g08();
  cr_assert(has(&p, "alpha = 0.99"), "PyTorch's RMSprop decay is 0.99:\n%s", p.question);
  double key = p.answer.v[0];
  /* the steps' formula, w - lr g / (sqrt(s) + eps), s = (1 - rho) g^2, in double */
  double steps = 1 - 0.1 * 0.8 / (sqrt((1 - 0.99) * 0.8 * 0.8) + 1e-8);
  /* the same without the cancellation: lr g / sqrt(s) = 1 exactly, so w = eps / (sqrt(s) + eps) */
  double exact = 1e-8 / (0.08 + 1e-8);
  cr_assert(key > 0, "the key %g has the wrong sign (true %g)", key, exact);
  cr_assert(fabs(key - steps) <= 1e-12 * steps, "key %.17g, the steps' formula in double %.17g", key, steps);
  cr_assert(fabs(key - exact) <= 1e-6 * exact, "key %.17g, exactly %.17g", key, exact);
  char s[64];
  exam_answer_str(&p.answer, s, sizeof s);
  cr_assert_str_eq(s, "1.25e-07");
  cr_assert(strstr(p.worked, "/ (0.08 + 1e-08) = 1.25e-07"), "the steps do not show the key:\n%s", p.worked);
}

/* The sheet promises "Reals are accepted within 0.1 % (relative) or 1e-4 (absolute)": near 0
 * the absolute 1e-4 decides, so 0 is right for a key of 1.25e-07, and so is the key. */
Test(exam_keys, an_answer_near_0_is_judged_within_1e_4_absolute) {
  cr_assert(EXAM_REL_TOL == 1e-3 && EXAM_ABS_TOL == 1e-4, "the sheet's text promises 0.1 %% and 1e-4");
  exam_problem p = rmsprop_w1_g08();
  double right[] = {1.25e-7, 0, 1.2e-7, 1.3e-7, -4.7684e-7, 9.9e-5, -9.9e-5};
  double wrong[] = {1.2e-4, -1.0e-4 - 1e-6, 1, -1};
  for (size_t i = 0; i < sizeof right / sizeof right[0]; i++) {
    exam_answer got = {.kind = EXAM_REAL, .n = 1, .v = {right[i]}};
    cr_assert(exam_answer_correct(&p.answer, &got), "%g is within 1e-4 of the key %g, but was marked wrong",
              right[i], p.answer.v[0]);
  }
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
    exam_answer got = {.kind = EXAM_REAL, .n = 1, .v = {wrong[i]}};
    cr_assert(!exam_answer_correct(&p.answer, &got), "%g is more than 1e-4 from the key %g, but was marked right",
              wrong[i], p.answer.v[0]);
  }
  /* away from 0 the 0.1 % decides: 2.6 +- 0.0026 */
  exam_answer key = {.kind = EXAM_REAL, .n = 1, .v = {2.6}}, near = key, far = key;
  near.v[0] = 2.6025, far.v[0] = 2.6027;
  cr_assert(exam_answer_correct(&key, &near) && !exam_answer_correct(&key, &far));
}

/* ---- every value family: the key is the double value */

Test(exam_keys, every_value_family_s_key_is_the_double_formula, .timeout = 60) {
  int nf;
  const exam_family *fs = exam_value_families(&nf);
  int compared = 0;
  for (int i = 0; i < nf; i++) {
    bool seen[16] = {false};
    cr_assert(fs[i].variants <= 16, "%s: %d variants", fs[i].name, fs[i].variants);
    for (int fw = 0; fw < 2; fw++)
      for (uint64_t seed = 0; seed < 1500; seed++) {
        nn_framework framework = fw ? NN_KERAS : NN_PYTORCH;
        exam_problem p;
        make(&fs[i], seed, framework, &p);
        double want[EXAM_MAX_VALUES];
        int variant = -1, n = recompute(&p, framework, want, &variant);
        cr_assert(variant >= 0 && variant < fs[i].variants, "%s: variant %d of %d", p.family, variant, fs[i].variants);
        seen[variant] = true;
        cr_assert_eq(p.answer.n, n, "%s, seed %llu: %d values, recomputed %d\n%s", p.family,
                     (unsigned long long)seed, p.answer.n, n, p.question);
        for (int k = 0; k < n; k++) {
          double key = p.answer.v[k], tol = p.answer.kind == EXAM_INT ? 0 : 1e-9 * fabs(want[k]) + 1e-14;
          cr_assert(fabs(key - want[k]) <= tol, "%s (%s), seed %llu, value %d: key %.17g, double %.17g\n%s",
                    p.family, fw ? "keras" : "pytorch", (unsigned long long)seed, k, key, want[k], p.question);
        }
        if (p.answer.kind == EXAM_REAL) { /* the steps end at the number the key gives */
          char s[64];
          exam_answer_str(&p.answer, s, sizeof s);
          cr_assert(strstr(p.worked, s), "%s, seed %llu: the key %s is not in the steps:\n%s", p.family,
                    (unsigned long long)seed, s, p.worked);
        }
        compared++;
      }
    for (int v = 0; v < fs[i].variants; v++)
      cr_assert(seen[v], "%s: 3,000 problems never asked variant %d; the test does not check it", fs[i].name, v);
  }
  cr_assert(compared == nf * 3000);
}
