/* graded_internal.h: what graded.c shares with the runners that start a graded test
 * (graded_local.c under Criterion, graded_main.c for the grader). Tests use graded.h only.
 *
 * The pipe between worker and checker carries frames: a 64-byte header, then `count`
 * elements of the kind's size. Both sides run the same test, so the checker knows the
 * kind, the name and the count of the next frame before it reads it; anything else the
 * worker sends is a failed test, never trusted further.
 */
#ifndef GRADED_INTERNAL_H
#define GRADED_INTERNAL_H

#include <stdint.h>

#include "graded.h"

typedef enum { NN_GRADE_LOCAL, NN_GRADE_WORKER, NN_GRADE_CHECKER } nn_grade_mode;

enum { GRADE_WHAT_MAX = 48, GRADE_MESSAGE_MAX = 1000 };

typedef enum {
  FRAME_F32 = 1,
  FRAME_F64,
  FRAME_I32,
  FRAME_I64,
  FRAME_SKIP, /* worker -> checker: the test skipped itself; the data is the reason */
  FRAME_DONE  /* worker -> checker: the test body returned */
} frame_kind;

typedef struct {
  uint32_t magic; /* FRAME_MAGIC */
  uint32_t kind;  /* frame_kind */
  uint64_t count; /* elements that follow */
  char what[GRADE_WHAT_MAX];
} frame_header;
#define FRAME_MAGIC 0x4e4e4752u /* "NNGR" */

/* How a run of a test ends, in the checker and in LOCAL runs outside Criterion. */
typedef enum { GRADE_RUNNING, GRADE_PASSED, GRADE_FAILED, GRADE_SKIPPED } grade_outcome;

struct nn_grade {
  nn_grade_mode mode;
  const char *test; /* "suite::name" */
  int variant;      /* 0: public; >= 1: drawn */
  uint64_t seed;    /* the variant's seed (0 in variant 0) */
  uint64_t draws;   /* how many sizes and seeds were drawn so far */
  int in_fd, out_fd; /* worker: inputs in, answers out; checker: answers in, inputs out */
  int answers;       /* answers so far, for messages */
  char note[200];    /* what a pass reports (nn_grade_note): "test accuracy 97.35 %" */
  /* Where a failure or a skip goes: Criterion's assert in make test; the verdict line in
   * the checker (both end the run and do not return). */
  void (*finish)(nn_grade *g, grade_outcome outcome, const char *message);
};

/* The registered tests (graded_main.c lists and runs them). */
typedef struct {
  const char *suite, *name;
  nn_graded_fn fn;
} graded_entry;
int nn_graded_count(void);
const graded_entry *nn_graded_at(int i);
const graded_entry *nn_graded_find(const char *suite_and_name);

/* In the checker, once the test body returned: the worker's run must have ended there too
 * (its "done" frame). Prints the verdict; does not return. */
void nn_grade_checker_end(nn_grade *g) __attribute__((noreturn));

/* 64 bits from a 64-bit state: splitmix64, for the variant's draws. */
uint64_t nn_grade_mix(uint64_t x);

#endif
