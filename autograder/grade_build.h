/* grade_build.h: a submission becomes a worker program, as student code and nothing else.
 *
 *   1. take   only the lab's stub files (kit/stubs), by name, from the submission folder:
 *             regular files (no links, no devices), at most 1 MB; a missing one is the
 *             unwritten lab file (kit/lab/)
 *   2. build  each with the kit's compiler line, as the build user (nobody when the grader is
 *             root), under limits, in the work folder, where Landlock lets it read only the
 *             system's and the course's headers; then every file it included must be one
 *   3. check  the object (readelf): it defines only what the reference file defines, has no
 *             constructor, destructor or ifunc, and refers only to the library's nn_*
 *             functions, C library and libm basics, OpenMP, and what the reference refers to
 *   4. link   the kit's test objects with them into work/bin/worker (and worker-hidden), as
 *             the build user, under the same limits (Landlock: the kit is readable too)
 * The files are compiled as work/labs/CHAPTER/NAME, the path a panic or an error names.
 *
 * The kit (made by `make grade`, see the Makefile) holds: stubs, lab/, include/, cc, nvcc,
 * roots (system include folders), link, link-hidden, library (the kit library's symbols) and
 * symbols/NAME (what the reference object of each stub file defines and refers to).
 */
#ifndef GRADE_BUILD_H
#define GRADE_BUILD_H

#include <limits.h>
#include <stdbool.h>

typedef struct {
  const char *chapter, *kit, *submission, *work; /* the files go to work/labs/CHAPTER/ */
  int uid, gid;  /* build as this user (-1: as the grader) */
  double wall_s; /* per compile or link */
} build_spec;

typedef struct {
  bool ok;
  char feedback[700];   /* why it failed, for every test's feedback */
  char log[4096];       /* the compiler's words (cleaned), for every test's output */
  char taken[1024];     /* which files came from the submission, a line each */
  char worker[PATH_MAX], hidden_worker[PATH_MAX]; /* "" when there is none */
  bool landlock;        /* the build ran under Landlock */
} build_result;

build_result build_submission(const build_spec *s);

/* After build_submission worked: the same files built again under AddressSanitizer (-g
 * -fsanitize=address), checked and linked into work/bin/worker-asan (and worker-asan-hidden),
 * named in .worker / .hidden_worker. The grader re-runs a test that crashed with it, so that
 * the feedback can name the lab file and line; its verdict still comes from the first run. */
build_result build_asan_workers(const build_spec *s);

/* `grade --describe-object FILE`: the summary the kit keeps of a reference object or
 * library (its lines are "define NAME", "ref NAME", "section NAME SIZE"), on stdout. */
int describe_object(const char *path);

#endif
