/* guard.c: linked into every Criterion test program (the Makefile's test rule), with
 *
 *   -Wl,--wrap=exit,--wrap=_exit,--wrap=_Exit,--wrap=quick_exit
 *
 * so that calls from the tests and from libnn.a go to the __wrap_ functions below;
 * calls from inside shared libraries (Criterion, libc itself) do not.
 *
 * Criterion reports a test whose process exits with status 0 as passed, so `exit(0)`
 * in library code would pass every test that reaches it. Library code must return,
 * never exit (STYLE.md 8): here any exit from libnn or a test says why and aborts.
 * Criterion's own exit, at the end of a test, is in libcriterion.so and is not redirected.
 * (Grading does not run these programs: autograder/graded_main.c is its main.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Noreturn void exit_called(const char *fn, int status) {
  char msg[256];
  int len = snprintf(msg, sizeof msg,
                     "guard: %s(%d) was called inside a test: library code must return, never exit\n", fn,
                     status);
  if (write(STDERR_FILENO, msg, (size_t)len) < 0) abort();
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
