/* grader.c: what `make grade CH=NN` runs. It builds a submission into a worker program and
 * grades it against the reference, test by test, into a table and Gradescope's results.json.
 *
 *   grade --chapter 00-foundations --kit KIT --submission DIR --results results.json
 *         [--checker PROG] [--hidden-checker PROG] [--tests-dir autograder/tests]
 *         [--hidden-dir autograder/hidden] [--time-limit 20] [--total-limit 900]
 *         [--mem-limit-mb 2048] [--output-limit-kb 256] [--seed N] [--require-gpu]
 *         [--require-data]
 *   grade --describe-object FILE    (for the Makefile: what a reference object defines/uses)
 *
 * Which tests count: the manifest TESTS_DIR/CH/GRADED (and HIDDEN_DIR/CH/GRADED, whose tests
 * students see only once grades are published), one test a line:
 *     test_gemm  gemm::blocked_matches_double_reference  4  unit,cpu
 * the test file, suite::name, points, tags from {unit, gradcheck, accuracy, cpu, gpu, data,
 * hidden}; '#' starts a comment. A line naming a test the checker does not have is the
 * instructor's error: the grader says which line and exits 2 before running anything.
 *
 * The trust model (docs/instructor-guide.md):
 *  - The submission is built by grade_build.c: only the lab's stub files, by name; compiled as
 *    the user nobody (when the grader is root) under limits and Landlock; the objects checked;
 *    linked with the kit's test objects into a WORKER program.
 *  - Each test runs twice, for the public sizes (variant 0) and for sizes drawn now (variant 1,
 *    from --seed or the system's randomness). A run is two processes joined by two pipes: the
 *    CHECKER (the same tests linked with solutions/, started by the grader as itself, in the
 *    repository) and the WORKER (the submission, as nobody, in its own session with no
 *    terminal, under rlimits, shut in by seccomp before any student code runs). The checker
 *    judges; the worker only answers. Its output reaches the grader through a pipe, capped.
 *  - A run has --time-limit seconds of wall time; the whole grade has --total-limit.
 *  - Without --checker (a student release, which has no solutions/) the worker judges itself:
 *    a self-check, and the report says so.
 *
 * results.json is written after all tests, to a temporary file renamed over the path. Exit
 * status: 0 when grading worked, whatever the tests did; 2 for a bad manifest or arguments.
 */
#define _GNU_SOURCE
/* Messages are cut to fit their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "grade_build.h"
#include "grade_proc.h"
#include "grade_text.h"

enum {
  MAX_TESTS = 256,
  OUTPUT_KEEP = 2048, /* bytes of a test's output kept in results.json */
  EXTRA_PROCS = 64,   /* RLIMIT_NPROC: threads a worker may add */
};

typedef struct {
  char file[128]; /* test_gemm: the test's source file, for people */
  char suite[128], name[128];
  char tags[256]; /* "unit,cpu" (hidden tests also get "hidden") */
  double points;
  bool hidden, gpu, needs_data;
  char where[PATH_MAX + 16]; /* "autograder/tests/00-foundations/GRADED:7" */
} graded_test;

typedef enum { PASSED, FAILED, SKIPPED } verdict;
static const char *VERDICT_NAME[] = {"passed", "FAILED", "skipped"};

typedef struct {
  verdict v;
  double seconds;
  char feedback[1400];
  char output[OUTPUT_KEEP + 1024]; /* the worker's output, and a located crash's stack */
} result;

typedef struct {
  const char *chapter, *kit, *submission, *results_path, *checker, *hidden_checker;
  const char *tests_dir, *hidden_dir;
  double time_limit, total_limit;
  long mem_mb, output_kb;
  uint64_t seed;
  bool require_gpu, require_data;
  bool gpu_emulated; /* the kit's CUDA is tools/cuda-emu (make CUDA_EMU=1): GPU tests run on the CPU */
  bool first_failure; /* stop at the first failed test (the mutation stage: one failure kills a mutant) */
  int uid, gid;       /* nobody when the grader is root, else -1 */
} options;

/* ---- errors that are the instructor's: collected, printed, exit 2 */
static int config_errors;
static void config_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void config_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("grade: error: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  config_errors++;
}

static void copy_str(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src); }

/* ---- the manifest */
static bool has_tag(const char *tags, const char *tag) {
  char copy[256];
  copy_str(copy, sizeof copy, tags);
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcmp(t, tag) == 0) return true;
  return false;
}

static bool tags_known(const char *tags, const char *where) {
  static const char *KNOWN = ",unit,gradcheck,accuracy,cpu,gpu,data,hidden,";
  char copy[512], probe[80];
  copy_str(copy, sizeof copy, tags);
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    snprintf(probe, sizeof probe, ",%s,", t);
    if (!strstr(KNOWN, probe)) {
      config_error("%s: unknown tag '%s' (known: unit, gradcheck, accuracy, cpu, gpu, data, hidden)", where, t);
      return false;
    }
  }
  return true;
}

/* Appends the tests of one GRADED file. */
static void read_manifest(const char *path, bool hidden, graded_test *tests, int *n) {
  FILE *f = fopen(path, "r");
  if (!f) {
    config_error("%s: %s (every graded chapter needs this manifest)", path, strerror(errno));
    return;
  }
  char line[1024];
  for (int lineno = 1; fgets(line, sizeof line, f); lineno++) {
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char file[256], id[512], pts[64], tags[512], extra[8];
    int fields = sscanf(line, "%255s %511s %63s %511s %7s", file, id, pts, tags, extra);
    if (fields <= 0) continue;
    char where[PATH_MAX + 16];
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    if (fields != 4) {
      config_error("%s: expected 4 fields (test file  suite::name  points  tags), found %d", where, fields);
      continue;
    }
    char *sep = strstr(id, "::"), *end;
    double points = strtod(pts, &end);
    if (!sep || sep == id || !sep[2] || strchr(sep + 2, ':')) {
      config_error("%s: '%s' is not suite::name", where, id);
      continue;
    }
    if (*end || !(points >= 0) || points > 1e6) {
      config_error("%s: points '%s' is not a number >= 0", where, pts);
      continue;
    }
    if (!tags_known(tags, where)) continue;
    if (strlen(file) >= sizeof tests->file || (size_t)(sep - id) >= sizeof tests->suite ||
        strlen(sep + 2) >= sizeof tests->name || strlen(tags) + 8 >= sizeof tests->tags) {
      config_error("%s: a name is too long", where);
      continue;
    }
    if (*n == MAX_TESTS) {
      config_error("%s: more than %d graded tests", where, MAX_TESTS);
      break;
    }
    graded_test *t = &tests[(*n)++];
    memset(t, 0, sizeof *t);
    copy_str(t->file, sizeof t->file, file);
    memcpy(t->suite, id, (size_t)(sep - id));
    copy_str(t->name, sizeof t->name, sep + 2);
    copy_str(t->tags, sizeof t->tags, tags);
    if (hidden && !has_tag(tags, "hidden")) strcat(t->tags, ",hidden");
    t->points = points;
    t->hidden = hidden;
    t->gpu = has_tag(t->tags, "gpu");
    t->needs_data = has_tag(t->tags, "data");
    copy_str(t->where, sizeof t->where, where);
    for (int i = 0; i < *n - 1; i++)
      if (strcmp(tests[i].suite, t->suite) == 0 && strcmp(tests[i].name, t->name) == 0) {
        config_error("%s: %s::%s is already graded at %s", where, t->suite, t->name, tests[i].where);
        (*n)--;
        break;
      }
  }
  fclose(f);
}

static int read_manifests(const options *o, graded_test *tests) {
  int n = 0;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/%s/GRADED", o->tests_dir, o->chapter);
  read_manifest(path, false, tests, &n);
  if (o->hidden_dir) {
    snprintf(path, sizeof path, "%s/%s/GRADED", o->hidden_dir, o->chapter);
    if (access(path, F_OK) == 0) read_manifest(path, true, tests, &n);
  }
  if (n == 0 && !config_errors) config_error("%s/%s/GRADED lists no tests", o->tests_dir, o->chapter);
  return n;
}

/* `PROG --list` of a trusted checker: every manifest line must name one of its tests. */
static void check_listed(const char *prog, const graded_test *tests, int n, bool hidden) {
  const char *argv[] = {prog, "--list", NULL};
  extern char **environ;
  proc_spec spec = {.argv = argv, .env = (const char *const *)environ, .uid = -1, .gid = -1, .keep = 1 << 20,
                    .fds = {-1, -1}, .lim = {0}};
  proc p;
  if (!proc_run(&p, &spec, 60) || !WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
    config_error("%s --list failed: %s%s", prog, p.setup_error, p.out);
    proc_free(&p);
    return;
  }
  for (int i = 0; i < n; i++) {
    if (tests[i].hidden != hidden) continue;
    char line[300];
    snprintf(line, sizeof line, "%s::%s\n", tests[i].suite, tests[i].name);
    bool found = strncmp(p.out, line, strlen(line)) == 0;
    for (const char *q = strchr(p.out, '\n'); q && !found; q = strchr(q + 1, '\n'))
      found = strncmp(q + 1, line, strlen(line)) == 0;
    if (!found)
      config_error("%s: %s has no graded test %s::%s (see `%s --list`; is it a GRADED_TEST in %s.c?)",
                   tests[i].where, prog, tests[i].suite, tests[i].name, prog, tests[i].file);
  }
  proc_free(&p);
}

/* ---- one run of one test: checker and worker, joined by pipes */
typedef struct {
  char verdict_word[16]; /* PASSED, FAILED, SKIPPED or "" (none) */
  char why[1100];        /* the checker's reason */
  bool timed_out, output_over, killed_worker;
  int worker_status;
  bool worker_ended;
  char worker_out[OUTPUT_KEEP + 1];
  char worker_tail[600];  /* its last line that is not the harness's own */
  char panic[600], oom[300], signal_line[300], sandbox[300];
  char checker_err[600];
  double seconds;
  char *full_out; /* all the worker printed (up to 64 KB), when asked for: an ASan report */
} run_outcome;

/* AddressSanitizer's settings for a crash's re-run: it may open no file under seccomp, so it
 * prints module offsets (symbolize=0) that the grader turns into file:line with addr2line; no
 * leak check (it needs ptrace); allocations capped as the memory limit caps the first run. */
static char asan_options[256];

static const char *const *worker_env(const char *work, bool self_check, bool asan) {
  static char home[PATH_MAX + 8], tmp[PATH_MAX + 16], threads[32];
  static const char *env[10];
  const char *omp = getenv("OMP_NUM_THREADS");
  /* One thread unless the caller chose: a graded test is small, and libnn's OpenMP threads
   * spinning against the checker (or a busy machine) made a 5 s test take 60. */
  snprintf(threads, sizeof threads, "OMP_NUM_THREADS=%s", omp && *omp ? omp : "1");
  snprintf(home, sizeof home, "HOME=%s", work);
  snprintf(tmp, sizeof tmp, "TMPDIR=%s/tmp", work);
  env[0] = "PATH=/usr/bin:/bin";
  env[1] = "LC_ALL=C";
  env[2] = home;
  env[3] = tmp;
  env[4] = threads;
  env[5] = self_check ? "NN_GRADE=self-check" : "NN_GRADE=worker";
  env[6] = asan ? "NN_GRADE_ASAN=1" : NULL; /* the harness leaves SIGSEGV to the sanitizer */
  env[7] = asan ? asan_options : NULL;
  env[8] = NULL;
  return env;
}

/* The last line of out the student's code (or the library) printed: not the harness's own
 * "nn-grade: " lines, which the feedback reports in its own words. */
static void last_words(const char *out, char *buf, size_t n) {
  buf[0] = '\0';
  for (const char *p = out; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len > 0 && strncmp(p, "nn-grade: ", 10) != 0) snprintf(buf, n, "%.*s", (int)(len < 300 ? len : 300), p);
    p = eol ? eol + 1 : NULL;
  }
}

static run_outcome run_once(const options *o, const graded_test *t, const char *worker, const char *checker,
                            const char *work, int variant, uint64_t seed, double wall_s, bool asan) {
  run_outcome r = {0};
  char id[300], var[16], sd[32];
  snprintf(id, sizeof id, "%s::%s", t->suite, t->name);
  snprintf(var, sizeof var, "%d", variant);
  snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
  int answers[2] = {-1, -1}, inputs[2] = {-1, -1}; /* worker -> checker, checker -> worker */
  if (pipe2(answers, O_CLOEXEC) != 0 || pipe2(inputs, O_CLOEXEC) != 0) {
    copy_str(r.why, sizeof r.why, "the grader could not make a pipe");
    return r;
  }
  bool self_check = checker == NULL;
  extern char **environ;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const char *cargv[] = {checker, "--checker", id, "--variant", var, "--seed", sd, NULL};
  proc_spec cspec = {.argv = cargv, .env = (const char *const *)environ, .uid = -1, .gid = -1, .keep = 64 << 10,
                     .separate_stderr = true, .fds = {answers[0], inputs[1]},
                     .lim = {.mem_mb = 16384, .data_only = true, .output_kb = 1 << 20, .cpu_s = 3600,
                             }};
  const char *wargv[] = {worker, self_check ? "--self-check" : "--worker", id, "--variant", var, "--seed", sd,
                         t->gpu ? "--gpu" : NULL, NULL};
  /* ASan reserves terabytes of address space for its shadow: no RLIMIT_AS for it (asan_options
   * caps its allocations instead). */
  proc_spec wspec = {.argv = wargv, .cwd = self_check ? NULL : work, .env = worker_env(work, self_check, asan),
                     .uid = o->uid, .gid = o->gid, .keep = asan ? 64 << 10 : OUTPUT_KEEP, .separate_stderr = false,
                     .fds = {inputs[0], answers[1]},
                     .lim = {.mem_mb = asan ? 0 : o->mem_mb, .data_only = t->gpu, .output_kb = o->output_kb,
                             .cpu_s = (long)(o->time_limit * (cpus > 0 ? cpus : 1)) + 1,
                             .nproc = proc_nproc_limit(o->uid, EXTRA_PROCS)}};
  proc c = {0}, w = {0};
  c.out_fd = c.err_fd = -1;
  bool c_ok = self_check || proc_start(&c, &cspec);
  bool w_ok = c_ok && proc_start(&w, &wspec);
  for (int k = 0; k < 2; k++) close(answers[k]), close(inputs[k]);
  proc *both[2] = {&w, &c};
  double start = proc_now(), checker_done = 0;
  proc *judge = self_check ? &w : &c;
  while (w_ok && (judge->running || judge->out_fd >= 0 || (!self_check && (w.running || w.out_fd >= 0)))) {
    proc_poll(both, self_check ? 1 : 2, 20);
    if (w.out_total > (size_t)o->output_kb << 10 && w.running) r.output_over = true, r.killed_worker = true, proc_kill(&w);
    bool judged = !judge->running && judge->out_fd < 0;
    if (judged && !checker_done) checker_done = proc_now();
    /* The verdict is in: the worker gets a moment to end on its own, then it is stopped. */
    if (judged && w.running && proc_now() - checker_done > 2) r.killed_worker = true, proc_kill(&w);
    if (proc_now() - start > wall_s) {
      r.timed_out = !judged;
      if (w.running) r.killed_worker = true;
      proc_kill(&c), proc_kill(&w); /* the checker first: a worker's death is no verdict now */
      proc_poll(both, self_check ? 1 : 2, 0);
      break;
    }
  }
  r.seconds = proc_now() - start;
  proc_kill_descendants();
  r.worker_status = w.status;
  r.worker_ended = w_ok && !r.killed_worker;
  const char *out = w.out ? w.out : "";
  clean_text(r.worker_out, sizeof r.worker_out, out, strlen(out), false);
  if (asan) r.full_out = strdup(out);
  /* Why it ended is said last: read it from the tail of what it printed (the head, when all
   * of it was kept), so that pages of the student's own prints do not hide it. */
  const char *end = w.out_total <= w.out_len ? out : w.tail;
  find_line(end, "libnn: ", r.panic, sizeof r.panic);
  find_line(end, "nn-grade: out of memory: ", r.oom, sizeof r.oom);
  find_line(end, "nn-grade: the test process got ", r.signal_line, sizeof r.signal_line);
  find_line(end, "nn-grade: ", r.sandbox, sizeof r.sandbox);
  last_words(end, r.worker_tail, sizeof r.worker_tail);
  /* The verdict: the checker's first line (a self-check's last verdict-like line). */
  const char *verdict_text = self_check ? w.tail : c.out;
  char line[1200];
  const char *found = NULL;
  for (const char *p = verdict_text; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len < sizeof line && (strncmp(p, "PASSED", 6) == 0 || strncmp(p, "FAILED", 6) == 0 ||
                              strncmp(p, "SKIPPED", 7) == 0)) {
      memcpy(line, p, len), line[len] = '\0', found = line;
      if (!self_check) break;
    }
    p = eol ? eol + 1 : NULL;
  }
  if (found) {
    sscanf(found, "%15s", r.verdict_word);
    const char *rest = found + strlen(r.verdict_word);
    clean_text(r.why, sizeof r.why, rest + (*rest == ' '), strlen(rest + (*rest == ' ')), true);
  }
  if (!c_ok) snprintf(r.checker_err, sizeof r.checker_err, "%s", c.setup_error);
  else if (c.err) last_line(c.err, r.checker_err, sizeof r.checker_err);
  if (!w_ok && !r.why[0]) snprintf(r.why, sizeof r.why, "the worker could not start: %s", w.setup_error);
  proc_free(&w);
  if (!self_check) proc_free(&c);
  return r;
}

/* Why the worker ended as it did, for a student, or "" if it ended well or was stopped. */
static void worker_trouble(const options *o, const run_outcome *r, char *buf, size_t n) {
  buf[0] = '\0';
  char how[96], sig[48] = "";
  if (r->output_over) {
    snprintf(buf, n, "killed: more than %ld KB of output (printing in a loop?)", o->output_kb);
    return;
  }
  if (!r->worker_ended || (WIFEXITED(r->worker_status) && WEXITSTATUS(r->worker_status) == 0)) return;
  if (r->signal_line[0]) sscanf(r->signal_line, "%47s", sig);
  proc_describe_status(r->worker_status, how, sizeof how);
  if (r->oom[0])
    snprintf(buf, n, "ran out of its %ld MB memory limit: %s%s%s", o->mem_mb, r->oom, sig[0] ? ", then crashed: " : "", sig);
  else if (r->panic[0])
    snprintf(buf, n, "libnn: %s [%s]", r->panic, sig[0] ? sig : "crashed");
  else if (r->signal_line[0])
    snprintf(buf, n, "crashed: %s%s%s", r->signal_line, r->worker_tail[0] ? "; the last line it printed: " : "",
             r->worker_tail);
  else if (WIFSIGNALED(r->worker_status) && WTERMSIG(r->worker_status) == SIGXCPU)
    snprintf(buf, n, "timed out: used up its CPU time (an endless loop?)");
  else if (r->sandbox[0])
    snprintf(buf, n, "%s", r->sandbox);
  else
    snprintf(buf, n, "your code's process %s%s%s", how, r->worker_tail[0] ? ": " : "", r->worker_tail);
}

/* The verdict of one run. */
static result judge(const options *o, const graded_test *t, const run_outcome *r, double wall_s) {
  result res = {.v = FAILED, .seconds = r->seconds};
  char fb[2048] = "", trouble[800];
  worker_trouble(o, r, trouble, sizeof trouble);
  if (r->timed_out) {
    snprintf(fb, sizeof fb, "timed out after %g s: an endless loop, or a machine too busy to finish in time (grade "
             "it again when it is quieter, or with a longer limit: make grade CH=%.2s GRADE_FLAGS='--time-limit %g')",
             wall_s, o->chapter, 3 * wall_s);
  } else if (strcmp(r->verdict_word, "PASSED") == 0) {
    if (!trouble[0]) res.v = PASSED, snprintf(fb, sizeof fb, "%s", r->why); /* the test's note, if any */
    else snprintf(fb, sizeof fb, "the test passed, but then: %s", trouble);
  } else if (strcmp(r->verdict_word, "SKIPPED") == 0) {
    bool gpu_skip = strncmp(r->why, "gpu:", 4) == 0, data_skip = strncmp(r->why, "needs ", 6) == 0;
    if (gpu_skip && t->gpu && !o->require_gpu)
      res.v = SKIPPED, snprintf(fb, sizeof fb, "%s", r->why);
    else if (gpu_skip && t->gpu)
      snprintf(fb, sizeof fb, "skipped on a machine that must have a GPU: %s", r->why);
    else if (data_skip && t->needs_data && !o->require_data)
      res.v = SKIPPED, snprintf(fb, sizeof fb, "%s", r->why);
    else if (data_skip && t->needs_data)
      snprintf(fb, sizeof fb, "skipped on a machine that must have the data: %s", r->why);
    else
      snprintf(fb, sizeof fb, "the test skipped itself (%s); only gpu and data tests may skip", r->why);
  } else if (strcmp(r->verdict_word, "FAILED") == 0) {
    /* A worker that crashed explains the checker's "stopped before it gave ..." best. */
    snprintf(fb, sizeof fb, "%s", trouble[0] ? trouble : r->why);
  } else if (trouble[0]) {
    snprintf(fb, sizeof fb, "%s", trouble);
  } else {
    snprintf(fb, sizeof fb, "the checker gave no verdict (an error in the autograder, not in your code): %s%s",
             r->checker_err[0] ? r->checker_err : "it printed nothing", r->why);
  }
  clean_text(res.feedback, sizeof res.feedback, fb, strlen(fb), true);
  copy_str(res.output, sizeof res.output, r->worker_out);
  return res;
}

/* ---- the table, results.json and the closing line */
static json_t *tag_array(const char *tags) {
  json_t *a = json_array();
  char copy[256];
  copy_str(copy, sizeof copy, tags);
  for (char *save, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    json_array_append_new(a, json_string(t));
  return a;
}

static bool write_results(const char *path, const graded_test *tests, const result *res, int n, double seconds,
                          const char *summary, bool gpu_emulated) {
  json_t *root = json_object(), *arr = json_array();
  double score = 0;
  for (int i = 0; i < n; i++) {
    const graded_test *t = &tests[i];
    const result *r = &res[i];
    char name[300];
    snprintf(name, sizeof name, "%s::%s", t->suite, t->name);
    double max = r->v == SKIPPED ? 0 : t->points, got = r->v == PASSED ? t->points : 0;
    score += got;
    /* where a GPU test ran, before its verdict, when that was the emulation */
    const char *where = gpu_emulated && t->gpu && r->v != SKIPPED
                            ? "EMULATED: this GPU test ran in the CUDA emulation on the CPU (tools/cuda-emu), not on a GPU.\n"
                            : "";
    size_t cap = strlen(where) + strlen(r->feedback) + strlen(r->output) + 200;
    char *text = malloc(cap);
    if (!text) return false;
    if (r->v == SKIPPED)
      snprintf(text, cap, "SKIPPED (0 of 0 points; it counts neither for nor against you): %s\n\n%s", r->feedback,
               r->output);
    else if (r->feedback[0]) /* a failure's reason, or a pass's note (the accuracy it reached) */
      snprintf(text, cap, "%s%s\n\n%s", where, r->feedback, r->output);
    else
      snprintf(text, cap, "%s%s", where, r->output);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "score", json_real(got));
    json_object_set_new(o, "max_score", json_real(max));
    if (r->v != SKIPPED) /* Gradescope knows passed and failed only; a skip is 0/0 */
      json_object_set_new(o, "status", json_string(r->v == PASSED ? "passed" : "failed"));
    json_object_set_new(o, "output", json_string(text));
    json_object_set_new(o, "tags", tag_array(t->tags));
    json_object_set_new(o, "visibility", json_string(t->hidden ? "after_published" : "visible"));
    json_object_set_new(o, "extra_data",
                        json_pack("{s:s, s:s, s:f, s:s}", "result",
                                  r->v == PASSED ? "passed" : r->v == FAILED ? "failed" : "skipped", "file", t->file,
                                  "seconds", r->seconds, "feedback", r->feedback));
    json_array_append_new(arr, o);
    free(text);
  }
  json_object_set_new(root, "score", json_real(score));
  json_object_set_new(root, "execution_time", json_integer((json_int_t)(seconds + 0.999)));
  json_object_set_new(root, "output", json_string(summary));
  json_object_set_new(root, "tests", arr);

  char tmp[PATH_MAX + 32];
  snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(tmp);
  bool ok = fd >= 0;
  if (ok) {
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    ok = f && json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0;
    if (f) ok = fputc('\n', f) != EOF && fflush(f) == 0 && fsync(fileno(f)) == 0 && ok;
    if (f)
      ok = fclose(f) == 0 && ok;
    else
      close(fd);
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
  }
  if (!ok) fprintf(stderr, "grade: error: could not write %s: %s\n", path, strerror(errno));
  json_decref(root);
  return ok;
}

static int print_table_header(const graded_test *tests, int n) {
  int width = 4;
  for (int i = 0; i < n; i++) {
    int w = (int)(strlen(tests[i].suite) + 2 + strlen(tests[i].name));
    if (w > width) width = w;
  }
  printf("  %-*s  %7s  %-7s  %6s  %s\n", width, "test", "points", "status", "time", "feedback");
  return width;
}

static void print_row(int width, const graded_test *t, const result *r) {
  char pts[32], id[300];
  snprintf(pts, sizeof pts, "%g/%g", r->v == PASSED ? t->points : 0, r->v == SKIPPED ? 0 : t->points);
  snprintf(id, sizeof id, "%s::%s", t->suite, t->name);
  printf("  %-*s  %7s  %-7s  %5.1fs  %s\n", width, id, pts, VERDICT_NAME[r->v], r->seconds, r->feedback);
}

static double total_points(const graded_test *tests, int n) {
  double sum = 0;
  for (int i = 0; i < n; i++) sum += tests[i].points;
  return sum;
}

static int finish(const options *o, const graded_test *tests, const result *res, int n, double seconds,
                  const char *notes) {
  double score = 0, max_score = 0;
  int passed = 0, failed = 0, skipped = 0;
  for (int i = 0; i < n; i++) {
    score += res[i].v == PASSED ? tests[i].points : 0;
    max_score += res[i].v == SKIPPED ? 0 : tests[i].points;
    passed += res[i].v == PASSED, failed += res[i].v == FAILED, skipped += res[i].v == SKIPPED;
  }
  char summary[2048];
  snprintf(summary, sizeof summary, "%s: %g/%g points. %d passed, %d failed, %d skipped%s\n%s", o->chapter, score,
           max_score, passed, failed, skipped,
           skipped ? " (skipped tests count 0 of 0 points: they need a GPU or a data set this machine lacks)" : "",
           notes);
  bool wrote = write_results(o->results_path, tests, res, n, seconds, summary, o->gpu_emulated);
  if (skipped) /* the header counted every test's points: say where the difference went */
    printf("\nscore: %g/%g (%g of the %g points belong to the %d skipped tests: they need a GPU or a data set this "
           "machine lacks, and count 0 of 0)%s\n", score, max_score, total_points(tests, n) - max_score,
           total_points(tests, n), skipped, wrote ? "" : " (results.json NOT written)");
  else
    printf("\nscore: %g/%g%s\n", score, max_score, wrote ? "" : " (results.json NOT written)");
  if (wrote) printf("wrote %s\n", o->results_path);
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return wrote ? 0 : 2;
}

/* ---- main */
static void usage(void) {
  fprintf(stderr,
          "usage: grade --chapter NN-topic --kit KIT --submission DIR --results results.json\n"
          "             [--checker PROG] [--hidden-checker PROG] [--tests-dir autograder/tests]\n"
          "             [--hidden-dir autograder/hidden] [--time-limit 20] [--total-limit 900]\n"
          "             [--mem-limit-mb 2048] [--output-limit-kb 256] [--seed N] [--require-gpu] [--require-data]\n"
          "             [--first-failure]\n"
          "       grade --describe-object FILE\n");
  exit(2);
}

static options parse_args(int argc, char **argv) {
  options o = {.tests_dir = "autograder/tests", .time_limit = 20, .total_limit = 900, .mem_mb = 2048,
               .output_kb = 256, .uid = -1, .gid = -1};
  bool seeded = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--require-gpu") == 0) {
      o.require_gpu = true;
      continue;
    }
    if (strcmp(a, "--require-data") == 0) {
      o.require_data = true;
      continue;
    }
    if (strcmp(a, "--first-failure") == 0) {
      o.first_failure = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    char *end = NULL;
    if (strcmp(a, "--chapter") == 0) o.chapter = v;
    else if (strcmp(a, "--kit") == 0) o.kit = v;
    else if (strcmp(a, "--submission") == 0) o.submission = v;
    else if (strcmp(a, "--results") == 0) o.results_path = v;
    else if (strcmp(a, "--checker") == 0) o.checker = v;
    else if (strcmp(a, "--hidden-checker") == 0) o.hidden_checker = v;
    else if (strcmp(a, "--tests-dir") == 0) o.tests_dir = v;
    else if (strcmp(a, "--hidden-dir") == 0) o.hidden_dir = v;
    else if (strcmp(a, "--time-limit") == 0) o.time_limit = strtod(v, &end);
    else if (strcmp(a, "--total-limit") == 0) o.total_limit = strtod(v, &end);
    else if (strcmp(a, "--mem-limit-mb") == 0) o.mem_mb = strtol(v, &end, 10);
    else if (strcmp(a, "--output-limit-kb") == 0) o.output_kb = strtol(v, &end, 10);
    else if (strcmp(a, "--seed") == 0) o.seed = strtoull(v, &end, 0), seeded = true;
    else usage();
    if (end && (*end || end == v)) usage();
  }
  if (!o.chapter || !o.kit || !o.submission || !o.results_path || !(o.time_limit > 0) ||
      !(o.total_limit > 0) || o.mem_mb < 64 || o.output_kb < 4)
    usage();
  if (!seeded && getrandom(&o.seed, sizeof o.seed, 0) != (ssize_t)sizeof o.seed) o.seed = (uint64_t)time(NULL);
  return o;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* ---- a crash, located: the same run again with the submission built under AddressSanitizer */

/* ASan's report, parsed: what it found and the module offsets of the stack's frames in the
 * worker program ("    #0 0x55d0c3a1b2c3  (/tmp/nn-grade-x/bin/worker-asan+0x1b2c3)"). */
typedef struct {
  char kind[96];    /* "heap-buffer-overflow", "SEGV", "stack-overflow", ... */
  char access[64];  /* "a WRITE of 4 bytes", "a READ", or "" */
  char offsets[12][24];
  int n_frames;
} asan_report;

static bool parse_asan(const char *text, const char *worker, asan_report *a) {
  memset(a, 0, sizeof *a);
  const char *err = strstr(text, "ERROR: AddressSanitizer: ");
  if (!err) return false;
  sscanf(err + strlen("ERROR: AddressSanitizer: "), "%95[A-Za-z-]", a->kind);
  static const char *const ACCESS[] = {"READ", "WRITE"};
  for (int k = 0; k < 2 && !a->access[0]; k++) {
    char sized[32], bare[48];
    snprintf(sized, sizeof sized, "%s of size ", ACCESS[k]);
    snprintf(bare, sizeof bare, "a %s memory access", ACCESS[k]); /* a SEGV's "caused by a WRITE memory access" */
    const char *at = strstr(err, sized);
    if (at) snprintf(a->access, sizeof a->access, "a %s of %d bytes", ACCESS[k], atoi(at + strlen(sized)));
    else if (strstr(err, bare)) snprintf(a->access, sizeof a->access, "a %s", ACCESS[k]);
  }
  /* The first stack: the frames until the first blank line after "#0". The worker is named by
   * its file name: /proc's path of it may differ from ours (a TMPDIR behind a link). */
  const char *p = strstr(err, "#0 "), *base = strrchr(worker, '/');
  char module[PATH_MAX + 32];
  snprintf(module, sizeof module, "/%s+", base ? base + 1 : worker);
  while (p && a->n_frames < 12) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    const char *at = memmem(p, len, module, strlen(module));
    if (at) sscanf(at + strlen(module), "%23[0-9a-fx]", a->offsets[a->n_frames++]); /* "0x1b2c3" */
    if (!eol) break;
    p = eol + 1;
    while (*p == ' ') p++;
    if (*p != '#') break;
  }
  return true;
}

/* addr2line on the worker (the student's program, so as the student's user under Landlock):
 * for each offset, its inlined chain of "function\nfile:line" pairs, innermost first. */
static char *symbolize(const options *o, const char *worker, const char *work, const asan_report *a) {
  const char *argv[20] = {"/usr/bin/addr2line", "-e", worker, "-f", "-i", "-a"};
  int n = 6;
  for (int i = 0; i < a->n_frames; i++) argv[n++] = a->offsets[i];
  argv[n] = NULL;
  const char *env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", NULL}, *writes[] = {"/dev/null", NULL};
  const char *reads[] = {"/usr", "/lib", "/lib64", "/etc", work, NULL};
  proc_spec spec = {.argv = argv, .cwd = work, .env = env, .uid = o->uid, .gid = o->gid, .keep = 64 << 10,
                    .landlock_read = reads, .landlock_write = writes, .fds = {-1, -1},
                    .lim = {.mem_mb = 1024, .output_kb = 1024, .cpu_s = 20, .nproc = proc_nproc_limit(o->uid, 4)}};
  proc p;
  bool ok = proc_run(&p, &spec, 30) && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
  char *out = ok && p.out ? strdup(p.out) : NULL;
  proc_free(&p);
  return out;
}

/* From addr2line's answer (-a -f -i: each address, then "function" and "file:line" lines in
 * pairs, one pair per inlined call, innermost first): the stack as "function file:line" lines,
 * and the innermost frame in the student's lab files. Other files (the library, the tests) are
 * named by function only: their sources are not the lab's. */
static void read_stack(const char *lines, const char *chapter, char *stack, size_t n, char *mine, size_t m) {
  stack[0] = mine[0] = '\0';
  char lab[160], fn[256] = "", line[PATH_MAX + 64];
  snprintf(lab, sizeof lab, "labs/%s/", chapter);
  bool is_function = true; /* the next line of a pair */
  int depth = 0;
  for (const char *p = lines; p && *p;) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
    p = eol ? eol + 1 : NULL;
    if (is_function && strncmp(line, "0x", 2) == 0) continue; /* -a: the address the pairs are for */
    if (is_function) {
      snprintf(fn, sizeof fn, "%s", line);
      is_function = false;
      continue;
    }
    is_function = true;
    char *note = strstr(line, " (discriminator");
    if (note) *note = '\0';
    const char *mine_at = strstr(line, lab); /* the work folder's path cut off */
    size_t used = strlen(stack);
    if (depth++ < 8) snprintf(stack + used, n - used, "  #%d %s %s\n", depth - 1, fn, mine_at ? mine_at : "(libnn or the test)");
    if (mine_at && !mine[0]) snprintf(mine, m, "%s in %s", mine_at, fn);
  }
}

static struct {
  bool tried;
  build_result b;
} asan_build;

static void locate_crash(const options *o, const graded_test *t, const build_spec *bs, const char *checker,
                         const char *work, int variant, uint64_t seed, result *res) {
  if (!asan_build.tried) asan_build.b = build_asan_workers(bs), asan_build.tried = true;
  char found[700] = "", repro[700];
  char own_lab[160]; /* a student's own lab folder needs no LAB_DIR */
  snprintf(own_lab, sizeof own_lab, "labs/%s", o->chapter);
  const char *lab_dir = strncmp(o->submission, own_lab, strlen(own_lab)) == 0 &&
                                (!o->submission[strlen(own_lab)] || !strcmp(o->submission + strlen(own_lab), "/"))
                            ? ""
                            : o->submission;
  snprintf(repro, sizeof repro, " To see it yourself: make LAB=%s%s%s DEBUG=1 build/debug/tests/%s/%s && "
           "build/debug/tests/%s/%s --filter '%s/%s'", o->chapter, lab_dir[0] ? " LAB_DIR=" : "", lab_dir,
           o->chapter, t->file, o->chapter, t->file, t->suite, t->name);
  if (t->hidden) repro[0] = '\0'; /* its source is the instructor's: no command to give */
  const char *worker = t->hidden ? asan_build.b.hidden_worker : asan_build.b.worker;
  if (!asan_build.b.ok || !worker[0]) {
    snprintf(found, sizeof found, ". AddressSanitizer could not build your files to locate it: %.300s.",
             asan_build.b.feedback);
  } else {
    run_outcome r = run_once(o, t, worker, checker, work, variant, seed, o->time_limit, true);
    asan_report a;
    if (r.full_out && parse_asan(r.full_out, worker, &a)) {
      char *lines = a.n_frames ? symbolize(o, worker, work, &a) : NULL;
      char stack[1000] = "", mine[400] = "";
      if (lines) read_stack(lines, o->chapter, stack, sizeof stack, mine, sizeof mine);
      char access[80] = "";
      if (a.access[0]) snprintf(access, sizeof access, " (%s)", a.access);
      if (mine[0])
        snprintf(found, sizeof found, ". AddressSanitizer, running the test again, found %s%s at %s.", a.kind, access,
                 mine);
      else
        snprintf(found, sizeof found, ". AddressSanitizer, running the test again, found %s%s outside your lab "
                 "files: see the stack below.", a.kind, access);
      if (stack[0]) {
        size_t used = strlen(res->output);
        snprintf(res->output + used, sizeof res->output - used, "%sAddressSanitizer's stack, innermost first:\n%s",
                 used ? "\n" : "", stack);
      }
      free(lines);
    } else {
      snprintf(found, sizeof found, ". AddressSanitizer, running the test again, saw no bad memory access (%s): "
               "the crash is not an out-of-range index or a freed pointer, or it depends on the run.",
               r.timed_out ? "it timed out" : "it ended without a report");
    }
    free(r.full_out);
  }
  size_t used = strlen(res->feedback);
  snprintf(res->feedback + used, sizeof res->feedback - used, "%s%s", found, repro);
}

/* Variant 0, then (if it passed) variant 1 with sizes drawn from the grade's seed. */
static result grade_test(const options *o, const graded_test *t, const build_result *b, const build_spec *bs,
                         const char *work, double deadline) {
  const char *worker = t->hidden ? b->hidden_worker : b->worker;
  const char *checker = t->hidden ? o->hidden_checker : o->checker;
  char id[300];
  snprintf(id, sizeof id, "%s::%s", t->suite, t->name);
  uint64_t seed = o->seed;
  for (const char *c = id; *c; c++) seed = mix(seed ^ (unsigned char)*c);
  result res = {0};
  double spent = 0;
  for (int variant = 0; variant < 2; variant++) {
    double left = deadline - proc_now(), wall = left < o->time_limit ? left : o->time_limit;
    if (wall <= 0) {
      res.v = FAILED;
      snprintf(res.feedback, sizeof res.feedback, "not run: the grade's total time limit (%g s) was used up by "
               "the tests before it", o->total_limit);
      break;
    }
    run_outcome r = run_once(o, t, worker, checker, work, variant, variant ? seed : 0, wall, false);
    result this = judge(o, t, &r, wall);
    /* A crash: where? The test again under AddressSanitizer (not for a libnn panic or a failed
     * malloc, whose message says what and where already; not for the mutation stage, which
     * needs only the verdict; not on a GPU, which ASan and CUDA do not share). */
    if (this.v == FAILED && r.signal_line[0] && !r.panic[0] && !r.oom[0] && !r.timed_out && !o->first_failure &&
        !t->gpu)
      locate_crash(o, t, bs, checker, work, variant, variant ? seed : 0, &this);
    spent += this.seconds;
    if (variant == 1 && this.v == FAILED) {
      char fb[sizeof res.feedback];
      snprintf(fb, sizeof fb, "passed with the public sizes, but fails with sizes drawn at grading (variant seed %llu): "
               "%.1280s", (unsigned long long)seed, this.feedback);
      copy_str(this.feedback, sizeof this.feedback, fb);
    }
    res = this;
    if (res.v != PASSED) break;
  }
  res.seconds = spent;
  return res;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--describe-object") == 0) return describe_object(argv[2]);
  options o = parse_args(argc, argv);
  setvbuf(stdout, NULL, _IOLBF, 0);
  snprintf(asan_options, sizeof asan_options, "ASAN_OPTIONS=symbolize=0:detect_leaks=0:print_legend=0:"
           "allocator_may_return_null=1:max_allocation_size_mb=%ld:malloc_context_size=0:"
           "detect_stack_use_after_return=0:handle_abort=1", o.mem_mb);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) perror("grade: PR_SET_CHILD_SUBREAPER");
  if (geteuid() == 0) { /* as root, student code runs as nobody */
    struct passwd *pw = getpwnam("nobody");
    o.uid = pw ? (int)pw->pw_uid : 65534, o.gid = pw ? (int)pw->pw_gid : 65534;
  }
  static graded_test tests[MAX_TESTS];
  static result res[MAX_TESTS];
  int n = read_manifests(&o, tests);
  bool any_hidden = false;
  for (int i = 0; i < n; i++) any_hidden |= tests[i].hidden;
  if (o.checker && !config_errors) check_listed(o.checker, tests, n, false);
  if (any_hidden && !o.hidden_checker && o.checker) config_error("there are hidden tests but no --hidden-checker");
  if (any_hidden && o.hidden_checker && !config_errors) check_listed(o.hidden_checker, tests, n, true);
  if (config_errors) {
    fprintf(stderr, "grade: %d error%s in the autograder's setup; nothing was graded\n", config_errors,
            config_errors == 1 ? "" : "s");
    return 2;
  }

  /* The work folder: the student's files, objects and worker, under TMPDIR (default /tmp),
   * removed at the end. The user nobody must reach it, so every folder above it too. */
  const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char work[PATH_MAX];
  snprintf(work, sizeof work, "%s/nn-grade-XXXXXX", tmpdir);
  if (!mkdtemp(work) || chmod(work, 0755) != 0) {
    fprintf(stderr, "grade: error: cannot make a work folder in %s: %s\n", tmpdir, strerror(errno));
    return 2;
  }
  double start = proc_now(), total_points = 0;
  for (int i = 0; i < n; i++) total_points += tests[i].points;
  printf("Grading %s: %d tests, %g points (limits: %g s a run, %g s in all, %ld MB, %ld KB of output%s)\n", o.chapter,
         n, total_points, o.time_limit, o.total_limit, o.mem_mb, o.output_kb,
         o.uid >= 0 ? "; your code runs as the user nobody" : "");
  build_spec bs = {.chapter = o.chapter, .kit = o.kit, .submission = o.submission, .work = work, .uid = o.uid, .gid = o.gid, .wall_s = 180};
  build_result b = build_submission(&bs);
  printf("Your files:\n%s", b.taken);
  char notes[1200], emulated_path[PATH_MAX];
  snprintf(emulated_path, sizeof emulated_path, "%s/gpu-emulated", o.kit);
  o.gpu_emulated = access(emulated_path, F_OK) == 0;
  snprintf(notes, sizeof notes, "Sizes drawn at grading from seed %llu (grade --seed %llu repeats them).\n"
           "Stuck on a region? The HINT beside its stub gives the shapes and the formula; `make hint CH=%.2s` lists "
           "the regions with a second, more concrete hint.%s%s%s",
           (unsigned long long)o.seed, (unsigned long long)o.seed, o.chapter,
           o.gpu_emulated ? "\nEMULATED GPU: the gpu tests run in the CUDA emulation on the CPU (tools/cuda-emu, built "
                            "with CUDA_EMU=1), not on a GPU; a pass there is no proof on hardware." : "",
           o.checker ? "" : "\nSELF-CHECK: this release has no reference, so each test judged itself; the "
                            "course's grader compares your answers with the reference's.",
           b.ok && !b.landlock ? "\nThe build ran without Landlock (this kernel lacks it): its includes were checked instead." : "");
  printf("%s\n\n", notes);
  int width = print_table_header(tests, n);
  if (!b.ok) {
    printf("(nothing could be graded: %s)\n", b.feedback);
    for (int i = 0; i < n; i++) {
      res[i] = (result){.v = FAILED};
      copy_str(res[i].feedback, sizeof res[i].feedback, b.feedback);
      clean_text(res[i].output, sizeof res[i].output, b.log, strlen(b.log), false);
      print_row(width, &tests[i], &res[i]);
    }
  } else {
    double deadline = start + o.total_limit;
    bool failed = false;
    for (int i = 0; i < n; i++) {
      if (o.first_failure && failed) { /* tools/mutants: one failed test is all it asks */
        res[i] = (result){.v = SKIPPED};
        copy_str(res[i].feedback, sizeof res[i].feedback, "not run: --first-failure stops after the first failed test");
      } else {
        res[i] = grade_test(&o, &tests[i], &b, &bs, work, deadline);
        failed |= res[i].v == FAILED;
      }
      print_row(width, &tests[i], &res[i]);
    }
  }
  nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return finish(&o, tests, res, n, proc_now() - start, notes);
}
