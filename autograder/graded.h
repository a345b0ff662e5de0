/* graded.h: how a graded test is written: once, and run three ways.
 *
 *   make test    LOCAL    one process, solutions/, under Criterion (autograder/graded_local.c)
 *   make grade   WORKER   the student's library, in a sandbox: it computes and sends ANSWERS
 *                CHECKER  the reference library (solutions/), never the student's code: it
 *                         runs the same test, takes the worker's answers in place of its own
 *                         values and judges them with the test's EXPECTs
 *
 * The verdict comes only from the checker, a process that never loaded or built student code
 * (docs/instructor-guide.md, "The trust model"). A test reads as a Criterion test:
 *
 *   GRADED_TEST(dense, forward_by_hand) {
 *     int N = nn_grade_size(g, 1, 1, 9);            // 1 in public; 1..9, drawn at grade time
 *     ...inputs from nn_grade_seed(g, 7)...
 *     nn_dense_forward(d, &c, &x, &y);              // the student's code (the reference's
 *                                                   // in the checker)
 *     answer_close(g, "y", y.data, nn_numel(&y), 1e-5);  // checker: the worker's y against
 *                                                   // its own, then it goes on with the worker's
 *     if (nn_grade_public(g))
 *       expect_near(g, y.data[0], 11.5f, 1e-6, "y[0] = %g, expected 1*3 + 2*4 + 0.5", y.data[0]);
 *   }
 *
 * Rules that keep a verdict honest:
 *   1. Every value a student's function produced reaches an EXPECT only through an ANSWER
 *      (answer, answer_close, answer_tensor...). Without one the checker would judge its own
 *      reference value, and the test could not fail.
 *   2. ANSWER whole results (y, dW, predictions), never a verdict the worker computed for
 *      itself (a max error, a "converged" flag): the worker can send anything it likes.
 *   3. ANSWERs come at the same points in every run: not inside a loop whose length depends
 *      on the student's values. The checker says where the two runs parted.
 *   4. The checker must survive any answer: an answered index is checked before it is used.
 *   5. Data the worker must not read (a test set's labels) stays in the checker; the worker
 *      gets what it may see through input_tensor / input_ints (it can open no file).
 *
 * Every test runs twice when graded: variant 0, the public sizes and seeds the test names, and
 * variant 1, sizes and seeds drawn at grade time (nn_grade_size, nn_grade_seed), so an answer
 * fitted to the public case fails. make test runs variant 0 and one fixed draw.
 */
#ifndef GRADED_H
#define GRADED_H

#include <stdbool.h>
#include <stdint.h>

#include "nn_tensor.h"

typedef struct nn_grade nn_grade;
typedef void (*nn_graded_fn)(nn_grade *g);

/* ---- the test and its sizes */

/* true in variant 0: the sizes, seeds and hand-worked numbers the test was written with. */
bool nn_grade_public(const nn_grade *g);
/* public_value in variant 0; otherwise a value in [lo, hi] drawn from the variant's seed
 * (the same draw in the worker and the checker), never public_value unless it is the range's
 * only one. */
int nn_grade_size(nn_grade *g, int public_value, int lo, int hi);
/* public_seed in variant 0; otherwise a seed mixed from it and the variant's. */
uint64_t nn_grade_seed(nn_grade *g, uint64_t public_seed);
/* What a passed test reports beside its points, e.g. nn_grade_note(g, "test accuracy %.2f %%",
 * 100 * acc): the grade report's feedback for it. From the checker's values (answers included). */
void nn_grade_note(nn_grade *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* true in the checker. Work whose only use is an answer (training a model) can be skipped
 * there: `if (!nn_grade_is_checker(g)) { fit...; predict... }  answer(...)`. */
bool nn_grade_is_checker(const nn_grade *g);
/* true in the worker (which receives inputs and may open no file). */
bool nn_grade_mode_is_worker(const nn_grade *g);

/* The test needs a GPU: skipped without one (the checker decides; a worker that claims to
 * have none where the checker has one fails). */
void nn_grade_need_gpu(nn_grade *g);
/* The test needs a file that is not bundled (tag `data`): skipped where the checker (or
 * make test) cannot read it. The worker never reads it: it gets the data as inputs. */
void nn_grade_need_file(nn_grade *g, const char *path, const char *how_to_get_it);

/* ---- answers: what the student's code computed
 * The worker sends the n values; the checker replaces its own n values with them; make test
 * does nothing. `what` names them in feedback ("dW", "y of layer 2"), at most 47 bytes. */
void answer_floats(nn_grade *g, const char *what, float *v, long n);
void answer_doubles(nn_grade *g, const char *what, double *v, long n);
void answer_ints(nn_grade *g, const char *what, int *v, long n);
void answer_longs(nn_grade *g, const char *what, long *v, long n);
/* One scalar or an array, by its type: answer(g, "loss", &loss, 1). */
#define answer(g, what, p, n)              \
  _Generic((p), float *: answer_floats,    \
                double *: answer_doubles,  \
                int *: answer_ints,        \
                long *: answer_longs)(g, what, p, n)
/* A tensor on either device. */
void answer_tensor(nn_grade *g, const char *what, nn_tensor *t);
/* The same as answer_floats, but the checker first compares the worker's values with its own
 * (the reference's, on the same inputs): |worker - reference| <= tol * max(1, |reference|),
 * elementwise; the first element out of tolerance fails the test, with its index and what
 * kind of wrong the whole answer is, when it is a kind nn_grade_diagnose knows. */
void answer_close(nn_grade *g, const char *what, float *v, long n, double tol);
/* ... of a tensor: the index reads as one per axis, "dx[1, 2, 0, 3] (n, c, h, w)" (nn_grade_where). */
void answer_tensor_close(nn_grade *g, const char *what, nn_tensor *t, double tol);

/* ---- feedback that says where, and what kind of wrong
 * Both are pure, and cheap enough for a failure message: expect(g, ok, "dx%s = %g, expected
 * %g%s", nn_grade_where(i, 4, dx.shape).s, ..., nn_grade_diagnose(dx.data, want, NULL, n, 4,
 * dx.shape).s) computes them only when the expectation fails. */
typedef struct { char s[200]; } nn_grade_text;
/* Element i of an array of ndim axes (row-major): "[1, 2, 0, 3] (n, c, h, w)" with 4 axes,
 * "[3, 17] (row, col)" with 2, "[5]" with 1, the indices alone with 3. */
nn_grade_text nn_grade_where(long i, int ndim, const int *shape);
/* ... with the axes named by the caller: "(f, c, kh, kw)" for a convolution's W ("": none). */
nn_grade_text nn_grade_where_as(long i, int ndim, const int *shape, const char *axes);
/* What kind of wrong got is next to want (n values each, of that shape), as "; <words>" for the
 * end of a message, or "" when no kind fits (or got is close to want): NaN or inf; never
 * written or overwritten instead of accumulated (before: what got held before the call that
 * should have added to it, with right code up to then; NULL when nothing was added to); all
 * zeros; a constant multiple (sign flipped, 1/N missing or extra); transposed (2 axes); one
 * element or one row off; the right values at the wrong places. Only words: the verdict is the
 * caller's. */
nn_grade_text nn_grade_diagnose(const float *got, const double *want, const float *before, long n, int ndim,
                                const int *shape);

/* ---- inputs: data only the checker may read
 * The checker (and make test) has *t loaded and sends it; the worker receives it into a new
 * CPU tensor (whatever *t held is overwritten, not freed). */
void input_tensor(nn_grade *g, const char *what, nn_tensor *t);
/* The same for n ints at *v (the worker gets a malloc'ed array and its length). */
void input_ints(nn_grade *g, const char *what, int **v, long *n);

/* ---- expectations: judged in the checker and in make test; the worker skips them
 * (it does not even evaluate cond). The message says what was found and what was expected. */
#define expect(g, cond, ...)                                                       \
  do {                                                                             \
    if (nn_grade_judges(g) && !(cond)) nn_grade_fail(g, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
/* |got - want| <= tol (NaN fails). */
#define expect_near(g, got, want, tol, ...) \
  expect(g, nn_grade_near((double)(got), (double)(want), (double)(tol)), __VA_ARGS__)

bool nn_grade_judges(const nn_grade *g);
bool nn_grade_near(double got, double want, double tol);
void nn_grade_fail(nn_grade *g, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A context for a plain Criterion Test() that calls helpers written for GRADED_TESTs (make
 * test only): variant 0, expect() asserts, answer() does nothing. */
nn_grade *nn_grade_here(void);

/* ---- defining a test
 * In make test (no NN_GRADING) a GRADED_TEST is a Criterion test that runs its body for
 * variant 0 and one fixed draw. In the grade build (-DNN_GRADING) it is entered in a table
 * that autograder/graded_main.c runs by name; the file's other Test()s compile to nothing. */
void nn_graded_register(const char *suite, const char *name, nn_graded_fn fn);
void nn_grade_not_in_graded_test(const char *file, int line) __attribute__((noreturn));

#ifndef NN_GRADING
#include <criterion/criterion.h>
void nn_graded_run_local(nn_graded_fn fn, const char *suite, const char *name);
#define GRADED_TEST(suite, name, ...)                                                          \
  static void graded_##suite##_##name(nn_grade *g);                                            \
  Test(suite, name, ##__VA_ARGS__) { nn_graded_run_local(graded_##suite##_##name, #suite, #name); } \
  static void graded_##suite##_##name(nn_grade *g)
#else
/* The grade build: graded tests only. A Test() of the same file is not graded and must not
 * run here; its cr_ calls compile to a panic so a slip into a graded test is found at once. */
#define GRADED_TEST(suite, name, ...)                                                       \
  static void graded_##suite##_##name(nn_grade *g);                                         \
  __attribute__((constructor)) static void register_##suite##_##name(void) {                \
    nn_graded_register(#suite, #name, graded_##suite##_##name);                              \
  }                                                                                         \
  static void graded_##suite##_##name(nn_grade *g)
#define Test(suite, name, ...) \
  __attribute__((unused)) static void ungraded_##suite##_##name(void)
#define NN_UNGRADED nn_grade_not_in_graded_test(__FILE__, __LINE__)
#define cr_assert(...) NN_UNGRADED
#define cr_assert_eq(...) NN_UNGRADED
#define cr_assert_neq(...) NN_UNGRADED
#define cr_assert_lt(...) NN_UNGRADED
#define cr_assert_leq(...) NN_UNGRADED
#define cr_assert_gt(...) NN_UNGRADED
#define cr_assert_geq(...) NN_UNGRADED
#define cr_assert_not(...) NN_UNGRADED
#define cr_assert_null(...) NN_UNGRADED
#define cr_assert_not_null(...) NN_UNGRADED
#define cr_assert_float_eq(...) NN_UNGRADED
#define cr_assert_str_eq(...) NN_UNGRADED
#define cr_assert_fail(...) NN_UNGRADED
#define cr_skip_test(...) NN_UNGRADED
#define cr_log_info(...) NN_UNGRADED
#endif

#endif
