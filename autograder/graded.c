/* graded.c: the three modes of a graded test (graded.h): sizes and seeds, answers,
 * inputs and expectations. Nothing here depends on Criterion or on the code under test:
 * counts come from the tensors' shapes, draws from splitmix64, not from libnn. */
#define _POSIX_C_SOURCE 200809L
/* Messages are cut to fit their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graded_internal.h"
#include "nn_cuda.h"

/* ---- the table of tests (filled by GRADED_TEST in the grade build) */
enum { MAX_GRADED = 512 };
static graded_entry table[MAX_GRADED];
static int n_table;

void nn_graded_register(const char *suite, const char *name, nn_graded_fn fn) {
  if (n_table == MAX_GRADED) {
    fprintf(stderr, "graded: more than %d graded tests in one program\n", MAX_GRADED);
    abort();
  }
  table[n_table++] = (graded_entry){suite, name, fn};
}

int nn_graded_count(void) { return n_table; }
const graded_entry *nn_graded_at(int i) { return &table[i]; }

const graded_entry *nn_graded_find(const char *suite_and_name) {
  const char *sep = strstr(suite_and_name, "::");
  if (!sep) return NULL;
  size_t suite_len = (size_t)(sep - suite_and_name);
  for (int i = 0; i < n_table; i++)
    if (strlen(table[i].suite) == suite_len && strncmp(table[i].suite, suite_and_name, suite_len) == 0 &&
        strcmp(table[i].name, sep + 2) == 0)
      return &table[i];
  return NULL;
}

#ifdef NN_GRADING
nn_grade *nn_grade_here(void) { nn_grade_not_in_graded_test("nn_grade_here", 0); }
#endif

void nn_grade_not_in_graded_test(const char *file, int line) {
  fprintf(stderr, "graded: %s:%d: a cr_ assertion ran in the grade build; graded tests use expect()\n",
          file, line);
  abort();
}

/* ---- sizes and seeds */
uint64_t nn_grade_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t next_draw(nn_grade *g) { return nn_grade_mix(g->seed ^ nn_grade_mix(++g->draws)); }

bool nn_grade_public(const nn_grade *g) { return g->variant == 0; }
bool nn_grade_is_checker(const nn_grade *g) { return g->mode == NN_GRADE_CHECKER; }
bool nn_grade_judges(const nn_grade *g) { return g->mode != NN_GRADE_WORKER; }
bool nn_grade_mode_is_worker(const nn_grade *g) { return g->mode == NN_GRADE_WORKER; }

int nn_grade_size(nn_grade *g, int public_value, int lo, int hi) {
  if (nn_grade_public(g)) return public_value;
  if (hi < lo) {
    fprintf(stderr, "graded: %s: nn_grade_size(%d, %d, %d): the range is empty\n", g->test, public_value, lo, hi);
    abort();
  }
  /* Never the public value where the range has another: a size drawn equal to the public one
   * would let an answer fitted to the public case through (one dimension is enough). */
  bool skip_public = lo <= public_value && public_value <= hi && hi > lo;
  int v = lo + (int)(next_draw(g) % (uint64_t)(hi - lo + 1 - skip_public));
  return skip_public && v >= public_value ? v + 1 : v;
}

uint64_t nn_grade_seed(nn_grade *g, uint64_t public_seed) {
  return nn_grade_public(g) ? public_seed : nn_grade_mix(next_draw(g) ^ public_seed);
}

static void send_frame(nn_grade *g, int kind, const char *what, const void *v, long n);

/* ---- ending a run */
static void finish(nn_grade *g, grade_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static void finish(nn_grade *g, grade_outcome outcome, const char *fmt, ...) {
  char msg[GRADE_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  g->finish(g, outcome, msg);
  abort(); /* finish does not return */
}

bool nn_grade_near(double got, double want, double tol) { return fabs(got - want) <= tol; }

void nn_grade_note(nn_grade *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->note, sizeof g->note, fmt, ap);
  va_end(ap);
}

/* The feedback is the message; make test also says where the expectation is (the grader's
 * feedback does not: a student reads the message, not the test's line numbers). */
void nn_grade_fail(nn_grade *g, const char *file, int line, const char *fmt, ...) {
  char msg[GRADE_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g->mode == NN_GRADE_LOCAL) finish(g, GRADE_FAILED, "%s:%d: %s", file, line, msg);
  finish(g, GRADE_FAILED, "%s", msg);
}

void nn_grade_need_gpu(nn_grade *g) {
  if (nn_cuda_available()) return;
  if (g->mode != NN_GRADE_WORKER) finish(g, GRADE_SKIPPED, "gpu: %s", nn_cuda_describe());
  /* The worker says so, and the checker decides: skipped if it has no GPU either. */
  const char *why = nn_cuda_describe();
  send_frame(g, FRAME_SKIP, "gpu", why, (long)strlen(why));
  _exit(0);
}

void nn_grade_need_file(nn_grade *g, const char *path, const char *how_to_get_it) {
  if (g->mode == NN_GRADE_WORKER || access(path, R_OK) == 0) return;
  finish(g, GRADE_SKIPPED, "needs %s, which is not here (%s)", path, how_to_get_it);
}

/* ---- the pipe */
static bool write_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w, n -= (size_t)w;
  }
  return true;
}

/* Returns the bytes read before EOF or an error (n when all came). */
static size_t read_all(int fd, void *p, size_t n) {
  char *c = p;
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, c + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  return got;
}

static const char *KIND_NAME[] = {"?", "floats", "doubles", "ints", "longs", "a skip", "the end of the test"};
static const size_t KIND_SIZE[] = {0, 4, 8, 4, 8, 1, 0};

static void send_frame(nn_grade *g, int kind, const char *what, const void *v, long n) {
  frame_header h = {.magic = FRAME_MAGIC, .kind = (uint32_t)kind, .count = (uint64_t)n};
  snprintf(h.what, sizeof h.what, "%s", what);
  if (write_all(g->out_fd, &h, sizeof h) && write_all(g->out_fd, v, (size_t)n * KIND_SIZE[kind])) return;
  /* A checker that stopped reading has its verdict already: the worker has nothing to add. */
  if (g->mode == NN_GRADE_WORKER) _exit(0);
  finish(g, GRADE_FAILED, "your code's process stopped before it took the input '%s'", what);
}

/* In the checker: the worker's next frame must be `kind` named `what` with n elements;
 * its data goes to buf. Anything else ends the run as failed. */
static void receive_answer(nn_grade *g, frame_kind kind, const char *what, void *buf, long n) {
  g->answers++;
  frame_header h;
  size_t got = read_all(g->in_fd, &h, sizeof h);
  if (got == 0)
    finish(g, GRADE_FAILED, "your code stopped before it gave '%s' (answer %d of this test)", what, g->answers);
  if (got < sizeof h || h.magic != FRAME_MAGIC || h.kind < FRAME_F32 || h.kind > FRAME_DONE)
    finish(g, GRADE_FAILED, "the answers from your code are garbled at '%s' (answer %d): did it write to "
           "descriptor 4?", what, g->answers);
  h.what[GRADE_WHAT_MAX - 1] = '\0';
  if (h.kind == FRAME_SKIP) {
    char why[300] = "";
    size_t len = h.count < sizeof why - 1 ? (size_t)h.count : sizeof why - 1;
    why[read_all(g->in_fd, why, len)] = '\0';
    finish(g, GRADE_FAILED, "your code's process said the test skips itself (%s), but the checker can run it here",
           why);
  }
  if (h.kind == FRAME_DONE)
    finish(g, GRADE_FAILED, "the test ended in your code's process before it gave '%s' (answer %d)", what,
           g->answers);
  char expected[GRADE_WHAT_MAX];
  snprintf(expected, sizeof expected, "%s", what);
  if (strcmp(h.what, expected) != 0 || h.kind != (uint32_t)kind)
    finish(g, GRADE_FAILED, "answer %d should be '%s' (%s); your code's process sent '%s' (%s): did the test "
           "take another path there?", g->answers, what, KIND_NAME[kind], h.what, KIND_NAME[h.kind]);
  if (h.count != (uint64_t)n)
    finish(g, GRADE_FAILED, "'%s' has %ld values; your code's process sent %llu", what, n,
           (unsigned long long)h.count);
  if (read_all(g->in_fd, buf, (size_t)n * KIND_SIZE[kind]) != (size_t)n * KIND_SIZE[kind])
    finish(g, GRADE_FAILED, "your code stopped in the middle of sending '%s'", what);
}

static void answer_raw(nn_grade *g, frame_kind kind, const char *what, void *v, long n) {
  if (n < 0) finish(g, GRADE_FAILED, "answer '%s': a negative count (%ld)", what, n);
  if (g->mode == NN_GRADE_WORKER) send_frame(g, kind, what, v, n);
  if (g->mode != NN_GRADE_CHECKER) return;
  size_t bytes = (size_t)n * KIND_SIZE[kind];
  void *theirs = malloc(bytes ? bytes : 1);
  if (!theirs) finish(g, GRADE_FAILED, "the checker has no memory for '%s' (%ld values)", what, n);
  receive_answer(g, kind, what, theirs, n);
  memcpy(v, theirs, bytes);
  free(theirs);
}

void nn_grade_checker_end(nn_grade *g) {
  frame_header h;
  size_t got = read_all(g->in_fd, &h, sizeof h);
  if (got == sizeof h && h.magic == FRAME_MAGIC && h.kind == FRAME_DONE) finish(g, GRADE_PASSED, "%s", g->note);
  if (got == 0)
    finish(g, GRADE_FAILED, "%s", "your code's process ended (crashed?) after its last answer, before the test did");
  finish(g, GRADE_FAILED, "%s", "your code's process sent more than the test asks for");
}

void answer_floats(nn_grade *g, const char *what, float *v, long n) { answer_raw(g, FRAME_F32, what, v, n); }
void answer_doubles(nn_grade *g, const char *what, double *v, long n) { answer_raw(g, FRAME_F64, what, v, n); }
void answer_ints(nn_grade *g, const char *what, int *v, long n) { answer_raw(g, FRAME_I32, what, v, n); }
void answer_longs(nn_grade *g, const char *what, long *v, long n) {
  int64_t *wide = malloc((size_t)(n > 0 ? n : 1) * sizeof *wide);
  if (!wide) abort();
  for (long i = 0; i < n; i++) wide[i] = v[i];
  answer_raw(g, FRAME_I64, what, wide, n);
  for (long i = 0; i < n; i++) v[i] = (long)wide[i];
  free(wide);
}

/* The checker's side of every answer_close: the worker's values against its own. */
static void answer_close_at(nn_grade *g, const char *what, float *v, long n, int ndim, const int *shape,
                            double tol) {
  if (g->mode != NN_GRADE_CHECKER) {
    answer_raw(g, FRAME_F32, what, v, n);
    return;
  }
  double *mine = malloc((size_t)(n > 0 ? n : 1) * sizeof *mine);
  if (!mine) finish(g, GRADE_FAILED, "the checker has no memory for '%s' (%ld values)", what, n);
  for (long i = 0; i < n; i++) mine[i] = v[i];
  answer_raw(g, FRAME_F32, what, v, n);
  for (long i = 0; i < n; i++) {
    double want = mine[i], got = v[i], scale = fabs(want) > 1 ? fabs(want) : 1;
    if (!(fabs(got - want) <= tol * scale)) {
      nn_grade_text where = nn_grade_where(i, ndim, shape), why = nn_grade_diagnose(v, mine, NULL, n, ndim, shape);
      free(mine);
      finish(g, GRADE_FAILED, "%s%s = %.7g, expected %.7g (the reference's, on the same inputs; tolerance %.2g)%s",
             what, where.s, got, want, tol * scale, why.s);
    }
  }
  free(mine);
}

void answer_close(nn_grade *g, const char *what, float *v, long n, double tol) {
  answer_close_at(g, what, v, n, 1, (int[]){(int)n}, tol);
}

static long shape_count(int ndim, const int *shape) {
  long n = 1;
  for (int d = 0; d < ndim; d++) n *= shape[d];
  return n;
}

/* A tensor's values on the host: itself, or a copy of a GPU tensor. close: judged against the
 * reference's with tol. */
static void tensor_answer(nn_grade *g, const char *what, nn_tensor *t, double tol, bool close) {
  nn_tensor host = t->device == NN_CPU ? *t : nn_tensor_to(t, NN_CPU);
  if (close)
    answer_close_at(g, what, host.data, shape_count(t->ndim, t->shape), t->ndim, t->shape, tol);
  else
    answer_floats(g, what, host.data, shape_count(t->ndim, t->shape));
  if (t->device != NN_CPU) {
    if (g->mode == NN_GRADE_CHECKER) nn_tensor_copy(t, &host);
    nn_tensor_free(&host);
  }
}

void answer_tensor(nn_grade *g, const char *what, nn_tensor *t) { tensor_answer(g, what, t, 0, false); }
void answer_tensor_close(nn_grade *g, const char *what, nn_tensor *t, double tol) {
  tensor_answer(g, what, t, tol, true);
}

/* ---- feedback that says where, and what kind of wrong */
nn_grade_text nn_grade_where(long i, int ndim, const int *shape) {
  return nn_grade_where_as(i, ndim, shape, ndim == 4 ? "(n, c, h, w)" : ndim == 2 ? "(row, col)" : "");
}

nn_grade_text nn_grade_where_as(long i, int ndim, const int *shape, const char *axes) {
  nn_grade_text t;
  axes = axes ? axes : "";
  if (ndim < 1 || ndim > NN_MAX_DIMS || i < 0 || i >= shape_count(ndim, shape)) {
    snprintf(t.s, sizeof t.s, "[%ld]", i);
    return t;
  }
  long at[NN_MAX_DIMS];
  for (int d = ndim - 1; d >= 0; d--) at[d] = i % shape[d], i /= shape[d];
  size_t len = 0;
  for (int d = 0; d < ndim; d++) len += (size_t)snprintf(t.s + len, sizeof t.s - len, "%s%ld", d ? ", " : "[", at[d]);
  snprintf(t.s + len, sizeof t.s - len, "]%s%s", *axes ? " " : "", axes);
  return t;
}

/* got agrees with want where want's rounding would: relative to want itself and to the
 * array's largest |value| (a float sum of terms that cancel keeps only their scale's digits). */
static bool agrees(double got, double want, double largest) {
  return fabs(got - want) <= 1e-4 * fabs(want) + 1e-5 * largest;
}

/* Does got[i] agree with want[i + shift] wherever both exist, and differ from want[i] at one
 * of those places at least (else the shift explains no miss)? */
static bool shifted_by(const float *got, const double *want, long n, long shift, double largest) {
  long lo = shift < 0 ? -shift : 0, hi = shift > 0 ? n - shift : n;
  bool explains = false;
  if (hi - lo < 2) return false;
  for (long i = lo; i < hi; i++) {
    if (!agrees(got[i], want[i + shift], largest)) return false;
    explains |= !agrees(got[i], want[i], largest);
  }
  return explains;
}

/* Is got - base = k (want - base) for one k other than 0 (base: before, or 0 where NULL), with
 * k from least squares over 2 or more nonzero (want - base)? */
static bool multiple_of(const float *got, const double *want, const float *before, long n, double *k) {
  double largest = 0, a_b = 0, b_b = 0;
  long nonzero = 0;
  for (long i = 0; i < n; i++) {
    double base = before ? before[i] : 0, a = got[i] - base, b = want[i] - base;
    largest = fmax(largest, fabs(b)), a_b += a * b, b_b += b * b, nonzero += b != 0;
  }
  *k = b_b > 0 ? a_b / b_b : 0;
  bool fits = nonzero >= 2 && fabs(*k) > 1e-6;
  for (long i = 0; i < n && fits; i++) {
    double base = before ? before[i] : 0;
    fits = agrees(got[i] - base, *k * (want[i] - base), fabs(*k) * largest);
  }
  return fits;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Does got hold want's values, each as often, only at other places (sorted, they agree)? */
static bool same_values_elsewhere(const float *got, const double *want, long n, double largest) {
  double *a = malloc((size_t)(2 * n + 1) * sizeof *a), *b = a + n;
  if (!a) return false;
  for (long i = 0; i < n; i++) a[i] = got[i], b[i] = want[i];
  qsort(a, (size_t)n, sizeof *a, by_value), qsort(b, (size_t)n, sizeof *b, by_value);
  bool same = true;
  for (long i = 0; i < n && same; i++) same = agrees(a[i], b[i], largest);
  free(a);
  return same;
}

/* "; every value is 4 times the expected: ...", or "has its sign flipped" when k = -1. */
static nn_grade_text multiple_words(const char *which, double k) {
  nn_grade_text t;
  char inverse[32] = ""; /* k = 0.25 reads better as 1/4 */
  if (fabs(k) < 1) snprintf(inverse, sizeof inverse, " (1/%.4g)", 1 / k);
  if (fabs(k + 1) < 1e-3)
    snprintf(t.s, sizeof t.s, "; %s has its sign flipped", which);
  else
    snprintf(t.s, sizeof t.s, "; %s is %.4g%s times the expected: a missing or extra normaliser such as 1/N?", which,
             k, inverse);
  return t;
}

nn_grade_text nn_grade_diagnose(const float *got, const double *want, const float *before, long n, int ndim,
                                const int *shape) {
  nn_grade_text t = {""};
  double largest = 0, k = 0;
  for (long i = 0; i < n; i++) {
    if (!isfinite(got[i])) {
      snprintf(t.s, sizeof t.s, "; it holds %g at %s", got[i], nn_grade_where(i, ndim, shape).s);
      return t;
    }
    largest = fmax(largest, fabs(want[i]));
  }
  bool differ = false, unwritten = before != NULL, overwritten = before != NULL, zeros = true;
  for (long i = 0; i < n; i++) {
    differ |= !agrees(got[i], want[i], largest);
    unwritten &= before && got[i] == before[i];
    overwritten &= before && agrees(got[i], want[i] - before[i], largest);
    zeros &= got[i] == 0.f;
  }
  if (!differ) return t; /* within this rounding: the caller's tolerance is tighter; no words */
  /* got holds want's (rows, cols) transposed, laid out (cols, rows) */
  int rows = ndim == 2 ? shape[0] : 0, cols = ndim == 2 ? shape[1] : 0;
  bool transposed = rows > 1 && cols > 1 && (long)rows * cols == n;
  for (long i = 0; i < n && transposed; i++) transposed = agrees(got[i], want[i % rows * cols + i / rows], largest);
  long row = ndim >= 2 && shape[ndim - 1] > 1 && shape[ndim - 1] < n ? shape[ndim - 1] : 0;

  if (overwritten) /* first: where the call adds what got held (a second backward), both fit */
    snprintf(t.s, sizeof t.s, "; it holds the expected value less what it held before the call: overwritten (=) "
             "instead of accumulated (+=)?");
  else if (unwritten)
    snprintf(t.s, sizeof t.s, "; it still holds what it held before the call: never written?");
  else if (before && multiple_of(got, want, before, n, &k))
    t = multiple_words("what it added", k);
  else if (zeros)
    snprintf(t.s, sizeof t.s, "; all its values are 0: never written?");
  else if (multiple_of(got, want, NULL, n, &k))
    t = multiple_words("every value", k);
  else if (transposed)
    snprintf(t.s, sizeof t.s, "; it is the expected (%d, %d) matrix transposed (read as (%d, %d), its [j, i] is the "
             "expected [i, j]): an index order or a GEMM transpose flag?", rows, cols, cols, rows);
  else if (shifted_by(got, want, n, 1, largest) || shifted_by(got, want, n, -1, largest))
    snprintf(t.s, sizeof t.s, "; every value is the expected one of the element %s it: off by one?",
             shifted_by(got, want, n, 1, largest) ? "after" : "before");
  else if (row && (shifted_by(got, want, n, row, largest) || shifted_by(got, want, n, -row, largest)))
    snprintf(t.s, sizeof t.s, "; every value is the expected one a row (of %ld) %s: off by one row?", row,
             shifted_by(got, want, n, row, largest) ? "further on" : "back");
  else if (same_values_elsewhere(got, want, n, largest))
    snprintf(t.s, sizeof t.s, "; it holds the expected values, but at other places: an index computed wrong?");
  return t;
}

/* ---- inputs: checker -> worker */
static void worker_receive(nn_grade *g, frame_kind kind, const char *what, void **buf, long *n, long max) {
  frame_header h;
  if (read_all(g->in_fd, &h, sizeof h) != sizeof h || h.magic != FRAME_MAGIC || h.kind != (uint32_t)kind ||
      h.count > (uint64_t)max) {
    fprintf(stderr, "nn-grade: the input '%s' did not come from the checker\n", what);
    _exit(3);
  }
  size_t bytes = (size_t)h.count * KIND_SIZE[kind];
  *buf = malloc(bytes ? bytes : 1);
  if (!*buf || read_all(g->in_fd, *buf, bytes) != bytes) {
    fprintf(stderr, "nn-grade: the input '%s' (%zu bytes) could not be received\n", what, bytes);
    _exit(3);
  }
  *n = (long)h.count;
}

void input_tensor(nn_grade *g, const char *what, nn_tensor *t) {
  if (g->mode == NN_GRADE_LOCAL) return;
  if (g->mode == NN_GRADE_CHECKER) {
    int shape[5] = {t->ndim};
    for (int d = 0; d < t->ndim; d++) shape[1 + d] = t->shape[d];
    send_frame(g, FRAME_I32, what, shape, 1 + t->ndim);
    send_frame(g, FRAME_F32, what, t->data, shape_count(t->ndim, t->shape));
    return;
  }
  void *shape_buf, *data;
  long n_shape, n;
  worker_receive(g, FRAME_I32, what, &shape_buf, &n_shape, 5);
  int *shape = shape_buf;
  *t = nn_tensor_new(shape[0], shape + 1, NN_CPU);
  worker_receive(g, FRAME_F32, what, &data, &n, shape_count(t->ndim, t->shape));
  memcpy(t->data, data, (size_t)n * sizeof(float));
  free(shape_buf), free(data);
}

void input_ints(nn_grade *g, const char *what, int **v, long *n) {
  if (g->mode == NN_GRADE_LOCAL) return;
  if (g->mode == NN_GRADE_CHECKER) {
    send_frame(g, FRAME_I32, what, *v, *n);
    return;
  }
  void *buf;
  worker_receive(g, FRAME_I32, what, &buf, n, 1L << 28);
  *v = buf;
}
