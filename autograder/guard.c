/* guard.c: linked into every test program (the Makefile's test rule), with
 *
 *   -Wl,--wrap=exit,--wrap=_exit,--wrap=_Exit,--wrap=quick_exit
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 *   -Wl,--wrap=criterion_internal_test_main
 *
 * so calls from the test and from libnn.a go to the __wrap_ functions below;
 * calls from inside shared libraries (Criterion, libc itself) do not.
 *
 * 1. exit() inside a test. Criterion reports a test whose process exits with
 *    status 0 as passed, so `exit(0)` in a lab function would pass every test
 *    that reaches it. Library code must return, never exit (STYLE.md 8): here
 *    any exit from libnn or a test prints why and aborts. Criterion's own exit,
 *    at the end of a test, is in libcriterion.so and is not redirected.
 *
 * 2. An allocation that fails. Under the grader a test runs with a memory limit
 *    (RLIMIT_AS); a failed malloc is said on stderr before the NULL comes back,
 *    so the grader can name the cause of what usually follows (a crash).
 *
 * 3. A fatal signal, only when NN_GRADE=1 (the grader sets it): its name is
 *    printed, then the signal is raised again, unhandled, so the process still
 *    dies of it. Criterion only says "The test crashed."; the grader wants the
 *    signal for its feedback.
 *
 * 4. A test that ends without returning, a signal or exit(): a raw exit system call,
 *    or an exec, would still be a pass for Criterion. With NN_GRADE=1 the test body
 *    is bracketed by "nn-grade: test body begins" and "... returned" (Criterion's
 *    trampoline in the test program calls criterion_internal_test_main; a failed
 *    assertion longjmps inside it, so it returns then too). A begin without an end,
 *    and without a signal, fails the test.
 *
 * The grader (autograder/grader.c) looks for the lines that start "nn-grade: ".
 */
#define _XOPEN_SOURCE 700 /* sigaltstack, SA_ONSTACK */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Only async-signal-safe calls from here on: format into a stack buffer, write(2). */
static void say(const char *msg) {
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, msg, len);
    if (n <= 0) return;
    msg += n, len -= (size_t)n;
  }
}

static _Noreturn void exit_called(const char *fn, int status) {
  char msg[256];
  snprintf(msg, sizeof msg,
           "nn-grade: %s(%d) was called inside a test: library code must return, never exit\n", fn,
           status);
  say(msg);
  abort();
}

_Noreturn void __wrap_exit(int status);
_Noreturn void __wrap__exit(int status);
_Noreturn void __wrap__Exit(int status);
_Noreturn void __wrap_quick_exit(int status);
void __wrap_exit(int status) { exit_called("exit", status); }
void __wrap__exit(int status) { exit_called("_exit", status); }
void __wrap__Exit(int status) { exit_called("_Exit", status); }
void __wrap_quick_exit(int status) { exit_called("quick_exit", status); }

void *__real_malloc(size_t bytes);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t bytes);
void *__wrap_malloc(size_t bytes);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *p, size_t bytes);

static void *noted(void *p, const char *fn, size_t bytes) {
  if (!p && bytes > 0) {
    char msg[200];
    snprintf(msg, sizeof msg, "nn-grade: out of memory: %s of %zu bytes (%.1f MB) returned NULL\n",
             fn, bytes, (double)bytes / (1 << 20));
    say(msg);
  }
  return p;
}

void *__wrap_malloc(size_t bytes) { return noted(__real_malloc(bytes), "malloc", bytes); }
void *__wrap_calloc(size_t count, size_t size) {
  size_t bytes = count && size > (size_t)-1 / count ? (size_t)-1 : count * size;
  return noted(__real_calloc(count, size), "calloc", bytes);
}
void *__wrap_realloc(void *p, size_t bytes) {
  return noted(__real_realloc(p, bytes), "realloc", bytes);
}

static bool grading(void) {
  const char *v = getenv("NN_GRADE");
  return v && strcmp(v, "1") == 0;
}

void __real_criterion_internal_test_main(void (*fn)(void));
void __wrap_criterion_internal_test_main(void (*fn)(void));
void __wrap_criterion_internal_test_main(void (*fn)(void)) {
  bool marks = grading();
  if (marks) say("nn-grade: test body begins\n");
  __real_criterion_internal_test_main(fn);
  if (marks) say("nn-grade: test body returned\n");
}

static const struct {
  int sig;
  const char *text;
} FATAL[] = {
    {SIGSEGV,
     "SIGSEGV (segmentation fault: a bad pointer, an index out of range, or a stack overflow)"},
    {SIGBUS, "SIGBUS (bus error: a misaligned or unmapped access)"},
    {SIGFPE, "SIGFPE (arithmetic error: an integer divided by zero?)"},
    {SIGILL, "SIGILL (illegal instruction: the CPU cannot run this code, or a trap)"},
    {SIGABRT, "SIGABRT (abort: a failed check or abort())"},
    {SIGXCPU, "SIGXCPU (the test used up its CPU time)"},
    {SIGXFSZ, "SIGXFSZ (the test wrote more output than allowed)"},
    {SIGTRAP, "SIGTRAP (trap)"},
};
enum { N_FATAL = sizeof FATAL / sizeof FATAL[0] };

static void on_fatal(int sig) {
  for (int i = 0; i < N_FATAL; i++)
    if (FATAL[i].sig == sig && sig != SIGXFSZ) { /* SIGXFSZ: no room left to say it */
      say("nn-grade: the test process got ");
      say(FATAL[i].text);
      say("\n");
    }
  /* SA_RESETHAND restored the default action: die of the same signal. */
  raise(sig);
}

__attribute__((constructor)) static void install_signal_names(void) {
  if (!grading()) return;
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
