/* sandbox.h: the walls around student code, for the grader (autograder/grader.c).
 *
 * Two processes run what a student wrote:
 *   the build   gcc/nvcc/ld on the submitted files: it may read only the system's and the
 *               course's headers and libraries and write only its own folder (Landlock,
 *               where the kernel has it: Linux >= 5.13);
 *   the worker  the test program with the student's objects in it: it may compute, print,
 *               and talk to its checker over two pipes; nothing else (seccomp: no file
 *               opened, no process started or signalled, no socket, no terminal input).
 * Both also run as the user nobody when the grader is root, in their own session with no
 * terminal, under rlimits (nn_sandbox_limits).
 */
#ifndef NN_SANDBOX_H
#define NN_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Each limit 0: left as it is (the checker and the grader's own tools are trusted). */
typedef struct {
  long mem_mb;     /* RLIMIT_AS (RLIMIT_DATA with data_only: CUDA maps far more than it uses) */
  bool data_only;
  long output_kb;  /* RLIMIT_FSIZE: the largest file it may write */
  long cpu_s;      /* RLIMIT_CPU, a backstop: the grader's wall clock is the limit */
  long nproc;      /* RLIMIT_NPROC: processes (threads count) of its user */
} nn_sandbox_limits;

/* In a child after fork, before exec: own session (no controlling terminal), the limits,
 * and, when uid >= 0, that user (with no supplementary groups). Returns false and says why
 * in why[] when a step failed (the caller must not exec then). */
bool nn_sandbox_enter(const nn_sandbox_limits *lim, int uid, int gid, char *why, size_t n);

/* Landlock: from now on this process and what it starts may read and execute only under
 * read_dirs and read/write only under write_dirs (NULL-terminated lists; paths that do
 * not exist are skipped). Returns 1 when applied, 0 when the kernel has no Landlock (the
 * caller decides if that is acceptable), -1 on an error (why[] says). */
int nn_sandbox_landlock(const char *const *read_dirs, const char *const *write_dirs, char *why, size_t n);

/* seccomp, in the worker itself before any student code runs: no open/exec/fork/ptrace/
 * socket/..., signals only to itself, no TIOCSTI. allow_files keeps open() (the self-check
 * of a student release reads its data sets). Returns false and why[] on failure. */
bool nn_sandbox_worker(bool allow_files, char *why, size_t n);

#endif
