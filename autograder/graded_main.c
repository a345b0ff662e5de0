/* graded_main.c: main() of a chapter's graded program. make grade links the same test
 * objects twice: the checker with solutions/, the worker with the student's objects.
 *
 *   PROG --list                                   the tests it has, "suite::name" a line
 *   PROG --checker SUITE::NAME --variant V --seed S
 *        fd 3: the worker's answers, fd 4: inputs to the worker; prints one verdict line:
 *        "PASSED", "FAILED <why>" or "SKIPPED <why>"
 *   PROG --worker SUITE::NAME --variant V --seed S [--gpu]
 *        fd 3: inputs from the checker, fd 4: answers to it. Before the test runs it shuts
 *        itself in (sandbox.h: no file, no process, no socket); --gpu first starts CUDA,
 *        and keeps files openable only where Landlock allows (gpu_walls)
 *   PROG --self-check SUITE::NAME --variant V --seed S
 *        a student release has no reference: the test judges itself, as in make test, and
 *        prints the verdict line (the grader says that it is a self-check)
 *
 * The grader (autograder/grader.c) starts them, joins their pipes and reads the verdict.
 * A worker that crashes names its signal on stderr; a failed malloc says how much.
 */
#define _GNU_SOURCE
/* Messages are cut to fit their buffers on purpose. */
#pragma GCC diagnostic ignored "-Wformat-truncation"
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "graded_internal.h"
#include "nn_cuda.h"
#include "sandbox.h"

/* Only async-signal-safe calls here: write(2) of a stack buffer. */
static void say(const char *msg) {
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, msg, len);
    if (n <= 0) return;
    msg += n, len -= (size_t)n;
  }
}

/* ---- a crash names its signal: "nn-grade: the test process got SIGSEGV (...)" */
static const struct {
  int sig;
  const char *text;
} FATAL[] = {
    {SIGSEGV, "SIGSEGV (segmentation fault: a bad pointer, an index out of range, or a stack overflow)"},
    {SIGBUS, "SIGBUS (bus error: a misaligned or unmapped access)"},
    {SIGFPE, "SIGFPE (arithmetic error: an integer divided by zero?)"},
    {SIGILL, "SIGILL (illegal instruction: the CPU cannot run this code, or a trap)"},
    {SIGABRT, "SIGABRT (abort: a failed check or abort())"},
    {SIGXCPU, "SIGXCPU (the test used up its CPU time)"},
    {SIGSYS, "SIGSYS (a system call the sandbox does not allow)"},
    {SIGTRAP, "SIGTRAP (trap)"},
};
enum { N_FATAL = sizeof FATAL / sizeof FATAL[0] };

static void on_fatal(int sig) {
  for (int i = 0; i < N_FATAL; i++)
    if (FATAL[i].sig == sig) {
      say("nn-grade: the test process got ");
      say(FATAL[i].text);
      say("\n");
    }
  raise(sig); /* SA_RESETHAND restored the default: die of the same signal */
}

static void name_fatal_signals(void) {
  static char alt_stack[1 << 16]; /* so a stack overflow can still be reported */
  stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof alt_stack};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fatal;
  sa.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < N_FATAL; i++) sigaction(FATAL[i].sig, &sa, NULL);
}

/* ---- a failed allocation is said before the NULL comes back (-Wl,--wrap=malloc,...):
 * under the grader's memory limit it is usually the cause of the crash that follows. */
void *__real_malloc(size_t bytes);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t bytes);
void *__wrap_malloc(size_t bytes);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t bytes);

static void *noted(void *p, const char *fn, size_t bytes) {
  if (!p && bytes > 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "nn-grade: out of memory: %s of %zu bytes (%.1f MB) returned NULL\n", fn, bytes,
             (double)bytes / (1 << 20));
    say(msg);
  }
  return p;
}
void *__wrap_malloc(size_t bytes) { return noted(__real_malloc(bytes), "malloc", bytes); }
void *__wrap_calloc(size_t count, size_t size) {
  size_t bytes = count && size > (size_t)-1 / count ? (size_t)-1 : count * size;
  return noted(__real_calloc(count, size), "calloc", bytes);
}
void *__wrap_realloc(void *p, size_t bytes) { return noted(__real_realloc(p, bytes), "realloc", bytes); }

/* ---- the verdict line (checker, self-check) */
static void print_verdict(nn_grade *g, grade_outcome outcome, const char *message) {
  (void)g;
  static const char *WORD[] = {"?", "PASSED", "FAILED", "SKIPPED"};
  char line[GRADE_MESSAGE_MAX + 16];
  int len = snprintf(line, sizeof line, "%s%s%s\n", WORD[outcome], message[0] ? " " : "", message);
  if (len >= (int)sizeof line) len = (int)sizeof line - 1, line[len - 1] = '\n';
  for (int i = 0; i < len - 1; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  fflush(stdout);
  if (write(STDOUT_FILENO, line, (size_t)len) < 0) _exit(4);
  _exit(0);
}

/* A GPU test's worker: CUDA opens its device files when it starts and may open more later
 * (a context, cuBLAS), so here files stay openable, but only where Landlock allows: reading
 * the system's folders, reading and writing the NVIDIA devices; not the course, not /tmp.
 * CUDA starts first (nn_cuda.cu is the library's, never a lab file). Where the kernel has no
 * Landlock the worker opens no file at all, as a CPU test's: returns false. */
static bool gpu_walls(char *why, size_t n) {
  if (nn_cuda_available()) nn_cuda_free(nn_cuda_malloc(1)); /* the driver and a context */
  static const char *const reads[] = {"/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev/urandom", NULL};
  static const char *const writes[] = {"/dev/null", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
                                       "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidia2", "/dev/nvidia3",
                                       "/dev/nvidia4", "/dev/nvidia5", "/dev/nvidia6", "/dev/nvidia7",
                                       "/dev/nvidia-modeset", NULL};
  int r = nn_sandbox_landlock(reads, writes, why, n);
  if (r < 0) {
    fprintf(stderr, "nn-grade: the sandbox could not be set up: %s\n", why);
    _exit(3);
  }
  return r == 1;
}

static void usage(void) {
  fprintf(stderr, "usage: PROG --list | (--checker | --worker | --self-check) SUITE::NAME --variant V --seed S [--gpu]\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--list") == 0) {
    for (int i = 0; i < nn_graded_count(); i++) printf("%s::%s\n", nn_graded_at(i)->suite, nn_graded_at(i)->name);
    return 0;
  }
  if (argc < 7 || strcmp(argv[3], "--variant") != 0 || strcmp(argv[5], "--seed") != 0) usage();
  const char *role = argv[1];
  nn_grade g = {.test = argv[2], .variant = atoi(argv[4]), .seed = strtoull(argv[6], NULL, 0), .in_fd = 3, .out_fd = 4};
  bool gpu = argc > 7 && strcmp(argv[7], "--gpu") == 0;
  const graded_entry *t = nn_graded_find(g.test);
  if (!t) {
    fprintf(stderr, "nn-grade: this program has no graded test %s\n", g.test);
    return 2;
  }
  char why[300];
  if (strcmp(role, "--checker") == 0) {
    g.mode = NN_GRADE_CHECKER, g.finish = print_verdict;
    signal(SIGPIPE, SIG_IGN); /* a worker that is gone is an error to report, not a death */
    t->fn(&g);
    nn_grade_checker_end(&g);
  } else if (strcmp(role, "--worker") == 0) {
    g.mode = NN_GRADE_WORKER, g.finish = print_verdict; /* never called: the worker judges nothing */
    /* Under AddressSanitizer (the grader's re-run of a crash) its own handler reports the crash. */
    if (!getenv("NN_GRADE_ASAN")) name_fatal_signals();
    /* A checker that has its verdict stops reading: a write then fails and the worker leaves
     * quietly (send_frame), instead of dying of SIGPIPE and hiding the checker's reason. */
    signal(SIGPIPE, SIG_IGN);
    bool files = gpu && gpu_walls(why, sizeof why);
    if (!nn_sandbox_worker(files, why, sizeof why)) {
      fprintf(stderr, "nn-grade: the sandbox could not be set up: %s\n", why);
      return 3;
    }
    t->fn(&g);
    frame_header done = {.magic = FRAME_MAGIC, .kind = FRAME_DONE};
    if (write(g.out_fd, &done, sizeof done) < 0) _exit(0);
    _exit(0); /* no exit handlers: nothing of the student's runs after the test */
  } else if (strcmp(role, "--self-check") == 0) {
    g.mode = NN_GRADE_LOCAL, g.finish = print_verdict, g.in_fd = g.out_fd = -1;
    name_fatal_signals();
    if (!nn_sandbox_worker(true, why, sizeof why)) {
      fprintf(stderr, "nn-grade: the sandbox could not be set up: %s\n", why);
      return 3;
    }
    t->fn(&g);
    print_verdict(&g, GRADE_PASSED, "");
  }
  usage();
}
