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
  return lo + (int)(next_draw(g) % (uint64_t)(hi - lo + 1));
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

void answer_close(nn_grade *g, const char *what, float *v, long n, double tol) {
  if (g->mode != NN_GRADE_CHECKER) {
    answer_raw(g, FRAME_F32, what, v, n);
    return;
  }
  float *mine = malloc((size_t)(n > 0 ? n : 1) * sizeof *mine);
  if (!mine) finish(g, GRADE_FAILED, "the checker has no memory for '%s' (%ld values)", what, n);
  memcpy(mine, v, (size_t)n * sizeof *mine);
  answer_raw(g, FRAME_F32, what, v, n);
  for (long i = 0; i < n; i++) {
    double want = mine[i], got = v[i], scale = fabs(want) > 1 ? fabs(want) : 1;
    if (!(fabs(got - want) <= tol * scale)) {
      free(mine);
      finish(g, GRADE_FAILED, "%s[%ld] = %.7g, expected %.7g (the reference's, on the same inputs; tolerance "
             "%.2g)", what, i, got, want, tol * scale);
    }
  }
  free(mine);
}

static long shape_count(const nn_tensor *t) {
  long n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}

/* A tensor's values on the host: itself, or a copy of a GPU tensor. */
static void tensor_answer(nn_grade *g, const char *what, nn_tensor *t, double tol, bool close) {
  nn_tensor host = t->device == NN_CPU ? *t : nn_tensor_to(t, NN_CPU);
  if (close)
    answer_close(g, what, host.data, shape_count(t), tol);
  else
    answer_floats(g, what, host.data, shape_count(t));
  if (t->device != NN_CPU) {
    if (g->mode == NN_GRADE_CHECKER) nn_tensor_copy(t, &host);
    nn_tensor_free(&host);
  }
}

void answer_tensor(nn_grade *g, const char *what, nn_tensor *t) { tensor_answer(g, what, t, 0, false); }
void answer_tensor_close(nn_grade *g, const char *what, nn_tensor *t, double tol) {
  tensor_answer(g, what, t, tol, true);
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
    send_frame(g, FRAME_F32, what, t->data, shape_count(t));
    return;
  }
  void *shape_buf, *data;
  long n_shape, n;
  worker_receive(g, FRAME_I32, what, &shape_buf, &n_shape, 5);
  int *shape = shape_buf;
  *t = nn_tensor_new(shape[0], shape + 1, NN_CPU);
  worker_receive(g, FRAME_F32, what, &data, &n, shape_count(t));
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
